#pragma once
// The CPU kernels behind quantize, dequantize and quantized_matmul (src/quant/*.cpp), and the
// raw problem the matmul kernels share. The ops (quantize_op.cpp, quantized_matmul_op.cpp) check
// every argument first; a kernel may assume valid, contiguous operands.
#include <cstdint>

#include "ricci/half.h"

namespace ricci {
class Tensor;
}

namespace ricci::quant {

// "quantize", one per dtype of w: w (R, K) contiguous → packed (R, K * bits / 32) int32,
// scales and biases (R, K / group_size) in w's dtype.
using QuantizeKernel = void (*)(const Tensor& w, const Tensor& packed, const Tensor& scales, const Tensor& biases,
                                int64_t group_size, int64_t bits);
// "dequantize", one per dtype of scales (= out's): out (R, K) contiguous.
using DequantizeKernel = void (*)(const Tensor& out, const Tensor& packed, const Tensor& scales, const Tensor& biases,
                                  int64_t group_size, int64_t bits);
// "quantized_matmul", one per dtype of scales: out (M, N) = x (M, K) @ deq(w)ᵀ (transpose; w
// (N, K')) or x @ deq(w) (w (K, N')), out and x contiguous float32 (float64 with float64 scales);
// int8_x: x rounded to int8 first (Note [Int8 activations], int8_activations.h).
using QmmKernel = void (*)(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& scales,
                           const Tensor& biases, bool transpose, int64_t group_size, int64_t bits, bool int8_x);

// One product in raw pointers: y (M x N, row-major) = x (M x K, row-major) times the quantized
// matrix, S the scales' type, Acc the compute type (float; double for double scales).
template <class S, class Acc>
struct QmmProblem {
  const Acc* x;
  Acc* y;
  const uint8_t* w;  // packed rows: N rows of K codes (transpose) or K rows of N codes
  const S* scales;   // one per group of each packed row
  const S* biases;
  int64_t M, N, K;
  bool transpose;
  int group_size;
  int bits;
};

// Up to this many rows of x the few-row kernels run (decoding); beyond, qmm_prefill. At 4096 x
// 4096, 4 bits, one Zen 3 thread (loaded machine): with the AVX2 kernel of 2026-12-07 about 0.63
// ms per row of x (5.2 ms at 8 rows, 14.5 ms at 16 as x falls out of L1) against 20-23 ms at 17
// rows for dequantize + sgemm (the widening kernel before it: 0.9 ms, 7.3 ms and 18 ms).
inline constexpr int64_t kDecodeRows = 16;
// The portable code (scalar dequantize, then dot products) gives way to qmm_prefill sooner.
inline constexpr int64_t kPortableRows = 8;

// Portable, every bit width, both orientations (qmm_portable.cpp).
template <class S, class Acc>
void qmm_portable(const QmmProblem<S, Acc>& p);
// Dequantized panels of float32 through the BLAS sgemm (qmm_prefill.cpp).
template <class S>
void qmm_prefill(const QmmProblem<S, float>& p);
// 4 and 8 bits, transpose, M <= kDecodeRows: false (nothing done) when the CPU or RICCI_CPU_ISA
// rules the instruction set out or the problem does not fit (qmv_avx2.cpp, qmv_avx512.cpp).
template <class S>
bool qmv_avx2(const QmmProblem<S, float>& p);
template <class S>
bool qmv_avx512(const QmmProblem<S, float>& p);
// The same with x rounded to int8 (integer dot products; qmv_int8x_avx2.cpp).
template <class S>
bool qmv_int8x_avx2(const QmmProblem<S, float>& p);
// round_rows_to_int8 (int8_activations.h) with AVX2, the same values; false (nothing done) without
// AVX2 or for K not a multiple of 32.
bool round_rows_to_int8_avx2(const float* x, int64_t M, int64_t K, float* xhat);
// One row as round_row_to_int8 rounds it, q and d (int8_activations.h); K a multiple of 32, the
// caller has checked AVX2. False where the row holds inf or NaN.
bool round_row_to_int8_avx2(const float* x, int64_t K, int8_t* q, float* d);
// AVX512-VNNI's vpdpbusd for the int8 dot products: where the CPU has it (with AVX512-VL) and
// RICCI_CPU_ISA allows AVX-512; a cap to avx2 tests the AVX2 forms on the same machine.
bool int8_dot_vnni_usable();
// x rounded to int8 times 4- or 8-bit codes as an int8 x uint8 GEMM with AVX512-VNNI's vpdpbusd
// (transpose, K a multiple of 32): false (nothing done) where the CPU, RICCI_CPU_ISA or the
// problem rules it out (qmm_int8x_gemm.cpp).
template <class S>
bool qmm_int8x_gemm(const QmmProblem<S, float>& p);
// Rows [j0, j0 + n) of a transposed 4- or 8-bit problem dequantized into panel (n x K float32),
// each row in a widening kernel's order (4 bits: within every 16 elements, the even ones, then
// the odd ones; 8 bits: memory order), s * q + b rounded as the portable code rounds it. False
// (nothing done) without AVX2 (qmv_avx2.cpp).
template <class S>
bool dequantize_rows_avx2(const QmmProblem<S, float>& p, int64_t j0, int64_t n, float* panel);

}  // namespace ricci::quant
