// var, std, norm and logsumexp: validation, kernel call and derivative.
#include <cmath>

#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "ops/reduce_common.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/reduce.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;
using namespace reduce_detail;

namespace {

Dims mask_dims(uint64_t mask, int64_t nd) {
  Dims dims;
  for (int64_t d = 0; d < nd; ++d)
    if (mask >> d & 1) dims.push_back(d);
  return dims;
}

void check_float(const Tensor& x, const char* op, const char* what) {
  RICCI_CHECK(x.is_floating_point(), DTypeError, "[", op, "] ", what, ": Expected a floating point tensor as input. Got ",
              x.dtype(), ". Convert first, e.g. x.to(float32)");
}

// Zero where `den` is zero (a flat spot of sqrt/norm has no gradient), num / den elsewhere.
Tensor safe_div(const Tensor& num, const Tensor& den) { return where(eq(den, Scalar(0.0)), Scalar(0.0), num / den); }

Tensor var_std_impl(const Tensor& x, IntArrayRef dims, int64_t correction, bool keepdim, bool take_sqrt) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(take_sqrt ? "std" : "var", [](const Tensors& in, const Dims& d, int64_t c, bool k, bool sq) {
      return var_std_impl(in[0], d, c, k, sq); }, {x}, Dims(dims), correction, keepdim, take_sqrt);
  const char* op = take_sqrt ? "std" : "var";
  const ReduceShape rs = reduce_shape(x, dims, keepdim, op);
  check_float(x, op, op);
  kernels::ReduceParams prm;
  prm.correction = correction;
  prm.take_sqrt = take_sqrt;
  Tensor out = run_reduce("var", x, rs, x.dtype(), prm);
  if (autograd::needs_grad(x)) {
    autograd::record(take_sqrt ? "StdBackward0" : "VarBackward0", {&x}, {&out}, {&x}, {&out},
                     [mask = rs.mask, n = rs.n, correction, take_sqrt](const VjpArgs& a) {
                       const Tensor& x = a.saved[0];
                       const int64_t nd = x.dim();
                       Tensor g = unreduce(a.grads[0], mask, nd);
                       if (take_sqrt) g = safe_div(g, unreduce(a.saved[1], mask, nd) * Scalar(2.0));
                       const Tensor mu = mean(x, mask_dims(mask, nd), true);
                       const double denom = std::max(0.0, static_cast<double>(n) - static_cast<double>(correction));  // no int64 wrap
                       return Tensors{(x - mu) * g * Scalar(2.0 / denom)};
                     });
  }
  return out;
}

}  // namespace

Tensor var(const Tensor& x, IntArrayRef dims, int64_t correction, bool keepdim) {
  return var_std_impl(x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, IntArrayRef dims, int64_t correction, bool keepdim) {
  return var_std_impl(x, dims, correction, keepdim, true);
}

Tensor norm(const Tensor& x, double p, IntArrayRef dims, bool keepdim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("norm", [](const Tensors& in, double q, const Dims& d, bool k) { return norm(in[0], q, d, k); }, {x}, p,
                         Dims(dims), keepdim);
  const ReduceShape rs = reduce_shape(x, dims, keepdim, "norm");
  check_float(x, "norm", "linalg.vector_norm");
  if (std::isinf(p)) {
    RICCI_CHECK(rs.n != 0, IndexError, "[norm] linalg.vector_norm cannot compute the ", p > 0 ? "inf" : "-inf",
                " norm on an empty tensor because the operation does not have an identity (input shape ", x.shape(), ")");
  }
  kernels::ReduceParams prm;
  prm.p = p;
  Tensor out = run_reduce("norm", x, rs, x.dtype(), prm);
  if (autograd::needs_grad(x)) {
    autograd::record("NormBackward1", {&x}, {&out}, {&x}, {&out}, [mask = rs.mask, p](const VjpArgs& a) {
      const Tensor& x = a.saved[0];
      const int64_t nd = x.dim();
      const Tensor g = unreduce(a.grads[0], mask, nd);
      const Tensor nrm = unreduce(a.saved[1], mask, nd);
      if (p == 0) return Tensors{zeros_like(x)};
      if (p == 1) return Tensors{x.sign() * g};
      if (p == 2) return Tensors{x * safe_div(g, nrm)};
      if (std::isinf(p)) {
        const Tensor ties = eq_mask(x.abs(), nrm);
        const Tensor count = sum(ties, mask_dims(mask, nd), true);
        return Tensors{x.sign() * ties * (g / count)};
      }
      return Tensors{x.sign() * x.abs().pow(Scalar(p - 1)) * safe_div(g, nrm.pow(Scalar(p - 1)))};
    })->set_replayable();  // the inf norm's eq_mask runs its kernel directly
  }
  return out;
}

Tensor logsumexp(const Tensor& x0, IntArrayRef dims, bool keepdim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("logsumexp", [](const Tensors& in, const Dims& d, bool k) { return logsumexp(in[0], d, k); }, {x0},
                         Dims(dims), keepdim);
  check_defined(x0, "logsumexp");
  // PyTorch computes logsumexp of integers in the default float dtype.
  const Tensor x = x0.is_floating_point() ? x0 : x0.to(float32);
  const ReduceShape rs = reduce_shape(x, dims, keepdim, "logsumexp");
  Tensor out = run_reduce("logsumexp", x, rs, x.dtype());
  if (autograd::needs_grad(x)) {
    autograd::record("LogsumexpBackward0", {&x}, {&out}, {&x}, {&out}, [mask = rs.mask](const VjpArgs& a) {
      const Tensor& x = a.saved[0];
      const int64_t nd = x.dim();
      return Tensors{unreduce(a.grads[0], mask, nd) * (x - unreduce(a.saved[1], mask, nd)).exp()};
    });
  }
  return out;
}

Tensor Tensor::var(IntArrayRef dims, int64_t correction, bool keepdim) const { return ricci::var(*this, dims, correction, keepdim); }
Tensor Tensor::std(IntArrayRef dims, int64_t correction, bool keepdim) const { return ricci::std(*this, dims, correction, keepdim); }
Tensor Tensor::norm(double p) const { return ricci::norm(*this, p); }
Tensor Tensor::logsumexp(IntArrayRef dims, bool keepdim) const { return ricci::logsumexp(*this, dims, keepdim); }

}  // namespace ricci
