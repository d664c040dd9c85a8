// Prefill with int8 activations (Note [Int8 activations], int8_activations.h): the product
// x̂ @ dequantize(w)ᵀ as an int8 × uint8 GEMM, for 4- and 8-bit transposed weights with
// AVX512-VNNI and for 4-bit ones with AVX2.
//
// Note [Int8 GEMM]
// ~~~~~~~~~~~~~~~~
// With x̂ = d q (d per block of 32 elements of a row of x) and w = s c + b (scale and bias per
// group of a row of w, c the unsigned code), each output is
//   y[i, j] = Σ_groups ( s[j, g] Σ_{blocks of g} d[i, blk] (q[i, blk] · c[j, blk])  +  b[j, g] X[i, g] )
// where q · c is an exact integer dot product over 32 elements and X[i, g] = Σ_{k in g} x̂[i, k].
// vpdpbusd multiplies 64 unsigned bytes by 64 signed bytes and adds each four adjacent products
// into a 32-bit lane: one instruction does 64 of the multiply-adds a float32 GEMM does 16 of.
//
// Layout: a tile of 32 columns of w (rows j0..j0+31 of the transposed weight) is repacked once, as
// bytes, in k-quads: for each k = 4t, 128 bytes holding column c's codes k..k+3 at 4c. One 64-byte
// load then gives 16 columns × 4 codes, and each row of x contributes one broadcast 32-bit word
// (its q at k..k+3). A micro-tile of 4 rows × 32 columns keeps 8 integer sums, 8 per-group float
// sums and 8 outputs in registers; per block of 32 it issues 64 vpdpbusd and 16 conversions and
// multiply-adds (d), per group 16 multiply-adds (s and the bias term). The tile (32 K bytes) stays
// in L2 while every row of x passes over it; tiles are split over the thread pool, and each output
// is summed by one thread in a fixed order, so results do not depend on the thread count.
// Without VNNI, 4-bit codes run the same tiles with AVX2's vpmaddubsw (micro_tile_avx2 below).
//
// The integer sums are exact (at most 32 · 255 · 127 per block), so the result differs from the
// float path's x̂ @ dequantize(w) only by float32 rounding, in another order
// (tests/test_quantize_int8x.cpp holds both to the same reference).
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/cpu_isa.h"
#include "quant/int8_activations.h"
#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/parallel.h"

#if defined(__x86_64__)
// GCC 12's avx512fintrin.h spells _mm512_setzero_* as an uninitialised self-assignment, which
// trips -Wmaybe-uninitialized inside the header (reduce_sum_f32.cpp does the same).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "quant/qmv_avx2_lanes.h"  // RICCI_AVX2
#define RICCI_INT8_GEMM 1
#define RICCI_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#else
#define RICCI_INT8_GEMM 0
#endif

namespace ricci::quant {

#if RICCI_INT8_GEMM
namespace {

constexpr int64_t kTileCols = 32;  // columns of w per packed tile: two vectors of 16 lanes
constexpr int kTileRows = 4;       // rows of x per micro-tile (VNNI; AVX2: 2)

// x rounded to int8, row by row (the AVX2 rounding, the same q and d as every other path), with
// each group's Σ x̂ for the bias term; ok[i] false where row i holds inf or NaN.
struct RoundedX {
  std::vector<int8_t> q;  // M x K
  std::vector<float> d;   // M x K/32
  std::vector<float> xs;  // M x G
  std::vector<char> ok;

  RoundedX(const float* x, int64_t M, int64_t K, int64_t gs)
      : q(static_cast<size_t>(M * K)), d(static_cast<size_t>(M * (K / kInt8Block))),
        xs(static_cast<size_t>(M * (K / gs))), ok(static_cast<size_t>(M)) {
    const int64_t nb = K / kInt8Block, G = K / gs;
    parallel_for(0, M, std::max<int64_t>(1, kGrainSize / K), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int8_t* qi = q.data() + i * K;
        float* di = d.data() + i * nb;
        const bool fine = round_row_to_int8_avx2(x + i * K, K, qi, di);
        ok[static_cast<size_t>(i)] = fine;
        if (!fine) {  // meaningless: zeros, and the row's outputs become NaN
          std::fill(qi, qi + K, int8_t{0});
          std::fill(di, di + nb, 0.0f);
        }
        group_sums_of_xhat(qi, di, K, gs, xs.data() + i * G);
      }
    });
  }
};

