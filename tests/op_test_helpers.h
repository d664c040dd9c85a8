#pragma once
// Small builders shared by the indexing and shape tests.
#include <functional>
#include <limits>

#include "test_util.h"

namespace ricci::testing {

inline Tensor f64(const NestedList& v) { return tensor(v, float64); }
inline Tensor i64(const NestedList& v) { return tensor(v, int64); }
// 0..n-1 with the given shape.
inline Tensor seq(IntArrayRef shape, DType dt = float64) { return arange(product(shape), dt).reshape(shape); }
// A float64 copy that requires grad (a fresh leaf for gradcheck).
inline Tensor leaf(const Tensor& t) {
  Tensor c = t.to(float64, /*copy=*/true);
  c.requires_grad_(true);
  return c;
}
inline bool check(const std::function<autograd::Tensors(const autograd::Tensors&)>& fn, const autograd::Tensors& in) {
  return autograd::gradcheck(fn, in);
}

}  // namespace ricci::testing

// The short names the op tests use: `using namespace ricci::op_tests;` brings in exactly these
// (a plain `using namespace ricci::testing` would make `testing::` ambiguous with GoogleTest's).
namespace ricci::op_tests {
using ricci::autograd::Tensors;
using ricci::testing::check;
using ricci::testing::f64;
using ricci::testing::i64;
using ricci::testing::leaf;
using ricci::testing::seq;
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace ricci::op_tests
