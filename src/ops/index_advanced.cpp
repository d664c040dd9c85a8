// NumPy/PyTorch indexing: x.index({0, Slice(1, None), None, Ellipsis, mask, idx}) and
// index_put_. An index list is first turned into a plan: the basic entries (integers, slices,
// None, Ellipsis) become view steps (select / slice / unsqueeze), which are differentiable
// views; the advanced entries (integer tensors, bool masks as their nonzero positions, bools as a
// new axis indexed by [0] or []) stay
// attached to the dims of that view. The advanced part then runs as one strided kernel over the
// result shape (PyTorch's "restride" trick: the source gets stride 0 on the broadcast index
// dims, each index tensor stride 0 on the others).
#include <algorithm>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/index.h"
#include "ricci/ops/shape.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;
using Kind = TensorIndex::Kind;

namespace {

// ---- the plan --------------------------------------------------------------------------------------

struct Step {
  enum Op : uint8_t { Select, SliceOp, Unsqueeze } op;
  int64_t dim;
  int64_t a = 0, b = 0, step = 1;  // select: a; slice: [a, b) by step
};

struct Plan {
  std::vector<Step> steps;
  std::vector<Tensor> adv;  // one per dim of the view: an int64 index, or undefined
  bool has_adv = false;

  Tensor apply(Tensor t) const {
    for (const Step& s : steps) {
      switch (s.op) {
        case Step::Select: t = t.select(s.dim, s.a); break;
        case Step::SliceOp: t = t.slice(s.dim, s.a, s.b, s.step); break;
        case Step::Unsqueeze: t = t.unsqueeze(s.dim); break;
      }
    }
    return t;
  }
};

// The true positions of a bool mask, one int64 1-D tensor per mask dim (a CPU pass).
std::vector<Tensor> nonzero_columns(const Tensor& mask) {
  const Tensor m = mask.to(kCPU).contiguous();
  const int64_t k = m.dim(), n = m.numel();
  const bool* p = m.data_ptr<bool>();
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += p[i] ? 1 : 0;
  std::vector<Tensor> cols;
  std::vector<int64_t*> out;
  for (int64_t d = 0; d < k; ++d) {
    cols.push_back(empty_tensor({count}, int64, kCPU));
    out.push_back(cols.back().data_ptr<int64_t>());
  }
  Dims pos(static_cast<size_t>(k), 0);
  int64_t w = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (p[i]) {
      for (int64_t d = 0; d < k; ++d) out[d][w] = pos[d];
      ++w;
    }
    for (int64_t d = k - 1; d >= 0; --d) {
      if (++pos[d] < m.size(d)) break;
      pos[d] = 0;
    }
  }
  if (mask.device() != kCPU) {
    for (Tensor& c : cols) c = c.to(mask.device());
  }
  return cols;
}

// bool and uint8 index tensors select positions (masks); other integer tensors are indices.
bool is_mask(const Tensor& t) { return t.dtype() == bool_ || t.dtype() == uint8; }

