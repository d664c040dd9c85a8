// Ternary elementwise ops: where, lerp, addcmul, addcdiv, masked_fill (a where with a scalar),
// their derivatives and in-place forms. All operands broadcast together and promote like PyTorch.
#include "lazy/lazy_detail.h"
#include "ops/elementwise_common.h"
#include "ops/elementwise_step.h"
#include "ricci/lazy.h"
#include "ricci/factories.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;
using ew::Operand;
using ew::TernaryOp;

namespace {

kernels::OpId kernel_id(TernaryOp op) {
  static const kernels::OpId ids[] = {kernels::op_id("lerp"), kernels::op_id("addcmul"), kernels::op_id("addcdiv"),
                                      kernels::op_id("where")};
  return ids[static_cast<int>(op)];
}

// Runs the kernel into `out` (allocated here when undefined). The first operand of Where is the
// bool condition and keeps its dtype.
Tensor ternary_forward(TernaryOp op, const Operand& x, const Operand& y, const Operand& z, DType compute,
                       const Dims& shape, Device dev, const Scalar& value, Tensor out = Tensor()) {
  if (!out.defined()) out = empty_tensor(shape, compute, dev);
  if (out.numel() == 0) return out;
  const DType xt = op == TernaryOp::Where ? DType::Bool : compute;
  ew::ternary_kernel(kernel_id(op), dev, compute)(op, out, ew::prepare(x, xt, shape, dev), ew::prepare(y, compute, shape, dev),
                                                  ew::prepare(z, compute, shape, dev), value);
  return out;
}

bool any_needs_grad(std::initializer_list<Operand> ops) {
  for (const Operand& o : ops)
    if (o.t && autograd::needs_grad(*o.t)) return true;
  return false;
}

Tensor as_tensor(const Operand& o, DType dtype, Device dev) {
  return o.t ? *o.t : scalar_tensor(*o.s, TensorOptions(dtype, dev));
}

void check_bool_condition(const Tensor& cond, const char* name) {
  check_defined(cond, name, "condition");
  RICCI_CHECK(cond.dtype() == DType::Bool, DTypeError, "[", name,
              "] where expected condition to be a boolean tensor, but got a tensor with dtype ", cond.dtype(),
              "; compare first (x > 0) or convert with .to(bool_)");
}

void check_floating(DType t, const char* name) {
  RICCI_CHECK(is_floating_point(t), DTypeError, "[", name, "] ", name,
              " is only implemented for floating dtypes, but the inputs promote to ", t, "; convert with .to(float32)");
}

Tensor where_impl(const Tensor& cond, const Operand& a, const Operand& b);

struct WhereParams {
  std::optional<Scalar> sa, sb;
  bool operator==(const WhereParams&) const = default;
};

Tensors eval_where(const Tensors& in, const WhereParams& p) {
  return {where_impl(in[0], p.sa ? Operand(*p.sa) : Operand(in[1]), p.sb ? Operand(*p.sb) : Operand(in[2]))};
}

Tensor where_impl(const Tensor& cond, const Operand& a, const Operand& b) {
  if (lazy::detail::recording()) [[unlikely]] {
    WhereParams p{a.s ? std::optional<Scalar>(*a.s) : std::nullopt, b.s ? std::optional<Scalar>(*b.s) : std::nullopt};
    return lazy::record_op<WhereParams>("where", eval_where, std::move(p), {cond, a.t ? *a.t : Tensor(), b.t ? *b.t : Tensor()},
                                        PrimitiveKind::Elementwise)[0];
  }
  check_bool_condition(cond, "where");
  const Device dev = ew::device_of({cond, a, b}, "where");
  const DType t = ew::result_type({a, b});
  const Dims shape = ew::broadcast_all({cond, a, b}, "where");
  Tensor out = ternary_forward(TernaryOp::Where, cond, a, b, t, shape, dev, 0);
  if (!is_floating_point(t) || !any_needs_grad({a, b})) return out;
  Tensor wa = as_tensor(a, t, dev), wb = as_tensor(b, t, dev);
  const Dims sa(wa.shape()), sb(wb.shape());
  const DType da = wa.dtype(), db = wb.dtype();
  autograd::record("WhereBackward0", {&wa, &wb}, {&out}, {&cond}, {}, [=](const VjpArgs& g) {
    const Tensor zero = zeros_like(g.grads[0]);
    Tensors r(2);
    if (g.needs_input_grad(0)) r[0] = ew::reduce_grad(where(g.saved[0], g.grads[0], zero), sa, da);
    if (g.needs_input_grad(1)) r[1] = ew::reduce_grad(where(g.saved[0], zero, g.grads[0]), sb, db);
    return r;
  });
  return out;
}

// Derivative of lerp / addcmul / addcdiv for the three operands (x = self/start).
Tensors ternary_vjp(TernaryOp op, const Tensor& g, const Tensor& x, const Tensor& y, const Tensor& z, double v,
                    bool n0, bool n1, bool n2) {
  Tensors r(3);
  switch (op) {
    case TernaryOp::Lerp:  // x + z * (y - x)
      if (n0) r[0] = g * (1 - z);
      if (n1) r[1] = g * z;
      if (n2) r[2] = g * (y - x);
      break;
    case TernaryOp::Addcmul:
      if (n0) r[0] = g;
      if (n1) r[1] = g * z * v;
      if (n2) r[2] = g * y * v;
      break;
    case TernaryOp::Addcdiv:
      if (n0) r[0] = g;
      if (n1) r[1] = g * v / z;
      if (n2) r[2] = -g * v * y / (z * z);
      break;
    default: break;
  }
  return r;
}

const char* node_name(TernaryOp op) {
  switch (op) {
    case TernaryOp::Lerp: return "LerpBackward0";
    case TernaryOp::Addcmul: return "AddcmulBackward0";
    case TernaryOp::Addcdiv: return "AddcdivBackward0";
    default: return "WhereBackward0";
  }
}

void record_ternary(TernaryOp op, Tensor& x, Tensor& y, Tensor& z, const Scalar& value, Tensor& out) {
  const Dims s0(x.shape()), s1(y.shape()), s2(z.shape());
  const DType d0 = x.dtype(), d1 = y.dtype(), d2 = z.dtype();
  const double v = value.to_double();
  autograd::record(node_name(op), {&x, &y, &z}, {&out}, {&x, &y, &z}, {}, [=](const VjpArgs& g) {
    const bool n0 = g.needs_input_grad(0), n1 = g.needs_input_grad(1), n2 = g.needs_input_grad(2);
    Tensors r = ternary_vjp(op, g.grads[0], g.saved[0], g.saved[1], g.saved[2], v, n0, n1, n2);
    if (n0) r[0] = ew::reduce_grad(r[0], s0, d0);
    if (n1) r[1] = ew::reduce_grad(r[1], s1, d1);
    if (n2) r[2] = ew::reduce_grad(r[2], s2, d2);
    return r;
  });
}

// lerp / addcmul / addcdiv, out of place or into `self` (then x is self).
Tensor ternary(TernaryOp op, const char* name, const Tensor& x, const Tensor& y, const Operand& z, const Scalar& value,
               Tensor* self = nullptr);

// The ternary primitive (Note [Lazy tensors]); in-place forms are never recorded.
struct TernaryParams {
  TernaryOp op;
  const char* name;
  Scalar value;
  std::optional<Scalar> sz;
  bool operator==(const TernaryParams&) const = default;
};

Tensors eval_ternary(const Tensors& in, const TernaryParams& p) {
  return {ternary(p.op, p.name, in[0], in[1], p.sz ? Operand(*p.sz) : Operand(in[2]), p.value)};
}

Tensor ternary(TernaryOp op, const char* name, const Tensor& x, const Tensor& y, const Operand& z, const Scalar& value,
               Tensor* self) {
  if (!self && lazy::detail::recording()) [[unlikely]] {
    TernaryParams p{op, name, value, z.s ? std::optional<Scalar>(*z.s) : std::nullopt};
    return lazy::record_op<TernaryParams>(name, eval_ternary, std::move(p), {x, y, z.t ? *z.t : Tensor()},
                                          PrimitiveKind::Elementwise)[0];
  }
  const Device dev = ew::device_of({x, y, z}, name);
  const DType t = ew::result_type({x, y, z});
  // lerp is defined on floating tensors only: a float weight does not make int tensors valid.
  if (op == TernaryOp::Lerp) check_floating(ew::result_type({x, y}), name);
  if (op == TernaryOp::Addcdiv) check_floating(t, name);
  RICCI_CHECK(op != TernaryOp::Addcmul || t != DType::Bool, DTypeError, "[", name,
              "] addcmul is not implemented for bool tensors; convert with .to(int64)");
  const Dims shape = ew::broadcast_all({x, y, z}, name);
  const bool rec = is_floating_point(t) && any_needs_grad({x, y, z});
  if (self) {
    ew::check_inplace_target(*self, shape, t, name);
    autograd::check_inplace(*self, name);
  }
  Tensor wz = rec ? as_tensor(z, t, dev) : Tensor();
  // A clone made while recording keeps its history, so lerp_'s second derivatives survive.
  Tensor old = rec && self && op == TernaryOp::Lerp ? self->clone() : Tensor();
  Tensor out;
  if (self) {
    Tensor s = self->requires_grad() ? self->detach() : *self;
    if (t == self->dtype()) {
      ternary_forward(op, s, y, z, t, shape, dev, value, s);
    } else {
      copy_kernel(s, ternary_forward(op, s, y, z, t, shape, dev, value));
    }
    autograd::bump_version(*self);
  } else {
    out = ternary_forward(op, x, y, z, t, shape, dev, value);
  }
  if (!rec) return self ? *self : out;
  Tensor wx = self ? *self : x, wy = y;
  if (self) {
    // The old value of self feeds only lerp's weight gradient.
    Tensor saved_x = old.defined() ? old : Tensor();
    const Dims s0(self->shape()), s1(y.shape()), s2(wz.shape());
    const DType d0 = self->dtype(), d1 = y.dtype(), d2 = wz.dtype();
    const double v = value.to_double();
    auto node = autograd::record(node_name(op), {self, &wy, &wz}, {}, {&saved_x, &wy, &wz}, {}, [=](const VjpArgs& g) {
      const bool n0 = g.needs_input_grad(0), n1 = g.needs_input_grad(1), n2 = g.needs_input_grad(2);
      Tensors r = ternary_vjp(op, g.grads[0], g.saved[0], g.saved[1], g.saved[2], v, n0, n1, n2);
      if (n0) r[0] = ew::reduce_grad(r[0], s0, d0);
      if (n1) r[1] = ew::reduce_grad(r[1], s1, d1);
      if (n2) r[2] = ew::reduce_grad(r[2], s2, d2);
      return r;
    });
    autograd::rebase_history(*self, node);
    return *self;
  }
  record_ternary(op, wx, wy, wz, value, out);
  return out;
}

void check_mask(const Tensor& mask, const char* name) {
  check_defined(mask, name, "mask");
  RICCI_CHECK(mask.dtype() == DType::Bool, DTypeError, "[", name,
              "] masked_fill_ only supports boolean masks, but got mask with dtype ", mask.dtype(),
              "; compare first (x > 0) or convert with .to(bool_)");
}

}  // namespace

