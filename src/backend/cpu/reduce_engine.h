#pragma once
// The CPU reduction engine shared by every reduction kernel (sum, prod, amax, norm, var, ...).
//
// Note [Reduction plans]: the input is split into kept dims (one output element per index) and
// reduced dims. Both sets are coalesced (neighbours that memory walks as one become one dim), the
// reduced dims ordered innermost last. Two loop shapes follow:
//   Inner: the innermost reduced dim is contiguous. Each output element folds its runs with
//          kLanes independent accumulators (vectorisable, no loop-carried dependency).
//   Tile:  a kept dim is contiguous instead (e.g. sum over dim 0 of a row-major matrix). A tile
//          of up to kTile neighbouring outputs keeps its accumulators in a local array and adds
//          whole input rows into it, so the reads stay contiguous and vectorised; no strided
//          gather per output.
// Work is split over output elements, or, when there are fewer outputs than threads, over
// chunks of the reduced range whose partial accumulators are merged at the end (a full
// reduction of a large tensor uses every core).
//
// Note [Accurate float sums]: float32/float16/bfloat16 accumulate in float64 and float64 over
// kLanes separate lanes, so 16M float32 ones sum to exactly 16777216 and 1e7 values of 0.1 sum
// to 1e6 within ~1e-10 relative error; the conversion is nearly free next to the memory traffic.
// Every term is widened before it is added (no float32 partial sums: they drop small terms next
// to large ones of opposite sign), which keeps the sum of 16M float32 within one float32 ulp of
// the exact sum (docs/accuracy.md, tests/test_accuracy.cpp).
//
// An Op provides: `using Acc`, `using Out`, `Acc init()`, `Acc step(Acc, T x, double aux)`,
// `Acc merge(Acc, Acc)`, `Out finish(Acc, int64_t n, double aux)` (n: elements reduced per output). `aux`
// is a per-output value (the mean for var, the max for logsumexp) read from a float64 tensor
// with the output's layout, or 0 when there is none.
// Optional vectorised paths (reduce_hwy.h), for ops without aux:
//   `Acc fold_contiguous(Acc, const T* p, int64_t n)`: folds a unit-stride run (Inner plans);
//   `void fold_rows(Acc* acc, const T* p, int64_t row_stride, int64_t rows, int64_t w)`: folds
//   `rows` contiguous rows of w elements into acc[0..w) (Tile plans).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "ricci/parallel.h"
#include "ricci/tensor.h"

#include <type_traits>

namespace ricci::cpu::reduce {

inline constexpr int kMaxDims = 16;
inline constexpr int kLanes = 16;
inline constexpr int64_t kTile = 1024;

struct Plan {
  int nk = 0;  // kept dims, after coalescing (the tile dim last in Tile mode)
  int64_t ksize[kMaxDims], kin[kMaxDims], kout[kMaxDims];
  int nr = 0;  // reduced dims, innermost (smallest input stride) last
  int64_t rsize[kMaxDims], rin[kMaxDims];
  int64_t nout = 1, nred = 1;
  bool tile = false;
};

// `out` has the input's rank with size 1 at the reduced dims (keepdim shape); `mask` has bit d
// set for each reduced dim d.
Plan make_plan(const Tensor& out, const Tensor& in, uint64_t mask);

// Visits the reduced index range [rb, re) as innermost runs: f(offset, stride, n), in elements.
template <class F>
inline void for_runs(const Plan& P, int64_t rb, int64_t re, F&& f) {
  if (P.nr == 0) {
    if (rb < re) f(int64_t{0}, int64_t{1}, int64_t{1});
    return;
  }
  if (rb >= re) return;  // an empty reduced range (some reduced size is 0): nothing to visit
  const int last = P.nr - 1;
  const int64_t inner = P.rsize[last];
  int64_t idx[kMaxDims];
  int64_t rest = rb / inner, col = rb % inner;
  for (int d = last - 1; d >= 0; --d) {
    idx[d] = rest % P.rsize[d];
    rest /= P.rsize[d];
  }
  int64_t pos = rb;
  while (pos < re) {
    int64_t off = col * P.rin[last];
    for (int d = 0; d < last; ++d) off += idx[d] * P.rin[d];
    const int64_t n = std::min(inner - col, re - pos);
    f(off, P.rin[last], n);
    pos += n;
    col = 0;
    for (int d = last - 1; d >= 0; --d) {
      if (++idx[d] < P.rsize[d]) break;
      idx[d] = 0;
    }
  }
}

// Input and output offsets (in elements) of flat output index o in plan order.
inline void kept_offsets(const Plan& P, int64_t o, int64_t& in_off, int64_t& out_off) {
  in_off = 0;
  out_off = 0;
  for (int d = P.nk - 1; d >= 0; --d) {
    const int64_t i = o % P.ksize[d];
    o /= P.ksize[d];
    in_off += i * P.kin[d];
    out_off += i * P.kout[d];
  }
}

// Sum of n contiguous float32 values in float64 precision, vectorised (reduce_sum_f32.cpp).
double sum_contiguous_f32(const float* p, int64_t n);

template <class Op, class T>
inline typename Op::Acc fold_run(const Op& op, typename Op::Acc acc, const T* p, int64_t stride, int64_t n, double aux) {
  using Acc = typename Op::Acc;
  if constexpr (requires { op.fold_contiguous(acc, p, n); }) {
    if (stride == 1) return op.fold_contiguous(acc, p, n);
  }
  if (stride == 1 && n >= kLanes) {
    Acc a[kLanes];
    for (int k = 0; k < kLanes; ++k) a[k] = op.init();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) a[k] = op.step(a[k], p[i + k], aux);
    }
    for (int k = 0; i < n; ++i, ++k) a[k] = op.step(a[k], p[i], aux);
    for (int w = kLanes / 2; w > 0; w /= 2) {
      for (int k = 0; k < w; ++k) a[k] = op.merge(a[k], a[k + w]);
    }
    return op.merge(acc, a[0]);
  }
  for (int64_t i = 0; i < n; ++i) acc = op.step(acc, p[i * stride], aux);
  return acc;
}

