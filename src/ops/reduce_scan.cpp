// cumsum and cumprod: validation, kernel call and derivative.
#include "core/tensor_internal.h"
#include "ops/reduce_common.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/reduce.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

Tensor scan_raw(const char* op, const Tensor& x, int64_t dim, bool reverse) {
  const Tensor xc = x.contiguous();
  const DType out_dtype = x.is_floating_point() ? x.dtype() : int64;
  Tensor out = empty_tensor(x.shape(), out_dtype, x.device());
  kernels::kernel_table().get<kernels::ScanKernel>(kernels::op_id(op), x.device(), x.dtype())(out, xc, dim, reverse);
  return out;
}

// Sums from each position to the end along dim: the gradient of cumsum. Its own gradient is a
// forward cumsum, so the rule stays differentiable.
Tensor reverse_cumsum(const Tensor& g, int64_t dim) {
  Tensor out = scan_raw("cumsum", g, dim, /*reverse=*/true);
  if (autograd::needs_grad(g)) {
    autograd::record("CumsumBackward0", {&g}, {&out}, {}, {}, [dim](const VjpArgs& a) { return Tensors{cumsum(a.grads[0], dim)}; });
  }
  return out;
}

Tensor scan_impl(const char* op, const Tensor& x0, int64_t dim, std::optional<DType> dtype) {
  check_defined(x0, op);
  const int64_t d = wrap_dim(dim, x0.dim(), op);  // 0 for a 0-d tensor
  const Tensor x = dtype && *dtype != x0.dtype() ? x0.to(*dtype) : x0;
  Tensor out = scan_raw(op, x, d, false);
  if (dtype && out.dtype() != *dtype) out = out.to(*dtype);
  if (!out.is_floating_point() || !autograd::needs_grad(x)) return out;
  if (op[3] == 's') {  // cumsum
    autograd::record("CumsumBackward0", {&x}, {&out}, {}, {}, [d](const VjpArgs& a) { return Tensors{reverse_cumsum(a.grads[0], d)}; });
  } else {
    // d out_j / d x_i = out_j / x_i for j >= i (inputs without zeros).
    autograd::record("CumprodBackward0", {&x}, {&out}, {&x}, {&out}, [d](const VjpArgs& a) {
      return Tensors{reverse_cumsum(a.grads[0] * a.saved[1], d) / a.saved[0]};
    });
  }
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return scan_impl("cumsum", x, dim, dtype); }
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return scan_impl("cumprod", x, dim, dtype); }
Tensor Tensor::cumsum(int64_t dim) const { return ricci::cumsum(*this, dim); }
Tensor Tensor::cumprod(int64_t dim) const { return ricci::cumprod(*this, dim); }

}  // namespace ricci
