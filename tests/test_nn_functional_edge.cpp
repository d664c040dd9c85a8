// nn functional edge cases the main suite leaves out: ignore_index in nll_loss / cross_entropy
// (with weights and label smoothing), spatial targets, causal attention values, rms_norm values,
// and the errors of linear / mse_loss / attention / norms.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;
namespace F = ricci::nn::functional;

namespace {

double lse(std::initializer_list<double> v) {
  double s = 0;
  for (double x : v) s += std::exp(x);
  return std::log(s);
}

}  // namespace

// ---- nll_loss --------------------------------------------------------------------------------------

TEST(NnNllLossEdge, IgnoreIndexAndWeights) {
  Tensor logp = f64({{-1, -2, -3}, {-0.5, -1.5, -2.5}, {-4, -5, -6}});
  Tensor target = i64({0, 2, 1});
  F::NllLossOptions o;
  o.ignore_index = 2;
  EXPECT_TENSOR_EQ(F::nll_loss(logp, target, o), scalar_tensor(3.0, float64));  // (1 + 5) / 2
  o.reduction = F::Reduction::None;
  EXPECT_TENSOR_EQ(F::nll_loss(logp, target, o), f64({1, 0, 5}));
  o.reduction = F::Reduction::Sum;
  EXPECT_TENSOR_EQ(F::nll_loss(logp, target, o), scalar_tensor(6.0, float64));
  // Weighted mean divides by the weights of the counted targets: (1*1 + 2*5) / (1 + 2).
  o.reduction = F::Reduction::Mean;
  o.weight = f64({1, 2, 3});
  EXPECT_TENSOR_CLOSE(F::nll_loss(logp, target, o), scalar_tensor(11.0 / 3, float64), 1e-12);
  EXPECT_TRUE(check([o, target](const Tensors& v) { return Tensors{F::nll_loss(v[0], target, o)}; }, {leaf(logp)}));
}

TEST(NnNllLossEdge, DefaultIgnoreIndexAndAllIgnored) {
  Tensor logp = f64({{-1, -2}, {-3, -4}});
  // -100 is ignored by default (and is not an out-of-range class).
  EXPECT_TENSOR_EQ(F::nll_loss(logp, i64({-100, 1})), scalar_tensor(4.0, float64));
  EXPECT_TRUE(std::isnan(F::nll_loss(logp, i64({-100, -100})).item<double>()));
  F::NllLossOptions sum;
  sum.reduction = F::Reduction::Sum;
  EXPECT_TENSOR_EQ(F::nll_loss(logp, i64({-100, -100}), sum), scalar_tensor(0.0, float64));
}

TEST(NnNllLossEdge, SpatialUnbatchedAndStrided) {
  Tensor logp = -seq({2, 3, 2});  // [N=2, C=3, d=2]
  Tensor target = i64({{0, 2}, {1, 1}});
  F::NllLossOptions none;
  none.reduction = F::Reduction::None;
  EXPECT_TENSOR_EQ(F::nll_loss(logp, target, none), f64({{0, 5}, {8, 9}}));
  EXPECT_TENSOR_EQ(F::nll_loss(logp.transpose(1, 2).contiguous().transpose(1, 2), target), scalar_tensor(5.5, float64));
  EXPECT_TENSOR_EQ(F::nll_loss(f64({-1, -2, -3}), scalar_tensor(1, int64)), scalar_tensor(2.0, float64));
}

TEST(NnNllLossEdge, Errors) {
  Tensor logp = f64({{-1, -2}, {-3, -4}});
  EXPECT_THROW_MSG(F::nll_loss(logp, i64({0, 2})), IndexError, "[nll_loss] Target 2 is out of bounds");
  EXPECT_THROW_MSG(F::nll_loss(logp, i64({0, -1})), IndexError, "[nll_loss] Target -1 is out of bounds");
  EXPECT_THROW_MSG(F::nll_loss(logp, f64({0, 1})), DTypeError, "[nll_loss] Expected target (class indices) of dtype int64");
  EXPECT_THROW_MSG(F::nll_loss(logp, i64({0, 1, 1})), ShapeError, "[nll_loss] Expected input batch_size (2) to match target batch_size (3)");
  EXPECT_THROW_MSG(F::nll_loss(i64({{0, 1}}), i64({0})), DTypeError, "[nll_loss] expected a floating point input");
  EXPECT_THROW_MSG(F::nll_loss(scalar_tensor(1.0), i64({0})), ShapeError, "[nll_loss] Expected input of shape (C), (N, C)");
  EXPECT_THROW_MSG(F::nll_loss(f64({-1, -2}), i64({0})), ShapeError, "[nll_loss] Expected a 0-d target");
  F::NllLossOptions o;
  o.weight = f64({1, 2, 3});
  EXPECT_THROW_MSG(F::nll_loss(logp, i64({0, 1}), o), ShapeError, "[nll_loss] weight tensor should be defined either for all 2 classes");
  EXPECT_THROW_MSG(F::nll_loss(-seq({2, 3, 2}), i64({0, 1})), ShapeError, "[nll_loss] Expected target size [2, 2], got [2]");
}

