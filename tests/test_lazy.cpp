// Lazy evaluation (Note [Lazy tensors], src/lazy/lazy.cpp): recording computes nothing, eval and
// reads compute, errors come at record time, backward through a lazy graph is eager's, views and
// in-place ops on pending tensors, the pending graph's statistics and drawing, and the Primitive
// interface (infer, vjp, equivalence, the transform slots' errors).
#include "test_util.h"

namespace ricci {
namespace {

Tensor arange_f(int64_t n, DType t = float32) { return arange(n).to(t); }

TEST(Lazy, RecordingComputesNothingUntilEval) {
  const Tensor x = arange_f(6).reshape({2, 3});
  const size_t before = memory_stats().allocated_bytes;
  Tensor y;
  {
    LazyGuard lazy;
    EXPECT_TRUE(is_lazy());
    y = x * 2 + 1;
    EXPECT_TRUE(is_pending(y));
    EXPECT_EQ(y.shape(), IntArrayRef({2, 3}));
    EXPECT_EQ(y.dtype(), float32);
    EXPECT_EQ(memory_stats().allocated_bytes, before);
  }
  EXPECT_FALSE(is_lazy());
  const PendingStats st = pending_stats({y});
  EXPECT_EQ(st.nodes, 2);
  EXPECT_EQ(st.bytes, 2 * 6 * 4);
  eval(y);
  EXPECT_FALSE(is_pending(y));
  EXPECT_EQ(pending_stats({y}).nodes, 0);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 3, 5, 7, 9, 11}));
}

TEST(Lazy, ReadingAValueEvaluates) {
  LazyGuard lazy;
  const Tensor x = arange_f(4);
  Tensor s = (x * x).sum();
  EXPECT_TRUE(is_pending(s));
  EXPECT_EQ(s.item<float>(), 14.0f);  // item() inside the lazy scope
  EXPECT_FALSE(is_pending(s));
  Tensor p = x + 1;
  EXPECT_EQ(p.str(), "tensor([1., 2., 3., 4.])");  // printing
  Tensor q = x - 1;
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{-1, 0, 1, 2}));
  Tensor r = x * 3;
  EXPECT_EQ(static_cast<const float*>(r.data_ptr())[3], 9.0f);  // data_ptr()
}

TEST(Lazy, EagerOpsOnPendingInputsSeeTheirValues) {
  const Tensor x = arange_f(4);
  Tensor y;
  {
    LazyGuard lazy;
    y = x.exp();
  }
  ASSERT_TRUE(is_pending(y));
  EXPECT_TRUE(allclose(y + 1, x.exp() + 1, 0, 0));  // eager op, pending input
}

TEST(Lazy, ErrorsAreRaisedWhenRecorded) {
  LazyGuard lazy;
  const Tensor a = ones({2, 3}), b = ones({4});
  EXPECT_THROW_MSG(a + b, ShapeError, "[add]");
  EXPECT_THROW_MSG(matmul(a, ones({2, 2})), ShapeError, "[matmul]");
  EXPECT_THROW_MSG(bitwise_and(a, a), DTypeError, "bitwise_and");
  EXPECT_THROW_MSG(a.sum({5}), IndexError, "[sum]");
  EXPECT_THROW_MSG((a * 2).transpose(0, 4), IndexError, "[transpose]");
  EXPECT_THROW_MSG((a * 2).view({5}), ShapeError, "[view]");
}

TEST(Lazy, SetLazyIsTheProcessDefault) {
  set_lazy(true);
  Tensor y = ones({3}) * 4;
  const bool pending = is_pending(y);
  {
    LazyGuard eager(false);
    EXPECT_FALSE(is_lazy());
    EXPECT_FALSE(is_pending(ones({3}) * 4));
  }
  set_lazy(false);
  EXPECT_TRUE(pending);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{4, 4, 4}));
}

