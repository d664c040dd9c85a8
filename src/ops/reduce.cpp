// sum, mean, prod, amax/amin, max/min, argmax/argmin, all/any: validation, output dtype,
// kernel call and derivative. The kernels are in backend/cpu/reduce_kernels.cpp.
#include "lazy/record.h"
#include "transforms/batching.h"
#include "ricci/ops/reduce.h"

#include "core/tensor_internal.h"
#include "ops/reduce_common.h"
#include "ops/reduction_step.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;
using namespace reduce_detail;

namespace reduce_detail {

ReduceShape reduce_shape(const Tensor& x, IntArrayRef dims, bool keepdim, const char* op) {
  check_defined(x, op);
  const int64_t nd = x.dim();
  // Dims are bits of a 64-bit mask: refuse more before any shift by a dim.
  RICCI_CHECK(nd <= 64, ShapeError, "[", op, "] only tensors with up to 64 dims are supported, got ", nd, " dims");
  ReduceShape rs;
  if (dims.empty()) {
    rs.mask = nd >= 64 ? ~uint64_t{0} : (uint64_t{1} << nd) - 1;
  } else {
    for (int64_t d : dims) {
      const int64_t w = wrap_dim(d, nd, op);
      RICCI_CHECK(!(rs.mask >> w & 1), ShapeError, "[", op, "] dim ", w, " appears multiple times in the list of dims");
      rs.mask |= uint64_t{1} << w;
    }
    if (nd == 0) rs.mask = 0;
  }
  for (int64_t d = 0; d < nd; ++d) {
    const int64_t s = x.sizes()[d];
    if (rs.mask >> d & 1) {
      rs.n *= s;
      rs.keep.push_back(1);
      if (keepdim) rs.out.push_back(1);
    } else {
      rs.keep.push_back(s);
      rs.out.push_back(s);
    }
  }
  return rs;
}

ReduceShape reduce_shape_one(const Tensor& x, int64_t dim, bool keepdim, const char* op) {
  const int64_t d[1] = {dim};
  return reduce_shape(x, IntArrayRef(d, 1), keepdim, op);
}

void check_nonempty_dims(const Tensor& x, const ReduceShape& rs, const char* op) {
  for (int64_t d = 0; d < x.dim(); ++d) {
    RICCI_CHECK(!((rs.mask >> d & 1) && x.sizes()[d] == 0), IndexError, "[", op, "] ", op, "(): Expected reduction dim ", d,
                " to have non-zero size. (input shape ", x.shape(), "; choose dims of non-zero size)");
  }
}

Tensor run_reduce(const char* op, const Tensor& x, const ReduceShape& rs, DType out_dtype, const kernels::ReduceParams& params) {
  Tensor out = empty_tensor(rs.keep, out_dtype, x.device());
  kernels::kernel_table().get<kernels::ReduceKernel>(kernels::op_id(op), x.device(), x.dtype())(out, x, rs.mask, params);
  if (rs.out.size() == rs.keep.size()) return out;
  return make_tensor(out.impl().storage, out_dtype, rs.out, contiguous_strides(rs.out), 0);
}

Tensor unreduce(const Tensor& g, uint64_t mask, int64_t in_dim) {
  if (g.dim() == in_dim) return g;
  Tensor r = g;
  for (int64_t d = 0; d < in_dim; ++d) {
    if (mask >> d & 1) r = r.unsqueeze(d);
  }
  return r;
}

}  // namespace reduce_detail

namespace {

DType sum_dtype(DType t) { return is_floating_point(t) ? t : int64; }

// sum and prod convert first when asked for a dtype, and reduce integers in int64.
Tensor with_dtype(const Tensor& x, std::optional<DType> dtype) { return dtype && *dtype != x.dtype() ? x.to(*dtype) : x; }
Tensor finish_dtype(const Tensor& out, std::optional<DType> dtype) { return dtype && *dtype != out.dtype() ? out.to(*dtype) : out; }

Tensor sum_impl(const Tensor& x0, IntArrayRef dims, bool keepdim, std::optional<DType> dtype) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_rule("sum", [](const Tensors& in, const Dims& d, bool k, std::optional<DType> t) {
      return sum_impl(in[0], d, k, t);
    }, [](const std::tuple<Dims, bool, std::optional<DType>>& p, const Tensors& in, const std::vector<int64_t>& ax) {
      const Tensor x = batching::batch_first(in[0], ax[0]);
      const int64_t rank = x.dim() - 1;
      if (rank == 0) return batching::Result{{sum_impl(x.unsqueeze(1), {1}, false, std::get<2>(p))}, {0}};
      return batching::Result{{sum_impl(x, batching::shifted_dims(std::get<0>(p), rank, "sum"), std::get<1>(p), std::get<2>(p))}, {0}};
    }, {x0}, Dims(dims), keepdim, dtype);
  const Tensor x = with_dtype(x0, dtype);
  const ReduceShape rs = reduce_shape(x, dims, keepdim, "sum");
  Tensor out = run_reduce("sum", x, rs, sum_dtype(x.dtype()));
  if (is_floating_point(out.dtype()) && autograd::needs_grad(x)) {
    autograd::record("SumBackward1", {&x}, {&out}, {}, {}, [mask = rs.mask, sizes = Dims(x.shape())](const VjpArgs& a) {
      return Tensors{expand_back(a.grads[0], mask, sizes)};
    });
  }
  return finish_dtype(out, dtype);
}

