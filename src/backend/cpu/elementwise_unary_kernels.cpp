// CPU kernels of the unary elementwise ops, one instantiation per dtype. float16/bfloat16 compute
// in float32; float32 (and the exact float64 ops) take the Highway vector loops when contiguous.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/elementwise_loops.h"
#include "backend/cpu/scalar_math.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

using ew::UnaryOp;
using ew::UnaryParams;
using ew_detail::run_unary;

// PyTorch's sign: 0 for NaN, as (0 < x) - (x < 0) gives.
template <class C>
C sign_of(C x) {
  if constexpr (std::is_unsigned_v<C>) return static_cast<C>(x > 0);
  else return static_cast<C>((C(0) < x) - (x < C(0)));
}

template <class T>
void unary_float(UnaryOp op, const Tensor& out, const Tensor& in, const UnaryParams& p) {
  using C = compute_t<T>;
  auto go = [&](auto f) { run_unary<T, T>(op, p, out, in, f); };
  switch (op) {
    case UnaryOp::Neg: return go([](C x) { return -x; });
    case UnaryOp::Abs: return go([](C x) { return std::abs(x); });
    case UnaryOp::Sign: return go([](C x) { return sign_of(x); });
    case UnaryOp::Exp: return go([](C x) { return std::exp(x); });
    case UnaryOp::Exp2: return go([](C x) { return std::exp2(x); });
    case UnaryOp::Expm1: return go([](C x) { return std::expm1(x); });
    case UnaryOp::Log: return go([](C x) { return std::log(x); });
    case UnaryOp::Log2: return go([](C x) { return std::log2(x); });
    case UnaryOp::Log10: return go([](C x) { return scalar::log10(x); });
    case UnaryOp::Log1p: return go([](C x) { return std::log1p(x); });
    case UnaryOp::Sqrt: return go([](C x) { return std::sqrt(x); });
    case UnaryOp::Rsqrt: return go([](C x) { return scalar::rsqrt(x); });
    case UnaryOp::Square: return go([](C x) { return x * x; });
    case UnaryOp::Reciprocal: return go([](C x) { return C(1) / x; });
    case UnaryOp::Sin: return go([](C x) { return std::sin(x); });
    case UnaryOp::Cos: return go([](C x) { return std::cos(x); });
    case UnaryOp::Tan: return go([](C x) { return scalar::tan(x); });
    case UnaryOp::Tanh: return go([](C x) { return scalar::tanh(x); });
    // Composed functions: Note [Composed functions in float64] (scalar_math.h).
    case UnaryOp::Sigmoid: return go([](C x) { return scalar::sigmoid(x); });
    case UnaryOp::Relu: return go([](C x) { return x < C(0) ? C(0) : x; });
    case UnaryOp::GeluErf: return go([](C x) { return scalar::gelu_erf(x); });
    case UnaryOp::GeluTanh: return go([](C x) { return scalar::gelu_tanh(x); });
    case UnaryOp::Silu: return go([](C x) { return scalar::silu(x); });
    case UnaryOp::Softplus: {
      const double beta = p.a, threshold = p.b;
      return go([beta, threshold](C x) { return scalar::softplus(x, beta, threshold); });
    }
    case UnaryOp::Erf: return go([](C x) { return std::erf(x); });
    case UnaryOp::Sinh: return go([](C x) { return std::sinh(x); });
    case UnaryOp::Cosh: return go([](C x) { return std::cosh(x); });
    case UnaryOp::Asinh: return go([](C x) { return std::asinh(x); });
    case UnaryOp::Acosh: return go([](C x) { return std::acosh(x); });
    case UnaryOp::Atanh: return go([](C x) { return std::atanh(x); });
    case UnaryOp::Asin: return go([](C x) { return std::asin(x); });
    case UnaryOp::Acos: return go([](C x) { return std::acos(x); });
    case UnaryOp::Atan: return go([](C x) { return std::atan(x); });
    case UnaryOp::Elu: {
      // PyTorch's elu: x <= 0 ? (exp(x * input_scale) - 1) * alpha * scale : x * scale, with expm1
      // (its vector loop's choice: exact near 0 where exp - 1 cancels).
      const C negcoef = static_cast<C>(p.a) * static_cast<C>(p.b), poscoef = static_cast<C>(p.b);
      const C negiptcoef = static_cast<C>(p.c);
      return go([=](C x) { return x <= C(0) ? std::expm1(x * negiptcoef) * negcoef : x * poscoef; });
    }
    case UnaryOp::LeakyRelu: {
      const C slope = static_cast<C>(p.a);
      return go([slope](C x) { return x > C(0) ? x : x * slope; });
    }
    // min(x, 0) - log1p(exp(-|x|)): no overflow for any x, and exact far out on both sides.
    case UnaryOp::LogSigmoid:
      return go([](C x) { return std::min(x, C(0)) - std::log1p(std::exp(-std::abs(x))); });  // min keeps NaN
    case UnaryOp::Mish: return go([](C x) { return x * std::tanh(std::log1p(std::exp(x))); });
    case UnaryOp::NanToNum: {
      const C nan = static_cast<C>(p.a), posinf = static_cast<C>(p.b), neginf = static_cast<C>(p.c);
      return go([=](C x) { return x != x ? nan : (x == std::numeric_limits<C>::infinity() ? posinf
                                                 : (x == -std::numeric_limits<C>::infinity() ? neginf : x)); });
    }
    case UnaryOp::Floor: return go([](C x) { return std::floor(x); });
    case UnaryOp::Ceil: return go([](C x) { return std::ceil(x); });
    case UnaryOp::Round: return go([](C x) { return std::nearbyint(x); });  // half to even
    case UnaryOp::Trunc: return go([](C x) { return std::trunc(x); });
    case UnaryOp::Clamp: {
      const C lo = static_cast<C>(p.a), hi = static_cast<C>(p.b);
      const bool has_lo = p.has_a, has_hi = p.has_b;
      // NaN inputs stay NaN (comparisons with NaN are false); a NaN bound gives NaN.
      return go([=](C x) {
        if (has_lo) x = (x < lo || lo != lo) ? lo : x;
        if (has_hi) x = (x > hi || hi != hi) ? hi : x;
        return x;
      });
    }
    default: break;
  }
  throw NotImplementedError("[elementwise] unary op not implemented for floating dtypes");
}

