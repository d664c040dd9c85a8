// Views: new layouts over the same storage. O(ndim) metadata, no kernel runs.
// Each view records a node when the graph is kept; its vjp maps the gradient back to the base's
// shape (a reshape or a permutation, or view_backward: zeros with the gradient added into the
// same view).
#include <algorithm>
#include <numeric>

#include "lazy/record.h"
#include "transforms/batching.h"
#include "autograd/autograd_meta.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

void check_no_internal_overlap(const Tensor& self, const char* op) {
  for (int64_t d = 0; d < self.dim(); ++d) {
    RICCI_CHECK(self.stride(d) != 0 || self.size(d) <= 1, ValueError, "[", op,
                "] unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location (self has shape ", self.shape(), " and strides ", self.strides(),
                "); call .clone() on it before the in-place op");
  }
}

Tensor make_view(const Tensor& base, Dims sizes, Dims strides, int64_t offset) {
  Tensor v = make_tensor(base.impl().storage, base.dtype(), std::move(sizes), std::move(strides), offset);
  if (base.is_inference()) {
    v.impl().is_inference = true;
  } else if (!autograd::is_inference_mode_enabled()) {
    // Note [Views and in-place ops]: remember the root base, so that a write through this view
    // can rewrite the base's history (src/autograd/view_history.cpp).
    TensorImpl& vi = v.impl();
    const TensorImpl& bi = base.impl();
    vi.view_base = bi.view_base ? bi.view_base : base.impl_ptr();
    vi.view_differentiable = autograd::is_grad_enabled();
    vi.view_version.store(bi.storage->version(), std::memory_order_relaxed);
  }
  return v;
}

namespace {

// Records `out` as a differentiable view of `self` (when the graph is kept); returns the node.
template <class Vjp>
std::shared_ptr<autograd::Node> record_view(const Tensor& self, Tensor& out, const char* name, Vjp vjp) {
  if (!autograd::needs_grad(self)) return nullptr;
  return autograd::record(name, {&self}, {&out}, {}, {}, std::move(vjp));
}

// The same for a view whose rule scatters into zeros (view_backward writes through a view with
// a kernel): its rule captures only sizes and offsets, so a compile trace replays it whole.
template <class Vjp>
void record_scatter_view(const Tensor& self, Tensor& out, const char* name, Vjp vjp) {
  if (auto node = record_view(self, out, name, std::move(vjp))) node->set_replayable();
}

// The storage index of the last element a layout reaches (the offset for an empty one), checked
// (Note [Checked size arithmetic]). Strides are >= 0 for every layout a user can make.
int64_t max_element_index(IntArrayRef sizes, IntArrayRef strides, int64_t offset, const char* op) {
  int64_t m = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) return offset;
    m = checked_add(m, checked_mul(sizes[i] - 1, strides[i], op, sizes, "the storage extent"), op, sizes,
                    "the storage extent");
  }
  return m;
}

// stride * step for a dim that ends up with `len` elements. With len <= 1 the stride never
// addresses memory, so a product past int64 (a step far beyond the end) keeps the old stride.
int64_t scaled_stride(int64_t stride, int64_t step, int64_t len, const char* op, IntArrayRef shape) {
  int64_t r;
  if (!mul_overflows(stride, step, &r)) return r;
  if (len <= 1) return stride;
  detail::throw_size_overflow(op, shape, "the stride");
}

}  // namespace

// The gradient of as_strided. When the base is contiguous the view's offsets are relative to it
// and view_backward applies; otherwise lay both out over a flat buffer spanning their storage.
Tensor strided_view_backward(const Tensor& grad, const Dims& base_sizes, const Dims& base_strides, int64_t base_offset,
                             const Dims& sizes, const Dims& strides, int64_t offset) {
  if (base_strides == contiguous_strides(base_sizes) && offset >= base_offset) {
    return view_backward(grad, base_sizes,
                         [=](const Tensor& z) { return z.as_strided(sizes, strides, offset - base_offset); });
  }
  auto extent = [](const Dims& sz, const Dims& st, int64_t off) { return max_element_index(sz, st, off, "as_strided") + 1; };
  const int64_t n = std::max(extent(base_sizes, base_strides, base_offset), extent(sizes, strides, offset));
  Tensor flat = view_backward(grad, {n}, [=](const Tensor& z) { return z.as_strided(sizes, strides, offset); });
  return flat.as_strided(base_sizes, base_strides, base_offset).clone();
}