// ---- cross_entropy ---------------------------------------------------------------------------------

TEST(NnCrossEntropyEdge, IgnoreIndexWithLabelSmoothing) {
  Tensor x = f64({{1, 2, 3}, {1, 1, 1}, {0, -1, 2}});
  Tensor t = i64({2, 1, 0});
  const double l0 = lse({1, 2, 3}), l2 = lse({0, -1, 2});
  // Row 1 is ignored. nll_i = lse_i - x_i[t_i]; smooth_i = sum_c (lse_i - x_ic).
  const double nll0 = l0 - 3, nll2 = l2 - 0;
  const double sm0 = 3 * l0 - 6, sm2 = 3 * l2 - 1;
  F::CrossEntropyOptions o;
  o.ignore_index = 1;
  o.label_smoothing = 0.3;
  const double want = (0.7 * (nll0 + nll2) + 0.1 * (sm0 + sm2)) / 2;
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, t, o), scalar_tensor(want, float64), 1e-12);
  o.reduction = F::Reduction::None;
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, t, o), f64({0.7 * nll0 + 0.1 * sm0, 0, 0.7 * nll2 + 0.1 * sm2}), 1e-12);
  // With weights: both parts are weighted per class and the mean divides by the counted weights.
  o.reduction = F::Reduction::Mean;
  o.weight = f64({2, 1, 0.5});
  const double wn = 0.5 * nll0 + 2 * nll2;
  const double ws0 = 2 * (l0 - 1) + 1 * (l0 - 2) + 0.5 * (l0 - 3), ws2 = 2 * (l2 - 0) + 1 * (l2 + 1) + 0.5 * (l2 - 2);
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, t, o), scalar_tensor((0.7 * wn + 0.1 * (ws0 + ws2)) / 2.5, float64), 1e-12);
  EXPECT_TRUE(check([o, t](const Tensors& v) { return Tensors{F::cross_entropy(v[0], t, o)}; }, {leaf(x)}));
}

TEST(NnCrossEntropyEdge, StableAtHugeLogits) {
  Tensor x = f64({{1e4, -1e4}, {-1e4, 1e4}});
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, i64({0, 0})), scalar_tensor(1e4, float64), 1e-12);
  Tensor g = leaf(x);
  F::cross_entropy(g, i64({0, 1})).backward();
  EXPECT_TRUE(isfinite(g.grad()).all().item<bool>());
}

TEST(NnCrossEntropyEdge, Errors) {
  Tensor x = f64({{1, 2, 3}});
  EXPECT_THROW_MSG(F::cross_entropy(x, i64({3})), IndexError, "[cross_entropy] Target 3 is out of bounds");
  EXPECT_THROW_MSG(F::cross_entropy(x, f64({1, 0})), ShapeError, "[cross_entropy] Expected input and target of the same shape");
  EXPECT_THROW_MSG(F::cross_entropy(i64({{1, 2}}), i64({0})), DTypeError, "[cross_entropy] expected a floating point input");
  F::CrossEntropyOptions o;
  o.label_smoothing = 1.5;
  EXPECT_THROW_MSG(F::cross_entropy(x, i64({0}), o), ValueError, "[cross_entropy] label_smoothing must be between 0.0 and 1.0. Got: 1.5");
  o.label_smoothing = 0;
  o.weight = f64({1, 2});
  EXPECT_THROW_MSG(F::cross_entropy(x, f64({{1, 0, 0}}), o), ShapeError, "[cross_entropy] weight tensor should be defined either for all 3 classes");
  EXPECT_THROW_MSG(F::cross_entropy(scalar_tensor(1.0, float64), i64({0})), ShapeError, "[cross_entropy] Expected input of shape (C)");
}

// ---- scaled_dot_product_attention ------------------------------------------------------------------

