// Factories: tensors from braces, buffers and the usual constructors.
#include "ricci/factories.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "backend/cpu/cast.h"
#include "core/tensor_internal.h"
#include "lazy/lazy_detail.h"
#include "ricci/autograd.h"

namespace ricci {

namespace {

Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad) t.requires_grad_(true);
  return t;
}

void flatten_nested(const NestedList& list, std::vector<Scalar>& out) {
  if (list.is_scalar()) {
    out.push_back(list.scalar());
    return;
  }
  for (const NestedList& item : list.items()) flatten_nested(item, out);
}

// Scalar shapes are decided by the first leaf: [[1], 2] is caught when depths disagree.
void check_depths(const NestedList& list, size_t depth, size_t leaf_depth) {
  if (list.is_scalar()) {
    RICCI_CHECK(depth == leaf_depth, ShapeError, "[tensor] nested lists must be rectangular: found a number at depth ", depth,
                " and another at depth ", leaf_depth);
    return;
  }
  if (list.items().empty()) return;
  for (const NestedList& item : list.items()) check_depths(item, depth + 1, leaf_depth);
}

size_t first_leaf_depth(const NestedList& list) {
  size_t d = 0;
  const NestedList* cur = &list;
  while (!cur->is_scalar() && !cur->items().empty()) {
    cur = &cur->items().front();
    ++d;
  }
  return cur->is_scalar() ? d : d + 1;
}

// Bytes a layout spans from its first element: (1 + sum((size - 1) * stride)) * element size, 0
// when empty. Sizes and strides must be >= 0; every step is checked (Note [Checked size arithmetic]).
size_t strided_storage_nbytes(IntArrayRef sizes, IntArrayRef strides, size_t element_size, const char* op) {
  RICCI_CHECK(sizes.size() == strides.size(), ShapeError, "[", op, "] shape ", sizes, " and strides ", strides,
              " must have the same length");
  const int64_t numel = checked_numel(sizes, op);
  const int64_t es = static_cast<int64_t>(element_size);
  for (int64_t st : strides) {
    RICCI_CHECK(st >= 0, ValueError, "[", op, "] strides must be non-negative, got ", strides, " for shape ", sizes);
    checked_mul(st, es, op, sizes, "a stride in bytes");
  }
  if (numel == 0) return 0;
  int64_t last = 0;
  for (size_t i = 0; i < sizes.size(); ++i)
    last = checked_add(last, checked_mul(sizes[i] - 1, strides[i], op, sizes, "the storage extent"), op, sizes,
                       "the storage extent");
  return static_cast<size_t>(checked_mul(checked_add(last, 1, op, sizes, "the storage extent"), es, op, sizes,
                                         "the storage size in bytes"));
}

// full() under the name of the factory the user called.
Tensor filled(IntArrayRef shape, const Scalar& value, const TensorOptions& options, const char* op) {
  Tensor t = empty_tensor(shape, options.dtype_or(value.default_dtype()), options.device, op);
  fill_kernel(t, value);
  return finish(t, options);
}

}  // namespace

Tensor tensor(const NestedList& data, TensorOptions options) {
  Dims shape;
  DType dtype = DType::Bool;
  bool seen_float = false, seen_int = false;
  const size_t leaf_depth = first_leaf_depth(data);
  check_depths(data, 0, leaf_depth);
  // Record the shape along the first path, then verify every sublist against it.
  {
    const NestedList* cur = &data;
    while (!cur->is_scalar()) {
      shape.push_back(static_cast<int64_t>(cur->items().size()));
      if (cur->items().empty()) break;
      cur = &cur->items().front();
    }
  }
  std::function<void(const NestedList&, size_t)> verify = [&](const NestedList& l, size_t depth) {
    if (l.is_scalar()) {
      seen_float |= l.scalar().is_floating_point();
      seen_int |= l.scalar().is_integral();
      return;
    }
    RICCI_CHECK(depth < shape.size() && static_cast<int64_t>(l.items().size()) == shape[depth], ShapeError,
                "[tensor] expected sequence of length ", depth < shape.size() ? shape[depth] : 0, " at dim ", depth, " (got ",
                l.items().size(), "): nested lists must be rectangular");
    for (const NestedList& item : l.items()) verify(item, depth + 1);
  };
  verify(data, 0);
  if (shape.size() == 1 && shape[0] == 0) seen_float = true;  // tensor({}) is float32, as in PyTorch
  dtype = seen_float ? DType::Float32 : seen_int ? DType::Int64 : DType::Bool;
  if (!data.is_scalar() && data.items().empty()) dtype = DType::Float32;
  dtype = options.dtype_or(dtype);
  std::vector<Scalar> flat;
  flat.reserve(static_cast<size_t>(checked_numel(shape, "tensor")));
  flatten_nested(data, flat);
  Tensor cpu = empty_tensor(shape, dtype, kCPU, "tensor");
  RICCI_DISPATCH_ALL(dtype, "tensor", [&]<class T>() {
    T* p = reinterpret_cast<T*>(cpu.data_ptr());
    for (size_t i = 0; i < flat.size(); ++i) p[i] = flat[i].to<T>();
  });
  Tensor out = options.device.is_cpu() ? cpu : cpu.to(options.device);
  return finish(out, options);
}

