// nn functional: softmax/log_softmax, layer_norm/rms_norm, dropout, embedding, linear, the losses
// and attention. Golden numbers come from PyTorch 2.x (float64) unless derived by hand.
#include <cmath>
#include <functional>
#include <limits>

#include "test_util.h"

namespace ricci {
namespace {

using autograd::Tensors;
using testing::values;

Tensor leaf(const Tensor& v) {
  Tensor t = v.detach().clone();
  t.requires_grad_();
  return t;
}

// Deterministic, irregular float64 values of a shape.
Tensor sample(IntArrayRef shape, double scale = 0.37, double shift = 0.5) {
  Tensor t = arange(0, product(shape), 1, float64).reshape(shape) * scale;
  return (t.sin() * 2.0 + shift).detach();
}

// Softmax along `dim` of a tensor's values, computed naively in double.
std::vector<double> ref_softmax(const Tensor& x, int64_t dim, bool log) {
  const Tensor xc = x.to(float64).contiguous();
  const std::vector<double> v = xc.to_vector<double>();
  const int64_t nd = x.dim();
  const int64_t d = dim < 0 ? dim + nd : dim;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
  for (int64_t i = d + 1; i < nd; ++i) inner *= x.size(i);
  const int64_t D = x.size(d);
  std::vector<double> out(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double mx = -INFINITY, s = 0;
      for (int64_t k = 0; k < D; ++k) mx = std::max(mx, v[(o * D + k) * inner + j]);
      for (int64_t k = 0; k < D; ++k) s += std::exp(v[(o * D + k) * inner + j] - mx);
      for (int64_t k = 0; k < D; ++k) {
        const double z = v[(o * D + k) * inner + j] - mx;
        out[(o * D + k) * inner + j] = log ? z - std::log(s) : std::exp(z) / s;
      }
    }
  return out;
}

Tensor ref_tensor(const std::vector<double>& v, IntArrayRef shape) { return from_vector(v, shape, float64); }

// ---- softmax ---------------------------------------------------------------------------------------

TEST(NnSoftmax, ClosedFormValues) {
  const Tensor x = tensor({1.0, 2.0, 3.0});
  EXPECT_TENSOR_CLOSE(F::softmax(x, 0), tensor({0.09003057317038045, 0.2447284710547976, 0.6652409557748218}), 1e-6, 1e-7);
  EXPECT_TENSOR_CLOSE(F::log_softmax(x, -1), tensor({-2.4076059644443806, -1.4076059644443804, -0.4076059644443804}),
                      1e-6, 1e-6);
  EXPECT_TENSOR_CLOSE(x.softmax(0), F::softmax(x, 0));
  EXPECT_TENSOR_CLOSE(x.log_softmax(0), F::log_softmax(x, 0));
  EXPECT_EQ(F::softmax(x, 0).dtype(), float32);
}

TEST(NnSoftmax, EveryDimMatchesReference) {
  const Tensor x = sample({3, 4, 5});
  for (int64_t dim : {0, 1, 2, -1, -2}) {
    for (bool log : {false, true}) {
      const Tensor got = log ? F::log_softmax(x, dim) : F::softmax(x, dim);
      EXPECT_TENSOR_CLOSE(got, ref_tensor(ref_softmax(x, dim, log), {3, 4, 5}), 1e-12, 1e-12) << dim << " " << log;
      const Tensor x32 = x.to(float32);
      const Tensor got32 = log ? F::log_softmax(x32, dim) : F::softmax(x32, dim);
      EXPECT_TENSOR_CLOSE(got32, ref_tensor(ref_softmax(x, dim, log), {3, 4, 5}), 1e-5, 1e-6);
    }
  }
}

TEST(NnSoftmax, LongRowsAndTailsUseTheVectorPath) {
  for (int64_t n : {1, 7, 16, 37, 1000, 4099}) {
    const Tensor x = sample({3, n}, 0.113, -0.2).to(float32) * 5.0;
    EXPECT_TENSOR_CLOSE(F::softmax(x, -1), ref_tensor(ref_softmax(x, -1, false), {3, n}), 1e-5, 1e-7) << n;
    EXPECT_TENSOR_CLOSE(F::log_softmax(x, -1), ref_tensor(ref_softmax(x, -1, true), {3, n}), 1e-5, 1e-5) << n;
  }
  // Large inner extent (dim != last) walks column blocks with a partial last block.
  const Tensor y = sample({2, 6, 130}, 0.21);
  EXPECT_TENSOR_CLOSE(F::softmax(y, 1), ref_tensor(ref_softmax(y, 1, false), {2, 6, 130}), 1e-12, 1e-12);
}

TEST(NnSoftmax, NonContiguousInputs) {
  const Tensor base = sample({5, 6});
  const Tensor tr = base.t();  // (6, 5), transposed
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_TENSOR_CLOSE(F::softmax(tr, -1), ref_tensor(ref_softmax(tr, -1, false), {6, 5}), 1e-12, 1e-12);
  EXPECT_TENSOR_CLOSE(F::log_softmax(tr, 0), ref_tensor(ref_softmax(tr, 0, true), {6, 5}), 1e-12, 1e-12);
  const Tensor stepped = base.slice(1, 0, 6, 2);  // (5, 3), step 2
  EXPECT_TENSOR_CLOSE(F::softmax(stepped, 1), ref_tensor(ref_softmax(stepped, 1, false), {5, 3}), 1e-12, 1e-12);
  const Tensor expanded = tensor({1.0, 2.0, 3.0}, float64).expand({4, 3});
  const Tensor e = F::softmax(expanded, 1);
  for (int64_t r = 0; r < 4; ++r) EXPECT_TENSOR_CLOSE(e[r], F::softmax(tensor({1.0, 2.0, 3.0}, float64), 0));
  // Along the expanded dim every entry is 1/4.
  EXPECT_TENSOR_CLOSE(F::softmax(expanded, 0), full({4, 3}, 0.25, float64));
}

TEST(NnSoftmax, StableAtLargeMagnitudes) {
  for (DType dt : {float32, float64, bfloat16}) {
    const Tensor x = tensor({1e4, -1e4, 0.0, 1e4}, dt);
    const Tensor s = F::softmax(x, 0);
    const Tensor ls = F::log_softmax(x, 0);
    EXPECT_TENSOR_CLOSE(s, tensor({0.5, 0.0, 0.0, 0.5}, dt), 1e-3, 1e-6);
    for (double v : values(ls)) EXPECT_TRUE(std::isfinite(v));
    EXPECT_NEAR(values(ls)[0], -std::log(2.0), 1e-2);
    EXPECT_NEAR(values(ls)[1], -2e4 - std::log(2.0), dt == bfloat16 ? 200.0 : 1e-2);
  }
  // A long row of huge values takes the vector path.
  const Tensor big = full({2, 100}, -1e4, float32);
  EXPECT_TENSOR_CLOSE(F::softmax(big, 1), full({2, 100}, 0.01, float32));
}

// Note [Softmax rows with -inf] (nn_hwy.cpp): causally masked rows (-inf after the diagonal) take
// the vector path; their values are those of the row without the masked entries (exp(-inf) = 0,
// log_softmax -inf), for rows of 64 (whole vectors) and 13 (a scalar tail), float32 and float64.
// A row of -inf only is NaN, as PyTorch.
TEST(NnSoftmax, MaskedRowsWithMinusInfinity) {
  const double ninf = -std::numeric_limits<double>::infinity();
  for (DType dt : {float32, float64}) {
    for (int64_t n : {64, 13}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " n=" + std::to_string(n));
      Generator gen(3);
      const Tensor x = randn({n, n}, TensorOptions(dt), &gen) * 3;
      const Tensor future = triu(ones({n, n}, bool_), 1);
      const Tensor masked = x.masked_fill(future, ninf);
      const Tensor s = F::softmax(masked, 1), ls = F::log_softmax(masked, 1);
      for (int64_t i = 0; i < n; ++i) {
        const Tensor live = x.select(0, i).slice(0, 0, i + 1);
        EXPECT_TENSOR_CLOSE(s.select(0, i).slice(0, 0, i + 1), F::softmax(live, 0), 1e-6, 1e-7);
        EXPECT_TENSOR_CLOSE(ls.select(0, i).slice(0, 0, i + 1), F::log_softmax(live, 0), 1e-6, 1e-6);
        if (i + 1 < n) {
          EXPECT_TENSOR_EQ(s.select(0, i).slice(0, i + 1, n), zeros({n - i - 1}, dt));
          EXPECT_TENSOR_EQ(ls.select(0, i).slice(0, i + 1, n), full({n - i - 1}, ninf, dt));
        }
      }
      // The gradient of a masked entry is 0, the others as without the mask.
      Tensor xl = masked.detach().requires_grad_();
      const Tensor g = randn({n, n}, TensorOptions(dt), &gen);
      (F::softmax(xl, 1) * g).sum().backward();
      EXPECT_TENSOR_EQ(where(future, xl.grad(), 0.0), zeros({n, n}, dt));
      // log_softmax: dx = g - exp(y) sum(g) over the whole row, so a masked entry (y = -inf) gets
      // g itself.
      Tensor xm = masked.detach().requires_grad_();
      (F::log_softmax(xm, 1) * g).sum().backward();
      EXPECT_TENSOR_EQ(where(future, xm.grad(), 0.0), where(future, g, 0.0));
      EXPECT_TENSOR_CLOSE(xm.grad(), g - ls.detach().exp() * g.sum({1}, true), 1e-5, 1e-6);
      const Tensor all_masked = full({2, n}, ninf, dt);
      for (double v : values(F::softmax(all_masked, 1))) EXPECT_TRUE(std::isnan(v));
      for (double v : values(F::log_softmax(all_masked, 1))) EXPECT_TRUE(std::isnan(v));
    }
  }
}

TEST(NnSoftmax, NaNAndInfinityFollowPyTorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (int64_t n : {3, 40}) {
    Tensor x = zeros({3, n}, float32);
    x.select(0, 0).select(0, 1).fill_(nan);
    x.select(0, 1).select(0, n - 1).fill_(inf);
    x.select(0, 2).select(0, 0).fill_(-inf);
    const std::vector<double> s = values(F::softmax(x, 1));
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_TRUE(std::isnan(s[j])) << "a NaN spreads over its row";
      EXPECT_TRUE(std::isnan(s[n + j])) << "+inf gives NaN (inf - inf)";
    }
    EXPECT_EQ(s[2 * n], 0.0) << "-inf gets probability 0";
    EXPECT_NEAR(s[2 * n + 1], 1.0 / static_cast<double>(n - 1), 1e-6);
    EXPECT_TRUE(std::isinf(values(F::log_softmax(x, 1))[2 * n]));
    // The same along dim 0 (the column-block path) of the transposed copy.
    const Tensor xt = x.t().contiguous();
    EXPECT_TENSOR_EQ(F::softmax(xt, 0), F::softmax(x, 1).t().contiguous());
    EXPECT_TENSOR_EQ(F::log_softmax(xt, 0), F::log_softmax(x, 1).t().contiguous());
  }
}

