// Unary elementwise ops and their derivatives. Float-only functions promote integer and bool
// inputs to float32 (exp(int) is float32, as in PyTorch); sign/floor/ceil/round/trunc have zero
// gradients; the predicates (isnan, ...) give bool tensors and no graph.
#include <cmath>
#include <limits>
#include <numbers>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "lazy/lazy_detail.h"
#include "ops/elementwise_common.h"
#include "ops/elementwise_step.h"
#include "ricci/lazy.h"
#include "ricci/factories.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;
using ew::UnaryOp;
using ew::UnaryParams;

namespace {

// Float: integer inputs compute in float32; Keep: in their own dtype; Bool: bool outputs;
// FloatOnly: floating inputs only (PyTorch has no integer kernel: elu, leaky_relu, ...).
enum class Kind : uint8_t { Float, Keep, Bool, FloatOnly };

struct Spec {
  UnaryOp op;
  const char* name;      // op and kernel name
  const char* node;      // grad_fn name
  Kind kind;
};

const Spec& spec(UnaryOp op) {
  static const Spec specs[] = {
      {UnaryOp::Neg, "neg", "NegBackward0", Kind::Keep},
      {UnaryOp::Abs, "abs", "AbsBackward0", Kind::Keep},
      {UnaryOp::Sign, "sign", "SignBackward0", Kind::Keep},
      {UnaryOp::Exp, "exp", "ExpBackward0", Kind::Float},
      {UnaryOp::Exp2, "exp2", "Exp2Backward0", Kind::Float},
      {UnaryOp::Expm1, "expm1", "Expm1Backward0", Kind::Float},
      {UnaryOp::Log, "log", "LogBackward0", Kind::Float},
      {UnaryOp::Log2, "log2", "Log2Backward0", Kind::Float},
      {UnaryOp::Log10, "log10", "Log10Backward0", Kind::Float},
      {UnaryOp::Log1p, "log1p", "Log1PBackward0", Kind::Float},
      {UnaryOp::Sqrt, "sqrt", "SqrtBackward0", Kind::Float},
      {UnaryOp::Rsqrt, "rsqrt", "RsqrtBackward0", Kind::Float},
      {UnaryOp::Square, "square", "PowBackward0", Kind::Keep},
      {UnaryOp::Reciprocal, "reciprocal", "ReciprocalBackward0", Kind::Float},
      {UnaryOp::Sin, "sin", "SinBackward0", Kind::Float},
      {UnaryOp::Cos, "cos", "CosBackward0", Kind::Float},
      {UnaryOp::Tan, "tan", "TanBackward0", Kind::Float},
      {UnaryOp::Tanh, "tanh", "TanhBackward0", Kind::Float},
      {UnaryOp::Sigmoid, "sigmoid", "SigmoidBackward0", Kind::Float},
      {UnaryOp::Relu, "relu", "ReluBackward0", Kind::Keep},
      {UnaryOp::GeluErf, "gelu", "GeluBackward0", Kind::Float},
      {UnaryOp::GeluTanh, "gelu", "GeluBackward0", Kind::Float},
      {UnaryOp::Silu, "silu", "SiluBackward0", Kind::Float},
      {UnaryOp::Softplus, "softplus", "SoftplusBackward0", Kind::Float},
      {UnaryOp::Erf, "erf", "ErfBackward0", Kind::Float},
      {UnaryOp::Sinh, "sinh", "SinhBackward0", Kind::Float},
      {UnaryOp::Cosh, "cosh", "CoshBackward0", Kind::Float},
      {UnaryOp::Asinh, "asinh", "AsinhBackward0", Kind::Float},
      {UnaryOp::Acosh, "acosh", "AcoshBackward0", Kind::Float},
      {UnaryOp::Atanh, "atanh", "AtanhBackward0", Kind::Float},
      {UnaryOp::Asin, "asin", "AsinBackward0", Kind::Float},
      {UnaryOp::Acos, "acos", "AcosBackward0", Kind::Float},
      {UnaryOp::Atan, "atan", "AtanBackward0", Kind::Float},
      {UnaryOp::Elu, "elu", "EluBackward0", Kind::FloatOnly},
      {UnaryOp::LeakyRelu, "leaky_relu", "LeakyReluBackward0", Kind::FloatOnly},
      {UnaryOp::LogSigmoid, "log_sigmoid", "LogSigmoidBackward0", Kind::FloatOnly},
      {UnaryOp::Mish, "mish", "MishBackward0", Kind::FloatOnly},
      {UnaryOp::NanToNum, "nan_to_num", "NanToNumBackward0", Kind::Keep},
      {UnaryOp::Floor, "floor", "FloorBackward0", Kind::Keep},
      {UnaryOp::Ceil, "ceil", "CeilBackward0", Kind::Keep},
      {UnaryOp::Round, "round", "RoundBackward0", Kind::Keep},
      {UnaryOp::Trunc, "trunc", "TruncBackward0", Kind::Keep},
      {UnaryOp::Clamp, "clamp", "ClampBackward1", Kind::Keep},
      {UnaryOp::BitwiseNot, "bitwise_not", "", Kind::Keep},
      {UnaryOp::LogicalNot, "logical_not", "", Kind::Bool},
      {UnaryOp::IsNan, "isnan", "", Kind::Bool},
      {UnaryOp::IsInf, "isinf", "", Kind::Bool},
      {UnaryOp::IsFinite, "isfinite", "", Kind::Bool},
  };
  return specs[static_cast<int>(op)];
}

kernels::OpId kernel_id(UnaryOp op) {
  static const auto ids = [] {
    std::array<kernels::OpId, static_cast<size_t>(UnaryOp::IsFinite) + 1> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = kernels::op_id(spec(static_cast<UnaryOp>(i)).name);
    return a;
  }();
  return ids[static_cast<int>(op)];
}

// What the derivative reads: the input, the output, or neither.
bool needs_input(UnaryOp op) {
  switch (op) {
    case UnaryOp::Abs: case UnaryOp::Log: case UnaryOp::Log2: case UnaryOp::Log10: case UnaryOp::Log1p:
    case UnaryOp::Square: case UnaryOp::Sin: case UnaryOp::Cos: case UnaryOp::GeluErf: case UnaryOp::GeluTanh:
    case UnaryOp::Silu: case UnaryOp::Softplus: case UnaryOp::Erf: case UnaryOp::Clamp:
    case UnaryOp::Sinh: case UnaryOp::Cosh: case UnaryOp::Asinh: case UnaryOp::Acosh: case UnaryOp::Atanh:
    case UnaryOp::Asin: case UnaryOp::Acos: case UnaryOp::Atan: case UnaryOp::Elu: case UnaryOp::LeakyRelu:
    case UnaryOp::LogSigmoid: case UnaryOp::Mish: case UnaryOp::NanToNum:
      return true;
    default: return false;
  }
}
bool needs_output(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp: case UnaryOp::Exp2: case UnaryOp::Expm1: case UnaryOp::Sqrt: case UnaryOp::Rsqrt:
    case UnaryOp::Reciprocal: case UnaryOp::Tan: case UnaryOp::Tanh: case UnaryOp::Sigmoid: case UnaryOp::Relu:
      return true;
    default: return false;
  }
}

