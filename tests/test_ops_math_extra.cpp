// The math and nn ops added after the first release, each against PyTorch's semantics: the
// hyperbolic and inverse trigonometric functions, logaddexp, hypot, nan_to_num; the activations
// elu/selu/celu/leaky_relu/logsigmoid/mish and softmin; group_norm; the losses
// binary_cross_entropy(_with_logits), kl_div, smooth_l1_loss, huber_loss; cosine_similarity.
// Values at special points (and their gradients) are PyTorch's, recorded from torch 2.x.
// Gradients against finite differences are in test_gradcheck_all_ops.cpp; the golden cases in
// tests/differential/cases_missing_math.py.
#include <cmath>
#include <functional>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;
namespace F = ricci::nn::functional;

namespace {

Tensor f32(const NestedList& v) { return tensor(v, float32); }

// Applies a double -> double function to every element (the reference, computed in float64).
Tensor map(const Tensor& x, const std::function<double(double)>& f) {
  std::vector<double> v = ricci::testing::values(x);
  for (double& e : v) e = f(e);
  return from_vector(v, x.shape(), float64);
}

// d(sum(f(x)))/dx for a float64 copy of x.
Tensor grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  Tensor l = leaf(x);
  f(l).sum().backward();
  return l.grad();
}

std::pair<Tensor, Tensor> grads_of(const std::function<Tensor(const Tensor&, const Tensor&)>& f, const Tensor& a,
                                   const Tensor& b) {
  Tensor la = leaf(a), lb = leaf(b);
  f(la, lb).sum().backward();
  return {la.grad(), lb.grad()};
}

struct UnaryCase {
  const char* name;
  Tensor (*op)(const Tensor&);
  Tensor (Tensor::*method)() const;
  Tensor& (Tensor::*inplace)();
  double (*ref)(double);
  double lo, hi;  // a range inside the domain
};

const std::vector<UnaryCase>& trig_cases() {
  static const std::vector<UnaryCase> cs = {
      {"sinh", ricci::sinh, &Tensor::sinh, &Tensor::sinh_, [](double x) { return std::sinh(x); }, -5, 5},
      {"cosh", ricci::cosh, &Tensor::cosh, &Tensor::cosh_, [](double x) { return std::cosh(x); }, -5, 5},
      {"asinh", ricci::asinh, &Tensor::asinh, &Tensor::asinh_, [](double x) { return std::asinh(x); }, -50, 50},
      {"acosh", ricci::acosh, &Tensor::acosh, &Tensor::acosh_, [](double x) { return std::acosh(x); }, 1, 50},
      {"atanh", ricci::atanh, &Tensor::atanh, &Tensor::atanh_, [](double x) { return std::atanh(x); }, -0.99, 0.99},
      {"asin", ricci::asin, &Tensor::asin, &Tensor::asin_, [](double x) { return std::asin(x); }, -1, 1},
      {"acos", ricci::acos, &Tensor::acos, &Tensor::acos_, [](double x) { return std::acos(x); }, -1, 1},
      {"atan", ricci::atan, &Tensor::atan, &Tensor::atan_, [](double x) { return std::atan(x); }, -100, 100},
  };
  return cs;
}

// 24 values spread over [lo, hi], both ends included, shaped (4, 6).
Tensor spread(double lo, double hi, DType dt) { return linspace(lo, hi, 24, TensorOptions(dt)).reshape({4, 6}); }

}  // namespace

// ---- hyperbolic and inverse trigonometric functions -------------------------------------------------

TEST(OpsMathTrig, ValuesOnEveryLayoutAndDtype) {
  for (const UnaryCase& c : trig_cases()) {
    SCOPED_TRACE(c.name);
    for (DType dt : {float64, float32}) {
      const Tensor x = spread(c.lo, c.hi, dt);
      const Tensor want = map(x, c.ref);
      const double tol = dt == float64 ? 1e-14 : 1e-6;
      EXPECT_EQ(c.op(x).dtype(), dt);
      EXPECT_TENSOR_CLOSE(c.op(x), want, tol, 1e-12);
      EXPECT_TENSOR_CLOSE((x.*c.method)(), want, tol, 1e-12);
      EXPECT_TENSOR_CLOSE(c.op(x.t()), want.t(), tol, 1e-12);                        // transposed
      EXPECT_TENSOR_CLOSE(c.op(x.slice(1, 0, 6, 2)), want.slice(1, 0, 6, 2), tol, 1e-12);  // step
      EXPECT_TENSOR_CLOSE(c.op(x.slice(0, 1, 2).expand({3, 6})), want.slice(0, 1, 2).expand({3, 6}), tol, 1e-12);
      Tensor y = x.clone();
      EXPECT_EQ(&(y.*c.inplace)(), &y);
      EXPECT_TENSOR_CLOSE(y, want, tol, 1e-12);
    }
    // float16 / bfloat16 compute in float32 and round once.
    for (DType dt : {float16, bfloat16}) {
      const Tensor x = spread(c.lo, c.hi, dt);
      const Tensor got = c.op(x);
      EXPECT_EQ(got.dtype(), dt);
      EXPECT_TENSOR_EQ(got, c.op(x.to(float32)).to(dt));
    }
    // Integer and bool inputs promote to float32 (torch.sinh(int) is float32).
    const Tensor ints = tensor({0, 1}, int64);
    EXPECT_EQ(c.op(ints).dtype(), float32);
    EXPECT_EQ(c.op(tensor({true, false})).dtype(), float32);
    // Empty and 0-d.
    EXPECT_EQ(c.op(empty({0, 3})).shape(), IntArrayRef({0, 3}));
    EXPECT_TENSOR_CLOSE(c.op(scalar_tensor(0.5, float64)), scalar_tensor(c.ref(0.5), float64), 1e-15, 0);
  }
}

TEST(OpsMathTrig, DomainEdgesAndSpecialValues) {
  const double pi = 3.14159265358979323846;
  EXPECT_TENSOR_EQ(acosh(f64({1, 0.5, kNaN, kInf})), f64({0, kNaN, kNaN, kInf}));
  EXPECT_TENSOR_EQ(atanh(f64({1, -1, 2, 0})), f64({kInf, -kInf, kNaN, 0}));
  EXPECT_TENSOR_EQ(asin(f64({1, -1, 1.5, -0.0})), f64({pi / 2, -pi / 2, kNaN, -0.0}));
  EXPECT_TENSOR_EQ(acos(f64({1, -1, -1.5})), f64({0, pi, kNaN}));
  EXPECT_TENSOR_EQ(atan(f64({kInf, -kInf, kNaN})), f64({pi / 2, -pi / 2, kNaN}));
  EXPECT_TENSOR_EQ(sinh(f64({kInf, -kInf, 1000})), f64({kInf, -kInf, kInf}));
  EXPECT_TENSOR_EQ(cosh(f64({kInf, -kInf, -1000})), f64({kInf, kInf, kInf}));
  EXPECT_TENSOR_EQ(asinh(f64({-kInf, 1e300})), f64({-kInf, 691.4686750787736}));  // torch.asinh's value
  // float32: sinh(89) is still finite, sinh(100) overflows (as torch.sinh).
  EXPECT_TENSOR_EQ(sinh(f32({89, 100, -100})), f32({std::sinh(89.0f), INFINITY, -INFINITY}));
  // acosh just above 1 keeps its digits (PyTorch: 1.4142764231805424e-06).
  EXPECT_NEAR(acosh(f64({1 + 1e-12})).item<double>(), 1.4142764231805424e-06, 1e-21);
  // atanh of tiny values is not rounded to 0.
  EXPECT_EQ(atanh(f64({1e-300})).item<double>(), 1e-300);
}

