// compile()'s fused kernels as generated machine code (Note [Generated kernels],
// src/compile/codegen.cpp): the same values as the interpreter, bit for bit, for every op the
// generator takes; the disk cache; the fallback when no compiler works.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>

#include "compile/codegen.h"
#include "ricci/ricci.h"

using namespace ricci;

namespace {

TensorFn compiled(TensorFn f, bool generate, bool stable_rewrites = true) {
  CompileOptions o;
  o.generate_code = generate;
  o.stable_rewrites = stable_rewrites;
  return compile(std::move(f), o);
}

// Generated code needs AVX2; under RICCI_CPU_ISA=portable every kernel is the interpreter.
bool codegen_possible() { return !compile_detail::codegen_isa_flags().empty(); }

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), static_cast<size_t>(x.numel()) * x.element_size()) == 0;
}

// Values across the range, with the special ones each function's scalar code handles.
Tensor awkward_values(int64_t n, DType dt, unsigned seed) {
  Tensor x = (randn({n}, float64) * 4).to(dt);
  const double specials[] = {0.0, -0.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), 1e35, -1e35, 90.0, -90.0, 1e-40, -1.0, 0.5};
  std::mt19937 rng(seed);
  for (double v : specials) {
    const int64_t at = static_cast<int64_t>(rng() % static_cast<unsigned>(n));
    x.narrow(0, at, 1).fill_(v);
  }
  return x;
}

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  bool float64;  // the generator takes it in float64 too
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return -x; }, true},
      {"abs", [](const Tensor& x) { return x.abs(); }, true},
      {"sqrt", [](const Tensor& x) { return x.sqrt(); }, true},
      {"rsqrt", [](const Tensor& x) { return x.rsqrt(); }, false},
      {"square", [](const Tensor& x) { return x.square(); }, true},
      {"reciprocal", [](const Tensor& x) { return x.reciprocal(); }, true},
      {"relu", [](const Tensor& x) { return x.relu(); }, true},
      {"floor", [](const Tensor& x) { return x.floor(); }, true},
      {"ceil", [](const Tensor& x) { return x.ceil(); }, true},
      {"round", [](const Tensor& x) { return x.round(); }, true},
      {"trunc", [](const Tensor& x) { return x.trunc(); }, true},
      {"exp", [](const Tensor& x) { return x.exp(); }, false},
      {"expm1", [](const Tensor& x) { return x.expm1(); }, false},
      {"log", [](const Tensor& x) { return x.log(); }, false},
      {"log2", [](const Tensor& x) { return x.log2(); }, false},
      {"log10", [](const Tensor& x) { return x.log10(); }, false},
      {"log1p", [](const Tensor& x) { return x.log1p(); }, false},
      {"tanh", [](const Tensor& x) { return x.tanh(); }, false},
      {"sigmoid", [](const Tensor& x) { return x.sigmoid(); }, false},
      {"silu", [](const Tensor& x) { return silu(x); }, false},
      {"erf", [](const Tensor& x) { return x.erf(); }, false},
      {"gelu", [](const Tensor& x) { return gelu(x); }, false},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, false},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 15.0); }, false},
  };
}

}  // namespace

// The nine-op GELU: one kernel, generated, equal to the interpreter bit for bit, at lengths around
// the vector width and the four-vector step (tails), with NaN, inf and huge values; with the
// stable rewrites off (f's own ops: tanh) equal to eager too, and with them on (2 sigmoid(2u) for
// 1 + tanh(u), Note [1 + tanh]) generated and interpreted still agree bit for bit.
TEST(CompileCodegen, GeluIsTheInterpretersBitForBit) {
  auto gelu9 = [](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
  };
  for (bool rewrites : {false, true}) {
    for (int64_t n : {1, 7, 8, 9, 31, 32, 33, 40, 1000, 100003}) {
      const Tensor x = awkward_values(n, float32, static_cast<unsigned>(n));
      TensorFn gen = compiled(gelu9, true, rewrites), interp = compiled(gelu9, false, rewrites);
      const Tensor g = gen({x})[0], i = interp({x})[0], e = gelu9({x})[0];
      EXPECT_TRUE(same_bits(g, i)) << "n = " << n << (rewrites ? ", rewritten" : "");
      if (!rewrites) {
        EXPECT_TRUE(same_bits(i, e)) << "n = " << n;
      }
      const CompileStats st = compile_stats(gen);
      EXPECT_EQ(st.fused_groups, 1);
      EXPECT_EQ(st.fused_ops, rewrites ? 7 : 9);  // x * sigmoid(u * 2c) (test_compile.cpp)
      if (codegen_possible()) {
        EXPECT_EQ(st.generated_kernels, 1) << st.codegen_failure;
      } else {
        EXPECT_EQ(st.generated_kernels, 0);
      }
      EXPECT_EQ(compile_stats(interp).generated_kernels, 0);
    }
  }
}

