// Training-step benchmarks: the lesson-scale MLP (784-512-512-10, batch 128, ReLU,
// cross-entropy, AdamW), one full zero_grad -> forward -> backward -> step per iteration.
// Threads: RICCI_BENCH_THREADS (default: all cores). Compare with bench/mlp_torch.py.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "ricci/ricci.h"

namespace {

using namespace ricci;

class MLP : public nn::Module {
 public:
  MLP() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 512));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(512, 512));
    fc3 = register_module("fc3", std::make_shared<nn::Linear>(512, 10));
  }
  Tensor forward(const Tensor& x) { return fc3->forward(relu(fc2->forward(relu(fc1->forward(x))))); }
  std::shared_ptr<nn::Linear> fc1, fc2, fc3;
};

void set_threads() {
  if (const char* t = std::getenv("RICCI_BENCH_THREADS")) set_num_threads(std::atoi(t));
}

void BM_MlpStep(benchmark::State& state) {
  set_threads();
  manual_seed(0);
  auto model = std::make_shared<MLP>();
  optim::AdamW opt(model->parameters(), {.lr = 1e-3});
  Tensor x = randn({128, 784});
  Tensor y = randint(0, 10, {128});
  for (auto _ : state) {
    opt.zero_grad();
    Tensor loss = F::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_MlpStep)->Unit(benchmark::kMillisecond)->MinTime(1.0)->Repetitions(5)->UseRealTime()->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
