// Losses beyond nll/cross_entropy/mse: binary cross entropy (on probabilities and on logits),
// kl_div, smooth L1 and Huber; and cosine_similarity. Each forward is ricci ops; where PyTorch's
// gradient is not the derivative of the forward as composed (BCE's clamped logs, the kinks of
// smooth L1 and Huber), the node carries PyTorch's backward formula, written in ricci ops so it
// is differentiable again.
#include <cmath>
#include <limits>

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

using internal::check_reduction;
using internal::reduce_loss;

std::string shape_str(IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// PyTorch's names of dtypes in its messages ("Float", "Double", ...).
const char* ew_type_name(DType t) {
  switch (t) {
    case DType::Float16: return "Half";
    case DType::BFloat16: return "BFloat16";
    case DType::Float32: return "Float";
    case DType::Float64: return "Double";
    default: return "a non-floating type";
  }
}

// float16/bfloat16 losses compute in float32 and round once (see functional.h).
DType opmath(DType t) { return t == float16 || t == bfloat16 ? float32 : t; }
Tensor to_opmath(const Tensor& t) {
  if (!t.defined()) return t;
  const DType o = opmath(t.dtype());
  return o == t.dtype() ? t : t.to(o);
}

void check_floating(const Tensor& t, const char* op, const char* name) {
  RICCI_CHECK(t.is_floating_point(), DTypeError, "[", op, "] expected a floating point ", name, ", but got ", t.dtype(),
              "; convert it with .to(float32)");
}

// input and target of one dtype, as PyTorch's binary_cross_entropy kernel requires.
void check_same_dtype(const Tensor& input, const Tensor& target, const char* op) {
  RICCI_CHECK(input.dtype() == target.dtype(), DTypeError, "[", op, "] Found dtype ",
              ew_type_name(target.dtype()), " but expected ", ew_type_name(input.dtype()), " (target is ",
              target.dtype(), ", input ", input.dtype(), "); convert the target with .to(", input.dtype(), ")");
}

// A weight that multiplies the loss in place in PyTorch: it broadcasts to `shape` without growing it.
void check_weight(const Tensor& w, IntArrayRef shape, const char* op, const char* name) {
  if (!w.defined()) return;
  RICCI_CHECK(w.is_floating_point(), DTypeError, "[", op, "] expected a floating point ", name, ", but got ", w.dtype());
  const Dims b = broadcast_shapes(w.shape(), shape, op);
  RICCI_CHECK(b.ref() == shape, ShapeError, "[", op, "] ", name, " of shape ", shape_str(w.shape()),
              " does not broadcast to the input shape ", shape_str(shape), " (output with shape ", shape_str(shape),
              " doesn't match the broadcast shape ", shape_str(b), ")");
}

// The upstream gradient of a reduced loss as a per-element factor: g itself (None), or g (a
// 0-d tensor, broadcast by the rule), divided by the element count for Mean.
Tensor per_element(const Tensor& g, Reduction r, int64_t numel) {
  return r == Reduction::Mean ? g / static_cast<double>(numel) : g;
}

// Records the node of a loss of (input, target) whose rule gives the per-element gradient of
// the input; the target's is rule_t (or -rule for the losses symmetric in input - target).
template <class Rule>
void record_loss(const char* node, const Tensor& input, const Tensor& target, Tensor& out, const Tensor& s1,
                 const Tensor& s2, Rule rule) {
  if (!autograd::needs_grad({&input, &target})) return;
  autograd::record(node, {&input, &target}, {&out}, {&input, &target, &s1, &s2}, {}, rule);
}

}  // namespace