// Note [Fused GELU backward] (src/backend/cpu/nn_hwy.cpp): a plain backward (grad mode off in the
// rule, not recording lazily or tracing) of contiguous same-dtype operands with a kernel runs the
// one-pass kernel: for float64 the composed form's value below bit for bit; for float32 within
// 2 ulp of max(|Phi|, |x phi|) of the exact derivative, not the composed float32 form's bits
// (the two agree within their errors, and the composed 1 + erf loses the left tail). Otherwise
// (create_graph, float16, strided or broadcast gradients) the composed form runs. Undefined: not
// taken.
Tensor gelu_backward_fused(const Tensor& g, const Tensor& x) {
  if (is_grad_enabled() || !lazy::detail::running_on_values()) return Tensor();
  if (g.dtype() != x.dtype() || g.device() != x.device() || g.shape() != x.shape() || !g.is_contiguous() ||
      !x.is_contiguous() || x.numel() == 0)
    return Tensor();
  static const auto id = kernels::op_id("nn_gelu_backward");
  const kernels::AnyKernel k = kernels::kernel_table().find(id, x.device().type, x.dtype());
  if (!k) return Tensor();
  Tensor dx = empty_tensor(x.shape(), x.dtype(), x.device());
  reinterpret_cast<nnk::GeluBackwardKernel>(k)(dx, g, x);
  return dx;
}

