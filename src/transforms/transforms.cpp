// vjp, jvp, grad, value_and_grad, the Jacobians and stop_gradient (docs/transforms.md).
//
// Note [Transforms on the tape]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Reverse mode runs f on stand-ins for its inputs and pulls the cotangents back through the
// graph that eager autograd records (autograd::grad: .grad is never touched). A stand-in is a
// fresh leaf, or — when the input already carries a gradient for someone outside (an enclosing
// transform, or a tape the user is recording) — an alias that keeps that history, and then the
// pull-back is recorded too (create_graph). That is what makes grad(grad(f)) and jvp-of-grad work:
// each level differentiates the graph the level inside recorded.
//
// Forward mode is the transpose of reverse mode. u -> vjp(u) = J^T u is linear in u, and its own
// vjp at any u, applied to a tangent v, is (J^T)^T v = J v: jvp runs reverse mode twice, the
// first time with zero cotangents that require grad. Every op's backward is written in ricci
// ops and is differentiable in its incoming gradient, so this gives every primitive a jvp rule.
#include "ricci/transforms.h"

#include <numeric>

#include "lazy/lazy_detail.h"
#include "transforms/grad_functor.h"
#include "ricci/error.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/reduce.h"
#include "ricci/ops/shape.h"

namespace ricci {

namespace {

bool differentiable(const Tensor& t) { return t.defined() && is_floating_point(t.dtype()); }

bool any_requires_grad(const Tensors& ts) {
  for (const Tensor& t : ts)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

// What f sees in place of x (Note [Transforms on the tape]).
Tensor stand_in(const Tensor& x) {
  if (!differentiable(x)) return x;
  if (x.requires_grad()) return x.view(x.shape());
  return x.detach().requires_grad_(true);
}

void check_same_shapes(const char* op, const char* what, const Tensors& given, const Tensors& expected,
                       const char* expected_name) {
  for (size_t i = 0; i < given.size(); ++i) {
    if (!given[i].defined() || !expected[i].defined()) continue;
    RICCI_CHECK(given[i].shape() == expected[i].shape(), ShapeError, "[", op, "] ", what, " ", i, " has shape ",
                given[i].shape(), " but ", expected_name, " ", i, " has shape ", expected[i].shape(),
                "; give one of the same shape");
  }
}

Tensors detached(Tensors ts) {
  for (Tensor& t : ts)
    if (t.defined()) t = t.detach();
  return ts;
}

}  // namespace

namespace {

// Reverse mode, with the cotangents chosen once f's outputs are known.
std::pair<Tensors, Tensors> pull_back(const TensorFn& f, const Tensors& primals,
                                      const std::function<Tensors(const Tensors&)>& cotangents_for) {
  autograd::EnableGradGuard grad_on;
  Tensors xs;
  xs.reserve(primals.size());
  for (const Tensor& p : primals) xs.push_back(stand_in(p));
  Tensors outs = f(xs);
  const Tensors cotangents = cotangents_for(outs);
  const bool nested = any_requires_grad(primals) || any_requires_grad(cotangents);

  Tensors roots, seeds, wrt;
  std::vector<size_t> wrt_index;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!cotangents[i].defined() || !outs[i].defined() || !outs[i].requires_grad()) continue;
    roots.push_back(outs[i]);
    seeds.push_back(cotangents[i].to(outs[i].dtype()));
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!differentiable(xs[i])) continue;
    wrt.push_back(xs[i]);
    wrt_index.push_back(i);
  }
  Tensors grads(primals.size());
  Tensors g;
  if (!roots.empty() && !wrt.empty())
    g = autograd::grad(roots, wrt, seeds, /*retain_graph=*/nested, /*create_graph=*/nested, /*allow_unused=*/true);
  for (size_t k = 0; k < wrt_index.size(); ++k) {
    const size_t i = wrt_index[k];
    grads[i] = k < g.size() && g[k].defined() ? g[k] : zeros_like(primals[i]);
  }
  return {nested ? outs : detached(outs), grads};
}

}  // namespace

