#pragma once
// Helpers shared by the nn functional files.
#include "ricci/autograd.h"
#include "ricci/nn/functional.h"
#include "ricci/tensor.h"

namespace ricci::nn::functional::internal {

// Kernel operands: contiguous, and made without recording a graph node.
inline Tensor contiguous_nograd(const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  NoGradGuard g;
  return t.contiguous();
}

// Every loss but kl_div takes None, Mean and Sum only (PyTorch's _Reduction.get_enum).
inline void check_reduction(Reduction r, const char* op) {
  RICCI_CHECK(r != Reduction::BatchMean, ValueError, "[", op,
              "] batchmean is not a valid value for reduction (only kl_div takes it; use Reduction::Mean)");
}

// A loss of per-element values reduced as asked (BatchMean is kl_div's own and handled there).
inline Tensor reduce_loss(const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None: return loss;
    case Reduction::Sum: return loss.sum();
    case Reduction::Mean: case Reduction::BatchMean: return loss.mean();
  }
  return loss;
}

// input + alpha * (a @ b) for a (..., M, K) and b (..., K, N) with the same batch dims and input
// broadcastable to (..., M, N): the GEMM adds the product into the broadcast input (beta = 1, no
// zeroing of the output and no second pass), with baddbmm's gradients (src/ops/matmul.cpp).
Tensor add_batched_product(const Tensor& input, const Tensor& a, const Tensor& b, const Scalar& alpha);

// a @ b for a (..., M, K) and b (..., K, N) with the same batch dims, the output in `like`'s order
// of dims in memory where it is a permuted dense layout (Note [Products in their operand's layout],
// src/ops/matmul.cpp), else contiguous; bmm's gradients.
Tensor batched_product_like(const Tensor& a, const Tensor& b, const Tensor& like);

}  // namespace ricci::nn::functional::internal