Tensor unary_vjp(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& out, const UnaryParams& p) {
  constexpr double ln2 = std::numbers::ln2, ln10 = std::numbers::ln10, pi = std::numbers::pi;
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Abs: return g * sign(x);
    case UnaryOp::Sign: case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round: case UnaryOp::Trunc:
      return zeros_like(g);
    case UnaryOp::Exp: return g * out;
    case UnaryOp::Exp2: return g * out * ln2;
    case UnaryOp::Expm1: return g * (out + 1);
    case UnaryOp::Log: return g / x;
    case UnaryOp::Log2: return g / (x * ln2);
    case UnaryOp::Log10: return g / (x * ln10);
    case UnaryOp::Log1p: return g / (x + 1);
    case UnaryOp::Sqrt: return g / (out * 2);
    case UnaryOp::Rsqrt: return g * out * out * out * -0.5;
    case UnaryOp::Square: return g * x * 2;
    case UnaryOp::Reciprocal: return -g * out * out;
    case UnaryOp::Sin: return g * cos(x);
    case UnaryOp::Cos: return -g * sin(x);
    case UnaryOp::Tan: return g * (out * out + 1);
    case UnaryOp::Tanh: return g * (1 - out * out);
    case UnaryOp::Sigmoid: return g * out * (1 - out);
    case UnaryOp::Relu: return where(out > 0, g, zeros_like(g));
    case UnaryOp::GeluErf: {
      if (Tensor dx = gelu_backward_fused(g, x); dx.defined()) return dx;
      const Tensor cdf = (erf(x * std::numbers::sqrt2 / 2) + 1) * 0.5;
      const Tensor pdf = exp(x * x * -0.5) * (1.0 / std::sqrt(2 * pi));
      return g * (cdf + x * pdf);
    }
    case UnaryOp::GeluTanh: {
      const double beta = std::sqrt(2.0 / pi), kappa = 0.044715;
      const Tensor x2 = x * x;
      const Tensor t = tanh((x + x2 * x * kappa) * beta);
      const Tensor left = x * 0.5, right = t + 1;
      const Tensor dright = left * (1 - t * t) * beta * (x2 * (3 * kappa) + 1);
      return g * (right * 0.5 + dright);
    }
    case UnaryOp::Silu: {
      const Tensor s = sigmoid(x);
      return g * s * (x * (1 - s) + 1);
    }
    case UnaryOp::Softplus: {
      const Tensor bx = x * p.a;
      return where(bx > p.b, g, g * sigmoid(bx));
    }
    case UnaryOp::Erf: return g * exp(-(x * x)) * (2.0 / std::sqrt(pi));
    // The inverse functions as PyTorch writes them (derivatives.yaml): inf at the ends of the
    // domain (acosh at 1, atanh/asin/acos at +-1), NaN outside it.
    case UnaryOp::Sinh: return g * cosh(x);
    case UnaryOp::Cosh: return g * sinh(x);
    case UnaryOp::Asinh: return g * (x * x + 1).rsqrt();
    case UnaryOp::Acosh: return g * (x * x - 1).rsqrt();
    case UnaryOp::Atanh: return g / (1 - x * x);
    case UnaryOp::Asin: return g * (-x * x + 1).rsqrt();
    case UnaryOp::Acos: return g * -((-x * x + 1).rsqrt());
    case UnaryOp::Atan: return g / (x * x + 1);
    case UnaryOp::Elu: {
      // PyTorch's elu_backward: x <= 0 takes the exponential side, so the gradient at 0 is
      // alpha * scale * input_scale (not scale). The exponent is clamped at 0 so the unused side
      // never overflows (which would turn second derivatives into NaN).
      const double negcoef = p.a * p.b, poscoef = p.b, negiptcoef = p.c;
      return where(x <= 0, g * negiptcoef * negcoef * exp(clamp_max(x, 0.0) * negiptcoef), g * poscoef);
    }
    case UnaryOp::LeakyRelu: return where(x > 0, g, g * p.a);  // 0 takes the slope, as PyTorch
    case UnaryOp::LogSigmoid: {
      // sigmoid(-x) as PyTorch's log_sigmoid_backward computes it: z / (1 + z) with z = exp(-|x|),
      // or 1 minus that for x < 0 (1/2 at 0).
      const Tensor z = exp(-abs(x));
      const Tensor s = z / (z + 1);
      return where(x < 0, 1 - s, s) * g;
    }
    case UnaryOp::Mish: {
      const Tensor t = tanh(log1p(exp(x)));
      return g * (t + x * sigmoid(x) * (1 - t * t));
    }
    case UnaryOp::NanToNum: return g * isfinite(x);  // replaced values are constants
    case UnaryOp::Clamp: {
      // The bounds were promoted with x; compare in x's dtype like PyTorch. The gradient passes
      // strictly inside the bounds only: 0 where x equals a bound, is NaN, or min > max (PyTorch).
      Tensor mask;
      if (p.has_a) mask = x > p.a;
      if (p.has_b) mask = mask.defined() ? logical_and(mask, x < p.b) : (x < p.b);
      return where(mask, g, zeros_like(g));
    }
    default: return Tensor();
  }
}

