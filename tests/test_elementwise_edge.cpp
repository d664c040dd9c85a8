// Elementwise edge cases the main suites leave out: integer wrap-around, alpha on integers,
// clamp corner cases, rounding, bitwise ops, the compound operators, ternary-op errors and
// undefined operands. Each value is checked against PyTorch's result (hand-computed).
#include <cmath>
#include <functional>
#include <cstdint>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

// ---- add / sub with alpha --------------------------------------------------------------------------

// PyTorch refuses a floating alpha for integer tensors instead of truncating it.
TEST(ElementwiseEdgeAlpha, FloatAlphaOnIntegersThrows) {
  Tensor a = i64({1, 2}), b = i64({3, 4});
  EXPECT_THROW_MSG(add(a, b, 0.5), ValueError, "[add] For integral input tensors, argument alpha must not be a floating point number");
  EXPECT_THROW_MSG(sub(a, b, 1.5), ValueError, "[sub]");
  EXPECT_THROW_MSG(a.add_(b, 0.5), ValueError, "[add_]");
  // An integral alpha works, and a float alpha is fine once the result is floating.
  EXPECT_TENSOR_EQ(add(a, b, 2), i64({7, 10}));
  EXPECT_TENSOR_EQ(sub(a, b, -1), i64({4, 6}));
  EXPECT_TENSOR_EQ(add(a, f64({1, 1}), 0.5), f64({1.5, 2.5}));
}

TEST(ElementwiseEdgeAlpha, AlphaScalesOnlyTheSecondOperand) {
  Tensor a = f64({{1, 2}, {3, 4}}), b = f64({10, 20});
  EXPECT_TENSOR_EQ(add(a, b, 0.5), f64({{6, 12}, {8, 14}}));
  EXPECT_TENSOR_EQ(sub(a.t(), b, 2), f64({{-19, -37}, {-18, -36}}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{sub(x[0], x[1], 3.0)}; }, {leaf(a), leaf(b)}));
}

// ---- integer overflow ------------------------------------------------------------------------------

// Integer arithmetic wraps around (two's complement), as in PyTorch. int8 arithmetic is done in
// int, so this exercises the wrap without relying on signed-overflow behaviour.
TEST(ElementwiseEdgeIntegers, Int8ArithmeticWraps) {
  Tensor a = tensor({127, -128, 100}, int8);
  EXPECT_TENSOR_EQ(a + tensor({1, -1, 100}, int8), tensor({-128, 127, -56}, int8));
  EXPECT_TENSOR_EQ(a * 2, tensor({-2, 0, -56}, int8));
  EXPECT_TENSOR_EQ(tensor({200, 255}, uint8) + tensor({100, 1}, uint8), tensor({44, 0}, uint8));
  // A wrapped scalar does not widen the tensor's dtype.
  EXPECT_EQ((a + 1000).dtype(), int8);
}

// int8 only: the int32/int64 kernels negate the most negative value (signed-overflow UB, reported
// to the kernel owners); int8 arithmetic runs in int, so this pins PyTorch's wrap without UB.
TEST(ElementwiseEdgeIntegers, DivisionOfMostNegativeByMinusOne) {
  Tensor a = tensor({-128, 7}, int8), m1 = tensor({-1, -1}, int8);
  // floor / trunc division wrap like PyTorch; remainder and fmod are 0.
  EXPECT_TENSOR_EQ(div(a, m1, "floor"), tensor({-128, -7}, int8));
  EXPECT_TENSOR_EQ(div(a, m1, "trunc"), tensor({-128, -7}, int8));
  EXPECT_TENSOR_EQ(remainder(a, m1), tensor({0, 0}, int8));
  EXPECT_TENSOR_EQ(fmod(a, m1), tensor({0, 0}, int8));
}

TEST(ElementwiseEdgeIntegers, DivisionByZeroThrowsForEveryIntegerForm) {
  Tensor a = tensor({1, 2}, int32), z = tensor({1, 0}, int32);
  EXPECT_THROW_MSG(div(a, z, "trunc"), ValueError, "[div] ZeroDivisionError");
  EXPECT_THROW_MSG(fmod(a, z), ValueError, "[fmod] ZeroDivisionError");
  EXPECT_THROW_MSG(remainder(a, 0), ValueError, "[remainder] ZeroDivisionError");
  // True division promotes to float: no error, inf.
  EXPECT_TENSOR_EQ(div(a, z), tensor({1.0f, kInf}, float32));
}

TEST(ElementwiseEdgeIntegers, IntegerPowers) {
  Tensor b = i64({2, -2, 0, 1, -1});
  EXPECT_TENSOR_EQ(pow(b, 3), i64({8, -8, 0, 1, -1}));
  EXPECT_TENSOR_EQ(pow(b, 0), i64({1, 1, 1, 1, 1}));
  // Negative tensor exponents: PyTorch's integer rule (1 stays 1, -1 alternates, others 0).
  EXPECT_TENSOR_EQ(pow(b, i64({-1, -1, -2, -5, -3})), i64({0, 0, 0, 1, -1}));
  EXPECT_THROW_MSG(pow(b, -2), ValueError, "[pow] Integers to negative integer powers are not allowed");
  // A float exponent makes the result float.
  EXPECT_TENSOR_CLOSE(pow(i64({4, 9}), 0.5), tensor({2.0f, 3.0f}));
  EXPECT_TENSOR_EQ(pow(2, i64({0, 3, 10})), i64({1, 8, 1024}));
  EXPECT_THROW_MSG(pow(tensor({true}), tensor({true})), DTypeError, "[pow]");
}