// ---- binary cross entropy ----------------------------------------------------------------------

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  const char* op = "binary_cross_entropy";
  check_defined(input, op);
  check_defined(target, op, "target");
  check_reduction(reduction, op);
  RICCI_CHECK(target.shape() == input.shape(), ValueError, "[", op, "] Using a target size (", shape_str(target.shape()),
              ") that is different to the input size (", shape_str(input.shape()),
              ") is deprecated. Please ensure they have the same size.");
  check_floating(input, op, "input");
  check_same_dtype(input, target, op);
  check_weight(weight, input.shape(), op, "weight");
  if (weight.defined()) check_same_device(op, {&input, &target, &weight});
  else check_same_device(op, {&input, &target});
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor x = to_opmath(input.detach()), t = to_opmath(target.detach());
    RICCI_CHECK(logical_and(x >= 0, x <= 1).all().item<bool>(), ValueError, "[", op,
                "] all elements of input should be between 0 and 1 (input holds probabilities; for logits use "
                "binary_cross_entropy_with_logits)");
    RICCI_CHECK(logical_and(t >= 0, t <= 1).all().item<bool>(), ValueError, "[", op,
                "] all elements of target should be between 0 and 1");
    Tensor loss = (t - 1) * clamp_min(log1p(-x), -100) - t * clamp_min(log(x), -100);
    if (weight.defined()) loss = loss * to_opmath(weight.detach());
    out = reduce_loss(loss, reduction);
    if (out.dtype() != input.dtype()) out = out.to(input.dtype());
  }
  const int64_t numel = input.numel();
  record_loss("BinaryCrossEntropyBackward0", input, target, out, weight, Tensor(), [reduction, numel](const VjpArgs& a) {
    const Tensor &x = a.saved[0], &t = a.saved[1], &w = a.saved[2];
    const Tensor g = per_element(a.grads[0], reduction, numel);
    const Tensor gw = w.defined() ? g * w : g;
    Tensors r(2);
    // PyTorch: (x - t) / max(x (1 - x), 1e-12) for the input, -logit(x) for the target.
    // (PyTorch's EPSILON is the float 1e-12, also for float64.)
    if (a.needs_input_grad(0)) r[0] = gw * (x - t) / clamp_min((1 - x) * x, static_cast<double>(1e-12f));
    if (a.needs_input_grad(1)) r[1] = -log(x / (1 - x)) * gw;
    return r;
  });
  return out;
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        Reduction reduction, const Tensor& pos_weight) {
  const char* op = "binary_cross_entropy_with_logits";
  check_defined(input, op);
  check_defined(target, op, "target");
  check_reduction(reduction, op);
  RICCI_CHECK(target.shape() == input.shape(), ValueError, "[", op, "] Target size (", shape_str(target.shape()),
              ") must be the same as input size (", shape_str(input.shape()), ")");
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  check_weight(weight, input.shape(), op, "weight");
  check_weight(pos_weight, input.shape(), op, "pos_weight");
  for (const Tensor* t : {&weight, &pos_weight})
    if (t->defined()) check_same_device(op, {&input, t});
  check_same_device(op, {&input, &target});
  Tensor out;
  {
    // PyTorch's formula: (1 - t) x - log_weight * logsigmoid(x); logsigmoid never overflows.
    // PyTorch's dtypes, which its in-place steps decide: logsigmoid in the input's dtype (and
    // the pos_weight product rounded back to it), the loss in the target's dtype.
    NoGradGuard no_grad;
    auto as = [](const Tensor& v, DType d) { return v.dtype() == d ? v : v.to(d); };
    const DType ti = opmath(input.dtype()), tt = opmath(target.dtype());
    const Tensor x = as(input.detach(), ti), t = as(target.detach(), tt);
    Tensor ls = logsigmoid(x);
    if (pos_weight.defined()) ls = as(ls * ((to_opmath(pos_weight.detach()) - 1) * t + 1), ti);
    Tensor loss = as(as((1 - t) * x, tt) - ls, tt);
    if (weight.defined()) loss = as(loss * to_opmath(weight.detach()), tt);
    out = as(reduce_loss(loss, reduction), target.dtype());
  }
  const int64_t numel = input.numel();
  record_loss("BinaryCrossEntropyWithLogitsBackward0", input, target, out, weight, pos_weight,
              [reduction, numel](const VjpArgs& a) {
                const Tensor &x = a.saved[0], &t = a.saved[1], &w = a.saved[2], &pw = a.saved[3];
                const Tensor g = per_element(a.grads[0], reduction, numel);
                const Tensor gw = w.defined() ? g * w : g;
                Tensors r(2);
                if (a.needs_input_grad(0)) {
                  // PyTorch: (pw t + 1 - t) sigmoid(x) - pw t, or sigmoid(x) - t.
                  Tensor gi;
                  if (pw.defined()) {
                    const Tensor pt = pw * t;
                    gi = (pt + 1 - t) * sigmoid(x) - pt;
                  } else {
                    gi = sigmoid(x) - t;
                  }
                  r[0] = gi * gw;
                }
                if (a.needs_input_grad(1)) {
                  // PyTorch: logsigmoid(-x) - pw logsigmoid(x), or -x.
                  const Tensor gt = pw.defined() ? logsigmoid(-x) - logsigmoid(x) * pw : -x;
                  r[1] = gt * gw;
                }
                return r;
              });
  return out;
}

