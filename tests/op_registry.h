#pragma once
// The op registry the tests walk: every differentiable op as a Case (name, input shapes, the op
// as a function of its inputs, broadcast shapes, a value domain), with deterministic, kink-free
// float64 inputs. test_gradcheck_all_ops.cpp gradchecks each case; test_lazy_registry.cpp runs
// each one eagerly and lazily and compares. A new op gets a Case here and both tests cover it.
#include <cmath>

#include "test_util.h"

namespace ricci::op_registry {


using autograd::Tensors;
using Fn = std::function<Tensors(const Tensors&)>;

enum class Domain { Any, Positive, Unit };  // Unit: (-0.9, 0.9), for atanh-like ranges

struct Case {
  const char* name;
  std::vector<Dims> shapes;
  Fn fn;
  bool gradgrad = false;
  Domain domain = Domain::Any;
  std::vector<Dims> broadcast_shapes = {};  // a second set of shapes the op broadcasts
};

// Distinct, kink-free values: |x| >= 0.05 and no two elements equal.
inline std::vector<double> sample_values(int64_t n, Domain d, int salt) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double s = std::sin(0.91 * static_cast<double>(i) + 0.37 * salt + 0.2);
    const double mag = 0.1 + 0.8 * std::abs(s) + 0.001 * static_cast<double>(i);
    const double sign = (i + salt) % 3 == 1 ? -1.0 : 1.0;
    switch (d) {
      case Domain::Any: v[static_cast<size_t>(i)] = sign * mag * 1.5; break;
      case Domain::Positive: v[static_cast<size_t>(i)] = 0.3 + mag; break;
      case Domain::Unit: v[static_cast<size_t>(i)] = sign * mag * 0.9; break;
    }
  }
  return v;
}

enum class Layout { Contiguous, NonContiguous };

// A float64 leaf of `shape` with the given layout: non-contiguous means the transpose of a
// reversed-shape tensor (2-D and up) or every other element of a longer vector (1-D).
inline Tensor make_input(const Dims& shape, Domain d, int salt, Layout layout) {
  const int64_t n = product(shape);
  Tensor t;
  if (layout == Layout::Contiguous || shape.size() == 0 || n <= 1) {
    t = from_vector(sample_values(n, d, salt), shape, float64);
  } else if (shape.size() == 1) {
    t = from_vector(sample_values(2 * n, d, salt), {2 * n}, float64).slice(0, 0, 2 * n, 2);
  } else {
    Dims rev(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) rev[i] = shape[shape.size() - 1 - i];
    t = from_vector(sample_values(n, d, salt), rev, float64).T();
  }
  t = t.detach();
  t.requires_grad_();
  return t;
}

