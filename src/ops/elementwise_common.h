#pragma once
// What the elementwise op files share: operands that may be C++ scalars, PyTorch's result_type,
// preparing inputs (cast + expand), kernel lookup and reducing a gradient to an input.
#include <optional>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/ops/elementwise.h"

namespace ricci::ew {

// An op argument: a tensor, or a C++ scalar (which only decides the category of the result).
struct Operand {
  const Tensor* t = nullptr;
  const Scalar* s = nullptr;
  Operand(const Tensor& x) : t(&x) {}
  Operand(const Scalar& x) : s(&x) {}
};

DType result_type(std::initializer_list<Operand> ops);

// The dtype a float-only function computes in for an input of dtype t (float32 for non-floats).
inline DType float_dtype(DType t) { return is_floating_point(t) ? t : DType::Float32; }

// "Float", "Long", ... : PyTorch's spelling in cast errors.
const char* torch_type_name(DType t);

// Tensor operands: cast to `dtype`, expand to `shape`, detached. Scalar operands: a 0-d tensor of
// `dtype` expanded to `shape`.
Tensor prepare(const Operand& op, DType dtype, IntArrayRef shape, Device device);
Device device_of(std::initializer_list<Operand> ops, const char* name);
Dims broadcast_all(std::initializer_list<Operand> ops, const char* name);

// Kernel lookups, cached per op name by the callers in a function-local static OpId.
inline UnaryKernel unary_kernel(kernels::OpId id, Device dev, DType t) {
  return kernels::kernel_table().get<UnaryKernel>(id, dev, t);
}
inline BinaryKernel binary_kernel(kernels::OpId id, Device dev, DType t) {
  return kernels::kernel_table().get<BinaryKernel>(id, dev, t);
}
inline TernaryKernel ternary_kernel(kernels::OpId id, Device dev, DType t) {
  return kernels::kernel_table().get<TernaryKernel>(id, dev, t);
}

// A gradient reduced to an input: summed over the broadcast dims, in the input's dtype.
inline Tensor reduce_grad(const Tensor& g, const Dims& sizes, DType dtype) {
  Tensor r = sum_to(g, sizes);
  return r.dtype() == dtype ? r : r.to(dtype);
}

// Checks shared by every in-place op: self is defined, writable, not broadcast, and the result
// dtype casts to it.
void check_inplace_target(const Tensor& self, IntArrayRef broadcast_shape, DType result, const char* name);
bool can_cast(DType from, DType to);

// Runs a binary op (by op code) without autograd into a new tensor; the building block of the
// public ops. out_dtype: where the result goes; compute: the kernels' dtype.
Tensor binary_forward(BinaryOp op, kernels::OpId id, const Operand& a, const Operand& b, DType compute,
                      DType out_dtype, const Dims& shape, Device dev, const Scalar& alpha);

// scalar - tensor and scalar / tensor (the scalar on the left, exact like PyTorch's rsub/rdiv).
Tensor rsub(const Scalar& a, const Tensor& b);
Tensor rdiv(const Scalar& a, const Tensor& b);

}  // namespace ricci::ew
