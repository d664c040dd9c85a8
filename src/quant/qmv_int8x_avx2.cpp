// The decode kernel with int8 activations (ActivationPrecision::Int8; Note [Int8 activations] in
// int8_activations.h) for 4- and 8-bit weights on AVX2: codes times the rounded x as integer dot
// products, one float multiply-add per 32 codes and row.
//
// Per 32-byte chunk of a row of w:
//   - 4 bits (64 codes): the low nibbles are the chunk's even elements and the high nibbles its odd
//     ones, so x is stored per 64 elements as its 32 even q, then its 32 odd q; two ANDs and a
//     shift isolate the nibbles as bytes, vpmaddubsw multiplies them by x (code unsigned, q signed;
//     a pair's sum is at most 2 · 15 · 127, far from 16-bit saturation), the two halves are added
//     and vpmaddwd by ones sums pairs into 32-bit lanes: lane l holds elements 8l..8l+7, so lanes
//     0-3 are the chunk's first block of 32 and 4-7 its second. 7 integer µops per 64 codes.
//   - 8 bits (32 codes, one block): the codes widened to 16 bits and multiplied by q as 16-bit
//     values with vpmaddwd (vpmaddubsw would saturate: 2 · 255 · 127 > 2^15). 5 µops per 32 codes.
// The 32-bit sums become float32 once per chunk and are multiplied by the blocks' d, and each
// group's sum by its scale: x̂ · (s q) summed, plus the bias term b · Σ x̂ per group.
// On CPUs with AVX512-VNNI (and RICCI_CPU_ISA allowing AVX-512) the same tiles run with vpdpbusd
// for the dot products, still on 256-bit vectors: the same sums, bit for bit the same results
// (qmv_int8x_tile-inl.h).
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/cpu_isa.h"
#include "quant/int8_activations.h"
#include "quant/qmv_common.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "quant/qmv_avx2_lanes.h"
#define RICCI_QMV_INT8X 1
#else
#define RICCI_QMV_INT8X 0
#endif

namespace ricci::quant {

#if RICCI_QMV_INT8X
namespace {

using namespace avx2;

// One row of x as the tiles read it: q in the tile's order (int8 for 4 bits, int16 for 8 bits),
// d per block of 32 (zero past the row), and the group sums of x̂ for the bias term.
struct XRow {
  const void* q;
  const float* d;
  const float* dv;  // 4 bits: per chunk of 64, eight lanes [d of its first block x4 | second x4]
  const float* xs;
};

template <class S>
using Int8xTile = void (*)(const XRow& x, const uint8_t* const* w, const S* const* sc, const S* const* bi, int64_t G,
                           float* out);

// The tiles, once per instruction set (qmv_int8x_tile-inl.h).
namespace with_avx2 {
#define RICCI_INT8X_ATTR RICCI_AVX2
#define RICCI_INT8X_VNNI 0
#include "quant/qmv_int8x_tile-inl.h"
#undef RICCI_INT8X_ATTR
#undef RICCI_INT8X_VNNI
}  // namespace with_avx2
namespace with_vnni {
#define RICCI_INT8X_ATTR __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define RICCI_INT8X_VNNI 1
#include "quant/qmv_int8x_tile-inl.h"
#undef RICCI_INT8X_ATTR
#undef RICCI_INT8X_VNNI
}  // namespace with_vnni

// round_row_to_int8 (int8_activations.h) for K a multiple of 32, eight lanes at a time: the same
// IEEE division and round-to-nearest-even, so the same q and d, without a libm call per element.
RICCI_AVX2 bool round_row_avx2(const float* x, int64_t K, int8_t* q, float* d) {
  const __m256 sign = _mm256_set1_ps(-0.0f), inf = _mm256_set1_ps(INFINITY);
  for (int64_t b = 0; b * kInt8Block < K; ++b) {
    const float* xb = x + b * kInt8Block;
    __m256 v[4], amax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    for (int u = 0; u < 4; ++u) {
      v[u] = _mm256_loadu_ps(xb + 8 * u);
      const __m256 a = _mm256_andnot_ps(sign, v[u]);
      bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, inf, _CMP_NLT_UQ));  // inf or NaN
      amax = _mm256_max_ps(amax, a);
    }
    if (!_mm256_testz_ps(bad, bad)) return false;
    const float db = lane_max(amax) / 127.0f;
    d[b] = db;
    if (!(db > 0)) {
      std::fill(q + b * kInt8Block, q + (b + 1) * kInt8Block, int8_t{0});
      continue;
    }
    const __m256 dv = _mm256_set1_ps(db);
    __m256i i32[4];
    for (int u = 0; u < 4; ++u)
      i32[u] = _mm256_cvtps_epi32(
          _mm256_round_ps(_mm256_div_ps(v[u], dv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    // Pack to bytes (saturating: |q| <= 127 already); the packs work per 128-bit half, so the
    // permute puts the 32 values back in order.
    const __m256i w16 = _mm256_packs_epi32(i32[0], i32[1]), x16 = _mm256_packs_epi32(i32[2], i32[3]);
    const __m256i b8 =
        _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w16, x16), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * kInt8Block), b8);
  }
  return true;
}

