// The vectorised reduction kernels (src/backend/cpu/reduce_hwy.cpp, reduce_sum_f32.cpp and the
// fast paths of the engine, var, logsumexp and argmax): values against a float64 reference on
// row and column reductions, contiguous, transposed and sliced, at sizes around the vector and
// row-block widths, with NaN and infinities; under every instruction set this CPU runs.
#include <hwy/targets.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Sizes around the vector widths (4, 8, 16 floats), the unrolled groups (64, 128) and the row
// blocks of the column kernels (8, 4, 2, 1 rows).
const std::vector<int64_t> kRowLens = {1, 7, 16, 33, 130, 4097};
const std::vector<int64_t> kRowCounts = {1, 3, 9, 15};

// The reference of a 2-D x reduced along dim (0 or 1), in float64: one group per output.
std::vector<std::vector<double>> groups(const Tensor& x, int64_t dim) {
  const auto v = values(x);
  const int64_t r = x.size(0), c = x.size(1);
  std::vector<std::vector<double>> g(static_cast<size_t>(dim == 0 ? c : r));
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) g[static_cast<size_t>(dim == 0 ? j : i)].push_back(v[static_cast<size_t>(i * c + j)]);
  return g;
}

template <class F>
std::vector<double> ref(const Tensor& x, int64_t dim, F f) {
  std::vector<double> out;
  for (const auto& g : groups(x, dim)) out.push_back(f(g));
  return out;
}

double rsum(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += v;
  return s;
}
double rext(const std::vector<double>& g, bool is_max) {
  double m = is_max ? -kInf : kInf;
  for (double v : g) {
    if (std::isnan(v)) return v;
    m = is_max ? std::max(m, v) : std::min(m, v);
  }
  return m;
}
double rarg(const std::vector<double>& g, bool is_max) {
  for (size_t i = 0; i < g.size(); ++i)
    if (std::isnan(g[i])) return static_cast<double>(i);
  const double m = rext(g, is_max);
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i] == m) return static_cast<double>(i);
  return -1;
}
double rvar(const std::vector<double>& g, double correction) {
  const double mu = rsum(g) / static_cast<double>(g.size());
  double s = 0;
  for (double v : g) s += (v - mu) * (v - mu);
  return s / std::max(0.0, static_cast<double>(g.size()) - correction);
}
double rlse(const std::vector<double>& g) {
  const double m = rext(g, true);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double v : g) s += std::exp(v - m);
  return std::log(s) + m;
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double rtol = 1e-5, double atol = 1e-5) {
  const auto v = values(t);
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(v[i])) << "element " << i << " is " << v[i];
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(v[i], expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(v[i], expected[i], atol + rtol * std::abs(expected[i])) << "element " << i;
    }
  }
}

// The same (r, c) values as a contiguous tensor, as the transpose of a contiguous (c, r) one,
// and as a strided slice of a wider tensor (rows not adjacent in memory).
std::vector<std::pair<std::string, Tensor>> layouts(int64_t r, int64_t c, DType dtype = float32) {
  const Tensor base = randn({r, c}, float64);
  std::vector<std::pair<std::string, Tensor>> out;
  out.push_back({"contiguous", base.to(dtype)});
  out.push_back({"transposed", base.t().contiguous().to(dtype).t()});
  Tensor wide = zeros({r, 2 * c + 3}, TensorOptions(float64));
  wide.slice(1, 1, 2 * c + 1, 2).copy_(base);
  out.push_back({"sliced", wide.to(dtype).slice(1, 1, 2 * c + 1, 2)});
  return out;
}

// Restricts Highway's run-time dispatch to one instruction set, so the AVX2 and portable
// versions of the kernels run on an AVX-512 machine too (libhwy is shared with the library).
struct Target {
  const char* name;
  int64_t mask;  // 0: every target the CPU supports
};

class ReduceKernels : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    manual_seed(11);
    if (GetParam().mask == 0) return;
    if (GetParam().mask == HWY_AVX2 && !__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2";
    hwy::SetSupportedTargetsForTest(GetParam().mask);
  }
  void TearDown() override {
    if (GetParam().mask != 0) hwy::SetSupportedTargetsForTest(0);
  }
};

