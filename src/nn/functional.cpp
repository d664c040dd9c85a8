// softmax, log_softmax, layer_norm, rms_norm: fused kernels (backend/cpu/nn_*_kernels.cpp) with
// derivative rules. Note [fused backward]: a plain backward runs the fused backward kernel; when
// grad mode is on inside the rule (backward with create_graph) the same rule is written in ricci
// ops instead, so that higher derivatives exist.
#include <algorithm>
#include <cmath>
#include <limits>

#include "lazy/record.h"
#include "transforms/batching.h"
#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/nn/functional.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/reduce.h"
#include "nn/functional_internal.h"

namespace ricci::nn::functional {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

using internal::contiguous_nograd;

void check_floating(const Tensor& x, const char* op, const char* way_out) {
  RICCI_CHECK(x.is_floating_point(), DTypeError, "[", op, "] expected a floating point input, but got ", x.dtype(),
              "; ", way_out);
}

struct Blocks {
  int64_t outer = 1, dim_size = 1, inner = 1;
};
Blocks softmax_blocks(IntArrayRef sizes, int64_t d) {
  Blocks b;
  if (sizes.empty()) return b;
  for (int64_t i = 0; i < d; ++i) b.outer *= sizes[i];
  b.dim_size = sizes[d];
  for (size_t i = static_cast<size_t>(d) + 1; i < sizes.size(); ++i) b.inner *= sizes[i];
  return b;
}

Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t d, bool log);

Tensor softmax_impl(const Tensor& input, int64_t dim, std::optional<DType> dtype, bool log) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_rule(log ? "log_softmax" : "softmax", [](const Tensors& in, int64_t d, std::optional<DType> t, bool lg) {
      return softmax_impl(in[0], d, t, lg);
    }, [](const std::tuple<int64_t, std::optional<DType>, bool>& p, const Tensors& in, const std::vector<int64_t>& ax) {
      const Tensor x = batching::batch_first(in[0], ax[0]);
      const auto [d, t, lg] = p;
      if (x.dim() == 1) return batching::Result{{softmax_impl(x.unsqueeze(1), 1, t, lg).squeeze(1)}, {0}};
      return batching::Result{{softmax_impl(x, batching::shifted_dim(d, x.dim() - 1, lg ? "log_softmax" : "softmax"), t, lg)}, {0}};
    }, {input}, dim, dtype, log);
  const char* op = log ? "log_softmax" : "softmax";
  check_defined(input, op);
  const Tensor x = dtype ? input.to(*dtype) : input;
  check_floating(x, op, "pass a floating dtype (e.g. dtype=float32) to convert the input first");
  // A 0-d tensor is one row of one element (dims 0 and -1 are valid, as in PyTorch).
  const int64_t d = x.dim() == 0 ? (wrap_dim(dim, 1, op), 0) : wrap_dim(dim, x.dim(), op);
  const Blocks b = softmax_blocks(x.shape(), d);
  Tensor out = empty_tensor(x.shape(), x.dtype(), x.device());
  static const auto id = kernels::op_id("nn_softmax");
  kernels::kernel_table().get<nnk::SoftmaxKernel>(id, x.device(), x.dtype())(out, contiguous_nograd(x), b.outer,
                                                                             b.dim_size, b.inner, log);
  if (autograd::needs_grad(x)) {
    autograd::record(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", {&x}, {&out}, {}, {&out},
                     [d, log](const VjpArgs& a) { return Tensors{softmax_backward(a.grads[0], a.saved[0], d, log)}; })
        ->set_replayable();
  }
  return out;
}

// softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g). See Note [fused backward].
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t d, bool log) {
  if (is_grad_enabled() && y.dim() > 0) {
    const int64_t dims[1] = {d};
    if (log) return g - y.exp() * g.sum(dims, true);
    return y * (g - (g * y).sum(dims, true));
  }
  const Tensor gc = contiguous_nograd(g.dtype() == y.dtype() ? g : g.to(y.dtype()));
  const Blocks b = softmax_blocks(y.shape(), d);
  Tensor dx = empty_tensor(y.shape(), y.dtype(), y.device());
  static const auto id = kernels::op_id("nn_softmax_backward");
  kernels::kernel_table().get<nnk::SoftmaxBackwardKernel>(id, y.device(), y.dtype())(dx, gc, contiguous_nograd(y),
                                                                                    b.outer, b.dim_size, b.inner, log);
  return dx;
}