// ---- bitwise ---------------------------------------------------------------------------------------

TEST(ElementwiseEdgeBitwise, ValuesOnIntsAndBools) {
  Tensor a = tensor({12, -1, 0}, int32), b = tensor({10, 5, 7}, int32);
  EXPECT_TENSOR_EQ(a & b, tensor({8, 5, 0}, int32));
  EXPECT_TENSOR_EQ(a | b, tensor({14, -1, 7}, int32));
  EXPECT_TENSOR_EQ(a ^ b, tensor({6, -6, 7}, int32));
  EXPECT_TENSOR_EQ(~a, tensor({-13, 0, -1}, int32));
  EXPECT_TENSOR_EQ(a & 4, tensor({4, 4, 0}, int32));
  Tensor t = tensor({true, true, false}), f = tensor({true, false, false});
  EXPECT_TENSOR_EQ(t & f, tensor({true, false, false}));
  EXPECT_TENSOR_EQ(t | f, tensor({true, true, false}));
  EXPECT_TENSOR_EQ(t ^ f, tensor({false, true, false}));
  EXPECT_TENSOR_EQ(~t, tensor({false, false, true}));
  // Mixed int/bool promotes to the integer type; non-contiguous operands.
  Tensor m = tensor({{1, 2}, {3, 4}}, int64);
  EXPECT_TENSOR_EQ(bitwise_or(m.t(), tensor({true, false})), tensor({{1, 3}, {3, 4}}, int64));
}

TEST(ElementwiseEdgeBitwise, ShiftsIncludingOutOfRangeAmounts) {
  Tensor a = tensor({1, -8, 3}, int32);
  EXPECT_TENSOR_EQ(a << 2, tensor({4, -32, 12}, int32));
  EXPECT_TENSOR_EQ(a >> 1, tensor({0, -4, 1}, int32));
  // Shifting by the width or more: 0 (or -1 for negative values shifted right), never UB.
  EXPECT_TENSOR_EQ(bitwise_left_shift(a, tensor({32, 40, 0}, int32)), tensor({0, 0, 3}, int32));
  EXPECT_TENSOR_EQ(bitwise_right_shift(a, tensor({32, 40, 64}, int32)), tensor({0, -1, 0}, int32));
}

TEST(ElementwiseEdgeBitwise, Errors) {
  EXPECT_THROW_MSG(bitwise_and(f64({1}), f64({1})), DTypeError, "[bitwise_and] bitwise_and is only supported for integer and bool");
  EXPECT_THROW_MSG(bitwise_xor(i64({1}), 1.5), DTypeError, "[bitwise_xor]");
  EXPECT_THROW_MSG(bitwise_not(f64({1})), DTypeError, "[bitwise_not]");
  EXPECT_THROW_MSG(bitwise_left_shift(tensor({true}), tensor({true})), DTypeError, "[bitwise_left_shift] shifts are not implemented for bool");
}

// ---- logical ---------------------------------------------------------------------------------------

TEST(ElementwiseEdgeLogical, TreatNonZeroAndNaNAsTrue) {
  Tensor x = f64({0, 2, kNaN, -0.0});
  Tensor y = i64({1, 0, 0, 3});
  EXPECT_TENSOR_EQ(logical_and(x, y), tensor({false, false, false, false}));
  EXPECT_TENSOR_EQ(logical_or(x, y), tensor({true, true, true, true}));
  EXPECT_TENSOR_EQ(logical_xor(x, y), tensor({true, true, true, true}));
  EXPECT_TENSOR_EQ(logical_not(x), tensor({true, false, false, true}));
  EXPECT_TENSOR_EQ(x && y, logical_and(x, y));
  EXPECT_TENSOR_EQ(!y, tensor({false, true, true, false}));
  // Broadcast and empty.
  EXPECT_EQ(logical_or(f64({{1}, {0}}), f64({0, 0, 1})).shape(), IntArrayRef({2, 3}));
  EXPECT_EQ(logical_and(empty({0, 3}), f64({1, 1, 1})).shape(), IntArrayRef({0, 3}));
}

// ---- rounding, sign, predicates --------------------------------------------------------------------