namespace {

Dims infer_size(IntArrayRef shape, int64_t numel, const char* op) {
  Dims out(shape);
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      RICCI_CHECK(infer_at < 0, ShapeError, "[", op, "] only one dimension can be inferred");
      infer_at = static_cast<int64_t>(i);
    } else {
      RICCI_CHECK(out[i] >= 0, ShapeError, "[", op, "] invalid shape dimension ", out[i], " in shape ", shape);
      known = checked_mul(known, out[i], op, shape, "the number of elements");
    }
  }
  if (infer_at >= 0) {
    RICCI_CHECK(known != 0 && numel % known == 0, ShapeError, "[", op, "] shape '", shape, "' is invalid for input of size ", numel);
    out[infer_at] = numel / known;
  } else {
    RICCI_CHECK(known == numel, ShapeError, "[", op, "] shape '", shape, "' is invalid for input of size ", numel);
  }
  checked_numel(out, op);  // equal numel, but a zero elsewhere can hide an overflowing span
  return out;
}

// PyTorch's rule for when a new shape can alias the old layout: each run of old dims that is
// contiguous in memory ("chunk") must be split into whole new dims. nullopt when impossible.
std::optional<Dims> compute_view_strides(IntArrayRef old_sizes, IntArrayRef old_strides, const Dims& new_sizes) {
  Dims new_strides(new_sizes.size());
  if (old_sizes.empty()) {
    std::fill(new_strides.begin(), new_strides.end(), 1);
    return new_strides;
  }
  if (product(old_sizes) == 0) {
    if (old_sizes == new_sizes.ref()) return Dims(old_strides);
    return contiguous_strides(new_sizes);
  }
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  // Element counts are partial products of two non-empty shapes of equal numel, so they fit; the
  // strides of size-1 dims are arbitrary, so stride products are checked (no view on overflow).
  int64_t product;
  for (int64_t tensor_d = static_cast<int64_t>(old_sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_sizes[tensor_d];
    if (tensor_d == 0 ||
        (old_sizes[tensor_d - 1] != 1 &&
         (mul_overflows(tensor_numel, chunk_base_stride, &product) || old_strides[tensor_d - 1] != product))) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        if (mul_overflows(view_numel, chunk_base_stride, &new_strides[view_d])) return std::nullopt;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Tensor reshape_alias(const Tensor& self, Dims sizes, Dims strides, const char* name) {
  Tensor out = make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  const Dims self_sizes(self.shape());
  record_view(self, out, name, [self_sizes](const VjpArgs& a) { return Tensors{a.grads[0].reshape(self_sizes)}; });
  return out;
}

}  // namespace

Tensor Tensor::view(IntArrayRef shape) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1_rule("view", [](const Tensors& in, const Dims& s) { return in[0].view(s); },
      [](const std::tuple<Dims>& p, const Tensors& in, const std::vector<int64_t>& ax) {
        return batching::reshape_each(in[0], ax[0], std::get<0>(p));
      }, {*this}, Dims(shape));
  check_defined(*this, "view");
  Dims sizes = infer_size(shape, numel(), "view");
  auto strides = compute_view_strides(this->shape(), this->strides(), sizes);
  RICCI_CHECK(strides.has_value(), ShapeError,
              "[view] view size is not compatible with input tensor's size and stride (at least one dimension spans "
              "across two contiguous subspaces). Use .reshape(...) instead. (input shape ",
              this->shape(), ", strides ", this->strides(), ", requested shape ", shape, ")");
  return reshape_alias(*this, std::move(sizes), std::move(*strides), "ViewBackward0");
}

Tensor Tensor::view(DType dtype) const {
  check_defined(*this, "view");
  RICCI_CHECK(ricci::element_size(dtype) == element_size(), DTypeError, "[view] can only reinterpret ", this->dtype(),
              " as a dtype of the same element size (", element_size(), " bytes), not ", dtype,
              "; use .to(dtype) to convert values");
  RICCI_CHECK(!requires_grad(), AutogradError, "[view] reinterpreting the bytes of a tensor that requires grad is not differentiable; call .detach() first");
  return make_tensor(impl().storage, dtype, Dims(shape()), Dims(strides()), storage_offset());
}

Tensor Tensor::reshape(IntArrayRef shape) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1_rule("reshape", [](const Tensors& in, const Dims& s) { return in[0].reshape(s); },
      [](const std::tuple<Dims>& p, const Tensors& in, const std::vector<int64_t>& ax) {
        return batching::reshape_each(in[0], ax[0], std::get<0>(p));
      }, {*this}, Dims(shape));
  check_defined(*this, "reshape");
  Dims sizes = infer_size(shape, numel(), "reshape");
  if (auto strides = compute_view_strides(this->shape(), this->strides(), sizes))
    return reshape_alias(*this, std::move(sizes), std::move(*strides), "ViewBackward0");
  return clone().view(sizes);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1_rule("transpose", [](const Tensors& in, int64_t a, int64_t b) { return in[0].transpose(a, b); },
      [](const std::tuple<int64_t, int64_t>& p, const Tensors& in, const std::vector<int64_t>& ax) {
        const Tensor x = batching::batch_first(in[0], ax[0]);
        const int64_t rank = x.dim() - 1;
        if (rank == 0) return batching::Result{{x}, {0}};
        return batching::Result{{x.transpose(batching::shifted_dim(std::get<0>(p), rank, "transpose"),
                                             batching::shifted_dim(std::get<1>(p), rank, "transpose"))}, {0}};
      }, {*this}, d0, d1);
  check_defined(*this, "transpose");
  d0 = wrap_dim(d0, dim(), "transpose");
  d1 = wrap_dim(d1, dim(), "transpose");
  Dims sizes(shape()), strides(this->strides());
  if (dim() > 0) {
    std::swap(sizes[d0], sizes[d1]);
    std::swap(strides[d0], strides[d1]);
  }
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), storage_offset());
  record_view(*this, out, "TransposeBackward0", [d0, d1](const VjpArgs& a) { return Tensors{a.grads[0].transpose(d0, d1)}; });
  return out;
}

