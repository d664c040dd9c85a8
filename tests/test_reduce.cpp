// Reductions: values on every layout against a naive reference, dtypes, empty/0-d, NaN,
// accuracy, gradients and errors.
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;
using autograd::Tensors;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Naive reference: groups the row-major values of x by the kept index and applies f.
std::vector<double> ref_reduce(const Tensor& x, std::vector<int64_t> dims, const std::function<double(const std::vector<double>&)>& f) {
  const auto v = values(x);
  const int64_t nd = x.dim();
  if (dims.empty())
    for (int64_t d = 0; d < nd; ++d) dims.push_back(d);
  std::vector<bool> red(static_cast<size_t>(nd), false);
  for (int64_t d : dims) red[static_cast<size_t>(d < 0 ? d + nd : d)] = true;
  int64_t nout = 1;
  for (int64_t d = 0; d < nd; ++d)
    if (!red[d]) nout *= x.size(d);
  std::vector<std::vector<double>> groups(static_cast<size_t>(nout));
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < nd; ++d)
      if (!red[d]) o = o * x.size(d) + idx[d];
    groups[o].push_back(v[i]);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < x.size(d)) break;
      idx[d] = 0;
    }
  }
  std::vector<double> out;
  for (auto& g : groups) out.push_back(f(g));
  return out;
}

double rsum(const std::vector<double>& g) { return std::accumulate(g.begin(), g.end(), 0.0); }
double rmax(const std::vector<double>& g) {
  double m = -kInf;
  for (double x : g) m = (x > m || std::isnan(x)) ? x : m;
  return m;
}
double rvar(const std::vector<double>& g) {
  const double mu = rsum(g) / g.size();
  double s = 0;
  for (double x : g) s += (x - mu) * (x - mu);
  return s / (static_cast<double>(g.size()) - 1);
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double rtol = 1e-5) {
  const auto v = values(t);
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(v[i])) << "element " << i;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(v[i], expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(v[i], expected[i], 1e-6 + rtol * std::abs(expected[i])) << "element " << i;
    }
  }
}

// The layouts every reduction must handle, all with the same logical values shape (4, 6, 5).
std::vector<std::pair<std::string, Tensor>> layouts(DType dtype = float32) {
  manual_seed(7);
  Tensor base = randn({4, 6, 5}, float64);
  std::vector<std::pair<std::string, Tensor>> out;
  out.push_back({"contiguous", base.to(dtype)});
  out.push_back({"transposed", randn({5, 6, 4}, float64).to(dtype).permute({2, 1, 0})});
  out.push_back({"sliced", randn({8, 6, 10}, float64).to(dtype).slice(0, 0, 8, 2).slice(2, 1, 10, 2)});
  out.push_back({"expanded", randn({4, 1, 5}, float64).to(dtype).expand({4, 6, 5})});
  return out;
}

const std::vector<std::vector<int64_t>> kDimSets = {{}, {0}, {1}, {2}, {-1}, {0, 2}, {1, 2}, {0, 1}, {2, 0, 1}};

}  // namespace

TEST(Reduce, LessonExamples) {
  Tensor a = tensor({{1., 2., 3.}, {4., 5., 6.}});
  EXPECT_TENSOR_EQ(a.sum({-1}), tensor({6., 15.}));
  EXPECT_TENSOR_EQ(a.sum({0}), tensor({5., 7., 9.}));
  EXPECT_TENSOR_EQ(a.sum(), scalar_tensor(21.0, float32));
  Tensor x = randn({2, 3, 4});
  EXPECT_EQ(x.sum({0, 2}).shape(), IntArrayRef({3}));
  EXPECT_EQ(x.sum({0, 2}, true).shape(), IntArrayRef({1, 3, 1}));
}

