// What function transforms (include/ricci/transforms.h) cost, on one thread, for a small MLP:
// input 32 -> hidden 64, tanh -> output 10, MSE against a random target; the weights W1 [32, 64],
// b1 [64], W2 [64, 10], b2 [10] are plain float32 tensors, the batch is 64.
//   - BM_PerExampleGradsVmap: per-example gradients w.r.t. all four weights,
//     vmap(grad(loss, {0, 1, 2, 3}), {nullopt x 4, 0, 0});
//   - BM_PerExampleGradsLoop: the same as a loop of 64 grad calls, one per example;
//   - BM_HvpJvpOfGrad: a Hessian-vector product of the batch loss w.r.t. W1, jvp(grad(f));
//   - BM_GradTransform vs BM_EagerBackward: grad(loss, {0, 1, 2, 3}) vs loss.backward() with the
//     weights as leaves that require grad (.grad set to none before each, as zero_grad() does).
// Each case checks its result once, untimed (vmap against the loop, grad against backward, the
// Hessian-vector product against a central difference of gradients).
// bench/run_transforms.sh runs this next to bench/transforms_peers.py (PyTorch, JAX, MLX).
#include <benchmark/benchmark.h>

#include <optional>

#include "ricci/parallel.h"
#include "ricci/ricci.h"
#include "ricci/transforms.h"