TEST(OpsMathTrig, GradientsAreTorchFormulas) {
  // PyTorch's derivatives: inf at the ends of the domain, NaN outside it.
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& x) { return acosh(x); }, f64({1, 0.5})), f64({kInf, kNaN}));
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& x) { return atanh(x); }, f64({1, -1})), f64({kInf, kInf}));
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& x) { return asin(x); }, f64({1, 2})), f64({kInf, kNaN}));
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& x) { return acos(x); }, f64({1})), f64({-kInf}));
  // acosh'(x) = 1 / sqrt(x^2 - 1), written as PyTorch does (x^2 - 1, not (x - 1)(x + 1)).
  const double x = 1 + 1e-8;
  EXPECT_DOUBLE_EQ(grad_of([](const Tensor& v) { return acosh(v); }, f64({x})).item<double>(),
                   7071.06783335258);
  EXPECT_TENSOR_CLOSE(grad_of([](const Tensor& v) { return atan(v); }, f64({0, 2})), f64({1, 0.2}), 1e-15);
  EXPECT_TENSOR_CLOSE(grad_of([](const Tensor& v) { return sinh(v); }, f64({0.5})), f64({std::cosh(0.5)}), 1e-15);
  EXPECT_EQ(sinh(leaf(f64({1}))).grad_fn()->name(), "SinhBackward0");
  EXPECT_EQ(acos(leaf(f64({0.5}))).grad_fn()->name(), "AcosBackward0");
}

// ---- logaddexp and hypot -------------------------------------------------------------------------------

TEST(OpsMathLogaddexp, ValuesBroadcastingAndPromotion) {
  const Tensor a = f64({{-2, 0.5, 3}}), b = f64({{1}, {-1}});
  const Tensor got = logaddexp(a, b);
  ASSERT_EQ(got.shape(), IntArrayRef({2, 3}));
  std::vector<double> want;
  for (double bv : {1.0, -1.0})
    for (double av : {-2.0, 0.5, 3.0}) want.push_back(std::log(std::exp(av) + std::exp(bv)));
  EXPECT_TENSOR_CLOSE(got, from_vector(want, {2, 3}, float64), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(a.logaddexp(b), got, 0, 0);
  EXPECT_TENSOR_CLOSE(logaddexp(a.t(), b.t()), got.t(), 1e-15, 0);
  // Promotion: float32 with float64 is float64; a 0-d float64 does not widen float32.
  EXPECT_EQ(logaddexp(f32({1}), f64({1})).dtype(), float64);
  EXPECT_EQ(logaddexp(f32({1, 2}), scalar_tensor(1.0, float64)).dtype(), float32);
  EXPECT_EQ(logaddexp(tensor({1, 2}, int64), f32({1, 2})).dtype(), float32);
  EXPECT_EQ(logaddexp(f32({1}), tensor({1}, bfloat16)).dtype(), float32);
  EXPECT_EQ(logaddexp(tensor({1.0}, float16), tensor({1.0}, float16)).dtype(), float16);
  EXPECT_EQ(logaddexp(empty({0, 2}), empty({2})).shape(), IntArrayRef({0, 2}));
}

TEST(OpsMathLogaddexp, ExtremeInputs) {
  const double ln2 = std::log(2.0);
  // No overflow far out, equal infinities kept, inf against -inf, NaN (PyTorch's values).
  EXPECT_TENSOR_EQ(logaddexp(f64({1e4, -1e4, kInf, -kInf, kInf, kNaN, 1}), f64({1e4, -1e4, kInf, -kInf, -kInf, 1, kNaN})),
                   f64({1e4 + ln2, -1e4 + ln2, kInf, -kInf, kInf, kNaN, kNaN}));
  EXPECT_TENSOR_EQ(logaddexp(f32({1e4f, 100, -100}), f32({1e4f, -100, 100})),
                   f32({1e4f + static_cast<float>(ln2), 100, 100}));
  EXPECT_EQ(logaddexp(f64({800}), f64({0})).item<double>(), 800.0);
}

TEST(OpsMathLogaddexp, Gradients) {
  const auto f = [](const Tensor& a, const Tensor& b) { return logaddexp(a, b); };
  // A huge gap gives 1 and 0 (never inf / inf); equal inputs split evenly; equal infinities give
  // NaN (PyTorch: exp(inf - inf)).
  auto [ga, gb] = grads_of(f, f64({1e4, 0, kInf, -kInf}), f64({-1e4, 0, kInf, -kInf}));
  EXPECT_TENSOR_EQ(ga, f64({1, 0.5, kNaN, kNaN}));
  EXPECT_TENSOR_EQ(gb, f64({0, 0.5, kNaN, kNaN}));
  // Broadcast operand: its gradient is summed back.
  auto [ga2, gb2] = grads_of(f, f64({{0, 1}, {2, 3}}), f64({0.5}));
  EXPECT_EQ(gb2.shape(), IntArrayRef({1}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{logaddexp(v[0], v[1])}; },
                    {leaf(f64({{0.3, -1.2}, {2, 0.1}})), leaf(f64({0.7, -0.4}))}));
  EXPECT_EQ(logaddexp(leaf(f64({1})), f64({2})).grad_fn()->name(), "LogaddexpBackward0");
}

