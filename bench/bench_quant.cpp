// Quantized weights (include/ricci/quantize.h) against float weights and the machine's memory:
//   - BM_QuantMatvec/<bits>/<threads>: one row x (1, 4096) @ W^T, W 4096 x 4096 quantized with
//     group size 64 (float32 scales and biases), the decode shape (the same W every call: at 4
//     bits it stays in the L3); BM_QuantMatvecCold: the same over 8 matrices, from memory;
//   - BM_QuantMatvecInt8x, BM_QuantMatvecInt8xCold: the same with x rounded to int8 first
//     (ActivationPrecision::Int8: integer dot products; PyTorch's dynamic int8 Linear does this);
//   - BM_Float32Matvec/<threads>, BM_BFloat16Matvec/<threads>: the same product with float
//     weights (ricci's matmul: OpenBLAS sgemv, the bf16 dot kernels);
//   - BM_QuantPrefill/<bits>, BM_Float32Prefill: 512 x 4096 @ (4096 x 4096)^T on every thread.
// Each matvec reports bytes_per_second: the bytes of weights (codes + scales + biases) it must
// read per call; the ceiling is the memory read bandwidth of bench_peak (BM_Read_256MiB).
// bench/run_quant.sh runs both beside bench/quant_peers.py (PyTorch, MLX).
#include <benchmark/benchmark.h>

#include <vector>

#include "ricci/parallel.h"
#include "ricci/ricci.h"

namespace {

using namespace ricci;

constexpr int64_t kN = 4096, kK = 4096, kGroup = 64, kPrefillRows = 512;

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

void quant_matvec(benchmark::State& state, ActivationPrecision act) {
  const int bits = static_cast<int>(state.range(0));
  set_num_threads(static_cast<int>(state.range(1)));
  Weights& w = weights();
  const QuantizedTensor& q = bits == 4 ? w.q4 : w.q8;
  for (auto _ : state)
    benchmark::DoNotOptimize(quantized_matmul(w.x, q.weight, q.scales, q.biases, true, kGroup, bits, act));
  state.SetBytesProcessed(state.iterations() * bytes(q));
}
void BM_QuantMatvec(benchmark::State& state) { quant_matvec(state, ActivationPrecision::Float); }
// x rounded to int8 first (ActivationPrecision::Int8: integer dot products).
void BM_QuantMatvecInt8x(benchmark::State& state) { quant_matvec(state, ActivationPrecision::Int8); }
BENCHMARK(BM_QuantMatvec)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_QuantMatvecInt8x)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();

// The same product cycling through 8 different quantized matrices (84 MB at 4 bits, 151 MB at 8):
// more than the 32 MB L3, so every call reads its weights from memory, as decoding a model does.
// (One 4096 x 4096 int4 matrix, 10.5 MB, stays in the L3 between calls of BM_QuantMatvec.)
void quant_matvec_cold(benchmark::State& state, ActivationPrecision act) {
  const int bits = static_cast<int>(state.range(0));
  set_num_threads(static_cast<int>(state.range(1)));
  Weights& w = weights();
  static std::vector<QuantizedTensor> copies[9];
  auto& qs = copies[bits];
  if (qs.empty())
    for (int c = 0; c < 8; ++c) qs.push_back(quantize(w.w * (1.0 + 0.01 * c), kGroup, bits));
  size_t i = 0;
  for (auto _ : state) {
    const QuantizedTensor& q = qs[i++ % qs.size()];
    benchmark::DoNotOptimize(quantized_matmul(w.x, q.weight, q.scales, q.biases, true, kGroup, bits, act));
  }
  state.SetBytesProcessed(state.iterations() * bytes(qs[0]));
}
void BM_QuantMatvecCold(benchmark::State& state) { quant_matvec_cold(state, ActivationPrecision::Float); }
void BM_QuantMatvecInt8xCold(benchmark::State& state) { quant_matvec_cold(state, ActivationPrecision::Int8); }
BENCHMARK(BM_QuantMatvecCold)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_QuantMatvecInt8xCold)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();

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

void quant_prefill(benchmark::State& state, ActivationPrecision act) {
  const int bits = static_cast<int>(state.range(0));
  set_num_threads(static_cast<int>(state.range(1)));
  Weights& w = weights();
  const QuantizedTensor& q = bits == 4 ? w.q4 : w.q8;
  for (auto _ : state)
    benchmark::DoNotOptimize(quantized_matmul(w.prefill_x, q.weight, q.scales, q.biases, true, kGroup, bits, act));
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * kPrefillRows * kN * kK * static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}
void BM_QuantPrefill(benchmark::State& state) { quant_prefill(state, ActivationPrecision::Float); }
void BM_QuantPrefillInt8x(benchmark::State& state) { quant_prefill(state, ActivationPrecision::Int8); }
BENCHMARK(BM_QuantPrefill)->Args({4, 2})->Args({8, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QuantPrefillInt8x)->Args({4, 2})->Args({8, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

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
