#pragma once
// Elementwise ops: unary math, binary arithmetic and comparisons, ternary blends, C++ operators.
//
// Broadcasting (PyTorch's rule): shapes are aligned at the trailing dim; two sizes fit when equal
// or when one of them is 1. Otherwise ShapeError "[add] The size of tensor a (3) must match the
// size of tensor b (2) at non-singleton dimension 0".
//
// Type promotion (PyTorch's rule): the higher category wins (bool < integral < floating), then
// the wider type. A C++ Scalar and a 0-d tensor only decide the category: int32_tensor * 2 stays
// int32, float16_tensor * 2.5 stays float16, int_tensor * 2.5 becomes float32. True division and
// float-only functions (exp, sqrt, sigmoid, ...) of integer tensors give float32.
//
// In-place forms (add_, ...) write into self: self is never broadcast ("output with shape [3]
// doesn't match the broadcast shape [2, 3]") and the result dtype must cast to self's dtype
// ("result type Float can't be cast to the desired output type Long").
//
// Gradients: every op of floating inputs is differentiable; floor, ceil, round, trunc, sign and
// the comparisons give zero gradients, like PyTorch. Inputs that were broadcast get their
// gradient summed back to their shape.
#include <optional>
#include <string_view>

#include "ricci/tensor.h"

namespace ricci {

// The broadcast shape of a and b, or ShapeError naming `op`.
Dims broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op);
// PyTorch's result_type: the dtype an elementwise op of these operands computes in.
DType result_type(const Tensor& a, const Tensor& b);
DType result_type(const Tensor& a, const Scalar& b);

// ---- unary -------------------------------------------------------------------------------------
// Float-only functions promote integer and bool inputs to float32.
Tensor neg(const Tensor& x);  // bool: error (use logical_not)
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor exp2(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor square(const Tensor& x);  // keeps integer dtypes (bool becomes int64)
Tensor reciprocal(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
// approximate: "none" (exact, with erf) or "tanh".
Tensor gelu(const Tensor& x, std::string_view approximate = "none");
Tensor silu(const Tensor& x);
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor erf(const Tensor& x);
// Hyperbolic and inverse trigonometric functions. Outside their domain (acosh below 1, atanh,
// asin, acos outside [-1, 1]) they give NaN; atanh(+-1) is +-inf. Their gradients are PyTorch's
// formulas: inf at the ends of the domain (acosh at 1, atanh/asin/acos at +-1).
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor asinh(const Tensor& x);
Tensor acosh(const Tensor& x);
Tensor atanh(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
// NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf`; unset infinities become the
// largest and the lowest finite value of x's dtype (torch.finfo(dtype).max / .min). The
// replacements are rounded to x's dtype. Integer and bool inputs are returned as a copy. The
// gradient is zero at the replaced elements.
Tensor nan_to_num(const Tensor& x, double nan = 0.0, std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);

// Activations (torch.nn.functional's): floating inputs only, else DTypeError ("elu_cpu" not
// implemented for 'Long'), as PyTorch has no integer kernels for them.
// x for x > 0, alpha * (exp(x) - 1) for x <= 0. The gradient at 0 is alpha (PyTorch takes the
// exponential side there).
Tensor elu(const Tensor& x, double alpha = 1.0);
// scale * elu(x, alpha) with PyTorch's constants alpha = 1.6732632..., scale = 1.0507009...
Tensor selu(const Tensor& x);
// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); alpha = 0 is a ValueError.
Tensor celu(const Tensor& x, double alpha = 1.0);
// x for x > 0, negative_slope * x otherwise (gradient negative_slope at 0, as PyTorch).
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow or underflow to -inf for any x
// (logsigmoid(-1000) = -1000).
Tensor logsigmoid(const Tensor& x);
// x * tanh(softplus(x)).
Tensor mish(const Tensor& x);
Tensor floor(const Tensor& x);  // integer inputs are returned as they are (a copy)
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);  // half to even, like PyTorch
Tensor trunc(const Tensor& x);
// At least one bound. NaN stays NaN; min > max gives max everywhere. A float bound on an
// integer tensor promotes to float32 (as PyTorch's result_type).
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max);  // either may be undefined
Tensor clamp_min(const Tensor& x, const Scalar& min);
Tensor clamp_max(const Tensor& x, const Scalar& max);
Tensor logical_not(const Tensor& x);  // bool output
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);
Tensor bitwise_not(const Tensor& x);  // integer and bool only

