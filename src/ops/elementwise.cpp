// Binary elementwise ops: broadcasting, PyTorch's type promotion, the kernels, their derivatives
// and the in-place forms. Scalars are wrapped into 0-d tensors of the computation dtype after
// promotion, so one path serves tensor∘tensor, tensor∘scalar and scalar∘tensor.
#include <cmath>

#include "lazy/lazy_detail.h"
#include "ops/elementwise_common.h"
#include "ops/elementwise_step.h"
#include "ricci/lazy.h"
#include "ricci/factories.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

Dims broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op) {
  const size_t na = a.size(), nb = b.size(), n = std::max(na, nb);
  Dims out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t ia = static_cast<int64_t>(i) - static_cast<int64_t>(n - na);
    const int64_t ib = static_cast<int64_t>(i) - static_cast<int64_t>(n - nb);
    const int64_t sa = ia >= 0 ? a[ia] : 1;
    const int64_t sb = ib >= 0 ? b[ib] : 1;
    RICCI_CHECK(sa == sb || sa == 1 || sb == 1, ShapeError, "[", op, "] The size of tensor a (", sa,
                ") must match the size of tensor b (", sb, ") at non-singleton dimension ", i,
                " (shapes ", a, " and ", b, "; broadcasting needs equal sizes or 1)");
    out[i] = sa == 1 ? sb : sa;
  }
  checked_numel(out, op);  // [2^40, 1] with [1, 2^40]: each fits, their broadcast does not
  return out;
}

namespace ew {

// PyTorch's result_type: dimensioned tensors, 0-d tensors and wrapped scalars are promoted in
// separate tiers; a lower tier only matters when it is of a higher category.
DType result_type(std::initializer_list<Operand> ops) {
  std::optional<DType> dim, zero, wrapped;
  auto promote = [](std::optional<DType>& acc, DType t) { acc = acc ? promote_types(*acc, t) : t; };
  for (const Operand& o : ops) {
    if (o.s) {
      const DType t = o.s->default_dtype();  // float scalars count as the default float32
      promote(wrapped, t);
    } else if (o.t->dim() == 0) {
      promote(zero, o.t->dtype());
    } else {
      promote(dim, o.t->dtype());
    }
  }
  auto combine = [](std::optional<DType> higher, std::optional<DType> lower) -> std::optional<DType> {
    if (!higher) return lower;
    if (!lower) return higher;
    if (is_floating_point(*higher)) return higher;
    if (*higher == DType::Bool || is_floating_point(*lower)) return promote_types(*higher, *lower);
    return higher;
  };
  return combine(dim, combine(zero, wrapped)).value_or(DType::Float32);
}

const char* torch_type_name(DType t) {
  switch (t) {
    case DType::Bool: return "Bool";
    case DType::UInt8: return "Byte";
    case DType::Int8: return "Char";
    case DType::Int16: return "Short";
    case DType::Int32: return "Int";
    case DType::Int64: return "Long";
    case DType::Float16: return "Half";
    case DType::BFloat16: return "BFloat16";
    case DType::Float32: return "Float";
    case DType::Float64: return "Double";
  }
  return "?";
}

bool can_cast(DType from, DType to) {
  return static_cast<int>(category(from)) <= static_cast<int>(category(to));
}

Device device_of(std::initializer_list<Operand> ops, const char* name) {
  const Tensor* first = nullptr;
  for (const Operand& o : ops) {
    if (!o.t) continue;
    check_defined(*o.t, name);
    if (!first) first = o.t;
    else if (o.t->device() != first->device()) check_same_device(name, {first, o.t});
  }
  return first ? first->device() : kCPU;
}

Dims broadcast_all(std::initializer_list<Operand> ops, const char* name) {
  Dims shape;
  bool first = true;
  for (const Operand& o : ops) {
    if (!o.t) continue;
    if (first) {
      shape = Dims(o.t->shape());  // a tensor's own shape: its numel is known to fit
      first = false;
    } else if (o.t->shape() != shape.ref()) {
      shape = broadcast_shapes(shape, o.t->shape(), name);
    }
  }
  return shape;
}

Tensor prepare(const Operand& op, DType dtype, IntArrayRef shape, Device device) {
  Tensor t;
  if (op.s) {
    t = empty_tensor({}, dtype, device);
    fill_kernel(t, *op.s);
    return t.shape() == shape ? t : t.expand(shape);
  }
  // Kernels only read their inputs: the caller's handle serves as it is, and a conversion or a
  // broadcast is made without recording (a detached copy of the handle per operand per op was a
  // tenth of the cost of a small op with autograd on).
  t = *op.t;
  if (t.dtype() == dtype && t.shape() == shape) return t;
  NoGradGuard no_grad;
  if (t.dtype() != dtype) t = t.to(dtype);
  return t.shape() == shape ? t : t.expand(shape);
}

void check_inplace_target(const Tensor& self, IntArrayRef shape, DType result, const char* name) {
  check_no_internal_overlap(self, name);
  RICCI_CHECK(shape == self.shape(), ShapeError, "[", name, "] output with shape ", self.shape(),
              " doesn't match the broadcast shape ", shape,
              " (an in-place op cannot grow self; use the out-of-place form instead)");
  RICCI_CHECK(can_cast(result, self.dtype()), DTypeError, "[", name, "] result type ", torch_type_name(result),
              " can't be cast to the desired output type ", torch_type_name(self.dtype()),
              " (convert self with .to(", result, ") or use the out-of-place form)");
}

Tensor binary_forward(BinaryOp op, kernels::OpId id, const Operand& a, const Operand& b, DType compute,
                      DType out_dtype, const Dims& shape, Device dev, const Scalar& alpha) {
  Tensor out = empty_tensor(shape, out_dtype, dev);
  if (out.numel() == 0) return out;
  binary_kernel(id, dev, compute)(op, out, prepare(a, compute, shape, dev), prepare(b, compute, shape, dev), alpha);
  return out;
}

}  // namespace ew

