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
  int arity = 1;                    // 1: unary (uop, up); 2: binary (bop, alpha, sa/sb);
                                    // 3: where(cond, a or sa, b or sb)
  UnaryOp uop{};
  UnaryParams up{};
  BinaryOp bop{};
  Scalar alpha = 1;
  std::optional<Scalar> sa, sb;     // a scalar operand stands where the primitive has no tensor
  kernels::OpId kernel = 0;         // the eager kernel (keyed by the compute dtype)

  // Comparisons and logical ops: a bool result, computed by the fused kernel itself.
  bool is_predicate() const { return arity == 2 && bop >= BinaryOp::Eq; }
  // Ops the fused kernel runs through their vector loop or eager kernel.
  bool uses_kernel() const { return arity == 1 || (arity == 2 && !is_predicate()); }
};

// The step of a unary primitive (no bool results, no forced dtype), a binary one (no bit
// operations) or `where`; nullopt for every other primitive. Whether the dtypes suit a fused
// kernel is the kernel's to check.
std::optional<ElementwiseStep> unary_step(const Primitive& prim);
std::optional<ElementwiseStep> binary_step(const Primitive& prim);
std::optional<ElementwiseStep> where_step(const Primitive& prim);
// The primitives the ops record, made directly, for compile's rewrites (Note [1 + tanh] in
// src/compile/compile.cpp): `op(x)` with default parameters, and `x op b` for a scalar b (`name`:
// the op's name, "mul", as its entry point records it).
PrimitivePtr unary_primitive(UnaryOp op);
PrimitivePtr scalar_binary_primitive(BinaryOp op, const char* name, const Scalar& b);
inline std::optional<ElementwiseStep> elementwise_step(const Primitive& prim) {
  if (auto s = unary_step(prim)) return s;
  if (auto s = binary_step(prim)) return s;
  return where_step(prim);
}

}  // namespace ricci::ew
