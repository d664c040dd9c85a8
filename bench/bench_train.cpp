// Training-step benchmarks: the lesson-scale MLP (784-512-512-10, batch 128, ReLU,
// cross-entropy, AdamW), one full zero_grad -> forward -> backward -> step per iteration; and
// AdamW's step alone over examples/gpt's parameters (arg 1: the one-pass update, 0: the composed
// ops, Note [One-pass Adam] in src/backend/cpu/optim_hwy.cpp).
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

// examples/gpt's 53 parameters (818,944 values: d_model 128, 4 layers, vocabulary 68, context
// 64) in its two groups (weight decay 0.1 on the matrices), with fixed gradients.
void BM_AdamWStepGpt(benchmark::State& state) {
  set_threads();
  manual_seed(0);
  std::vector<Dims> shapes{{68, 128}, {64, 128}};
  for (int l = 0; l < 4; ++l)
    for (const Dims& s : std::vector<Dims>{{128}, {128}, {384, 128}, {384}, {128, 128}, {128}, {128}, {128},
                                           {512, 128}, {512}, {128, 512}, {128}})
      shapes.push_back(s);
  for (const Dims& s : std::vector<Dims>{{128}, {128}, {68, 128}}) shapes.push_back(s);
  optim::ParamGroup decay, no_decay;
  decay.weight_decay = 0.1;
  for (const Dims& s : shapes) {
    Tensor p = randn(s).mul(0.02).requires_grad_();
    p.set_grad(randn(s).mul(1e-3));
    (s.size() >= 2 ? decay : no_decay).params.push_back(p);
  }
  for (auto* g : {&decay, &no_decay}) g->lr = 2e-3, g->beta1 = 0.9, g->beta2 = 0.99;
  optim::AdamW opt(std::vector<optim::ParamGroup>{decay, no_decay});
  optim::set_one_pass_updates(state.range(0) != 0);
  for (auto _ : state) opt.step();
  optim::set_one_pass_updates(true);
}
BENCHMARK(BM_AdamWStepGpt)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5)
    ->Repetitions(5)
    ->UseRealTime()
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