inline std::vector<Case> elementwise_cases() {
  using D = Domain;
  auto unary = [](const char* name, Tensor (*f)(const Tensor&), bool gg = true, D d = D::Any) {
    return Case{name, {{3, 4}}, [f](const Tensors& in) { return Tensors{f(in[0])}; }, gg, d};
  };
  std::vector<Case> cs = {
      unary("abs", [](const Tensor& x) { return x.abs(); }),
      unary("neg", [](const Tensor& x) { return x.neg(); }),
      unary("exp", [](const Tensor& x) { return x.exp(); }),
      unary("exp2", [](const Tensor& x) { return x.exp2(); }),
      unary("expm1", [](const Tensor& x) { return x.expm1(); }),
      unary("log", [](const Tensor& x) { return x.log(); }, true, D::Positive),
      unary("log2", [](const Tensor& x) { return x.log2(); }, true, D::Positive),
      unary("log10", [](const Tensor& x) { return x.log10(); }, true, D::Positive),
      unary("log1p", [](const Tensor& x) { return x.log1p(); }, true, D::Positive),
      unary("sqrt", [](const Tensor& x) { return x.sqrt(); }, true, D::Positive),
      unary("rsqrt", [](const Tensor& x) { return x.rsqrt(); }, true, D::Positive),
      unary("square", [](const Tensor& x) { return x.square(); }),
      unary("reciprocal", [](const Tensor& x) { return x.reciprocal(); }, true, D::Positive),
      unary("sin", [](const Tensor& x) { return x.sin(); }),
      unary("cos", [](const Tensor& x) { return x.cos(); }),
      unary("tan", [](const Tensor& x) { return x.tan(); }, true, D::Unit),
      unary("tanh", [](const Tensor& x) { return x.tanh(); }),
      unary("sigmoid", [](const Tensor& x) { return x.sigmoid(); }),
      unary("relu", [](const Tensor& x) { return x.relu(); }),
      unary("erf", [](const Tensor& x) { return x.erf(); }),
      unary("gelu", [](const Tensor& x) { return gelu(x); }),
      unary("gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }),
      unary("silu", [](const Tensor& x) { return silu(x); }),
      unary("softplus", [](const Tensor& x) { return softplus(x, 2.0, 20.0); }),
      unary("sinh", [](const Tensor& x) { return x.sinh(); }),
      unary("cosh", [](const Tensor& x) { return x.cosh(); }),
      unary("asinh", [](const Tensor& x) { return x.asinh(); }),
      unary("acosh", [](const Tensor& x) { return (x + 1.0).acosh(); }, true, D::Positive),
      unary("atanh", [](const Tensor& x) { return x.atanh(); }, true, D::Unit),
      unary("asin", [](const Tensor& x) { return x.asin(); }, true, D::Unit),
      unary("acos", [](const Tensor& x) { return x.acos(); }, true, D::Unit),
      unary("atan", [](const Tensor& x) { return x.atan(); }),
      unary("nan_to_num", [](const Tensor& x) { return nan_to_num(x); }),
      unary("elu", [](const Tensor& x) { return elu(x, 1.5); }),
      unary("selu", [](const Tensor& x) { return selu(x); }),
      unary("celu", [](const Tensor& x) { return celu(x, 0.7); }),
      unary("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }),
      unary("logsigmoid", [](const Tensor& x) { return logsigmoid(x); }),
      unary("mish", [](const Tensor& x) { return mish(x); }),
      unary("clamp", [](const Tensor& x) { return x.clamp(-0.5, 0.7); }),
      unary("clamp_min", [](const Tensor& x) { return clamp_min(x, 0.3); }),
      unary("clamp_max", [](const Tensor& x) { return clamp_max(x, 0.3); }),
      unary("floor", [](const Tensor& x) { return x.floor(); }, false),
      unary("ceil", [](const Tensor& x) { return x.ceil(); }, false),
      unary("round", [](const Tensor& x) { return x.round(); }, false),
      unary("trunc", [](const Tensor& x) { return x.trunc(); }, false),
      unary("sign", [](const Tensor& x) { return x.sign(); }, false),
      unary("pow_scalar", [](const Tensor& x) { return x.pow(3); }),
      unary("pow_fractional", [](const Tensor& x) { return x.pow(2.5); }, true, D::Positive),
      unary("scalar_pow", [](const Tensor& x) { return pow(Scalar(1.7), x); }),
      unary("mul_scalar", [](const Tensor& x) { return x * 2.5; }),
      unary("rsub_scalar", [](const Tensor& x) { return 2.0 - x; }),
      unary("rdiv_scalar", [](const Tensor& x) { return 1.5 / x; }, true, D::Positive),
      unary("add_scalar_alpha", [](const Tensor& x) { return add(x, Scalar(2.0), Scalar(3.0)); }),
      unary("fmod_scalar", [](const Tensor& x) { return fmod(x, Scalar(0.7)); }, false),
      unary("remainder_scalar", [](const Tensor& x) { return remainder(x, Scalar(0.7)); }, false),
  };
  auto binary = [](const char* name, Tensor (*f)(const Tensor&, const Tensor&), bool gg = true, D d = D::Any) {
    return Case{name, {{3, 4}, {3, 4}}, [f](const Tensors& in) { return Tensors{f(in[0], in[1])}; }, gg, d,
                {{3, 1}, {1, 4}}};
  };
  std::vector<Case> bs = {
      binary("add", [](const Tensor& a, const Tensor& b) { return a + b; }),
      binary("add_alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); }),
      binary("sub", [](const Tensor& a, const Tensor& b) { return a - b; }),
      binary("sub_alpha", [](const Tensor& a, const Tensor& b) { return sub(a, b, 0.5); }),
      binary("mul", [](const Tensor& a, const Tensor& b) { return a * b; }),
      binary("div", [](const Tensor& a, const Tensor& b) { return a / b; }, true, D::Positive),
      binary("pow", [](const Tensor& a, const Tensor& b) { return a.pow(b); }, true, D::Positive),
      binary("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }),
      binary("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }),
      binary("atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }),
      binary("logaddexp", [](const Tensor& a, const Tensor& b) { return logaddexp(a, b); }),
      binary("hypot", [](const Tensor& a, const Tensor& b) { return hypot(a, b); }),
      binary("fmod", [](const Tensor& a, const Tensor& b) { return fmod(a, b); }, false, D::Positive),
      binary("remainder", [](const Tensor& a, const Tensor& b) { return remainder(a, b); }, false, D::Positive),
      binary("lerp_scalar", [](const Tensor& a, const Tensor& b) { return lerp(a, b, 0.3); }),
  };
  cs.insert(cs.end(), bs.begin(), bs.end());
  const Tensor mask = tensor({{true, false, true, false}, {false, false, true, true}, {true, true, false, false}});
  cs.push_back({"where", {{3, 4}, {3, 4}}, [mask](const Tensors& in) { return Tensors{where(mask, in[0], in[1])}; }, true,
                D::Any, {{3, 1}, {1, 4}}});
  cs.push_back({"where_scalar", {{3, 4}}, [mask](const Tensors& in) { return Tensors{where(mask, in[0], Scalar(2.0))}; }});
  cs.push_back({"masked_fill", {{3, 4}}, [mask](const Tensors& in) { return Tensors{in[0].masked_fill(mask, 0.5)}; }});
  cs.push_back({"lerp_tensor", {{3, 4}, {3, 4}, {3, 4}},
                [](const Tensors& in) { return Tensors{lerp(in[0], in[1], in[2])}; }, true, D::Any, {{3, 1}, {1, 4}, {4}}});
  cs.push_back({"addcmul", {{3, 4}, {3, 4}, {3, 4}},
                [](const Tensors& in) { return Tensors{addcmul(in[0], in[1], in[2], 0.5)}; }, true, D::Any,
                {{4}, {3, 1}, {1, 4}}});
  cs.push_back({"addcdiv", {{3, 4}, {3, 4}, {3, 4}},
                [](const Tensors& in) { return Tensors{addcdiv(in[0], in[1], in[2], 0.5)}; }, true, D::Positive,
                {{4}, {3, 1}, {1, 4}}});
  cs.push_back({"clamp_tensor", {{3, 4}, {3, 4}, {3, 4}},
                [](const Tensors& in) { return Tensors{clamp(in[0], in[1] - 1.0, in[2] + 1.0)}; }, false});
  cs.push_back({"chain", {{3, 4}, {4}}, [](const Tensors& in) { return Tensors{(in[0] * in[1]).tanh() + in[0].exp()}; }, true});
  return cs;
}

inline std::vector<Case> reduction_cases() {
  auto r = [](const char* name, Tensor (*f)(const Tensor&), bool gg = true, Domain d = Domain::Any) {
    return Case{name, {{3, 4}}, [f](const Tensors& in) { return Tensors{f(in[0])}; }, gg, d};
  };
  return {
      r("sum", [](const Tensor& x) { return x.sum(); }),
      r("sum_dim", [](const Tensor& x) { return x.sum({1}); }),
      r("sum_dims_keepdim", [](const Tensor& x) { return x.sum({0, 1}, true); }),
      r("mean", [](const Tensor& x) { return x.mean(); }),
      r("mean_dim", [](const Tensor& x) { return x.mean({0}, true); }),
      r("prod", [](const Tensor& x) { return x.prod(); }),
      r("prod_dim", [](const Tensor& x) { return prod(x, 1); }),
      r("amax", [](const Tensor& x) { return x.amax({1}); }, false),
      r("amin", [](const Tensor& x) { return x.amin({0}, true); }, false),
      r("max", [](const Tensor& x) { return x.max(); }, false),
      r("min", [](const Tensor& x) { return x.min(); }, false),
      r("max_dim", [](const Tensor& x) { return max(x, 1).first; }, false),
      r("min_dim", [](const Tensor& x) { return min(x, 0, true).first; }, false),
      r("var", [](const Tensor& x) { return x.var({1}); }),
      r("var_all_unbiased0", [](const Tensor& x) { return x.var({}, 0); }),
      r("std", [](const Tensor& x) { return x.std({0}); }),
      r("norm2", [](const Tensor& x) { return x.norm(); }),
      r("norm1", [](const Tensor& x) { return x.norm(1); }, false),
      r("norm3_dim", [](const Tensor& x) { return norm(x, 3, {1}); }),
      r("norm_inf", [](const Tensor& x) { return x.norm(INFINITY); }, false),
      r("logsumexp", [](const Tensor& x) { return x.logsumexp({1}); }),
      r("cumsum", [](const Tensor& x) { return x.cumsum(1); }),
      r("cumprod", [](const Tensor& x) { return x.cumprod(0); }),
  };
}

inline std::vector<Case> linalg_cases() {
  auto two = [](const char* name, std::vector<Dims> shapes, Tensor (*f)(const Tensor&, const Tensor&),
                std::vector<Dims> bshapes = {}) {
    return Case{name, std::move(shapes), [f](const Tensors& in) { return Tensors{f(in[0], in[1])}; }, true, Domain::Any,
                std::move(bshapes)};
  };
  return {
      two("matmul_2d", {{2, 3}, {3, 4}}, [](const Tensor& a, const Tensor& b) { return matmul(a, b); }),
      two("matmul_1d_2d", {{3}, {3, 2}}, [](const Tensor& a, const Tensor& b) { return matmul(a, b); }),
      two("matmul_2d_1d", {{2, 3}, {3}}, [](const Tensor& a, const Tensor& b) { return matmul(a, b); }),
      two("matmul_1d_1d", {{3}, {3}}, [](const Tensor& a, const Tensor& b) { return matmul(a, b); }),
      two("matmul_batched", {{2, 2, 3}, {2, 3, 2}}, [](const Tensor& a, const Tensor& b) { return matmul(a, b); },
          {{2, 1, 2, 3}, {3, 3, 2}}),
      two("mm", {{2, 3}, {3, 2}}, [](const Tensor& a, const Tensor& b) { return mm(a, b); }),
      two("bmm", {{2, 2, 3}, {2, 3, 2}}, [](const Tensor& a, const Tensor& b) { return bmm(a, b); }),
      two("mv", {{2, 3}, {3}}, [](const Tensor& a, const Tensor& b) { return mv(a, b); }),
      two("dot", {{4}, {4}}, [](const Tensor& a, const Tensor& b) { return dot(a, b); }),
      two("outer", {{3}, {2}}, [](const Tensor& a, const Tensor& b) { return outer(a, b); }),
      Case{"addmm", {{2, 2}, {2, 3}, {3, 2}},
           [](const Tensors& in) { return Tensors{addmm(in[0], in[1], in[2], 0.5, 2.0)}; }, true, Domain::Any,
           {{2}, {2, 3}, {3, 2}}},
  };
}

inline std::vector<Case> index_and_shape_cases() {
  const Tensor idx = tensor({2, 0, 2});
  const Tensor gidx = tensor({{0, 2, 1, 0}, {2, 2, 0, 1}});
  const Tensor sidx = tensor({{0, 1, 2, 0}, {2, 0, 1, 1}});  // scatter: a permutation per column
  std::vector<Case> cs = {
      {"index_select", {{3, 4}}, [idx](const Tensors& in) { return Tensors{in[0].index_select(0, idx)}; }, true},
      {"gather", {{3, 4}}, [gidx](const Tensors& in) { return Tensors{in[0].gather(0, gidx)}; }, true},
      {"take_along_dim", {{3, 4}}, [gidx](const Tensors& in) { return Tensors{in[0].take_along_dim(gidx, 0)}; }},
      {"scatter_src", {{3, 4}, {2, 4}},
       [](const Tensors& in) {
         return Tensors{in[0].scatter(0, tensor({{0, 1, 2, 0}, {2, 0, 1, 1}}), in[1])};  // unique per column
       }},
      {"scatter_value", {{3, 4}}, [sidx](const Tensors& in) { return Tensors{in[0].scatter(0, sidx, Scalar(0.5))}; }},
      {"scatter_add", {{3, 4}, {2, 4}}, [gidx](const Tensors& in) { return Tensors{in[0].scatter_add(0, gidx, in[1])}; }, true},
      {"index_add", {{3, 4}, {3, 4}}, [idx](const Tensors& in) { return Tensors{index_add(in[0], 0, idx, in[1], 0.5)}; }, true},
      {"index_basic", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].index({1, Slice(None, None, 2)})}; }},
      {"index_tensor", {{3, 4}}, [idx](const Tensors& in) { return Tensors{in[0].index({Slice(), TensorIndex(idx)})}; }, true},
      {"index_mask", {{3, 4}},
       [](const Tensors& in) { return Tensors{in[0].index({TensorIndex(tensor({true, false, true}))})}; }},
      {"index_put", {{3, 4}, {3}},
       [idx](const Tensors& in) { return Tensors{index_put(in[0], {TensorIndex(idx), 1}, in[1], /*accumulate=*/true)}; }},
      {"index_put_overwrite", {{3, 4}, {2}},
       [](const Tensors& in) { return Tensors{index_put(in[0], {TensorIndex(tensor({0, 2})), 1}, in[1])}; }},
      {"sort", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(in[0].sort(1))}; }},
      {"sort_desc", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(in[0].sort(0, true))}; }},
      {"topk", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(in[0].topk(2))}; }},
      {"flip", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].flip({0, 1})}; }, true},
      {"roll", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].roll({1, -1}, {0, 1})}; }},
      {"roll_flat", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].roll({5})}; }},
      {"repeat", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].repeat({2, 1, 2})}; }, true},
      {"tile", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].tile({2})}; }},
      {"tril", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].tril()}; }},
      {"triu", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].triu(1)}; }},
      {"cat", {{3, 4}, {3, 2}}, [](const Tensors& in) { return Tensors{cat({in[0], in[1]}, 1)}; }, true},
      {"stack", {{3, 4}, {3, 4}}, [](const Tensors& in) { return Tensors{stack({in[0], in[1]}, 1)}; }},
      {"split", {{3, 4}}, [](const Tensors& in) { return in[0].split(3, 1); }},
      {"split_sizes", {{3, 4}}, [](const Tensors& in) { return split(in[0], IntArrayRef({1, 2}), 0); }},
      {"chunk", {{3, 4}}, [](const Tensors& in) { return in[0].chunk(2, 0); }},
      {"clone", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].clone()}; }},
      {"contiguous", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].contiguous() * 1.0}; }},
      {"reshape", {{3, 4}}, [](const Tensors& in) { return Tensors{in[0].reshape({2, 6})}; }},
  };
  return cs;
}