Plan make_plan(const Tensor& self, const std::vector<TensorIndex>& indices, const char* op) {
  // How many dims of self the entries consume (Ellipsis takes the rest).
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& ix : indices) {
    switch (ix.kind()) {
      case Kind::Integer: case Kind::Slice: ++consumed; break;
      case Kind::Ellipsis: ++ellipses; break;
      case Kind::Tensor:
        check_defined(ix.tensor(), op, "index");
        consumed += is_mask(ix.tensor()) ? ix.tensor().dim() : 1;
        break;
      default: break;
    }
  }
  RICCI_CHECK(ellipses <= 1, IndexError, "[", op, "] an index can only have a single ellipsis ('...')");
  RICCI_CHECK(consumed <= self.dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", self.dim(),
              " (got ", consumed, ")");
  Plan plan;
  Dims sizes(self.shape());  // shape of the view as the steps build it
  int64_t dim = 0;           // current dim of the view
  // None: a new axis of size 1. A bool (or a 0-d bool tensor) is an advanced index, as in
  // PyTorch/NumPy: a new axis of size 1 indexed by [0] (true) or by [] (false), so it broadcasts
  // with the other advanced indices (x[True, 1, False] on [3, 4] is [0, 4]).
  auto add_axis = [&](std::optional<bool> mask) {
    plan.steps.push_back({Step::Unsqueeze, dim});
    sizes.insert(static_cast<size_t>(dim), 1);
    if (mask) {
      plan.adv.push_back(zeros({*mask ? 1 : 0}, TensorOptions(int64, self.device())));
      plan.has_adv = true;
    } else {
      plan.adv.emplace_back();
    }
    ++dim;
  };
  for (const TensorIndex& ix : indices) {
    switch (ix.kind()) {
      case Kind::Integer: {
        const int64_t n = sizes[dim], i = ix.integer();
        RICCI_CHECK(i >= -n && i < n, IndexError, "[", op, "] index ", i, " is out of bounds for dimension ", dim,
                    " with size ", n);
        plan.steps.push_back({Step::Select, dim, i < 0 ? i + n : i});
        sizes.erase(static_cast<size_t>(dim));
        break;
      }
      case Kind::Slice: {
        const Slice& s = ix.slice();
        RICCI_CHECK(s.step > 0, ValueError, "[", op, "] slice step must be greater than zero, got ", s.step,
                    " (negative steps are not supported; use flip())");
        const int64_t n = sizes[dim];
        int64_t start = s.start.value_or(0), stop = s.stop.value_or(n);
        if (start < 0) start += n;
        if (stop < 0) stop += n;
        start = std::clamp<int64_t>(start, 0, n);
        stop = std::clamp<int64_t>(stop, start, n);
        plan.steps.push_back({Step::SliceOp, dim, start, stop, s.step});
        sizes[dim] = (stop - start + s.step - 1) / s.step;
        plan.adv.emplace_back();
        ++dim;
        break;
      }
      case Kind::None: add_axis(std::nullopt); break;
      case Kind::Boolean: add_axis(ix.boolean()); break;
      case Kind::Ellipsis:
        for (int64_t r = 0; r < self.dim() - consumed; ++r) {
          plan.adv.emplace_back();
          ++dim;
        }
        break;
      case Kind::Tensor: {
        // A uint8 tensor is a mask too (PyTorch's legacy rule), with every non-zero byte true.
        const Tensor t = ix.tensor().dtype() == uint8 ? ix.tensor().ne(0) : ix.tensor();
        RICCI_CHECK(t.device() == self.device(), DeviceError, "[", op,
                    "] indices should be either on cpu or on the same device as the indexed tensor (", self.device(),
                    "), got an index on ", t.device());
        if (t.dtype() == bool_) {
          if (t.dim() == 0) {
            add_axis(t.item<bool>());
            break;
          }
          for (int64_t d = 0; d < t.dim(); ++d) {
            RICCI_CHECK(t.size(d) == sizes[dim + d], IndexError, "[", op, "] The shape of the mask ", t.shape(), " at index ", d,
                        " does not match the shape of the indexed tensor ", Dims(sizes), " at index ", dim + d);
          }
          for (Tensor& c : nonzero_columns(t)) {
            plan.adv.push_back(std::move(c));
            ++dim;
          }
        } else {
          RICCI_CHECK(is_integral(t.dtype()), IndexError, "[", op,
                      "] tensors used as indices must be long, int, byte or bool tensors, got ", t.dtype(),
                      "; convert integer positions with .to(int64) or a mask with .to(bool_)");
          plan.adv.push_back(t.to(int64));
          ++dim;
        }
        plan.has_adv = true;
        break;
      }
    }
  }
  while (static_cast<int64_t>(plan.adv.size()) < static_cast<int64_t>(sizes.size())) plan.adv.emplace_back();
  return plan;
}

// ---- the advanced part -----------------------------------------------------------------------------

Tensor raw(const Tensor& t, Dims sizes, Dims strides) {
  return make_tensor(t.impl().storage, t.dtype(), std::move(sizes), std::move(strides), t.storage_offset());
}

// Strides of t broadcast to shape (right-aligned, 0 where stretched or missing).
Dims broadcast_strides(const Tensor& t, IntArrayRef shape) {
  Dims st(shape.size(), 0);
  const int64_t lead = static_cast<int64_t>(shape.size()) - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d) st[lead + d] = t.size(d) == 1 ? 0 : t.stride(d);
  return st;
}

