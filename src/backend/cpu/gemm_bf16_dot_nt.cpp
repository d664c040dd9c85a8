// bfloat16 GEMM for the layout of a linear layer, C = A @ W^T with A's rows and W's rows both
// contiguous along K (W stored out_features x in_features, as nn::Linear and PyTorch keep it).
//
// Both operands are already laid out the way vdpbf16ps wants them: 32 consecutive bf16 of a row
// are 16 pairs along K. So nothing is packed; each element of C is a dot product of two rows,
// computed 4 x 6 at a time (24 accumulators, each row of A loaded once per step and used six
// times, each row of W loaded once and used four times) and summed across lanes at the end. For a
// few rows of A (token-by-token decoding) the work is one pass over W at memory speed; packing
// W first, as the general kernel does, would read and write it twice more. For many rows of A
// the packed kernel is faster (it loads one operand by broadcast from L1, this one loads both),
// so gemm_bf16_dot sends only short A here.
//
// Blocking: tasks are (64 rows of A) x (48 rows of W); a task's 48 rows of W over one K block
// (48 x 4096 bf16 = 384 KiB) stay in L2 while 4-row slices of A (32 KiB) sit in L1. Tasks run W
// block major, so one thread's consecutive tasks reuse the same rows of W. K beyond one block
// accumulates in a float32 workspace; C is rounded to bf16 once, at the end.
#include <algorithm>
#include <cstring>

#include "backend/cpu/gemm.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

#if defined(__x86_64__)
// GCC 12 reports the intentionally undefined upper halves inside its own AVX-512 cast intrinsics.
#if !defined(__clang__)  // a GCC-only warning (clang builds the fuzzers)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define RICCI_BF16_DOT_NT 1
#define RICCI_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#else
#define RICCI_BF16_DOT_NT 0
#endif

namespace ricci::cpu {

#if RICCI_BF16_DOT_NT
namespace {

constexpr int64_t kKB = 4096;    // K per block: a longer dot product amortises the lane sums
constexpr int64_t kMB = 64;      // rows of A per task
constexpr int64_t kNB = 48;      // rows of W per task (a multiple of both tiles' widths)

// One step of 32 k: every (row of A, row of W) pair adds 16 pairs of products to its accumulator.
template <int MT, int NT>
RICCI_TARGET_BF16 inline __attribute__((always_inline)) void dot_step(__m512 (&acc)[MT][NT], const BFloat16* const a[MT],
                                                                    const BFloat16* const w[NT], int64_t k,
                                                                    __mmask32 m) {
  __m512bh av[MT];
#pragma GCC unroll 4
  for (int i = 0; i < MT; ++i) av[i] = (__m512bh)_mm512_maskz_loadu_epi16(m, a[i] + k);
#pragma GCC unroll 12
  for (int j = 0; j < NT; ++j) {
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, w[j] + k);
#pragma GCC unroll 4
    for (int i = 0; i < MT; ++i) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av[i], wv);
  }
}

// out[i][j] = sum over k < kc of a[i][k] * w[j][k]; rows past the matrix are clamped copies.
// 4 x 6 for groups of four rows of A; 1 x 12 for the rest (decoding: one row, W read once, twelve
// rows of W in flight; the hardware prefetcher follows twelve streams better than software
// prefetches, which measured slower).
template <int MT, int NT>
RICCI_TARGET_BF16 void dot_tile(int64_t kc, const BFloat16* const a[MT], const BFloat16* const w[NT],
                                float out[MT][NT]) {
  __m512 acc[MT][NT];
#pragma GCC unroll 4
  for (int i = 0; i < MT; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < NT; ++j) acc[i][j] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= kc; k += 32) dot_step<MT, NT>(acc, a, w, k, ~__mmask32{0});
  if (k < kc) dot_step<MT, NT>(acc, a, w, k, static_cast<__mmask32>((uint64_t{1} << (kc - k)) - 1));
