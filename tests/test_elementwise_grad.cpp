// Gradients of the elementwise ops: float64 finite-difference checks (broadcast inputs included),
// zero gradients of the piecewise-constant ops, and in-place forms.
#include <cmath>
#include <limits>
#include <numbers>

#include "test_util.h"

using namespace ricci;
using autograd::Tensors;

namespace {

// A float64 leaf with values in [lo, hi] (deterministic, no ties), requiring grad.
Tensor leaf(IntArrayRef shape, double lo, double hi) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  Tensor t = linspace(lo, hi, std::max<int64_t>(n, 1), TensorOptions(float64));
  if (n == 0) t = empty(shape, TensorOptions(float64));
  // Scramble the order a little so broadcasting rows differ.
  t = t.slice(0, 0, n).reshape(shape).clone();
  return t.requires_grad_();
}

using Fn1 = std::function<Tensor(const Tensor&)>;
using Fn2 = std::function<Tensor(const Tensor&, const Tensor&)>;

void check1(const char* name, const Fn1& f, double lo, double hi) {
  SCOPED_TRACE(name);
  Tensor x = leaf({2, 3}, lo, hi);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{f(in[0])}; }, {x}));
  // A non-contiguous input.
  Tensor xt = leaf({3, 2}, lo, hi);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{f(in[0].t())}; }, {xt}));
}

void check2(const char* name, const Fn2& f, double lo_a, double hi_a, double lo_b, double hi_b) {
  SCOPED_TRACE(name);
  Tensor a = leaf({2, 3}, lo_a, hi_a), b = leaf({2, 3}, lo_b, hi_b);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{f(in[0], in[1])}; }, {a, b}));
  // Broadcast: [2, 1, 3] with [4, 1].
  Tensor ab = leaf({2, 1, 3}, lo_a, hi_a), bb = leaf({4, 1}, lo_b, hi_b);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{f(in[0], in[1])}; }, {ab, bb}));
}

}  // namespace