Tensor mean_impl(const Tensor& x, IntArrayRef dims, bool keepdim) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_rule("mean", [](const Tensors& in, const Dims& d, bool k) { return mean_impl(in[0], d, k); },
      [](const std::tuple<Dims, bool>& p, const Tensors& in, const std::vector<int64_t>& ax) {
        const Tensor x = batching::batch_first(in[0], ax[0]);
        const int64_t rank = x.dim() - 1;
        if (rank == 0) return batching::Result{{mean_impl(x.unsqueeze(1), {1}, false)}, {0}};
        return batching::Result{{mean_impl(x, batching::shifted_dims(std::get<0>(p), rank, "mean"), std::get<1>(p))}, {0}};
      }, {x}, Dims(dims), keepdim);
  const ReduceShape rs = reduce_shape(x, dims, keepdim, "mean");
  RICCI_CHECK(x.is_floating_point(), DTypeError,
              "[mean] mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ",
              x.dtype(), ". Convert first, e.g. x.to(float32).mean()");
  Tensor out = run_reduce("mean", x, rs, x.dtype());
  if (autograd::needs_grad(x)) {
    autograd::record("MeanBackward1", {&x}, {&out}, {}, {}, [mask = rs.mask, sizes = Dims(x.shape()), n = rs.n](const VjpArgs& a) {
      return Tensors{expand_back(a.grads[0], mask, sizes) / Scalar(static_cast<double>(n))};
    });
  }
  return out;
}

// d prod / d x_i = the product of the others: result / x_i when x_i != 0. With zeros, the
// product of the non-zero others is the exact answer at a lone zero (0 elsewhere), and every
// entry is 0 when two or more zeros share a product.
Tensor prod_backward(const Tensor& g, const Tensor& x, const Tensor& result, uint64_t mask) {
  const Tensor gk = unreduce(g, mask, x.dim());
  const Tensor rk = unreduce(result, mask, x.dim());
  const Tensor zero = zeros({}, TensorOptions(x.dtype(), x.device()));
  const Tensor is_zero = eq_mask(x, zero);
  Dims dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (mask >> d & 1) dims.push_back(d);
  if (!any(is_zero).item<bool>()) return gk * rk / x;
  // Zeros replaced by one: the product of the non-zeros of each group.
  const Tensor x1 = x + is_zero;
  Tensor nz_prod = x1;
  for (size_t i = dims.size(); i-- > 0;) nz_prod = prod(nz_prod, dims[i], true);
  const Tensor zeros_per_out = sum(is_zero, dims, true);
  const Tensor lone = eq_mask(zeros_per_out, ones({}, TensorOptions(x.dtype(), x.device())));
  // At a lone zero: the others' product; elsewhere with a zero present: 0; no zero: result / x.
  const Tensor no_zero = eq_mask(zeros_per_out, zero);
  return gk * (is_zero * lone * nz_prod + (no_zero * rk) / x1);
}

Tensor prod_impl(const Tensor& x0, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("prod", [](const Tensors& in, std::optional<int64_t> d, bool k, std::optional<DType> t) {
      return prod_impl(in[0], d, k, t); }, {x0}, dim, keepdim, dtype);
  const Tensor x = with_dtype(x0, dtype);
  const ReduceShape rs = dim ? reduce_shape_one(x, *dim, keepdim, "prod") : reduce_shape(x, {}, false, "prod");
  Tensor out = run_reduce("prod", x, rs, sum_dtype(x.dtype()));
  if (is_floating_point(out.dtype()) && autograd::needs_grad(x)) {
    autograd::record("ProdBackward0", {&x}, {&out}, {&x}, {&out}, [mask = rs.mask](const VjpArgs& a) {
      return Tensors{prod_backward(a.grads[0], a.saved[0], a.saved[1], mask)};
    });
  }
  return finish_dtype(out, dtype);
}

