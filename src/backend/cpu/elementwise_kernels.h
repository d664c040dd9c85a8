#pragma once
// The kernel signatures of the elementwise family, shared by the ops (src/ops/elementwise*.cpp)
// and the CPU kernels. One kernel per arity and dtype does every op of that arity: the op code is
// switched on once per inner run, never per element. Each op name ("exp", "add", ...) is
// registered for the dtypes it supports, so the kernel table still says which (op, dtype) exist.
#include <cstdint>

#include "ricci/scalar.h"
#include "ricci/tensor.h"

namespace ricci::ew {

enum class UnaryOp : uint8_t {
  Neg, Abs, Sign, Exp, Exp2, Expm1, Log, Log2, Log10, Log1p, Sqrt, Rsqrt, Square, Reciprocal,
  Sin, Cos, Tan, Tanh, Sigmoid, Relu, GeluErf, GeluTanh, Silu, Softplus, Erf,
  Sinh, Cosh, Asinh, Acosh, Atanh, Asin, Acos, Atan, Elu, LeakyRelu, LogSigmoid, Mish, NanToNum,
  Floor, Ceil, Round, Trunc, Clamp, BitwiseNot,
  // Outputs bool (out has dtype bool, the kernel is keyed by the input's dtype).
  LogicalNot, IsNan, IsInf, IsFinite,
};

// Extra arguments: softplus (a = beta, b = threshold), clamp (a = min, b = max when has_*), elu
// (a = alpha, b = scale, c = input_scale), leaky_relu (a = negative_slope), nan_to_num (a = nan,
// b = posinf, c = neginf: the values that replace them).
struct UnaryParams {
  double a = 0, b = 0, c = 0;
  int64_t ia = 0, ib = 0;  // the same bounds for integer dtypes (exact beyond 2^53)
  bool has_a = false, has_b = false;
  bool operator==(const UnaryParams&) const = default;
};

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, DivFloor, DivTrunc, Pow, Maximum, Minimum, Fmod, Remainder, Atan2, Logaddexp, Hypot,
  BitAnd, BitOr, BitXor, Shl, Shr,
  // Output bool.
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
};
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

enum class TernaryOp : uint8_t { Lerp, Addcmul, Addcdiv, Where };

// out = op(in); in and out have out's shape (in may be expanded). Same dtype, except the bool
// outputs. Keyed by in's dtype.
using UnaryKernel = void (*)(UnaryOp op, const Tensor& out, const Tensor& in, const UnaryParams& p);
// out = op(a, b) (Add/Sub: a + alpha * b). a, b of one dtype, expanded to out's shape.
using BinaryKernel = void (*)(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha);
// Lerp: out = x + w * (y - x); Addcmul: x + value * y * z; Addcdiv: x + value * y / z;
// Where: x is the bool condition, out = x ? y : z. Keyed by out's dtype.
using TernaryKernel = void (*)(TernaryOp op, const Tensor& out, const Tensor& x, const Tensor& y, const Tensor& z,
                               const Scalar& value);

}  // namespace ricci::ew

namespace ricci::cpu {
// Vectorised (Highway, runtime-dispatched) contiguous float32/float64 loops. They return false
// for ops they do not cover, and the caller runs its scalar loop.
bool hwy_unary_f32(ew::UnaryOp op, const float* in, float* out, int64_t n, const ew::UnaryParams& p);
bool hwy_unary_f64(ew::UnaryOp op, const double* in, double* out, int64_t n, const ew::UnaryParams& p);
// mode 0: a and b contiguous; 1: b is one value (*b); 2: a is one value (*a).
bool hwy_binary_f32(ew::BinaryOp op, const float* a, const float* b, float* out, int64_t n, int mode, float alpha);
bool hwy_binary_f64(ew::BinaryOp op, const double* a, const double* b, double* out, int64_t n, int mode, double alpha);
}  // namespace ricci::cpu