TEST(ElementwiseGrad, Unary) {
  check1("neg", [](const Tensor& x) { return -x; }, -2, 2);
  check1("abs", [](const Tensor& x) { return abs(x); }, 0.1, 2);
  check1("exp", [](const Tensor& x) { return exp(x); }, -2, 2);
  check1("exp2", [](const Tensor& x) { return exp2(x); }, -2, 2);
  check1("expm1", [](const Tensor& x) { return expm1(x); }, -2, 2);
  check1("log", [](const Tensor& x) { return log(x); }, 0.5, 3);
  check1("log2", [](const Tensor& x) { return log2(x); }, 0.5, 3);
  check1("log10", [](const Tensor& x) { return log10(x); }, 0.5, 3);
  check1("log1p", [](const Tensor& x) { return log1p(x); }, -0.5, 3);
  check1("sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 3);
  check1("rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 3);
  check1("square", [](const Tensor& x) { return square(x); }, -2, 2);
  check1("reciprocal", [](const Tensor& x) { return reciprocal(x); }, 0.5, 3);
  check1("sin", [](const Tensor& x) { return sin(x); }, -3, 3);
  check1("cos", [](const Tensor& x) { return cos(x); }, -3, 3);
  check1("tan", [](const Tensor& x) { return tan(x); }, -1, 1);
  check1("tanh", [](const Tensor& x) { return tanh(x); }, -2, 2);
  check1("sigmoid", [](const Tensor& x) { return sigmoid(x); }, -3, 3);
  check1("relu", [](const Tensor& x) { return relu(x); }, -2.05, 2.1);
  check1("gelu", [](const Tensor& x) { return gelu(x); }, -3, 3);
  check1("gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, -3, 3);
  check1("silu", [](const Tensor& x) { return silu(x); }, -3, 3);
  check1("softplus", [](const Tensor& x) { return softplus(x, 2.0, 3.0); }, -3, 3);
  check1("erf", [](const Tensor& x) { return erf(x); }, -2, 2);
  check1("clamp", [](const Tensor& x) { return clamp(x, -0.95, 1.05); }, -2.05, 2.1);
  check1("clamp_min", [](const Tensor& x) { return x.clamp_min(0.33); }, -2.05, 2.1);
}

TEST(ElementwiseGrad, PiecewiseConstantOpsGiveZeros) {
  for (auto f : {Fn1([](const Tensor& x) { return floor(x); }), Fn1([](const Tensor& x) { return ceil(x); }),
                 Fn1([](const Tensor& x) { return round(x); }), Fn1([](const Tensor& x) { return trunc(x); }),
                 Fn1([](const Tensor& x) { return sign(x); })}) {
    Tensor x = leaf({4}, -1.7, 1.3);
    f(x).sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_TENSOR_EQ(x.grad(), zeros({4}, float64));
  }
  Tensor x = leaf({3}, -1, 1);
  EXPECT_FALSE((x > 0).requires_grad());
  EXPECT_FALSE(isnan(x).requires_grad());
}

TEST(ElementwiseGrad, Binary) {
  check2("add", [](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); }, -2, 2, -1, 1);
  check2("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b, 0.5); }, -2, 2, -1, 1);
  check2("mul", [](const Tensor& a, const Tensor& b) { return a * b; }, -2, 2, -1, 1);
  check2("div", [](const Tensor& a, const Tensor& b) { return a / b; }, -2, 2, 0.5, 2);
  check2("pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2, -1, 2);
  check2("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -2, 2, -1.05, 1.1);
  check2("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -2, 2, -1.05, 1.1);
  check2("fmod", [](const Tensor& a, const Tensor& b) { return fmod(a, b); }, -2.0, 2.35, 0.7, 0.9);
  check2("remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, -2.0, 2.35, 0.7, 0.9);
  check2("atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }, -2, 2, 0.5, 2);
}

TEST(ElementwiseGrad, ScalarForms) {
  check1("x*s", [](const Tensor& x) { return x * 3.5; }, -2, 2);
  check1("s-x", [](const Tensor& x) { return 2 - x; }, -2, 2);
  check1("s/x", [](const Tensor& x) { return 2 / x; }, 0.5, 2);
  check1("x^s", [](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2);
  check1("s^x", [](const Tensor& x) { return pow(1.7, x); }, -1, 2);
  check1("x/s", [](const Tensor& x) { return x / 4; }, -1, 2);
}

TEST(ElementwiseGrad, Ternary) {
  Tensor c = tensor({{true, false, true}, {false, false, true}});
  Tensor a = leaf({2, 3}, -1, 1), b = leaf({3}, -2, 2);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{where(c, in[0], in[1])}; }, {a, b}));
  Tensor s = leaf({2, 3}, -1, 1), e = leaf({3}, 1, 2), w = leaf({2, 1}, 0.2, 0.8);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{lerp(in[0], in[1], in[2])}; }, {s, e, w}));
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{lerp(in[0], in[1], 0.3)}; }, {s, e}));
  Tensor x = leaf({2, 3}, -1, 1), t1 = leaf({3}, -2, 2), t2 = leaf({2, 1}, 0.5, 1.5);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{addcmul(in[0], in[1], in[2], 0.7)}; }, {x, t1, t2}));
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{addcdiv(in[0], in[1], in[2], 0.7)}; }, {x, t1, t2}));
  Tensor m = tensor({true, false, true});
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{masked_fill(in[0], m, 2.0)}; }, {x}));
  Tensor lo = leaf({3}, -0.5, 0.1), hi = leaf({2, 1}, 0.3, 0.9);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{clamp(in[0], in[1], in[2])}; }, {x, lo, hi}));
}

TEST(ElementwiseGrad, MixedDtypeGradHasInputDtype) {
  Tensor a = ones({3}, float32).requires_grad_();
  Tensor b = full({3}, 2.0, float64).requires_grad_();
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().dtype(), float32);
  EXPECT_EQ(b.grad().dtype(), float64);
  EXPECT_TENSOR_EQ(a.grad(), full({3}, 2.0f));
}

