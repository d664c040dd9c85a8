// C = alpha * A @ W^T + beta * C for few rows of A on AVX2 + FMA (+ F16C), with W's rows
// contiguous along K: a linear layer's layout (W stored out_features x in_features) while
// decoding token by token. CPUs without AVX512_BF16 have no dot-product instruction for this
// (gemm_bf16_dot_nt.cpp), and the packed GEMM would convert and copy all of W on every call, for
// one row of output; here W is streamed once, straight from its own memory.
//
// A (any strides) is converted to float32 into a zero-padded scratch block, kDotRowsMaxAvx2 (32)
// rows at a time; each group of rows is one pass over W. Each element of C is then a dot product
// of a row of A and a row of W, computed MT x NT at a time: a 16-element step of W's rows is
// loaded and widened to float32 (bfloat16: the upper half of a 32-bit word is one element, the
// lower half shifted left by 16 the other, so one load and one shift or mask per 8 lanes;
// float16: vcvtph2ps) and multiplied into MT x NT vector accumulators, so every W load serves MT
// rows of A. Register tiles: 4 x 2 for groups of four rows of A, then 3 x 3, 2 x 4, 1 x 8 (one
// row: eight rows of W in flight, enough streams to pull a core's memory bandwidth).
//
// Up to kDotRowsLimitAvx2 (128) rows of A this beats the packed GEMM (Zen 3, one thread: 69
// against ≈ 45 GFLOP/s at 128 rows, even at 256; at 512 rows the packed 6 x 16 kernel's 74-78
// wins). The 4 x 2 tile runs at ≈ 86 % of the core's FMA peak.
//
// Blocking: a task is kNB rows of W (the pool splits tasks into contiguous runs, so each thread
// streams one region of W). K is cut into blocks whose float32 A block (all rows) stays in L1;
// the accumulators of a task live in a vector workspace between K blocks, and are summed across
// lanes and rounded to T once, at the end. One row of A with K <= 6144 is one block: W's rows
// then stream end to end.
//
// Sums are float32 in a fixed order: the result does not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backend/cpu/cpu_isa.h"
#include "backend/cpu/gemm.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RICCI_DOT_NT_AVX2 1
#define RICCI_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define RICCI_DOT_NT_AVX2 0
#endif

namespace ricci::cpu {

#if RICCI_DOT_NT_AVX2
namespace {

constexpr int64_t kStep = 16;                   // elements of K per step: two float vectors
constexpr int64_t kNB = 24;                     // rows of W per task (a multiple of every NT)
constexpr int64_t kABlockBytes = 24 * 1024;     // float32 A block (all rows) per K block: L1
constexpr int64_t kMinKB = 256;                 // shortest K block

// Half h (0: first, 1: second) of the 16-element step at p, as 8 floats in kernel order.
// bfloat16 reads the step as 8 32-bit words: h = 0 gives the even elements (low halves shifted
// up), h = 1 the odd ones (high halves, low bits masked). A is converted to the same order, so
// every product pairs the right elements. float16 and float32 keep memory order.
RICCI_AVX2 inline __m256 load_half(const BFloat16* p, int h) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm256_castsi256_ps(h == 0 ? _mm256_slli_epi32(v, 16)
                                    : _mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
}
RICCI_AVX2 inline __m256 load_half(const Half* p, int h) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8 * h)));
}
RICCI_AVX2 inline __m256 load_half(const float* p, int h) { return _mm256_loadu_ps(p + 8 * h); }

// Where element r (< 16) of a step lands in kernel order.
template <class T>
constexpr int64_t kernel_pos(int64_t r) {
  if constexpr (std::is_same_v<T, BFloat16>) return (r % 2) * 8 + r / 2;
  else return r;
}

// dst[0, kp) = row of A in kernel order, zero past k (kp: k rounded up to a step).
template <class T>
RICCI_AVX2 void convert_row(const T* src, int64_t cs, int64_t k, int64_t kp, float* dst) {
  int64_t s = 0;
  if (cs == 1)
    for (; s + kStep <= k; s += kStep) {
      _mm256_storeu_ps(dst + s, load_half(src + s, 0));
      _mm256_storeu_ps(dst + s + 8, load_half(src + s, 1));
    }
  std::fill(dst + s, dst + kp, 0.f);
  for (int64_t e = s; e < k; ++e) dst[(e / kStep) * kStep + kernel_pos<T>(e % kStep)] = static_cast<float>(src[e * cs]);
}