namespace ew {
std::optional<ElementwiseStep> where_step(const Primitive& prim) {
  const auto* p = dynamic_cast<const OpPrimitive<WhereParams>*>(&prim);
  if (!p) return std::nullopt;
  ElementwiseStep s;
  s.arity = 3;
  s.sa = p->params().sa;
  s.sb = p->params().sb;
  return s;
}
}  // namespace ew

Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, const Tensor& a, const Scalar& b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, const Scalar& a, const Tensor& b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, const Scalar& a, const Scalar& b) { return where_impl(c, a, b); }

Tensor lerp(const Tensor& s, const Tensor& e, const Scalar& w) { return ternary(TernaryOp::Lerp, "lerp", s, e, w, 0); }
Tensor lerp(const Tensor& s, const Tensor& e, const Tensor& w) { return ternary(TernaryOp::Lerp, "lerp", s, e, w, 0); }
Tensor addcmul(const Tensor& x, const Tensor& a, const Tensor& b, const Scalar& v) {
  return ternary(TernaryOp::Addcmul, "addcmul", x, a, b, v);
}
Tensor addcdiv(const Tensor& x, const Tensor& a, const Tensor& b, const Scalar& v) {
  return ternary(TernaryOp::Addcdiv, "addcdiv", x, a, b, v);
}