// Columns [j0, j0 + n) of w as k-quads (Note [Int8 GEMM]); columns past n are zeros.
void pack_codes(const uint8_t* w, int bits, int64_t K, int64_t j0, int64_t n, uint8_t* tile) {
  const int64_t rb = row_bytes(K, bits), quads = K / 4;
  for (int64_t c = 0; c < kTileCols; ++c) {
    uint8_t* dst = tile + 4 * c;
    if (c >= n) {
      for (int64_t t = 0; t < quads; ++t) std::memset(dst + t * 4 * kTileCols, 0, 4);
      continue;
    }
    const uint8_t* row = w + (j0 + c) * rb;
    if (bits == 8) {
      for (int64_t t = 0; t < quads; ++t) std::memcpy(dst + t * 4 * kTileCols, row + 4 * t, 4);
    } else {  // two bytes hold four codes, low nibble first: spread each nibble into a byte
      for (int64_t t = 0; t < quads; ++t) {
        uint16_t two;
        std::memcpy(&two, row + 2 * t, 2);
        const uint32_t v = two;  // (pdep would do it in one instruction, but is microcoded on Zen 1/2)
        const uint32_t four = (v & 0xFu) | ((v & 0xF0u) << 4) | ((v & 0xF00u) << 8) | ((v & 0xF000u) << 12);
        std::memcpy(dst + t * 4 * kTileCols, &four, 4);
      }
    }
  }
}

// Rows [0, MR) of x (q at stride K, d at stride nb, xs at stride G) times one packed tile:
// y (MR rows of 32, stride 32).
template <int MR>
RICCI_VNNI void micro_tile(const int8_t* q, const float* d, const float* xs, int64_t K, int64_t G, int64_t bpg,
                           const uint8_t* tile, const float* s, const float* b, float* y) {
  const int64_t nb = K / kInt8Block;
  __m512 acc[MR][2];
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    __m512 grp[MR][2];
    for (int r = 0; r < MR; ++r) grp[r][0] = grp[r][1] = _mm512_setzero_ps();
    for (int64_t blk = g * bpg; blk < (g + 1) * bpg; ++blk) {
      __m512i dot[MR][2];
      for (int r = 0; r < MR; ++r) dot[r][0] = dot[r][1] = _mm512_setzero_si512();
      const uint8_t* tp = tile + blk * (kInt8Block / 4) * 4 * kTileCols;
      const int8_t* qb = q + blk * kInt8Block;
      for (int t = 0; t < kInt8Block / 4; ++t) {
        const __m512i w0 = _mm512_loadu_si512(tp + t * 4 * kTileCols);
        const __m512i w1 = _mm512_loadu_si512(tp + t * 4 * kTileCols + 64);
        for (int r = 0; r < MR; ++r) {
          int32_t word;
          std::memcpy(&word, qb + r * K + 4 * t, 4);
          const __m512i xq = _mm512_set1_epi32(word);
          dot[r][0] = _mm512_dpbusd_epi32(dot[r][0], w0, xq);
          dot[r][1] = _mm512_dpbusd_epi32(dot[r][1], w1, xq);
        }
      }
      for (int r = 0; r < MR; ++r) {
        const __m512 dr = _mm512_set1_ps(d[r * nb + blk]);
        grp[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][0]), dr, grp[r][0]);
        grp[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][1]), dr, grp[r][1]);
      }
    }
    const __m512 s0 = _mm512_loadu_ps(s + g * kTileCols), s1 = _mm512_loadu_ps(s + g * kTileCols + 16);
    const __m512 b0 = _mm512_loadu_ps(b + g * kTileCols), b1 = _mm512_loadu_ps(b + g * kTileCols + 16);
    for (int r = 0; r < MR; ++r) {
      const __m512 xr = _mm512_set1_ps(xs[r * G + g]);
      acc[r][0] = _mm512_fmadd_ps(b0, xr, _mm512_fmadd_ps(grp[r][0], s0, acc[r][0]));
      acc[r][1] = _mm512_fmadd_ps(b1, xr, _mm512_fmadd_ps(grp[r][1], s1, acc[r][1]));
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_storeu_ps(y + r * kTileCols, acc[r][0]);
    _mm512_storeu_ps(y + r * kTileCols + 16, acc[r][1]);
  }
}

