#pragma once
// GEMM building blocks of the CPU backend (used by the "matmul" kernels in gemm_kernels.cpp).
//
// gemm_reduced: C = alpha * A @ B + beta * C for float16 / bfloat16 (and float32, for testing),
// computed by our own packed GEMM: operands are converted to float32 while their panels are
// packed, and every product is accumulated in float32, so the only rounding to 16 bits is the
// final store. OpenBLAS has no such routine. bfloat16 uses the CPU's bf16 dot-product
// instruction where it exists (gemm_bf16_dot).
#include <cstdint>
#include <limits>

#include "backend/cpu/cpu_isa.h"
#include "ricci/detail/size_math.h"
#include "ricci/half.h"
#include "ricci/parallel.h"
#include "ricci/scalar.h"

namespace ricci {
class Tensor;
// The "matmul" kernel, one per (device, dtype): out (..., M, N) = alpha * a @ b + beta * out,
// where a is (..., M, K) and b (..., K, N) with the same batch sizes as out (broadcast batch dims
// arrive expanded, stride 0). out is contiguous (the CPU float32/float64 kernels also take a dense
// out with unit column stride and its dims in any order in memory: Note [Products in their
// operand's layout], src/ops/matmul.cpp); a and b may have any strides. beta == 0 ignores out's
// old contents. Bool is not supported (the op rejects it first).
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

// C = alpha * A @ B + beta * C for bfloat16 on the CPU's bf16 dot-product instruction
// (AVX512_BF16), accumulating in float32 (gemm_bf16_dot.cpp). Returns false, doing nothing, when
// the CPU lacks the instruction or gemm_isa() (RICCI_CPU_ISA, RICCI_GEMM_ISA) excludes it. The
// instruction reads bf16 subnormals as zero, as PyTorch's bf16 GEMM (oneDNN, same instruction) does.
bool gemm_bf16_dot_available();
bool gemm_bf16_dot(int64_t M, int64_t N, int64_t K, MatrixRef<const BFloat16> A, MatrixRef<const BFloat16> B,
                   MatrixRef<BFloat16> C, float alpha, float beta, bool parallel);

// The same for C = A @ W^T with A's and W's rows contiguous along K (a linear layer's layout):
// dot products of rows, nothing packed (gemm_bf16_dot_nt.cpp). gemm_bf16_dot calls it when A has
// few rows (decoding), where packing W would cost more than the product.
bool gemm_bf16_dot_nt(int64_t M, int64_t N, int64_t K, MatrixRef<const BFloat16> A, MatrixRef<const BFloat16> W,
                      MatrixRef<BFloat16> C, float alpha, float beta, bool parallel);

// C = alpha * A @ W^T + beta * C by row dot products on AVX2 + FMA + F16C, for M <=
// kDotRowsLimitAvx2 rows of A (any strides) and W's rows contiguous along K (W.cs == 1): W is
// streamed once per kDotRowsMaxAvx2 rows of A, nothing of it packed (gemm_dot_nt_avx2.cpp).
// Returns false, doing nothing, when gemm_isa() is not exactly AVX2 (AVX-512 CPUs keep their own
// kernels) or the shapes do not fit. float32 accumulation, one rounding to T at the end.
inline constexpr int64_t kDotRowsMaxAvx2 = 32;
inline constexpr int64_t kDotRowsLimitAvx2 = 128;
template <class T>
bool gemm_dot_nt_avx2(int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> W, MatrixRef<T> C,
                      float alpha, float beta, bool parallel);
extern template bool gemm_dot_nt_avx2<Half>(int64_t, int64_t, int64_t, MatrixRef<const Half>, MatrixRef<const Half>,
                                            MatrixRef<Half>, float, float, bool);
extern template bool gemm_dot_nt_avx2<BFloat16>(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>,
                                                MatrixRef<const BFloat16>, MatrixRef<BFloat16>, float, float, bool);
extern template bool gemm_dot_nt_avx2<float>(int64_t, int64_t, int64_t, MatrixRef<const float>, MatrixRef<const float>,
                                             MatrixRef<float>, float, float, bool);

// C = alpha op(A) op(B) + beta C in float32, row-major, by OpenBLAS split over ricci's thread
// pool (OpenBLAS itself runs on one thread: Note [One thread budget for BLAS]). For kernels that
// call a BLAS product of their own (quantized_matmul's prefill).
void sgemm_on_pool(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// ---- shared by the packed GEMM drivers ----------------------------------------------------------

// Multiply-adds of an M x K by K x N product, saturating: with broadcast (stride-0) operands K
// can be far larger than any buffer, and M * N * K past int64 would wrap.
inline int64_t gemm_work(int64_t M, int64_t N, int64_t K) {
  int64_t mn, mnk;
  if (mul_overflows(M, N, &mn) || mul_overflows(mn, K, &mnk)) return std::numeric_limits<int64_t>::max();
  return mnk;
}
// Whether a product is big enough to split over the thread pool (and the caller allows it).
inline bool gemm_use_pool(bool parallel, int64_t M, int64_t N, int64_t K) {
  return parallel && get_num_threads() > 1 && gemm_work(M, N, K) >= (int64_t{1} << 18);
}
// fn(begin, end) over [0, n): on the pool when `pool`, else inline in one call.
template <class Fn>
void gemm_run(bool pool, int64_t n, int64_t grain, Fn&& fn) {
  if (pool) parallel_for(0, n, grain, fn);
  else fn(0, n);
}
// n 4-byte scratch elements (packed panels, float workspaces) from the caching allocator, alive
// as long as `holder`.
float* gemm_scratch(Tensor& holder, int64_t n);
inline uint32_t* gemm_scratch_words(Tensor& holder, int64_t n) {
  return reinterpret_cast<uint32_t*>(gemm_scratch(holder, n));
}

// C = alpha op(A) op(B) + beta C in float32, row-major, with cblas_sgemm's arguments (op(A) is
// A^T when ta, A stored K x M with rows lda apart, else A stored M x K; op(B) likewise) but
// nothing packed: Note [Small float32 products without packing], gemm_small.cpp. Any size is
// computed correctly; it beats OpenBLAS only on small products (sgemm_small_pays). beta == 0
// ignores C's old contents (NaN included). Highway's dynamic dispatch picks the instruction set,
// capped by RICCI_CPU_ISA.
void sgemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// Whether the float32 "matmul" kernel passes an M x N x K product to sgemm_small rather than to
// OpenBLAS: on an AVX2 or AVX-512 CPU (the portable build of the kernel is no match for
// OpenBLAS), with at most kSgemmSmallWork multiply-adds and K <= kSgemmSmallMaxK.
inline constexpr int64_t kSgemmSmallWork = int64_t{64} * 64 * 64 * 4;
inline constexpr int64_t kSgemmSmallMaxK = 256;
inline bool sgemm_small_pays(int64_t M, int64_t N, int64_t K) {
  return K <= kSgemmSmallMaxK && gemm_work(M, N, K) <= kSgemmSmallWork && cpu_isa_allows(CpuIsa::Avx2);
}
// The Highway target sgemm_small runs on ("AVX2", "AVX3", "EMU128", ...), and how many calls it
// has had in this process (tests check that the matmul kernel took it).
const char* sgemm_small_target();
int64_t sgemm_small_calls();

// Which micro-kernel gemm_reduced picks on this CPU for float16/float32 ("avx512 8x32", "avx2 6x16",
// "generic 4x8") or, with bfloat16 = true, for bfloat16 (also "avx512bf16 6x64").
const char* gemm_reduced_kernel_name(bool bfloat16 = false);

}  // namespace ricci::cpu