// masked_fill keeps x's dtype (the value is converted), as PyTorch does.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  if (lazy::detail::recording()) [[unlikely]]
    return lazy::record_op<std::tuple<Scalar>>("masked_fill", [](const Tensors& in, const std::tuple<Scalar>& p) {
      return Tensors{masked_fill(in[0], in[1], std::get<0>(p))};
    }, {value}, {x, mask}, PrimitiveKind::Elementwise)[0];
  check_defined(x, "masked_fill");
  check_mask(mask, "masked_fill");
  const Device dev = ew::device_of({x, mask}, "masked_fill");
  const Dims shape = ew::broadcast_all({x, mask}, "masked_fill");
  Tensor out = ternary_forward(TernaryOp::Where, mask, value, x, x.dtype(), shape, dev, 0);
  if (is_floating_point(x.dtype()) && autograd::needs_grad(x)) {
    const Dims sx(x.shape());
    const DType dx = x.dtype();
    autograd::record("MaskedFillBackward0", {&x}, {&out}, {&mask}, {}, [=](const VjpArgs& g) {
      return Tensors{ew::reduce_grad(where(g.saved[0], zeros_like(g.grads[0]), g.grads[0]), sx, dx)};
    });
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  check_defined(x, "masked_fill");
  check_defined(value, "masked_fill", "value");
  RICCI_CHECK(value.dim() == 0, ShapeError, "[masked_fill] masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
              value.dim(), " dimension(s); use where(mask, value, x) to fill from a tensor");
  check_mask(mask, "masked_fill");
  Tensor v = value.dtype() == x.dtype() ? value : value.to(x.dtype());
  return where(mask, v, x.expand(broadcast_shapes(x.shape(), mask.shape(), "masked_fill")));
}

Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const { return ricci::masked_fill(*this, mask, value); }

Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  check_defined(*this, "masked_fill_", "self");
  check_mask(mask, "masked_fill_");
  const Dims shape = ew::broadcast_all({*this, mask}, "masked_fill_");
  ew::check_inplace_target(*this, shape, dtype(), "masked_fill_");
  autograd::check_inplace(*this, "masked_fill_");
  Tensor s = requires_grad() ? detach() : *this;
  ternary_forward(TernaryOp::Where, mask, value, s, dtype(), shape, device(), 0, s);
  autograd::bump_version(*this);
  if (ricci::is_floating_point(dtype()) && autograd::needs_grad(*this)) {
    auto node = autograd::record("MaskedFillBackward0", {this}, {}, {&mask}, {}, [](const VjpArgs& g) {
      return Tensors{ricci::where(g.saved[0], zeros_like(g.grads[0]), g.grads[0])};
    });
    autograd::rebase_history(*this, node);
  }
  return *this;
}

