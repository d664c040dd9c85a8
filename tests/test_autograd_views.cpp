// Gradients through views reach their base; a long training-style loop does not leak.
#include "test_util.h"

namespace ricci {
namespace {

using autograd::Tensors;

Tensor arange_leaf(int64_t n, IntArrayRef shape) {
  Tensor t = arange(0, n, 1, float64).reshape(shape);
  t = t.clone();  // a fresh leaf, not a view of arange's result
  t.requires_grad_();
  return t;
}

std::vector<double> grad_of(const Tensor& t) { return t.grad().to_vector<double>(); }

TEST(AutogradViews, Transpose) {
  Tensor x = arange_leaf(6, {2, 3});
  Tensor w = arange(0, 6, 1, float64).reshape({3, 2});
  (x.transpose(0, 1) * w).sum().backward();
  EXPECT_EQ(x.grad().shape(), IntArrayRef({2, 3}));
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 2, 4, 1, 3, 5}));  // w transposed back
}

TEST(AutogradViews, SliceWithStep) {
  Tensor x = arange_leaf(8, {2, 4});
  Tensor v = x.slice(1, 0, 4, 2);  // columns 0 and 2
  (v * v).sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 0, 4, 0, 8, 0, 12, 0}));
}

TEST(AutogradViews, Select) {
  Tensor x = arange_leaf(6, {2, 3});
  (x.select(0, 1) * 2.0).sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 0, 0, 2, 2, 2}));
}

TEST(AutogradViews, Expand) {
  Tensor x = arange_leaf(3, {3, 1});
  x.expand({3, 4}).sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{4, 4, 4}));
}

TEST(AutogradViews, Diagonal) {
  Tensor x = arange_leaf(9, {3, 3});
  x.diagonal().sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(AutogradViews, AsStridedOverlappingWindows) {
  Tensor x = arange_leaf(4, {4});
  // Windows (x0, x1), (x1, x2): x1 appears twice and gets both gradients.
  x.as_strided({2, 2}, {1, 1}).sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{1, 2, 1, 0}));
}

TEST(AutogradViews, Unfold) {
  Tensor x = arange_leaf(5, {5});
  x.unfold(0, 2, 1).sum().backward();  // windows [0,1] [1,2] [2,3] [3,4]
  EXPECT_EQ(grad_of(x), (std::vector<double>{1, 2, 2, 2, 1}));
}

TEST(AutogradViews, ChainedViewsOfANonLeafBase) {
  Tensor x = arange_leaf(12, {3, 4});
  Tensor base = x * 2.0;
  Tensor v = base.transpose(0, 1).slice(0, 1, 3).select(1, 2);  // base[2, 1:3]
  v.sum().backward();
  std::vector<double> want(12, 0.0);
  want[2 * 4 + 1] = want[2 * 4 + 2] = 2;
  EXPECT_EQ(grad_of(x), want);
}

TEST(AutogradViews, ViewAndReshapeAndPermute) {
  Tensor x = arange_leaf(6, {2, 3});
  Tensor w = arange(0, 6, 1, float64);
  (x.view({6}) * w).sum().backward();
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  x.set_grad(Tensor());
  (x.permute({1, 0}).reshape({6}) * w).sum().backward();  // reshape of a permuted view copies
  EXPECT_EQ(grad_of(x), (std::vector<double>{0, 2, 4, 1, 3, 5}));
}

TEST(AutogradViews, GradcheckEveryView) {
  Tensor x = arange(0, 24, 1, float64).reshape({2, 3, 4}).clone() / 7.0;
  x = x.detach();
  x.requires_grad_();
  using F = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, F>> views = {
      {"transpose", [](const Tensor& t) { return t.transpose(0, 2); }},
      {"permute", [](const Tensor& t) { return t.permute({2, 0, 1}); }},
      {"slice", [](const Tensor& t) { return t.slice(2, 1, 4, 2); }},
      {"select", [](const Tensor& t) { return t.select(1, -1); }},
      {"narrow", [](const Tensor& t) { return t.narrow(2, 1, 2); }},
      {"expand", [](const Tensor& t) { return t.slice(1, 0, 1).expand({2, 5, 4}); }},
      {"diagonal", [](const Tensor& t) { return t.diagonal(1, 1, 2); }},
      {"as_strided", [](const Tensor& t) { return t.as_strided({3, 3}, {2, 1}, 1); }},
      {"unfold", [](const Tensor& t) { return t.unfold(2, 2, 1); }},
      {"view", [](const Tensor& t) { return t.view({6, 4}); }},
      {"squeeze_unsqueeze", [](const Tensor& t) { return t.unsqueeze(1).squeeze(1); }},
      {"flatten", [](const Tensor& t) { return t.flatten(1); }},
  };
  for (const auto& entry : views) {
    SCOPED_TRACE(entry.first);
    const auto& f = entry.second;  // a structured binding cannot be captured before C++20's clang 16
    EXPECT_TRUE(autograd::gradcheck([&f](const Tensors& in) { return Tensors{f(in[0]) * f(in[0])}; }, {x}));
  }
}