DType compute_dtype(const Spec& s, DType in) {
  if (s.kind == Kind::Float) return ew::float_dtype(in);
  if (s.op == UnaryOp::Square && in == DType::Bool) return DType::Int64;
  return in;
}

// PyTorch has no integer or bool kernel for these; its message names the kernel ("elu_cpu").
void check_float_only(const Spec& s, DType t) {
  RICCI_CHECK(s.kind != Kind::FloatOnly || is_floating_point(t), DTypeError, "[", s.name, "] \"", s.name,
              "_cpu\" not implemented for '", ew::torch_type_name(t), "' (got a ", t,
              " input); convert it to a floating dtype with .to(float32) first");
}

Tensor unary(UnaryOp op, const Tensor& x, const UnaryParams& p = {}, std::optional<DType> forced = std::nullopt);

// The unary primitive (Note [Lazy tensors]).
struct UnaryPrimParams {
  UnaryOp op;
  UnaryParams p;
  std::optional<DType> forced;
  bool operator==(const UnaryPrimParams&) const = default;
};

Tensors eval_unary(const Tensors& in, const UnaryPrimParams& q) { return {unary(q.op, in[0], q.p, q.forced)}; }

Tensor unary(UnaryOp op, const Tensor& x, const UnaryParams& p, std::optional<DType> forced) {
  const Spec& s = spec(op);
  check_defined(x, s.name);
  if (lazy::detail::recording()) [[unlikely]]
    return lazy::record_op<UnaryPrimParams>(s.name, eval_unary, {op, p, forced}, {x}, PrimitiveKind::Elementwise)[0];
  RICCI_CHECK(!(op == UnaryOp::Neg && x.dtype() == DType::Bool), DTypeError,
              "[neg] Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
              "mask, use the `~` or `logical_not()` operator instead.");
  RICCI_CHECK(!(op == UnaryOp::BitwiseNot && is_floating_point(x.dtype())), DTypeError,
              "[bitwise_not] bitwise_not is only supported for integer and bool dtypes, got ", x.dtype(),
              "; use logical_not() or convert with .to(int64)");
  check_float_only(s, x.dtype());
  const DType compute = forced ? *forced : compute_dtype(s, x.dtype());
  const DType out_dtype = s.kind == Kind::Bool ? DType::Bool : compute;
  Tensor out = empty_tensor(x.shape(), out_dtype, x.device());
  if (out.numel() > 0) {
    ew::unary_kernel(kernel_id(op), x.device(), compute)(op, out, ew::prepare(x, compute, x.shape(), x.device()), p);
  }
  if (s.kind != Kind::Bool && is_floating_point(out_dtype) && autograd::needs_grad(x)) {
    Tensor none;
    const bool ni = needs_input(op), no = needs_output(op);
    auto node = autograd::record(s.node, {&x}, {&out}, {ni ? &x : &none}, {no ? &out : &none}, [op, p](const VjpArgs& g) {
      return Tensors{unary_vjp(op, g.grads[0], g.saved[0], g.saved[1], p)};
    });
    // gelu's rule has a one-pass kernel (Note [Fused GELU backward]) a compile trace keeps by
    // replaying the rule whole; the other rules are ops it records and fuses.
    if (op == UnaryOp::GeluErf) node->set_replayable();
  }
  return out;
}

