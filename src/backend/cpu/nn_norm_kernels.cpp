// CPU layer_norm / rms_norm, forward and backward, fused per row: statistics and output in one
// sweep of a row that stays in cache. Accumulation is in float64 for float64 and float32
// otherwise (PyTorch's acc type), with several partial sums so the loops vectorise.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

namespace ricci::cpu {
namespace {

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
using acc_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

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
  });
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

template <class T>
void norm_bwd(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
              const Tensor& mean, const Tensor& rstd, const Tensor& w, int64_t rows, int64_t n, bool rms) {
  using A = acc_t<T>;
  const T* gp = g.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const A* mp = rms ? nullptr : mean.data_ptr<A>();
  const A* rp = rstd.data_ptr<A>();
  const T* wp = w.defined() ? w.data_ptr<T>() : nullptr;
  T* dxp = dx.defined() ? dx.data_ptr<T>() : nullptr;
  T* dwp = dw.defined() ? dw.data_ptr<T>() : nullptr;
  T* dbp = db.defined() ? db.data_ptr<T>() : nullptr;
  if (!dxp && !dwp && !dbp) return;
  const int64_t blocks = (rows + kNormBwdBlock - 1) / kNormBwdBlock;
  // Per block: n column sums of g * xhat, then n of g.
  std::vector<A> part(dwp || dbp ? static_cast<size_t>(blocks * 2 * n) : 0, A(0));
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(4 * n * kNormBwdBlock, 1));
  parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
    std::vector<A> gw(static_cast<size_t>(n)), xh(static_cast<size_t>(n));
    for (int64_t blk = b0; blk < b1; ++blk) {
      A* pw = dwp ? part.data() + blk * 2 * n : nullptr;
      A* pb = dbp ? part.data() + blk * 2 * n + n : nullptr;
      for (int64_t r = blk * kNormBwdBlock; r < std::min(rows, (blk + 1) * kNormBwdBlock); ++r) {
        const A mu = mp ? mp[r] : A(0), rs = rp[r];
        T* dr = dxp ? dxp + r * n : nullptr;
        norm_bwd_row<T, A>(dr, gp + r * n, xp + r * n, wp, mu, rs, n, rms, gw.data(), xh.data(), pw, pb);
      }
    }
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
