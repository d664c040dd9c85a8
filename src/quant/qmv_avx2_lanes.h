#pragma once
// Float32 lanes from the scales, biases and sums of the AVX2 decode kernels (qmv_avx2.cpp,
// qmv_int8x_avx2.cpp). Included only where __x86_64__ is defined; every function is compiled for
// AVX2 + FMA + F16C by its attribute, whatever the file's flags.
#include <immintrin.h>

#include "ricci/half.h"

#define RICCI_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace ricci::quant::avx2 {

RICCI_AVX2 inline float lane_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

RICCI_AVX2 inline float lane_max(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Scales and biases as float32 lanes: s broadcast, [s0 x4 | s1 x4], and eight consecutive values.
RICCI_AVX2 inline __m256 bcast(const float* p) { return _mm256_broadcast_ss(p); }
RICCI_AVX2 inline __m256 bcast(const Half* p) { return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(p->bits))); }
RICCI_AVX2 inline __m256 bcast(const BFloat16* p) {
  return _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(uint32_t{p->bits} << 16)));
}
RICCI_AVX2 inline __m256 bcast_pair(const float* p) {
  return _mm256_set_m128(_mm_broadcast_ss(p + 1), _mm_broadcast_ss(p));
}
RICCI_AVX2 inline __m256 bcast_pair(const Half* p) {
  return _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_set1_epi16(static_cast<short>(p[0].bits)),
                                            _mm_set1_epi16(static_cast<short>(p[1].bits))));
}
RICCI_AVX2 inline __m256 bcast_pair(const BFloat16* p) {
  return _mm256_castsi256_ps(_mm256_set_m128i(_mm_set1_epi32(static_cast<int>(uint32_t{p[1].bits} << 16)),
                                              _mm_set1_epi32(static_cast<int>(uint32_t{p[0].bits} << 16))));
}
RICCI_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
RICCI_AVX2 inline __m256 load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
RICCI_AVX2 inline __m256 load8(const BFloat16* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

// Σ_g b_g xs_g over one row's G biases.
template <class S>
RICCI_AVX2 inline float bias_dot_avx2(const S* b, const float* xs, int64_t G) {
  __m256 u = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 8 <= G; g += 8) u = _mm256_fmadd_ps(load8(b + g), _mm256_loadu_ps(xs + g), u);
  float t = lane_sum(u);
  for (; g < G; ++g) t += static_cast<float>(b[g]) * xs[g];
  return t;
}

// The bias term Σ_g b_g xs_g of two rows of w (xs: the group sums of x), eight groups per FMA, so
// that the biases stream beside the codes.
template <class S>
struct BiasPair {
  const S* ba;
  const S* bb;
  const float* xs;
  __m256 ua = _mm256_setzero_ps(), ub = _mm256_setzero_ps();

  RICCI_AVX2 BiasPair(const S* a, const S* b, const float* sums) : ba(a), bb(b), xs(sums) {}
  RICCI_AVX2 void add8(int64_t g) {  // groups [g, g + 8)
    const __m256 x8 = _mm256_loadu_ps(xs + g);
    ua = _mm256_fmadd_ps(load8(ba + g), x8, ua);
    ub = _mm256_fmadd_ps(load8(bb + g), x8, ub);
  }
  // The sums, with groups [g8, G) (those add8 did not take) added one by one.
  RICCI_AVX2 void finish(int64_t g8, int64_t G, float& a, float& b) const {
    a = lane_sum(ua);
    b = lane_sum(ub);
    for (int64_t g = g8; g < G; ++g) {
      a += static_cast<float>(ba[g]) * xs[g];
      b += static_cast<float>(bb[g]) * xs[g];
    }
  }
};

}  // namespace ricci::quant::avx2