Tensor Tensor::t() const {
  RICCI_CHECK(dim() <= 2, ShapeError, "[t] t() expects a tensor with <= 2 dimensions, but self is ", dim(),
              "D; use .transpose(dim0, dim1) or .mT() instead");
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::T() const {
  Dims order(static_cast<size_t>(dim()));
  for (int64_t i = 0; i < dim(); ++i) order[i] = dim() - 1 - i;
  return permute(order);
}

Tensor Tensor::mT() const {
  RICCI_CHECK(dim() >= 2, ShapeError, "[mT] tensor.mT is only supported on matrices or batches of matrices. Got ", dim(), "-D tensor.");
  return transpose(-2, -1);
}

Tensor Tensor::permute(IntArrayRef dims) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("permute", [](const Tensors& in, const Dims& d) { return in[0].permute(d); }, {*this}, Dims(dims));
  check_defined(*this, "permute");
  RICCI_CHECK(static_cast<int64_t>(dims.size()) == dim(), ShapeError, "[permute] number of dims don't match in permute: the input has ",
              dim(), " dims but ", dims.size(), " were given (", dims, ")");
  Dims sizes(dims.size()), strides(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    RICCI_CHECK(!seen[d], ShapeError, "[permute] repeated dim ", dims[i], " in permute(", dims, ")");
    seen[d] = true;
    sizes[i] = shape()[d];
    strides[i] = this->strides()[d];
    inverse[d] = static_cast<int64_t>(i);
  }
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), storage_offset());
  record_view(*this, out, "PermuteBackward0", [inverse](const VjpArgs& a) { return Tensors{a.grads[0].permute(inverse)}; });
  return out;
}