template <class T>
void unary_int(UnaryOp op, const Tensor& out, const Tensor& in, const UnaryParams& p) {
  auto go = [&](auto f) { run_unary<T, T>(op, p, out, in, f); };
  switch (op) {
    case UnaryOp::Neg: return go([](T x) { return wrapping_neg(x); });
    case UnaryOp::Abs:
      if constexpr (std::is_unsigned_v<T>) return go([](T x) { return x; });
      else return go([](T x) { return x < 0 ? wrapping_neg(x) : x; });
    case UnaryOp::Sign: return go([](T x) { return sign_of(x); });
    case UnaryOp::Square: return go([](T x) { return wrapping_mul(x, x); });
    case UnaryOp::Relu: return go([](T x) { return x < T(0) ? T(0) : x; });
    case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round: case UnaryOp::Trunc:
      return go([](T x) { return x; });
    case UnaryOp::BitwiseNot: return go([](T x) { return static_cast<T>(~x); });
    case UnaryOp::Clamp: {
      const bool has_lo = p.has_a, has_hi = p.has_b;
      const int64_t lo = p.ia, hi = p.ib;
      return go([=](T x) {
        int64_t v = static_cast<int64_t>(x);
        if (has_lo && v < lo) v = lo;
        if (has_hi && v > hi) v = hi;
        return static_cast<T>(v);
      });
    }
    default: break;
  }
  throw NotImplementedError("[elementwise] unary op not implemented for integer dtypes");
}

// Ops whose output is bool, for an input of any dtype.
template <class T>
void unary_to_bool(UnaryOp op, const Tensor& out, const Tensor& in, const UnaryParams& p) {
  using C = compute_t<T>;
  auto go = [&](auto f) { run_unary<bool, T>(op, p, out, in, f); };
  constexpr bool fp = std::is_floating_point_v<C>;
  switch (op) {
    case UnaryOp::LogicalNot: return go([](C x) { return x == C(0); });
    case UnaryOp::IsNan: return go([](C x) { return x != x; });
    case UnaryOp::IsInf:
      if constexpr (fp) return go([](C x) { return std::isinf(x); });
      else return go([](C) { return false; });
    case UnaryOp::IsFinite:
      if constexpr (fp) return go([](C x) { return std::isfinite(x); });
      else return go([](C) { return true; });
    default: break;
  }
  throw NotImplementedError("[elementwise] unary op has no bool output");
}

template <class T>
void unary_kernel(UnaryOp op, const Tensor& out, const Tensor& in, const UnaryParams& p) {
  if (op >= UnaryOp::LogicalNot) return unary_to_bool<T>(op, out, in, p);
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case UnaryOp::BitwiseNot: return run_unary<bool, bool>(op, p, out, in, [](bool x) { return !x; });
      case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::Relu: case UnaryOp::Square:
      case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round: case UnaryOp::Trunc:
        return run_unary<bool, bool>(op, p, out, in, [](bool x) { return x; });
      case UnaryOp::Clamp: {
        const bool has_lo = p.has_a, has_hi = p.has_b, lo = p.ia != 0, hi = p.ib != 0;
        return run_unary<bool, bool>(op, p, out, in, [=](bool x) {
          if (has_lo && x < lo) x = lo;
          if (has_hi && x > hi) x = hi;
          return x;
        });
      }
      default: throw NotImplementedError("[elementwise] unary op not implemented for bool");
    }
  } else if constexpr (std::is_integral_v<T>) {
    unary_int<T>(op, out, in, p);
  } else {
    unary_float<T>(op, out, in, p);
  }
}

const char* const kFloatOps[] = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                                 "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "gelu", "silu",
                                 "softplus", "erf", "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos",
                                 "atan", "elu", "leaky_relu", "log_sigmoid", "mish", "nan_to_num"};
const char* const kNumericOps[] = {"neg", "abs", "sign", "square", "relu", "clamp", "floor", "ceil", "round", "trunc"};
const char* const kAnyOps[] = {"logical_not", "isnan", "isinf", "isfinite"};

template <DType... Ts>
bool register_all() {
  auto reg = [](const char* name, DType t, ew::UnaryKernel fn) {
    kernels::register_kernel(name, DeviceType::CPU, t, fn);
  };
  (
      [&] {
        constexpr DType t = Ts;
        using T = dtype_cpp_t<t>;
        ew::UnaryKernel fn = &unary_kernel<T>;
        if constexpr (is_floating_point(t)) {
          for (const char* n : kFloatOps) reg(n, t, fn);
        } else {
          reg("bitwise_not", t, fn);
        }
        for (const char* n : kNumericOps) reg(n, t, fn);
        for (const char* n : kAnyOps) reg(n, t, fn);
      }(),
      ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
