// Vectorised contiguous loops for float32 (and the cheap float64 ops), compiled for AVX2 and
// AVX-512 plus a scalar fallback, picked at run time (Highway's dynamic dispatch). Only the
// targets that matter on x86 servers are compiled, to keep the build short.
//
// Accuracy (docs/accuracy.md, held by tests/test_accuracy.cpp): exp, log, sqrt, reciprocal are
// Highway's or the hardware's; expm1, tanh and erf are ours (below), within 1.5 ulp where
// Highway's expm1 and tanh reach 3.2 and 2.5 and the former rational erf 7.5 (36 near FLT_MIN);
// gelu (both forms) evaluates in float64 and rounds once, because no float32 formula keeps its
// left tail (the result there is a tiny fraction of x).
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/scalar_math.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/elementwise_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using ew::BinaryOp;
using ew::UnaryOp;

// Runs f over n elements: whole vectors, then the tail through a padded stack buffer (so f never
// sees out-of-range memory).
template <class T, class F>
HWY_INLINE void Loop1(const T* HWY_RESTRICT in, T* HWY_RESTRICT out, int64_t n, F f) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, in + i)), d, out + i);
  if (i < n) {
    HWY_ALIGN T buf[HWY_MAX_BYTES / sizeof(T)] = {};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(buf, in + i, rest * sizeof(T));
    hn::Store(f(d, hn::Load(d, buf)), d, buf);
    std::memcpy(out + i, buf, rest * sizeof(T));
  }
}

// Loop1 for functions whose vector form is only right on part of the line (Highway's Exp/Log
// do not handle NaN, infinities, zero or overflow): a vector with any lane outside `ok` is
// recomputed lane by lane with the C library's function `s`, so special values match std::.
template <class T, class F, class Ok, class S>
HWY_INLINE void Loop1S(const T* HWY_RESTRICT in, T* HWY_RESTRICT out, int64_t n, F f, Ok ok, S s) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto x = hn::LoadU(d, in + i);
    if (HWY_LIKELY(hn::AllTrue(d, ok(d, x)))) {
      hn::StoreU(f(d, x), d, out + i);
    } else {
      for (int64_t k = 0; k < N; ++k) out[i + k] = s(in[i + k]);
    }
  }
  for (; i < n; ++i) out[i] = s(in[i]);
}

// Same for two inputs; mode 1: b is one value, mode 2: a is one value.
template <class T, class F>
HWY_INLINE void Loop2(const T* HWY_RESTRICT a, const T* HWY_RESTRICT b, T* out, int64_t n, int mode, F f) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  HWY_ALIGN T ba[HWY_MAX_BYTES / sizeof(T)] = {};
  HWY_ALIGN T bb[HWY_MAX_BYTES / sizeof(T)] = {};
  int64_t i = 0;
  if (mode == 0) {
    for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  } else if (mode == 1) {
    const auto vb = hn::Set(d, *b);
    for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, a + i), vb), d, out + i);
  } else {
    const auto va = hn::Set(d, *a);
    for (; i + N <= n; i += N) hn::StoreU(f(d, va, hn::LoadU(d, b + i)), d, out + i);
  }
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    for (size_t k = 0; k < rest; ++k) {
      ba[k] = mode == 2 ? *a : a[i + k];
      bb[k] = mode == 1 ? *b : b[i + k];
    }
    hn::Store(f(d, hn::Load(d, ba), hn::Load(d, bb)), d, ba);
    std::memcpy(out + i, ba, rest * sizeof(T));
  }
}

// Loop1S in float64: g gets Lanes(dd) values promoted to float64 and its result is rounded to
// float32 once (Note [Composed functions in float64], scalar_math.h); lanes outside `ok` take s.
template <class G, class Ok, class S>
HWY_INLINE void Loop1D(const float* HWY_RESTRICT in, float* HWY_RESTRICT out, int64_t n, G g, Ok ok, S s) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(dd));
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto x = hn::LoadU(df, in + i);
    if (HWY_LIKELY(hn::AllTrue(df, ok(df, x)))) {
      hn::StoreU(hn::DemoteTo(df, g(dd, hn::PromoteTo(dd, x))), df, out + i);
    } else {
      for (int64_t k = 0; k < N; ++k) out[i + k] = s(in[i + k]);
    }
  }
  for (; i < n; ++i) out[i] = s(in[i]);
}

