#pragma once
// The driver shared by the few-row (decode) kernels qmv_avx2.cpp and qmv_avx512.cpp.
//
// Note [Quantized matrix-vector products]
// Decoding multiplies one row of x (up to kDecodeRows) by the whole quantized matrix: memory-
// bound, so the packed codes must be streamed once, at memory speed, on every thread. Per group
// of a row of w the kernel needs Σ x_k (s q_k + b) = s Σ x_k q_k + b Σ x_k: the codes become
// float32 lanes in registers and are multiplied into vector accumulators (Σ x q), scaled once per
// group, and the bias term uses the group sums of x, computed once per call. So there is one
// multiply-add per code and nothing is dequantized to memory. A core then runs out of µops
// before memory runs out of bytes unless each code costs very few of them (bench/README.md,
// "Quantized weights"). (Tried and not taken: x rounded to 16-bit fixed point per group and
// multiplied with vpmaddwd, 16 codes per instruction — about 20 % faster with the codes in L2 on
// Zen 3, but 1.7e-4 relative error against MLX's float32 numbers, where this kernel agrees to
// float32 rounding.)
//
// How the codes become float32 lanes is the ISA file's: the AVX-512 tiles widen bytes to 32-bit
// lanes (4 bits: the low nibbles of a widened vector are the even elements of a step, the high
// nibbles the odd ones, and x is stored in that "kernel order", 8-bit codes in memory order); the
// AVX2 tiles isolate each code in place in a 32-bit lane with one AND and never widen (Note [Codes
// read in place] in qmv_avx2.cpp). Either way x is rearranged (and scaled by powers of two) once
// per call by the tile's QmvPrepareX, so the loop has no shuffles, and the tile's sums are
// multiplied back by the factor it returns.
//
// Work: tiles of kQmvRows (8) rows of w against each row of x in turn; the tiles are split over
// the thread pool in contiguous runs, so each thread streams one region of w. The AVX-512 tile
// runs the 8 rows at once (8 streams, one accumulator each); the AVX2 tile runs them as 4 pairs
// (2 streams and a software prefetch of the next pair: on Zen 3, 2 streams already read at
// memory speed, and 2 rows keep the masks, x and accumulators in the 16 registers).
// Each output is summed by one thread in a fixed order: the result does not depend on the thread
// count. (Tried and not taken, 2026-12-07, A/B in the library with its page-aligned weights: four
// rows per pass sharing each load of x, and each thread's rows taken as 8 long streams of
// consecutive rows with a tile one row of each, so the hardware prefetchers see 8 sequential
// streams instead of 2 KiB rows. Equal in L1 (6.8 cycles per 64 codes and row against 6.7) but
// 10-15 % slower with the matrix in L3, and no faster from memory (int8 cold 10 % slower): the
// streams' rows sit at multiples of 4 KiB, so the rows of a pass, their prefetched next rows and x
// compete for the same L1 sets. x on a 64-byte boundary: no difference measured in the library.
// bench/README.md, "Quantized weights".)
#include <algorithm>
#include <vector>

#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/parallel.h"

