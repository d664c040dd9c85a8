// The parts of a primitive every op shares: shape inference by a meta run of its own eager code,
// the vjp through the eager autograd rule, and the error a missing transform rule gives.
#include "ricci/primitive.h"

#include "lazy/meta_scope.h"
#include "ricci/error.h"
#include "ricci/transforms.h"

namespace ricci {

std::vector<OutputSpec> Primitive::infer(const Tensors& inputs) const {
  Tensors outs;
  try {
    lazy::MetaScope meta;
    outs = eval(inputs);
  } catch (const lazy::detail::NeedsValue&) {
    throw ValueError(detail::cat("[", name(), "] the output's shape depends on the input's values, so it cannot "
                                    "be inferred without computing them; evaluate the inputs first"));
  }
  std::vector<OutputSpec> specs;
  specs.reserve(outs.size());
  for (const Tensor& t : outs) specs.push_back({Dims(t.shape()), t.dtype(), t.device()});
  return specs;
}

Tensors Primitive::vjp(const Tensors& inputs, const Tensors& cotangents) const {
  // The eager rule, on a graph of its own: fresh leaves stand for the inputs that can carry a
  // gradient, the op runs once with grad on, and autograd pulls the cotangents back.
  const bool create_graph = autograd::is_grad_enabled();
  lazy::detail::Suspend eager;
  autograd::EnableGradGuard grad_on;
  Tensors leaves(inputs.size());
  Tensors wrt;
  std::vector<size_t> wrt_index;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !is_floating_point(x.dtype())) {
      leaves[i] = x;
      continue;
    }
    // Under grad mode the cotangents stay connected to the inputs' own history (an alias of a
    // tensor that requires grad), so the vjp can be differentiated again.
    leaves[i] = create_graph && x.requires_grad() ? x.view(x.shape()) : x.detach().requires_grad_(true);
    wrt.push_back(leaves[i]);
    wrt_index.push_back(i);
  }
  Tensors outs = eval(leaves);
  RICCI_CHECK(cotangents.size() == outs.size(), ValueError, "[", name(), "] vjp got ", cotangents.size(),
              " cotangents for ", outs.size(), " outputs");
  Tensors roots, seeds;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!cotangents[i].defined() || !outs[i].defined() || !outs[i].requires_grad()) continue;
    roots.push_back(outs[i]);
    seeds.push_back(cotangents[i]);
  }
  Tensors result(inputs.size());
  if (roots.empty() || wrt.empty()) return result;
  Tensors g = autograd::grad(roots, wrt, seeds, create_graph, create_graph, /*allow_unused=*/true);
  for (size_t k = 0; k < wrt_index.size(); ++k) result[wrt_index[k]] = g[k];
  return result;
}

Tensors Primitive::jvp(const Tensors& inputs, const Tensors& tangents) const {
  return ricci::jvp([this](const Tensors& in) { return eval(in); }, inputs, tangents).second;
}

}  // namespace ricci
