#pragma once
// Helpers shared by the nn functional files.
#include "ricci/autograd.h"
#include "ricci/tensor.h"

namespace ricci::nn::functional::internal {

// Kernel operands: contiguous, and made without recording a graph node.
inline Tensor contiguous_nograd(const Tensor& t) {
  if (!t.defined() || t.is_contiguous()) return t;
  NoGradGuard g;
  return t.contiguous();
}

}  // namespace ricci::nn::functional::internal