namespace ricci::quant {

inline constexpr int kQmvRows = 8;

// A tile: rows w[0, kQmvRows) of w against one row of x. out[r] = Σ_g s_g Σ_k x_k q_k (times
// the factor the driver multiplies by, QmvPrepareX), from xk (the row of x in the kernel's order)
// and codes of K = G * group_size elements; bias_out[r] = Σ_g b_g xs_g, xs the group sums of x.
template <class S>
using QmvTile = void (*)(const float* xk, const float* xs, const uint8_t* const* w, const S* const* sc,
                         const S* const* bi, int64_t G, float* out, float* bias_out);

// Σ_g b_g xs_g over one row's G biases: four partial sums, so the loop vectorises.
template <class S>
float bias_dot(const S* b, const float* xs, int64_t G) {
  float s[4] = {0, 0, 0, 0};
  int64_t g = 0;
  for (; g + 4 <= G; g += 4)
    for (int u = 0; u < 4; ++u) s[u] += to_compute(b[g + u]) * xs[g + u];
  for (; g < G; ++g) s[0] += to_compute(b[g]) * xs[g];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// x for a tile: writes the kernel's copy of one row of x (K elements; `xk_len` floats, the
// tail zero) and returns the factor the tile's sums are multiplied by afterwards (a power of two).
using QmvPrepareX = double (*)(const float* x, int64_t K, int bits, float* xk);
inline int64_t qmv_xk_len(int64_t K) { return (K + 63) / 64 * 64; }

// Kernel order for 4 bits (within each step of `step` elements the even elements, then the odd
// ones), memory order for 8 bits: the AVX-512 tiles' x.
template <int step>
double qmv_kernel_order(const float* x, int64_t K, int bits, float* d) {
  std::fill(d, d + qmv_xk_len(K), 0.0f);
  if (bits == 4) {
    constexpr int h = step / 2;
    for (int64_t s = 0; s < K; s += step)
      for (int e = 0; e < h; ++e) {
        d[s + e] = x[s + 2 * e];
        d[s + h + e] = x[s + 2 * e + 1];
      }
  } else {
    std::copy(x, x + K, d);
  }
  return 1.0;
}

// The rows of w in tiles of kQmvRows, split over the thread pool in contiguous runs (each thread
// streams one region of w): body(j0, n, w, sc, bi) per tile, rows j0 .. j0 + n - 1 (a tile past
// row N repeats the last row, unused).
template <class S, class Body>
void for_each_qmv_tile(const QmmProblem<S, float>& p, Body&& body) {
  const int64_t N = p.N, K = p.K, G = K / p.group_size;
  const int64_t rb = row_bytes(K, p.bits), tiles = (N + kQmvRows - 1) / kQmvRows;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / (kQmvRows * K * p.M));
  parallel_for(0, tiles, grain, [&](int64_t t0, int64_t t1) {
    const uint8_t* w[kQmvRows];
    const S* sc[kQmvRows];
    const S* bi[kQmvRows];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t j0 = t * kQmvRows, n = std::min<int64_t>(kQmvRows, N - j0);
      for (int r = 0; r < kQmvRows; ++r) {
        const int64_t j = j0 + std::min<int64_t>(r, n - 1);
        w[r] = p.w + j * rb;
        sc[r] = p.scales + j * G;
        bi[r] = p.biases + j * G;
      }
      body(j0, n, w, sc, bi);
    }
  });
}

template <class S>
void qmv_drive(const QmmProblem<S, float>& p, QmvPrepareX prepare, QmvTile<S> tile) {
  const int64_t M = p.M, N = p.N, K = p.K, gs = p.group_size, G = K / gs, xl = qmv_xk_len(K);
  std::vector<float> xk(static_cast<size_t>(M * xl)), xs(static_cast<size_t>(M * G));
  std::vector<double> post(static_cast<size_t>(M));
  for (int64_t i = 0; i < M; ++i) {
    const float* x = p.x + i * K;
    post[static_cast<size_t>(i)] = prepare(x, K, p.bits, xk.data() + i * xl);
    for (int64_t g = 0; g < G; ++g) {  // four partial sums, so the loop vectorises
      float t[4] = {0, 0, 0, 0};
      for (int64_t e = 0; e < gs; e += 4)
        for (int u = 0; u < 4; ++u) t[u] += x[g * gs + e + u];
      xs[static_cast<size_t>(i * G + g)] = (t[0] + t[1]) + (t[2] + t[3]);
    }
  }
  for_each_qmv_tile(p, [&](int64_t j0, int64_t n, const uint8_t* const* w, const S* const* sc, const S* const* bi) {
    float out[kQmvRows], bias_out[kQmvRows];
    for (int64_t i = 0; i < M; ++i) {
      tile(xk.data() + i * xl, xs.data() + i * G, w, sc, bi, G, out, bias_out);
      const double f = post[static_cast<size_t>(i)];
      for (int64_t r = 0; r < n; ++r) p.y[i * N + j0 + r] = static_cast<float>(out[r] * f) + bias_out[r];
    }
  });
}

// The tile for (bits, group size), from a table of instantiations.
#define RICCI_QMV_TILE_FOR(tile, S, bits, gs)                                                              \
  ((bits) == 4 ? ((gs) == 32 ? &tile<4, 32, S> : (gs) == 64 ? &tile<4, 64, S> : &tile<4, 128, S>)          \
               : ((gs) == 32 ? &tile<8, 32, S> : (gs) == 64 ? &tile<8, 64, S> : &tile<8, 128, S>))

inline bool qmv_fits(bool transpose, int bits, int64_t M) {
  return transpose && (bits == 4 || bits == 8) && M >= 1 && M <= kDecodeRows;
}

}  // namespace ricci::quant