TEST(NnSoftmax, ReducedPrecisionComputesInFloat) {
  const Tensor x = sample({4, 33}, 0.31);
  for (DType dt : {bfloat16, float16}) {
    const Tensor s = F::softmax(x.to(dt), -1);
    EXPECT_EQ(s.dtype(), dt);
    EXPECT_TENSOR_CLOSE(s.to(float64), ref_tensor(ref_softmax(x.to(dt), -1, false), {4, 33}), 1e-2, 1e-3);
    const Tensor l = F::log_softmax(x.to(dt), 0);
    EXPECT_TENSOR_CLOSE(l.to(float64), ref_tensor(ref_softmax(x.to(dt), 0, true), {4, 33}), 1e-2, 2e-2);
  }
}

TEST(NnSoftmax, ZeroDimEmptyAndDtypeArgument) {
  EXPECT_TENSOR_CLOSE(F::softmax(scalar_tensor(3.5), 0), scalar_tensor(1.0f));
  EXPECT_TENSOR_CLOSE(F::log_softmax(scalar_tensor(3.5), -1), scalar_tensor(0.0f));
  EXPECT_EQ(F::softmax(zeros({0, 3}), 1).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ(F::log_softmax(zeros({2, 0}), 1).shape(), IntArrayRef({2, 0}));
  const Tensor i = tensor({1, 2, 3});
  const Tensor s = F::softmax(i, 0, float64);
  EXPECT_EQ(s.dtype(), float64);
  EXPECT_TENSOR_CLOSE(s, tensor({0.09003057317038045, 0.2447284710547976, 0.6652409557748218}, float64), 1e-12, 1e-12);
}

TEST(NnSoftmax, Errors) {
  EXPECT_THROW_MSG(F::softmax(tensor({1, 2}), 0), DTypeError, "[softmax] expected a floating point input, but got int64");
  EXPECT_THROW_MSG(F::log_softmax(zeros({2, 3}), 2), IndexError, "log_softmax");
  EXPECT_THROW_MSG(F::softmax(Tensor(), 0), Error, "softmax");
}

TEST(NnSoftmax, Gradients) {
  for (int64_t dim : {0, 1, -1}) {
    const Tensor x = leaf(sample({3, 5}));
    EXPECT_TRUE(autograd::gradcheck([dim](const Tensors& in) { return Tensors{F::softmax(in[0], dim)}; }, {x}));
    EXPECT_TRUE(autograd::gradcheck([dim](const Tensors& in) { return Tensors{F::log_softmax(in[0], dim)}; }, {x}));
  }
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::softmax(in[0].t(), 0)}; },
                                  {leaf(sample({4, 3}))}));
  const Tensor x3 = leaf(sample({2, 3, 4}));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::log_softmax(in[0], 1)}; }, {x3}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{F::softmax(in[0], 1)}; }, {x3}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{F::log_softmax(in[0], -1)}; }, {x3}));
}

