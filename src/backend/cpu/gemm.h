#pragma once
// GEMM building blocks of the CPU backend (used by the "matmul" kernels in gemm_kernels.cpp).
//
// gemm_reduced: C = alpha * A @ B + beta * C for float16 / bfloat16 (and float32, for testing),
// computed by our own packed GEMM: operands are converted to float32 while their panels are
// packed, and every product is accumulated in float32, so the only rounding to 16 bits is the
// final store. OpenBLAS has no such routine; PyTorch's CPU fallback for bf16 is ~10x slower.
#include <cstdint>

#include "ricci/half.h"
#include "ricci/scalar.h"

namespace ricci {
class Tensor;
// The "matmul" kernel, one per (device, dtype): out (..., M, N) = alpha * a @ b + beta * out,
// where a is (..., M, K) and b (..., K, N) with the same batch sizes as out (broadcast batch dims
// arrive expanded, stride 0). out is contiguous; a and b may have any strides. beta == 0 ignores
// out's old contents. Bool is not supported (the op rejects it first).
using MatmulKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha,
                              const Scalar& beta);
}  // namespace ricci

namespace ricci::cpu {

// A strided matrix view: element (i, j) is at data[i * rs + j * cs] (strides in elements).
template <class T>
struct MatrixRef {
  T* data;
  int64_t rs;
  int64_t cs;
};

// C (M x N) = alpha * A (M x K) @ B (K x N) + beta * C. beta == 0 ignores C's old contents (NaN
// included), as BLAS does. `parallel` lets the routine split its work over the thread pool;
// callers that already parallelise over a batch pass false.
template <class T>
void gemm_reduced(int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> B, MatrixRef<T> C,
                  float alpha, float beta, bool parallel);

extern template void gemm_reduced<Half>(int64_t, int64_t, int64_t, MatrixRef<const Half>, MatrixRef<const Half>,
                                        MatrixRef<Half>, float, float, bool);
extern template void gemm_reduced<BFloat16>(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>,
                                            MatrixRef<const BFloat16>, MatrixRef<BFloat16>, float, float, bool);
extern template void gemm_reduced<float>(int64_t, int64_t, int64_t, MatrixRef<const float>, MatrixRef<const float>,
                                         MatrixRef<float>, float, float, bool);

// Which micro-kernel gemm_reduced picked on this CPU ("avx512 8x32", "avx2 6x16", "generic 4x8").
const char* gemm_reduced_kernel_name();

}  // namespace ricci::cpu
