#pragma once
// What grad(f, argnums) returns: a callable vmap can recognise, so that vmap(grad(f)) batches the
// whole gradient computation instead of running it once per example (src/transforms/vmap.cpp).
#include <vector>

#include "ricci/transforms.h"

namespace ricci::transforms_detail {

struct GradFunctor {
  TensorFn f;
  std::vector<int> argnums;
  Tensors operator()(const Tensors& inputs) const { return value_and_grad(f, argnums)(inputs).second; }
};

}  // namespace ricci::transforms_detail
