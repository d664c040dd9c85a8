// The float32/float64 vector functions of the elementwise kernels (elementwise_hwy.cpp), in
// Highway's per-target form (included once per target after foreach_target.h), so that other
// vectorised code composes exactly the same functions: bench/gelu_register_fused.cpp builds the
// register-level GELU that docs/compile.md measures against the fused-kernel interpreter.
// Accuracy: docs/accuracy.md.
#if defined(RICCI_BACKEND_CPU_VECTOR_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef RICCI_BACKEND_CPU_VECTOR_MATH_INL_H_
#undef RICCI_BACKEND_CPU_VECTOR_MATH_INL_H_
#else
#define RICCI_BACKEND_CPU_VECTOR_MATH_INL_H_
#endif

#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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

// exp(x) for |x| < 87 (no range checks: the callers' AbsBelow87 guard or clamp keeps x inside,
// where e^x is a normal float): x = n ln2 + r with |r| <= ln2/2 (n from the low mantissa bits of
// x/ln2 + 1.5 * 2^23), e^r = 1 + r + r^2 P(r) with P of degree 4 (fitted to exp's relative
// error on |r| <= ln2/2: 3.6e-9, 0.06 ulp; Expm1F32's degree-5 P, which expm1's relative accuracy
// near 0 needs, cost one more multiply-add, 4-5% of a fused GELU), and n added to the exponent
// field as an integer. Max error 0.99 ulp on every float in (-87, 87) (0.96 without fused
// multiply-add); Highway's Exp, which also handles the range outside, 1.03 and 1.3x the time.
template <class D, class V>
HWY_INLINE V ExpF32(D d, V t) {
  static constexpr float kP[] = {0.4999999403953552f, 0.1666652113199234f, 0.04166838899254799f,
                                 0.00836874544620514f, 0.0013814539415761828f};
  const V magic = hn::Set(d, 0x1.8p23f);
  const V k = hn::MulAdd(t, hn::Set(d, 1.44269504088896341f), magic);
  const V n = hn::Sub(k, magic);
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693145751953125f), t);
  r = hn::NegMulAdd(n, hn::Set(d, 1.4286068203094172e-06f), r);
  const V er = hn::Add(hn::MulAdd(hn::Mul(r, r), Poly(d, r, kP), r), hn::Set(d, 1.0f));
  const hn::RebindToSigned<D> di;
  return hn::BitCast(d, hn::Add(hn::BitCast(di, er), hn::ShiftLeft<23>(hn::BitCast(di, k))));
}

