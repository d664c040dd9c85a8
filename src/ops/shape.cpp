// Shape ops that move data: cat, stack, split, chunk, tril, triu, repeat, tile, flip, roll,
// repeat_interleave, diff.
// Copies go through the core's copy kernel (any layout, any dtype pair) over views made here
// without autograd; each op records one node whose rule is written in ricci ops.
#include <algorithm>
#include <cstring>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/index.h"
#include "ricci/ops/shape.h"
#include "ricci/parallel.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// A layout over t's storage for the kernels (no autograd, no view tracking).
Tensor raw_view(const Tensor& t, Dims sizes, Dims strides, int64_t offset) {
  return make_tensor(t.impl().storage, t.dtype(), std::move(sizes), std::move(strides), offset);
}

// PyTorch's legacy rule: a 1-D empty tensor joins anything (it is skipped).
bool skipped_in_cat(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("cat", [](const Tensors& in, int64_t d) { return cat(in, d); }, tensors, dim);
  RICCI_CHECK(!tensors.empty(), ValueError, "[cat] expected a non-empty list of Tensors");
  const Tensor* ref = nullptr;
  DType dtype = tensors[0].defined() ? tensors[0].dtype() : float32;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    RICCI_CHECK(t.defined(), ValueError, "[cat] tensor number ", i, " in the list is undefined");
    RICCI_CHECK(t.device() == tensors[0].device(), DeviceError, "[cat] Expected all tensors to be on the same device, but found at least two devices, ",
                tensors[0].device(), " and ", t.device(), " (tensor number ", i, "); move them with .to(device)");
    RICCI_CHECK(t.dim() > 0, ShapeError, "[cat] zero-dimensional tensor (at position ", i,
                ") cannot be concatenated; use stack() or unsqueeze it first");
    dtype = promote_types(dtype, t.dtype());
    if (!ref && !skipped_in_cat(t)) ref = &t;
  }
  if (!ref) {
    // Only legacy empties: the result is one of them, in the promoted dtype.
    Tensor out = empty_tensor({0}, dtype, tensors[0].device());
    return out;
  }
  dim = wrap_dim(dim, ref->dim(), "cat");
  const size_t n = tensors.size();
  std::vector<int64_t> lengths(n, 0);
  std::vector<DType> dtypes(n);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = tensors[i];
    dtypes[i] = t.dtype();
    if (skipped_in_cat(t)) {
      lengths[i] = -1;
      continue;
    }
    RICCI_CHECK(t.dim() == ref->dim(), ShapeError, "[cat] Tensors must have same number of dimensions: got ", ref->dim(),
                " and ", t.dim(), " (tensor number ", i, " has shape ", t.shape(), ")");
    for (int64_t d = 0; d < t.dim(); ++d) {
      RICCI_CHECK(d == dim || t.size(d) == ref->size(d), ShapeError, "[cat] Sizes of tensors must match except in dimension ",
                  dim, ". Expected size ", ref->size(d), " but got size ", t.size(d), " for tensor number ", i, " in the list.");
    }
    lengths[i] = t.size(dim);
    total = checked_add(total, t.size(dim), "cat", t.shape(), "the concatenated size");
  }
  Dims out_sizes(ref->shape());
  out_sizes[dim] = total;
  Tensor out = empty_tensor(out_sizes, dtype, ref->device(), "cat");
  const Dims out_strides(out.strides());
  int64_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    if (lengths[i] <= 0) continue;
    copy_kernel(raw_view(out, Dims(tensors[i].shape()), out_strides, offset * out_strides[dim]), tensors[i]);
    offset += lengths[i];
  }
  bool any = false;
  for (const Tensor& t : tensors) any = any || autograd::needs_grad(t);
  if (any) {
    // record() takes a fixed list of inputs: record with none, then add one edge per tensor.
    auto node = autograd::record("CatBackward0", {}, {&out}, {}, {}, [lengths, dtypes, dim](const VjpArgs& g) {
      Tensors grads(lengths.size());
      int64_t off = 0;
      for (size_t i = 0; i < lengths.size(); ++i) {
        if (!g.needs_input_grad(i)) {
          off += std::max<int64_t>(lengths[i], 0);
          continue;
        }
        if (lengths[i] < 0) {
          grads[i] = zeros({0}, TensorOptions(dtypes[i], g.grads[0].device()));
          continue;
        }
        Tensor gi = g.grads[0].narrow(dim, off, lengths[i]);
        grads[i] = gi.dtype() == dtypes[i] ? gi : gi.to(dtypes[i]);
        off += lengths[i];
      }
      return grads;
    });
    for (const Tensor& t : tensors) node->add_next_edge(autograd::gradient_edge(t));
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("stack", [](const Tensors& in, int64_t d) { return stack(in, d); }, tensors, dim);
  RICCI_CHECK(!tensors.empty(), ValueError, "[stack] expects a non-empty TensorList");
  for (size_t i = 0; i < tensors.size(); ++i) {
    RICCI_CHECK(tensors[i].defined(), ValueError, "[stack] tensor number ", i, " in the list is undefined");
    RICCI_CHECK(tensors[i].shape() == tensors[0].shape(), ShapeError, "[stack] stack expects each tensor to be equal size, but got ",
                tensors[0].shape(), " at entry 0 and ", tensors[i].shape(), " at entry ", i);
  }
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  Dims out_sizes(tensors[0].shape());
  out_sizes.insert(static_cast<size_t>(dim), static_cast<int64_t>(tensors.size()));
  checked_numel(out_sizes, "stack");  // before cat, so the error names this op
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(dim));
  return cat(parts, dim);
}

