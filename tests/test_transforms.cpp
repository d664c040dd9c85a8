// Function transforms (include/ricci/transforms.h): values, composition, side effects, errors.
#include "ricci/transforms.h"
#include "test_util.h"

namespace ricci {
namespace {

Tensor vec(std::vector<double> v) { return from_vector(v, {static_cast<int64_t>(v.size())}, float64); }

TEST(Transforms, GradAndValueAndGrad) {
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0] * in[0]).sum(), in[0] * 3}; };  // loss, aux
  const Tensor x = vec({1, -2, 3});
  EXPECT_TRUE(allclose(grad(f)({x})[0], vec({2, -4, 6}), 0, 0));
  auto [values, grads] = value_and_grad(f)({x});
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].item<double>(), 14.0);
  EXPECT_TRUE(allclose(values[1], vec({3, -6, 9}), 0, 0));  // the aux output rides along
  EXPECT_TRUE(allclose(grads[0], vec({2, -4, 6}), 0, 0));
  auto g1 = grad([](const Tensor& t) { return t.sin().sum(); });
  EXPECT_TRUE(allclose(g1(x), x.cos(), 0, 0));
}

TEST(Transforms, ArgnumsPickTheInputs) {
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0] * in[1] * in[1]).sum()}; };
  const Tensor a = vec({1, 2}), b = vec({3, 4});
  const Tensors g = grad(f, {1, 0})({a, b});
  EXPECT_TRUE(allclose(g[0], 2 * a * b, 0, 0));
  EXPECT_TRUE(allclose(g[1], b * b, 0, 0));
}

TEST(Transforms, GradOfGradAndHessian) {
  auto cube = [](const Tensors& in) { return Tensors{in[0].pow(3).sum()}; };
  const Tensor x = vec({0.5, -1.5, 2});
  const TensorFn g = grad(cube);
  const TensorFn gg = grad([g](const Tensors& in) { return Tensors{g(in)[0].sum()}; });
  EXPECT_TRUE(allclose(gg({x})[0], 6 * x, 1e-12, 1e-12));
  const Tensor h = hessian(cube)({x})[0];
  EXPECT_TRUE(allclose(h, diag(6 * x), 1e-12, 1e-12));
}

TEST(Transforms, JvpOfGradIsAHessianVectorProduct) {
  auto f = [](const Tensors& in) { return Tensors{(in[0].sin() * in[0]).sum()}; };
  const Tensor x = vec({0.3, -0.7, 1.1}), v = vec({1, 2, -1});
  const Tensor hvp = jvp(grad(f), {x}, {v}).second[0];
  const Tensor h = hessian(f)({x})[0];
  EXPECT_TRUE(allclose(hvp, matmul(h, v), 1e-12, 1e-12));
}

TEST(Transforms, JacobiansAgree) {
  TensorFn f = [](const Tensors& in) { return Tensors{stack({in[0].prod(), in[0].exp().sum(), in[0][0] * in[0][1]}, 0)}; };
  const Tensor x = vec({0.5, 1.5, -0.5});
  const Tensor jr = jacrev(f)({x})[0], jf = jacfwd(f)({x})[0];
  EXPECT_EQ(jr.shape(), IntArrayRef({3, 3}));
  EXPECT_TRUE(allclose(jr, jf, 1e-12, 1e-12));
  EXPECT_TRUE(allclose(jr.select(0, 1), x.exp(), 1e-12, 1e-12));
}

TEST(Transforms, VjpAndJvpBasics) {
  TensorFn f = [](const Tensors& in) { return Tensors{in[0] * in[1], in[0].exp()}; };
  const Tensor a = vec({1, 2}), b = vec({3, 4});
  auto [outs, cts] = vjp(f, {a, b}, {ones({2}, float64), Tensor()});
  EXPECT_TRUE(allclose(outs[0], a * b, 0, 0));
  EXPECT_TRUE(allclose(cts[0], b, 0, 0));
  EXPECT_TRUE(allclose(cts[1], a, 0, 0));
  auto [outs2, tans] = jvp(f, {a, b}, {ones({2}, float64), Tensor()});
  EXPECT_TRUE(allclose(tans[0], b, 1e-12, 1e-12));
  EXPECT_TRUE(allclose(tans[1], a.exp(), 1e-12, 1e-12));
}

