// Vectorised softmax rows (forward and backward) for contiguous float32/float64, compiled for
// AVX2 and AVX-512 plus a scalar fallback and picked at run time (Highway's dynamic dispatch).
// One pass finds the max, one computes exp(x - max) (stored) and its sum, one scales.
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <type_traits>

#include "backend/cpu/nn_kernels.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/nn_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include "backend/cpu/hwy_exp_diff-inl.h"
#include "backend/cpu/vector_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Note [Softmax accuracy]: two roundings decide a float32 softmax's error. x - max rounds (it is
// exact only when the two are within a factor 2), and exp turns that absolute error into a
// relative one of |x - max| 2^-24, i.e. |x - max| ulps; and a float32 running sum of the
// exponentials drifts by up to n/2 ulps over a row of n. So the difference is carried exactly,
// as z + zlo (2Sum), exp(z + zlo) = exp(z) (1 + zlo) (ExpDiff, hwy_exp_diff-inl.h), and the
// float32 rows sum in float64;
// log(sum) is then exact enough that log_softmax keeps its relative accuracy near 0 (where
// sum = 1 + tiny). softmax ends within 3 ulp, log_softmax within 1.5 ulp of max(|y|, 1)
// (docs/accuracy.md).

// The float64 tag a vector of T widens into: half as many lanes for float32 (one lane on the
// scalar target), the same tag for float64.
#if HWY_TARGET == HWY_SCALAR
template <class T> using WideTag = hn::Rebind<double, hn::ScalableTag<T>>;
#else
template <class T>
using WideTag = std::conditional_t<std::is_same_v<T, float>, hn::Repartition<double, hn::ScalableTag<T>>,
                                   hn::ScalableTag<T>>;
#endif

// lo, hi += the lanes of v in float64 (float32: lower and upper halves; float64: all into lo).
template <class T, class DD, class V>
HWY_INLINE void AddWide(DD dd, V v, hn::Vec<DD>& lo, hn::Vec<DD>& hi) {
  if constexpr (std::is_same_v<T, double>) {
    lo = hn::Add(lo, v);
  } else {
#if HWY_TARGET == HWY_SCALAR
    lo = hn::Add(lo, hn::PromoteTo(dd, v));
#else
    const hn::Half<hn::ScalableTag<T>> dh;
    lo = hn::Add(lo, hn::PromoteTo(dd, hn::LowerHalf(dh, v)));
    hi = hn::Add(hi, hn::PromoteTo(dd, hn::UpperHalf(dh, v)));
#endif
  }
}

