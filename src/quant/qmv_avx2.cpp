// The decode kernel for 4- and 8-bit weights on AVX2 + FMA (Note [Quantized matrix-vector
// products] in qmv_common.h): 32 bytes of codes per step, each code isolated in place (Note
// [Codes read in place] below). Also the AVX2 dequantization of prefill panels.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "backend/cpu/cpu_isa.h"
#include "quant/qmv_common.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#include "quant/qmv_avx2_lanes.h"
#define RICCI_QMV_AVX2 1
#else
#define RICCI_QMV_AVX2 0
#endif

namespace ricci::quant {

#if RICCI_QMV_AVX2
namespace {

using namespace avx2;

RICCI_AVX2 inline __m256i widen8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// Note [Codes read in place]
// A chunk is 32 bytes of a row of w: eight 32-bit lanes, lane l holding elements 8l..8l+7 (4 bits;
// nibble k = element 8l + k) or 4l..4l+3 (8 bits; byte k). One AND with the mask of its bits
// isolates code k in place, with no widening and no shuffles: the codes in bits [0, 16) directly,
// those in bits [16, 32) after one shift of the lane (4 bits: lane >> 16, then the same four
// masks; 8 bits: byte 3 = lane >> 24). Such a lane holds B = q · 2^(bits·k') (k' the code's place
// after the shift) and becomes float32 one of two ways:
//   - Subnormal: the lane's 32 bits read as a float32 as they are. For B < 2^24 (exponent field 0
//     or 1) that float is exactly B · 2^-149, so no instruction converts anything; x is stored
//     times 2^(149 - bits·k') · c.
//   - Convert (cvtdq2ps): exactly B; x is stored times 2^-(bits·k') · c.
// c is a power of two per row of x: 2^-(e+23) (subnormal) or 2^-e (convert) for max finite |x| in
// [2^e, 2^(e+1)), so the stored x stays finite and normal; the driver multiplies the sums by 1/c.
// Either way x' · q' = c · x · q exactly, so the sums are those of Σ x q in the same order (an
// element of x below 2^-100 of its row's largest may lose bits, far below the float32 rounding of
// the sum). Per 64 4-bit codes and row of w the loop runs 8 FMAs (x a memory operand), 8 ANDs and
// 1 shift (subnormal form), where the widening kernel before it ran 4 widens, 4 ANDs, 4 shifts, 8
// conversions and 8 FMAs; on Zen 3 it is now bound by the two vector loads per cycle (8 of x, 1 of
// codes, 1 scale per 64 codes and row) about as much as by its µops. Zen 3's FMA takes subnormal
// inputs at full speed (measured; with vmulps starting each sum instead, up to 1.8x slower), and
// other cores may take microcode assists on subnormal inputs (Intel's FP assists), so only FMAs
// ever see these values, the subnormal form runs on AMD family 19h and later only (measured on
// Zen 3; Convert elsewhere, one cvtdq2ps more per 8 codes), and the tile clears MXCSR.DAZ
// (denormals-are-zero would read every code as 0) while it runs.
template <int BITS>
struct ChunkMasks {
  __m256i m[4];
  RICCI_AVX2 ChunkMasks() {
    for (int k = 0; k < 4; ++k) m[k] = _mm256_set1_epi32(BITS == 4 ? 0xF << (4 * k) : (k < 3 ? 0xFF << (8 * k) : 0));
  }
};

template <bool SUB>
RICCI_AVX2 inline __m256 as_float(__m256i v) {
  if constexpr (SUB)
    return _mm256_castsi256_ps(v);
  else
    return _mm256_cvtepi32_ps(v);
}

template <bool SUB>
RICCI_AVX2 inline void fma2(const float* x, __m256i qa, __m256i qb, __m256& pa, __m256& pb) {
  // GCC folds this load into both FMAs: two loads, but fewer µops than a load to a register (and
  // measured faster on Zen 3, where the loop is bound by µops and loads about equally).
  const __m256 xv = _mm256_loadu_ps(x);
  pa = _mm256_fmadd_ps(xv, as_float<SUB>(qa), pa);
  pb = _mm256_fmadd_ps(xv, as_float<SUB>(qb), pb);
}

// Rows a and b: (a0, a1) and (b0, b1) += one chunk of codes times x (kernel order: 64 or 32 floats).
template <int BITS, bool SUB>
RICCI_AVX2 inline void chunk2(const float* x, __m256i va, __m256i vb, const ChunkMasks<BITS>& cm, __m256& a0,
                              __m256& a1, __m256& b0, __m256& b1) {
  fma2<SUB>(x, _mm256_and_si256(va, cm.m[0]), _mm256_and_si256(vb, cm.m[0]), a0, b0);
  fma2<SUB>(x + 8, _mm256_and_si256(va, cm.m[1]), _mm256_and_si256(vb, cm.m[1]), a1, b1);
  fma2<SUB>(x + 16, _mm256_and_si256(va, cm.m[2]), _mm256_and_si256(vb, cm.m[2]), a0, b0);
  if constexpr (BITS == 4) {
    fma2<SUB>(x + 24, _mm256_and_si256(va, cm.m[3]), _mm256_and_si256(vb, cm.m[3]), a1, b1);
    const __m256i ha = _mm256_srli_epi32(va, 16), hb = _mm256_srli_epi32(vb, 16);
    fma2<SUB>(x + 32, _mm256_and_si256(ha, cm.m[0]), _mm256_and_si256(hb, cm.m[0]), a0, b0);
    fma2<SUB>(x + 40, _mm256_and_si256(ha, cm.m[1]), _mm256_and_si256(hb, cm.m[1]), a1, b1);
    fma2<SUB>(x + 48, _mm256_and_si256(ha, cm.m[2]), _mm256_and_si256(hb, cm.m[2]), a0, b0);
    fma2<SUB>(x + 56, _mm256_and_si256(ha, cm.m[3]), _mm256_and_si256(hb, cm.m[3]), a1, b1);
  } else {
    fma2<SUB>(x + 24, _mm256_srli_epi32(va, 24), _mm256_srli_epi32(vb, 24), a1, b1);
  }
}

// MXCSR.DAZ off while a subnormal tile runs (Note [Codes read in place]).
class DazOff {
 public:
  RICCI_AVX2 inline DazOff() : saved_(_mm_getcsr()) {
    if (saved_ & kDaz) _mm_setcsr(saved_ & ~kDaz);
  }
  RICCI_AVX2 inline ~DazOff() {
    if (saved_ & kDaz) _mm_setcsr(saved_);
  }
  DazOff(const DazOff&) = delete;
  DazOff& operator=(const DazOff&) = delete;