// The rounded rows of x in the tiles' order; ok[i] false where row i holds inf or NaN.
struct PreparedX {
  std::vector<int8_t> q8;    // 4 bits: per 64 elements, the 32 even q, then the 32 odd ones;
                             // 8 bits with VNNI: memory order
  std::vector<int16_t> q16;  // 8 bits on AVX2: memory order
  std::vector<float> d, dv, xs;
  std::vector<char> ok;
  int64_t len, blocks, groups;  // per row: q elements, d entries, group sums

  PreparedX(const float* x, int64_t M, int64_t K, int bits, int64_t gs, bool vnni)
      : d(static_cast<size_t>(M * (qmv_xk_len(K) / kInt8Block)), 0.0f),
        dv(static_cast<size_t>(M * (qmv_xk_len(K) / 8)), 0.0f),
        xs(static_cast<size_t>(M * (K / gs))),
        ok(static_cast<size_t>(M)),
        len(qmv_xk_len(K)),
        blocks(qmv_xk_len(K) / kInt8Block),
        groups(K / gs) {
    if (bits == 4 || vnni) q8.assign(static_cast<size_t>(M * len), 0);
    else q16.assign(static_cast<size_t>(M * len), 0);
    std::vector<int8_t> q(static_cast<size_t>(K));
    for (int64_t i = 0; i < M; ++i) {
      float* di = d.data() + i * blocks;
      ok[static_cast<size_t>(i)] = round_row_avx2(x + i * K, K, q.data(), di);
      if (!ok[static_cast<size_t>(i)]) continue;
      if (bits == 4) {
        int8_t* dst = q8.data() + i * len;
        for (int64_t k = 0; k < K; ++k) dst[k / 64 * 64 + (k % 2) * 32 + (k % 64) / 2] = q[static_cast<size_t>(k)];
        float* dvi = dv.data() + i * (len / 8);
        for (int64_t b = 0; b < blocks; ++b) std::fill(dvi + 4 * b, dvi + 4 * b + 4, di[b]);
      } else if (vnni) {
        std::copy(q.begin(), q.end(), q8.begin() + i * len);
      } else {
        std::copy(q.begin(), q.end(), q16.begin() + i * len);
      }
      group_sums_of_xhat(q.data(), di, K, gs, xs.data() + i * groups);
    }
  }
  XRow row(int64_t i) const {
    const void* qi = q8.empty() ? static_cast<const void*>(q16.data() + i * len) : q8.data() + i * len;
    return XRow{qi, d.data() + i * blocks, dv.data() + i * (len / 8), xs.data() + i * groups};
  }
};

template <class S>
void run(const QmmProblem<S, float>& p) {
  const int64_t M = p.M, N = p.N, K = p.K, G = K / p.group_size;
  const bool vnni = int8_dot_vnni_usable();
  const PreparedX px(p.x, M, K, p.bits, p.group_size, vnni);
  const int gs = p.group_size;
  const Int8xTile<S> tile_fn = vnni ? (p.bits == 4 ? with_vnni::tile_for<4, S>(gs) : with_vnni::tile_for<8, S>(gs))
                                    : (p.bits == 4 ? with_avx2::tile_for<4, S>(gs) : with_avx2::tile_for<8, S>(gs));
  for_each_qmv_tile(p, [&](int64_t j0, int64_t n, const uint8_t* const* w, const S* const* sc, const S* const* bi) {
    float out[kQmvRows];
    for (int64_t i = 0; i < M; ++i) {
      float* y = p.y + i * N + j0;
      if (!px.ok[static_cast<size_t>(i)]) {
        std::fill(y, y + n, std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      tile_fn(px.row(i), w, sc, bi, G, out);
      std::copy(out, out + n, y);
    }
  });
}

}  // namespace

bool round_rows_to_int8_avx2(const float* x, int64_t M, int64_t K, float* xhat) {
  if (!cpu::cpu_isa_allows(cpu::CpuIsa::Avx2) || K % kInt8Block != 0) return false;
  round_rows_to_int8<float>(x, M, K, xhat, &round_row_avx2);
  return true;
}

bool round_row_to_int8_avx2(const float* x, int64_t K, int8_t* q, float* d) { return round_row_avx2(x, K, q, d); }

bool int8_dot_vnni_usable() {
  static const bool has = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
  return has && cpu::cpu_isa_allows(cpu::CpuIsa::Avx512);
}

template <class S>
bool qmv_int8x_avx2(const QmmProblem<S, float>& p) {
  if (!cpu::cpu_isa_allows(cpu::CpuIsa::Avx2) || !qmv_fits(p.transpose, p.bits, p.M)) return false;
  run<S>(p);
  return true;
}

#else

template <class S>
bool qmv_int8x_avx2(const QmmProblem<S, float>&) {
  return false;
}
bool round_rows_to_int8_avx2(const float*, int64_t, int64_t, float*) { return false; }
bool round_row_to_int8_avx2(const float* x, int64_t K, int8_t* q, float* d) { return round_row_to_int8(x, K, q, d); }
bool int8_dot_vnni_usable() { return false; }

#endif

template bool qmv_int8x_avx2<float>(const QmmProblem<float, float>&);
template bool qmv_int8x_avx2<Half>(const QmmProblem<Half, float>&);
template bool qmv_int8x_avx2<BFloat16>(const QmmProblem<BFloat16, float>&);

}  // namespace ricci::quant
