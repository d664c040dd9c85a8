// Indexing along one dim: index_select, gather, take_along_dim, scatter, scatter_add, index_add,
// one_hot. Each validates shapes and index dtypes, restrides its operands to the index's shape
// (metadata only) and calls one of two kernels: "gather" (reads) or "scatter" (writes).
#include <algorithm>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/index.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// 0-d tensors take part as 1-element 1-D ones (PyTorch accepts dim 0 / -1 on them).
Tensor as_1d(const Tensor& t) { return t.dim() == 0 ? make_tensor(t.impl().storage, t.dtype(), {1}, {1}, t.storage_offset()) : t; }

// A handle with another layout over t's storage, for kernels only (no autograd).
Tensor restride(const Tensor& t, IntArrayRef sizes, Dims strides) {
  return make_tensor(t.impl().storage, t.dtype(), Dims(sizes), std::move(strides), t.storage_offset());
}

void check_index_dtype(const Tensor& index, const char* op, bool allow_int32) {
  if (allow_int32) {
    RICCI_CHECK(index.dtype() == int64 || index.dtype() == int32, DTypeError, "[", op,
                "] Expected dtype int32 or int64 for index, got ", index.dtype(), "; convert it with index.to(int64)");
  } else {
    RICCI_CHECK(index.dtype() == int64, DTypeError, "[", op, "] Expected dtype int64 for index, got ", index.dtype(),
                "; convert it with index.to(int64)");
  }
}

void call_gather(const Tensor& out, const Tensor& self_r, const Tensor& index, int64_t dim, int64_t size, int64_t stride,
                 const char* op) {
  if (out.numel() == 0) return;
  static const auto id = kernels::op_id("gather");
  kernels::kernel_table().get<kernels::GatherKernel>(id, out.device(), out.dtype())(out, self_r, index, dim, size, stride, op);
}

// gather's and scatter's shape rule: same rank, and index no larger than self (except along
// dim) and than src (everywhere).
void check_scatter_gather_shapes(const Tensor& self, const Tensor& index, int64_t dim, const Tensor* src, const char* op) {
  const int64_t nd = std::max<int64_t>(self.dim(), 1);
  RICCI_CHECK(std::max<int64_t>(index.dim(), 1) == nd, ShapeError, "[", op,
              "] Index tensor must have the same number of dimensions as input tensor (input shape ", self.shape(),
              ", index shape ", index.shape(), ")");
  if (src) {
    RICCI_CHECK(std::max<int64_t>(src->dim(), 1) == nd, ShapeError, "[", op,
                "] Index tensor must have the same number of dimensions as src tensor (src shape ", src->shape(),
                ", index shape ", index.shape(), ")");
  }
  if (index.numel() == 0) return;
  const Tensor s = as_1d(self), i = as_1d(index);
  for (int64_t d = 0; d < nd; ++d) {
    if (d != dim) {
      RICCI_CHECK(i.size(d) <= s.size(d), ShapeError, "[", op, "] Size does not match at dimension ", d, " expected index ",
                  index.shape(), " to be smaller than self ", self.shape(), " apart from dimension ", dim);
    }
    if (src) {
      RICCI_CHECK(i.size(d) <= as_1d(*src).size(d), ShapeError, "[", op, "] Expected index ", index.shape(),
                  " to be smaller than src ", src->shape(), " in every dimension");
    }
  }
}

// Writes src (a tensor of dst's dtype, or a 0-d value broadcast with stride 0) into dst at index
// along dim, or adds alpha * src. No autograd.
void scatter_into(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src, bool src_is_scalar,
                  bool accumulate, const Scalar& alpha, const char* op) {
  if (index.numel() == 0) return;
  const Tensor d = as_1d(dst), i = as_1d(index);
  Dims src_strides(static_cast<size_t>(i.dim()), 0);
  if (!src_is_scalar) src_strides = Dims(as_1d(src).strides());
  const Tensor src_r = restride(src, i.shape(), std::move(src_strides));
  Dims dst_strides(d.strides());
  dst_strides[dim] = 0;
  const Tensor dst_r = restride(d, i.shape(), std::move(dst_strides));
  static const auto id = kernels::op_id("scatter");
  kernels::kernel_table().get<kernels::ScatterKernel>(id, dst.device(), dst.dtype())(
      dst_r, i, src_r, dim, d.size(dim), d.stride(dim), accumulate, alpha, op);
}