TEST(ElementwiseEdgeUnary, RoundHalfToEvenAndSignedZeros) {
  EXPECT_TENSOR_EQ(round(f64({0.5, 1.5, 2.5, -0.5, -1.5, -2.5})), f64({0, 2, 2, -0.0, -2, -2}));
  EXPECT_TRUE(std::signbit(round(f64({-0.4})).item<double>()));
  EXPECT_TRUE(std::signbit(trunc(f64({-0.7})).item<double>()));
  EXPECT_TRUE(std::signbit(ceil(f64({-0.7})).item<double>()));
  EXPECT_TENSOR_EQ(floor(f64({kInf, -kInf, kNaN})), f64({kInf, -kInf, kNaN}));
  // On integers the rounding ops keep the dtype and the values.
  EXPECT_TENSOR_EQ(round(i64({-3, 4})), i64({-3, 4}));
  EXPECT_TENSOR_EQ(floor(tensor({-3, 4}, int32)), tensor({-3, 4}, int32));
}

TEST(ElementwiseEdgeUnary, SignAbsNegOnIntegersAndSpecials) {
  EXPECT_TENSOR_EQ(sign(f64({-2, 0, 3, -kInf})), f64({-1, 0, 1, -1}));
  EXPECT_TENSOR_EQ(sign(i64({-5, 0, 7})), i64({-1, 0, 1}));
  EXPECT_TENSOR_EQ(abs(tensor({-3, 3}, int16)), tensor({3, 3}, int16));
  EXPECT_TENSOR_EQ(-tensor({-3, 3}, int8), tensor({3, -3}, int8));
  EXPECT_TENSOR_EQ(abs(f64({-0.0, -kInf})), f64({0, kInf}));
  EXPECT_THROW_MSG(-tensor({true}), DTypeError, "[neg] Negation, the `-` operator, on a bool tensor is not supported");
}

TEST(ElementwiseEdgeUnary, PredicatesOnIntegersAreConstant) {
  Tensor i = i64({{1, -2}, {3, 0}});
  EXPECT_TENSOR_EQ(isnan(i), tensor({{false, false}, {false, false}}));
  EXPECT_TENSOR_EQ(isinf(i.t()), tensor({{false, false}, {false, false}}));
  EXPECT_TENSOR_EQ(isfinite(i), tensor({{true, true}, {true, true}}));
  Tensor f = f64({kNaN, kInf, -kInf, 1e308});
  EXPECT_TENSOR_EQ(isnan(f), tensor({true, false, false, false}));
  EXPECT_TENSOR_EQ(isinf(f), tensor({false, true, true, false}));
  EXPECT_TENSOR_EQ(isfinite(f), tensor({false, false, false, true}));
  EXPECT_EQ(isnan(scalar_tensor(kNaN)).dim(), 0);
  EXPECT_FALSE(isnan(leaf(f)).requires_grad());
}

TEST(ElementwiseEdgeUnary, ExtremeArgumentsMatchTheLimits) {
  // exp overflow to inf, underflow to 0; log of 0 / negative; sqrt of negative; tanh saturates.
  EXPECT_TENSOR_EQ(exp(f64({1000, -1000})), f64({kInf, 0}));
  EXPECT_TENSOR_EQ(log(f64({0, -1})), f64({-kInf, kNaN}));
  EXPECT_TENSOR_EQ(sqrt(f64({-1, kInf})), f64({kNaN, kInf}));
  EXPECT_TENSOR_EQ(tanh(f64({1000, -1000})), f64({1, -1}));
  EXPECT_TENSOR_EQ(sigmoid(f64({1000, -1000})), f64({1, 0}));
  EXPECT_TENSOR_EQ(rsqrt(f64({0, kInf})), f64({kInf, 0}));
  EXPECT_TENSOR_EQ(reciprocal(f64({0, -0.0})), f64({kInf, -kInf}));
  // log1p / expm1 keep the precision of tiny arguments.
  EXPECT_DOUBLE_EQ(log1p(f64({1e-300})).item<double>(), 1e-300);
  EXPECT_DOUBLE_EQ(expm1(f64({1e-300})).item<double>(), 1e-300);
  // softplus switches to the identity above the threshold (no overflow) and respects beta.
  EXPECT_TENSOR_CLOSE(softplus(f64({1000, 0, -1000})), f64({1000, std::log(2.0), 0}), 1e-12, 0);
  EXPECT_TENSOR_CLOSE(softplus(f64({1}), 2.0, 20.0), f64({std::log1p(std::exp(2.0)) / 2}), 1e-12);
  EXPECT_TENSOR_EQ(softplus(f64({15}), 2.0, 20.0), f64({15}));
}

TEST(ElementwiseEdgeUnary, SoftplusGradientWithBeta) {
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{softplus(x[0], 2.0, 3.0)}; }, {leaf(f64({-2, -0.3, 0.4, 1.2}))}));
}

TEST(ElementwiseEdgeUnary, UndefinedInputThrows) {
  EXPECT_THROW_MSG(exp(Tensor()), Error, "[exp]");
  EXPECT_THROW_MSG(add(Tensor(), f64({1})), Error, "[add]");
  EXPECT_THROW_MSG(where(tensor({true}), Tensor(), f64({1})), Error, "[where]");
  EXPECT_THROW_MSG(masked_fill(Tensor(), tensor({true}), scalar_tensor(1.0)), Error, "[masked_fill]");
  EXPECT_THROW_MSG(clamp(Tensor(), 0.0, 1.0), Error, "[clamp]");
}

