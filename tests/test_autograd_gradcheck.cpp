// gradcheck and gradgradcheck themselves: they pass correct rules, catch wrong ones with
// PyTorch's report, leave the inputs exactly as they were, and refuse what they cannot check.
#include <cstring>

#include "test_util.h"

namespace ricci {
namespace {

using autograd::GradcheckOptions;
using autograd::Tensors;
using autograd::VjpArgs;

Tensor leaf(const Tensor& values) {
  Tensor t = values.detach();
  t.requires_grad_();
  return t;
}

Tensor sample(IntArrayRef shape, double scale = 0.37) {
  Tensor t = arange(0, product(shape), 1, float64).reshape(shape) * scale;
  return (t.sin() + 0.5).detach();
}

// 2x with a deliberately wrong rule (3g), to see a failure report.
Tensor bad_double(const Tensor& x) {
  Tensor out = x.detach() * 2.0;
  if (autograd::needs_grad(x)) {
    autograd::record("BadDoubleBackward0", {&x}, {&out}, {}, {},
                     [](const VjpArgs& a) { return Tensors{a.grads[0] * 3.0}; });
  }
  return out;
}

// a·b whose rule for a is wrong only when b does not require grad (a broken shortcut).
Tensor bad_shortcut_mul(const Tensor& a, const Tensor& b) {
  Tensor out = a.detach() * b.detach();
  if (autograd::needs_grad(a, b)) {
    autograd::record("BadShortcutMulBackward0", {&a, &b}, {&out}, {&a, &b}, {}, [](const VjpArgs& g) {
      if (!g.needs_input_grad(1)) return Tensors{g.grads[0] * g.saved[1] * 5.0, Tensor()};
      return Tensors{g.grads[0] * g.saved[1], g.grads[0] * g.saved[0]};
    });
  }
  return out;
}

// x² whose first derivative is right but not differentiable (it detaches x).
Tensor square_detached_rule(const Tensor& x) {
  Tensor out = x.detach() * x.detach();
  if (autograd::needs_grad(x)) {
    autograd::record("SquareDetachedBackward0", {&x}, {&out}, {&x}, {},
                     [](const VjpArgs& a) { return Tensors{a.grads[0] * a.saved[0].detach() * 2.0}; });
  }
  return out;
}

TEST(Gradcheck, PassesACorrectRule) {
  Tensor x = leaf(sample({2, 3})), y = leaf(sample({2, 3}, 0.11));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * in[1] + in[0].exp()}; }, {x, y}));
}

TEST(Gradcheck, ReportsAMismatchLikePyTorch) {
  Tensor x = leaf(tensor({1., 2.}, float64));
  try {
    autograd::gradcheck([](const Tensors& in) { return Tensors{bad_double(in[0])}; }, {x});
    FAIL() << "expected AutogradError";
  } catch (const AutogradError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(", 0), 0u) << msg;
    EXPECT_NE(msg.find("\nanalytical:tensor("), std::string::npos) << msg;
    EXPECT_EQ(msg.back(), '\n');
    EXPECT_NE(msg.find("3."), std::string::npos) << msg;  // the analytical diagonal
  }
}

TEST(Gradcheck, ReturnsFalseWithoutRaising) {
  Tensor x = leaf(tensor({1., 2.}, float64));
  GradcheckOptions o;
  o.raise_exception = false;
  EXPECT_FALSE(autograd::gradcheck([](const Tensors& in) { return Tensors{bad_double(in[0])}; }, {x}, o));
}

TEST(Gradcheck, NamesTheInputPosition) {
  Tensor k = tensor({1., 2.}, float64);  // not checked
  Tensor x = leaf(tensor({1., 2.}, float64));
  EXPECT_THROW_MSG(
      autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] + bad_double(in[1])}; }, {k, x}),
      AutogradError, "Jacobian mismatch for output 0 with respect to input 1,");
}

TEST(Gradcheck, ChecksEveryOutput) {
  Tensor x = leaf(tensor({1., 2.}, float64));
  EXPECT_THROW_MSG(
      autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * 2.0, bad_double(in[0])}; }, {x}),
      AutogradError, "Jacobian mismatch for output 1 with respect to input 0,");
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * 2.0, in[0].exp()}; }, {x}));
}

TEST(Gradcheck, CatchesABrokenNeedsInputGradShortcut) {
  Tensor a = leaf(sample({3})), b = leaf(sample({3}, 0.2));
  EXPECT_THROW_MSG(autograd::gradcheck([](const Tensors& in) { return Tensors{bad_shortcut_mul(in[0], in[1])}; }, {a, b}),
                   AutogradError, "Backward is not consistent when only input 0 requires grad");
}

