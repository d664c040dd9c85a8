// What lazy evaluation (Note [Lazy tensors], include/ricci/lazy.h) costs and saves, on one thread:
//   - a tiny add: eager; recorded only (the result dropped); recorded and evaluated. The eval cost
//     of one node is LazyRecordEval - LazyRecord; the targets are record <= 0.3 us and eval <=
//     eager + 0.1 us.
//   - a 1,000-op elementwise chain on (256, 256) float32 (alternately y * 1.0001 and y + 0.5),
//     eager and lazy (record all 1,000 ops, then eval).
//   - the `mlp` example's training step (examples/mlp/mlp.h: TwoLayer(128, 64, 10), batch 8,
//     AdamW lr 1e-3, as in tests/test_memory.cpp), eager and under a LazyGuard.
// bench/run_lazy.sh runs this next to bench/lazy_peers.py (PyTorch, MLX) and prints RESULT lines.
#include <benchmark/benchmark.h>

#include <memory>

#include "../examples/mlp/mlp.h"
#include "ricci/lazy.h"
#include "ricci/ricci.h"

namespace {

using namespace ricci;

constexpr int kChainOps = 1000;

Tensor tiny(double v) { return scalar_tensor(v, float32).reshape({1}).detach(); }

void BM_EagerAddTiny(benchmark::State& state) {
  const Tensor a = tiny(1), b = tiny(2);
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_EagerAddTiny);

void BM_LazyRecordAddTiny(benchmark::State& state) {
  const Tensor a = tiny(1), b = tiny(2);
  LazyGuard lazy;
  for (auto _ : state) benchmark::DoNotOptimize(a + b);  // recorded, then dropped unevaluated
}
BENCHMARK(BM_LazyRecordAddTiny);

void BM_LazyRecordEvalAddTiny(benchmark::State& state) {
  const Tensor a = tiny(1), b = tiny(2);
  LazyGuard lazy;
  for (auto _ : state) {
    Tensor c = a + b;
    eval(c);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_LazyRecordEvalAddTiny);

Tensor chain(Tensor y) {
  for (int i = 0; i < kChainOps; ++i) y = (i & 1) ? y + 0.5 : y * 1.0001;
  return y;
}

void BM_Chain1000Eager(benchmark::State& state) {
  manual_seed(0);
  const Tensor x = randn({256, 256});
  for (auto _ : state) {
    Tensor y = chain(x);
    benchmark::DoNotOptimize(y);
  }
}
BENCHMARK(BM_Chain1000Eager)->Unit(benchmark::kMillisecond);

void BM_Chain1000Lazy(benchmark::State& state) {
  manual_seed(0);
  const Tensor x = randn({256, 256});
  // Check once, untimed, that the lazy chain is pending as 1,000 nodes and gives eager's values.
  {
    Tensor want = chain(x);
    LazyGuard lazy;
    Tensor got = chain(x);
    const PendingStats st = pending_stats({got});
    state.counters["pending_nodes"] = static_cast<double>(st.nodes);
    state.counters["pending_MiB"] = static_cast<double>(st.bytes) / (1 << 20);
    eval(got);
    if (st.nodes != kChainOps || !equal(got, want)) {
      state.SkipWithError("lazy chain: wrong node count or values differ from eager");
      return;
    }
  }
  for (auto _ : state) {
    LazyGuard lazy;
    Tensor y = chain(x);
    eval(y);
    benchmark::DoNotOptimize(y);
  }
}
BENCHMARK(BM_Chain1000Lazy)->Unit(benchmark::kMillisecond);

void mlp_step(benchmark::State& state, bool lazy) {
  manual_seed(0);
  const mlp::Data data = mlp::make_data(8, 128, 10);
  auto model = std::make_shared<mlp::TwoLayer>(128, 64, 10);
  optim::AdamW opt(model->parameters(), {.lr = 1e-3});
  double loss = 0.0;
  for (auto _ : state) {
    LazyGuard mode(lazy);
    loss = mlp::train_step(*model, opt, data);
    benchmark::DoNotOptimize(loss);
  }
  state.counters["last_loss"] = loss;
}
void BM_MlpStepEager(benchmark::State& state) { mlp_step(state, false); }
void BM_MlpStepLazy(benchmark::State& state) { mlp_step(state, true); }
BENCHMARK(BM_MlpStepEager)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpStepLazy)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  ricci::set_num_threads(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
