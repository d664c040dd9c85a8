// The autograd engine: the lesson's worked DAG, accumulation, higher derivatives, graph
// inspection, leaves and detaching, and the errors users meet.
#include <functional>
#include <stdexcept>

#include "test_util.h"

namespace ricci {
namespace {

using autograd::Tensors;

// A float64 scalar leaf that requires grad.
Tensor leaf(double v) {
  Tensor t = scalar_tensor(v, float64);
  t.requires_grad_();
  return t;
}

double val(const Tensor& t) { return t.item<double>(); }

// ---- the lesson's acceptance ------------------------------------------------------------------

TEST(Autograd, WorkedDagSquare) {
  // c = a·b, d = a+b, e = c·d, L = e²: a is used twice (in c and d), so its gradient sums two paths.
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b, d = a + b, e = c * d, L = e.pow(2);
  EXPECT_DOUBLE_EQ(val(L), 900);
  L.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 1260);  // dL/de = 60; via c: 60·d·b = 900, via d: 60·c = 360
  EXPECT_DOUBLE_EQ(val(b.grad()), 960);   // via c: 60·d·a = 600, via d: 360
}

TEST(Autograd, WorkedDagCube) {
  // L = e³: dL/de = 3e² = 2700; dL/da = 2700·(d·b + c) = 2700·21, dL/db = 2700·(d·a + c) = 2700·16.
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b, d = a + b, e = c * d, L = e.pow(3);
  EXPECT_DOUBLE_EQ(val(L), 27000);
  L.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 56700);
  EXPECT_DOUBLE_EQ(val(b.grad()), 43200);
}

TEST(Autograd, IntermediateGradsWithRetainGrad) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b, d = a + b, e = c * d, L = e.pow(2);
  c.retain_grad();
  d.retain_grad();
  e.retain_grad();
  EXPECT_TRUE(e.retains_grad());
  EXPECT_FALSE(L.retains_grad());
  L.backward();
  EXPECT_DOUBLE_EQ(val(e.grad()), 60);
  EXPECT_DOUBLE_EQ(val(c.grad()), 300);
  EXPECT_DOUBLE_EQ(val(d.grad()), 360);
  EXPECT_FALSE(L.grad().defined());  // non-leaf without retain_grad
}

TEST(Autograd, SimplePolynomial) {
  Tensor x = leaf(2);
  Tensor y = x * x + x;
  y.backward();
  EXPECT_DOUBLE_EQ(val(x.grad()), 5);
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsUntilReset) {
  Tensor x = leaf(2);
  (x * x + x).backward();
  (x * x + x).backward();
  EXPECT_DOUBLE_EQ(val(x.grad()), 10);
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  (x * x + x).backward();
  EXPECT_DOUBLE_EQ(val(x.grad()), 5);
}

TEST(Autograd, AccumulatedGradIsOwnedNotAnAliasOfTheIncomingGradient) {
  // d(sum(x))/dx arrives as an expanded ones tensor; .grad must own its memory so that an
  // optimizer's in-place update cannot write through to something else.
  Tensor x = zeros({3}, float64);
  x.requires_grad_();
  x.sum().backward();
  Tensor g = x.grad();
  EXPECT_TRUE(g.is_contiguous());
  for (int64_t s : g.strides()) EXPECT_NE(s, 0);
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{1, 1, 1}));
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor L = (a * b * (a + b)).pow(2);
  L.backward(Tensor(), /*retain_graph=*/true);
  L.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 2 * 1260);
  EXPECT_DOUBLE_EQ(val(b.grad()), 2 * 960);
}

TEST(Autograd, NonScalarBackwardTakesAGradient) {
  Tensor x = tensor({1., 2., 3.}, float64);
  x.requires_grad_();
  Tensor y = x * x;
  y.backward(tensor({1., 10., 100.}, float64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 40, 600}));
}

