// The decode kernel for 4- and 8-bit weights on AVX-512 (Note [Quantized matrix-vector
// products] in qmv_common.h). A step is 32 codes: 16 bytes widened to sixteen 32-bit lanes
// (4 bits: low nibbles = even elements, high nibbles = odd) or 2 x 16 bytes (8 bits).
#include "backend/cpu/cpu_isa.h"
#include "quant/qmv_common.h"

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12's AVX-512 headers (_mm512_setzero_ps, _mm512_reduce_add_ps) trip -Wuninitialized and
// -Wmaybe-uninitialized inside the header; the warnings are about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#define RICCI_QMV_AVX512 1
#define RICCI_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#else
#define RICCI_QMV_AVX512 0
#endif

namespace ricci::quant {

#if RICCI_QMV_AVX512
namespace {

RICCI_AVX512 inline __m512i widen16(const uint8_t* p) {
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <int BITS, int GS, class S>
RICCI_AVX512 void tile(const float* xk, const float* xs, const uint8_t* const* w, const S* const* sc,
                       const S* const* bi, int64_t G, float* out, float* bias_out) {
  constexpr int R = kQmvRows;
  constexpr int64_t gbytes = GS * BITS / 8;
  const __m512i nibble = _mm512_set1_epi32(15);
  __m512 tot[R];
  for (int r = 0; r < R; ++r) tot[r] = _mm512_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    const float* xg = xk + g * GS;
    __m512 a0[R];
    for (int r = 0; r < R; ++r) a0[r] = _mm512_setzero_ps();
    #pragma GCC unroll 4
    for (int s = 0; s < GS; s += 32) {
      const __m512 x0 = _mm512_loadu_ps(xg + s), x1 = _mm512_loadu_ps(xg + s + 16);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w[r] + g * gbytes + s * BITS / 8;
        if constexpr (BITS == 4) {
          const __m512i v = widen16(p);
          a0[r] = _mm512_fmadd_ps(x0, _mm512_cvtepi32_ps(_mm512_and_si512(v, nibble)), a0[r]);
          a0[r] = _mm512_fmadd_ps(x1, _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), a0[r]);
        } else {
          a0[r] = _mm512_fmadd_ps(x0, _mm512_cvtepi32_ps(widen16(p)), a0[r]);
          a0[r] = _mm512_fmadd_ps(x1, _mm512_cvtepi32_ps(widen16(p + 16)), a0[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      tot[r] = _mm512_fmadd_ps(_mm512_set1_ps(to_compute(sc[r][g])), a0[r], tot[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    out[r] = _mm512_reduce_add_ps(tot[r]);
    bias_out[r] = bias_dot(bi[r], xs, G);
  }
}

}  // namespace

template <class S>
bool qmv_avx512(const QmmProblem<S, float>& p) {
  if (!cpu::cpu_isa_allows(cpu::CpuIsa::Avx512) || !qmv_fits(p.transpose, p.bits, p.M)) return false;
  qmv_drive<S>(p, &qmv_kernel_order<32>, RICCI_QMV_TILE_FOR(tile, S, p.bits, p.group_size));
  return true;
}

#else

template <class S>
bool qmv_avx512(const QmmProblem<S, float>&) {
  return false;
}

#endif

template bool qmv_avx512<float>(const QmmProblem<float, float>&);
template bool qmv_avx512<Half>(const QmmProblem<Half, float>&);
template bool qmv_avx512<BFloat16>(const QmmProblem<BFloat16, float>&);

}  // namespace ricci::quant
