// CPU kernels for norm, var/std and logsumexp. var and logsumexp take two passes through the
// engine: a per-output statistic (the mean, the max) into a float64 buffer, then a pass that
// reads it as `aux` (Note [Reduction plans]). float32 rows (and logsumexp's float32 columns)
// take vectorised paths (reduce_hwy.h) that make both passes over data still in cache.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cast.h"
#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_hwy.h"
#include "backend/cpu/reduce_kernels.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

using kernels::ReduceParams;

inline double absd(double v) { return std::fabs(v); }

// Sum-like ops over a transformed value; `Out` is T, or double for the statistic passes.
template <class T, class F, class Fin, class Out_ = T>
struct MapSumOp {
  using Acc = double;
  using Out = Out_;
  F f;
  Fin fin;
  Acc init() const { return 0; }
  Acc step(Acc a, T x, double aux) const { return a + f(cast<double>(x), aux); }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t n, double aux) const { return cast<Out>(fin(a, n, aux)); }
};
template <class T, class Out = T, class F, class Fin>
MapSumOp<T, F, Fin, Out> map_sum(F f, Fin fin) { return {f, fin}; }

// max/min of |x| (kAbs) or x, NaN propagating.
template <class T, bool kMax, bool kAbs, class Out_ = T>
struct ExtOp {
  using Acc = double;
  using Out = Out_;
  Acc init() const { return kMax ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity(); }
  Acc step(Acc a, T xt, double) const {
    const double x = kAbs ? absd(cast<double>(xt)) : cast<double>(xt);
    return merge(a, x);
  }
  Acc merge(Acc a, Acc x) const { return (kMax ? x > a : x < a) || x != x ? x : a; }
  Out finish(Acc a, int64_t, double) const { return cast<Out>(a); }
};

template <class T>
void norm_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams& prm) {
  const double p = prm.p;
  auto same = [](double a, int64_t, double) { return a; };
  if (p == 2) {
    reduce::run<T>(map_sum<T>([](double x, double) { return x * x; }, [](double a, int64_t, double) { return std::sqrt(a); }), out, in, m);
  } else if (p == 1) {
    reduce::run<T>(map_sum<T>([](double x, double) { return absd(x); }, same), out, in, m);
  } else if (p == 0) {
    reduce::run<T>(map_sum<T>([](double x, double) { return x != 0 ? 1.0 : 0.0; }, same), out, in, m);
  } else if (std::isinf(p)) {
    if (p > 0) reduce::run<T>(ExtOp<T, true, true>{}, out, in, m);
    else reduce::run<T>(ExtOp<T, false, true>{}, out, in, m);
  } else {
    reduce::run<T>(map_sum<T>([p](double x, double) { return std::pow(absd(x), p); },
                             [p](double a, int64_t, double) { return std::pow(a, 1.0 / p); }),
                  out, in, m);
  }
}

double finish_var(double sq_dev, int64_t n, const ReduceParams& prm) {
  const double v = sq_dev / std::max(0.0, static_cast<double>(n) - static_cast<double>(prm.correction));
  return prm.take_sqrt ? std::sqrt(v) : v;
}

// float32 rows: both passes over a row while it is in cache, instead of two passes over the
// tensor through the engine.
bool var_rows_f32(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams& prm) {
  float* op = static_cast<float*>(out.data_ptr());
  return reduce::for_each_row<float>(out, in, m, [&](const float* p, int64_t n, int64_t ooff) {
    const double mu = reduce::sum_contiguous_f32(p, n) / static_cast<double>(n);
    op[ooff] = static_cast<float>(finish_var(reduce::sq_dev_sum_f32(p, n, mu), n, prm));
  });
}

// A non-finite max is the answer itself: NaN propagates, +inf dominates, and all -inf (or an
// empty row) gives log(0) = -inf.
bool logsumexp_rows_f32(const Tensor& out, const Tensor& in, uint64_t m) {
  float* op = static_cast<float*>(out.data_ptr());
  return reduce::for_each_row<float>(out, in, m, [&](const float* p, int64_t n, int64_t ooff) {
    const float mx = reduce::extremum_f32(p, n, true);
    op[ooff] = std::isfinite(mx) ? static_cast<float>(std::log(reduce::exp_sum_f32(p, n, mx)) + mx) : mx;
  });
}

// Columns (a contiguous kept dim): a block of column maxima, then the block's exp sums.
bool logsumexp_columns_f32(const Tensor& out, const Tensor& in, uint64_t m) {
  float* op = static_cast<float*>(out.data_ptr());
  return reduce::for_each_column_block<float>(out, in, m, [&](const float* p, int64_t rs, int64_t n, int64_t w, int64_t ooff, int64_t os) {
    float mx[reduce::kTile], shift[reduce::kTile];
    double acc[reduce::kTile];
    std::fill(mx, mx + w, -std::numeric_limits<float>::infinity());
    reduce::extremum_rows_f32(mx, p, rs, n, w, true);
    for (int64_t j = 0; j < w; ++j) {
      shift[j] = std::isfinite(mx[j]) ? mx[j] : 0.0f;
      acc[j] = 0;
    }
    reduce::exp_sum_rows_f32(acc, p, rs, n, w, shift);
    for (int64_t j = 0; j < w; ++j)
      op[ooff + j * os] = std::isfinite(mx[j]) ? static_cast<float>(std::log(acc[j]) + mx[j]) : mx[j];
  });
}

template <class T>
void var_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams& prm) {
  if constexpr (std::is_same_v<T, float>) {
    if (var_rows_f32(out, in, m, prm)) return;
  }
  Tensor mean = empty_tensor(out.shape(), DType::Float64, out.device());
  reduce::run<T>(map_sum<T, double>([](double x, double) { return x; },
                                   [](double a, int64_t n, double) { return a / static_cast<double>(n); }),
                mean, in, m);
  reduce::run<T>(map_sum<T>([](double x, double mu) { return (x - mu) * (x - mu); },
                           [prm](double a, int64_t n, double) { return finish_var(a, n, prm); }),
                out, in, m, &mean);
}

template <class T>
void logsumexp_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) {
  if constexpr (std::is_same_v<T, float>) {
    if (logsumexp_rows_f32(out, in, m) || logsumexp_columns_f32(out, in, m)) return;
  }
  Tensor mx = empty_tensor(out.shape(), DType::Float64, out.device());
  reduce::run<T>(ExtOp<T, true, false, double>{}, mx, in, m);
  // An infinite max cannot be subtracted (inf - inf = NaN): shift by 0 instead, which gives
  // -inf for all -inf rows and inf where +inf appears.
  double* mp = static_cast<double*>(mx.data_ptr());
  for (int64_t i = 0; i < mx.numel(); ++i)
    if (std::isinf(mp[i])) mp[i] = 0;
  reduce::run<T>(map_sum<T>([](double x, double mu) { return std::exp(x - mu); },
                           [](double a, int64_t, double mu) { return std::log(a) + mu; }),
                out, in, m, &mx);
}

template <DType... Ts>
bool register_float() {
  using kernels::register_kernel;
  (register_kernel("norm", DeviceType::CPU, Ts, &norm_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("var", DeviceType::CPU, Ts, &var_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("logsumexp", DeviceType::CPU, Ts, &logsumexp_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
const bool registered = register_float<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