TEST(Transforms, NoSideEffectsOnGradOrGraph) {
  Tensor w = vec({1, 2, 3}).requires_grad_();
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0] * in[0]).sum()}; };
  const Tensor g = grad(f)({w})[0];
  EXPECT_FALSE(w.grad().defined());
  EXPECT_TRUE(allclose(g, 2 * w.detach(), 0, 0));
  // A tape recorded around the transform still differentiates through it (gradients of gradients).
  Tensor s = grad(f)({w})[0].sum();
  s.backward();
  EXPECT_TRUE(allclose(w.grad(), vec({2, 2, 2}), 0, 0));
}

TEST(Transforms, StopGradient) {
  TensorFn f = [](const Tensors& in) { return Tensors{(stop_gradient(in[0]) * in[0]).sum()}; };
  const Tensor x = vec({1, -2});
  EXPECT_TRUE(allclose(grad(f)({x})[0], x, 0, 0));
}

TEST(Transforms, VmapBatchesAndBroadcasts) {
  const Tensor X = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}, float64);
  const Tensor w = vec({10, 20});
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0] * in[1]).sum(), in[1] * 2}; };
  const Tensors r = vmap(f, {0, std::nullopt})({X, w});
  EXPECT_TRUE(allclose(r[0], vec({50, 110, 170}), 0, 0));
  EXPECT_EQ(r[1].shape(), IntArrayRef({3, 2}));  // an output that does not depend on the batch is broadcast
  // Batch axis last, output axis last.
  const Tensors r2 = vmap([](const Tensors& in) { return Tensors{in[0] * 2}; }, {-1}, {-1})({X.t()});
  EXPECT_TRUE(allclose(r2[0], X.t() * 2, 0, 0));
}

TEST(Transforms, PerExampleGradientsWithVmapOfGrad) {
  manual_seed(0);
  const Tensor W = randn({4, 3}, float64), X = randn({5, 4}, float64), Y = randn({5, 3}, float64);
  TensorFn loss = [](const Tensors& in) { return Tensors{(matmul(in[1], in[0]) - in[2]).pow(2).sum()}; };
  const Tensor per = vmap(grad(loss), {std::nullopt, 0, 0})({W, X, Y})[0];
  ASSERT_EQ(per.shape(), IntArrayRef({5, 4, 3}));
  for (int64_t i = 0; i < 5; ++i) {
    const Tensor gi = grad(loss)({W, X[i], Y[i]})[0];
    EXPECT_TRUE(allclose(per[i], gi, 1e-12, 1e-12)) << "example " << i;
  }
}

TEST(Transforms, GradOfVmapAndNestedVmap) {
  const Tensor X = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, float64);
  TensorFn f = [](const Tensors& in) { return Tensors{in[0].exp().sum()}; };
  TensorFn total = [f](const Tensors& in) { return Tensors{vmap(f)(in)[0].sum()}; };
  EXPECT_TRUE(allclose(grad(total)({X})[0], X.exp(), 1e-12, 1e-12));
  TensorFn sq = [](const Tensors& in) { return Tensors{in[0] * in[0] + 1}; };
  EXPECT_TRUE(allclose(vmap(vmap(sq))({X})[0], X * X + 1, 0, 0));
}

TEST(Transforms, WorkInLazyMode) {
  const Tensor x = vec({1, 2, 3});
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0].exp() * in[0]).sum()}; };
  const Tensor eager = grad(f)({x})[0];
  Tensor lazy;
  {
    LazyGuard g;
    lazy = grad(f)({x})[0];
  }
  EXPECT_TRUE(allclose(eager, lazy, 0, 0));
}