TEST(Autograd, FreeBackwardWithSeveralRootsAndInputs) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor u = a * b, v = a + b;
  autograd::backward({u, v}, {scalar_tensor(1.0, float64), scalar_tensor(2.0, float64)}, false, false, {a});
  EXPECT_DOUBLE_EQ(val(a.grad()), 3 + 2);  // du/da·1 + dv/da·2
  EXPECT_FALSE(b.grad().defined());        // not listed in inputs
}

TEST(Autograd, DeepGraphIsFreedWithoutRecursion) {
  // A million-op chain: freeing it node by node through nested destructors would overflow the
  // stack (Note [Freeing deep graphs] in src/autograd/node.cpp).
  Tensor x = scalar_tensor(1.0, float32);
  x.requires_grad_();
  Tensor one = scalar_tensor(1.0, float32);
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = (i & 1) ? y + one : y * one;
  y.backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 1.0f);
  y = Tensor();  // frees the graph (a graph never walked by backward: the next test)
  SUCCEED();
}

TEST(Autograd, MillionNodeChainFreesWithoutBackward) {
  // Issue 16: a 1,000,000-node chain, never walked by backward, so every node still holds its
  // saved input (whose grad_fn is the node before): dropping the root must free it with a loop,
  // not 1,000,000 nested destructors. Mixed node kinds: binary (two edges), unary, and a
  // broadcasting add whose vjp closure lives on the heap.
  Tensor x = scalar_tensor(0.5, float32).reshape({1});
  x.requires_grad_();
  Tensor row = zeros({}, float32);  // 0-d: y + row broadcasts
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) {
    switch (i % 4) {
      case 0: y = y * x; break;
      case 1: y = y.neg(); break;
      case 2: y = y + row; break;
      default: y = y - x; break;
    }
  }
  EXPECT_TRUE(y.requires_grad());
  y = Tensor();
  // x's accumulator outlived every node that pointed at it: the leaf is intact and usable.
  Tensor z = x * 3;
  z.sum().backward();
  EXPECT_FLOAT_EQ(x.grad().item<float>(), 3.0f);
}

TEST(Autograd, NodesWithMoreEdgesAndSavedTensorsThanFitInline) {
  // A node keeps two edges, one output and three saved tensors inline and spills beyond.
  Tensors xs;
  for (int i = 0; i < 5; ++i) {
    xs.push_back(full({1}, i + 1.0, float64));
    xs.back().requires_grad_();
  }
  Tensor c = cat(xs);
  ASSERT_EQ(c.grad_fn()->next_functions().size(), 5u);
  for (const autograd::Edge& e : c.grad_fn()->next_functions()) EXPECT_TRUE(e.is_valid());
  (c * tensor({1., 2., 3., 4., 5.}, float64)).sum().backward();
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(val(xs[static_cast<size_t>(i)].grad().sum()), i + 1.0) << i;
  // Five saved values through the run-time form of record().
  Tensor a = leaf(2), b = leaf(3), out = (a * b).detach();
  std::vector<Tensor*> outs{&out};
  std::vector<const Tensor*> saved{&a, &b, &a, &b, &a};
  autograd::record("FiveSaved", std::vector<const Tensor*>{&a, &b}, outs, saved, {}, [](const autograd::VjpArgs& g) {
    EXPECT_EQ(g.saved.size(), 5u);
    return Tensors{g.grads[0] * g.saved[1], g.grads[0] * g.saved[4]};
  });
  out.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 3);
  EXPECT_DOUBLE_EQ(val(b.grad()), 2);
}

// ---- higher derivatives -------------------------------------------------------------------------

TEST(Autograd, SecondDerivativeOfCube) {
  Tensor x = leaf(2);
  Tensor y = x.pow(3);
  Tensor dy = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  EXPECT_DOUBLE_EQ(val(dy), 12);  // 3x²
  EXPECT_TRUE(dy.requires_grad());
  Tensor d2y = autograd::grad({dy}, {x})[0];
  EXPECT_DOUBLE_EQ(val(d2y), 12);  // 6x
}

