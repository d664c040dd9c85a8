// CPU layer_norm / rms_norm, forward and backward, fused per row: statistics and output in one
// sweep of a row that stays in cache. Accumulation is in float64 for float64 and float32
// otherwise (PyTorch's acc type), with several partial sums so the loops vectorise.
//
// The row loops are plain C++ written to vectorise; they are compiled once per instruction set
// (Highway's foreach_target: AVX2 and AVX-512 besides the baseline) and float32/float64 pick theirs
// at run time (HWY_DYNAMIC_DISPATCH, capped by RICCI_CPU_ISA as every Highway kernel is). Compiled
// for baseline x86-64 alone they ran four floats at a time: a GPT step's layer_norm backward took
// 1.9 % of the step on AVX2 (PyTorch's: ~0.6 %), 0.55 % since (issue 16). float16/bfloat16 run
// the baseline build.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/half.h"
#include "ricci/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/nn_norm_kernels.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class A, class T>
A row_sum(const T* x, int64_t n) {
  A s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += static_cast<A>(x[i + k]);
  A r = 0;
  for (; i < n; ++i) r += static_cast<A>(x[i]);
  for (int k = 0; k < 8; ++k) r += s[k];
  return r;
}

// sum((x - c)^2): the centred second pass keeps the variance exact for rows with a large mean.
template <class A, class T>
A row_sqdev(const T* x, int64_t n, A c) {
  A s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      const A v = static_cast<A>(x[i + k]) - c;
      s[k] += v * v;
    }
  A r = 0;
  for (; i < n; ++i) {
    const A v = static_cast<A>(x[i]) - c;
    r += v * v;
  }
  for (int k = 0; k < 8; ++k) r += s[k];
  return r;
}

template <class T>
void norm_fwd_rows(const T* xp, T* yp, acc_t<T>* mp, acc_t<T>* rp, const T* wp, const T* bp, int64_t r0, int64_t r1,
                   int64_t n, double eps, bool rms) {
  using A = acc_t<T>;
  for (int64_t r = r0; r < r1; ++r) {
    const T* xr = xp + r * n;
    T* yr = yp + r * n;
    const A mu = rms ? A(0) : (n > 0 ? row_sum<A>(xr, n) / static_cast<A>(n) : A(0));
    const A var = n > 0 ? row_sqdev<A>(xr, n, mu) / static_cast<A>(n) : A(0);
    const A rs = A(1) / std::sqrt(var + static_cast<A>(eps));
    if (mp) mp[r] = mu;
    rp[r] = rs;
    for (int64_t i = 0; i < n; ++i) {
      A v = (static_cast<A>(xr[i]) - mu) * rs;
      if (wp) v *= static_cast<A>(wp[i]);
      if (bp) v += static_cast<A>(bp[i]);
      yr[i] = static_cast<T>(v);
    }
  }
}

// One row of the backward while it is in cache: gw = g * w and xhat into scratch, g * xhat and g
// added into the row block's column sums pw / pb (nullptr: no dw / db wanted), the sums of gw and
// gw * xhat with eight partial sums (so the loops vectorise), then dx (dr nullptr: not wanted).
// Each loop is branch-free so that it vectorises.
template <class T, class A>
void norm_bwd_row(T* __restrict dr, const T* __restrict gr, const T* __restrict xr, const T* __restrict wp, A mu, A rs,
                  int64_t n, bool rms, A* __restrict gw, A* __restrict xh, A* __restrict pw, A* __restrict pb) {
  for (int64_t i = 0; i < n; ++i) {
    gw[i] = static_cast<A>(gr[i]);
    xh[i] = (static_cast<A>(xr[i]) - mu) * rs;
  }
  if (pw)
    for (int64_t i = 0; i < n; ++i) pw[i] += gw[i] * xh[i];
  if (pb)
    for (int64_t i = 0; i < n; ++i) pb[i] += gw[i];
  if (!dr) return;
  if (wp)
    for (int64_t i = 0; i < n; ++i) gw[i] *= static_cast<A>(wp[i]);
  A s1[8] = {}, s2[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      s1[k] += gw[i + k];
      s2[k] += gw[i + k] * xh[i + k];
    }
  A sum_gw = 0, dot = 0;
  for (; i < n; ++i) {
    sum_gw += gw[i];
    dot += gw[i] * xh[i];
  }
  for (int k = 0; k < 8; ++k) {
    sum_gw += s1[k];
    dot += s2[k];
  }
  const A inv_n = n > 0 ? A(1) / static_cast<A>(n) : A(0);
  const A mean_gw = rms ? A(0) : sum_gw * inv_n;
  const A mean_gxh = dot * inv_n;
  for (int64_t j = 0; j < n; ++j) dr[j] = static_cast<T>(rs * (gw[j] - mean_gw - xh[j] * mean_gxh));
}

// dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w (rms: no mean(gw) term);
// dw = sum over rows of g * xhat, db = sum of g. One pass over g and x: rows go in fixed blocks of
// kNormBwdBlock, each block's column sums into its own slot while its rows are in cache, and the
// slots are added in block order at the end (the same result for any number of threads). Before,
// dw / db were a second sweep over all of g and x, and the row sums a serial chain.
constexpr int64_t kNormBwdBlock = 64;

// norm_bwd_row in explicit vectors for float32 / float64 rows (T is its own accumulator): one sweep
// adds g * xhat and g into the block's column sums and g w, g w xhat into two vector sums, a
// second writes dx, recomputing g w and xhat from the row (in L1) instead of keeping them in
// scratch. (GCC vectorised the scalar form's eight partial sums with lane permutes and spills.)
// The row sums' order follows the vector width, so AVX2 and AVX-512 may differ in the last bit.
template <class T>
void norm_bwd_row_vec(T* HWY_RESTRICT dr, const T* HWY_RESTRICT gr, const T* HWY_RESTRICT xr,
                      const T* HWY_RESTRICT wp, T mu, T rs, int64_t n, bool rms, T* HWY_RESTRICT pw,
                      T* HWY_RESTRICT pb) {
  namespace hn = hwy::HWY_NAMESPACE;
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto vmu = hn::Set(d, mu), vrs = hn::Set(d, rs);
  auto s1 = hn::Zero(d), s2 = hn::Zero(d);
  T t1 = 0, t2 = 0;
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto g = hn::LoadU(d, gr + i);
    const auto xh = hn::Mul(hn::Sub(hn::LoadU(d, xr + i), vmu), vrs);
    if (pw) hn::StoreU(hn::MulAdd(g, xh, hn::LoadU(d, pw + i)), d, pw + i);
    if (pb) hn::StoreU(hn::Add(g, hn::LoadU(d, pb + i)), d, pb + i);
    const auto gw = wp ? hn::Mul(g, hn::LoadU(d, wp + i)) : g;
    s1 = hn::Add(s1, gw);
    s2 = hn::MulAdd(gw, xh, s2);
  }
  for (; i < n; ++i) {
    const T g = gr[i], xh = (xr[i] - mu) * rs;
    if (pw) pw[i] += g * xh;
    if (pb) pb[i] += g;
    const T gw = wp ? g * wp[i] : g;
    t1 += gw;
    t2 += gw * xh;
  }
  if (!dr) return;
  const T inv_n = n > 0 ? T(1) / static_cast<T>(n) : T(0);
  const T mean_gw = rms ? T(0) : (hn::GetLane(hn::SumOfLanes(d, s1)) + t1) * inv_n;
  const T mean_gxh = (hn::GetLane(hn::SumOfLanes(d, s2)) + t2) * inv_n;
  const auto vmg = hn::Set(d, mean_gw), vmgx = hn::Set(d, mean_gxh);
  for (i = 0; i + N <= n; i += N) {
    const auto g = hn::LoadU(d, gr + i);
    const auto xh = hn::Mul(hn::Sub(hn::LoadU(d, xr + i), vmu), vrs);
    const auto gw = wp ? hn::Mul(g, hn::LoadU(d, wp + i)) : g;
    hn::StoreU(hn::Mul(vrs, hn::NegMulAdd(xh, vmgx, hn::Sub(gw, vmg))), d, dr + i);
  }
  for (; i < n; ++i) {
    const T xh = (xr[i] - mu) * rs;
    const T gw = wp ? gr[i] * wp[i] : gr[i];
    dr[i] = rs * (gw - mean_gw - xh * mean_gxh);
  }
}