TEST(OpsMathHypot, ValuesExtremesAndGradients) {
  EXPECT_TENSOR_CLOSE(hypot(f64({3, -5, 0}), f64({4, 12, -2})), f64({5, 13, 2}), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(f32({{3}, {6}}).hypot(f32({4, 8})), f32({{5, 8.5440037}, {7.2111025, 10}}), 1e-6, 0);
  // No overflow or underflow in the squares; inf wins over NaN (C's hypot, PyTorch's too).
  EXPECT_TENSOR_EQ(hypot(f64({1e300, 1e-300, kInf, kNaN}), f64({1e300, 1e-300, kNaN, -kInf})),
                   f64({std::hypot(1e300, 1e300), std::hypot(1e-300, 1e-300), kInf, kInf}));
  EXPECT_EQ(hypot(tensor({3.0}, float16), tensor({4.0}, float16)).dtype(), float16);
  // Gradient a / hypot(a, b): NaN at the origin, as PyTorch's.
  auto [ga, gb] = grads_of([](const Tensor& a, const Tensor& b) { return hypot(a, b); }, f64({0, 3}), f64({0, -4}));
  EXPECT_TENSOR_EQ(ga, f64({kNaN, 0.6}));
  EXPECT_TENSOR_EQ(gb, f64({kNaN, -0.8}));
}

TEST(OpsMathBinary, IntegerOperandsThrow) {
  const Tensor i = tensor({1, 2}, int64);
  EXPECT_THROW_MSG(logaddexp(i, i), DTypeError, "[logaddexp] \"logaddexp_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(hypot(i, tensor({true, false})), DTypeError, "[hypot] \"hypot_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(hypot(tensor({true}), tensor({true})), DTypeError, "not implemented for 'Bool'");
  EXPECT_THROW_MSG(logaddexp(f64({1, 2}), f64({1, 2, 3})), ShapeError, "[logaddexp] The size of tensor a (2)");
  EXPECT_THROW_MSG(hypot(Tensor(), f64({1})), Error, "[hypot]");
}

// ---- nan_to_num ----------------------------------------------------------------------------------------

TEST(OpsMathNanToNum, DefaultsAreTheDtypeLimits) {
  EXPECT_TENSOR_EQ(nan_to_num(f64({kNaN, kInf, -kInf, 1.5})),
                   f64({0, std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(), 1.5}));
  const double fmax = std::numeric_limits<float>::max();
  EXPECT_TENSOR_EQ(nan_to_num(f32({kNaN, kInf, -kInf})), f32({0, fmax, -fmax}));
  EXPECT_TENSOR_EQ(nan_to_num(tensor({kNaN, kInf, -kInf}, float16)), tensor({0, 65504, -65504}, float16));
  // bfloat16's largest value, not float32's (which would round to inf).
  const double bmax = 3.3895313892515355e+38;
  EXPECT_TENSOR_EQ(nan_to_num(tensor({kNaN, kInf, -kInf}, bfloat16)), tensor({0.0, bmax, -bmax}, bfloat16));
}

TEST(OpsMathNanToNum, GivenValuesLayoutsIntegersAndInPlace) {
  const Tensor x = f64({{kNaN, 1}, {kInf, -kInf}});
  EXPECT_TENSOR_EQ(nan_to_num(x, 7, 8, -9), f64({{7, 1}, {8, -9}}));
  EXPECT_TENSOR_EQ(x.t().nan_to_num(7, 8, -9), f64({{7, 8}, {1, -9}}));
  EXPECT_TENSOR_EQ(nan_to_num(x, 0, std::nullopt, -1), f64({{0, 1}, {std::numeric_limits<double>::max(), -1}}));
  // The replacement is rounded to the dtype (1e300 is inf in float32, as torch.nan_to_num).
  EXPECT_TENSOR_EQ(nan_to_num(f32({kInf}), 0, 1e300), f32({INFINITY}));
  // Integers: a copy, never an alias.
  const Tensor i = tensor({1, 2}, int64);
  Tensor c = nan_to_num(i);
  EXPECT_TENSOR_EQ(c, i);
  EXPECT_NE(c.data_ptr<int64_t>(), i.data_ptr<int64_t>());
  EXPECT_EQ(nan_to_num(tensor({true})).dtype(), DType::Bool);
  Tensor y = x.clone();
  EXPECT_EQ(&y.nan_to_num_(-1), &y);
  EXPECT_TENSOR_EQ(y, f64({{-1, 1}, {std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()}}));
  Tensor j = i.clone();
  EXPECT_TENSOR_EQ(j.nan_to_num_(), i);
  EXPECT_EQ(nan_to_num(empty({0})).numel(), 0);
  // The gradient is zero where a value was replaced (PyTorch: grad * isfinite(x)).
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& v) { return nan_to_num(v) * 2; }, f64({kNaN, kInf, 1})), f64({0, 0, 2}));
  EXPECT_THROW_MSG(nan_to_num(Tensor()), Error, "[nan_to_num]");
}

// ---- activations ----------------------------------------------------------------------------------------

TEST(OpsMathActivations, EluSeluCelu) {
  const Tensor x = f64({-3, -1e-8, -0.0, 0, 0.5, 20});
  EXPECT_TENSOR_CLOSE(elu(x), map(x, [](double v) { return v > 0 ? v : std::expm1(v); }), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(elu(x, 2.5), map(x, [](double v) { return v > 0 ? v : 2.5 * std::expm1(v); }), 1e-15, 0);
  // expm1 near 0 (exp(x) - 1 would lose half the digits of -1e-8).
  EXPECT_EQ(elu(f64({-1e-8})).item<double>(), -9.999999950000001e-09);
  const double a = 1.6732632423543772848170429916717, s = 1.0507009873554804934193349852946;
  EXPECT_TENSOR_CLOSE(selu(x), map(x, [=](double v) { return v > 0 ? s * v : s * a * std::expm1(v); }), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(celu(x, 2.0), map(x, [](double v) { return v > 0 ? v : 2.0 * std::expm1(v / 2.0); }), 1e-15, 0);
  EXPECT_TENSOR_EQ(elu(f64({kNaN, -kInf, kInf})), f64({kNaN, -1, kInf}));
  // Gradient at 0: the exponential side, as PyTorch (alpha, scale * alpha, 1 for celu).
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& v) { return elu(v, 2.0); }, f64({0, -0.0, 1})), f64({2, 2, 1}));
  EXPECT_NEAR(grad_of([](const Tensor& v) { return selu(v); }, f64({0})).item<double>(), 1.7580993408473766, 1e-15);
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& v) { return celu(v, 2.0); }, f64({0})), f64({1}));
  // float32 / float16.
  EXPECT_TENSOR_CLOSE(elu(f32({-1, 2})), f32({static_cast<float>(std::expm1(-1.0)), 2}), 1e-6, 0);
  EXPECT_EQ(selu(tensor({-1.0}, bfloat16)).dtype(), bfloat16);
  EXPECT_EQ(elu(leaf(f64({1}))).grad_fn()->name(), "EluBackward0");
  EXPECT_THROW_MSG(celu(x, 0.0), ValueError, "[celu] ZeroDivisionError: alpha cannot be 0 for CELU");
}

TEST(OpsMathActivations, LeakyRelu) {
  const Tensor x = f64({{-2, 0}, {3, kNaN}});
  EXPECT_TENSOR_EQ(leaky_relu(x), f64({{-0.02, 0}, {3, kNaN}}));
  EXPECT_TENSOR_EQ(leaky_relu(x.t(), 0.5), f64({{-1, 3}, {0, kNaN}}));
  EXPECT_TENSOR_EQ(leaky_relu(f32({-4}), -0.25), f32({1}));
  // The gradient at 0 is the slope (PyTorch: x > 0 ? g : g * slope).
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& v) { return leaky_relu(v, 0.2); }, f64({0, -0.0, 1, -1})),
                   f64({0.2, 0.2, 1, 0.2}));
}

