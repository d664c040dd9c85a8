#pragma once
// Helpers the core and the ops share but users do not see.
#include "ricci/tensor.h"

namespace ricci {

// A new handle over `storage` with the given layout (no data touched).
Tensor make_tensor(StoragePtr storage, DType dtype, Dims sizes, Dims strides, int64_t offset);
// nbytes of fresh storage on `device` (a placeholder while a lazy op's shapes are inferred).
StoragePtr new_storage(size_t nbytes, Device device);
// A view of `base` with another layout, marked as a view for autograd.
Tensor make_view(const Tensor& base, Dims sizes, Dims strides, int64_t offset);
// Kernel signatures of the core ops (see backend/kernel_table.h).
using CopyKernel = void (*)(const Tensor& dst, const Tensor& src);  // same shape; keyed by src dtype
using FillKernel = void (*)(const Tensor& dst, const Scalar& value);  // keyed by dst dtype
// dst += src elementwise, in order (correct for overlapping dst views); keyed by dtype. CPU only.
using AccumulateKernel = void (*)(const Tensor& dst, const Tensor& src);
// Raw copy without autograd, version bumps or checks: dst and src have the same shape.
void copy_kernel(const Tensor& dst, const Tensor& src);
void fill_kernel(const Tensor& dst, const Scalar& value);
// The gradient of a view: a zero tensor of `base_sizes` into whose view (made by `view_fn`) the
// gradient is added (overlapping views accumulate). Differentiable: its vjp is view_fn itself.
Tensor view_backward(const Tensor& grad, IntArrayRef base_sizes, const std::function<Tensor(const Tensor&)>& view_fn);
// The gradient of as_strided: `grad` (of the view with sizes/strides/offset) laid into zeros of
// the base's geometry (src/core/views.cpp).
Tensor strided_view_backward(const Tensor& grad, const Dims& base_sizes, const Dims& base_strides, int64_t base_offset,
                             const Dims& sizes, const Dims& strides, int64_t offset);
// Refuses (ValueError, PyTorch's wording) an in-place write into a tensor whose elements overlap:
// stride 0 over a dim of size > 1 (an expanded tensor) would be written several times per element,
// and from several threads at once. `op` names the op in the message.
void check_no_internal_overlap(const Tensor& self, const char* op);
// Sums `grad` down to `sizes` (the inverse of broadcasting).
Tensor sum_to(const Tensor& grad, IntArrayRef sizes);

}  // namespace ricci
