// The decode kernel for 4- and 8-bit weights on AVX2 + FMA (Note [Quantized matrix-vector
// products] in qmv_common.h). A step is 16 codes: 8 bytes widened to eight 32-bit lanes
// (4 bits: low nibbles = even elements, high nibbles = odd) or 2 x 8 bytes (8 bits).
#include "backend/cpu/cpu_isa.h"
#include "quant/qmv_common.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RICCI_QMV_AVX2 1
#define RICCI_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define RICCI_QMV_AVX2 0
#endif

namespace ricci::quant {

#if RICCI_QMV_AVX2
namespace {

RICCI_AVX2 inline float lane_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

RICCI_AVX2 inline __m256i widen8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

template <int BITS, int GS, class S>
RICCI_AVX2 void tile(const float* xk, const uint8_t* const* w, const S* const* sc, int64_t G, float* out) {
  constexpr int R = kQmvRows;
  constexpr int64_t gbytes = GS * BITS / 8;
  const __m256i nibble = _mm256_set1_epi32(15);
  __m256 tot[R];
  for (int r = 0; r < R; ++r) tot[r] = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    const float* xg = xk + g * GS;
    __m256 a0[R];
    for (int r = 0; r < R; ++r) a0[r] = _mm256_setzero_ps();
    #pragma GCC unroll 8
    for (int s = 0; s < GS; s += 16) {
      const __m256 x0 = _mm256_loadu_ps(xg + s), x1 = _mm256_loadu_ps(xg + s + 8);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const uint8_t* p = w[r] + g * gbytes + s * BITS / 8;
        if constexpr (BITS == 4) {
          const __m256i v = widen8(p);
          a0[r] = _mm256_fmadd_ps(x0, _mm256_cvtepi32_ps(_mm256_and_si256(v, nibble)), a0[r]);
          a0[r] = _mm256_fmadd_ps(x1, _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), a0[r]);
        } else {
          a0[r] = _mm256_fmadd_ps(x0, _mm256_cvtepi32_ps(widen8(p)), a0[r]);
          a0[r] = _mm256_fmadd_ps(x1, _mm256_cvtepi32_ps(widen8(p + 8)), a0[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      tot[r] = _mm256_fmadd_ps(_mm256_set1_ps(to_compute(sc[r][g])), a0[r], tot[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = lane_sum(tot[r]);
}

template <int BITS, class S>
RICCI_AVX2 void dequantize_row(const uint8_t* w, const S* sc, const S* bi, int64_t K, int gs, float* dst) {
  const __m256i nibble = _mm256_set1_epi32(15);
  for (int64_t g = 0; g < K / gs; ++g) {
    const __m256 s = _mm256_set1_ps(to_compute(sc[g])), b = _mm256_set1_ps(to_compute(bi[g]));
    const uint8_t* p = w + g * gs * BITS / 8;
    float* d = dst + g * gs;
    for (int e = 0; e < gs; e += 16) {
      __m256 q0, q1;
      if constexpr (BITS == 4) {
        const __m256i v = widen8(p + e / 2);
        q0 = _mm256_cvtepi32_ps(_mm256_and_si256(v, nibble));
        q1 = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4));
      } else {
        q0 = _mm256_cvtepi32_ps(widen8(p + e));
        q1 = _mm256_cvtepi32_ps(widen8(p + e + 8));
      }
      // A multiply, then an add (no FMA): the portable code's two roundings.
      _mm256_storeu_ps(d + e, _mm256_add_ps(_mm256_mul_ps(s, q0), b));
      _mm256_storeu_ps(d + e + 8, _mm256_add_ps(_mm256_mul_ps(s, q1), b));
    }
  }
}

}  // namespace

template <class S>
bool dequantize_rows_avx2(const QmmProblem<S, float>& p, int64_t j0, int64_t n, float* panel) {
  if (!cpu::cpu_isa_allows(cpu::CpuIsa::Avx2) || !p.transpose || (p.bits != 4 && p.bits != 8)) return false;
  const int64_t K = p.K, G = K / p.group_size, rb = row_bytes(K, p.bits);
  parallel_for(0, n, std::max<int64_t>(1, kGrainSize / K), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t j = j0 + r;
      (p.bits == 4 ? &dequantize_row<4, S> : &dequantize_row<8, S>)(p.w + j * rb, p.scales + j * G, p.biases + j * G,
                                                                    K, p.group_size, panel + r * K);
    }
  });
  return true;
}

template <class S>
bool qmv_avx2(const QmmProblem<S, float>& p) {
  if (!cpu::cpu_isa_allows(cpu::CpuIsa::Avx2) || !qmv_fits(p.transpose, p.bits, p.M)) return false;
  qmv_drive<S>(p, 16, RICCI_QMV_TILE_FOR(tile, S, p.bits, p.group_size));
  return true;
}

#else

template <class S>
bool qmv_avx2(const QmmProblem<S, float>&) {
  return false;
}
template <class S>
bool dequantize_rows_avx2(const QmmProblem<S, float>&, int64_t, int64_t, float*) {
  return false;
}

#endif

template bool qmv_avx2<float>(const QmmProblem<float, float>&);
template bool qmv_avx2<Half>(const QmmProblem<Half, float>&);
template bool qmv_avx2<BFloat16>(const QmmProblem<BFloat16, float>&);
template bool dequantize_rows_avx2<float>(const QmmProblem<float, float>&, int64_t, int64_t, float*);
template bool dequantize_rows_avx2<Half>(const QmmProblem<Half, float>&, int64_t, int64_t, float*);
template bool dequantize_rows_avx2<BFloat16>(const QmmProblem<BFloat16, float>&, int64_t, int64_t, float*);

}  // namespace ricci::quant