TEST(Reduce, SumMeanAmaxOnEveryLayout) {
  for (auto& [name, x] : layouts()) {
    for (const auto& dims : kDimSets) {
      SCOPED_TRACE(name + " dims " + std::to_string(dims.size()));
      expect_values(x.sum(dims), ref_reduce(x, dims, rsum));
      expect_values(x.mean(dims), ref_reduce(x, dims, [](auto& g) { return rsum(g) / g.size(); }));
      expect_values(x.amax(dims), ref_reduce(x, dims, rmax));
      expect_values(x.amin(dims), ref_reduce(x, dims, [](auto& g) { return *std::min_element(g.begin(), g.end()); }));
      expect_values(x.var(dims), ref_reduce(x, dims, rvar), 1e-4);
      expect_values(x.std(dims), ref_reduce(x, dims, [](auto& g) { return std::sqrt(rvar(g)); }), 1e-4);
      expect_values(norm(x, 2, dims), ref_reduce(x, dims, [](auto& g) { double s = 0; for (double v : g) s += v * v; return std::sqrt(s); }), 1e-4);
      expect_values(x.logsumexp(dims), ref_reduce(x, dims, [](auto& g) { double s = 0; for (double v : g) s += std::exp(v); return std::log(s); }), 1e-4);
      Tensor k = x.sum(dims, true);
      EXPECT_EQ(k.dim(), 3);
    }
  }
}

TEST(Reduce, ProdOverOneDim) {
  for (auto& [name, x] : layouts(float64)) {
    for (int64_t d = 0; d < 3; ++d) {
      SCOPED_TRACE(name);
      expect_values(prod(x, d), ref_reduce(x, {d}, [](auto& g) { return std::accumulate(g.begin(), g.end(), 1.0, std::multiplies<>()); }), 1e-12);
      EXPECT_EQ(prod(x, d, true).shape()[d], 1);
    }
  }
}

TEST(Reduce, TileAndSplitPaths) {
  // Outer-dim reductions (tile path), few outputs with long reductions (split path), and both.
  Tensor x = arange(0, 3 * 70001, 1, float64).view({70001, 3});
  expect_values(x.sum({0}), ref_reduce(x, {0}, rsum), 1e-12);
  expect_values(x.amax({0}), ref_reduce(x, {0}, rmax));
  expect_values(x.t().sum({1}), ref_reduce(x, {0}, rsum), 1e-12);
  Tensor y = arange(0, 5 * 300 * 7, 1, float32).view({5, 300, 7});
  expect_values(y.sum({1}), ref_reduce(y, {1}, rsum));
  expect_values(y.sum({0, 2}), ref_reduce(y, {0, 2}, rsum));
  Tensor big = ones({3, 100000});
  expect_values(big.sum({1}), {100000., 100000., 100000.});
}

TEST(Reduce, Dtypes) {
  Tensor i = tensor({{1, 2, 3}, {4, 5, 6}}, int32);
  EXPECT_TENSOR_EQ(i.sum(), scalar_tensor(21, int64));
  EXPECT_TENSOR_EQ(i.sum({1}), tensor({6, 15}, int64));
  EXPECT_TENSOR_EQ(i.sum({1}, false, int32), tensor({6, 15}, int32));
  EXPECT_TENSOR_EQ(prod(i), scalar_tensor(720, int64));
  EXPECT_TENSOR_EQ(i.amax({0}), tensor({4, 5, 6}, int32));
  EXPECT_TENSOR_EQ(i.max(), scalar_tensor(6, int32));
  Tensor b = tensor({true, false, true});
  EXPECT_TENSOR_EQ(b.sum(), scalar_tensor(2, int64));
  EXPECT_TENSOR_EQ(b.all(), scalar_tensor(false, bool_));
  EXPECT_TENSOR_EQ(b.any(), scalar_tensor(true, bool_));
  EXPECT_TENSOR_EQ(tensor({1, 2}, uint8).all(), scalar_tensor(1, uint8));
  Tensor f = tensor({1.5, 2.5, 3.0}, float64);
  EXPECT_TENSOR_EQ(f.sum({0}, false, float32), scalar_tensor(7.0, float32));
  EXPECT_TENSOR_EQ(i.sum(float64), scalar_tensor(21.0, float64));
  for (DType t : {float16, bfloat16, float32, float64, int8, uint8, int16, int64}) {
    SCOPED_TRACE(dtype_name(t));
    Tensor x = tensor({{1, 2, 3}, {4, 5, 6}}).to(t);
    EXPECT_EQ(values(x.sum({0})), (std::vector<double>{5, 7, 9}));
    EXPECT_EQ(values(x.amax({1})), (std::vector<double>{3, 6}));
    EXPECT_EQ(values(x.argmax(1)), (std::vector<double>{2, 2}));
    EXPECT_EQ(values(x.cumsum(1)), (std::vector<double>{1, 3, 6, 4, 9, 15}));
    EXPECT_EQ(x.cumsum(1).dtype(), is_floating_point(t) ? t : int64);
    if (is_floating_point(t)) {
      EXPECT_EQ(x.mean().dtype(), t);
      EXPECT_NEAR(x.mean().item<double>(), 3.5, 1e-2);
      EXPECT_NEAR(x.var().item<double>(), 3.5, 2e-2);
    }
  }
}

