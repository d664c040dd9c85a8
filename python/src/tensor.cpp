// ricci.Tensor: metadata, conversion to and from Python and numpy (zero-copy), indexing, printing.
#include <algorithm>

#include "common.h"

namespace ricci::python {

// ---- argument helpers ---------------------------------------------------------------------------

static bool is_int_like(nb::handle h) {
  return PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr());
}

std::vector<int64_t> int_list(nb::handle obj, const char* op) {
  std::vector<int64_t> out;
  if (is_int_like(obj)) {
    out.push_back(nb::cast<int64_t>(obj));
    return out;
  }
  if (PyIndex_Check(obj.ptr()) && !nb::isinstance<Tensor>(obj)) {
    out.push_back(nb::cast<int64_t>(nb::steal(PyNumber_Index(obj.ptr()))));
    return out;
  }
  if (!PySequence_Check(obj.ptr()) || nb::isinstance<Tensor>(obj))
    throw nb::type_error((std::string(op) + "(): expected an int or a sequence of ints, got " +
                          nb::cast<std::string>(nb::str(obj.type().attr("__name__"))))
                             .c_str());
  for (nb::handle item : nb::iter(obj)) {
    if (!is_int_like(item) && !(PyIndex_Check(item.ptr()) && !nb::isinstance<Tensor>(item)))
      throw nb::type_error((std::string(op) + "(): expected a sequence of ints").c_str());
    out.push_back(nb::cast<int64_t>(nb::steal(PyNumber_Index(item.ptr()))));
  }
  return out;
}

std::vector<int64_t> shape_from_args(const nb::args& args, const char* op) {
  if (args.size() == 1 && !is_int_like(args[0])) return int_list(args[0], op);
  std::vector<int64_t> out;
  out.reserve(args.size());
  for (nb::handle a : args) {
    if (!is_int_like(a) && !PyIndex_Check(a.ptr()))
      throw nb::type_error((std::string(op) + "(): sizes must be ints").c_str());
    out.push_back(nb::cast<int64_t>(nb::steal(PyNumber_Index(a.ptr()))));
  }
  return out;
}

TensorOptions make_options(std::optional<DType> dtype, std::optional<Device> device, bool requires_grad) {
  return TensorOptions(dtype, device.value_or(kCPU), requires_grad);
}

// ---- ricci.tensor(data) -------------------------------------------------------------------------

namespace {

struct Flat {
  std::vector<int64_t> shape;
  std::vector<double> floats;
  std::vector<int64_t> ints;
  int kind = 0;  // 0 bool, 1 int, 2 float: the widest seen
};

bool is_sequence(nb::handle h) { return PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()); }

void add_scalar(nb::handle h, Flat& f) {
  PyObject* o = h.ptr();
  if (nb::isinstance<Tensor>(h)) {
    const Tensor& t = nb::cast<const Tensor&>(h);
    RICCI_CHECK(t.numel() == 1, ValueError, "[tensor] only one-element tensors can be converted to Python scalars, got ",
                t.numel(), " elements");
    Scalar s = t.item();
    if (s.is_bool()) f.kind = std::max(f.kind, 0);
    else if (s.is_integral()) f.kind = std::max(f.kind, 1);
    else f.kind = 2;
    f.floats.push_back(s.to_double());
    f.ints.push_back(s.to_int());
    return;
  }
  Scalar s = nb::cast<Scalar>(h);  // numpy scalars too (converting pass)
  (void)o;
  if (s.is_floating_point()) f.kind = 2;
  else if (s.is_integral()) f.kind = std::max(f.kind, 1);
  f.floats.push_back(s.to_double());
  f.ints.push_back(s.is_floating_point() ? 0 : s.to_int());
}

void fill(nb::handle obj, size_t depth, Flat& f) {
  if (depth == f.shape.size()) {
    if (is_sequence(obj))
      throw ShapeError("[tensor] expected a sequence of length 0 at dim " + std::to_string(depth) +
                       " (the lists are ragged)");
    add_scalar(obj, f);
    return;
  }
  if (!is_sequence(obj))
    throw ShapeError("[tensor] expected a sequence at dim " + std::to_string(depth) +
                     " (the lists are ragged): got a scalar where a list of length " +
                     std::to_string(f.shape[depth]) + " was expected");
  Py_ssize_t n = PySequence_Fast_GET_SIZE(obj.ptr());
  if (n != f.shape[depth])
    throw ShapeError("[tensor] expected sequence of length " + std::to_string(f.shape[depth]) + " at dim " +
                     std::to_string(depth) + " (got " + std::to_string(n) + ")");
  PyObject** items = PySequence_Fast_ITEMS(obj.ptr());
  for (Py_ssize_t i = 0; i < n; ++i) fill(items[i], depth + 1, f);
}

}  // namespace