TEST(NnAttentionEdge, CausalValuesByHand) {
  // E = 1, scale 1: row 0 sees key 0 only; row 1 sees keys 0 and 1 with scores [2, 0].
  Tensor q = f64({{1}, {2}}), k = f64({{1}, {0}}), v = f64({{10}, {20}});
  const double p0 = std::exp(2.0) / (std::exp(2.0) + 1);
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(q, k, v, Tensor(), true), f64({{10}, {10 * p0 + 20 * (1 - p0)}}), 1e-12);
  // More queries than keys: top-left alignment, row 2 sees both keys; an explicit scale.
  Tensor q3 = f64({{1}, {2}, {0}});
  Tensor out = F::scaled_dot_product_attention(q3, k, v, Tensor(), true, 0.5);
  const double p1 = std::exp(1.0) / (std::exp(1.0) + 1);
  EXPECT_TENSOR_CLOSE(out, f64({{10}, {10 * p1 + 20 * (1 - p1)}, {15}}), 1e-12);
  // Equivalent to an explicit boolean mask (true = attend).
  Tensor mask = tensor({{true, false}, {true, true}, {true, true}});
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(q3, k, v, mask, false, 0.5), out, 1e-12);
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{F::scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), true)}; },
                    {leaf(seq({2, 3, 2}) / 5), leaf(seq({2, 3, 2}).flip({1}) / 7), leaf(seq({2, 3, 2}) - 3)}));
}

// PyTorch 2.15 (CPU): a query row the mask hides completely gives 0 and zero gradients (ricci gave
// NaN, the softmax of a row of -inf); the other rows are unchanged.
TEST(NnAttentionEdge, FullyMaskedRowGivesZeroAndZeroGradients) {
  const Tensor mask = tensor({{true, false}, {false, false}});
  const Tensor float_mask = f64({{0, -kInf}, {-kInf, -kInf}});
  for (const Tensor& m : {mask, float_mask}) {
    Tensor q = leaf(seq({1, 2, 3}) / 5), k = leaf(seq({1, 2, 3}).flip({2}) / 7), v = leaf(seq({1, 2, 3}) - 2);
    Tensor lm = m.is_floating_point() ? leaf(m) : m;
    Tensor out = F::scaled_dot_product_attention(q, k, v, lm);
    EXPECT_TENSOR_EQ(out.index({Slice(), 1}), zeros({1, 3}, float64));
    // Row 0 attends to key 0 only: exactly v[0], as without the hidden row.
    EXPECT_TENSOR_CLOSE(out.index({Slice(), Slice(0, 1)}),
                        F::scaled_dot_product_attention(q.index({Slice(), Slice(0, 1)}), k, v, lm.index({Slice(0, 1)})), 1e-15);
    EXPECT_TENSOR_EQ(out.index({Slice(), 0}), f64({{-2, -1, 0}}));
    (out * (seq({1, 2, 3}) + 1)).sum().backward();
    // As PyTorch: q and k get nothing (one key, constant weights), v[0] gets row 0's upstream.
    EXPECT_TENSOR_EQ(q.grad(), zeros({1, 2, 3}, float64));
    EXPECT_TENSOR_EQ(k.grad(), zeros({1, 2, 3}, float64));
    EXPECT_TENSOR_EQ(v.grad(), f64({{{1, 2, 3}, {0, 0, 0}}}));
    if (lm.requires_grad()) {
      EXPECT_TENSOR_EQ(lm.grad(), zeros({2, 2}, float64));
    }
  }
  // A hidden row among live ones: the gradient of the live rows is the smooth one.
  const Tensor m3 = tensor({{true, true, false}, {false, false, false}, {true, false, true}});
  EXPECT_TRUE(check([m3](const Tensors& x) { return Tensors{F::scaled_dot_product_attention(x[0], x[1], x[2], m3)}; },
                    {leaf(seq({2, 3, 2}) / 5), leaf(seq({2, 3, 2}).flip({1}) / 7), leaf(seq({2, 3, 2}) - 3)}));
  const Tensor fm3 = f64({{0, 0.5, -kInf}, {-kInf, -kInf, -kInf}, {-1, -kInf, 0}});
  EXPECT_TRUE(check([fm3](const Tensors& x) { return Tensors{F::scaled_dot_product_attention(x[0], x[1], x[2], fm3)}; },
                    {leaf(seq({3, 2}) / 5), leaf(seq({3, 2}).flip({0}) / 7), leaf(seq({3, 2}) - 3)}));
}