TEST(Autograd, ThirdDerivativeOfCubeThroughBackwardCreateGraph) {
  Tensor x = leaf(2);
  x.pow(3).backward(Tensor(), false, /*create_graph=*/true);
  Tensor g = x.grad();
  EXPECT_TRUE(g.requires_grad());
  Tensor g2 = autograd::grad({g}, {x}, {}, std::nullopt, true)[0];
  Tensor g3 = autograd::grad({g2}, {x})[0];
  EXPECT_DOUBLE_EQ(val(g2), 12);
  EXPECT_DOUBLE_EQ(val(g3), 6);
  x.set_grad(Tensor());  // a create_graph .grad refers back to its leaf: clearing it frees the graph
}

TEST(Autograd, SecondDerivativeOfTanh) {
  const double x0 = 0.7;
  Tensor x = leaf(x0);
  Tensor y = x.tanh();
  Tensor dy = autograd::grad({y}, {x}, {}, std::nullopt, true)[0];
  Tensor d2y = autograd::grad({dy}, {x})[0];
  const double t = std::tanh(x0);
  EXPECT_NEAR(val(dy), 1 - t * t, 1e-12);
  EXPECT_NEAR(val(d2y), -2 * t * (1 - t * t), 1e-12);
}

// ---- autograd::grad ----------------------------------------------------------------------------

TEST(Autograd, GradLeavesDotGradUntouched) {
  Tensor a = leaf(2), b = leaf(3);
  Tensors g = autograd::grad({a * b}, {a, b});
  EXPECT_DOUBLE_EQ(val(g[0]), 3);
  EXPECT_DOUBLE_EQ(val(g[1]), 2);
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(Autograd, GradWithRespectToAnIntermediate) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b;
  Tensor L = c * c;
  EXPECT_DOUBLE_EQ(val(autograd::grad({L}, {c})[0]), 12);  // 2c
}

TEST(Autograd, GradUnusedInputThrowsUnlessAllowed) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor y = a * a;
  EXPECT_THROW_MSG(autograd::grad({y}, {a, b}, {}, true), AutogradError, "appears to not have been used in the graph");
  Tensors g = autograd::grad({y}, {a, b}, {}, false, false, /*allow_unused=*/true);
  EXPECT_DOUBLE_EQ(val(g[0]), 4);
  EXPECT_FALSE(g[1].defined());
}

TEST(Autograd, GradOfInputNotRequiringGradThrows) {
  Tensor a = leaf(2);
  Tensor n = scalar_tensor(1.0, float64);
  EXPECT_THROW_MSG(autograd::grad({a * n}, {n}), AutogradError, "does not require grad");
}

// ---- the graph ---------------------------------------------------------------------------------

TEST(Autograd, GradFnNamesAndNextFunctions) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b, d = a + b, e = c * d, L = e.pow(2);
  ASSERT_TRUE(c.grad_fn());
  EXPECT_EQ(c.grad_fn()->name(), "MulBackward0");
  EXPECT_EQ(d.grad_fn()->name(), "AddBackward0");
  EXPECT_EQ(L.grad_fn()->name(), "PowBackward0");
  const auto& next = e.grad_fn()->next_functions();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].node, c.grad_fn());
  EXPECT_EQ(next[1].node, d.grad_fn());
  const auto& leaves = c.grad_fn()->next_functions();
  ASSERT_EQ(leaves.size(), 2u);
  EXPECT_EQ(leaves[0].node->name(), "AccumulateGrad");
  EXPECT_EQ(leaves[1].node->name(), "AccumulateGrad");
  // One accumulator per leaf, shared by every op that uses it.
  EXPECT_EQ(leaves[0].node, d.grad_fn()->next_functions()[0].node);
  EXPECT_NE(leaves[0].node, leaves[1].node);
  EXPECT_TRUE(leaves[0].node->next_functions().empty());
}

