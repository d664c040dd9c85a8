// CPU softmax / log_softmax, forward and backward, for the four float dtypes. The input is a
// contiguous (outer, dim, inner) block. inner == 1 (the softmax runs along the last dim) is a set
// of contiguous rows: vectorised (nn_hwy.cpp), parallel over rows. inner > 1 walks blocks of
// columns so that each step along dim reads a contiguous run (the compiler vectorises the
// column loops). 16-bit floats are computed in float32 and rounded once.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

namespace ricci::cpu {
namespace {

// Rows holding NaN or inf (and the rows the vector path declines): float64 throughout, rounded
// once (Note [Softmax accuracy], nn_hwy.cpp). max = -inf (a row of -inf) or +inf gives NaN
// through -inf - -inf or inf - inf, as PyTorch.
template <class C>
void softmax_row_scalar(const C* in, C* out, int64_t n, bool log) {
  C mx = -std::numeric_limits<C>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = (in[i] > mx || std::isnan(in[i])) ? in[i] : mx;
  const double m = static_cast<double>(mx);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(in[i]) - m);
  if (!log) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<C>(std::exp(static_cast<double>(in[i]) - m) / sum);
  } else {
    // (x - max) - log(sum), not x - (max + log(sum)): at |x| ~ 1e4 the sum max + log(sum) would
    // round away most of log(sum).
    const double log_sum = std::log(sum);
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<C>((static_cast<double>(in[i]) - m) - log_sum);
  }
}

template <class C>
void softmax_row(const C* in, C* out, int64_t n, bool log) {
  bool done = false;
  if constexpr (std::is_same_v<C, float>) done = hwy_softmax_row_f32(in, out, n, log);
  else done = hwy_softmax_row_f64(in, out, n, log);
  if (!done) softmax_row_scalar(in, out, n, log);
}

template <class C>
void softmax_bwd_row(const C* g, const C* y, C* dx, int64_t n, bool log) {
  if constexpr (std::is_same_v<C, float>) hwy_softmax_bwd_row_f32(g, y, dx, n, log);
  else hwy_softmax_bwd_row_f64(g, y, dx, n, log);
}

inline void exp_sub_accum(const float* x, const float* m, float* ex, double* sum, int64_t n) {
  hwy_exp_sub_accum_f32(x, m, ex, sum, n);
}
inline void exp_sub_accum(const double* x, const double* m, double* ex, double* sum, int64_t n) {
  hwy_exp_sub_accum_f64(x, m, ex, sum, n);
}

// Rows per parallel chunk so that a chunk holds about kGrainSize elements.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, kGrainSize / std::max<int64_t>(n, 1)); }

// Runs fn(row_begin, row_end, buffers) over the rows, giving 16-bit types float scratch rows.
template <class T, class Fn>
void for_rows(int64_t rows, int64_t n, int nbuf, Fn fn) {
  parallel_for(0, rows, row_grain(n), [&](int64_t b, int64_t e) {
    std::vector<float> scratch;
    if constexpr (!std::is_same_v<T, compute_t<T>>) scratch.resize(static_cast<size_t>(n * nbuf));
    fn(b, e, scratch.data());
  });
}

template <class T>
void to_float(const T* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}
template <class T>
void from_float(const float* src, T* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = T(src[i]);
}

constexpr int64_t kColBlock = 64;