TEST(OpsMathActivations, LogsigmoidIsStableEverywhere) {
  // PyTorch's values: exact far out on both sides, no -inf, no 0 - log1p(0) cancellation.
  EXPECT_TENSOR_EQ(logsigmoid(f64({-1e4, 1e4, kNaN, -kInf, kInf})), f64({-1e4, 0, kNaN, -kInf, 0}));
  EXPECT_TENSOR_CLOSE(logsigmoid(f64({-30, 30, 40, 0})),
                      f64({-30.0000000000000924, -9.35762296883973684e-14, -4.24835425529158887e-18, -std::log(2.0)}),
                      1e-15, 0);
  EXPECT_TENSOR_EQ(logsigmoid(f32({-200, 200})), f32({-200, 0}));
  const Tensor x = f64({-3, -0.5, 0.25, 4});
  EXPECT_TENSOR_CLOSE(logsigmoid(x), map(x, [](double v) { return -std::log1p(std::exp(-v)); }), 1e-15, 0);
  // Gradient sigmoid(-x): 1/2 at 0, 1 and 0 far out, NaN at NaN.
  EXPECT_TENSOR_EQ(grad_of([](const Tensor& v) { return logsigmoid(v); }, f64({0, -1e4, 1e4, kNaN})),
                   f64({0.5, 1, 0, kNaN}));
  EXPECT_EQ(logsigmoid(leaf(f64({1}))).grad_fn()->name(), "LogSigmoidBackward0");
}

TEST(OpsMathActivations, Mish) {
  const Tensor x = f64({-100, -2, 0, 0.5, 3, 100});
  EXPECT_TENSOR_CLOSE(mish(x), map(x, [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }), 1e-15, 0);
  EXPECT_TENSOR_EQ(mish(f64({1000, -1000, kNaN})), f64({1000, -0.0, kNaN}));
  EXPECT_TENSOR_EQ(mish(f32({100})), f32({100}));
  // PyTorch's gradients: 0.6 at 0, 1 far right, NaN at NaN.
  EXPECT_TENSOR_CLOSE(grad_of([](const Tensor& v) { return mish(v); }, f64({0, 100, kNaN})), f64({0.6, 1, kNaN}), 1e-15,
                      0);
}

TEST(OpsMathActivations, FloatOnlyAndEmpty) {
  const Tensor i = tensor({1, 2}, int64);
  EXPECT_THROW_MSG(elu(i), DTypeError, "[elu] \"elu_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(selu(i), DTypeError, "\"elu_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(celu(tensor({true})), DTypeError, "not implemented for 'Bool'");
  EXPECT_THROW_MSG(leaky_relu(i), DTypeError, "[leaky_relu] \"leaky_relu_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(logsigmoid(i), DTypeError, "[log_sigmoid] \"log_sigmoid_cpu\" not implemented for 'Long'");
  EXPECT_THROW_MSG(mish(tensor({1}, int32)), DTypeError, "\"mish_cpu\" not implemented for 'Int'");
  for (auto f : {+[](const Tensor& x) { return elu(x); }, +[](const Tensor& x) { return mish(x); },
                 +[](const Tensor& x) { return logsigmoid(x); }, +[](const Tensor& x) { return leaky_relu(x); }}) {
    EXPECT_EQ(f(empty({2, 0})).shape(), IntArrayRef({2, 0}));
    EXPECT_EQ(f(scalar_tensor(1.0)).dim(), 0);
    // float16 / bfloat16 round once from float32.
    const Tensor h = tensor({-1.5, 0.25, 3.0}, float16);
    EXPECT_TENSOR_EQ(f(h), f(h.to(float32)).to(float16));
  }
}

TEST(OpsMathActivations, Softmin) {
  const Tensor x = f64({{1, 2, 3}, {-1, 0, 5}});
  EXPECT_TENSOR_CLOSE(F::softmin(x, 1), F::softmax(-x, 1), 0, 0);
  EXPECT_TENSOR_CLOSE(F::softmin(x, 0), F::softmax(-x, 0), 0, 0);
  EXPECT_TENSOR_CLOSE(F::softmin(x.t(), -1), F::softmax(-x.t(), -1), 0, 0);
  // dtype converts first (the way to use an integer tensor), like softmax.
  EXPECT_TENSOR_CLOSE(F::softmin(tensor({1, 2}, int64), 0, float64), f64({0.7310585786300049, 0.2689414213699951}),
                      1e-15, 0);
  EXPECT_THROW_MSG(F::softmin(tensor({true}), 0), DTypeError, "Negation, the `-` operator, on a bool tensor");
  EXPECT_THROW_MSG(F::softmin(x, 2), Error, "");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::softmin(v[0], 1)}; }, {leaf(x)}));
}

// ---- group_norm --------------------------------------------------------------------------------------------

namespace {
// Group norm by hand: (N, C, L) float64, every (n, group) normalised with the biased variance.
Tensor group_norm_ref(const Tensor& x, int64_t groups, const std::vector<double>& w, const std::vector<double>& b,
                      double eps) {
  const int64_t n = x.size(0), c = x.size(1), l = x.numel() / (n * c), per = c / groups * l;
  std::vector<double> v = ricci::testing::values(x), out(v.size());
  for (int64_t i = 0; i < n * groups; ++i) {
    double mean = 0, var = 0;
    for (int64_t k = 0; k < per; ++k) mean += v[i * per + k];
    mean /= static_cast<double>(per);
    for (int64_t k = 0; k < per; ++k) var += (v[i * per + k] - mean) * (v[i * per + k] - mean);
    var /= static_cast<double>(per);
    for (int64_t k = 0; k < per; ++k) {
      const int64_t ch = (i % groups) * (c / groups) + k / l;
      double y = (v[i * per + k] - mean) / std::sqrt(var + eps);
      if (!w.empty()) y *= w[ch];
      if (!b.empty()) y += b[ch];
      out[i * per + k] = y;
    }
  }
  return from_vector(out, x.shape(), float64);
}
}  // namespace

