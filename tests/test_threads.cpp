// Threads that each run forward + backward on their own graph, sharing a read-only tensor and a
// leaf that requires grad (Hogwild-style data parallelism, a parameter reused across threads):
// no update is lost and nothing is corrupted. CI also runs this file under ThreadSanitizer
// (.ci/run), where a race in accumulation, in the accumulator's lazy creation or in the engine is
// reported even when the numbers come out right. See Note [Threads and autograd] in
// docs/autograd.md for what is safe to share.
#include <atomic>
#include <thread>

#include "test_util.h"

namespace ricci {
namespace {

constexpr int kThreads = 4;

int iterations() {
  // Enough to make races likely natively; fewer under TSan, which runs ~10x slower.
  const char* env = std::getenv("RICCI_THREAD_STRESS_ITERS");
  return env ? std::atoi(env) : 200;
}

template <class F>
void run_threads(F body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }  // start together, so the first uses of the leaf overlap
      body(t);
    });
  }
  for (auto& th : threads) th.join();
}

TEST(Threads, BackwardIntoASharedLeafLosesNoUpdate) {
  const int iters = iterations();
  Tensor w = ones({8, 8}, float64).requires_grad_();
  const Tensor shared_input = arange(0, 64, 1, float64).reshape({8, 8});  // read-only, no grad
  run_threads([&](int t) {
    for (int i = 0; i < iters; ++i) {
      Tensor x = shared_input * static_cast<double>(t + 1);
      Tensor y = (w * x).sum() + (w.t() * 2.0).sum();
      y.backward();
    }
  });
  // d/dw of sum(w*x) is x; of sum(2 w^T) is 2. Summed over threads t=1..4 and the iterations.
  const double scale = static_cast<double>(iters);
  Tensor expected = shared_input * (scale * (1 + 2 + 3 + 4)) + 2.0 * scale * kThreads;
  EXPECT_TENSOR_EQ(w.grad(), expected);
}

TEST(Threads, FreshLeafEachRoundCreatesOneAccumulator) {
  // The leaf's accumulator is made on first use; threads racing to make it must share one, or
  // deposits go to different nodes and still all land in .grad exactly once each.
  const int rounds = std::max(1, iterations() / 10);
  for (int r = 0; r < rounds; ++r) {
    Tensor w = zeros({16}, float32).requires_grad_();
    run_threads([&](int t) { (w * static_cast<float>(t + 1)).sum().backward(); });
    EXPECT_EQ(testing::values(w.grad()), std::vector<double>(16, 1 + 2 + 3 + 4)) << "round " << r;
  }
}

TEST(Threads, IndependentGraphsWithSharedWeightsAndAutogradGrad) {
  const int iters = iterations() / 4 + 1;
  Tensor w = full({4, 4}, 0.5, float32).requires_grad_();
  std::vector<double> sums(kThreads, 0.0);
  run_threads([&](int t) {
    for (int i = 0; i < iters; ++i) {
      Tensor x = full({3, 4}, static_cast<double>(t), float32);
      Tensor h = matmul(x, w).tanh();
      Tensor loss = (h * h).mean();
      auto g = autograd::grad({loss}, {w});  // never touches w.grad
      sums[static_cast<size_t>(t)] += g[0].sum().item<double>();
    }
  });
  EXPECT_FALSE(w.grad().defined());
  EXPECT_EQ(sums[0], 0.0);  // x = 0 gives a zero gradient
  for (int t = 1; t < kThreads; ++t) EXPECT_GT(sums[static_cast<size_t>(t)], 0.0);
}

TEST(Threads, GradModeIsPerThread) {
  std::atomic<int> recorded{0};
  Tensor w = ones({2}, float32).requires_grad_();
  run_threads([&](int t) {
    std::optional<NoGradGuard> guard;
    if (t % 2 == 0) guard.emplace();
    Tensor y = w * 2.0f;
    if (y.requires_grad()) recorded.fetch_add(1);
  });
  EXPECT_EQ(recorded.load(), kThreads / 2);
}

}  // namespace
}  // namespace ricci
