// The structural ops added after the first op set: order statistics (median, kthvalue),
// count_nonzero, the scans logcumsumexp / cummax / cummin, trace, tensordot, baddbmm, kron, cross,
// diff, pad, diag / diag_embed, repeat_interleave, searchsorted and bucketize. Values on
// contiguous, transposed, step-sliced and broadcast inputs, each dtype, 0-d and empty inputs,
// NaN / inf, gradients (float64 gradcheck, second order where the rule is made of ops), and every
// error. The float64 gradchecks of the registry are in test_gradcheck_all_ops.cpp; the comparison
// with PyTorch in tests/differential/cases_missing_struct.py.
#include <cmath>
#include <limits>
#include <tuple>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

namespace {

// The 3x4 matrix most tests use: distinct values, one negative, one zero.
Tensor sample() { return f64({{3, 1, 2, 7}, {4, 6, 5, 0}, {9, 8, -1, 2}}); }

}  // namespace

// ---- median / kthvalue --------------------------------------------------------------------------------

TEST(OpsStructMedian, AllElementsIsTheLowerMedian) {
  EXPECT_TENSOR_EQ(median(sample()), scalar_tensor(3.0, float64));  // 12 values: the 6th smallest
  EXPECT_TENSOR_EQ(median(f64({4, 1, 3})), scalar_tensor(3.0, float64));
  EXPECT_TENSOR_EQ(median(sample().t()), scalar_tensor(3.0, float64));
  EXPECT_TENSOR_EQ(sample().median(), scalar_tensor(3.0, float64));
  EXPECT_TENSOR_EQ(median(tensor({5, 2, 9, 1}, int32)), scalar_tensor(2, int32));
  EXPECT_TENSOR_EQ(median(tensor({2.5f, -1.0f}, float16)), scalar_tensor(-1.0, float16));
  EXPECT_TENSOR_EQ(median(tensor({2.5f, -1.0f, 7.0f}, bfloat16)), scalar_tensor(2.5, bfloat16));
  EXPECT_TENSOR_EQ(median(scalar_tensor(4.0, float64)), scalar_tensor(4.0, float64));
  EXPECT_TRUE(std::isnan(median(f64({1, kNaN, 3})).item<double>()));
  // Empty: NaN, converted to the dtype as PyTorch does.
  EXPECT_TRUE(std::isnan(median(empty({0}, float32)).item<double>()));
  EXPECT_EQ(median(empty({0}, int64)).item<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(median(empty({0, 2}, int16)).item<int64_t>(), 0);
}

TEST(OpsStructMedian, AlongADimWithIndices) {
  auto [v, i] = median(sample(), 0);
  EXPECT_TENSOR_EQ(v, f64({4, 6, 2, 2}));
  EXPECT_TENSOR_EQ(i, i64({1, 1, 0, 2}));
  auto [vt, it] = sample().t().median(1);  // transposed input, same answer
  EXPECT_TENSOR_EQ(vt, f64({4, 6, 2, 2}));
  EXPECT_TENSOR_EQ(it, i64({1, 1, 0, 2}));
  auto [vs, is] = median(sample().slice(1, 0, 4, 2), -1, /*keepdim=*/true);  // step-sliced: [[3,2],[4,5],[9,-1]]
  EXPECT_TENSOR_EQ(vs, f64({{2}, {4}, {-1}}));
  EXPECT_TENSOR_EQ(is, i64({{1}, {0}, {1}}));
  auto [ve, ie] = median(f64({7, 1}).expand({3, 2}), 1);  // broadcast rows
  EXPECT_TENSOR_EQ(ve, f64({1, 1, 1}));
  EXPECT_TENSOR_EQ(ie, i64({1, 1, 1}));
  // Ties rank by position: [2, 1, 2, 2, 1] sorted is 1(1) 1(4) 2(0) 2(2) 2(3) -> index 0.
  EXPECT_TENSOR_EQ(std::get<1>(median(f64({2, 1, 2, 2, 1}), 0)), scalar_tensor(int64_t{0}));
  // NaN: the first NaN of the slice and its index.
  auto [vn, in] = median(f64({{1, kNaN, 3, kNaN}, {5, 4, 6, 7}}), 1);
  EXPECT_TRUE(std::isnan(vn[0].item<double>()));
  EXPECT_EQ(in[0].item<int64_t>(), 1);
  EXPECT_EQ(vn[1].item<double>(), 5.0);
  auto [vi, ii] = median(tensor({{4, -2, 8}}, int8), 1);
  EXPECT_TENSOR_EQ(vi, tensor({4}, int8));
  EXPECT_TENSOR_EQ(ii, i64({0}));
  auto [v0, i0] = median(scalar_tensor(2.0, float32), 0);
  EXPECT_EQ(v0.dim(), 0);
  EXPECT_EQ(i0.item<int64_t>(), 0);
  auto [vz, iz] = median(empty({0, 3}, float32), 1);  // empty but the reduced dim is not
  EXPECT_EQ(vz.shape(), IntArrayRef({0}));
  EXPECT_EQ(iz.dtype(), int64);
}

TEST(OpsStructMedian, Gradients) {
  // Along a dim: the gradient goes to the selected element.
  Tensor x = leaf(sample());
  std::get<0>(median(x, 1)).sum().backward();
  EXPECT_TENSOR_EQ(x.grad(), f64({{0, 0, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(median(v[0], 0, true))}; }, {leaf(sample())}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(median(v[0].t(), 1))}; }, {leaf(sample())}));
  // All elements: split evenly among the ties (PyTorch's evenly_distribute_backward).
  Tensor y = leaf(f64({1, 2, 2, 5}));
  median(y).backward();
  EXPECT_TENSOR_EQ(y.grad(), f64({0, 0.5, 0.5, 0}));
  Tensor z = leaf(f64({1, kNaN, 3, kNaN}));
  median(z).backward();
  EXPECT_TENSOR_EQ(z.grad(), f64({0, 0.5, 0, 0.5}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{median(v[0])}; }, {leaf(sample())}));
  Tensor s = leaf(scalar_tensor(2.0, float64));
  std::get<0>(median(s, 0)).backward();
  EXPECT_EQ(s.grad().item<double>(), 1.0);
}

TEST(OpsStructMedian, Errors) {
  EXPECT_THROW_MSG(median(empty({2, 0}, float32), 1), IndexError, "[median] median(): Expected reduction dim 1 to have non-zero size");
  EXPECT_THROW_MSG(median(sample(), 2), IndexError, "Dimension out of range");
  EXPECT_THROW_MSG(median(tensor({true, false})), NotImplementedError, "[median] \"median\" not implemented for bool");
  EXPECT_THROW_MSG(median(tensor({true, false}), 0), NotImplementedError, "[median] \"median\" not implemented for bool");
  EXPECT_THROW_MSG(median(scalar_tensor(true), 0), NotImplementedError, "not implemented for bool");
}