struct ScatterArgs {
  int64_t dim;
  Tensor src;  // the value source: a tensor of self's dtype, or a 0-d tensor for the scalar form
  bool is_scalar;
};

ScatterArgs prepare_scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor* src, const Scalar* value,
                            const char* op) {
  check_defined(self, op, "self");
  check_defined(index, op, "index");
  if (src) {
    check_defined(*src, op, "src");
    check_same_device(op, {&self, &index, src});
  } else {
    check_same_device(op, {&self, &index});
  }
  dim = wrap_dim(dim, self.dim(), op);
  check_index_dtype(index, op, /*allow_int32=*/false);
  if (src) {
    RICCI_CHECK(src->dtype() == self.dtype(), DTypeError, "[", op, "] Expected self.dtype to be equal to src.dtype (self is ",
                self.dtype(), ", src is ", src->dtype(), "); convert src with src.to(self.dtype())");
  }
  check_scatter_gather_shapes(self, index, dim, src, op);
  if (src) return {dim, *src, false};
  Tensor v = empty_tensor({}, self.dtype(), self.device());
  fill_kernel(v, *value);
  return {dim, v, true};
}

// Out of place: a copy of self with the scatter applied, one node for both inputs.
Tensor scatter_out_of_place(const Tensor& self, int64_t dim, const Tensor& index, const Tensor* src, const Scalar* value,
                            bool accumulate, const char* op, const char* node_name) {
  ScatterArgs a = prepare_scatter(self, dim, index, src, value, op);
  Tensor out = empty_tensor(self.shape(), self.dtype(), self.device());
  copy_kernel(out, self);
  scatter_into(out, a.dim, index, a.src, a.is_scalar, accumulate, 1, op);
  const Tensor none;
  const Tensor& s = src ? *src : none;
  if (autograd::needs_grad(self, s)) {
    const int64_t d = a.dim;
    autograd::record(node_name, {&self, &s}, {&out}, {&index}, {}, [d, accumulate](const VjpArgs& g) {
      const Tensor& idx = g.saved[0];
      Tensor gs = accumulate || !g.needs_input_grad(0) ? g.grads[0] : scatter(g.grads[0], d, idx, Scalar(0));
      Tensor gsrc = g.needs_input_grad(1) ? gather(g.grads[0], d, idx) : Tensor();
      return Tensors{gs, gsrc};
    })->set_replayable();  // the index rules run their kernels directly: replayed whole in a compile trace
  }
  return out;
}

Tensor& scatter_in_place(Tensor& self, int64_t dim, const Tensor& index, const Tensor* src, const Scalar* value,
                         bool accumulate, const char* op, const char* node_name) {
  ScatterArgs a = prepare_scatter(self, dim, index, src, value, op);
  check_no_internal_overlap(self, op);
  autograd::check_inplace(self, op);
  scatter_into(self, a.dim, index, a.src, a.is_scalar, accumulate, 1, op);
  autograd::bump_version(self);
  const Tensor none;
  const Tensor& s = src ? *src : none;
  if (autograd::needs_grad(self, s)) {
    const int64_t d = a.dim;
    auto node = autograd::record(node_name, {&self, &s}, {}, {&index}, {}, [d, accumulate](const VjpArgs& g) {
      const Tensor& idx = g.saved[0];
      Tensor gs = accumulate || !g.needs_input_grad(0) ? g.grads[0] : scatter(g.grads[0], d, idx, Scalar(0));
      Tensor gsrc = g.needs_input_grad(1) ? gather(g.grads[0], d, idx) : Tensor();
      return Tensors{gs, gsrc};
    });
    autograd::rebase_history(self, node);
  }
  return self;
}

