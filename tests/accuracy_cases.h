#pragma once
// The float32 math functions whose accuracy ricci states (docs/accuracy.md): for each, the ricci
// call, the float64 reference of the same mathematical function, the inputs to sweep and the
// documented error bound in ulps. Shared by the measuring program (bench/accuracy_ulp.cpp, the
// full table) and the test that holds the bounds (tests/test_accuracy.cpp, a subset of inputs).
//
// Note [Measuring ulps]: the error of a result `got` against the exact value `ref` (a float64
// evaluation of the mathematical function at the float32 input, itself within ~1e-16 relative,
// i.e. ~1e-9 float32 ulps) is |got - ref| / ulp(ref), where ulp(ref) = 2^(e - p + 1) for
// e = max(exponent of ref, the format's smallest normal exponent) and p the format's precision
// (24 for float32): glibc's definition, with subnormal results measured in units of the
// smallest subnormal. An infinite result counts as 2^(emax + 1) when ref is finite (a result
// that overflows just above the largest float is 1 ulp off, not infinitely); a NaN or infinite
// ref must be met exactly. A correctly rounded result is within 0.5 ulp.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ricci/nn/functional.h"
#include "ricci/ricci.h"

namespace ricci::accuracy {

struct Format {
  int p, emin, emax;  // precision in bits (with the hidden bit), smallest normal and largest exponent
};
inline constexpr Format kF32{24, -126, 127};
inline constexpr Format kF16{11, -14, 15};
inline constexpr Format kBF16{8, -126, 127};

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Note [Measuring ulps].
inline double ulp_error(double got, double ref, Format f = kF32) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : kInf;
  if (std::isnan(got)) return kInf;
  if (std::isinf(ref)) return got == ref ? 0 : kInf;
  const double big = std::ldexp(1.0, f.emax + 1);  // infinity, as a number
  if (std::fabs(ref) >= big - std::ldexp(1.0, f.emax - f.p)) {
    // ref rounds to infinity: that is the right result, and the largest finite value is 1 ulp off.
    if (std::isinf(got) && (got > 0) == (ref > 0)) return 0;
    ref = std::copysign(big, ref);
  }
  const double g = std::isinf(got) ? std::copysign(big, got) : got;
  const int e = ref == 0 ? f.emin : std::clamp(std::ilogb(ref), f.emin, f.emax);
  return std::fabs(g - ref) / std::ldexp(1.0, e - f.p + 1);
}

inline float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// Sweep A: the float32 bit patterns 0, s, 2s, ... below 2^32. An odd stride s meets every residue
// of the low bits, so each binade (subnormals too, both signs) gets 2^23 / s values spread over
// its whole mantissa range; the NaN and infinity patterns are in it too.
inline std::vector<float> bit_sweep(uint32_t stride) {
  std::vector<float> v;
  v.reserve(static_cast<size_t>((uint64_t{1} << 32) / stride + 1));
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += stride) v.push_back(from_bits(static_cast<uint32_t>(b)));
  return v;
}

// Sweep B: n values evenly spaced in [lo, hi], rounded to float32: dense where the function does
// its work (the bit sweep gives a binade like [64, 128) the same 2^23 / s values as [2^-100, 2^-99)).
inline std::vector<float> linear_sweep(double lo, double hi, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[static_cast<size_t>(i)] = static_cast<float>(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1));
  }
  return v;
}

// The values every sweep includes: zeros, infinities, NaN, the format's limits, and each
// function's own thresholds (overflow, underflow, where the vector path hands over to the C
// library), each with its neighbours within 3 ulps.
inline std::vector<float> edge_values(const std::vector<double>& thresholds) {
  std::vector<float> v = {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 1.0f, -1.0f};
  std::vector<double> t = thresholds;
  for (double x : {double(std::numeric_limits<float>::min()), double(std::numeric_limits<float>::denorm_min()),
                   double(std::numeric_limits<float>::max()), 1.0, 0.5, 2.0}) {
    t.push_back(x);
    t.push_back(-x);
  }
  for (double x : t) {
    float f = static_cast<float>(x);
    for (int k = 0; k < 3; ++k) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
    for (int k = 0; k < 7; ++k, f = std::nextafter(f, std::numeric_limits<float>::infinity())) v.push_back(f);
  }
  return v;
}