TEST(NnSoftmax, NaNRowsKeepNaNGradients) {
  for (int64_t n : {3, 40}) {
    Tensor x = leaf(sample({2, n}));
    Tensor xn = x.detach().clone();
    xn.select(0, 0).select(0, 1).fill_(std::numeric_limits<double>::quiet_NaN());
    xn.requires_grad_();
    F::log_softmax(xn, 1).backward(ones({2, n}, float64));
    const std::vector<double> g = values(xn.grad());
    for (int64_t j = 0; j < n; ++j) EXPECT_TRUE(std::isnan(g[j])) << j;
    for (int64_t j = 0; j < n; ++j) EXPECT_FALSE(std::isnan(g[n + j])) << j;
  }
}

TEST(NnSoftmax, BackwardInReducedPrecision) {
  const Tensor x = leaf(sample({3, 20}).to(bfloat16));
  const Tensor g = sample({3, 20}, 0.7, 0.0);
  F::softmax(x, -1).backward(g.to(bfloat16));
  const Tensor x64 = leaf(x.detach().to(float64));
  F::softmax(x64, -1).backward(g);
  EXPECT_EQ(x.grad().dtype(), bfloat16);
  EXPECT_TENSOR_CLOSE(x.grad().to(float64), x64.grad(), 5e-2, 1e-2);
}

// ---- layer_norm / rms_norm -------------------------------------------------------------------------

TEST(NnLayerNorm, GoldenValues) {
  const Tensor x = tensor({{1., 2., 4.}, {-1., 0., 5.}}, float64);
  const Tensor w = tensor({0.5, 1.0, 2.0}, float64), b = tensor({0.1, -0.2, 0.3}, float64);
  EXPECT_TENSOR_CLOSE(F::layer_norm(x, {3}, w, b),
                      tensor({{-0.43452076572514886, -0.46726038286257454, 2.9726038286257435},
                              {-0.34450012187972756, -0.7080001392911173, 3.0940007661011455}},
                             float64),
                      1e-10, 1e-10);
  EXPECT_TENSOR_CLOSE(F::rms_norm(x, {3}, w),
                      tensor({{0.1889822365046136, 0.7559289460184544, 3.0237157840738176},
                              {-0.16984155512168936, 0.0, 3.3968311024337874}},
                             float64),
                      1e-10, 1e-10);
  EXPECT_TENSOR_CLOSE(F::rms_norm(x, {3}, Tensor(), 1e-5),
                      tensor({{0.3779642030348929, 0.7559284060697858, 1.5118568121395717},
                              {-0.3396829142725232, 0.0, 1.698414571362616}},
                             float64),
                      1e-10, 1e-10);
}

TEST(NnLayerNorm, SeveralNormalizedDimsAndLayouts) {
  const Tensor x = sample({2, 3, 4});
  const Tensor y = F::layer_norm(x, {3, 4});
  // Each sample has mean 0 and (biased) variance ~1.
  for (int64_t i = 0; i < 2; ++i) {
    const std::vector<double> v = values(y[i]);
    double m = 0, s = 0;
    for (double a : v) m += a / 12.0;
    for (double a : v) s += (a - m) * (a - m) / 12.0;
    EXPECT_NEAR(m, 0.0, 1e-12);
    EXPECT_NEAR(s, 1.0, 1e-4);
  }
  const Tensor xt = sample({4, 5}).t();  // non-contiguous (5, 4)
  EXPECT_TENSOR_CLOSE(F::layer_norm(xt, {4}), F::layer_norm(xt.contiguous(), {4}), 1e-12, 1e-12);
  EXPECT_TENSOR_CLOSE(F::rms_norm(xt, {4}), F::rms_norm(xt.contiguous(), {4}), 1e-12, 1e-12);
  // A row with a huge common offset keeps its precision (two-pass variance).
  const Tensor off = tensor({1e6 + 1.0, 1e6 + 2.0, 1e6 + 3.0}, float32);
  EXPECT_TENSOR_CLOSE(F::layer_norm(off, {3}, Tensor(), Tensor(), 0.0), tensor({-1.2247449, 0.0, 1.2247449}), 1e-4, 1e-4);
  EXPECT_EQ(F::layer_norm(zeros({0, 4}), {4}).shape(), IntArrayRef({0, 4}));
}

TEST(NnLayerNorm, ReducedPrecision) {
  const Tensor x = sample({3, 16});
  const Tensor w = sample({16}, 0.5, 1.0);
  for (DType dt : {bfloat16, float16}) {
    const Tensor y = F::layer_norm(x.to(dt), {16}, w.to(dt), Tensor());
    EXPECT_EQ(y.dtype(), dt);
    EXPECT_TENSOR_CLOSE(y.to(float64), F::layer_norm(x.to(dt).to(float64), {16}, w.to(dt).to(float64)), 2e-2, 2e-2);
    // rms_norm's default eps is float32's epsilon, the eps of the type float16/bfloat16 are
    // computed in (PyTorch's result, not finfo(dt).eps): it shows on small inputs.
    const Tensor small = (x * 1e-3).to(dt);
    const Tensor want = F::rms_norm(small.to(float64), {16}, Tensor(), std::ldexp(1.0, -23));
    EXPECT_TENSOR_CLOSE(F::rms_norm(small, {16}).to(float64), want, 2e-2, 2e-2);
    const Tensor with_dt_eps = F::rms_norm(small, {16}, Tensor(), dt == float16 ? std::ldexp(1.0, -10) : std::ldexp(1.0, -7));
    EXPECT_GT((with_dt_eps.to(float64) - want).abs().max().item<double>(), 0.1);
  }
}

TEST(NnLayerNorm, Gradients) {
  const Tensor x = leaf(sample({3, 4}));
  const Tensor w = leaf(sample({4}, 0.9, 1.0)), b = leaf(sample({4}, 1.3, 0.0));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::layer_norm(in[0], {4}, in[1], in[2])}; },
                                  {x, w, b}));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::layer_norm(in[0], {4})}; }, {x}));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::rms_norm(in[0], {4}, in[1], 1e-6)}; },
                                  {x, w}));
  const Tensor x3 = leaf(sample({2, 3, 2}));
  const Tensor w2 = leaf(sample({3, 2}, 0.4, 1.0));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::layer_norm(in[0], {3, 2}, in[1])}; },
                                  {x3, w2}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{F::layer_norm(in[0], {4}, in[1], in[2])}; },
                                      {x, w, b}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& in) { return Tensors{F::rms_norm(in[0], {4}, in[1], 1e-6)}; },
                                      {x, w}));
}

// Note [fused backward] in src/nn/functional.cpp: a plain backward runs the fused kernels, one with
// create_graph the ricci-ops rule. On inputs big enough to split over threads they must agree.
Tensors grads_of(const std::function<Tensor(const Tensors&)>& f, const Tensors& in, const Tensor& g, bool create_graph) {
  Tensors leaves;
  for (const Tensor& t : in) leaves.push_back(leaf(t));
  return autograd::grad({f(leaves)}, leaves, {g}, std::nullopt, create_graph, /*allow_unused=*/true);
}