TEST(Autograd, InputNotRequiringGradHasNoEdge) {
  Tensor a = leaf(2);
  Tensor k = scalar_tensor(5.0, float64);
  Tensor y = a * k;
  ASSERT_EQ(y.grad_fn()->next_functions().size(), 2u);
  EXPECT_TRUE(y.grad_fn()->next_functions()[0].is_valid());
  EXPECT_FALSE(y.grad_fn()->next_functions()[1].is_valid());
  y.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 5);
  EXPECT_FALSE(k.grad().defined());
}

TEST(Autograd, LeavesAndRequiresGrad) {
  Tensor a = leaf(2);
  Tensor plain = scalar_tensor(1.0, float64);
  EXPECT_TRUE(a.is_leaf());
  EXPECT_TRUE(plain.is_leaf());
  EXPECT_FALSE(plain.requires_grad());
  Tensor y = a * plain;
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  Tensor z = plain * plain;
  EXPECT_TRUE(z.is_leaf());
  EXPECT_FALSE(z.requires_grad());
  EXPECT_FALSE(z.grad_fn());
}

TEST(Autograd, IntegerResultsRecordNothing) {
  Tensor a = tensor({1., -2.}, float64);
  a.requires_grad_();
  Tensor mask = a > 0.0;
  EXPECT_FALSE(mask.requires_grad());
  EXPECT_FALSE(mask.grad_fn());
}

TEST(Autograd, RequiresGradOnIntegerTensorThrows) {
  Tensor i = tensor({1, 2, 3});
  EXPECT_THROW_MSG(i.requires_grad_(), AutogradError, "only Tensors of floating point dtype can require gradients");
  Tensor b = tensor({true, false});
  EXPECT_THROW_MSG(b.requires_grad_(), AutogradError, "floating point");
}

TEST(Autograd, RequiresGradFalseOnNonLeafThrows) {
  Tensor a = leaf(2);
  Tensor y = a * a;
  EXPECT_THROW_MSG(y.requires_grad_(false), AutogradError, "you can only change requires_grad flags of leaf variables");
}

TEST(Autograd, RetainGradOnTensorNotRequiringGradThrows) {
  Tensor plain = scalar_tensor(1.0, float64);
  EXPECT_THROW_MSG(plain.retain_grad(), AutogradError, "can't retain_grad on Tensor that has requires_grad=False");
}

TEST(Autograd, DetachCutsTheGraphAndSharesStorage) {
  Tensor a = leaf(2);
  Tensor y = a * a;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_FALSE(d.grad_fn());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.shares_storage_with(y));
  // Using the detached value is a constant: the gradient only flows through y.
  (y * d).backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 2 * 2 * 4);  // d(y)/da · d = 4 · 4
}

TEST(Autograd, DetachInPlace) {
  Tensor a = leaf(2);
  Tensor y = a * a;
  y.detach_();
  EXPECT_TRUE(y.is_leaf());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_FALSE(y.grad_fn());
  EXPECT_THROW_MSG(y.backward(), AutogradError, "element 0 of tensors does not require grad");
}

// ---- errors ------------------------------------------------------------------------------------

TEST(Autograd, ImplicitGradOnlyForScalars) {
  Tensor x = tensor({1., 2.}, float64);
  x.requires_grad_();
  EXPECT_THROW_MSG((x * x).backward(), AutogradError, "grad can be implicitly created only for scalar outputs");
}

TEST(Autograd, BackwardOfTensorNotRequiringGrad) {
  Tensor x = scalar_tensor(1.0, float64);
  EXPECT_THROW_MSG((x * x).backward(), AutogradError, "element 0 of tensors does not require grad");
}

TEST(Autograd, GradientShapeMismatch) {
  Tensor x = tensor({1., 2.}, float64);
  x.requires_grad_();
  EXPECT_THROW_MSG((x * x).backward(tensor({1., 2., 3.}, float64)), ShapeError, "Mismatch in shape");
}