// Note [No growth]: after a warm-up fills the allocator's caches, every iteration frees exactly
// what it allocated, so live bytes stay flat. A node or saved tensor kept alive by a reference
// cycle (grad_fn <-> output, hook <-> tensor) would show up here as steady growth.
TEST(AutogradViews, TrainingLoopDoesNotLeak) {
  Tensor x = arange(0, 32, 1, float32).reshape({4, 8}) / 32.0;
  Tensor w1 = ones({8, 16}, float32) * 0.01;
  Tensor w2 = ones({16, 4}, float32) * 0.02;
  w1 = w1.detach();
  w2 = w2.detach();
  w1.requires_grad_();
  w2.requires_grad_();
  auto step = [&] {
    Tensor h = x.matmul(w1).tanh();
    Tensor y = h.matmul(w2);
    Tensor loss = (y * y).sum();
    loss.backward();
    NoGradGuard no_grad;
    w1.sub_(w1.grad() * 1e-3);
    w2.sub_(w2.grad() * 1e-3);
    w1.set_grad(Tensor());
    w2.set_grad(Tensor());
  };
  for (int i = 0; i < 100; ++i) step();
  const size_t warm = memory_stats().allocated_bytes;
  for (int i = 0; i < 10000; ++i) step();
  EXPECT_EQ(memory_stats().allocated_bytes, warm);
}

TEST(AutogradViews, RetainedGraphIsFreedWithItsTensors) {
  const size_t before = memory_stats().allocated_bytes;
  {
    Tensor a = ones({64}, float64);
    a.requires_grad_();
    Tensor c = a * a;
    c.retain_grad();
    Tensor L = (c * a).sum();
    L.backward(Tensor(), /*retain_graph=*/true);
    L.backward(Tensor(), false, /*create_graph=*/true);
    EXPECT_TRUE(a.grad().requires_grad());
    // As in PyTorch, a create_graph .grad refers to a graph that refers back to its leaf: clearing
    // .grad breaks that cycle.
    a.set_grad(Tensor());
  }
  EXPECT_EQ(memory_stats().allocated_bytes, before);
}

// Note [Leaves are held weakly]: a create_graph backward leaves a .grad whose graph ends at the
// leaf's accumulator and saves the leaf's values; neither owns the leaf, so dropping the leaf frees
// everything without clearing .grad first (PyTorch leaks here and warns).
TEST(AutogradViews, CreateGraphGradDoesNotKeepItsLeafAlive) {
  const size_t before = memory_stats().allocated_bytes;
  for (int i = 0; i < 50; ++i) {
    Tensor x = full({256}, 1.5, float64).requires_grad_();
    Tensor y = (x * x * x).sum();
    y.backward(Tensor(), false, /*create_graph=*/true);
    Tensor g = x.grad();
    EXPECT_TRUE(g.requires_grad());
    EXPECT_DOUBLE_EQ(g.select(0, 0).item<double>(), 3 * 1.5 * 1.5);
    // Second order still reaches x through the saved stand-in: d(sum 3x^2)/dx = 6x.
    Tensor g2 = autograd::grad({g.sum()}, {x})[0];
    EXPECT_DOUBLE_EQ(g2.select(0, 0).item<double>(), 6 * 1.5);
  }
  EXPECT_EQ(memory_stats().allocated_bytes, before);
}

TEST(AutogradViews, DepositIntoADroppedLeafIsSkipped) {
  Tensor y;
  {
    Tensor x = ones({4}, float64).requires_grad_();
    y = (x * 2.0).sum();
  }
  y.backward();  // the leaf is gone: nothing to deposit into, and nothing breaks
  SUCCEED();
}

}  // namespace
}  // namespace ricci
