// Linear-algebra ops composed of others: trace (diagonal + sum), tensordot (permute + reshape +
// mm), kron (a broadcast product), cross / linalg_cross (narrow + mul + cat). Their gradients come
// from those ops, so they are differentiable to any order.
#include <algorithm>
#include <vector>

#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/linalg.h"
#include "ricci/ops/reduce.h"
#include "ricci/ops/shape.h"

namespace ricci {

Tensor trace(const Tensor& self) {
  check_defined(self, "trace");
  RICCI_CHECK(self.dim() == 2, ShapeError, "[trace] trace: expected a matrix, but got tensor with dim ", self.dim(),
              " (shape ", self.shape(), "); use diagonal(0, dim1, dim2).sum(-1) for batches");
  RICCI_CHECK(self.dtype() != DType::Bool, NotImplementedError,
              "[trace] \"trace\" not implemented for bool; convert with .to(int64) first");
  // sum accumulates floats in float64 and gives int64 for integer and bool inputs, as PyTorch's trace.
  return self.diagonal().sum();
}

Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims) {
  check_defined(a, "tensordot", "a");
  check_defined(b, "tensordot", "b");
  RICCI_CHECK(dims >= 0, ValueError, "[tensordot] tensordot expects dims >= 0, but got dims=", dims);
  RICCI_CHECK(dims <= std::min(a.dim(), b.dim()), ValueError, "[tensordot] tensordot expects dims < ndim_a or ndim_b, but got dims=",
              dims, " (the operands have ", a.dim(), " and ", b.dim(), " dims)");
  std::vector<int64_t> da, db;
  for (int64_t i = 0; i < dims; ++i) {
    da.push_back(a.dim() - dims + i);
    db.push_back(i);
  }
  return tensordot(a, b, da, db);
}

Tensor tensordot(const Tensor& a, const Tensor& b, IntArrayRef dims_a, IntArrayRef dims_b) {
  check_defined(a, "tensordot", "a");
  check_defined(b, "tensordot", "b");
  check_same_device("tensordot", {&a, &b});
  RICCI_CHECK(dims_a.size() == dims_b.size(), ShapeError, "[tensordot] both dimension lists should have same length, got ",
              dims_a, " and ", dims_b);
  RICCI_CHECK(a.dtype() == b.dtype(), DTypeError, "[tensordot] both inputs should have same dtype, but got ",
              a.dtype(), " and ", b.dtype(), "; convert one with .to(", promote_types(a.dtype(), b.dtype()), ")");
  std::vector<bool> ca(static_cast<size_t>(a.dim()), false), cb(static_cast<size_t>(b.dim()), false);
  std::vector<int64_t> da, db;
  Tensor t1 = a, t2 = b;
  int64_t csize = 1;
  for (size_t i = 0; i < dims_a.size(); ++i) {
    const int64_t d1 = wrap_dim(dims_a[i], a.dim(), "tensordot"), d2 = wrap_dim(dims_b[i], b.dim(), "tensordot");
    RICCI_CHECK(!ca[d1], ShapeError, "[tensordot] dim ", d1, " appears multiple times in the list of dims of a ", dims_a);
    RICCI_CHECK(!cb[d2], ShapeError, "[tensordot] dim ", d2, " appears multiple times in the list of dims of b ", dims_b);
    ca[d1] = cb[d2] = true;
    da.push_back(d1);
    db.push_back(d2);
    const int64_t s1 = a.size(d1), s2 = b.size(d2);
    if (s2 == 1) {  // a dim of size 1 broadcasts: sum the other side over it right away
      const int64_t r[1] = {d1};
      t1 = t1.sum(IntArrayRef(r, 1), true, t1.dtype());
    } else if (s1 == 1) {
      const int64_t r[1] = {d2};
      t2 = t2.sum(IntArrayRef(r, 1), true, t2.dtype());
    } else {
      RICCI_CHECK(s1 == s2, ShapeError, "[tensordot] contracted dimensions need to match, but first has size ", s1, " in dim ",
                  d1, " and second has size ", s2, " in dim ", d2);
      csize *= s1;
    }
  }
  // a as (free, contracted), b as (contracted, free): one matrix product.
  std::vector<int64_t> p1, p2;
  Dims out_sizes;
  int64_t size1 = 1, size2 = 1;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (ca[d]) continue;
    p1.push_back(d);
    out_sizes.push_back(a.size(d));
    size1 *= a.size(d);
  }
  for (int64_t d : da) p1.push_back(d);
  for (int64_t d : db) p2.push_back(d);
  for (int64_t d = 0; d < b.dim(); ++d) {
    if (cb[d]) continue;
    p2.push_back(d);
    out_sizes.push_back(b.size(d));
    size2 *= b.size(d);
  }
  const Tensor m1 = t1.permute(p1).reshape({size1, csize});
  const Tensor m2 = t2.permute(p2).reshape({csize, size2});
  return mm(m1, m2).reshape(out_sizes);
}

