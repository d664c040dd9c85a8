// compile(f) (include/ricci/compile.h): tracing and the cache, simplification, fusion against
// eager on random elementwise DAGs, randomness, value reads, and composition with transforms.
#include <cmath>
#include <random>

#include "ricci/compile.h"
#include "test_util.h"

namespace ricci {
namespace {

TEST(Compile, TracesOncePerSignatureAndNeverGoesStale) {
  int calls = 0;
  TensorFn f = compile([&calls](const Tensors& in) {
    ++calls;
    return Tensors{in[0] * 2 + 1};
  });
  const Tensor a = arange(6).to(float32).reshape({2, 3});
  EXPECT_TRUE(allclose(f({a})[0], a * 2 + 1, 0, 0));
  EXPECT_TRUE(allclose(f({a + 1})[0], (a + 1) * 2 + 1, 0, 0));
  EXPECT_EQ(calls, 1);  // the second call replays the cached program
  EXPECT_EQ(compile_stats(f).traces, 1);
  const Tensor b = ones({4});
  EXPECT_TRUE(allclose(f({b})[0], b * 2 + 1, 0, 0));  // another shape: traced again
  const Tensor c = ones({4}, float64);
  EXPECT_EQ(f({c})[0].dtype(), float64);  // another dtype: traced again
  EXPECT_EQ(compile_stats(f).traces, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_THROW_MSG(compile_stats([](const Tensors& in) { return in; }), ValueError, "[compile_stats]");
}

TEST(Compile, ShapelessServesEveryShape) {
  TensorFn f = compile([](const Tensors& in) { return Tensors{(in[0] * in[0]).exp()}; }, {.shapeless = true});
  for (int64_t n : {3, 7, 100}) {
    const Tensor x = randn({n});
    EXPECT_TRUE(allclose(f({x})[0], (x * x).exp(), 0, 0));
  }
  EXPECT_EQ(compile_stats(f).traces, 1);
}

TEST(Compile, SimplifiesCommonSubexpressionsAndNoOps) {
  TensorFn f = compile([](const Tensors& in) {
    const Tensor& x = in[0];
    Tensor unused = x.exp();  // dead: no output reads it
    (void)unused;
    Tensor a = x * 2, b = x * 2;        // one of them is enough
    Tensor r = (a + b).reshape({2, 3});  // a reshape to the shape it has
    return Tensors{r};
  });
  const Tensor x = randn({2, 3});
  EXPECT_TRUE(allclose(f({x})[0], x * 2 + x * 2, 0, 0));
  const CompileStats st = compile_stats(f);
  EXPECT_EQ(st.traced_ops, 4);  // mul, mul, add, reshape (the dead exp is never traced)
  EXPECT_EQ(st.ops, 2);         // mul, add
}

TEST(Compile, RemovesArithmeticIdentitiesOnly) {
  TensorFn f = compile([](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{((((x * 1) / 1) - 0).pow(1) * 1.0) * 3, 1 * x + 0};
  });
  const Tensor x = from_vector(std::vector<float>{-0.0f, 1.5f, NAN, -INFINITY}, {4});
  const Tensors got = f({x});
  EXPECT_TRUE(allclose(got[0], x * 3, 0, 0, /*equal_nan=*/true));
  const CompileStats st = compile_stats(f);
  EXPECT_EQ(st.traced_ops, 8);
  EXPECT_EQ(st.ops, 2);  // x * 3 and x + 0 (not an identity: -0 + 0 is +0)
  EXPECT_FALSE(std::signbit(got[1].to_vector<float>()[0]));
  // An identity that changes the dtype is a cast, not a no-op.
  TensorFn g = compile([](const Tensors& in) { return Tensors{in[0] * 1.0}; });
  const Tensor i = arange(3);
  EXPECT_EQ(g({i})[0].dtype(), float32);
  EXPECT_EQ(compile_stats(g).ops, 1);
}

// Random DAGs of 1-30 elementwise ops over broadcasting and non-contiguous inputs of every
// floating dtype, compiled (fused) against eager. float16/bfloat16 runs compute in float32
// without rounding between ops (Note [Fused kernels]), so they agree within their own rounding.
TEST(Compile, FusedRandomElementwiseDagsMatchEager) {
  std::mt19937 rng(7);
  const DType dtypes[] = {float32, float64, float16, bfloat16};
  int64_t fused_groups = 0;
  for (int trial = 0; trial < 48; ++trial) {
    const DType dt = dtypes[trial % 4];
    const bool half = dt == float16 || dt == bfloat16;
    const int n_ops = 1 + static_cast<int>(rng() % (half ? 6 : 30));
    const unsigned seed = static_cast<unsigned>(rng());
    auto body = [n_ops, seed](const Tensors& in) {
      std::mt19937 r(seed);
      std::vector<Tensor> pool(in.begin(), in.end());
      for (int k = 0; k < n_ops; ++k) {
        const Tensor& x = pool[r() % pool.size()];
        const Tensor& y = pool[r() % pool.size()];
        switch (r() % 10) {
          case 0: pool.push_back(x + y); break;
          case 1: pool.push_back(x * y); break;
          case 2: pool.push_back(x - y * 0.5); break;
          case 3: pool.push_back(x.tanh()); break;
          case 4: pool.push_back(maximum(x, y)); break;  // no vector loop: the eager kernel per chunk
          case 5: pool.push_back(x.sigmoid() * 2); break;
          case 6: pool.push_back(where(x > y, x, y * 0.25)); break;  // not fusable: splits the run
          case 7: pool.push_back(x.sin() / 3 + 1); break;
          case 8: pool.push_back(0.5 - x.abs()); break;
          default: pool.push_back((x * 0.1).exp()); break;
        }
      }
      return Tensors{pool.back(), pool[pool.size() / 2]};
    };
    // Big enough for several chunks per row; inputs broadcast along either dim, one transposed.
    const Tensors in = {randn({300, 200}, dt), randn({200}, dt), randn({300, 1}, dt), randn({200, 300}, dt).t()};
    TensorFn compiled = compile(body);
    const Tensors want = body(in), got = compiled(in);
    fused_groups += compile_stats(compiled).fused_groups;
    for (size_t j = 0; j < want.size(); ++j) {
      ASSERT_EQ(got[j].shape(), want[j].shape());
      ASSERT_EQ(got[j].dtype(), want[j].dtype());
      const double tol = dt == float64 ? 1e-12 : dt == float32 ? 1e-5 : dt == float16 ? 1e-2 : 4e-2;
      EXPECT_TRUE(allclose(got[j].to(float64), want[j].to(float64), tol, tol)) << "trial " << trial << " output " << j;
    }
  }
  EXPECT_GT(fused_groups, 20);  // the comparison must have compared fused kernels
}

// The fused kernel runs each op's own vector loop: a float32 chain on contiguous inputs gives
// eager's values exactly, in one kernel (with the stable rewrites off: f's own ops).
TEST(Compile, FusedFloat32ChainIsEagerBitForBit) {
  auto gelu = [](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
  };
  CompileOptions exact;
  exact.stable_rewrites = false;
  TensorFn compiled = compile(gelu, exact);
  const Tensor x = randn({5000}) * 3;
  EXPECT_TRUE(allclose(compiled({x})[0], gelu({x})[0], 0, 0));
  const CompileStats st = compile_stats(compiled);
  EXPECT_EQ(st.fused_groups, 1);
  EXPECT_EQ(st.fused_ops, 9);
}

// Note [1 + tanh]: 1 + tanh(u) runs as 2 sigmoid(2u) (1 - tanh(u) as 2 sigmoid(-2u)) where nothing
// else reads the tanh. The result stays within float32 rounding of eager's in the body and is
// accurate where eager's cancels (GELU's left tail); a tanh read twice, or of an integer, stays.
TEST(Compile, OnePlusTanhRunsAsTwoSigmoids) {
  auto gelu = [](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
  };
  TensorFn compiled = compile(gelu);
  const Tensor x = cat({randn({5000}) * 3, linspace(-9, -3, 601)});
  const Tensor got = compiled({x})[0], eager = gelu({x})[0];
  CompileStats st = compile_stats(compiled);
  EXPECT_EQ(st.traced_ops, 9);
  // tanh and + 1 became * 2, sigmoid, * 2; then (Note [Power-of-two scalings]) u's * 0.797... and
  // * 2 one multiplication, and 0.5 x * (2 w) the product x * w.
  EXPECT_EQ(st.ops, 7);
  EXPECT_EQ(st.fused_ops, 7);
  // The truth in float64, x / (1 + exp(-2u)), from the float32 u that both compute alike (u's own
  // rounding moves exp(-2u) by up to |2u| ulps, the same for both).
  const Tensor u32 = (x + 0.044715 * x * x * x) * 0.7978845608028654;
  const Tensor truth = x.to(float64) / (1 + (-2 * u32.to(float64)).exp());
  const Tensor err = (got.to(float64) - truth).abs(), eager_err = (eager.to(float64) - truth).abs();
  // Within float32 rounding of eager everywhere (eager's own error is ~1e-7 |x| at most).
  EXPECT_TRUE(allclose(got, eager, 1e-6, 1e-6));
  // Relative to the value: a few float32 ulps, where eager's is orders of magnitude worse in the tail.
  const Tensor tail = x < -5;
  // (Relative to the smallest normal float32 at least: past x = -10 the value underflows.)
  const Tensor scale = clamp_min(truth.abs(), 1.1754943508222875e-38);
  EXPECT_LT((err / scale).max().item<double>(), 4e-7);
  EXPECT_GT(where(tail, eager_err / scale, 0.0).max().item<double>(), 1e-3);

  auto one_minus = compile([](const Tensors& in) { return Tensors{1 - in[0].tanh()}; });
  const Tensor u = linspace(-8, 8, 1001);
  const Tensor want = 2 / (1 + (2 * u.to(float64)).exp());
  EXPECT_TRUE(allclose(one_minus({u})[0].to(float64), want, 4e-7, 0));
  EXPECT_EQ(compile_stats(one_minus).ops, 3);
  auto plus_one = compile([](const Tensors& in) { return Tensors{in[0].tanh() + 1}; });
  EXPECT_TRUE(allclose(plus_one({u})[0].to(float64), 2 / (1 + (-2 * u.to(float64)).exp()), 4e-7, 0));
  EXPECT_EQ(compile_stats(plus_one).ops, 3);

  // The tanh read again: kept, and the sum with it.
  auto shared = compile([](const Tensors& in) {
    const Tensor t = in[0].tanh();
    return Tensors{1 + t, t};
  });
  EXPECT_TRUE(allclose(shared({u})[0], 1 + u.tanh(), 0, 0));
  EXPECT_EQ(compile_stats(shared).ops, 2);
  // An integer u (tanh promotes it): doubling it would be integer arithmetic, so no rewrite.
  auto of_int = compile([](const Tensors& in) { return Tensors{1 + in[0].tanh()}; });
  const Tensor k = arange(-5, 6);
  EXPECT_TRUE(allclose(of_int({k})[0], 1 + k.tanh(), 0, 0));
  EXPECT_EQ(compile_stats(of_int).ops, 2);
  // float64 and float16 take it too.
  for (DType dt : {float64, float16}) {
    const Tensor v = (randn({300}) * 3).to(dt);
    const Tensor r = plus_one({v})[0];
    EXPECT_EQ(r.dtype(), dt);
    EXPECT_TRUE(allclose(r.to(float64), 1 + v.to(float64).tanh(), dt == float64 ? 1e-15 : 1e-3, dt == float64 ? 1e-15 : 1e-3));
  }
}

// Gradients through a rewritten program (compile, then grad: replayed op by op, 2 sigmoid(2u)'s
// derivative) and of one (compile(grad): the backward pass reads the tanh, so it stays).
TEST(Compile, GradientsOfOnePlusTanh) {
  auto f = [](const Tensors& in) { return Tensors{(in[0] * (1 + (in[0] * 0.7).tanh())).sum()}; };
  const Tensor x = randn({257}, float64);
  const Tensor want = grad(f)({x})[0];
  EXPECT_TRUE(allclose(grad(compile(f))({x})[0], want, 1e-12, 1e-12));
  TensorFn cg = compile(grad(f));
  EXPECT_TRUE(allclose(cg({x})[0], want, 1e-12, 1e-12));
}

// Note [Power-of-two scalings]: a multiplication by a power of two moves through the products
// around it and merges with another constant; equal to eager bit for bit away from overflow and
// subnormals, and left alone where that is not so (no power of two, a scaling read twice, an
// integer or half-precision value, a broadcast that the move would widen).
TEST(Compile, PowerOfTwoScalingsMerge) {
  const Tensor x = randn({1000}) * 4, y = randn({1000});
  CompileOptions interpreted;  // fused kernels as the interpreter: no kernel build per case
  interpreted.generate_code = false;
  auto check = [&interpreted](TensorFn f, const Tensors& in, int64_t traced, int64_t ops) {
    TensorFn c = compile(f, interpreted);
    const Tensors got = c(in), want = f(in);
    EXPECT_TRUE(allclose(got[0], want[0], 0, 0)) << "not eager's values bit for bit";
    const CompileStats st = compile_stats(c);
    EXPECT_EQ(st.traced_ops, traced);
    EXPECT_EQ(st.ops, ops);
  };
  // (x * 3) * 2 = x * 6 and 0.5 * (x * 1.7) = x * 0.85, one multiplication each.
  check([](const Tensors& in) { return Tensors{in[0] * 3 * 2}; }, {x}, 2, 1);
  check([](const Tensors& in) { return Tensors{0.5 * (in[0] * 1.7)}; }, {x}, 2, 1);
  // (x * 0.5) * (y * 2) = x * y, (x * 4) * (y * 0.25) = x * y, and ((x * 4) * y) * 0.25 = x * y
  // (the scaling after the product cancels). Scalings that do not cancel stay where they are:
  // (x * y) * 4 could overflow where (x * 0.5) * (y * 8) does not.
  check([](const Tensors& in) { return Tensors{(in[0] * 0.5) * (in[1] * 2)}; }, {x, y}, 3, 1);
  check([](const Tensors& in) { return Tensors{(in[0] * 4) * (in[1] * 0.25)}; }, {x, y}, 3, 1);
  check([](const Tensors& in) { return Tensors{(in[0] * 4) * in[1] * 0.25}; }, {x, y}, 3, 1);
  check([](const Tensors& in) { return Tensors{(in[0] * 0.5) * (in[1] * 8)}; }, {x, y}, 3, 3);
  check([](const Tensors& in) { return Tensors{(in[0] * 0.5) * in[1] * 8}; }, {x, y}, 3, 3);
  // Divisions by powers of two are scalings: (x / 2) * (y * 2) = x * y, x * 3 / 4 = x * 0.75, and
  // GELU written with / 2 loses its doublings as the 0.5 form does. x / 3 is no scaling.
  check([](const Tensors& in) { return Tensors{(in[0] / 2) * (in[1] * 2)}; }, {x, y}, 3, 1);
  check([](const Tensors& in) { return Tensors{in[0] * 3 / 4}; }, {x}, 2, 1);
  check([](const Tensors& in) { return Tensors{in[0] * 4 / 3}; }, {x}, 2, 2);
  {
    auto gelu = [](const Tensors& in) {
      const Tensor& v = in[0];
      return Tensors{v * (1 + ((v + 0.044715 * v * v * v) * 0.7978845608028654).tanh()) / 2};
    };
    TensorFn c = compile(gelu, interpreted);
    EXPECT_TRUE(allclose(c({x})[0], gelu({x})[0], 1e-6, 1e-6));
    EXPECT_EQ(compile_stats(c).ops, 7);  // x * sigmoid(u * 1.596), as 0.5 * x * (1 + tanh(u))
  }
  // Left alone: no power of two, a scaling read twice, a promotion, a widening broadcast.
  check([](const Tensors& in) { return Tensors{in[0] * 3 * 5}; }, {x}, 2, 2);
  check([](const Tensors& in) {
    const Tensor t = in[0] * 2;
    return Tensors{t * 3 + t};
  }, {x}, 3, 3);
  check([](const Tensors& in) { return Tensors{in[0] * 2 * 3}; }, {arange(0, 100)}, 2, 2);
  check([](const Tensors& in) { return Tensors{in[0] * 2 * 3}; }, {x.to(float16)}, 2, 2);
  check([](const Tensors& in) { return Tensors{(in[0] * 2) * (in[1] * 0.5)}; },
        {randn({1000, 1}), randn({1000, 1000})}, 3, 3);  // the column's * 2 stays on the column
  // float64 too.
  check([](const Tensors& in) { return Tensors{(in[0] * 0.5) * (in[1] * 2)}; },
        {x.to(float64), y.to(float64)}, 3, 1);

  // Near overflow the merged form is the accurate one: (x * 2) * 0.5 is inf in eager for x above
  // half the largest float, x * 1 is x. With the rewrites off, eager's inf. And a product whose
  // scalings do not cancel keeps them: (x * 2^-100) * y stays finite for x = y = 1e30.
  {
    auto f = [](const Tensors& in) { return Tensors{(in[0] * 0x1p-100) * (in[1] * 4) * 0.25}; };
    const Tensor big = full({4}, 1e30f);
    const Tensor got = compile(f, interpreted)({big, big})[0];
    EXPECT_TRUE(got.isfinite().all().item<bool>());
    EXPECT_TRUE(allclose(got, f({big, big})[0], 0, 0));
  }
  auto twice_half = [](const Tensors& in) { return Tensors{in[0] * 2 * 0.5}; };
  const Tensor huge = full({4}, 3e38f);
  EXPECT_TRUE(twice_half({huge})[0].isinf().all().item<bool>());
  EXPECT_TRUE(allclose(compile(twice_half, interpreted)({huge})[0], huge, 0, 0));
  CompileOptions exact = interpreted;
  exact.stable_rewrites = false;
  EXPECT_TRUE(compile(twice_half, exact)({huge})[0].isinf().all().item<bool>());

  // Gradients through the merged program, in float64.
  auto f = [](const Tensors& in) { return Tensors{((in[0] * 0.5) * (in[1] * 2) * 3).sum()}; };
  const Tensors xy = {randn({33}, float64), randn({33}, float64)};
  const Tensors want = grad(f, {0, 1})(xy), got = grad(compile(f, interpreted), {0, 1})(xy);
  for (size_t j = 0; j < 2; ++j) EXPECT_TRUE(allclose(got[j], want[j], 1e-15, 1e-15));
}

// Random programs of products and scalings (powers of two and others, as * and /) over three
// inputs of moderate values: whatever the rewrite merges, the values stay eager's bit for bit.
TEST(Compile, PowerOfTwoScalingsKeepEagerValues) {
  CompileOptions interpreted;
  interpreted.generate_code = false;
  static constexpr double constants[] = {2, 0.5, 4, 0.25, -2, 8, 0.125, 3, 0.7, 1.5};
  int64_t merged = 0;
  for (int trial = 0; trial < 60; ++trial) {
    manual_seed(static_cast<uint64_t>(100 + trial));
    const Tensor choice = randint(0, 1000, {40});
    const std::vector<double> pick = ricci::testing::values(choice);
    auto body = [&pick](const Tensors& in) {
      std::vector<Tensor> pool(in.begin(), in.end());
      size_t at = 0;
      auto next = [&pick, &at](int64_t n) { return static_cast<int64_t>(pick[at++ % pick.size()]) % n; };
      for (int op = 0; op < 8; ++op) {
        const Tensor& a = pool[static_cast<size_t>(next(static_cast<int64_t>(pool.size())))];
        const Tensor& b = pool[static_cast<size_t>(next(static_cast<int64_t>(pool.size())))];
        const double c = constants[next(10)];
        switch (next(3)) {
          case 0: pool.push_back(a * c); break;
          case 1: pool.push_back(a / c); break;
          default: pool.push_back(a * b); break;
        }
      }
      return Tensors{pool.back(), pool[pool.size() - 2]};
    };
    const Tensors in = {rand({257}) + 0.5, rand({257}) - 1.5, rand({257}) * 2 + 0.25};
    TensorFn c = compile(body, interpreted);
    const Tensors want = body(in), got = c(in);
    for (size_t j = 0; j < want.size(); ++j) EXPECT_TRUE(allclose(got[j], want[j], 0, 0)) << "trial " << trial << " output " << j;
    const CompileStats st = compile_stats(c);
    merged += st.traced_ops - st.ops;
  }
  EXPECT_GT(merged, 20);  // the rewrite did merge scalings in these programs
}

// A broadcast input read along a run is one value per chunk: ops on it compute one value and an
// output made of it is spread. Several outputs, one of them an intermediate read later.
TEST(Compile, FusedBroadcastValuesAndSeveralOutputs) {
  auto f = [](const Tensors& in) {
    const Tensor col = in[1].expand({64, 3000});  // stride 0 along the rows' runs
    const Tensor e = col.exp() * 2;                // one value per run
    const Tensor mid = e + in[0];
    return Tensors{e, mid * mid, mid.sum()};
  };
  const Tensors in = {randn({64, 3000}), randn({64, 1})};
  TensorFn compiled = compile(f);
  const Tensors want = f(in), got = compiled(in);
  for (size_t j = 0; j < want.size(); ++j) EXPECT_TRUE(allclose(got[j], want[j], 1e-6, 1e-5)) << "output " << j;
  EXPECT_EQ(compile_stats(compiled).fused_groups, 1);
}

// An elementwise prologue folds into the reduction after it (over the last dim, or a vector
// whole): softmax, a row normalisation and a dot product written in ops, against eager.
TEST(Compile, ElementwisePrologueFoldsIntoTheReduction) {
  auto softmax = [](const Tensors& in) {
    const Tensor e = (in[0] - in[0].amax({-1}, true)).exp();
    return Tensors{e / e.sum({-1}, true)};
  };
  auto norm = [](const Tensors& in) {
    const Tensor d = in[0] - in[0].mean({-1}, true);
    return Tensors{d * ((d * d).mean({1}, false).unsqueeze(1) + 1e-5).rsqrt()};
  };
  auto dot = [](const Tensors& in) { return Tensors{(in[0] * in[1]).sum()}; };
  auto extremes = [](const Tensors& in) {
    const Tensor y = in[0] * 2 - 1;
    return Tensors{(y * y).amin({-1}), (y.abs() + 1).amax({-1}, true)};
  };
  for (DType dt : {float32, float64, float16}) {
    const double tol = dt == float64 ? 1e-12 : dt == float32 ? 1e-5 : 1e-2;
    Tensor x = randn({37, 5000}, dt);
    x.index_put_({3, 7}, scalar_tensor(NAN, dt));  // NaN propagates through amax/amin and sums
    const Tensor xt = randn({5000, 37}, dt).t();   // not contiguous
    const Tensor v = randn({100000}, dt), w = randn({100000}, dt);
    for (const auto& [name, f, in] : std::vector<std::tuple<const char*, TensorFn, Tensors>>{
             {"softmax", softmax, {x}}, {"softmax of a transpose", softmax, {xt}}, {"norm", norm, {x}},
             {"dot", dot, {v, w}}, {"extremes", extremes, {x}}, {"extremes of a transpose", extremes, {xt}}}) {
      TensorFn compiled = compile(f);
      const Tensors want = f(in), got = compiled(in);
      for (size_t j = 0; j < want.size(); ++j) {
        ASSERT_EQ(got[j].shape(), want[j].shape()) << name;
        EXPECT_TRUE(allclose(got[j].to(float64), want[j].to(float64), tol, tol, /*equal_nan=*/true))
            << name << " " << dt << " output " << j;
      }
      EXPECT_GT(compile_stats(compiled).fused_groups, 0) << name;
    }
  }
  // A reduction over another dim is not folded, and still right.
  TensorFn cols = compile([](const Tensors& in) { return Tensors{(in[0] * 3).exp().sum({0})}; });
  const Tensor x = randn({50, 40});
  EXPECT_TRUE(allclose(cols({x})[0], (x * 3).exp().sum({0}), 1e-5, 1e-5));
  EXPECT_EQ(compile_stats(cols).fused_ops, 2);  // mul and exp; the sum runs on its own
}

// Comparisons, logical ops and where fuse too; a bool result comes out as bool.
TEST(Compile, ComparisonsAndWhereFuse) {
  auto f = [](const Tensors& in) {
    const Tensor& x = in[0];
    const Tensor& y = in[1];
    const Tensor leaky = where(x > 0, x, 0.01 * x);
    const Tensor both = logical_and(x >= y, y != 0);
    return Tensors{where(both, leaky * 2, y) + 1, both, where(in[2], 1.5, x)};
  };
  Tensor x = randn({300, 700});
  x.index_put_({0, 0}, scalar_tensor(NAN));
  const Tensors in = {x, randn({700}), randn({300, 1}) > 0};
  TensorFn compiled = compile(f);
  const Tensors want = f(in), got = compiled(in);
  for (size_t j = 0; j < want.size(); ++j) {
    ASSERT_EQ(got[j].dtype(), want[j].dtype()) << "output " << j;
    EXPECT_TRUE(allclose(got[j].to(float64), want[j].to(float64), 0, 0, /*equal_nan=*/true)) << "output " << j;
  }
  // Ten ops: `y != 0` has y's shape and runs alone, and with it the `x >= y` traced before it;
  // the other eight are one fused kernel.
  EXPECT_EQ(compile_stats(compiled).ops, 10);
  EXPECT_EQ(compile_stats(compiled).fused_ops, 8);
}

// In lazy mode a compiled call is one pending primitive; evaluating it runs the fused program.
TEST(Compile, LazyModeRecordsOneCompiledPrimitive) {
  auto gelu = [](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
  };
  TensorFn compiled = compile(gelu);
  const Tensor x = randn({64, 100});
  Tensor y, z;
  {
    LazyGuard lazy;
    y = compiled({x})[0];
    z = y.sum({-1});
    EXPECT_TRUE(is_pending(y));
    EXPECT_EQ(pending_stats({y}).nodes, 1);  // the whole program
    EXPECT_EQ(y.shape(), x.shape());         // known before evaluation
    eval(z);
  }
  const Tensor direct = compiled({x})[0];  // the same program, not lazy
  EXPECT_TRUE(allclose(y, direct, 0, 0));
  EXPECT_TRUE(allclose(z, direct.sum({-1}), 1e-6, 1e-5));
  EXPECT_EQ(compile_stats(compiled).fused_groups, 1);
}

TEST(Compile, DrawsTheProgramBeforeAndAfter) {
  TensorFn f = compile([](const Tensors& in) { return Tensors{((in[0] * 1) * 2 + 1).exp()}; });
  EXPECT_THROW_MSG(compile_dot(f), ValueError, "call the compiled function first");
  EXPECT_THROW_MSG(compile_dot([](const Tensors& in) { return in; }), ValueError, "[compile_dot]");
  f({ones({4, 4})});
  const std::string traced = compile_dot(f, true), fused = compile_dot(f);
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(traced, "shape=box"), 4u);  // mul(1), mul(2), add, exp
  EXPECT_EQ(count(fused, "shape=box"), 3u);   // x * 1 removed
  EXPECT_EQ(count(traced, "fused kernel"), 0u);
  EXPECT_EQ(count(fused, "fused kernel 0"), 1u);
  EXPECT_NE(fused.find("input 0"), std::string::npos);
}

TEST(Compile, RandomOpsStayRandomAndValueReadsRunTheFunction) {
  TensorFn noisy = compile([](const Tensors& in) { return Tensors{in[0] + randn_like(in[0])}; });
  const Tensor x = zeros({5});
  const Tensor r1 = noisy({x})[0], r2 = noisy({x})[0];
  EXPECT_FALSE(allclose(r1, r2));  // new numbers on each call
  EXPECT_TRUE(compile_stats(noisy).traceable);  // the draw is a primitive of the program
  // Drawn from the generator's state at the call, as f itself would.
  manual_seed(7);
  const Tensor eager = x + randn_like(x);
  manual_seed(7);
  EXPECT_TRUE(allclose(noisy({x})[0], eager, 0, 0));
  TensorFn reads = compile([](const Tensors& in) {
    return Tensors{in[0].sum().item<float>() > 0 ? in[0] * 2 : in[0] * -2};
  });
  EXPECT_TRUE(allclose(reads({ones({3})})[0], full({3}, 2.0f), 0, 0));
  EXPECT_TRUE(allclose(reads({-ones({3})})[0], full({3}, 2.0f), 0, 0));  // never a frozen branch
}

TEST(Compile, DropoutCompilesAndDrawsNewMasks) {
  TensorFn f = compile([](const Tensors& in) {
    return Tensors{gelu(F::dropout(in[0] * 2, 0.5, /*training=*/true) + 1)};
  });
  const Tensor x = ones({64, 64});
  const Tensor a = f({x})[0], b = f({x})[0];
  const CompileStats st = compile_stats(f);
  EXPECT_TRUE(st.traceable);
  EXPECT_EQ(st.traces, 1);
  EXPECT_GE(st.fused_groups, 1);
  EXPECT_FALSE(allclose(a, b));  // a new mask each call
  // Every value is gelu(1) (dropped) or gelu(2 * 2 + 1) (kept, scaled by 1 / (1 - p)).
  const Tensor dropped = gelu(ones({})), kept = gelu(full({}, 5.0f));
  const Tensor is_dropped = isclose(a, dropped.expand({64, 64})), is_kept = isclose(a, kept.expand({64, 64}));
  EXPECT_TRUE((is_dropped | is_kept).all().item<bool>());
  const double share = is_kept.to(float32).mean().item<double>();
  EXPECT_GT(share, 0.4);
  EXPECT_LT(share, 0.6);
}

TEST(Compile, TwoEqualDrawsAreNotMerged) {
  TensorFn f = compile([](const Tensors& in) { return Tensors{rand_like(in[0]) - rand_like(in[0])}; });
  const Tensor d = f({zeros({100})})[0];
  EXPECT_TRUE(compile_stats(f).traceable);
  EXPECT_GT(d.abs().max().item<float>(), 0.0f);  // two draws, not one subtracted from itself
  TensorFn g = compile([](const Tensors& in) {
    return Tensors{bernoulli(in[0].shape(), 0.5) + randint(0, 10, in[0].shape(), float32) + randn(in[0].shape())};
  });
  EXPECT_TRUE(allclose(g({zeros({3})})[0].isfinite().to(float32), ones({3})));
  EXPECT_TRUE(compile_stats(g).traceable);
}

TEST(Compile, DrawsUnderVmapStayPerExample) {
  // vmap's trace refuses draws (each example draws its own numbers), also inside compile.
  TensorFn f = [](const Tensors& in) { return Tensors{in[0] + randn_like(in[0])}; };
  const Tensor X = zeros({4, 8});
  for (const TensorFn& h : {vmap(f), compile(vmap(f))}) {
    const Tensor r = h({X})[0];
    EXPECT_FALSE(allclose(r[0], r[1]));
  }
}

TEST(Compile, CapturedTensorsAreReadEachCall) {
  Tensor w = ones({3});
  TensorFn f = compile([&w](const Tensors& in) { return Tensors{in[0] * w}; });
  const Tensor x = full({3}, 2.0f);
  EXPECT_TRUE(allclose(f({x})[0], full({3}, 2.0f), 0, 0));
  w.mul_(5);  // an in-place update (what an optimizer does)
  EXPECT_TRUE(allclose(f({x})[0], full({3}, 10.0f), 0, 0));
}

TEST(Compile, ComposesWithTransforms) {
  TensorFn f = [](const Tensors& in) { return Tensors{(in[0].tanh() * in[0]).sum()}; };
  const Tensor x = from_vector(std::vector<double>{0.1, -0.4, 0.9}, {3}, float64);
  const Tensor want = grad(f)({x})[0];
  EXPECT_TRUE(allclose(grad(compile(f))({x})[0], want, 1e-12, 1e-12));
  TensorFn compiled_grad = compile(grad(f));
  EXPECT_TRUE(allclose(compiled_grad({x})[0], want, 1e-12, 1e-12));
  EXPECT_TRUE(compile_stats(compiled_grad).traceable);  // the backward pass is traced (docs/compile.md)

  TensorFn g = [](const Tensors& in) { return Tensors{in[0].exp() * 2}; };
  const Tensor X = from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}, float64);
  EXPECT_TRUE(allclose(vmap(compile(g))({X})[0], X.exp() * 2, 1e-12, 1e-12));
  EXPECT_TRUE(allclose(compile(vmap(g))({X})[0], X.exp() * 2, 1e-12, 1e-12));
  Tensor lazy_out;
  {
    LazyGuard lazy;
    lazy_out = compile(g)({X})[0];
  }
  EXPECT_TRUE(allclose(lazy_out, X.exp() * 2, 1e-12, 1e-12));
}

}  // namespace
}  // namespace ricci
