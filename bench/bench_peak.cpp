// The arithmetic ceiling of one core, to read GEMM figures against: float32 FMA (AVX-512 or
// AVX2) and bfloat16 dot products (AVX512_BF16's vdpbf16ps), each run on 24 independent
// register accumulators so that only the execution ports limit it. Reports GFLOP/s per thread
// (an FMA is 2 FLOP per lane; a bf16 dot product 4 per float32 lane). And the memory read
// bandwidth, 1 and 2 threads (a sum over a 256 MiB buffer, each thread its half): the ceiling of
// a kernel that streams its operand once, such as a linear layer while decoding (W read once).
//
//   build/bench/bench_peak
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__x86_64__)
// GCC 12 reports the intentionally undefined upper halves inside its own AVX-512 cast intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

namespace {

constexpr int kAcc = 24;
constexpr int64_t kSteps = 1 << 16;

// The loop is a macro, not a template, so that it compiles inside each function's target ISA.
#define RICCI_PEAK_LOOP(V, zero, step_expr, flop_per_instruction)                               \
  for (auto _ : state) {                                                                         \
    V acc[kAcc];                                                                                 \
    for (auto& a : acc) a = zero;                                                                \
    for (int64_t s = 0; s < kSteps; ++s) {                                                       \
      _Pragma("GCC unroll 24") for (int i = 0; i < kAcc; ++i) acc[i] = step_expr;                \
    }                                                                                            \
    for (auto& a : acc) benchmark::DoNotOptimize(a);                                             \
  }                                                                                              \
  state.counters["GFLOP/s"] = benchmark::Counter((flop_per_instruction) * kAcc * kSteps * 1e-9, \
                                                 benchmark::Counter::kIsIterationInvariantRate)

__attribute__((target("avx2,fma"))) void BM_Fma_F32_Avx2(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return state.SkipWithError("no AVX2+FMA");
  const __m256 x = _mm256_set1_ps(1.0f), y = _mm256_set1_ps(1e-9f);
  RICCI_PEAK_LOOP(__m256, _mm256_setzero_ps(), _mm256_fmadd_ps(x, y, acc[i]), 2.0 * 8);
}

__attribute__((target("avx512f"))) void BM_Fma_F32_Avx512(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512f")) return state.SkipWithError("no AVX-512F");
  const __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(1e-9f);
  RICCI_PEAK_LOOP(__m512, _mm512_setzero_ps(), _mm512_fmadd_ps(x, y, acc[i]), 2.0 * 16);
}

__attribute__((target("avx512f,avx512bf16"))) void BM_Dot_Bf16_Avx512(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512bf16")) return state.SkipWithError("no AVX512_BF16");
  const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x30003000);
  RICCI_PEAK_LOOP(__m512, _mm512_setzero_ps(), _mm512_dpbf16_ps(acc[i], x, y), 4.0 * 16);
}

constexpr int64_t kReadFloats = int64_t{64} << 20;  // 256 MiB

const float* read_buffer() {
  static const float* buf = [] {
    auto* p = static_cast<float*>(std::aligned_alloc(64, kReadFloats * sizeof(float)));
    for (int64_t i = 0; i < kReadFloats; ++i) p[i] = 1.0f;
    return p;
  }();
  return buf;
}

// Eight streams, each over a contiguous eighth of [p, p + n), as a kernel reading eight rows of a
// matrix at once does: one sequential stream leaves part of the bandwidth unused (≈ 60 % on a
// Zen 3 core), eight reach what the core can pull from memory.
__attribute__((target("avx2"))) float sum_avx2(const float* p, int64_t n) {
  constexpr int kStreams = 8;
  const int64_t len = n / kStreams;
  __m256 acc[kStreams][2];
  for (auto& a : acc) a[0] = a[1] = _mm256_setzero_ps();
  for (int64_t i = 0; i + 16 <= len; i += 16) {
#pragma GCC unroll 8
    for (int s = 0; s < kStreams; ++s) {
      acc[s][0] = _mm256_add_ps(acc[s][0], _mm256_load_ps(p + s * len + i));
      acc[s][1] = _mm256_add_ps(acc[s][1], _mm256_load_ps(p + s * len + i + 8));
    }
  }
  for (int s = 1; s < kStreams; ++s) acc[0][0] = _mm256_add_ps(acc[0][0], _mm256_add_ps(acc[s][0], acc[s][1]));
  float out[8];
  _mm256_storeu_ps(out, acc[0][0]);
  return out[0];
}

// Threads of one benchmark would start their timers apart and each run partly alone (Google
// Benchmark's ->Threads() then overstates the shared bandwidth), so the threads are started
// together inside every iteration: the caller reads one part, std::threads the others.
void BM_Read_256MiB(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx2")) return state.SkipWithError("no AVX2");
  const int threads = static_cast<int>(state.range(0));
  const int64_t n = kReadFloats / threads;
  const float* p = read_buffer();
  for (auto _ : state) {
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) others.emplace_back([=] { benchmark::DoNotOptimize(sum_avx2(p + t * n, n)); });
    benchmark::DoNotOptimize(sum_avx2(p, n));
    for (auto& t : others) t.join();
  }
  state.counters["GB/s"] = benchmark::Counter(double(kReadFloats) * sizeof(float) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Fma_F32_Avx2);
BENCHMARK(BM_Fma_F32_Avx512);
BENCHMARK(BM_Dot_Bf16_Avx512);
BENCHMARK(BM_Read_256MiB)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

#endif

BENCHMARK_MAIN();
