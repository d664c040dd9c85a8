// Vectorised softmax rows (forward and backward) for contiguous float32/float64, compiled for
// AVX2 and AVX-512 plus a scalar fallback and picked at run time (Highway's dynamic dispatch).
// One pass finds the max, one computes exp(x - max) (stored) and its sum, one scales.
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu/nn_kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/nn_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class T>
HWY_INLINE bool SoftmaxRow(const T* HWY_RESTRICT in, T* HWY_RESTRICT out, int64_t n, bool log) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto vmax0 = hn::Set(d, -std::numeric_limits<T>::infinity());
  auto vmax1 = vmax0;
  auto vnan = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto a = hn::LoadU(d, in + i), b = hn::LoadU(d, in + i + N);
    vmax0 = hn::Max(vmax0, a);
    vmax1 = hn::Max(vmax1, b);
    // x - x is NaN exactly for NaN and inf: one test covers both.
    vnan = hn::Or(vnan, hn::Or(hn::Sub(a, a), hn::Sub(b, b)));
  }
  for (; i + N <= n; i += N) {
    const auto a = hn::LoadU(d, in + i);
    vmax0 = hn::Max(vmax0, a);
    vnan = hn::Or(vnan, hn::Sub(a, a));
  }
  T mx = hn::GetLane(hn::MaxOfLanes(d, hn::Max(vmax0, vmax1)));
  for (; i < n; ++i) {
    if (!std::isfinite(in[i])) return false;
    mx = in[i] > mx ? in[i] : mx;
  }
  if (!hn::AllTrue(d, hn::Eq(vnan, hn::Zero(d)))) return false;

  // Exp of a value below the representable range is 0 (Highway clamps), which is what we want.
  const auto vm = hn::Set(d, mx);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d);
  i = 0;
  if (!log) {
    for (; i + 2 * N <= n; i += 2 * N) {
      const auto e0 = hn::Exp(d, hn::Sub(hn::LoadU(d, in + i), vm));
      const auto e1 = hn::Exp(d, hn::Sub(hn::LoadU(d, in + i + N), vm));
      hn::StoreU(e0, d, out + i);
      hn::StoreU(e1, d, out + i + N);
      s0 = hn::Add(s0, e0);
      s1 = hn::Add(s1, e1);
    }
    for (; i + N <= n; i += N) {
      const auto e0 = hn::Exp(d, hn::Sub(hn::LoadU(d, in + i), vm));
      hn::StoreU(e0, d, out + i);
      s0 = hn::Add(s0, e0);
    }
    T sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
    for (; i < n; ++i) {
      const T e = std::exp(in[i] - mx);
      out[i] = e;
      sum += e;
    }
    const T inv = T(1) / sum;
    const auto vinv = hn::Set(d, inv);
    for (i = 0; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(d, out + i), vinv), d, out + i);
    for (; i < n; ++i) out[i] *= inv;
  } else {
    for (; i + 2 * N <= n; i += 2 * N) {
      s0 = hn::Add(s0, hn::Exp(d, hn::Sub(hn::LoadU(d, in + i), vm)));
      s1 = hn::Add(s1, hn::Exp(d, hn::Sub(hn::LoadU(d, in + i + N), vm)));
    }
    for (; i + N <= n; i += N) s0 = hn::Add(s0, hn::Exp(d, hn::Sub(hn::LoadU(d, in + i), vm)));
    T sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
    for (; i < n; ++i) sum += std::exp(in[i] - mx);
    // (x - max) - log(sum): see softmax_row_scalar.
    const T log_sum = std::log(sum);
    const auto vl = hn::Set(d, log_sum);
    for (i = 0; i + N <= n; i += N) hn::StoreU(hn::Sub(hn::Sub(hn::LoadU(d, in + i), vm), vl), d, out + i);
    for (; i < n; ++i) out[i] = (in[i] - mx) - log_sum;
  }
  return true;
}