TEST(OpsStructKthvalue, ValuesIndicesAndLayouts) {
  auto [v, i] = kthvalue(sample(), 2, 0);
  EXPECT_TENSOR_EQ(v, f64({4, 6, 2, 2}));
  EXPECT_TENSOR_EQ(i, i64({1, 1, 0, 2}));
  auto [vk, ik] = sample().kthvalue(3, -1, true);
  EXPECT_TENSOR_EQ(vk, f64({{3}, {5}, {8}}));
  EXPECT_TENSOR_EQ(ik, i64({{0}, {2}, {1}}));
  auto [vt, it] = kthvalue(sample().t(), 1, 0);  // column minimums of the transpose
  EXPECT_TENSOR_EQ(vt, f64({1, 0, -1}));
  EXPECT_TENSOR_EQ(it, i64({1, 3, 2}));
  EXPECT_TENSOR_EQ(std::get<0>(kthvalue(sample().slice(0, 0, 3, 2), 2, 0)), f64({9, 8, 2, 7}));
  EXPECT_TENSOR_EQ(std::get<0>(kthvalue(tensor({7, -3, 5}, int64), 3)), scalar_tensor(int64_t{7}));
  EXPECT_TENSOR_EQ(std::get<0>(kthvalue(tensor({0.5f, -0.25f}, bfloat16), 1)), scalar_tensor(-0.25, bfloat16));
  // NaN counts as the largest value.
  auto [vn, in] = kthvalue(f64({kNaN, 1, 0}), 3);
  EXPECT_TRUE(std::isnan(vn.item<double>()));
  EXPECT_EQ(in.item<int64_t>(), 0);
  EXPECT_EQ(std::get<0>(kthvalue(f64({kNaN, 1, 0}), 2)).item<double>(), 1.0);
  // Ties: PyTorch's quickselect picks index 0 of [2, 1, 2, 2, 1] for k = 3; so does ricci.
  EXPECT_EQ(std::get<1>(kthvalue(f64({2, 1, 2, 2, 1}), 3)).item<int64_t>(), 0);
  auto [v0, i0] = kthvalue(scalar_tensor(3.0, float64), 1);
  EXPECT_EQ(v0.item<double>(), 3.0);
  EXPECT_EQ(i0.item<int64_t>(), 0);
  EXPECT_EQ(std::get<0>(kthvalue(empty({0, 2}, float32), 2, 1)).shape(), IntArrayRef({0}));
}

TEST(OpsStructKthvalue, GradientsAndErrors) {
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(kthvalue(v[0], 2, 1))}; }, {leaf(sample())}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(kthvalue(v[0].t(), 3, 1, true))}; }, {leaf(sample())}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{std::get<0>(kthvalue(v[0], 2, 0)).square()}; },
                                      {leaf(sample())}));
  EXPECT_THROW_MSG(kthvalue(f64({1, 2}), 0), IndexError, "[kthvalue] kthvalue(): selected number k out of range for dimension 0");
  EXPECT_THROW_MSG(kthvalue(f64({1, 2}), 3), IndexError, "kthvalue(): selected number k out of range for dimension 0");
  EXPECT_THROW_MSG(kthvalue(scalar_tensor(1.0), 2), IndexError, "selected number k out of range");
  EXPECT_THROW_MSG(kthvalue(empty({2, 0}), 1, 1), IndexError, "kthvalue(): Expected reduction dim 1 to have non-zero size");
  EXPECT_THROW_MSG(kthvalue(tensor({true}), 1), NotImplementedError, "[kthvalue] \"kthvalue\" not implemented for bool");
  EXPECT_THROW_MSG(kthvalue(f64({1, 2}), 1, 1), IndexError, "Dimension out of range");
}

// ---- count_nonzero ------------------------------------------------------------------------------------

TEST(OpsStructCountNonzero, DimsDtypesNaN) {
  const Tensor x = f64({{0, kNaN, 1}, {0, 0, -2}});
  EXPECT_TENSOR_EQ(count_nonzero(x), scalar_tensor(int64_t{3}));
  EXPECT_TENSOR_EQ(count_nonzero(x, 0), i64({0, 1, 2}));
  EXPECT_TENSOR_EQ(x.count_nonzero(-1), i64({2, 1}));
  EXPECT_TENSOR_EQ(count_nonzero(x, {0, 1}), scalar_tensor(int64_t{3}));
  EXPECT_TENSOR_EQ(count_nonzero(x.t(), {0}), i64({2, 1}));
  EXPECT_TENSOR_EQ(count_nonzero(tensor({{true, false}, {true, true}}), 1), i64({1, 2}));
  EXPECT_TENSOR_EQ(count_nonzero(tensor({0, 3, 0}, int8).expand({2, 3})), scalar_tensor(int64_t{2}));
  EXPECT_TENSOR_EQ(count_nonzero(scalar_tensor(0.5, float16)), scalar_tensor(int64_t{1}));
  EXPECT_TENSOR_EQ(count_nonzero(empty({0, 3}), 0), i64({0, 0, 0}));
  EXPECT_THROW_MSG(count_nonzero(x, {0, 0}), ShapeError, "dim 0 appears multiple times in the list of dims");
  EXPECT_THROW_MSG(count_nonzero(x, 2), IndexError, "Dimension out of range");
}

// ---- logcumsumexp / cummax / cummin -------------------------------------------------------------------

TEST(OpsStructLogcumsumexp, ValuesAndStability) {
  const Tensor x = f64({{0, 1, 2}, {-kInf, 3, -kInf}});
  EXPECT_TENSOR_CLOSE(logcumsumexp(x, 1), f64({{0, std::log1p(std::exp(1.0)), 2.4076059644443806}, {-kInf, 3, 3}}), 1e-12, 1e-12);
  EXPECT_TENSOR_CLOSE(x.t().logcumsumexp(0), logcumsumexp(x, 1).t(), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(logcumsumexp(x.slice(1, 0, 3, 2), 1), f64({{0, 2.1269280110429727}, {-kInf, -kInf}}), 1e-12, 1e-12);
  // Large magnitudes: no overflow where exp would overflow, no underflow to -inf.
  EXPECT_TENSOR_CLOSE(logcumsumexp(f64({1000, 1000, -1000}), 0), f64({1000, 1000 + std::log(2.0), 1000 + std::log(2.0)}), 1e-15, 0);
  EXPECT_TENSOR_CLOSE(logcumsumexp(f64({-1000, -1000}), 0), f64({-1000, -1000 + std::log(2.0)}), 1e-15, 0);
  EXPECT_TENSOR_EQ(logcumsumexp(f64({1e308, 1e308}), 0), f64({1e308, 1e308}));
  // Infinities and NaN, as PyTorch: equal infinities give themselves, NaN propagates.
  EXPECT_TENSOR_EQ(logcumsumexp(f64({-kInf, -kInf, 0, kInf, kInf, 1, kNaN, 2}), 0),
                   f64({-kInf, -kInf, 0, kInf, kInf, kInf, kNaN, kNaN}));
  EXPECT_TENSOR_CLOSE(logcumsumexp(tensor({80.0f, 90.0f, 100.0f}), 0), tensor({80.0f, 90.0000454f, 100.0000454f}), 1e-7, 0);
  EXPECT_TENSOR_CLOSE(logcumsumexp(tensor({1.0f, 2.0f}, float16), 0), tensor({1.0f, 2.3132617f}, float16), 1e-3, 0);
  EXPECT_EQ(logcumsumexp(tensor({1.0f, 2.0f}, bfloat16), 0).dtype(), bfloat16);
  EXPECT_TENSOR_EQ(logcumsumexp(scalar_tensor(2.0, float64), 0), scalar_tensor(2.0, float64));
  EXPECT_EQ(logcumsumexp(empty({0, 2}), 0).shape(), IntArrayRef({0, 2}));
  EXPECT_TENSOR_CLOSE(logcumsumexp(f64({0.5}).expand({3}), 0), f64({0.5, 0.5 + std::log(2.0), 0.5 + std::log(3.0)}), 1e-15, 0);
}

TEST(OpsStructLogcumsumexp, GradientsAndErrors) {
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{logcumsumexp(v[0], 1)}; }, {leaf(sample() / 3.0)}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{logcumsumexp(v[0].t(), 0)}; }, {leaf(sample() / 3.0)}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{logcumsumexp(v[0], 0)}; }, {leaf(f64({0.3, -1.2, 2.0, 0.7}))}));
  // Large inputs: the gradient (a softmax over each prefix) stays finite.
  Tensor big = leaf(f64({1000, 1001, 999}));
  logcumsumexp(big, 0).sum().backward();
  const double e1 = 1 / (1 + std::exp(1.0)), e2 = std::exp(1.0) / (1 + std::exp(1.0));
  const double s3 = 1 + std::exp(1.0) + std::exp(-1.0);
  EXPECT_TENSOR_CLOSE(big.grad(), f64({1 + e1 + 1 / s3, e2 + std::exp(1.0) / s3, std::exp(-1.0) / s3}), 1e-12, 1e-12);
  Tensor s = leaf(scalar_tensor(1.5, float64));
  logcumsumexp(s, -1).backward();
  EXPECT_EQ(s.grad().item<double>(), 1.0);
  EXPECT_THROW_MSG(logcumsumexp(tensor({1, 2}), 0), NotImplementedError, "[logcumsumexp] \"logcumsumexp\" not implemented for int64");
  EXPECT_THROW_MSG(logcumsumexp(f64({1, 2}), 1), IndexError, "Dimension out of range");
}

