// What compile (include/ricci/compile.h) buys, on one thread, with the bytes each case must move:
//   - GELU, tanh approximation, written out in ops, on 16M float32: eager vs compiled (fused), and
//     the memory-bandwidth floor (a copy of 16M floats: read 64 MB, write 64 MB);
//   - LayerNorm-like normalisation written in ops, (4096, 4096);
//   - a 20-op elementwise chain on 4M float32;
//   - the first call (trace, simplify, plan) and a cached call on a 1-element input.
#include <benchmark/benchmark.h>

#include "gelu_register_fused.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "compile/codegen.h"
#include "ricci/compile.h"
#include "ricci/parallel.h"
#include "ricci/ricci.h"

namespace {

using namespace ricci;

Tensors gelu_tanh(const Tensors& in) {
  const Tensor& x = in[0];
  return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
}

// A random chain of 20 elementwise ops (one fixed draw, the same in bench/compile_peers.py).
constexpr const char* kChain20 = "tmasbndtmsatbmdnastm";
Tensors chain20(const Tensors& in) {
  Tensor y = in[0];
  for (const char* c = kChain20; *c; ++c) {
    switch (*c) {
      case 'm': y = y * 1.001; break;
      case 'a': y = y + 0.25; break;
      case 't': y = y.tanh(); break;
      case 's': y = y.sigmoid(); break;
      case 'n': y = -y; break;
      case 'b': y = y.abs(); break;
      default: y = y / 1.5; break;
    }
  }
  return Tensors{y};
}

Tensors softmax_rows(const Tensors& in) {
  const Tensor e = (in[0] - in[0].amax({-1}, true)).exp();
  return Tensors{e / e.sum({-1}, true)};
}

// logsumexp over rows written out: exp(x - max) is reduced and never stored.
Tensors logsumexp_rows(const Tensors& in) {
  const Tensor m = in[0].amax({-1}, true);
  return Tensors{(in[0] - m).exp().sum({-1}, true).log() + m};
}

Tensors layer_norm_op(const Tensors& in) { return Tensors{F::layer_norm(in[0], {in[0].size(-1)})}; }

Tensors norm_rows(const Tensors& in) {
  const Tensor& x = in[0];
  const Tensor mu = x.mean({-1}, true);
  const Tensor d = x - mu;
  return Tensors{d * ((d * d).mean({-1}, true) + 1e-5).rsqrt()};
}

void run(benchmark::State& state, const TensorFn& f, const Tensor& x, double bytes, int threads = 1) {
  set_num_threads(threads);
  f({x});  // the trace (compiled) or a warm-up (eager)
  for (auto _ : state) benchmark::DoNotOptimize(f({x}));
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

const Tensor& big() {
  static const Tensor x = (manual_seed(0), randn({int64_t{1} << 24}));
  return x;
}

// The fused kernels as the interpreter (generated code off), beside the default (generated code
// where the generator takes the kernel): docs/compile.md compares the two.
TensorFn interpreted(TensorFn f) {
  CompileOptions o;
  o.generate_code = false;
  return compile(std::move(f), o);
}

// f's own ops: CompileOptions::stable_rewrites off (1 + tanh stays a tanh; docs/compile.md).
TensorFn exact_ops(TensorFn f) {
  CompileOptions o;
  o.stable_rewrites = false;
  return compile(std::move(f), o);
}

void BM_GeluEager(benchmark::State& s) { run(s, gelu_tanh, big(), 2.0 * 4 * (1 << 24)); }
void BM_GeluInterpreted(benchmark::State& s) { run(s, interpreted(gelu_tanh), big(), 2.0 * 4 * (1 << 24)); }
void BM_GeluInterpreted2T(benchmark::State& s) { run(s, interpreted(gelu_tanh), big(), 2.0 * 4 * (1 << 24), 2); }
void BM_Chain20Interpreted(benchmark::State& s) {
  run(s, interpreted(chain20), big().narrow(0, 0, 1 << 22), 2.0 * 4 * (1 << 22));
}
void BM_GeluCompiled(benchmark::State& s) { run(s, compile(gelu_tanh), big(), 2.0 * 4 * (1 << 24)); }
void BM_CopyBandwidthFloor(benchmark::State& s) {
  run(s, [](const Tensors& in) { return Tensors{in[0].clone()}; }, big(), 2.0 * 4 * (1 << 24));
}
void BM_GeluCompiledExactOps(benchmark::State& s) { run(s, exact_ops(gelu_tanh), big(), 2.0 * 4 * (1 << 24)); }
void BM_GeluCompiledExactOps2T(benchmark::State& s) { run(s, exact_ops(gelu_tanh), big(), 2.0 * 4 * (1 << 24), 2); }
void BM_GeluEager2T(benchmark::State& s) { run(s, gelu_tanh, big(), 2.0 * 4 * (1 << 24), 2); }
void BM_GeluCompiled2T(benchmark::State& s) { run(s, compile(gelu_tanh), big(), 2.0 * 4 * (1 << 24), 2); }
void BM_CopyBandwidthFloor2T(benchmark::State& s) {
  run(s, [](const Tensors& in) { return Tensors{in[0].clone()}; }, big(), 2.0 * 4 * (1 << 24), 2);
}
// The fused GELU's compute alone: 64K floats, in and out within the L2 cache, one thread (the
// time a core needs for the arithmetic, whatever the memory does; less noisy on a shared host).
void BM_GeluCompiledInCache(benchmark::State& s) {
  run(s, compile(gelu_tanh), big().narrow(0, 0, 1 << 16), 2.0 * 4 * (1 << 16));
}
// What generated code could reach: the same GELU with every value in registers (one output
// allocation, the range split over the pool like the fused kernel's).
TensorFn gelu_in_registers(int vectors_per_step) {
  return [vectors_per_step](const Tensors& in) {
    Tensor out = empty_like(in[0]);
    const float* x = in[0].data_ptr<float>();
    float* y = out.data_ptr<float>();
    parallel_for(0, in[0].numel(), 1 << 15, [&](int64_t b, int64_t e) {
      bench::gelu_register_fused(x + b, y + b, e - b, vectors_per_step);
    });
    return Tensors{out};
  };
}
void BM_GeluRegisters(benchmark::State& s) { run(s, gelu_in_registers(1), big(), 2.0 * 4 * (1 << 24)); }
void BM_GeluRegisters4(benchmark::State& s) { run(s, gelu_in_registers(4), big(), 2.0 * 4 * (1 << 24)); }
void BM_GeluRegisters4_2T(benchmark::State& s) { run(s, gelu_in_registers(4), big(), 2.0 * 4 * (1 << 24), 2); }
void BM_SoftmaxRowsEager(benchmark::State& s) { run(s, softmax_rows, big().view({4096, 4096}), 2.0 * 4 * (1 << 24)); }
void BM_SoftmaxRowsCompiled(benchmark::State& s) {
  run(s, compile(softmax_rows), big().view({4096, 4096}), 2.0 * 4 * (1 << 24));
}
void BM_SoftmaxRowsInterpreted(benchmark::State& s) {
  run(s, interpreted(softmax_rows), big().view({4096, 4096}), 2.0 * 4 * (1 << 24));
}
void BM_NormRowsInterpreted(benchmark::State& s) {
  run(s, interpreted(norm_rows), big().view({4096, 4096}), 2.0 * 4 * (1 << 24));
}
void BM_LogSumExpRowsEager(benchmark::State& s) { run(s, logsumexp_rows, big().view({4096, 4096}), 4.0 * (1 << 24)); }
void BM_LogSumExpRowsCompiled(benchmark::State& s) {
  run(s, compile(logsumexp_rows), big().view({4096, 4096}), 4.0 * (1 << 24));
}
void BM_LogSumExpRowsInterpreted(benchmark::State& s) {
  run(s, interpreted(logsumexp_rows), big().view({4096, 4096}), 4.0 * (1 << 24));
}
void BM_LayerNormOpEager(benchmark::State& s) { run(s, layer_norm_op, big().view({4096, 4096}), 2.0 * 4 * (1 << 24)); }
void BM_LayerNormOpCompiled(benchmark::State& s) {
  run(s, compile(layer_norm_op), big().view({4096, 4096}), 2.0 * 4 * (1 << 24));
}
void BM_Chain20Eager(benchmark::State& s) { run(s, chain20, big().narrow(0, 0, 1 << 22), 2.0 * 4 * (1 << 22)); }
void BM_Chain20Compiled(benchmark::State& s) { run(s, compile(chain20), big().narrow(0, 0, 1 << 22), 2.0 * 4 * (1 << 22)); }
void BM_NormRowsEager(benchmark::State& s) { run(s, norm_rows, big().view({4096, 4096}), 2.0 * 4 * (1 << 24)); }
void BM_NormRowsCompiled(benchmark::State& s) { run(s, compile(norm_rows), big().view({4096, 4096}), 2.0 * 4 * (1 << 24)); }

// The first call of a compiled GELU when its kernel is in no cache: trace, plan, generate the
// source, run the C++ compiler, load (a fresh cache directory each time).
void BM_FirstCallBuildsKernel(benchmark::State& state) {
  const Tensor x = ones({1});
  const char* saved = std::getenv("RICCI_CACHE_DIR");
  const std::string keep = saved ? saved : "";
  const std::filesystem::path root = std::filesystem::temp_directory_path() / ("ricci-bench-" + std::to_string(getpid()));
  int i = 0;
  for (auto _ : state) {
    ::setenv("RICCI_CACHE_DIR", (root / std::to_string(i++)).c_str(), 1);
    compile_detail::forget_loaded_kernels_for_testing();
    benchmark::DoNotOptimize(compile(gelu_tanh)({x}));
  }
  if (saved) ::setenv("RICCI_CACHE_DIR", keep.c_str(), 1);
  else ::unsetenv("RICCI_CACHE_DIR");
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}
void BM_FirstCallTrace(benchmark::State& state) {
  const Tensor x = ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(compile(gelu_tanh)({x}));  // a fresh cache each time
}
void BM_CachedCallTiny(benchmark::State& state) {
  const Tensor x = ones({1});
  const TensorFn f = compile(gelu_tanh);
  f({x});
  for (auto _ : state) benchmark::DoNotOptimize(f({x}));
}
void BM_EagerCallTiny(benchmark::State& state) {
  const Tensor x = ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(gelu_tanh({x}));
}

BENCHMARK(BM_GeluEager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluCompiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluCompiledExactOps)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluInterpreted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyBandwidthFloor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluCompiledInCache)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GeluRegisters)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluRegisters4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluEager2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluCompiled2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluCompiledExactOps2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluInterpreted2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyBandwidthFloor2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeluRegisters4_2T)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Chain20Eager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Chain20Compiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Chain20Interpreted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormRowsEager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormRowsCompiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SoftmaxRowsEager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SoftmaxRowsCompiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SoftmaxRowsInterpreted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NormRowsInterpreted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogSumExpRowsEager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogSumExpRowsCompiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogSumExpRowsInterpreted)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LayerNormOpEager)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LayerNormOpCompiled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FirstCallBuildsKernel)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_FirstCallTrace)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CachedCallTiny)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EagerCallTiny)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
