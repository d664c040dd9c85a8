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

// dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w (rms: no mean(gw) term);
// dw = sum over rows of g * xhat, db = sum of g (column sums, split over threads by column).
template <class T>
void norm_bwd(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
              const Tensor& mean, const Tensor& rstd, const Tensor& w, int64_t rows, int64_t n, bool rms) {
  using A = acc_t<T>;
  const T* gp = g.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const A* mp = rms ? nullptr : mean.data_ptr<A>();
  const A* rp = rstd.data_ptr<A>();
  const T* wp = w.defined() ? w.data_ptr<T>() : nullptr;
  if (dx.defined()) {
    T* dxp = dx.data_ptr<T>();
    parallel_for(0, rows, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(4 * n, 1)), [&](int64_t r0, int64_t r1) {
      std::vector<A> gw(static_cast<size_t>(n)), xh(static_cast<size_t>(n));
      for (int64_t r = r0; r < r1; ++r) {
        const T* gr = gp + r * n;
        const T* xr = xp + r * n;
        const A mu = mp ? mp[r] : A(0), rs = rp[r];
        A sum_gw = 0;
        for (int64_t i = 0; i < n; ++i) {
          gw[i] = static_cast<A>(gr[i]) * (wp ? static_cast<A>(wp[i]) : A(1));
          xh[i] = (static_cast<A>(xr[i]) - mu) * rs;
          sum_gw += gw[i];
        }
        const A inv_n = n > 0 ? A(1) / static_cast<A>(n) : A(0);
        const A mean_gw = rms ? A(0) : sum_gw * inv_n;
        A dot = 0;
        for (int64_t i = 0; i < n; ++i) dot += gw[i] * xh[i];
        const A mean_gxh = dot * inv_n;
        T* dr = dxp + r * n;
        for (int64_t i = 0; i < n; ++i) dr[i] = static_cast<T>(rs * (gw[i] - mean_gw - xh[i] * mean_gxh));
      }
    });
  }
  if (!dw.defined() && !db.defined()) return;
  T* dwp = dw.defined() ? dw.data_ptr<T>() : nullptr;
  T* dbp = db.defined() ? db.data_ptr<T>() : nullptr;
  parallel_for(0, n, std::max<int64_t>(16, kGrainSize / std::max<int64_t>(rows, 1)), [&](int64_t c0, int64_t c1) {
    std::vector<A> sw(static_cast<size_t>(c1 - c0), A(0)), sb(static_cast<size_t>(c1 - c0), A(0));
    for (int64_t r = 0; r < rows; ++r) {
      const T* gr = gp + r * n;
      const T* xr = xp + r * n;
      const A mu = mp ? mp[r] : A(0), rs = rp[r];
      for (int64_t c = c0; c < c1; ++c) {
        const A gv = static_cast<A>(gr[c]);
        sw[c - c0] += gv * (static_cast<A>(xr[c]) - mu) * rs;
        sb[c - c0] += gv;
      }
    }
    for (int64_t c = c0; c < c1; ++c) {
      if (dwp) dwp[c] = static_cast<T>(sw[c - c0]);
      if (dbp) dbp[c] = static_cast<T>(sb[c - c0]);
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