// Horner's rule with the coefficients c[0] + c[1] x + ... (c[kN - 1] highest).
template <class D, class V, class T, size_t kN>
HWY_INLINE V Poly(D d, V x, const T (&c)[kN]) {
  V p = hn::Set(d, c[kN - 1]);
  for (size_t i = kN - 1; i-- > 0;) p = hn::MulAdd(p, x, hn::Set(d, c[i]));
  return p;
}

// expm1(x), |x| < 88: x = q ln2 + r with |r| <= ln2/2, expm1(r) = r + r^2 P(r) (P fitted to
// (expm1(r) - r)/r^2, relative error 3e-9), and expm1(x) = 2^q expm1(r) + (2^q - 1) with one
// rounding (2^q - 1 is exact for q <= 24). Max error 1.5 ulp (Highway's Expm1: 3.2).
template <class D, class V>
HWY_INLINE V Expm1F32(D d, V x) {
  static constexpr float kP[] = {0.5000000013468383f, 0.1666666671903171f, 0.04166646491457818f,
                                 0.008333298469706539f, 0.0013933650354370462f, 0.0001989928508745072f};
  const V q = hn::Round(hn::Mul(x, hn::Set(d, 1.44269504088896341f)));
  V r = hn::NegMulAdd(q, hn::Set(d, 0.693145751953125f), x);       // ln2, high bits
  r = hn::NegMulAdd(q, hn::Set(d, 1.4286068203094172e-06f), r);    // ln2, the rest
  const V em1r = hn::MulAdd(hn::Mul(r, r), Poly(d, r, kP), r);
  const hn::RebindToSigned<D> di;
  const V t = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, q), hn::Set(di, 127))));  // 2^q
  return hn::MulAdd(em1r, t, hn::Sub(t, hn::Set(d, 1.0f)));
}

// tanh(x): x + x^3 P(x^2) for |x| < 0.55 (P fitted, relative error 1e-9), else
// sign(x) (1 - 2 / (exp(2|x|) + 1)). Max error 1.5 ulp (Highway's Tanh: 2.5).
template <class D, class V>
HWY_INLINE V TanhF32(D d, V x) {
  static constexpr float kP[] = {-0.33333333296102036f, 0.13333324375984282f, -0.053964746658324764f,
                                 0.02181887475929042f, -0.008527935132832634f, 0.002528503051332313f};
  const V ax = hn::Abs(x);
  const V y = hn::Mul(x, x);
  const V small = hn::MulAdd(hn::Mul(y, x), Poly(d, y, kP), x);
  const V e = hn::Exp(d, hn::Mul(hn::Min(ax, hn::Set(d, 20.0f)), hn::Set(d, 2.0f)));
  const V big = hn::Sub(hn::Set(d, 1.0f), hn::Div(hn::Set(d, 2.0f), hn::Add(e, hn::Set(d, 1.0f))));
  return hn::IfThenElse(hn::Lt(ax, hn::Set(d, 0.55f)), small, hn::CopySignToAbs(big, x));
}

