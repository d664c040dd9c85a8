// compile(f) (include/ricci/compile.h): tracing and the cache, simplification, fusion against
// eager on random elementwise DAGs, randomness, value reads, and composition with transforms.
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

// Random DAGs of elementwise ops over broadcasting inputs, compiled (fused) against eager.
TEST(Compile, FusedRandomElementwiseDagsMatchEager) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const DType dt = trial % 3 == 0 ? float64 : float32;
    const int n_ops = 1 + static_cast<int>(rng() % 30);
    const unsigned seed = static_cast<unsigned>(rng());
    auto body = [n_ops, seed](const Tensors& in) {
      std::mt19937 r(seed);
      std::vector<Tensor> pool(in.begin(), in.end());
      for (int k = 0; k < n_ops; ++k) {
        const Tensor& x = pool[r() % pool.size()];
        const Tensor& y = pool[r() % pool.size()];
        switch (r() % 8) {
          case 0: pool.push_back(x + y); break;
          case 1: pool.push_back(x * y); break;
          case 2: pool.push_back(x - y * 0.5); break;
          case 3: pool.push_back(x.tanh()); break;
          case 4: pool.push_back(maximum(x, y)); break;
          case 5: pool.push_back(x.sigmoid() * 2); break;
          case 6: pool.push_back(where(x > y, x, y * 0.25)); break;
          default: pool.push_back((x * 0.1).exp()); break;
        }
      }
      return Tensors{pool.back(), pool[pool.size() / 2]};
    };
    // Big enough to be cut into blocks; inputs broadcast along either dim.
    const Tensors in = {randn({300, 200}, dt), randn({200}, dt), randn({300, 1}, dt)};
    TensorFn compiled = compile(body);
    const Tensors want = body(in), got = compiled(in);
    for (size_t j = 0; j < want.size(); ++j) {
      ASSERT_EQ(got[j].shape(), want[j].shape());
      const double tol = dt == float32 ? 1e-5 : 1e-12;
      EXPECT_TRUE(allclose(got[j], want[j], tol, tol)) << "trial " << trial << " output " << j;
    }
    if (n_ops >= 3 && trial == 0) {
      EXPECT_GT(compile_stats(compiled).fused_groups, 0);
    }
  }
}

TEST(Compile, RandomOpsStayRandomAndValueReadsRunTheFunction) {
  TensorFn noisy = compile([](const Tensors& in) { return Tensors{in[0] + randn_like(in[0])}; });
  const Tensor x = zeros({5});
  const Tensor r1 = noisy({x})[0], r2 = noisy({x})[0];
  EXPECT_FALSE(allclose(r1, r2));  // new numbers on each call
  EXPECT_FALSE(compile_stats(noisy).traceable);
  TensorFn reads = compile([](const Tensors& in) {
    return Tensors{in[0].sum().item<float>() > 0 ? in[0] * 2 : in[0] * -2};
  });
  EXPECT_TRUE(allclose(reads({ones({3})})[0], full({3}, 2.0f), 0, 0));
  EXPECT_TRUE(allclose(reads({-ones({3})})[0], full({3}, 2.0f), 0, 0));  // never a frozen branch
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
  EXPECT_TRUE(allclose(compile(grad(f))({x})[0], want, 1e-12, 1e-12));
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