// acc[i][j] += a_i . w_j over `steps` steps, a_i = a + i * lda (float32, kernel order).
template <class T, int MT, int NT>
RICCI_AVX2 inline __attribute__((always_inline)) void dot_steps(__m256 (&acc)[MT][NT], const float* a, int64_t lda,
                                                                const T* const* w, int64_t steps) {
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t k = s * kStep;
    if constexpr (MT == 1) {
      // Row by row, both halves of a W load at once: GCC would otherwise widen all NT rows'
      // halves first and spill the accumulators.
      const __m256 x0 = _mm256_loadu_ps(a + k), x1 = _mm256_loadu_ps(a + k + 8);
#pragma GCC unroll 8
      for (int j = 0; j < NT; ++j) {
        acc[0][j] = _mm256_fmadd_ps(x0, load_half(w[j] + k, 0), acc[0][j]);
        acc[0][j] = _mm256_fmadd_ps(x1, load_half(w[j] + k, 1), acc[0][j]);
      }
      continue;
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256 wv[NT];
#pragma GCC unroll 8
      for (int j = 0; j < NT; ++j) wv[j] = load_half(w[j] + k, h);
#pragma GCC unroll 4
      for (int i = 0; i < MT; ++i) {
        __m256 x = _mm256_loadu_ps(a + i * lda + k + 8 * h);
        // In a register: one load per row of A, where GCC would fold a load into every FMA (the
        // loads, not the FMAs, would then limit the 4 x 2 tile).
        asm("" : "+x"(x));
#pragma GCC unroll 8
        for (int j = 0; j < NT; ++j) acc[i][j] = _mm256_fmadd_ps(x, wv[j], acc[i][j]);
      }
    }
  }
}

// Rows [i0, i0 + MT) of A against rows [j0, j0 + NT) of W (rows past j_end are clamped copies,
// their sums unused) over k in [k0, k0 + kc): accumulates into ws (kNB vectors per row of A,
// column j0 - j_begin first), starting from zero when `first`. kc is a multiple of kStep except
// in the last block, whose tail goes through a zero-padded copy of W.
template <class T, int MT, int NT>
RICCI_AVX2 void dot_tile(const float* a, int64_t lda, MatrixRef<const T> W, int64_t j0, int64_t j_end, int64_t k0,
                         int64_t kc, bool first, __m256* ws) {
  const T* w[NT];
  for (int j = 0; j < NT; ++j) w[j] = W.data + std::min<int64_t>(j0 + j, j_end - 1) * W.rs + k0;
  __m256 acc[MT][NT];
  for (int i = 0; i < MT; ++i)
    for (int j = 0; j < NT; ++j) acc[i][j] = first ? _mm256_setzero_ps() : ws[i * kNB + j];
  const int64_t full = kc / kStep;
  dot_steps<T, MT, NT>(acc, a + k0, lda, w, full);
  if (full * kStep < kc) {
    alignas(32) T tail[NT][kStep] = {};
    const T* wt[NT];
    for (int j = 0; j < NT; ++j) {
      std::memcpy(tail[j], w[j] + full * kStep, static_cast<size_t>(kc - full * kStep) * sizeof(T));
      wt[j] = tail[j];
    }
    dot_steps<T, MT, NT>(acc, a + k0 + full * kStep, lda, wt, 1);
  }
  for (int i = 0; i < MT; ++i)
    for (int j = 0; j < NT; ++j) ws[i * kNB + j] = acc[i][j];
}

template <class T, int MT, int NT>
RICCI_AVX2 void dot_rows(const float* a, int64_t lda, MatrixRef<const T> W, int64_t j_begin, int64_t j_end,
                         int64_t k0, int64_t kc, bool first, __m256* ws) {
  for (int64_t j0 = j_begin; j0 < j_end; j0 += NT)
    dot_tile<T, MT, NT>(a, lda, W, j0, j_end, k0, kc, first, ws + (j0 - j_begin));
}

