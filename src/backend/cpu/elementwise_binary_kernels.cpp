// CPU kernels of the binary and ternary elementwise ops, one instantiation per dtype. Integer
// division semantics (floor, trunc, remainder, fmod) and their ZeroDivisionError follow PyTorch.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/elementwise_loops.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

using ew::BinaryOp;
using ew::TernaryOp;
using ew_detail::run_binary;

[[noreturn]] void zero_division(const char* op) {
  throw ValueError(detail::cat("[", op, "] ZeroDivisionError: integer division by zero; convert to a floating dtype "
                               "to get inf/nan instead"));
}

template <class C>
C int_pow(C base, C exp) {
  if constexpr (std::is_signed_v<C>) {
    if (exp < 0) {  // integer results of negative powers, as PyTorch defines them
      if (base == 1) return 1;
      if (base == -1) return (exp % 2 == 0) ? 1 : -1;
      return 0;
    }
  }
  C result = 1;
  while (exp) {
    if (exp & 1) result = wrapping_mul(result, base);
    exp = static_cast<C>(exp >> 1);
    base = wrapping_mul(base, base);
  }
  return result;
}

template <class C>
C float_floor_div(C a, C b) {
  if (b == C(0)) return a / b;
  const C mod = std::fmod(a, b);
  C div = (a - mod) / b;
  if (mod != C(0) && ((b < C(0)) != (mod < C(0)))) div -= C(1);
  if (div == C(0)) return std::copysign(C(0), a / b);
  C fl = std::floor(div);
  if (div - fl > C(0.5)) fl += C(1);
  return fl;
}

template <class T>
void binary_bool_out(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  using C = compute_t<T>;
  if (ew_detail::with_predicate<C>(op, [&](auto f) { run_binary<bool, T>(op, 1.0, out, a, b, f); })) return;
  throw NotImplementedError("[elementwise] binary op has no bool output");
}

template <class T>
void binary_float(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha_d) {
  using C = compute_t<T>;
  const C alpha = static_cast<C>(alpha_d);
  auto go = [&](auto f) { run_binary<T, T>(op, alpha_d, out, a, b, f); };
  switch (op) {
    case BinaryOp::Add:
      if (alpha == C(1)) return go([](C x, C y) { return x + y; });
      return go([alpha](C x, C y) { return x + alpha * y; });
    case BinaryOp::Sub:
      if (alpha == C(1)) return go([](C x, C y) { return x - y; });
      return go([alpha](C x, C y) { return x - alpha * y; });
    case BinaryOp::Mul: return go([](C x, C y) { return x * y; });
    case BinaryOp::Div: return go([](C x, C y) { return x / y; });
    case BinaryOp::DivFloor: return go([](C x, C y) { return float_floor_div(x, y); });
    case BinaryOp::DivTrunc: return go([](C x, C y) { return std::trunc(x / y); });
    case BinaryOp::Pow: return go([](C x, C y) { return std::pow(x, y); });
    case BinaryOp::Maximum: return go([](C x, C y) { return x != x ? x : (y != y ? y : (x > y ? x : y)); });
    case BinaryOp::Minimum: return go([](C x, C y) { return x != x ? x : (y != y ? y : (x < y ? x : y)); });
    case BinaryOp::Fmod: return go([](C x, C y) { return std::fmod(x, y); });
    case BinaryOp::Remainder:
      return go([](C x, C y) {
        C m = std::fmod(x, y);
        if (m != C(0) && ((y < C(0)) != (m < C(0)))) m += y;
        return m;
      });
    case BinaryOp::Atan2: return go([](C x, C y) { return std::atan2(x, y); });
    case BinaryOp::Logaddexp:
      // PyTorch's form: max + log1p(exp(-|a - b|)), exact for any gap; equal infinities are kept
      // (inf - inf would be NaN), and a NaN in either gives NaN.
      return go([](C x, C y) {
        if (std::isinf(x) && x == y) return x;
        return std::max(x, y) + std::log1p(std::exp(-std::abs(x - y)));
      });
    case BinaryOp::Hypot: return go([](C x, C y) { return std::hypot(x, y); });
    default: break;
  }
  throw NotImplementedError("[elementwise] binary op not implemented for floating dtypes");
}