TEST(OpsStructCummaxCummin, TiesNaNDtypesLayouts) {
  // Ties move the index forward; after a NaN the value stays NaN and the index follows each NaN.
  auto [v, i] = cummax(f64({1, 3, 3, kNaN, 2, kNaN, 5}), 0);
  EXPECT_TENSOR_EQ(v, f64({1, 3, 3, kNaN, kNaN, kNaN, kNaN}));
  EXPECT_TENSOR_EQ(i, i64({0, 1, 2, 3, 3, 5, 5}));
  auto [vm, im] = cummin(f64({3, 1, 1, kNaN, 0, kNaN}), 0);
  EXPECT_TENSOR_EQ(vm, f64({3, 1, 1, kNaN, kNaN, kNaN}));
  EXPECT_TENSOR_EQ(im, i64({0, 1, 2, 3, 3, 5}));
  auto [vt, it] = sample().t().cummax(1);
  EXPECT_TENSOR_EQ(vt, f64({{3, 4, 9}, {1, 6, 8}, {2, 5, 5}, {7, 7, 7}}));
  EXPECT_TENSOR_EQ(it, i64({{0, 1, 2}, {0, 1, 2}, {0, 1, 1}, {0, 0, 0}}));
  auto [vs, is] = sample().slice(1, 1, 4, 2).cummin(0);
  EXPECT_TENSOR_EQ(vs, f64({{1, 7}, {1, 0}, {1, 0}}));
  EXPECT_TENSOR_EQ(is, i64({{0, 0}, {0, 1}, {0, 1}}));
  auto [vb, ib] = cummax(tensor({false, true, true}), 0);
  EXPECT_TENSOR_EQ(vb, tensor({false, true, true}));
  EXPECT_TENSOR_EQ(ib, i64({0, 1, 2}));
  EXPECT_TENSOR_EQ(std::get<0>(cummin(tensor({5, 7, -2, -2}, int16), 0)), tensor({5, 5, -2, -2}, int16));
  EXPECT_TENSOR_EQ(std::get<1>(cummin(tensor({5, 7, -2, -2}, int16), 0)), i64({0, 0, 2, 3}));
  EXPECT_TENSOR_EQ(std::get<0>(cummax(tensor({0.5f, -1.0f, 2.0f}, float16), 0)), tensor({0.5f, 0.5f, 2.0f}, float16));
  EXPECT_TENSOR_EQ(std::get<1>(cummax(f64({2, 1}).expand({2, 2}), 0)), i64({{0, 0}, {1, 1}}));
  auto [v0, i0] = cummax(scalar_tensor(2.0, float64), 0);
  EXPECT_EQ(v0.dim(), 0);
  EXPECT_EQ(i0.item<int64_t>(), 0);
  EXPECT_EQ(std::get<1>(cummin(empty({0, 3}), 1)).shape(), IntArrayRef({0, 3}));
  EXPECT_THROW_MSG(cummax(f64({1}), 1), IndexError, "Dimension out of range");
  EXPECT_THROW_MSG(cummin(f64({1}), -2), IndexError, "Dimension out of range");
}

TEST(OpsStructCummaxCummin, Gradients) {
  // A running maximum held for several steps collects all their gradients.
  Tensor x = leaf(f64({1, 3, 2, 4}));
  std::get<0>(cummax(x, 0)).backward(f64({1, 2, 3, 4}));
  EXPECT_TENSOR_EQ(x.grad(), f64({1, 5, 0, 4}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(cummax(v[0], 1))}; }, {leaf(sample())}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(cummin(v[0].t(), 1))}; }, {leaf(sample())}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{std::get<0>(cummin(v[0], 0)).square()}; },
                                      {leaf(sample())}));
  Tensor s = leaf(scalar_tensor(2.0, float64));
  std::get<0>(cummin(s, 0)).backward();
  EXPECT_EQ(s.grad().item<double>(), 1.0);
}

// ---- trace / tensordot / baddbmm / kron / cross ---------------------------------------------------------

TEST(OpsStructTrace, ValuesGradientsErrors) {
  EXPECT_TENSOR_EQ(trace(sample()), scalar_tensor(8.0, float64));  // 3 + 6 - 1
  EXPECT_TENSOR_EQ(sample().t().trace(), scalar_tensor(8.0, float64));
  EXPECT_TENSOR_EQ(trace(sample().slice(1, 0, 4, 2)), scalar_tensor(8.0, float64));  // [[3,2],[4,5],[9,-1]]: 3 + 5
  EXPECT_TENSOR_EQ(trace(tensor({{1, 2}, {3, 4}}, int32)), scalar_tensor(int64_t{5}));  // integers give int64
  EXPECT_TENSOR_EQ(trace(tensor({{1.5f, 0.0f}, {0.0f, 2.0f}}, float16)), scalar_tensor(3.5, float16));
  EXPECT_TENSOR_EQ(trace(f64({2}).expand({3, 3})), scalar_tensor(6.0, float64));
  EXPECT_TENSOR_EQ(trace(empty({0, 3}, float64)), scalar_tensor(0.0, float64));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{trace(v[0])}; }, {leaf(sample())}));
  EXPECT_THROW_MSG(trace(f64({1, 2})), ShapeError, "[trace] trace: expected a matrix, but got tensor with dim 1");
  EXPECT_THROW_MSG(trace(tensor({{true}})), NotImplementedError, "\"trace\" not implemented for bool");
}

TEST(OpsStructTensordot, FormsAndBroadcastContraction) {
  const Tensor a = seq({2, 3, 4}), b = seq({4, 3});
  EXPECT_TENSOR_EQ(tensordot(a, b, {1, 2}, {1, 0}), f64({440, 1232}));
  EXPECT_TENSOR_EQ(tensordot(a, b.t(), 2), f64({440, 1232}));
  EXPECT_TENSOR_EQ(tensordot(seq({2, 3}), seq({3, 2}), 1), matmul(seq({2, 3}), seq({3, 2})));
  EXPECT_EQ(tensordot(seq({2}), seq({3}), 0).shape(), IntArrayRef({2, 3}));  // outer product
  EXPECT_TENSOR_EQ(tensordot(seq({2}), seq({3}), 0), outer(seq({2}), seq({3})));
  EXPECT_TENSOR_EQ(tensordot(seq({2, 3}), seq({2, 3}), {-1, 0}, {-1, 0}), scalar_tensor(55.0, float64));
  EXPECT_TENSOR_EQ(tensordot(seq({4, 6}).slice(1, 0, 6, 2), seq({3}), {1}, {0}), f64({10, 28, 46, 64}));
  // A contracted pair with a size-1 side is summed over first (PyTorch's broadcasting rule).
  EXPECT_TENSOR_EQ(tensordot(f64({{1}, {2}}), seq({3, 2}), {1}, {0}), f64({{6, 9}, {12, 18}}));
  EXPECT_TENSOR_EQ(tensordot(tensor({{1, 2}}, int32), tensor({{3}, {4}}, int32), 1), tensor({{11}}, int32));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{tensordot(v[0], v[1], {0, 2}, {1, 0})}; },
                    {leaf(seq({2, 3, 2}) / 5.0), leaf(seq({2, 2, 3}) / 7.0)}));
}

