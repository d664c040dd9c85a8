// Parameter trees (include/ricci/tree.h), modules and optimizers as trees, nn::value_and_grad and
// the MLX training loop: value_and_grad + opt.update + eval matches the eager loop bit for bit.
#include "test_util.h"

namespace ricci {
namespace {

TEST(Tree, FlattenUnflattenMap) {
  Tree t(Tree::Dict{{"a", Tree(ones({2}))}, {"b", Tree(Tree::List{Tree(zeros({3})), Tree(full({1}, 5.0))})}});
  const auto named = tree_flatten_named(t);
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named[0].first, "a");
  EXPECT_EQ(named[1].first, "b.0");
  EXPECT_EQ(named[2].first, "b.1");
  const Tree doubled = tree_map([](const Tensor& x) { return x * 2; }, t);
  EXPECT_EQ(doubled["b"][1].tensor().item<float>(), 10.0f);
  const Tree summed = tree_map([](const Tensor& x, const Tensor& y) { return x + y; }, t, doubled);
  EXPECT_EQ(summed["a"].tensor().to_vector<float>(), (std::vector<float>{3, 3}));
  const Tree back = tree_unflatten(t, tree_flatten(doubled));
  EXPECT_EQ(back["a"].tensor().to_vector<float>(), (std::vector<float>{2, 2}));
  EXPECT_THROW_MSG(tree_unflatten(t, {ones({1})}), ValueError, "[tree_unflatten]");
  EXPECT_THROW_MSG(tree_map([](const Tensor& x, const Tensor& y) { return x + y; }, t, Tree(ones({1}))), ValueError,
                   "[tree_map] the trees differ at the root");
  EXPECT_THROW_MSG(std::as_const(t)["zzz"], IndexError, "no key \"zzz\"");
  EXPECT_THROW_MSG(t.tensor(), ValueError, "expected a tensor leaf but this node is a dict");
}

struct TwoLayer : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  TwoLayer() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(6, 5));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(5, 3));
  }
  Tensor forward(const Tensor& x) { return fc2->forward(fc1->forward(x).relu()); }
};

TEST(Tree, ModuleParametersAndUpdate) {
  manual_seed(0);
  TwoLayer m;
  const Tree p = m.parameter_tree();
  ASSERT_TRUE(p.is_dict());
  EXPECT_EQ(p["fc1"]["weight"].tensor().shape(), IntArrayRef({5, 6}));
  EXPECT_EQ(tree_flatten(p).size(), 4u);
  m.fc2->bias.requires_grad_(false);
  EXPECT_EQ(tree_flatten(m.trainable_parameters()).size(), 3u);
  const Tensor w = m.fc1->weight;
  m.update(Tree(Tree::Dict{{"fc1", Tree(Tree::Dict{{"weight", Tree(zeros({5, 6}))}})}}));
  EXPECT_TRUE(w.is_same(m.fc1->weight));  // in place: handles stay valid
  EXPECT_EQ(m.fc1->weight.abs().sum().item<float>(), 0.0f);
  EXPECT_THROW_MSG(m.update(Tree(Tree::Dict{{"fc1", Tree(Tree::Dict{{"weight", Tree(zeros({2}))}})}})), ShapeError,
                   "[update] \"fc1.weight\" has shape [5, 6]");
  EXPECT_THROW(m.update(Tree(Tree::Dict{{"nope", Tree(zeros({2}))}})), IndexError);
}