namespace {

using namespace ricci;

constexpr int64_t kIn = 32, kHidden = 64, kOut = 10, kBatch = 64;

struct Mlp {
  Tensor W1, b1, W2, b2, X, Y;
  Mlp() {
    set_num_threads(1);
    manual_seed(0);
    W1 = randn({kIn, kHidden}) * (1.0 / std::sqrt(double(kIn)));
    b1 = randn({kHidden}) * 0.1;
    W2 = randn({kHidden, kOut}) * (1.0 / std::sqrt(double(kHidden)));
    b2 = randn({kOut}) * 0.1;
    X = randn({kBatch, kIn});
    Y = randn({kBatch, kOut});
  }
  Tensors inputs() const { return {W1, b1, W2, b2, X, Y}; }
};

// The loss of one example (x [32], y [10]) or of a batch (x [B, 32], y [B, 10]): the mean over
// all its elements of (out - y)^2.
Tensor mlp_loss(const Tensor& W1, const Tensor& b1, const Tensor& W2, const Tensor& b2, const Tensor& x,
                const Tensor& y) {
  const Tensor h = (matmul(x, W1) + b1).tanh();
  return (matmul(h, W2) + b2 - y).pow(2).mean();
}

Tensors loss_fn(const Tensors& in) { return {mlp_loss(in[0], in[1], in[2], in[3], in[4], in[5])}; }

bool close(const Tensor& a, const Tensor& b, double rtol = 1e-4, double atol = 1e-6) {
  return a.shape() == b.shape() && allclose(a, b, rtol, atol);
}

Tensors per_example_loop(const TensorFn& g, const Mlp& m) {
  Tensors dW1, db1, dW2, db2;
  for (int64_t i = 0; i < kBatch; ++i) {
    Tensors gi = g({m.W1, m.b1, m.W2, m.b2, m.X[i], m.Y[i]});
    dW1.push_back(gi[0]);
    db1.push_back(gi[1]);
    dW2.push_back(gi[2]);
    db2.push_back(gi[3]);
  }
  return {stack(dW1, 0), stack(db1, 0), stack(dW2, 0), stack(db2, 0)};
}

void BM_PerExampleGradsVmap(benchmark::State& state) {
  const Mlp m;
  const TensorFn per = vmap(grad(loss_fn, {0, 1, 2, 3}),
                            {std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, 0});
  {  // Untimed: the same gradients as the loop.
    const Tensors got = per(m.inputs()), want = per_example_loop(grad(loss_fn, {0, 1, 2, 3}), m);
    for (size_t k = 0; k < 4; ++k)
      if (!close(got[k], want[k])) {
        state.SkipWithError("vmap(grad): per-example gradients differ from the loop's");
        return;
      }
  }
  for (auto _ : state) {
    Tensors g = per(m.inputs());
    benchmark::DoNotOptimize(g);
  }
}
BENCHMARK(BM_PerExampleGradsVmap)->Unit(benchmark::kMicrosecond);

// Not one of the compared cases: the same per-example gradients with each example's x and y
// lifted to rows ([1, 32], [1, 10]) inside the loss. vmap's matmul rule batches only operands of
// rank >= 2 per example; a vector x (as above) sends matmul to the per-example fallback (select,
// run, stack), whose backward through select writes a full-batch zero tensor per example. This
// shows what that fallback costs.
void BM_PerExampleGradsVmapRowInput(benchmark::State& state) {
  const Mlp m;
  const TensorFn row_loss = [](const Tensors& in) {
    return Tensors{mlp_loss(in[0], in[1], in[2], in[3], in[4].unsqueeze(-2), in[5].unsqueeze(-2))};
  };
  const TensorFn per = vmap(grad(row_loss, {0, 1, 2, 3}),
                            {std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, 0});
  {
    const Tensors got = per(m.inputs()), want = per_example_loop(grad(loss_fn, {0, 1, 2, 3}), m);
    for (size_t k = 0; k < 4; ++k)
      if (!close(got[k], want[k])) {
        state.SkipWithError("vmap(grad) with row inputs: per-example gradients differ from the loop's");
        return;
      }
  }
  for (auto _ : state) {
    Tensors g = per(m.inputs());
    benchmark::DoNotOptimize(g);
  }
}
BENCHMARK(BM_PerExampleGradsVmapRowInput)->Unit(benchmark::kMicrosecond);

void BM_PerExampleGradsLoop(benchmark::State& state) {
  const Mlp m;
  const TensorFn g = grad(loss_fn, {0, 1, 2, 3});
  for (auto _ : state) {
    Tensors r = per_example_loop(g, m);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PerExampleGradsLoop)->Unit(benchmark::kMicrosecond);

void BM_HvpJvpOfGrad(benchmark::State& state) {
  const Mlp m;
  const Tensor v = randn({kIn, kHidden});
  // The batch loss as a function of W1 alone; its gradient; H v = jvp of the gradient along v.
  const TensorFn f = [&m](const Tensors& in) { return Tensors{mlp_loss(in[0], m.b1, m.W2, m.b2, m.X, m.Y)}; };
  const TensorFn g = grad(f);
  {  // Untimed: against a central difference of gradients, in float64.
    const Tensor W = m.W1.to(float64), vd = v.to(float64);
    const TensorFn f64 = [&m](const Tensors& in) {
      return Tensors{mlp_loss(in[0], m.b1.to(float64), m.W2.to(float64), m.b2.to(float64), m.X.to(float64),
                              m.Y.to(float64))};
    };
    const double eps = 1e-5;
    const Tensor fd = (grad(f64)({W + vd * eps})[0] - grad(f64)({W - vd * eps})[0]) / (2 * eps);
    const Tensor hv = jvp(g, {m.W1}, {v}).second[0];
    if (!close(hv.to(float64), fd, 1e-3, 1e-5)) {
      state.SkipWithError("jvp(grad): Hessian-vector product differs from a difference of gradients");
      return;
    }
  }
  for (auto _ : state) {
    auto r = jvp(g, {m.W1}, {v});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_HvpJvpOfGrad)->Unit(benchmark::kMicrosecond);

void BM_GradTransform(benchmark::State& state) {
  const Mlp m;
  const TensorFn g = grad(loss_fn, {0, 1, 2, 3});
  for (auto _ : state) {
    Tensors r = g(m.inputs());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_GradTransform)->Unit(benchmark::kMicrosecond);

void BM_EagerBackward(benchmark::State& state) {
  const Mlp m;
  Tensors w = {m.W1.detach(), m.b1.detach(), m.W2.detach(), m.b2.detach()};
  for (Tensor& t : w) t.requires_grad_();
  {  // Untimed: the same gradients as grad(f).
    mlp_loss(w[0], w[1], w[2], w[3], m.X, m.Y).backward();
    const Tensors want = grad(loss_fn, {0, 1, 2, 3})(m.inputs());
    for (size_t k = 0; k < 4; ++k)
      if (!close(w[k].grad(), want[k], 1e-5, 1e-7)) {
        state.SkipWithError("backward(): gradients differ from grad(f)'s");
        return;
      }
  }
  for (auto _ : state) {
    for (Tensor& t : w) t.set_grad(Tensor());
    Tensor loss = mlp_loss(w[0], w[1], w[2], w[3], m.X, m.Y);
    loss.backward();
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_EagerBackward)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
