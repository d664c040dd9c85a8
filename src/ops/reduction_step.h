#pragma once
// A reduction primitive read back as (kind, dims, keepdim), for compile's fused kernels, which
// fold an elementwise run into the reduction that reads it (src/compile/fused_kernel.cpp).
#include <optional>

#include "ricci/primitive.h"

namespace ricci::reduce_detail {

struct ReductionStep {
  enum class Kind { Sum, Mean, Max, Min } kind;
  Dims dims;  // as given to the op (empty: every dim)
  bool keepdim = false;
};

// sum (without a dtype), mean, amax and amin; nullopt for every other primitive.
std::optional<ReductionStep> reduction_step(const Primitive& prim);

}  // namespace ricci::reduce_detail
