// Random numbers: reproducible from a seed, independent of the thread count, right distributions,
// in-place samplers on any layout, and the errors users hit.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "test_util.h"

namespace ricci {
namespace {

using ricci::testing::values;

// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }
double std_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / (v.size() - 1));
}

TEST(Random, ManualSeedReproduces) {
  manual_seed(42);
  const Tensor a = rand({5, 7});
  const Tensor b = randn({5, 7});
  manual_seed(42);
  EXPECT_TENSOR_EQ(rand({5, 7}), a);
  EXPECT_TENSOR_EQ(randn({5, 7}), b);
  EXPECT_EQ(default_generator().initial_seed(), 42u);
}

TEST(Random, ConsecutiveCallsDiffer) {
  manual_seed(0);
  const auto a = values(rand({64}));
  const auto b = values(rand({64}));
  EXPECT_NE(a, b);
}

TEST(Random, OwnGeneratorLeavesDefaultAlone) {
  Generator g1(123), g2(123);
  manual_seed(5);
  const Tensor expected_default = rand({8});
  manual_seed(5);
  const Tensor x = randn({100}, {}, &g1);
  EXPECT_TENSOR_EQ(randn({100}, {}, &g2), x);
  EXPECT_TENSOR_EQ(rand({8}), expected_default);  // the default stream was not consumed
  g1.manual_seed(123);
  EXPECT_TENSOR_EQ(randn({100}, {}, &g1), x);
}

TEST(Random, GetSetStateContinuesTheStream) {
  Generator g(42);
  (void)rand({5}, {}, &g);
  const GeneratorState saved = g.get_state();
  EXPECT_EQ(saved.seed, 42u);
  EXPECT_GT(saved.offset, 0u);
  const Tensor a = randn({33}, {}, &g);
  const Tensor b = bernoulli({17}, 0.3, {}, &g);
  Generator other(7);  // another seed and position: set_state replaces both
  (void)rand({100}, {}, &other);
  other.set_state(saved);
  EXPECT_EQ(other.get_state(), saved);
  EXPECT_TENSOR_EQ(randn({33}, {}, &other), a);
  EXPECT_TENSOR_EQ(bernoulli({17}, 0.3, {}, &other), b);
  EXPECT_EQ(other.get_state(), g.get_state());
  EXPECT_NE(g.get_state(), saved);
}

TEST(Random, DefaultGeneratorRngState) {
  manual_seed(3);
  (void)rand({4});
  const GeneratorState saved = get_rng_state();
  const Tensor x = F::dropout(ones({64}), 0.5);
  manual_seed(99);
  set_rng_state(saved);
  EXPECT_TENSOR_EQ(F::dropout(ones({64}), 0.5), x);
}

TEST(Random, SameValuesForAnyThreadCount) {
  ThreadCountGuard guard;
  for (DType dtype : {float32, float64, float16}) {
    set_num_threads(1);
    manual_seed(7);
    const Tensor a = randn({300001}, dtype);
    const Tensor u = rand({300001}, dtype);
    const Tensor i = randint(-5, 1000, {300001});
    set_num_threads(2);
    manual_seed(7);
    EXPECT_TENSOR_EQ(randn({300001}, dtype), a);
    EXPECT_TENSOR_EQ(rand({300001}, dtype), u);
    EXPECT_TENSOR_EQ(randint(-5, 1000, {300001}), i);
  }
}

TEST(Random, RandnMomentsFloat32AndFloat64) {
  manual_seed(1);
  for (DType dtype : {float32, float64}) {
    const Tensor x = randn({1000000}, dtype);
    EXPECT_EQ(x.dtype(), dtype);
    const auto v = values(x);
    EXPECT_NEAR(mean_of(v), 0.0, 0.005);  // standard error 0.001
    EXPECT_NEAR(std_of(v), 1.0, 0.005);
    // About 4.55% of a normal lies beyond 2 sigma.
    const double tails = std::count_if(v.begin(), v.end(), [](double z) { return std::abs(z) > 2.0; }) / 1e6;
    EXPECT_NEAR(tails, 0.0455, 0.002);
  }
}

TEST(Random, RandInUnitIntervalForEveryFloat) {
  manual_seed(3);
  for (DType dtype : {float32, float64, float16, bfloat16}) {
    const Tensor x = rand({200000}, dtype);
    EXPECT_EQ(x.dtype(), dtype);
    const auto v = values(x);
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0) << dtype_name(dtype);
    EXPECT_NEAR(mean_of(v), 0.5, 0.01) << dtype_name(dtype);
  }
}

