// Quantized weights (include/ricci/quantize.h) against float weights and the machine's memory:
//   - BM_ReadBandwidth/<threads>: a 256 MB array summed (read once): this machine's read
//     bandwidth, the ceiling of every memory-bound matvec below;
//   - BM_QuantMatvec/<bits>/<threads>: one row x (1, 4096) @ W^T, W 4096 x 4096 quantized with
//     group size 64 (float32 scales and biases), the decode shape;
//   - BM_Float32Matvec/<threads>, BM_BFloat16Matvec/<threads>: the same product with float
//     weights (ricci's matmul: OpenBLAS sgemv, the bf16 dot kernels);
//   - BM_QuantPrefill/<bits>, BM_Float32Prefill: 512 x 4096 @ (4096 x 4096)^T on every thread.
// Each matvec reports bytes_per_second: the bytes of weights (codes + scales + biases) it must
// read per call. bench/run_quant.sh runs this beside bench/quant_peers.py (PyTorch, MLX).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "ricci/parallel.h"
#include "ricci/ricci.h"

namespace {

using namespace ricci;

constexpr int64_t kN = 4096, kK = 4096, kGroup = 64, kPrefillRows = 512;

void BM_ReadBandwidth(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const int64_t n = (int64_t{256} << 20) / 8;
  std::vector<uint64_t> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  std::vector<uint64_t> part(64);
  for (auto _ : state) {
    parallel_for(0, n, n / 64, [&](int64_t b, int64_t e) {
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = b;
      for (; i + 4 <= e; i += 4) {
        s0 += a[static_cast<size_t>(i)];
        s1 += a[static_cast<size_t>(i + 1)];
        s2 += a[static_cast<size_t>(i + 2)];
        s3 += a[static_cast<size_t>(i + 3)];
      }
      for (; i < e; ++i) s0 += a[static_cast<size_t>(i)];
      part[static_cast<size_t>(b / (n / 64)) % 64] = s0 + s1 + s2 + s3;
    });
    benchmark::DoNotOptimize(part.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
}
BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

struct Weights {
  Tensor w, x, x_bf16, w_bf16, prefill_x;
  QuantizedTensor q4, q8;
  Weights() {
    manual_seed(0);
    w = randn({kN, kK}) * 0.02;
    x = randn({1, kK});
    x_bf16 = x.to(bfloat16);
    w_bf16 = w.to(bfloat16);
    prefill_x = randn({kPrefillRows, kK});
    q4 = quantize(w, kGroup, 4);
    q8 = quantize(w, kGroup, 8);
  }
};
Weights& weights() {
  static Weights w;
  return w;
}
int64_t bytes(const QuantizedTensor& q) { return static_cast<int64_t>(q.weight.nbytes() + q.scales.nbytes() + q.biases.nbytes()); }

void BM_QuantMatvec(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  set_num_threads(static_cast<int>(state.range(1)));
  Weights& w = weights();
  const QuantizedTensor& q = bits == 4 ? w.q4 : w.q8;
  for (auto _ : state) benchmark::DoNotOptimize(quantized_matmul(w.x, q.weight, q.scales, q.biases, true, kGroup, bits));
  state.SetBytesProcessed(state.iterations() * bytes(q));
}
BENCHMARK(BM_QuantMatvec)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Float32Matvec(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  Weights& w = weights();
  const Tensor wt = w.w.mT();
  for (auto _ : state) benchmark::DoNotOptimize(matmul(w.x, wt));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.w.nbytes()));
}
BENCHMARK(BM_Float32Matvec)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_BFloat16Matvec(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  Weights& w = weights();
  const Tensor wt = w.w_bf16.mT();
  for (auto _ : state) benchmark::DoNotOptimize(matmul(w.x_bf16, wt));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.w_bf16.nbytes()));
}
BENCHMARK(BM_BFloat16Matvec)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_QuantPrefill(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  set_num_threads(static_cast<int>(state.range(1)));
  Weights& w = weights();
  const QuantizedTensor& q = bits == 4 ? w.q4 : w.q8;
  for (auto _ : state)
    benchmark::DoNotOptimize(quantized_matmul(w.prefill_x, q.weight, q.scales, q.biases, true, kGroup, bits));
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * kPrefillRows * kN * kK * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_QuantPrefill)->Args({4, 2})->Args({8, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Float32Prefill(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  Weights& w = weights();
  const Tensor wt = w.w.mT();
  for (auto _ : state) benchmark::DoNotOptimize(matmul(w.prefill_x, wt));
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * kPrefillRows * kN * kK * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Float32Prefill)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