Tensor scalar_tensor(const Scalar& value, TensorOptions options) {
  // A trace recording gradients keeps the scalars autograd rules save as real constants.
  std::optional<lazy::detail::OutsideMeta> real;
  if (lazy::detail::in_meta() && lazy::detail::tracing_gradients() && options.device.is_cpu()) [[unlikely]] real.emplace();
  Tensor t = empty_tensor({}, options.dtype_or(value.default_dtype()), options.device);
  fill_kernel(t, value);
  return finish(t, options);
}

Tensor from_blob_copy(const void* data, IntArrayRef shape, DType dtype, TensorOptions options) {
  Tensor cpu = empty_tensor(shape, dtype, kCPU, "from_blob_copy");
  if (cpu.nbytes() > 0) std::memcpy(cpu.data_ptr(), data, cpu.nbytes());
  Tensor out = cpu;
  if (options.dtype && *options.dtype != dtype) out = out.to(*options.dtype);
  if (!options.device.is_cpu()) out = out.to(options.device);
  return finish(out, options);
}

template <class T>
Tensor from_vector(const std::vector<T>& data, IntArrayRef shape, TensorOptions options) {
  const int64_t numel = checked_numel(shape, "from_vector");
  RICCI_CHECK(static_cast<int64_t>(data.size()) == numel, ShapeError, "[from_vector] shape ", shape, " holds ", numel,
              " elements but the vector has ", data.size());
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(data.begin(), data.end());
    return from_blob_copy(bytes.data(), shape, DType::Bool, options);
  } else {
    return from_blob_copy(data.data(), shape, dtype_of<T>(), options);
  }
}
template Tensor from_vector(const std::vector<bool>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<uint8_t>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<int8_t>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<int16_t>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<int32_t>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<int64_t>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<Half>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<BFloat16>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<float>&, IntArrayRef, TensorOptions);
template Tensor from_vector(const std::vector<double>&, IntArrayRef, TensorOptions);

Tensor from_blob(void* data, IntArrayRef shape, IntArrayRef strides, DType dtype, Device device, Storage::Deleter deleter,
                 void* ctx) {
  RICCI_CHECK(shape.size() == strides.size(), ShapeError, "[from_blob] shape ", shape, " and strides ", strides,
              " must have the same length");
  const size_t nbytes = strided_storage_nbytes(shape, strides, element_size(dtype), "from_blob");
  auto storage = detail::make_intrusive<Storage>(data, nbytes, device, deleter, ctx);
  return make_tensor(std::move(storage), dtype, Dims(shape), Dims(strides), 0);
}

Tensor empty(IntArrayRef shape, TensorOptions options) {
  return finish(empty_tensor(shape, options.dtype_or(DType::Float32), options.device), options);
}

Tensor empty_strided(IntArrayRef shape, IntArrayRef strides, TensorOptions options) {
  const DType dtype = options.dtype_or(DType::Float32);
  const size_t nbytes = strided_storage_nbytes(shape, strides, element_size(dtype), "empty_strided");
  auto storage = new_storage(nbytes, options.device);
  return finish(make_tensor(std::move(storage), dtype, Dims(shape), Dims(strides), 0), options);
}

Tensor full(IntArrayRef shape, const Scalar& value, TensorOptions options) { return filled(shape, value, options, "full"); }

Tensor zeros(IntArrayRef shape, TensorOptions options) {
  if (!options.dtype) options.dtype = DType::Float32;
  return filled(shape, 0, options, "zeros");
}

Tensor ones(IntArrayRef shape, TensorOptions options) {
  if (!options.dtype) options.dtype = DType::Float32;
  return filled(shape, 1, options, "ones");
}