// Every op the generator writes itself, in float32 (and float64 where it takes it), against the
// interpreter: the same vector functions behind the same range checks, the same scalar code for
// special values and tails.
TEST(CompileCodegen, EveryGeneratedOpIsTheInterpretersBitForBit) {
  for (const UnaryCase& c : unary_cases()) {
    for (DType dt : {float32, float64}) {
      auto f = [&c](const Tensors& in) { return Tensors{c.op(in[0] * 1.5 + 0.25) * 2}; };
      const Tensor x = awkward_values(4099, dt, 3);
      TensorFn gen = compiled(f, true), interp = compiled(f, false);
      const Tensor g = gen({x})[0], i = interp({x})[0];
      EXPECT_TRUE(same_bits(g, i)) << c.name << " " << dtype_name(dt);
      const CompileStats st = compile_stats(gen);
      const bool taken = dt == float32 || c.float64;
      if (codegen_possible()) {
        EXPECT_EQ(st.generated_kernels, taken ? 1 : 0) << c.name << " " << dtype_name(dt) << ": " << st.codegen_failure;
      }
    }
  }
}

// Inputs that are one value along each run (a column broadcast over rows), a row broadcast over
// the rows, several outputs, an op on uniform values only, add/sub with alpha; and a transposed
// input, which the generator does not take (the interpreter runs that layout).
TEST(CompileCodegen, BroadcastInputsSeveralOutputsAndFallbackLayouts) {
  auto f = [](const Tensors& in) {
    const Tensor col = in[1].expand({64, 3000});
    const Tensor e = col.exp() * 2;  // uniform along each run: computed once per run
    const Tensor mid = add(e, in[0], 0.75) - in[2];
    return Tensors{e, sub(mid * mid, in[2], 3.0), mid.tanh()};
  };
  const Tensors in = {randn({64, 3000}), randn({64, 1}), randn({3000})};
  TensorFn gen = compiled(f, true), interp = compiled(f, false);
  const Tensors g = gen(in), i = interp(in), e = f(in);
  ASSERT_EQ(g.size(), 3u);
  for (size_t j = 0; j < g.size(); ++j) {
    EXPECT_TRUE(same_bits(g[j], i[j])) << "output " << j;
    EXPECT_TRUE(allclose(g[j], e[j], 1e-6, 1e-5)) << "output " << j;
  }
  if (codegen_possible()) {
    EXPECT_EQ(compile_stats(gen).generated_kernels, 1) << compile_stats(gen).codegen_failure;
  }

  // The same function on a transposed first input: another signature, another layout.
  const Tensors t = {randn({3000, 64}).t(), in[1], in[2]};
  TensorFn gen_t = compiled(f, true);
  const Tensors gt = gen_t(t), et = f(t);
  for (size_t j = 0; j < gt.size(); ++j) EXPECT_TRUE(allclose(gt[j], et[j], 1e-6, 1e-5)) << "output " << j;
  EXPECT_EQ(compile_stats(gen_t).generated_kernels, 0);
}

