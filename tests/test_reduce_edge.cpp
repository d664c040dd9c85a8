// Reduction edge cases the main suite leaves out: cumprod's gradient through zeros, scans on 0-d,
// empty and strided inputs, the identities of empty reductions, NaN/inf in logsumexp, norm and
// the arg-reductions, integer accumulation, and the error of every op on a bad dim.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

// ---- cumsum / cumprod ------------------------------------------------------------------------------

// The gradient of cumprod used out / x, which is 0/0 = NaN at a zero.
TEST(ReduceEdgeCumprod, GradientThroughZerosIsExact) {
  Tensor x = leaf(f64({2, 0, 3}));
  cumprod(x, 0).sum().backward();
  // d/dx0 = 1 + x1 + x1 x2 = 1, d/dx1 = x0 + x0 x2 = 8, d/dx2 = x0 x1 = 0.
  EXPECT_TENSOR_EQ(x.grad(), f64({1, 8, 0}));
}

TEST(ReduceEdgeCumprod, GradcheckWithZerosOnEveryDim) {
  const Tensor one_zero = f64({{1.5, 0, -2}, {0.5, 3, 0}});
  const Tensor two_zeros = f64({{0, 2, 0, 1.5}, {-1, 0.5, 2, 0}});
  for (int64_t d : {0, 1, -1}) {
    EXPECT_TRUE(check([d](const Tensors& v) { return Tensors{cumprod(v[0], d)}; }, {leaf(one_zero)})) << d;
    EXPECT_TRUE(check([d](const Tensors& v) { return Tensors{cumprod(v[0], d)}; }, {leaf(two_zeros)})) << d;
  }
  // Strided input with zeros, and the no-zero path for comparison.
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{cumprod(v[0].t(), 1)}; }, {leaf(two_zeros)}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{cumprod(v[0], 1)}; }, {leaf(f64({{1.5, 2, -0.5}}))}));
}

TEST(ReduceEdgeCumprod, SecondOrderThroughZeros) {
  Tensor x = leaf(f64({2, 0, 3, 0.5}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{cumprod(v[0], 0)}; }, {x}));
}

TEST(ReduceEdgeCumprod, ZeroDimAndEmpty) {
  Tensor z = leaf(scalar_tensor(0.0, float64));
  Tensor c = cumprod(z, 0);
  EXPECT_EQ(c.dim(), 0);
  c.backward();
  EXPECT_DOUBLE_EQ(z.grad().item<double>(), 1.0);  // cumprod of one element is the identity
  Tensor e = leaf(empty({0, 3}, float64));
  Tensor ce = cumprod(e, 0);
  EXPECT_EQ(ce.shape(), IntArrayRef({0, 3}));
  ce.sum().backward();
  EXPECT_EQ(e.grad().shape(), IntArrayRef({0, 3}));
}

TEST(ReduceEdgeScan, ValuesOnStridedZeroDimAndIntegers) {
  Tensor a = seq({3, 4});
  EXPECT_TENSOR_EQ(cumsum(a.t(), 1), f64({{0, 4, 12}, {1, 6, 15}, {2, 8, 18}, {3, 10, 21}}));
  EXPECT_TENSOR_EQ(cumsum(a.slice(1, 0, 4, 2), -1), f64({{0, 2}, {4, 10}, {8, 18}}));
  EXPECT_TENSOR_EQ(cumprod(f64({2, 3}).expand({2, 2}), 0), f64({{2, 3}, {4, 9}}));
  EXPECT_TENSOR_EQ(cumsum(scalar_tensor(5.0, float64), -1), scalar_tensor(5.0, float64));
  // Integers and bools accumulate in int64 (PyTorch), so no int8 wrap-around.
  Tensor s = cumsum(tensor({100, 100, 100}, int8), 0);
  EXPECT_EQ(s.dtype(), int64);
  EXPECT_TENSOR_EQ(s, i64({100, 200, 300}));
  EXPECT_TENSOR_EQ(cumsum(tensor({true, false, true}), 0), i64({1, 1, 2}));
  EXPECT_TENSOR_EQ(cumsum(i64({1, 2}), 0, float64), f64({1, 3}));
  EXPECT_TENSOR_EQ(cumsum(f64({1, kNaN, 2}), 0), f64({1, kNaN, kNaN}));
  EXPECT_TENSOR_EQ(cumprod(f64({kInf, 0, 2}), 0), f64({kInf, kNaN, kNaN}));
  EXPECT_THROW_MSG(cumprod(ones({2}), 1), IndexError, "[cumprod] Dimension out of range");
  EXPECT_THROW_MSG(cumsum(Tensor(), 0), Error, "[cumsum]");
}