TEST(OpsMathGroupNorm, ValuesGroupsAffineAndLayouts) {
  const Tensor x = (arange(48, float64).reshape({2, 4, 6}) * 0.37).sin() * 3;
  const std::vector<double> w{0.5, -1, 2, 1.5}, b{0.1, 0.2, -0.3, 0};
  for (int64_t g : {1, 2, 4}) {
    SCOPED_TRACE(g);
    EXPECT_TENSOR_CLOSE(F::group_norm(x, g), group_norm_ref(x, g, {}, {}, 1e-5), 1e-12, 1e-12);
    EXPECT_TENSOR_CLOSE(F::group_norm(x, g, f64({0.5, -1, 2, 1.5}), f64({0.1, 0.2, -0.3, 0}), 1e-3),
                        group_norm_ref(x, g, w, b, 1e-3), 1e-12, 1e-12);
  }
  // A non-contiguous input of spatial shape (3, 2), and a 2-d input (no spatial dims).
  const Tensor xt = x.reshape({2, 4, 2, 3}).transpose(2, 3);
  EXPECT_TENSOR_CLOSE(F::group_norm(xt, 2), group_norm_ref(xt.contiguous(), 2, {}, {}, 1e-5), 1e-12, 1e-12);
  const Tensor x2 = x.reshape({4, 12});
  EXPECT_TENSOR_CLOSE(F::group_norm(x2, 3), group_norm_ref(x2.reshape({4, 12, 1}), 3, {}, {}, 1e-5).reshape({4, 12}),
                      1e-12, 1e-12);
  // One group is layer_norm over (C, *).
  EXPECT_TENSOR_CLOSE(F::group_norm(x, 1), F::layer_norm(x, {4, 6}), 1e-12, 1e-12);
  // float32 and float16 (float32 arithmetic, one rounding).
  EXPECT_TENSOR_CLOSE(F::group_norm(x.to(float32), 2), group_norm_ref(x, 2, {}, {}, 1e-5), 1e-5, 1e-5);
  const Tensor h = x.to(float16);
  const Tensor gh = F::group_norm(h, 2, tensor({0.5, -1, 2, 1.5}, float16));
  EXPECT_EQ(gh.dtype(), float16);
  EXPECT_TENSOR_EQ(gh, F::group_norm(h.to(float32), 2, tensor({0.5, -1, 2, 1.5}, float32)).to(float16));
  // Empty batch.
  EXPECT_EQ(F::group_norm(empty({0, 4, 3}), 2).shape(), IntArrayRef({0, 4, 3}));
  // Gradients of input, weight and bias (and second order: the layer_norm rule in ricci ops).
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::group_norm(v[0], 2, v[1], v[2])}; },
                    {leaf(x.slice(2, 0, 3)), leaf(f64({0.5, -1, 2, 1.5})), leaf(f64({0.1, 0.2, -0.3, 0}))}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{F::group_norm(v[0], 2, v[1])}; },
                                      {leaf(x.slice(2, 0, 2)), leaf(f64({0.5, -1, 2, 1.5}))}));
}

TEST(OpsMathGroupNorm, Errors) {
  const Tensor x = empty({2, 4, 3}, float64);
  EXPECT_THROW_MSG(F::group_norm(f64({1, 2, 3}), 1), ShapeError,
                   "[group_norm] Expected at least 2 dimensions for input tensor but received 1");
  EXPECT_THROW_MSG(F::group_norm(x, 3), ShapeError,
                   "Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 4, 3] "
                   "and num_groups=3");
  EXPECT_THROW_MSG(F::group_norm(x, 2, empty({3}, float64)), ShapeError,
                   "Expected weight to be a vector of size equal to the number of channels in input, but got weight of "
                   "shape [3] and input of shape [2, 4, 3]");
  EXPECT_THROW_MSG(F::group_norm(x, 2, Tensor(), empty({2, 2}, float64)), ShapeError,
                   "Expected bias to be a vector of size equal to the number of channels in input, but got bias of "
                   "shape [2, 2]");
  EXPECT_THROW_MSG(F::group_norm(x, 0), ValueError, "[group_norm] num_groups must be a positive number");
  EXPECT_THROW_MSG(F::group_norm(empty({1, 4}), 4), ValueError,
                   "Expected more than 1 value per channel when training, got input size [1, 4]");
  EXPECT_THROW_MSG(F::group_norm(empty({2, 4}, int64), 2), DTypeError, "[group_norm] expected a floating point input");
  EXPECT_THROW_MSG(F::group_norm(Tensor(), 2), Error, "[group_norm]");
}

// ---- binary cross entropy ------------------------------------------------------------------------------------

TEST(OpsMathBce, ValuesWeightsAndReductions) {
  const Tensor x = f64({{0.1, 0.7}, {0.5, 0.99}}), t = f64({{0, 1}, {0.3, 1}});
  auto bce = [](double p, double y) { return -(y * std::log(p) + (1 - y) * std::log1p(-p)); };
  const Tensor each = f64({{bce(0.1, 0), bce(0.7, 1)}, {bce(0.5, 0.3), bce(0.99, 1)}});
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x, t, Tensor(), F::Reduction::None), each, 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x, t), each.mean(), 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x, t, Tensor(), F::Reduction::Sum), each.sum(), 1e-14, 0);
  // weight broadcasts to the input's shape; non-contiguous operands.
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x, t, f64({2, 0.5}), F::Reduction::None), each * f64({2, 0.5}), 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x.t(), t.t(), Tensor(), F::Reduction::None), each.t(), 1e-14, 0);
  // The logs are clamped at -100: certain mistakes cost 100, not inf.
  EXPECT_TENSOR_EQ(F::binary_cross_entropy(f64({0, 1, 0, 1}), f64({1, 0, 0, 1}), Tensor(), F::Reduction::None),
                   f64({100, 100, 0, 0}));
  EXPECT_TRUE(std::isnan(F::binary_cross_entropy(empty({0}, float64), empty({0}, float64)).item<double>()));
  // float32 and float16 (float32 arithmetic).
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy(x.to(float32), t.to(float32)), each.mean(), 1e-6, 0);
  const Tensor h = F::binary_cross_entropy(tensor({0.3}, float16), tensor({0.7}, float16));
  EXPECT_EQ(h.dtype(), float16);
  EXPECT_NEAR(h.item<double>(), 0.9502, 1e-3);
}

TEST(OpsMathBce, GradientsAreTorchFormulas) {
  const auto f = [](const Tensor& p, const Tensor& y) {
    return F::binary_cross_entropy(p, y, Tensor(), F::Reduction::Sum);
  };
  // (x - t) / max(x (1 - x), 1e-12 as a float) and -logit(x): PyTorch's values at the clamps.
  auto [gx, gt] = grads_of(f, f64({0, 1, 0, 1, 0.25}), f64({1, 0, 0, 1, 0.5}));
  EXPECT_TENSOR_CLOSE(gx, f64({-1000000003995.8029, 1000000003995.8029, 0, 0, (0.25 - 0.5) / (0.25 * 0.75)}), 1e-14, 0);
  EXPECT_TENSOR_CLOSE(gt, f64({kInf, -kInf, kInf, -kInf, std::log(3.0)}), 1e-15, 0);
  // Mean divides by the element count; weight scales.
  Tensor p = leaf(f64({0.2, 0.6})), y = f64({1, 0});
  F::binary_cross_entropy(p, y, f64({3, 1})).backward();
  EXPECT_TENSOR_CLOSE(p.grad(), f64({3 * (0.2 - 1) / (0.2 * 0.8) / 2, (0.6 - 0) / (0.6 * 0.4) / 2}), 1e-14, 0);
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::binary_cross_entropy(v[0], v[1], f64({2, 0.5}))}; },
                    {leaf(f64({{0.2, 0.7}, {0.4, 0.9}})), leaf(f64({{0.1, 0.8}, {0.5, 0.3}}))}));
  EXPECT_TRUE(autograd::gradgradcheck(
      [](const Tensors& v) { return Tensors{F::binary_cross_entropy(v[0], v[1], Tensor(), F::Reduction::None)}; },
      {leaf(f64({0.2, 0.7})), leaf(f64({0.1, 0.8}))}));
}