struct AdvLayout {
  Dims result;
  Tensor src_r;
  std::vector<Tensor> idx_r;
  kernels::AdvancedIndexArgs args;
  void bind() {
    for (int k = 0; k < args.n; ++k) args.indices[k] = &idx_r[k];
  }
};

AdvLayout make_layout(const Tensor& src, const std::vector<Tensor>& adv, const char* op) {
  std::vector<int64_t> pos;
  for (size_t d = 0; d < adv.size(); ++d)
    if (adv[d].defined()) pos.push_back(static_cast<int64_t>(d));
  RICCI_CHECK(pos.size() <= static_cast<size_t>(kernels::AdvancedIndexArgs::kMax), NotImplementedError, "[", op, "] at most ",
              kernels::AdvancedIndexArgs::kMax, " index tensors are supported, got ", pos.size());
  // Broadcast the index shapes.
  Dims B;
  for (int64_t p : pos) {
    const Tensor& t = adv[p];
    const size_t nd = std::max(B.size(), static_cast<size_t>(t.dim()));
    Dims nb(nd, 1);
    bool ok = true;
    for (size_t i = 0; i < nd; ++i) {
      const int64_t a = i + B.size() >= nd ? B[i + B.size() - nd] : 1;
      const int64_t b = i + t.dim() >= nd ? t.size(static_cast<int64_t>(i + t.dim() - nd)) : 1;
      ok = ok && (a == b || a == 1 || b == 1);
      nb[i] = a == 1 ? b : a;
    }
    if (!ok) {
      std::string shapes;
      for (int64_t q : pos) shapes += detail::cat(shapes.empty() ? "" : ", ", adv[q].shape());
      throw IndexError(detail::cat("[", op, "] shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes));
    }
    B = std::move(nb);
  }
  const bool adjacent = pos.back() - pos.front() + 1 == static_cast<int64_t>(pos.size());
  const int64_t nb = static_cast<int64_t>(B.size());
  AdvLayout L;
  Dims src_st;
  int64_t before = 0;  // result dims before the broadcast block
  if (adjacent) {
    for (int64_t d = 0; d < pos.front(); ++d) {
      L.result.push_back(src.size(d));
      src_st.push_back(src.stride(d));
    }
    before = pos.front();
    for (int64_t b : B) {
      L.result.push_back(b);
      src_st.push_back(0);
    }
    for (int64_t d = pos.back() + 1; d < src.dim(); ++d) {
      L.result.push_back(src.size(d));
      src_st.push_back(src.stride(d));
    }
  } else {
    for (int64_t b : B) {
      L.result.push_back(b);
      src_st.push_back(0);
    }
    for (int64_t d = 0; d < src.dim(); ++d)
      if (!adv[d].defined()) {
        L.result.push_back(src.size(d));
        src_st.push_back(src.stride(d));
      }
  }
  checked_numel(L.result, op);  // broadcast index shapes can make a result no input has
  L.src_r = raw(src, L.result, std::move(src_st));
  L.idx_r.reserve(pos.size());
  for (size_t k = 0; k < pos.size(); ++k) {
    const Tensor& t = adv[pos[k]];
    Dims st(L.result.size(), 0);
    const Dims bst = broadcast_strides(t, B);
    for (int64_t i = 0; i < nb; ++i) st[before + i] = bst[i];
    L.idx_r.push_back(raw(t, L.result, std::move(st)));
    L.args.sizes[k] = src.size(pos[k]);
    L.args.strides[k] = src.stride(pos[k]);
    L.args.dims[k] = pos[k];
  }
  L.args.n = static_cast<int>(pos.size());
  L.bind();
  return L;
}

// values broadcast to `shape` as a raw layout; ShapeError when they don't fit.
Tensor broadcast_values(const Tensor& values, IntArrayRef shape, const char* op) {
  bool ok = values.dim() <= static_cast<int64_t>(shape.size());
  const int64_t lead = static_cast<int64_t>(shape.size()) - values.dim();
  for (int64_t d = 0; ok && d < values.dim(); ++d) ok = values.size(d) == 1 || values.size(d) == shape[lead + d];
  RICCI_CHECK(ok, ShapeError, "[", op, "] shape mismatch: value tensor of shape ", values.shape(),
              " cannot be broadcast to indexing result of shape ", shape);
  return raw(values, Dims(shape), broadcast_strides(values, shape));
}

// Writes values (dst's dtype) into dst[adv] (no autograd).
void write_advanced(const Tensor& dst, const std::vector<Tensor>& adv, const Tensor& values, bool accumulate, const char* op) {
  AdvLayout L = make_layout(dst, adv, op);
  const Tensor v = broadcast_values(values, L.result, op);
  if (product(L.result) == 0) return;
  static const auto id = kernels::op_id("index_put");
  kernels::kernel_table().get<kernels::IndexPutKernel>(id, dst.device(), dst.dtype())(L.src_r, v, L.args, accumulate, op);
}

// Writes values into a basic view (no advanced indices).
void write_basic(const Tensor& view, const Tensor& values, bool accumulate, const char* op) {
  const Tensor v = broadcast_values(values, view.shape(), op);
  if (view.numel() == 0) return;
  if (accumulate) {
    static const auto id = kernels::op_id("accumulate");
    kernels::kernel_table().get<AccumulateKernel>(id, view.device(), view.dtype())(view, v);
  } else {
    copy_kernel(view, v);
  }
}

std::vector<Tensor> unpack_adv(const VjpArgs& g, size_t first, const std::vector<int64_t>& positions, size_t ndim) {
  std::vector<Tensor> adv(ndim);
  for (size_t k = 0; k < positions.size(); ++k) adv[positions[k]] = g.saved[first + k];
  return adv;
}

Tensor adv_index_put(const Tensor& self, const std::vector<Tensor>& adv, const Tensor& values, bool accumulate);

// src[adv]: a new tensor; differentiable (the gradient accumulates into zeros).
Tensor adv_index(const Tensor& src, const std::vector<Tensor>& adv, const char* op) {
  AdvLayout L = make_layout(src, adv, op);
  Tensor out = empty_tensor(L.result, src.dtype(), src.device());
  if (out.numel() > 0) {
    static const auto id = kernels::op_id("index");
    kernels::kernel_table().get<kernels::IndexKernel>(id, src.device(), src.dtype())(out, L.src_r, L.args, op);
  }
  if (autograd::needs_grad(src)) {
    std::vector<int64_t> positions;
    for (size_t d = 0; d < adv.size(); ++d)
      if (adv[d].defined()) positions.push_back(static_cast<int64_t>(d));
    const Dims src_sizes(src.shape());
    auto node = autograd::record("IndexBackward0", {&src}, {&out}, {}, {}, [positions, src_sizes](const VjpArgs& g) {
      const std::vector<Tensor> a = unpack_adv(g, 0, positions, src_sizes.size());
      Tensor z = zeros(src_sizes, TensorOptions(g.grads[0].dtype(), g.grads[0].device()));
      return Tensors{adv_index_put(z, a, g.grads[0], /*accumulate=*/true)};
    });
    for (int64_t p : positions) node->save(adv[p]);
  }
  return out;
}

// A copy of self with values written (or added) at adv; differentiable in self and values.
Tensor adv_index_put(const Tensor& self, const std::vector<Tensor>& adv, const Tensor& values, bool accumulate) {
  Tensor out = empty_tensor(self.shape(), self.dtype(), self.device());
  copy_kernel(out, self);
  write_advanced(out, adv, values.dtype() == self.dtype() ? values : values.to(self.dtype()), accumulate, "index_put");
  if (autograd::needs_grad(self, values)) {
    std::vector<int64_t> positions;
    for (size_t d = 0; d < adv.size(); ++d)
      if (adv[d].defined()) positions.push_back(static_cast<int64_t>(d));
    const Dims vsizes(values.shape());
    const DType vdtype = values.dtype();
    const size_t nd = adv.size();
    auto node = autograd::record("IndexPutBackward0", {&self, &values}, {&out}, {}, {},
                                 [positions, vsizes, vdtype, nd, accumulate](const VjpArgs& g) {
      const std::vector<Tensor> a = unpack_adv(g, 0, positions, nd);
      Tensor gs, gv;
      if (g.needs_input_grad(0)) {
        gs = accumulate ? g.grads[0] : adv_index_put(g.grads[0], a, zeros({}, TensorOptions(g.grads[0].dtype(), g.grads[0].device())), false);
      }
      if (g.needs_input_grad(1)) {
        gv = sum_to(adv_index(g.grads[0], a, "index_put"), vsizes);
        if (gv.dtype() != vdtype) gv = gv.to(vdtype);
      }
      return Tensors{gs, gv};
    });
    for (int64_t p : positions) node->save(adv[p]);
  }
  return out;
}

}  // namespace

Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices) {
  check_defined(self, "index");
  const Plan plan = make_plan(self, indices, "index");
  Tensor view = plan.apply(self);
  if (!plan.has_adv) return view;
  return adv_index(view, plan.adv, "index");
}