TEST(ElementwiseGrad, SecondOrder) {
  Tensor x = leaf({2, 3}, -1, 1);
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{tanh(in[0]) * exp(in[0])}; }, {x}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{gelu(in[0])}; }, {x}));
}

TEST(ElementwiseGrad, InplaceForms) {
  auto fwd = [](const Tensor& x, const Tensor& y) {
    Tensor t = x * 1.0;  // a non-leaf to write into
    t.mul_(y).add_(y, 0.5).sub_(0.25).div_(y + 3);
    t.addcmul_(y, y, 0.3).lerp_(y, 0.25);
    t.exp_();  // saves its result: the last in-place op on t (a later one would be caught)
    return t;
  };
  Tensor x = leaf({2, 3}, 0.1, 1), y = leaf({3}, 0.2, 0.9);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{fwd(in[0], in[1])}; }, {x, y}));
  auto fwd2 = [](const Tensor& x) {
    Tensor t = x * 1.0;
    t.clamp_(-0.5, 0.5);
    t.masked_fill_(tensor({true, false, false}), 0.0);
    t.relu_();
    return t;
  };
  Tensor z = leaf({2, 3}, -1.05, 1.1);
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{fwd2(in[0])}; }, {z}));
}

TEST(ElementwiseGrad, InplaceAfterSavedResultIsCaught) {
  Tensor x = leaf({3}, 0.1, 1);
  Tensor t = x * 1.0;
  t.sqrt_();
  t.add_(1);
  EXPECT_THROW_MSG(t.sum().backward(), AutogradError, "modified by an inplace operation");
}

TEST(ElementwiseGrad, InplaceOnLeafRequiringGradThrows) {
  Tensor x = ones({2}).requires_grad_();
  EXPECT_THROW(x.add_(1), Error);
}

