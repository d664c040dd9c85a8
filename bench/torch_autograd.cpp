// The cases of bench_autograd.cpp against libtorch, for bench/torch_autograd.sh. Prints
// "<case> <microseconds per op>" lines. Built outside the ricci project (libtorch is a peer,
// never a dependency).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// Median over 7 samples of at least 0.2 s each, in microseconds per call of `body`.
double time_us(const std::function<void()>& body) {
  for (int i = 0; i < 1000; ++i) body();
  std::vector<double> samples;
  for (int s = 0; s < 7; ++s) {
    int64_t n = 0;
    auto t0 = clock_type::now();
    double elapsed = 0;
    do {
      for (int i = 0; i < 1000; ++i) body();
      n += 1000;
      elapsed = std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
    } while (elapsed < 2e5);
    samples.push_back(elapsed / static_cast<double>(n));
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

torch::Tensor one(double v, bool requires_grad) {
  return torch::full({1}, v, torch::kFloat32).set_requires_grad(requires_grad);
}

}  // namespace

int main() {
  torch::set_num_threads(1);
  torch::Tensor a = one(1, false), b = one(2, false), ag = one(1, true), bg = one(2, true);
  std::printf("add_tiny_nograd %.4f\n", time_us([&] { auto c = a + b; }));
  std::printf("add_tiny_requires_grad %.4f\n", time_us([&] { auto c = ag + b; }));
  {
    torch::NoGradGuard g;
    std::printf("add_tiny_no_grad_guard %.4f\n", time_us([&] { auto c = ag + b; }));
  }
  {
    c10::InferenceMode g;
    std::printf("add_tiny_inference_mode %.4f\n", time_us([&] { auto c = ag + b; }));
  }
  std::printf("mul_backward_tiny %.4f\n", time_us([&] {
                (ag * bg).sum().backward();
                ag.mutable_grad().reset();
                bg.mutable_grad().reset();
              }));
  // The 100k-op scalar graph, each phase timed alone; median of 5 runs, per op.
  constexpr int kOps = 100000;
  torch::Tensor x = one(1, true), m = one(1, false), c = one(0, false);
  std::vector<double> fwd, bwd, fre;
  for (int r = 0; r < 6; ++r) {
    auto t0 = clock_type::now();
    torch::Tensor y = x;
    for (int i = 0; i < kOps; ++i) y = (i & 1) ? y + c : y * m;
    auto t1 = clock_type::now();
    y.sum().backward();
    auto t2 = clock_type::now();
    y = torch::Tensor();
    auto t3 = clock_type::now();
    x.mutable_grad().reset();
    if (r == 0) continue;  // warm-up
    auto us = [](auto p, auto q) { return std::chrono::duration<double, std::micro>(q - p).count() / kOps; };
    fwd.push_back(us(t0, t1));
    bwd.push_back(us(t1, t2));
    fre.push_back(us(t2, t3));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("scalar_graph/forward %.4f\nscalar_graph/backward %.4f\nscalar_graph/free %.4f\n", median(fwd), median(bwd),
              median(fre));
  return 0;
}