inline std::vector<Case> nn_cases() {
  const Tensor target = tensor({1, 0, 3});
  const Tensor emb_idx = tensor({{0, 2}, {3, 2}});
  const QuantizedTensor qw = quantize(from_vector(sample_values(5 * 64, Domain::Any, 7), {5, 64}, float64), 32, 4);
  const QuantizedTensor qt = quantize(from_vector(sample_values(64 * 32, Domain::Any, 8), {64, 32}, float64), 32, 3);
  std::vector<Case> cs = {
      {"softmax", {{3, 4}}, [](const Tensors& in) { return Tensors{F::softmax(in[0], 1)}; }, true},
      {"softmax_dim0", {{3, 4}}, [](const Tensors& in) { return Tensors{F::softmax(in[0], 0)}; }},
      {"log_softmax", {{3, 4}}, [](const Tensors& in) { return Tensors{F::log_softmax(in[0], -1)}; }, true},
      {"layer_norm", {{3, 4}, {4}, {4}},
       [](const Tensors& in) { return Tensors{F::layer_norm(in[0], {4}, in[1], in[2])}; }, true},
      {"layer_norm_no_affine", {{2, 2, 3}}, [](const Tensors& in) { return Tensors{F::layer_norm(in[0], {2, 3})}; }},
      {"rms_norm", {{3, 4}, {4}}, [](const Tensors& in) { return Tensors{F::rms_norm(in[0], {4}, in[1], 1e-6)}; }, true},
      {"embedding", {{4, 3}}, [emb_idx](const Tensors& in) { return Tensors{F::embedding(emb_idx, in[0])}; }},
      // embedding with padding_idx is left out on purpose: its padding row gets a zero gradient by
      // design (PyTorch's too), which finite differences rightly disagree with.
      {"linear", {{3, 4}, {2, 4}, {2}}, [](const Tensors& in) { return Tensors{F::linear(in[0], in[1], in[2])}; }, true},
      // x (3, 64) @ dequantize(w)ᵀ with w (5, 64) quantized to 4 bits in float64 (the weights are
      // constants: only x has a gradient), and x @ dequantize(w) with w (64, 32) at 3 bits.
      {"quantized_matmul", {{3, 64}},
       [qw](const Tensors& in) { return Tensors{quantized_matmul(in[0], qw.weight, qw.scales, qw.biases, true, 32, 4)}; },
       true},
      {"quantized_matmul_no_transpose", {{2, 64}},
       [qt](const Tensors& in) { return Tensors{quantized_matmul(in[0], qt.weight, qt.scales, qt.biases, false, 32, 3)}; }},
      {"linear_no_bias", {{2, 3, 4}, {2, 4}}, [](const Tensors& in) { return Tensors{F::linear(in[0], in[1])}; }},
      {"nll_loss", {{3, 4}}, [target](const Tensors& in) { return Tensors{F::nll_loss(in[0], target)}; }},
      {"nll_loss_weighted_sum", {{3, 4}},
       [target](const Tensors& in) {
         F::NllLossOptions o;
         o.weight = tensor({0.5, 1.0, 2.0, 1.5}, float64);  // class weights are not differentiable (as in PyTorch)
         o.reduction = F::Reduction::Sum;
         return Tensors{F::nll_loss(in[0], target, o)};
       }},
      {"cross_entropy", {{3, 4}}, [target](const Tensors& in) { return Tensors{F::cross_entropy(in[0], target)}; }, true},
      {"cross_entropy_smoothing", {{3, 4}},
       [target](const Tensors& in) {
         F::CrossEntropyOptions o;
         o.label_smoothing = 0.2;
         return Tensors{F::cross_entropy(in[0], target, o)};
       }},
      {"cross_entropy_probs", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::cross_entropy(in[0], F::softmax(in[1], 1))}; }},
      {"mse_loss", {{3, 4}, {3, 4}}, [](const Tensors& in) { return Tensors{F::mse_loss(in[0], in[1])}; }, true, Domain::Any,
       {{3, 4}, {4}}},
      {"mse_loss_none", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::mse_loss(in[0], in[1], F::Reduction::None)}; }},
      {"sdpa", {{2, 3}, {4, 3}, {4, 2}},
       [](const Tensors& in) { return Tensors{F::scaled_dot_product_attention(in[0], in[1], in[2])}; }},
      {"sdpa_causal", {{3, 2}, {3, 2}, {3, 2}},
       [](const Tensors& in) { return Tensors{F::scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), true)}; }},
      {"dropout_eval", {{3, 4}}, [](const Tensors& in) { return Tensors{F::dropout(in[0], 0.5, false) * 1.0}; }},
      {"softmin", {{3, 4}}, [](const Tensors& in) { return Tensors{F::softmin(in[0], 1)}; }, true},
      {"group_norm", {{2, 4, 3}, {4}, {4}},
       [](const Tensors& in) { return Tensors{F::group_norm(in[0], 2, in[1], in[2])}; }, true},
      {"group_norm_no_affine", {{3, 6}}, [](const Tensors& in) { return Tensors{F::group_norm(in[0], 3)}; }},
      // Probabilities in (0, 1) through sigmoid; weights are constants (as in PyTorch).
      {"binary_cross_entropy", {{3, 4}, {3, 4}},
       [](const Tensors& in) {
         return Tensors{F::binary_cross_entropy(in[0].sigmoid(), in[1].sigmoid(), tensor({0.5, 1.0, 2.0, 1.5}, float64))};
       },
       true},
      {"bce_with_logits", {{3, 4}, {3, 4}},
       [](const Tensors& in) {
         return Tensors{F::binary_cross_entropy_with_logits(in[0], in[1].sigmoid(), tensor({{2.0}, {1.0}, {0.5}}, float64),
                                                            F::Reduction::Sum, tensor({3.0, 0.5, 1.0, 2.0}, float64))};
       },
       true},
      {"kl_div", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::kl_div(F::log_softmax(in[0], -1), F::softmax(in[1], -1), F::Reduction::BatchMean)}; },
       true, Domain::Any, {{3, 4}, {4}}},
      {"kl_div_log_target", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::kl_div(in[0], F::log_softmax(in[1], 1), F::Reduction::None, true)}; }, true},
      // Away from the kinks: the sample values keep |d| off beta (delta).
      {"smooth_l1_loss", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::smooth_l1_loss(in[0], in[1], F::Reduction::Mean, 0.9)}; }, true,
       Domain::Any, {{3, 4}, {4}}},
      {"huber_loss", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::huber_loss(in[0], in[1], F::Reduction::None, 0.9)}; }, true, Domain::Any,
       {{3, 1}, {4}}},
      {"cosine_similarity", {{3, 4}, {3, 4}},
       [](const Tensors& in) { return Tensors{F::cosine_similarity(in[0], in[1])}; }, true, Domain::Any, {{3, 4}, {1, 4}}},
  };
  return cs;
}