TEST(OpsStructTensordot, Errors) {
  EXPECT_THROW_MSG(tensordot(seq({2, 3}), seq({3, 2}), -1), ValueError, "[tensordot] tensordot expects dims >= 0, but got dims=-1");
  EXPECT_THROW_MSG(tensordot(seq({2, 3}), seq({3, 2}), 3), ValueError, "tensordot expects dims < ndim_a or ndim_b, but got dims=3");
  EXPECT_THROW_MSG(tensordot(seq({2, 3}), seq({3, 2}), {0, 1}, {0}), ShapeError, "both dimension lists should have same length");
  EXPECT_THROW_MSG(tensordot(seq({2, 3}), seq({4, 2}), {1}, {0}), ShapeError,
                   "contracted dimensions need to match, but first has size 3 in dim 1 and second has size 4 in dim 0");
  EXPECT_THROW_MSG(tensordot(seq({2, 3}), seq({3, 2}).to(float32), 1), DTypeError, "both inputs should have same dtype");
  EXPECT_THROW_MSG(tensordot(seq({3, 3}), seq({3, 3}), {0, 0}, {0, 1}), ShapeError, "dim 0 appears multiple times");
  EXPECT_THROW_MSG(tensordot(seq({3, 3}), seq({3, 3}), {2}, {0}), IndexError, "Dimension out of range");
}

TEST(OpsStructBaddbmm, ValuesBroadcastBetaZeroGradients) {
  const Tensor b1 = seq({2, 2, 3}) / 4.0, b2 = seq({2, 3, 2}) / 3.0;
  const Tensor in = f64({1, -1});
  EXPECT_TENSOR_CLOSE(baddbmm(in, b1, b2, 0.5, 2.0), in * 0.5 + bmm(b1, b2) * 2.0, 1e-15, 1e-15);
  EXPECT_TENSOR_CLOSE(in.expand({2, 2, 2}).baddbmm(b1, b2), in + bmm(b1, b2), 1e-15, 1e-15);
  EXPECT_TENSOR_CLOSE(baddbmm(in, seq({2, 3, 2}).transpose(1, 2), b2), in + bmm(seq({2, 3, 2}).transpose(1, 2), b2), 1e-15, 1e-15);
  // beta = 0 ignores input, NaN included.
  EXPECT_TENSOR_EQ(baddbmm(f64({kNaN}), b1, b2, 0), bmm(b1, b2));
  EXPECT_TENSOR_EQ(baddbmm(tensor({1}, int64), tensor({{{1, 2}}}, int64), tensor({{{3}, {4}}}, int64), 2, 3), tensor({{{35}}}, int64));
  EXPECT_TENSOR_CLOSE(baddbmm(tensor({0.5f}, bfloat16), tensor({{{1.0f, 2.0f}}}, bfloat16), tensor({{{3.0f}, {4.0f}}}, bfloat16)),
                      tensor({{{11.5f}}}, bfloat16), 0, 0);
  EXPECT_EQ(baddbmm(zeros({1}), empty({0, 2, 3}), empty({0, 3, 4})).shape(), IntArrayRef({0, 2, 4}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{baddbmm(v[0], v[1], v[2], 0.5, -1.5)}; },
                    {leaf(f64({{1, 2}})), leaf(b1), leaf(b2)}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{baddbmm(v[0], v[1], v[2], 2.0, 0.5)}; },
                                      {leaf(f64({1, 2})), leaf(b1), leaf(b2)}));
  Tensor ig = leaf(f64({kNaN, 1}));
  baddbmm(ig, b1, b2, 0).sum().backward();
  EXPECT_TENSOR_EQ(ig.grad(), f64({0, 0}));
}

TEST(OpsStructBaddbmm, Errors) {
  const Tensor b1 = seq({2, 2, 3}), b2 = seq({2, 3, 2});
  EXPECT_THROW_MSG(baddbmm(f64({1}), seq({2, 3}), b2), ShapeError, "[baddbmm] batch1 must be a 3D tensor");
  EXPECT_THROW_MSG(baddbmm(f64({1}), b1, seq({3, 2})), ShapeError, "[baddbmm] batch2 must be a 3D tensor");
  EXPECT_THROW_MSG(baddbmm(f64({1}), b1, seq({3, 3, 2})), ShapeError,
                   "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3].");
  EXPECT_THROW_MSG(baddbmm(f64({1}), b1, seq({2, 4, 2})), ShapeError, "to be: [2, 3] but got: [2, 4].");
  EXPECT_THROW_MSG(baddbmm(tensor({1.0f}), b1, b2), DTypeError, "[baddbmm] Input dtypes must be the same, got: input float32, batch1: float64");
  EXPECT_THROW_MSG(baddbmm(f64({1}), b1, b2.to(float32)), DTypeError, "dtype mismatch");
  EXPECT_THROW_MSG(baddbmm(f64({1, 2, 3}), b1, b2), ShapeError, "cannot be broadcast to the product's shape [2, 2, 2]");
  EXPECT_THROW_MSG(baddbmm(zeros({1, 2, 2, 2}, float64), b1, b2), ShapeError, "cannot be broadcast");
  EXPECT_THROW_MSG(baddbmm(tensor({1}), b1.to(int64), b2.to(int64), 1, 0.5), ValueError,
                   "For integral input tensors, argument alpha and beta must not be a floating point number");
}

TEST(OpsStructKron, ShapesDtypesGradients) {
  EXPECT_TENSOR_EQ(kron(f64({{1, 2}, {3, 4}}), f64({{0, 1}, {1, 0}})),
                   f64({{0, 1, 0, 2}, {1, 0, 2, 0}, {0, 3, 0, 4}, {3, 0, 4, 0}}));
  EXPECT_TENSOR_EQ(kron(f64({1, 2}), f64({{1}, {10}})), f64({{1, 2}, {10, 20}}));  // ranks padded with leading 1s
  EXPECT_TENSOR_EQ(f64({{1, 2}, {3, 4}}).t().kron(f64({1, -1})), f64({{1, -1, 3, -3}, {2, -2, 4, -4}}));
  EXPECT_TENSOR_EQ(kron(tensor({1, 2}), tensor({1.5f})), tensor({1.5f, 3.0f}));  // promotes as *
  EXPECT_TENSOR_EQ(kron(tensor({true, false}), tensor({true, true})), tensor({true, true, false, false}));
  EXPECT_TENSOR_EQ(kron(scalar_tensor(2.0, float64), scalar_tensor(3.0, float64)), scalar_tensor(6.0, float64));
  EXPECT_EQ(kron(empty({0, 2}), ones({2, 3})).shape(), IntArrayRef({0, 6}));
  EXPECT_TENSOR_EQ(kron(f64({1, 2}).expand({2, 2}), f64({3})), f64({{3, 6}, {3, 6}}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{kron(v[0], v[1])}; }, {leaf(seq({2, 3}) / 3.0), leaf(seq({2, 1, 2}) - 1.0)}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{kron(v[0], v[1])}; }, {leaf(f64({1, 2})), leaf(f64({{3}, {-1}}))}));
}