Tensor Tensor::expand(IntArrayRef shape) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("expand", [](const Tensors& in, const Dims& s) { return in[0].expand(s); }, {*this}, Dims(shape));
  check_defined(*this, "expand");
  const int64_t nd = static_cast<int64_t>(shape.size());
  RICCI_CHECK(nd >= dim(), ShapeError, "[expand] the number of sizes provided (", nd,
              ") must be greater or equal to the number of dimensions in the tensor (", dim(), ")");
  Dims sizes(shape.size()), strides(shape.size());
  for (int64_t i = nd - 1; i >= 0; --i) {
    const int64_t j = i - (nd - dim());  // matching dim of self, or < 0 for a new leading dim
    const int64_t target = shape[i];
    if (j < 0) {
      RICCI_CHECK(target >= 0, ShapeError, "[expand] the expanded size of the tensor (", target,
                  ") isn't allowed in a leading, non-existing dimension ", i);
      sizes[i] = target;
      strides[i] = 0;
      continue;
    }
    const int64_t have = this->shape()[j];
    if (target == -1 || target == have) {
      sizes[i] = have;
      strides[i] = this->strides()[j];
    } else {
      RICCI_CHECK(have == 1, ShapeError, "[expand] The expanded size of the tensor (", target,
                  ") must match the existing size (", have, ") at non-singleton dimension ", i, ".  Target sizes: ", shape,
                  ".  Tensor sizes: ", this->shape());
      RICCI_CHECK(target >= 0, ShapeError, "[expand] The expanded size of the tensor (", target, ") at dimension ", i,
                  " must be non-negative, or -1 to keep the size.  Target sizes: ", shape);
      sizes[i] = target;
      strides[i] = 0;
    }
  }
  if (sizes == this->impl().sizes) return *this;
  checked_numel(sizes, "expand");
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), storage_offset());
  const Dims self_sizes(this->shape());
  record_view(*this, out, "ExpandBackward0", [self_sizes](const VjpArgs& a) { return Tensors{sum_to(a.grads[0], self_sizes)}; });
  return out;
}

Tensor Tensor::squeeze() const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("squeeze", [](const Tensors& in) { return in[0].squeeze(); }, {*this});
  Dims sizes, strides;
  for (int64_t i = 0; i < dim(); ++i)
    if (shape()[i] != 1) {
      sizes.push_back(shape()[i]);
      strides.push_back(this->strides()[i]);
    }
  return reshape_alias(*this, std::move(sizes), std::move(strides), "SqueezeBackward0");
}

Tensor Tensor::squeeze(int64_t d) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("squeeze", [](const Tensors& in, int64_t d) { return in[0].squeeze(d); }, {*this}, d);
  check_defined(*this, "squeeze");
  d = wrap_dim(d, dim(), "squeeze");
  if (dim() == 0 || shape()[d] != 1) return *this;
  Dims sizes(shape()), strides(this->strides());
  sizes.erase(d);
  strides.erase(d);
  return reshape_alias(*this, std::move(sizes), std::move(strides), "SqueezeBackward1");
}

