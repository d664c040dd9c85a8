// A contiguous float32 sum at memory bandwidth. The library is compiled for baseline x86-64, where
// the generic float->double accumulation loop runs two lanes at a time; this AVX2 path adds groups
// of four floats in float32 (exact enough: four terms) and accumulates those in float64, so the
// result keeps the accuracy of Note [Accurate float sums] at full vector width.
// GCC 12's avx512fintrin.h casts read an intentionally undefined register and trip
// -Wmaybe-uninitialized inside the header; the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/cpu_isa.h"
#include "backend/cpu/reduce_engine.h"

namespace ricci::cpu::reduce {
namespace {

// Eight-term float32 partial sums: their rounding error stays near one float ulp, far below what
// the float64 accumulation afterwards would show, and the conversions drop to one per 8 inputs.
__attribute__((target("avx512f"))) double sum_avx512(const float* p, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 128 <= n; i += 128) {
    const __m512 a = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(p + i), _mm512_loadu_ps(p + i + 16)),
                                   _mm512_add_ps(_mm512_loadu_ps(p + i + 32), _mm512_loadu_ps(p + i + 48)));
    const __m512 b = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(p + i + 64), _mm512_loadu_ps(p + i + 80)),
                                   _mm512_add_ps(_mm512_loadu_ps(p + i + 96), _mm512_loadu_ps(p + i + 112)));
    const __m512 s = _mm512_add_ps(a, b);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(s)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))));
  }
  double total = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  return total;
}

__attribute__((target("avx2"))) double sum_avx2(const float* p, int64_t n) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd(), acc2 = _mm256_setzero_pd(),
          acc3 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m256 s0 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(p + i + 8)),
                                    _mm256_add_ps(_mm256_loadu_ps(p + i + 16), _mm256_loadu_ps(p + i + 24)));
    const __m256 s1 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(p + i + 32), _mm256_loadu_ps(p + i + 40)),
                                    _mm256_add_ps(_mm256_loadu_ps(p + i + 48), _mm256_loadu_ps(p + i + 56)));
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(s0)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(s0, 1)));
    acc2 = _mm256_add_pd(acc2, _mm256_cvtps_pd(_mm256_castps256_ps128(s1)));
    acc3 = _mm256_add_pd(acc3, _mm256_cvtps_pd(_mm256_extractf128_ps(s1, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3)));
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  return total;
}

double sum_scalar(const float* p, int64_t n) {
  double a[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] += static_cast<double>(p[i + k]);
  double total = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  return total;
}

}  // namespace

double sum_contiguous_f32(const float* p, int64_t n) {
  const CpuIsa isa = cpu_isa();  // Note [Capping the instruction set]
  return isa >= CpuIsa::Avx512 ? sum_avx512(p, n) : isa >= CpuIsa::Avx2 ? sum_avx2(p, n) : sum_scalar(p, n);
}

}  // namespace ricci::cpu::reduce
