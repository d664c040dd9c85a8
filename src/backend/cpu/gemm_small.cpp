// Note [Small float32 products without packing]: OpenBLAS packs both operands of every sgemm
// into panels before its micro-kernel runs. For attention's products (64 x 64 x 32 and
// 64 x 32 x 64, ~3000 calls in a GPT training step) the packing and the per-call set-up were
// more than the arithmetic saved by them (issue 16). sgemm_small computes them in place:
// - A is never copied: its elements are broadcast straight from memory, in either layout cblas
//   takes (rows or columns at unit stride, any leading dimension);
// - B is read in place when its rows run along N (NoTrans); a transposed B is transposed once,
//   a block of at most kPanelFloats at a time, into a thread-local buffer, its width padded with
//   zeros to whole vectors;
// - the register tile is kRows rows x two vectors of C (6 x 16 on AVX2: 12 accumulators, two
//   loads of B and six broadcasts per step of K; 8 x 32 on AVX-512, 16 accumulators);
// - the last columns (fewer than a vector) read B from a zero-padded copy and are written
//   through a small tile, the last rows by a tile with fewer rows.
// beta == 0 ignores C's old contents (NaN included), and alpha == 0 does not read A and B, as
// BLAS does. Every element of C sums its K products in order k = 0, 1, ... with FMAs and is
// scaled by alpha once at the end. Measured against OpenBLAS (bench_gemm_small, bench/README.md):
// ~1.5x on attention's shapes, still >= 1.1x at 4 x 64^3 multiply-adds (sgemm_small_pays).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backend/cpu/gemm.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/gemm_small.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#ifndef RICCI_GEMM_SMALL_ONCE
#define RICCI_GEMM_SMALL_ONCE
namespace ricci::cpu::gemm_small_detail {

// The transposed-B buffer of one block of columns: K x (columns padded to whole vectors), at
// most 64 KiB plus a row pad (sgemm_small_pays bounds K so that a block is at least a few tiles
// wide).
constexpr int64_t kPanelFloats = 16384;

// The thread's buffer of at least n floats.
inline float* scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

}  // namespace ricci::cpu::gemm_small_detail
#endif

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace gemm_small_impl {

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Rows of the register tile: AVX-512 has 32 vector registers, the others 16.
#if HWY_TARGET <= HWY_AVX3
constexpr int64_t kRows = 8;
#else
constexpr int64_t kRows = 6;
#endif

// The elements of A as cblas passes them: (i, k) at a[i + k * ld] when kTransA (rows adjacent in
// memory, so a step of K reads R adjacent floats), else at a[i * ld + k].
template <bool kTransA>
struct AView {
  const float* a;
  int64_t ld;
  HWY_INLINE const float* at(int64_t i, int64_t k) const { return kTransA ? a + i + k * ld : a + i * ld + k; }
  HWY_INLINE AView rows_from(int64_t i) const { return {at(i, 0), ld}; }
};

// C[0:R, 0:V*L] (or its first `cols` columns when kPartial) = alpha * A[0:R, :] @ B[:, 0:V*L]
// + beta * C for K >= 1, B (K x V*L) with rows ldb apart and unit column stride; with kPartial,
// B's columns past `cols` must be readable (zero padding) and C's are not touched.
template <int64_t R, int64_t V, bool kPartial, bool kTransA>
HWY_NOINLINE void Tile(AView<kTransA> A, const float* HWY_RESTRICT B, int64_t ldb, int64_t K, float* HWY_RESTRICT C,
                       int64_t ldc, float alpha, float beta, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // K >= 1: the first step sets the accumulators (no zeros to merge with, which made GCC keep
  // them on the stack), the others add to them.
  VF acc[R][V];
  const float* rows[R];
  for (int64_t i = 0; i < R; ++i) rows[i] = A.at(i, 0);
  {
    VF b[V];
    for (int64_t v = 0; v < V; ++v) b[v] = hn::LoadU(d, B + v * L);
    for (int64_t i = 0; i < R; ++i) {
      const VF a = hn::Set(d, rows[i][0]);
      for (int64_t v = 0; v < V; ++v) acc[i][v] = hn::Mul(a, b[v]);
    }
  }
  for (int64_t k = 1; k < K; ++k) {
    VF b[V];
    for (int64_t v = 0; v < V; ++v) b[v] = hn::LoadU(d, B + k * ldb + v * L);
    const float* ak = A.at(0, k);
    for (int64_t i = 0; i < R; ++i) {
      const VF a = hn::Set(d, kTransA ? ak[i] : rows[i][k]);
      for (int64_t v = 0; v < V; ++v) acc[i][v] = hn::MulAdd(a, b[v], acc[i][v]);
    }
  }
  const VF va = hn::Set(d, alpha), vb = hn::Set(d, beta);
  if constexpr (kPartial) {
    static_assert(V == 1, "a partial tile is one vector wide");
    constexpr int64_t kMaxLanes = static_cast<int64_t>(hn::MaxLanes(DF()));
    // C's first `cols` columns through a buffer, with the whole tile's operations, so that an
    // element rounds the same whichever tile it falls in.
    HWY_ALIGN float tile[kMaxLanes] = {};
    cols = std::min(cols, kMaxLanes);
    for (int64_t i = 0; i < R; ++i) {
      float* c = C + i * ldc;
      const VF scaled = hn::Mul(acc[i][0], va);
      if (beta == 0.0f) {
        hn::Store(scaled, d, tile);
      } else {
        std::memcpy(tile, c, static_cast<size_t>(cols) * sizeof(float));
        const VF old = hn::Load(d, tile);
        hn::Store(beta == 1.0f ? hn::MulAdd(acc[i][0], va, old) : hn::MulAdd(vb, old, scaled), d, tile);
      }
      std::memcpy(c, tile, static_cast<size_t>(cols) * sizeof(float));
    }
  } else {
    // One loop per case of beta, so that the accumulators stay in registers.
    if (beta == 0.0f) {
      for (int64_t i = 0; i < R; ++i)
        for (int64_t v = 0; v < V; ++v) hn::StoreU(hn::Mul(acc[i][v], va), d, C + i * ldc + v * L);
    } else if (beta == 1.0f) {
      for (int64_t i = 0; i < R; ++i)
        for (int64_t v = 0; v < V; ++v) {
          float* c = C + i * ldc + v * L;
          hn::StoreU(hn::MulAdd(acc[i][v], va, hn::LoadU(d, c)), d, c);
        }
    } else {
      for (int64_t i = 0; i < R; ++i)
        for (int64_t v = 0; v < V; ++v) {
          float* c = C + i * ldc + v * L;
          hn::StoreU(hn::MulAdd(vb, hn::LoadU(d, c), hn::Mul(acc[i][v], va)), d, c);
        }
    }
  }
}

// Every row of a column panel: whole kRows-row tiles, then one tile of the rows left.
template <int64_t V, bool kPartial, bool kTransA>
HWY_INLINE void Panel(int64_t M, AView<kTransA> A, const float* B, int64_t ldb, int64_t K, float* C, int64_t ldc,
                      float alpha, float beta, int64_t cols) {
  int64_t i = 0;
  for (; i + kRows <= M; i += kRows)
    Tile<kRows, V, kPartial>(A.rows_from(i), B, ldb, K, C + i * ldc, ldc, alpha, beta, cols);
  const AView<kTransA> a = A.rows_from(i);
  float* c = C + i * ldc;
  switch (M - i) {
    case 0: break;
    case 1: Tile<1, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
    case 2: Tile<2, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
    case 3: Tile<3, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
    case 4: Tile<4, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
    case 5: Tile<5, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
#if HWY_TARGET <= HWY_AVX3
    case 6: Tile<6, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
    case 7: Tile<7, V, kPartial>(a, B, ldb, K, c, ldc, alpha, beta, cols); break;
#endif
    default: HWY_ASSERT(false);
  }
}

// Columns [0, N) of C from B (K x N, rows ldb apart, unit column stride). `padded`: B's rows are
// readable up to a whole number of vectors past N (zeros there), else the last columns are copied.
template <bool kTransA>
void Columns(int64_t M, int64_t N, int64_t K, AView<kTransA> A, const float* B, int64_t ldb, bool padded, float* C,
             int64_t ldc, float alpha, float beta) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(DF()));
  int64_t j = 0;
  for (; j + 2 * L <= N; j += 2 * L) Panel<2, false>(M, A, B + j, ldb, K, C + j, ldc, alpha, beta, 2 * L);
  if (j + L <= N) {
    Panel<1, false>(M, A, B + j, ldb, K, C + j, ldc, alpha, beta, L);
    j += L;
  }
  if (j == N) return;
  const int64_t cols = N - j;
  if (padded) return Panel<1, true>(M, A, B + j, ldb, K, C + j, ldc, alpha, beta, cols);
  float* tail = gemm_small_detail::scratch(K * L);
  for (int64_t k = 0; k < K; ++k) {
    std::memcpy(tail + k * L, B + k * ldb + j, static_cast<size_t>(cols) * sizeof(float));
    std::fill(tail + k * L + cols, tail + (k + 1) * L, 0.0f);
  }
  Panel<1, true>(M, A, tail, L, K, C + j, ldc, alpha, beta, cols);
}

