#pragma once
// Shared by the binding files of ricci._ricci: the nanobind headers, the conversion of Python
// numbers to ricci::Scalar, shapes given as `f(2, 3)` or `f((2, 3))`, and the init functions each
// file defines. Each file binds one area so that it compiles on its own in reasonable time.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lazy/lazy_detail.h"
#include "ricci/ricci.h"

namespace nb = nanobind;
using namespace nb::literals;

// Python bool / int / float (and numpy scalars, on the converting pass) <-> ricci::Scalar.
namespace nanobind::detail {
template <>
struct type_caster<ricci::Scalar> {
  NB_TYPE_CASTER(ricci::Scalar, const_name("bool | int | float"))

  bool from_python(handle src, uint8_t flags, cleanup_list*) noexcept {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = ricci::Scalar(o == Py_True);
      return true;
    }
    if (PyFloat_Check(o)) {
      value = ricci::Scalar(PyFloat_AS_DOUBLE(o));
      return true;
    }
    if (PyLong_Check(o)) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return false;
      }
      value = ricci::Scalar(static_cast<int64_t>(v));
      return true;
    }
    if (!(flags & static_cast<uint8_t>(cast_flags::convert))) return false;
    // numpy scalars (np.float32(2), np.int64(3), np.bool_(True)): anything with a dtype that is a
    // number but not one of our own instances (a Tensor is never silently a Scalar).
    if (nb::inst_check(src)) return false;
    if (!PyObject_HasAttrString(o, "dtype") || !PyObject_HasAttrString(o, "item")) return false;
    PyObject* item = PyObject_CallMethod(o, "item", nullptr);
    if (!item) {
      PyErr_Clear();
      return false;
    }
    bool ok = (PyBool_Check(item) || PyFloat_Check(item) || PyLong_Check(item));
    if (ok) ok = from_python(item, 0, nullptr);
    Py_DECREF(item);
    return ok;
  }

  static handle from_cpp(const ricci::Scalar& s, rv_policy, cleanup_list*) noexcept {
    if (s.is_bool()) return PyBool_FromLong(s.to_int() != 0);
    if (s.is_integral()) return PyLong_FromLongLong(s.to_int());
    return PyFloat_FromDouble(s.to_double());
  }
};
}  // namespace nanobind::detail

namespace ricci::python {

// `x.reshape(2, 3)`, `x.reshape((2, 3))`, `x.reshape([2, 3])`, `zeros(())`.
std::vector<int64_t> shape_from_args(const nb::args& args, const char* op);
// A Python int or a sequence of ints (dims arguments: `sum(dim=1)`, `sum(dim=(0, 1))`).
std::vector<int64_t> int_list(nb::handle obj, const char* op);
// dtype=None / device="cpu" / requires_grad=False into TensorOptions.
TensorOptions make_options(std::optional<DType> dtype, std::optional<Device> device, bool requires_grad);
// ricci.tensor(data): lists, scalars, numpy arrays (copied), tensors (copied).
Tensor tensor_from_data(nb::handle data, std::optional<DType> dtype, std::optional<Device> device, bool requires_grad);
// A Python index (int, slice, None, Ellipsis, bool, tensor, list, tuple of those) as TensorIndex list.
std::vector<TensorIndex> to_indices(nb::handle index);
// Zero-copy wrapping of a numpy array (or any DLPack / buffer provider nanobind accepts) and back.
Tensor from_numpy(nb::handle array);
nb::object to_numpy(const Tensor& t, bool force);
nb::object to_dlpack_capsule(const Tensor& t, nb::handle stream);

// Python callable -> std::function that acquires the GIL when called, and whose destructor does.
struct PyFunction {
  nb::object fn;
  explicit PyFunction(nb::object f) : fn(std::move(f)) {}
  PyFunction(const PyFunction& o) {
    nb::gil_scoped_acquire gil;
    fn = o.fn;
  }
  PyFunction(PyFunction&&) noexcept = default;
  ~PyFunction() {
    if (fn.is_valid() && Py_IsInitialized()) {
      nb::gil_scoped_acquire gil;
      fn.reset();
    } else {
      fn.release();  // the interpreter is gone: leak rather than crash
    }
  }
};

// Note [Tracing through Python]: vmap traces f with placeholders and, when f reads a value,
// throws lazy::detail::TraceFailed through f to fall back to a loop. When f is Python code that
// signal has to cross Python: it becomes ricci._TraceFailed on the way out of a binding, and
// call_tensor_fn turns that back into TraceFailed on the way into C++.
PyObject* trace_failed_type();
// Calls a Python function with a list of tensors (the GIL held), returning its list of tensors.
Tensors call_tensor_fn(const nb::object& fn, const Tensors& in);

// quantized_matmul's `activations` as Python spells it: "float" or "int8".
inline ActivationPrecision parse_activations(const std::string& a) {
  if (a == "float") return ActivationPrecision::Float;
  if (a == "int8") return ActivationPrecision::Int8;
  throw ValueError("[quantized_matmul] activations must be \"float\" or \"int8\", got \"" + a + "\"");
}
inline std::string activations_name(ActivationPrecision a) { return a == ActivationPrecision::Int8 ? "int8" : "float"; }

void init_dtypes(nb::module_& m);
void init_tensor(nb::module_& m);
void init_tensor_ops(nb::module_& m);
void init_functions(nb::module_& m);
void init_autograd(nb::module_& m);
void init_nn(nb::module_& m);

}  // namespace ricci::python