TEST(Random, RandShapesAndOptions) {
  const Tensor x = rand({2, 3, 4});
  EXPECT_EQ(x.shape(), IntArrayRef({2, 3, 4}));
  EXPECT_EQ(x.dtype(), float32);
  EXPECT_TRUE(x.is_contiguous());
  EXPECT_EQ(rand({0, 3}).numel(), 0);
  EXPECT_EQ(randn({}).dim(), 0);

  const Tensor w = randn({3}, TensorOptions(float64, kCPU, /*requires_grad=*/true));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_EQ(w.dtype(), float64);
}

TEST(Random, RandLike) {
  const Tensor t = zeros({4, 5}, float64);
  const Tensor r = rand_like(t);
  EXPECT_EQ(r.shape(), t.shape());
  EXPECT_EQ(r.dtype(), float64);
  const Tensor n = randn_like(t, float32);
  EXPECT_EQ(n.dtype(), float32);
  EXPECT_EQ(n.shape(), t.shape());
}

TEST(Random, FloatOnlyErrors) {
  EXPECT_THROW_MSG(rand({2}, int64), DTypeError, "[rand] ");
  EXPECT_THROW_MSG(rand({2}, int64), DTypeError, "is not implemented for dtype int64; pass a floating dtype");
  EXPECT_THROW_MSG(randn({2}, bool_), DTypeError, "[randn] sampling is not implemented for dtype bool");
  EXPECT_THROW_MSG(rand_like(zeros({2}, int32)), DTypeError, "for dtype int32; pass a floating dtype");
}

TEST(Random, RandintBoundsAndDtype) {
  manual_seed(11);
  const Tensor x = randint(3, 10, {20000});
  EXPECT_EQ(x.dtype(), int64);
  const auto v = values(x);
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), 3);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 9);
  EXPECT_EQ(std::set<double>(v.begin(), v.end()).size(), 7u);
  EXPECT_NEAR(mean_of(v), 6.0, 0.05);

  const Tensor y = randint(5, {3, 4}, int32);
  EXPECT_EQ(y.dtype(), int32);
  EXPECT_EQ(y.shape(), IntArrayRef({3, 4}));
  for (double e : values(y)) EXPECT_TRUE(e >= 0 && e < 5);

  const Tensor f = randint(-2, 2, {1000}, float32);
  EXPECT_EQ(f.dtype(), float32);
  for (double e : values(f)) EXPECT_TRUE(e >= -2 && e < 2 && e == std::floor(e));

  // The widest range does not overflow.
  const Tensor wide = randint(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), {16});
  EXPECT_EQ(wide.numel(), 16);
}

TEST(Random, RandintErrors) {
  EXPECT_THROW_MSG(randint(5, 5, {3}), ValueError,
                   "[randint] random_ expects 'from' to be less than 'to', but got from=5 >= to=5");
  EXPECT_THROW_MSG(randint(0, {3}), ValueError, "but got from=0 >= to=0");
  EXPECT_THROW_MSG(randint(0, 300, {3}, int8), ValueError, "[randint] the range [0, 300) is out of bounds for dtype int8");
}

TEST(Random, RandpermIsAPermutation) {
  manual_seed(2);
  const Tensor p = randperm(1000);
  EXPECT_EQ(p.dtype(), int64);
  auto v = values(p);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(sorted[i], i);
  std::vector<double> identity(1000);
  std::iota(identity.begin(), identity.end(), 0.0);
  EXPECT_NE(v, identity);

  EXPECT_EQ(randperm(0).numel(), 0);
  EXPECT_TENSOR_EQ(randperm(1), tensor({0}));
  EXPECT_EQ(randperm(10, int32).dtype(), int32);
  manual_seed(2);
  EXPECT_TENSOR_EQ(randperm(1000), p);
}

TEST(Random, RandpermErrors) {
  EXPECT_THROW_MSG(randperm(-1), ValueError, "[randperm] n must be non-negative, got n=-1");
  EXPECT_THROW_MSG(randperm(300, int8), ValueError, "[randperm] n=300 is too large for dtype int8");
  EXPECT_THROW_MSG(randperm(3, bool_), DTypeError, "[randperm]");
}

TEST(Random, BernoulliScalarFrequency) {
  manual_seed(4);
  const Tensor x = bernoulli({100000}, 0.3);
  EXPECT_EQ(x.dtype(), float32);
  const auto v = values(x);
  for (double e : v) EXPECT_TRUE(e == 0.0 || e == 1.0);
  EXPECT_NEAR(mean_of(v), 0.3, 0.01);
  EXPECT_EQ(bernoulli({4}, 1.0, bool_).dtype(), bool_);
  EXPECT_EQ(values(bernoulli({50}, 0.0)), std::vector<double>(50, 0.0));
}