// ---- identities of empty reductions ----------------------------------------------------------------

TEST(ReduceEdgeEmpty, IdentitiesAndNaNMean) {
  Tensor e = empty({0, 3}, float64);
  EXPECT_TENSOR_EQ(sum(e), scalar_tensor(0.0, float64));
  EXPECT_TENSOR_EQ(prod(e), scalar_tensor(1.0, float64));
  EXPECT_TENSOR_EQ(sum(e, {0}), f64({0, 0, 0}));
  EXPECT_TENSOR_EQ(mean(e, {0}), f64({kNaN, kNaN, kNaN}));
  EXPECT_TRUE(std::isnan(mean(e).item<double>()));
  EXPECT_EQ(sum(e, {1}).shape(), IntArrayRef({0}));
  EXPECT_EQ(amax(e, {1}).shape(), IntArrayRef({0}));  // reduces a non-empty dim: fine
  EXPECT_TENSOR_EQ(all(e), scalar_tensor(true));
  EXPECT_TENSOR_EQ(any(e), scalar_tensor(false));
  EXPECT_TENSOR_EQ(logsumexp(e, {0}), f64({-kInf, -kInf, -kInf}));
  EXPECT_TENSOR_EQ(norm(e, 2.0, {0}), f64({0, 0, 0}));
  EXPECT_THROW_MSG(amax(e, {0}), IndexError, "[amax] amax(): Expected reduction dim 0 to have non-zero size");
  EXPECT_THROW_MSG(argmin(e, 0), IndexError, "[argmin]");
  EXPECT_THROW_MSG(max(e), IndexError, "[max] max(): Expected reduction dim to be specified for input.numel() == 0");
  EXPECT_THROW_MSG(argmax(e), IndexError, "[argmax]");
}

// ---- integer accumulation --------------------------------------------------------------------------

TEST(ReduceEdgeIntegers, SumAndProdAccumulateInInt64) {
  Tensor b = full({300}, 100, TensorOptions(int8));
  Tensor s = sum(b);
  EXPECT_EQ(s.dtype(), int64);
  EXPECT_EQ(s.item<int64_t>(), 30000);
  EXPECT_EQ(prod(tensor({100, 100, 100}, int16)).item<int64_t>(), 1000000);
  EXPECT_EQ(sum(tensor({true, true, false})).item<int64_t>(), 2);
  // dtype= converts first, like PyTorch.
  EXPECT_EQ(sum(b, float32).dtype(), float32);
  EXPECT_TENSOR_EQ(sum(i64({{1, 2}, {3, 4}}).t(), {0}), i64({3, 7}));
  EXPECT_TENSOR_EQ(amax(tensor({{-3, 7}, {2, 1}}, int32), {0}), tensor({2, 7}, int32));
}

// ---- var / std -------------------------------------------------------------------------------------

TEST(ReduceEdgeVar, CorrectionAndDegenerateCounts) {
  Tensor x = f64({{1, 2, 3, 4}, {2, 2, 2, 2}});
  EXPECT_TENSOR_CLOSE(var(x, {1}, 1), f64({5.0 / 3, 0}), 1e-12);
  EXPECT_TENSOR_CLOSE(var(x, {1}, 0), f64({1.25, 0}), 1e-12);
  EXPECT_TENSOR_CLOSE(x.t().std({0}, 2, true), f64({{std::sqrt(2.5), 0}}), 1e-12);
  EXPECT_TENSOR_CLOSE(var(x, {0, 1}, 1), scalar_tensor(5.5 / 7, float64), 1e-12);  // mean 2.25, ssd 5.5 / 7
  // One element with correction 1: 0 / 0.
  EXPECT_TRUE(std::isnan(var(f64({3}), {0}, 1).item<double>()));
  EXPECT_TENSOR_EQ(var(f64({1, kNaN}), {0}, 1), scalar_tensor(kNaN, float64));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{var(v[0], {0}, 1), v[0].std({1}, 0)}; },
                    {leaf(f64({{1, 2.5, -1}, {0.5, 4, 2}}))}));
  EXPECT_THROW_MSG(var(i64({1, 2}), {0}, 1), DTypeError, "[var] var: Expected a floating point tensor as input. Got int64");
  EXPECT_THROW_MSG(f64({1, 2}).std({1}, 1), IndexError, "[std] Dimension out of range");
}