// ---- float64 references -----------------------------------------------------------------------
// Each is the mathematical function, written so float64 keeps its relative accuracy in the tails
// (erfc for gelu's left tail, exp(x) / (1 + exp(x)) for sigmoid's), and each gives PyTorch's value
// at the infinities where the float formula is 0 * inf (gelu(-inf) and silu(-inf) are NaN there).
inline double ref_sigmoid(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}
inline double ref_silu(double x) { return std::isinf(x) && x < 0 ? NAN : x * ref_sigmoid(x); }
inline double ref_gelu_erf(double x) {
  return std::isinf(x) && x < 0 ? NAN : 0.5 * x * std::erfc(-x * 0.70710678118654752440);
}
// 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
inline double ref_gelu_tanh(double x) {
  if (std::isinf(x)) return x < 0 ? NAN : x;
  const double u = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
  return x / (1 + std::exp(-2 * u));
}
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's definition).
inline double ref_softplus(double x, double beta = 1, double threshold = 20) {
  if (x * beta > threshold) return x;
  const double z = x * beta;
  return (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) / beta;
}

// ---- the cases ----------------------------------------------------------------------------------
// Bounds are in ulps. The vector bound holds on every instruction set the library dispatches to;
// bound_portable, where set, replaces it for the portable build (no fused multiply-add, which
// some of the float32 formulas use to round once). Where the scalar path evaluates in float64
// (Note [Composed functions in float64]) its bound is 0.501: correctly rounded up to the float64
// evaluation's ~2^-29 ulp, and the 1e-16 of the reference itself.
struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> ref;
  double lo, hi;                   // sweep B
  std::vector<double> thresholds;  // edge_values adds these and their neighbours
  double bound_vector;             // contiguous float32 tensors
  double bound_scalar;             // non-contiguous float32 tensors
  const char* glibc;               // glibc 2.36's x86_64 float figure (its manual); "-": no such function
  double bound_portable = 0;       // 0: bound_vector
};

inline constexpr double kRounded = 0.501;  // float64 evaluation, rounded once

inline double f32(double x) { return static_cast<float>(x); }

inline std::vector<UnaryCase> unary_cases() {
  const double ln_max = 88.72283935546875, ln_min = -87.33654785156250, ln_tiny = -103.97208404541016;
  std::vector<UnaryCase> c = {
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -104, 89,
       {ln_max, ln_min, ln_tiny, 87, -87}, 1.5, 1, "1"},
      {"exp2", [](const Tensor& x) { return exp2(x); }, [](double x) { return std::exp2(x); }, -151, 129,
       {128, -126, -149, -150}, 1, 1, "1"},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double x) { return std::expm1(x); }, -20, 89,
       {ln_max, 87, -87, -17, 0.3466, -0.3466, 1e-4, -1e-4}, 1.5, 1, "1"},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0, 4, {}, 1, 1, "1"},
      {"log2", [](const Tensor& x) { return log2(x); }, [](double x) { return std::log2(x); }, 0, 4, {}, 2, 1, "1"},
      {"log10", [](const Tensor& x) { return log10(x); }, [](double x) { return std::log10(x); }, 0, 4, {}, 2.5,
       kRounded, "2"},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double x) { return std::log1p(x); }, -1, 3,
       {1e-4, -1e-4}, 2.5, 1, "1"},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 4, {}, 0.5, 0.5,
       "0.5 (IEEE)"},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0, 4, {}, 2,
       kRounded, "-"},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1 / x; }, -4, 4,
       {0x1p-127, 0x1p-128, -0x1p-128}, 0.5, 0.5, "0.5 (IEEE)"},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); }, -10, 10,
       {3.14159265358979, 6.28318530717959, 1e6, 1e22}, 1, 1, "1"},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); }, -10, 10,
       {1.5707963267949, 4.71238898038469, 1e6, 1e22}, 1, 1, "1"},
      {"tan", [](const Tensor& x) { return tan(x); }, [](double x) { return std::tan(x); }, -10, 10,
       {1.5707963267949, 4.71238898038469, 1e6, 1e22}, kRounded, kRounded, "1"},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -10, 10,
       {9.01, -9.01, 1e-4, -1e-4, 0.55, -0.55}, 1.5, kRounded, "2"},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, ref_sigmoid, -104, 90,
       {87, -87, -ln_max, ln_min, ln_tiny, 16.7}, 2.5, kRounded, "-"},
      {"silu", [](const Tensor& x) { return silu(x); }, ref_silu, -110, 90, {87, -87, -ln_max, ln_min, ln_tiny},
       2.5, kRounded, "-"},
      {"gelu", [](const Tensor& x) { return gelu(x); }, ref_gelu_erf, -15, 10, {-14.85, -13.2, -5.6, 5.6}, 0.51,
       kRounded, "-"},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, [](double x) { return ref_gelu_tanh(x); },
       -15, 10, {-10, -5.6, 5.6}, 0.51, kRounded, "-"},
      {"softplus", [](const Tensor& x) { return softplus(x); }, [](double x) { return ref_softplus(x); }, -104, 30,
       {20, 87, -87, ln_min, ln_tiny}, kRounded, kRounded, "-"},
      {"softplus_b2", [](const Tensor& x) { return softplus(x, 2.0, 10.0); },
       [](double x) { return ref_softplus(x, 2, 10); }, -52, 15, {5, 43.5, -43.5}, kRounded, kRounded, "-"},
      {"erf", [](const Tensor& x) { return erf(x); }, [](double x) { return std::erf(x); }, -5, 5,
       {4, -4, 3.92, -3.92, 1, -1, 1e-4, -1e-4}, 1.5, 1, "1", 2.5},
  };
  // pow(tensor, scalar): the scalar is converted to float32 like the tensor, so the reference
  // uses that float32 exponent. (For float16/bfloat16 tensors it is rounded to their format.)
  for (double p : {2.0, 3.0, 0.5, -1.0, -0.5, 1.0 / 3.0, 2.5, -2.0, 10.0}) {
    const double pe = f32(p);
    char name[32];
    std::snprintf(name, sizeof name, "pow(x, %.4g)", p);
    c.push_back({name, [p](const Tensor& x) { return pow(x, Scalar(p)); },
                 [pe](double x) { return std::pow(x, pe); }, -8, 8, {}, 1, 1, "1"});
  }
  return c;
}