template <class T>
void binary_int(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha_d) {
  const T alpha = static_cast<T>(static_cast<int64_t>(alpha_d));
  auto go = [&](auto f) { run_binary<T, T>(op, alpha_d, out, a, b, f); };
  constexpr int bits = sizeof(T) * 8;
  switch (op) {
    case BinaryOp::Add: return go([alpha](T x, T y) { return wrapping_add(x, wrapping_mul(alpha, y)); });
    case BinaryOp::Sub: return go([alpha](T x, T y) { return wrapping_sub(x, wrapping_mul(alpha, y)); });
    case BinaryOp::Mul: return go([](T x, T y) { return wrapping_mul(x, y); });
    case BinaryOp::DivTrunc:
      return go([](T x, T y) {
        if (y == 0) zero_division("div");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return wrapping_neg(x);  // INT_MIN / -1 wraps instead of trapping
        }
        return static_cast<T>(x / y);
      });
    case BinaryOp::DivFloor:
      return go([](T x, T y) {
        if (y == 0) zero_division("div");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return wrapping_neg(x);
          T q = static_cast<T>(x / y);
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return q;
        } else {
          return static_cast<T>(x / y);
        }
      });
    case BinaryOp::Pow: return go([](T x, T y) { return int_pow<T>(x, y); });
    case BinaryOp::Maximum: return go([](T x, T y) { return x > y ? x : y; });
    case BinaryOp::Minimum: return go([](T x, T y) { return x < y ? x : y; });
    case BinaryOp::Fmod:
      return go([](T x, T y) {
        if (y == 0) zero_division("fmod");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return T(0);
        }
        return static_cast<T>(x % y);
      });
    case BinaryOp::Remainder:
      return go([](T x, T y) {
        if (y == 0) zero_division("remainder");
        if constexpr (std::is_signed_v<T>) {
          if (y == -1) return T(0);
          T m = static_cast<T>(x % y);
          if (m != 0 && ((y < 0) != (m < 0))) m = static_cast<T>(m + y);
          return m;
        } else {
          return static_cast<T>(x % y);
        }
      });
    case BinaryOp::BitAnd: return go([](T x, T y) { return static_cast<T>(x & y); });
    case BinaryOp::BitOr: return go([](T x, T y) { return static_cast<T>(x | y); });
    case BinaryOp::BitXor: return go([](T x, T y) { return static_cast<T>(x ^ y); });
    case BinaryOp::Shl:
      return go([](T x, T y) {
        using U = std::make_unsigned_t<T>;
        if (y < 0 || y >= bits) return T(0);
        return static_cast<T>(static_cast<U>(x) << y);
      });
    case BinaryOp::Shr:
      return go([](T x, T y) {
        if (y < 0 || y >= bits) return static_cast<T>(x < 0 ? -1 : 0);
        return static_cast<T>(x >> y);
      });
    default: break;
  }
  throw NotImplementedError("[elementwise] binary op not implemented for integer dtypes");
}

void binary_bool(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  auto go = [&](auto f) { run_binary<bool, bool>(op, 1.0, out, a, b, f); };
  switch (op) {
    case BinaryOp::Add: case BinaryOp::BitOr: case BinaryOp::Maximum: return go([](bool x, bool y) { return x || y; });
    case BinaryOp::Mul: case BinaryOp::BitAnd: case BinaryOp::Minimum: return go([](bool x, bool y) { return x && y; });
    case BinaryOp::BitXor: return go([](bool x, bool y) { return x != y; });
    default: break;
  }
  throw NotImplementedError("[elementwise] binary op not implemented for bool");
}

template <class T>
void binary_kernel(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  if (ew::is_comparison(op)) return binary_bool_out<T>(op, out, a, b);
  if constexpr (std::is_same_v<T, bool>) binary_bool(op, out, a, b);
  else if constexpr (std::is_integral_v<T>) binary_int<T>(op, out, a, b, alpha.to_double());
  else binary_float<T>(op, out, a, b, alpha.to_double());
}