Tensor& unary_(UnaryOp op, const char* name, Tensor& self, const UnaryParams& p = {}) {
  const Spec& s = spec(op);
  check_defined(self, name, "self");
  check_float_only(s, self.dtype());
  const DType compute = compute_dtype(s, self.dtype());
  ew::check_inplace_target(self, self.shape(), compute, name);
  autograd::check_inplace(self, name);
  const bool rec = is_floating_point(self.dtype()) && autograd::needs_grad(self);
  // Values saved for the vjp keep their history, or a create_graph backward would lose the
  // second-order terms that flow through them: the old value is a clone made while recording, the
  // result is saved as this node's output — or, written through a view (whose history is the
  // base's, see src/autograd/view_history.cpp), recomputed from the old value.
  const bool through_view = static_cast<bool>(self.unsafe_impl()->view_base);
  const bool save_old = rec && (needs_input(op) || (needs_output(op) && through_view));
  Tensor old = save_old ? self.clone() : Tensor();
  if (self.numel() > 0) {
    Tensor d = self.requires_grad() ? self.detach() : self;
    if (compute == self.dtype()) {
      ew::unary_kernel(kernel_id(op), self.device(), compute)(op, d, d, p);
    } else {
      Tensor tmp = empty_tensor(self.shape(), compute, self.device());
      ew::unary_kernel(kernel_id(op), self.device(), compute)(op, tmp, ew::prepare(d, compute, d.shape(), d.device()), p);
      copy_kernel(d, tmp);
    }
  }
  autograd::bump_version(self);
  if (!rec) return self;
  auto node = autograd::record(s.node, {&self}, {}, {&old}, {}, [op, p](const VjpArgs& g) {
    Tensor out;
    if (needs_output(op)) out = g.saved.size() > 1 ? g.saved[1] : unary(op, g.saved[0], p);
    return Tensors{unary_vjp(op, g.grads[0], g.saved[0], out, p)};
  });
  autograd::rebase_history(self, node);
  if (needs_output(op) && !through_view) node->save(self, /*is_output=*/true);
  return self;
}

UnaryParams clamp_params(const Tensor& x, const std::optional<Scalar>& min, const std::optional<Scalar>& max, const char* name) {
  check_defined(x, name);
  RICCI_CHECK(min || max, ValueError, "[", name, "] At least one of 'min' or 'max' must not be None");
  UnaryParams p;
  if (min) {
    p.has_a = true;
    p.a = min->to_double();
    p.ia = min->to_int();
  }
  if (max) {
    p.has_b = true;
    p.b = max->to_double();
    p.ib = max->to_int();
  }
  return p;
}

DType clamp_dtype(const Tensor& x, const std::optional<Scalar>& min, const std::optional<Scalar>& max) {
  if (min && max) return ew::result_type({x, *min, *max});
  return min ? ew::result_type({x, *min}) : ew::result_type({x, *max});
}

}  // namespace

namespace ew {
std::optional<ElementwiseStep> unary_step(const Primitive& prim) {
  const auto* p = dynamic_cast<const OpPrimitive<UnaryPrimParams>*>(&prim);
  if (!p || p->params().forced || p->params().op >= UnaryOp::BitwiseNot) return std::nullopt;
  ElementwiseStep s;
  s.uop = p->params().op;
  s.up = p->params().p;
  s.kernel = kernel_id(s.uop);
  return s;
}

PrimitivePtr unary_primitive(UnaryOp op) {
  return std::make_shared<const OpPrimitive<UnaryPrimParams>>(spec(op).name, eval_unary, UnaryPrimParams{op, {}, {}},
                                                              PrimitiveKind::Elementwise);
}
}  // namespace ew


#define RICCI_EW_UNARY(fn, OP) \
  Tensor fn(const Tensor& x) { return unary(UnaryOp::OP, x); }