namespace {

// Note [Split's one backward node]: the pieces of split/chunk are views of `self` (narrow's
// layouts, so in-place writes through them rewrite self's history as any view's do), recorded as
// the outputs of ONE node whose backward concatenates their gradients (missing ones arrive as
// zeros), as PyTorch's SplitBackward0 does. With one node per piece (narrow's SliceBackward0),
// each piece's backward made a zeroed tensor of self's shape, copied its gradient in, and the
// engine summed the k results: for the GPT's q, k, v split 5 ms a step instead of ~1 (issue 16).
// Lazy recording of a pending tensor keeps narrow (it records per piece).
// cat(grads, dim) for split's backward. Contiguous CPU gradients of one dtype that need no graph
// themselves are copied block by block (each piece's run of dims dim.. is contiguous on both
// sides), over the pool: cat's general strided copy took ~0.6 ms for the GPT's q, k, v, this ~0.2.
Tensor join_grads(const Tensors& grads, int64_t dim) {
  bool fast = lazy::detail::running_on_values();
  for (const Tensor& g : grads)
    fast = fast && g.is_contiguous() && g.dtype() == grads[0].dtype() && g.device().type == DeviceType::CPU &&
           !autograd::needs_grad(g);
  if (!fast) return cat(grads, dim);
  Dims shape(grads[0].shape());
  shape[dim] = 0;
  for (const Tensor& g : grads) shape[dim] += g.size(dim);
  Tensor out = empty_tensor(shape, grads[0].dtype(), grads[0].device(), "cat");
  int64_t outer = 1, inner = static_cast<int64_t>(out.element_size());
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= shape[d];
  const int64_t row = shape[dim] * inner;  // bytes of one outer index in the output
  if (outer == 0 || row == 0) return out;
  char* dst = static_cast<char*>(out.data_ptr());
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / row);
  parallel_for(0, outer, grain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      int64_t off = 0;
      for (const Tensor& g : grads) {
        const int64_t n = g.size(dim) * inner;
        if (n > 0) std::memcpy(dst + o * row + off, static_cast<const char*>(g.data_ptr()) + o * n, static_cast<size_t>(n));
        off += n;
      }
    }
  });
  return out;
}

std::vector<Tensor> split_views(const Tensor& self, const std::vector<int64_t>& sizes, int64_t dim) {
  std::vector<Tensor> out;
  out.reserve(sizes.size());
  if (lazy::recording() && is_pending(self)) [[unlikely]] {
    // A compile trace records the split whole, with its one node (below), whose rule it replays.
    if (lazy::detail::fast_forms_apply())
      return lazy::record_n("split", [](const Tensors& in, const Dims& sz, int64_t d) {
        return split_views(in[0], std::vector<int64_t>(sz.begin(), sz.end()), d); }, {self}, Dims(sizes), dim);
    int64_t start = 0;
    for (int64_t s : sizes) {
      out.push_back(self.narrow(dim, start, s));
      start += s;
    }
    return out;
  }
  const int64_t stride = self.stride(dim);
  int64_t start = 0;
  for (int64_t s : sizes) {
    Dims shape(self.shape());
    shape[dim] = s;
    const int64_t offset = checked_add(self.storage_offset(), checked_mul(start, stride, "split", self.shape(), "the offset"),
                                       "split", self.shape(), "the offset");
    out.push_back(make_view(self, std::move(shape), Dims(self.strides()), offset));
    start += s;
  }
  if (autograd::needs_grad(self)) {
    std::vector<Tensor*> outs;
    outs.reserve(out.size());
    for (Tensor& t : out) outs.push_back(&t);
    autograd::record("SplitBackward0", {&self}, outs, {}, {}, [dim](const VjpArgs& a) {
      return Tensors{a.grads.size() == 1 ? a.grads[0] : join_grads(a.grads, dim)};
    })->set_replayable();
  }
  return out;
}

}  // namespace