TEST(OpsStructCross, DefaultDimBroadcastDtypesGradients) {
  const Tensor a = f64({{1, 0, 0}, {0, 1, 0}}), b = f64({{0, 1, 0}, {0, 0, 1}});
  EXPECT_TENSOR_EQ(cross(a, b, 1), f64({{0, 0, 1}, {1, 0, 0}}));
  EXPECT_TENSOR_EQ(cross(a, b), f64({{0, 0, 1}, {1, 0, 0}}));  // the first dim of size 3 is dim 1
  EXPECT_TENSOR_EQ(linalg_cross(a, b), f64({{0, 0, 1}, {1, 0, 0}}));
  EXPECT_TENSOR_EQ(cross(a.t(), b.t()), f64({{0, 1}, {0, 0}, {1, 0}}));  // now dim 0
  EXPECT_TENSOR_EQ(a.t().cross(b.t(), 0), f64({{0, 1}, {0, 0}, {1, 0}}));
  // torch.cross takes the default from the first input only: [3, 1] x [3, 3] crosses along dim 0.
  EXPECT_TENSOR_EQ(cross(f64({{1}, {2}, {3}}), seq({3, 3})), f64({{3, 2, 1}, {-6, -4, -2}, {3, 2, 1}}));
  EXPECT_EQ(cross(f64({{1, 2, 3}}), seq({4, 3})).shape(), IntArrayRef({4, 3}));
  EXPECT_TENSOR_EQ(cross(tensor({1, 2, 3}), tensor({4, 5, 6})), tensor({-3, 6, -3}));
  EXPECT_TENSOR_EQ(cross(seq({3, 2}).slice(1, 0, 2, 2), f64({1, 0, 0}).unsqueeze(1), 0), f64({{0}, {4}, {-2}}));
  EXPECT_EQ(cross(empty({0, 3}), empty({0, 3})).shape(), IntArrayRef({0, 3}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{cross(v[0], v[1], -1)}; }, {leaf(seq({2, 3}) / 3.0), leaf(seq({1, 3}) - 1.0)}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{linalg_cross(v[0], v[1])}; },
                                      {leaf(f64({1, 2, -1})), leaf(f64({0.5, -3, 2}))}));
}

TEST(OpsStructCross, Errors) {
  EXPECT_THROW_MSG(cross(seq({2, 4}), seq({2, 4})), ShapeError, "[cross] no dimension of size 3 in input");
  EXPECT_THROW_MSG(cross(seq({3}), seq({4, 3})), ShapeError, "linalg.cross: inputs must have the same number of dimensions");
  EXPECT_THROW_MSG(cross(seq({2, 3}), seq({2, 3}), 0), ShapeError, "linalg.cross: inputs dimension 0 must have length 3. Got 2 and 2");
  EXPECT_THROW_MSG(linalg_cross(seq({3, 2}), seq({3, 2})), ShapeError, "[linalg_cross] linalg.cross: inputs dimension -1 must have length 3");
  EXPECT_THROW_MSG(cross(seq({3}), seq({3}).to(float32)), DTypeError, "expected both inputs to have the same dtype");
  EXPECT_THROW_MSG(cross(tensor({true, false, true}), tensor({true, true, false})), NotImplementedError, "\"cross\" not implemented for bool");
  EXPECT_THROW_MSG(cross(scalar_tensor(1.0), scalar_tensor(1.0), 0), IndexError, "but tensor has no dimensions");
  EXPECT_THROW_MSG(cross(seq({3}), seq({3}), 1), IndexError, "Dimension out of range");
}

// ---- diff ------------------------------------------------------------------------------------------

TEST(OpsStructDiff, OrdersPrependAppendDtypes) {
  const Tensor x = f64({{1, 4, 9, 16}, {2, 3, 5, 7}});
  EXPECT_TENSOR_EQ(diff(x), f64({{3, 5, 7}, {1, 2, 2}}));
  EXPECT_TENSOR_EQ(diff(x, 2, 1), f64({{2, 2}, {1, 0}}));
  EXPECT_TENSOR_EQ(x.diff(1, 0), f64({{1, -1, -4, -9}}));
  EXPECT_TENSOR_EQ(diff(x.t(), 1, 0), f64({{3, 1}, {5, 2}, {7, 2}}));
  EXPECT_TENSOR_EQ(diff(x.slice(1, 0, 4, 2)), f64({{8}, {3}}));
  EXPECT_TENSOR_EQ(diff(f64({1, 4, 9}), 1, -1, f64({0}), f64({20, 21})), f64({1, 3, 5, 11, 1}));
  EXPECT_TENSOR_EQ(diff(x, 1, 0, f64({1, 1, 1, 1}).expand({1, 4})), f64({{0, 3, 8, 15}, {1, -1, -4, -9}}));
  EXPECT_TENSOR_EQ(diff(tensor({1, 2}), 1, -1, tensor({0.5f})), tensor({0.5f, 1.0f}));  // cat promotes
  EXPECT_TENSOR_EQ(diff(tensor({true, false, false, true})), tensor({true, false, true}));  // logical_xor
  EXPECT_TENSOR_EQ(diff(tensor({10, 3, 7}, int8)), tensor({-7, 4}, int8));
  EXPECT_TENSOR_EQ(diff(f64({1, 2}), 0, -1, f64({5})), f64({1, 2}));  // n = 0 ignores prepend, as PyTorch
  EXPECT_EQ(diff(f64({1, 2, 4}), 5).shape(), IntArrayRef({0}));
  EXPECT_EQ(diff(empty({0})).shape(), IntArrayRef({0}));
  EXPECT_TENSOR_EQ(diff(f64({1, kInf, kNaN})), f64({kInf, kNaN}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{diff(v[0], 2, 1, v[1], v[2])}; },
                    {leaf(sample()), leaf(f64({{1}, {2}, {3}})), leaf(seq({3, 2}))}));
}

TEST(OpsStructDiff, Errors) {
  EXPECT_THROW_MSG(diff(scalar_tensor(1.0)), ShapeError, "[diff] diff expects input to be at least one-dimensional");
  EXPECT_THROW_MSG(diff(f64({1, 2}), -1), ValueError, "order must be non-negative but got -1");
  EXPECT_THROW_MSG(diff(seq({2, 3}), 1, -1, seq({3})), ShapeError, "diff expects prepend or append to be the same dimension as input");
  EXPECT_THROW_MSG(diff(seq({2, 3}), 1, 1, Tensor(), seq({3, 1})), ShapeError,
                   "input.size(0) = 2, but got tensor.size(0) = 3");
  EXPECT_THROW_MSG(diff(seq({2, 3}), 1, 2), IndexError, "Dimension out of range");
}

// ---- pad -------------------------------------------------------------------------------------------

TEST(OpsStructPad, ConstantAnyRankNegativeCrops) {
  const Tensor x = seq({2, 3});
  EXPECT_TENSOR_EQ(pad(x, {1, -1, 0, 1}, "constant", -1.0), f64({{-1, 0, 1}, {-1, 3, 4}, {-1, -1, -1}}));
  EXPECT_TENSOR_EQ(pad(x, {1, 1}), f64({{0, 0, 1, 2, 0}, {0, 3, 4, 5, 0}}));
  EXPECT_TENSOR_EQ(F::pad(x.t(), {0, 0, 1, 0}), f64({{0, 0}, {0, 3}, {1, 4}, {2, 5}}));
  EXPECT_TENSOR_EQ(pad(x.slice(1, 0, 3, 2), {0, 1}, "constant", 9.0), f64({{0, 2, 9}, {3, 5, 9}}));
  EXPECT_TENSOR_EQ(pad(f64({1, 2}).expand({2, 2}), {-1, 0}), f64({{2}, {2}}));
  EXPECT_TENSOR_EQ(pad(tensor({1, 2}), {1, 1}, "constant", 2.7), tensor({2, 1, 2, 2}));  // value converted to the dtype
  EXPECT_TENSOR_EQ(pad(tensor({true}), {1, 1}), tensor({false, true, false}));
  EXPECT_TENSOR_EQ(pad(tensor({1.0f}, float16), {0, 1}, "constant", kInf), tensor({1.0f, INFINITY}, float16));
  EXPECT_TENSOR_EQ(pad(scalar_tensor(1.0, float64), {}), scalar_tensor(1.0, float64));
  EXPECT_EQ(pad(x, {-3, 0}).shape(), IntArrayRef({2, 0}));
  EXPECT_EQ(pad(empty({0, 2}), {1, 1, 1, 1}).shape(), IntArrayRef({2, 4}));
  EXPECT_EQ(pad(seq({1, 2, 2, 2}), {1, 1, 1, 1, 1, 1, 1, 1}).shape(), IntArrayRef({3, 4, 4, 4}));
  // Gradient: crops what was added, zero-pads what was cropped; the rule is pad again, so second order works.
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{pad(v[0], {2, -1, -1, 1})}; }, {leaf(sample())}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{pad(v[0], {1, -2}).square()}; }, {leaf(sample())}));
}