// amax/amin split the gradient evenly among the elements equal to the result (PyTorch's rule).
Tensor extremum_impl(const Tensor& x, IntArrayRef dims, bool keepdim, bool is_max, const char* op) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(op, [](const Tensors& in, const Dims& d, bool k, bool mx, const char* name) {
      return extremum_impl(in[0], d, k, mx, name); }, {x}, Dims(dims), keepdim, is_max, op);
  const ReduceShape rs = reduce_shape(x, dims, keepdim, op);
  if (x.numel() == 0 || rs.n == 0) check_nonempty_dims(x, rs, op);
  Tensor out = run_reduce(is_max ? "amax" : "amin", x, rs, x.dtype());
  if (x.is_floating_point() && autograd::needs_grad(x)) {
    autograd::record(is_max ? "AmaxBackward0" : "AminBackward0", {&x}, {&out}, {&x}, {&out},
                     [mask = rs.mask](const VjpArgs& a) {
                       const Tensor& x = a.saved[0];
                       const Tensor mask_t = eq_mask(x, unreduce(a.saved[1], mask, x.dim()));
                       Dims dims;
                       for (int64_t d = 0; d < x.dim(); ++d)
                         if (mask >> d & 1) dims.push_back(d);
                       const Tensor count = sum(mask_t, dims, true);
                       return Tensors{mask_t * (unreduce(a.grads[0], mask, x.dim()) / count)};
                     })
        ->set_replayable();  // eq_mask runs its kernel directly: a compile trace replays the rule whole
  }
  return out;
}

// The all-elements forms name no dim, so an empty input has nothing to answer with.
void check_not_empty_all(const Tensor& x, const char* op) {
  check_defined(x, op);
  RICCI_CHECK(x.numel() != 0, IndexError, "[", op, "] ", op,
              "(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
}

std::pair<Tensor, Tensor> arg_reduce(const Tensor& x, int64_t dim, bool keepdim, bool is_max, bool want_values, const char* op) {
  if (lazy::recording()) [[unlikely]] {
    Tensors r = lazy::record_n(op, [](const Tensors& in, int64_t d, bool k, bool mx, bool wv, const char* name) {
      auto [v, i] = arg_reduce(in[0], d, k, mx, wv, name);
      return Tensors{v, i}; }, {x}, dim, keepdim, is_max, want_values, op);
    return {r[0], r[1]};
  }
  const ReduceShape rs = reduce_shape_one(x, dim, keepdim, op);
  check_nonempty_dims(x, rs, op);
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), op);
  Tensor values = want_values ? empty_tensor(rs.keep, x.dtype(), x.device()) : Tensor();
  Tensor indices = empty_tensor(rs.keep, int64, x.device());
  static const auto id = kernels::op_id("arg_reduce");
  kernels::kernel_table().get<kernels::ArgReduceKernel>(id, x.device(), x.dtype())(values, indices, x, d, is_max);
  if (!keepdim && x.dim() > 0) {
    indices = make_tensor(indices.impl().storage, int64, rs.out, contiguous_strides(rs.out), 0);
    if (want_values) values = make_tensor(values.impl().storage, x.dtype(), rs.out, contiguous_strides(rs.out), 0);
  }
  if (want_values && x.is_floating_point() && autograd::needs_grad(x)) {
    autograd::record(is_max ? "MaxBackward0" : "MinBackward0", {&x}, {&values}, {}, {&indices},
                     [d, keepdim, sizes = Dims(x.shape()), dtype = x.dtype()](const VjpArgs& a) {
                       const int64_t nd = static_cast<int64_t>(sizes.size());
                       const uint64_t mask = nd == 0 ? 0 : uint64_t{1} << d;
                       const Tensor idx = keepdim ? a.saved[0] : unreduce(a.saved[0], mask, nd);
                       const Tensor sel = nd == 0 ? ones({}, TensorOptions(dtype)) : index_mask(idx, sizes, d, dtype);
                       return Tensors{sel * unreduce(a.grads[0], mask, nd)};
                     });
  }
  return {values, indices};
}

Tensor all_elements_extremum(const Tensor& x, bool is_max) {
  const char* op = is_max ? "max" : "min";
  check_not_empty_all(x, op);
  return extremum_impl(x, {}, false, is_max, op);
}

Tensor logical_impl(const Tensor& x, IntArrayRef dims, bool keepdim, bool is_all) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1(is_all ? "all" : "any", [](const Tensors& in, const Dims& d, bool k, bool a) {
      return logical_impl(in[0], d, k, a); }, {x}, Dims(dims), keepdim, is_all);
  const char* op = is_all ? "all" : "any";
  const ReduceShape rs = reduce_shape(x, dims, keepdim, op);
  return run_reduce(op, x, rs, x.dtype() == uint8 ? uint8 : bool_);
}

}  // namespace

