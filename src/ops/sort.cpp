// sort, argsort, topk, and the searches of sorted rows (searchsorted, bucketize). The sorted dim is
// moved last and made contiguous, so the kernels only see contiguous rows; the results are moved
// back. Gradients scatter into the positions the indices name.
#include <limits>
#include <string>
#include <tuple>

#include "lazy/record.h"
#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/index.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// Records the backward of a value-selecting op: the gradient goes to the selected positions.
void record_selection(const char* name, const Tensor& self, Tensor& values, Tensor& indices, int64_t dim) {
  if (!autograd::needs_grad(self)) return;
  const Dims self_sizes(self.shape());
  autograd::record(name, {&self}, {&values, &indices}, {&indices}, {}, [self_sizes, dim](const VjpArgs& g) {
    Tensor z = zeros(self_sizes, TensorOptions(g.grads[0].dtype(), g.grads[0].device()));
    if (self_sizes.empty()) return Tensors{g.grads[0]};
    return Tensors{scatter(z, dim, g.saved[0], g.grads[0])};
  });
}

// The input with `dim` last, contiguous, as [rows, n]; `moved` keeps the un-flattened shape.
struct Rows {
  Tensor rows;
  Dims moved;
  int64_t n;
};
Rows to_rows(const Tensor& self, int64_t dim) {
  Tensor x = self.dim() == 0 ? self.reshape({1}) : self;
  Tensor t = x.transpose(dim, -1).contiguous();
  const int64_t n = t.size(-1);
  const int64_t r = n == 0 ? 0 : t.numel() / n;
  return {t.view({r, n}), Dims(t.shape()), n};
}

// Undoes to_rows for a result whose last dim has length k.
Tensor from_rows(const Tensor& out, Dims moved, int64_t k, int64_t dim, bool zero_d) {
  moved.back() = k;
  Tensor t = out.view(moved).transpose(dim, -1);
  if (zero_d) return t.reshape(IntArrayRef{});
  return t.contiguous();
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim, bool descending, bool /*stable: always*/) {
  if (lazy::recording()) [[unlikely]] {
    Tensors r = lazy::record_n("sort", [](const Tensors& in, int64_t d, bool desc) {
      auto [v, i] = sort(in[0], d, desc, true);
      return Tensors{v, i}; }, {self}, dim, descending);
    return {r[0], r[1]};
  }
  check_defined(self, "sort");
  dim = wrap_dim(dim, self.dim(), "sort");
  Tensor values, indices;
  {
    NoGradGuard no_grad;
    Rows r = to_rows(self.detach(), dim);
    Tensor v = empty_tensor(r.rows.shape(), self.dtype(), self.device());
    Tensor i = empty_tensor(r.rows.shape(), int64, self.device());
    if (r.rows.numel() > 0) {
      static const auto id = kernels::op_id("sort");
      kernels::kernel_table().get<kernels::SortKernel>(id, self.device(), self.dtype())(v, i, r.rows, descending);
    }
    values = from_rows(v, r.moved, r.n, dim, self.dim() == 0);
    indices = from_rows(i, r.moved, r.n, dim, self.dim() == 0);
  }
  record_selection("SortBackward0", self, values, indices, dim);
  return {values, indices};
}

Tensor argsort(const Tensor& self, int64_t dim, bool descending, bool stable) {
  NoGradGuard no_grad;
  return std::get<1>(sort(self, dim, descending, stable));
}

std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim, bool largest, bool /*sorted: always*/) {
  if (lazy::recording()) [[unlikely]] {
    Tensors r = lazy::record_n("topk", [](const Tensors& in, int64_t n, int64_t d, bool l) {
      auto [v, i] = topk(in[0], n, d, l, true);
      return Tensors{v, i}; }, {self}, k, dim, largest);
    return {r[0], r[1]};
  }
  check_defined(self, "topk");
  dim = wrap_dim(dim, self.dim(), "topk");
  const int64_t n = self.dim() == 0 ? 1 : self.size(dim);
  RICCI_CHECK(k >= 0 && k <= n, IndexError, "[topk] selected index k out of range: k is ", k, " but dimension ", dim,
              " of the input ", self.shape(), " has size ", n);
  // A 0-d input gives itself (and index 0) for k = 0 as for k = 1, as in PyTorch.
  if (self.dim() == 0) k = 1;
  Tensor values, indices;
  {
    NoGradGuard no_grad;
    Rows r = to_rows(self.detach(), dim);
    const int64_t rows = r.rows.size(0);
    Tensor v = empty_tensor({rows, k}, self.dtype(), self.device());
    Tensor i = empty_tensor({rows, k}, int64, self.device());
    if (v.numel() > 0) {
      static const auto id = kernels::op_id("topk");
      kernels::kernel_table().get<kernels::TopkKernel>(id, self.device(), self.dtype())(v, i, r.rows, k, largest);
    }
    values = from_rows(v, r.moved, k, dim, self.dim() == 0);
    indices = from_rows(i, r.moved, k, dim, self.dim() == 0);
  }
  record_selection("TopkBackward0", self, values, indices, dim);
  return {values, indices};
}