TEST(NnLayerNorm, FusedAndComposedBackwardAgree) {
  const Tensor x = sample({512, 96}, 0.173), w = sample({96}, 0.5, 1.0), b = sample({96}, 0.9, 0.0);
  const Tensor g = sample({512, 96}, 0.71, 0.1);
  auto ln = [](const Tensors& in) { return F::layer_norm(in[0], {96}, in[1], in[2]); };
  auto rms = [](const Tensors& in) { return F::rms_norm(in[0], {96}, in[1]); };
  for (const auto& f : {std::function<Tensor(const Tensors&)>(ln), std::function<Tensor(const Tensors&)>(rms)}) {
    const Tensors fused = grads_of(f, {x, w, b}, g, false);
    const Tensors composed = grads_of(f, {x, w, b}, g, true);
    for (size_t i = 0; i < fused.size(); ++i) {
      if (!fused[i].defined()) continue;
      EXPECT_TENSOR_CLOSE(fused[i], composed[i].detach(), 1e-9, 1e-9) << i;
    }
  }
  // Rows in blocks of 64 with a partial last block, a row length with a tail after the eight-wide
  // sums, no weight; float32 against the float64 gradients.
  const Tensor x2 = sample({150, 13}, 0.311), g2 = sample({150, 13}, 0.57, 0.2), b2 = sample({13}, 0.4, 0.0);
  auto ln_nw = [](const Tensors& in) { return F::layer_norm(in[0], {13}, Tensor(), in[1]); };
  const Tensors ref = grads_of(ln_nw, {x2, b2}, g2, false);
  const Tensors f32 = grads_of(ln_nw, {x2.to(float32), b2.to(float32)}, g2.to(float32), false);
  const Tensors comp = grads_of(ln_nw, {x2, b2}, g2, true);
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_TENSOR_CLOSE(ref[i], comp[i].detach(), 1e-9, 1e-9) << i;
    EXPECT_TENSOR_CLOSE(f32[i].to(float64), ref[i], 1e-4, 1e-4) << i;
  }
  // The vector rows of float32 (nn_norm_kernels.cpp) with a weight, both norms, a row of whole
  // vectors and a tail: float32 against the float64 gradients.
  const Tensor x3 = sample({70, 101}, 0.217), g3 = sample({70, 101}, 0.43, 0.1);
  const Tensor w3 = sample({101}, 0.5, 1.0), b3 = sample({101}, 0.9, 0.0);
  auto ln3 = [](const Tensors& in) { return F::layer_norm(in[0], {101}, in[1], in[2]); };
  auto rms3 = [](const Tensors& in) { return F::rms_norm(in[0], {101}, in[1]); };
  for (const auto& f : {std::function<Tensor(const Tensors&)>(ln3), std::function<Tensor(const Tensors&)>(rms3)}) {
    const Tensors want = grads_of(f, {x3, w3, b3}, g3, false);
    const Tensors got = grads_of(f, {x3.to(float32), w3.to(float32), b3.to(float32)}, g3.to(float32), false);
    for (size_t i = 0; i < want.size(); ++i) {
      if (!want[i].defined()) continue;
      EXPECT_TENSOR_CLOSE(got[i].to(float64), want[i], 1e-4, 1e-4) << i;
    }
  }
  const Tensor xs = sample({40, 300, 3}, 0.0123);
  const Tensor gs = sample({40, 300, 3}, 0.77);
  for (int64_t dim : {1, 2}) {
    for (bool log : {false, true}) {
      auto sm = [dim, log](const Tensors& in) { return log ? F::log_softmax(in[0], dim) : F::softmax(in[0], dim); };
      EXPECT_TENSOR_CLOSE(grads_of(sm, {xs}, gs, false)[0], grads_of(sm, {xs}, gs, true)[0].detach(), 1e-10, 1e-12);
    }
  }
}

TEST(NnLayerNorm, Errors) {
  EXPECT_THROW_MSG(F::layer_norm(zeros({2, 3}), {4}), ShapeError,
                   "[layer_norm] Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]");
  EXPECT_THROW_MSG(F::layer_norm(zeros({2, 4}), {4}, zeros({3})), ShapeError,
                   "Expected weight to be of same shape as normalized_shape, but got weight of shape [3] and "
                   "normalized_shape = [4]");
  EXPECT_THROW_MSG(F::layer_norm(zeros({2, 4}), {}), ShapeError, "at least 1-dimensional");
  EXPECT_THROW_MSG(F::rms_norm(zeros({2, 3}), {2}), ShapeError, "[rms_norm] Given normalized_shape=[2]");
  EXPECT_THROW_MSG(F::layer_norm(tensor({1, 2}), {2}), DTypeError, "[layer_norm] expected a floating point input");
}

// ---- dropout ---------------------------------------------------------------------------------------

TEST(NnDropout, ZeroesAndScales) {
  manual_seed(7);
  const Tensor x = ones({1000});
  const Tensor y = F::dropout(x, 0.25);
  int zeros_seen = 0;
  for (double v : values(y)) {
    if (v == 0) ++zeros_seen;
    else EXPECT_NEAR(v, 1.0 / 0.75, 1e-6);
  }
  EXPECT_GT(zeros_seen, 180);
  EXPECT_LT(zeros_seen, 320);
  EXPECT_TRUE(F::dropout(x, 0.25, false).is_same(x));
  EXPECT_TENSOR_EQ(F::dropout(x, 1.0), zeros({1000}));
  EXPECT_TENSOR_EQ(F::dropout(x, 0.0), x);
}

TEST(NnDropout, GradientIsTheMask) {
  manual_seed(3);
  const Tensor x = leaf(sample({50}));
  const Tensor y = F::dropout(x, 0.5);
  y.sum().backward();
  const std::vector<double> yv = values(y), gv = values(x.grad()), xv = values(x);
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_NEAR(gv[i], yv[i] == 0 && xv[i] != 0 ? 0.0 : 2.0, 1e-12);
}

// The float32 CPU mask is made in one vectorised pass (src/backend/cpu/dropout_hwy.cpp): the same
// values, from the same draws, as bernoulli(keep) * scale, and the generator ends where bernoulli
// leaves it; lengths below one vector, odd, and over several parallel chunks; keep probabilities
// near 0, the usual ones, within 2^-53 of 1 and 1 itself (p = 1e-300); the default generator; a
// float64 input (the composed path) for comparison of the draws.
TEST(NnDropout, FusedMaskMatchesBernoulli) {
  for (int64_t n : {1, 7, 17, 1001, 100003}) {
    for (double p : {0.1, 0.5, 0.999, 1e-16, 1e-300}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " p=" + std::to_string(p));
      Generator g1(1234 + n), g2(1234 + n);
      const Tensor x = randn({n}, TensorOptions(float32), &g1);
      (void)randn({n}, TensorOptions(float32), &g2);
      const Tensor y = F::dropout(x, p, true, &g1);
      const Tensor keep = bernoulli({n}, 1.0 - p, TensorOptions(float32), &g2);
      EXPECT_TENSOR_EQ(y, x * (keep * (1.0 / (1.0 - p))));
      EXPECT_TENSOR_EQ(randn({3}, TensorOptions(float32), &g1), randn({3}, TensorOptions(float32), &g2));
      // float64 takes the composed path: the same elements dropped.
      Generator g3(99), g4(99);
      const Tensor y32 = F::dropout(ones({n}, float32), p, true, &g3);
      const Tensor y64 = F::dropout(ones({n}, float64), p, true, &g4);
      EXPECT_TENSOR_EQ(y32 == 0, y64 == 0);
    }
  }
  // A 2-D input and the default generator.
  manual_seed(11);
  const Tensor x = ones({33, 65});
  const Tensor y = F::dropout(x, 0.2);
  manual_seed(11);
  EXPECT_TENSOR_EQ(y, x * (bernoulli({33, 65}, 0.8, TensorOptions(float32)) * 1.25));
}

