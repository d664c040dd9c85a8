#pragma once
// The element-by-element forms of the composed activations (sigmoid, silu, gelu, softplus, rsqrt):
// the strided loops (elementwise_unary_kernels.cpp) run them, and the vector loops
// (elementwise_hwy.cpp) hand them the lanes outside their range.
//
// Note [Composed functions in float64]: float32 (and float16/bfloat16, which compute in float32)
// evaluates these in float64 and rounds once, so the float32 result is within 0.5 ulp + 2^-29 of
// the exact value (docs/accuracy.md); a float32 formula would add the rounding of every step and
// lose the tails: 1/(1 + exp(-x)) is 0 below x = -88.7 where sigmoid is still a subnormal, and
// 0.5 x (1 + erf(x/sqrt2)) cancels to nothing below x = -5. The formulas are the tail-stable ones
// for every dtype: e/(1 + e) with e = exp(x) for x < 0, erfc for gelu's left tail,
// x / (1 + exp(-2u)) for the tanh approximation, z + log1p(exp(-z)) for softplus. At the
// infinities they give PyTorch's values (gelu(-inf) and silu(-inf) are NaN, as 0 * inf).
#include <cmath>
#include <type_traits>

namespace ricci::cpu::scalar {

// The type a composed function of C evaluates in: float64 for float32.
template <class C> using wide_t = std::conditional_t<std::is_same_v<C, float>, double, C>;

// Evaluated in wide_t<C> and rounded once: the C library's float functions that are not within
// 1 ulp (glibc 2.36: tanhf and log10f reach 2.07 ulp, tanf 1.06 at 1e18; their double versions
// round to within 0.5 ulp + 2^-29 of float32).
template <class C>
inline C tanh(C x) { return static_cast<C>(std::tanh(static_cast<wide_t<C>>(x))); }
template <class C>
inline C log10(C x) { return static_cast<C>(std::log10(static_cast<wide_t<C>>(x))); }
template <class C>
inline C tan(C x) { return static_cast<C>(std::tan(static_cast<wide_t<C>>(x))); }

template <class W>
inline W sigmoid_w(W x) {
  if (x >= 0) return W(1) / (W(1) + std::exp(-x));
  const W e = std::exp(x);  // NaN lands here and stays NaN
  return e / (W(1) + e);
}

template <class C>
inline C sigmoid(C x) { return static_cast<C>(sigmoid_w<wide_t<C>>(x)); }

template <class C>
inline C silu(C x) {
  const wide_t<C> w = x;
  return static_cast<C>(w * sigmoid_w(w));
}

// 0.5 x erfc(-x / sqrt2) (= 0.5 x (1 + erf(x / sqrt2)) without its cancellation for x < 0).
template <class C>
inline C gelu_erf(C x) {
  const wide_t<C> w = x;
  return static_cast<C>(wide_t<C>(0.5) * w * std::erfc(w * wide_t<C>(-0.70710678118654752440)));
}

// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
template <class C>
inline C gelu_tanh(C x) {
  using W = wide_t<C>;
  const W w = x;
  const W u2 = W(2 * 0.79788456080286535588) * (w + W(0.044715) * w * w * w);
  return static_cast<C>(w / (W(1) + std::exp(-u2)));
}

// log(1 + exp(beta x)) / beta, or x where beta x > threshold (PyTorch's softplus).
template <class C>
inline C softplus(C x, double beta, double threshold) {
  using W = wide_t<C>;
  const W z = W(x) * W(beta);
  if (z > W(threshold)) return x;
  const W r = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
  return static_cast<C>(r / W(beta));
}

template <class C>
inline C rsqrt(C x) { return static_cast<C>(wide_t<C>(1) / std::sqrt(wide_t<C>(x))); }

}  // namespace ricci::cpu::scalar
