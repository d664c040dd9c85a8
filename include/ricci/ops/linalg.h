#pragma once
// Linear algebra: matrix products, and the products built from them (tensordot, kron, cross,
// trace). All follow torch's semantics and error wording.
//
// dtypes: float32 and float64 go to BLAS (OpenBLAS); float16 and bfloat16 to ricci's own GEMM,
// which converts while packing and accumulates in float32 (one rounding, at the end); on CPUs
// with AVX512_BF16 bfloat16 products use the bf16 dot-product instruction, which (as in PyTorch's
// oneDNN path) reads bfloat16 subnormal inputs as zero; integer
// dtypes to blocked loops accumulating in 64 bits (wrapping on overflow, like PyTorch). Both
// operands must have the same dtype (no promotion: DTypeError "dtype mismatch") and live on the
// same device (DeviceError). bool is rejected (DTypeError). Gradients flow for floating inputs.
//
// Operands may have any strides: transposed matrices are read in place (BLAS transpose flags),
// only layouts with no unit stride in the last two dims are copied first.
#include <optional>

#include "ricci/tensor.h"

namespace ricci {

// torch.matmul:
//   1-D @ 1-D   -> 0-d dot product
//   2-D @ 2-D   -> matrix product
//   1-D @ n-D   -> the vector is treated as a (1, K) matrix, the 1 is removed from the result
//   n-D @ 1-D   -> the vector is treated as a (K, 1) matrix, the 1 is removed from the result
//   batched     -> dims before the last two broadcast ((2,1,M,K) @ (3,K,N) -> (2,3,M,N))
// Throws ShapeError for 0-d operands, K mismatch ("mat1 and mat2 shapes cannot be multiplied
// (2x3 and 4x5)") and batch dims that do not broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// 2-D only: (M, K) @ (K, N) -> (M, N).
Tensor mm(const Tensor& a, const Tensor& b);
// 3-D only, equal batch sizes: (B, M, K) @ (B, K, N) -> (B, M, N).
Tensor bmm(const Tensor& a, const Tensor& b);
// beta * input + alpha * (m1 @ m2), m1 and m2 2-D, input broadcastable to the product's shape.
// With beta == 0, input's values are ignored (NaN included), as in BLAS and PyTorch.
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta = 1, const Scalar& alpha = 1);
// 2-D @ 1-D -> 1-D.
Tensor mv(const Tensor& m, const Tensor& v);
// 1-D . 1-D of equal length -> 0-d.
Tensor dot(const Tensor& a, const Tensor& b);
// 1-D (M) outer 1-D (N) -> (M, N), a[i] * b[j]; dtypes promote as for `*`.
Tensor outer(const Tensor& a, const Tensor& b);
// beta * input + alpha * bmm(batch1, batch2): batch1 (B, N, M), batch2 (B, M, P), input
// broadcastable to (B, N, P) and of their dtype. With beta == 0, input's values are ignored (NaN
// included). Integer operands refuse floating alpha/beta (ValueError), as addmm does (PyTorch's
// baddbmm silently truncates them instead).
Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
               const Scalar& alpha = 1);

// ---- built from products and elementwise ops (their gradients come from those ops) ------------
// Sum of the main diagonal of a 2-D tensor, 0-d; integer and bool inputs give int64 (as sum).
Tensor trace(const Tensor& self);
// Contracts the last `dims` dims of a with the first `dims` dims of b (dims = 0: outer product).
Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims = 2);
// Contracts a's dims_a[i] with b's dims_b[i] (negative dims count from the end). The result has
// a's free dims, then b's, in order. A contracted pair where one side has size 1 is summed over
// first (PyTorch's broadcasting rule); otherwise the sizes must match (ShapeError).
Tensor tensordot(const Tensor& a, const Tensor& b, IntArrayRef dims_a, IntArrayRef dims_b);
// Kronecker product: shapes are padded with leading 1s to one rank; out has sizes a_i * b_i and
// out[..., i * b_i + j, ...] = a[..., i, ...] * b[..., j, ...]. dtypes promote as for `*`.
Tensor kron(const Tensor& a, const Tensor& b);
// Cross product of 3-vectors along dim, a and b broadcast together (same rank and dtype required;
// bool throws NotImplementedError). torch.cross
// semantics: without dim, the first dim of size 3 in a's shape (ShapeError if none); PyTorch warns
// that this default is deprecated, so prefer an explicit dim, or linalg_cross (dim = -1).
Tensor cross(const Tensor& a, const Tensor& b, std::optional<int64_t> dim = std::nullopt);
Tensor linalg_cross(const Tensor& a, const Tensor& b, int64_t dim = -1);

}  // namespace ricci
