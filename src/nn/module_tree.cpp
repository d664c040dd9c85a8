// Module parameters as trees, and the functional update (MLX's model.update(params)).
#include "ricci/error.h"
#include "ricci/autograd.h"
#include "ricci/nn/module.h"

namespace ricci::nn {

namespace {

Tree params_of(const Module& m, bool trainable_only) {
  Tree::Dict d;
  for (const auto& [name, p] : m.named_parameters(/*recurse=*/false))
    if (!trainable_only || p.requires_grad()) d.emplace_back(name, Tree(p));
  for (const auto& [name, child] : m.named_children()) d.emplace_back(name, params_of(*child, trainable_only));
  return Tree(std::move(d));
}

}  // namespace

Tree Module::parameter_tree() const { return params_of(*this, false); }
Tree Module::trainable_parameters() const { return params_of(*this, true); }

Module& Module::update(const Tree& params) {
  for (const auto& [path, value] : tree_flatten_named(params)) {
    Tensor p = parameter(path);
    RICCI_CHECK(value.defined(), ValueError, "[update] the value for \"", path, "\" is undefined");
    RICCI_CHECK(value.shape() == p.shape(), ShapeError, "[update] \"", path, "\" has shape ", p.shape(),
                " but the new value has shape ", value.shape(), "; give a tensor of the parameter's shape");
    NoGradGuard no_grad;
    p.copy_(value.detach());
  }
  return *this;
}

}  // namespace ricci::nn