Tensor Tensor::unsqueeze(int64_t d) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("unsqueeze", [](const Tensors& in, int64_t d) { return in[0].unsqueeze(d); }, {*this}, d);
  check_defined(*this, "unsqueeze");
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Dims sizes(shape()), strides(this->strides());
  // The new dim has size 1, so its stride never addresses memory: any value that does not wrap.
  int64_t s = 1;
  if (d < dim() && mul_overflows(sizes[d], strides[d], &s)) s = strides[d];
  sizes.insert(d, 1);
  strides.insert(d, s);
  return reshape_alias(*this, std::move(sizes), std::move(strides), "UnsqueezeBackward0");
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("flatten", [](const Tensors& in, int64_t a, int64_t b) { return in[0].flatten(a, b); }, {*this}, start_dim, end_dim);
  check_defined(*this, "flatten");
  if (dim() == 0) return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  RICCI_CHECK(start_dim <= end_dim, ValueError, "[flatten] flatten() has invalid args: start_dim (", start_dim,
              ") cannot come after end_dim (", end_dim, ")");
  Dims sizes;
  for (int64_t i = 0; i < start_dim; ++i) sizes.push_back(shape()[i]);
  int64_t merged = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) merged = checked_mul(merged, shape()[i], "flatten", shape(), "the number of elements");
  sizes.push_back(merged);
  for (int64_t i = end_dim + 1; i < dim(); ++i) sizes.push_back(shape()[i]);
  return reshape(sizes);
}

Tensor Tensor::unflatten(int64_t d, IntArrayRef sizes) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("unflatten", [](const Tensors& in, int64_t d, const Dims& s) { return in[0].unflatten(d, s); }, {*this}, d, Dims(sizes));
  check_defined(*this, "unflatten");
  d = wrap_dim(d, dim(), "unflatten");
  RICCI_CHECK(!sizes.empty(), ShapeError, "[unflatten] sizes must be non-empty");
  Dims inner = infer_size(sizes, shape()[d], "unflatten");
  Dims out;
  for (int64_t i = 0; i < d; ++i) out.push_back(shape()[i]);
  for (int64_t s : inner) out.push_back(s);
  for (int64_t i = d + 1; i < dim(); ++i) out.push_back(shape()[i]);
  return view(out);
}

Tensor Tensor::slice(int64_t d, std::optional<int64_t> start_opt, std::optional<int64_t> end_opt, int64_t step) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("slice", [](const Tensors& in, int64_t d, std::optional<int64_t> a, std::optional<int64_t> b, int64_t st) {
      return in[0].slice(d, a, b, st); }, {*this}, d, start_opt, end_opt, step);
  check_defined(*this, "slice");
  RICCI_CHECK(dim() > 0, IndexError, "[slice] slice() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim(), "slice");
  RICCI_CHECK(step > 0, ValueError, "[slice] slice step must be positive, got ", step, " (use flip() to reverse)");
  const int64_t n = shape()[d];
  int64_t start = start_opt.value_or(0), end = end_opt.value_or(n);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  const int64_t len = end == start ? 0 : (end - start - 1) / step + 1;  // no `+ step - 1`: step may be huge
  Dims sizes(shape()), strides(this->strides());
  sizes[d] = len;
  strides[d] = scaled_stride(strides[d], step, len, "slice", shape());
  const int64_t offset = checked_add(storage_offset(), checked_mul(start, this->strides()[d], "slice", shape(), "the offset"),
                                     "slice", shape(), "the offset");
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), offset);
  const Dims base(shape());
  record_scatter_view(*this, out, "SliceBackward0", [base, d, start, end, step](const VjpArgs& a) {
    return Tensors{view_backward(a.grads[0], base, [=](const Tensor& z) { return z.slice(d, start, end, step); })};
  });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("narrow", [](const Tensors& in, int64_t d, int64_t a, int64_t n) { return in[0].narrow(d, a, n); }, {*this}, d, start, length);
  check_defined(*this, "narrow");
  RICCI_CHECK(dim() > 0, IndexError, "[narrow] narrow() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim(), "narrow");
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  RICCI_CHECK(length >= 0, IndexError, "[narrow] narrow(): length must be non-negative, got ", length);
  RICCI_CHECK(start >= 0 && start <= n && length <= n - start, IndexError, "[narrow] start (", start, ") + length (", length,
              ") exceeds dimension size (", n, ").");
  return slice(d, start, start + length, 1);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("select", [](const Tensors& in, int64_t d, int64_t i) { return in[0].select(d, i); }, {*this}, d, index);
  check_defined(*this, "select");
  RICCI_CHECK(dim() > 0, IndexError, "[select] select() cannot be applied to a 0-dim tensor.");
  d = wrap_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  RICCI_CHECK(index >= -n && index < n, IndexError, "[select] index ", index, " is out of bounds for dimension ", d,
              " with size ", n);
  if (index < 0) index += n;
  Dims sizes(shape()), strides(this->strides());
  // Checked: an empty tensor may hold any sizes and strides, and their product may not fit.
  const int64_t offset = checked_add(storage_offset(), checked_mul(index, strides[d], "select", shape(), "the offset"),
                                     "select", shape(), "the offset");
  sizes.erase(d);
  strides.erase(d);
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), offset);
  const Dims base(shape());
  record_scatter_view(*this, out, "SelectBackward0", [base, d, index](const VjpArgs& a) {
    return Tensors{view_backward(a.grads[0], base, [=](const Tensor& z) { return z.select(d, index); })};
  });
  return out;
}