TEST(OpsStructPad, ReflectReplicateCircular) {
  const Tensor x = seq({1, 2, 3});
  EXPECT_TENSOR_EQ(pad(x, {2, 1}, "reflect"), f64({{{2, 1, 0, 1, 2, 1}, {5, 4, 3, 4, 5, 4}}}));
  EXPECT_TENSOR_EQ(pad(x, {1, 1, 1, 0}, "replicate"), f64({{{0, 0, 1, 2, 2}, {0, 0, 1, 2, 2}, {3, 3, 4, 5, 5}}}));
  EXPECT_TENSOR_EQ(pad(x, {1, 2}, "circular"), f64({{{2, 0, 1, 2, 0, 1}, {5, 3, 4, 5, 3, 4}}}));
  EXPECT_TENSOR_EQ(pad(seq({1, 5}), {-1, 2}, "reflect"), f64({{1, 2, 3, 4, 3, 2}}));
  EXPECT_TENSOR_EQ(pad(seq({1, 5}), {-2, 3}, "replicate"), f64({{2, 3, 4, 4, 4, 4}}));
  // Circular wraps around what the crops leave (PyTorch's rule): [0, 1, 2] cropped to [1, 2] first.
  EXPECT_TENSOR_EQ(pad(seq({1, 3}), {-1, 1}, "circular"), f64({{1, 2, 1}}));
  EXPECT_TENSOR_EQ(pad(seq({1, 5}), {2, -2}, "circular"), f64({{1, 2, 0, 1, 2}}));
  EXPECT_TENSOR_EQ(pad(seq({1, 5}), {-2, 3}, "circular"), f64({{2, 3, 4, 2, 3, 4}}));
  EXPECT_EQ(pad(seq({1, 3}), {-2, -1}, "circular").shape(), IntArrayRef({1, 0}));
  EXPECT_TENSOR_EQ(pad(seq({3, 1}).t(), {1, 1}, "reflect"), f64({{1, 0, 1, 2, 1}}));
  EXPECT_TENSOR_EQ(pad(tensor({{1, 2, 3}}), {1, 1}, "reflect"), tensor({{2, 1, 2, 3, 2}}));
  EXPECT_TENSOR_EQ(pad(seq({1, 2}), {1, 1}, "reflect", 0.0), f64({{1, 0, 1, 0}}));  // value 0 is accepted
  EXPECT_EQ(pad(empty({0, 1, 2}), {1, 1}, "replicate").shape(), IntArrayRef({0, 1, 4}));  // empty batch allowed
  EXPECT_EQ(pad(seq({1, 1, 2, 2, 2}), {1, 1, 1, 1, 1, 1}, "replicate").shape(), IntArrayRef({1, 1, 4, 4, 4}));
  EXPECT_EQ(pad(seq({1, 2, 2, 2}), {1, 1, 1, 1, 1, 1}, "circular").shape(), IntArrayRef({1, 4, 4, 4}));
  // Gradients: mirrored / repeated positions add up.
  Tensor r = leaf(f64({{1, 2, 3}}));
  pad(r, {2, 0}, "reflect").sum().backward();
  EXPECT_TENSOR_EQ(r.grad(), f64({{1, 2, 2}}));
  Tensor p = leaf(f64({{1, 2}}));
  pad(p, {3, 1}, "replicate").sum().backward();
  EXPECT_TENSOR_EQ(p.grad(), f64({{4, 2}}));
  for (const char* mode : {"reflect", "replicate", "circular"}) {
    EXPECT_TRUE(check([mode](const Tensors& v) { return Tensors{pad(v[0], {1, 2, 2, 1}, mode)}; }, {leaf(seq({1, 3, 4}) / 7.0)}))
        << mode;
    EXPECT_TRUE(check([mode](const Tensors& v) { return Tensors{pad(v[0].transpose(1, 2), {2, 0}, mode)}; },
                      {leaf(seq({2, 3, 4}) / 7.0)}))
        << mode;
  }
}

TEST(OpsStructPad, Errors) {
  const Tensor x = seq({1, 2, 3});
  EXPECT_THROW_MSG(pad(x, {1}), ValueError, "[pad] Padding length must be divisible by 2");
  EXPECT_THROW_MSG(pad(seq({2, 2}), {1, 1, 1, 1, 1, 1}), ValueError,
                   "Padding length should be less than or equal to two times the input dimension but got padding length 6 and input of dimension 2");
  EXPECT_THROW_MSG(pad(seq({2, 3}), {-2, -2}), ShapeError,
                   "The input size 3, plus negative padding -2 and -2 resulted in a negative output size");
  EXPECT_THROW_MSG(pad(x, {1, 1}, "foo"), ValueError, "Unrecognised padding mode foo");
  EXPECT_THROW_MSG(pad(x, {1, 1}, "reflect", 2.0), ValueError, "Padding mode \"reflect\" doesn't take in value argument");
  EXPECT_THROW_MSG(pad(seq({3}), {1, 1}, "reflect"), NotImplementedError, "Padding size 2 is not supported for 1D input tensor");
  EXPECT_THROW_MSG(pad(seq({1, 1, 1, 3}), {1, 1}, "replicate"), NotImplementedError, "is not supported for 4D input tensor");
  EXPECT_THROW_MSG(pad(seq({1, 3}), {3, 1}, "reflect"), ValueError,
                   "Padding size should be less than the corresponding input dimension, but got: padding (3, 1) at dimension 1 of input [1, 3]");
  EXPECT_THROW_MSG(pad(seq({1, 2, 5}), {1, 1, 2, 2}, "reflect"), ValueError, "padding (2, 2) at dimension 1 of input [1, 2, 5]");
  EXPECT_THROW_MSG(pad(seq({1, 2}), {-1, -1}, "replicate"), ShapeError, "is too small");
  EXPECT_THROW_MSG(pad(seq({1, 2}), {-1, -1}, "reflect"), ShapeError, "is too small");
  EXPECT_THROW_MSG(pad(empty({1, 0}), {1, 1}, "replicate"), ShapeError,
                   "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [1, 0]");
  EXPECT_THROW_MSG(pad(seq({1, 3}), {4, 0}, "circular"), ValueError, "Padding value causes wrapping around more than once");
  EXPECT_THROW_MSG(pad(seq({1, 3}), {-2, -2}, "circular"), ValueError, "Negative padding value is resulting in an empty dimension");
  EXPECT_THROW_MSG(pad(seq({1, 3}), {2, -2}, "circular"), ValueError, "leaves 1 elements to wrap around");
}

// ---- diag / diag_embed -------------------------------------------------------------------------------