DType result_type(const Tensor& a, const Tensor& b) { return ew::result_type({a, b}); }
DType result_type(const Tensor& a, const Scalar& b) { return ew::result_type({a, b}); }

namespace {

using ew::BinaryOp;
using ew::Operand;

struct OpInfo {
  BinaryOp op;
  const char* name;
  const char* node;  // grad_fn name
};

kernels::OpId kernel_id(BinaryOp op) {
  static const kernels::OpId ids[] = {
      kernels::op_id("add"), kernels::op_id("sub"), kernels::op_id("mul"), kernels::op_id("div"),
      kernels::op_id("div"), kernels::op_id("div"), kernels::op_id("pow"), kernels::op_id("maximum"),
      kernels::op_id("minimum"), kernels::op_id("fmod"), kernels::op_id("remainder"), kernels::op_id("atan2"),
      kernels::op_id("logaddexp"), kernels::op_id("hypot"),
      kernels::op_id("bitwise_and"), kernels::op_id("bitwise_or"), kernels::op_id("bitwise_xor"),
      kernels::op_id("bitwise_left_shift"), kernels::op_id("bitwise_right_shift"), kernels::op_id("eq"),
      kernels::op_id("ne"), kernels::op_id("lt"), kernels::op_id("le"), kernels::op_id("gt"), kernels::op_id("ge"),
      kernels::op_id("logical_and"), kernels::op_id("logical_or"), kernels::op_id("logical_xor")};
  return ids[static_cast<int>(op)];
}

// The dtype the kernel runs in and the dtype of the result.
std::pair<DType, DType> plan_dtypes(BinaryOp op, DType common, const char* name) {
  switch (op) {
    case BinaryOp::Div: case BinaryOp::Atan2: {
      const DType f = ew::float_dtype(common);
      return {f, f};
    }
    case BinaryOp::Sub:
      RICCI_CHECK(common != DType::Bool, DTypeError, "[", name,
                  "] Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                  "`logical_xor()` operator instead.");
      return {common, common};
    case BinaryOp::BitAnd: case BinaryOp::BitOr: case BinaryOp::BitXor: case BinaryOp::Shl: case BinaryOp::Shr:
      RICCI_CHECK(!is_floating_point(common), DTypeError, "[", name, "] ", name,
                  " is only supported for integer and bool dtypes, but the operands promote to ", common,
                  "; convert them with .to(int64) first");
      RICCI_CHECK(common != DType::Bool || (op != BinaryOp::Shl && op != BinaryOp::Shr), DTypeError, "[", name,
                  "] shifts are not implemented for bool tensors; convert them with .to(int64) first");
      return {common, common};
    case BinaryOp::Logaddexp: case BinaryOp::Hypot:
      // No integer kernels in PyTorch either (its message names the kernel, "logaddexp_cpu").
      RICCI_CHECK(is_floating_point(common), DTypeError, "[", name, "] \"", name, "_cpu\" not implemented for '",
                  ew::torch_type_name(common), "' (the operands promote to ", common,
                  "); convert them to a floating dtype with .to(float32) first");
      return {common, common};
    case BinaryOp::DivFloor: case BinaryOp::DivTrunc: case BinaryOp::Fmod: case BinaryOp::Remainder: case BinaryOp::Pow:
      RICCI_CHECK(common != DType::Bool, DTypeError, "[", name, "] ", name,
                  " is not implemented for bool tensors; convert them with .to(int64) first");
      return {common, common};
    default:
      if (ew::is_comparison(op)) return {common, DType::Bool};
      return {common, common};
  }
}

// d(op)/d(a) and d(op)/d(b) times g, in the broadcast shape. a and b are the operands as given
// (a wrapped scalar as a 0-d tensor); out is the result (saved only for pow).
Tensors binary_vjp(BinaryOp op, const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& out,
                   double alpha, bool need_a, bool need_b) {
  Tensor ga, gb;
  switch (op) {
    case BinaryOp::Add:
      if (need_a) ga = g;
      if (need_b) gb = alpha == 1.0 ? g : g * alpha;
      break;
    case BinaryOp::Sub:
      if (need_a) ga = g;
      if (need_b) gb = alpha == 1.0 ? -g : g * (-alpha);
      break;
    case BinaryOp::Mul:
      if (need_a) ga = g * b;
      if (need_b) gb = g * a;
      break;
    case BinaryOp::Div:
      if (need_a) ga = g / b;
      if (need_b) gb = -g * a / (b * b);
      break;
    case BinaryOp::DivFloor: case BinaryOp::DivTrunc:
      if (need_a) ga = zeros_like(g);
      if (need_b) gb = zeros_like(g);
      break;
    case BinaryOp::Pow:
      if (need_a) ga = where(b == 0, zeros_like(g), g * b * pow(a, b - 1));
      if (need_b) gb = where(logical_and(a == 0, b >= 0), zeros_like(g), g * out * log(a));
      break;
    case BinaryOp::Maximum: case BinaryOp::Minimum: {
      // As PyTorch: a tie splits the gradient, and an input loses it only to a strictly better
      // other input, so a NaN (which compares false both ways) sends it to both.
      const Tensor a_wins = op == BinaryOp::Maximum ? a > b : a < b;
      const Tensor b_wins = op == BinaryOp::Maximum ? a < b : a > b;
      const Tensor tie = a == b;
      const Tensor half = g / 2;
      const Tensor zero = zeros_like(g);
      if (need_a) ga = where(tie, half, where(b_wins, zero, g));
      if (need_b) gb = where(tie, half, where(a_wins, zero, g));
      break;
    }
    case BinaryOp::Fmod: case BinaryOp::Remainder:
      if (need_a) ga = g;
      if (need_b) gb = -g * div(a, b, op == BinaryOp::Fmod ? "trunc" : "floor");
      break;
    case BinaryOp::Atan2: {
      // 1 / (a^2 + b^2), taken as 0 where that is 0 (at the origin PyTorch gives 0 for both,
      // not 0/0); the safe denominator keeps higher derivatives finite there too.
      const Tensor denom = a * a + b * b;
      const Tensor at_origin = denom == 0;
      const Tensor recip = where(at_origin, zeros_like(denom), reciprocal(where(at_origin, ones_like(denom), denom)));
      if (need_a) ga = g * b * recip;
      if (need_b) gb = -g * a * recip;
      break;
    }
    case BinaryOp::Logaddexp:
      // PyTorch's rule: g / (1 + exp(b - a)) and g / (1 + exp(a - b)); a huge gap gives exp = inf
      // and a zero gradient, never inf / inf.
      if (need_a) ga = g / (exp(b - a) + 1);
      if (need_b) gb = g / (exp(a - b) + 1);
      break;
    case BinaryOp::Hypot:
      // PyTorch's rule, g * a / out: NaN at the origin (0 / 0), as PyTorch gives there.
      if (need_a) ga = g * a / out;
      if (need_b) gb = g * b / out;
      break;
    default: break;  // integer or bool results: never recorded
  }
  return {ga, gb};
}

const char* node_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "AddBackward0";
    case BinaryOp::Sub: return "SubBackward0";
    case BinaryOp::Mul: return "MulBackward0";
    case BinaryOp::Div: return "DivBackward0";
    case BinaryOp::DivFloor: case BinaryOp::DivTrunc: return "DivBackward1";
    case BinaryOp::Pow: return "PowBackward0";
    case BinaryOp::Maximum: return "MaximumBackward0";
    case BinaryOp::Minimum: return "MinimumBackward0";
    case BinaryOp::Fmod: return "FmodBackward1";
    case BinaryOp::Remainder: return "RemainderBackward1";
    case BinaryOp::Atan2: return "Atan2Backward0";
    case BinaryOp::Logaddexp: return "LogaddexpBackward0";
    case BinaryOp::Hypot: return "HypotBackward0";
    default: return "ElementwiseBackward";
  }
}

