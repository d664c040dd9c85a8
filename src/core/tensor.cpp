// TensorImpl bookkeeping, metadata accessors, element access and conversions.
#include "ricci/tensor.h"

#include <cstring>

#include "autograd/autograd_meta.h"
#include "backend/device_backend.h"
#include "backend/kernel_table.h"
#include "core/object_pool.h"
#include "core/tensor_internal.h"
#include "lazy/lazy_detail.h"
#include "lazy/record.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"

namespace ricci {

TensorImpl::TensorImpl(StoragePtr s, DType t, Dims sz, Dims st, int64_t offset)
    : storage(std::move(s)), sizes(std::move(sz)), strides(std::move(st)), storage_offset(offset), dtype(t) {
  refresh_layout();
  is_inference = autograd::is_inference_mode_enabled();
}

TensorImpl::~TensorImpl() {
  if (storage && storage->pending()) lazy::detail::forget_output(*storage->pending(), this);
}

void* TensorImpl::operator new(size_t bytes) {
  if (bytes != sizeof(TensorImpl)) return ::operator new(bytes);
  return detail::ThreadBlockCache<sizeof(TensorImpl)>::allocate();
}

void TensorImpl::operator delete(void* p, size_t bytes) {
  if (bytes != sizeof(TensorImpl)) return ::operator delete(p);
  detail::ThreadBlockCache<sizeof(TensorImpl)>::deallocate(p);
}

void TensorImpl::refresh_layout() {
  // The backstop of Note [Checked size arithmetic]: ops check their shapes under their own name
  // first; a shape that reaches here unchecked still cannot wrap.
  numel = checked_numel(sizes, "numel");
  // Contiguous: row-major strides, ignoring dims of size 1 (PyTorch's definition).
  bool contiguous = true;
  int64_t expected = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) {
      contiguous = false;
      break;
    }
    expected *= sizes[i];
  }
  is_contiguous = contiguous || numel == 0;
}

Tensor make_tensor(StoragePtr storage, DType dtype, Dims sizes, Dims strides, int64_t offset) {
  return Tensor(detail::make_intrusive<TensorImpl>(std::move(storage), dtype, std::move(sizes), std::move(strides), offset));
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts dims 0 and -1, like PyTorch
  RICCI_CHECK(dim >= -n && dim < n, IndexError, "[", op, "] Dimension out of range (expected to be in range of [", -n,
              ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

Dims contiguous_strides(IntArrayRef sizes) {
  Dims strides(sizes.size());
  int64_t s = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = s;
    // The span of a tensor's shape fits int64 (Note [Checked size arithmetic]); a shape that is
    // not a tensor's yet is checked here.
    s = checked_mul(s, std::max<int64_t>(sizes[i], 1), "contiguous_strides", sizes, "the stride");
  }
  return strides;
}

StoragePtr new_storage(size_t nbytes, Device device) {
  // Note [Lazy tensors]: while a lazy op's shapes are inferred, nothing is allocated.
  if (lazy::detail::in_meta()) [[unlikely]]
    return detail::make_intrusive<Storage>(Storage::Deferred{}, nbytes, device);
  return detail::make_intrusive<Storage>(nbytes, device);
}

Tensor empty_tensor(IntArrayRef sizes, DType dtype, Device device, const char* op) {
  const size_t esize = element_size(dtype);
  const size_t nbytes = checked_nbytes(sizes, esize, op);
  auto storage = new_storage(nbytes, device);
  if (nbytes == 0 || esize == 0)  // zero-size dims: the strides' product is checked on its own
    return make_tensor(std::move(storage), dtype, Dims(sizes), contiguous_strides(sizes), 0);
  // Every op's output comes through here: the layout is known (row-major, numel = nbytes / the
  // element size, both already checked to fit), so neither strides nor numel are recomputed
  // with checked arithmetic (a tenth of a 1-element op's instructions).
  auto impl = detail::make_intrusive<TensorImpl>(std::move(storage), dtype, Dims(), Dims(), 0);
  impl->sizes = Dims(sizes);
  const size_t n = sizes.size();
  impl->strides = Dims(n);
  int64_t s = 1;
  for (size_t i = n; i-- > 0;) {
    impl->strides[i] = s;
    s *= sizes[i];
  }
  impl->numel = static_cast<int64_t>(nbytes / esize);
  impl->is_contiguous = true;
  return Tensor(std::move(impl));
}

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!first) {
      first = t;
      continue;
    }
    RICCI_CHECK(t->device() == first->device(), DeviceError, "[", op,
                "] Expected all tensors to be on the same device, but found at least two devices, ",
                first->device(), " and ", t->device(), "! Move them first, e.g. with .to(\"", first->device(), "\")");
  }
}

