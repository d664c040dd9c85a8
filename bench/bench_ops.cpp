// The op cases that bench/run_compare.sh sets side by side with PyTorch (bench/compare_ops.py runs
// the same cases under the same names). Each benchmark publishes the work one iteration does as the
// counter "work" (bytes moved, or floating-point operations) and its unit as the label, so the
// driver turns real time into GB/s or GFLOP/s the same way for both sides.
//
// Threads: RICCI_BENCH_THREADS=n or --threads=n (default: the library's own default). The count is
// set once, before any benchmark runs, so the pool and the BLAS budget are fixed for the run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ricci/ricci.h"

using namespace ricci;

namespace {

constexpr int64_t k16M = int64_t{1} << 24;
constexpr double kMiB64 = double(k16M) * sizeof(float);  // one 16M float32 tensor, in bytes

// One untimed call before the timed loop: first-touch page faults and lazy initialisation stay
// out of the sample even when Google Benchmark's first sizing run alone exceeds min_time.
#define WARM_UP_AND_TIME(expr)                                \
  benchmark::DoNotOptimize(expr);                             \
  for (auto _ : state) benchmark::DoNotOptimize(expr)

void publish(benchmark::State& state, double work_per_iter, const char* unit) {
  state.counters["work"] = benchmark::Counter(work_per_iter);
  state.SetLabel(unit);
}

// Inputs live for the whole process: Google Benchmark calls each function several times while it
// sizes the run, and 16M-element randn is slower than the op being timed.
const Tensor& vec16m(int which) {
  static Tensor a = randn({k16M}), b = randn({k16M});
  return which == 0 ? a : b;
}

const Tensor& square4096() {
  static Tensor x = randn({4096, 4096});
  return x;
}

// ---- elementwise and reductions: GB/s ---------------------------------------------------------

void BM_Add(benchmark::State& state) {  // allocating: reads a and b, writes a fresh c
  const Tensor &a = vec16m(0), &b = vec16m(1);
  benchmark::DoNotOptimize((a + b).data_ptr());
  for (auto _ : state) {
    Tensor c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
  publish(state, 3 * kMiB64, "GB/s");
}

void BM_Exp(benchmark::State& state) {
  const Tensor& a = vec16m(0);
  WARM_UP_AND_TIME(exp(a).data_ptr());
  publish(state, 2 * kMiB64, "GB/s");
}

void BM_Gelu(benchmark::State& state) {
  const Tensor& a = vec16m(0);
  WARM_UP_AND_TIME(gelu(a).data_ptr());
  publish(state, 2 * kMiB64, "GB/s");
}

void BM_Sum(benchmark::State& state) {
  const Tensor& a = vec16m(0);
  WARM_UP_AND_TIME(sum(a).data_ptr());
  publish(state, kMiB64, "GB/s");
}

// Reductions of the 4096x4096 matrix along one axis: dim 1 reduces each contiguous row, dim 0
// sums down the columns (the outer-axis case). Work counts the bytes read.
template <class F>
void BM_Reduce4096(benchmark::State& state, F f) {
  const Tensor& x = square4096();
  WARM_UP_AND_TIME(f(x).data_ptr());
  publish(state, kMiB64, "GB/s");
}

void BM_Softmax(benchmark::State& state) {  // counts one read and one write of the 64 MiB matrix
  const Tensor& x = square4096();
  WARM_UP_AND_TIME(x.softmax(-1).data_ptr());
  publish(state, 2 * kMiB64, "GB/s");
}

void BM_TransposeCopy(benchmark::State& state) {  // x.t().contiguous(): read + write
  const Tensor& x = square4096();
  WARM_UP_AND_TIME(x.t().contiguous().data_ptr());
  publish(state, 2 * kMiB64, "GB/s");
}

void BM_AllocFill(benchmark::State& state) {  // empty(...).fill_(1): the write, plus the allocation
  benchmark::DoNotOptimize(empty({k16M}).fill_(1).data_ptr());
  for (auto _ : state) {
    Tensor t = empty({k16M});
    t.fill_(1);
    benchmark::DoNotOptimize(t.data_ptr());
  }
  publish(state, kMiB64, "GB/s");
}

// ---- matmul and einsum: GFLOP/s -----------------------------------------------------------------

void BM_Matmul(benchmark::State& state, DType dtype) {
  const int64_t n = state.range(0);
  Tensor a = randn({n, n}).to(dtype), b = randn({n, n}).to(dtype);
  WARM_UP_AND_TIME(matmul(a, b).data_ptr());
  publish(state, 2.0 * double(n) * double(n) * double(n), "GFLOP/s");
}

// A bfloat16 linear layer, y = x @ W^T with W stored (out, in) as nn::Linear keeps it: m = 1 is
// one token of decoding (a pass over W), m = 512 a prefill chunk (compute bound).
void BM_Linear(benchmark::State& state, DType dtype) {
  const int64_t m = state.range(0), k = 4096, n = 4096;
  Tensor x = randn({m, k}).to(dtype), w = randn({n, k}).to(dtype);
  WARM_UP_AND_TIME(matmul(x, w.t()).data_ptr());
  publish(state, 2.0 * double(m) * double(n) * double(k), "GFLOP/s");
}

// Attention scores: Q (b, t, d) against K (b, s, d). einsum should cost no more than the bmm a
// person would write by hand for the same contraction.
constexpr int64_t kB = 8, kT = 512, kD = 64;
const Tensor& qk(int which) {
  static Tensor q = randn({kB, kT, kD}), k = randn({kB, kT, kD});
  return which == 0 ? q : k;
}
constexpr double kQKFlops = 2.0 * kB * kT * kT * kD;

void BM_Einsum(benchmark::State& state) {
  const Tensor &q = qk(0), &k = qk(1);
  WARM_UP_AND_TIME(einsum("btd,bsd->bts", {q, k}).data_ptr());
  publish(state, kQKFlops, "GFLOP/s");
}

void BM_Bmm(benchmark::State& state) {
  const Tensor &q = qk(0), &k = qk(1);
  WARM_UP_AND_TIME(bmm(q, k.transpose(1, 2)).data_ptr());
  publish(state, kQKFlops, "GFLOP/s");
}

void register_all() {
  benchmark::RegisterBenchmark("add_16M_f32", BM_Add)->UseRealTime();
  benchmark::RegisterBenchmark("exp_16M_f32", BM_Exp)->UseRealTime();
  benchmark::RegisterBenchmark("gelu_16M_f32", BM_Gelu)->UseRealTime();
  benchmark::RegisterBenchmark("sum_16M_f32", BM_Sum)->UseRealTime();
  benchmark::RegisterBenchmark("softmax_4096x4096_f32", BM_Softmax)->UseRealTime();
  auto reduce_case = [](const char* name, auto f) {
    benchmark::RegisterBenchmark(name, [f](benchmark::State& st) { BM_Reduce4096(st, f); })->UseRealTime();
  };
  reduce_case("sum_dim0_4096x4096_f32", [](const Tensor& x) { return sum(x, {0}); });
  reduce_case("sum_dim1_4096x4096_f32", [](const Tensor& x) { return sum(x, {1}); });
  reduce_case("amax_dim0_4096x4096_f32", [](const Tensor& x) { return amax(x, {0}); });
  reduce_case("amax_dim1_4096x4096_f32", [](const Tensor& x) { return amax(x, {1}); });
  reduce_case("mean_dim1_4096x4096_f32", [](const Tensor& x) { return mean(x, {1}); });
  reduce_case("var_dim1_4096x4096_f32", [](const Tensor& x) { return var(x, {1}); });
  reduce_case("argmax_dim1_4096x4096_f32", [](const Tensor& x) { return argmax(x, 1); });
  reduce_case("logsumexp_dim1_4096x4096_f32", [](const Tensor& x) { return logsumexp(x, {1}); });
  for (int64_t n : {64, 256, 1024, 2048}) {
    const std::string name = "matmul_" + std::to_string(n) + "_f32";
    benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, float32)->Arg(n)->UseRealTime();
  }
  benchmark::RegisterBenchmark("matmul_1024_bf16", BM_Matmul, bfloat16)->Arg(1024)->UseRealTime();
  for (int64_t m : {1, 16, 512}) {
    const std::string name = "linear_bf16_" + std::to_string(m) + "x4096x4096";
    benchmark::RegisterBenchmark(name.c_str(), BM_Linear, bfloat16)->Arg(m)->UseRealTime();
  }
  for (int64_t m : {1, 16}) {
    const std::string name = "linear_f16_" + std::to_string(m) + "x4096x4096";
    benchmark::RegisterBenchmark(name.c_str(), BM_Linear, float16)->Arg(m)->UseRealTime();
  }
  benchmark::RegisterBenchmark("linear_f32_1x4096x4096", BM_Linear, float32)->Arg(1)->UseRealTime();
  benchmark::RegisterBenchmark("einsum_btd_bsd_8x512x64_f32", BM_Einsum)->UseRealTime();
  benchmark::RegisterBenchmark("bmm_btd_bsd_8x512x64_f32", BM_Bmm)->UseRealTime();
  benchmark::RegisterBenchmark("transpose_copy_4096x4096_f32", BM_TransposeCopy)->UseRealTime();
  benchmark::RegisterBenchmark("alloc_fill_64MiB_f32", BM_AllocFill)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  if (const char* env = std::getenv("RICCI_BENCH_THREADS")) threads = std::atoi(env);
  // --threads=n wins over the environment; strip it before Google Benchmark sees the flags.
  // --print-isa prints the instruction set the kernels use (after RICCI_CPU_ISA) and exits.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
    } else if (std::strcmp(argv[i], "--print-isa") == 0) {
      std::printf("%s\n", cpu_isa_name());
      return 0;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (threads > 0) set_num_threads(threads);
  benchmark::AddCustomContext("ricci_threads", std::to_string(get_num_threads()));
  benchmark::AddCustomContext("ricci_cpu_isa", cpu_isa_name());
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