std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim) {
  check_defined(self, "split");
  RICCI_CHECK(self.dim() > 0, ShapeError, "[split] split expects at least a 1-dimensional tensor");
  dim = wrap_dim(dim, self.dim(), "split");
  RICCI_CHECK(split_size >= 0, ValueError, "[split] split expects split_size be non-negative, but got split_size=", split_size);
  const int64_t n = self.size(dim);
  RICCI_CHECK(split_size > 0 || n == 0, ValueError, "[split] split_size can only be 0 if dimension size is 0, but got dimension size of ", n);
  std::vector<Tensor> out;
  if (n == 0) {
    out.push_back(self.narrow(dim, 0, 0));
    return out;
  }
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < n; start += split_size) sizes.push_back(std::min(split_size, n - start));
  return split_views(self, sizes, dim);
}

std::vector<Tensor> split(const Tensor& self, IntArrayRef split_sizes, int64_t dim) {
  check_defined(self, "split");
  RICCI_CHECK(self.dim() > 0, ShapeError, "[split] split expects at least a 1-dimensional tensor");
  dim = wrap_dim(dim, self.dim(), "split");
  const int64_t n = self.size(dim);
  int64_t sum = 0;
  for (int64_t s : split_sizes) {
    RICCI_CHECK(s >= 0, ValueError, "[split] split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=", split_sizes);
    sum = checked_add(sum, s, "split", split_sizes, "the sum of split_sizes");
  }
  RICCI_CHECK(sum == n, ValueError, "[split] split_with_sizes expects split_sizes to sum exactly to ", n,
              " (input tensor's size at dimension ", dim, "), but got split_sizes=", split_sizes);
  return split_views(self, std::vector<int64_t>(split_sizes.begin(), split_sizes.end()), dim);
}

std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim) {
  check_defined(self, "chunk");
  RICCI_CHECK(self.dim() > 0, ShapeError, "[chunk] chunk expects at least a 1-dimensional tensor");
  RICCI_CHECK(chunks > 0, ValueError, "[chunk] chunk expects `chunks` to be greater than 0, got: ", chunks);
  dim = wrap_dim(dim, self.dim(), "chunk");
  const int64_t n = self.size(dim);
  const int64_t split_size = n / chunks + (n % chunks != 0);  // ceil, without overflow for huge chunks
  if (split_size == 0 && n == 0) {
    std::vector<int64_t> sizes(static_cast<size_t>(chunks), 0);
    return split(self, IntArrayRef(sizes), dim);
  }
  return split(self, split_size, dim);
}

namespace {

Tensor tri(const Tensor& self, int64_t diagonal, bool upper) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(upper ? "triu" : "tril", [](const Tensors& in, int64_t d, bool u) { return tri(in[0], d, u); }, {self},
                         diagonal, upper);
  const char* op = upper ? "triu" : "tril";
  check_defined(self, op);
  RICCI_CHECK(self.dim() >= 2, ShapeError, "[", op, "] ", op, ": input tensor must have at least 2 dimensions, got shape ",
              self.shape());
  Tensor out = empty_tensor(self.shape(), self.dtype(), self.device());
  copy_kernel(out, self);
  if (out.numel() > 0) {
    static const auto id = kernels::op_id("tri");
    kernels::kernel_table().get<kernels::TriKernel>(id, out.device(), out.dtype())(out, diagonal, upper);
  }
  if (autograd::needs_grad(self)) {
    autograd::record(upper ? "TriuBackward0" : "TrilBackward0", {&self}, {&out}, {}, {}, [diagonal, upper](const VjpArgs& g) {
      return Tensors{upper ? triu(g.grads[0], diagonal) : tril(g.grads[0], diagonal)};
    });
  }
  return out;
}

}  // namespace