template <class T>
HWY_INLINE bool SoftmaxRow(const T* HWY_RESTRICT in, T* HWY_RESTRICT out, int64_t n, bool log) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  constexpr T kInf = std::numeric_limits<T>::infinity();
  const auto vpinf = hn::Set(d, kInf);
  auto vmax0 = hn::Set(d, -kInf);
  auto vmax1 = vmax0;
  // Note [Softmax rows with -inf]: a masked score (-inf: attention's causal mask) stays on the
  // vector path: exp(-inf - max) is exactly 0 (ExpDiff zeroes the NaN low part of -inf - max) and
  // log_softmax gives it -inf. NaN and +inf send the row to the scalar path, and so does a row
  // whose max is -inf (all masked: NaN, as PyTorch). (Before, every causal row of a GPT went the
  // scalar float64 way: a third of a training step's non-GEMM time on AVX2.) The emulated
  // targets decline -inf too: their Exp converts it to an integer with a C++ cast.
  auto vbad = hn::Zero(d);
  const auto bad = [&](auto v) {
#if HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
    (void)vpinf;
    return hn::Sub(v, v);  // NaN exactly for NaN and +-inf
#else
    return hn::VecFromMask(d, hn::Or(hn::IsNaN(v), hn::Eq(v, vpinf)));
#endif
  };
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto a = hn::LoadU(d, in + i), b = hn::LoadU(d, in + i + N);
    vmax0 = hn::Max(vmax0, a);
    vmax1 = hn::Max(vmax1, b);
    vbad = hn::Or(vbad, hn::Or(bad(a), bad(b)));
  }
  for (; i + N <= n; i += N) {
    const auto a = hn::LoadU(d, in + i);
    vmax0 = hn::Max(vmax0, a);
    vbad = hn::Or(vbad, bad(a));
  }
  T mx = hn::GetLane(hn::MaxOfLanes(d, hn::Max(vmax0, vmax1)));
  for (; i < n; ++i) {
#if HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
    if (!std::isfinite(in[i])) return false;
#else
    if (std::isnan(in[i]) || in[i] == kInf) return false;
#endif
    mx = in[i] > mx ? in[i] : mx;
  }
  if (!hn::AllTrue(d, hn::Eq(vbad, hn::Zero(d))) || mx == -kInf) return false;

  // Exp of a value below the representable range is 0 (Highway clamps), which is what we want.
  // Note [Softmax accuracy].
  const auto vm = hn::Set(d, mx);
  const WideTag<T> dd;
  auto lo0 = hn::Zero(dd), hi0 = lo0, lo1 = lo0, hi1 = lo0;
  auto total = [&] { return hn::GetLane(hn::SumOfLanes(dd, hn::Add(hn::Add(lo0, hi0), hn::Add(lo1, hi1)))); };
  i = 0;
  if (!log) {
    for (; i + 2 * N <= n; i += 2 * N) {
      const auto e0 = ExpDiff(d, hn::LoadU(d, in + i), vm);
      const auto e1 = ExpDiff(d, hn::LoadU(d, in + i + N), vm);
      hn::StoreU(e0, d, out + i);
      hn::StoreU(e1, d, out + i + N);
      AddWide<T>(dd, e0, lo0, hi0);
      AddWide<T>(dd, e1, lo1, hi1);
    }
    for (; i + N <= n; i += N) {
      const auto e0 = ExpDiff(d, hn::LoadU(d, in + i), vm);
      hn::StoreU(e0, d, out + i);
      AddWide<T>(dd, e0, lo0, hi0);
    }
    double sum = total();
    for (; i < n; ++i) {
      const double e = std::exp(static_cast<double>(in[i]) - static_cast<double>(mx));
      out[i] = static_cast<T>(e);
      sum += e;
    }
    const T inv = static_cast<T>(1 / sum);
    const auto vinv = hn::Set(d, inv);
    for (i = 0; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(d, out + i), vinv), d, out + i);
    for (; i < n; ++i) out[i] *= inv;
  } else {
    for (; i + 2 * N <= n; i += 2 * N) {
      AddWide<T>(dd, ExpDiff(d, hn::LoadU(d, in + i), vm), lo0, hi0);
      AddWide<T>(dd, ExpDiff(d, hn::LoadU(d, in + i + N), vm), lo1, hi1);
    }
    for (; i + N <= n; i += N) AddWide<T>(dd, ExpDiff(d, hn::LoadU(d, in + i), vm), lo0, hi0);
    double sum = total();
    for (; i < n; ++i) sum += std::exp(static_cast<double>(in[i]) - static_cast<double>(mx));
    // (x - max) - log(sum), not x - (max + log(sum)): at |x| ~ 1e4 the sum max + log(sum) would
    // round away most of log(sum). log(sum) is carried as hi + lo, x - max as z + zlo.
    const double log_sum = std::log(sum);
    const T ls_hi = static_cast<T>(log_sum), ls_lo = static_cast<T>(log_sum - static_cast<double>(ls_hi));
    const auto vhi = hn::Set(d, ls_hi), vlo = hn::Set(d, ls_lo);
    for (i = 0; i + N <= n; i += N) {
      hn::Vec<decltype(d)> zlo;
      const auto z = TwoDiff(hn::LoadU(d, in + i), vm, zlo);
      // x = -inf: z = -inf and zlo NaN (inf - inf); the result is -inf (Note [Softmax rows with -inf]).
      zlo = hn::IfThenZeroElse(hn::IsNaN(zlo), zlo);
      hn::StoreU(hn::Add(hn::Sub(z, vhi), hn::Sub(zlo, vlo)), d, out + i);
    }
    for (; i < n; ++i) out[i] = static_cast<T>((static_cast<double>(in[i]) - static_cast<double>(mx)) - log_sum);
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

// ex[j] = exp(x[j] - m[j]) (unless ex is null) and sum[j] += that, in float64: one step of the
// column-block softmax (Note [Softmax accuracy]). The caller guarantees finite m (so no NaN or
// +inf reaches Exp).
template <class T>
HWY_INLINE void ExpSubAccum(const T* HWY_RESTRICT x, const T* HWY_RESTRICT m, T* HWY_RESTRICT ex,
                            double* HWY_RESTRICT sum, int64_t n) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto e = ExpDiff(d, hn::LoadU(d, x + i), hn::LoadU(d, m + i));
    if (ex) hn::StoreU(e, d, ex + i);
    if constexpr (std::is_same_v<T, double>) {
      hn::StoreU(hn::Add(hn::LoadU(d, sum + i), e), d, sum + i);
    } else {
#if HWY_TARGET == HWY_SCALAR
      sum[i] += static_cast<double>(hn::GetLane(e));
#else
      const hn::Repartition<double, decltype(d)> dd;
      const hn::Half<decltype(d)> dh;
      const int64_t H = static_cast<int64_t>(hn::Lanes(dd));
      hn::StoreU(hn::Add(hn::LoadU(dd, sum + i), hn::PromoteTo(dd, hn::LowerHalf(dh, e))), dd, sum + i);
      hn::StoreU(hn::Add(hn::LoadU(dd, sum + i + H), hn::PromoteTo(dd, hn::UpperHalf(dh, e))), dd, sum + i + H);
#endif
    }
  }
  for (; i < n; ++i) {
    const double e = std::exp(static_cast<double>(x[i]) - static_cast<double>(m[i]));
    if (ex) ex[i] = static_cast<T>(e);
    sum[i] += e;
  }
}