TEST(OpsStructDiag, VectorToMatrixAndBack) {
  EXPECT_TENSOR_EQ(diag(f64({1, 2}), 1), f64({{0, 1, 0}, {0, 0, 2}, {0, 0, 0}}));
  EXPECT_TENSOR_EQ(diag(f64({1, 2}), -1), f64({{0, 0, 0}, {1, 0, 0}, {0, 2, 0}}));
  EXPECT_TENSOR_EQ(seq({3, 3}).diag(-1), f64({3, 7}));
  EXPECT_TENSOR_EQ(diag(seq({3, 3}).t()), f64({0, 4, 8}));
  EXPECT_TENSOR_EQ(diag(seq({6}).slice(0, 0, 6, 3)), f64({{0, 0}, {0, 3}}));
  EXPECT_TENSOR_EQ(diag(tensor({true, false})), tensor({{true, false}, {false, false}}));
  EXPECT_TENSOR_EQ(diag(tensor({5, 6}, int32), 0), tensor({{5, 0}, {0, 6}}, int32));
  EXPECT_EQ(diag(seq({2, 3}), 5).shape(), IntArrayRef({0}));
  EXPECT_EQ(diag(empty({0})).shape(), IntArrayRef({0, 0}));
  Tensor m = seq({2, 2});
  Tensor d = diag(m);
  d.fill_(-1.0);  // a copy, not a view (PyTorch's diag)
  EXPECT_EQ(m[0][0].item<double>(), 0.0);
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{diag(v[0], 1)}; }, {leaf(f64({1, 2, 3}))}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{diag(v[0], -1)}; }, {leaf(sample())}));
  EXPECT_THROW_MSG(diag(seq({2, 2, 2})), ShapeError, "[diag] diag(): Supports 1D or 2D tensors. Got 3D");
  EXPECT_THROW_MSG(diag(scalar_tensor(1.0)), ShapeError, "diag(): Supports 1D or 2D tensors. Got 0D");
}

TEST(OpsStructDiagEmbed, DimsOffsetsGradients) {
  EXPECT_TENSOR_EQ(diag_embed(f64({{1, 2}, {3, 4}})), f64({{{1, 0}, {0, 2}}, {{3, 0}, {0, 4}}}));
  EXPECT_TENSOR_EQ(diag_embed(f64({{1, 2}, {3, 4}}), -1, 0, 2),
                   f64({{{0, 0, 0}, {0, 0, 0}}, {{1, 0, 0}, {3, 0, 0}}, {{0, 2, 0}, {0, 4, 0}}}));
  EXPECT_TENSOR_EQ(seq({2}).diag_embed(1, 0, 1), f64({{0, 0, 0}, {0, 0, 1}, {0, 0, 0}}));
  EXPECT_TENSOR_EQ(diag_embed(seq({2}), 1, 1, 0), f64({{0, 0, 0}, {0, 0, 0}, {0, 1, 0}}));  // dims swapped: the transpose
  EXPECT_EQ(diag_embed(seq({2, 3}), 1, 2, 0).shape(), IntArrayRef({4, 2, 4}));
  EXPECT_TENSOR_EQ(diag_embed(seq({2, 2}).t()), f64({{{0, 0}, {0, 2}}, {{1, 0}, {0, 3}}}));
  EXPECT_TENSOR_EQ(diag_embed(tensor({true, false})), tensor({{true, false}, {false, false}}));
  EXPECT_EQ(diag_embed(empty({3, 0})).shape(), IntArrayRef({3, 0, 0}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{diag_embed(v[0], 1, 0, 2)}; }, {leaf(sample())}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{diag_embed(v[0]).square()}; }, {leaf(sample())}));
  EXPECT_THROW_MSG(diag_embed(seq({2, 3}), 0, 1, -2), ValueError, "[diag_embed] diagonal dimensions cannot be identical 1, -2");
  EXPECT_THROW_MSG(diag_embed(scalar_tensor(1.0)), IndexError, "Dimension out of range");
}

// ---- repeat_interleave --------------------------------------------------------------------------------

TEST(OpsStructRepeatInterleave, IntAndTensorRepeats) {
  const Tensor x = f64({{1, 2}, {3, 4}});
  EXPECT_TENSOR_EQ(repeat_interleave(x, 2), f64({1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_TENSOR_EQ(x.repeat_interleave(2, 1), f64({{1, 1, 2, 2}, {3, 3, 4, 4}}));
  EXPECT_TENSOR_EQ(repeat_interleave(x.t(), 2, 0), f64({{1, 3}, {1, 3}, {2, 4}, {2, 4}}));
  EXPECT_TENSOR_EQ(repeat_interleave(x, tensor({1, 2}), 0), f64({{1, 2}, {3, 4}, {3, 4}}));
  EXPECT_TENSOR_EQ(x.repeat_interleave(tensor({0, 3}, int32), -1), f64({{2, 2, 2}, {4, 4, 4}}));
  EXPECT_TENSOR_EQ(repeat_interleave(x, scalar_tensor(int64_t{2}), 0, 4), f64({{1, 2}, {1, 2}, {3, 4}, {3, 4}}));
  EXPECT_TENSOR_EQ(repeat_interleave(x, tensor({2}), 1), f64({{1, 1, 2, 2}, {3, 3, 4, 4}}));  // one element: for all
  EXPECT_TENSOR_EQ(repeat_interleave(seq({6}).slice(0, 0, 6, 2), 2), f64({0, 0, 2, 2, 4, 4}));
  EXPECT_TENSOR_EQ(repeat_interleave(f64({7}).expand({2}), tensor({1, 2})), f64({7, 7, 7}));
  EXPECT_TENSOR_EQ(repeat_interleave(scalar_tensor(5.0, float64), 3), f64({5, 5, 5}));
  EXPECT_TENSOR_EQ(repeat_interleave(tensor({true, false}), 2), tensor({true, true, false, false}));
  EXPECT_TENSOR_EQ(repeat_interleave(tensor({1.5f}, bfloat16), 2), tensor({1.5f, 1.5f}, bfloat16));
  EXPECT_EQ(repeat_interleave(x, 0, 1).shape(), IntArrayRef({2, 0}));
  EXPECT_EQ(repeat_interleave(empty({0, 2}), empty({0}, int64), 0).shape(), IntArrayRef({0, 2}));
  // Never a view of the input, even with repeats = 1.
  Tensor one = repeat_interleave(x, 1, 0);
  EXPECT_FALSE(one.shares_storage_with(x));
  // The index form.
  EXPECT_TENSOR_EQ(repeat_interleave(tensor({2, 0, 1})), i64({0, 0, 2}));
  // output_size as an optional picks the index form (an int would be (self, repeats), as in ATen).
  EXPECT_TENSOR_EQ(repeat_interleave(tensor({2, 0, 1}, int32), std::optional<int64_t>(3)), tensor({0, 0, 2}, int32));
  EXPECT_EQ(repeat_interleave(empty({0}, int64)).shape(), IntArrayRef({0}));
}

TEST(OpsStructRepeatInterleave, GradientsAndErrors) {
  Tensor g = leaf(f64({1, 2, 3}));
  repeat_interleave(g, tensor({2, 0, 3})).backward(f64({1, 1, 1, 1, 1}));
  EXPECT_TENSOR_EQ(g.grad(), f64({2, 0, 3}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{repeat_interleave(v[0], 3, 1)}; }, {leaf(sample())}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{repeat_interleave(v[0].t(), tensor({1, 0, 2, 1}), 0)}; }, {leaf(sample())}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& v) { return Tensors{repeat_interleave(v[0], 2).square()}; }, {leaf(sample())}));
  const Tensor x = seq({2, 3});
  EXPECT_THROW_MSG(repeat_interleave(x, -1), ValueError, "[repeat_interleave] Repeats must be non-negative");
  EXPECT_THROW_MSG(repeat_interleave(x, 2, 0, 3), ValueError, "repeat_interleave: Invalid output_size, expected 4 but got 3");
  EXPECT_THROW_MSG(repeat_interleave(x, tensor({1, 2}), 0, 4), ValueError, "allocated size does not match required size");
  EXPECT_THROW_MSG(repeat_interleave(x, tensor({1, -2}), 0), ValueError, "repeats can not be negative");
  EXPECT_THROW_MSG(repeat_interleave(x, tensor({1.0f, 2.0f}), 0), NotImplementedError, "\"repeat_interleave\" not implemented for float32");
  EXPECT_THROW_MSG(repeat_interleave(x, tensor({{1, 2}}), 0), ShapeError, "repeats must be 0-dim or 1-dim tensor");
  EXPECT_THROW_MSG(repeat_interleave(x, tensor({1, 2}), 1), ShapeError,
                   "repeats must have the same size as input along dim, but got repeats.size(0) = 2 and input.size(1) = 3");
  EXPECT_THROW_MSG(repeat_interleave(tensor({{2, 1}})), ShapeError, "repeat_interleave only accept 1D vector as repeat");
  EXPECT_THROW_MSG(repeat_interleave(scalar_tensor(1.0), 2, 0), IndexError, "but tensor has no dimensions");
  EXPECT_THROW_MSG(repeat_interleave(x, 2, 2), IndexError, "Dimension out of range");
}