TEST(Reduce, HalfAccumulatesWide) {
  // 4096 halves of 1: a float16 running sum would stop at 2048.
  EXPECT_EQ(ones({4096}, float16).sum().item<double>(), 4096.0);
  EXPECT_EQ(ones({4096}, bfloat16).sum().item<double>(), 4096.0);
}

TEST(Reduce, AccurateFloatSums) {
  EXPECT_EQ(ones({16777216}).sum().item<double>(), 16777216.0);
  Tensor t = full({10000000}, 0.1);
  EXPECT_NEAR(t.sum().item<double>(), 1e6, 1e6 * 1e-6);
  EXPECT_NEAR(t.mean().item<double>(), 0.1, 1e-7);
  // Large offsets do not cancel the variance away (two passes).
  Tensor v = tensor({1e8 + 1, 1e8 + 2, 1e8 + 3}, float64);
  EXPECT_NEAR(v.var().item<double>(), 1.0, 1e-9);
}

TEST(Reduce, EmptyAndZeroDim) {
  Tensor e = empty({0, 3});
  EXPECT_TENSOR_EQ(e.sum(), scalar_tensor(0.0, float32));
  EXPECT_TENSOR_EQ(e.sum({0}), zeros({3}));
  EXPECT_EQ(e.sum({1}).shape(), IntArrayRef({0}));
  EXPECT_TENSOR_EQ(e.prod(), scalar_tensor(1.0, float32));
  EXPECT_TRUE(std::isnan(e.mean().item<double>()));
  EXPECT_TENSOR_EQ(e.all(), scalar_tensor(true, bool_));
  EXPECT_TENSOR_EQ(e.any(), scalar_tensor(false, bool_));
  EXPECT_EQ(e.amax({1}).shape(), IntArrayRef({0}));
  EXPECT_EQ(values(e.logsumexp({0})), (std::vector<double>{-kInf, -kInf, -kInf}));
  EXPECT_EQ(e.cumsum(0).shape(), IntArrayRef({0, 3}));
  Tensor s = scalar_tensor(3.0);
  EXPECT_TENSOR_EQ(s.sum(), scalar_tensor(3.0));
  EXPECT_TENSOR_EQ(s.sum({0}), scalar_tensor(3.0));
  EXPECT_TENSOR_EQ(s.sum({-1}, true), scalar_tensor(3.0));
  EXPECT_TENSOR_EQ(s.amax(), scalar_tensor(3.0));
  EXPECT_TENSOR_EQ(s.argmax(), scalar_tensor(0, int64));
  EXPECT_TENSOR_EQ(s.cumsum(0), scalar_tensor(3.0));
  auto [v, i] = max(s, 0);
  EXPECT_TENSOR_EQ(v, s);
  EXPECT_TENSOR_EQ(i, scalar_tensor(0, int64));
}

TEST(Reduce, NaNAndInf) {
  Tensor x = tensor({{1., kNaN, 3.}, {kNaN, 5., kNaN}, {-kInf, kInf, 0.}});
  expect_values(x.sum({1}), {kNaN, kNaN, kNaN});
  expect_values(x.amax({1}), {kNaN, kNaN, kInf});
  expect_values(x.amin({1}), {kNaN, kNaN, -kInf});
  EXPECT_TENSOR_EQ(x.argmax(1), tensor({1, 0, 1}, int64));
  EXPECT_TENSOR_EQ(x.argmin(1), tensor({1, 0, 0}, int64));
  EXPECT_TRUE(std::isnan(x.max().item<double>()));
  EXPECT_TENSOR_EQ(x.any(), scalar_tensor(true, bool_));  // NaN counts as true
  Tensor l = tensor({{-kInf, -kInf}, {kInf, 1.}, {1000., 1000.}});
  expect_values(l.logsumexp({1}), {-kInf, kInf, 1000. + std::log(2.)});
  expect_values(norm(tensor({3., -4.}), kInf), {4.});
  expect_values(norm(tensor({3., -4.}), -kInf), {3.});
  expect_values(norm(tensor({3., -4., 0.}), 0), {2.});
  expect_values(norm(tensor({3., -4.}), 1), {7.});
  expect_values(norm(tensor({3., -4.}), 3), {std::cbrt(27. + 64.)});
}