 private:
  static constexpr unsigned kDaz = 0x40;
  unsigned saved_;
};

// The kQmvRows rows two at a time (two accumulators each: four chains of FMAs), all groups of a pair
// in turn. A pair streams two rows, so each load also prefetches the same place two rows on (the
// next pair), one line per 64 bytes: more misses in flight than the pair's own two streams. The
// bias term Σ_g b_g xs_g runs alongside, eight groups per FMA, so the biases stream with the codes.
template <int BITS, int GS, class S, bool SUB>
RICCI_AVX2 void tile(const float* xk, const float* xs, const uint8_t* const* w, const S* const* sc, const S* const* bi,
                     int64_t G, float* out, float* bias_out) {
  [[maybe_unused]] std::optional<DazOff> daz;
  if constexpr (SUB) daz.emplace();
  constexpr int kCodes = 256 / BITS;  // per 32-byte chunk
  const ChunkMasks<BITS> cm;
  const int64_t ahead = 2 * G * GS * BITS / 8;  // two rows
  const int64_t G8 = G / 8 * 8;
  for (int r = 0; r < kQmvRows; r += 2) {
    const uint8_t* wa = w[r];
    const uint8_t* wb = w[r + 1];
    const S* sa = sc[r];
    const S* sb = sc[r + 1];
    const S* ba = bi[r];
    const S* bb = bi[r + 1];
    auto load = [ahead](const uint8_t* p, int64_t c) RICCI_AVX2 {
      if (c % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(p + ahead + 32 * c), _MM_HINT_T0);
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * c));
    };
    __m256 ta = _mm256_setzero_ps(), tb = _mm256_setzero_ps();
    BiasPair<S> bias(ba, bb, xs);
    if constexpr (GS >= kCodes) {
      constexpr int kChunks = GS / kCodes;  // per group
      for (int64_t g = 0; g < G; ++g) {
        if (g % 8 == 0 && g < G8) bias.add8(g);
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
#pragma GCC unroll 4
        for (int c = 0; c < kChunks; ++c) {
          const int64_t ci = g * kChunks + c;
          chunk2<BITS, SUB>(xk + ci * kCodes, load(wa, ci), load(wb, ci), cm, a0, a1, b0, b1);
        }
        ta = _mm256_fmadd_ps(bcast(sa + g), _mm256_add_ps(a0, a1), ta);
        tb = _mm256_fmadd_ps(bcast(sb + g), _mm256_add_ps(b0, b1), tb);
      }
    } else {
      // 4 bits in groups of 32: lanes 0-3 of chunk c are group 2c, lanes 4-7 group 2c + 1. An odd
      // last group is half a chunk: 16 bytes loaded, the upper lanes zero (and x zero there).
      static_assert(BITS == 4 && GS == 32);
      for (int64_t c = 0; 2 * c < G; ++c) {
        if (c % 4 == 0 && 2 * c < G8) bias.add8(2 * c);
        __m256i va, vb;
        __m256 s_a, s_b;
        if (2 * c + 1 < G) {
          va = load(wa, c);
          vb = load(wb, c);
          s_a = bcast_pair(sa + 2 * c);
          s_b = bcast_pair(sb + 2 * c);
        } else {
          va = _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wa + 32 * c)));
          vb = _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + 32 * c)));
          s_a = bcast(sa + 2 * c);
          s_b = bcast(sb + 2 * c);
        }
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
        chunk2<BITS, SUB>(xk + c * kCodes, va, vb, cm, a0, a1, b0, b1);
        ta = _mm256_fmadd_ps(s_a, _mm256_add_ps(a0, a1), ta);
        tb = _mm256_fmadd_ps(s_b, _mm256_add_ps(b0, b1), tb);
      }
    }
    out[r] = lane_sum(ta);
    out[r + 1] = lane_sum(tb);
    bias.finish(G8, G, bias_out[r], bias_out[r + 1]);
  }
}