Tensor& Tensor::lerp_(const Tensor& end, const Scalar& weight) {
  check_defined(*this, "lerp_", "self");
  ternary(TernaryOp::Lerp, "lerp_", *this, end, weight, 0, this);
  return *this;
}
Tensor& Tensor::addcmul_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  check_defined(*this, "addcmul_", "self");
  ternary(TernaryOp::Addcmul, "addcmul_", *this, t1, t2, value, this);
  return *this;
}
Tensor& Tensor::addcdiv_(const Tensor& t1, const Tensor& t2, const Scalar& value) {
  check_defined(*this, "addcdiv_", "self");
  ternary(TernaryOp::Addcdiv, "addcdiv_", *this, t1, t2, value, this);
  return *this;
}

Tensor Tensor::where(const Tensor& condition, const Tensor& other) const { return ricci::where(condition, *this, other); }
Tensor Tensor::lerp(const Tensor& end, const Scalar& weight) const { return ricci::lerp(*this, end, weight); }
Tensor Tensor::lerp(const Tensor& end, const Tensor& weight) const { return ricci::lerp(*this, end, weight); }
Tensor Tensor::addcmul(const Tensor& t1, const Tensor& t2, const Scalar& value) const {
  return ricci::addcmul(*this, t1, t2, value);
}
Tensor Tensor::addcdiv(const Tensor& t1, const Tensor& t2, const Scalar& value) const {
  return ricci::addcdiv(*this, t1, t2, value);
}

}  // namespace ricci