// erf(x): x Q(x^2) for |x| < 1 (Q fitted to erf(x)/x, relative error 4e-11; x times its
// constant term is added last, in the fused multiply-add), else sign(x) (1 - erfc(|x|)) with
// erfc(t) = s exp(P(s) - t^2), s = 1 / (1 + t/2) (P fitted on t >= 1, relative error 5e-8), whose
// error is at most erfc(1) = 0.16 of the result's. Max error 1.5 ulp (2.5 without fused
// multiply-add: the portable build).
template <class D, class V>
HWY_INLINE V ErfF32(D d, V x) {
  static constexpr float kQ[] = {-0.37612638475990740f, 0.11283782622052073f, -0.026865438309905631f,
                                 0.0052210534108152419f, -0.00084843965256677447f, 0.00011268253714741643f,
                                 -9.6735903020813014e-06f};
  static constexpr float kP[] = {-1.2655025171037078f, 0.99978301677806569f, 0.37686213450022943f,
                                 0.076816405575934818f, -0.089637716866509703f, -0.032040111026760923f,
                                 -0.4915694784734988f, 0.67262609489172576f, -0.24861891402390876f};
  constexpr double kQ0 = 1.1283791670623611;  // the constant term of Q
  const V y = hn::Mul(x, x);
  const V q0lo = hn::Set(d, static_cast<float>(kQ0 - static_cast<double>(static_cast<float>(kQ0))));
  const V rest = hn::MulAdd(Poly(d, y, kQ), y, q0lo);  // Q - its rounded constant term
  const V small = hn::MulAdd(x, hn::Set(d, static_cast<float>(kQ0)), hn::Mul(x, rest));
  const V t = hn::Min(hn::Abs(x), hn::Set(d, 10.0f));
  const V s = hn::Div(hn::Set(d, 1.0f), hn::MulAdd(t, hn::Set(d, 0.5f), hn::Set(d, 1.0f)));
  const V erfc = hn::Mul(s, hn::Exp(d, hn::NegMulAdd(t, t, Poly(d, s, kP))));
  const V big = hn::CopySignToAbs(hn::Sub(hn::Set(d, 1.0f), erfc), x);
  return hn::IfThenElse(hn::Lt(t, hn::Set(d, 1.0f)), small, big);
}

// erfc(t) for 0 <= t <= 10.5 in float64: s exp(P(s) - t^2), s = 1 / (1 + t/2), P of degree 12
// fitted to log(erfc(t) / s) + t^2, relative error 2e-10 (Estrin's scheme: a short dependency
// chain).
template <class DD, class VD>
HWY_INLINE VD ErfcF64(DD dd, VD t) {
  static constexpr double c[] = {-1.2655052003827842, 0.9997550216255603, 0.37886362917057037,
                                 0.04742537892754261, 0.13302164811490458, -1.065682295316014,
                                 2.64925696900937, -5.732660826571703, 8.517234120141245,
                                 -7.866346326270241, 4.391175483957228, -1.3723492100197272,
                                 0.18581160778640188};
  const VD s = hn::Div(hn::Set(dd, 1.0), hn::MulAdd(t, hn::Set(dd, 0.5), hn::Set(dd, 1.0)));
  const VD s2 = hn::Mul(s, s), s4 = hn::Mul(s2, s2), s8 = hn::Mul(s4, s4);
  auto pair = [&](int i) { return hn::MulAdd(s, hn::Set(dd, c[i + 1]), hn::Set(dd, c[i])); };
  const VD q0 = hn::MulAdd(s2, pair(2), pair(0));
  const VD q1 = hn::MulAdd(s2, pair(6), pair(4));
  const VD q2 = hn::MulAdd(s2, pair(10), pair(8));
  const VD p = hn::MulAdd(s8, hn::MulAdd(s4, hn::Set(dd, c[12]), q2), hn::MulAdd(s4, q1, q0));
  return hn::Mul(s, hn::Exp(dd, hn::NegMulAdd(t, t, p)));
}

// gelu(x) = 0.5 x erfc(-x / sqrt2): 0.5 x erfc(|x| / sqrt2) for x < 0, 0.5 x (2 - erfc(x / sqrt2))
// for x >= 0; erfc is 0 (to float32) beyond t = 10.5.
template <class DD, class VD>
HWY_INLINE VD GeluErfF64(DD dd, VD x) {
  const VD t = hn::Mul(hn::Abs(x), hn::Set(dd, 0.70710678118654752440));
  const VD e = hn::IfThenZeroElse(hn::Gt(t, hn::Set(dd, 10.5)), ErfcF64(dd, hn::Min(t, hn::Set(dd, 10.5))));
  const VD f = hn::IfThenElse(hn::Lt(x, hn::Zero(dd)), e, hn::Sub(hn::Set(dd, 2.0), e));
  return hn::Mul(hn::Mul(hn::Set(dd, 0.5), x), f);
}

// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
template <class DD, class VD>
HWY_INLINE VD GeluTanhF64(DD dd, VD x) {
  const VD x3 = hn::Mul(hn::Mul(x, x), x);
  const VD minus_2u = hn::Mul(hn::Set(dd, -2 * 0.79788456080286535588), hn::MulAdd(hn::Set(dd, 0.044715), x3, x));
  return hn::Div(x, hn::Add(hn::Set(dd, 1.0), hn::Exp(dd, hn::Min(minus_2u, hn::Set(dd, 700.0)))));
}