// ---- binary ------------------------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);  // a + alpha * b
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);  // a - alpha * b
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Scalar& b);
// rounding_mode: nullopt (true division: integer inputs give float32), "floor" or "trunc" (keep
// integer dtypes; integer division by zero throws).
Tensor div(const Tensor& a, const Tensor& b, std::optional<std::string_view> rounding_mode = std::nullopt);
Tensor div(const Tensor& a, const Scalar& b, std::optional<std::string_view> rounding_mode = std::nullopt);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, const Scalar& exponent);  // integer base, negative integer exponent: error
Tensor pow(const Scalar& base, const Tensor& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);  // NaN propagates
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Tensor& b);       // sign of a (C's fmod)
Tensor fmod(const Tensor& a, const Scalar& b);
Tensor remainder(const Tensor& a, const Tensor& b);  // sign of b (Python's %)
Tensor remainder(const Tensor& a, const Scalar& b);
Tensor atan2(const Tensor& a, const Tensor& b);
// log(exp(a) + exp(b)) without overflow: max(a, b) + log1p(exp(-|a - b|)); equal infinities give
// that infinity. sqrt(a^2 + b^2) without overflow or underflow (C's hypot). Both: tensors only,
// floating after promotion (integer operands: DTypeError, as PyTorch). hypot's gradient at
// (0, 0) is NaN, as PyTorch's (a / hypot(a, b)).
Tensor logaddexp(const Tensor& a, const Tensor& b);
Tensor hypot(const Tensor& a, const Tensor& b);
// Comparisons: bool outputs, computed in the promoted dtype.
Tensor eq(const Tensor& a, const Tensor& b); Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Tensor& b); Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Tensor& b); Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Tensor& b); Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Tensor& b); Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Tensor& b); Tensor ge(const Tensor& a, const Scalar& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
// Integer and bool only (shifts: integer only); floating inputs throw DTypeError.
Tensor bitwise_and(const Tensor& a, const Tensor& b); Tensor bitwise_and(const Tensor& a, const Scalar& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);  Tensor bitwise_or(const Tensor& a, const Scalar& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b); Tensor bitwise_xor(const Tensor& a, const Scalar& b);
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b); Tensor bitwise_left_shift(const Tensor& a, const Scalar& b);
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b); Tensor bitwise_right_shift(const Tensor& a, const Scalar& b);

// ---- ternary -----------------------------------------------------------------------------------
// cond must be bool; a and b are promoted together, all three broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b);
Tensor where(const Tensor& cond, const Scalar& a, const Scalar& b);
// start + weight * (end - start); floating dtypes.
Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight);
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight);
Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value = 1);  // self + value*t1*t2
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value = 1);  // self + value*t1/t2
// value where mask (bool, broadcast to x) is true, x elsewhere.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);  // value: 0-d

// ---- in place (free forms of the Tensor methods) ------------------------------------------------
Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha = 1);
Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha = 1);
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, const Tensor& other);

// ---- C++ operators -----------------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a);
// Comparisons give bool tensors (not a C++ bool): use .all().item<bool>() or equal() for that.
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Scalar& b);
Tensor operator&&(const Tensor& a, const Tensor& b);  // logical_and (no short-circuit)
Tensor operator||(const Tensor& a, const Tensor& b);
Tensor operator!(const Tensor& a);  // logical_not
Tensor operator~(const Tensor& a);  // bitwise_not
Tensor operator&(const Tensor& a, const Tensor& b);
Tensor operator&(const Tensor& a, const Scalar& b);
Tensor operator|(const Tensor& a, const Tensor& b);
Tensor operator|(const Tensor& a, const Scalar& b);
Tensor operator^(const Tensor& a, const Tensor& b);
Tensor operator^(const Tensor& a, const Scalar& b);
Tensor operator<<(const Tensor& a, const Scalar& b);
Tensor operator>>(const Tensor& a, const Scalar& b);
// In place: `a += b` is a.add_(b). Tensor is a handle, so these modify the shared data.
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Scalar& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Scalar& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Scalar& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Scalar& b);

}  // namespace ricci

namespace ricci {
// |a - b| <= atol + rtol * |b| elementwise (broadcasting), NaNs equal only with equal_nan; as
// torch.isclose. allclose: all of it. equal: same shape and every element equal.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
bool equal(const Tensor& a, const Tensor& b);
}  // namespace ricci