// ---- searchsorted / bucketize -------------------------------------------------------------------------

TEST(OpsStructSearchsorted, SidesNaNAndDtypes) {
  const Tensor s = f64({1, 2, 2, 3, kNaN});
  const Tensor v = f64({0, 2, 2.5, kNaN, kInf, -kInf});
  EXPECT_TENSOR_EQ(searchsorted(s, v), i64({0, 1, 5, 5, 5, 0}));  // PyTorch's answers, NaN included
  EXPECT_TENSOR_EQ(searchsorted(s, v, false, true), i64({0, 5, 5, 5, 5, 0}));
  EXPECT_TENSOR_EQ(searchsorted(s, v, false, false, "right"), i64({0, 5, 5, 5, 5, 0}));
  EXPECT_TENSOR_EQ(searchsorted(f64({1, 2, 2, 3}), f64({2}), false, false, "left"), i64({1}));
  EXPECT_TENSOR_EQ(searchsorted(f64({1, 2, 2, 3}), f64({2}), false, true, "right"), i64({3}));
  EXPECT_TENSOR_EQ(searchsorted(s, 2.5), scalar_tensor(int64_t{5}));
  EXPECT_TENSOR_EQ(searchsorted(tensor({1, 2, 3}), 2.5), scalar_tensor(int64_t{2}));  // int sequence, float value
  EXPECT_TENSOR_EQ(searchsorted(tensor({1, 2, 3}), f64({2.5})), i64({2}));
  EXPECT_TENSOR_EQ(searchsorted(f64({1, 3}), scalar_tensor(2.0, float64)), scalar_tensor(int64_t{1}));
  EXPECT_TENSOR_EQ(searchsorted(tensor({1.0f, 2.0f}, float16), f64({1.5})), i64({1}));
  EXPECT_TENSOR_EQ(searchsorted(tensor({1, 5, 9}, uint8), tensor({{5, 10}}, uint8), true), tensor({{1, 3}}, int32));
  EXPECT_TENSOR_EQ(searchsorted(empty({0}, float64), f64({2})), i64({0}));
  EXPECT_EQ(searchsorted(s, empty({0, 2}, float64)).shape(), IntArrayRef({0, 2}));
  // Strided sequence and values.
  EXPECT_TENSOR_EQ(searchsorted(seq({8}).slice(0, 0, 8, 2), seq({3, 2}).t() * 2.0), i64({{0, 2, 4}, {1, 3, 4}}));
}

TEST(OpsStructSearchsorted, RowsSorterAndBucketize) {
  const Tensor rows = f64({{1, 3, 5}, {2, 4, 6}});
  EXPECT_TENSOR_EQ(searchsorted(rows, f64({{3, 6}, {0, 4}}), false, true), i64({{2, 3}, {0, 2}}));
  EXPECT_TENSOR_EQ(searchsorted(rows.t().contiguous().t(), f64({{3, 6}, {0, 4}})), i64({{1, 3}, {0, 1}}));
  EXPECT_TENSOR_EQ(searchsorted(f64({1, 3, 5}).expand({2, 3}), f64({{3}, {4}})), i64({{1}, {2}}));
  // sorter: argsort of an unsorted sequence.
  EXPECT_TENSOR_EQ(searchsorted(f64({3, 1, 2}), f64({2.5, 0, 4}), false, false, std::nullopt, i64({1, 2, 0})), i64({2, 0, 3}));
  const Tensor un = f64({{5, 1, 3}, {0, 9, 4}});
  EXPECT_TENSOR_EQ(searchsorted(un, f64({{3}, {5}}), false, true, std::nullopt, argsort(un, -1)), i64({{2}, {2}}));
  // bucketize: boundaries[i-1] < x <= boundaries[i] (right: <= x <).
  const Tensor b = f64({1, 2, 3});
  EXPECT_TENSOR_EQ(bucketize(f64({{0, 2, 2.5}, {kNaN, kInf, 1}}), b), i64({{0, 1, 2}, {3, 3, 0}}));
  EXPECT_TENSOR_EQ(bucketize(f64({0, 2, 2.5}), b, false, true), i64({0, 2, 2}));
  EXPECT_TENSOR_EQ(bucketize(f64({0, 2, 2.5}).t(), b, true), tensor({0, 1, 2}, int32));
  EXPECT_TENSOR_EQ(bucketize(Scalar(2), b), scalar_tensor(int64_t{1}));
  EXPECT_TENSOR_EQ(bucketize(tensor({-5, 7}), tensor({0, 5})), i64({0, 2}));
}

TEST(OpsStructSearchsorted, Errors) {
  const Tensor s = f64({1, 2, 3});
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, false, "middle"), ValueError,
                   "[searchsorted] torch.searchsorted(): side can only be 'left' or 'right' but got middle");
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, true, "left"), ValueError,
                   "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True");
  EXPECT_THROW_MSG(searchsorted(scalar_tensor(1.0, float64), f64({1})), ShapeError,
                   "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
  EXPECT_THROW_MSG(searchsorted(ones({2, 3}, float64), scalar_tensor(1.0, float64)), ShapeError,
                   "input value can be a scalar only when boundaries tensor dimension is 1, but we got boundaries tensor dim(2) and input value's dim(0) numel(1)");
  EXPECT_THROW_MSG(searchsorted(ones({2, 3}, float64), ones({3, 3}, float64)), ShapeError,
                   "the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor [2, 3] and input value tensor [3, 3]");
  EXPECT_THROW_MSG(searchsorted(ones({2, 3}, float64), ones({2}, float64)), ShapeError, "must match");
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, false, std::nullopt, tensor({1, 2, 0}, int32)), DTypeError,
                   "torch.searchsorted(): sorter must be a tensor of long dtype but got dtype int32");
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, false, std::nullopt, i64({1, 2})), ShapeError,
                   "torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor [3] and got sorter tensor [2]");
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, false, std::nullopt, i64({1, 2, 3})), IndexError,
                   "torch.searchsorted(): sorter index out of range");
  EXPECT_THROW_MSG(searchsorted(s, f64({2}), false, false, std::nullopt, i64({-1, 2, 0})), IndexError, "sorter index out of range");
  EXPECT_THROW_MSG(searchsorted(tensor({false, true}), tensor({true})), NotImplementedError, "\"searchsorted\" not implemented for bool");
  EXPECT_THROW_MSG(bucketize(f64({0}), ones({2, 2}, float64)), ShapeError, "[bucketize] boundaries tensor must be 1 dimension, but got dim(2)");
  EXPECT_THROW_MSG(bucketize(Scalar(1), scalar_tensor(1.0)), ShapeError, "boundaries tensor must be 1 dimension, but got dim(0)");
}
