// In-place ops through views keep gradients right (Note [Views and in-place ops]): every in-place
// op, applied through every kind of view, on a base that is part of the graph and on a buffer
// that is not, is checked against finite differences; then the errors, the version counter and
// the shapes of history that users see (CopySlices, views taken before the write).
#include <functional>

#include "test_util.h"

namespace ricci {
namespace {

using autograd::Tensors;
using testing::values;

// ---- the registry: views x in-place ops ----------------------------------------------------------
struct ViewKind {
  const char* name;
  std::function<Tensor(const Tensor&)> make;  // of a 4x4 base
  Dims shape;
};

std::vector<ViewKind> view_kinds() {
  return {
      {"select", [](const Tensor& b) { return b.select(0, 1); }, {4}},
      {"select_col", [](const Tensor& b) { return b.select(1, 2); }, {4}},
      {"narrow", [](const Tensor& b) { return b.narrow(1, 1, 2); }, {4, 2}},
      {"slice_step", [](const Tensor& b) { return b.slice(1, 0, 4, 2); }, {4, 2}},
      {"transpose", [](const Tensor& b) { return b.transpose(0, 1); }, {4, 4}},
      {"diagonal", [](const Tensor& b) { return b.diagonal(); }, {4}},
      {"view_of_view", [](const Tensor& b) { return b.t().narrow(0, 1, 2).select(1, 3); }, {2}},
      {"reshape_view", [](const Tensor& b) { return b.view({2, 8}).narrow(1, 2, 4); }, {2, 4}},
      {"index_basic", [](const Tensor& b) { return b.index({Slice(), 1}); }, {4}},
  };
}

struct InplaceOp {
  const char* name;
  // Writes into `v`, using `src` (same shape as v, requires grad) where the op takes a tensor.
  std::function<void(Tensor& v, const Tensor& src)> apply;
};

std::vector<InplaceOp> inplace_ops() {
  return {
      {"copy_", [](Tensor& v, const Tensor& s) { v.copy_(s); }},
      {"add_", [](Tensor& v, const Tensor& s) { v.add_(s, 2.0); }},
      {"sub_", [](Tensor& v, const Tensor& s) { v.sub_(s); }},
      {"mul_", [](Tensor& v, const Tensor& s) { v.mul_(s); }},
      {"div_", [](Tensor& v, const Tensor& s) { v.div_(s * s + 1.0); }},
      {"pow_", [](Tensor& v, const Tensor&) { v.pow_(2); }},
      {"lerp_", [](Tensor& v, const Tensor& s) { v.lerp_(s, 0.3); }},
      {"addcmul_", [](Tensor& v, const Tensor& s) { v.addcmul_(s, s, 0.5); }},
      {"exp_", [](Tensor& v, const Tensor&) { v.exp_(); }},
      {"sin_", [](Tensor& v, const Tensor&) { v.sin_(); }},
      {"tanh_", [](Tensor& v, const Tensor&) { v.tanh_(); }},
      {"sigmoid_", [](Tensor& v, const Tensor&) { v.sigmoid_(); }},
      {"neg_", [](Tensor& v, const Tensor&) { v.neg_(); }},
      {"sinh_", [](Tensor& v, const Tensor&) { v.sinh_(); }},
      {"atan_", [](Tensor& v, const Tensor&) { v.atan_(); }},
      {"mul_scalar_", [](Tensor& v, const Tensor&) { v.mul_(3.0); }},
      {"fill_", [](Tensor& v, const Tensor&) { v.fill_(0.5); }},
      {"zero_", [](Tensor& v, const Tensor&) { v.zero_(); }},
      {"masked_fill_", [](Tensor& v, const Tensor& s) { v.masked_fill_(s > 0.0, -1.0); }},
      {"index_put_", [](Tensor& v, const Tensor& s) { v.index_put_({0}, s.select(0, 1) * 2.0); }},
  };
}

// Distinct float64 values without kinks, as a fresh leaf.
Tensor sample(const Dims& shape, double phase, bool requires_grad = true) {
  const int64_t n = product(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = 0.9 * std::sin(1.3 * static_cast<double>(i) + phase) + 0.05 * i;
  Tensor t = from_vector(v, shape, float64);
  if (requires_grad) t.requires_grad_();
  return t;
}

// The base is part of the graph: base = a * 1.5, written through a view; the outputs read the base
// as a whole and through a view taken before the write.
Tensors graph_base(const ViewKind& vk, const InplaceOp& op, const Tensors& in) {
  Tensor base = in[0] * 1.5;
  Tensor before = base.t();
  Tensor v = vk.make(base);
  op.apply(v, in[1]);
  return {base * base, before.sin(), v * 2.0};
}

// The base is a plain buffer (no grad): a copy_ from the input brings it into the graph, then the
// op writes again through another view of the same kind (a chain of two writes).
Tensors buffer_base(const ViewKind& vk, const InplaceOp& op, const Tensors& in) {
  Tensor buf = sample({4, 4}, 0.7, /*requires_grad=*/false);
  Tensor before = buf.t();
  Tensor v = vk.make(buf);
  v.copy_(in[1] * 0.7);
  Tensor v2 = vk.make(buf);
  op.apply(v2, in[1]);
  return {buf * buf, before.cos()};
}

TEST(InplaceViews, GradcheckEveryOpThroughEveryView) {
  int checked = 0;
  for (const ViewKind& vk : view_kinds()) {
    for (const InplaceOp& op : inplace_ops()) {
      SCOPED_TRACE(std::string(vk.name) + " / " + op.name);
      Tensor a = sample({4, 4}, 0.1), s = sample(vk.shape, 2.0);
      try {
        EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return graph_base(vk, op, in); }, {a, s}));
        EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return buffer_base(vk, op, in); }, {a, s}));
        checked += 2;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }
  EXPECT_EQ(checked, 2 * static_cast<int>(view_kinds().size() * inplace_ops().size()));
}