TEST(Autograd, BackwardTwiceWithoutRetainGraph) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor y = a * b;
  y.backward();
  EXPECT_THROW_MSG(y.backward(), AutogradError, "Trying to backward through the graph a second time");
  EXPECT_THROW_MSG(y.backward(), AutogradError, "retain_graph=true");
}

TEST(Autograd, InplaceOnSavedTensorIsCaught) {
  Tensor a = leaf(2);
  Tensor w = scalar_tensor(3.0, float64);
  Tensor y = a * w;  // saves w for dy/da
  w.add_(1.0);
  EXPECT_THROW_MSG(y.backward(), AutogradError,
                   "one of the variables needed for gradient computation has been modified by an inplace operation");
  Tensor a2 = leaf(2);
  Tensor w2 = scalar_tensor(3.0, float64);
  Tensor y2 = a2 * w2;
  w2.mul_(2.0);
  EXPECT_THROW_MSG(y2.backward(), AutogradError, "is at version 1; expected version 0");
}

TEST(Autograd, InplaceOnSavedOutputIsCaught) {
  Tensor x = tensor({0.5, -1.}, float64);
  x.requires_grad_();
  Tensor y = x.exp();  // saves its output
  y.mul_(2.0);
  EXPECT_THROW_MSG(y.sum().backward(), AutogradError, "modified by an inplace operation");
}

TEST(Autograd, InplaceOnLeafRequiringGradThrows) {
  Tensor a = leaf(2);
  EXPECT_THROW_MSG(a.add_(1.0), AutogradError, "a leaf Variable that requires grad is being used in an in-place operation");
  EXPECT_DOUBLE_EQ(val(a), 2);
  {
    NoGradGuard no_grad;  // what optimizers do
    a.add_(1.0);
  }
  EXPECT_DOUBLE_EQ(val(a), 3);
}

TEST(Autograd, InplaceOnNonLeafIsRecorded) {
  Tensor a = leaf(2);
  Tensor y = a * 3.0;
  y.add_(1.0);
  y.mul_(a);  // y = (3a + 1)·a
  y.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 6 * 2 + 1);
}

TEST(Autograd, VersionCounterTicksOnInplace) {
  Tensor w = scalar_tensor(3.0, float64);
  const uint32_t v0 = w.version();
  w.add_(1.0);
  EXPECT_EQ(w.version(), v0 + 1);
  Tensor view = w.view({1});
  view.mul_(2.0);
  EXPECT_EQ(w.version(), v0 + 2);  // shared by views of one storage
}

// ---- grad modes --------------------------------------------------------------------------------

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor a = leaf(2);
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(is_grad_enabled());
    Tensor y = a * a;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_FALSE(y.grad_fn());
    {
      autograd::EnableGradGuard enable;
      Tensor z = a * a;
      EXPECT_TRUE(z.grad_fn());
    }
    EXPECT_FALSE(is_grad_enabled());
  }
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_TRUE((a * a).grad_fn());
}

TEST(Autograd, NoGradStillTicksVersions) {
  Tensor w = scalar_tensor(3.0, float64);
  const uint32_t v0 = w.version();
  {
    NoGradGuard no_grad;
    w.add_(1.0);
  }
  EXPECT_EQ(w.version(), v0 + 1);
}

TEST(Autograd, InferenceModeRecordsNothingAndMarksTensors) {
  Tensor a = leaf(2);
  Tensor y;
  {
    InferenceMode guard;
    EXPECT_TRUE(autograd::is_inference_mode_enabled());
    EXPECT_FALSE(is_grad_enabled());
    y = a * a;
    EXPECT_FALSE(y.grad_fn());
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_inference());
    const uint32_t v0 = y.version();
    y.add_(1.0);
    EXPECT_EQ(y.version(), v0);  // no version tracking for inference tensors
  }
  EXPECT_FALSE(autograd::is_inference_mode_enabled());
  EXPECT_TRUE(is_grad_enabled());
  EXPECT_DOUBLE_EQ(val(y), 5);  // readable afterwards
  EXPECT_FALSE(a.is_inference());
}