// Row blocks [b0, b1) of the backward; part holds each block's 2 n column sums (nullptr: neither
// dw nor db wanted), gw / xh n elements of scratch.
template <class T>
void norm_bwd_blocks(T* dxp, const T* gp, const T* xp, const acc_t<T>* mp, const acc_t<T>* rp, const T* wp,
                     acc_t<T>* part, bool want_dw, bool want_db, acc_t<T>* gw, acc_t<T>* xh, int64_t rows, int64_t n,
                     bool rms, int64_t b0, int64_t b1) {
  using A = acc_t<T>;
  for (int64_t blk = b0; blk < b1; ++blk) {
    A* pw = want_dw ? part + blk * 2 * n : nullptr;
    A* pb = want_db ? part + blk * 2 * n + n : nullptr;
    for (int64_t r = blk * kNormBwdBlock; r < std::min(rows, (blk + 1) * kNormBwdBlock); ++r) {
      const A mu = mp ? mp[r] : A(0), rs = rp[r];
      T* dr = dxp ? dxp + r * n : nullptr;
      if constexpr (std::is_same_v<T, A>) norm_bwd_row_vec<T>(dr, gp + r * n, xp + r * n, wp, mu, rs, n, rms, pw, pb);
      else norm_bwd_row<T, A>(dr, gp + r * n, xp + r * n, wp, mu, rs, n, rms, gw, xh, pw, pb);
    }
  }
}

#define RICCI_NORM_ENTRY_POINTS(T, S)                                                                                 \
  void NormFwdRows##S(const T* xp, T* yp, acc_t<T>* mp, acc_t<T>* rp, const T* wp, const T* bp, int64_t r0,          \
                      int64_t r1, int64_t n, double eps, bool rms) {                                                  \
    norm_fwd_rows<T>(xp, yp, mp, rp, wp, bp, r0, r1, n, eps, rms);                                                    \
  }                                                                                                                   \
  void NormBwdBlocks##S(T* dxp, const T* gp, const T* xp, const acc_t<T>* mp, const acc_t<T>* rp, const T* wp,       \
                        acc_t<T>* part, bool want_dw, bool want_db, acc_t<T>* gw, acc_t<T>* xh, int64_t rows,        \
                        int64_t n, bool rms, int64_t b0, int64_t b1) {                                                \
    norm_bwd_blocks<T>(dxp, gp, xp, mp, rp, wp, part, want_dw, want_db, gw, xh, rows, n, rms, b0, b1);               \
  }
RICCI_NORM_ENTRY_POINTS(float, F32)
RICCI_NORM_ENTRY_POINTS(double, F64)
#undef RICCI_NORM_ENTRY_POINTS

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(NormFwdRowsF32);
HWY_EXPORT(NormFwdRowsF64);
HWY_EXPORT(NormBwdBlocksF32);
HWY_EXPORT(NormBwdBlocksF64);

