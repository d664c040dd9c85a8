// A contiguous float32 sum at memory bandwidth. The library is compiled for baseline x86-64, where
// the generic float->double accumulation loop runs two lanes at a time; these AVX2 / AVX-512
// paths widen every float to float64 at full vector width (one conversion per four or eight
// floats) and add in float64, keeping Note [Accurate float sums].
//
// Every term is widened before it is added: adding groups of floats in float32 first rounds
// each group to float32, which loses the small terms next to large ones of opposite sign (1e6,
// 1e-3, -1e6 gives 0, not 1e-3); the float64 sum of 16M float32 stays within one float32 ulp of
// the exact sum for the distributions tests/test_accuracy.cpp draws.
// GCC 12's avx512fintrin.h casts read an intentionally undefined register and trip
// -Wmaybe-uninitialized inside the header; the warning is about the header, not this code.
#if !defined(__clang__)  // a GCC-only warning (clang builds the fuzzers)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/cpu_isa.h"
#include "backend/cpu/reduce_engine.h"

namespace ricci::cpu::reduce {
namespace {

__attribute__((target("avx512f"))) double sum_avx512(const float* p, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd(), acc2 = _mm512_setzero_pd(),
          acc3 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm256_loadu_ps(p + i)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_loadu_ps(p + i + 8)));
    acc2 = _mm512_add_pd(acc2, _mm512_cvtps_pd(_mm256_loadu_ps(p + i + 16)));
    acc3 = _mm512_add_pd(acc3, _mm512_cvtps_pd(_mm256_loadu_ps(p + i + 24)));
  }
  double total = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(acc0, acc1), _mm512_add_pd(acc2, acc3)));
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  return total;
}

constexpr int kPrefetchBytes = 1024;

__attribute__((target("avx2"))) double sum_avx2(const float* p, int64_t n) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd(), acc2 = _mm256_setzero_pd(),
          acc3 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // One line per iteration, fetched kPrefetchBytes ahead: the hardware's stream prefetchers
    // stop at every 4 KiB page and ramp up again, and row sums (one 16 KiB row per call) restart
    // at every row; Zen 3's row sums were 0.84-0.88 of PyTorch's without it (issue 16). Past the
    // end of the buffer a prefetch is a no-op, never a fault.
    _mm_prefetch(reinterpret_cast<const char*>(p + i) + kPrefetchBytes, _MM_HINT_T0);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm_loadu_ps(p + i)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 4)));
    acc2 = _mm256_add_pd(acc2, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 8)));
    acc3 = _mm256_add_pd(acc3, _mm256_cvtps_pd(_mm_loadu_ps(p + i + 12)));
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