TEST(Autograd, InferenceTensorsCannotBeSavedForBackward) {
  Tensor a = leaf(2);
  Tensor y;
  {
    InferenceMode guard;
    y = scalar_tensor(3.0, float64);
  }
  EXPECT_THROW_MSG(a * y, AutogradError, "Inference tensors cannot be saved for backward");
  Tensor ok = a * y.clone();  // a clone is a normal tensor
  ok.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 3);
}

TEST(Autograd, InferenceModeDisabledIsANoOp) {
  InferenceMode guard(false);
  EXPECT_FALSE(autograd::is_inference_mode_enabled());
  EXPECT_TRUE(is_grad_enabled());
}

TEST(Autograd, RequiresGradOnInferenceTensorOutsideThrows) {
  Tensor y;
  {
    InferenceMode guard;
    y = scalar_tensor(3.0, float64);
  }
  EXPECT_THROW_MSG(y.requires_grad_(), AutogradError, "Setting requires_grad=True on inference tensor outside InferenceMode");
}

TEST(Autograd, BackwardInsideInferenceModeThrows) {
  Tensor a = leaf(2);
  Tensor y = a * a;
  InferenceMode guard;
  EXPECT_THROW_MSG(y.backward(), AutogradError, "InferenceMode");
}

// ---- hooks -------------------------------------------------------------------------------------

TEST(Autograd, LeafHookModifiesGradientAndCanBeRemoved) {
  Tensor a = leaf(2);
  int calls = 0;
  Tensor::HookHandle h = a.register_hook([&calls](const Tensor& g) {
    ++calls;
    return g * 10.0;
  });
  (a * 3.0).backward();
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(val(a.grad()), 30);
  h.remove();
  a.set_grad(Tensor());
  (a * 3.0).backward();
  EXPECT_EQ(calls, 1);
  EXPECT_DOUBLE_EQ(val(a.grad()), 3);
}

TEST(Autograd, NonLeafHookChangesWhatFlowsUpstream) {
  Tensor a = leaf(2);
  Tensor c = a * 3.0;
  Tensor seen;
  c.register_hook([&seen](const Tensor& g) {
    seen = g.detach().clone();
    return g * 2.0;
  });
  (c * c).backward();  // dL/dc = 2c = 12, doubled by the hook, times dc/da = 3
  EXPECT_DOUBLE_EQ(val(seen), 12);
  EXPECT_DOUBLE_EQ(val(a.grad()), 72);
}

TEST(Autograd, ObservingHookReturnsUndefined) {
  Tensor a = leaf(2);
  double seen = 0;
  a.register_hook([&seen](const Tensor& g) {
    seen = g.item<double>();
    return Tensor();
  });
  (a * 4.0).backward();
  EXPECT_DOUBLE_EQ(seen, 4);
  EXPECT_DOUBLE_EQ(val(a.grad()), 4);
}

TEST(Autograd, HookOnTensorNotRequiringGradThrows) {
  Tensor plain = scalar_tensor(1.0, float64);
  EXPECT_THROW_MSG(plain.register_hook([](const Tensor& g) { return g; }), AutogradError,
                   "cannot register a hook on a tensor that doesn't require gradient");
}

TEST(Autograd, RemovingAHookAfterTheGraphIsGoneIsHarmless) {
  Tensor::HookHandle h;
  {
    Tensor a = leaf(2);
    Tensor c = a * 3.0;
    h = c.register_hook([](const Tensor& g) { return g; });
  }
  h.remove();
  SUCCEED();
}

// ---- the walk's bookkeeping (Note [Backward slots] in src/autograd/engine.cpp) ------------------