// Reduces outputs [ob, oe) over reduced indices [rb, re); sink(o, out_off, acc) receives each.
template <class Op, class T, class Sink>
void run_block(const Op& op, const Plan& P, const T* in, const double* aux, int64_t ob, int64_t oe, int64_t rb,
               int64_t re, Sink&& sink) {
  using Acc = typename Op::Acc;
  if (!P.tile && P.nk == 1 && P.nr == 1 && P.rin[0] == 1 && rb == 0 && re == P.rsize[0]) {
    // Whole contiguous rows (the common case): offsets advance by a constant stride, with none
    // of the index arithmetic of the general loop between one row and the next.
    for (int64_t o = ob; o < oe; ++o) {
      const int64_t ooff = o * P.kout[0];
      sink(o, ooff, fold_run(op, op.init(), in + o * P.kin[0], int64_t{1}, re, aux ? aux[ooff] : 0.0));
    }
    return;
  }
  if (!P.tile) {
    for (int64_t o = ob; o < oe; ++o) {
      int64_t ioff, ooff;
      kept_offsets(P, o, ioff, ooff);
      const double a = aux ? aux[ooff] : 0.0;
      Acc acc = op.init();
      const T* base = in + ioff;
      for_runs(P, rb, re, [&](int64_t off, int64_t st, int64_t n) { acc = fold_run(op, acc, base + off, st, n, a); });
      sink(o, ooff, acc);
    }
    return;
  }
  // Tile mode: units are (other kept index, block of the contiguous tile dim).
  const int t = P.nk - 1;
  const int64_t tlen = P.ksize[t], nblk = (tlen + kTile - 1) / kTile;
  Acc acc[kTile];
  double av[kTile];
  for (int64_t u = ob; u < oe; ++u) {
    const int64_t outer = u / nblk, j0 = (u % nblk) * kTile, w = std::min(kTile, tlen - j0);
    int64_t ioff, ooff;
    kept_offsets(P, outer * tlen + j0, ioff, ooff);
    for (int64_t j = 0; j < w; ++j) {
      acc[j] = op.init();
      av[j] = aux ? aux[ooff + j * P.kout[t]] : 0.0;
    }
    const T* base = in + ioff;
    for_runs(P, rb, re, [&](int64_t off, int64_t st, int64_t n) {
      if constexpr (requires { op.fold_rows(acc, base, st, n, w); }) {
        if (!aux) return op.fold_rows(acc, base + off, st, n, w);
      }
      for (int64_t i = 0; i < n; ++i) {
        const T* __restrict row = base + off + i * st;
        if (aux) {
          for (int64_t j = 0; j < w; ++j) acc[j] = op.step(acc[j], row[j], av[j]);
        } else {  // the common case, kept free of the aux loads so it vectorises cleanly
          for (int64_t j = 0; j < w; ++j) acc[j] = op.step(acc[j], row[j], 0.0);
        }
      }
    });
    for (int64_t j = 0; j < w; ++j) sink(outer * tlen + j0 + j, ooff + j * P.kout[t], acc[j]);
  }
}

