// sort, argsort, topk. The sorted dim is moved last and made contiguous, so the kernels only see
// contiguous rows; the results are moved back. Gradients scatter into the positions the
// indices name.
#include <tuple>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
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

std::tuple<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending, bool stable) const {
  return ricci::sort(*this, dim, descending, stable);
}
Tensor Tensor::argsort(int64_t dim, bool descending, bool stable) const { return ricci::argsort(*this, dim, descending, stable); }
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return ricci::topk(*this, k, dim, largest, sorted);
}

}  // namespace ricci