namespace reduce_detail {
std::optional<ReductionStep> reduction_step(const Primitive& prim) {
  const std::string_view name = prim.name();
  using SumParams = std::tuple<Dims, bool, std::optional<DType>>;
  using MeanParams = std::tuple<Dims, bool>;
  using ExtremumParams = std::tuple<Dims, bool, bool, const char*>;
  if (name == "sum") {
    const auto* p = dynamic_cast<const OpPrimitive<SumParams>*>(&prim);
    if (!p || std::get<2>(p->params())) return std::nullopt;
    return ReductionStep{ReductionStep::Kind::Sum, std::get<0>(p->params()), std::get<1>(p->params())};
  }
  if (name == "mean") {
    const auto* p = dynamic_cast<const OpPrimitive<MeanParams>*>(&prim);
    if (!p) return std::nullopt;
    return ReductionStep{ReductionStep::Kind::Mean, std::get<0>(p->params()), std::get<1>(p->params())};
  }
  if (name == "amax" || name == "amin") {
    const auto* p = dynamic_cast<const OpPrimitive<ExtremumParams>*>(&prim);
    if (!p) return std::nullopt;
    const bool is_max = std::get<2>(p->params());
    return ReductionStep{is_max ? ReductionStep::Kind::Max : ReductionStep::Kind::Min, std::get<0>(p->params()),
                         std::get<1>(p->params())};
  }
  return std::nullopt;
}
}  // namespace reduce_detail


// ---- free functions -------------------------------------------------------------------------------
Tensor sum(const Tensor& x, std::optional<DType> dtype) { return sum_impl(x, {}, false, dtype); }
Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim, std::optional<DType> dtype) { return sum_impl(x, dims, keepdim, dtype); }
Tensor mean(const Tensor& x) { return mean_impl(x, {}, false); }
Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim) { return mean_impl(x, dims, keepdim); }
Tensor prod(const Tensor& x, std::optional<DType> dtype) { return prod_impl(x, std::nullopt, false, dtype); }
Tensor prod(const Tensor& x, int64_t dim, bool keepdim, std::optional<DType> dtype) { return prod_impl(x, dim, keepdim, dtype); }
Tensor amax(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum_impl(x, dims, keepdim, true, "amax"); }
Tensor amin(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum_impl(x, dims, keepdim, false, "amin"); }
Tensor max(const Tensor& x) { return all_elements_extremum(x, true); }
Tensor min(const Tensor& x) { return all_elements_extremum(x, false); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) { return arg_reduce(x, dim, keepdim, true, true, "max"); }
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) { return arg_reduce(x, dim, keepdim, false, true, "min"); }

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  if (dim) return arg_reduce(x, *dim, keepdim, true, false, "argmax").second;
  check_not_empty_all(x, "argmax");
  Tensor r = arg_reduce(x.reshape({-1}), 0, false, true, false, "argmax").second;
  return keepdim ? r.reshape(Dims(static_cast<size_t>(x.dim()), 1)) : r;
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  if (dim) return arg_reduce(x, *dim, keepdim, false, false, "argmin").second;
  check_not_empty_all(x, "argmin");
  Tensor r = arg_reduce(x.reshape({-1}), 0, false, false, false, "argmin").second;
  return keepdim ? r.reshape(Dims(static_cast<size_t>(x.dim()), 1)) : r;
}

Tensor all(const Tensor& x) { return logical_impl(x, {}, false, true); }
Tensor all(const Tensor& x, IntArrayRef dims, bool keepdim) { return logical_impl(x, dims, keepdim, true); }
Tensor any(const Tensor& x) { return logical_impl(x, {}, false, false); }
Tensor any(const Tensor& x, IntArrayRef dims, bool keepdim) { return logical_impl(x, dims, keepdim, false); }

// ---- Tensor methods -------------------------------------------------------------------------------
Tensor Tensor::sum(std::optional<DType> dtype) const { return ricci::sum(*this, dtype); }
Tensor Tensor::sum(IntArrayRef dims, bool keepdim, std::optional<DType> dtype) const { return ricci::sum(*this, dims, keepdim, dtype); }
Tensor Tensor::mean() const { return ricci::mean(*this); }
Tensor Tensor::mean(IntArrayRef dims, bool keepdim) const { return ricci::mean(*this, dims, keepdim); }
Tensor Tensor::prod() const { return ricci::prod(*this); }
Tensor Tensor::amax(IntArrayRef dims, bool keepdim) const { return ricci::amax(*this, dims, keepdim); }
Tensor Tensor::amin(IntArrayRef dims, bool keepdim) const { return ricci::amin(*this, dims, keepdim); }
Tensor Tensor::max() const { return ricci::max(*this); }
Tensor Tensor::min() const { return ricci::min(*this); }
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const { return ricci::argmax(*this, dim, keepdim); }
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const { return ricci::argmin(*this, dim, keepdim); }
Tensor Tensor::all() const { return ricci::all(*this); }
Tensor Tensor::any() const { return ricci::any(*this); }

}  // namespace ricci