template <class D, class V>
HWY_INLINE V Sigmoid(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, hn::Exp(d, hn::Neg(x))));
}

template <class D, class V>
HWY_INLINE V Relu(D d, V x) {
  return hn::IfThenZeroElse(hn::Lt(x, hn::Zero(d)), x);  // NaN stays NaN
}

// Lanes where the vector formula is valid: |x| < r (false for NaN), or lo < x < inf.
inline auto InRange(float r) {
  return [r](auto d, auto x) { return hn::Lt(hn::Abs(x), hn::Set(d, r)); };
}
// |x| finite.
inline auto Finite() { return InRange(std::numeric_limits<float>::infinity()); }
inline auto Positive(float lo) {
  return [lo](auto d, auto x) {
    return hn::And(hn::Gt(x, hn::Set(d, lo)), hn::Lt(x, hn::Set(d, std::numeric_limits<float>::infinity())));
  };
}

bool UnaryF32(UnaryOp op, const float* in, float* out, int64_t n, const ew::UnaryParams& p) {
  using F = float;
  switch (op) {
    case UnaryOp::Neg: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Neg(x); }); return true;
    case UnaryOp::Abs: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Abs(x); }); return true;
    case UnaryOp::Sqrt: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Sqrt(x); }); return true;
    case UnaryOp::Rsqrt:
      Loop1<F>(in, out, n, [](auto d, auto x) { return hn::Div(hn::Set(d, 1.0f), hn::Sqrt(x)); });
      return true;
    case UnaryOp::Square: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Mul(x, x); }); return true;
    case UnaryOp::Reciprocal:
      Loop1<F>(in, out, n, [](auto d, auto x) { return hn::Div(hn::Set(d, 1.0f), x); });
      return true;
    case UnaryOp::Exp:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Exp(d, x); }, InRange(87.0f), [](F x) { return std::exp(x); });
      return true;
    case UnaryOp::Expm1:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return Expm1F32(d, x); }, InRange(87.0f), [](F x) { return std::expm1(x); });
      return true;
    case UnaryOp::Log:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log(d, x); }, Positive(0.0f), [](F x) { return std::log(x); });
      return true;
    case UnaryOp::Log2:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log2(d, x); }, Positive(0.0f), [](F x) { return std::log2(x); });
      return true;
    case UnaryOp::Log10:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log10(d, x); }, Positive(0.0f), scalar::log10<F>);
      return true;
    case UnaryOp::Log1p:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log1p(d, x); }, Positive(-1.0f), [](F x) { return std::log1p(x); });
      return true;
    case UnaryOp::Tanh:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return TanhF32(d, x); }, InRange(1e30f), scalar::tanh<F>);
      return true;
    case UnaryOp::Sigmoid:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return Sigmoid(d, x); }, InRange(87.0f), scalar::sigmoid<F>);
      return true;
    case UnaryOp::Relu: Loop1<F>(in, out, n, [](auto d, auto x) { return Relu(d, x); }); return true;
    case UnaryOp::Silu:
      Loop1S<F>(in, out, n, [](auto d, auto x) {
        return hn::Div(x, hn::Add(hn::Set(d, 1.0f), hn::Exp(d, hn::Neg(x))));
      }, InRange(87.0f), scalar::silu<F>);
      return true;
    case UnaryOp::Erf:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return ErfF32(d, x); }, InRange(1e30f), [](F x) { return std::erf(x); });
      return true;
    case UnaryOp::GeluErf:
      Loop1D(in, out, n, [](auto dd, auto x) { return GeluErfF64(dd, x); }, Finite(), scalar::gelu_erf<F>);
      return true;
    case UnaryOp::GeluTanh:
      Loop1D(in, out, n, [](auto dd, auto x) { return GeluTanhF64(dd, x); }, Finite(), scalar::gelu_tanh<F>);
      return true;
    case UnaryOp::Floor: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Floor(x); }); return true;
    case UnaryOp::Ceil: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Ceil(x); }); return true;
    case UnaryOp::Round: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Round(x); }); return true;
    case UnaryOp::Trunc: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Trunc(x); }); return true;
    default: return false;
  }
  (void)p;
}