inline std::vector<Case> einsum_cases() {
  auto e = [](const char* name, const char* eq, std::vector<Dims> shapes, bool gg = false, std::vector<Dims> b = {}) {
    return Case{name, std::move(shapes),
                [eq](const Tensors& in) { return Tensors{einsum(eq, std::vector<Tensor>(in.begin(), in.end()))}; }, gg,
                Domain::Any, std::move(b)};
  };
  return {
      e("einsum_matmul", "ij,jk->ik", {{2, 3}, {3, 2}}, true),
      e("einsum_batched", "bij,bjk->bik", {{2, 2, 3}, {2, 3, 2}}),
      e("einsum_outer", "i,j->ij", {{3}, {2}}),
      e("einsum_trace", "ii->", {{3, 3}}),
      e("einsum_diagonal", "ii->i", {{3, 3}}),
      e("einsum_implicit", "ij,jk", {{2, 3}, {3, 2}}),
      e("einsum_sum_only_one", "ij,j->", {{2, 3}, {3}}),
      e("einsum_three", "ij,jk,kl->il", {{2, 3}, {3, 2}, {2, 2}}),
      e("einsum_ellipsis", "...ij,...jk->...ik", {{2, 2, 3}, {2, 3, 2}}, false, {{2, 2, 3}, {1, 3, 2}}),
  };
}

