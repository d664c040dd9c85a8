// Elementwise throughput: allocating c = a + b on 16M float32 should run at memory bandwidth
// (12 bytes moved per element: two reads and a write); the transcendental ops should be
// compute-bound on the vector units. Bytes/s are reported for comparison with a STREAM-like copy.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "ricci/ricci.h"

using namespace ricci;

namespace {

void BM_AddAlloc(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = randn({n}), b = randn({n});
  for (auto _ : state) {
    Tensor c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * n * 12);
}
BENCHMARK(BM_AddAlloc)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 24)->UseRealTime();

void BM_AddInplace(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = randn({n}), b = randn({n});
  for (auto _ : state) a.add_(b);
  state.SetBytesProcessed(state.iterations() * n * 12);
}
BENCHMARK(BM_AddInplace)->Arg(1 << 24)->UseRealTime();

// The reference point: a plain memcpy of the same number of bytes as one a + b reads.
void BM_Memcpy(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> src(n, 1.0f), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
}
BENCHMARK(BM_Memcpy)->Arg(1 << 24)->UseRealTime();

void BM_AddBroadcastRow(benchmark::State& state) {
  Tensor a = randn({4096, 4096}), row = randn({4096});
  for (auto _ : state) benchmark::DoNotOptimize((a + row).data_ptr());
  state.SetBytesProcessed(state.iterations() * 4096 * 4096 * 8);
}
BENCHMARK(BM_AddBroadcastRow)->UseRealTime();

template <Tensor (*F)(const Tensor&)>
void BM_Unary(benchmark::State& state) {
  Tensor a = randn({1 << 22});
  for (auto _ : state) benchmark::DoNotOptimize(F(a).data_ptr());
  state.SetItemsProcessed(state.iterations() * (1 << 22));
}
Tensor gelu_none(const Tensor& x) { return gelu(x); }
Tensor gelu_tanh(const Tensor& x) { return gelu(x, "tanh"); }
Tensor softplus_default(const Tensor& x) { return softplus(x); }
BENCHMARK_TEMPLATE(BM_Unary, exp)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, expm1)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, tanh)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, sigmoid)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, silu)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, erf)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, gelu_none)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, gelu_tanh)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, softplus_default)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Unary, relu)->UseRealTime();

void BM_UnaryHalf(benchmark::State& state) {
  Tensor a = randn({1 << 22}).to(float16);
  for (auto _ : state) benchmark::DoNotOptimize(exp(a).data_ptr());
  state.SetItemsProcessed(state.iterations() * (1 << 22));
}
BENCHMARK(BM_UnaryHalf)->UseRealTime();

// Per-op overhead on a tiny tensor (no graph).
void BM_SmallMul(benchmark::State& state) {
  Tensor a = randn({8}), b = randn({8});
  for (auto _ : state) benchmark::DoNotOptimize((a * b).data_ptr());
}
BENCHMARK(BM_SmallMul);

}  // namespace

BENCHMARK_MAIN();