struct BinaryCase {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<double(double, double)> ref;
  double bound_vector, bound_scalar;
  const char* glibc;
};

inline std::vector<BinaryCase> binary_cases() {
  return {
      {"pow(x, y)", [](const Tensor& a, const Tensor& b) { return pow(a, b); },
       [](double a, double b) { return std::pow(a, b); }, 1, 1, "1"},
      {"atan2(y, x)", [](const Tensor& a, const Tensor& b) { return atan2(a, b); },
       [](double a, double b) { return std::atan2(a, b); }, 2, 2, "2"},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, [](double a, double b) { return a / b; },
       0.5, 0.5, "0.5 (IEEE)"},
  };
}

// Deterministic pairs for the binary cases (splitmix64): for pow, positive bases of every
// magnitude with exponents that keep the result near the float range (|y log2 x| < ~160), plus
// negative bases with integer exponents; for the others, random bit patterns of both operands.
inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline double uniform01(uint64_t& s) { return static_cast<double>(splitmix(s) >> 11) * 0x1p-53; }

inline std::vector<std::pair<float, float>> binary_inputs(const std::string& name, int64_t n, uint64_t seed) {
  std::vector<std::pair<float, float>> v;
  v.reserve(static_cast<size_t>(n) + 200);
  uint64_t s = seed;
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, 0.5f, -2.0f, 3.0f,
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min()};
  for (float a : specials)
    for (float b : specials) v.push_back({a, b});
  const bool is_pow = name.rfind("pow", 0) == 0;
  while (static_cast<int64_t>(v.size()) < n) {
    if (is_pow) {
      const float x = from_bits(static_cast<uint32_t>(splitmix(s) % 0x7f800000u));  // positive finite
      const double lx = std::log2(static_cast<double>(x));
      const double t = -160 + 300 * uniform01(s);  // y log2(x) in [-160, 140]
      const uint64_t r = splitmix(s) % 8;
      if (r == 0) {  // negative base, integer exponent
        v.push_back({-x, static_cast<float>(std::nearbyint(lx == 0 ? t : std::clamp(t / lx, -300.0, 300.0)))});
      } else if (r == 1) {  // small exponents of any base
        v.push_back({x, static_cast<float>(-4 + 8 * uniform01(s))});
      } else {
        v.push_back({x, static_cast<float>(lx == 0 ? t : t / lx)});
      }
    } else {
      v.push_back({from_bits(static_cast<uint32_t>(splitmix(s))), from_bits(static_cast<uint32_t>(splitmix(s)))});
    }
  }
  return v;
}