// bt[k * ldt + j] = B[j * ldb + k] for j < n, k < K: 4 x 4 blocks transposed in 128-bit
// registers (four loads, eight shuffles, four stores), element by element at the edges.
void TransposeInto(const float* HWY_RESTRICT B, int64_t ldb, int64_t n, int64_t K, float* HWY_RESTRICT bt,
                   int64_t ldt) {
  int64_t j = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::FixedTag<float, 4> d4;
  const hn::Repartition<double, decltype(d4)> d2;
  for (; j + 4 <= n; j += 4) {
    const float* r0 = B + j * ldb;
    const float *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
    float* o = bt + j;
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
      const auto v0 = hn::LoadU(d4, r0 + k), v1 = hn::LoadU(d4, r1 + k);
      const auto v2 = hn::LoadU(d4, r2 + k), v3 = hn::LoadU(d4, r3 + k);
      const auto lo01 = hn::BitCast(d2, hn::InterleaveLower(d4, v0, v1));  // r0[k] r1[k] r0[k+1] r1[k+1]
      const auto lo23 = hn::BitCast(d2, hn::InterleaveLower(d4, v2, v3));
      const auto hi01 = hn::BitCast(d2, hn::InterleaveUpper(d4, v0, v1));  // r0[k+2] r1[k+2] r0[k+3] r1[k+3]
      const auto hi23 = hn::BitCast(d2, hn::InterleaveUpper(d4, v2, v3));
      hn::StoreU(hn::BitCast(d4, hn::InterleaveLower(d2, lo01, lo23)), d4, o + k * ldt);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveUpper(d2, lo01, lo23)), d4, o + (k + 1) * ldt);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveLower(d2, hi01, hi23)), d4, o + (k + 2) * ldt);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveUpper(d2, hi01, hi23)), d4, o + (k + 3) * ldt);
    }
    for (; k < K; ++k) {
      o[k * ldt] = r0[k];
      o[k * ldt + 1] = r1[k];
      o[k * ldt + 2] = r2[k];
      o[k * ldt + 3] = r3[k];
    }
  }