std::pair<Tensors, Tensors> vjp(const TensorFn& f, const Tensors& primals, const Tensors& cotangents) {
  return pull_back(f, primals, [&cotangents](const Tensors& outs) {
    RICCI_CHECK(cotangents.size() == outs.size(), ValueError, "[vjp] f returned ", outs.size(), " outputs but ",
                cotangents.size(), " cotangents were given; pass one per output (an undefined Tensor for none)");
    check_same_shapes("vjp", "cotangent", cotangents, outs, "output");
    return cotangents;
  });
}

std::pair<Tensors, Tensors> jvp(const TensorFn& f, const Tensors& primals, const Tensors& tangents) {
  RICCI_CHECK(tangents.size() == primals.size(), ValueError, "[jvp] got ", tangents.size(), " tangents for ",
              primals.size(), " primals; pass one per primal (an undefined Tensor for zero)");
  check_same_shapes("jvp", "tangent", tangents, primals, "primal");
  autograd::EnableGradGuard grad_on;
  Tensors xs;
  for (const Tensor& p : primals) xs.push_back(stand_in(p));
  Tensors outs = f(xs);
  const bool nested = any_requires_grad(primals) || any_requires_grad(tangents);

  // Reverse mode once with cotangents u that require grad: J^T u, recorded.
  Tensors roots, us, wrt, vs;
  std::vector<size_t> root_index;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!differentiable(outs[i]) || !outs[i].requires_grad()) continue;
    roots.push_back(outs[i]);
    // Any u gives the same derivative (J^T u is linear in u); ones keep backward formulas that
    // take logs or divide by the incoming gradient finite.
    us.push_back(ones_like(outs[i]).requires_grad_(true));
    root_index.push_back(i);
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!differentiable(xs[i]) || !tangents[i].defined()) continue;
    wrt.push_back(xs[i]);
    vs.push_back(tangents[i].to(xs[i].dtype()));
  }
  Tensors result(outs.size());
  if (!roots.empty() && !wrt.empty()) {
    Tensors jt_u = autograd::grad(roots, wrt, us, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
    // Then reverse mode through u -> J^T u, with the tangents as cotangents: J v.
    Tensors lin_roots, lin_seeds;
    for (size_t k = 0; k < jt_u.size(); ++k) {
      if (!jt_u[k].defined()) continue;
      if (!jt_u[k].requires_grad()) {
        // J^T u does not depend on u: J is zero here (an op whose derivative is zero, like
        // floor), unless an op's backward is not differentiable — which would make this jvp
        // silently zero. Refuse that case.
        RICCI_CHECK(lazy::detail::recording() || !jt_u[k].ne(0).any().item<bool>(), NotImplementedError,
                    "[jvp] an op in f has a backward that is not differentiable in its incoming gradient, so "
                    "forward mode cannot be formed from it; use vjp instead");
        continue;
      }
      lin_roots.push_back(jt_u[k]);
      lin_seeds.push_back(vs[k]);
    }
    if (!lin_roots.empty()) {
      Tensors jv = autograd::grad(lin_roots, us, lin_seeds, /*retain_graph=*/nested, /*create_graph=*/nested,
                                  /*allow_unused=*/true);
      for (size_t k = 0; k < root_index.size(); ++k) result[root_index[k]] = jv[k];
    }
  }
  for (size_t i = 0; i < outs.size(); ++i)
    if (!result[i].defined() && differentiable(outs[i])) result[i] = zeros_like(outs[i]);
  return {nested ? outs : detached(outs), result};
}

