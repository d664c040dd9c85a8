// The small float32 GEMM without packing (src/backend/cpu/gemm_small.cpp) against OpenBLAS's
// cblas_sgemm on the same operands, one call per iteration, single thread, operands in L1/L2 as
// they are in attention: µs per call. Arguments: ta, tb, M, N, K.
//   BM_SgemmSmall / BM_SgemmOpenBlas:  attention's 64x64x32 and 64x32x64 in all four transposes;
//   .../sweep:  square and K-long shapes around the crossover (sgemm_small_pays in gemm.h).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "backend/cpu/gemm.h"

namespace {

struct Operands {
  std::vector<float> a, b, c;
  Operands(int64_t M, int64_t N, int64_t K)
      : a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)), c(static_cast<size_t>(M * N)) {
    std::mt19937 rng(1);
    std::normal_distribution<float> d;
    for (float& x : a) x = d(rng);
    for (float& x : b) x = d(rng);
  }
};

template <bool kSmall>
void BM_Sgemm(benchmark::State& state) {
  const bool ta = state.range(0) != 0, tb = state.range(1) != 0;
  const int64_t M = state.range(2), N = state.range(3), K = state.range(4);
  Operands o(M, N, K);
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  for (auto _ : state) {
    if (kSmall) {
      ricci::cpu::sgemm_small(ta, tb, M, N, K, 1.0f, o.a.data(), lda, o.b.data(), ldb, 0.0f, o.c.data(), N);
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(M),
                  static_cast<int>(N), static_cast<int>(K), 1.0f, o.a.data(), static_cast<int>(lda), o.b.data(),
                  static_cast<int>(ldb), 0.0f, o.c.data(), static_cast<int>(N));
    }
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(M * N * K), benchmark::Counter::kIsIterationInvariantRate);
}

void AttentionShapes(benchmark::internal::Benchmark* b) {
  for (int t = 0; t < 4; ++t) {
    b->Args({t & 1, (t >> 1) & 1, 64, 64, 32});
    b->Args({t & 1, (t >> 1) & 1, 64, 32, 64});
  }
  b->ArgNames({"ta", "tb", "M", "N", "K"})->Unit(benchmark::kMicrosecond);
}
void Sweep(benchmark::internal::Benchmark* b) {
  for (int64_t n : {16, 32, 48, 64, 96, 128, 192})
    for (int tb = 0; tb < 2; ++tb) b->Args({0, tb, n, n, n});
  for (int64_t k : {128, 256, 512})
    for (int tb = 0; tb < 2; ++tb) b->Args({0, tb, 64, 64, k});
  for (int tb = 0; tb < 2; ++tb) {
    b->Args({0, tb, 128, 128, 64});
    b->Args({0, tb, 256, 64, 64});
    b->Args({0, tb, 64, 256, 64});
    // Few rows against a wide matrix (a linear layer while decoding): x @ W^T is tb.
    b->Args({0, tb, 4, 1024, 256});
    b->Args({0, tb, 16, 512, 128});
  }
  b->ArgNames({"ta", "tb", "M", "N", "K"})->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_Sgemm<true>)->Name("BM_SgemmSmall")->Apply(AttentionShapes);
BENCHMARK(BM_Sgemm<false>)->Name("BM_SgemmOpenBlas")->Apply(AttentionShapes);
BENCHMARK(BM_Sgemm<true>)->Name("BM_SgemmSmall/sweep")->Apply(Sweep);
BENCHMARK(BM_Sgemm<false>)->Name("BM_SgemmOpenBlas/sweep")->Apply(Sweep);
BENCHMARK_MAIN();