TEST(NnDropout, Errors) {
  EXPECT_THROW_MSG(F::dropout(ones({3}), 1.5), ValueError,
                   "[dropout] dropout probability has to be between 0 and 1, but got 1.5");
  EXPECT_THROW_MSG(F::dropout(ones({3}), -0.1), ValueError, "but got -0.1");
}

// ---- embedding ---------------------------------------------------------------------------------------

TEST(NnEmbedding, LooksUpRows) {
  const Tensor w = arange(0, 12, 1, float32).reshape({4, 3});
  const Tensor idx = tensor({{0, 3}, {3, 1}});
  const Tensor out = F::embedding(idx, w);
  EXPECT_EQ(out.shape(), IntArrayRef({2, 2, 3}));
  EXPECT_TENSOR_EQ(out, tensor({{{0.f, 1.f, 2.f}, {9.f, 10.f, 11.f}}, {{9.f, 10.f, 11.f}, {3.f, 4.f, 5.f}}}));
  EXPECT_TENSOR_EQ(F::embedding(tensor({2}, int32), w), tensor({{6.f, 7.f, 8.f}}));
  EXPECT_TENSOR_EQ(F::embedding(tensor({1, 2}), w.t().contiguous().t()), tensor({{3.f, 4.f, 5.f}, {6.f, 7.f, 8.f}}));
  // The padding row still reads its values; only its gradient is dropped.
  EXPECT_TENSOR_EQ(F::embedding(tensor({1}), w, 1), tensor({{3.f, 4.f, 5.f}}));
  EXPECT_EQ(F::embedding(zeros({0}, int64), w).shape(), IntArrayRef({0, 3}));
  EXPECT_TENSOR_EQ(F::embedding(tensor({1, 0}), tensor({{1, 2}, {3, 4}})), tensor({{3, 4}, {1, 2}}));
}

TEST(NnEmbedding, GradientAccumulatesAndSkipsPadding) {
  const Tensor w = leaf(sample({4, 2}));
  const Tensor idx = tensor({1, 3, 1, 0});
  F::embedding(idx, w, /*padding_idx=*/-4).sum().backward();  // -4 wraps to row 0
  EXPECT_TENSOR_EQ(w.grad(), tensor({{0., 0.}, {2., 2.}, {0., 0.}, {1., 1.}}, float64));
  // padding_idx deliberately breaks the match with finite differences, so check without it.
  EXPECT_TRUE(autograd::gradcheck([idx](const Tensors& in) { return Tensors{F::embedding(idx, in[0])}; }, {w}));
  EXPECT_TRUE(autograd::gradgradcheck([idx](const Tensors& in) { return Tensors{F::embedding(idx, in[0]) * in[0].sum()}; },
                                      {w}));
  // Second order with padding: the double backward is the transpose of the (padded) backward.
  const Tensor g = leaf(sample({4, 2}, 0.5));
  const Tensor w2 = leaf(sample({4, 2}));
  Tensor gw = autograd::grad({F::embedding(idx, w2, 0)}, {w2}, {g}, std::nullopt, true)[0];
  const Tensor v = sample({4, 2}, 0.9);
  const Tensor gg = autograd::grad({gw}, {g}, {v})[0];
  // d<gw, v>/dg = v[idx] with padding rows (idx == 0) zeroed.
  const std::vector<double> vv = values(v), got = values(gg);
  const int64_t ids[4] = {1, 3, 1, 0};
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 2; ++c) EXPECT_NEAR(got[i * 2 + c], ids[i] == 0 ? 0.0 : vv[ids[i] * 2 + c], 1e-12);
}

TEST(NnEmbedding, Errors) {
  const Tensor w = zeros({5, 2});
  EXPECT_THROW_MSG(F::embedding(tensor({0, 7}), w), IndexError, "[embedding] index out of range in self");
  EXPECT_THROW_MSG(F::embedding(tensor({-1}), w), IndexError, "index out of range in self");
  EXPECT_THROW_MSG(F::embedding(tensor({0.5f}), w), DTypeError, "Expected indices of dtype int64");
  EXPECT_THROW_MSG(F::embedding(tensor({0}), zeros({5})), ShapeError, "'weight' must be 2-D");
  EXPECT_THROW_MSG(F::embedding(tensor({0}), w, 5), ValueError, "Padding_idx must be within num_embeddings");
}

// ---- linear ----------------------------------------------------------------------------------------

TEST(NnLinear, ValuesAndBatching) {
  const Tensor x = tensor({{1., 2.}, {3., 4.}, {5., 6.}}, float64);
  const Tensor w = tensor({{1., 0.}, {0.5, -1.}, {2., 1.}}, float64);
  const Tensor b = tensor({0.1, 0.2, 0.3}, float64);
  EXPECT_TENSOR_CLOSE(F::linear(x, w, b), tensor({{1.1, -1.3, 4.3}, {3.1, -2.3, 10.3}, {5.1, -3.3, 16.3}}, float64));
  const Tensor xb = sample({2, 3, 2});
  const Tensor yb = F::linear(xb, w, b);
  EXPECT_EQ(yb.shape(), IntArrayRef({2, 3, 3}));
  EXPECT_TENSOR_CLOSE(yb[1], F::linear(xb[1], w, b));
  EXPECT_TENSOR_CLOSE(F::linear(x, w), F::linear(x, w, b) - b);
}

TEST(NnLinear, GradientsAndErrors) {
  const Tensor x = leaf(sample({2, 3, 4})), w = leaf(sample({5, 4}, 0.3)), b = leaf(sample({5}, 0.7));
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::linear(in[0], in[1], in[2])}; }, {x, w, b}));
  EXPECT_THROW_MSG(F::linear(zeros({2, 3}), zeros({4, 5})), ShapeError,
                   "[linear] input of shape [2, 3] has 3 features but weight of shape [4, 5] expects in_features = 5");
  EXPECT_THROW_MSG(F::linear(zeros({2, 5}), zeros({4, 5}), zeros({3})), ShapeError,
                   "[linear] bias of shape [3] does not match out_features = 4");
}