// ---- logsumexp -------------------------------------------------------------------------------------

TEST(ReduceEdgeLogsumexp, InfinitiesNaNAndLargeValues) {
  EXPECT_TENSOR_EQ(logsumexp(f64({{-kInf, -kInf}, {kInf, 1}, {kNaN, 1}, {kInf, kInf}}), {1}), f64({-kInf, kInf, kNaN, kInf}));
  EXPECT_TENSOR_CLOSE(logsumexp(f64({1e4, 1e4}), {0}), f64(1e4 + std::log(2.0)).reshape({}), 1e-12);
  EXPECT_TENSOR_CLOSE(logsumexp(f64({-1e4, -1e4}), {0}), f64(-1e4 + std::log(2.0)).reshape({}), 1e-12);
  // Integers compute in float32 (PyTorch).
  Tensor li = logsumexp(i64({0, 0}), {0});
  EXPECT_EQ(li.dtype(), float32);
  EXPECT_NEAR(li.item<double>(), std::log(2.0), 1e-6);
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{logsumexp(v[0], {0, 1}, true)}; }, {leaf(f64({{1e3, 1e3 + 1}, {1e3 - 2, 1e3}}))}));
}

// ---- norm ------------------------------------------------------------------------------------------

TEST(ReduceEdgeNorm, EveryOrder) {
  Tensor x = f64({{3, -4, 0}, {0, 0, -1}});
  EXPECT_TENSOR_EQ(norm(x, 0.0, {1}), f64({2, 1}));
  EXPECT_TENSOR_EQ(norm(x, 1.0, {1}), f64({7, 1}));
  EXPECT_TENSOR_CLOSE(norm(x, 2.0, {1}), f64({5, 1}), 1e-12);
  EXPECT_TENSOR_CLOSE(norm(x, 3.0, {1}), f64({std::cbrt(91.0), 1}), 1e-12);
  EXPECT_TENSOR_EQ(norm(x, kInf, {1}), f64({4, 1}));
  EXPECT_TENSOR_EQ(norm(x, -kInf, {1}), f64({0, 0}));
  EXPECT_TENSOR_EQ(norm(x.t(), kInf, {0}), f64({4, 1}));
  EXPECT_TENSOR_EQ(norm(f64({kNaN, 1}), kInf, {0}), scalar_tensor(kNaN, float64));
  EXPECT_TENSOR_EQ(norm(f64({kInf, 1}), 2.0, {0}), scalar_tensor(kInf, float64));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{norm(v[0], 3.0, {1}), norm(v[0], 1.0, {0})}; },
                    {leaf(f64({{1.5, -2, 0.5}, {0.3, 1, -0.7}}))}));
}

// ---- arg-reductions with NaN -----------------------------------------------------------------------

TEST(ReduceEdgeArg, NaNWinsAndFirstIndexOnTies) {
  Tensor x = f64({{1, kNaN, 3, kNaN}, {2, 5, 5, 1}});
  auto [mx, imx] = max(x, 1);
  EXPECT_TENSOR_EQ(mx, f64({kNaN, 5}));
  EXPECT_TENSOR_EQ(imx, i64({1, 1}));
  auto [mn, imn] = min(x, 1);
  EXPECT_TENSOR_EQ(mn, f64({kNaN, 1}));
  EXPECT_TENSOR_EQ(imn, i64({1, 3}));
  EXPECT_TENSOR_EQ(argmax(x.t(), 0), i64({1, 1}));
  EXPECT_EQ(argmax(x).item<int64_t>(), 1);
  EXPECT_TENSOR_EQ(amax(x, {1}), f64({kNaN, 5}));
  EXPECT_TRUE(std::isnan(max(x).item<double>()));
  // 0-d inputs accept dim 0 and -1; keepdim on all dims.
  auto [v0, i0] = max(scalar_tensor(2.0, float64), -1, true);
  EXPECT_EQ(v0.dim(), 0);
  EXPECT_EQ(i0.item<int64_t>(), 0);
  EXPECT_EQ(argmin(x, std::nullopt, true).shape(), IntArrayRef({1, 1}));
  EXPECT_THROW_MSG(max(scalar_tensor(2.0), 1), IndexError, "[max] Dimension out of range");
}