bool saves_operands(BinaryOp op) { return op != BinaryOp::Add && op != BinaryOp::Sub; }
bool saves_output(BinaryOp op) { return op == BinaryOp::Pow || op == BinaryOp::Hypot; }

// add/sub: PyTorch refuses a floating alpha when the result is integral (it would be truncated).
void check_alpha(BinaryOp op, DType common, const Scalar& alpha, const char* name) {
  if (op != BinaryOp::Add && op != BinaryOp::Sub) return;
  RICCI_CHECK(is_floating_point(common) || !alpha.is_floating_point(), ValueError, "[", name,
              "] For integral input tensors, argument alpha must not be a floating point number (got alpha=", alpha,
              " for operands promoting to ", common, "); pass an integer alpha or convert the operands to a floating dtype");
}

Tensor binary(BinaryOp op, const char* name, const Operand& a, const Operand& b, const Scalar& alpha = 1);

// The binary primitive (Note [Lazy tensors]): the op, alpha, and whichever operand is a scalar.
struct BinaryParams {
  BinaryOp op;
  const char* name;
  Scalar alpha;
  std::optional<Scalar> sa, sb;
  bool operator==(const BinaryParams&) const = default;
};

Tensors eval_binary(const Tensors& in, const BinaryParams& p) {
  const Operand a = p.sa ? Operand(*p.sa) : Operand(in[0]);
  const Operand b = p.sb ? Operand(*p.sb) : Operand(in[1]);
  return {binary(p.op, p.name, a, b, p.alpha)};
}