// softmax / log_softmax of ordinary float32 logits against their float64 values: softmax within
// kSoftmaxBound ulps of each element, log_softmax within kLogSoftmaxBound ulps of max(|y|, 1)
// (tests/test_accuracy.cpp says why).
inline constexpr double kSoftmaxBound = 3;
inline constexpr double kLogSoftmaxBound = 1.5;

// ---- gelu's backward ------------------------------------------------------------------------------
// Note [Fused GELU backward] (src/backend/cpu/nn_hwy.cpp): a plain backward of float32 gelu
// (approximate="none") runs one kernel for g'(x) = Phi(x) + x phi(x). Its error is measured
// against the float64 value in ulps of max(|Phi(x)|, |x phi(x)|) (Note [Measuring ulps]'s ulp of
// that magnitude), not of g' itself: g' crosses 0 near x = -0.75, where Phi and x phi cancel in
// any float formula. The bound holds for every float32 x in [-40, 40] (the kernel clamps |x| at
// 15, beyond which g' is 0 or 1 in float32).
struct GeluGradRef {
  double value, magnitude;
};
inline GeluGradRef ref_gelu_erf_grad(double x) {
  const double cdf = 0.5 * std::erfc(-x * 0.70710678118654752440);
  const double xpdf = x * std::exp(-0.5 * x * x) * 0.39894228040143267794;
  return {cdf + xpdf, std::max(std::fabs(cdf), std::fabs(xpdf))};
}
inline double gelu_grad_error(float got, const GeluGradRef& r) {
  if (!std::isfinite(got)) return kInf;
  const int e = r.magnitude > 0 ? std::max(std::ilogb(r.magnitude), kF32.emin) : kF32.emin;
  return std::fabs(got - r.value) / std::ldexp(1.0, e - kF32.p + 1);
}
inline constexpr double kGeluGradBound = 2;            // fused multiply-add: AVX2, AVX-512 (measured 1.84)
inline constexpr double kGeluGradBoundPortable = 3.5;  // without (measured 2.99)
// g'(x) for float32 x by a plain backward (grad mode off inside it: the one-pass kernel), g = 1.
inline Tensor gelu_grad_plain(const Tensor& x) {
  const Tensor xr = x.detach().requires_grad_();
  const Tensor y = gelu(xr);
  return autograd::grad({y}, {xr}, {ones_like(y)})[0];
}

// ---- running a sweep ----------------------------------------------------------------------------
struct Worst {
  double ulp = 0;
  float x = 0, y = 0;  // the input (y: the second operand of a binary case)
  float got = 0;
  double ref = 0;
  void take(double u, float xi, float yi, float g, double r) {
    if (u > ulp || (std::isnan(u) && !std::isnan(ulp))) *this = {u, xi, yi, g, r};
  }
};

// x as a float32 tensor: contiguous (the vector path), or every other element of a buffer (a
// stride-2 view: the element-by-element scalar path). `keep` holds the buffer.
inline Tensor layout(const std::vector<float>& x, bool strided, std::vector<float>& keep) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (!strided) {
    keep = x;
    return from_blob(keep.data(), {n}, {1}, DType::Float32);
  }
  keep.assign(2 * x.size(), 0.0f);
  for (size_t i = 0; i < x.size(); ++i) keep[2 * i] = x[i];
  return from_blob(keep.data(), {n}, {2}, DType::Float32);
}

// Max ulp error of c.op over xs against the float64 references refs (refs[i] = c.ref(xs[i])).
inline Worst measure(const UnaryCase& c, const std::vector<float>& xs, const std::vector<double>& refs, bool strided) {
  std::vector<float> keep;
  const Tensor out = c.op(layout(xs, strided, keep)).contiguous();
  const float* o = out.data_ptr<float>();
  Worst w;
  for (size_t i = 0; i < xs.size(); ++i) w.take(ulp_error(o[i], refs[i]), xs[i], 0, o[i], refs[i]);
  return w;
}

inline Worst measure(const BinaryCase& c, const std::vector<std::pair<float, float>>& in,
                     const std::vector<double>& refs, bool strided) {
  std::vector<float> a(in.size()), b(in.size()), ka, kb;
  for (size_t i = 0; i < in.size(); ++i) std::tie(a[i], b[i]) = in[i];
  const Tensor out = c.op(layout(a, strided, ka), layout(b, strided, kb)).contiguous();
  const float* o = out.data_ptr<float>();
  Worst w;
  for (size_t i = 0; i < in.size(); ++i) w.take(ulp_error(o[i], refs[i]), a[i], b[i], o[i], refs[i]);
  return w;
}