// float32 draws through dropout's vectorised mask kernel (src/backend/cpu/dropout_hwy.cpp), the
// other dtypes through the scalar loop: the same draws decide the same elements, and both leave
// the generator at the same place (lengths below a vector, odd, over several parallel chunks;
// keep probabilities at the edges).
TEST(Random, BernoulliFloat32KernelMatchesTheScalarLoop) {
  for (int64_t n : {1, 7, 17, 1001, 100003}) {
    for (double p : {0.0, 1e-300, 0.3, 0.5, 0.999, 1.0 - 1e-16, 1.0}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " p=" + std::to_string(p));
      Generator g32(77 + n), g64(77 + n);
      const Tensor b32 = bernoulli({n}, p, TensorOptions(float32), &g32);
      const Tensor b64 = bernoulli({n}, p, TensorOptions(float64), &g64);
      EXPECT_TENSOR_EQ(b32, b64.to(float32));
      EXPECT_EQ(g32.get_state(), g64.get_state());
    }
  }
}

TEST(Random, BernoulliTensorOfProbabilities) {
  manual_seed(4);
  const Tensor p = tensor({{0.0, 1.0}, {0.0, 1.0}}, float64);
  const Tensor x = bernoulli(p);
  EXPECT_EQ(x.dtype(), float64);
  EXPECT_TENSOR_EQ(x, tensor({{0.0, 1.0}, {0.0, 1.0}}, float64));

  const Tensor half = full({100000}, 0.25);
  EXPECT_NEAR(mean_of(values(bernoulli(half))), 0.25, 0.01);
  // A transposed tensor of probabilities is read in its logical order.
  const Tensor pt = tensor({{0.0, 0.0}, {1.0, 1.0}}).t();
  EXPECT_TENSOR_EQ(bernoulli(pt), tensor({{0.0, 1.0}, {0.0, 1.0}}));
}

TEST(Random, BernoulliErrors) {
  EXPECT_THROW_MSG(bernoulli(tensor({0.5, 1.5})), ValueError, "[bernoulli] expects all probabilities in [0, 1]");
  EXPECT_THROW_MSG(bernoulli(tensor({-0.1})), ValueError, "found p=-0.1 at flat index 0");
  EXPECT_THROW_MSG(bernoulli(tensor({1, 0})), DTypeError, "[bernoulli] expects a floating tensor of probabilities");
  EXPECT_THROW_MSG(bernoulli({3}, 2.0), ValueError, "[bernoulli] expects 0 <= p <= 1, but got p=2");
}

TEST(Random, MultinomialWithReplacement) {
  manual_seed(9);
  const Tensor probs = tensor({0.0, 1.0, 0.0, 3.0});
  const Tensor s = multinomial(probs, 20000, /*replacement=*/true);
  EXPECT_EQ(s.dtype(), int64);
  EXPECT_EQ(s.shape(), IntArrayRef({20000}));
  const auto v = values(s);
  for (double e : v) EXPECT_TRUE(e == 1.0 || e == 3.0);
  EXPECT_NEAR(std::count(v.begin(), v.end(), 3.0) / 20000.0, 0.75, 0.015);
}

TEST(Random, MultinomialWithoutReplacement) {
  manual_seed(9);
  const Tensor probs = tensor({{1.0, 2.0, 3.0, 4.0, 0.0}, {5.0, 0.0, 0.0, 1.0, 1.0}});
  const Tensor s = multinomial(probs, 3);
  EXPECT_EQ(s.shape(), IntArrayRef({2, 3}));
  const auto v = values(s);
  // Row 0: three distinct categories among the four with weight.
  std::set<double> row0(v.begin(), v.begin() + 3);
  EXPECT_EQ(row0.size(), 3u);
  EXPECT_EQ(row0.count(4.0), 0u);
  // Row 1 has exactly three categories with weight: all of them come out.
  EXPECT_EQ(std::set<double>(v.begin() + 3, v.end()), (std::set<double>{0.0, 3.0, 4.0}));

  // All categories without replacement is a permutation; zero weights come last.
  const auto all = values(multinomial(tensor({0.0, 1.0, 1.0}), 3));
  EXPECT_EQ(all[2], 0.0);

  // The heaviest category is drawn first most of the time.
  int first_is_heaviest = 0;
  for (int i = 0; i < 2000; ++i) first_is_heaviest += values(multinomial(tensor({1.0, 8.0, 1.0}), 1))[0] == 1.0;
  EXPECT_NEAR(first_is_heaviest / 2000.0, 0.8, 0.03);
}