Tensor Tensor::diagonal(int64_t offset, int64_t dim1, int64_t dim2) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("diagonal", [](const Tensors& in, int64_t o, int64_t a, int64_t b) { return in[0].diagonal(o, a, b); }, {*this}, offset, dim1, dim2);
  check_defined(*this, "diagonal");
  RICCI_CHECK(dim() >= 2, ShapeError, "[diagonal] diagonal requires a tensor with at least 2 dims, got ", dim());
  dim1 = wrap_dim(dim1, dim(), "diagonal");
  dim2 = wrap_dim(dim2, dim(), "diagonal");
  RICCI_CHECK(dim1 != dim2, ValueError, "[diagonal] diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  int64_t len, off = storage_offset();
  if (offset >= 0) {
    len = std::max<int64_t>(std::min(shape()[dim1], shape()[dim2] - offset), 0);
    if (len > 0) off += offset * strides()[dim2];
  } else {
    len = std::max<int64_t>(std::min(shape()[dim1] + offset, shape()[dim2]), 0);
    if (len > 0) off -= offset * strides()[dim1];
  }
  Dims sizes, strides;
  for (int64_t i = 0; i < dim(); ++i)
    if (i != dim1 && i != dim2) {
      sizes.push_back(shape()[i]);
      strides.push_back(this->strides()[i]);
    }
  sizes.push_back(len);
  int64_t diag_stride;
  if (add_overflows(this->strides()[dim1], this->strides()[dim2], &diag_stride)) {
    if (len > 1) detail::throw_size_overflow("diagonal", shape(), "the stride");
    diag_stride = this->strides()[dim1];  // one element or none: the stride never addresses memory
  }
  strides.push_back(diag_stride);
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), off);
  const Dims base(shape());
  record_scatter_view(*this, out, "DiagonalBackward0", [base, offset, dim1, dim2](const VjpArgs& a) {
    return Tensors{view_backward(a.grads[0], base, [=](const Tensor& z) { return z.diagonal(offset, dim1, dim2); })};
  });
  return out;
}

