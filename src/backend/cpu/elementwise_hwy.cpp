// Vectorised contiguous loops for float32 (and the cheap float64 ops), compiled for AVX2 and
// AVX-512 plus a scalar fallback, picked at run time (Highway's dynamic dispatch). Only the
// targets that matter on x86 servers are compiled, to keep the build short.
//
// Accuracy (docs/accuracy.md, held by tests/test_accuracy.cpp): exp, log, sqrt, reciprocal are
// Highway's or the hardware's; expm1, tanh and erf are ours (vector_math-inl.h), within 1.5 ulp where
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
#include "backend/cpu/vector_math-inl.h"

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
  // One group of N lanes: the vector formula, or the scalar one for every lane if one is out of range.
  const auto one = [&](int64_t j) {
    const auto x = hn::LoadU(df, in + j);
    if (HWY_LIKELY(hn::AllTrue(df, ok(df, x)))) {
      hn::StoreU(hn::DemoteTo(df, g(dd, hn::PromoteTo(dd, x))), df, out + j);
    } else {
      for (int64_t k = 0; k < N; ++k) out[j + k] = s(in[j + k]);
    }
  };
  int64_t i = 0;
  // Two groups per iteration, checked together: two independent chains in flight and half the
  // checks (issue 16: gelu 12.5 -> 10.7 ms for 4M on one core). The same values as one group at a
  // time.
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto x0 = hn::LoadU(df, in + i), x1 = hn::LoadU(df, in + i + N);
    if (HWY_LIKELY(hn::AllTrue(df, hn::And(ok(df, x0), ok(df, x1))))) {
      const auto y0 = g(dd, hn::PromoteTo(dd, x0));
      const auto y1 = g(dd, hn::PromoteTo(dd, x1));
      hn::StoreU(hn::DemoteTo(df, y0), df, out + i);
      hn::StoreU(hn::DemoteTo(df, y1), df, out + i + N);
    } else {
      one(i);
      one(i + N);
    }
  }
  for (; i + N <= n; i += N) one(i);
  for (; i < n; ++i) out[i] = s(in[i]);
}

// The lanes a vector form is valid for, as Loop1S / Loop1D take them: Note [Unary forms]'s checks,
// or every finite lane.
constexpr auto kAbsBelow87 = [](auto d, auto x) { return AbsBelow87(d, x); };
constexpr auto kAbsBelow1e30 = [](auto d, auto x) { return AbsBelow1e30(d, x); };
constexpr auto kPositiveFinite = [](auto d, auto x) { return PositiveFinite(d, x); };
constexpr auto kAboveMinusOneFinite = [](auto d, auto x) { return AboveMinusOneFinite(d, x); };
inline auto Finite() {
  return [](auto d, auto x) { return hn::Lt(hn::Abs(x), hn::Set(d, std::numeric_limits<float>::infinity())); };
}

bool UnaryF32(UnaryOp op, const float* in, float* out, int64_t n, const ew::UnaryParams& p) {
  using F = float;
  switch (op) {
    case UnaryOp::Neg: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Neg(x); }); return true;
    case UnaryOp::Abs: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Abs(x); }); return true;
    case UnaryOp::Sqrt: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Sqrt(x); }); return true;
    case UnaryOp::Rsqrt:
      Loop1<F>(in, out, n, [](auto d, auto x) { return RsqrtF32(d, x); });
      return true;
    case UnaryOp::Square: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Mul(x, x); }); return true;
    case UnaryOp::Reciprocal:
      Loop1<F>(in, out, n, [](auto d, auto x) { return ReciprocalOf(d, x); });
      return true;
    case UnaryOp::Exp:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return ExpF32(d, x); }, kAbsBelow87, [](F x) { return std::exp(x); });
      return true;
    case UnaryOp::Expm1:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return Expm1F32(d, x); }, kAbsBelow87, [](F x) { return std::expm1(x); });
      return true;
    case UnaryOp::Log:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log(d, x); }, kPositiveFinite, [](F x) { return std::log(x); });
      return true;
    case UnaryOp::Log2:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log2(d, x); }, kPositiveFinite, [](F x) { return std::log2(x); });
      return true;
    case UnaryOp::Log10:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log10(d, x); }, kPositiveFinite, scalar::log10<F>);
      return true;
    case UnaryOp::Log1p:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return hn::Log1p(d, x); }, kAboveMinusOneFinite, [](F x) { return std::log1p(x); });
      return true;
    case UnaryOp::Tanh:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return TanhF32(d, x); }, kAbsBelow1e30, scalar::tanh<F>);
      return true;
    case UnaryOp::Sigmoid:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return Sigmoid(d, x); }, kAbsBelow87, scalar::sigmoid<F>);
      return true;
    case UnaryOp::Relu: Loop1<F>(in, out, n, [](auto d, auto x) { return Relu(d, x); }); return true;
    case UnaryOp::Silu:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return SiluF32(d, x); }, kAbsBelow87, scalar::silu<F>);
      return true;
    case UnaryOp::Erf:
      Loop1S<F>(in, out, n, [](auto d, auto x) { return ErfF32(d, x); }, kAbsBelow1e30, [](F x) { return std::erf(x); });
      return true;
    case UnaryOp::GeluErf:
      Loop1D(in, out, n, [](auto dd, auto x) { return GeluErfLeanF64(dd, x); }, Finite(), scalar::gelu_erf<F>);
      return true;
    case UnaryOp::GeluTanh:
      Loop1D(in, out, n, [](auto dd, auto x) { return GeluTanhF64(dd, x); }, Finite(), scalar::gelu_tanh<F>);
      return true;
    case UnaryOp::Softplus: {
      // scalar::softplus in float64 vectors, rounded once: max(z, 0) + log1p(exp(-|z|)), z = beta x
      // (Highway's float64 exp and log1p are within a few float64 ulps, far below float32's).
      const double beta = p.a, threshold = p.b;
      Loop1D(in, out, n, [beta, threshold](auto dd, auto x) { return SoftplusF64(dd, x, beta, threshold); }, Finite(),
             [beta, threshold](F x) { return scalar::softplus(x, beta, threshold); });
      return true;
    }
    case UnaryOp::Floor: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Floor(x); }); return true;
    case UnaryOp::Ceil: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Ceil(x); }); return true;
    case UnaryOp::Round: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Round(x); }); return true;
    case UnaryOp::Trunc: Loop1<F>(in, out, n, [](auto, auto x) { return hn::Trunc(x); }); return true;
    default: return false;
  }
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
      Loop1<F>(in, out, n, [](auto d, auto x) { return ReciprocalOf(d, x); });
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
