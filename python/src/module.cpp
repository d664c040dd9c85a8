// ricci._ricci: the module, its exceptions, dtypes and devices. The other files bind the areas.
#include "common.h"

namespace ricci::python {
namespace {

// Note [Python exceptions]: every ricci::Error arrives as a subclass of ricci.Error (itself a
// RuntimeError, which is what PyTorch raises) and of the builtin a Python user expects for its
// kind: ShapeError and ValueError are ValueErrors, DTypeError a TypeError, IndexError an
// IndexError, NotImplementedError a NotImplementedError. The C++ message is passed on intact.
PyObject* g_error = nullptr;
PyObject* g_shape_error = nullptr;
PyObject* g_dtype_error = nullptr;
PyObject* g_device_error = nullptr;
PyObject* g_index_error = nullptr;
PyObject* g_value_error = nullptr;
PyObject* g_autograd_error = nullptr;
PyObject* g_io_error = nullptr;
PyObject* g_not_implemented_error = nullptr;
PyObject* g_trace_failed = nullptr;

PyObject* new_exception(nb::module_& m, const char* name, PyObject* base1, PyObject* base2, const char* doc) {
  std::string qualified = std::string("ricci.") + name;
  PyObject* bases = base2 ? PyTuple_Pack(2, base1, base2) : PyTuple_Pack(1, base1);
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  Py_DECREF(bases);
  if (!type) throw nb::python_error();
  m.attr(name) = nb::handle(type);
  return type;
}

void init_exceptions(nb::module_& m) {
  g_error = new_exception(m, "Error", PyExc_RuntimeError, nullptr, "Base class of every error ricci raises.");
  g_shape_error = new_exception(m, "ShapeError", g_error, PyExc_ValueError, "Shapes that do not fit.");
  g_dtype_error = new_exception(m, "DTypeError", g_error, PyExc_TypeError, "Unsupported or mismatched dtypes.");
  g_device_error = new_exception(m, "DeviceError", g_error, nullptr, "A wrong or unavailable device.");
  g_index_error = new_exception(m, "IndexError", g_error, PyExc_IndexError, "An index or dim out of range.");
  g_value_error = new_exception(m, "ValueError", g_error, PyExc_ValueError, "A bad argument value.");
  g_autograd_error = new_exception(m, "AutogradError", g_error, nullptr, "Misuse of the gradient machinery.");
  g_io_error = new_exception(m, "IOError", g_error, nullptr, "Files: missing, malformed, hostile.");
  g_not_implemented_error =
      new_exception(m, "NotImplementedError", g_error, PyExc_NotImplementedError, "Not implemented (yet).");
  g_trace_failed = new_exception(m, "_TraceFailed", PyExc_Exception, nullptr,
                                 "Internal: a transform's trace needs a value (Note [Tracing through Python]).");
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const lazy::detail::TraceFailed& e) {
      // The reason rides along, for compile's stats() once the trace has crossed Python.
      PyErr_SetString(g_trace_failed, e.why.empty() ? "a transform's trace needs a value" : e.why.c_str());
    } catch (const ShapeError& e) {
      PyErr_SetString(g_shape_error, e.what());
    } catch (const DTypeError& e) {
      PyErr_SetString(g_dtype_error, e.what());
    } catch (const DeviceError& e) {
      PyErr_SetString(g_device_error, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(g_index_error, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(g_value_error, e.what());
    } catch (const AutogradError& e) {
      PyErr_SetString(g_autograd_error, e.what());
    } catch (const IOError& e) {
      PyErr_SetString(g_io_error, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(g_not_implemented_error, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    } catch (nb::python_error& e) {
      e.restore();  // a Python exception raised in a callback (hook, transformed function)
    } catch (const nb::builtin_exception&) {
      throw;  // nanobind's own translator handles these
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace

PyObject* trace_failed_type() { return g_trace_failed; }

Tensors call_tensor_fn(const nb::object& fn, const Tensors& in) {
  nb::gil_scoped_acquire gil;
  try {
    return nb::cast<Tensors>(fn(nb::cast(in)));
  } catch (nb::python_error& e) {
    if (e.matches(g_trace_failed)) throw lazy::detail::TraceFailed{nb::cast<std::string>(nb::str(e.value()))};
    throw;
  }
}

void init_dtypes(nb::module_& m) {
  nb::enum_<DType> dt(m, "dtype", "An element type: ricci.float32, ricci.int64, ...");
  const std::pair<const char*, DType> all[] = {
      {"bool", DType::Bool},       {"uint8", DType::UInt8},     {"int8", DType::Int8},
      {"int16", DType::Int16},     {"int32", DType::Int32},     {"int64", DType::Int64},
      {"float16", DType::Float16}, {"bfloat16", DType::BFloat16}, {"float32", DType::Float32},
      {"float64", DType::Float64}};
  for (auto [name, t] : all) dt.value(name, t);
  dt.def("__repr__", [](DType t) { return "ricci." + std::string(dtype_name(t)); })
      .def("__str__", [](DType t) { return "ricci." + std::string(dtype_name(t)); })
      .def_prop_ro("itemsize", [](DType t) { return element_size(t); })
      .def_prop_ro("is_floating_point", [](DType t) { return is_floating_point(t); })
      .def_prop_ro("is_signed", [](DType t) { return t != DType::Bool && t != DType::UInt8; });
  for (auto [name, t] : all) m.attr(name) = dt.attr(name);
  // PyTorch's aliases.
  m.attr("bool_") = dt.attr("bool");
  m.attr("half") = dt.attr("float16");
  m.attr("float") = dt.attr("float32");
  m.attr("double") = dt.attr("float64");
  m.attr("long") = dt.attr("int64");
  m.attr("int") = dt.attr("int32");
  m.attr("short") = dt.attr("int16");
  m.def("promote_types", &promote_types, "a"_a, "b"_a);
  m.def("dtype_from_name", &dtype_from_name, "name"_a);

  nb::class_<Device>(m, "device", "Where a tensor's bytes live: ricci.device('cpu'), 'cuda', 'cuda:1'.")
      .def(nb::init<const std::string&>(), "spec"_a)
      .def_prop_ro("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_prop_ro("index", [](const Device& d) -> std::optional<int> {
        if (d.index < 0) return std::nullopt;
        return d.index;
      })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        std::string s = std::string("device(type='") + (d.is_cpu() ? "cpu" : "cuda") + "'";
        if (d.index >= 0) s += ", index=" + std::to_string(d.index);
        return s + ")";
      })
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__eq__", [](const Device& a, const std::string& b) { return a == Device(b); })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1000 + d.normalized_index(); });
  nb::implicitly_convertible<std::string, Device>();

  nb::module_ cuda = m.def_submodule("cuda", "CUDA availability");
  cuda.def("is_available", &cuda::is_available);
  cuda.def("device_count", &cuda::device_count);
  cuda.def("synchronize", &cuda::synchronize);
}

}  // namespace ricci::python

NB_MODULE(_ricci, m) {
  using namespace ricci::python;
  m.doc() = "ricci: tensors, eager autograd, lazy evaluation and function transforms (C++ core)";
  init_exceptions(m);
  init_dtypes(m);
  init_tensor(m);
  init_tensor_ops(m);
  init_functions(m);
  init_autograd(m);
  init_nn(m);
}
