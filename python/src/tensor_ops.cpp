// ricci.Tensor methods and operators: elementwise, reductions, shape and index ops, linalg.
#include "common.h"

namespace ricci::python {
namespace {

// Note [Releasing the GIL]: ops on large tensors run without the GIL, so other Python threads
// go on meanwhile; on small ones releasing would cost more than the op. Only ops that never call
// back into Python are wrapped (hooks and transforms take the GIL back themselves anyway).
constexpr int64_t kReleaseGilNumel = 1 << 15;
template <class F>
Tensor maybe_release(int64_t numel, F&& f) {
  if (numel >= kReleaseGilNumel) {
    nb::gil_scoped_release release;
    return f();
  }
  return f();
}

nb::object g_values_indices;  // collections.namedtuple("values_indices", "values indices")
template <class P>
nb::object vi(const P& p) {
  return g_values_indices(std::get<0>(p), std::get<1>(p));
}

std::vector<int64_t> dims_or_empty(nb::handle dim, const char* op) {
  if (dim.is_none()) return {};
  return int_list(dim, op);
}

// In-place methods return the very Python object they were called on.
#define RICCI_INPLACE0(name)                       \
  cls.def(#name, [](nb::handle self) {             \
    nb::cast<Tensor&>(self).name();                \
    return nb::borrow(self);                       \
  })

}  // namespace