// tanh(x): x + x^3 P(x^2) for |x| < 0.55 (P fitted, relative error 1e-9), else
// sign(x) (1 - 2 / (exp(2|x|) + 1)) with 2|x| clamped to 40 and ExpF32 (Highway's
// general Exp, with its range handling, made tanh 1.4x slower: 3.1 against 2.2 ms on 4M floats).
// Max error 1.5 ulp (measured 1.438; Highway's Tanh: 2.5).
template <class D, class V>
HWY_INLINE V TanhF32(D d, V x) {
  static constexpr float kP[] = {-0.33333333296102036f, 0.13333324375984282f, -0.053964746658324764f,
                                 0.02181887475929042f, -0.008527935132832634f, 0.002528503051332313f};
  const V ax = hn::Abs(x);
  const V y = hn::Mul(x, x);
  const V small = hn::MulAdd(hn::Mul(y, x), Poly(d, y, kP), x);
  const V e = ExpF32(d, hn::Mul(hn::Min(ax, hn::Set(d, 20.0f)), hn::Set(d, 2.0f)));
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

// gelu(x) = x Phi(x) for float32 inputs, evaluated in float64 without a general exp (issue 16:
// GeluErfF64's Highway Exp and erfc made gelu 5.5 ns per element, 19 ms of a GPT step; this is
// ~1.7x faster). Phi(-|x|) = 0.5 erfc(|x| / sqrt2) = 0.5 s Q(s) exp(-x^2 / 2) with
// s = 1 / (1 + |x| / (2 sqrt2)) and Q of degree 13 fitted to erfc(t) exp(t^2) / s (t = |x| / sqrt2)
// for |x| <= 14.6 (relative error 2e-11); Phi(x) = 1 - Phi(-|x|) for x >= 0. exp(-x^2 / 2): x^2 is
// exact in float64 (x is a float32), -x^2 / 2 = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor
// polynomial to r^9 (relative error 1e-11) and 2^n written into the exponent bits (|x| <= 37
// keeps n >= -988). Both polynomials by Estrin's scheme (short dependency chains). The float64
// result is within ~1e-10 of gelu, so the float32 result is within 0.51 ulp, as GeluErfF64's.
// Below x = -14.5 gelu rounds to -0 in float32 (s is held there, exp keeps falling). Finite x only.
template <class DD, class VD>
HWY_INLINE VD GeluErfLeanF64(DD dd, VD x) {
  static constexpr double kQ[] = {0.2820949354608148,   0.2820915318421122,  0.24685086584530536, 0.1765133002744942,
                                  0.07973694516333121,  0.027208178252685386, -0.20852051265045524, 0.434790897304566,
                                  -1.0841138759523445,  1.6715039363304387,  -1.4983573587681298, 0.7959371069369703,
                                  -0.23623164276474068, 0.03049569274263041};
  static constexpr double kE[] = {1.0,
                                  1.0,
                                  0.5,
                                  0.16666666666666666,
                                  0.041666666666666664,
                                  0.008333333333333333,
                                  0.001388888888888889,
                                  0.0001984126984126984,
                                  2.48015873015873e-05,
                                  2.7557319223985893e-06};
  const hn::RebindToUnsigned<DD> du;
  auto pair = [&](VD v, const double* c) { return hn::MulAdd(v, hn::Set(dd, c[1]), hn::Set(dd, c[0])); };
  const VD ax = hn::Abs(x);
  const VD xe = hn::Min(ax, hn::Set(dd, 37.0));
  const VD y = hn::Mul(hn::Mul(xe, xe), hn::Set(dd, -0.5));
  const VD magic = hn::Set(dd, 0x1.8p52);  // k's low mantissa bits hold n = round(y / ln2)
  const VD k = hn::MulAdd(y, hn::Set(dd, 1.4426950408889634), magic);
  const VD r = hn::NegMulAdd(hn::Sub(k, magic), hn::Set(dd, 0.69314718055994531), y);
  const VD two_n = hn::BitCast(dd, hn::ShiftLeft<52>(hn::Add(hn::BitCast(du, k), hn::Set(du, 1023))));
  const VD r2 = hn::Mul(r, r), r4 = hn::Mul(r2, r2), r8 = hn::Mul(r4, r4);
  const VD e0 = hn::MulAdd(r2, pair(r, kE + 2), pair(r, kE));
  const VD e1 = hn::MulAdd(r2, pair(r, kE + 6), pair(r, kE + 4));
  const VD e = hn::Mul(hn::MulAdd(r8, pair(r, kE + 8), hn::MulAdd(r4, e1, e0)), two_n);
  const VD xs = hn::Min(ax, hn::Set(dd, 14.5));
  const VD s = hn::Div(hn::Set(dd, 1.0), hn::MulAdd(xs, hn::Set(dd, 0.35355339059327376), hn::Set(dd, 1.0)));
  const VD s2 = hn::Mul(s, s), s4 = hn::Mul(s2, s2), s8 = hn::Mul(s4, s4);
  const VD q0 = hn::MulAdd(s2, pair(s, kQ + 2), pair(s, kQ));
  const VD q1 = hn::MulAdd(s2, pair(s, kQ + 6), pair(s, kQ + 4));
  const VD q2 = hn::MulAdd(s2, pair(s, kQ + 10), pair(s, kQ + 8));
  const VD q = hn::MulAdd(s8, hn::MulAdd(s4, pair(s, kQ + 12), q2), hn::MulAdd(s4, q1, q0));
  const VD lower = hn::Mul(hn::Mul(hn::Mul(s, q), e), hn::Set(dd, 0.5));  // Phi(-|x|)
  const VD phi = hn::IfThenElse(hn::Lt(x, hn::Zero(dd)), lower, hn::Sub(hn::Set(dd, 1.0), lower));
  return hn::Mul(x, phi);
}

// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
template <class DD, class VD>
HWY_INLINE VD GeluTanhF64(DD dd, VD x) {
  const VD x3 = hn::Mul(hn::Mul(x, x), x);
  const VD minus_2u = hn::Mul(hn::Set(dd, -2 * 0.79788456080286535588), hn::MulAdd(hn::Set(dd, 0.044715), x3, x));
  return hn::Div(x, hn::Add(hn::Set(dd, 1.0), hn::Exp(dd, hn::Min(minus_2u, hn::Set(dd, 700.0)))));
}

// softplus(x) = log(1 + exp(z)) / beta, z = beta x, or x where z > threshold (scalar::softplus):
// max(z, 0) + log1p(exp(-|z|)), the exponent clamped at -700 where exp underflows (log1p of it is
// then below every float32).
template <class DD, class VD>
HWY_INLINE VD SoftplusF64(DD dd, VD x, double beta, double threshold) {
  const VD z = hn::Mul(x, hn::Set(dd, beta));
  const VD e = hn::Exp(dd, hn::Max(hn::Neg(hn::Abs(z)), hn::Set(dd, -700.0)));
  const VD r = hn::Add(hn::Max(z, hn::Zero(dd)), hn::Log1p(dd, e));
  return hn::IfThenElse(hn::Gt(z, hn::Set(dd, threshold)), x, hn::Div(r, hn::Set(dd, beta)));
}

template <class D, class V>
HWY_INLINE V Sigmoid(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  return hn::Div(one, hn::Add(one, ExpF32(d, hn::Neg(x))));
}

template <class D, class V>
HWY_INLINE V Relu(D d, V x) {
  return hn::IfThenZeroElse(hn::Lt(x, hn::Zero(d)), x);  // NaN stays NaN
}

// Note [Unary forms]: the float32 unary forms of elementwise_hwy.cpp's kernels that are more than
// one Highway call, and the lanes each vector form is valid for (a vector with a lane outside goes
// to the C library instead). The eager kernels and the code that compile generates
// (src/compile/codegen.cpp, unary_form) both call them by these names, so that they run the same
// operations; test_compile_codegen holds them to it bit for bit.
template <class D, class V>
HWY_INLINE V RsqrtF32(D d, V x) {
  return hn::Div(hn::Set(d, 1.0f), hn::Sqrt(x));
}
template <class D, class V>
HWY_INLINE V SiluF32(D d, V x) {
  return hn::Div(x, hn::Add(hn::Set(d, 1.0f), ExpF32(d, hn::Neg(x))));
}
template <class D, class V>
HWY_INLINE V ReciprocalOf(D d, V x) {
  return hn::Div(hn::Set(d, hn::TFromD<D>(1)), x);
}
// |x| < 87: exp's and sigmoid's range.
template <class D, class V>
HWY_INLINE auto AbsBelow87(D d, V x) {
  return hn::Lt(hn::Abs(x), hn::Set(d, 87.0f));
}
// |x| < 1e30: tanh's and erf's (their formulas square x).
template <class D, class V>
HWY_INLINE auto AbsBelow1e30(D d, V x) {
  return hn::Lt(hn::Abs(x), hn::Set(d, 1e30f));
}
// 0 < x < inf: the logarithms'.
template <class D, class V>
HWY_INLINE auto PositiveFinite(D d, V x) {
  return hn::And(hn::Gt(x, hn::Zero(d)), hn::Lt(x, hn::Set(d, __builtin_inff())));
}
// -1 < x < inf: log1p's.
template <class D, class V>
HWY_INLINE auto AboveMinusOneFinite(D d, V x) {
  return hn::And(hn::Gt(x, hn::Set(d, -1.0f)), hn::Lt(x, hn::Set(d, __builtin_inff())));
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // RICCI_BACKEND_CPU_VECTOR_MATH_INL_H_