// ---- kl_div --------------------------------------------------------------------------------------

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  const char* op = "kl_div";
  check_defined(input, op);
  check_defined(target, op, "target");
  // Composed as PyTorch composes it, so the gradients (of target too) are the ops' own.
  Tensor loss;
  if (log_target) {
    loss = exp(target) * (target - input);
  } else {
    // xlogy(t, t) = t log t with 0 log 0 = 0 (NaN stays NaN).
    const Tensor tlogt = where(target == 0, Scalar(0.0), target * log(target));
    loss = tlogt - target * input;
  }
  if (reduction != Reduction::BatchMean) return reduce_loss(loss, reduction);
  const Tensor sum = loss.sum();
  return input.dim() == 0 ? sum : sum / static_cast<double>(input.size(0));
}

// ---- smooth L1 and Huber --------------------------------------------------------------------------

namespace {

// The operands broadcast against each other (PyTorch's F.smooth_l1_loss / huber_loss do
// torch.broadcast_tensors first): expanded views, whose gradients sum back.
std::pair<Tensor, Tensor> broadcast_pair(const Tensor& input, const Tensor& target, const char* op) {
  check_defined(input, op);
  check_defined(target, op, "target");
  check_same_device(op, {&input, &target});
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  const Dims shape = broadcast_shapes(input.shape(), target.shape(), op);
  return {input.shape() == shape.ref() ? input : input.expand(shape),
          target.shape() == shape.ref() ? target : target.expand(shape)};
}

// Smooth L1 (huber = false: 0.5 d^2 / beta, |d| - 0.5 beta) and Huber (0.5 d^2, delta (|d| - 0.5
// delta)), switching at |d| = beta (delta). The input gradient is PyTorch's: -k, +k outside and
// d * k / beta (d) inside, with k = 1 (smooth L1) or delta (Huber); the target's is its negative.
Tensor robust_loss(const Tensor& in, const Tensor& tg, Reduction reduction, double beta, bool huber, const char* op) {
  check_reduction(reduction, op);
  const auto [input, target] = broadcast_pair(in, tg, op);
  // PyTorch: smooth L1 promotes input and target; Huber keeps the input's dtype.
  const DType out_dtype = huber ? input.dtype() : promote_types(input.dtype(), target.dtype());
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor z = abs(to_opmath(input.detach()) - to_opmath(target.detach()));
    const Tensor loss = huber ? where(z < beta, z * z * 0.5, (z - 0.5 * beta) * beta)
                              : where(z < beta, z * z * 0.5 / beta, z - 0.5 * beta);
    out = reduce_loss(loss, reduction);
    if (out.dtype() != out_dtype) out = out.to(out_dtype);
  }
  const int64_t numel = input.numel();
  if (autograd::needs_grad({&input, &target})) {
    const DType di = input.dtype(), dt = target.dtype();
    autograd::record(huber ? "HuberLossBackward0" : "SmoothL1LossBackward0", {&input, &target}, {&out},
                     {&input, &target}, {}, [reduction, numel, beta, huber, di, dt](const VjpArgs& a) {
                       const Tensor d = a.saved[0] - a.saved[1];
                       const double norm = reduction == Reduction::Mean ? 1.0 / static_cast<double>(numel) : 1.0;
                       const Tensor& g = a.grads[0];
                       const Tensor outside = g * (huber ? norm * beta : norm);
                       const Tensor inside = huber ? d * norm * g : d * norm * g / beta;
                       const Tensor gi = where(d <= -beta, -outside, where(d >= beta, outside, inside));
                       Tensors r(2);
                       if (a.needs_input_grad(0)) r[0] = gi.dtype() == di ? gi : gi.to(di);
                       if (a.needs_input_grad(1)) r[1] = gi.dtype() == dt ? -gi : (-gi).to(dt);
                       return r;
                     });
  }
  return out;
}

}  // namespace

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  const char* op = "smooth_l1_loss";
  RICCI_CHECK(beta >= 0, ValueError, "[smooth_l1_loss] smooth_l1_loss does not support negative values for beta. (got beta=",
              beta, ")");
  if (beta == 0.0) {  // PyTorch's l1_loss: |d|, whose gradient at d = 0 is 0
    check_reduction(reduction, op);
    const auto [x, t] = broadcast_pair(input, target, op);
    return reduce_loss(abs(x - t), reduction);
  }
  return robust_loss(input, target, reduction, beta, false, op);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  RICCI_CHECK(delta > 0, ValueError, "[huber_loss] huber_loss does not support non-positive values for delta. (got delta=",
              delta, ")");
  return robust_loss(input, target, reduction, delta, true, "huber_loss");
}