// Note [Tiny-op fast path]: two float32/float64 tensors of one shape, dtype and device under
// add/sub/mul/div need none of promotion's tiers, broadcasting or dtype planning: their dtype,
// shape and device are the result's. One element with alpha 1 is then computed right here (one
// IEEE operation, the same result the vector kernel gives) without the kernel table, the strided
// loop or the vector dispatch. What a 1-element op cost is in bench/README.md (issue 16).
bool same_float_operands(BinaryOp op, const Operand& a, const Operand& b) {
  if (!a.t || !b.t || !a.t->defined() || !b.t->defined()) return false;
  if (op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::Mul && op != BinaryOp::Div) return false;
  const TensorImpl& ia = a.t->impl();
  const TensorImpl& ib = b.t->impl();
  return ia.dtype == ib.dtype && (ia.dtype == DType::Float32 || ia.dtype == DType::Float64) && ia.sizes == ib.sizes &&
         ia.storage->device() == ib.storage->device();
}

template <class T>
T apply_scalar(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    default: return x / y;
  }
}

// The one element of out = op(a, b) when all three are CPU tensors with bytes; false otherwise.
bool tiny_scalar_op(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const TensorImpl& io = out.impl();
  const TensorImpl& ia = a.impl();
  const TensorImpl& ib = b.impl();
  if (io.numel != 1 || !io.storage->device().is_cpu() || io.storage->is_deferred() || ia.storage->is_deferred() ||
      ib.storage->is_deferred())
    return false;
  auto at = [](const TensorImpl& t, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    return static_cast<T*>(t.storage->data()) + t.storage_offset;
  };
  if (io.dtype == DType::Float32) {
    float* o = at(io, static_cast<float*>(nullptr));
    *o = apply_scalar(op, *at(ia, static_cast<float*>(nullptr)), *at(ib, static_cast<float*>(nullptr)));
  } else {
    double* o = at(io, static_cast<double*>(nullptr));
    *o = apply_scalar(op, *at(ia, static_cast<double*>(nullptr)), *at(ib, static_cast<double*>(nullptr)));
  }
  return true;
}

