// The index-driven nn ops: embedding, nll_loss and cross_entropy. Each is a linear map picked by
// integer indices, so its backward is the transposed map, and the transpose of that is the
// forward again: the two kernels (gather / scatter) are recorded as each other's vjp, which
// gives derivatives of any order without the indexing family.
#include <cmath>
#include <limits>
#include <vector>

#include "lazy/record.h"
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

std::string shape_str(IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Integer indices as a contiguous int64 tensor (a copy only when needed).
Tensor as_int64(const Tensor& t, const char* op, const char* what) {
  RICCI_CHECK(t.dtype() == int64 || t.dtype() == int32, DTypeError, "[", op, "] Expected ", what,
              " of dtype int64 (or int32), but got ", t.dtype(), "; convert with .to(int64)");
  NoGradGuard g;
  return t.to(int64).contiguous();
}

// ---- embedding ----------------------------------------------------------------------------------
// lookup: out = w[idx] with rows idx == zero_skip zeroed; its vjp scatters, skipping grad_skip.
// scatter: gw[idx] += g except idx == skip; its vjp is lookup with both skips = skip.
Tensor rows_scatter(const Tensor& g, const Tensor& idx, int64_t num, int64_t skip);

Tensor rows_lookup(const Tensor& w, const Tensor& idx, const Dims& out_shape, int64_t zero_skip, int64_t grad_skip) {
  Tensor out = empty_tensor(out_shape, w.dtype(), w.device(), "embedding");
  static const auto id = kernels::op_id("nn_embedding");
  kernels::kernel_table().get<nnk::EmbeddingKernel>(id, w.device(), w.dtype())(out, contiguous_nograd(w), idx,
                                                                              zero_skip);
  if (autograd::needs_grad(w)) {
    const int64_t num = w.size(0);
    // The indices are saved, not captured: the rule replays whole inside a compile trace.
    autograd::record("EmbeddingBackward0", {&w}, {&out}, {&idx}, {}, [num, grad_skip](const VjpArgs& a) {
      return Tensors{rows_scatter(a.grads[0], a.saved[0], num, grad_skip)};
    })->set_replayable();
  }
  return out;
}

Tensor rows_scatter(const Tensor& g, const Tensor& idx, int64_t num, int64_t skip) {
  const int64_t d = g.size(-1);
  Tensor gw = zeros({num, d}, TensorOptions(g.dtype(), g.device()));
  static const auto id = kernels::op_id("nn_embedding_backward");
  kernels::kernel_table().get<nnk::EmbeddingBackwardKernel>(id, g.device(), g.dtype())(gw, contiguous_nograd(g), idx,
                                                                                       skip);
  if (autograd::needs_grad(g)) {
    const Dims gshape(g.shape());
    autograd::record("EmbeddingDenseBackward0", {&g}, {&gw}, {}, {}, [idx, skip, gshape](const VjpArgs& a) {
      return Tensors{rows_lookup(a.grads[0], idx, gshape, skip, skip)};
    });
  }
  return gw;
}

// ---- nll ----------------------------------------------------------------------------------------
struct NllPlan {
  Tensor target;  // int64 (m), contiguous
  Tensor coef;    // float64 (m): -weight[target] / denominator, 0 where ignored
  std::vector<double> keep;  // weight[target] where counted, else 0
  double denom = 0;          // sum of keep
  int64_t n = 1, c = 1, inner = 1;
  Dims out_shape;            // the unreduced loss shape (target's)
};

void weigh_targets(NllPlan& p, const Tensor& weight, int64_t ignore_index, Reduction reduction, const char* op);

NllPlan plan_nll(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                 Reduction reduction, const char* op) {
  check_defined(input, op);
  check_defined(target, op, "target");
  internal::check_reduction(reduction, op);
  RICCI_CHECK(input.is_floating_point(), DTypeError, "[", op, "] expected a floating point input, but got ",
              input.dtype());
  RICCI_CHECK(input.dim() >= 1, ShapeError, "[", op,
              "] Expected input of shape (C), (N, C) or (N, C, d1, ...), but got a 0-d tensor");
  check_same_device(op, {&input, &target});
  NllPlan p;
  p.target = as_int64(target, op, "target (class indices)");
  if (input.dim() == 1) {
    RICCI_CHECK(target.dim() == 0, ShapeError, "[", op, "] Expected a 0-d target for an input of shape ",
                shape_str(input.shape()), " (one sample), but got target of shape ", shape_str(target.shape()));
    p.c = input.size(0);
  } else {
    RICCI_CHECK(target.dim() >= 1 && target.size(0) == input.size(0), ShapeError, "[", op,
                "] Expected input batch_size (", input.size(0), ") to match target batch_size (",
                target.dim() >= 1 ? target.size(0) : 0, ").");
    Dims want{input.size(0)};
    for (int64_t i = 2; i < input.dim(); ++i) want.push_back(input.size(i));
    RICCI_CHECK(target.shape() == want, ShapeError, "[", op, "] Expected target size ", shape_str(want), ", got ",
                shape_str(target.shape()), " (input has shape ", shape_str(input.shape()), ")");
    p.n = input.size(0);
    p.c = input.size(1);
    for (int64_t i = 2; i < input.dim(); ++i) p.inner *= input.size(i);
  }
  p.out_shape = Dims(target.shape());
  if (weight.defined())
    RICCI_CHECK(weight.dim() == 1 && weight.numel() == p.c, ShapeError, "[", op,
                "] weight tensor should be defined either for all ", p.c,
                " classes or no classes but got weight tensor of shape: ", shape_str(weight.shape()));
  weigh_targets(p, weight, ignore_index, reduction, op);
  return p;
}

// The coefficients from the targets' values (Note [Gradients inside a trace]: the backward rule
// weighs them again from its saved target and weight, so that it keeps no tensor of its own).
void weigh_targets(NllPlan& p, const Tensor& weight, int64_t ignore_index, Reduction reduction, const char* op) {
  // Shape inference reads no values: the targets are checked and weighed when the op runs.
  if (lazy::detail::in_meta()) {
    p.coef = empty_tensor({p.target.numel()}, float64, p.target.device());
    return;
  }
  std::vector<double> w;
  if (weight.defined()) w = weight.to_vector<double>();
  const int64_t m = p.target.numel();
  const int64_t* t = p.target.data_ptr<int64_t>();
  p.keep.resize(static_cast<size_t>(m));
  std::vector<double> coef(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    if (t[i] == ignore_index) continue;
    RICCI_CHECK(t[i] >= 0 && t[i] < p.c, IndexError, "[", op, "] Target ", t[i], " is out of bounds. Class indices must lie in [0, ",
                p.c, ") (the input has ", p.c, " classes) or equal ignore_index (", ignore_index, ").");
    const double wi = w.empty() ? 1.0 : w[static_cast<size_t>(t[i])];
    p.keep[static_cast<size_t>(i)] = wi;
    coef[static_cast<size_t>(i)] = -wi;
    p.denom += wi;
  }
  if (reduction == Reduction::Mean && p.denom != 0)
    for (double& v : coef) v /= p.denom;
  p.coef = from_vector(coef, {m}, float64);
}

Tensor nll_scatter(const Tensor& g, const NllPlan& p, const Dims& input_shape, bool reduce);

// The loss as a linear map of x: out = coef * x[target] (summed when reduce).
Tensor nll_gather_kernel(const Tensor& x, const NllPlan& p, bool reduce) {
  Tensor out = empty_tensor(reduce ? Dims{} : p.out_shape, x.dtype(), x.device());
  static const auto id = kernels::op_id("nn_nll_gather");
  kernels::kernel_table().get<nnk::NllGatherKernel>(id, x.device(), x.dtype())(out, contiguous_nograd(x), p.target,
                                                                              p.coef, p.n, p.c, p.inner, reduce);
  return out;
}

// What the rules keep of a plan: the kernels' tensors, not the host-side vectors.
NllPlan kernel_plan(const NllPlan& p) {
  NllPlan q;
  q.target = p.target, q.coef = p.coef, q.n = p.n, q.c = p.c, q.inner = p.inner, q.out_shape = p.out_shape;
  return q;
}

// nll_gather's own rule for the loss: it saves the target and weight as they were given and weighs
// them again, so it captures no tensor and a compile trace replays it whole (Note [Gradients
// inside a trace]).
Tensor nll_forward(const Tensor& x, const NllPlan& p, bool reduce, const Tensor& target, const Tensor& weight,
                   int64_t ignore_index, Reduction reduction, const char* op) {
  Tensor out = nll_gather_kernel(x, p, reduce);
  if (autograd::needs_grad(x)) {
    const Dims xs(x.shape());
    const int64_t n = p.n, c = p.c, inner = p.inner;
    const Dims out_shape = p.out_shape;
    autograd::record("NllLossBackward0", {&x}, {&out}, {&target, &weight}, {},
                     [xs, reduce, n, c, inner, out_shape, ignore_index, reduction, op](const VjpArgs& a) {
                       NllPlan q;
                       q.target = as_int64(a.saved[0], op, "target (class indices)");
                       q.n = n, q.c = c, q.inner = inner, q.out_shape = out_shape;
                       weigh_targets(q, a.saved[1], ignore_index, reduction, op);
                       return Tensors{nll_scatter(a.grads[0], kernel_plan(q), xs, reduce)};
                     })
        ->set_replayable();
  }
  return out;
}

// The double-backward map: gather again, the plan kept whole.
Tensor nll_gather(const Tensor& x, const NllPlan& p, bool reduce) {
  Tensor out = nll_gather_kernel(x, p, reduce);
  if (autograd::needs_grad(x)) {
    const Dims xs(x.shape());
    const NllPlan q = kernel_plan(p);
    autograd::record("NllLossBackward0", {&x}, {&out}, {}, {}, [q, xs, reduce](const VjpArgs& a) {
      return Tensors{nll_scatter(a.grads[0], q, xs, reduce)};
    });
  }
  return out;
}

Tensor nll_scatter(const Tensor& g, const NllPlan& p, const Dims& input_shape, bool reduce) {
  Tensor dx = zeros(input_shape, TensorOptions(g.dtype(), g.device()));
  static const auto id = kernels::op_id("nn_nll_scatter");
  kernels::kernel_table().get<nnk::NllScatterKernel>(id, g.device(), g.dtype())(dx, contiguous_nograd(g), p.target,
                                                                               p.coef, p.n, p.c, p.inner, reduce);
  if (autograd::needs_grad(g)) {
    const NllPlan q = kernel_plan(p);
    autograd::record("NllLossBackwardBackward0", {&g}, {&dx}, {}, {},
                     [q, reduce](const VjpArgs& a) { return Tensors{nll_gather(a.grads[0], q, reduce)}; });
  }
  return dx;
}

Tensor nll_from_plan(const Tensor& input, const NllPlan& p, Reduction reduction, const Tensor& target,
                     const Tensor& weight, int64_t ignore_index, const char* op) {
  Tensor out = nll_forward(input, p, reduction != Reduction::None, target, weight, ignore_index, reduction, op);
  // PyTorch: the mean over zero counted targets is NaN.
  if (reduction == Reduction::Mean && p.denom == 0) fill_kernel(out, std::numeric_limits<double>::quiet_NaN());
  return out;
}

// The class dim of the input broadcast shape for a (C) weight: [C] for (C) input, else [1, C, 1, ...].
Tensor class_view(const Tensor& w, const Tensor& input) {
  if (input.dim() == 1) return w;
  Dims s(static_cast<size_t>(input.dim()), 1);
  s[1] = w.numel();
  return w.reshape(s);
}

}  // namespace

Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("embedding", [](const Tensors& in, std::optional<int64_t> p) { return embedding(in[0], in[1], p); },
                         {indices, weight}, padding_idx);
  const char* op = "embedding";
  check_defined(indices, op, "indices");
  check_defined(weight, op, "weight");
  RICCI_CHECK(weight.dim() == 2, ShapeError, "[embedding] 'weight' must be 2-D (num_embeddings, embedding_dim), got shape ",
              shape_str(weight.shape()));
  check_same_device(op, {&indices, &weight});
  const int64_t num = weight.size(0);
  int64_t pad = -1;
  if (padding_idx) {
    pad = *padding_idx < 0 ? *padding_idx + num : *padding_idx;
    RICCI_CHECK(pad >= 0 && pad < num, ValueError, "[embedding] Padding_idx must be within num_embeddings (got ",
                *padding_idx, " for ", num, " embeddings)");
  }
  const Tensor idx = as_int64(indices, op, "indices");
  if (!lazy::detail::in_meta()) {  // shape inference reads no values; they are checked when the op runs
    const int64_t* ip = idx.data_ptr<int64_t>();
    for (int64_t i = 0, k = idx.numel(); i < k; ++i)
      RICCI_CHECK(ip[i] >= 0 && ip[i] < num, IndexError, "[embedding] index out of range in self (index ", ip[i],
                  ", num_embeddings ", num, ")");
  }
  Dims out_shape(indices.shape());
  out_shape.push_back(weight.size(1));
  // PyTorch returns the padding row's values in the forward; only its gradient is dropped.
  return rows_lookup(weight, idx, out_shape, -1, pad);
}

