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
      // Exp gets finite values only (the emulated targets convert its argument to an integer, which
      // is undefined for NaN and inf); the others by hand: NaN stays NaN so a NaN row's gradient
      // stays NaN (as PyTorch; Highway's Exp would give 0), exp(-inf) = 0, exp(inf) = inf.
      const auto finite = hn::IsFinite(yv);
      const auto special = hn::IfThenElse(hn::IsNaN(yv), yv, hn::IfThenElseZero(hn::Gt(yv, hn::Zero(d)), yv));
      const auto e = hn::IfThenElse(finite, hn::Exp(d, hn::IfThenElseZero(finite, yv)), special);
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
// over a (tokens, 4 d) tensor per MLP in a transformer's backward. A plain backward (no
// create_graph) of contiguous float32 runs GeluErfGradF32 below in one pass instead. It used to
// repeat the composed form's float32 operations (ErfF32 and Highway's Exp, each with a per-vector
// range check) to equal it bit for bit: two transcendental functions per element, 3.4 ns on one
// AVX2 core, 7.5 % of a GPT training step (issue 16). Now one exp serves Phi and phi and there is
// no erf (1.3-1.5 ns), so the contract changed: the plain and the composed (create_graph) paths
// agree within their error bounds, not bit for bit. With AVX2 or AVX-512 the kernel is within
// 2 ulp of max(|Phi(x)|, |x phi(x)|) for every float32 x in [-40, 40] (measured 1.84; without
// fused multiply-add, the portable build, 3.5, measured 2.99; tests/test_accuracy.cpp,
// docs/accuracy.md), where the composed float32 form is 5 ulp off for |x| < 2 and 5e5 below
// x = -4 (its 1 + erf cancels).
// Relative to that magnitude, not to the result: g' has a zero near x = -0.75, where any float
// formula's Phi and x phi cancel. float64 runs the composed operations on the C library's erf and
// exp (nn_gelu_kernels.cpp), bit for bit the composed form. NaN and +-inf give NaN, as the
// composed form and PyTorch do (x phi(x) is inf * 0 there); large finite |x| gives g or 0.
//
// With a = min(|x|, 15), E = exp(-a^2 / 2) and w = a / (a + K), K = 2 sqrt2:
//   Phi(-a) = E (1/2 - w R(w))  (R smooth on [0, 0.85]; GeluErfLeanF64's s is 1 - w),
//   g'(x) = -E D for x < 0,  1 + E D for x >= 0,  D = a / sqrt(2 pi) - 1/2 + w R(w).
// Beyond a = 14.6, g' rounds to 0 or 1, so the clamp changes nothing. Every step is arranged so
// that few roundings reach the result (each costs up to ~0.7 ulp of it, as E < 1 moves D to
// another binade):
// - exp: a^2 = h + l exactly (fused multiply-add), -h/2 = n ln2 + r1 exactly (|n| <= 162, an FMA
//   with float(ln2)), t = -l/2 + n (float(ln2) - ln2) is tiny, and e^(r1 + t) / sigma - 1 is
//   z = r1 + (t + z0 + z0 r + r^2 q(r)), q of degree 4 fitted (relative error 5e-9): one rounding
//   of z's size. No range checks: the clamp keeps every step finite; NaN is restored at the end.
// - D is computed times sigma 2^-40, sigma = 0.99983149 a float32 with sigma / sqrt(2 pi) within
//   1e-6 ulp of a float32 (1 / sqrt(2 pi) is 0.38 ulp from one), so that each term of D is an
//   exact constant times a float32; 1 / sigma = 1 + z0 goes into z and 2^40 into the exponent:
//   E D = D 2^(n+40) (1 + z), the scaling exact (or rounded once where the result is subnormal),
//   times (1 + z) in one fused multiply-add, x's sign carried by the scale.
// - R of degree 9 by Horner's rule, fitted to (1/2 - Phi(-a) / E) / w weighted by the error it
//   makes in max(|Phi|, |x phi|) (9e-10 after rounding its coefficients to float32, lowest first).
//   Estrin's scheme rounds the powers of w too (0.3-0.5 ulp more here) and saves nothing: the
//   loop is bound by throughput, not by one element's chain of dependencies.
// - w = a / (a + K) is up to 1.5 ulp off (two roundings), which moved the result by up to half
//   an ulp near x = -1: both roundings are recovered exactly (a + K - s by Fast2Sum, a - w s by an
//   FMA) and enter D as F'(w) (w_exact - w), F = w R, with F'(w) / s fitted by a quadratic.
// - D = a c + (F - 1/2) + correction is summed smaller terms first: a c - 1/2 first below
//   a = 1.6 (it crosses 0 near where g' does), F - 1/2 = -Phi(-a) / E first above (a c
//   dominates), with F - 1/2 = (r0 w - 1/2) + w^2 R1 there so that R's rounding stays out.
template <class D, class V>
HWY_INLINE V GeluErfGradF32(D d, V x) {
  // sigma R(w) 2^-40, constant term first.
  static constexpr float kR[] = {0x1.20d0fep-40f,  -0x1.be31a2p-41f, 0x1.194c0ap-43f, 0x1.3e46cep-43f,
                                 -0x1.4ba336p-49f, -0x1.86f4cp-45f,  0x1.de78ep-52f,  -0x1.14b624p-45f,
                                 0x1.ab4baep-45f,  -0x1.2968e8p-46f};
  static constexpr float kR1[] = {kR[1], kR[2], kR[3], kR[4], kR[5], kR[6], kR[7], kR[8], kR[9]};
  // q(r): e^r / sigma = (1 + z0) (1 + r) + r^2 q(r) on |r| <= ln2 / 2.
  static constexpr float kQ[] = {0x1.000b0ap-1f, 0x1.55635ap-3f, 0x1.5566cp-5f, 0x1.123b1p-7f, 0x1.6ab43ep-10f};
  // F'(w) / s = sigma (1 / sqrt(2 pi) - a Phi(-a) / E) s / K 2^-40, to 7 % for a < 3 (where the
  // correction matters; its error is below 0.01 ulp of the result everywhere).
  static constexpr float kG[] = {0x1.7da748p-42f, -0x1.aed12p-41f, 0x1.f9fe82p-42f};
  constexpr float kZ0 = 0x1.616f3ep-13f;     // 1 / sigma - 1
  constexpr float kC = 0x1.9872b4p-42f;      // sigma / sqrt(2 pi) 2^-40
  constexpr float kHalf = -0x1.ffe9eap-42f;  // -sigma / 2 2^-40
  constexpr float kK = 0x1.6a09e6p+1f;       // float(2 sqrt2)
  const hn::RebindToSigned<D> di;
  const V a = hn::Min(hn::Abs(x), hn::Set(d, 15.0f));
  const V h = hn::Mul(a, a);
  const V y = hn::Mul(h, hn::Set(d, -0.5f));
  const V magic = hn::Set(d, 0x1.8p23f);  // kf's low mantissa bits hold n = round(-h / 2 / ln2)
  const V kf = hn::MulAdd(y, hn::Set(d, 0x1.715476p+0f), magic);
  const V n = hn::Sub(kf, magic);
#if HWY_NATIVE_FMA
  const V l = hn::MulSub(a, a, h);                            // a^2 = h + l exactly
  const V r1 = hn::NegMulAdd(n, hn::Set(d, 0x1.62e43p-1f), y);  // -h/2 - n float(ln2), exactly
  const V nlo = hn::Mul(n, hn::Set(d, 0x1.05c61p-29f));       // n (float(ln2) - ln2)
#else
  // Dekker's exact square, and ln2 in 9 bits (n ln2hi exact) for an exact r1.
  const V ah = hn::And(a, hn::BitCast(d, hn::Set(di, static_cast<int32_t>(0xFFFFF000u))));
  const V al = hn::Sub(a, ah);
  const V l = hn::Add(hn::Add(hn::Sub(hn::Mul(ah, ah), h), hn::Mul(hn::Add(ah, ah), al)), hn::Mul(al, al));
  constexpr float kLn2Hi = 0x1.63p-1f;
  const V r1 = hn::Sub(y, hn::Mul(n, hn::Set(d, kLn2Hi)));
  const V nlo = hn::Mul(n, hn::Set(d, static_cast<float>(kLn2Hi - 0.69314718055994531)));
#endif
  const V t = hn::MulAdd(l, hn::Set(d, -0.5f), nlo);
  const V r = hn::Add(r1, t);
  const V vz0 = hn::Set(d, kZ0);
  const V zlo = hn::MulAdd(hn::Mul(r, r), Poly(d, r, kQ), hn::MulAdd(r, vz0, hn::Add(t, vz0)));
  const V z = hn::Add(r1, zlo);  // e^r / sigma - 1
  const V vk = hn::Set(d, kK);
  const V s = hn::Add(a, vk);
  const V w = hn::Div(a, s);
  const V e1 = hn::Sub(hn::Min(a, vk), hn::Sub(s, hn::Max(a, vk)));  // a + K - s, exactly
  const V rho = hn::NegMulAdd(w, s, a);                                 // a - w s, exactly
  const V num = hn::NegMulAdd(w, e1, rho);                              // (w_exact - w) s
  const V gw = Poly(d, w, kG);                                          // F'(w) / s
  const V r1w = Poly(d, w, kR1);                                        // R = r0 + w R1
  const V vr0 = hn::Set(d, kR[0]), vc = hn::Set(d, kC), vhalf = hn::Set(d, kHalf);
  const V f_half = hn::MulAdd(hn::Mul(w, w), r1w, hn::MulAdd(w, vr0, vhalf));  // F - 1/2
  const V d_large = hn::MulAdd(a, vc, hn::MulAdd(gw, num, f_half));
  const V d_small = hn::MulAdd(w, hn::MulAdd(r1w, w, vr0), hn::MulAdd(gw, num, hn::MulAdd(a, vc, vhalf)));
  const V dd = hn::IfThenElse(hn::Lt(a, hn::Set(d, 1.6f)), d_small, d_large);
  // u = -+E D with x's sign; g' = u for x < 0 and 1 + u for x >= 0 (base = 1/2 + copysign(1/2, x)).
  const V sign = hn::And(x, hn::SignBit(d));
  const V scale = hn::Or(hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(hn::BitCast(di, kf), hn::Set(di, 127 + 40)))), sign);
  const V d2 = hn::Mul(dd, scale);
  const V u = hn::MulAdd(d2, z, d2);
  const V base = hn::Add(hn::Set(d, 0.5f), hn::Or(hn::Set(d, 0.5f), sign));
  return hn::Add(hn::Add(u, base), hn::Sub(x, x));  // NaN for NaN and +-inf
}

void GeluErfBackwardF32(const float* HWY_RESTRICT g, const float* HWY_RESTRICT x, float* HWY_RESTRICT dx, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(hn::Mul(hn::LoadU(d, g + i), GeluErfGradF32(d, hn::LoadU(d, x + i))), d, dx + i);
  if (i < n) {  // the tail through a vector too, so that every element gets the same formula
    HWY_ALIGN float bx[HWY_MAX_BYTES / sizeof(float)] = {};
    HWY_ALIGN float bg[HWY_MAX_BYTES / sizeof(float)] = {};
    const size_t rest = static_cast<size_t>(n - i);
    std::memcpy(bx, x + i, rest * sizeof(float));
    std::memcpy(bg, g + i, rest * sizeof(float));
    hn::Store(hn::Mul(hn::Load(d, bg), GeluErfGradF32(d, hn::Load(d, bx))), d, bx);
    std::memcpy(dx + i, bx, rest * sizeof(float));
  }
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