// For ops that read each output's elements more than once (var, logsumexp): when every output
// reduces one contiguous run, calls f(row, n, out_off) per output, the outputs split over the
// threads, and returns true. Returns false, doing nothing, for other layouts, or when there are
// fewer outputs than threads and long rows (the engine's split of the reduced range does better).
template <class T, class F>
bool for_each_row(const Tensor& out, const Tensor& in, uint64_t mask, F&& f) {
  const Plan P = make_plan(out, in, mask);
  if (P.tile || P.nr > 1 || (P.nr == 1 && P.rin[0] != 1)) return false;
  const int64_t n = P.nred;
  if (P.nout < get_num_threads() && n >= 2 * kGrainSize) return false;
  const T* in_p = static_cast<const T*>(in.data_ptr());
  parallel_for(0, P.nout, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      int64_t ioff, ooff;
      kept_offsets(P, o, ioff, ooff);
      f(in_p + ioff, n, ooff);
    }
  });
  return true;
}

// The same for Tile plans with one reduced dim: f(base, row_stride, n, w, out_off, out_stride)
// per block of up to kTile neighbouring outputs, whose n rows of w contiguous elements start at
// base; output j of the block is at out_off + j * out_stride.
template <class T, class F>
bool for_each_column_block(const Tensor& out, const Tensor& in, uint64_t mask, F&& f) {
  const Plan P = make_plan(out, in, mask);
  if (!P.tile || P.nr != 1) return false;
  const int t = P.nk - 1;
  const int64_t n = P.nred, tlen = P.ksize[t], nblk = (tlen + kTile - 1) / kTile;
  const int64_t units = P.nout / tlen * nblk;
  if (units < get_num_threads() && n >= 2 * kGrainSize) return false;
  const T* in_p = static_cast<const T*>(in.data_ptr());
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * std::min(tlen, kTile)));
  parallel_for(0, units, grain, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t outer = u / nblk, j0 = (u % nblk) * kTile;
      int64_t ioff, ooff;
      kept_offsets(P, outer * tlen + j0, ioff, ooff);
      f(in_p + ioff, P.rin[0], n, std::min(kTile, tlen - j0), ooff, P.kout[t]);
    }
  });
  return true;
}

// Runs op over `in` into `out` (keepdim shape, contiguous, dtype Op::Out).
template <class T, class Op>
void run(const Op& op, const Tensor& out, const Tensor& in, uint64_t mask, const Tensor* aux_t = nullptr) {
  using Acc = typename Op::Acc;
  using Out = typename Op::Out;
  const Plan P = make_plan(out, in, mask);
  if (P.nout == 0) return;
  const T* in_p = static_cast<const T*>(in.data_ptr());
  Out* out_p = static_cast<Out*>(out.data_ptr());
  const double* aux = aux_t ? static_cast<const double*>(aux_t->data_ptr()) : nullptr;
  const int64_t n = P.nred;
  auto write = [&](int64_t, int64_t ooff, Acc a) { out_p[ooff] = op.finish(a, n, aux ? aux[ooff] : 0.0); };
  const int64_t units = P.tile ? (P.nout / P.ksize[P.nk - 1]) * ((P.ksize[P.nk - 1] + kTile - 1) / kTile) : P.nout;
  const int threads = get_num_threads();
  if (threads == 1 || units >= threads || n < 2 * kGrainSize) {
    const int64_t per_unit = std::max<int64_t>(1, P.nout / units * n);
    const int64_t grain = std::max<int64_t>(1, kGrainSize / per_unit);
    parallel_for(0, units, grain, [&](int64_t b, int64_t e) { run_block(op, P, in_p, aux, b, e, 0, n, write); });
    return;
  }
  // Few outputs, long reductions: split the reduced range, then merge the partials in order.
  const int64_t chunks = std::min<int64_t>(threads, std::max<int64_t>(1, P.nred / kGrainSize));
  std::unique_ptr<Acc[]> partial(new Acc[static_cast<size_t>(chunks * P.nout)]);  // not vector: Acc may be bool
  std::vector<int64_t> ooffs(static_cast<size_t>(P.nout));
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t rb = n * c / chunks, re = n * (c + 1) / chunks;
      Acc* dst = partial.get() + c * P.nout;
      run_block(op, P, in_p, aux, 0, units, rb, re, [&](int64_t o, int64_t ooff, Acc a) {
        dst[o] = a;
        if (c == 0) ooffs[o] = ooff;
      });
    }
  });
  for (int64_t o = 0; o < P.nout; ++o) {
    Acc a = partial[o];
    for (int64_t c = 1; c < chunks; ++c) a = op.merge(a, partial[c * P.nout + o]);
    out_p[ooffs[o]] = op.finish(a, n, aux ? aux[ooffs[o]] : 0.0);
  }
}

}  // namespace ricci::cpu::reduce