TEST(ReduceEdgeLogical, AllAnyTreatNaNAsTrueAndKeepUint8) {
  EXPECT_TENSOR_EQ(all(f64({kNaN, 1})), scalar_tensor(true));
  EXPECT_TENSOR_EQ(any(f64({0, -0.0})), scalar_tensor(false));
  EXPECT_TENSOR_EQ(all(i64({{1, 0}, {2, 3}}), {1}), tensor({false, true}));
  EXPECT_TENSOR_EQ(any(i64({{1, 0}, {0, 0}}).t(), {0}, true), tensor({{true, false}}));
  Tensor u = all(tensor({1, 2}, uint8));
  EXPECT_EQ(u.dtype(), uint8);
  EXPECT_EQ(u.item<int64_t>(), 1);
  EXPECT_THROW_MSG(any(ones({2}), {0, 0}), ShapeError, "[any] dim 0 appears multiple times");
}

TEST(ReduceEdgeSum, SeveralDimsNegativeDimsAndKeepdim) {
  Tensor a = seq({2, 3, 4});
  EXPECT_TENSOR_EQ(sum(a, {-1, 0}), f64({60, 92, 124}));
  EXPECT_TENSOR_EQ(sum(a, {0, 2}, true), f64({{{60}, {92}, {124}}}));
  EXPECT_TENSOR_EQ(mean(a.transpose(0, 2), {1, 2}), f64({10, 11, 12, 13}));
  EXPECT_TENSOR_EQ(prod(f64({{1, 2}, {3, 4}}), -2, true), f64({{3, 8}}));
  EXPECT_TENSOR_EQ(amin(a, {0, 1, 2}), scalar_tensor(0.0, float64));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{sum(v[0], {-1, 0}, true), mean(v[0], {1})}; }, {leaf(seq({2, 3, 4}) / 7)}));
  EXPECT_THROW_MSG(sum(a, {3}), IndexError, "[sum] Dimension out of range (expected to be in range of [-3, 2], but got 3)");
  EXPECT_THROW_MSG(mean(a, {1, -2}), ShapeError, "[mean] dim 1 appears multiple times in the list of dims");
  EXPECT_THROW_MSG(prod(a, 3), IndexError, "[prod] Dimension out of range");
  EXPECT_THROW_MSG(logsumexp(a, {5}), IndexError, "[logsumexp] Dimension out of range");
  EXPECT_THROW_MSG(norm(a, 2.0, {-4}), IndexError, "[norm] Dimension out of range");
}

TEST(ReduceEdgeIntegers, SumsAndProductsWrapLikePyTorch) {
  // int64 accumulation wraps (computed in unsigned arithmetic: signed overflow is undefined).
  // Values from torch 2.x.
  const int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  const Tensor x = tensor({kMax, int64_t{1}, int64_t{5}});
  EXPECT_EQ(x.sum().item<int64_t>(), -9223372036854775803);
  EXPECT_EQ(x.cumsum(0).to_vector<int64_t>(), (std::vector<int64_t>{kMax, kMin, -9223372036854775803}));
  const Tensor p = tensor({int64_t{1} << 62, int64_t{4}, int64_t{3}});
  EXPECT_EQ(p.prod().item<int64_t>(), 0);
  EXPECT_EQ(p.cumprod(0).to_vector<int64_t>(), (std::vector<int64_t>{int64_t{1} << 62, 0, 0}));
  // int32 sums accumulate in int64, so they do not wrap.
  EXPECT_EQ(tensor({2147483647, 1}, int32).sum().item<int64_t>(), 2147483648);
}