TEST(Random, MultinomialErrors) {
  EXPECT_THROW_MSG(multinomial(tensor({0.5, -0.1}), 1), ValueError,
                   "[multinomial] probability tensor contains either `inf`, `nan` or element < 0");
  EXPECT_THROW_MSG(multinomial(tensor({0.0, 0.0}), 1), ValueError,
                   "[multinomial] invalid multinomial distribution (sum of probabilities <= 0)");
  EXPECT_THROW_MSG(multinomial(tensor({0.5, 0.5}), 3), ValueError,
                   "[multinomial] cannot sample num_samples=3 > prob_dist.size(-1)=2 samples without replacement");
  EXPECT_THROW_MSG(multinomial(tensor({0.5, 0.5}), 0), ValueError, "[multinomial] cannot sample num_samples=0");
  EXPECT_THROW_MSG(multinomial(zeros({2, 2, 2}), 1), ShapeError, "[multinomial] prob_dist must be 1 or 2 dim");
  EXPECT_THROW_MSG(multinomial(tensor({1, 2}), 1), DTypeError, "[multinomial] only supports floating-point dtypes");
  // With replacement, more samples than categories is fine.
  EXPECT_EQ(multinomial(tensor({0.5, 0.5}), 3, true).numel(), 3);
}

TEST(Random, UniformInPlaceOnTransposedTensor) {
  manual_seed(6);
  Tensor base = zeros({3, 1000});
  Tensor t = base.t();
  ASSERT_FALSE(t.is_contiguous());
  const uint32_t before = t.version();
  uniform_(t, 2.0, 5.0);
  EXPECT_GT(t.version(), before);
  const auto v = values(base);  // the writes went through the view into the base
  for (double e : v) EXPECT_TRUE(e >= 2.0 && e < 5.0) << e;
  EXPECT_NEAR(mean_of(v), 3.5, 0.05);

  // Same seed, same values in the view's logical (row-major) order as on a contiguous tensor.
  manual_seed(6);
  Tensor c = zeros({1000, 3});
  uniform_(c, 2.0, 5.0);
  EXPECT_TENSOR_EQ(t, c);
}

TEST(Random, NormalInPlaceOnTransposedTensor) {
  manual_seed(8);
  Tensor base = zeros({500, 400}, float64);
  Tensor t = base.t();
  const uint32_t before = base.version();
  normal_(t, 3.0, 2.0);
  EXPECT_GT(base.version(), before);
  const auto v = values(t);
  EXPECT_NEAR(mean_of(v), 3.0, 0.02);
  EXPECT_NEAR(std_of(v), 2.0, 0.02);

  // A slice with a step: only the selected columns change.
  Tensor m = zeros({4, 6});
  Tensor cols = m.slice(1, 0, std::nullopt, 2);
  normal_(cols);
  const auto mv = values(m);
  for (int r = 0; r < 4; ++r)
    for (int c = 1; c < 6; c += 2) EXPECT_EQ(mv[r * 6 + c], 0.0);
}

TEST(Random, InPlaceErrors) {
  Tensor i = zeros({3}, int64);
  EXPECT_THROW_MSG(normal_(i), DTypeError, "[normal_] sampling is not implemented for dtype int64");
  EXPECT_THROW_MSG(uniform_(i), DTypeError, "[uniform_] sampling is not implemented for dtype int64");
  Tensor f = zeros({3});
  EXPECT_THROW_MSG(normal_(f, 0.0, -1.0), ValueError, "[normal_] expects std >= 0.0, but found std -1");
  EXPECT_THROW_MSG(uniform_(f, 1.0, 0.0), ValueError, "[uniform_] expects to return a [from, to) range, but found from=1 > to=0");
}

TEST(Random, InPlaceOnParametersNeedsNoGrad) {
  Tensor w = zeros({4});
  w.requires_grad_();
  EXPECT_THROW_MSG(normal_(w), AutogradError, "a leaf Variable that requires grad is being used in an in-place operation");
  {
    NoGradGuard no_grad;  // how initialisers fill parameters
    uniform_(w, -1.0, 1.0);
  }
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  for (double e : values(w)) EXPECT_TRUE(e >= -1.0 && e < 1.0);
}

TEST(Random, UniformRangeStaysHalfOpenInFloat16) {
  // 2 + 3 * u rounds up to 5 for u close to 1 in float16; such values are pulled below 5.
  manual_seed(12);
  Tensor h = zeros({100000}, float16);
  uniform_(h, 2.0, 5.0);
  const auto v = values(h);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 5.0);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 2.0);
}

TEST(Random, OnCudaWhenAvailable) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  manual_seed(10);
  const Tensor cpu = randn({1000});
  manual_seed(10);
  const Tensor gpu = randn({1000}, TensorOptions(Device("cuda")));
  EXPECT_TRUE(gpu.is_cuda());
  EXPECT_EQ(values(gpu), values(cpu));  // the same stream on every device
  Tensor g = zeros({10, 10}, TensorOptions(Device("cuda"))).t();
  uniform_(g);
  for (double e : values(g)) EXPECT_TRUE(e >= 0.0 && e < 1.0);
}

}  // namespace
}  // namespace ricci