RICCI_EW_UNARY(neg, Neg)
RICCI_EW_UNARY(abs, Abs)
RICCI_EW_UNARY(sign, Sign)
RICCI_EW_UNARY(exp, Exp)
RICCI_EW_UNARY(exp2, Exp2)
RICCI_EW_UNARY(expm1, Expm1)
RICCI_EW_UNARY(log, Log)
RICCI_EW_UNARY(log2, Log2)
RICCI_EW_UNARY(log10, Log10)
RICCI_EW_UNARY(log1p, Log1p)
RICCI_EW_UNARY(sqrt, Sqrt)
RICCI_EW_UNARY(rsqrt, Rsqrt)
RICCI_EW_UNARY(square, Square)
RICCI_EW_UNARY(reciprocal, Reciprocal)
RICCI_EW_UNARY(sin, Sin)
RICCI_EW_UNARY(cos, Cos)
RICCI_EW_UNARY(tan, Tan)
RICCI_EW_UNARY(tanh, Tanh)
RICCI_EW_UNARY(sigmoid, Sigmoid)
RICCI_EW_UNARY(relu, Relu)
RICCI_EW_UNARY(silu, Silu)
RICCI_EW_UNARY(erf, Erf)
RICCI_EW_UNARY(sinh, Sinh)
RICCI_EW_UNARY(cosh, Cosh)
RICCI_EW_UNARY(asinh, Asinh)
RICCI_EW_UNARY(acosh, Acosh)
RICCI_EW_UNARY(atanh, Atanh)
RICCI_EW_UNARY(asin, Asin)
RICCI_EW_UNARY(acos, Acos)
RICCI_EW_UNARY(atan, Atan)
RICCI_EW_UNARY(logsigmoid, LogSigmoid)
RICCI_EW_UNARY(mish, Mish)
RICCI_EW_UNARY(floor, Floor)
RICCI_EW_UNARY(ceil, Ceil)
RICCI_EW_UNARY(round, Round)
RICCI_EW_UNARY(trunc, Trunc)
RICCI_EW_UNARY(logical_not, LogicalNot)
RICCI_EW_UNARY(isnan, IsNan)
RICCI_EW_UNARY(isinf, IsInf)
RICCI_EW_UNARY(isfinite, IsFinite)
RICCI_EW_UNARY(bitwise_not, BitwiseNot)
#undef RICCI_EW_UNARY

Tensor gelu(const Tensor& x, std::string_view approximate) {
  if (approximate == "none") return unary(UnaryOp::GeluErf, x);
  if (approximate == "tanh") return unary(UnaryOp::GeluTanh, x);
  throw ValueError(detail::cat("[gelu] approximate argument must be either none or tanh, got '", approximate, "'"));
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  UnaryParams p;
  p.a = beta;
  p.b = threshold;
  return unary(UnaryOp::Softplus, x, p);
}

namespace {
UnaryParams elu_params(double alpha, double scale, double input_scale) {
  UnaryParams p;
  p.a = alpha;
  p.b = scale;
  p.c = input_scale;
  return p;
}
}  // namespace

Tensor elu(const Tensor& x, double alpha) { return unary(UnaryOp::Elu, x, elu_params(alpha, 1.0, 1.0)); }
Tensor selu(const Tensor& x) {
  constexpr double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
  return unary(UnaryOp::Elu, x, elu_params(alpha, scale, 1.0));
}
Tensor celu(const Tensor& x, double alpha) {
  RICCI_CHECK(alpha != 0.0, ValueError, "[celu] ZeroDivisionError: alpha cannot be 0 for CELU");
  return unary(UnaryOp::Elu, x, elu_params(alpha, 1.0, 1.0 / alpha));
}
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  UnaryParams p;
  p.a = negative_slope;
  return unary(UnaryOp::LeakyRelu, x, p);
}

namespace {
// nan_to_num's replacements; unset infinities become the dtype's largest and lowest values.
UnaryParams nan_to_num_params(DType t, double nan, std::optional<double> posinf, std::optional<double> neginf) {
  double big = std::numeric_limits<double>::max();
  if (t == DType::Float32) big = std::numeric_limits<float>::max();
  if (t == DType::Float16) big = 65504.0;
  if (t == DType::BFloat16) big = 3.38953138925153547590470800371487866880e+38;  // 0x7F7F
  UnaryParams p;
  p.a = nan;
  p.b = posinf.value_or(big);
  p.c = neginf.value_or(-big);
  return p;
}
}  // namespace

