// The functional face of the optimizers (MLX's opt.update(model, grads) and opt.state).
#include "ricci/error.h"
#include "ricci/optim.h"

namespace ricci::optim {

void Optimizer::update(nn::Module& model, const Tree& grads) {
  // The optimizer steps the parameters it was built over; the tree names them by path.
  std::vector<std::pair<Tensor, Tensor>> previous;  // parameter, its .grad before
  for (const auto& [path, g] : tree_flatten_named(grads)) {
    Tensor p = model.parameter(path);
    bool known = false;
    for (const ParamGroup& group : param_groups())
      for (const Tensor& q : group.params) known = known || q.is_same(p);
    RICCI_CHECK(known, ValueError, "[update] parameter \"", path, "\" of ", model.type_name(), " is not one of this ",
                type_name(), "'s parameters; build the optimizer over model.parameters()");
    RICCI_CHECK(!g.defined() || g.shape() == p.shape(), ShapeError, "[update] the gradient for \"", path,
                "\" has shape ", g.shape(), " but the parameter has shape ", p.shape());
    previous.emplace_back(p, p.grad());
  }
  for (auto& [p, old] : previous) p.set_grad(Tensor());
  {
    size_t i = 0;
    for (const auto& [path, g] : tree_flatten_named(grads)) {
      // Laid out as backward() leaves .grad (contiguous), so the step's kernels take the same
      // path and update() matches step() bit for bit.
      if (g.defined()) previous[i].first.set_grad(g.is_contiguous() ? g.detach() : g.detach().contiguous());
      ++i;
    }
  }
  try {
    step();
  } catch (...) {
    for (auto& [p, old] : previous) p.set_grad(old);
    throw;
  }
  for (auto& [p, old] : previous) p.set_grad(old);
}

Tree Optimizer::state_tree() const {
  const OptimizerStateDict sd = state_dict();
  Tree::Dict d;
  for (const auto& [index, tensors] : sd.state) {
    Tree::Dict entry;
    for (const auto& [name, t] : tensors) entry.emplace_back(name, Tree(t));
    d.emplace_back(std::to_string(index), Tree(std::move(entry)));
  }
  return Tree(std::move(d));
}

}  // namespace ricci::optim