// The values an in-place op saves for its vjp keep their history: before, mul_ saved a detached
// copy of the old value and a create_graph backward silently lost the term through it.
TEST(InplaceViews, SecondOrderOfInplaceOps) {
  Tensor a = sample({4, 4}, 0.3), s = sample({4, 2}, 1.1), sf = sample({4, 4}, 1.1);
  auto check = [&](const char* name, std::function<Tensors(const Tensors&)> fn, Tensors in) {
    try {
      EXPECT_TRUE(autograd::gradgradcheck(fn, in)) << name;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": " << e.what();
    }
  };
  check("mul_full", [](const Tensors& in) { Tensor b = in[0].sin(); b.mul_(in[1]); return Tensors{b * b}; }, {a, sf});
  check("copy_view", [](const Tensors& in) { Tensor b = in[0].sin(); b.narrow(1, 1, 2).copy_(in[1]); return Tensors{b * b}; }, {a, s});
  check("add_view", [](const Tensors& in) { Tensor b = in[0].sin(); b.narrow(1, 1, 2).add_(in[1]); return Tensors{b * b}; }, {a, s});
  check("mul_view_linear", [](const Tensors& in) { Tensor b = in[0].sin(); b.narrow(1, 1, 2).mul_(in[1]); return Tensors{b}; }, {a, s});
  check("narrow_only", [](const Tensors& in) { Tensor b = in[0].sin(); return Tensors{b.narrow(1, 1, 2) * in[1]}; }, {a, s});
  check("as_strided", [](const Tensors& in) { Tensor b = in[0].sin(); return Tensors{b.as_strided({4, 2}, {4, 1}, 1).square()}; }, {a});
  check("exp_", [](const Tensors& in) { Tensor b = in[0] * 0.5; b.exp_(); return Tensors{b * in[0]}; }, {a});
  check("exp_view", [](const Tensors& in) { Tensor b = in[0] * 0.5; b.t().exp_(); return Tensors{b * in[0]}; }, {a});
  check("sigmoid_view", [](const Tensors& in) { Tensor b = in[0] * 0.5; b.narrow(0, 1, 2).sigmoid_(); return Tensors{b.square()}; }, {a});
  check("pow_tensor", [](const Tensors& in) { Tensor b = in[0] * 0.3 + 1.5; b.pow_(in[1] * 0.5); return Tensors{b * in[0]}; }, {a, sf});
  check("pow_tensor_view", [](const Tensors& in) { Tensor b = in[0] * 0.3 + 1.5; b.narrow(1, 0, 4).pow_(in[1] * 0.5); return Tensors{b * in[0]}; }, {a, sf});
  check("lerp_", [](const Tensors& in) { Tensor b = in[0].sin(); b.lerp_(in[1], 0.3); return Tensors{b * b}; }, {a, sf});
}