Tensor tensor_from_data(nb::handle data, std::optional<DType> dtype, std::optional<Device> device,
                        bool requires_grad) {
  Tensor out;
  if (nb::isinstance<Tensor>(data)) {
    out = nb::cast<const Tensor&>(data).detach().clone();
    if (dtype) out = out.to(*dtype);
  } else if (PyBool_Check(data.ptr()) || PyLong_Check(data.ptr()) || PyFloat_Check(data.ptr())) {
    out = scalar_tensor(nb::cast<Scalar>(data), TensorOptions(dtype, kCPU));
  } else if (is_sequence(data)) {
    Flat f;
    nb::handle probe = data;
    while (is_sequence(probe)) {
      Py_ssize_t n = PySequence_Size(probe.ptr());
      f.shape.push_back(n);
      if (n == 0) break;
      probe = PySequence_Fast_GET_ITEM(probe.ptr(), 0);
    }
    bool empty = false;
    for (int64_t s : f.shape) empty = empty || s == 0;
    if (empty) {
      out = zeros(f.shape, TensorOptions(dtype.value_or(float32), kCPU));
    } else {
      fill(data, 0, f);
      if (f.kind == 2) {
        out = from_blob_copy(f.floats.data(), f.shape, float64).to(dtype.value_or(float32));
      } else {
        Tensor ints = from_blob_copy(f.ints.data(), f.shape, int64);
        out = ints.to(dtype.value_or(f.kind == 1 ? int64 : bool_));
      }
    }
  } else {
    // numpy arrays and scalars, anything numpy turns into an array: copied, like torch.tensor.
    nb::object arr = nb::module_::import_("numpy").attr("asarray")(data);
    out = from_numpy(arr).clone();
    if (dtype) out = out.to(*dtype);
  }
  if (device && !(*device == kCPU)) out = out.to(*device);
  if (requires_grad) out.requires_grad_(true);
  return out;
}

// ---- numpy and DLPack ---------------------------------------------------------------------------

