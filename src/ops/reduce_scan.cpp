// The scans: cumsum, cumprod, logcumsumexp, cummax and cummin: validation, kernel call and
// derivative. Kernels in backend/cpu/reduce_scan_kernels.cpp.
#include <limits>

#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "ops/reduce_common.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/index.h"
#include "ricci/ops/reduce.h"
#include "ricci/ops/shape.h"

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
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(op, [](const Tensors& in, const char* o, int64_t d, std::optional<DType> t) {
      return scan_impl(o, in[0], d, t); }, {x0}, op, dim, dtype);
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

// The most negative finite value of a floating dtype (PyTorch's numeric_limits::lowest()).
double lowest_finite(DType t) {
  switch (t) {
    case DType::Float16: return -65504.0;
    case DType::BFloat16: return -3.3895313892515355e38;
    case DType::Float32: return static_cast<double>(std::numeric_limits<float>::lowest());
    default: return std::numeric_limits<double>::lowest();
  }
}

// d out_j / d x_i = exp(x_i - out_j) for j >= i, so grad_i = sum_{j >= i} g_j exp(x_i - out_j).
// Summed in log space to stay finite (PyTorch's rule, after TensorFlow): the positive and the
// negative parts of g separately, each a reverse logcumsumexp of log|g_j| - out_j. Written in
// differentiable ops (flip, logcumsumexp, where, exp), so it has a gradient of its own.
Tensor logcumsumexp_backward(const Tensor& g, const Tensor& x, const Tensor& out, int64_t d) {
  if (x.dim() == 0 || x.numel() == 0) return g;
  const Scalar lowest(lowest_finite(g.dtype()));
  const int64_t dims[1] = {d};
  auto reverse_lcse = [d, &dims](const Tensor& t) { return flip(logcumsumexp(flip(t, dims), d), dims); };
  const Tensor log_abs = g.abs().log();
  const Tensor log_pos = where(gt(g, Scalar(0)), log_abs, lowest);
  const Tensor log_neg = where(lt(g, Scalar(0)), log_abs, lowest);
  return (reverse_lcse(log_pos - out) + x).exp() - (reverse_lcse(log_neg - out) + x).exp();
}

std::tuple<Tensor, Tensor> cum_extremum(const Tensor& x, int64_t dim, bool is_max) {
  if (lazy::recording()) [[unlikely]] {
    Tensors r = lazy::record_n(is_max ? "cummax" : "cummin", [](const Tensors& in, int64_t d, bool mx) {
      auto [v, i] = cum_extremum(in[0], d, mx);
      return Tensors{v, i}; }, {x}, dim, is_max);
    return {r[0], r[1]};
  }
  const char* op = is_max ? "cummax" : "cummin";
  check_defined(x, op);
  const int64_t d = wrap_dim(dim, x.dim(), op);
  Tensor values = empty_tensor(x.shape(), x.dtype(), x.device());
  Tensor indices = empty_tensor(x.shape(), int64, x.device());
  {
    NoGradGuard no_grad;
    static const auto id = kernels::op_id("cum_extremum");
    kernels::kernel_table().get<kernels::CumExtremumKernel>(id, x.device(), x.dtype())(values, indices,
                                                                                       x.detach().contiguous(), d, is_max);
  }
  if (x.is_floating_point() && autograd::needs_grad(x)) {
    // Each output's gradient goes to the element its index names; one element can be the running
    // extremum of many outputs, so the gradients add up (scatter_add, differentiable in g).
    autograd::record(is_max ? "CummaxBackward0" : "CumminBackward0", {&x}, {&values, &indices}, {&indices}, {},
                     [d, sizes = Dims(x.shape())](const VjpArgs& a) {
                       if (sizes.empty()) return Tensors{a.grads[0]};
                       const Tensor z = zeros(sizes, TensorOptions(a.grads[0].dtype(), a.grads[0].device()));
                       return Tensors{scatter_add(z, d, a.saved[0], a.grads[0])};
                     });
  }
  return {values, indices};
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return scan_impl("cumsum", x, dim, dtype); }
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return scan_impl("cumprod", x, dim, dtype); }

Tensor logcumsumexp(const Tensor& x, int64_t dim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("logcumsumexp", [](const Tensors& in, int64_t d) { return logcumsumexp(in[0], d); }, {x}, dim);
  check_defined(x, "logcumsumexp");
  const int64_t d = wrap_dim(dim, x.dim(), "logcumsumexp");
  RICCI_CHECK(x.is_floating_point(), NotImplementedError, "[logcumsumexp] \"logcumsumexp\" not implemented for ",
              x.dtype(), "; convert the input with .to(float32) first");
  Tensor out = empty_tensor(x.shape(), x.dtype(), x.device());
  {
    NoGradGuard no_grad;
    static const auto id = kernels::op_id("logcumsumexp");
    kernels::kernel_table().get<kernels::ScanKernel>(id, x.device(), x.dtype())(out, x.detach().contiguous(), d, false);
  }
  if (autograd::needs_grad(x)) {
    autograd::record("LogcumsumexpBackward0", {&x}, {&out}, {&x}, {&out}, [d](const VjpArgs& a) {
      return Tensors{logcumsumexp_backward(a.grads[0], a.saved[0], a.saved[1], d)};
    });
  }
  return out;
}

std::tuple<Tensor, Tensor> cummax(const Tensor& x, int64_t dim) { return cum_extremum(x, dim, true); }
std::tuple<Tensor, Tensor> cummin(const Tensor& x, int64_t dim) { return cum_extremum(x, dim, false); }

Tensor Tensor::cumsum(int64_t dim) const { return ricci::cumsum(*this, dim); }
Tensor Tensor::cumprod(int64_t dim) const { return ricci::cumprod(*this, dim); }
Tensor Tensor::logcumsumexp(int64_t dim) const { return ricci::logcumsumexp(*this, dim); }
std::tuple<Tensor, Tensor> Tensor::cummax(int64_t dim) const { return ricci::cummax(*this, dim); }
std::tuple<Tensor, Tensor> Tensor::cummin(int64_t dim) const { return ricci::cummin(*this, dim); }

}  // namespace ricci
