// isclose / allclose / equal: comparisons of whole tensors, composed of elementwise ops.
#include "ricci/autograd.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/reduce.h"

namespace ricci {

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_defined(a, "isclose", "a");
  check_defined(b, "isclose", "b");
  RICCI_CHECK(a.dtype() == b.dtype(), DTypeError, "[isclose] ", a.dtype(), " did not match ", b.dtype(),
              "; convert one side with .to(dtype)");
  RICCI_CHECK(rtol >= 0 && atol >= 0, ValueError, "[isclose] rtol and atol must be non-negative, got rtol=", rtol, ", atol=", atol);
  NoGradGuard no_grad;
  if (!is_floating_point(a.dtype())) return eq(a, b);
  Tensor close = le(abs(a - b), abs(b) * rtol + atol);
  close = logical_or(close, eq(a, b));  // equal infinities
  if (equal_nan) close = logical_or(close, logical_and(isnan(a), isnan(b)));
  return close;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  return isclose(a, b, rtol, atol, equal_nan).all().item<bool>();
}

bool equal(const Tensor& a, const Tensor& b) {
  check_defined(a, "equal", "a");
  check_defined(b, "equal", "b");
  if (!(a.shape() == b.shape())) return false;
  NoGradGuard no_grad;
  return eq(a, b).all().item<bool>();
}

}  // namespace ricci