// is_causal adds a 0 / -inf bias to s * (q @ k^T) in float32 and float64: the same values, bit for
// bit, as scaling and then masked_fill(future, -inf) (the form float16 keeps); the gradients of q
// and k take s inside their GEMMs (the product is added into the bias, beta = 1), so they match to
// the last bit or so, v's exactly; more queries than keys and fewer.
TEST(NnAttentionEdge, CausalBiasEqualsMaskedFill) {
  for (DType dt : {float32, float64}) {
    for (auto [L, S] : {std::pair<int64_t, int64_t>{16, 16}, {5, 9}, {9, 5}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " L=" + std::to_string(L) + " S=" + std::to_string(S));
      Generator gen(5);
      const Tensor q0 = randn({2, 3, L, 8}, TensorOptions(dt), &gen), k0 = randn({2, 3, S, 8}, TensorOptions(dt), &gen);
      const Tensor v0 = randn({2, 3, S, 4}, TensorOptions(dt), &gen), g = randn({2, 3, L, 4}, TensorOptions(dt), &gen);
      Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(), v = v0.clone().requires_grad_();
      const Tensor out = F::scaled_dot_product_attention(q, k, v, Tensor(), true);
      const Tensors grads = autograd::grad({out}, {q, k, v}, {g});
      Tensor q2 = q0.clone().requires_grad_(), k2 = k0.clone().requires_grad_(), v2 = v0.clone().requires_grad_();
      const Tensor future = triu(ones({L, S}, bool_), 1);
      const Tensor ref = F::softmax((q2.matmul(k2.mT()) * (1 / std::sqrt(8.0))).masked_fill(future, -kInf), -1).matmul(v2);
      const Tensors ref_grads = autograd::grad({ref}, {q2, k2, v2}, {g});
      EXPECT_TENSOR_EQ(out, ref);
      const double tol = dt == float32 ? 1e-6 : 1e-14;
      for (size_t i = 0; i < 2; ++i) EXPECT_TENSOR_CLOSE(grads[i], ref_grads[i], tol, tol);
      EXPECT_TENSOR_EQ(grads[2], ref_grads[2]);
    }
  }
}

// The GPT's layout: q, k, v are head-transposed views of one (B, T, 3d) product, and the causal
// path adds the GEMM into the bias over strided batches; values as the masked_fill form.
TEST(NnAttentionEdge, CausalOnTransposedHeadViews) {
  Generator gen(7);
  const int64_t B = 2, T = 6, h = 2, hd = 4, d = h * hd;
  const Tensor qkv = randn({B, T, 3 * d}, TensorOptions(float32), &gen).requires_grad_();
  const auto parts = qkv.split(d, 2);
  auto heads = [&](const Tensor& t) { return t.reshape({B, T, h, hd}).transpose(1, 2); };
  const Tensor out = F::scaled_dot_product_attention(heads(parts[0]), heads(parts[1]), heads(parts[2]), Tensor(), true);
  const Tensor future = triu(ones({T, T}, bool_), 1);
  const Tensor ref = F::softmax((heads(parts[0]).matmul(heads(parts[1]).mT()) * (1 / std::sqrt(4.0))).masked_fill(future, -kInf),
                                -1).matmul(heads(parts[2]));
  EXPECT_TENSOR_EQ(out, ref);
  const Tensor g = randn({B, h, T, hd}, TensorOptions(float32), &gen);
  EXPECT_TENSOR_CLOSE(autograd::grad({out}, {qkv}, {g})[0], autograd::grad({ref}, {qkv}, {g})[0], 1e-6, 1e-6);
}

TEST(NnAttentionEdge, Errors) {
  Tensor q = seq({2, 3}), k = seq({4, 3}), v = seq({4, 5});
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, seq({4, 2}), v), ShapeError,
                   "[scaled_dot_product_attention] query of shape [2, 3] and key of shape [4, 2] must have the same embedding size");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, seq({3, 5})), ShapeError, "must have the same sequence length");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, v, ones({2, 4}), true), ValueError, "Explicit attn_mask should not be set when is_causal=True");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(seq({3}), k, v), ShapeError, "need at least 2 dims");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(seq({2, 3}, int64), seq({4, 3}, int64), seq({4, 5}, int64)), DTypeError,
                   "[scaled_dot_product_attention] expected floating point query");
}

// ---- rms_norm / layer_norm -------------------------------------------------------------------------

