// vmap (docs/transforms.md).
//
// Note [vmap by tracing]
// ~~~~~~~~~~~~~~~~~~~~~~
// vmap(f)(xs) records f lazily on placeholders that have the shape of one example (the batched
// inputs without their mapped axis), then walks the recorded primitives in order and asks each
// one for its batching rule (Primitive::vmap) on the real, batched tensors: elementwise ops align
// the batch axes and run once; matmul moves the batch into its batch dims; any other op runs once
// per example and stacks. Ops that read no batched input run as they are. Nothing of the trace
// is ever evaluated. When f cannot be traced — it reads a value of a batched input, or takes a
// gradient (autograd needs values) — vmap runs f once per example and stacks: the same numbers,
// at a loop's speed. Rules run in the caller's mode, so a vmap inside another vmap's trace is
// recorded there and batched again.
#include <unordered_map>

#include "core/tensor_internal.h"
#include "lazy/graph.h"
#include "transforms/grad_functor.h"
#include "transforms/batching.h"
#include "lazy/lazy_detail.h"
#include "ricci/error.h"
#include "ricci/lazy.h"
#include "ricci/ops/linalg.h"
#include "ricci/ops/shape.h"
#include "ricci/transforms.h"

namespace ricci {

namespace batching {

Tensor batch_first(const Tensor& x, int64_t axis) {
  if (axis == 0) return x;
  Dims perm;
  perm.push_back(axis);
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != axis) perm.push_back(d);
  return x.permute(perm);
}

int64_t shifted_dim(int64_t dim, int64_t rank, const char* op) { return wrap_dim(dim, rank, op) + 1; }

Result reshape_each(const Tensor& x, int64_t axis, IntArrayRef shape) {
  const Tensor b = batch_first(x, axis);
  Dims s;
  s.push_back(b.size(0));
  for (int64_t d : shape) s.push_back(d);
  return {{b.reshape(s)}, {0}};
}

Result per_example(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                   const std::vector<Tensor>& inputs, const std::vector<int64_t>& axes, int64_t n, const char* op) {
  std::vector<std::vector<Tensor>> per_output;
  for (int64_t b = 0; b < n; ++b) {
    std::vector<Tensor> slice(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
      slice[i] = inputs[i].defined() && axes[i] >= 0 ? inputs[i].select(axes[i], b) : inputs[i];
    std::vector<Tensor> outs = fn(slice);
    if (b == 0) per_output.resize(outs.size());
    RICCI_CHECK(outs.size() == per_output.size(), ValueError, "[", op, "] returned ", outs.size(),
                " outputs for one example and ", per_output.size(), " for another");
    for (size_t j = 0; j < outs.size(); ++j) per_output[j].push_back(std::move(outs[j]));
  }
  Result r;
  for (auto& outs : per_output) {
    const bool defined = !outs.empty() && outs[0].defined();
    r.first.push_back(defined ? stack(outs, 0) : Tensor());
    r.second.push_back(defined ? 0 : -1);
  }
  return r;
}

Dims shifted_dims(IntArrayRef dims, int64_t rank, const char* op) {
  Dims r;
  if (dims.empty()) {
    for (int64_t d = 1; d <= rank; ++d) r.push_back(d);
    return r;
  }
  for (int64_t d : dims) r.push_back(shifted_dim(d, rank, op));
  return r;
}

}  // namespace batching

namespace {

using batching::batch_first;

// x (batched along `axis`) as [B, 1, ..., 1, example dims] with `rank` example dims, so that it
// broadcasts against unbatched operands of up to `rank` dims exactly as one example would.
Tensor align(const Tensor& x, int64_t axis, int64_t rank) {
  Tensor t = batch_first(x, axis);
  while (t.dim() - 1 < rank) t = t.unsqueeze(1);
  return t;
}

// x with its first axis moved to position `to`.
Tensor front_to(const Tensor& x, int64_t to) {
  if (to == 0) return x;
  Dims perm;
  for (int64_t d = 1; d < x.dim(); ++d) {
    if (static_cast<int64_t>(perm.size()) == to) perm.push_back(0);
    perm.push_back(d);
  }
  if (static_cast<int64_t>(perm.size()) == to) perm.push_back(0);
  return x.permute(perm);
}

int64_t batch_size(const Tensors& inputs, const std::vector<int64_t>& axes) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (axes[i] >= 0) return inputs[i].size(axes[i]);
  return -1;
}

}  // namespace