template <class T>
void softmax_fwd(const Tensor& out, const Tensor& in, int64_t outer, int64_t D, int64_t inner, bool log) {
  using C = compute_t<T>;
  const T* x = in.data_ptr<T>();
  T* y = out.data_ptr<T>();
  if (outer * D * inner == 0) return;
  if (inner == 1) {
    for_rows<T>(outer, D, 2, [&](int64_t b, int64_t e, float* buf) {
      for (int64_t r = b; r < e; ++r) {
        if constexpr (std::is_same_v<T, C>) {
          softmax_row<C>(x + r * D, y + r * D, D, log);
        } else {
          to_float(x + r * D, buf, D);
          softmax_row<float>(buf, buf + D, D, log);
          from_float(buf + D, y + r * D, D);
        }
      }
    });
    return;
  }
  const int64_t nblk = (inner + kColBlock - 1) / kColBlock;
  parallel_for(0, outer * nblk, std::max<int64_t>(1, kGrainSize / (D * kColBlock)), [&](int64_t b, int64_t e) {
    C mx[kColBlock];
    double sum[kColBlock];  // float64 sums and results: Note [Softmax accuracy]
    std::vector<C> ex;
    if (!log) ex.resize(static_cast<size_t>(D * kColBlock));
    for (int64_t job = b; job < e; ++job) {
      const int64_t o = job / nblk, j0 = (job % nblk) * kColBlock, w = std::min(kColBlock, inner - j0);
      const T* xb = x + o * D * inner + j0;
      T* yb = y + o * D * inner + j0;
      std::fill_n(mx, w, -std::numeric_limits<C>::infinity());
      std::fill_n(sum, w, 0.0);
      for (int64_t k = 0; k < D; ++k) {
        const T* xr = xb + k * inner;
        for (int64_t j = 0; j < w; ++j) {
          const C v = static_cast<C>(xr[j]);
          mx[j] = (v > mx[j] || std::isnan(v)) ? v : mx[j];
        }
      }
      bool finite = true;
      for (int64_t j = 0; j < w; ++j) finite = finite && std::isfinite(mx[j]);
      for (int64_t k = 0; k < D; ++k) {
        const T* xr = xb + k * inner;
        C* er = log ? nullptr : ex.data() + k * kColBlock;
        if constexpr (std::is_same_v<T, C>) {
          if (finite) {  // no NaN or +inf in the block: the vector exp is exact enough
            exp_sub_accum(xr, mx, er, sum, w);
            continue;
          }
        }
        for (int64_t j = 0; j < w; ++j) {
          const double ev = std::exp(static_cast<double>(static_cast<C>(xr[j])) - static_cast<double>(mx[j]));
          if (er) er[j] = static_cast<C>(ev);
          sum[j] += ev;
        }
      }
      if (!log) {
        for (int64_t j = 0; j < w; ++j) sum[j] = 1 / sum[j];
        for (int64_t k = 0; k < D; ++k)
          for (int64_t j = 0; j < w; ++j)
            yb[k * inner + j] = static_cast<T>(static_cast<C>(static_cast<double>(ex[k * kColBlock + j]) * sum[j]));
      } else {
        for (int64_t j = 0; j < w; ++j) sum[j] = std::log(sum[j]);
        for (int64_t k = 0; k < D; ++k)
          for (int64_t j = 0; j < w; ++j)
            yb[k * inner + j] = static_cast<T>(static_cast<C>(
                (static_cast<double>(static_cast<C>(xb[k * inner + j])) - static_cast<double>(mx[j])) - sum[j]));
      }
    }
  });
}

template <class T>
void softmax_bwd(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out, int64_t outer, int64_t D,
                 int64_t inner, bool log) {
  using C = compute_t<T>;
  const T* g = grad_out.data_ptr<T>();
  const T* y = out.data_ptr<T>();
  T* dx = grad_in.data_ptr<T>();
  if (outer * D * inner == 0) return;
  if (inner == 1) {
    for_rows<T>(outer, D, 3, [&](int64_t b, int64_t e, float* buf) {
      for (int64_t r = b; r < e; ++r) {
        if constexpr (std::is_same_v<T, C>) {
          softmax_bwd_row<C>(g + r * D, y + r * D, dx + r * D, D, log);
        } else {
          to_float(g + r * D, buf, D);
          to_float(y + r * D, buf + D, D);
          softmax_bwd_row<float>(buf, buf + D, buf + 2 * D, D, log);
          from_float(buf + 2 * D, dx + r * D, D);
        }
      }
    });
    return;
  }
  const int64_t nblk = (inner + kColBlock - 1) / kColBlock;
  parallel_for(0, outer * nblk, std::max<int64_t>(1, kGrainSize / (D * kColBlock)), [&](int64_t b, int64_t e) {
    C sum[kColBlock];
    for (int64_t job = b; job < e; ++job) {
      const int64_t o = job / nblk, j0 = (job % nblk) * kColBlock, w = std::min(kColBlock, inner - j0);
      const int64_t base = o * D * inner + j0;
      std::fill_n(sum, w, 0.0);
      for (int64_t k = 0; k < D; ++k) {
        const int64_t off = base + k * inner;
        for (int64_t j = 0; j < w; ++j)
          sum[j] += log ? static_cast<C>(g[off + j]) : static_cast<C>(g[off + j]) * static_cast<C>(y[off + j]);
      }
      for (int64_t k = 0; k < D; ++k) {
        const int64_t off = base + k * inner;
        for (int64_t j = 0; j < w; ++j) {
          const C gv = static_cast<C>(g[off + j]), yv = static_cast<C>(y[off + j]);
          dx[off + j] = static_cast<T>(log ? gv - std::exp(yv) * sum[j] : yv * (gv - sum[j]));
        }
      }
    }
  });
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("nn_softmax", DeviceType::CPU, Ts, &softmax_fwd<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("nn_softmax_backward", DeviceType::CPU, Ts, &softmax_bwd<dtype_cpp_t<Ts>>), ...);
  return true;
}

const bool registered = register_all<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