// index_add's checks; returns the wrapped dim and the index as int64.
std::pair<int64_t, Tensor> prepare_index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                                             const char* op) {
  check_defined(self, op, "self");
  check_defined(index, op, "index");
  check_defined(source, op, "source");
  check_same_device(op, {&self, &index, &source});
  dim = wrap_dim(dim, self.dim(), op);
  check_index_dtype(index, op, /*allow_int32=*/true);
  RICCI_CHECK(index.dim() <= 1, ShapeError, "[", op, "] Index is supposed to be a vector, got shape ", index.shape());
  RICCI_CHECK(source.dtype() == self.dtype(), DTypeError, "[", op, "] self (", self.dtype(), ") and source (", source.dtype(),
              ") must have the same scalar type; convert source with source.to(self.dtype())");
  RICCI_CHECK(std::max<int64_t>(source.dim(), 1) == std::max<int64_t>(self.dim(), 1), ShapeError, "[", op,
              "] source ", source.shape(), " and self ", self.shape(), " must have the same number of dimensions");
  const Tensor s1 = as_1d(self), src1 = as_1d(source);
  RICCI_CHECK(src1.size(dim) == index.numel(), ShapeError, "[", op, "] Number of indices (", index.numel(),
              ") should be equal to source.size(dim) (", src1.size(dim), ")");
  for (int64_t d = 0; d < s1.dim(); ++d) {
    RICCI_CHECK(d == dim || s1.size(d) == src1.size(d), ShapeError, "[", op, "] source ", source.shape(), " and self ",
                self.shape(), " must match in every dimension except ", dim);
  }
  return {dim, index.to(int64)};
}

// index_add as a scatter: the 1-D index is stretched (stride 0) over source's shape.
void index_add_into(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha, const char* op) {
  if (index.numel() == 0) return;
  const Tensor src1 = as_1d(source);
  Dims istrides(static_cast<size_t>(src1.dim()), 0);
  istrides[dim] = index.dim() == 0 ? 1 : index.stride(0);
  const Tensor idx = restride(index, src1.shape(), std::move(istrides));
  scatter_into(dst, dim, idx, src1, false, true, alpha, op);
}

Tensors index_add_vjp(const VjpArgs& g, int64_t dim, const Scalar& alpha) {
  const Tensor& idx = g.saved[0];
  Tensor gsrc;
  if (g.needs_input_grad(1)) {
    gsrc = index_select(g.grads[0], dim, idx);
    if (alpha.to_double() != 1.0) gsrc.mul_(alpha);
  }
  return Tensors{g.grads[0], gsrc};
}

}  // namespace

Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  // Recorded when the indices have values (their bounds are checked at record time).
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("index_select", [](const Tensors& in, int64_t d) { return index_select(in[0], d, in[1]); },
                         {self, index}, dim);
  const char* op = "index_select";
  check_defined(self, op, "self");
  check_defined(index, op, "index");
  check_same_device(op, {&self, &index});
  dim = wrap_dim(dim, self.dim(), op);
  check_index_dtype(index, op, /*allow_int32=*/true);
  RICCI_CHECK(index.dim() <= 1, ShapeError, "[index_select] Index is supposed to be a vector, got shape ", index.shape(),
              "; flatten it or use index() / gather()");
  RICCI_CHECK(self.dim() > 0 || index.numel() == 1, ShapeError,
              "[index_select] Index to scalar can have only 1 value, got ", index.numel(), " value(s)");
  const Tensor idx = index.to(int64);
  const Tensor s = as_1d(self);
  const int64_t n = idx.numel();
  Dims out_sizes(s.shape());
  out_sizes[dim] = n;
  Tensor out = empty_tensor(out_sizes, self.dtype(), self.device(), op);
  Dims self_strides(s.strides());
  self_strides[dim] = 0;
  Dims idx_strides(out_sizes.size(), 0);
  idx_strides[dim] = idx.dim() == 0 ? 1 : idx.stride(0);
  call_gather(out, restride(s, out_sizes, std::move(self_strides)), restride(idx, out_sizes, std::move(idx_strides)), dim,
              s.size(dim), s.stride(dim), op);
  if (self.dim() == 0) out = out.view(IntArrayRef{});
  if (autograd::needs_grad(self)) {
    const Dims self_sizes(self.shape());
    autograd::record("IndexSelectBackward0", {&self}, {&out}, {&idx}, {}, [self_sizes, dim](const VjpArgs& g) {
      Tensor z = zeros(self_sizes, TensorOptions(g.grads[0].dtype(), g.grads[0].device()));
      return Tensors{index_add(z, dim, g.saved[0], g.grads[0])};
    })->set_replayable();
  }
  return out;
}