TEST(OpsMathBce, Errors) {
  const Tensor x = f64({0.5, 0.5});
  EXPECT_THROW_MSG(F::binary_cross_entropy(x, f64({{0.5, 0.5}})), ValueError,
                   "[binary_cross_entropy] Using a target size ([1, 2]) that is different to the input size ([2]) is "
                   "deprecated. Please ensure they have the same size.");
  EXPECT_THROW_MSG(F::binary_cross_entropy(f64({1.5, 0}), x), ValueError, "all elements of input should be between 0 and 1");
  EXPECT_THROW_MSG(F::binary_cross_entropy(f64({kNaN, 0}), x), ValueError, "all elements of input should be between 0 and 1");
  EXPECT_THROW_MSG(F::binary_cross_entropy(x, f64({-0.5, 0})), ValueError, "all elements of target should be between 0 and 1");
  EXPECT_THROW_MSG(F::binary_cross_entropy(x, f32({0.5, 0.5})), DTypeError, "Found dtype Float but expected Double");
  EXPECT_THROW_MSG(F::binary_cross_entropy(x, x, empty({2, 2}, float64)), ShapeError,
                   "output with shape [2] doesn't match the broadcast shape [2, 2]");
  EXPECT_THROW_MSG(F::binary_cross_entropy(tensor({0, 1}), tensor({0, 1})), DTypeError, "expected a floating point input");
  EXPECT_THROW_MSG(F::binary_cross_entropy(x, x, Tensor(), F::Reduction::BatchMean), ValueError,
                   "batchmean is not a valid value for reduction");
}

TEST(OpsMathBceWithLogits, StableValuesPosWeightAndWeight) {
  const Tensor z = f64({{-2, 0.5}, {3, -0.25}}), t = f64({{0, 1}, {0.4, 1}});
  const Tensor want = F::binary_cross_entropy(z.sigmoid(), t, Tensor(), F::Reduction::None);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy_with_logits(z, t, Tensor(), F::Reduction::None), want, 1e-13, 0);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy_with_logits(z, t), want.mean(), 1e-13, 0);
  // Huge logits: no overflow, no log(0) (PyTorch's values).
  EXPECT_TENSOR_EQ(F::binary_cross_entropy_with_logits(f64({1e4, -1e4, 1e4, -1e4, 50, -50}), f64({0, 1, 1, 0, 0, 1}),
                                                       Tensor(), F::Reduction::None),
                   f64({1e4, 1e4, 0, 0, 50, 50}));
  EXPECT_TENSOR_EQ(F::binary_cross_entropy_with_logits(f32({200, -200}), f32({0, 1}), Tensor(), F::Reduction::None),
                   f32({200, 200}));
  // pos_weight (per class, broadcast over the batch) weighs the positive term.
  const Tensor pw = f64({3, 0.5});
  auto manual = [](double zz, double tt, double p) {
    return -(p * tt * std::log(1 / (1 + std::exp(-zz))) + (1 - tt) * std::log(1 - 1 / (1 + std::exp(-zz))));
  };
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy_with_logits(z, t, Tensor(), F::Reduction::None, pw),
                      f64({{manual(-2, 0, 3), manual(0.5, 1, 0.5)}, {manual(3, 0.4, 3), manual(-0.25, 1, 0.5)}}), 1e-13,
                      0);
  EXPECT_TENSOR_CLOSE(F::binary_cross_entropy_with_logits(z, t, f64({{2}, {1}}), F::Reduction::Sum),
                      (want * f64({{2}, {1}})).sum(), 1e-13, 0);
  // Input and target promote (float32 logits with float64 targets give float64).
  EXPECT_EQ(F::binary_cross_entropy_with_logits(f32({0.5}), f64({1})).dtype(), float64);
  EXPECT_EQ(F::binary_cross_entropy_with_logits(tensor({0.5}, bfloat16), tensor({1.0}, bfloat16)).dtype(), bfloat16);
}

TEST(OpsMathBceWithLogits, GradientsAndErrors) {
  // d/dz: sigmoid(z) - t, or (pw t + 1 - t) sigmoid(z) - pw t; finite at huge logits.
  auto [gz, gt] = grads_of(
      [](const Tensor& a, const Tensor& b) {
        return F::binary_cross_entropy_with_logits(a, b, Tensor(), F::Reduction::Sum);
      },
      f64({1e4, -1e4, 0}), f64({0, 0, 1}));
  EXPECT_TENSOR_EQ(gz, f64({1, 0, -0.5}));
  EXPECT_TENSOR_EQ(gt, f64({-1e4, 1e4, -0}));
  const Tensor pw = f64({3, 0.5});
  EXPECT_TRUE(check(
      [pw](const Tensors& v) {
        return Tensors{F::binary_cross_entropy_with_logits(v[0], v[1], f64({{2}, {1}}), F::Reduction::Mean, pw)};
      },
      {leaf(f64({{-2, 0.5}, {3, -0.25}})), leaf(f64({{0.1, 0.9}, {0.4, 0.7}}))}));
  EXPECT_TRUE(autograd::gradgradcheck(
      [pw](const Tensors& v) {
        return Tensors{F::binary_cross_entropy_with_logits(v[0], v[1], Tensor(), F::Reduction::Sum, pw)};
      },
      {leaf(f64({{-2, 0.5}, {3, -0.25}})), leaf(f64({{0.1, 0.9}, {0.4, 0.7}}))}));
  const Tensor x = f64({0.5, 0.5});
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(x, f64({{0.5, 0.5}})), ValueError,
                   "Target size ([1, 2]) must be the same as input size ([2])");
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(x, x, empty({2, 2}, float64)), ShapeError,
                   "output with shape [2] doesn't match the broadcast shape [2, 2]");
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(x, x, Tensor(), F::Reduction::Mean, empty({3}, float64)),
                   ShapeError, "[binary_cross_entropy_with_logits]");
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(tensor({1, 2}), tensor({0, 1})), DTypeError,
                   "expected a floating point input");
}

// ---- kl_div ------------------------------------------------------------------------------------------------