INSTANTIATE_TEST_SUITE_P(Targets, ReduceKernels,
                         ::testing::Values(Target{"native", 0}, Target{"avx2", HWY_AVX2},
                                           Target{"portable", HWY_STATIC_TARGET}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(ReduceKernels, SumAndMeanRowsAndColumns) {
  for (int64_t r : kRowCounts) {
    for (int64_t c : kRowLens) {
      for (auto& [name, x] : layouts(r, c)) {
        SCOPED_TRACE(name + " " + std::to_string(r) + "x" + std::to_string(c));
        for (int64_t dim : {0, 1}) {
          expect_values(x.sum({dim}), ref(x, dim, rsum));
          expect_values(x.mean({dim}), ref(x, dim, [](const auto& g) { return rsum(g) / static_cast<double>(g.size()); }));
        }
      }
    }
  }
}

TEST_P(ReduceKernels, AmaxAminRowsAndColumns) {
  for (int64_t r : kRowCounts) {
    for (int64_t c : kRowLens) {
      for (auto& [name, x] : layouts(r, c)) {
        SCOPED_TRACE(name + " " + std::to_string(r) + "x" + std::to_string(c));
        for (int64_t dim : {0, 1}) {
          expect_values(x.amax({dim}), ref(x, dim, [](const auto& g) { return rext(g, true); }), 0, 0);
          expect_values(x.amin({dim}), ref(x, dim, [](const auto& g) { return rext(g, false); }), 0, 0);
        }
      }
    }
  }
}

// NaN at the start, inside the unrolled body and in the scalar tail of a row; in columns, a NaN
// in one column leaves its neighbours alone, and infinities are ordinary values.
TEST_P(ReduceKernels, ExtremaPropagateNaN) {
  for (int64_t c : {7, 33, 130, 4097}) {
    // Every lane slot of a 4 x 16-float loop step (pairs share one NaN test), the middle, the tail.
    for (int64_t pos : {int64_t{0}, int64_t{17}, int64_t{40}, int64_t{60}, c / 2, c - 1}) {
      if (pos >= c) continue;
      Tensor x = randn({5, c}, float64);
      x.select(0, 1).fill_(-kInf);
      x.select(0, 2).narrow(0, pos, 1).fill_(kNaN);
      x.select(0, 3).narrow(0, pos, 1).fill_(kInf);
      x.select(0, 4).narrow(0, pos, 1).fill_(-kInf);
      SCOPED_TRACE("c " + std::to_string(c) + " pos " + std::to_string(pos));
      for (auto& [name, xf] : std::vector<std::pair<std::string, Tensor>>{{"rows", x.to(float32)}, {"columns", x.t().contiguous().to(float32).t()}}) {
        SCOPED_TRACE(name);
        for (bool is_max : {true, false}) {
          const auto want = ref(xf, 1, [is_max](const auto& g) { return rext(g, is_max); });
          expect_values(is_max ? xf.amax({1}) : xf.amin({1}), want, 0, 0);
          const auto got_arg = values(is_max ? xf.argmax(1) : xf.argmin(1));
          EXPECT_EQ(got_arg, ref(xf, 1, [is_max](const auto& g) { return rarg(g, is_max); }));
          const Tensor xt = xf.t();  // the same groups as columns of the transpose: the tile path
          expect_values(is_max ? xt.amax({0}) : xt.amin({0}), want, 0, 0);
        }
      }
    }
  }
}

TEST_P(ReduceKernels, ArgmaxArgminFirstIndexAndValues) {
  for (int64_t c : kRowLens) {
    // Few distinct values: ties everywhere, the first must win.
    Tensor x = randint(0, 4, {6, c}, TensorOptions(float64));
    for (auto& [name, xf] : std::vector<std::pair<std::string, Tensor>>{{"contiguous", x.to(float32)}, {"transposed", x.t().contiguous().to(float32).t()}}) {
      SCOPED_TRACE(name + " c " + std::to_string(c));
      for (bool is_max : {true, false}) {
        const auto want = ref(xf, 1, [is_max](const auto& g) { return rarg(g, is_max); });
        EXPECT_EQ(values(is_max ? xf.argmax(1) : xf.argmin(1)), want);
        auto [v, i] = is_max ? max(xf, 1, true) : min(xf, 1, true);
        EXPECT_EQ(i.shape(), IntArrayRef({6, 1}));
        EXPECT_EQ(values(i), want);
        expect_values(v, ref(xf, 1, [is_max](const auto& g) { return rext(g, is_max); }), 0, 0);
      }
    }
  }
}

TEST_P(ReduceKernels, VarStdRows) {
  for (int64_t c : kRowLens) {
    for (auto& [name, x] : layouts(5, c)) {
      SCOPED_TRACE(name + " c " + std::to_string(c));
      for (int64_t corr : {0, 1}) {
        expect_values(x.var({1}, corr), ref(x, 1, [corr](const auto& g) { return rvar(g, static_cast<double>(corr)); }), 1e-4);
        expect_values(x.std({1}, corr, true), ref(x, 1, [corr](const auto& g) { return std::sqrt(rvar(g, static_cast<double>(corr))); }), 1e-4);
      }
    }
  }
}

// A large mean next to a small spread: the float32 deviations must not lose the variance.
TEST_P(ReduceKernels, VarWithLargeMeanIsAccurate) {
  Tensor x64 = randn({4, 4097}, float64) * 0.01 + 1000.0;
  Tensor x = x64.to(float32);
  expect_values(x.var({1}), ref(x, 1, [](const auto& g) { return rvar(g, 1); }), 1e-4, 0);
}

TEST_P(ReduceKernels, VarEdgeCases) {
  Tensor x = randn({4, 130});
  x.select(0, 1).narrow(0, 70, 1).fill_(kNaN);
  x.select(0, 2).narrow(0, 3, 1).fill_(kInf);
  const Tensor v = x.var({1});
  EXPECT_FALSE(std::isnan(values(v)[0]));
  EXPECT_TRUE(std::isnan(values(v)[1]));
  EXPECT_TRUE(std::isnan(values(v)[2]));
  // One element and correction 1: 0 / 0.
  EXPECT_TRUE(std::isnan(values(randn({3, 1}).var({1}))[0]));
  EXPECT_EQ(values(randn({3, 1}).var({1}, 0)), std::vector<double>(3, 0.0));
  // An empty reduced range.
  const auto e = values(empty({3, 0}).var({1}));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(std::isnan(e[0]));
}

TEST_P(ReduceKernels, LogsumexpColumns) {
  for (int64_t r : kRowCounts) {
    for (int64_t c : {int64_t{1}, int64_t{33}, int64_t{1030}}) {  // 1030: two column blocks
      const Tensor x = randn({r, c}) * 30.0;
      SCOPED_TRACE(std::to_string(r) + "x" + std::to_string(c));
      expect_values(x.logsumexp({0}), ref(x, 0, rlse), 1e-5);
      expect_values(x.logsumexp({0}, true), ref(x, 0, rlse), 1e-5);
    }
  }
}

TEST_P(ReduceKernels, LogsumexpRows) {
  for (int64_t c : kRowLens) {
    for (auto& [name, x] : layouts(5, c)) {
      SCOPED_TRACE(name + " c " + std::to_string(c));
      const Tensor big = x * 30.0;  // wide range: exp underflows for most terms
      expect_values(big.logsumexp({1}), ref(big, 1, rlse), 1e-5);
      expect_values(x.logsumexp({1}, true), ref(x, 1, rlse), 1e-5);
    }
  }
}

TEST_P(ReduceKernels, LogsumexpNonFinite) {
  Tensor x = randn({5, 33}, float64);
  x.select(0, 0).fill_(-kInf);                       // all -inf: -inf
  x.select(0, 1).narrow(0, 5, 3).fill_(-kInf);       // some -inf: ignored
  x.select(0, 2).narrow(0, 20, 1).fill_(kInf);       // +inf: inf
  x.select(0, 3).narrow(0, 32, 1).fill_(kNaN);       // NaN: NaN
  x.select(0, 4).narrow(0, 0, 1).fill_(-kInf);
  x.select(0, 4).narrow(0, 1, 1).fill_(kInf);        // -inf and +inf: inf
  const Tensor xf = x.to(float32);
  expect_values(xf.logsumexp({1}), ref(xf, 1, rlse));
  const Tensor xc = x.t().contiguous().to(float32).t();  // the same groups as columns
  expect_values(xc.logsumexp({1}), ref(xc, 1, rlse));
  expect_values(xf.t().logsumexp({0}), ref(xf, 1, rlse));
  EXPECT_EQ(values(empty({2, 0}).logsumexp({1})), std::vector<double>(2, -kInf));
  EXPECT_EQ(values(empty({0, 2}).logsumexp({0})), std::vector<double>(2, -kInf));
}

TEST_P(ReduceKernels, ColumnSumsAreBlockedAndSplit) {
  // 0.1f summed 200000 times down a column: a running float32 sum would drift by ~1%; the float64
  // reference of the same float values is met to near float64 precision. Two threads split the
  // rows (few outputs, long reductions) and merge.
  for (int threads : {1, 2}) {
    const int prev = get_num_threads();
    set_num_threads(threads);
    Tensor x = full({200000, 3}, 0.1, TensorOptions(float32));
    const double want = 200000.0 * static_cast<double>(0.1f);
    expect_values(x.sum({0}), {want, want, want}, 1e-7, 0);
    expect_values(x.t().sum({1}), {want, want, want}, 1e-7, 0);
    expect_values(x.mean({0}), {0.1, 0.1, 0.1}, 1e-6, 0);
    Tensor y = randn({70001, 40});
    expect_values(y.sum({0}), ref(y, 0, rsum), 1e-5, 1e-3);
    expect_values(y.amax({0}), ref(y, 0, [](const auto& g) { return rext(g, true); }), 0, 0);
    set_num_threads(prev);
  }
}

TEST_P(ReduceKernels, KeepdimAndEmpty) {
  Tensor x = randn({3, 33});
  EXPECT_EQ(x.sum({1}, true).shape(), IntArrayRef({3, 1}));
  EXPECT_EQ(x.amax({0}, true).shape(), IntArrayRef({1, 33}));
  EXPECT_EQ(x.var({1}, 1, true).shape(), IntArrayRef({3, 1}));
  EXPECT_EQ(x.logsumexp({0}, true).shape(), IntArrayRef({1, 33}));
  expect_values(x.amax({0}, true), ref(x, 0, [](const auto& g) { return rext(g, true); }), 0, 0);
  // Empty reduced ranges: the identities.
  expect_values(empty({4, 0}).sum({1}), std::vector<double>(4, 0.0));
  expect_values(empty({0, 4}).sum({0}), std::vector<double>(4, 0.0));
  EXPECT_EQ(empty({0, 4}).sum({1}).numel(), 0);
  EXPECT_EQ(empty({0, 4}).amax({1}).numel(), 0);
}

// The dtypes that keep the generic loops agree with the same reference on the same layouts.
TEST_P(ReduceKernels, OtherDtypesKeepTheirResults) {
  for (DType dt : {float64, float16, bfloat16, int32}) {
    for (auto& [name, x0] : layouts(9, 33, float64)) {
      const Tensor x = dt == int32 ? (x0 * 10.0).to(dt) : x0.to(dt);
      SCOPED_TRACE(name + " " + std::string(dtype_name(dt)));
      const double tol = dt == float16 ? 2e-3 : dt == bfloat16 ? 1e-2 : 1e-6;
      for (int64_t dim : {0, 1}) {
        expect_values(x.sum({dim}), ref(x, dim, rsum), tol, tol * 10);
        expect_values(x.amax({dim}), ref(x, dim, [](const auto& g) { return rext(g, true); }), 0, 0);
        EXPECT_EQ(values(x.argmax(dim)), ref(x, dim, [](const auto& g) { return rarg(g, true); }));
        if (dt != int32) {
          expect_values(x.var({dim}), ref(x, dim, [](const auto& g) { return rvar(g, 1); }), tol * 10, tol * 10);
          expect_values(x.logsumexp({dim}), ref(x, dim, rlse), tol, tol * 10);
        }
      }
    }
  }
}

// RICCI_CPU_ISA caps every kernel at once (Note [Capping the instruction set]): the level the
// library reports is the CPU's best, lowered to the cap, and Highway's dispatch offers no target
// above it. ctest runs this file under each level the CPU supports.
#if defined(__x86_64__)
// CPUID bits that clang 14's __builtin_cpu_supports does not know.
bool cpu_has_f16c() {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1u);
}
bool cpu_has_avx512bf16() {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1u);
}
#endif

TEST(CpuIsaCap, LevelAndHighwayTargetsFollowTheCap) {
  const std::vector<std::string> levels = {"portable", "avx2", "avx512", "avx512bf16"};
  int best = 0;
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) {
    best = 1;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
      best = 2;
      if (cpu_has_avx512bf16()) best = 3;
    }
  }
#endif
  int want = best;
  if (const char* env = std::getenv("RICCI_CPU_ISA"))
    for (int i = 0; i < static_cast<int>(levels.size()); ++i)
      if (levels[static_cast<size_t>(i)] == env) want = std::min(best, i);
  EXPECT_EQ(std::string(cpu_isa_name()), levels[static_cast<size_t>(want)]);
  const int64_t targets = hwy::SupportedTargets();
  if (want == 0) {
    EXPECT_EQ(targets & (HWY_STATIC_TARGET - 1), 0) << std::hex << targets;
  }
  if (want == 1) {
    EXPECT_EQ(targets & (HWY_AVX2 - 1), 0) << std::hex << targets;
    EXPECT_NE(targets & HWY_AVX2, 0) << std::hex << targets;
  }
  if (want >= 2) {
    EXPECT_NE(targets & HWY_AVX3, 0) << std::hex << targets;
  }
}

}  // namespace