TEST(Lazy, ViewsOfPendingTensors) {
  const Tensor x = arange_f(6).reshape({2, 3});
  Tensor t, s, u;
  {
    LazyGuard lazy;
    Tensor y = x * 10;
    t = y.t();
    s = y.select(1, 2);
    u = y.reshape({3, 2}).narrow(0, 1, 2);
    EXPECT_TRUE(is_pending(t));
    EXPECT_EQ(t.shape(), IntArrayRef({3, 2}));
    EXPECT_EQ(t.strides(), IntArrayRef({1, 3}));
  }
  EXPECT_EQ(t.contiguous().to_vector<float>(), (std::vector<float>{0, 30, 10, 40, 20, 50}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{20, 50}));
  EXPECT_EQ(u.to_vector<float>(), (std::vector<float>{20, 30, 40, 50}));
  EXPECT_TRUE(t.shares_storage_with(s));  // views of one evaluated result share its bytes
}

TEST(Lazy, DetachAndInPlaceOnPendingTensors) {
  const Tensor x = arange_f(3);
  Tensor y, d;
  {
    LazyGuard lazy;
    y = x + 1;
    d = y.detach();  // shares the placeholder
    y.mul_(2);       // in-place: evaluates y first, then runs eagerly
    EXPECT_FALSE(is_pending(y));
  }
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(d.to_vector<float>(), (std::vector<float>{2, 4, 6}));  // the same bytes, as in eager
  EXPECT_EQ(d.version(), y.version());
}

TEST(Lazy, IntermediatesDroppedBeforeEvalAreNeverComputed) {
  const Tensor x = ones({4});
  Tensor kept;
  {
    LazyGuard lazy;
    Tensor unused = x * 100;  // dropped: nothing holds it
    kept = x + 1;
  }
  EXPECT_EQ(pending_stats({kept}).nodes, 1);
  eval(kept);
  EXPECT_EQ(kept.to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
}

TEST(Lazy, EvalForms) {
  const Tensor x = ones({2});
  LazyGuard lazy;
  Tensor a = x + 1, b = x + 2, c = x + 3, d = x + 4;
  eval(a, b);
  EXPECT_FALSE(is_pending(a));
  EXPECT_FALSE(is_pending(b));
  EXPECT_TRUE(is_pending(c));
  eval(std::vector<std::pair<std::string, Tensor>>{{"c", c}});
  EXPECT_FALSE(is_pending(c));
  eval(std::map<std::string, Tensor>{{"d", d}});
  EXPECT_FALSE(is_pending(d));
  eval(x);  // evaluating an evaluated tensor does nothing
}

TEST(Lazy, BackwardThroughALazyGraphGivesEagerGradients) {
  manual_seed(0);
  const Tensor w0 = randn({4, 3}, float64), b0 = randn({3}, float64), x = randn({5, 4}, float64);
  auto loss_of = [&](const Tensor& w, const Tensor& b) { return (matmul(x, w) + b).tanh().pow(2).mean(); };
  Tensor we = w0.clone().requires_grad_(), be = b0.clone().requires_grad_();
  Tensor eager_loss = loss_of(we, be);
  eager_loss.backward();

  Tensor wl = w0.clone().requires_grad_(), bl = b0.clone().requires_grad_();
  Tensor loss;
  {
    LazyGuard lazy;
    loss = loss_of(wl, bl);
    EXPECT_TRUE(is_pending(loss));
  }
  EXPECT_TRUE(loss.requires_grad());
  EXPECT_EQ(loss.grad_fn()->name(), eager_loss.grad_fn()->name());  // made when it ran, as eagerly
  loss.backward();
  EXPECT_TRUE(allclose(we.grad(), wl.grad(), 0, 0));
  EXPECT_TRUE(allclose(be.grad(), bl.grad(), 0, 0));
}

TEST(Lazy, GradModeIsTheOneAtRecordTime) {
  const Tensor w = ones({3}).requires_grad_();
  Tensor y;
  {
    LazyGuard lazy;
    NoGradGuard no_grad;
    y = w * 2;
  }
  EXPECT_FALSE(y.requires_grad());  // evaluated with grad on, recorded without
  Tensor z;
  {
    LazyGuard lazy;
    z = w * 2;
  }
  {
    NoGradGuard no_grad;
    EXPECT_TRUE(z.requires_grad());  // recorded with grad on, evaluated under no_grad
  }
}

TEST(Lazy, ToDotDrawsThePendingGraph) {
  const Tensor x = ones({2, 3});
  LazyGuard lazy;
  Tensor y = (x * 2).sum({1});
  const std::string dot = autograd::to_dot(y);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("mul"), std::string::npos);
  EXPECT_NE(dot.find("sum"), std::string::npos);
  EXPECT_NE(dot.find("24 bytes"), std::string::npos);  // the 2x3 float32 product
  EXPECT_TRUE(is_pending(y));                          // drawing evaluates nothing
}

