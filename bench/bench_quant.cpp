// Quantized weights (include/ricci/quantize.h) against float weights and the machine's memory:
//   - BM_ReadBandwidth/<threads>: a 256 MB array summed (read once): this machine's read
//     bandwidth, the ceiling of every memory-bound matvec below;
//   - BM_QuantMatvec/<bits>/<threads>: one row x (1, 4096) @ W^T, W 4096 x 4096 quantized with
//     group size 64 (float32 scales and biases), the decode shape (the same W every call: at 4
//     bits it stays in the L3); BM_QuantMatvecCold: the same over 8 matrices, from memory;
//   - BM_Float32Matvec/<threads>, BM_BFloat16Matvec/<threads>: the same product with float
//     weights (ricci's matmul: OpenBLAS sgemv, the bf16 dot kernels);
//   - BM_QuantPrefill/<bits>, BM_Float32Prefill: 512 x 4096 @ (4096 x 4096)^T on every thread.
// Each matvec reports bytes_per_second: the bytes of weights (codes + scales + biases) it must
// read per call. bench/run_quant.sh runs this beside bench/quant_peers.py (PyTorch, MLX).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <vector>

#include "ricci/parallel.h"
#include "ricci/ricci.h"

namespace {

using namespace ricci;

constexpr int64_t kN = 4096, kK = 4096, kGroup = 64, kPrefillRows = 512;

// Sum of n 64-bit words: four vector accumulators (AVX2 where the CPU has it), so the loop is
// limited by memory, not by the adds.
#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* a, int64_t n) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  const int64_t full = n / 16 * 16;
  for (int64_t i = 0; i < full; i += 16) {
    const auto* p = reinterpret_cast<const __m256i*>(a + i);
    s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(p));
    s1 = _mm256_add_epi64(s1, _mm256_loadu_si256(p + 1));
    s2 = _mm256_add_epi64(s2, _mm256_loadu_si256(p + 2));
    s3 = _mm256_add_epi64(s3, _mm256_loadu_si256(p + 3));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
  uint64_t r = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (int64_t i = full; i < n; ++i) r += a[i];
  return r;
}
#endif
uint64_t sum_words(const uint64_t* a, int64_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return sum_words_avx2(a, n);
#endif
  uint64_t r0 = 0, r1 = 0;
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) r0 += a[i], r1 += a[i + 1];
  return r0 + r1 + (i < n ? a[i] : 0);
}

void BM_ReadBandwidth(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const int64_t n = (int64_t{256} << 20) / 8;
  std::vector<uint64_t> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  // 64 chunks over the threads; each chunk read as four interleaved streams of 16 KB blocks (the
  // way a matvec reads several rows at once, which keeps more prefetch streams busy than one).
  constexpr int64_t kBlock = 2048;
  const int64_t chunk = n / 64;
  std::vector<uint64_t> part(64);
  for (auto _ : state) {
    parallel_for(0, 64, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        const uint64_t* base = a.data() + c * chunk;
        const int64_t quarter = chunk / 4;
        uint64_t r = 0;
        for (int64_t o = 0; o < quarter; o += kBlock)
          for (int s = 0; s < 4; ++s) r += sum_words(base + s * quarter + o, std::min(kBlock, quarter - o));
        part[static_cast<size_t>(c)] = r;
      }
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

// The same product cycling through 8 different quantized matrices (84 MB at 4 bits, 151 MB at 8):
// more than the 32 MB L3, so every call reads its weights from memory, as decoding a model does.
// (One 4096 x 4096 int4 matrix, 10.5 MB, stays in the L3 between calls of BM_QuantMatvec.)
void BM_QuantMatvecCold(benchmark::State& state) {
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
    benchmark::DoNotOptimize(quantized_matmul(w.x, q.weight, q.scales, q.biases, true, kGroup, bits));
  }
  state.SetBytesProcessed(state.iterations() * bytes(qs[0]));
}
BENCHMARK(BM_QuantMatvecCold)->Args({4, 1})->Args({4, 2})->Args({8, 1})->Args({8, 2})->Unit(benchmark::kMicrosecond)->UseRealTime();

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