// linear with a bias is one addmm for float32/float64 rows (Note [Linear's bias in the GEMM]):
// the product is added into the broadcast bias, so it may differ from x @ w^T + b in the last
// bit (K beyond OpenBLAS's block), as PyTorch's addmm does; gradients and second derivatives
// match the composed form; a float64 bias with float32 operands promotes as `+` does.
TEST(NnLinear, EqualsMatmulPlusBias) {
  Generator gen(2);
  for (DType dt : {float32, float64}) {
    for (int64_t k : {16, 600}) {  // 600: beyond OpenBLAS's K block, where the sum order differs
      const Tensor x0 = randn({4, 6, k}, TensorOptions(dt), &gen), w0 = randn({9, k}, TensorOptions(dt), &gen);
      const Tensor b0 = randn({9}, TensorOptions(dt), &gen), g = randn({4, 6, 9}, TensorOptions(dt), &gen);
      Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
      const Tensor y = F::linear(x, w, b);
      const Tensors gy = autograd::grad({y}, {x, w, b}, {g}, true, true);
      Tensor x2 = x0.clone().requires_grad_(), w2 = w0.clone().requires_grad_(), b2 = b0.clone().requires_grad_();
      const Tensor ref = x2.matmul(w2.t()) + b2;
      const Tensors gr = autograd::grad({ref}, {x2, w2, b2}, {g}, true, true);
      EXPECT_TENSOR_CLOSE(y, ref);
      for (size_t i = 0; i < 3; ++i) EXPECT_TENSOR_CLOSE(gy[i], gr[i]);
      EXPECT_TENSOR_CLOSE(gy[2], g.sum({0, 1}));  // the bias's gradient: grad_out summed over the rows
      // Second order: d/dw of sum(dL/dx).
      EXPECT_TENSOR_CLOSE(autograd::grad({gy[0].sum()}, {w})[0], autograd::grad({gr[0].sum()}, {w2})[0]);
      // Inference (no graph) gives the same values as with a graph.
      NoGradGuard ng;
      EXPECT_TENSOR_EQ(F::linear(x0, w0, b0), y.detach());
    }
  }
  const Tensor y = F::linear(ones({2, 3}, float32), ones({4, 3}, float32), full({4}, 0.5, float64));
  EXPECT_EQ(y.dtype(), float64);
  EXPECT_TENSOR_EQ(y, full({2, 4}, 3.5, float64));
}

// The addmm path: 2-D inputs record AddmmBackward0 (PyTorch's node); non-contiguous inputs
// (transposed, step-sliced: the matmul + add path), a 0-d bias for one output, empty batches and
// in_features = 0 (the output is the bias) agree with x @ w^T + b.
TEST(NnLinear, AddmmPathShapesAndLayouts) {
  Generator gen(5);
  const Tensor w = randn({5, 7}, TensorOptions(float32), &gen).requires_grad_();
  const Tensor b = randn({5}, TensorOptions(float32), &gen).requires_grad_();
  const Tensor x = randn({3, 7}, TensorOptions(float32), &gen);
  const Tensor y = F::linear(x, w, b);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "AddmmBackward0");
  EXPECT_TENSOR_CLOSE(y, x.matmul(w.t()) + b);
  const Tensor xt = randn({7, 4, 3}, TensorOptions(float32), &gen).transpose(0, 2);  // (3, 4, 7), not contiguous
  EXPECT_TENSOR_CLOSE(F::linear(xt, w, b), xt.matmul(w.t()) + b);
  const Tensor xs = randn({3, 8, 7}, TensorOptions(float32), &gen).slice(1, 0, 8, 2);  // step-sliced rows
  EXPECT_TENSOR_CLOSE(F::linear(xs, w, b), xs.matmul(w.t()) + b);
  EXPECT_TENSOR_CLOSE(F::linear(xs.contiguous(), w, b), xs.matmul(w.t()) + b);
  const Tensor w1 = randn({1, 7}, TensorOptions(float64), &gen), b1 = scalar_tensor(0.25, float64);
  const Tensor x1 = randn({2, 3, 7}, TensorOptions(float64), &gen);
  EXPECT_TENSOR_CLOSE(F::linear(x1, w1, b1), x1.matmul(w1.t()) + b1);
  EXPECT_EQ(F::linear(zeros({0, 3, 7}), w, b).shape(), IntArrayRef({0, 3, 5}));
  const Tensor b0 = tensor({1., 2., 3.}, float32);
  EXPECT_TENSOR_EQ(F::linear(zeros({2, 0}), zeros({3, 0}), b0), b0.expand({2, 3}));
  // A step-sliced bias (stride 2) is copied into the rows by the generic broadcast copy.
  const Tensor bs = randn({10}, TensorOptions(float32), &gen).slice(0, 0, 10, 2);
  EXPECT_TENSOR_CLOSE(F::linear(x, w, bs), x.matmul(w.t()) + bs);
}

// ---- losses ----------------------------------------------------------------------------------------

Tensor ce_logits() {
  return tensor({{1.0, 2.0, 0.5, -1.0}, {0.1, 0.2, 0.3, 0.4}, {3.0, -2.0, 1.0, 0.0}}, float64);
}

TEST(NnCrossEntropy, ClassIndexGoldens) {
  using F::Reduction;
  const Tensor x = ce_logits();
  const Tensor t = tensor({1, -100, 0});
  const Tensor w = tensor({1.0, 2.0, 0.5, 1.5}, float64);
  auto ce = [&](Reduction r, double ls, bool weighted) {
    return F::cross_entropy(x, t, {.weight = weighted ? w : Tensor(), .reduction = r, .label_smoothing = ls});
  };
  EXPECT_NEAR(ce(Reduction::Mean, 0, false).item<double>(), 0.33534863035128515, 1e-12);
  EXPECT_NEAR(ce(Reduction::Sum, 0, false).item<double>(), 0.6706972607025703, 1e-12);
  EXPECT_TENSOR_CLOSE(ce(Reduction::None, 0, false), tensor({0.49518189808585605, 0.0, 0.1755153626167143}, float64));
  EXPECT_NEAR(ce(Reduction::Mean, 0.1, false).item<double>(), 0.5290986303512852, 1e-12);
  EXPECT_NEAR(ce(Reduction::Sum, 0.1, false).item<double>(), 1.0581972607025705, 1e-12);
  EXPECT_TENSOR_CLOSE(ce(Reduction::None, 0.1, false), tensor({0.6326818980858561, 0.0, 0.4255153626167143}, float64));
  EXPECT_NEAR(ce(Reduction::Mean, 0.2, true).item<double>(), 0.7292925474021279, 1e-12);
  EXPECT_NEAR(ce(Reduction::Sum, 0.2, true).item<double>(), 2.187877642206384, 1e-12);
  EXPECT_TENSOR_CLOSE(ce(Reduction::None, 0.2, true), tensor({1.2285865114588337, 0.0, 0.95929113074755}, float64));
  const Tensor t2 = tensor({1, 3, 0});
  EXPECT_NEAR(F::cross_entropy(x, t2).item<double>(), 0.6377442633859111, 1e-12);
  EXPECT_NEAR(F::cross_entropy(x, t2, {.weight = w}).item<double>(), 0.6732627673269268, 1e-12);
  EXPECT_NEAR(F::nll_loss(x, t2).item<double>(), -1.8, 1e-12);
  EXPECT_NEAR(F::nll_loss(x, t2, {.weight = w, .reduction = Reduction::Sum}).item<double>(), -7.6, 1e-12);
  // Every target ignored: the mean is NaN, as in PyTorch.
  EXPECT_TRUE(std::isnan(F::cross_entropy(x, tensor({-100, -100, -100})).item<double>()));
  // float32 logits.
  EXPECT_NEAR(F::cross_entropy(x.to(float32), t2).item<double>(), 0.6377442633859111, 1e-6);
  // An empty batch: mean is NaN, sum is 0, none is empty (PyTorch).
  EXPECT_TRUE(std::isnan(F::cross_entropy(zeros({0, 4}), zeros({0}, int64)).item<double>()));
  EXPECT_EQ(F::cross_entropy(zeros({0, 4}), zeros({0}, int64), {.reduction = Reduction::Sum}).item<double>(), 0.0);
  EXPECT_EQ(F::cross_entropy(zeros({0, 4}), zeros({0}, int64), {.reduction = Reduction::None}).shape(), IntArrayRef({0}));
}