// ---- clamp -----------------------------------------------------------------------------------------

TEST(ElementwiseEdgeClamp, MinAboveMaxGivesMax) {
  // PyTorch: min(max(x, lo), hi), so hi wins when lo > hi.
  EXPECT_TENSOR_EQ(clamp(f64({-1, 5, 10}), 7.0, 3.0), f64({3, 3, 3}));
  EXPECT_TENSOR_EQ(clamp(i64({-1, 5, 10}), 7, 3), i64({3, 3, 3}));
}

TEST(ElementwiseEdgeClamp, NaNPropagatesAndIntegersPromoteWithFloatBounds) {
  EXPECT_TENSOR_EQ(clamp(f64({kNaN, -kInf, kInf}), -1.0, 1.0), f64({kNaN, -1, 1}));
  Tensor c = clamp(i64({0, 2, 5}), 1.5, std::nullopt);
  EXPECT_EQ(c.dtype(), float32);
  EXPECT_TENSOR_EQ(c, tensor({1.5f, 2.0f, 5.0f}));
  EXPECT_TENSOR_EQ(clamp(i64({0, 2, 5}), std::nullopt, 3), i64({0, 2, 3}));
  // In place on integers with a float bound would need a float result: refused.
  Tensor i = i64({1, 2});
  EXPECT_THROW_MSG(i.clamp_(0.5, std::nullopt), DTypeError, "[clamp_] result type Float can't be cast to the desired output type Long");
  EXPECT_THROW_MSG(clamp(f64({1}), std::nullopt, std::nullopt), ValueError, "[clamp] At least one of 'min' or 'max' must not be None");
}

TEST(ElementwiseEdgeClamp, TensorBoundsBroadcastAndGradient) {
  Tensor x = f64({{-2, 0.5, 3}, {1, -1, 0.2}});
  Tensor lo = f64({-1, 0, 0}), hi = f64({{1}, {0.5}});
  EXPECT_TENSOR_EQ(clamp(x, lo, hi), f64({{-1, 0.5, 1}, {0.5, 0, 0.2}}));
  EXPECT_TENSOR_EQ(clamp(x, Tensor(), hi), f64({{-2, 0.5, 1}, {0.5, -1, 0.2}}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{clamp(v[0], v[1], v[2])}; }, {leaf(x), leaf(lo), leaf(hi)}));
  EXPECT_THROW_MSG(clamp(x, Tensor(), Tensor()), ValueError, "[clamp] At least one of 'min' or 'max'");
  EXPECT_THROW_MSG(clamp(x, f64({1, 2}), Tensor()), ShapeError, "");
}

// PyTorch 2.15: with Scalar bounds the gradient passes strictly inside them, so it is 0 where x
// equals a bound (ricci passed it there), where x is NaN, and everywhere when min > max.
TEST(ElementwiseEdgeClamp, ScalarBoundsGradientIsZeroAtTheBounds) {
  const Tensor x = f64({-1, -0.0, 0, 0.5, 1, 2});
  auto grad_of = [](const Tensor& in, const std::function<Tensor(const Tensor&)>& fn) {
    Tensor l = leaf(in);
    fn(l).sum().backward();
    return l.grad();
  };
  const Tensor both = f64({0, 0, 0, 1, 0, 0}), lower = f64({0, 0, 0, 1, 1, 1}), upper = f64({1, 1, 1, 1, 0, 0});
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, 0.0, 1.0); }), both);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, 0, 1); }), both);  // integer bounds
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return t.clamp(0.0, 1.0); }), both);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, 0.0); }), lower);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp_min(t, 0); }), lower);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, std::nullopt, 1.0); }), upper);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp_max(t, 1); }), upper);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return t.clamp_min(0.0); }), lower);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return t.clamp_max(1.0); }), upper);
  // The in-place forms follow the same rule.
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { Tensor c = t.clone(); c.clamp_(0.0, 1.0); return c; }), both);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { Tensor c = t.clone(); c.clamp_(0, 1); return c; }), both);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { Tensor c = t.clone(); c.clamp_min_(0.0); return c; }), lower);
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { Tensor c = t.clone(); c.clamp_max_(1); return c; }), upper);
  // NaN, equal bounds and min > max.
  EXPECT_TENSOR_EQ(grad_of(f64({kNaN, 0.5}), [](const Tensor& t) { return clamp(t, 0.0, 1.0); }), f64({0, 1}));
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, 0.0, 0.0); }), zeros({6}, float64));
  EXPECT_TENSOR_EQ(grad_of(x, [](const Tensor& t) { return clamp(t, 1.0, 0.5); }), zeros({6}, float64));
  // Away from the bounds the gradient is the smooth one.
  const Tensor away = f64({-1, -0.2, 0.3, 0.9, 2});
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{clamp(v[0], -0.5, 0.7)}; }, {leaf(away)}));
  EXPECT_TRUE(check([](const Tensors& v) { Tensor c = v[0].clone(); c.clamp_(-0.5, 0.7); return Tensors{c}; }, {leaf(away)}));
}