TEST(Lazy, ShapeInferenceForcesNothingAndDataDependentOpsRunEagerly) {
  const Tensor x = arange_f(5);
  LazyGuard lazy;
  Tensor y = x * 2;
  Tensor m = y.index({y > 3});  // a boolean mask: the shape depends on values, so it runs now
  EXPECT_FALSE(is_pending(m));
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{4, 6, 8}));
}

// ---- the Primitive interface ----------------------------------------------------------------------

TEST(Primitive, InferComputesShapesWithoutValues) {
  const Tensor a = ones({2, 3}), b = ones({3, 4});
  PrimitivePtr p;
  {
    LazyGuard lazy;
    p = lazy::producer(matmul(a, b));
  }
  ASSERT_TRUE(p);
  EXPECT_STREQ(p->name(), "matmul");
  const size_t before = memory_stats().allocated_bytes;
  const auto specs = p->infer({ones({5, 2, 3}), ones({3, 7})});
  EXPECT_EQ(memory_stats().allocated_bytes, before + 0);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].shape, Dims({5, 2, 7}));
  EXPECT_EQ(specs[0].dtype, float32);
  EXPECT_THROW_MSG(p->infer({ones({2, 3}), ones({4, 4})}), ShapeError, "[matmul]");
}

TEST(Primitive, EquivalenceIsSameOpSameParameters) {
  const Tensor x = ones({2, 3});
  LazyGuard lazy;
  const PrimitivePtr s1 = lazy::producer(x.sum({1})), s2 = lazy::producer(x.sum({1}));
  const PrimitivePtr s0 = lazy::producer(x.sum({0})), m1 = lazy::producer(x.mean({1}));
  const PrimitivePtr a1 = lazy::producer(x + 1), a2 = lazy::producer(x + 2), a3 = lazy::producer(x + 1);
  EXPECT_TRUE(s1->is_equivalent(*s2));
  EXPECT_FALSE(s1->is_equivalent(*s0));
  EXPECT_FALSE(s1->is_equivalent(*m1));
  EXPECT_TRUE(a1->is_equivalent(*a3));
  EXPECT_FALSE(a1->is_equivalent(*a2));
  EXPECT_FALSE(a1->is_equivalent(*s1));
}

TEST(Primitive, VjpIsTheEagerRule) {
  const Tensor a = from_vector(std::vector<double>{1, 2, 3}, {3}, float64);
  const Tensor b = from_vector(std::vector<double>{4, 5, 6}, {3}, float64);
  PrimitivePtr mul;
  {
    LazyGuard lazy;
    mul = lazy::producer(a * b);
  }
  const Tensors g = mul->vjp({a, b}, {ones({3}, float64)});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(allclose(g[0], b, 0, 0));
  EXPECT_TRUE(allclose(g[1], a, 0, 0));
  EXPECT_EQ(mul->eval({a, b})[0].to_vector<double>(), (std::vector<double>{4, 10, 18}));
}

TEST(Primitive, EveryPrimitiveHasJvpAndVmapRules) {
  const Tensor x = from_vector(std::vector<double>{0.5, 1, 2}, {3}, float64);
  PrimitivePtr exp_p, sum_p;
  {
    LazyGuard lazy;
    exp_p = lazy::producer(x.exp());
    sum_p = lazy::producer(x.sum());
  }
  EXPECT_TRUE(allclose(exp_p->jvp({x}, {ones({3}, float64)})[0], x.exp(), 1e-12, 1e-12));
  const Tensor X = stack({x, x * 2}, 1);  // batched along axis 1
  auto [outs, axes] = exp_p->vmap({X}, {1});  // elementwise: once, batch moved first
  EXPECT_EQ(axes[0], 0);
  EXPECT_TRUE(allclose(outs[0], X.t().exp(), 0, 0));
  auto [sums, sum_axes] = sum_p->vmap({X}, {1});  // generic: per example
  EXPECT_EQ(sum_axes[0], 0);
  EXPECT_TRUE(allclose(sums[0], X.sum({0}), 0, 0));
}

}  // namespace
}  // namespace ricci