std::pair<Tensors, std::vector<int64_t>> Primitive::vmap(const Tensors& inputs, const std::vector<int64_t>& axes) const {
  RICCI_CHECK(axes.size() == inputs.size(), ValueError, "[", name(), "] vmap got ", axes.size(), " axes for ",
              inputs.size(), " inputs");
  const int64_t n = batch_size(inputs, axes);
  RICCI_CHECK(n >= 0, ValueError, "[", name(), "] vmap: no input is batched");
  const PrimitiveKind k = kind();
  if (k == PrimitiveKind::Matmul && inputs.size() == 2 && inputs[0].defined() && inputs[1].defined()) {
    // A vector operand (one example's x in x @ W) becomes a one-row (or one-column) matrix, so the
    // batch can go into matmul's batch dims; the added dim is dropped from the result.
    const bool vec_a = inputs[0].dim() - (axes[0] >= 0 ? 1 : 0) == 1;
    const bool vec_b = inputs[1].dim() - (axes[1] >= 0 ? 1 : 0) == 1;
    if (vec_a || vec_b) {
      Tensor a = axes[0] >= 0 ? batching::batch_first(inputs[0], axes[0]) : inputs[0];
      Tensor b = axes[1] >= 0 ? batching::batch_first(inputs[1], axes[1]) : inputs[1];
      if (vec_a) a = a.unsqueeze(-2);
      if (vec_b) b = b.unsqueeze(-1);
      auto [outs, out_axes] = vmap({a, b}, {axes[0] >= 0 ? 0 : -1, axes[1] >= 0 ? 0 : -1});
      Tensor r = outs[0];
      if (vec_b) r = r.squeeze(-1);             // [.., m, 1] -> [.., m]
      if (vec_a) r = r.squeeze(vec_b ? -1 : -2);  // [.., 1, n] -> [.., n]; [.., 1] -> [..]
      return {{r}, out_axes};
    }
  }
  if (k == PrimitiveKind::Elementwise || k == PrimitiveKind::Matmul) {
    int64_t rank = 0;
    bool fits = true;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].defined()) continue;
      const int64_t r = inputs[i].dim() - (axes[i] >= 0 ? 1 : 0);
      rank = std::max(rank, r);
      fits = fits && (k != PrimitiveKind::Matmul || r >= 2);  // vectors change matmul's meaning
    }
    if (fits) {
      Tensors aligned(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i)
        aligned[i] = inputs[i].defined() && axes[i] >= 0 ? align(inputs[i], axes[i], rank) : inputs[i];
      if (k == PrimitiveKind::Matmul) return {{matmul(aligned[0], aligned[1])}, {0}};
      Tensors outs = eval(aligned);
      return {outs, std::vector<int64_t>(outs.size(), 0)};
    }
  }
  return batching::per_example([this](const Tensors& in) { return eval(in); }, inputs, axes, n, name());
}