// PyTorch: with tensor bounds the gradient goes to whichever of x, min, max gives the output, and a
// tie between x and one bound splits it equally (ricci gave all of it to x). One bound alone is
// maximum (minimum), NaN passing the gradient to both. Every expected value is PyTorch's.
TEST(ElementwiseEdgeClamp, TensorBoundsSplitTiesWithTheBound) {
  auto grads = [](const Tensor& x, const Tensor& lo, const Tensor& hi) {
    Tensor lx = leaf(x), llo = lo.defined() ? leaf(lo) : Tensor(), lhi = hi.defined() ? leaf(hi) : Tensor();
    clamp(lx, llo, lhi).sum().backward();
    return std::vector<Tensor>{lx.grad(), llo.defined() ? llo.grad() : Tensor(), lhi.defined() ? lhi.grad() : Tensor()};
  };
  const Tensor x = f64({-1, -0.0, 0, 0.5, 1, 2}), lo = zeros({6}, float64), hi = ones({6}, float64);
  auto g = grads(x, lo, hi);
  EXPECT_TENSOR_EQ(g[0], f64({0, 0.5, 0.5, 1, 0.5, 0}));
  EXPECT_TENSOR_EQ(g[1], f64({1, 0.5, 0.5, 0, 0, 0}));
  EXPECT_TENSOR_EQ(g[2], f64({0, 0, 0, 0, 0.5, 1}));
  g = grads(x, lo, Tensor());
  EXPECT_TENSOR_EQ(g[0], f64({0, 0.5, 0.5, 1, 1, 1}));
  EXPECT_TENSOR_EQ(g[1], f64({1, 0.5, 0.5, 0, 0, 0}));
  g = grads(x, Tensor(), hi);
  EXPECT_TENSOR_EQ(g[0], f64({1, 1, 1, 1, 0.5, 0}));
  EXPECT_TENSOR_EQ(g[2], f64({0, 0, 0, 0, 0.5, 1}));
  // x equal to both bounds keeps it all; min > max gives it all to max; NaN x keeps it.
  g = grads(f64({0, 0, 1, 2, 0.5, kNaN, kNaN}), f64({0, 1, 1, 2, 0, 0, 1}), f64({0, 0, 1, 1, 0, 1, 0}));
  EXPECT_TENSOR_EQ(g[0], f64({1, 0, 1, 0, 0, 1, 1}));
  EXPECT_TENSOR_EQ(g[1], f64({0, 0, 0, 0, 0, 0, 0}));
  EXPECT_TENSOR_EQ(g[2], f64({0, 1, 0, 1, 1, 0, 1}));
  g = grads(f64({kNaN, 0}), f64({0, kNaN}), Tensor());
  EXPECT_TENSOR_EQ(g[0], f64({1, 1}));
  EXPECT_TENSOR_EQ(g[1], f64({1, 1}));
  // A NaN bound makes the output NaN (min(max(x, min), max) propagates it).
  EXPECT_TENSOR_EQ(clamp(f64({0.5, 0.5}), f64({kNaN, 0}), f64({1, kNaN})), f64({kNaN, kNaN}));
  EXPECT_TENSOR_EQ(clamp(f64({0.5}), f64({kNaN}), Tensor()), f64({kNaN}));
  // Broadcast bounds reduce their gradients; ties split there too.
  g = grads(f64({{0, 1}, {2, 3}}), f64({0}), f64({{1}, {3}}));
  EXPECT_TENSOR_EQ(g[0], f64({{0.5, 0.5}, {1, 0.5}}));
  EXPECT_TENSOR_EQ(g[1], f64({0.5}));
  EXPECT_TENSOR_EQ(g[2], f64({{0.5}, {0.5}}));
  // Integer x with float bounds: a float result, the gradient reaches the bounds only.
  Tensor flo = leaf(f64({1.5, 1.5}));
  Tensor r = clamp(i64({1, 2}), flo, Tensor());
  EXPECT_EQ(r.dtype(), float64);
  r.sum().backward();
  EXPECT_TENSOR_EQ(flo.grad(), f64({1, 0}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{clamp(v[0], v[1], Tensor())}; },
                    {leaf(f64({-1, 0.3, 2})), leaf(f64({0, 0.5, 1}))}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{clamp(v[0], Tensor(), v[1])}; },
                    {leaf(f64({-1, 0.3, 2})), leaf(f64({0, 0.5, 1}))}));
}