namespace {

template <class T>
using acc_t = HWY_STATIC_DISPATCH(acc_t)<T>;

// The row kernels for T: the CPU's best build for float32/float64, the baseline one otherwise.
template <class T, class... Args>
void fwd_rows(Args... args) {
  if constexpr (std::is_same_v<T, float>) HWY_DYNAMIC_DISPATCH(NormFwdRowsF32)(args...);
  else if constexpr (std::is_same_v<T, double>) HWY_DYNAMIC_DISPATCH(NormFwdRowsF64)(args...);
  else HWY_STATIC_DISPATCH(norm_fwd_rows)<T>(args...);
}
template <class T, class... Args>
void bwd_blocks(Args... args) {
  if constexpr (std::is_same_v<T, float>) HWY_DYNAMIC_DISPATCH(NormBwdBlocksF32)(args...);
  else if constexpr (std::is_same_v<T, double>) HWY_DYNAMIC_DISPATCH(NormBwdBlocksF64)(args...);
  else HWY_STATIC_DISPATCH(norm_bwd_blocks)<T>(args...);
}

template <class T>
void norm_fwd(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
              const Tensor& b, int64_t rows, int64_t n, double eps, bool rms) {
  using A = acc_t<T>;
  const T* xp = x.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  A* mp = rms ? nullptr : mean.data_ptr<A>();
  A* rp = rstd.data_ptr<A>();
  const T* wp = w.defined() ? w.data_ptr<T>() : nullptr;
  const T* bp = b.defined() ? b.data_ptr<T>() : nullptr;
  parallel_for(0, rows, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(n, 1)), [&](int64_t r0, int64_t r1) {
    fwd_rows<T>(xp, yp, mp, rp, wp, bp, r0, r1, n, eps, rms);
  });
}

template <class T>
void norm_bwd(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
              const Tensor& mean, const Tensor& rstd, const Tensor& w, int64_t rows, int64_t n, bool rms) {
  using A = acc_t<T>;
  constexpr int64_t kBlock = HWY_STATIC_DISPATCH(kNormBwdBlock);
  const T* gp = g.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const A* mp = rms ? nullptr : mean.data_ptr<A>();
  const A* rp = rstd.data_ptr<A>();
  const T* wp = w.defined() ? w.data_ptr<T>() : nullptr;
  T* dxp = dx.defined() ? dx.data_ptr<T>() : nullptr;
  T* dwp = dw.defined() ? dw.data_ptr<T>() : nullptr;
  T* dbp = db.defined() ? db.data_ptr<T>() : nullptr;
  if (!dxp && !dwp && !dbp) return;
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
  // Per block: n column sums of g * xhat, then n of g.
  std::vector<A> part(dwp || dbp ? static_cast<size_t>(blocks * 2 * n) : 0, A(0));
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(4 * n * kBlock, 1));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    // Row scratch for the scalar row (float16 / bfloat16); the vector row needs none.
    const size_t scratch = std::is_same_v<T, A> ? 0 : static_cast<size_t>(n);
    std::vector<A> gw(scratch), xh(scratch);
    bwd_blocks<T>(dxp, gp, xp, mp, rp, wp, part.data(), dwp != nullptr, dbp != nullptr, gw.data(), xh.data(), rows, n,
                  rms, b0, b1);
  });
  if (!dwp && !dbp) return;
  parallel_for(0, n, std::max<int64_t>(16, kGrainSize / std::max<int64_t>(blocks, 1)), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      A sw = 0, sb = 0;
      for (int64_t blk = 0; blk < blocks; ++blk) {
        sw += part[static_cast<size_t>(blk * 2 * n + c)];
        sb += part[static_cast<size_t>(blk * 2 * n + n + c)];
      }
      if (dwp) dwp[c] = static_cast<T>(sw);
      if (dbp) dbp[c] = static_cast<T>(sb);
    }
  });
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("nn_norm", DeviceType::CPU, Ts, &norm_fwd<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("nn_norm_backward", DeviceType::CPU, Ts, &norm_bwd<dtype_cpp_t<Ts>>), ...);
  return true;
}

const bool registered = register_all<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
#endif  // HWY_ONCE