TEST(OpsMathKlDiv, ReductionsLogTargetAndZeros) {
  const Tensor logp = f64({{-1.2, -0.4}, {-0.7, -0.7}, {-2, -0.15}});
  const Tensor q = f64({{0.3, 0.7}, {0, 1}, {0.5, 0.5}});
  std::vector<double> each;
  for (auto [lp, qq] : std::vector<std::pair<double, double>>{{-1.2, 0.3}, {-0.4, 0.7}, {-0.7, 0}, {-0.7, 1}, {-2, 0.5},
                                                              {-0.15, 0.5}})
    each.push_back(qq == 0 ? 0 : qq * (std::log(qq) - lp));
  const Tensor want = from_vector(each, {3, 2}, float64);
  EXPECT_TENSOR_CLOSE(F::kl_div(logp, q, F::Reduction::None), want, 1e-14, 1e-16);
  EXPECT_TENSOR_CLOSE(F::kl_div(logp, q), want.mean(), 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::kl_div(logp, q, F::Reduction::Sum), want.sum(), 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::kl_div(logp, q, F::Reduction::BatchMean), want.sum() / 3, 1e-14, 0);
  EXPECT_TENSOR_CLOSE(F::kl_div(logp.t(), q.t(), F::Reduction::None), want.t(), 1e-14, 1e-16);
  // log_target: the same divergence from log-probabilities; a zero probability (log -inf) gives
  // exp(-inf) * (-inf - input) = NaN there, as in PyTorch.
  const Tensor q2 = f64({{0.3, 0.7}, {0.2, 0.8}, {0.5, 0.5}});
  EXPECT_TENSOR_CLOSE(F::kl_div(logp, q2.log(), F::Reduction::None, true), F::kl_div(logp, q2, F::Reduction::None),
                      1e-14, 1e-16);
  EXPECT_TRUE(std::isnan(F::kl_div(f64({-1}), f64({-kInf}), F::Reduction::Sum, true).item<double>()));
  // A 0-d input: batchmean is the sum; NaN and negative targets give NaN (PyTorch's xlogy).
  EXPECT_TENSOR_CLOSE(F::kl_div(scalar_tensor(-1.0, float64), scalar_tensor(0.5, float64), F::Reduction::BatchMean),
                      scalar_tensor(0.5 * (std::log(0.5) + 1), float64), 1e-15, 0);
  EXPECT_TENSOR_EQ(F::kl_div(f64({0.1, 0.2, 0.3}), f64({0, kNaN, -1}), F::Reduction::None), f64({0, kNaN, kNaN}));
  // Broadcasting target.
  EXPECT_EQ(F::kl_div(logp, f64({0.5, 0.5}), F::Reduction::None).shape(), IntArrayRef({3, 2}));
  // Gradients: -target for the input; NaN for a zero target (PyTorch's xlogy rule gives 0 / 0).
  auto [gi, gt] = grads_of([](const Tensor& a, const Tensor& b) { return F::kl_div(a, b, F::Reduction::Sum); },
                           f64({0.1, 0.2}), f64({0, 0.5}));
  EXPECT_TENSOR_EQ(gi, f64({-0.0, -0.5}));
  EXPECT_TRUE(std::isnan(ricci::testing::values(gt)[0]));
  EXPECT_NEAR(ricci::testing::values(gt)[1], 0.1068528194400547, 1e-15);
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::kl_div(v[0], F::softmax(v[1], 1), F::Reduction::BatchMean)}; },
                    {leaf(logp), leaf(q)}));
  EXPECT_THROW_MSG(F::kl_div(logp, Tensor()), Error, "[kl_div]");
}

TEST(OpsMathReduction, BatchMeanIsKlDivOnly) {
  const Tensor a = f64({{1, 2}}), b = f64({{0, 1}});
  EXPECT_THROW_MSG(F::mse_loss(a, b, F::Reduction::BatchMean), ValueError,
                   "[mse_loss] batchmean is not a valid value for reduction");
  F::NllLossOptions o;
  o.reduction = F::Reduction::BatchMean;
  EXPECT_THROW_MSG(F::nll_loss(a, tensor({1}), o), ValueError, "[nll_loss] batchmean");
  F::CrossEntropyOptions c;
  c.reduction = F::Reduction::BatchMean;
  EXPECT_THROW_MSG(F::cross_entropy(a, tensor({1}), c), ValueError, "[cross_entropy] batchmean");
  EXPECT_THROW_MSG(F::smooth_l1_loss(a, b, F::Reduction::BatchMean), ValueError, "[smooth_l1_loss] batchmean");
  EXPECT_THROW_MSG(F::huber_loss(a, b, F::Reduction::BatchMean), ValueError, "[huber_loss] batchmean");
  EXPECT_THROW_MSG(F::binary_cross_entropy_with_logits(a, b, Tensor(), F::Reduction::BatchMean), ValueError, "batchmean");
}

// ---- smooth L1 and Huber ---------------------------------------------------------------------------------------

TEST(OpsMathSmoothL1, ValuesBetaAndBroadcast) {
  const Tensor x = f64({{0.1, -0.5, 2}, {-3, 0.75, 0}}), y = f64({0, 0.25, -1});
  auto sl1 = [](double d, double beta) { return std::abs(d) < beta ? 0.5 * d * d / beta : std::abs(d) - 0.5 * beta; };
  const Tensor d = x - y;
  const Tensor want = map(d, [&](double v) { return sl1(v, 1.0); });
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(x, y, F::Reduction::None), want, 1e-15, 0);
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(x, y), want.mean(), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(x, y, F::Reduction::Sum, 0.5), map(d, [&](double v) { return sl1(v, 0.5); }).sum(),
                      1e-15, 0);
  // beta = 0 is the L1 loss.
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(x, y, F::Reduction::None, 0.0), d.abs(), 0, 0);
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(x.t(), f64({{1}, {2}, {3}}), F::Reduction::None),
                      map(x.t() - f64({{1}, {2}, {3}}), [&](double v) { return sl1(v, 1.0); }), 1e-15, 0);
  EXPECT_EQ(F::smooth_l1_loss(f32({1, 2}), f64({0, 0})).dtype(), float64);  // promotes
  EXPECT_TRUE(std::isnan(F::smooth_l1_loss(f64({kNaN}), f64({0})).item<double>()));
  EXPECT_TENSOR_CLOSE(F::smooth_l1_loss(f32({0.5, 3}), f32({0, 0}), F::Reduction::None), f32({0.125, 2.5}), 0, 0);
}