Tensor index(const Tensor& self, std::initializer_list<TensorIndex> indices) {
  return index(self, std::vector<TensorIndex>(indices));
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values, bool accumulate) {
  const char* op = "index_put_";
  check_defined(self, op, "self");
  check_defined(values, op, "values");
  check_same_device(op, {&self, &values});
  const Plan plan = make_plan(self, indices, op);
  check_no_internal_overlap(self, op);
  autograd::check_inplace(self, op);
  {
    NoGradGuard no_grad;
    const Tensor view = plan.apply(self.detach());
    const Tensor v = values.dtype() == self.dtype() ? values.detach() : values.detach().to(self.dtype());
    if (plan.has_adv) write_advanced(view, plan.adv, v, accumulate, op);
    else write_basic(view, v, accumulate, op);
  }
  autograd::bump_version(self);
  if (autograd::needs_grad(self, values)) {
    // The rule re-applies the same index list to the gradient; the index tensors ride along.
    const std::vector<TensorIndex> idx(indices);
    const Dims vsizes(values.shape());
    const DType vdtype = values.dtype();
    auto node = autograd::record("IndexPutBackward0", {&self, &values}, {}, {}, {},
                                 [idx, vsizes, vdtype, accumulate](const VjpArgs& g) {
      Tensor gs, gv;
      if (g.needs_input_grad(0)) {
        gs = accumulate ? g.grads[0]
                        : index_put(g.grads[0], idx, zeros({}, TensorOptions(g.grads[0].dtype(), g.grads[0].device())), false);
      }
      if (g.needs_input_grad(1)) {
        gv = sum_to(index(g.grads[0], idx), vsizes);
        if (gv.dtype() != vdtype) gv = gv.to(vdtype);
      }
      return Tensors{gs, gv};
    });
    autograd::rebase_history(self, node);
  }
  return self;
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Scalar& value) {
  check_defined(self, "index_put_", "self");
  Tensor v = empty_tensor({}, self.dtype(), self.device());
  fill_kernel(v, value);
  return index_put_(self, indices, v, false);
}

Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values, bool accumulate) {
  check_defined(self, "index_put", "self");
  Tensor out = self.clone();
  index_put_(out, indices, values, accumulate);
  return out;
}

// ---- Tensor methods ---------------------------------------------------------------------------------

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const { return ricci::index(*this, indices); }
Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, const Tensor& values, bool accumulate) {
  return ricci::index_put_(*this, std::vector<TensorIndex>(indices), values, accumulate);
}
Tensor& Tensor::index_put_(std::initializer_list<TensorIndex> indices, const Scalar& value) {
  return ricci::index_put_(*this, std::vector<TensorIndex>(indices), value);
}

// ---- nonzero -----------------------------------------------------------------------------------------

std::vector<Tensor> nonzero_tuple(const Tensor& self) {
  check_defined(self, "nonzero");
  const Tensor x = self.dim() == 0 ? self.reshape({1}) : self;
  return nonzero_columns(x.dtype() == bool_ ? x : x.ne(0));
}

Tensor nonzero(const Tensor& self) {
  check_defined(self, "nonzero");
  std::vector<Tensor> cols = nonzero_tuple(self);
  if (self.dim() == 0) return empty_tensor({cols[0].size(0), 0}, int64, self.device());  // no coordinates
  return stack(cols, 1);
}

}  // namespace ricci