RICCI_AVX2 inline float lane_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Tasks [tb, te): each is kNB rows of W against every row of A (a: float32, row i at a + i * kp).
template <class T>
RICCI_AVX2 void run_tasks(int64_t tb, int64_t te, int64_t M, int64_t N, int64_t K, int64_t kb, const float* a,
                          int64_t kp, MatrixRef<const T> W, MatrixRef<T> C, float alpha, float beta) {
  alignas(32) __m256 ws[kDotRowsMaxAvx2 * kNB];
  for (int64_t t = tb; t < te; ++t) {
    const int64_t j_begin = t * kNB, j_end = std::min(N, j_begin + kNB);
    for (int64_t k0 = 0; k0 < K; k0 += kb) {
      const int64_t kc = std::min(kb, K - k0);
      const bool first = k0 == 0;
      int64_t i0 = 0;
      for (; i0 + 4 <= M; i0 += 4) dot_rows<T, 4, 2>(a + i0 * kp, kp, W, j_begin, j_end, k0, kc, first, ws + i0 * kNB);
      const float* ar = a + i0 * kp;
      __m256* wr = ws + i0 * kNB;
      switch (M - i0) {
        case 3: dot_rows<T, 3, 3>(ar, kp, W, j_begin, j_end, k0, kc, first, wr); break;
        case 2: dot_rows<T, 2, 4>(ar, kp, W, j_begin, j_end, k0, kc, first, wr); break;
        case 1: dot_rows<T, 1, 8>(ar, kp, W, j_begin, j_end, k0, kc, first, wr); break;
        default: break;
      }
    }
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = j_begin; j < j_end; ++j) {
        T& o = C.data[i * C.rs + j * C.cs];
        const float s = alpha * lane_sum(ws[i * kNB + (j - j_begin)]);
        o = T(beta != 0.f ? s + beta * static_cast<float>(o) : s);
      }
  }
}

template <class T>
void run(int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> W, MatrixRef<T> C, float alpha,
         float beta, bool parallel) {
  const int64_t kp = (K + kStep - 1) / kStep * kStep;
  Tensor a_holder;
  float* a = gemm_scratch(a_holder, M * kp);
  for (int64_t i = 0; i < M; ++i) convert_row(A.data + i * A.rs, A.cs, K, kp, a + i * kp);
  const int64_t kb = std::max(kMinKB, kABlockBytes / (M * int64_t{sizeof(float)}) / kStep * kStep);
  gemm_run(gemm_use_pool(parallel, M, N, K), (N + kNB - 1) / kNB, 1, [&](int64_t tb, int64_t te) {
    run_tasks<T>(tb, te, M, N, K, kb, a, kp, W, C, alpha, beta);
  });
}

}  // namespace

template <class T>
bool gemm_dot_nt_avx2(int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> W, MatrixRef<T> C,
                      float alpha, float beta, bool parallel) {
  if (gemm_isa() != CpuIsa::Avx2 || W.cs != 1 || M < 1 || M > kDotRowsLimitAvx2 || N < 1 || K < 1) return false;
  // Beyond kDotRowsMaxAvx2 rows, one pass over W per group of rows.
  for (int64_t i0 = 0; i0 < M; i0 += kDotRowsMaxAvx2)
    run<T>(std::min(kDotRowsMaxAvx2, M - i0), N, K, {A.data + i0 * A.rs, A.rs, A.cs}, W,
           {C.data + i0 * C.rs, C.rs, C.cs}, alpha, beta, parallel);
  return true;
}

#else

template <class T>
bool gemm_dot_nt_avx2(int64_t, int64_t, int64_t, MatrixRef<const T>, MatrixRef<const T>, MatrixRef<T>, float, float,
                      bool) {
  return false;
}

#endif

template bool gemm_dot_nt_avx2<Half>(int64_t, int64_t, int64_t, MatrixRef<const Half>, MatrixRef<const Half>,
                                     MatrixRef<Half>, float, float, bool);
template bool gemm_dot_nt_avx2<BFloat16>(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>,
                                         MatrixRef<const BFloat16>, MatrixRef<BFloat16>, float, float, bool);
template bool gemm_dot_nt_avx2<float>(int64_t, int64_t, int64_t, MatrixRef<const float>, MatrixRef<const float>,
                                      MatrixRef<float>, float, float, bool);

}  // namespace ricci::cpu