TEST(OpsMathSmoothL1, GradientsAtTheKinksAndErrors) {
  const auto f = [](double beta) {
    return [beta](const Tensor& a, const Tensor& b) { return F::smooth_l1_loss(a, b, F::Reduction::Sum, beta); };
  };
  // |d| == beta gives +-1; NaN gives NaN; the target gets the negative (PyTorch's values).
  auto [gx, gt] = grads_of(f(0.5), f64({0.5, -0.5, kNaN, 0, 0.25}), f64({0, 0, 0, 0, 0}));
  EXPECT_TENSOR_EQ(gx, f64({1, -1, kNaN, 0, 0.5}));
  EXPECT_TENSOR_EQ(gt, f64({-1, 1, kNaN, -0.0, -0.5}));
  // beta = 0 (L1): 0 at d = 0.
  auto [g0, g0t] = grads_of(f(0.0), f64({0, 1}), f64({0, 0}));
  EXPECT_TENSOR_EQ(g0, f64({0, 1}));
  // Mean divides by the broadcast element count; a broadcast target sums its gradient.
  auto [gm, gmt] = grads_of([](const Tensor& a, const Tensor& b) { return F::smooth_l1_loss(a, b); }, f64({{2, 0.5}, {-2, 0}}),
                            f64({0}));
  EXPECT_TENSOR_EQ(gm, f64({{0.25, 0.125}, {-0.25, 0}}));
  EXPECT_TENSOR_EQ(gmt, f64({-0.125}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::smooth_l1_loss(v[0], v[1], F::Reduction::Mean, 0.8)}; },
                    {leaf(f64({{0.1, -2}, {1.5, 0.3}})), leaf(f64({0.2, 0.4}))}));
  EXPECT_THROW_MSG(F::smooth_l1_loss(f64({1}), f64({1}), F::Reduction::Mean, -1.0), ValueError,
                   "smooth_l1_loss does not support negative values for beta.");
  EXPECT_THROW_MSG(F::smooth_l1_loss(f64({1, 2}), f64({1, 2, 3})), ShapeError, "[smooth_l1_loss]");
  EXPECT_THROW_MSG(F::smooth_l1_loss(tensor({1, 2}), tensor({1, 3})), DTypeError, "expected a floating point");
}

TEST(OpsMathHuber, ValuesGradientsAndErrors) {
  const Tensor x = f64({{0.1, -0.5, 2}, {-3, 0.75, 0}}), y = f64({0, 0.25, -1});
  auto hub = [](double d, double delta) {
    return std::abs(d) < delta ? 0.5 * d * d : delta * (std::abs(d) - 0.5 * delta);
  };
  const Tensor d = x - y;
  EXPECT_TENSOR_CLOSE(F::huber_loss(x, y, F::Reduction::None, 0.5), map(d, [&](double v) { return hub(v, 0.5); }), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(F::huber_loss(x, y), map(d, [&](double v) { return hub(v, 1.0); }).mean(), 1e-15, 0);
  // Huber keeps the input's dtype (PyTorch's quirk; smooth_l1 promotes).
  EXPECT_EQ(F::huber_loss(f32({1, 2}), f64({0, 0})).dtype(), float32);
  EXPECT_EQ(F::huber_loss(f64({1, 2}), f32({0, 0})).dtype(), float64);
  // |d| == delta gives +-delta.
  auto [gx, gt] = grads_of([](const Tensor& a, const Tensor& b) { return F::huber_loss(a, b, F::Reduction::Sum, 0.5); },
                           f64({0.5, -0.5, kNaN, 0.25, 3}), f64({0, 0, 0, 0, 0}));
  EXPECT_TENSOR_EQ(gx, f64({0.5, -0.5, kNaN, 0.25, 0.5}));
  EXPECT_TENSOR_EQ(gt, f64({-0.5, 0.5, kNaN, -0.25, -0.5}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::huber_loss(v[0], v[1], F::Reduction::Sum, 0.8)}; },
                    {leaf(f64({{0.1, -2}, {1.5, 0.3}})), leaf(f64({0.2, 0.4}))}));
  EXPECT_THROW_MSG(F::huber_loss(f64({1}), f64({1}), F::Reduction::Mean, 0.0), ValueError,
                   "huber_loss does not support non-positive values for delta.");
}

// ---- cosine_similarity ------------------------------------------------------------------------------------------

TEST(OpsMathCosineSimilarity, ValuesBroadcastDimsAndDtypes) {
  const Tensor a = f64({{1, 2, 3}, {-1, 0, 4}}), b = f64({{2, -1, 0.5}});
  auto cosv = [](std::vector<double> u, std::vector<double> v) {
    double d = 0, nu = 0, nv = 0;
    for (size_t i = 0; i < u.size(); ++i) d += u[i] * v[i], nu += u[i] * u[i], nv += v[i] * v[i];
    return d / (std::sqrt(nu) * std::sqrt(nv));
  };
  const Tensor want = f64({cosv({1, 2, 3}, {2, -1, 0.5}), cosv({-1, 0, 4}, {2, -1, 0.5})});
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(a, b), want, 1e-15, 0);  // dim 1, b broadcast
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(a.t(), b.t(), 0), want, 1e-15, 0);
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(a, b, -1), want, 1e-15, 0);
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(f64({3, 4}), f64({4, 3}), 0), scalar_tensor(24.0 / 25, float64), 1e-15, 0);
  // A zero vector gives 0 (its norm is clamped to eps); parallel vectors give 1 up to rounding
  // (PyTorch: 1.0000000000000002 here too).
  EXPECT_TENSOR_EQ(F::cosine_similarity(f64({{0, 0}}), f64({{1, 2}})), f64({0}));
  EXPECT_EQ(F::cosine_similarity(f64({{1e-3, 1e-3}}), f64({{1e-3, 1e-3}})).item<double>(), 1.0000000000000002);
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(f64({{1e200, 1e200}}), f64({{1e200, -1e200}})), f64({0}), 0, 1e-15);
  // Integers convert to the common floating dtype; two integer inputs have none.
  EXPECT_TENSOR_CLOSE(F::cosine_similarity(tensor({{1, 2}}), f32({{1, 1}})), f32({0.94868326}), 1e-6, 0);
  EXPECT_EQ(F::cosine_similarity(f32({{1, 2}}), f64({{1, 1}})).dtype(), float64);
  EXPECT_THROW_MSG(F::cosine_similarity(tensor({{1, 2}}), tensor({{1, 2}})), DTypeError,
                   "expected common dtype to be floating point, yet common dtype is int64");
  EXPECT_THROW_MSG(F::cosine_similarity(a, f64({1, 2})), ShapeError, "[cosine_similarity]");
  EXPECT_THROW_MSG(F::cosine_similarity(a, b, 2), Error, "");
}

TEST(OpsMathCosineSimilarity, Gradients) {
  // At a zero vector the gradient flows through the unclamped norm, as PyTorch's (its values).
  auto [ga, gb] = grads_of([](const Tensor& u, const Tensor& v) { return F::cosine_similarity(u, v, 0); }, f64({0, 0}),
                           f64({1, 2}));
  EXPECT_TENSOR_CLOSE(ga, f64({44721359.549995795, 89442719.09999159}), 1e-14, 0);
  EXPECT_TENSOR_EQ(gb, f64({0, 0}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::cosine_similarity(v[0], v[1])}; },
                    {leaf(f64({{1, 2, 3}, {-1, 0.5, 4}})), leaf(f64({{2, -1, 0.5}}))}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{F::cosine_similarity(v[0], v[1], 0)}; },
                                      {leaf(f64({1, 2, 3})), leaf(f64({2, -1, 0.5}))}));
}