TEST(Reduce, MaxMinWithIndices) {
  Tensor x = tensor({{3., 1., 3.}, {0., 2., -1.}});
  auto [v, i] = max(x, 1);
  EXPECT_TENSOR_EQ(v, tensor({3., 2.}));
  EXPECT_TENSOR_EQ(i, tensor({0, 1}, int64));  // first occurrence
  auto [v0, i0] = min(x, 0, true);
  EXPECT_TENSOR_EQ(v0, tensor({{0., 1., -1.}}));
  EXPECT_TENSOR_EQ(i0, tensor({{1, 0, 1}}, int64));
  EXPECT_TENSOR_EQ(x.argmax(), scalar_tensor(0, int64));
  EXPECT_TENSOR_EQ(x.argmin(), scalar_tensor(5, int64));
  EXPECT_EQ(x.argmax(std::nullopt, true).shape(), IntArrayRef({1, 1}));
  // Transposed: the reduced dim is contiguous for the other one (tile path).
  Tensor y = randn({50, 300});
  Tensor yt = y.t();
  auto [vt, it] = max(yt, 1);
  EXPECT_TENSOR_EQ(vt, y.amax({0}));
  EXPECT_TENSOR_EQ(it, y.argmax(0));
}

TEST(Reduce, CumsumCumprod) {
  Tensor x = tensor({{1., 2., 3.}, {4., 5., 6.}});
  EXPECT_TENSOR_EQ(x.cumsum(0), tensor({{1., 2., 3.}, {5., 7., 9.}}));
  EXPECT_TENSOR_EQ(x.cumsum(-1), tensor({{1., 3., 6.}, {4., 9., 15.}}));
  EXPECT_TENSOR_EQ(x.cumprod(1), tensor({{1., 2., 6.}, {4., 20., 120.}}));
  EXPECT_TENSOR_EQ(x.t().cumsum(0), tensor({{1., 4.}, {3., 9.}, {6., 15.}}));
  EXPECT_TENSOR_EQ(cumsum(tensor({1, 2, 3}, int32), 0), tensor({1, 3, 6}, int64));
  EXPECT_TENSOR_EQ(cumsum(tensor({1, 2, 3}, int32), 0, float64), tensor({1., 3., 6.}, float64));
  EXPECT_TENSOR_EQ(cumprod(tensor({true, true, false}), 0), tensor({1, 1, 0}, int64));
}

// ---- gradients --------------------------------------------------------------------------------------
namespace {
Tensor leaf(IntArrayRef shape, uint64_t seed = 1) {
  manual_seed(seed);
  return randn(shape, float64).requires_grad_();
}
bool check(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  return autograd::gradcheck([&](const Tensors& in) { return Tensors{f(in[0])}; }, {x});
}
}  // namespace