// PyTorch: atan2's gradient at (0, 0) is 0 for both inputs (ricci gave 0/0 = NaN).
TEST(ElementwiseEdgeBinary, Atan2GradientAtTheOriginIsZero) {
  Tensor a = leaf(f64({0, 1, -1, 0})), b = leaf(f64({0, 0, -1, -0.0}));
  atan2(a, b).sum().backward();
  EXPECT_TENSOR_EQ(a.grad(), f64({0, 0, -0.5, 0}));
  EXPECT_TENSOR_EQ(b.grad(), f64({0, -1, 0.5, 0}));
  // Broadcast, and the second derivative stays finite at the origin.
  Tensor c = leaf(f64({0, 2})), d = leaf(f64({0}));
  const Tensors g1 = autograd::grad({atan2(c, d).sum()}, {c, d}, {}, /*retain_graph=*/true, /*create_graph=*/true);
  EXPECT_TENSOR_EQ(g1[0], f64({0, 0}));
  EXPECT_TENSOR_EQ(g1[1], f64({-0.5}));
  const Tensors g2 = autograd::grad({g1[1].sum()}, {c, d});
  EXPECT_TRUE(isfinite(g2[0]).all().item<bool>());
  EXPECT_TRUE(isfinite(g2[1]).all().item<bool>());
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{atan2(v[0], v[1])}; },
                    {leaf(f64({0.3, -1.2, 2, 0.2})), leaf(f64({-0.7, 0.4, 1.1, -0.5}))}));
}

// PyTorch: maximum/minimum give the gradient to an input unless the other is strictly better;
// a tie splits it, and a NaN (which loses every comparison) sends it to both inputs.
TEST(ElementwiseEdgeBinary, MaximumMinimumGradientWithNanAndTies) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (bool is_max : {true, false}) {
    Tensor a = leaf(f64({nan, 1, 2, nan, 3})), b = leaf(f64({1, nan, 2, nan, 1}));
    (is_max ? maximum(a, b) : minimum(a, b)).sum().backward();
    EXPECT_TENSOR_EQ(a.grad(), is_max ? f64({1, 1, 0.5, 1, 1}) : f64({1, 1, 0.5, 1, 0})) << is_max;
    EXPECT_TENSOR_EQ(b.grad(), is_max ? f64({1, 1, 0.5, 1, 0}) : f64({1, 1, 0.5, 1, 1})) << is_max;
  }
}

// ---- compound operators ----------------------------------------------------------------------------

TEST(ElementwiseEdgeOperators, CompoundAssignmentOnViewsAndScalars) {
  Tensor a = f64({{1, 2}, {3, 4}});
  Tensor col = a.slice(1, 1, 2);  // a view: writes go through to a
  col -= f64({{1}, {1}});
  col *= 10;
  EXPECT_TENSOR_EQ(a, f64({{1, 10}, {3, 30}}));
  a /= f64({1, 10});
  a += 1;
  a -= 0.5;
  EXPECT_TENSOR_EQ(a, f64({{1.5, 1.5}, {3.5, 3.5}}));
  Tensor i = i64({5, 7});
  i -= 2;
  i *= i64({2, 3});
  EXPECT_TENSOR_EQ(i, i64({6, 15}));
  // The destination never broadcasts, and an integer destination cannot hold a true division.
  EXPECT_THROW_MSG(i -= i64({{1, 1}, {1, 1}}), ShapeError, "[sub_] output with shape [2] doesn't match the broadcast shape [2, 2]");
  EXPECT_THROW_MSG(i /= 2, DTypeError, "[div_] result type Float can't be cast to the desired output type Long");
  EXPECT_THROW_MSG(i *= 1.5, DTypeError, "[mul_]");
}

TEST(ElementwiseEdgeOperators, ScalarOnTheLeftIsExact) {
  Tensor x = f64({1, 2, 4});
  EXPECT_TENSOR_EQ(1 - x, f64({0, -1, -3}));
  EXPECT_TENSOR_EQ(8 / x, f64({8, 4, 2}));
  EXPECT_TENSOR_EQ(2 * x, f64({2, 4, 8}));
  EXPECT_TENSOR_EQ(0.5 + x, f64({1.5, 2.5, 4.5}));
  // int scalar / int tensor is a true division in float32.
  EXPECT_TENSOR_EQ(1 / i64({2, 4}), tensor({0.5f, 0.25f}));
  EXPECT_TENSOR_EQ(3 - i64({1, 5}), i64({2, -2}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{(2.0 / v[0]) - (3.0 - v[0])}; }, {leaf(x)}));
}

TEST(ElementwiseEdgeOperators, ComparisonsWithScalarsAndNaN) {
  Tensor x = f64({1, kNaN, 3});
  EXPECT_TENSOR_EQ(x == 1, tensor({true, false, false}));
  EXPECT_TENSOR_EQ(x != x, tensor({false, true, false}));
  EXPECT_TENSOR_EQ(x < 2, tensor({true, false, false}));
  EXPECT_TENSOR_EQ(x >= 3, tensor({false, false, true}));
  // int tensor vs float scalar compares in float (PyTorch), not after truncating the scalar.
  EXPECT_TENSOR_EQ(i64({1, 2}) < 1.5, tensor({true, false}));
  EXPECT_TENSOR_EQ(i64({1, 2}) == 1.0, tensor({true, false}));
}

// ---- maximum / minimum / fmod / remainder ----------------------------------------------------------

