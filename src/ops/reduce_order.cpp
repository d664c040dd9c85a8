// Order statistics (median, kthvalue) and count_nonzero. The reduced dim is moved last and made
// contiguous, so the "kthvalue" kernel (backend/cpu/select_kernels.cpp) sees [rows, n]; it selects
// in O(n) per row (quickselect for kthvalue, nth_element for median), no sort.
#include <cmath>
#include <functional>
#include <limits>
#include <tuple>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/index.h"
#include "ricci/ops/reduce.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// The kernel for x's dtype; bool has none (nor has PyTorch).
kernels::KthvalueKernel kthvalue_kernel(const Tensor& x, const char* op) {
  RICCI_CHECK(x.dtype() != DType::Bool, NotImplementedError, "[", op, "] \"", op,
              "\" not implemented for bool; convert with .to(uint8) or .to(int64) first");
  static const auto id = kernels::op_id("kthvalue");
  return kernels::kernel_table().get<kernels::KthvalueKernel>(id, x.device(), x.dtype());
}

// Runs the kernel on x's rows along dim d (x.dim() > 0) and returns (values, indices) in the keepdim
// shape: size 1 at d.
std::tuple<Tensor, Tensor> select_rows(const char* op, const Tensor& x, int64_t d, int64_t k, bool nan_first) {
  const auto kernel = kthvalue_kernel(x, op);
  NoGradGuard no_grad;
  const Tensor moved = x.detach().transpose(d, -1).contiguous();
  const int64_t n = moved.size(-1);
  const int64_t rows = n == 0 ? 0 : moved.numel() / n;
  Dims kept(moved.shape());
  kept.back() = 1;
  Tensor v = empty_tensor({rows}, x.dtype(), x.device());
  Tensor i = empty_tensor({rows}, int64, x.device());
  if (rows > 0) kernel(v, i, moved.view({rows, n}), k, nan_first);
  return {v.view(kept).transpose(d, -1).contiguous(), i.view(kept).transpose(d, -1).contiguous()};
}

// kthvalue and median along a dim: k is 0-based here.
std::tuple<Tensor, Tensor> select_along(const char* op, const char* node, const Tensor& x, int64_t dim, bool keepdim,
                                        const std::function<int64_t(int64_t)>& k_of_n, bool nan_first) {
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  RICCI_CHECK(n > 0, IndexError, "[", op, "] ", op, "(): Expected reduction dim ", d,
              " to have non-zero size. (input shape ", x.shape(), "; choose dims of non-zero size)");
  const int64_t k = k_of_n(n);
  Tensor values, indices;
  if (x.dim() == 0) {
    (void)kthvalue_kernel(x, op);  // the dtype check
    NoGradGuard no_grad;
    values = x.detach().clone();
    indices = zeros({}, TensorOptions(int64, x.device()));
  } else {
    std::tie(values, indices) = select_rows(op, x, d, k, nan_first);
    if (!keepdim) {
      values = values.squeeze(d);
      indices = indices.squeeze(d);
    }
  }
  if (x.is_floating_point() && autograd::needs_grad(x)) {
    autograd::record(node, {&x}, {&values, &indices}, {&indices}, {},
                     [d, keepdim, sizes = Dims(x.shape())](const VjpArgs& a) {
                       if (sizes.empty()) return Tensors{a.grads[0]};
                       const Tensor g = keepdim ? a.grads[0] : a.grads[0].unsqueeze(d);
                       const Tensor idx = keepdim ? a.saved[0] : a.saved[0].unsqueeze(d);
                       const Tensor z = zeros(sizes, TensorOptions(g.dtype(), g.device()));
                       return Tensors{scatter(z, d, idx, g)};
                     });
  }
  return {values, indices};
}

}  // namespace

Tensor median(const Tensor& x) {
  check_defined(x, "median");
  (void)kthvalue_kernel(x, "median");  // the dtype check, empty inputs included
  Tensor out;
  {
    NoGradGuard no_grad;
    const int64_t n = x.numel();
    if (n == 0) {
      // PyTorch answers NaN for an empty input, converted to the input's dtype: what x86 makes of
      // a NaN cast to int64/int32 (the lowest value), 0 for the narrower integers.
      Scalar nan_as = 0;
      if (x.is_floating_point()) nan_as = std::numeric_limits<double>::quiet_NaN();
      else if (x.dtype() == int64) nan_as = std::numeric_limits<int64_t>::min();
      else if (x.dtype() == int32) nan_as = static_cast<int64_t>(std::numeric_limits<int32_t>::min());
      out = full({}, nan_as, TensorOptions(x.dtype(), x.device()));
    } else {
      out = std::get<0>(select_rows("median", x.detach().reshape({1, n}), 1, (n - 1) / 2, /*nan_first=*/true)).reshape({});
    }
  }
  if (x.is_floating_point() && autograd::needs_grad(x)) {
    // PyTorch's evenly_distribute_backward: the gradient is split among the elements equal to the
    // median (the NaNs when it is NaN); the mask is a constant.
    autograd::record("MedianBackward0", {&x}, {&out}, {&x}, {&out}, [](const VjpArgs& a) {
      Tensor mask;
      {
        NoGradGuard no_grad;
        const Tensor& xs = a.saved[0];
        const Tensor& r = a.saved[1];
        mask = (std::isnan(r.item<double>()) ? xs.isnan() : eq(xs, r)).to(a.grads[0].dtype());
      }
      return Tensors{mask * (a.grads[0] / mask.sum())};
    });
  }
  return out;
}

std::tuple<Tensor, Tensor> median(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, "median");
  return select_along("median", "MedianBackward1", x, dim, keepdim, [](int64_t n) { return (n - 1) / 2; }, true);
}

std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int64_t dim, bool keepdim) {
  check_defined(x, "kthvalue");
  const int64_t d = wrap_dim(dim, x.dim(), "kthvalue");
  return select_along(
      "kthvalue", "KthvalueBackward0", x, dim, keepdim,
      [k, d](int64_t n) {
        RICCI_CHECK(k >= 1 && k <= n, IndexError, "[kthvalue] kthvalue(): selected number k out of range for dimension ",
                    d, " (k = ", k, ", but the dim has size ", n, "; k counts from 1)");
        return k - 1;
      },
      false);
}

Tensor count_nonzero(const Tensor& x, IntArrayRef dims) {
  check_defined(x, "count_nonzero");
  // ne gives bool, whose sum is int64: NaN != 0, so NaN counts.
  return sum(ne(x, Scalar(0)), dims);
}

Tensor count_nonzero(const Tensor& x, int64_t dim) {
  const int64_t d[1] = {dim};
  return count_nonzero(x, IntArrayRef(d, 1));
}

// ---- Tensor methods -------------------------------------------------------------------------------
Tensor Tensor::median() const { return ricci::median(*this); }
std::tuple<Tensor, Tensor> Tensor::median(int64_t dim, bool keepdim) const { return ricci::median(*this, dim, keepdim); }
std::tuple<Tensor, Tensor> Tensor::kthvalue(int64_t k, int64_t dim, bool keepdim) const {
  return ricci::kthvalue(*this, k, dim, keepdim);
}
Tensor Tensor::count_nonzero(IntArrayRef dims) const { return ricci::count_nonzero(*this, dims); }
Tensor Tensor::count_nonzero(int64_t dim) const { return ricci::count_nonzero(*this, dim); }

}  // namespace ricci