// One row of x in the tiles' order (Note [Codes read in place]): per chunk of 64 (4 bits) or 32
// (8 bits) elements, position 8k + l holds element 8l + k (4 bits) or 4l + k (8 bits) times
// 2^(base - bits·k') · c; returns 1/c. (Convert scales too, c = 2^-e: x times 2^-16 alone would
// lose the bits of x below 2^-110.)
template <bool SUB>
double prepare_x(const float* x, int64_t K, int bits, float* d) {
  float mx = 0;
  for (int64_t k = 0; k < K; ++k)
    if (std::isfinite(x[k])) mx = std::max(mx, std::fabs(x[k]));
  const int cexp = mx > 0 ? -std::ilogb(mx) - (SUB ? 23 : 0) : 0;  // in [-150, 149]
  const int base = SUB ? 149 : 0, codes = 256 / bits, per_lane = 32 / bits;
  double f[8];  // in double: the power of two alone may pass float's range (x times it does not)
  for (int k = 0; k < per_lane; ++k)
    f[k] = std::ldexp(1.0, base - bits * (bits == 4 ? (k & 3) : (k < 3 ? k : 0)) + cexp);
  for (int64_t s = 0; s < qmv_xk_len(K); s += codes)
    for (int k = 0; k < per_lane; ++k)
      for (int l = 0; l < 8; ++l) {
        const int64_t e = s + per_lane * l + k;
        d[s + 8 * k + l] = e < K ? static_cast<float>(x[e] * f[k]) : 0.0f;
      }
  return std::ldexp(1.0, -cexp);
}

// The subnormal form where it is fast (Note [Codes read in place]): AMD family 19h (Zen 3) and
// later; RICCI_QMV_CODES=convert or =subnormal overrides (read once).
bool codes_as_subnormals() {
  static const bool sub = [] {
    if (const char* v = std::getenv("RICCI_QMV_CODES")) {
      if (std::strcmp(v, "convert") == 0) return false;
      if (std::strcmp(v, "subnormal") == 0) return true;
    }
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
    const bool amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;  // "AuthenticAMD"
    if (!amd || !__get_cpuid(1, &a, &b, &c, &d)) return false;
    const unsigned base_family = (a >> 8) & 0xF;
    return base_family + (base_family == 0xF ? (a >> 20) & 0xFF : 0) >= 0x19;
  }();
  return sub;
}

template <int BITS, class S, bool SUB>
QmvTile<S> tile_for(int gs) {
  return gs == 32 ? &tile<BITS, 32, S, SUB> : gs == 64 ? &tile<BITS, 64, S, SUB> : &tile<BITS, 128, S, SUB>;
}

template <class S, bool SUB>
void qmv_run(const QmmProblem<S, float>& p) {
  qmv_drive<S>(p, &prepare_x<SUB>, p.bits == 4 ? tile_for<4, S, SUB>(p.group_size) : tile_for<8, S, SUB>(p.group_size));
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
  if (codes_as_subnormals())
    qmv_run<S, true>(p);
  else
    qmv_run<S, false>(p);
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