// Two threads split the runs; a shapeless function meets several lengths (each its own runs).
TEST(CompileCodegen, ThreadsAndShapeless) {
  auto f = [](const Tensors& in) { return Tensors{(in[0] * 0.3).sigmoid() * in[0] - in[1]}; };
  CompileOptions o;
  o.generate_code = true;
  o.shapeless = true;
  TensorFn gen = compile(f, o);
  const int threads = get_num_threads();
  set_num_threads(2);
  for (int64_t n : {5, 70000, 300001}) {
    const Tensors in = {randn({n}), randn({n})};
    const Tensor g = gen(in)[0];
    EXPECT_TRUE(same_bits(g, compiled(f, false)(in)[0])) << n;
  }
  set_num_threads(threads);
  EXPECT_EQ(compile_stats(gen).traces, 1);
}

// A kernel is built once: a later process finds it in the cache directory (here: this process,
// after forgetting what it loaded, pointed at a copy of the directory); a corrupt file in the
// cache is rebuilt, never loaded.
TEST(CompileCodegen, DiskCacheServesLaterProcessesAndSurvivesCorruptFiles) {
  if (!codegen_possible()) GTEST_SKIP() << "generated code needs AVX2";
  namespace fs = std::filesystem;
  std::random_device rd;
  const fs::path root = fs::temp_directory_path() / ("ricci-codegen-test-" + std::to_string(rd()));
  const std::string saved = std::getenv("RICCI_CACHE_DIR") ? std::getenv("RICCI_CACHE_DIR") : "";
  auto use_dir = [&](const std::string& d) { ::setenv("RICCI_CACHE_DIR", (root / d).c_str(), 1); };
  const double c = 1.0 + static_cast<double>(rd() % 1000000) * 1e-9;  // a kernel no earlier run built
  auto f = [c](const Tensors& in) { return Tensors{(in[0] * c).exp() + 1}; };
  const Tensor x = randn({1000});

  use_dir("a");
  const compile_detail::CodegenCounters before = compile_detail::codegen_counters();
  const Tensor first = compiled(f, true)({x})[0];
  const compile_detail::CodegenCounters built = compile_detail::codegen_counters();
  EXPECT_EQ(built.compiled, before.compiled + 1);
  fs::path so;
  for (const auto& e : fs::directory_iterator(root / "a" / "kernels"))
    if (e.path().extension() == ".so") so = e.path();
  ASSERT_FALSE(so.empty());
  EXPECT_TRUE(fs::exists(fs::path(so).replace_extension(".cpp")));  // the source stays beside it

  // "Another process": a copy of the cache, nothing loaded.
  fs::create_directories(root / "b" / "kernels");
  fs::copy_file(so, root / "b" / "kernels" / so.filename());
  compile_detail::forget_loaded_kernels_for_testing();
  use_dir("b");
  const Tensor second = compiled(f, true)({x})[0];
  const compile_detail::CodegenCounters loaded = compile_detail::codegen_counters();
  EXPECT_EQ(loaded.compiled, built.compiled);
  EXPECT_EQ(loaded.loaded_from_disk, built.loaded_from_disk + 1);
  EXPECT_TRUE(same_bits(first, second));

  // A corrupt file where the kernel would be: rebuilt.
  fs::create_directories(root / "c" / "kernels");
  { std::ofstream(root / "c" / "kernels" / so.filename()) << "not a shared library"; }
  compile_detail::forget_loaded_kernels_for_testing();
  use_dir("c");
  const Tensor third = compiled(f, true)({x})[0];
  EXPECT_EQ(compile_detail::codegen_counters().compiled, loaded.compiled + 1);
  EXPECT_TRUE(same_bits(first, third));

  if (saved.empty()) ::unsetenv("RICCI_CACHE_DIR");
  else ::setenv("RICCI_CACHE_DIR", saved.c_str(), 1);
  std::error_code ec;
  fs::remove_all(root, ec);
}