Tensor binary(BinaryOp op, const char* name, const Operand& a, const Operand& b, const Scalar& alpha) {
  if (lazy::detail::recording()) [[unlikely]] {
    BinaryParams p{op, name, alpha, a.s ? std::optional<Scalar>(*a.s) : std::nullopt,
                   b.s ? std::optional<Scalar>(*b.s) : std::nullopt};
    return lazy::record_op<BinaryParams>(name, eval_binary, std::move(p), {a.t ? *a.t : Tensor(), b.t ? *b.t : Tensor()},
                                         PrimitiveKind::Elementwise)[0];
  }
  Device dev = kCPU;
  DType compute = DType::Float32, out_dtype = DType::Float32;
  Dims shape;
  Tensor out;
  if (same_float_operands(op, a, b)) {  // Note [Tiny-op fast path]
    dev = a.t->device();
    compute = out_dtype = a.t->dtype();
    shape = Dims(a.t->shape());
    out = empty_tensor(shape, out_dtype, dev);
    if (!(alpha.to_double() == 1.0 && tiny_scalar_op(op, out, *a.t, *b.t)) && out.numel() > 0)
      ew::binary_kernel(kernel_id(op), dev, compute)(op, out, *a.t, *b.t, alpha);
  } else {
    dev = ew::device_of({a, b}, name);
    const DType common = ew::result_type({a, b});
    check_alpha(op, common, alpha, name);
    std::tie(compute, out_dtype) = plan_dtypes(op, common, name);
    shape = ew::broadcast_all({a, b}, name);
    out = ew::binary_forward(op, kernel_id(op), a, b, compute, out_dtype, shape, dev, alpha);
  }
  const bool ta = a.t != nullptr, tb = b.t != nullptr;
  if (!is_floating_point(out_dtype) || !((ta && autograd::needs_grad(*a.t)) || (tb && autograd::needs_grad(*b.t))))
    return out;
  // Scalars enter the rule as 0-d tensors of the computation dtype (they get no gradient).
  Tensor wa = ta ? *a.t : scalar_tensor(*a.s, TensorOptions(compute, dev));
  Tensor wb = tb ? *b.t : scalar_tensor(*b.s, TensorOptions(compute, dev));
  Tensor none;
  const bool keep = saves_operands(op);
  const double al = alpha.to_double();
  auto rule = [op, keep, al](const VjpArgs& g) {
    return binary_vjp(op, g.grads[0], keep ? g.saved[0] : Tensor(), keep ? g.saved[1] : Tensor(),
                      saves_output(op) ? g.saved[2] : Tensor(), al, g.needs_input_grad(0), g.needs_input_grad(1));
  };
  const std::initializer_list<const Tensor*> saved_inputs{keep ? &wa : &none, keep ? &wb : &none};
  const std::initializer_list<const Tensor*> saved_outputs{saves_output(op) ? &out : &none};
  if (wa.shape() == out.shape() && wb.shape() == out.shape() && wa.dtype() == out_dtype && wb.dtype() == out_dtype) {
    // Nothing broadcast or promoted: the gradients need no reduction, and the rule's small
    // closure fits std::function without a heap allocation.
    autograd::record(node_name(op), {&wa, &wb}, {&out}, saved_inputs, saved_outputs, rule);
    return out;
  }
  const Dims sa(wa.shape()), sb(wb.shape());
  const DType da = wa.dtype(), db = wb.dtype();
  autograd::record(node_name(op), {&wa, &wb}, {&out}, saved_inputs, saved_outputs, [=](const VjpArgs& g) {
    Tensors r = rule(g);
    if (g.needs_input_grad(0)) r[0] = ew::reduce_grad(r[0], sa, da);
    if (g.needs_input_grad(1)) r[1] = ew::reduce_grad(r[1], sb, db);
    return r;
  });
  return out;
}