// The same model trained PyTorch-style (backward + step) and MLX-style (value_and_grad +
// update + eval): identical parameters after every step.
TEST(Tree, MlxStyleLoopMatchesEagerLoop) {
  manual_seed(0);
  TwoLayer a, b;
  b.load_state_dict(a.state_dict());
  optim::AdamW oa(a.parameters(), {.lr = 1e-2}), ob(b.parameters(), {.lr = 1e-2});
  auto loss_and_grad = nn::value_and_grad(b, [&b](const Tensors& in) { return Tensors{F::mse_loss(b.forward(in[0]), in[1])}; });
  for (int step = 0; step < 20; ++step) {
    const Tensor x = randn({4, 6}), y = randn({4, 3});
    oa.zero_grad();
    Tensor la = F::mse_loss(a.forward(x), y);
    la.backward();
    oa.step();

    auto [values, grads] = loss_and_grad({x, y});
    EXPECT_EQ(grads["fc1"]["weight"].tensor().shape(), IntArrayRef({5, 6}));
    ob.update(b, grads);
    eval(b.parameter_tree(), ob.state_tree());
    EXPECT_EQ(la.item<float>(), values[0].item<float>()) << "step " << step;
  }
  for (const auto& [name, t] : a.named_parameters()) EXPECT_TRUE(allclose(t, b.parameter(name), 0, 0)) << name;
  for (const Tensor& p : b.parameters()) EXPECT_FALSE(p.grad().defined());  // update leaves .grad alone
  EXPECT_FALSE(tree_flatten(ob.state_tree()).empty());
}

TEST(Tree, MlxStyleLoopInLazyMode) {
  manual_seed(1);
  TwoLayer m;
  optim::AdamW opt(m.parameters(), {.lr = 1e-2});
  auto loss_and_grad = nn::value_and_grad(m, [&m](const Tensors& in) { return Tensors{F::mse_loss(m.forward(in[0]), in[1])}; });
  const Tensor x = randn({8, 6}), y = randn({8, 3});
  float first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    LazyGuard lazy;
    auto [values, grads] = loss_and_grad({x, y});
    opt.update(m, grads);
    eval(m.parameter_tree(), opt.state_tree());
    last = values[0].item<float>();
    if (step == 0) first = last;
  }
  EXPECT_LT(last, first);
}

// MLX's grad(loss_fn)(params, x, target) over a dict of parameters.
TEST(Tree, GradOverAParameterTree) {
  manual_seed(3);
  const Tree params(Tree::Dict{{"W", Tree(randn({4, 3}, float64))}, {"b", Tree(randn({4}, float64))}});
  const Tensor x = randn({3}, float64), target = randn({4}, float64);
  TreeFn loss_fn = [](const Tree& p, const Tensors& in) {
    return Tensors{(matmul(p["W"].tensor(), in[0]) + p["b"].tensor() - in[1]).pow(2).mean()};
  };
  const Tree g = grad(loss_fn)(params, {x, target});
  const Tensor r = matmul(params["W"].tensor(), x) + params["b"].tensor() - target;  // residual
  EXPECT_TRUE(allclose(g["b"].tensor(), r * 2 / 4, 1e-12, 1e-12));
  EXPECT_TRUE(allclose(g["W"].tensor(), outer(r * 2 / 4, x), 1e-12, 1e-12));
  auto [values, g2] = value_and_grad(loss_fn)(params, {x, target});
  EXPECT_NEAR(values[0].item<double>(), (r * r).mean().item<double>(), 1e-12);
  EXPECT_THROW_MSG(grad(loss_fn)(Tree(Tree::Dict{}), {x, target}), ValueError, "has no tensors");
}

TEST(Tree, OptimizerUpdateErrors) {
  TwoLayer m, other;
  optim::SGD opt(other.parameters(), {.lr = 0.1});
  Tree g(Tree::Dict{{"fc1", Tree(Tree::Dict{{"weight", Tree(zeros({5, 6}))}})}});
  EXPECT_THROW_MSG(opt.update(m, g), ValueError, "is not one of this SGD's parameters");
  optim::SGD mine(m.parameters(), {.lr = 0.1});
  Tree bad(Tree::Dict{{"fc1", Tree(Tree::Dict{{"weight", Tree(zeros({2, 2}))}})}});
  EXPECT_THROW_MSG(mine.update(m, bad), ShapeError, "[update] the gradient for \"fc1.weight\" has shape [2, 2]");
  auto not_scalar = nn::value_and_grad(m, [&m](const Tensors& in) { return Tensors{m.forward(in[0])}; });
  EXPECT_THROW_MSG(not_scalar({ones({2, 6})}), ValueError, "[value_and_grad] the loss function must return a scalar");
}

}  // namespace
}  // namespace ricci