Tensor Tensor::as_strided(IntArrayRef sizes, IntArrayRef strides, std::optional<int64_t> offset_opt) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("as_strided", [](const Tensors& in, const Dims& sz, const Dims& st, std::optional<int64_t> o) {
      return in[0].as_strided(sz, st, o); }, {*this}, Dims(sizes), Dims(strides), offset_opt);
  check_defined(*this, "as_strided");
  RICCI_CHECK(sizes.size() == strides.size(), ShapeError, "[as_strided] mismatch in length of strides and shape (", sizes.size(),
              " vs ", strides.size(), ")");
  const int64_t offset = offset_opt.value_or(storage_offset());
  RICCI_CHECK(offset >= 0, ValueError, "[as_strided] Tensor: invalid storage offset ", offset);
  // Bounds: the furthest element must lie inside the storage, every number on the way checked.
  const int64_t es = static_cast<int64_t>(element_size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    RICCI_CHECK(sizes[i] >= 0 && strides[i] >= 0, ValueError, "[as_strided] negative size or stride: sizes ", sizes, ", strides ", strides);
    // Kernels step in bytes: stride * element size must fit too.
    checked_mul(strides[i], es, "as_strided", sizes, "a stride in bytes");
  }
  checked_numel(sizes, "as_strided");
  checked_mul(offset, es, "as_strided", sizes, "the storage offset in bytes");
  const bool empty = std::find(sizes.begin(), sizes.end(), int64_t{0}) != sizes.end();
  const int64_t max_index = max_element_index(sizes, strides, offset, "as_strided");
  const int64_t capacity = static_cast<int64_t>(impl().storage->nbytes() / element_size());
  RICCI_CHECK(empty || max_index < capacity, IndexError, "[as_strided] setStorage: sizes ", sizes, ", strides ", strides,
              ", storage offset ", offset, " require a storage of ", static_cast<uint64_t>(max_index) + 1,
              " elements, but it holds only ", capacity);
  Tensor out = make_view(*this, Dims(sizes), Dims(strides), offset);
  const Dims base_sizes(shape()), base_strides(this->strides()), view_sizes(sizes), view_strides(strides);
  const int64_t base_offset = storage_offset();
  record_scatter_view(*this, out, "AsStridedBackward0", [=](const VjpArgs& a) {
    return Tensors{strided_view_backward(a.grads[0], base_sizes, base_strides, base_offset, view_sizes, view_strides, offset)};
  });
  return out;
}

Tensor Tensor::unfold(int64_t d, int64_t size, int64_t step) const {
  if (lazy::recording() && is_pending(*this)) [[unlikely]]
    return lazy::record1("unfold", [](const Tensors& in, int64_t d, int64_t n, int64_t st) { return in[0].unfold(d, n, st); }, {*this}, d, size, step);
  check_defined(*this, "unfold");
  d = wrap_dim(d, dim(), "unfold");
  const int64_t n = dim() == 0 ? 1 : shape()[d];
  RICCI_CHECK(size >= 0 && size <= n, ShapeError, "[unfold] maximum size for tensor at dimension ", d, " is ", n, " but size is ", size);
  RICCI_CHECK(step > 0, ValueError, "[unfold] step is ", step, " but must be > 0");
  Dims sizes(shape()), strides(this->strides());
  if (dim() == 0) {
    sizes = Dims{size};
    strides = Dims{1};
  } else {
    sizes[d] = (n - size) / step + 1;
    strides[d] = scaled_stride(strides[d], step, sizes[d], "unfold", shape());
    sizes.push_back(size);
    strides.push_back(this->strides()[d]);
  }
  Tensor out = make_view(*this, std::move(sizes), std::move(strides), storage_offset());
  const Dims base(shape());
  record_scatter_view(*this, out, "UnfoldBackward0", [base, d, size, step](const VjpArgs& a) {
    return Tensors{view_backward(a.grads[0], base, [=](const Tensor& z) { return z.unfold(d, size, step); })};
  });
  return out;
}

Tensor Tensor::detach() const {
  check_defined(*this, "detach");
  // Shares storage (and so the version counter) but is not a differentiable view: an in-place
  // write through it does not enter the base's history, as in PyTorch.
  Tensor out = make_tensor(impl().storage, dtype(), Dims(shape()), Dims(strides()), storage_offset());
  if (is_inference()) out.impl().is_inference = true;
  return out;
}

Tensor& Tensor::detach_() {
  if (auto* m = autograd::meta_of(*this)) {
    m->grad_fn.reset();
    m->requires_grad = false;
    m->output_nr = 0;
  }
  impl().view_base.reset();
  return *this;
}

}  // namespace ricci