Tensor tril(const Tensor& self, int64_t diagonal) { return tri(self, diagonal, false); }
Tensor triu(const Tensor& self, int64_t diagonal) { return tri(self, diagonal, true); }

Tensor repeat(const Tensor& self, IntArrayRef repeats) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("repeat", [](const Tensors& in, const Dims& r) { return repeat(in[0], r); }, {self}, Dims(repeats));
  check_defined(self, "repeat");
  const int64_t nr = static_cast<int64_t>(repeats.size());
  RICCI_CHECK(nr >= self.dim(), ShapeError, "[repeat] Number of dimensions of repeat dims (", nr,
              ") can not be smaller than number of dimensions of tensor (", self.dim(), ")");
  const int64_t lead = nr - self.dim();
  // The source seen as [r0, s0, r1, s1, ...] with stride 0 along every r: one strided copy.
  Dims src_sizes, src_strides, out_sizes, padded;
  for (int64_t i = 0; i < nr; ++i) {
    const int64_t s = i < lead ? 1 : self.size(i - lead);
    const int64_t st = i < lead ? 0 : self.stride(i - lead);
    RICCI_CHECK(repeats[i] >= 0, ValueError, "[repeat] Trying to create tensor with negative dimension ", repeats[i], ": ", repeats);
    src_sizes.push_back(repeats[i]);
    src_strides.push_back(0);
    src_sizes.push_back(s);
    src_strides.push_back(st);
    out_sizes.push_back(checked_mul(repeats[i], s, "repeat", repeats, "the repeated size"));
    padded.push_back(s);
  }
  // When the output is not empty, the [r0, s0, r1, s1, ...] view below has its numel; else no copy runs.
  Tensor out = empty_tensor(out_sizes, self.dtype(), self.device(), "repeat");
  if (out.numel() > 0) {
    copy_kernel(raw_view(out, src_sizes, contiguous_strides(src_sizes), out.storage_offset()),
                raw_view(self, src_sizes, src_strides, self.storage_offset()));
  }
  if (autograd::needs_grad(self)) {
    const Dims self_sizes(self.shape());
    autograd::record("RepeatBackward0", {&self}, {&out}, {}, {}, [src_sizes, self_sizes, nr](const VjpArgs& g) {
      if (nr == 0) return Tensors{g.grads[0]};
      // Empty output: src_sizes (repeats interleaved with sizes) need not be a valid shape then.
      if (g.grads[0].numel() == 0) return Tensors{zeros(self_sizes, TensorOptions(g.grads[0].dtype(), g.grads[0].device()))};
      std::vector<int64_t> rdims;
      for (int64_t i = 0; i < nr; ++i) rdims.push_back(2 * i);
      return Tensors{g.grads[0].reshape(src_sizes).sum(rdims).reshape(self_sizes)};
    });
  }
  return out;
}

Tensor tile(const Tensor& self, IntArrayRef reps) {
  check_defined(self, "tile");
  if (static_cast<int64_t>(reps.size()) >= self.dim()) return repeat(self, reps);
  Dims padded(static_cast<size_t>(self.dim() - static_cast<int64_t>(reps.size())), 1);
  for (int64_t r : reps) padded.push_back(r);
  return repeat(self, padded);
}

Tensor flip(const Tensor& self, IntArrayRef dims) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("flip", [](const Tensors& in, const Dims& d) { return flip(in[0], d); }, {self}, Dims(dims));
  check_defined(self, "flip");
  Dims sizes(self.shape()), strides(self.strides());
  int64_t offset = self.storage_offset();
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(self.dim(), 1)), false);
  Dims wrapped;
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, self.dim(), "flip");
    RICCI_CHECK(!seen[w], ValueError, "[flip] dim ", w, " appears multiple times in the list of dims ", dims);
    seen[w] = true;
    wrapped.push_back(w);
    if (self.dim() == 0 || sizes[w] == 0) continue;
    // A negative stride walks the dim backwards; only the kernels ever see this layout.
    offset += (sizes[w] - 1) * strides[w];
    strides[w] = -strides[w];
  }
  Tensor out = empty_tensor(self.shape(), self.dtype(), self.device());
  if (out.numel() > 0) copy_kernel(out, raw_view(self, sizes, strides, offset));
  if (autograd::needs_grad(self)) {
    autograd::record("FlipBackward0", {&self}, {&out}, {}, {},
                     [wrapped](const VjpArgs& g) { return Tensors{flip(g.grads[0], wrapped)}; });
  }
  return out;
}