// Note [Fused GELU backward]: the derivative of gelu(x) = x Phi(x) (approximate="none") is
//   g (Phi(x) + x phi(x)),  Phi(x) = (erf(x sqrt2 / 2) + 1) / 2,  phi(x) = exp(-x^2 / 2) / sqrt(2 pi),
// which unary_vjp (src/ops/elementwise_unary.cpp) writes as eleven elementwise ops: eleven passes
// over a (tokens, 4 d) tensor per MLP in a transformer's backward (a tenth of a GPT training step
// on AVX2). A plain backward (no create_graph) runs this one pass instead, with the same float32
// operations in the same order (erf as vector_math-inl.h's ErfF32 and exp as Highway's Exp, as
// the eager kernels run them, each falling back to the C library for a vector with a lane out
// of its range, as there), so its result is the composed one bit for bit.

// v, with the compiler kept from fusing the multiply that made it into the add that takes it (GCC
// contracts a * b + c of vector intrinsics into one FMA, which the composed form's separate ops
// cannot do). x86 only; elsewhere the result may differ from the composed one in the last bit.
template <class V>
HWY_INLINE V Rounded(V v) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  __asm__("" : "+x"(v.raw));
#endif
  return v;
}

void GeluErfBackwardF32(const float* HWY_RESTRICT g, const float* HWY_RESTRICT x, float* HWY_RESTRICT dx, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const float kSqrt2 = static_cast<float>(std::numbers::sqrt2);
  const float kInvSqrt2Pi = static_cast<float>(1.0 / std::sqrt(2 * std::numbers::pi));
  const auto vsqrt2 = hn::Set(d, kSqrt2), vhalf = hn::Set(d, 0.5f), vone = hn::Set(d, 1.0f),
             vmhalf = hn::Set(d, -0.5f), vc = hn::Set(d, kInvSqrt2Pi);
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
  // One lane's value by the C library (what a vector with a lane out of range gets in the
  // composed form); the tail takes it too.
  const auto scalar = [&](float xv, float gv) {
    const float a = xv * kSqrt2 / 2;
    const float cdf = (std::erf(a) + 1.0f) * 0.5f;
    const float pdf = std::exp(xv * xv * -0.5f) * kInvSqrt2Pi;
    return gv * (cdf + xv * pdf);
  };
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto xv = hn::LoadU(d, x + i);
    const auto a = hn::Mul(hn::Mul(xv, vsqrt2), vhalf);
    hn::Vec<decltype(d)> e;
    if (HWY_LIKELY(hn::AllTrue(d, hn::Lt(hn::Abs(a), hn::Set(d, 1e30f))))) {
      e = ErfF32(d, a);
    } else {
      hn::Store(a, d, buf);
      for (int64_t k = 0; k < N; ++k) buf[k] = std::erf(buf[k]);
      e = hn::Load(d, buf);
    }
    const auto cdf = hn::Mul(hn::Add(e, vone), vhalf);
    const auto t = hn::Mul(hn::Mul(xv, xv), vmhalf);
    hn::Vec<decltype(d)> ex;
    if (HWY_LIKELY(hn::AllTrue(d, hn::Lt(hn::Abs(t), hn::Set(d, 87.0f))))) {
      ex = hn::Exp(d, t);
    } else {
      hn::Store(t, d, buf);
      for (int64_t k = 0; k < N; ++k) buf[k] = std::exp(buf[k]);
      ex = hn::Load(d, buf);
    }
    const auto pdf = hn::Mul(ex, vc);
    hn::StoreU(hn::Mul(hn::LoadU(d, g + i), hn::Add(cdf, Rounded(hn::Mul(xv, pdf)))), d, dx + i);
  }
  for (; i < n; ++i) dx[i] = scalar(x[i], g[i]);
}

void ExpSubAccumF32(const float* x, const float* m, float* ex, double* sum, int64_t n) { ExpSubAccum(x, m, ex, sum, n); }
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
HWY_EXPORT(GeluErfBackwardF32);

void hwy_gelu_erf_backward_f32(const float* g, const float* x, float* dx, int64_t n) {
  HWY_DYNAMIC_DISPATCH(GeluErfBackwardF32)(g, x, dx, n);
}

void hwy_exp_sub_accum_f32(const float* x, const float* m, float* ex, double* sum, int64_t n) {
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
