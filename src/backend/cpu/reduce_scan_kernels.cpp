// CPU kernels for the scans: cumsum, cumprod, logcumsumexp, cummax and cummin. The contiguous
// input is seen as (outer, n, inner) with the scanned dim in the middle: a tile of up to kTile
// inner columns keeps its running values in a local float64/int64 array and walks the n rows, so
// the reads and writes stay contiguous (a scan along the last dim is the inner == 1 case).
#include <cmath>
#include <limits>

#include "backend/cpu/cast.h"
#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_kernels.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

enum class Scan { Sum, Prod, LogAddExp };

// The (outer, n, inner) view of a contiguous tensor scanned along dim.
struct ScanShape {
  int64_t outer = 1, n = 1, inner = 1;
  ScanShape(const Tensor& in, int64_t dim) {
    const int64_t nd = in.dim();
    n = nd == 0 ? 1 : in.sizes()[dim];
    for (int64_t d = 0; d < nd; ++d) {
      if (d < dim) outer *= in.sizes()[d];
      if (d > dim) inner *= in.sizes()[d];
    }
  }
  int64_t numel() const { return outer * n * inner; }
};

// Runs body(o, j0, w) over every tile of w <= kTile inner columns of every outer slice, in parallel.
template <class Body>
void for_each_tile(const ScanShape& sh, const Body& body) {
  const int64_t nblk = (sh.inner + reduce::kTile - 1) / reduce::kTile;
  const int64_t grain = std::max<int64_t>(1, kGrainSize / (sh.n * std::min(sh.inner, reduce::kTile)));
  parallel_for(0, sh.outer * nblk, grain, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u) {
      const int64_t o = u / nblk, j0 = (u % nblk) * reduce::kTile;
      body(o, j0, std::min(reduce::kTile, sh.inner - j0));
    }
  });
}

// log(exp(x) + exp(acc)) without overflow: PyTorch's _log_add_exp_helper, operand for operand
// (equal infinities give x itself, where the formula would make inf - inf = NaN).
inline double log_add_exp(double x, double acc) {
  const double lo = std::isnan(acc) ? acc : std::min(x, acc);
  const double hi = std::isnan(acc) ? acc : std::max(x, acc);
  if (lo != hi || std::isfinite(lo)) return std::log1p(std::exp(lo - hi)) + hi;
  return x;
}

template <class T, Scan kOp>
void scan_typed(const Tensor& out, const Tensor& in, int64_t dim, bool reverse) {
  using Acc = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;
  using Out = std::conditional_t<std::is_floating_point_v<compute_t<T>>, T, int64_t>;
  const ScanShape sh(in, dim);
  if (sh.numel() == 0) return;
  const int64_t n = sh.n, inner = sh.inner;
  const T* ip = static_cast<const T*>(in.data_ptr());
  Out* op = static_cast<Out*>(out.data_ptr());
  for_each_tile(sh, [&](int64_t o, int64_t j0, int64_t w) {
    Acc acc[reduce::kTile];
    const T* src = ip + o * n * inner + j0;
    Out* dst = op + o * n * inner + j0;
    for (int64_t j = 0; j < w; ++j) {
      if constexpr (kOp == Scan::LogAddExp) acc[j] = -std::numeric_limits<double>::infinity();
      else acc[j] = kOp == Scan::Prod ? 1 : 0;
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = reverse ? n - 1 - k : k;
      const T* s = src + i * inner;
      Out* d = dst + i * inner;
      for (int64_t j = 0; j < w; ++j) {
        if constexpr (kOp == Scan::LogAddExp) acc[j] = log_add_exp(cast<Acc>(s[j]), acc[j]);
        else if constexpr (kOp == Scan::Prod) acc[j] = acc_mul(acc[j], cast<Acc>(s[j]));  // integers wrap
        else acc[j] = acc_add(acc[j], cast<Acc>(s[j]));
        d[j] = cast<Out>(acc[j]);
      }
    }
  });
}

template <class T> void cumsum_kernel(const Tensor& o, const Tensor& i, int64_t d, bool r) { scan_typed<T, Scan::Sum>(o, i, d, r); }
template <class T> void cumprod_kernel(const Tensor& o, const Tensor& i, int64_t d, bool r) { scan_typed<T, Scan::Prod>(o, i, d, r); }
template <class T> void logcumsumexp_kernel(const Tensor& o, const Tensor& i, int64_t d, bool r) {
  scan_typed<T, Scan::LogAddExp>(o, i, d, r);
}

// cummax/cummin: PyTorch's rule, a new element takes over when it is NaN, or when the running
// value is not NaN and the element is >= (cummax) / <= (cummin) it. So ties move the index to the
// later element, and after a NaN the index follows each later NaN.
template <class T>
void cum_extremum_kernel(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, bool is_max) {
  using C = compute_t<T>;
  const ScanShape sh(in, dim);
  if (sh.numel() == 0) return;
  const int64_t n = sh.n, inner = sh.inner;
  const T* ip = static_cast<const T*>(in.data_ptr());
  T* vp = static_cast<T*>(values.data_ptr());
  int64_t* xp = static_cast<int64_t*>(indices.data_ptr());
  auto is_nan = [](C v) {
    if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
    else return false;
  };
  for_each_tile(sh, [&](int64_t o, int64_t j0, int64_t w) {
    C best[reduce::kTile] = {};
    int64_t at[reduce::kTile] = {};
    const int64_t base = o * n * inner + j0;
    for (int64_t k = 0; k < n; ++k) {
      const T* s = ip + base + k * inner;
      T* v = vp + base + k * inner;
      int64_t* x = xp + base + k * inner;
      for (int64_t j = 0; j < w; ++j) {
        const C c = static_cast<C>(s[j]);
        if (k == 0 || is_nan(c) || (!is_nan(best[j]) && (is_max ? c >= best[j] : c <= best[j]))) {
          best[j] = c;
          at[j] = k;
        }
        v[j] = ip[base + at[j] * inner + j];
        x[j] = at[j];
      }
    }
  });
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("cumsum", DeviceType::CPU, Ts, &cumsum_kernel<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("cumprod", DeviceType::CPU, Ts, &cumprod_kernel<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("cum_extremum", DeviceType::CPU, Ts, &cum_extremum_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
template <DType... Ts>
bool register_floating() {
  (kernels::register_kernel("logcumsumexp", DeviceType::CPU, Ts, &logcumsumexp_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>() &&
                        register_floating<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