Tensor roll(const Tensor& self, IntArrayRef shifts, IntArrayRef dims) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("roll", [](const Tensors& in, const Dims& s, const Dims& d) { return roll(in[0], s, d); }, {self},
                         Dims(shifts), Dims(dims));
  check_defined(self, "roll");
  if (dims.empty()) {
    RICCI_CHECK(shifts.size() == 1, ValueError, "[roll] shifts must have exactly one value when dims is not given, got ", shifts);
    const int64_t zero = 0;
    return roll(self.flatten(), shifts, IntArrayRef(&zero, 1)).view(self.shape());
  }
  RICCI_CHECK(shifts.size() == dims.size(), ValueError, "[roll] shifts and dimensions must align. shifts: ", shifts.size(),
              ", dims:", dims.size());
  Tensor x = self;
  bool moved = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], self.dim(), "roll");
    if (self.dim() == 0) continue;
    const int64_t n = x.size(d);
    if (n == 0) continue;
    const int64_t s = ((shifts[i] % n) + n) % n;
    if (s == 0) continue;
    x = cat({x.narrow(d, n - s, s), x.narrow(d, 0, n - s)}, d);
    moved = true;
  }
  return moved ? x : self.clone();
}

// ---- repeat_interleave -----------------------------------------------------------------------------

Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size) {
  check_defined(repeats, "repeat_interleave", "repeats");
  RICCI_CHECK(repeats.dim() == 1, ShapeError, "[repeat_interleave] repeat_interleave only accept 1D vector as repeat, got shape ",
              repeats.shape());
  RICCI_CHECK(repeats.dtype() == int64 || repeats.dtype() == int32, NotImplementedError,
              "[repeat_interleave] \"repeat_interleave\" not implemented for ", repeats.dtype(),
              " repeats: they must be an int64 or int32 tensor");
  const std::vector<int64_t> reps = repeats.to_vector<int64_t>();
  int64_t total = 0;
  for (int64_t r : reps) {
    RICCI_CHECK(r >= 0, ValueError, "[repeat_interleave] repeats can not be negative (got ", r, ")");
    total += r;
  }
  RICCI_CHECK(!output_size || *output_size == total, ValueError,
              "[repeat_interleave] allocated size does not match required size: output_size is ", output_size.value_or(0),
              " but the repeats add up to ", total);
  std::vector<int64_t> idx;
  idx.reserve(static_cast<size_t>(total));
  for (size_t i = 0; i < reps.size(); ++i) idx.insert(idx.end(), static_cast<size_t>(reps[i]), static_cast<int64_t>(i));
  return from_vector(idx, {total}, TensorOptions(int64, repeats.device())).to(repeats.dtype());
}

Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  check_defined(self, "repeat_interleave");
  check_defined(repeats, "repeat_interleave", "repeats");
  const Tensor x = dim ? self : self.flatten();
  const int64_t d = dim ? wrap_dim(*dim, self.dim(), "repeat_interleave") : 0;
  RICCI_CHECK(x.dim() > 0, IndexError, "[repeat_interleave] Dimension specified as ", *dim,
              " but tensor has no dimensions; leave dim unset to repeat the element");
  const int64_t n = x.size(d);
  Tensor reps = repeats;
  if (repeats.dim() == 0 || (repeats.dim() == 1 && repeats.size(0) == 1)) {
    reps = repeats.reshape({1}).expand({n});
  } else {
    RICCI_CHECK(repeats.dim() == 1, ShapeError, "[repeat_interleave] repeats must be 0-dim or 1-dim tensor, got shape ",
                repeats.shape());
    RICCI_CHECK(repeats.size(0) == n, ShapeError,
                "[repeat_interleave] repeats must have the same size as input along dim, but got repeats.size(0) = ",
                repeats.size(0), " and input.size(", d, ") = ", n);
  }
  return index_select(x, d, repeat_interleave(reps, output_size));
}

Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  check_defined(self, "repeat_interleave");
  RICCI_CHECK(repeats >= 0, ValueError, "[repeat_interleave] Repeats must be non-negative, got ", repeats);
  const Tensor x = dim ? self : self.flatten();
  const int64_t d = dim ? wrap_dim(*dim, self.dim(), "repeat_interleave") : 0;
  RICCI_CHECK(x.dim() > 0, IndexError, "[repeat_interleave] Dimension specified as ", *dim,
              " but tensor has no dimensions; leave dim unset to repeat the element");
  RICCI_CHECK(!output_size || *output_size == x.size(d) * repeats, ValueError,
              "[repeat_interleave] repeat_interleave: Invalid output_size, expected ", x.size(d) * repeats, " but got ",
              output_size.value_or(0));
  // [.., n, ..] -> [.., n, repeats, ..] (a stride-0 view) -> merged: expand and reshape give the
  // gradient (a sum over the repeats). The result never aliases self.
  Dims sizes(x.shape());
  sizes.insert(static_cast<size_t>(d + 1), repeats);
  Dims merged(x.shape());
  merged[d] *= repeats;
  Tensor out = x.unsqueeze(d + 1).expand(sizes).reshape(merged);
  return out.shares_storage_with(self) ? out.clone() : out;
}