TEST(ElementwiseEdgeBinary, FloatRemainderAndFmodSigns) {
  Tensor a = f64({-7, 7, -7, 7, 5.5}), b = f64({3, -3, -3, 3, 2});
  EXPECT_TENSOR_EQ(remainder(a, b), f64({2, -2, -1, 1, 1.5}));
  EXPECT_TENSOR_EQ(fmod(a, b), f64({-1, 1, -1, 1, 1.5}));
  EXPECT_TENSOR_EQ(fmod(f64({1, kInf}), f64({0, 2})), f64({kNaN, kNaN}));
  EXPECT_TENSOR_EQ(div(f64({-7, 7, 1, -1, 0}), f64({2, 2, 0, 0, 0}), "floor"), f64({-4, 3, kInf, -kInf, kNaN}));
}

TEST(ElementwiseEdgeBinary, MaximumMinimumOnIntsBoolsAndMixed) {
  EXPECT_TENSOR_EQ(maximum(i64({1, 5}), i64({3, 2})), i64({3, 5}));
  EXPECT_TENSOR_EQ(minimum(tensor({true, false}), tensor({true, true})), tensor({true, false}));
  Tensor m = maximum(i64({1, 5}), f64({2.5, 2.5}));
  EXPECT_EQ(m.dtype(), float64);
  EXPECT_TENSOR_EQ(m, f64({2.5, 5}));
  EXPECT_TENSOR_EQ(minimum(f64({kNaN, 1}), f64({0, kNaN})), f64({kNaN, kNaN}));
}

TEST(ElementwiseEdgeBinary, ErrorsNameTheOp) {
  EXPECT_THROW_MSG(f64({1, 2}) * f64({1, 2, 3}), ShapeError, "[mul] The size of tensor a (2) must match the size of tensor b (3)");
  EXPECT_THROW_MSG(tensor({true}) - tensor({true}), DTypeError, "[sub] Subtraction, the `-` operator, with two bool tensors");
  EXPECT_THROW_MSG(fmod(tensor({true}), tensor({true})), DTypeError, "[fmod]");
  EXPECT_THROW_MSG(div(f64({1}), f64({1}), "nearest"), ValueError, "[div] div expected rounding_mode");
  EXPECT_THROW_MSG(gelu(f64({1}), "exact"), ValueError, "[gelu] approximate argument must be either none or tanh");
}

// ---- where / lerp / addcmul / addcdiv / masked_fill ------------------------------------------------

TEST(ElementwiseEdgeTernary, WhereValuesOnEveryLayoutAndScalars) {
  Tensor c = tensor({{true, false}, {false, true}});
  Tensor a = f64({{1, 2}, {3, 4}}), b = f64({10, 20});
  EXPECT_TENSOR_EQ(where(c, a, b), f64({{1, 20}, {10, 4}}));
  EXPECT_TENSOR_EQ(where(c.t(), a.t(), b.expand({2, 2})), f64({{1, 20}, {10, 4}}));
  EXPECT_TENSOR_EQ(where(c, 1.5, 0), tensor({{1.5f, 0.0f}, {0.0f, 1.5f}}));
  EXPECT_TENSOR_EQ(where(c, i64({1, 2}), 0.5), tensor({{1.0f, 0.5f}, {0.5f, 2.0f}}));
  EXPECT_TENSOR_EQ(where(tensor({true, false}), f64({kNaN, kNaN}), f64({1, 1})), f64({kNaN, 1}));
  EXPECT_EQ(where(empty({0, 2}, TensorOptions(bool_)), a.slice(0, 0, 1), 0.0).shape(), IntArrayRef({0, 2}));
}

TEST(ElementwiseEdgeTernary, WhereErrors) {
  EXPECT_THROW_MSG(where(i64({1, 0}), f64({1, 2}), f64({3, 4})), DTypeError,
                   "[where] where expected condition to be a boolean tensor, but got a tensor with dtype int64");
  EXPECT_THROW_MSG(where(tensor({true, false, true}), f64({1, 2}), 0.0), ShapeError, "[where]");
}

TEST(ElementwiseEdgeTernary, LerpAddcmulAddcdivValues) {
  Tensor s = f64({{0, 10}, {-4, 2}}), e = f64({4, 20}), w = f64({{0.25}, {1.5}});
  EXPECT_TENSOR_EQ(lerp(s, e, w), f64({{1, 12.5}, {8, 29}}));
  EXPECT_TENSOR_EQ(lerp(s.t(), e, 0.5), f64({{2, 8}, {7, 11}}));
  EXPECT_TENSOR_EQ(addcmul(s, e, w, 2), f64({{2, 20}, {8, 62}}));
  EXPECT_TENSOR_CLOSE(addcdiv(s, e, w, 0.5), f64({{8, 50}, {-4 + 2.0 / 1.5, 2 + 10.0 / 1.5}}), 1e-12);
  EXPECT_TENSOR_EQ(addcmul(i64({1, 2}), i64({3, 4}), i64({5, 6}), 2), i64({31, 50}));
  EXPECT_TENSOR_EQ(addcdiv(f64({1}), f64({1}), f64({0})), f64({kInf}));
}

