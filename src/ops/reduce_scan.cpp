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

// d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i. Without zeros that is out_j / x_i (one
// reverse cumsum). A zero breaks the division (0/0), so then the products are formed outright:
// row i of an [n, n] stack is x with x_i replaced by 1, whose cumprod holds every
// prod_{k <= j, k != i} x_k (O(n^2) memory, only on inputs with zeros).
Tensor cumprod_backward(const Tensor& g, const Tensor& x, const Tensor& out, int64_t d) {
  if (x.dim() == 0) return g;  // the identity
  bool has_zero;
  {
    NoGradGuard no_grad;
    has_zero = x.numel() > 0 && any(eq(x, Scalar(0))).item<bool>();
  }
  if (!has_zero) return reverse_cumsum(g * out, d) / x;
  const int64_t n = x.size(d);
  const Tensor pos = arange(n, TensorOptions(int64, x.device()));
  const Tensor row = pos.unsqueeze(1), col = pos.unsqueeze(0);
  const Tensor xt = x.transpose(d, -1);                                    // [..., n]
  const Tensor others = cumprod(where(eq(row, col), Scalar(1), xt.unsqueeze(-2)), -1);  // [..., i, j]
  const Tensor gt = g.transpose(d, -1).unsqueeze(-2);                      // [..., 1, j]
  const int64_t last[1] = {-1};
  return where(le(row, col), others * gt, Scalar(0)).sum(IntArrayRef(last, 1)).transpose(d, -1);
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
    autograd::record("CumprodBackward0", {&x}, {&out}, {&x}, {&out}, [d](const VjpArgs& a) {
      return Tensors{cumprod_backward(a.grads[0], a.saved[0], a.saved[1], d)};
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