TEST(InplaceViews, SecondOrderThroughCopySlices) {
  Tensor a = sample({4, 4}, 0.3), s = sample({4, 2}, 1.1);
  auto fn = [](const Tensors& in) {
    Tensor base = in[0].sin();
    base.narrow(1, 1, 2).mul_(in[1]);
    return Tensors{base * base};
  };
  EXPECT_TRUE(autograd::gradcheck(fn, {a, s}));
  EXPECT_TRUE(autograd::gradgradcheck(fn, {a, s}));
}

// ---- the cases from the issue, with the numbers written out -------------------------------------
TEST(InplaceViews, CopyIntoBufferGivesTheSourceItsGradient) {
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor buf = zeros({2, 2}, float64);
  buf.select(0, 0).copy_(a);
  EXPECT_FALSE(buf.is_leaf());
  EXPECT_TRUE(buf.requires_grad());
  EXPECT_EQ(buf.grad_fn()->name(), "CopySlices");
  Tensor w = tensor({{3.0, 4.0}, {5.0, 6.0}});
  (buf * w).sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{3, 4}));
  EXPECT_EQ(values(buf.detach()), (std::vector<double>{1, 2, 0, 0}));
}

TEST(InplaceViews, AddAndMulThroughAViewOfABuffer) {
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor buf = ones({2, 2}, float64);
  buf.select(0, 1).add_(a);  // row 1 = 1 + a
  buf.select(0, 1).mul_(a);  // row 1 = (1 + a) * a
  buf.sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1 + 2 * 1.0, 1 + 2 * 2.0}));  // d((1+a)a)/da = 1 + 2a
}

TEST(InplaceViews, MulIntoNarrowOfAGraphTensor) {
  Tensor a = tensor({{1.0, 2.0, 3.0, 4.0}, {5.0, 6.0, 7.0, 8.0}}).requires_grad_();
  Tensor b = tensor({{10.0, 20.0}, {30.0, 40.0}}).requires_grad_();
  Tensor out = a.clone();
  out.narrow(1, 1, 2).mul_(b);
  out.sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{1, 10, 20, 1, 1, 30, 40, 1}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{2, 3, 6, 7}));
}

TEST(InplaceViews, ViewsTakenBeforeTheWriteSeeTheNewHistory) {
  Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
  Tensor s = tensor({5.0, 6.0}).requires_grad_();
  Tensor base = a * 1.0;
  Tensor col = base.select(1, 0);  // elements (0,0), (1,0): taken before the write
  base.select(0, 0).copy_(s);      // overwrites (0,0) and (0,1)
  (col * col).sum().backward();    // col = [s0, a10]
  EXPECT_EQ(values(s.grad()), (std::vector<double>{10, 0}));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0, 0, 6, 0}));
}

TEST(InplaceViews, KvCacheStyleLoop) {
  // A cache filled row by row from values that need gradients, then read as a whole.
  const int64_t T = 5;
  Tensor x = sample({T, 3}, 0.4);
  Tensor cache = zeros({T, 3}, float64);
  for (int64_t t = 0; t < T; ++t) cache.select(0, t).copy_(x.select(0, t).tanh());
  Tensor loss = (cache * cache).sum();
  loss.backward();
  Tensor expected = (2.0 * x.detach().tanh() * (1.0 - x.detach().tanh().square()));
  EXPECT_TENSOR_CLOSE(x.grad(), expected, 1e-12, 1e-12);
}

