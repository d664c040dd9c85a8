// Gradients of views and of broadcasting, shared by the view ops and the elementwise ops.
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"

namespace ricci {

namespace {
void accumulate_into(const Tensor& dst, const Tensor& src) {
  kernels::kernel_table().get<AccumulateKernel>(kernels::op_id("accumulate"), dst.device(), dst.dtype())(dst, src);
}
}  // namespace

Tensor view_backward(const Tensor& grad, IntArrayRef base_sizes, const std::function<Tensor(const Tensor&)>& view_fn) {
  Tensor out = zeros(base_sizes, TensorOptions(grad.dtype(), grad.device()));
  {
    NoGradGuard no_grad;
    Tensor g = grad.detach();
    accumulate_into(view_fn(out), g);
  }
  if (autograd::needs_grad(grad)) {
    autograd::record("ViewScatterBackward0", {&grad}, {&out}, {}, {},
                     [view_fn](const autograd::VjpArgs& a) { return autograd::Tensors{view_fn(a.grads[0])}; });
  }
  return out;
}

Tensor sum_to(const Tensor& grad, IntArrayRef sizes) {
  if (grad.shape() == sizes) return grad;
  // Dims that broadcasting added or stretched: sum them away.
  const int64_t lead = grad.dim() - static_cast<int64_t>(sizes.size());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < grad.dim(); ++i) {
    if (i < lead || (sizes[i - lead] == 1 && grad.shape()[i] != 1)) dims.push_back(i);
  }
  Tensor summed = dims.empty() ? grad : grad.sum(dims, /*keepdim=*/true);
  if (lead > 0) summed = summed.reshape(sizes);
  return summed;
}

}  // namespace ricci