namespace {

Tensor searchsorted_impl(const char* op, const Tensor& seq, const Tensor& values, DType common, bool out_int32,
                         bool right, std::optional<std::string_view> side, const Tensor& sorter) {
  check_same_device(op, {&seq, &values});
  if (side) {
    RICCI_CHECK(*side == "left" || *side == "right", ValueError, "[", op,
                "] torch.searchsorted(): side can only be 'left' or 'right' but got ", std::string(*side));
    RICCI_CHECK(!right || *side == "right", ValueError, "[", op,
                "] torch.searchsorted(): side and right can't be set to opposites, got side of ", std::string(*side),
                " while right was True");
    right = *side == "right";
  }
  RICCI_CHECK(seq.dim() != 0, ShapeError, "[", op,
              "] torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
  RICCI_CHECK(values.dim() > 0 || seq.dim() == 1, ShapeError, "[", op,
              "] torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension is 1, but we got "
              "boundaries tensor dim(", seq.dim(), ") and input value's dim(", values.dim(), ") numel(", values.numel(), ")");
  bool leading_match = seq.dim() == values.dim();
  for (int64_t d = 0; leading_match && d + 1 < seq.dim(); ++d) leading_match = seq.size(d) == values.size(d);
  RICCI_CHECK(seq.dim() == 1 || leading_match, ShapeError, "[", op,
              "] torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
              "tensor and input value tensor must match, but we got boundaries tensor ", seq.shape(),
              " and input value tensor ", values.shape());
  if (sorter.defined()) {
    check_same_device(op, {&seq, &sorter});
    RICCI_CHECK(sorter.dtype() == int64, DTypeError, "[", op,
                "] torch.searchsorted(): sorter must be a tensor of long dtype but got dtype ", sorter.dtype(),
                "; convert it with .to(int64)");
    RICCI_CHECK(sorter.shape() == seq.shape(), ShapeError, "[", op,
                "] torch.searchsorted(): boundary and sorter must have the same size, but got boundary tensor ",
                seq.shape(), " and got sorter tensor ", sorter.shape());
  }
  RICCI_CHECK(common != DType::Bool, NotImplementedError, "[", op, "] \"searchsorted\" not implemented for bool; convert "
              "the sequence and the values with .to(uint8) or .to(int64) first");
  const int64_t n = seq.size(-1);
  RICCI_CHECK(!out_int32 || n < std::numeric_limits<int32_t>::max(), ValueError, "[", op,
              "] torch.searchsorted(): the size of boundaries' last dimension should be less than ",
              std::numeric_limits<int32_t>::max(), ", but we got ", n, "; use out_int32=false");
  NoGradGuard no_grad;
  const int64_t rows = seq.dim() == 1 ? 1 : product(IntArrayRef(seq.shape().data(), static_cast<size_t>(seq.dim() - 1)));
  const int64_t m = seq.dim() == 1 ? values.numel() : values.size(-1);
  Tensor out = empty_tensor(values.shape(), out_int32 ? int32 : int64, values.device());
  if (out.numel() == 0) return out;
  const Tensor bd = seq.detach().to(common).contiguous().reshape({rows, n});
  const Tensor vals = values.detach().to(common).contiguous().reshape({rows, m});
  const Tensor srt = sorter.defined() ? sorter.contiguous().reshape({rows, n}) : Tensor();
  static const auto id = kernels::op_id("searchsorted");
  kernels::kernel_table().get<kernels::SearchsortedKernel>(id, seq.device(), common)(out.view({rows, m}), bd, vals, srt,
                                                                                      right);
  return out;
}

}  // namespace

Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool out_int32, bool right,
                    std::optional<std::string_view> side, const Tensor& sorter) {
  check_defined(sorted_sequence, "searchsorted", "sorted_sequence");
  check_defined(values, "searchsorted", "values");
  return searchsorted_impl("searchsorted", sorted_sequence, values, result_type(sorted_sequence, values), out_int32,
                           right, side, sorter);
}

Tensor searchsorted(const Tensor& sorted_sequence, const Scalar& value, bool out_int32, bool right,
                    std::optional<std::string_view> side, const Tensor& sorter) {
  check_defined(sorted_sequence, "searchsorted", "sorted_sequence");
  // PyTorch wraps the number as a 0-d tensor with a Scalar's (weakest) promotion rank.
  const DType common = result_type(sorted_sequence, value);
  return searchsorted_impl("searchsorted", sorted_sequence, scalar_tensor(value, TensorOptions(common, sorted_sequence.device())),
                           common, out_int32, right, side, sorter);
}

Tensor bucketize(const Tensor& input, const Tensor& boundaries, bool out_int32, bool right) {
  check_defined(input, "bucketize", "input");
  check_defined(boundaries, "bucketize", "boundaries");
  RICCI_CHECK(boundaries.dim() == 1, ShapeError, "[bucketize] boundaries tensor must be 1 dimension, but got dim(",
              boundaries.dim(), ")");
  return searchsorted_impl("bucketize", boundaries, input, result_type(boundaries, input), out_int32, right, std::nullopt,
                           Tensor());
}

Tensor bucketize(const Scalar& input, const Tensor& boundaries, bool out_int32, bool right) {
  check_defined(boundaries, "bucketize", "boundaries");
  RICCI_CHECK(boundaries.dim() == 1, ShapeError, "[bucketize] boundaries tensor must be 1 dimension, but got dim(",
              boundaries.dim(), ")");
  const DType common = result_type(boundaries, input);
  return searchsorted_impl("bucketize", boundaries, scalar_tensor(input, TensorOptions(common, boundaries.device())), common,
                           out_int32, right, std::nullopt, Tensor());
}

std::tuple<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending, bool stable) const {
  return ricci::sort(*this, dim, descending, stable);
}
Tensor Tensor::argsort(int64_t dim, bool descending, bool stable) const { return ricci::argsort(*this, dim, descending, stable); }
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return ricci::topk(*this, k, dim, largest, sorted);
}

}  // namespace ricci