TEST(ReduceGrad, SumMean) {
  Tensor x = leaf({3, 4, 2});
  EXPECT_TRUE(check([](const Tensor& t) { return t.sum(); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.sum({0, 2}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.sum({1}, true); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.transpose(0, 2).sum({-1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.mean({1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.mean(); }, x));
  // The lesson: d/dx sum(x) is ones.
  Tensor y = ones({2, 3}, TensorOptions(float32, kCPU, true));
  y.sum().backward();
  EXPECT_TENSOR_EQ(y.grad(), ones({2, 3}));
}

TEST(ReduceGrad, Prod) {
  Tensor x = leaf({3, 4});
  EXPECT_TRUE(check([](const Tensor& t) { return t.prod(); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return prod(t, 1); }, x));
  // One zero in a row: the gradient there is the product of the others.
  Tensor z = tensor({{2., 0., 3.}, {0., 0., 5.}, {1., 2., 4.}}, float64).requires_grad_();
  prod(z, 1).sum().backward();
  EXPECT_TENSOR_CLOSE(z.grad(), tensor({{0., 6., 0.}, {0., 0., 0.}, {8., 4., 2.}}, float64));
  Tensor z1 = tensor({2., 0., 3.}, float64).requires_grad_();
  EXPECT_TRUE(check([](const Tensor& t) { return t.prod(); }, z1));
}

TEST(ReduceGrad, Extrema) {
  Tensor x = leaf({4, 5});
  EXPECT_TRUE(check([](const Tensor& t) { return t.amax({1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.amin({0, 1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return max(t, 0).first; }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return min(t, 1, true).first; }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.max(); }, x));
  // Ties: amax splits evenly; max(dim) sends everything to the first index.
  Tensor t = tensor({1., 3., 3.}, float64).requires_grad_();
  t.amax().backward();
  EXPECT_TENSOR_EQ(t.grad(), tensor({0., 0.5, 0.5}, float64));
  Tensor u = tensor({1., 3., 3.}, float64).requires_grad_();
  max(u, 0).first.backward();
  EXPECT_TENSOR_EQ(u.grad(), tensor({0., 1., 0.}, float64));
}

TEST(ReduceGrad, Statistics) {
  Tensor x = leaf({3, 5});
  EXPECT_TRUE(check([](const Tensor& t) { return t.var(); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.var({1}, 0, true); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.std({0}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.norm(); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return norm(t, 1, {1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return norm(t, 3, {0}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return norm(t, INFINITY, {1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.logsumexp({1}); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.logsumexp({0, 1}, true); }, x));
  // The norm of zeros has a zero (not NaN) gradient, as in PyTorch.
  Tensor z = zeros({3}, TensorOptions(float64, kCPU, true));
  z.norm().backward();
  EXPECT_TENSOR_EQ(z.grad(), zeros({3}, float64));
}

TEST(ReduceGrad, Scans) {
  Tensor x = leaf({3, 4});
  EXPECT_TRUE(check([](const Tensor& t) { return t.cumsum(1); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.cumsum(0); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.cumprod(1); }, x));
  EXPECT_TRUE(check([](const Tensor& t) { return t.t().cumprod(0); }, x));
}

// ---- errors --------------------------------------------------------------------------------------
TEST(ReduceErrors, DuplicateDim) {
  EXPECT_THROW_MSG(ones({2, 3}).sum({1, -1}), ShapeError, "dim 1 appears multiple times in the list of dims");
}
TEST(ReduceErrors, DimOutOfRange) {
  EXPECT_THROW_MSG(ones({2, 3}).sum({2}), IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_MSG(ones({2, 3}).cumsum(-3), IndexError, "Dimension out of range");
  EXPECT_THROW_MSG(ones({2, 3}).argmax(5), IndexError, "Dimension out of range");
}
TEST(ReduceErrors, MeanOfIntegers) {
  EXPECT_THROW_MSG(tensor({1, 2}).mean(), DTypeError,
                   "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: int64");
}
TEST(ReduceErrors, MaxOfEmpty) {
  EXPECT_THROW_MSG(empty({0}).max(), IndexError,
                   "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
  EXPECT_THROW_MSG(empty({0}).argmin(), IndexError, "argmin(): Expected reduction dim to be specified for input.numel() == 0.");
}
TEST(ReduceErrors, EmptyReductionDim) {
  EXPECT_THROW_MSG(empty({0, 3}).amax({0}), IndexError, "amax(): Expected reduction dim 0 to have non-zero size.");
  EXPECT_THROW_MSG(max(empty({2, 0}), 1), IndexError, "max(): Expected reduction dim 1 to have non-zero size.");
}
TEST(ReduceErrors, NormOfIntegers) {
  EXPECT_THROW_MSG(norm(tensor({1, 2})), DTypeError, "Expected a floating point tensor as input. Got int64");
  EXPECT_THROW_MSG(tensor({1, 2}).var(), DTypeError, "Expected a floating point tensor as input. Got int64");
}
TEST(ReduceErrors, InfNormOfEmpty) {
  EXPECT_THROW_MSG(norm(empty({0}), INFINITY), IndexError, "cannot compute the inf norm on an empty tensor");
}
