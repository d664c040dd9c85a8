#pragma once
// Small builders shared by the indexing and shape tests.
#include <functional>

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