namespace {

std::optional<DType> from_dl(nb::dlpack::dtype d) {
  using C = nb::dlpack::dtype_code;
  if (d.lanes != 1) return std::nullopt;
  switch (static_cast<C>(d.code)) {
    case C::Bool: return d.bits == 8 ? std::optional<DType>(bool_) : std::nullopt;
    case C::Int:
      if (d.bits == 8) return int8;
      if (d.bits == 16) return int16;
      if (d.bits == 32) return int32;
      if (d.bits == 64) return int64;
      return std::nullopt;
    case C::UInt: return d.bits == 8 ? std::optional<DType>(uint8) : std::nullopt;
    case C::Float:
      if (d.bits == 16) return float16;
      if (d.bits == 32) return float32;
      if (d.bits == 64) return float64;
      return std::nullopt;
    case C::Bfloat: return d.bits == 16 ? std::optional<DType>(bfloat16) : std::nullopt;
    default: return std::nullopt;
  }
}

nb::dlpack::dtype to_dl(DType t) {
  using C = nb::dlpack::dtype_code;
  nb::dlpack::dtype d{};
  d.lanes = 1;
  d.bits = static_cast<uint8_t>(element_size(t) * 8);
  switch (t) {
    case DType::Bool: d.code = static_cast<uint8_t>(C::Bool); break;
    case DType::UInt8: d.code = static_cast<uint8_t>(C::UInt); break;
    case DType::Int8: case DType::Int16: case DType::Int32: case DType::Int64:
      d.code = static_cast<uint8_t>(C::Int); break;
    case DType::BFloat16: d.code = static_cast<uint8_t>(C::Bfloat); break;
    default: d.code = static_cast<uint8_t>(C::Float); break;
  }
  return d;
}

void release_pyobject(void* ctx) {
  if (!Py_IsInitialized()) return;
  nb::gil_scoped_acquire gil;
  Py_XDECREF(static_cast<PyObject*>(ctx));
}

// The tensor's memory as a nanobind ndarray whose owner keeps a copy of the handle (so the
// storage outlives the tensor object it came from).
template <class... Framework>
nb::ndarray<Framework...> as_ndarray(const Tensor& t) {
  void* data = t.data_ptr();  // evaluates a pending (lazy) tensor
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<int64_t> strides(t.strides().begin(), t.strides().end());
  nb::capsule owner(new Tensor(t), [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  const int device_type = t.is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
  return nb::ndarray<Framework...>(data, shape.size(), shape.data(), owner, strides.data(), to_dl(t.dtype()),
                                device_type, t.is_cuda() ? t.device().normalized_index() : 0);
}

}  // namespace

Tensor from_numpy(nb::handle array) {
  nb::ndarray<> arr;
  if (!nb::try_cast(array, arr)) {
    // read-only or otherwise unwrappable arrays: a writable copy
    nb::object copy = nb::module_::import_("numpy").attr("array")(array);
    if (!nb::try_cast(copy, arr))
      throw nb::type_error("from_numpy(): expected a numpy array (or a DLPack / buffer provider)");
    array = copy;
    return from_numpy(copy);
  }
  std::optional<DType> dt = from_dl(arr.dtype());
  if (!dt) throw DTypeError("[from_numpy] unsupported element type (ricci has bool, uint8, int8..int64, "
                            "float16, bfloat16, float32, float64)");
  RICCI_CHECK(arr.device_type() == nb::device::cpu::value, DeviceError,
              "[from_numpy] only CPU arrays are wrapped; copy the array to the host first");
  std::vector<int64_t> shape(arr.ndim()), strides(arr.ndim());
  bool negative = false;
  for (size_t i = 0; i < arr.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(arr.shape(i));
    strides[i] = arr.stride(i);
    negative = negative || strides[i] < 0;
  }
  if (negative) {  // ricci strides are non-negative: a contiguous copy
    nb::object copy = nb::module_::import_("numpy").attr("ascontiguousarray")(array);
    return from_numpy(copy);
  }
  PyObject* keep = array.ptr();
  Py_INCREF(keep);
  return ricci::from_blob(arr.data(), shape, strides, *dt, kCPU, &release_pyobject, keep);
}

nb::object to_numpy(const Tensor& t, bool force) {
  Tensor src = t;
  if (force) src = src.detach().cpu();
  RICCI_CHECK(!src.requires_grad(), Error,
              "[numpy] Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
  RICCI_CHECK(src.is_cpu(), DTypeError, "[numpy] can't convert ", src.device().str(),
              " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  RICCI_CHECK(src.dtype() != bfloat16, DTypeError,
              "[numpy] Got unsupported ScalarType BFloat16 (numpy has no bfloat16); convert with .float() first");
  return nb::cast(as_ndarray<nb::numpy>(src));
}

nb::object to_dlpack_capsule(const Tensor& t, nb::handle /*stream*/) {
  RICCI_CHECK(!t.requires_grad(), Error,
              "[__dlpack__] Can't export a tensor that requires grad; use tensor.detach() first");
  return nb::cast(as_ndarray<>(t));  // a "dltensor" capsule
}

// __dlpack__(stream=None, max_version=None, dl_device=None, copy=None): nanobind's array-API
// ndarray answers the keywords, so consumers that ask for max_version >= (1, 0) (numpy 2, PyTorch,
// JAX) get a versioned, writable capsule and older ones the legacy "dltensor".
static nb::object to_dlpack(const Tensor& t, nb::kwargs kwargs) {
  RICCI_CHECK(!t.requires_grad(), Error,
              "[__dlpack__] Can't export a tensor that requires grad; use tensor.detach() first");
  RICCI_CHECK(t.is_cpu() || t.is_cuda(), DeviceError, "[__dlpack__] unsupported device ", t.device().str());
  // copy=True: export a copy (nanobind's ndarray only aliases); copy=False / None: the memory itself.
  const bool copy = kwargs.contains("copy") && !kwargs["copy"].is_none() && nb::cast<bool>(kwargs["copy"]);
  if (copy) PyDict_DelItemString(kwargs.ptr(), "copy");
  nb::object arr = nb::cast(as_ndarray<nb::array_api>(copy ? t.clone() : t));
  nb::object dl = arr.attr("__dlpack__");
  return dl(**kwargs);
}

// Note [The buffer protocol]: memoryview(t), np.asarray(t), bytes(t) and every other consumer of
// the Python buffer API see the tensor's own memory. The buffer is exported by a nanobind ndarray
// that holds a handle to the tensor (so the storage lives as long as any view of it), and
// PyBuffer_Release goes to that object. Tensors that require grad, bfloat16 (no format character)
// and non-CPU tensors raise BufferError (numpy then falls back to __array__, which says why).
static int tensor_getbuffer(PyObject* self, Py_buffer* view, int flags) noexcept {
  try {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    if (!t.defined() || t.requires_grad() || !t.is_cpu() || t.dtype() == bfloat16) {
      PyErr_SetString(PyExc_BufferError,
                      !t.defined()          ? "ricci.Tensor: an undefined tensor has no buffer"
                      : t.requires_grad()   ? "ricci.Tensor: a tensor that requires grad exports no buffer; use .detach()"
                      : !t.is_cpu()         ? "ricci.Tensor: only CPU tensors export a buffer; use .cpu()"
                                            : "ricci.Tensor: bfloat16 has no buffer format; convert with .float()");
      return -1;
    }
    nb::object arr = nb::cast(as_ndarray<nb::array_api>(t));
    return PyObject_GetBuffer(arr.ptr(), view, flags);
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_BufferError, e.what());
    return -1;
  }
}

// ---- indexing ----------------------------------------------------------------------------------

namespace {

std::optional<int64_t> slice_part(PyObject* o) {
  if (o == Py_None) return std::nullopt;
  return nb::cast<int64_t>(nb::steal(PyNumber_Index(o)));
}

TensorIndex one_index(nb::handle h) {
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) return TensorIndex(o == Py_True);
  if (PyLong_Check(o)) return TensorIndex(nb::cast<int64_t>(h));
  if (o == Py_None) return TensorIndex(None);
  if (o == Py_Ellipsis) return TensorIndex(Ellipsis);
  if (PySlice_Check(o)) {
    auto* s = reinterpret_cast<PySliceObject*>(o);
    int64_t step = 1;
    if (s->step != Py_None) step = nb::cast<int64_t>(nb::steal(PyNumber_Index(s->step)));
    RICCI_CHECK(step != 0, ValueError, "[index] slice step cannot be zero");
    return TensorIndex(Slice(slice_part(s->start), slice_part(s->stop), step));  // step < 0: flip_negative_steps
  }
  if (nb::isinstance<Tensor>(h)) return TensorIndex(nb::cast<Tensor>(h));
  if (PyIndex_Check(o) && !is_sequence(h) && !PyObject_HasAttrString(o, "shape"))
    return TensorIndex(nb::cast<int64_t>(nb::steal(PyNumber_Index(o))));
  // lists and numpy arrays: index tensors (int64 or bool)
  return TensorIndex(tensor_from_data(h, std::nullopt, std::nullopt, false));
}

}  // namespace

// Note [Negative steps]: ricci's strides are never negative, so x[::-1] cannot be a view (PyTorch
// refuses it; numpy and the array API standard allow it). A slice with a negative step is read on
// the tensor flipped along that dim, where it becomes a slice with a positive step: x[a:b:-k] is
// x.flip(d)[n-1-a : ... : k]. Reading gives a copy (the flip); writing writes the flipped copy and
// copies it back. Rewrites the negative slices of `idx` in place; returns the dims to flip.
static std::vector<int64_t> flip_negative_steps(const Tensor& t, std::vector<TensorIndex>& idx) {
  bool any = false;
  int64_t consumed = 0;
  for (const TensorIndex& i : idx) {
    switch (i.kind()) {
      case TensorIndex::Kind::Slice: any = any || i.slice().step < 0; ++consumed; break;
      case TensorIndex::Kind::Integer: ++consumed; break;
      case TensorIndex::Kind::Tensor:
        consumed += (i.tensor().dtype() == bool_ || i.tensor().dtype() == uint8) ? i.tensor().dim() : 1;
        break;
      default: break;
    }
  }
  std::vector<int64_t> dims;
  if (!any) return dims;
  int64_t d = 0;
  for (TensorIndex& i : idx) {
    switch (i.kind()) {
      case TensorIndex::Kind::Ellipsis: d += std::max<int64_t>(t.dim() - consumed, 0); break;
      case TensorIndex::Kind::Integer: ++d; break;
      case TensorIndex::Kind::Tensor:
        d += (i.tensor().dtype() == bool_ || i.tensor().dtype() == uint8) ? i.tensor().dim() : 1;
        break;
      case TensorIndex::Kind::Slice: {
        const Slice sl = i.slice();
        if (sl.step < 0) {
          RICCI_CHECK(d < t.dim(), IndexError, "[index] too many indices for tensor of dimension ", t.dim());
          const int64_t n = t.size(d), step = -sl.step;
          // Python's slice.indices(n) for a negative step
          int64_t start = sl.start.value_or(n - 1), stop = -1;
          if (sl.start && start < 0) start += n;
          start = std::clamp<int64_t>(start, -1, n - 1);
          if (sl.stop) {
            stop = *sl.stop < 0 ? *sl.stop + n : *sl.stop;
            stop = std::clamp<int64_t>(stop, -1, n - 1);
          }
          const int64_t count = stop < start ? (start - stop - 1) / step + 1 : 0;
          const int64_t first = n - 1 - start;  // on the flipped dim
          i = count > 0 ? TensorIndex(Slice(first, first + (count - 1) * step + 1, step)) : TensorIndex(Slice(0, 0, 1));
          dims.push_back(d);
        }
        ++d;
        break;
      }
      default: break;
    }
  }
  return dims;
}

std::vector<TensorIndex> to_indices(nb::handle index) {
  std::vector<TensorIndex> out;
  if (PyTuple_Check(index.ptr())) {
    Py_ssize_t n = PyTuple_GET_SIZE(index.ptr());
    out.reserve(static_cast<size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) out.push_back(one_index(PyTuple_GET_ITEM(index.ptr(), i)));
  } else {
    out.push_back(one_index(index));
  }
  return out;
}

// ---- the class ---------------------------------------------------------------------------------

namespace {

nb::object to_list_rec(const Tensor& t) {
  if (t.dim() == 0) return nb::cast(t.item());
  nb::list out;
  const int64_t n = t.size(0);
  for (int64_t i = 0; i < n; ++i) out.append(to_list_rec(t.select(0, i)));
  return out;
}

nb::object tolist(const Tensor& t) {
  // one copy out, then nested lists built from it
  Tensor c = t.detach().cpu().contiguous();
  if (c.dim() == 0) return nb::cast(c.item());
  auto build = [&](auto values) -> nb::object {
    using V = typename decltype(values)::value_type;
    const auto shape = c.shape();
    std::vector<size_t> pos(shape.size(), 0);
    size_t flat = 0;
    std::function<nb::object(size_t)> rec = [&](size_t d) -> nb::object {
      nb::list l;
      for (int64_t i = 0; i < shape[d]; ++i) {
        if (d + 1 == shape.size()) {
          if constexpr (std::is_same_v<V, uint8_t>) l.append(nb::bool_(values[flat++] != 0));
          else l.append(nb::cast(values[flat++]));
        } else {
          l.append(rec(d + 1));
        }
      }
      return l;
    };
    return rec(0);
  };
  if (c.dtype() == bool_) return build(c.to_vector<uint8_t>());
  if (c.is_floating_point()) return build(c.to_vector<double>());
  return build(c.to_vector<int64_t>());
}

std::tuple<std::optional<DType>, std::optional<Device>> parse_to_args(const nb::args& args) {
  std::optional<DType> dtype;
  std::optional<Device> device;
  for (nb::handle a : args) {
    if (nb::isinstance<DType>(a)) dtype = nb::cast<DType>(a);
    else if (nb::isinstance<Tensor>(a)) {
      dtype = nb::cast<const Tensor&>(a).dtype();
      device = nb::cast<const Tensor&>(a).device();
    } else device = nb::cast<Device>(a);
  }
  return {dtype, device};
}

}  // namespace

void init_tensor(nb::module_& m) {
  static PyType_Slot slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(&tensor_getbuffer)}, {0, nullptr}};
  nb::class_<Tensor> cls(m, "Tensor", nb::dynamic_attr(), nb::type_slots(slots),
                         "An n-dimensional array with autograd (ricci::Tensor). Copying the handle never copies data.");
  cls.def(nb::init<const Tensor&>(), "other"_a, "A new handle to the same tensor (no data is copied).")
      .def("__init__", [](Tensor* self, nb::handle data, std::optional<DType> dtype) {
        new (self) Tensor(tensor_from_data(data, dtype.value_or(float32), std::nullopt, false));
      }, "data"_a, "dtype"_a = nb::none())
      // metadata
      .def_prop_ro("shape", [](const Tensor& t) {
        nb::tuple out = nb::steal<nb::tuple>(PyTuple_New(static_cast<Py_ssize_t>(t.dim())));
        for (int64_t i = 0; i < t.dim(); ++i) PyTuple_SET_ITEM(out.ptr(), i, PyLong_FromLongLong(t.shape()[i]));
        return out;
      })
      .def("size", [](const Tensor& t, std::optional<int64_t> dim) -> nb::object {
        if (dim) return nb::int_(t.size(*dim));
        return nb::tuple(nb::cast(std::vector<int64_t>(t.shape().begin(), t.shape().end())));
      }, "dim"_a = nb::none())
      .def("stride", [](const Tensor& t, std::optional<int64_t> dim) -> nb::object {
        if (dim) return nb::int_(t.stride(*dim));
        return nb::tuple(nb::cast(std::vector<int64_t>(t.strides().begin(), t.strides().end())));
      }, "dim"_a = nb::none())
      .def("strides", [](const Tensor& t) {
        return nb::tuple(nb::cast(std::vector<int64_t>(t.strides().begin(), t.strides().end())));
      })
      .def("storage_offset", &Tensor::storage_offset)
      .def_prop_ro("dtype", &Tensor::dtype)
      .def_prop_ro("device", &Tensor::device)
      .def_prop_ro("ndim", &Tensor::dim)
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("nelement", &Tensor::numel)
      .def("element_size", &Tensor::element_size)
      .def_prop_ro("itemsize", &Tensor::element_size)
      .def_prop_ro("nbytes", &Tensor::nbytes)
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("is_floating_point", &Tensor::is_floating_point)
      .def_prop_ro("is_cpu", &Tensor::is_cpu)
      .def_prop_ro("is_cuda", &Tensor::is_cuda)
      .def("is_inference", &Tensor::is_inference)
      .def("shares_storage_with", &Tensor::shares_storage_with, "other"_a)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("_version", &Tensor::version)
      .def_prop_ro("T", &Tensor::T)
      .def_prop_ro("mT", &Tensor::mT)
      .def_prop_ro("data", [](const Tensor& t) { return t.detach(); },
                   "The same storage, cut from the graph (x.data)")
      // conversion
      .def("item", [](const Tensor& t) { return t.item(); })
      .def("tolist", &tolist)
      .def("numpy", &to_numpy, "force"_a = false,
           "A numpy array sharing this tensor's memory (no copy); it keeps the memory alive.")
      .def("__array__", [](const Tensor& t, nb::handle dtype, nb::handle copy) {
        nb::object a = to_numpy(t, false);
        if (!dtype.is_none()) a = a.attr("astype")(dtype);
        if (!copy.is_none() && nb::cast<bool>(copy)) a = a.attr("copy")();
        return a;
      }, "dtype"_a = nb::none(), "copy"_a = nb::none())
      .def("__dlpack__", &to_dlpack, "kwargs"_a,
           "A DLPack capsule of this tensor's memory (stream, max_version, dl_device, copy as the array API says).")
      .def("__dlpack_device__", [](const Tensor& t) {
        return nb::make_tuple(t.is_cuda() ? 2 : 1, t.is_cuda() ? t.device().normalized_index() : 0);
      })
      .def("to", [](const Tensor& t, nb::args args, std::optional<DType> dtype, std::optional<Device> device,
                    bool copy) {
        auto [d1, dev1] = parse_to_args(args);
        if (!dtype) dtype = d1;
        if (!device) device = dev1;
        if (dtype && device) return t.to(*device, *dtype, copy);
        if (dtype) return t.to(*dtype, copy);
        if (device) return t.to(*device, copy);
        return copy ? t.clone() : t;
      }, "args"_a, nb::kw_only(), "dtype"_a = nb::none(), "device"_a = nb::none(), "copy"_a = false)
      .def("type", [](const Tensor& t, std::optional<DType> dtype) -> nb::object {
        if (dtype) return nb::cast(t.to(*dtype));
        return nb::str(("ricci." + std::string(dtype_name(t.dtype()))).c_str());
      }, "dtype"_a = nb::none())
      .def("float", [](const Tensor& t) { return t.to(float32); })
      .def("double", [](const Tensor& t) { return t.to(float64); })
      .def("half", [](const Tensor& t) { return t.to(float16); })
      .def("bfloat16", [](const Tensor& t) { return t.to(bfloat16); })
      .def("int", [](const Tensor& t) { return t.to(int32); })
      .def("long", [](const Tensor& t) { return t.to(int64); })
      .def("bool", [](const Tensor& t) { return t.to(bool_); })
      .def("cpu", &Tensor::cpu)
      .def("cuda", &Tensor::cuda)
      .def("clone", &Tensor::clone)
      .def("contiguous", &Tensor::contiguous)
      .def("copy_", [](nb::handle self, const Tensor& src) {
        nb::cast<Tensor&>(self).copy_(src);
        return nb::borrow(self);
      }, "src"_a)
      .def("fill_", [](nb::handle self, const Scalar& v) {
        nb::cast<Tensor&>(self).fill_(v);
        return nb::borrow(self);
      }, "value"_a)
      .def("zero_", [](nb::handle self) {
        nb::cast<Tensor&>(self).zero_();
        return nb::borrow(self);
      })
      // Python protocol
      .def("__repr__", &Tensor::str)
      .def("__str__", &Tensor::str)
      .def("__len__", [](const Tensor& t) {
        if (t.dim() == 0) throw nb::type_error("len() of a 0-d tensor");
        return t.size(0);
      })
      .def("__iter__", [](const Tensor& t) {
        if (t.dim() == 0) throw nb::type_error("iteration over a 0-d tensor");
        nb::list items;
        for (int64_t i = 0; i < t.size(0); ++i) items.append(t.select(0, i));
        return nb::iter(items);
      })
      .def("__bool__", [](const Tensor& t) {
        RICCI_CHECK(t.numel() == 1, Error, "[bool] Boolean value of Tensor with more than one value is ambiguous");
        return t.item().to<bool>();
      })
      .def("__float__", [](const Tensor& t) {
        RICCI_CHECK(t.numel() == 1, Error, "[float] only one element tensors can be converted to Python scalars");
        return t.item().to_double();
      })
      .def("__int__", [](const Tensor& t) {
        RICCI_CHECK(t.numel() == 1, Error, "[int] only one element tensors can be converted to Python scalars");
        return t.item().to_int();
      })
      .def("__index__", [](const Tensor& t) {
        RICCI_CHECK(t.numel() == 1 && is_integral(t.dtype(), true), DTypeError,
                    "[__index__] only integer tensors of a single element can be converted to an index");
        return t.item().to_int();
      })
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("__getitem__", [](const Tensor& t, nb::handle index) {
        if (PyLong_Check(index.ptr()) && !PyBool_Check(index.ptr())) return t.select(0, nb::cast<int64_t>(index));
        std::vector<TensorIndex> idx = to_indices(index);
        std::vector<int64_t> flip = flip_negative_steps(t, idx);  // Note [Negative steps]
        return ricci::index(flip.empty() ? t : t.flip(flip), idx);
      }, nb::arg("index").none())  // x[None]: nanobind refuses None for a handle unless told
      .def("__setitem__", [](Tensor& t, nb::handle index, nb::handle value) {
        std::vector<TensorIndex> idx = to_indices(index);
        std::vector<int64_t> flip = flip_negative_steps(t, idx);  // Note [Negative steps]
        Tensor target = flip.empty() ? t : t.flip(flip);
        if (nb::isinstance<Tensor>(value)) {
          index_put_(target, idx, nb::cast<const Tensor&>(value));
        } else if (PyBool_Check(value.ptr()) || PyLong_Check(value.ptr()) || PyFloat_Check(value.ptr())) {
          index_put_(target, idx, nb::cast<Scalar>(value));
        } else {
          index_put_(target, idx, tensor_from_data(value, t.dtype(), std::nullopt, false));
        }
        if (!flip.empty()) t.copy_(target.flip(flip));
      }, nb::arg("index").none(), nb::arg("value"));
}

}  // namespace ricci::python
