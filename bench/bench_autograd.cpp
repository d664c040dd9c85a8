// What the autograd machinery costs per op: a tiny add without and with a graph, under the two
// no-graph guards; one mul + backward; and a 100k-op scalar graph built, walked and freed.
// bench/torch_autograd.sh runs the same cases against libtorch and prints the ratios.
#include <benchmark/benchmark.h>

#include <chrono>

#include "ricci/ricci.h"

namespace {

using namespace ricci;

Tensor one(double v, bool requires_grad) {
  Tensor t = scalar_tensor(v, float32).reshape({1});
  t = t.detach();
  if (requires_grad) t.requires_grad_();
  return t;
}

void add_tiny_nograd(benchmark::State& state) {
  Tensor a = one(1, false), b = one(2, false);
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(add_tiny_nograd);

void add_tiny_requires_grad(benchmark::State& state) {
  Tensor a = one(1, true), b = one(2, false);
  for (auto _ : state) benchmark::DoNotOptimize(a + b);  // records AddBackward0 every time
}
BENCHMARK(add_tiny_requires_grad);

void add_tiny_no_grad_guard(benchmark::State& state) {
  Tensor a = one(1, true), b = one(2, false);
  NoGradGuard guard;
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(add_tiny_no_grad_guard);

void add_tiny_inference_mode(benchmark::State& state) {
  Tensor a = one(1, true), b = one(2, false);
  InferenceMode guard;
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(add_tiny_inference_mode);

void mul_backward_tiny(benchmark::State& state) {
  Tensor a = one(1, true), b = one(2, true);
  for (auto _ : state) {
    (a * b).sum().backward();
    // Keep .grad from growing a sum chain: drop it each time, as zero_grad(set_to_none) does.
    a.set_grad(Tensor());
    b.set_grad(Tensor());
  }
}
BENCHMARK(mul_backward_tiny);

// The 100k-op scalar graph, alternating mul and add. Each phase is timed on its own (manual
// time), so "forward", "backward" and "free" read as microseconds per op of that phase.
constexpr int kGraphOps = 100000;
enum class Phase { Forward, Backward, Free };

void scalar_graph(benchmark::State& state, Phase phase) {
  Tensor x = one(1, true);
  Tensor m = one(1, false), c = one(0, false);
  using clock = std::chrono::steady_clock;
  for (auto _ : state) {
    auto t0 = clock::now();
    Tensor y = x;
    for (int i = 0; i < kGraphOps; ++i) y = (i & 1) ? y + c : y * m;
    auto t1 = clock::now();
    y.sum().backward();
    auto t2 = clock::now();
    y = Tensor();
    auto t3 = clock::now();
    x.set_grad(Tensor());
    const auto [from, to] = phase == Phase::Forward ? std::pair{t0, t1} : phase == Phase::Backward ? std::pair{t1, t2} : std::pair{t2, t3};
    state.SetIterationTime(std::chrono::duration<double>(to - from).count());
  }
  state.counters["per_op"] = benchmark::Counter(static_cast<double>(kGraphOps),
                                                benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(scalar_graph, forward, Phase::Forward)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scalar_graph, backward, Phase::Backward)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(scalar_graph, free, Phase::Free)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