template <class T>
HWY_INLINE void SoftmaxBwdRow(const T* HWY_RESTRICT g, const T* HWY_RESTRICT y, T* HWY_RESTRICT dx, int64_t n,
                              bool log) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto s = hn::Zero(d);
  int64_t i = 0;
  if (!log) {
    for (; i + N <= n; i += N) s = hn::MulAdd(hn::LoadU(d, g + i), hn::LoadU(d, y + i), s);
    T sum = hn::GetLane(hn::SumOfLanes(d, s));
    for (; i < n; ++i) sum += g[i] * y[i];
    const auto vs = hn::Set(d, sum);
    for (i = 0; i + N <= n; i += N) {
      const auto yv = hn::LoadU(d, y + i);
      hn::StoreU(hn::Mul(yv, hn::Sub(hn::LoadU(d, g + i), vs)), d, dx + i);
    }
    for (; i < n; ++i) dx[i] = y[i] * (g[i] - sum);
  } else {
    for (; i + N <= n; i += N) s = hn::Add(s, hn::LoadU(d, g + i));
    T sum = hn::GetLane(hn::SumOfLanes(d, s));
    for (; i < n; ++i) sum += g[i];
    const auto vs = hn::Set(d, sum);
    for (i = 0; i + N <= n; i += N) {
      const auto yv = hn::LoadU(d, y + i);
      // Highway's Exp maps NaN to 0; keep NaN so a NaN row's gradient stays NaN (as PyTorch).
      const auto e = hn::IfThenElse(hn::IsNaN(yv), yv, hn::Exp(d, yv));
      hn::StoreU(hn::NegMulAdd(e, vs, hn::LoadU(d, g + i)), d, dx + i);
    }
    for (; i < n; ++i) dx[i] = g[i] - std::exp(y[i]) * sum;
  }
}

// ex[j] = exp(x[j] - m[j]) (unless ex is null) and sum[j] += that: one step of the column-block
// softmax. The caller guarantees finite m (so no NaN or +inf reaches Exp).
template <class T>
HWY_INLINE void ExpSubAccum(const T* HWY_RESTRICT x, const T* HWY_RESTRICT m, T* HWY_RESTRICT ex,
                            T* HWY_RESTRICT sum, int64_t n) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, x + i), hn::LoadU(d, m + i)));
    if (ex) hn::StoreU(e, d, ex + i);
    hn::StoreU(hn::Add(hn::LoadU(d, sum + i), e), d, sum + i);
  }
  for (; i < n; ++i) {
    const T e = std::exp(x[i] - m[i]);
    if (ex) ex[i] = e;
    sum[i] += e;
  }
}

void ExpSubAccumF32(const float* x, const float* m, float* ex, float* sum, int64_t n) { ExpSubAccum(x, m, ex, sum, n); }
void ExpSubAccumF64(const double* x, const double* m, double* ex, double* sum, int64_t n) {
  ExpSubAccum(x, m, ex, sum, n);
}

bool SoftmaxRowF32(const float* in, float* out, int64_t n, bool log) { return SoftmaxRow(in, out, n, log); }
bool SoftmaxRowF64(const double* in, double* out, int64_t n, bool log) { return SoftmaxRow(in, out, n, log); }
void SoftmaxBwdRowF32(const float* g, const float* y, float* dx, int64_t n, bool log) { SoftmaxBwdRow(g, y, dx, n, log); }
void SoftmaxBwdRowF64(const double* g, const double* y, double* dx, int64_t n, bool log) {
  SoftmaxBwdRow(g, y, dx, n, log);
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(SoftmaxRowF32);
HWY_EXPORT(SoftmaxRowF64);
HWY_EXPORT(SoftmaxBwdRowF32);
HWY_EXPORT(SoftmaxBwdRowF64);
HWY_EXPORT(ExpSubAccumF32);
HWY_EXPORT(ExpSubAccumF64);

void hwy_exp_sub_accum_f32(const float* x, const float* m, float* ex, float* sum, int64_t n) {
  HWY_DYNAMIC_DISPATCH(ExpSubAccumF32)(x, m, ex, sum, n);
}
void hwy_exp_sub_accum_f64(const double* x, const double* m, double* ex, double* sum, int64_t n) {
  HWY_DYNAMIC_DISPATCH(ExpSubAccumF64)(x, m, ex, sum, n);
}

bool hwy_softmax_row_f32(const float* in, float* out, int64_t n, bool log) {
  return HWY_DYNAMIC_DISPATCH(SoftmaxRowF32)(in, out, n, log);
}
bool hwy_softmax_row_f64(const double* in, double* out, int64_t n, bool log) {
  return HWY_DYNAMIC_DISPATCH(SoftmaxRowF64)(in, out, n, log);
}
void hwy_softmax_bwd_row_f32(const float* g, const float* y, float* dx, int64_t n, bool log) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBwdRowF32)(g, y, dx, n, log);
}
void hwy_softmax_bwd_row_f64(const double* g, const double* y, double* dx, int64_t n, bool log) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBwdRowF64)(g, y, dx, n, log);
}
}  // namespace ricci::cpu
#endif