void check_defined(const Tensor& t, const char* op, const char* arg) {
  RICCI_CHECK(t.defined(), ValueError, "[", op, "] argument '", arg, "' is an undefined tensor");
}

// ---- metadata -----------------------------------------------------------------------------------

int64_t Tensor::size(int64_t d) const { return impl().sizes[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return impl().strides[wrap_dim(d, dim(), "stride")]; }

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl().storage.get() == other.impl().storage.get();
}

void* Tensor::data_ptr() const {
  check_defined(*this, "data_ptr");
  if (impl().storage->is_deferred()) [[unlikely]] lazy::detail::on_deferred_read(*this);  // Note [Lazy tensors]
  return static_cast<char*>(impl().storage->data()) + impl().storage_offset * static_cast<int64_t>(element_size());
}

template <class T>
T* Tensor::data_ptr() const {
  check_defined(*this, "data_ptr");
  RICCI_CHECK(dtype_of<T>() == dtype(), DTypeError, "[data_ptr] expected a tensor of dtype ", dtype_of<T>(),
              " but this one is ", dtype(), "; call .to(", dtype_of<T>(), ") first or ask for data_ptr<",
              dtype_name(dtype()), "'s C++ type>()");
  return reinterpret_cast<T*>(data_ptr());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  check_defined(*this, "to_vector");
  Tensor src = is_cpu() ? *this : to(kCPU);
  Tensor dst = empty_tensor(shape(), dtype_of<T>());
  if (numel() > 0) copy_kernel(dst, src);
  const T* p = reinterpret_cast<const T*>(dst.data_ptr());
  return std::vector<T>(p, p + numel());
}

template <class T>
T Tensor::item() const {
  check_defined(*this, "item");
  RICCI_CHECK(numel() == 1, ValueError, "[item] a Tensor with ", numel(),
              " elements cannot be converted to Scalar; select one element first (e.g. t[0] or t.sum())");
  return to_vector<T>()[0];
}

Scalar Tensor::item() const {
  if (is_floating_point()) return Scalar(item<double>());
  if (dtype() == DType::Bool) return Scalar(item<bool>());
  return Scalar(item<int64_t>());
}

#define RICCI_INSTANTIATE_ACCESS(T)                  \
  template T* Tensor::data_ptr<T>() const;           \
  template T Tensor::item<T>() const;                \
  template std::vector<T> Tensor::to_vector<T>() const;
RICCI_INSTANTIATE_ACCESS(bool)
RICCI_INSTANTIATE_ACCESS(uint8_t)
RICCI_INSTANTIATE_ACCESS(int8_t)
RICCI_INSTANTIATE_ACCESS(int16_t)
RICCI_INSTANTIATE_ACCESS(int32_t)
RICCI_INSTANTIATE_ACCESS(int64_t)
RICCI_INSTANTIATE_ACCESS(Half)
RICCI_INSTANTIATE_ACCESS(BFloat16)
RICCI_INSTANTIATE_ACCESS(float)
RICCI_INSTANTIATE_ACCESS(double)
#undef RICCI_INSTANTIATE_ACCESS

// ---- conversions and copies ---------------------------------------------------------------------