TEST(Autograd, APassCutShortLeavesTheGraphReadyForTheNextOne) {
  // The first pass throws with nodes stamped and not run; the next pass gets the same pass id
  // back, so a stamp left behind would read as its own and point into a table it never filled.
  Tensor a = leaf(2);
  Tensor c = a * 3.0;
  Tensor d = c * c;
  bool fail = true;
  c.register_hook([&fail](const Tensor& g) {
    if (fail) throw std::runtime_error("hook failed");
    return g;
  });
  EXPECT_THROW(d.backward(Tensor(), /*retain_graph=*/true), std::runtime_error);
  EXPECT_FALSE(a.grad().defined());
  fail = false;
  d.backward();
  EXPECT_DOUBLE_EQ(val(a.grad()), 36);  // dd/dc = 2c = 12, times dc/da = 3
}

TEST(Autograd, BackwardInsideAHookThroughNodesTheOuterPassHolds) {
  // The inner pass meets the leaf's accumulator while the outer pass holds it (found through the
  // inner pass's own table) and c's node, which the outer pass is running (stamped afresh).
  Tensor a = leaf(2);
  Tensor c = a * 3.0;
  Tensor d = c * c;
  Tensor inner;
  bool nested = false;
  c.register_hook([&](const Tensor& g) {
    if (nested) return g;  // the inner pass runs this hook too
    nested = true;
    autograd::EnableGradGuard record;  // hooks run with grad mode off (no create_graph)
    inner = autograd::grad({c * 5.0}, {a}, {}, /*retain_graph=*/true)[0];
    return g;
  });
  d.backward();
  ASSERT_TRUE(inner.defined());
  EXPECT_DOUBLE_EQ(val(inner), 15);
  EXPECT_DOUBLE_EQ(val(a.grad()), 36);
}

TEST(Autograd, MorePassesAtOnceThanPassIds) {
  // 300 passes nested through hooks, each alive while the next runs: past the 255 pass ids, a
  // pass keeps every node in its own table. Every level still gets its gradient.
  constexpr int kDepth = 300;
  int correct = 0;
  std::function<void(int)> nest = [&](int level) {
    autograd::EnableGradGuard record;  // hooks run with grad mode off
    Tensor x = leaf(1);
    Tensor y = x * 2.0;
    if (level + 1 < kDepth) {
      y.register_hook([&nest, level](const Tensor& g) {
        nest(level + 1);
        return g;
      });
    }
    (y * y).backward();
    if (x.grad().defined() && val(x.grad()) == 8) ++correct;  // 2y * 2
  };
  nest(0);
  EXPECT_EQ(correct, kDepth);
  Tensor z = leaf(3);
  (z * z).backward();  // every id was given back
  EXPECT_DOUBLE_EQ(val(z.grad()), 6);
}

// ---- broadcasting and dtypes in backward -------------------------------------------------------

TEST(Autograd, BroadcastInputsGetGradientsOfTheirShape) {
  Tensor a = ones({3, 1}, float64);
  Tensor b = ones({1, 4}, float64);
  a.requires_grad_();
  b.requires_grad_();
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().shape(), IntArrayRef({3, 1}));
  EXPECT_EQ(b.grad().shape(), IntArrayRef({1, 4}));
  EXPECT_EQ(a.grad().to_vector<double>(), std::vector<double>(3, 4.0));
  EXPECT_EQ(b.grad().to_vector<double>(), std::vector<double>(4, 3.0));
}

TEST(Autograd, MixedPrecisionGradientsKeepTheLeafDtype) {
  Tensor a = scalar_tensor(2.0, float32);
  a.requires_grad_();
  Tensor b = scalar_tensor(3.0, float64);
  b.requires_grad_();
  (a * b).backward();  // computed in float64
  EXPECT_EQ(a.grad().dtype(), float32);
  EXPECT_EQ(b.grad().dtype(), float64);
  EXPECT_DOUBLE_EQ(val(a.grad()), 3);
}

}  // namespace
}  // namespace ricci