TEST(NnRmsNormEdge, ValuesWeightAndGradient) {
  Tensor x = f64({{3, 4}, {1, -1}});
  const double r0 = std::sqrt(12.5);
  EXPECT_TENSOR_CLOSE(F::rms_norm(x, {2}, Tensor(), 0.0), f64({{3 / r0, 4 / r0}, {1, -1}}), 1e-12);
  EXPECT_TENSOR_CLOSE(F::rms_norm(x.t(), {2}, f64({2, 0.5}), 0.0), f64({{2 * 3 / std::sqrt(5.0), 0.5 / std::sqrt(5.0)}, {2 * 4 / std::sqrt(8.5), -0.5 / std::sqrt(8.5)}}), 1e-12);
  // The default eps is finfo(dtype).eps; an all-zero row stays finite.
  EXPECT_TENSOR_EQ(F::rms_norm(zeros({1, 3}, float64), {3}), zeros({1, 3}, float64));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{F::rms_norm(v[0], {2, 2}, v[1], 1e-5)}; },
                    {leaf(seq({3, 2, 2}) / 3 - 1), leaf(f64({{1, 2}, {0.5, -1}}))}));
  EXPECT_THROW_MSG(F::rms_norm(x, {3}), ShapeError, "[rms_norm] Given normalized_shape=[3], expected input with shape [*, 3], but got input of size[2, 2]");
  EXPECT_THROW_MSG(F::rms_norm(i64({1, 2}), {2}), DTypeError, "[rms_norm] expected a floating point input");
  EXPECT_THROW_MSG(F::rms_norm(x, {2}, f64({1, 2, 3})), ShapeError, "[rms_norm] Expected weight to be of same shape as normalized_shape");
  EXPECT_THROW_MSG(F::layer_norm(x, {}), ShapeError, "[layer_norm] Expected normalized_shape to be at least 1-dimensional");
  EXPECT_THROW_MSG(F::layer_norm(x, {2}, f64({1, 1}), i64({0, 0})), DTypeError, "[layer_norm] expected a floating point bias");
}

TEST(NnLayerNormEdge, ConstantRowsAndEmptyBatch) {
  // A constant row has zero variance: the output is the bias (no NaN).
  EXPECT_TENSOR_CLOSE(F::layer_norm(f64({{5, 5, 5}}), {3}, f64({1, 2, 3}), f64({0.5, 0, -1})), f64({{0.5, 0, -1}}), 0, 1e-12);
  EXPECT_EQ(F::layer_norm(empty({0, 3}, float64), {3}).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ(F::softmax(empty({0, 3}, float64), 1).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ(F::log_softmax(empty({2, 0}, float64), 1).shape(), IntArrayRef({2, 0}));
}

// ---- linear / mse_loss / dropout -------------------------------------------------------------------

TEST(NnLinearEdge, Errors) {
  Tensor w = seq({2, 3});
  EXPECT_THROW_MSG(F::linear(seq({4, 2}), w), ShapeError, "[linear] input of shape [4, 2] has 2 features but weight of shape [2, 3] expects in_features = 3");
  EXPECT_THROW_MSG(F::linear(seq({4, 3}), w, f64({1, 2, 3})), ShapeError, "[linear] bias of shape [3] does not match out_features = 2");
  EXPECT_THROW_MSG(F::linear(scalar_tensor(1.0), w), ShapeError, "[linear] input must have at least 1 dim");
  EXPECT_THROW_MSG(F::linear(seq({4, 3}), seq({1, 2, 3})), ShapeError, "[linear] weight must be 2-D");
  // A 1-D input and a strided weight.
  EXPECT_TENSOR_EQ(F::linear(f64({1, 0, -1}), seq({3, 2}).t(), f64({10, 20})), f64({6, 16}));
}

TEST(NnMseLossEdge, ReductionsNaNAndBroadcastTarget) {
  Tensor a = f64({{1, 2}, {3, 4}}), b = f64({1, 0});
  EXPECT_TENSOR_EQ(F::mse_loss(a, b, F::Reduction::None), f64({{0, 4}, {4, 16}}));
  EXPECT_TENSOR_EQ(F::mse_loss(a, b, F::Reduction::Sum), scalar_tensor(24.0, float64));
  EXPECT_TENSOR_EQ(F::mse_loss(a.t(), b), scalar_tensor(6.5, float64));  // [[1,3],[2,4]] - [1,0]: (0 + 9 + 1 + 16) / 4
  EXPECT_TRUE(std::isnan(F::mse_loss(f64({kNaN}), f64({0})).item<double>()));
  EXPECT_TRUE(std::isnan(F::mse_loss(empty({0}, float64), empty({0}, float64)).item<double>()));
  EXPECT_THROW_MSG(F::mse_loss(a, f64({1, 2, 3})), ShapeError, "");
  EXPECT_THROW_MSG(F::mse_loss(a, Tensor()), Error, "[mse_loss]");
}