namespace {

struct Batched {
  Tensor value;
  int64_t axis = -1;  // -1: the same for every example
};

// f on the whole batch through the primitives' rules (Note [vmap by tracing]); throws
// TraceFailed when f cannot be traced.
std::vector<Batched> by_tracing(const TensorFn& f, const Tensors& xs, const std::vector<int64_t>& axes) {
  const bool outer_lazy = is_lazy();
  std::unordered_map<const Storage*, Batched> env;
  Tensors traced_in(xs.size()), traced_out;
  {
    LazyGuard lazy;
    lazy::detail::Tracing tracing;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (axes[i] < 0) {
        traced_in[i] = xs[i];
        continue;
      }
      Dims example;
      for (int64_t d = 0; d < xs[i].dim(); ++d)
        if (d != axes[i]) example.push_back(xs[i].size(d));
      traced_in[i] = lazy::trace_placeholder(example, xs[i].dtype(), xs[i].device());
      env[traced_in[i].unsafe_impl()->storage.get()] = {xs[i], axes[i]};
    }
    traced_out = f(traced_in);
  }
  LazyGuard mode(outer_lazy);
  auto lookup = [&env](const Tensor& t) -> const Batched* {
    if (!t.defined()) return nullptr;
    auto it = env.find(t.unsafe_impl()->storage.get());
    if (it == env.end()) {
      if (t.unsafe_impl()->storage->is_deferred()) throw lazy::detail::TraceFailed{};  // an alias vmap cannot follow
      return nullptr;
    }
    return &it->second;
  };
  lazy::walk_pending(traced_out, [&](const PrimitivePtr& prim_ptr, const Tensors& ins,
                                     const std::vector<lazy::PendingOutput>& recorded) {
    const Primitive& prim = *prim_ptr;
    Tensors values(ins.size());
    std::vector<int64_t> in_axes(ins.size(), -1);
    bool any = false;
    for (size_t i = 0; i < ins.size(); ++i) {
      const Batched* b = lookup(ins[i]);
      if (!b) {
        values[i] = ins[i];
        continue;
      }
      // A placeholder's view with another layout than the tensor it aliases cannot be mapped.
      if (b->axis >= 0 && ins[i].dim() != b->value.dim() - 1) throw lazy::detail::TraceFailed{};
      values[i] = b->value;
      in_axes[i] = b->axis;
      any = any || b->axis >= 0;
    }
    Tensors outs;
    std::vector<int64_t> out_axes;
    if (any) {
      std::tie(outs, out_axes) = prim.vmap(values, in_axes);
    } else {
      outs = prim.eval(values);
      out_axes.assign(outs.size(), -1);
    }
    for (size_t j = 0; j < recorded.size() && j < outs.size(); ++j)
      if (recorded[j].placeholder) env[recorded[j].placeholder] = {outs[j], out_axes[j]};
  });
  std::vector<Batched> result;
  for (const Tensor& o : traced_out) {
    if (const Batched* b = lookup(o)) {
      result.push_back(*b);
    } else {
      result.push_back({o, -1});  // f returned something that does not depend on the batch
    }
  }
  return result;
}

// vmap(grad(f)): example i's loss depends only on example i's inputs, so the gradient of the sum
// of the losses with respect to a batch of per-example copies of the inputs is the batch of
// per-example gradients. f runs batched (vmap) and autograd makes one backward pass.
std::vector<Batched> per_example_gradients(const transforms_detail::GradFunctor& g, const Tensors& xs,
                                           const std::vector<int64_t>& axes, int64_t n) {
  Tensors bx = xs;
  Axes bax(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) bax[i] = axes[i] >= 0 ? std::optional<int64_t>(axes[i]) : std::nullopt;
  for (int a : g.argnums) {
    const size_t i = static_cast<size_t>(a);
    if (i >= xs.size() || axes[i] >= 0 || !xs[i].defined()) continue;
    Dims s;
    s.push_back(n);
    for (int64_t d : xs[i].shape()) s.push_back(d);
    bx[i] = xs[i].unsqueeze(0).expand(s);  // the same values for every example, one gradient each
    bax[i] = 0;
  }
  const TensorFn f = g.f;
  TensorFn total = [f, bax](const Tensors& in) {
    Tensors losses = vmap(f, bax)(in);
    RICCI_CHECK(!losses.empty() && losses[0].defined() && losses[0].numel() == losses[0].size(0), ValueError,
                "[grad] f must return a scalar (a tensor of one element) as its first output, but under vmap it "
                "returned shape ", losses.empty() || !losses[0].defined() ? Dims() : Dims(losses[0].shape()),
                "; reduce it first (e.g. .sum() or .mean())");
    return Tensors{losses[0].sum()};
  };
  Tensors grads = grad(total, g.argnums)(bx);
  std::vector<Batched> result;
  for (size_t k = 0; k < grads.size(); ++k) {
    const size_t i = static_cast<size_t>(g.argnums[k]);
    result.push_back({grads[k], grads[k].defined() && bax[i] ? *bax[i] : -1});
  }
  return result;
}