Tensor arange(const Scalar& end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, TensorOptions options) {
  const bool any_float = start.is_floating_point() || end.is_floating_point() || step.is_floating_point();
  const DType dtype = options.dtype_or(any_float ? DType::Float32 : DType::Int64);
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  RICCI_CHECK(st != 0, ValueError, "[arange] step must be nonzero");
  RICCI_CHECK(std::isfinite(s) && std::isfinite(e), ValueError, "[arange] unsupported range: ", s, " -> ", e);
  RICCI_CHECK(std::isfinite(st), ValueError, "[arange] step must be finite but got ", st);
  RICCI_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), ValueError,
              "[arange] upper bound and larger bound inconsistent with step sign (start ", s, ", end ", e, ", step ", st, ")");
  int64_t n;
  if (!any_float) {
    // |end - start| can exceed int64 (arange(INT64_MIN, INT64_MAX)): count in 128 bits.
    const __int128 is = start.to_int(), ie = end.to_int(), ist = step.to_int();
    RICCI_CHECK((ist > 0 && ie >= is) || (ist < 0 && ie <= is), ValueError,  // exact, where doubles round
                "[arange] upper bound and larger bound inconsistent with step sign (start ", start.to_int(), ", end ",
                end.to_int(), ", step ", step.to_int(), ")");
    const __int128 count = ist > 0 ? (ie - is + ist - 1) / ist : (is - ie - ist - 1) / -ist;
    RICCI_CHECK(count <= std::numeric_limits<int64_t>::max(), ShapeError, "[arange] invalid size, possible overflow? (start ",
                start.to_int(), ", end ", end.to_int(), ", step ", step.to_int(), ")");
    n = static_cast<int64_t>(count);
  } else {
    // (e - s) / st may be inf or beyond int64 (arange(-1e308, 1e308)); converting those is undefined.
    const double count = std::ceil((e - s) / st);
    RICCI_CHECK(count >= 0 && count < 9223372036854775808.0, ShapeError, "[arange] invalid size, possible overflow? (start ",
                s, ", end ", e, ", step ", st, " give ", count, " elements)");
    n = static_cast<int64_t>(count);
  }
  Tensor cpu = empty_tensor({n}, dtype, kCPU, "arange");
  RICCI_DISPATCH_NUMERIC(dtype, "arange", [&]<class T>() {
    T* p = reinterpret_cast<T*>(cpu.data_ptr());
    if (!any_float) {
      // start + i * step lies in [start, end), but i * step alone may not fit: wrap in unsigned.
      const uint64_t is = static_cast<uint64_t>(start.to_int()), ist = static_cast<uint64_t>(step.to_int());
      for (int64_t i = 0; i < n; ++i) p[i] = cpu::cast<T>(static_cast<int64_t>(is + static_cast<uint64_t>(i) * ist));
    } else {
      for (int64_t i = 0; i < n; ++i) p[i] = cpu::cast<T>(s + static_cast<double>(i) * st);
    }
  });
  Tensor out = options.device.is_cpu() ? cpu : cpu.to(options.device);
  return finish(out, options);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  RICCI_CHECK(steps >= 0, ValueError, "[linspace] number of steps must be non-negative, got ", steps);
  const DType dtype = options.dtype_or(DType::Float32);
  Tensor cpu = empty_tensor({steps}, dtype, kCPU, "linspace");
  RICCI_DISPATCH_NUMERIC(dtype, "linspace", [&]<class T>() {
    T* p = reinterpret_cast<T*>(cpu.data_ptr());
    const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
    // One step is `start` (PyTorch's and numpy's answer), which the fill from the end would miss.
    const int64_t half = steps == 1 ? 1 : steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      p[i] = cpu::cast<T>(i < half ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - 1 - i));
  });
  Tensor out = options.device.is_cpu() ? cpu : cpu.to(options.device);
  return finish(out, options);
}

Tensor eye(int64_t n, std::optional<int64_t> m_opt, TensorOptions options) {
  const int64_t m = m_opt.value_or(n);
  RICCI_CHECK(n >= 0 && m >= 0, ValueError, "[eye] n and m must be non-negative, got n=", n, ", m=", m);
  if (!options.dtype) options.dtype = DType::Float32;
  bool rg = options.requires_grad;
  options.requires_grad = false;
  Tensor t = filled({n, m}, 0, options, "eye");
  fill_kernel(t.diagonal(), 1);
  options.requires_grad = rg;
  return finish(t, options);
}

namespace {
TensorOptions like(const Tensor& t, TensorOptions options) {
  if (!options.dtype) options.dtype = t.dtype();
  if (options.device == kCPU && !t.device().is_cpu()) options.device = t.device();
  return options;
}
}  // namespace

Tensor empty_like(const Tensor& t, TensorOptions options) { return empty(t.shape(), like(t, options)); }
Tensor zeros_like(const Tensor& t, TensorOptions options) { return zeros(t.shape(), like(t, options)); }
Tensor ones_like(const Tensor& t, TensorOptions options) { return ones(t.shape(), like(t, options)); }
Tensor full_like(const Tensor& t, const Scalar& value, TensorOptions options) { return full(t.shape(), value, like(t, options)); }

}  // namespace ricci