// einops (tests/test_einops.cpp has their values, views and errors): compositions of reshape,
// permute, the reductions and expand, so the gradients come from those ops.
inline std::vector<Case> einops_cases() {
  namespace eo = ricci::einops;
  return {
      {"einops_rearrange", {{2, 6, 2}},
       [](const Tensors& in) { return Tensors{eo::rearrange(in[0], "b (h p) w -> (b w) h p", {{"p", 3}})}; }, true},
      {"einops_reduce_mean", {{2, 4, 3}}, [](const Tensors& in) { return Tensors{eo::reduce(in[0], "b (h 2) w -> w b", "mean")}; }},
      {"einops_reduce_max", {{2, 4, 3}}, [](const Tensors& in) { return Tensors{eo::reduce(in[0], "b (h 2) w -> b h w", "max")}; }},
      {"einops_reduce_prod", {{2, 3, 2}}, [](const Tensors& in) { return Tensors{eo::reduce(in[0], "b h w -> h", "prod")}; }},
      {"einops_repeat", {{2, 3}},
       [](const Tensors& in) { return Tensors{eo::repeat(in[0], "h w -> (h r) w c", {{"r", 2}, {"c", 2}})}; }, true},
  };
}

// Order statistics, scans, products, padding, diagonals and repeats (tests/test_ops_struct_extra.cpp
// has their values and errors).
inline std::vector<Case> struct_extra_cases() {
  const Tensor reps = tensor({1, 0, 2});
  return {
      {"median_all", {{3, 4}}, [](const Tensors& in) { return Tensors{median(in[0])}; }},
      {"median_dim", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(median(in[0], 1))}; }},
      {"kthvalue", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(kthvalue(in[0], 2, 0, true))}; }},
      {"logcumsumexp", {{3, 4}}, [](const Tensors& in) { return Tensors{logcumsumexp(in[0], 1)}; }, true},
      {"cummax", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(cummax(in[0], 0))}; }},
      {"cummin", {{3, 4}}, [](const Tensors& in) { return Tensors{std::get<0>(cummin(in[0], 1))}; }},
      {"trace", {{3, 4}}, [](const Tensors& in) { return Tensors{trace(in[0])}; }, true},
      {"tensordot", {{2, 3, 4}, {4, 3}}, [](const Tensors& in) { return Tensors{tensordot(in[0], in[1], {1, 2}, {1, 0})}; },
       true, Domain::Any, {{2, 1, 4}, {4, 3}}},
      {"baddbmm", {{2, 2, 2}, {2, 2, 3}, {2, 3, 2}},
       [](const Tensors& in) { return Tensors{baddbmm(in[0], in[1], in[2], 0.5, 2.0)}; }, true, Domain::Any,
       {{2}, {2, 2, 3}, {2, 3, 2}}},
      {"kron", {{2, 3}, {2, 2}}, [](const Tensors& in) { return Tensors{kron(in[0], in[1])}; }, true},
      {"cross", {{2, 3}, {2, 3}}, [](const Tensors& in) { return Tensors{cross(in[0], in[1], 1)}; }, true, Domain::Any,
       {{1, 3}, {4, 3}}},
      {"diff", {{3, 4}, {3, 1}, {3, 2}}, [](const Tensors& in) { return Tensors{diff(in[0], 2, 1, in[1], in[2])}; }, true},
      {"pad_constant", {{3, 4}}, [](const Tensors& in) { return Tensors{pad(in[0], {1, -1, 2, 0}, "constant", 0.5)}; }, true},
      {"pad_reflect", {{2, 3, 4}}, [](const Tensors& in) { return Tensors{pad(in[0], {2, 1, 1, 2}, "reflect")}; }, true},
      {"pad_replicate", {{2, 3, 4}}, [](const Tensors& in) { return Tensors{pad(in[0], {3, -1}, "replicate")}; }},
      {"pad_circular", {{2, 3, 4}}, [](const Tensors& in) { return Tensors{pad(in[0], {1, 2, 3, 0}, "circular")}; }},
      {"diag_vector", {{4}}, [](const Tensors& in) { return Tensors{diag(in[0], 1)}; }, true},
      {"diag_matrix", {{3, 4}}, [](const Tensors& in) { return Tensors{diag(in[0], -1)}; }},
      {"diag_embed", {{2, 3}}, [](const Tensors& in) { return Tensors{diag_embed(in[0], 1, 0, 2)}; }, true},
      {"repeat_interleave", {{3, 4}}, [](const Tensors& in) { return Tensors{repeat_interleave(in[0], 2, 1)}; }, true},
      {"repeat_interleave_tensor", {{3, 4}},
       [reps](const Tensors& in) { return Tensors{repeat_interleave(in[0], reps, 0)}; }},
  };
}


// Every case above, in one list.
inline std::vector<Case> all_cases() {
  std::vector<Case> all;
  for (auto* f : {elementwise_cases, reduction_cases, linalg_cases, index_and_shape_cases, nn_cases, einsum_cases,
                  einops_cases, struct_extra_cases}) {
    std::vector<Case> cs = f();
    all.insert(all.end(), cs.begin(), cs.end());
  }
  return all;
}

}  // namespace ricci::op_registry
