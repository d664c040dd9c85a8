#pragma once
// An elementwise primitive read back as (op code, parameters, eager kernel), for compile's fused
// kernels (src/compile/fused_kernel.cpp): they run the op on chunks with the op's own vector loop
// or, for ops without one, its own kernel, so fused and eager results agree.
#include <optional>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/primitive.h"

namespace ricci::ew {

struct ElementwiseStep {
  int arity = 1;                    // 1: unary (uop, up); 2: binary (bop, alpha, sa/sb)
  UnaryOp uop{};
  UnaryParams up{};
  BinaryOp bop{};
  Scalar alpha = 1;
  std::optional<Scalar> sa, sb;     // a scalar operand stands where the primitive has no tensor
  kernels::OpId kernel = 0;         // the eager kernel (keyed by the compute dtype)
};

// The step of a unary or binary floating-point primitive whose result has its input's dtype
// (no bool results, no forced dtype, no bit operations); nullopt for every other primitive.
std::optional<ElementwiseStep> unary_step(const Primitive& prim);
std::optional<ElementwiseStep> binary_step(const Primitive& prim);
inline std::optional<ElementwiseStep> elementwise_step(const Primitive& prim) {
  if (auto s = unary_step(prim)) return s;
  return binary_step(prim);
}

}  // namespace ricci::ew