#endif
  for (; j < n; ++j) {
    const float* src = B + j * ldb;
    for (int64_t k = 0; k < K; ++k) bt[k * ldt + j] = src[k];
  }
}

template <bool kTransA>
void Gemm(bool tb, int64_t M, int64_t N, int64_t K, AView<kTransA> A, const float* B, int64_t ldb, float* C,
          int64_t ldc, float alpha, float beta) {
  if (!tb) return Columns(M, N, K, A, B, ldb, false, C, ldc, alpha, beta);
  // B is stored N x K (element (k, j) at B[j * ldb + k]): blocks of columns transposed into
  // K x width buffers, width a whole number of vectors, zeros past N. Rows are an odd number of
  // 64-byte lines apart when width is a multiple of 32 floats: a power-of-two row stride maps a
  // column panel's K rows onto a few L1 sets, which evicted each other (64 x 256 x 64 ran at
  // 0.94 of OpenBLAS's speed with rows 1 KiB apart).
  const int64_t L = static_cast<int64_t>(hn::Lanes(DF()));
  const int64_t block = std::max<int64_t>(L, gemm_small_detail::kPanelFloats / std::max<int64_t>(K, 1) / L * L);
  for (int64_t j0 = 0; j0 < N; j0 += block) {
    const int64_t n = std::min(block, N - j0), width = (n + L - 1) / L * L;
    const int64_t ld = width % 32 == 0 ? width + 16 : width;
    float* bt = gemm_small_detail::scratch(K * ld);
    TransposeInto(B + j0 * ldb, ldb, n, K, bt, ld);
    for (int64_t k = 0; k < K; ++k) std::fill(bt + k * ld + n, bt + k * ld + width, 0.0f);
    Columns(M, n, K, A, bt, ld, true, C + j0, ldc, alpha, beta);
  }
}

}  // namespace gemm_small_impl

void SgemmSmall(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  using namespace gemm_small_impl;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {  // C = beta C: an empty sum is zero; alpha == 0 skips A and B, as BLAS does
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  if (ta) Gemm(tb, M, N, K, AView<true>{A, lda}, B, ldb, C, ldc, alpha, beta);
  else Gemm(tb, M, N, K, AView<false>{A, lda}, B, ldb, C, ldc, alpha, beta);
}

const char* SgemmSmallTarget() { return hwy::TargetName(HWY_TARGET); }

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(SgemmSmall);
HWY_EXPORT(SgemmSmallTarget);

namespace {
std::atomic<int64_t> g_small_calls{0};
}  // namespace

void sgemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  g_small_calls.fetch_add(1, std::memory_order_relaxed);
  HWY_DYNAMIC_DISPATCH(SgemmSmall)(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const char* sgemm_small_target() { return HWY_DYNAMIC_DISPATCH(SgemmSmallTarget)(); }

int64_t sgemm_small_calls() { return g_small_calls.load(std::memory_order_relaxed); }

}  // namespace ricci::cpu
#endif