ValueAndGradFn value_and_grad(const TensorFn& f, std::vector<int> argnums) {
  RICCI_CHECK(!argnums.empty(), ValueError,
              "[value_and_grad] argnums is empty; name at least one input to differentiate with respect to");
  return [f, argnums](const Tensors& inputs) -> std::pair<Tensors, Tensors> {
    Tensors selected;
    for (int a : argnums) {
      RICCI_CHECK(a >= 0 && a < static_cast<int>(inputs.size()), IndexError, "[value_and_grad] argnum ", a,
                  " is out of range for a function called with ", inputs.size(), " inputs");
      selected.push_back(inputs[static_cast<size_t>(a)]);
    }
    // Only the inputs in argnums get stand-ins; the others are passed as they are.
    TensorFn g = [&](const Tensors& xs) {
      Tensors full = inputs;
      for (size_t k = 0; k < argnums.size(); ++k) full[static_cast<size_t>(argnums[k])] = xs[k];
      return f(full);
    };
    return pull_back(g, selected, [](const Tensors& outs) {
      RICCI_CHECK(!outs.empty() && outs[0].defined() && outs[0].numel() == 1, ValueError,
                  "[grad] f must return a scalar (a tensor of one element) as its first output, but it returned ",
                  outs.empty() || !outs[0].defined() ? std::string("nothing") : detail::cat("shape ", outs[0].shape()),
                  "; reduce it first (e.g. .sum() or .mean())");
      Tensors cot(outs.size());
      cot[0] = ones_like(outs[0]);
      return cot;
    });
  };
}

TensorFn grad(const TensorFn& f, std::vector<int> argnums) {
  RICCI_CHECK(!argnums.empty(), ValueError, "[grad] argnums is empty; name at least one input to differentiate with respect to");
  return transforms_detail::GradFunctor{f, std::move(argnums)};
}

TreeValueAndGradFn value_and_grad(const TreeFn& f) {
  return [f](const Tree& params, const Tensors& inputs) -> std::pair<Tensors, Tree> {
    // The tree's leaves first, then the other inputs; differentiate with respect to the leaves.
    Tensors all = tree_flatten(params);
    const size_t n = all.size();
    all.insert(all.end(), inputs.begin(), inputs.end());
    std::vector<int> argnums(n);
    for (size_t i = 0; i < n; ++i) argnums[i] = static_cast<int>(i);
    RICCI_CHECK(n > 0, ValueError, "[value_and_grad] the parameter tree has no tensors to differentiate");
    TensorFn flat = [&f, &params, n](const Tensors& xs) {
      return f(tree_unflatten(params, Tensors(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n))),
               Tensors(xs.begin() + static_cast<std::ptrdiff_t>(n), xs.end()));
    };
    auto [values, grads] = value_and_grad(flat, argnums)(all);
    return {values, tree_unflatten(params, grads)};
  };
}

std::function<Tree(const Tree&, const Tensors&)> grad(const TreeFn& f) {
  TreeValueAndGradFn vg = value_and_grad(f);
  return [vg](const Tree& params, const Tensors& inputs) { return vg(params, inputs).second; };
}

std::function<Tensor(const Tensor&)> grad(const std::function<Tensor(const Tensor&)>& f) {
  TensorFn g = grad([f](const Tensors& in) { return Tensors{f(in[0])}; });
  return [g](const Tensor& x) { return g({x})[0]; };
}

Tensor stop_gradient(const Tensor& x) { return x.detach(); }

TensorFn custom_vjp(TensorFn f, CustomVjpFn vjp_fn) {
  return [f, vjp_fn](const Tensors& primals) -> Tensors {
    Tensors outs;
    {
      NoGradGuard no_grad;
      outs = f(primals);
    }
    bool needed = autograd::is_grad_enabled();
    if (needed) {
      needed = false;
      for (const Tensor& p : primals) needed = needed || (p.defined() && p.requires_grad());
    }
    if (!needed) return outs;
    std::vector<const Tensor*> ins, saved_ins, saved_outs;
    std::vector<Tensor*> out_ptrs;
    for (const Tensor& p : primals) {
      ins.push_back(&p);
      saved_ins.push_back(&p);
    }
    for (Tensor& o : outs) {
      // An output that is an input (or a view of one) would take the input's history away.
      if (o.defined()) o = o.clone();
      out_ptrs.push_back(&o);
      saved_outs.push_back(&o);
    }
    const size_t n_in = primals.size();
    autograd::record("CustomVjpBackward", ins, out_ptrs, saved_ins, saved_outs, [vjp_fn, n_in](const autograd::VjpArgs& a) {
      const Tensors ps(a.saved.begin(), a.saved.begin() + static_cast<std::ptrdiff_t>(n_in));
      const Tensors os(a.saved.begin() + static_cast<std::ptrdiff_t>(n_in), a.saved.end());
      Tensors g = vjp_fn(ps, os, a.grads);
      RICCI_CHECK(g.size() == n_in, ValueError, "[custom_vjp] the vjp function returned ", g.size(),
                  " cotangents for ", n_in, " primals; return one per primal (undefined for none)");
      return g;
    });
    return outs;
  };
}