Tensor nan_to_num(const Tensor& x, double nan, std::optional<double> posinf, std::optional<double> neginf) {
  check_defined(x, "nan_to_num");
  if (!x.is_floating_point()) return x.clone();  // integers hold no NaN or infinity (as PyTorch: a copy)
  return unary(UnaryOp::NanToNum, x, nan_to_num_params(x.dtype(), nan, posinf, neginf));
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  const UnaryParams p = clamp_params(x, min, max, "clamp");
  return unary(UnaryOp::Clamp, x, p, clamp_dtype(x, min, max));
}
Tensor clamp_min(const Tensor& x, const Scalar& min) { return clamp(x, min, std::nullopt); }
Tensor clamp_max(const Tensor& x, const Scalar& max) { return clamp(x, std::nullopt, max); }

// Tensor bounds: min(max(x, min), max), NaN from any of the three propagating. The gradient
// follows PyTorch: it goes to whichever of x, min, max gives the output, and a tie between x and
// one bound splits it equally (as maximum/minimum do); x equal to both bounds keeps all of it,
// and min > max sends all of it to max. With one bound the rule is maximum's (minimum's): NaN
// passes the gradient to both.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max) {
  check_defined(x, "clamp");
  RICCI_CHECK(min.defined() || max.defined(), ValueError, "[clamp] At least one of 'min' or 'max' must not be None");
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor xd = x.detach();
    out = xd;
    if (min.defined()) out = maximum(out, min.detach());
    if (max.defined()) out = minimum(out, max.detach());
  }
  if (!out.is_floating_point() || !autograd::needs_grad({&x, &min, &max})) return out;
  const Dims sx(x.shape()), slo(min.defined() ? min.shape() : IntArrayRef{}), shi(max.defined() ? max.shape() : IntArrayRef{});
  const DType dx = x.dtype(), dlo = min.defined() ? min.dtype() : x.dtype(), dhi = max.defined() ? max.dtype() : x.dtype();
  const bool has_lo = min.defined(), has_hi = max.defined();
  autograd::record("ClampBackward0", {&x, &min, &max}, {&out}, {&x, &min, &max}, {}, [=](const VjpArgs& a) {
    const Tensor& g = a.grads[0];
    const Tensor &xs = a.saved[0], &lo = a.saved[1], &hi = a.saved[2];
    const Tensor zero = zeros_like(g), half = g * 0.5;
    // full: the whole gradient; tie: half of it; elsewhere none.
    auto pick = [&](const Tensor& full, const Tensor& tie) { return where(full, g, where(tie, half, zero)); };
    Tensor gx, glo, ghi;
    if (has_lo && has_hi) {
      const Tensor ordered = lo <= hi, tl = xs == lo, th = xs == hi;
      const Tensor inside = logical_not(logical_or(xs < lo, xs > hi));
      const Tensor split = logical_and(ordered, logical_xor(tl, th));
      if (a.needs_input_grad(0)) gx = pick(logical_and(inside, logical_not(split)), logical_and(inside, split));
      if (a.needs_input_grad(1))
        glo = pick(logical_and(ordered, xs < lo), logical_and(ordered, logical_and(tl, logical_not(th))));
      if (a.needs_input_grad(2))
        ghi = pick(logical_or(lo > hi, logical_and(ordered, xs > hi)),
                   logical_and(ordered, logical_and(th, logical_not(tl))));
    } else if (has_lo) {  // maximum(x, min)
      const Tensor tie = xs == lo;
      if (a.needs_input_grad(0)) gx = pick(logical_not(xs <= lo), tie);
      if (a.needs_input_grad(1)) glo = pick(logical_not(xs >= lo), tie);
    } else {  // minimum(x, max)
      const Tensor tie = xs == hi;
      if (a.needs_input_grad(0)) gx = pick(logical_not(xs >= hi), tie);
      if (a.needs_input_grad(2)) ghi = pick(logical_not(xs <= hi), tie);
    }
    if (gx.defined()) gx = ew::reduce_grad(gx, sx, dx);
    if (glo.defined()) glo = ew::reduce_grad(glo, slo, dlo);
    if (ghi.defined()) ghi = ew::reduce_grad(ghi, shi, dhi);
    return Tensors{gx, glo, ghi};
  });
  return out;
}