// float64: only the ops that are exact or correctly rounded in hardware; the transcendental ones
// stay on the C library, whose results gradcheck's finite differences can rely on.
bool UnaryF64(UnaryOp op, const double* in, double* out, int64_t n, const ew::UnaryParams& p) {
  using F = double;
  switch (op) {
    case UnaryOp::Neg: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Neg(x); }); return true;
    case UnaryOp::Abs: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Abs(x); }); return true;
    case UnaryOp::Sqrt: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Sqrt(x); }); return true;
    case UnaryOp::Square: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Mul(x, x); }); return true;
    case UnaryOp::Reciprocal:
      Loop1<F>(in, out, n, [](auto d, auto x) { return hn::Div(hn::Set(d, 1.0), x); });
      return true;
    case UnaryOp::Relu: Loop1<F>(in, out, n, [](auto d, auto x) { return Relu(d, x); }); return true;
    case UnaryOp::Floor: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Floor(x); }); return true;
    case UnaryOp::Ceil: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Ceil(x); }); return true;
    case UnaryOp::Round: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Round(x); }); return true;
    case UnaryOp::Trunc: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Trunc(x); }); return true;
    default: return false;
  }
  (void)p;
}

template <class T>
HWY_INLINE bool BinaryT(BinaryOp op, const T* a, const T* b, T* out, int64_t n, int mode, T alpha) {
  switch (op) {
    case BinaryOp::Add:
      if (alpha == T(1)) {
        Loop2<T>(a, b, out, n, mode, [](auto, auto x, auto y) { return hn::Add(x, y); });
      } else {
        Loop2<T>(a, b, out, n, mode, [alpha](auto d, auto x, auto y) { return hn::MulAdd(hn::Set(d, alpha), y, x); });
      }
      return true;
    case BinaryOp::Sub:
      if (alpha == T(1)) {
        Loop2<T>(a, b, out, n, mode, [](auto, auto x, auto y) { return hn::Sub(x, y); });
      } else {
        Loop2<T>(a, b, out, n, mode, [alpha](auto d, auto x, auto y) { return hn::NegMulAdd(hn::Set(d, alpha), y, x); });
      }
      return true;
    case BinaryOp::Mul: Loop2<T>(a, b, out, n, mode, [](auto, auto x, auto y) { return hn::Mul(x, y); }); return true;
    case BinaryOp::Div: Loop2<T>(a, b, out, n, mode, [](auto, auto x, auto y) { return hn::Div(x, y); }); return true;
    default: return false;
  }
}

bool BinaryF32(BinaryOp op, const float* a, const float* b, float* out, int64_t n, int mode, float alpha) {
  return BinaryT<float>(op, a, b, out, n, mode, alpha);
}
bool BinaryF64(BinaryOp op, const double* a, const double* b, double* out, int64_t n, int mode, double alpha) {
  return BinaryT<double>(op, a, b, out, n, mode, alpha);
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(UnaryF32);
HWY_EXPORT(UnaryF64);
HWY_EXPORT(BinaryF32);
HWY_EXPORT(BinaryF64);

bool hwy_unary_f32(ew::UnaryOp op, const float* in, float* out, int64_t n, const ew::UnaryParams& p) {
  return HWY_DYNAMIC_DISPATCH(UnaryF32)(op, in, out, n, p);
}
bool hwy_unary_f64(ew::UnaryOp op, const double* in, double* out, int64_t n, const ew::UnaryParams& p) {
  return HWY_DYNAMIC_DISPATCH(UnaryF64)(op, in, out, n, p);
}
bool hwy_binary_f32(ew::BinaryOp op, const float* a, const float* b, float* out, int64_t n, int mode, float alpha) {
  return HWY_DYNAMIC_DISPATCH(BinaryF32)(op, a, b, out, n, mode, alpha);
}
bool hwy_binary_f64(ew::BinaryOp op, const double* a, const double* b, double* out, int64_t n, int mode, double alpha) {
  return HWY_DYNAMIC_DISPATCH(BinaryF64)(op, a, b, out, n, mode, alpha);
}
}  // namespace ricci::cpu
#endif