TEST(NnCrossEntropy, ReducedPrecisionLogits) {
  const Tensor x = ce_logits();
  const Tensor t = tensor({1, 3, 0});
  for (DType dt : {bfloat16, float16}) {
    const Tensor xl = leaf(x.to(dt));
    const Tensor loss = F::cross_entropy(xl, t, {.label_smoothing = 0.1});
    EXPECT_EQ(loss.dtype(), dt);
    EXPECT_NEAR(loss.item<double>(), F::cross_entropy(x.to(dt).to(float64), t, {.label_smoothing = 0.1}).item<double>(), 2e-2);
    loss.backward();
    EXPECT_EQ(xl.grad().dtype(), dt);
  }
}

TEST(NnCrossEntropy, ProbabilityTargets) {
  using F::Reduction;
  const Tensor x = ce_logits();
  const Tensor p = tensor({{0.1, 0.2, 0.3, 0.4}, {0.25, 0.25, 0.25, 0.25}, {1., 0., 0., 0.}}, float64);
  const Tensor w = tensor({1.0, 2.0, 0.5, 1.5}, float64);
  EXPECT_NEAR(F::cross_entropy(x, p).item<double>(), 1.2710775967192445, 1e-12);
  EXPECT_NEAR(F::cross_entropy(x, p, {.weight = w, .label_smoothing = 0.1}).item<double>(), 1.6652666770361353, 1e-12);
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, p, {.reduction = Reduction::None}),
                      tensor({2.245181898085856, 1.3925355294551627, 0.1755153626167143}, float64));
}

TEST(NnCrossEntropy, SpatialAndUnbatchedInputs) {
  // (N, C, d) equals the (N*d, C) problem with the class dim moved last.
  const Tensor x = sample({2, 3, 4});
  const Tensor t = tensor({{0, 2, 1, 1}, {2, -100, 0, 1}});
  const Tensor flat_x = x.permute({0, 2, 1}).reshape({8, 3});
  const Tensor flat_t = t.reshape({8});
  EXPECT_TENSOR_CLOSE(F::cross_entropy(x, t, {.label_smoothing = 0.3}),
                      F::cross_entropy(flat_x, flat_t, {.label_smoothing = 0.3}), 1e-12, 1e-12);
  EXPECT_EQ(F::cross_entropy(x, t, {.reduction = F::Reduction::None}).shape(), IntArrayRef({2, 4}));
  // Unbatched: (C) with a 0-d target.
  const Tensor row = tensor({1.0, 2.0, 0.5, -1.0}, float64);
  EXPECT_NEAR(F::cross_entropy(row, scalar_tensor(int64_t{1})).item<double>(), 0.49518189808585605, 1e-12);
}

TEST(NnCrossEntropy, Gradients) {
  const Tensor x = leaf(sample({3, 4}));
  const Tensor t = tensor({1, -100, 3});
  const Tensor w = tensor({1.0, 2.0, 0.5, 1.5}, float64);
  for (double ls : {0.0, 0.25}) {
    EXPECT_TRUE(autograd::gradcheck(
        [&](const Tensors& in) { return Tensors{F::cross_entropy(in[0], t, {.weight = w, .label_smoothing = ls})}; }, {x}));
    EXPECT_TRUE(autograd::gradcheck(
        [&](const Tensors& in) {
          return Tensors{F::cross_entropy(in[0], t, {.reduction = F::Reduction::None, .label_smoothing = ls})};
        },
        {x}));
  }
  const Tensor p = leaf(sample({3, 4}, 0.2, 3.0));
  EXPECT_TRUE(autograd::gradcheck(
      [](const Tensors& in) { return Tensors{F::cross_entropy(in[0], in[1], {.label_smoothing = 0.1})}; }, {x, p}));
  EXPECT_TRUE(autograd::gradgradcheck([&](const Tensors& in) { return Tensors{F::cross_entropy(in[0], t)}; }, {x}));
  const Tensor x3 = leaf(sample({2, 3, 2}));
  const Tensor t3 = tensor({{0, 2}, {1, 1}});
  EXPECT_TRUE(autograd::gradcheck([&](const Tensors& in) { return Tensors{F::nll_loss(in[0], t3)}; }, {x3}));
  EXPECT_TRUE(autograd::gradgradcheck(
      [&](const Tensors& in) { return Tensors{F::nll_loss(in[0] * in[0], t3, {.reduction = F::Reduction::None})}; }, {x3}));
}

TEST(NnCrossEntropy, Errors) {
  const Tensor x = zeros({2, 5});
  EXPECT_THROW_MSG(F::cross_entropy(x, tensor({1, 7})), IndexError, "[cross_entropy] Target 7 is out of bounds.");
  EXPECT_THROW_MSG(F::cross_entropy(x, tensor({1, 7})), IndexError, "the input has 5 classes");
  EXPECT_THROW_MSG(F::nll_loss(x, tensor({-3, 0})), IndexError, "[nll_loss] Target -3 is out of bounds.");
  EXPECT_THROW_MSG(F::cross_entropy(x, tensor({1, 2, 3})), ShapeError,
                   "Expected input batch_size (2) to match target batch_size (3).");
  EXPECT_THROW_MSG(F::cross_entropy(x, zeros({2, 4})), ShapeError,
                   "Expected input and target of the same shape when target holds class probabilities");
  EXPECT_THROW_MSG(F::cross_entropy(x, tensor({1, 2}), {.weight = ones({3})}), ShapeError,
                   "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of "
                   "shape: [3]");
  EXPECT_THROW_MSG(F::cross_entropy(x, tensor({1, 2}), {.label_smoothing = 1.5}), ValueError,
                   "label_smoothing must be between 0.0 and 1.0. Got: 1.5");
  EXPECT_THROW_MSG(F::cross_entropy(tensor({{1, 2}}), tensor({1})), DTypeError,
                   "[cross_entropy] expected a floating point input, but got int64");
  EXPECT_THROW_MSG(F::nll_loss(x, zeros({2})), DTypeError, "Expected target (class indices) of dtype int64");
  EXPECT_THROW_MSG(F::nll_loss(zeros({2, 3, 4}), zeros({2, 5}, int64)), ShapeError, "Expected target size [2, 4], got [2, 5]");
}