TEST(Gradcheck, NonContiguousInputIsPerturbedThroughItsStrides) {
  Tensor base = sample({3, 4});
  Tensor xt = leaf(base.t());  // a leaf with transposed strides
  ASSERT_FALSE(xt.is_contiguous());
  Tensor w = sample({4, 3}, 0.7);
  EXPECT_TRUE(autograd::gradcheck([&w](const Tensors& in) { return Tensors{(in[0] * w).sum({1})}; }, {xt}));
  Tensor sliced = leaf(sample({4, 6}).slice(1, 0, 6, 2));
  ASSERT_FALSE(sliced.is_contiguous());
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0].exp() * in[0]}; }, {sliced}));
}

TEST(Gradcheck, RestoresInputsBitForBit) {
  Tensor x = leaf(tensor({0.1, 1.0 / 3.0, -7.123456789}, float64).slice(0, 0, 3, 1));
  const std::vector<double> before = x.to_vector<double>();
  const uint32_t version = x.version();
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * in[0]}; }, {x}));
  const std::vector<double> after = x.to_vector<double>();
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.size() * sizeof(double)), 0);
  EXPECT_EQ(x.version(), version);
  EXPECT_FALSE(x.grad().defined());  // analytical Jacobians come from autograd::grad
}

TEST(Gradcheck, RestoresInputsWhenTheFunctionThrows) {
  Tensor x = leaf(tensor({1.5, 2.5}, float64));
  int calls = 0;
  EXPECT_THROW(autograd::gradcheck(
                   [&calls](const Tensors& in) {
                     if (++calls > 1) throw ValueError("boom");
                     return Tensors{in[0] * 2.0};
                   },
                   {x}),
               ValueError);
  EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{1.5, 2.5}));
}

TEST(Gradcheck, Float32WithLooserTolerances) {
  Tensor x = leaf(sample({4}).to(float32));
  GradcheckOptions o;
  o.eps = 1e-3;
  o.atol = 1e-2;
  o.rtol = 1e-2;
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0].tanh()}; }, {x}, o));
}

TEST(Gradcheck, InputsNotRequiringGradAreConstants) {
  Tensor x = leaf(sample({3}));
  Tensor c = sample({3}, 1.3);
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * in[1]}; }, {x, c}));
}

TEST(Gradcheck, OutputsThatDoNotDependOnInputs) {
  Tensor x = leaf(sample({3}));
  Tensor c = sample({2});
  EXPECT_TRUE(autograd::gradcheck([&c](const Tensors& in) { return Tensors{in[0] * 2.0, c * 3.0}; }, {x}));
}

TEST(Gradcheck, RefusesStrideZeroInputs) {
  Tensor x = leaf(ones({1}, float64).expand({3}));
  EXPECT_THROW_MSG(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * 2.0}; }, {x}), ValueError,
                   "has a dimension with stride 0");
}

TEST(Gradcheck, NeedsAnInputThatRequiresGrad) {
  Tensor x = sample({3});
  EXPECT_THROW_MSG(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * 2.0}; }, {x}), ValueError,
                   "expects at least one input tensor to require gradient");
}

TEST(Gradcheck, RefusesHalfPrecisionInputs) {
  Tensor x = leaf(sample({3}).to(float16));
  EXPECT_THROW_MSG(autograd::gradcheck([](const Tensors& in) { return Tensors{in[0] * 2.0}; }, {x}), DTypeError,
                   "float64");
}

TEST(Gradgradcheck, PassesDifferentiableRules) {
  Tensor x = leaf(sample({3}));
  Tensor y = leaf(sample({3}, 0.9));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{in[0].pow(3)}; }, {x}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{in[0].tanh()}; }, {x}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{in[0] * in[1] * in[0]}; }, {x, y}));
}

TEST(Gradgradcheck, CatchesARuleThatIsNotDifferentiable) {
  Tensor x = leaf(sample({3}));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{square_detached_rule(in[0])}; }, {x}));
  EXPECT_THROW_MSG(
      autograd::gradgradcheck([](const Tensors& in) { return Tensors{square_detached_rule(in[0])}; }, {x}),
      AutogradError, "Jacobian mismatch for output 0 with respect to input 0,");
}

TEST(Gradgradcheck, IsDeterministic) {
  Tensor x = leaf(sample({2}));
  GradcheckOptions o;
  o.raise_exception = false;
  auto f = [](const Tensors& in) { return Tensors{square_detached_rule(in[0])}; };
  EXPECT_FALSE(autograd::gradgradcheck(f, {x}, o));
  EXPECT_FALSE(autograd::gradgradcheck(f, {x}, o));
}

}  // namespace
}  // namespace ricci