// ---- diff --------------------------------------------------------------------------------------------

namespace {

void check_diff_operand(const Tensor& self, const Tensor& other, int64_t d) {
  if (!other.defined()) return;
  RICCI_CHECK(other.dim() == self.dim(), ShapeError,
              "[diff] diff expects prepend or append to be the same dimension as input (input has ", self.dim(),
              " dims, got a tensor with ", other.dim(), ")");
  for (int64_t i = 0; i < other.dim(); ++i) {
    RICCI_CHECK(i == d || other.size(i) == self.size(i), ShapeError,
                "[diff] diff expects the shape of tensor to prepend or append to match that of input except along the "
                "differencing dimension; input.size(", i, ") = ", self.size(i), ", but got tensor.size(", i, ") = ",
                other.size(i));
  }
}

}  // namespace

Tensor diff(const Tensor& self, int64_t n, int64_t dim, const Tensor& prepend, const Tensor& append) {
  check_defined(self, "diff");
  RICCI_CHECK(self.dim() >= 1, ShapeError, "[diff] diff expects input to be at least one-dimensional");
  RICCI_CHECK(n >= 0, ValueError, "[diff] order must be non-negative but got ", n);
  const int64_t d = wrap_dim(dim, self.dim(), "diff");
  check_diff_operand(self, prepend, d);
  check_diff_operand(self, append, d);
  if (n == 0) return self.clone();  // PyTorch ignores prepend/append here
  Tensor x = self;
  if (prepend.defined() || append.defined()) {
    std::vector<Tensor> parts;
    if (prepend.defined()) parts.push_back(prepend);
    parts.push_back(self);
    if (append.defined()) parts.push_back(append);
    x = cat(parts, d);
  }
  const int64_t steps = std::min(n, x.size(d));
  if (steps == 0) return x.clone();
  int64_t len = x.size(d) - 1;
  for (int64_t i = 0; i < steps; ++i, --len) {
    const Tensor hi = x.narrow(d, 1, len), lo = x.narrow(d, 0, len);
    x = x.dtype() == DType::Bool ? logical_xor(hi, lo) : hi - lo;
  }
  return x;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::repeat(IntArrayRef repeats) const { return ricci::repeat(*this, repeats); }
Tensor Tensor::tile(IntArrayRef reps) const { return ricci::tile(*this, reps); }
Tensor Tensor::flip(IntArrayRef dims) const { return ricci::flip(*this, dims); }
Tensor Tensor::roll(IntArrayRef shifts, IntArrayRef dims) const { return ricci::roll(*this, shifts, dims); }
Tensor Tensor::tril(int64_t diagonal) const { return ricci::tril(*this, diagonal); }
Tensor Tensor::triu(int64_t diagonal) const { return ricci::triu(*this, diagonal); }
std::vector<Tensor> Tensor::split(int64_t split_size, int64_t dim) const { return ricci::split(*this, split_size, dim); }
std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t dim) const { return ricci::chunk(*this, chunks, dim); }
Tensor Tensor::repeat_interleave(int64_t repeats, std::optional<int64_t> dim, std::optional<int64_t> output_size) const {
  return ricci::repeat_interleave(*this, repeats, dim, output_size);
}
Tensor Tensor::repeat_interleave(const Tensor& repeats, std::optional<int64_t> dim, std::optional<int64_t> output_size) const {
  return ricci::repeat_interleave(*this, repeats, dim, output_size);
}
Tensor Tensor::diff(int64_t n, int64_t dim, const Tensor& prepend, const Tensor& append) const {
  return ricci::diff(*this, n, dim, prepend, append);
}

}  // namespace ricci