Tensor kron(const Tensor& a, const Tensor& b) {
  check_defined(a, "kron", "self");
  check_defined(b, "kron", "other");
  check_same_device("kron", {&a, &b});
  const int64_t nd = std::max(a.dim(), b.dim());
  // a as [a0, 1, a1, 1, ...] and b as [1, b0, 1, b1, ...]: their product holds every a_i * b_j
  // with the index pairs interleaved, so merging each (i, j) pair gives the Kronecker layout.
  Dims sa, sb, out;
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t ai = i - (nd - a.dim()), bi = i - (nd - b.dim());
    const int64_t x = ai >= 0 ? a.size(ai) : 1, y = bi >= 0 ? b.size(bi) : 1;
    sa.push_back(x);
    sa.push_back(1);
    sb.push_back(1);
    sb.push_back(y);
    out.push_back(x * y);
  }
  return (a.reshape(sa) * b.reshape(sb)).reshape(out);
}

namespace {

Tensor cross_impl(const char* op, const Tensor& a, const Tensor& b, int64_t dim) {
  RICCI_CHECK(a.dim() == b.dim(), ShapeError, "[", op, "] linalg.cross: inputs must have the same number of dimensions (got ",
              a.shape(), " and ", b.shape(), ")");
  RICCI_CHECK(a.dim() > 0, IndexError, "[", op, "] Dimension specified as ", dim,
              " but tensor has no dimensions (cross needs vectors of length 3)");
  RICCI_CHECK(a.dtype() == b.dtype(), DTypeError, "[", op, "] expected both inputs to have the same dtype, got ", a.dtype(),
              " and ", b.dtype(), "; convert one with .to(", promote_types(a.dtype(), b.dtype()), ")");
  RICCI_CHECK(a.dtype() != DType::Bool, NotImplementedError, "[", op, "] \"cross\" not implemented for bool");
  const int64_t d = wrap_dim(dim, a.dim(), op);
  RICCI_CHECK(a.size(d) == 3 && b.size(d) == 3, ShapeError, "[", op, "] linalg.cross: inputs dimension ", dim,
              " must have length 3. Got ", a.size(d), " and ", b.size(d));
  const Tensor a0 = a.narrow(d, 0, 1), a1 = a.narrow(d, 1, 1), a2 = a.narrow(d, 2, 1);
  const Tensor b0 = b.narrow(d, 0, 1), b1 = b.narrow(d, 1, 1), b2 = b.narrow(d, 2, 1);
  // Each component as PyTorch's kernel forms it (same products, same order: the same rounding).
  return cat({a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0}, d);
}

}  // namespace

Tensor cross(const Tensor& a, const Tensor& b, std::optional<int64_t> dim) {
  check_defined(a, "cross", "input");
  check_defined(b, "cross", "other");
  check_same_device("cross", {&a, &b});
  if (!dim) {
    // torch.cross's (deprecated) default: the first dim of size 3 of the first input.
    for (int64_t d = 0; d < a.dim() && !dim; ++d)
      if (a.size(d) == 3) dim = d;
    RICCI_CHECK(dim.has_value(), ShapeError, "[cross] no dimension of size 3 in input (shape ", a.shape(),
                "); pass dim explicitly");
  }
  return cross_impl("cross", a, b, *dim);
}

Tensor linalg_cross(const Tensor& a, const Tensor& b, int64_t dim) {
  check_defined(a, "linalg_cross", "input");
  check_defined(b, "linalg_cross", "other");
  check_same_device("linalg_cross", {&a, &b});
  return cross_impl("linalg_cross", a, b, dim);
}

// ---- Tensor methods -------------------------------------------------------------------------------
Tensor Tensor::trace() const { return ricci::trace(*this); }
Tensor Tensor::kron(const Tensor& o) const { return ricci::kron(*this, o); }
Tensor Tensor::cross(const Tensor& o, std::optional<int64_t> dim) const { return ricci::cross(*this, o, dim); }

}  // namespace ricci