// The in-place form: self = op(self, b). Saves a copy of self's old values when the rule needs
// them (mul_ and friends).
Tensor& binary_(BinaryOp op, const char* name, Tensor& self, const Operand& b, const Scalar& alpha = 1) {
  check_defined(self, name, "self");
  const Device dev = ew::device_of({self, b}, name);
  const DType common = ew::result_type({self, b});
  check_alpha(op, common, alpha, name);
  const auto [compute, out_dtype] = plan_dtypes(op, common, name);
  const Dims shape = ew::broadcast_all({self, b}, name);
  ew::check_inplace_target(self, shape, out_dtype, name);
  autograd::check_inplace(self, name);
  const bool rec = is_floating_point(self.dtype()) &&
                   (autograd::needs_grad(self) || (b.t && autograd::needs_grad(*b.t)));
  const bool keep = rec && saves_operands(op);
  // Values saved for the vjp keep their history (a clone made while recording), or a create_graph
  // backward would lose the second-order terms that flow through them.
  Tensor old = keep ? self.clone() : Tensor();
  if (self.numel() > 0) {
    if (compute == self.dtype()) {
      Tensor s = self.requires_grad() ? self.detach() : self;
      ew::binary_kernel(kernel_id(op), dev, compute)(op, s, ew::prepare(s, compute, shape, dev),
                                                     ew::prepare(b, compute, shape, dev), alpha);
    } else {
      Tensor tmp = ew::binary_forward(op, kernel_id(op), self.detach(), b, compute, out_dtype, shape, dev, alpha);
      copy_kernel(self, tmp);
    }
  }
  autograd::bump_version(self);
  if (!rec) return self;
  Tensor wb = b.t ? *b.t : scalar_tensor(*b.s, TensorOptions(compute, dev));
  Tensor none;
  const Dims sa(self.shape()), sb(wb.shape());
  const DType da = self.dtype(), db = wb.dtype();
  const double al = alpha.to_double();
  auto node = autograd::record(node_name(op), {&self, &wb}, {}, {keep ? &old : &none, keep ? &wb : &none}, {},
                               [=](const VjpArgs& g) {
                                 const bool na = g.needs_input_grad(0), nb = g.needs_input_grad(1);
                                 // The result (pow_, hypot_): saved as this node's output, or (written
                                 // through a view, whose history is the base's) recomputed from the old value.
                                 Tensor result;
                                 if (saves_output(op)) {
                                   result = g.saved.size() > 2 ? g.saved[2]
                                            : op == BinaryOp::Pow ? pow(g.saved[0], g.saved[1])
                                                                  : hypot(g.saved[0], g.saved[1]);
                                 }
                                 Tensors r = binary_vjp(op, g.grads[0], keep ? g.saved[0] : Tensor(),
                                                        keep ? g.saved[1] : Tensor(), result, al, na, nb);
                                 if (na) r[0] = ew::reduce_grad(r[0], sa, da);
                                 if (nb) r[1] = ew::reduce_grad(r[1], sb, db);
                                 return r;
                               });
  autograd::rebase_history(self, node);
  if (saves_output(op) && !self.unsafe_impl()->view_base) node->save(self, /*is_output=*/true);
  return self;
}