TEST(InplaceViews, IndexAssignmentAccumulates) {
  // x[:, 1] += y, the Python idiom, as index_put_ with accumulate through a basic index.
  Tensor a = sample({3, 3}, 0.2), y = sample({3}, 0.9);
  auto fn = [](const Tensors& in) {
    Tensor x = in[0].sin();  // saves its input, which the write does not touch
    x.index({Slice(), 1}).add_(in[1]);
    return Tensors{x.sum({1})};
  };
  EXPECT_TRUE(autograd::gradcheck(fn, {a, y}));
}

TEST(InplaceViews, NoGradWriteIsNotRecorded) {
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor buf = zeros({2, 2}, float64);
  {
    NoGradGuard no_grad;
    buf.select(0, 0).copy_(a);
  }
  EXPECT_TRUE(buf.is_leaf());
  EXPECT_FALSE(buf.requires_grad());
  EXPECT_EQ(values(buf), (std::vector<double>{1, 2, 0, 0}));
}

TEST(InplaceViews, InferenceModeViewsAreNotTracked) {
  Tensor buf = zeros({2, 2}, float64);
  InferenceMode guard;
  Tensor v = buf.select(0, 0);
  v.fill_(3.0);
  EXPECT_FALSE(buf.requires_grad());
  EXPECT_EQ(values(buf), (std::vector<double>{3, 3, 0, 0}));
}

TEST(InplaceViews, DetachIsNotAView) {
  // detach() shares memory but a write through it does not enter the base's history.
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor base = a * 2.0;
  Tensor d = base.detach();
  d.zero_();
  EXPECT_EQ(base.grad_fn()->name(), "MulBackward0");
}

// ---- errors -------------------------------------------------------------------------------------------
TEST(InplaceViews, ExpandedViewIsRefused) {
  Tensor base = zeros({1, 4}, float64);
  Tensor s = sample({4, 4}, 0.1);
  Tensor e = base.expand({4, 4});
  EXPECT_THROW_MSG(e.add_(s), ValueError, "more than one element of the written-to tensor refers to a single memory location");
  EXPECT_THROW_MSG(e.copy_(s), ValueError, "more than one element of the written-to tensor refers to a single memory location");
}

TEST(InplaceViews, ViewOfALeafThatRequiresGradIsRefused) {
  Tensor w = sample({3, 3}, 0.5);
  EXPECT_THROW_MSG(w.select(0, 0).mul_(2.0), AutogradError,
                   "a view of a leaf Variable that requires grad is being used in an in-place operation");
  EXPECT_THROW_MSG(w.t().copy_(zeros({3, 3}, float64)), AutogradError, "a view of a leaf Variable");
  NoGradGuard no_grad;  // what optimizers do
  w.select(0, 0).mul_(2.0);
}

TEST(InplaceViews, ViewMadeUnderNoGradIsRefusedWithGradOn) {
  Tensor a = sample({3, 3}, 0.5);
  Tensor base = a * 2.0;
  Tensor v;
  {
    NoGradGuard no_grad;
    v = base.select(0, 1);
  }
  EXPECT_THROW_MSG(v.mul_(2.0), AutogradError, "A view was created in no_grad mode and is being modified inplace");
}

TEST(InplaceViews, VersionCounterStillCatchesHazards) {
  Tensor a = sample({3, 3}, 0.5);
  Tensor y = a.clone();
  Tensor z = y.pow(2);  // saves y
  y.narrow(0, 1, 1).mul_(2.0);
  EXPECT_THROW_MSG(z.sum().backward(), AutogradError,
                   "one of the variables needed for gradient computation has been modified by an inplace operation");
}

TEST(InplaceViews, AsStridedWriteIntoTheRoot) {
  Tensor a = tensor({1.0, 2.0}).requires_grad_();
  Tensor storage = zeros({8}, float64);
  Tensor base = storage.narrow(0, 0, 4);
  // A view of the root (storage) that reaches past `base` is fine: the root is the base.
  storage.as_strided({2}, {1}, 6).copy_(a);
  EXPECT_EQ(storage.grad_fn()->name(), "CopySlices");
}

}  // namespace
}  // namespace ricci