TensorFn checkpoint(TensorFn f) {
  return custom_vjp(f, [f](const Tensors& primals, const Tensors&, const Tensors& cotangents) {
    Tensors ps;
    for (const Tensor& p : primals) ps.push_back(p.defined() ? p.detach() : p);
    return vjp(f, ps, cotangents).second;  // the forward again, this time recorded
  });
}

namespace {

// One row (jacrev) or column (jacfwd) per element of the output (input): the unit tensors.
Tensor unit(const Tensor& like, int64_t k) {
  Tensor e = zeros(like.shape(), TensorOptions(like.dtype(), like.device()));
  e.view({-1}).select(0, k).fill_(1);
  return e;
}

void check_argnum(const char* op, int argnum, const Tensors& inputs) {
  RICCI_CHECK(argnum >= 0 && argnum < static_cast<int>(inputs.size()), IndexError, "[", op, "] argnum ", argnum,
              " is out of range for a function called with ", inputs.size(), " inputs");
  RICCI_CHECK(differentiable(inputs[static_cast<size_t>(argnum)]), DTypeError, "[", op, "] input ", argnum,
              " must be a floating-point tensor to differentiate with respect to");
}

// f as a function of input argnum alone, first output only.
TensorFn of_one(const TensorFn& f, const Tensors& inputs, int argnum) {
  return [f, inputs, argnum](const Tensors& x) {
    Tensors full = inputs;
    full[static_cast<size_t>(argnum)] = x[0];
    return Tensors{f(full).at(0)};
  };
}

Dims concat_shapes(IntArrayRef a, IntArrayRef b) {
  Dims r(a);
  for (int64_t d : b) r.push_back(d);
  return r;
}

}  // namespace

TensorFn jacrev(const TensorFn& f, int argnum) {
  return [f, argnum](const Tensors& inputs) {
    check_argnum("jacrev", argnum, inputs);
    const Tensor& x = inputs[static_cast<size_t>(argnum)];
    const TensorFn g = of_one(f, inputs, argnum);
    const Tensor y = g({x.detach()})[0];
    Tensors rows;
    for (int64_t k = 0; k < y.numel(); ++k) rows.push_back(vjp(g, {x}, {unit(y, k)}).second[0]);
    if (rows.empty()) return Tensors{zeros(concat_shapes(y.shape(), x.shape()), TensorOptions(x.dtype(), x.device()))};
    return Tensors{stack(rows, 0).reshape(concat_shapes(y.shape(), x.shape()))};
  };
}

TensorFn jacfwd(const TensorFn& f, int argnum) {
  return [f, argnum](const Tensors& inputs) {
    check_argnum("jacfwd", argnum, inputs);
    const Tensor& x = inputs[static_cast<size_t>(argnum)];
    const TensorFn g = of_one(f, inputs, argnum);
    Tensors cols;
    Tensor y;
    for (int64_t k = 0; k < x.numel(); ++k) {
      auto [outs, tangents] = jvp(g, {x}, {unit(x, k)});
      y = outs[0];
      cols.push_back(tangents[0]);
    }
    if (cols.empty()) {
      y = g({x.detach()})[0];
      return Tensors{zeros(concat_shapes(y.shape(), x.shape()), TensorOptions(x.dtype(), x.device()))};
    }
    // cols[k] has y's shape; the Jacobian puts the input's index last.
    const int64_t ny = y.dim();
    Tensor j = stack(cols, -1).reshape(concat_shapes(y.shape(), x.shape()));
    (void)ny;
    return Tensors{j};
  };
}

TensorFn hessian(const TensorFn& f, int argnum) {
  return [f, argnum](const Tensors& inputs) {
    check_argnum("hessian", argnum, inputs);
    const TensorFn g = of_one(f, inputs, argnum);
    return jacfwd(grad(g), 0)({inputs[static_cast<size_t>(argnum)]});
  };
}

}  // namespace ricci