// ---- layer_norm / rms_norm ------------------------------------------------------------------------

std::string shape_str(IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Checks the input against normalized_shape and returns the number of normalised elements.
int64_t check_norm_args(const Tensor& x, IntArrayRef ns, const Tensor& w, const Tensor& b, const char* op) {
  check_defined(x, op);
  RICCI_CHECK(!ns.empty(), ShapeError, "[", op,
              "] Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but "
              "got normalized_shape = []");
  check_floating(x, op, "convert the input with .to(float32)");
  const int64_t k = static_cast<int64_t>(ns.size());
  bool ok = x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == ns[i];
  if (!ok) {
    std::string star = "[*";
    for (int64_t v : ns) star += ", " + std::to_string(v);
    throw ShapeError(detail::cat("[", op, "] Given normalized_shape=", shape_str(ns), ", expected input with shape ",
                                 star, "], but got input of size", shape_str(x.shape())));
  }
  for (const auto& [t, name] : {std::pair{&w, "weight"}, std::pair{&b, "bias"}}) {
    if (!t->defined()) continue;
    RICCI_CHECK(t->shape() == ns, ShapeError, "[", op, "] Expected ", name,
                " to be of same shape as normalized_shape, but got ", name, " of shape ", shape_str(t->shape()),
                " and normalized_shape = ", shape_str(ns));
    RICCI_CHECK(t->is_floating_point(), DTypeError, "[", op, "] expected a floating point ", name, ", but got ",
                t->dtype());
    check_same_device(op, {&x, t});
  }
  int64_t n = 1;
  for (int64_t v : ns) n *= v;
  return n;
}

// The ricci-ops form of the norm backward (Note [fused backward]); k trailing dims normalised.
Tensors norm_backward_ops(const Tensor& g, const Tensor& x, const Tensor& w, bool has_b, int64_t k, double eps,
                          bool rms, const VjpArgs& a) {
  Dims dims;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) dims.push_back(i);
  Dims lead;
  for (int64_t i = 0; i < x.dim() - k; ++i) lead.push_back(i);
  Tensor xc = x;
  if (!rms) xc = x - x.mean(dims, true);
  const Tensor rstd = ((xc * xc).mean(dims, true) + eps).rsqrt();
  const Tensor xh = xc * rstd;
  const Tensor gw = w.defined() ? g * w : g;
  Tensor inner = gw - xh * (gw * xh).mean(dims, true);
  if (!rms) inner = inner - gw.mean(dims, true);
  Tensors out(3);
  if (a.needs_input_grad(0)) out[0] = rstd * inner;
  auto col_sum = [&](const Tensor& t) { return lead.empty() ? t : t.sum(lead); };
  if (w.defined() && a.needs_input_grad(1)) out[1] = col_sum(g * xh);
  if (has_b && a.needs_input_grad(2)) out[2] = col_sum(g);
  return out;
}