namespace {
// gather under the name of the public op that called it (errors name take_along_dim too).
Tensor gather_impl(const Tensor& self, int64_t dim, const Tensor& index, const char* op) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(op, [](const Tensors& in, int64_t d, const char* name) { return gather_impl(in[0], d, in[1], name); },
                         {self, index}, dim, op);
  check_defined(self, op, "self");
  check_defined(index, op, "index");
  check_same_device(op, {&self, &index});
  dim = wrap_dim(dim, self.dim(), op);
  check_index_dtype(index, op, /*allow_int32=*/false);
  check_scatter_gather_shapes(self, index, dim, nullptr, op);
  Tensor out = empty_tensor(index.shape(), self.dtype(), self.device());
  if (index.numel() > 0) {
    const Tensor s = as_1d(self), i = as_1d(index);
    Dims self_strides(s.strides());
    self_strides[dim] = 0;
    call_gather(as_1d(out), restride(s, i.shape(), std::move(self_strides)), i, dim, s.size(dim), s.stride(dim), op);
  }
  if (autograd::needs_grad(self)) {
    const Dims self_sizes(self.shape());
    autograd::record("GatherBackward0", {&self}, {&out}, {&index}, {}, [self_sizes, dim](const VjpArgs& g) {
      Tensor z = zeros(self_sizes, TensorOptions(g.grads[0].dtype(), g.grads[0].device()));
      return Tensors{scatter_add(z, dim, g.saved[0], g.grads[0])};
    })->set_replayable();
  }
  return out;
}
}  // namespace

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index) { return gather_impl(self, dim, index, "gather"); }

Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim_opt) {
  const char* op = "take_along_dim";
  check_defined(self, op, "self");
  check_defined(indices, op, "indices");
  check_index_dtype(indices, op, /*allow_int32=*/false);
  check_same_device(op, {&self, &indices});
  if (!dim_opt) return gather_impl(self.reshape({-1}), 0, indices.reshape({-1}), op);
  RICCI_CHECK(self.dim() == indices.dim(), ShapeError, "[take_along_dim] input and indices should have the same number of "
              "dimensions, but got ", self.dim(), " dimensions for input, and ", indices.dim(), " dimensions for indices");
  const int64_t dim = wrap_dim(*dim_opt, self.dim(), op);
  if (self.dim() == 0) return gather_impl(self, dim, indices, op);
  // Broadcast everything but dim.
  Dims shape(self.dim());
  for (int64_t d = 0; d < self.dim(); ++d) {
    const int64_t a = d == dim ? indices.size(d) : self.size(d), b = indices.size(d);
    RICCI_CHECK(a == b || a == 1 || b == 1, ShapeError, "[take_along_dim] The size of tensor a (", a,
                ") must match the size of tensor b (", b, ") at non-singleton dimension ", d, " (input ", self.shape(),
                ", indices ", indices.shape(), ")");
    shape[d] = a == 1 ? b : a;
  }
  const Tensor idx = indices.expand(shape);
  shape[dim] = self.size(dim);
  return gather_impl(self.expand(shape), dim, idx, op);
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_out_of_place(self, dim, index, &src, nullptr, false, "scatter", "ScatterBackward0");
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return scatter_out_of_place(self, dim, index, nullptr, &value, false, "scatter", "ScatterBackward1");
}
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_in_place(self, dim, index, &src, nullptr, false, "scatter_", "ScatterBackward0");
}
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return scatter_in_place(self, dim, index, nullptr, &value, false, "scatter_", "ScatterBackward1");
}
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_out_of_place(self, dim, index, &src, nullptr, true, "scatter_add", "ScatterAddBackward0");
}
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_in_place(self, dim, index, &src, nullptr, true, "scatter_add_", "ScatterAddBackward0");
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  auto [d, idx] = prepare_index_add(self, dim, index, source, "index_add");
  Tensor out = empty_tensor(self.shape(), self.dtype(), self.device());
  copy_kernel(out, self);
  index_add_into(out, d, idx, source, alpha, "index_add");
  if (autograd::needs_grad(self, source)) {
    const int64_t dd = d;
    autograd::record("IndexAddBackward0", {&self, &source}, {&out}, {&idx}, {},
                     [dd, alpha](const VjpArgs& g) { return index_add_vjp(g, dd, alpha); })
        ->set_replayable();
  }
  return out;
}

Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  auto [d, idx] = prepare_index_add(self, dim, index, source, "index_add_");
  check_no_internal_overlap(self, "index_add_");
  autograd::check_inplace(self, "index_add_");
  index_add_into(self, d, idx, source, alpha, "index_add_");
  autograd::bump_version(self);
  if (autograd::needs_grad(self, source)) {
    const int64_t dd = d;
    auto node = autograd::record("IndexAddBackward0", {&self, &source}, {}, {&idx}, {},
                                 [dd, alpha](const VjpArgs& g) { return index_add_vjp(g, dd, alpha); });
    autograd::rebase_history(self, node);
  }
  return self;
}