#pragma GCC unroll 4
  for (int i = 0; i < MT; ++i)
#pragma GCC unroll 12
    for (int j = 0; j < NT; ++j) out[i][j] = _mm512_reduce_add_ps(acc[i][j]);
}

// Rows [i0, i0 + MT) of A against rows [j_begin, j_end) of W, over k in [k0, k0 + kc): hands each
// finished sum to emit(i, j, sum).
template <int MT, int NT, class Emit>
RICCI_TARGET_BF16 void dot_rows(MatrixRef<const BFloat16> A, MatrixRef<const BFloat16> W, int64_t i0, int64_t i_end,
                                int64_t j_begin, int64_t j_end, int64_t k0, int64_t kc, Emit&& emit) {
  const BFloat16* a[MT];
  for (int i = 0; i < MT; ++i) a[i] = A.data + std::min<int64_t>(i0 + i, i_end - 1) * A.rs + k0;
  for (int64_t j0 = j_begin; j0 < j_end; j0 += NT) {
    const BFloat16* w[NT];
    for (int j = 0; j < NT; ++j) w[j] = W.data + std::min<int64_t>(j0 + j, j_end - 1) * W.rs + k0;
    float sums[MT][NT];
    dot_tile<MT, NT>(kc, a, w, sums);
    for (int64_t i = 0; i < std::min<int64_t>(MT, i_end - i0); ++i)
      for (int64_t j = 0; j < std::min<int64_t>(NT, j_end - j0); ++j) emit(i0 + i, j0 + j, sums[i][j]);
  }
}

}  // namespace

bool gemm_bf16_dot_nt(int64_t M, int64_t N, int64_t K, MatrixRef<const BFloat16> A, MatrixRef<const BFloat16> W,
                      MatrixRef<BFloat16> C, float alpha, float beta, bool parallel) {
  if (!gemm_bf16_dot_available() || A.cs != 1 || W.cs != 1) return false;
  const bool multi_k = K > kKB;
  Tensor ws_holder;
  float* ws = multi_k ? gemm_scratch(ws_holder, M * N) : nullptr;  // partial sums between K blocks, ld N
  const int64_t mtasks = (M + kMB - 1) / kMB, ntasks = (N + kNB - 1) / kNB;
  const bool use_pool = gemm_use_pool(parallel, M, N, K);
  for (int64_t k0 = 0; k0 < K; k0 += kKB) {
    const int64_t kc = std::min(kKB, K - k0);
    const bool first = k0 == 0, last = k0 + kc >= K;
    auto tasks = [&](int64_t tb, int64_t te) {
      for (int64_t t = tb; t < te; ++t) {
        const int64_t i_begin = (t % mtasks) * kMB, i_end = std::min(M, i_begin + kMB);
        const int64_t j_begin = (t / mtasks) * kNB, j_end = std::min(N, j_begin + kNB);
        auto emit = [&](int64_t i, int64_t j, float s) {
          if (multi_k) {
            float& partial = ws[i * N + j];
            if (!first) s += partial;
            if (!last) {
              partial = s;
              return;
            }
          }
          BFloat16& o = C.data[i * C.rs + j * C.cs];
          o = BFloat16(alpha * s + (beta != 0.f ? beta * static_cast<float>(o) : 0.f));
        };
        int64_t i0 = i_begin;
        for (; i0 + 4 <= i_end; i0 += 4) dot_rows<4, 6>(A, W, i0, i_end, j_begin, j_end, k0, kc, emit);
        for (; i0 < i_end; ++i0) dot_rows<1, 12>(A, W, i0, i_end, j_begin, j_end, k0, kc, emit);
      }
    };
    gemm_run(use_pool, mtasks * ntasks, 1, tasks);
  }
  return true;
}

#else

bool gemm_bf16_dot_nt(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>, MatrixRef<const BFloat16>,
                      MatrixRef<BFloat16>, float, float, bool) {
  return false;
}

#endif

}  // namespace ricci::cpu