TEST(Transforms, CustomVjpUsesTheGivenBackward) {
  // f(x) = x^2 with a deliberately scaled backward: 10 * 2x.
  TensorFn f = custom_vjp([](const Tensors& in) { return Tensors{in[0] * in[0]}; },
                          [](const Tensors& p, const Tensors&, const Tensors& g) { return Tensors{g[0] * p[0] * 20}; });
  const Tensor x = vec({1, 2});
  EXPECT_TRUE(allclose(f({x})[0], x * x, 0, 0));
  TensorFn loss = [f](const Tensors& in) { return Tensors{f(in)[0].sum()}; };
  EXPECT_TRUE(allclose(grad(loss)({x})[0], x * 20, 0, 0));
  Tensor w = x.clone().requires_grad_();
  f({w})[0].sum().backward();
  EXPECT_TRUE(allclose(w.grad(), x * 20, 0, 0));
  TensorFn bad = custom_vjp([](const Tensors& in) { return Tensors{in[0] * 2}; },
                            [](const Tensors&, const Tensors&, const Tensors&) { return Tensors{}; });
  EXPECT_THROW_MSG(grad([bad](const Tensors& in) { return Tensors{bad(in)[0].sum()}; })({x}), ValueError,
                   "[custom_vjp] the vjp function returned 0 cotangents for 1 primals");
}

TEST(Transforms, CheckpointSavesMemoryAndKeepsGradients) {
  manual_seed(0);
  const Tensor x0 = randn({256, 256}, float64);
  TensorFn block = [](const Tensors& in) {
    Tensor y = in[0];
    for (int i = 0; i < 8; ++i) y = (y * 1.01).tanh();  // 16 intermediates of 512 KiB kept for backward
    return Tensors{y};
  };
  auto run = [&](const TensorFn& f, size_t* held) {
    Tensor x = x0.clone().requires_grad_();
    const size_t before = memory_stats().allocated_bytes;
    Tensor loss = f({x})[0].sum();
    *held = memory_stats().allocated_bytes - before;  // what the forward leaves for the backward
    loss.backward();
    return x.grad();
  };
  size_t plain = 0, ckpt = 0;
  const Tensor g_plain = run(block, &plain);
  const Tensor g_ckpt = run(checkpoint(block), &ckpt);
  EXPECT_TRUE(allclose(g_plain, g_ckpt, 0, 0));
  std::printf("memory held between forward and backward: %zu B plain, %zu B checkpointed\n", plain, ckpt);
  EXPECT_LT(ckpt * 4, plain);
}

TEST(Transforms, Errors) {
  TensorFn f = [](const Tensors& in) { return Tensors{in[0] * 2}; };
  const Tensor x = vec({1, 2});
  EXPECT_THROW_MSG(grad(f)({x}), ValueError, "[grad] f must return a scalar");
  EXPECT_THROW_MSG(vjp(f, {x}, {}), ValueError, "[vjp] f returned 1 outputs but 0 cotangents");
  EXPECT_THROW_MSG(vjp(f, {x}, {ones({3}, float64)}), ShapeError, "[vjp] cotangent 0 has shape [3]");
  EXPECT_THROW_MSG(jvp(f, {x}, {}), ValueError, "[jvp] got 0 tangents for 1 primals");
  EXPECT_THROW_MSG(vmap(f)({ones({2, 3}), ones({4})}), ValueError, "[vmap] the mapped axes have different sizes");
  EXPECT_THROW_MSG(vmap(f, {5})({ones({2, 3})}), IndexError, "[vmap] in_axes axis 5");
  EXPECT_THROW_MSG(vmap(f, {std::nullopt})({ones({2})}), ValueError, "[vmap] no input is batched");
  EXPECT_THROW_MSG(grad(f, {3})({x}), IndexError, "[value_and_grad] argnum 3");
  EXPECT_THROW_MSG(grad(f, {})({x}), ValueError, "[grad] argnums is empty");
  EXPECT_THROW_MSG(vmap(f, {0}, {0, 1})({ones({2, 3})}), ValueError, "[vmap] out_axes has 2 entries");
  EXPECT_THROW_MSG(vmap(f, {0}, {std::nullopt})({ones({2, 3})}), ValueError, "[vmap] out_axes 0 is std::nullopt");
  EXPECT_THROW_MSG(vmap(f)({ones({})}), ValueError, "[vmap] in_axes 0 is 0-d");
  EXPECT_THROW_MSG(vmap(f, {0, 0})({ones({2})}), ValueError, "[vmap] in_axes has 2 entries");
  EXPECT_THROW_MSG(jacrev(f, 2)({x}), IndexError, "[jacrev] argnum 2");
  EXPECT_THROW_MSG(jacfwd(f)({ones({2}, int64)}), DTypeError, "[jacfwd] input 0 must be a floating-point tensor");
}

}  // namespace
}  // namespace ricci