namespace {

// nll_loss as one primitive (cross_entropy's too, with its name in the errors): the targets'
// values are read when it runs, never while shapes are inferred, so a trace holds it.
Tensor nll_core(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction, const char* op) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("nll_loss", [](const Tensors& in, int64_t ignore, Reduction r, const char* name) {
      return nll_core(in[0], in[1], in[2], ignore, r, name);
    }, {input, target, weight}, ignore_index, reduction, op);
  const NllPlan p = plan_nll(input, target, weight, ignore_index, reduction, op);
  return nll_from_plan(input, p, reduction, target, weight, ignore_index, op);
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& o) {
  return nll_core(input, target, o.weight, o.ignore_index, o.reduction, "nll_loss");
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o) {
  const char* op = "cross_entropy";
  check_defined(input, op);
  check_defined(target, op, "target");
  internal::check_reduction(o.reduction, op);
  RICCI_CHECK(input.is_floating_point(), DTypeError, "[cross_entropy] expected a floating point input, but got ",
              input.dtype());
  const double ls = o.label_smoothing;
  RICCI_CHECK(ls >= 0.0 && ls <= 1.0, ValueError, "[cross_entropy] label_smoothing must be between 0.0 and 1.0. Got: ", ls);
  RICCI_CHECK(input.dim() >= 1, ShapeError, "[cross_entropy] Expected input of shape (C), (N, C) or (N, C, d1, ...), but got a 0-d tensor");
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const int64_t C = input.size(class_dim);
  const int64_t cd[1] = {class_dim};
  if (target.is_floating_point()) {
    // Class probabilities.
    RICCI_CHECK(target.shape() == input.shape(), ShapeError,
                "[cross_entropy] Expected input and target of the same shape when target holds class probabilities, "
                "but got input of shape ",
                shape_str(input.shape()), " and target of shape ", shape_str(target.shape()),
                " (pass int64 class indices for a target without the class dim)");
    if (o.weight.defined())
      RICCI_CHECK(o.weight.dim() == 1 && o.weight.numel() == C, ShapeError, "[cross_entropy] weight tensor should be defined either for all ",
                  C, " classes or no classes but got weight tensor of shape: ", shape_str(o.weight.shape()));
    const Tensor logp = log_softmax(input, class_dim);
    Tensor t = ls > 0 ? target * (1.0 - ls) + ls / static_cast<double>(C) : target;
    Tensor prod = logp * t;
    if (o.weight.defined()) prod = prod * class_view(o.weight, input);
    switch (o.reduction) {
      case Reduction::None: return -prod.sum(cd);
      case Reduction::Sum: return -prod.sum();
      case Reduction::Mean: case Reduction::BatchMean: {  // BatchMean: refused above
        if (input.numel() == 0) return -prod.sum() * std::numeric_limits<double>::quiet_NaN();
        return -prod.sum() / static_cast<double>(input.numel() / C);
      }
    }
  }
  if (ls <= 0) return nll_core(log_softmax(input, class_dim), target, o.weight, o.ignore_index, o.reduction, op);
  const NllPlan p = plan_nll(input, target, o.weight, o.ignore_index, o.reduction, op);
  const Tensor logp = log_softmax(input, class_dim);
  Tensor nll = nll_from_plan(logp, p, o.reduction, target, o.weight, o.ignore_index, op);
  // PyTorch's label smoothing: (1 - ls) * nll + ls / C * smooth, where smooth = -sum_c w_c logp_c
  // per counted sample, normalised like nll (by the weights of the counted targets for mean).
  Tensor smooth = o.weight.defined() ? -(logp * class_view(o.weight, input)).sum(cd) : -logp.sum(cd);
  std::vector<double> counted(p.keep.size());
  for (size_t i = 0; i < counted.size(); ++i) counted[i] = p.target.data_ptr<int64_t>()[i] == o.ignore_index ? 0.0 : 1.0;
  smooth = smooth * from_vector(counted, p.out_shape, input.dtype());
  Tensor ret;
  switch (o.reduction) {
    case Reduction::None: ret = smooth; break;
    case Reduction::Sum: ret = smooth.sum(); break;
    case Reduction::Mean: case Reduction::BatchMean: ret = smooth.sum() / p.denom; break;  // BatchMean: refused
  }
  return nll * (1.0 - ls) + ret * (ls / static_cast<double>(C));
}

}  // namespace ricci::nn::functional