std::optional<BinaryOp> rounding(std::optional<std::string_view> mode) {
  if (!mode) return BinaryOp::Div;
  if (*mode == "floor") return BinaryOp::DivFloor;
  if (*mode == "trunc") return BinaryOp::DivTrunc;
  throw ValueError(detail::cat("[div] div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '",
                               *mode, "'"));
}

void check_int_pow(const Tensor& base, const Scalar& e) {
  RICCI_CHECK(!(is_integral(base.dtype(), true) && e.is_integral() && e.to_int() < 0), ValueError,
              "[pow] Integers to negative integer powers are not allowed (exponent ", e,
              "); convert the base to a floating dtype first");
}

}  // namespace

namespace ew {
std::optional<ElementwiseStep> binary_step(const Primitive& prim) {
  const auto* p = dynamic_cast<const OpPrimitive<BinaryParams>*>(&prim);
  if (!p || (p->params().op >= BinaryOp::BitAnd && p->params().op < BinaryOp::Eq)) return std::nullopt;  // bit ops
  ElementwiseStep s;
  s.arity = 2;
  s.bop = p->params().op;
  s.alpha = p->params().alpha;
  s.sa = p->params().sa;
  s.sb = p->params().sb;
  s.kernel = kernel_id(s.bop);
  return s;
}

PrimitivePtr scalar_binary_primitive(BinaryOp op, const char* name, const Scalar& b) {
  return std::make_shared<const OpPrimitive<BinaryParams>>(name, eval_binary, BinaryParams{op, name, 1, std::nullopt, b},
                                                           PrimitiveKind::Elementwise);
}
}  // namespace ew


Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) { return binary(BinaryOp::Add, "add", a, b, alpha); }
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) { return binary(BinaryOp::Add, "add", a, b, alpha); }
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) { return binary(BinaryOp::Sub, "sub", a, b, alpha); }
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) { return binary(BinaryOp::Sub, "sub", a, b, alpha); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, "mul", a, b); }
Tensor mul(const Tensor& a, const Scalar& b) { return binary(BinaryOp::Mul, "mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b, std::optional<std::string_view> mode) {
  return binary(*rounding(mode), "div", a, b);
}
Tensor div(const Tensor& a, const Scalar& b, std::optional<std::string_view> mode) {
  return binary(*rounding(mode), "div", a, b);
}
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, "pow", a, b); }
Tensor pow(const Tensor& a, const Scalar& b) {
  check_defined(a, "pow");
  check_int_pow(a, b);
  return binary(BinaryOp::Pow, "pow", a, b);
}
Tensor pow(const Scalar& a, const Tensor& b) { return binary(BinaryOp::Pow, "pow", a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, "maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, "minimum", a, b); }
Tensor fmod(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Fmod, "fmod", a, b); }
Tensor fmod(const Tensor& a, const Scalar& b) { return binary(BinaryOp::Fmod, "fmod", a, b); }
Tensor remainder(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Remainder, "remainder", a, b); }
Tensor remainder(const Tensor& a, const Scalar& b) { return binary(BinaryOp::Remainder, "remainder", a, b); }
Tensor atan2(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Atan2, "atan2", a, b); }
Tensor logaddexp(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Logaddexp, "logaddexp", a, b); }
Tensor hypot(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Hypot, "hypot", a, b); }