// ---- ternary -------------------------------------------------------------------------------------
template <class T, class F>
void run_ternary(const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z, F f) {
  for_each_strided({&out, &x, &y, &z}, [&](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<T*>(p[0] + i * st[0]) =
          static_cast<T>(f(*reinterpret_cast<const T*>(p[1] + i * st[1]), *reinterpret_cast<const T*>(p[2] + i * st[2]),
                           *reinterpret_cast<const T*>(p[3] + i * st[3])));
    }
  });
}

template <class T>
void ternary_kernel(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z,
                    const Scalar& value) {
  using C = compute_t<T>;
  if (op == TernaryOp::Where) {
    for_each_strided({&out, &x, &y, &z}, [](char* const* p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const bool c = *reinterpret_cast<const bool*>(p[1] + i * st[1]);
        *reinterpret_cast<T*>(p[0] + i * st[0]) = *reinterpret_cast<const T*>(p[c ? 2 : 3] + i * st[c ? 2 : 3]);
      }
    });
    return;
  }
  if constexpr (std::is_same_v<T, bool>) {
    throw NotImplementedError("[elementwise] ternary arithmetic is not implemented for bool");
  } else {
    const C v = value.to<C>();
    switch (op) {
      case TernaryOp::Lerp:
        if constexpr (std::is_floating_point_v<C>) {
          return run_ternary<T>(out, x, y, z, [](T s, T e, T w) {
            const C cs = s, ce = e, cw = w;
            return std::abs(cw) < C(0.5) ? cs + cw * (ce - cs) : ce - (ce - cs) * (C(1) - cw);
          });
        }
        break;
      case TernaryOp::Addcmul:
        return run_ternary<T>(out, x, y, z, [v](T s, T a, T b) { return static_cast<C>(s) + v * static_cast<C>(a) * static_cast<C>(b); });
      case TernaryOp::Addcdiv:
        if constexpr (std::is_floating_point_v<C>) {
          return run_ternary<T>(out, x, y, z, [v](T s, T a, T b) { return static_cast<C>(s) + v * static_cast<C>(a) / static_cast<C>(b); });
        }
        break;
      default: break;
    }
    throw NotImplementedError("[elementwise] ternary op not implemented for this dtype");
  }
}

template <DType... Ts>
bool register_all() {
  (
      [] {
        constexpr DType t = Ts;
        using T = dtype_cpp_t<t>;
        ew::BinaryKernel bk = &binary_kernel<T>;
        ew::TernaryKernel tk = &ternary_kernel<T>;
        for (const char* n : {"add", "mul", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
                              "logical_or", "logical_xor"})
          kernels::register_kernel(n, DeviceType::CPU, t, bk);
        kernels::register_kernel("where", DeviceType::CPU, t, tk);
        if constexpr (t != DType::Bool) {
          for (const char* n : {"sub", "div", "pow", "fmod", "remainder"}) kernels::register_kernel(n, DeviceType::CPU, t, bk);
          kernels::register_kernel("addcmul", DeviceType::CPU, t, tk);
        }
        if constexpr (is_floating_point(t)) {
          for (const char* n : {"atan2", "logaddexp", "hypot"}) kernels::register_kernel(n, DeviceType::CPU, t, bk);
          kernels::register_kernel("lerp", DeviceType::CPU, t, tk);
          kernels::register_kernel("addcdiv", DeviceType::CPU, t, tk);
        } else {
          for (const char* n : {"bitwise_and", "bitwise_or", "bitwise_xor"}) kernels::register_kernel(n, DeviceType::CPU, t, bk);
          if constexpr (t != DType::Bool) {
            kernels::register_kernel("bitwise_left_shift", DeviceType::CPU, t, bk);
            kernels::register_kernel("bitwise_right_shift", DeviceType::CPU, t, bk);
          }
        }
      }(),
      ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