Tensor one_hot(const Tensor& self, int64_t num_classes) {
  check_defined(self, "one_hot");
  RICCI_CHECK(self.dtype() == int64 || self.dtype() == int32, DTypeError,
              "[one_hot] one_hot is only applicable to index tensor of type int64 (or int32), got ", self.dtype());
  const Tensor idx = self.to(int64);
  const std::vector<int64_t> v = idx.to_vector<int64_t>();
  if (num_classes == -1) {
    RICCI_CHECK(!v.empty(), ValueError, "[one_hot] Can not infer total number of classes from empty tensor; pass num_classes");
    num_classes = checked_add(*std::max_element(v.begin(), v.end()), 1, "one_hot", self.shape(), "the number of classes");
  }
  RICCI_CHECK(num_classes >= 0, ValueError, "[one_hot] num_classes should be positive or -1, got ", num_classes);
  for (int64_t x : v) {
    RICCI_CHECK(x >= 0, ValueError, "[one_hot] Class values must be non-negative, got ", x);
    RICCI_CHECK(x < num_classes, ValueError, "[one_hot] Class values must be smaller than num_classes (", num_classes, "), got ", x);
  }
  Dims shape(self.shape());
  shape.push_back(num_classes);
  Tensor out = empty_tensor(shape, int64, self.device(), "one_hot");
  fill_kernel(out, 0);
  if (idx.numel() > 0) {
    Tensor one = empty_tensor({}, int64, self.device());
    fill_kernel(one, 1);
    scatter_into(out, out.dim() - 1, idx.unsqueeze(-1), one, true, false, 1, "one_hot");
  }
  return out;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::index_select(int64_t dim, const Tensor& index) const { return ricci::index_select(*this, dim, index); }
Tensor Tensor::gather(int64_t dim, const Tensor& index) const { return ricci::gather(*this, dim, index); }
Tensor Tensor::take_along_dim(const Tensor& indices, std::optional<int64_t> dim) const {
  return ricci::take_along_dim(*this, indices, dim);
}
Tensor Tensor::scatter(int64_t dim, const Tensor& index, const Tensor& src) const { return ricci::scatter(*this, dim, index, src); }
Tensor Tensor::scatter(int64_t dim, const Tensor& index, const Scalar& value) const {
  return ricci::scatter(*this, dim, index, value);
}
Tensor Tensor::scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const {
  return ricci::scatter_add(*this, dim, index, src);
}
Tensor& Tensor::index_add_(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  return ricci::index_add_(*this, dim, index, source, alpha);
}

}  // namespace ricci