// Note [Fused GELU backward]: a plain backward of gelu runs one kernel; create_graph runs the
// composed ops. float64: the two equal each other bit for bit. float32: the kernel no longer
// repeats the composed float32 operations, so the two agree within their errors: the kernel is
// held within a few ulp of max(|Phi(x)|, |x phi(x)|) of the float64 derivative (the exact bound
// per instruction set is in test_accuracy), on typical values, the tails (|x| > 13, 1e31), NaN /
// inf and a length that is not a multiple of the vector width (the tail goes through the same
// vector formula as the rest); the composed float32 form is close to it where its erf keeps its
// accuracy (|x| < 4). A broadcast, transposed input takes the composed path on both.
TEST(ElementwiseGrad, GeluBackwardFusedWithinBoundOfComposed) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN(), kInfD = std::numeric_limits<double>::infinity();
  for (DType dt : {float32, float64}) {
    SCOPED_TRACE(dtype_name(dt));
    Generator gen(7);
    const int64_t n = 4099;
    Tensor xv = (randn({n}, TensorOptions(float64), &gen) * 4).contiguous();
    const double special[] = {0.0, -0.0, 13.5, -13.5, 14.55, -14.55, 20, -20, 1e31, -1e31, 6e-39, -3.2, -0.75, kNaN, kInfD, -kInfD};
    for (size_t i = 0; i < std::size(special); ++i) xv.select(0, static_cast<int64_t>(40 * i + 3)).fill_(special[i]);
    xv.narrow(0, n - 3, 3).copy_(from_vector<double>({-0.75, -5.5, 1.25}, {3}));  // in the tail
    const Tensor g = randn({n}, TensorOptions(float64), &gen).to(dt);
    Tensor x = xv.to(dt).requires_grad_();
    const Tensor y = gelu(x);
    const Tensor fused = autograd::grad({y}, {x}, {g}, /*retain_graph=*/true)[0];
    const Tensor composed = autograd::grad({y}, {x}, {g}, /*retain_graph=*/true, /*create_graph=*/true)[0].detach();
    // float64 g g'(x) at the (rounded) inputs, Phi(x) + x phi(x) with Phi by erfc (keeping its
    // left tail), and the magnitude |g| max(|Phi|, |x phi|).
    const Tensor xd = xv.to(dt).to(float64).contiguous(), gd = g.to(float64).contiguous();
    std::vector<double> ref(n), mag(n);
    for (int64_t i = 0; i < n; ++i) {
      const double xi = xd.data_ptr<double>()[i], gi = gd.data_ptr<double>()[i];
      const double cdf = 0.5 * std::erfc(-xi / std::sqrt(2.0));
      const double xpdf = xi * std::exp(-0.5 * xi * xi) / std::sqrt(2 * std::numbers::pi);
      ref[i] = gi * (cdf + xpdf);
      mag[i] = std::abs(gi) * std::max(std::abs(cdf), std::abs(xpdf));
    }
    const Tensor fd = fused.to(float64).contiguous();
    // float32: 3 ulp of the magnitude (the kernel's bound is 2 with fused multiply-add, 3 without)
    // and the product with g; float64 (the composed formula: 1 + erf cancels) 1e-15 |g| + 1e-14 |ref|.
    const double eps = std::ldexp(1.0, -23);
    for (int64_t i = 0; i < n; ++i) {
      const double f = fd.data_ptr<double>()[i], gi = gd.data_ptr<double>()[i];
      if (std::isnan(ref[i]) || std::abs(xd.data_ptr<double>()[i]) > 1e30) continue;  // checked below
      const double tol = dt == float64 ? 1e-15 * std::abs(gi) + 1e-14 * std::abs(ref[i])
                                       : 3 * eps * mag[i] + std::abs(ref[i]) * eps / 2 + std::ldexp(1.0, -147);
      EXPECT_LE(std::abs(f - ref[i]), tol)
          << "x=" << xd.data_ptr<double>()[i] << " g=" << gd.data_ptr<double>()[i] << " got " << f << " want " << ref[i];
    }
    if (dt == float64) {
      EXPECT_TENSOR_EQ(fused, composed);
    } else {
      const Tensor typical = abs(xd) < 4;
      EXPECT_TENSOR_CLOSE(where(typical, fused, 0.0f), where(typical, composed, 0.0f), 1e-6, 1e-6);
      // The tail (the last 3 of 4099) equals the same values in the body of the loop.
      const Tensor x3 = x.detach().narrow(0, n - 3, 3);
      const Tensor x8 = cat({x3, x3, x3}).requires_grad_();  // 9 long: 8 in the body, 1 in the tail
      const Tensor g8 = cat({g.narrow(0, n - 3, 3), g.narrow(0, n - 3, 3), g.narrow(0, n - 3, 3)});
      const Tensor f8 = autograd::grad({gelu(x8)}, {x8}, {g8})[0];
      EXPECT_TENSOR_EQ(f8.narrow(0, 0, 3), fused.narrow(0, n - 3, 3));
      EXPECT_TENSOR_EQ(f8.narrow(0, 6, 3), fused.narrow(0, n - 3, 3));
    }
    // NaN and +-inf: NaN on both paths (x phi(x) = inf * 0, as PyTorch); 1e31 gives g, -1e31 gives 0.
    for (size_t i = 0; i < std::size(special); ++i) {
      const int64_t k = static_cast<int64_t>(40 * i + 3);
      const double f = fused.select(0, k).item<double>(), c = composed.select(0, k).item<double>();
      if (std::isnan(special[i]) || std::isinf(special[i])) {
        EXPECT_TRUE(std::isnan(f) && std::isnan(c)) << special[i];
      } else if (std::abs(special[i]) > 1e30) {
        const double want = special[i] > 0 ? g.select(0, k).item<double>() : 0.0;
        EXPECT_EQ(f, want) << special[i];
        EXPECT_EQ(c, want) << special[i];
      }
    }
    // A broadcast, transposed input and gradient take the composed path: the plain backward
    // equals create_graph's.
    Tensor x2 = xv.to(dt).requires_grad_();
    const Tensor y2 = gelu(x2.expand({2, n}).t());
    const Tensor g2 = g.expand({2, n}).t();
    EXPECT_TENSOR_EQ(autograd::grad({y2}, {x2}, {g2}, true)[0], autograd::grad({y2}, {x2}, {g2}, true, true)[0].detach());
  }
}