// (y, mean, rstd), PyTorch's native_layer_norm: the statistics the backward rule saves are outputs
// of the primitive, so a trace that records gradients holds them as values (Note [Gradients
// inside a trace], src/lazy/lazy.cpp). rms_norm has no mean (undefined).
Tensors native_norm(const Tensor& input, IntArrayRef ns, const Tensor& weight, const Tensor& bias, double eps, bool rms) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record_n(rms ? "rms_norm" : "layer_norm", [](const Tensors& in, const Dims& n, double e, bool r) {
      return native_norm(in[0], n, in[1], in[2], e, r); }, {input, weight, bias}, Dims(ns), eps, rms);
  const char* op = rms ? "rms_norm" : "layer_norm";
  const int64_t n = check_norm_args(input, ns, weight, bias, op);
  // Parameters in the input's dtype (a differentiable conversion when they differ).
  const Tensor w = weight.defined() ? weight.to(input.dtype()) : weight;
  const Tensor b = bias.defined() ? bias.to(input.dtype()) : bias;
  const int64_t rows = n == 0 ? 0 : input.numel() / n;
  const DType acc = input.dtype() == float64 ? float64 : float32;
  Tensor y = empty_tensor(input.shape(), input.dtype(), input.device());
  Tensor mean = rms ? Tensor() : empty_tensor({rows}, acc, input.device());
  Tensor rstd = empty_tensor({rows}, acc, input.device());
  const Tensor xc = contiguous_nograd(input);
  static const auto id = kernels::op_id("nn_norm");
  kernels::kernel_table().get<nnk::NormKernel>(id, input.device(), input.dtype())(
      y, mean, rstd, xc, contiguous_nograd(w), contiguous_nograd(b), rows, n, eps, rms);
  if (autograd::needs_grad({&input, &w, &b})) {
    const int64_t k = static_cast<int64_t>(ns.size());
    const bool has_b = b.defined();
    const Dims nsd(ns);
    autograd::record(
        rms ? "RmsNormBackward0" : "NativeLayerNormBackward0", {&input, &w, &b}, {&y}, {&input, &w, &mean, &rstd}, {},
        [k, eps, rms, has_b, rows, n, nsd](const VjpArgs& a) {
          const Tensor& x = a.saved[0];
          const Tensor& wt = a.saved[1];
          const Tensor& g = a.grads[0];
          if (is_grad_enabled()) return norm_backward_ops(g, x, wt, has_b, k, eps, rms, a);
          Tensors out(3);
          Tensor dx = a.needs_input_grad(0) ? empty_tensor(x.shape(), x.dtype(), x.device()) : Tensor();
          Tensor dw = wt.defined() && a.needs_input_grad(1) ? empty_tensor(nsd, x.dtype(), x.device()) : Tensor();
          Tensor db = has_b && a.needs_input_grad(2) ? empty_tensor(nsd, x.dtype(), x.device()) : Tensor();
          static const auto bid = kernels::op_id("nn_norm_backward");
          kernels::kernel_table().get<nnk::NormBackwardKernel>(bid, x.device(), x.dtype())(
              dx, dw, db, contiguous_nograd(g.to(x.dtype())), contiguous_nograd(x), a.saved[2], a.saved[3],
              contiguous_nograd(wt), rows, n, rms);
          out[0] = dx;
          out[1] = dw;
          out[2] = db;
          return out;
        })->set_replayable();
  }
  return {y, mean, rstd};
}

Tensor norm_impl(const Tensor& input, IntArrayRef ns, const Tensor& weight, const Tensor& bias, double eps, bool rms) {
  return native_norm(input, ns, weight, bias, eps, rms)[0];
}

// rms_norm's eps when none is given: the machine epsilon of the type it computes in, as PyTorch's
// kernel does (std::numeric_limits<opmath_t>::epsilon()). float16 and bfloat16 compute in float32,
// so their default is float32's 2^-23, not torch.finfo(float16).eps = 2^-10 that PyTorch's docs
// name: for inputs around 1e-3 the two give visibly different results.
double default_rms_eps(DType t) {
  return t == DType::Float64 ? std::numeric_limits<double>::epsilon()
                             : static_cast<double>(std::numeric_limits<float>::epsilon());
}

}  // namespace

Tensor softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(input, dim, dtype, false);
}
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(input, dim, dtype, true);
}

Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  return norm_impl(input, normalized_shape, weight, bias, eps, false);
}

Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight, std::optional<double> eps) {
  if (input.defined() && input.is_floating_point() && !eps) eps = default_rms_eps(input.dtype());
  return norm_impl(input, normalized_shape, weight, Tensor(), eps.value_or(0.0), true);
}

}  // namespace ricci::nn::functional

namespace ricci {
Tensor Tensor::softmax(int64_t dim) const { return nn::functional::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return nn::functional::log_softmax(*this, dim); }
}  // namespace ricci