#define RICCI_EW_BINARY_PAIR(fn, OP)                                                              \
  Tensor fn(const Tensor& a, const Tensor& b) { return binary(BinaryOp::OP, #fn, a, b); }       \
  Tensor fn(const Tensor& a, const Scalar& b) { return binary(BinaryOp::OP, #fn, a, b); }
RICCI_EW_BINARY_PAIR(eq, Eq)
RICCI_EW_BINARY_PAIR(ne, Ne)
RICCI_EW_BINARY_PAIR(lt, Lt)
RICCI_EW_BINARY_PAIR(le, Le)
RICCI_EW_BINARY_PAIR(gt, Gt)
RICCI_EW_BINARY_PAIR(ge, Ge)
RICCI_EW_BINARY_PAIR(bitwise_and, BitAnd)
RICCI_EW_BINARY_PAIR(bitwise_or, BitOr)
RICCI_EW_BINARY_PAIR(bitwise_xor, BitXor)
RICCI_EW_BINARY_PAIR(bitwise_left_shift, Shl)
RICCI_EW_BINARY_PAIR(bitwise_right_shift, Shr)
#undef RICCI_EW_BINARY_PAIR
Tensor logical_and(const Tensor& a, const Tensor& b) { return binary(BinaryOp::LogicalAnd, "logical_and", a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return binary(BinaryOp::LogicalOr, "logical_or", a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return binary(BinaryOp::LogicalXor, "logical_xor", a, b); }

namespace ew {
Tensor rsub(const Scalar& a, const Tensor& b) { return binary(BinaryOp::Sub, "sub", a, b); }
Tensor rdiv(const Scalar& a, const Tensor& b) { return binary(BinaryOp::Div, "div", a, b); }
}  // namespace ew

// ---- in place ------------------------------------------------------------------------------------
Tensor& add_(Tensor& self, const Tensor& o, const Scalar& alpha) { return binary_(BinaryOp::Add, "add_", self, o, alpha); }
Tensor& sub_(Tensor& self, const Tensor& o, const Scalar& alpha) { return binary_(BinaryOp::Sub, "sub_", self, o, alpha); }
Tensor& mul_(Tensor& self, const Tensor& o) { return binary_(BinaryOp::Mul, "mul_", self, o); }
Tensor& div_(Tensor& self, const Tensor& o) { return binary_(BinaryOp::Div, "div_", self, o); }

Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) { return binary_(BinaryOp::Add, "add_", *this, o, alpha); }
Tensor& Tensor::add_(const Scalar& o) { return binary_(BinaryOp::Add, "add_", *this, o); }
Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) { return binary_(BinaryOp::Sub, "sub_", *this, o, alpha); }
Tensor& Tensor::sub_(const Scalar& o) { return binary_(BinaryOp::Sub, "sub_", *this, o); }
Tensor& Tensor::mul_(const Tensor& o) { return binary_(BinaryOp::Mul, "mul_", *this, o); }
Tensor& Tensor::mul_(const Scalar& o) { return binary_(BinaryOp::Mul, "mul_", *this, o); }
Tensor& Tensor::div_(const Tensor& o) { return binary_(BinaryOp::Div, "div_", *this, o); }
Tensor& Tensor::div_(const Scalar& o) { return binary_(BinaryOp::Div, "div_", *this, o); }
Tensor& Tensor::pow_(const Tensor& e) { return binary_(BinaryOp::Pow, "pow_", *this, e); }
Tensor& Tensor::pow_(const Scalar& e) {
  check_defined(*this, "pow_", "self");
  check_int_pow(*this, e);
  return binary_(BinaryOp::Pow, "pow_", *this, e);
}
Tensor& Tensor::fmod_(const Scalar& o) { return binary_(BinaryOp::Fmod, "fmod_", *this, o); }
Tensor& Tensor::remainder_(const Scalar& o) { return binary_(BinaryOp::Remainder, "remainder_", *this, o); }

}  // namespace ricci