void init_tensor_ops(nb::module_& m) {
  g_values_indices = nb::module_::import_("collections").attr("namedtuple")("values_indices", "values indices");
  m.attr("_values_indices") = g_values_indices;
  auto cls = nb::borrow<nb::class_<Tensor>>(m.attr("Tensor"));

  // ---- unary elementwise ----------------------------------------------------------------------------
#define RICCI_UNARY(name) cls.def(#name, &Tensor::name);
  RICCI_UNARY(abs) RICCI_UNARY(neg) RICCI_UNARY(sign) RICCI_UNARY(exp) RICCI_UNARY(exp2) RICCI_UNARY(expm1)
  RICCI_UNARY(log) RICCI_UNARY(log2) RICCI_UNARY(log10) RICCI_UNARY(log1p) RICCI_UNARY(sqrt) RICCI_UNARY(rsqrt)
  RICCI_UNARY(square) RICCI_UNARY(reciprocal) RICCI_UNARY(sin) RICCI_UNARY(cos) RICCI_UNARY(tan)
  RICCI_UNARY(tanh) RICCI_UNARY(sigmoid) RICCI_UNARY(relu) RICCI_UNARY(erf) RICCI_UNARY(floor)
  RICCI_UNARY(ceil) RICCI_UNARY(round) RICCI_UNARY(trunc) RICCI_UNARY(logical_not) RICCI_UNARY(isnan)
  RICCI_UNARY(isinf) RICCI_UNARY(isfinite) RICCI_UNARY(silu) RICCI_UNARY(bitwise_not) RICCI_UNARY(sinh)
  RICCI_UNARY(cosh) RICCI_UNARY(asinh) RICCI_UNARY(acosh) RICCI_UNARY(atanh) RICCI_UNARY(asin)
  RICCI_UNARY(acos) RICCI_UNARY(atan)
#undef RICCI_UNARY
  cls.def("negative", &Tensor::neg);
  cls.def("gelu", &Tensor::gelu, "approximate"_a = "none");
  cls.def("softplus", &Tensor::softplus, "beta"_a = 1.0, "threshold"_a = 20.0);
  cls.def("nan_to_num", &Tensor::nan_to_num, "nan"_a = 0.0, "posinf"_a = nb::none(), "neginf"_a = nb::none());
  RICCI_INPLACE0(abs_); RICCI_INPLACE0(sign_); RICCI_INPLACE0(exp_); RICCI_INPLACE0(exp2_); RICCI_INPLACE0(expm1_);
  RICCI_INPLACE0(log_); RICCI_INPLACE0(log2_); RICCI_INPLACE0(log10_); RICCI_INPLACE0(log1p_); RICCI_INPLACE0(sqrt_);
  RICCI_INPLACE0(rsqrt_); RICCI_INPLACE0(square_); RICCI_INPLACE0(reciprocal_); RICCI_INPLACE0(sin_);
  RICCI_INPLACE0(cos_); RICCI_INPLACE0(tan_); RICCI_INPLACE0(tanh_); RICCI_INPLACE0(sigmoid_); RICCI_INPLACE0(erf_);
  RICCI_INPLACE0(floor_); RICCI_INPLACE0(ceil_); RICCI_INPLACE0(round_); RICCI_INPLACE0(trunc_); RICCI_INPLACE0(relu_);
  RICCI_INPLACE0(neg_); RICCI_INPLACE0(sinh_); RICCI_INPLACE0(cosh_); RICCI_INPLACE0(asinh_); RICCI_INPLACE0(acosh_);
  RICCI_INPLACE0(atanh_); RICCI_INPLACE0(asin_); RICCI_INPLACE0(acos_); RICCI_INPLACE0(atan_);

  // ---- binary elementwise ---------------------------------------------------------------------------
  cls.def("add", [](const Tensor& a, const Tensor& b, const Scalar& alpha) { return a.add(b, alpha); }, "other"_a,
          nb::kw_only(), "alpha"_a = 1)
      .def("add", [](const Tensor& a, const Scalar& b, const Scalar& alpha) { return a.add(b, alpha); }, "other"_a,
           nb::kw_only(), "alpha"_a = 1)
      .def("sub", [](const Tensor& a, const Tensor& b, const Scalar& alpha) { return a.sub(b, alpha); }, "other"_a,
           nb::kw_only(), "alpha"_a = 1)
      .def("sub", [](const Tensor& a, const Scalar& b, const Scalar& alpha) { return a.sub(b, alpha); }, "other"_a,
           nb::kw_only(), "alpha"_a = 1)
      .def("mul", [](const Tensor& a, const Tensor& b) { return a.mul(b); }, "other"_a)
      .def("mul", [](const Tensor& a, const Scalar& b) { return a.mul(b); }, "other"_a)
      .def("div", [](const Tensor& a, const Tensor& b, std::optional<std::string> rm) {
        return rm ? a.div(b, std::string_view(*rm)) : a.div(b);
      }, "other"_a, nb::kw_only(), "rounding_mode"_a = nb::none())
      .def("div", [](const Tensor& a, const Scalar& b, std::optional<std::string> rm) {
        return rm ? a.div(b, std::string_view(*rm)) : a.div(b);
      }, "other"_a, nb::kw_only(), "rounding_mode"_a = nb::none())
      .def("pow", [](const Tensor& a, const Tensor& b) { return a.pow(b); }, "exponent"_a)
      .def("pow", [](const Tensor& a, const Scalar& b) { return a.pow(b); }, "exponent"_a)
      .def("fmod", [](const Tensor& a, const Tensor& b) { return a.fmod(b); }, "other"_a)
      .def("fmod", [](const Tensor& a, const Scalar& b) { return a.fmod(b); }, "other"_a)
      .def("remainder", [](const Tensor& a, const Tensor& b) { return a.remainder(b); }, "other"_a)
      .def("remainder", [](const Tensor& a, const Scalar& b) { return a.remainder(b); }, "other"_a)
      .def("atan2", &Tensor::atan2, "other"_a)
      .def("maximum", &Tensor::maximum, "other"_a)
      .def("minimum", &Tensor::minimum, "other"_a)
      .def("logaddexp", &Tensor::logaddexp, "other"_a)
      .def("hypot", &Tensor::hypot, "other"_a)
      .def("logical_and", &Tensor::logical_and, "other"_a)
      .def("logical_or", &Tensor::logical_or, "other"_a)
      .def("logical_xor", &Tensor::logical_xor, "other"_a)
      .def("bitwise_and", &Tensor::bitwise_and, "other"_a)
      .def("bitwise_or", &Tensor::bitwise_or, "other"_a)
      .def("bitwise_xor", &Tensor::bitwise_xor, "other"_a)
      .def("where", &Tensor::where, "condition"_a, "other"_a)
      .def("lerp", [](const Tensor& a, const Tensor& e, const Scalar& w) { return a.lerp(e, w); }, "end"_a, "weight"_a)
      .def("lerp", [](const Tensor& a, const Tensor& e, const Tensor& w) { return a.lerp(e, w); }, "end"_a, "weight"_a)
      .def("addcmul", &Tensor::addcmul, "tensor1"_a, "tensor2"_a, nb::kw_only(), "value"_a = 1)
      .def("addcdiv", &Tensor::addcdiv, "tensor1"_a, "tensor2"_a, nb::kw_only(), "value"_a = 1)
      .def("clamp", [](const Tensor& a, std::optional<Scalar> lo, std::optional<Scalar> hi) { return a.clamp(lo, hi); },
           "min"_a = nb::none(), "max"_a = nb::none())
      .def("clamp", [](const Tensor& a, std::optional<Tensor> lo, std::optional<Tensor> hi) {
        return ricci::clamp(a, lo.value_or(Tensor()), hi.value_or(Tensor()));
      }, "min"_a = nb::none(), "max"_a = nb::none())
      .def("clip", [](const Tensor& a, std::optional<Scalar> lo, std::optional<Scalar> hi) { return a.clamp(lo, hi); },
           "min"_a = nb::none(), "max"_a = nb::none())
      .def("clamp_min", &Tensor::clamp_min, "min"_a)
      .def("clamp_max", &Tensor::clamp_max, "max"_a)
      .def("masked_fill", [](const Tensor& a, const Tensor& mask, const Scalar& v) { return a.masked_fill(mask, v); },
           "mask"_a, "value"_a)
      .def("masked_fill", [](const Tensor& a, const Tensor& mask, const Tensor& v) { return ricci::masked_fill(a, mask, v); },
           "mask"_a, "value"_a);
#define RICCI_CMP(name)                                                                       \
  cls.def(#name, [](const Tensor& a, const Tensor& b) { return a.name(b); }, "other"_a);      \
  cls.def(#name, [](const Tensor& a, const Scalar& b) { return a.name(b); }, "other"_a);
  RICCI_CMP(eq) RICCI_CMP(ne) RICCI_CMP(lt) RICCI_CMP(le) RICCI_CMP(gt) RICCI_CMP(ge)
#undef RICCI_CMP
  cls.def("equal", [](const Tensor& a, const Tensor& b) { return ricci::equal(a, b); }, "other"_a)
      .def("allclose", &ricci::allclose, "other"_a, "rtol"_a = 1e-5, "atol"_a = 1e-8, "equal_nan"_a = false)
      .def("isclose", &ricci::isclose, "other"_a, "rtol"_a = 1e-5, "atol"_a = 1e-8, "equal_nan"_a = false);

  // in place, returning self
#define RICCI_INPLACE_TS(name, call_t, call_s)                                                              \
  cls.def(#name, [](nb::handle self, const Tensor& o) { Tensor& t = nb::cast<Tensor&>(self); call_t; return nb::borrow(self); }, \
          "other"_a);                                                                                          \
  cls.def(#name, [](nb::handle self, const Scalar& o) { Tensor& t = nb::cast<Tensor&>(self); call_s; return nb::borrow(self); }, \
          "other"_a);
  RICCI_INPLACE_TS(mul_, t.mul_(o), t.mul_(o))
  RICCI_INPLACE_TS(div_, t.div_(o), t.div_(o))
  RICCI_INPLACE_TS(pow_, t.pow_(o), t.pow_(o))
  RICCI_INPLACE_TS(fmod_, t.copy_(t.fmod(o)), t.fmod_(o))
  RICCI_INPLACE_TS(remainder_, t.copy_(t.remainder(o)), t.remainder_(o))
#undef RICCI_INPLACE_TS
  cls.def("add_", [](nb::handle self, const Tensor& o, const Scalar& alpha) {
    nb::cast<Tensor&>(self).add_(o, alpha);
    return nb::borrow(self);
  }, "other"_a, nb::kw_only(), "alpha"_a = 1)
      .def("add_", [](nb::handle self, const Scalar& o) {
        nb::cast<Tensor&>(self).add_(o);
        return nb::borrow(self);
      }, "other"_a)
      .def("sub_", [](nb::handle self, const Tensor& o, const Scalar& alpha) {
        nb::cast<Tensor&>(self).sub_(o, alpha);
        return nb::borrow(self);
      }, "other"_a, nb::kw_only(), "alpha"_a = 1)
      .def("sub_", [](nb::handle self, const Scalar& o) {
        nb::cast<Tensor&>(self).sub_(o);
        return nb::borrow(self);
      }, "other"_a)
      .def("clamp_", [](nb::handle self, std::optional<Scalar> lo, std::optional<Scalar> hi) {
        nb::cast<Tensor&>(self).clamp_(lo, hi);
        return nb::borrow(self);
      }, "min"_a = nb::none(), "max"_a = nb::none())
      .def("clamp_min_", [](nb::handle self, const Scalar& v) {
        nb::cast<Tensor&>(self).clamp_min_(v);
        return nb::borrow(self);
      }, "min"_a)
      .def("clamp_max_", [](nb::handle self, const Scalar& v) {
        nb::cast<Tensor&>(self).clamp_max_(v);
        return nb::borrow(self);
      }, "max"_a)
      .def("masked_fill_", [](nb::handle self, const Tensor& mask, const Scalar& v) {
        nb::cast<Tensor&>(self).masked_fill_(mask, v);
        return nb::borrow(self);
      }, "mask"_a, "value"_a)
      .def("lerp_", [](nb::handle self, const Tensor& end, const Scalar& w) {
        nb::cast<Tensor&>(self).lerp_(end, w);
        return nb::borrow(self);
      }, "end"_a, "weight"_a)
      .def("addcmul_", [](nb::handle self, const Tensor& a, const Tensor& b, const Scalar& v) {
        nb::cast<Tensor&>(self).addcmul_(a, b, v);
        return nb::borrow(self);
      }, "tensor1"_a, "tensor2"_a, nb::kw_only(), "value"_a = 1)
      .def("addcdiv_", [](nb::handle self, const Tensor& a, const Tensor& b, const Scalar& v) {
        nb::cast<Tensor&>(self).addcdiv_(a, b, v);
        return nb::borrow(self);
      }, "tensor1"_a, "tensor2"_a, nb::kw_only(), "value"_a = 1)
      .def("nan_to_num_", [](nb::handle self, double nan, std::optional<double> pinf, std::optional<double> ninf) {
        nb::cast<Tensor&>(self).nan_to_num_(nan, pinf, ninf);
        return nb::borrow(self);
      }, "nan"_a = 0.0, "posinf"_a = nb::none(), "neginf"_a = nb::none())
      .def("normal_", [](nb::handle self, double mean, double std) {
        ricci::normal_(nb::cast<Tensor&>(self), mean, std);
        return nb::borrow(self);
      }, "mean"_a = 0.0, "std"_a = 1.0)
      .def("uniform_", [](nb::handle self, double lo, double hi) {
        ricci::uniform_(nb::cast<Tensor&>(self), lo, hi);
        return nb::borrow(self);
      }, "a"_a = 0.0, "b"_a = 1.0);

  // ---- operators ------------------------------------------------------------------------------------
  const auto op = nb::is_operator();
  auto big = [](const Tensor& a, const Tensor& b) { return std::max(a.numel(), b.numel()); };
  cls.def("__add__", [big](const Tensor& a, const Tensor& b) { return maybe_release(big(a, b), [&] { return a + b; }); }, op)
      .def("__add__", [](const Tensor& a, const Scalar& b) { return a + b; }, op)
      .def("__radd__", [](const Tensor& a, const Scalar& b) { return b + a; }, op)
      .def("__sub__", [big](const Tensor& a, const Tensor& b) { return maybe_release(big(a, b), [&] { return a - b; }); }, op)
      .def("__sub__", [](const Tensor& a, const Scalar& b) { return a - b; }, op)
      .def("__rsub__", [](const Tensor& a, const Scalar& b) { return b - a; }, op)
      .def("__mul__", [big](const Tensor& a, const Tensor& b) { return maybe_release(big(a, b), [&] { return a * b; }); }, op)
      .def("__mul__", [](const Tensor& a, const Scalar& b) { return a * b; }, op)
      .def("__rmul__", [](const Tensor& a, const Scalar& b) { return b * a; }, op)
      .def("__truediv__", [big](const Tensor& a, const Tensor& b) { return maybe_release(big(a, b), [&] { return a / b; }); }, op)
      .def("__truediv__", [](const Tensor& a, const Scalar& b) { return a / b; }, op)
      .def("__rtruediv__", [](const Tensor& a, const Scalar& b) { return b / a; }, op)
      .def("__floordiv__", [](const Tensor& a, const Tensor& b) { return a.div(b, std::string_view("floor")); }, op)
      .def("__floordiv__", [](const Tensor& a, const Scalar& b) { return a.div(b, std::string_view("floor")); }, op)
      .def("__rfloordiv__", [](const Tensor& a, const Scalar& b) {
        return scalar_tensor(b, result_type(a, b)).div(a, std::string_view("floor"));
      }, op)
      .def("__mod__", [](const Tensor& a, const Tensor& b) { return a.remainder(b); }, op)
      .def("__mod__", [](const Tensor& a, const Scalar& b) { return a.remainder(b); }, op)
      .def("__rmod__", [](const Tensor& a, const Scalar& b) { return scalar_tensor(b, result_type(a, b)).remainder(a); }, op)
      .def("__pow__", [](const Tensor& a, const Tensor& b) { return a.pow(b); }, op)
      .def("__pow__", [](const Tensor& a, const Scalar& b) { return a.pow(b); }, op)
      .def("__rpow__", [](const Tensor& a, const Scalar& b) { return ricci::pow(b, a); }, op)
      .def("__matmul__", [](const Tensor& a, const Tensor& b) {
        nb::gil_scoped_release release;
        return ricci::matmul(a, b);
      }, op)
      .def("__rmatmul__", [](const Tensor& a, const Tensor& b) { return ricci::matmul(b, a); }, op)
      .def("__neg__", [](const Tensor& a) { return -a; }, op)
      .def("__pos__", [](const Tensor& a) { return a; }, op)
      .def("__abs__", [](const Tensor& a) { return a.abs(); }, op)
      .def("__invert__", [](const Tensor& a) { return ~a; }, op)
      .def("__and__", [](const Tensor& a, const Tensor& b) { return a & b; }, op)
      .def("__and__", [](const Tensor& a, const Scalar& b) { return a & b; }, op)
      .def("__rand__", [](const Tensor& a, const Scalar& b) { return a & b; }, op)
      .def("__or__", [](const Tensor& a, const Tensor& b) { return a | b; }, op)
      .def("__or__", [](const Tensor& a, const Scalar& b) { return a | b; }, op)
      .def("__ror__", [](const Tensor& a, const Scalar& b) { return a | b; }, op)
      .def("__xor__", [](const Tensor& a, const Tensor& b) { return a ^ b; }, op)
      .def("__xor__", [](const Tensor& a, const Scalar& b) { return a ^ b; }, op)
      .def("__rxor__", [](const Tensor& a, const Scalar& b) { return a ^ b; }, op)
      .def("__lshift__", [](const Tensor& a, const Tensor& b) { return bitwise_left_shift(a, b); }, op)
      .def("__lshift__", [](const Tensor& a, const Scalar& b) { return a << b; }, op)
      .def("__rshift__", [](const Tensor& a, const Tensor& b) { return bitwise_right_shift(a, b); }, op)
      .def("__rshift__", [](const Tensor& a, const Scalar& b) { return a >> b; }, op);
#define RICCI_CMP_OP(py, cpp)                                                       \
  cls.def(py, [](const Tensor& a, const Tensor& b) { return a cpp b; }, op);        \
  cls.def(py, [](const Tensor& a, const Scalar& b) { return a cpp b; }, op);
  RICCI_CMP_OP("__eq__", ==) RICCI_CMP_OP("__ne__", !=) RICCI_CMP_OP("__lt__", <) RICCI_CMP_OP("__le__", <=)
  RICCI_CMP_OP("__gt__", >) RICCI_CMP_OP("__ge__", >=)
#undef RICCI_CMP_OP
#define RICCI_IOP(py, stmt_t, stmt_s)                                                                         \
  cls.def(py, [](nb::handle self, const Tensor& o) { Tensor& t = nb::cast<Tensor&>(self); stmt_t; return nb::borrow(self); }, op); \
  cls.def(py, [](nb::handle self, const Scalar& o) { Tensor& t = nb::cast<Tensor&>(self); stmt_s; return nb::borrow(self); }, op);
  RICCI_IOP("__iadd__", t += o, t += o)
  RICCI_IOP("__isub__", t -= o, t -= o)
  RICCI_IOP("__imul__", t *= o, t *= o)
  RICCI_IOP("__itruediv__", t /= o, t /= o)
  RICCI_IOP("__ipow__", t.pow_(o), t.pow_(o))
  RICCI_IOP("__imod__", t.copy_(t.remainder(o)), t.remainder_(o))
  RICCI_IOP("__ifloordiv__", t.copy_(t.div(o, std::string_view("floor"))), t.copy_(t.div(o, std::string_view("floor"))))
  RICCI_IOP("__iand__", t.copy_(t & o), t.copy_(t & o))
  RICCI_IOP("__ior__", t.copy_(t | o), t.copy_(t | o))
  RICCI_IOP("__ixor__", t.copy_(t ^ o), t.copy_(t ^ o))
#undef RICCI_IOP
  cls.def("__imatmul__", [](nb::handle self, const Tensor& o) {
    Tensor& t = nb::cast<Tensor&>(self);
    t = ricci::matmul(t, o);
    return nb::borrow(self);
  }, op);

  // ---- reductions -----------------------------------------------------------------------------------
  cls.def("sum", [](const Tensor& x, nb::handle dim, bool keepdim, std::optional<DType> dtype) {
    if (dim.is_none()) return keepdim ? x.sum(std::vector<int64_t>{}, true, dtype) : x.sum(dtype);
    std::vector<int64_t> dims = int_list(dim, "sum");
    return maybe_release(x.numel(), [&] { return x.sum(dims, keepdim, dtype); });
  }, "dim"_a = nb::none(), "keepdim"_a = false, nb::kw_only(), "dtype"_a = nb::none())
      .def("mean", [](const Tensor& x, nb::handle dim, bool keepdim, std::optional<DType> dtype) {
        Tensor src = dtype ? x.to(*dtype) : x;
        if (dim.is_none()) return keepdim ? src.mean(std::vector<int64_t>{}, true) : src.mean();
        return src.mean(int_list(dim, "mean"), keepdim);
      }, "dim"_a = nb::none(), "keepdim"_a = false, nb::kw_only(), "dtype"_a = nb::none())
      .def("prod", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype) {
        return dim ? ricci::prod(x, *dim, keepdim, dtype) : ricci::prod(x, dtype);
      }, "dim"_a = nb::none(), "keepdim"_a = false, nb::kw_only(), "dtype"_a = nb::none())
      .def("amax", [](const Tensor& x, nb::handle dim, bool keepdim) { return x.amax(dims_or_empty(dim, "amax"), keepdim); },
           "dim"_a = nb::none(), "keepdim"_a = false)
      .def("amin", [](const Tensor& x, nb::handle dim, bool keepdim) { return x.amin(dims_or_empty(dim, "amin"), keepdim); },
           "dim"_a = nb::none(), "keepdim"_a = false)
      .def("max", [](const Tensor& x, const Tensor& other) { return x.maximum(other); }, "other"_a)
      .def("max", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) -> nb::object {
        if (!dim) return nb::cast(x.max());
        return vi(ricci::max(x, *dim, keepdim));
      }, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("min", [](const Tensor& x, const Tensor& other) { return x.minimum(other); }, "other"_a)
      .def("min", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) -> nb::object {
        if (!dim) return nb::cast(x.min());
        return vi(ricci::min(x, *dim, keepdim));
      }, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("argmax", &Tensor::argmax, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("argmin", &Tensor::argmin, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("var", [](const Tensor& x, nb::handle dim, std::optional<bool> unbiased, std::optional<int64_t> correction,
                     bool keepdim) {
        int64_t c = correction ? *correction : (unbiased.value_or(true) ? 1 : 0);
        return x.var(dims_or_empty(dim, "var"), c, keepdim);
      }, "dim"_a = nb::none(), "unbiased"_a = nb::none(), nb::kw_only(), "correction"_a = nb::none(), "keepdim"_a = false)
      .def("std", [](const Tensor& x, nb::handle dim, std::optional<bool> unbiased, std::optional<int64_t> correction,
                     bool keepdim) {
        int64_t c = correction ? *correction : (unbiased.value_or(true) ? 1 : 0);
        return x.std(dims_or_empty(dim, "std"), c, keepdim);
      }, "dim"_a = nb::none(), "unbiased"_a = nb::none(), nb::kw_only(), "correction"_a = nb::none(), "keepdim"_a = false)
      .def("norm", [](const Tensor& x, double p, nb::handle dim, bool keepdim) {
        return ricci::norm(x, p, dims_or_empty(dim, "norm"), keepdim);
      }, "p"_a = 2.0, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("logsumexp", [](const Tensor& x, nb::handle dim, bool keepdim) { return x.logsumexp(int_list(dim, "logsumexp"), keepdim); },
           "dim"_a, "keepdim"_a = false)
      .def("all", [](const Tensor& x, nb::handle dim, bool keepdim) {
        return dim.is_none() ? ricci::all(x) : ricci::all(x, int_list(dim, "all"), keepdim);
      }, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("any", [](const Tensor& x, nb::handle dim, bool keepdim) {
        return dim.is_none() ? ricci::any(x) : ricci::any(x, int_list(dim, "any"), keepdim);
      }, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("cumsum", [](const Tensor& x, int64_t dim, std::optional<DType> dtype) { return ricci::cumsum(x, dim, dtype); },
           "dim"_a, nb::kw_only(), "dtype"_a = nb::none())
      .def("cumprod", [](const Tensor& x, int64_t dim, std::optional<DType> dtype) { return ricci::cumprod(x, dim, dtype); },
           "dim"_a, nb::kw_only(), "dtype"_a = nb::none())
      .def("logcumsumexp", &Tensor::logcumsumexp, "dim"_a)
      .def("cummax", [](const Tensor& x, int64_t dim) { return vi(x.cummax(dim)); }, "dim"_a)
      .def("cummin", [](const Tensor& x, int64_t dim) { return vi(x.cummin(dim)); }, "dim"_a)
      .def("median", [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) -> nb::object {
        if (!dim) return nb::cast(x.median());
        return vi(x.median(*dim, keepdim));
      }, "dim"_a = nb::none(), "keepdim"_a = false)
      .def("kthvalue", [](const Tensor& x, int64_t k, int64_t dim, bool keepdim) { return vi(x.kthvalue(k, dim, keepdim)); },
           "k"_a, "dim"_a = -1, "keepdim"_a = false)
      .def("count_nonzero", [](const Tensor& x, nb::handle dim) { return x.count_nonzero(dims_or_empty(dim, "count_nonzero")); },
           "dim"_a = nb::none());

  // ---- shape ----------------------------------------------------------------------------------------
  cls.def("view", [](const Tensor& x, const DType dtype) { return x.view(dtype); }, "dtype"_a)
      .def("view", [](const Tensor& x, nb::args shape) { return x.view(shape_from_args(shape, "view")); }, "shape"_a)
      .def("reshape", [](const Tensor& x, nb::args shape) { return x.reshape(shape_from_args(shape, "reshape")); }, "shape"_a)
      .def("view_as", [](const Tensor& x, const Tensor& o) { return x.view(o.shape()); }, "other"_a)
      .def("reshape_as", [](const Tensor& x, const Tensor& o) { return x.reshape(o.shape()); }, "other"_a)
      .def("transpose", &Tensor::transpose, "dim0"_a, "dim1"_a)
      .def("swapaxes", &Tensor::transpose, "axis0"_a, "axis1"_a)
      .def("t", &Tensor::t)
      .def("permute", [](const Tensor& x, nb::args dims) { return x.permute(shape_from_args(dims, "permute")); }, "dims"_a)
      .def("expand", [](const Tensor& x, nb::args sizes) { return x.expand(shape_from_args(sizes, "expand")); }, "sizes"_a)
      .def("expand_as", &Tensor::expand_as, "other"_a)
      .def("broadcast_to", [](const Tensor& x, nb::handle shape) { return x.expand(int_list(shape, "broadcast_to")); }, "shape"_a)
      .def("squeeze", [](const Tensor& x, std::optional<int64_t> dim) { return dim ? x.squeeze(*dim) : x.squeeze(); },
           "dim"_a = nb::none())
      .def("unsqueeze", &Tensor::unsqueeze, "dim"_a)
      .def("flatten", &Tensor::flatten, "start_dim"_a = 0, "end_dim"_a = -1)
      .def("ravel", [](const Tensor& x) { return x.reshape(std::vector<int64_t>{-1}); })
      .def("unflatten", [](const Tensor& x, int64_t dim, nb::handle sizes) { return x.unflatten(dim, int_list(sizes, "unflatten")); },
           "dim"_a, "sizes"_a)
      .def("narrow", &Tensor::narrow, "dim"_a, "start"_a, "length"_a)
      .def("select", &Tensor::select, "dim"_a, "index"_a)
      .def("diagonal", &Tensor::diagonal, "offset"_a = 0, "dim1"_a = 0, "dim2"_a = 1)
      .def("as_strided", [](const Tensor& x, nb::handle size, nb::handle stride, std::optional<int64_t> off) {
        return x.as_strided(int_list(size, "as_strided"), int_list(stride, "as_strided"), off);
      }, "size"_a, "stride"_a, "storage_offset"_a = nb::none())
      .def("unfold", &Tensor::unfold, "dimension"_a, "size"_a, "step"_a)
      .def("repeat", [](const Tensor& x, nb::args r) { return x.repeat(shape_from_args(r, "repeat")); }, "repeats"_a)
      .def("tile", [](const Tensor& x, nb::args r) { return x.tile(shape_from_args(r, "tile")); }, "dims"_a)
      .def("flip", [](const Tensor& x, nb::args d) { return x.flip(shape_from_args(d, "flip")); }, "dims"_a)
      .def("roll", [](const Tensor& x, nb::handle shifts, nb::handle dims) {
        return x.roll(int_list(shifts, "roll"), dims_or_empty(dims, "roll"));
      }, "shifts"_a, "dims"_a = nb::none())
      .def("tril", &Tensor::tril, "diagonal"_a = 0)
      .def("triu", &Tensor::triu, "diagonal"_a = 0)
      .def("diag", &Tensor::diag, "diagonal"_a = 0)
      .def("diag_embed", &Tensor::diag_embed, "offset"_a = 0, "dim1"_a = -2, "dim2"_a = -1)
      .def("diff", [](const Tensor& x, int64_t n, int64_t dim, std::optional<Tensor> prepend, std::optional<Tensor> append) {
        return x.diff(n, dim, prepend.value_or(Tensor()), append.value_or(Tensor()));
      }, "n"_a = 1, "dim"_a = -1, "prepend"_a = nb::none(), "append"_a = nb::none())
      .def("repeat_interleave", [](const Tensor& x, int64_t r, std::optional<int64_t> dim) { return x.repeat_interleave(r, dim); },
           "repeats"_a, "dim"_a = nb::none())
      .def("repeat_interleave", [](const Tensor& x, const Tensor& r, std::optional<int64_t> dim) { return x.repeat_interleave(r, dim); },
           "repeats"_a, "dim"_a = nb::none())
      .def("split", [](const Tensor& x, nb::handle size, int64_t dim) {
        if (PyLong_Check(size.ptr())) return ricci::split(x, nb::cast<int64_t>(size), dim);
        return ricci::split(x, int_list(size, "split"), dim);
      }, "split_size"_a, "dim"_a = 0)
      .def("chunk", &Tensor::chunk, "chunks"_a, "dim"_a = 0)
      .def("unbind", [](const Tensor& x, int64_t dim) {
        std::vector<Tensor> out;
        const int64_t n = x.size(dim);
        for (int64_t i = 0; i < n; ++i) out.push_back(x.select(dim, i));
        return out;
      }, "dim"_a = 0);

  // ---- indexing, ordering ---------------------------------------------------------------------------
  cls.def("index_select", &Tensor::index_select, "dim"_a, "index"_a)
      .def("gather", &Tensor::gather, "dim"_a, "index"_a)
      .def("take_along_dim", &Tensor::take_along_dim, "indices"_a, "dim"_a = nb::none())
      .def("scatter", [](const Tensor& x, int64_t d, const Tensor& i, const Tensor& s) { return x.scatter(d, i, s); },
           "dim"_a, "index"_a, "src"_a)
      .def("scatter", [](const Tensor& x, int64_t d, const Tensor& i, const Scalar& v) { return x.scatter(d, i, v); },
           "dim"_a, "index"_a, "value"_a)
      .def("scatter_add", &Tensor::scatter_add, "dim"_a, "index"_a, "src"_a)
      .def("scatter_", [](nb::handle self, int64_t d, const Tensor& i, const Tensor& s) {
        ricci::scatter_(nb::cast<Tensor&>(self), d, i, s);
        return nb::borrow(self);
      }, "dim"_a, "index"_a, "src"_a)
      .def("scatter_add_", [](nb::handle self, int64_t d, const Tensor& i, const Tensor& s) {
        ricci::scatter_add_(nb::cast<Tensor&>(self), d, i, s);
        return nb::borrow(self);
      }, "dim"_a, "index"_a, "src"_a)
      .def("index_add_", [](nb::handle self, int64_t d, const Tensor& i, const Tensor& s, const Scalar& alpha) {
        nb::cast<Tensor&>(self).index_add_(d, i, s, alpha);
        return nb::borrow(self);
      }, "dim"_a, "index"_a, "source"_a, nb::kw_only(), "alpha"_a = 1)
      .def("index_put_", [](nb::handle self, nb::handle indices, const Tensor& values, bool accumulate) {
        std::vector<TensorIndex> idx;
        for (nb::handle h : nb::iter(indices)) idx.emplace_back(nb::cast<Tensor>(h));
        index_put_(nb::cast<Tensor&>(self), idx, values, accumulate);
        return nb::borrow(self);
      }, "indices"_a, "values"_a, "accumulate"_a = false)
      .def("sort", [](const Tensor& x, int64_t dim, bool desc, bool stable) { return vi(x.sort(dim, desc, stable)); },
           "dim"_a = -1, "descending"_a = false, nb::kw_only(), "stable"_a = false)
      .def("argsort", &Tensor::argsort, "dim"_a = -1, "descending"_a = false, nb::kw_only(), "stable"_a = false)
      .def("topk", [](const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
        return vi(x.topk(k, dim, largest, sorted));
      }, "k"_a, "dim"_a = -1, "largest"_a = true, "sorted"_a = true)
      .def("softmax", [](const Tensor& x, int64_t dim, std::optional<DType> dtype) { return F::softmax(x, dim, dtype); },
           "dim"_a, "dtype"_a = nb::none())
      .def("log_softmax", [](const Tensor& x, int64_t dim, std::optional<DType> dtype) { return F::log_softmax(x, dim, dtype); },
           "dim"_a, "dtype"_a = nb::none());

  // ---- linear algebra -------------------------------------------------------------------------------
  cls.def("matmul", [](const Tensor& a, const Tensor& b) {
    nb::gil_scoped_release release;
    return ricci::matmul(a, b);
  }, "other"_a)
      .def("mm", [](const Tensor& a, const Tensor& b) {
        nb::gil_scoped_release release;
        return ricci::mm(a, b);
      }, "mat2"_a)
      .def("bmm", [](const Tensor& a, const Tensor& b) {
        nb::gil_scoped_release release;
        return ricci::bmm(a, b);
      }, "mat2"_a)
      .def("mv", [](const Tensor& a, const Tensor& v) { return ricci::mv(a, v); }, "vec"_a)
      .def("dot", &Tensor::dot, "other"_a)
      .def("outer", [](const Tensor& a, const Tensor& b) { return ricci::outer(a, b); }, "vec2"_a)
      .def("trace", &Tensor::trace)
      .def("baddbmm", &Tensor::baddbmm, "batch1"_a, "batch2"_a, nb::kw_only(), "beta"_a = 1, "alpha"_a = 1)
      .def("kron", &Tensor::kron, "other"_a)
      .def("cross", &Tensor::cross, "other"_a, "dim"_a = nb::none());
}

}  // namespace ricci::python