using MicroTile = void (*)(const int8_t*, const float*, const float*, int64_t, int64_t, int64_t, const uint8_t*,
                           const float*, const float*, float*);
constexpr MicroTile kMicroTiles[kTileRows + 1] = {nullptr, &micro_tile<1>, &micro_tile<2>, &micro_tile<3>,
                                                  &micro_tile<4>};

// The same product with AVX2, for 4-bit codes: vpmaddubsw multiplies 32 codes by 32 bytes of q
// and adds adjacent pairs into 16-bit lanes (at most 2 · 15 · 127 = 3810 each), so a block's 8
// quads add up in 16 bits without saturating (8 · 3810 < 2^15); vpmaddwd by ones then gives the
// 32-bit sums of four that vpdpbusd gives. 8-bit codes would saturate vpmaddubsw and take the
// float path. 2 rows × 32 columns: 8 accumulators, the per-group sums and outputs in L1.
template <int MR>
RICCI_AVX2 void micro_tile_avx2(const int8_t* q, const float* d, const float* xs, int64_t K, int64_t G,
                                int64_t bpg, const uint8_t* tile, const float* s, const float* b, float* y) {
  const int64_t nb = K / kInt8Block;
  const __m256i ones = _mm256_set1_epi16(1);
  alignas(32) float grp[MR * kTileCols];
  std::fill(y, y + MR * kTileCols, 0.0f);
  for (int64_t g = 0; g < G; ++g) {
    std::fill(grp, grp + MR * kTileCols, 0.0f);
    for (int64_t blk = g * bpg; blk < (g + 1) * bpg; ++blk) {
      __m256i dot[MR][4];
      for (int r = 0; r < MR; ++r)
        for (int c = 0; c < 4; ++c) dot[r][c] = _mm256_setzero_si256();
      const uint8_t* tp = tile + blk * (kInt8Block / 4) * 4 * kTileCols;
      const int8_t* qb = q + blk * kInt8Block;
      // Unrolled fully, GCC computes all 64 products first and spills them: two quads at a time.
#pragma GCC unroll 2
      for (int t = 0; t < kInt8Block / 4; ++t) {
        __m256i w[4];
        for (int c = 0; c < 4; ++c) w[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tp + t * 4 * kTileCols + 32 * c));
        for (int r = 0; r < MR; ++r) {
          int32_t word;
          std::memcpy(&word, qb + r * K + 4 * t, 4);
          const __m256i xq = _mm256_set1_epi32(word);
          for (int c = 0; c < 4; ++c) dot[r][c] = _mm256_add_epi16(dot[r][c], _mm256_maddubs_epi16(w[c], xq));
        }
      }
      for (int r = 0; r < MR; ++r) {
        const __m256 dr = _mm256_set1_ps(d[r * nb + blk]);
        for (int c = 0; c < 4; ++c) {
          float* gp = grp + r * kTileCols + 8 * c;
          const __m256 sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(dot[r][c], ones));
          _mm256_store_ps(gp, _mm256_fmadd_ps(sum, dr, _mm256_load_ps(gp)));
        }
      }
    }
    for (int r = 0; r < MR; ++r) {
      const __m256 xr = _mm256_set1_ps(xs[r * G + g]);
      for (int c = 0; c < 4; ++c) {
        float* yp = y + r * kTileCols + 8 * c;
        const __m256 sc = _mm256_loadu_ps(s + g * kTileCols + 8 * c), bc = _mm256_loadu_ps(b + g * kTileCols + 8 * c);
        const __m256 grp_rc = _mm256_load_ps(grp + r * kTileCols + 8 * c);
        _mm256_storeu_ps(yp, _mm256_fmadd_ps(bc, xr, _mm256_fmadd_ps(grp_rc, sc, _mm256_loadu_ps(yp))));
      }
    }
  }
}