// ---- Tensor methods ------------------------------------------------------------------------------
#define RICCI_EW_METHOD(fn, OP)                                       \
  Tensor Tensor::fn() const { return unary(UnaryOp::OP, *this); }    \
  Tensor& Tensor::fn##_() { return unary_(UnaryOp::OP, #fn "_", *this); }
RICCI_EW_METHOD(neg, Neg)
RICCI_EW_METHOD(abs, Abs)
RICCI_EW_METHOD(sign, Sign)
RICCI_EW_METHOD(exp, Exp)
RICCI_EW_METHOD(exp2, Exp2)
RICCI_EW_METHOD(expm1, Expm1)
RICCI_EW_METHOD(log, Log)
RICCI_EW_METHOD(log2, Log2)
RICCI_EW_METHOD(log10, Log10)
RICCI_EW_METHOD(log1p, Log1p)
RICCI_EW_METHOD(sqrt, Sqrt)
RICCI_EW_METHOD(rsqrt, Rsqrt)
RICCI_EW_METHOD(square, Square)
RICCI_EW_METHOD(reciprocal, Reciprocal)
RICCI_EW_METHOD(sin, Sin)
RICCI_EW_METHOD(cos, Cos)
RICCI_EW_METHOD(tan, Tan)
RICCI_EW_METHOD(tanh, Tanh)
RICCI_EW_METHOD(sigmoid, Sigmoid)
RICCI_EW_METHOD(relu, Relu)
RICCI_EW_METHOD(erf, Erf)
RICCI_EW_METHOD(sinh, Sinh)
RICCI_EW_METHOD(cosh, Cosh)
RICCI_EW_METHOD(asinh, Asinh)
RICCI_EW_METHOD(acosh, Acosh)
RICCI_EW_METHOD(atanh, Atanh)
RICCI_EW_METHOD(asin, Asin)
RICCI_EW_METHOD(acos, Acos)
RICCI_EW_METHOD(atan, Atan)
RICCI_EW_METHOD(floor, Floor)
RICCI_EW_METHOD(ceil, Ceil)
RICCI_EW_METHOD(round, Round)
RICCI_EW_METHOD(trunc, Trunc)
#undef RICCI_EW_METHOD

Tensor Tensor::logical_not() const { return unary(UnaryOp::LogicalNot, *this); }
Tensor Tensor::isnan() const { return unary(UnaryOp::IsNan, *this); }
Tensor Tensor::isinf() const { return unary(UnaryOp::IsInf, *this); }
Tensor Tensor::isfinite() const { return unary(UnaryOp::IsFinite, *this); }
Tensor Tensor::bitwise_not() const { return unary(UnaryOp::BitwiseNot, *this); }
Tensor Tensor::gelu(std::string_view approximate) const { return ricci::gelu(*this, approximate); }
Tensor Tensor::silu() const { return unary(UnaryOp::Silu, *this); }
Tensor Tensor::softplus(double beta, double threshold) const { return ricci::softplus(*this, beta, threshold); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const { return ricci::clamp(*this, min, max); }
Tensor Tensor::clamp_min(const Scalar& min) const { return ricci::clamp(*this, min, std::nullopt); }
Tensor Tensor::clamp_max(const Scalar& max) const { return ricci::clamp(*this, std::nullopt, max); }
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  const UnaryParams p = clamp_params(*this, min, max, "clamp_");
  const DType t = clamp_dtype(*this, min, max);
  ew::check_inplace_target(*this, shape(), t, "clamp_");
  return unary_(UnaryOp::Clamp, "clamp_", *this, p);
}
Tensor Tensor::nan_to_num(double nan, std::optional<double> posinf, std::optional<double> neginf) const {
  return ricci::nan_to_num(*this, nan, posinf, neginf);
}
Tensor& Tensor::nan_to_num_(double nan, std::optional<double> posinf, std::optional<double> neginf) {
  check_defined(*this, "nan_to_num_", "self");
  if (!is_floating_point()) return *this;  // integers hold no NaN or infinity
  return unary_(UnaryOp::NanToNum, "nan_to_num_", *this, nan_to_num_params(dtype(), nan, posinf, neginf));
}
Tensor& Tensor::clamp_min_(const Scalar& min) { return clamp_(min, std::nullopt); }
Tensor& Tensor::clamp_max_(const Scalar& max) { return clamp_(std::nullopt, max); }

}  // namespace ricci