// No working compiler: every kernel runs as the interpreter, with the same values, and the stats
// say why.
TEST(CompileCodegen, WithoutACompilerTheInterpreterRuns) {
  if (!codegen_possible()) GTEST_SKIP() << "generated code needs AVX2";
  std::random_device rd;
  const double c = 2.0 + static_cast<double>(rd() % 1000000) * 1e-9;
  auto f = [c](const Tensors& in) { return Tensors{(in[0] * c).tanh() - 1}; };
  const Tensor x = randn({5000});
  ::setenv("RICCI_JIT_CXX", "/nonexistent/c++", 1);
  TensorFn gen = compiled(f, true);
  const Tensor g = gen({x})[0];
  ::unsetenv("RICCI_JIT_CXX");
  EXPECT_TRUE(same_bits(g, compiled(f, false)({x})[0]));
  const CompileStats st = compile_stats(gen);
  EXPECT_EQ(st.generated_kernels, 0);
  EXPECT_NE(st.codegen_failure.find("could not be run"), std::string::npos) << st.codegen_failure;
}

// A run that ends in a reduction over the last dim: when the reduced value is written out (the
// softmax's exp, which its division reads again) the generated kernel writes each row and the
// rows are reduced chunk by chunk as the interpreter reduces them: the same values, bit for bit,
// for sum, mean, amax and amin, rows shorter and longer than a chunk, NaN and inf in the rows,
// float32 and float64. A reduced value that is never written out (the square inside a norm) is
// written to a row buffer of the thread and reduced from there, the same way.
TEST(CompileCodegen, ReductionEpilogueIsTheInterpretersBitForBit) {
  using Reduce = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, Reduce>> reductions = {
      {"sum", [](const Tensor& e) { return e.sum({-1}, true); }},
      {"mean", [](const Tensor& e) { return e.mean({-1}, true); }},
      {"amax", [](const Tensor& e) { return e.amax({-1}, true); }},
      {"amin", [](const Tensor& e) { return e.amin({-1}, true); }},
  };
  for (DType dt : {float32, float64}) {
    for (const auto& entry : reductions) {
      const char* name = entry.first;
      const Reduce reduce = entry.second;  // (clang 14 cannot capture a structured binding)
      auto softmaxish = [reduce](const Tensors& in) {
        const Tensor& x = in[0];
        const Tensor e = (x - x.amax({-1}, true)).exp() * 1.5 + 0.25;
        return Tensors{e / reduce(e)};
      };
      for (int64_t len : {7, 1000, 1025, 3000}) {
        Tensor x = awkward_values(6 * len, dt, static_cast<unsigned>(len)).reshape({6, len});
        x.narrow(0, 2, 1).fill_(1.0);  // a row of equal values
        TensorFn gen = compiled(softmaxish, true), interp = compiled(softmaxish, false);
        const Tensor g = gen({x})[0], i = interp({x})[0];
        EXPECT_TRUE(same_bits(g, i)) << name << " len " << len << " " << dtype_name(dt);
        if (codegen_possible() && dt == float32) {  // (float64 exp has no vector form to generate)
          EXPECT_GE(compile_stats(gen).generated_kernels, 1) << name << " " << compile_stats(gen).codegen_failure;
        }
      }
    }
  }
  // The reduced value only inside the run.
  auto norm = [](const Tensors& in) {
    const Tensor d = in[0] - in[0].mean({-1}, true);
    return Tensors{d * ((d * d * 0.5).mean({-1}, true) + 1e-5).rsqrt()};
  };
  for (int64_t len : {5, 1024, 3000}) {
    const Tensor x = awkward_values(8 * len, float32, static_cast<unsigned>(len) + 1).reshape({8, len});
    TensorFn gen = compiled(norm, true);
    EXPECT_TRUE(same_bits(gen({x})[0], compiled(norm, false)({x})[0])) << "norm, len " << len;
    if (codegen_possible()) {
      EXPECT_GE(compile_stats(gen).generated_kernels, 1) << compile_stats(gen).codegen_failure;
    }
  }
  // A reduced value that is one value along each row (it reads only a [R, 1] statistic): the
  // interpreter's one-multiply sum, not a generated row.
  auto uniform_rows = [](const Tensors& in) {
    const Tensor m = in[0].amax({-1}, true);
    return Tensors{(m.expand(in[0].shape()) * 2).sum({-1}, true) + in[0]};
  };
  const Tensor u = awkward_values(4 * 3000, float32, 7).reshape({4, 3000});
  EXPECT_TRUE(same_bits(compiled(uniform_rows, true)({u})[0], compiled(uniform_rows, false)({u})[0]));
}