// ---- cosine similarity ------------------------------------------------------------------------------

Tensor cosine_similarity(const Tensor& x1_in, const Tensor& x2_in, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  check_defined(x1_in, op, "x1");
  check_defined(x2_in, op, "x2");
  check_same_device(op, {&x1_in, &x2_in});
  const DType common = result_type(x1_in, x2_in);
  RICCI_CHECK(is_floating_point(common), DTypeError,
              "[cosine_similarity] expected common dtype to be floating point, yet common dtype is ", common);
  // Integer (and bool) inputs are converted; floating ones keep their dtype (the product promotes).
  const Tensor a = x1_in.is_floating_point() ? x1_in : x1_in.to(common);
  const Tensor b = x2_in.is_floating_point() ? x2_in : x2_in.to(common);
  const Dims shape = broadcast_shapes(a.shape(), b.shape(), op);
  const Tensor x1 = a.shape() == shape.ref() ? a : a.expand(shape);
  const Tensor x2 = b.shape() == shape.ref() ? b : b.expand(shape);
  const int64_t d = wrap_dim(dim, static_cast<int64_t>(shape.size()), op);
  const int64_t dims[1] = {d};
  // PyTorch divides each input by its norm first (no overflow in the product, |result| <= 1). The
  // norms are clamped to eps with the gradient flowing through as if unclamped, as in PyTorch
  // (which clamps a clone in place under no_grad). Written as ops, not as an in-place clamp, so
  // that compile can trace it: where n < eps, (n - n.detach()) + eps is eps exactly with
  // derivative 1 (NaN stays NaN).
  auto clamp_keep_grad = [eps](const Tensor& n) { return where(n >= eps, n, (n - n.detach()) + eps); };
  const Tensor n1 = clamp_keep_grad(norm(x1, 2, dims, true)), n2 = clamp_keep_grad(norm(x2, 2, dims, true));
  return ((x1 / n1) * (x2 / n2)).sum(dims);
}

}  // namespace ricci::nn::functional