void copy_kernel(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
    kernels::kernel_table().get<CopyKernel>(kernels::op_id("copy"), src.device(), src.dtype())(dst, src);
    return;
  }
  // Across devices: move the bytes of a contiguous source with the source's dtype, then convert
  // and lay out on the destination device.
  Tensor s = src.contiguous();
  Tensor staging = (dst.is_contiguous() && dst.dtype() == s.dtype()) ? dst : empty_tensor(s.shape(), s.dtype(), dst.device());
  backend::copy_bytes(staging.data_ptr(), staging.device(), s.data_ptr(), s.device(), s.nbytes());
  if (!staging.is_same(dst)) copy_kernel(dst, staging);
}

void fill_kernel(const Tensor& dst, const Scalar& value) {
  if (dst.numel() == 0) return;
  kernels::kernel_table().get<FillKernel>(kernels::op_id("fill"), dst.device(), dst.dtype())(dst, value);
}

Tensor Tensor::to(Device device, DType dtype, bool copy) const {
  check_defined(*this, "to");
  if (device == this->device() && dtype == this->dtype() && !copy) return *this;
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("to", [](const Tensors& in, Device d, DType t) { return in[0].to(d, t, true); }, {*this},
                         device, dtype);
  Tensor out = empty_tensor(shape(), dtype, device);
  copy_kernel(out, *this);
  if (autograd::needs_grad(*this) && ricci::is_floating_point(dtype)) {
    const DType src_dtype = this->dtype();
    const Device src_device = this->device();
    autograd::record("ToCopyBackward0", {this}, {&out}, {}, {}, [src_dtype, src_device](const autograd::VjpArgs& a) {
      return autograd::Tensors{a.grads[0].to(src_device, src_dtype)};
    });
  }
  return out;
}
Tensor Tensor::to(DType dtype, bool copy) const { return to(device(), dtype, copy); }
Tensor Tensor::to(Device device, bool copy) const { return to(device, dtype(), copy); }

Tensor Tensor::clone() const {
  check_defined(*this, "clone");
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("clone", [](const Tensors& in) { return in[0].clone(); }, {*this});
  Tensor out = empty_tensor(shape(), dtype(), device());
  copy_kernel(out, *this);
  if (autograd::needs_grad(*this)) {
    autograd::record("CloneBackward0", {this}, {&out}, {}, {},
                     [](const autograd::VjpArgs& a) { return autograd::Tensors{a.grads[0]}; });
  }
  return out;
}

Tensor Tensor::contiguous() const {
  check_defined(*this, "contiguous");
  return is_contiguous() ? *this : clone();
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_defined(*this, "copy_", "self");
  check_defined(src, "copy_", "src");
  check_no_internal_overlap(*this, "copy_");
  autograd::check_inplace(*this, "copy_");
  Tensor expanded = src.dim() == dim() && src.shape() == shape() ? src : src.expand(shape());
  {
    NoGradGuard no_grad;
    copy_kernel(*this, expanded.detach());
  }
  autograd::bump_version(*this);
  if (autograd::needs_grad(*this, src) ) {
    const DType src_dtype = src.dtype();
    const Dims src_sizes(src.shape());
    auto node = autograd::record("CopyBackwards", {this, &src}, {}, {}, {}, [src_dtype, src_sizes](const autograd::VjpArgs& a) {
      // The old value of self is overwritten: it gets no gradient.
      return autograd::Tensors{zeros_like(a.grads[0]), sum_to(a.grads[0], src_sizes).to(src_dtype)};
    });
    autograd::rebase_history(*this, node);
  }
  return *this;
}

Tensor& Tensor::fill_(const Scalar& value) {
  check_defined(*this, "fill_");
  autograd::check_inplace(*this, "fill_");
  fill_kernel(*this, value);
  autograd::bump_version(*this);
  if (autograd::needs_grad(*this)) {
    auto node = autograd::record("FillBackward0", {this}, {}, {}, {},
                                 [](const autograd::VjpArgs& a) { return autograd::Tensors{zeros_like(a.grads[0])}; });
    autograd::rebase_history(*this, node);
  }
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0); }

}  // namespace ricci