TEST(NnMseLoss, ValuesAndGradients) {
  const Tensor a = tensor({1., 2., 3.}), b = tensor({1.5, 2., 1.});
  EXPECT_NEAR(F::mse_loss(a, b).item<double>(), 4.25 / 3.0, 1e-6);
  EXPECT_NEAR(F::mse_loss(a, b, F::Reduction::Sum).item<double>(), 4.25, 1e-6);
  EXPECT_TENSOR_CLOSE(F::mse_loss(a, b, F::Reduction::None), tensor({0.25, 0., 4.}));
  const Tensor x = leaf(sample({2, 3})), y = leaf(sample({3}, 0.8));  // broadcast target
  EXPECT_TRUE(autograd::gradcheck([](const Tensors& in) { return Tensors{F::mse_loss(in[0], in[1])}; }, {x, y}));
}

// ---- attention -------------------------------------------------------------------------------------

TEST(NnAttention, GoldenValuesAndMasks) {
  const Tensor q = tensor({{1., 0.}, {0., 1.}, {1., 1.}}, float64);
  const Tensor k = tensor({{1., 2.}, {0.5, -1.}, {0., 1.}}, float64);
  const Tensor v = tensor({{1., 0.}, {0., 2.}, {3., 1.}}, float64);
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(q, k, v),
                      tensor({{1.1293465214032004, 0.8643386753676012},
                              {1.5370708705619296, 0.45433451307101336},
                              {1.3029177830910728, 0.31000298420640504}},
                             float64),
                      1e-10, 1e-10);
  const Tensor causal = F::scaled_dot_product_attention(q, k, v, Tensor(), true);
  EXPECT_TENSOR_CLOSE(causal,
                      tensor({{1.0, 0.0}, {0.8929581985348296, 0.21408360293034087},
                              {1.3029177830910728, 0.31000298420640504}},
                             float64),
                      1e-10, 1e-10);
  const Tensor keep = tensor({{true, false, false}, {true, true, false}, {true, true, true}});
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(q, k, v, keep), causal, 1e-12, 1e-12);
  const double ninf = -std::numeric_limits<double>::infinity();
  const Tensor additive = tensor({{0., ninf, ninf}, {0., 0., ninf}, {0., 0., 0.}}, float64);
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(q, k, v, additive), causal, 1e-12, 1e-12);
  // Batched, and an explicit scale of 1/sqrt(E) equals the default.
  const Tensor qb = sample({2, 3, 4}), kb = sample({2, 5, 4}, 0.3), vb = sample({2, 5, 6}, 0.6);
  EXPECT_EQ(F::scaled_dot_product_attention(qb, kb, vb).shape(), IntArrayRef({2, 3, 6}));
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(qb, kb, vb, Tensor(), false, 0.5),
                      F::scaled_dot_product_attention(qb, kb, vb));
  // Key and value without the batch dim broadcast against the batched query.
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(qb, kb[1], vb[1])[0],
                      F::scaled_dot_product_attention(qb[0], kb[1], vb[1]));
  // A float mask broadcast over the batch.
  const Tensor bias = sample({3, 5}, 0.45, 0.0);
  EXPECT_TENSOR_CLOSE(F::scaled_dot_product_attention(qb, kb, vb, bias)[1],
                      F::scaled_dot_product_attention(qb[1], kb[1], vb[1], bias));
}

// Note [Products in their operand's layout] (src/ops/matmul.cpp): heads that are views of a
// (B, T, 3 * H * D) tensor give an output laid out as (B, T, H, D) and gradients of q, k and v
// laid out as the views' memory, with the same values as on contiguous copies; float64 and
// float32, the gradient of the joined tensor too, and a gradcheck through the views.
TEST(NnAttention, HeadViewsKeepTheirLayout) {
  const int64_t B = 2, T = 5, H = 3, D = 4, d = H * D;
  for (DType dt : {float64, float32}) {
    const double tol = dt == float64 ? 1e-12 : 1e-5;
    const Tensor base = sample({B, T, 3 * d}, 0.41, 0.1).to(dt);
    const Tensor gy = sample({B, H, T, D}, 0.63, -0.2).to(dt);
    auto heads = [&](const Tensor& x, int64_t i) {
      return x.narrow(2, i * d, d).reshape({B, T, H, D}).transpose(1, 2);
    };
    const Tensor x1 = leaf(base), x2 = leaf(base);
    const Tensor y1 = F::scaled_dot_product_attention(heads(x1, 0), heads(x1, 1), heads(x1, 2), Tensor(), true);
    const Tensor y2 = F::scaled_dot_product_attention(heads(x2, 0).contiguous(), heads(x2, 1).contiguous(),
                                                      heads(x2, 2).contiguous(), Tensor(), true);
    EXPECT_TRUE(y1.transpose(1, 2).is_contiguous());
    EXPECT_TRUE(y2.is_contiguous());
    EXPECT_TENSOR_CLOSE(y1, y2, tol, tol);
    const Tensors q1 = {heads(x1, 0), heads(x1, 1), heads(x1, 2)};
    const Tensors g1 = autograd::grad({F::scaled_dot_product_attention(q1[0], q1[1], q1[2], Tensor(), true)}, q1, {gy});
    for (const Tensor& g : g1) EXPECT_TRUE(g.transpose(1, 2).is_contiguous());
    autograd::backward({y1}, {gy});
    autograd::backward({y2}, {gy});
    EXPECT_TENSOR_CLOSE(x1.grad(), x2.grad(), tol, tol);
  }
  const Tensor x = leaf(sample({2, 3, 3 * 4}, 0.5));
  EXPECT_TRUE(autograd::gradcheck(
      [](const Tensors& in) {
        auto h = [&](int64_t i) { return in[0].narrow(2, i * 4, 4).reshape({2, 3, 2, 2}).transpose(1, 2); };
        return Tensors{F::scaled_dot_product_attention(h(0), h(1), h(2), Tensor(), true)};
      },
      {x}));
}

TEST(NnAttention, GradientsAndErrors) {
  const Tensor q = leaf(sample({2, 3, 4})), k = leaf(sample({2, 5, 4}, 0.3)), v = leaf(sample({2, 5, 3}, 0.6));
  EXPECT_TRUE(autograd::gradcheck(
      [](const Tensors& in) { return Tensors{F::scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), true)}; },
      {q, k, v}));
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(zeros({3, 4}), zeros({5, 3}), zeros({5, 2})), ShapeError,
                   "must have the same embedding size");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(zeros({3, 4}), zeros({5, 4}), zeros({6, 2})), ShapeError,
                   "must have the same sequence length");
  EXPECT_THROW_MSG(F::scaled_dot_product_attention(zeros({3, 4}), zeros({5, 4}), zeros({5, 2}), ones({3, 5}), true),
                   ValueError, "Explicit attn_mask should not be set when is_causal=True");
}

}  // namespace
}  // namespace ricci