TEST(ElementwiseEdgeTernary, Errors) {
  EXPECT_THROW_MSG(lerp(i64({1}), i64({2}), 0.5), DTypeError, "[lerp] lerp is only implemented for floating dtypes");
  EXPECT_THROW_MSG(addcdiv(i64({1}), i64({2}), i64({3})), DTypeError, "[addcdiv]");
  EXPECT_THROW_MSG(addcmul(tensor({true}), tensor({true}), tensor({true})), DTypeError, "[addcmul] addcmul is not implemented for bool");
  EXPECT_THROW_MSG(lerp(f64({1, 2}), f64({1, 2, 3}), 0.5), ShapeError, "[lerp]");
  Tensor x = f64({1, 2});
  EXPECT_THROW_MSG(x.lerp_(f64({{1, 2}, {3, 4}}), 0.5), ShapeError, "[lerp_] output with shape [2] doesn't match the broadcast shape [2, 2]");
  EXPECT_THROW_MSG(x.addcmul_(f64({{1, 2}, {3, 4}}), f64({1})), ShapeError, "[addcmul_]");
  Tensor i = i64({1, 2});
  EXPECT_THROW_MSG(i.addcmul_(f64({1, 1}), f64({1, 1})), DTypeError, "[addcmul_] result type Double can't be cast");
}

TEST(ElementwiseEdgeTernary, MaskedFillValuesAndErrors) {
  Tensor x = f64({{1, 2, 3}, {4, 5, 6}});
  Tensor m = tensor({true, false, true});
  EXPECT_TENSOR_EQ(masked_fill(x, m, -1), f64({{-1, 2, -1}, {-1, 5, -1}}));
  EXPECT_TENSOR_EQ(masked_fill(x.t(), tensor({{true}, {false}, {false}}), kNaN), f64({{kNaN, kNaN}, {2, 5}, {3, 6}}));
  EXPECT_TENSOR_EQ(masked_fill(x, m, scalar_tensor(7.0)), f64({{7, 2, 7}, {7, 5, 7}}));
  // The value is converted to self's dtype (PyTorch), even a float into an int tensor.
  EXPECT_TENSOR_EQ(masked_fill(i64({1, 2}), tensor({true, false}), 3), i64({3, 2}));
  // x broadcasts up to the mask's shape out of place; in place it may not grow.
  EXPECT_TENSOR_EQ(masked_fill(f64({1, 2}), tensor({{true, false}, {false, false}}), 0), f64({{0, 2}, {1, 2}}));
  Tensor y = f64({1, 2});
  EXPECT_THROW_MSG(y.masked_fill_(tensor({{true, false}, {false, false}}), 0), ShapeError,
                   "[masked_fill_] output with shape [2] doesn't match the broadcast shape [2, 2]");
  EXPECT_THROW_MSG(masked_fill(x, i64({1, 0, 1}), 0), DTypeError, "[masked_fill] masked_fill_ only supports boolean masks");
  EXPECT_THROW_MSG(masked_fill(x, m, f64({1, 2})), ShapeError, "[masked_fill] masked_fill_ only supports a 0-dimensional value tensor");
  EXPECT_THROW_MSG(masked_fill(x, tensor({true, false}), 0), ShapeError, "[masked_fill]");
  EXPECT_TRUE(check([&](const Tensors& v) { return Tensors{masked_fill(v[0], m, 0.0)}; }, {leaf(x)}));
}

// ---- in place into an expanded tensor --------------------------------------------------------------

// Writing through a stride-0 dim hit one element several times (add_ gave [7, 7, 7] instead of an
// error); PyTorch refuses.
TEST(ElementwiseEdgeInplace, ExpandedSelfIsRefused) {
  Tensor e = ones({1}, float64).expand({3});
  EXPECT_THROW_MSG(e.add_(f64({1, 2, 3})), ValueError,
                   "[add_] unsupported operation: more than one element of the written-to tensor refers to a single memory location");
  EXPECT_THROW_MSG(e += 1, ValueError, "[add_] unsupported operation");
  EXPECT_THROW_MSG(e.exp_(), ValueError, "[exp_] unsupported operation");
  EXPECT_THROW_MSG(e.clamp_(0.0, 1.0), ValueError, "[clamp_] unsupported operation");
  EXPECT_THROW_MSG(e.masked_fill_(tensor({true, false, true}), 0), ValueError, "[masked_fill_] unsupported operation");
  EXPECT_THROW_MSG(e.lerp_(f64({1, 2, 3}), 0.5), ValueError, "[lerp_] unsupported operation");
  EXPECT_TENSOR_EQ(e, f64({1, 1, 1}));  // untouched
  // Size-1 dims with stride 0 are fine (one element each), and so is a clone.
  Tensor one = zeros({1}, float64).expand({1, 1});
  one += 2;
  EXPECT_TENSOR_EQ(one, f64({{2}}));
  Tensor c = e.clone();
  c += f64({1, 2, 3});
  EXPECT_TENSOR_EQ(c, f64({2, 3, 4}));
}