// ---- exact sums ------------------------------------------------------------------------------
// The exact sum of float32 values, correctly rounded to float32: every float is m 2^(e-150) with
// an integer |m| < 2^24 and 1 <= e <= 254 (e = 1 for subnormals), so sum(m) per exponent is exact
// in int64 for up to 2^39 terms; the buckets are then carried into one big integer in units of
// 2^-149 (2^32-bit limbs) and rounded once, ties to even. NaN/inf inputs give what IEEE addition
// gives (NaN, or the infinity).
class ExactSum {
 public:
  void add(float f) {
    const uint32_t b = std::bit_cast<uint32_t>(f);
    const uint32_t e = (b >> 23) & 0xff;
    if (e == 0xff) {
      if (b & 0x7fffff) nan_ = true;
      else (b >> 31 ? ninf_ : pinf_) = true;
      return;
    }
    const int64_t m = (e == 0 ? 0 : (int64_t{1} << 23)) | (b & 0x7fffff);
    bucket_[e == 0 ? 1 : e] += (b >> 31) ? -m : m;
  }
  float value() const {
    if (nan_ || (pinf_ && ninf_)) return std::numeric_limits<float>::quiet_NaN();
    if (pinf_ || ninf_) return pinf_ ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
    uint32_t limb[kLimbs];
    if (!magnitude(1, limb)) {  // negative: the magnitude of the negated sum
      magnitude(-1, limb);
      return -round(limb);
    }
    return round(limb);
  }

 private:
  static constexpr int kLimbs = 12;  // 384 bits in units of 2^-149: sums below 2^(253 + 24 + 39)

  // sign * sum as little-endian 32-bit limbs in units of 2^-149; false if that is negative.
  bool magnitude(int64_t sign, uint32_t* out) const {
    int64_t limb[kLimbs] = {};
    for (int e = 1; e < 255; ++e) {
      if (bucket_[e] == 0) continue;
      // bucket e holds multiples of 2^(e - 150) = 2^-149 * 2^(e - 1): add bucket * 2^(e - 1).
      const __int128 v = static_cast<__int128>(sign * bucket_[e]) << ((e - 1) % 32);  // |v| < 2^95
      const int q = (e - 1) / 32;
      limb[q] += static_cast<int64_t>(v & 0xffffffff);
      limb[q + 1] += static_cast<int64_t>((v >> 32) & 0xffffffff);
      limb[q + 2] += static_cast<int64_t>(v >> 64);  // floor: signed high part
    }
    for (int i = 0; i + 1 < kLimbs; ++i) {  // carry: every limb but the top into [0, 2^32)
      const int64_t carry = limb[i] >> 32;
      limb[i] -= carry * (int64_t{1} << 32);
      limb[i + 1] += carry;
    }
    for (int i = 0; i < kLimbs; ++i) out[i] = static_cast<uint32_t>(limb[i]);
    return limb[kLimbs - 1] >= 0;
  }
  static int bit(const uint32_t* limb, int i) { return static_cast<int>((limb[i / 32] >> (i % 32)) & 1); }
  // The magnitude rounded to float32, ties to even (subnormals keep the bits above 2^-149).
  static float round(const uint32_t* limb) {
    int top = -1;
    for (int i = kLimbs * 32 - 1; i >= 0 && top < 0; --i)
      if (bit(limb, i)) top = i;
    if (top < 0) return 0.0f;
    const int low = std::max(top - 23, 0);
    uint64_t m = 0;
    for (int i = top; i >= low; --i) m = (m << 1) | static_cast<uint64_t>(bit(limb, i));
    const bool half = low > 0 && bit(limb, low - 1);
    bool sticky = false;
    for (int i = low - 2; i >= 0 && !sticky; --i) sticky = bit(limb, i);
    if (half && (sticky || (m & 1))) ++m;
    return static_cast<float>(std::ldexp(static_cast<double>(m), low - 149));  // exact, or inf
  }

  int64_t bucket_[256] = {};
  bool nan_ = false, pinf_ = false, ninf_ = false;
};

}  // namespace ricci::accuracy