constexpr int kTileRowsAvx2 = 2;
constexpr MicroTile kMicroTilesAvx2[kTileRowsAvx2 + 1] = {nullptr, &micro_tile_avx2<1>, &micro_tile_avx2<2>};

template <class S>
void run(const QmmProblem<S, float>& p, const MicroTile* micro_tiles, int tile_rows) {
  const int64_t M = p.M, N = p.N, K = p.K, gs = p.group_size, G = K / gs, nb = K / kInt8Block, bpg = gs / kInt8Block;
  const RoundedX x(p.x, M, K, gs);
  const int64_t tiles = (N + kTileCols - 1) / kTileCols;
  parallel_for(0, tiles, 1, [&](int64_t t0, int64_t t1) {
    std::vector<uint8_t> codes(static_cast<size_t>(K * kTileCols));
    std::vector<float> sc(static_cast<size_t>(G * kTileCols)), bi(static_cast<size_t>(G * kTileCols));
    float out[kTileRows * kTileCols];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j0 = t * kTileCols, n = std::min(kTileCols, N - j0);
      pack_codes(p.w, p.bits, K, j0, n, codes.data());
      for (int64_t g = 0; g < G; ++g)
        for (int64_t c = 0; c < kTileCols; ++c) {
          const bool in = c < n;
          sc[static_cast<size_t>(g * kTileCols + c)] = in ? to_compute(p.scales[(j0 + c) * G + g]) : 0.0f;
          bi[static_cast<size_t>(g * kTileCols + c)] = in ? to_compute(p.biases[(j0 + c) * G + g]) : 0.0f;
        }
      for (int64_t i0 = 0; i0 < M; i0 += tile_rows) {
        const int mr = static_cast<int>(std::min<int64_t>(tile_rows, M - i0));
        micro_tiles[mr](x.q.data() + i0 * K, x.d.data() + i0 * nb, x.xs.data() + i0 * G, K, G, bpg, codes.data(),
                        sc.data(), bi.data(), out);
        for (int r = 0; r < mr; ++r) {
          float* y = p.y + (i0 + r) * N + j0;
          if (x.ok[static_cast<size_t>(i0 + r)]) std::copy(out + r * kTileCols, out + r * kTileCols + n, y);
          else std::fill(y, y + n, std::numeric_limits<float>::quiet_NaN());
        }
      }
    }
  });
}

}  // namespace

template <class S>
bool qmm_int8x_gemm(const QmmProblem<S, float>& p) {
  if (!p.transpose || (p.bits != 4 && p.bits != 8) || p.K % kInt8Block != 0) return false;
  if (int8_dot_vnni_usable()) {
    run<S>(p, kMicroTiles, kTileRows);
    return true;
  }
  if (p.bits == 4 && cpu::cpu_isa_allows(cpu::CpuIsa::Avx2)) {
    run<S>(p, kMicroTilesAvx2, kTileRowsAvx2);
    return true;
  }
  return false;
}

#else

template <class S>
bool qmm_int8x_gemm(const QmmProblem<S, float>&) {
  return false;
}

#endif

template bool qmm_int8x_gemm<float>(const QmmProblem<float, float>&);
template bool qmm_int8x_gemm<Half>(const QmmProblem<Half, float>&);
template bool qmm_int8x_gemm<BFloat16>(const QmmProblem<BFloat16, float>&);

}  // namespace ricci::quant