int64_t wrap_axis(std::optional<int64_t> axis, int64_t ndim, const char* what, size_t i) {
  if (!axis) return -1;
  RICCI_CHECK(ndim > 0, ValueError, "[vmap] ", what, " ", i, " is 0-d, so it has no axis ", *axis,
              " to map over; pass std::nullopt for inputs that are not batched");
  RICCI_CHECK(*axis >= -ndim && *axis < ndim, IndexError, "[vmap] ", what, " axis ", *axis, " of input ", i,
              " is out of range for a tensor with ", ndim, " dims");
  return *axis < 0 ? *axis + ndim : *axis;
}

}  // namespace

TensorFn vmap(const TensorFn& f, Axes in_axes, Axes out_axes) {
  return [f, in_axes, out_axes](const Tensors& xs) -> Tensors {
    RICCI_CHECK(in_axes.empty() || in_axes.size() == xs.size(), ValueError, "[vmap] in_axes has ", in_axes.size(),
                " entries but f was called with ", xs.size(), " inputs; give one per input (std::nullopt: not batched)");
    std::vector<int64_t> axes(xs.size());
    int64_t n = -1;
    for (size_t i = 0; i < xs.size(); ++i) {
      const std::optional<int64_t> a = in_axes.empty() ? std::optional<int64_t>(0) : in_axes[i];
      axes[i] = xs[i].defined() ? wrap_axis(a, xs[i].dim(), "in_axes", i) : -1;
      if (axes[i] < 0) continue;
      const int64_t size = xs[i].size(axes[i]);
      RICCI_CHECK(n < 0 || size == n, ValueError, "[vmap] the mapped axes have different sizes: ", n, " and ", size,
                  " (input ", i, ", axis ", axes[i], "); every batched input needs the same batch size");
      n = size;
    }
    RICCI_CHECK(n >= 0, ValueError, "[vmap] no input is batched: in_axes maps none of them");
    std::vector<Batched> outs;
    if (const auto* g = f.target<transforms_detail::GradFunctor>()) {
      outs = per_example_gradients(*g, xs, axes, n);
    } else {
      try {
        outs = by_tracing(f, xs, axes);
      } catch (const lazy::detail::TraceFailed&) {
        auto [values, value_axes] = batching::per_example(f, xs, axes, n, "vmap");
        for (size_t j = 0; j < values.size(); ++j) outs.push_back({values[j], value_axes[j]});
      }
    }
    RICCI_CHECK(out_axes.empty() || out_axes.size() == outs.size(), ValueError, "[vmap] out_axes has ",
                out_axes.size(), " entries but f returned ", outs.size(), " outputs");
    Tensors result;
    for (size_t j = 0; j < outs.size(); ++j) {
      Batched& b = outs[j];
      if (!b.value.defined()) {
        result.push_back(b.value);
        continue;
      }
      Tensor v;
      if (b.axis >= 0) {
        v = batch_first(b.value, b.axis);
      } else {
        Dims s;
        s.push_back(n);
        for (int64_t d : b.value.shape()) s.push_back(d);
        v = b.value.unsqueeze(0).expand(s);
      }
      const std::optional<int64_t> want = out_axes.empty() ? std::optional<int64_t>(0) : out_axes[j];
      RICCI_CHECK(want.has_value(), ValueError, "[vmap] out_axes ", j, " is std::nullopt, but every output is batched");
      const int64_t to = wrap_axis(want, v.dim(), "out_axes", j);
      result.push_back(front_to(v, to));
    }
    return result;
  };
}

}  // namespace ricci
