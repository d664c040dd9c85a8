#pragma once
// Tensor: a cheap, refcounted handle to a TensorImpl, which is
//   Storage (shared bytes on a device) + layout (sizes, strides, storage offset) + dtype
//   + autograd metadata (requires_grad, grad, grad_fn) when gradients are involved.
// Copying a Tensor copies the handle, never the data: `Tensor b = a;` aliases a.
// Views (view, transpose, slice, ...) make a new TensorImpl over the same Storage.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "ricci/detail/intrusive_ptr.h"
#include "ricci/detail/size_math.h"
#include "ricci/device.h"
#include "ricci/dtype.h"
#include "ricci/error.h"
#include "ricci/scalar.h"
#include "ricci/small_vector.h"
#include "ricci/storage.h"

namespace ricci {

class Tensor;
namespace autograd {
struct AutogradMeta;
class Node;
}  // namespace autograd

// Options for factories: `zeros({2, 3}, float64)`, `zeros({2}, "cuda")`,
// `ones({4}, TensorOptions(float64, kCPU, /*requires_grad=*/true))` — or simply
// `ones({4}, float64).requires_grad_()`, as in PyTorch.
struct TensorOptions {
  std::optional<DType> dtype;  // unset: the factory's default (float32, or inferred)
  Device device = kCPU;
  bool requires_grad = false;

  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}
  TensorOptions(Device d) : device(d) {}
  TensorOptions(const char* d) : device(d) {}
  TensorOptions(std::optional<DType> t, Device d, bool rg = false) : dtype(t), device(d), requires_grad(rg) {}
  DType dtype_or(DType fallback) const { return dtype.value_or(fallback); }
};

class TensorImpl : public detail::RefCounted {
 public:
  TensorImpl(StoragePtr storage, DType dtype, Dims sizes, Dims strides, int64_t offset);
  ~TensorImpl() override;

  StoragePtr storage;
  Dims sizes;
  Dims strides;  // in elements, like PyTorch
  int64_t storage_offset = 0;
  int64_t numel = 0;
  DType dtype;
  bool is_contiguous = true;
  bool is_inference = false;  // made under InferenceMode: no version tracking, never saved for backward
  // Note [Views and in-place ops] (src/autograd/view_history.cpp): a view remembers the tensor
  // it aliases (the root of a chain of views, never a view itself), so that an in-place write
  // through the view can rewrite the base's autograd history. Not set for detach() or in
  // inference mode.
  bool view_differentiable = false;  // made with grad mode on: its history follows the base's
  std::atomic<uint32_t> view_version{0};  // storage version when the view's history was last made
  detail::IntrusivePtr<TensorImpl> view_base;
  std::unique_ptr<autograd::AutogradMeta> autograd;  // null until gradients are involved

  void refresh_layout();  // recompute numel and is_contiguous after sizes/strides change
  // From a per-thread cache of freed blocks (Note [Thread block caches] in src/core/object_pool.h).
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);
};
static_assert(sizeof(TensorImpl) <= 256, "TensorImpl is the hot object: keep it small");

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(detail::IntrusivePtr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata ---------------------------------------------------------------------------------
  bool defined() const { return static_cast<bool>(impl_); }
  IntArrayRef shape() const { return impl().sizes; }
  IntArrayRef sizes() const { return impl().sizes; }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  IntArrayRef strides() const { return impl().strides; }
  int64_t stride(int64_t dim) const;
  int64_t storage_offset() const { return impl().storage_offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  int64_t dim() const { return static_cast<int64_t>(impl().sizes.size()); }
  int64_t ndim() const { return dim(); }
  int64_t numel() const { return impl().numel; }
  size_t element_size() const { return ricci::element_size(dtype()); }
  // numel * element size: the bytes of a contiguous copy (an expanded view may count more than exist).
  size_t nbytes() const {
    return static_cast<size_t>(checked_mul(numel(), static_cast<int64_t>(element_size()), "nbytes", shape(), "the size in bytes"));
  }
  bool is_contiguous() const { return impl().is_contiguous; }
  bool is_floating_point() const { return ricci::is_floating_point(dtype()); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_inference() const { return impl().is_inference; }
  // True when both tensors view the same Storage (a view and its base, two views of one base).
  bool shares_storage_with(const Tensor& other) const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  const Storage& storage() const { return *impl().storage; }
  uint32_t version() const { return impl().storage->version(); }

  // Pointer to the first element (storage offset applied). Checks T against dtype(); CPU only
  // for typed access. data_ptr() without T gives the raw address on any device.
  template <class T> T* data_ptr() const;
  void* data_ptr() const;
  // The value of a one-element tensor, converted to T.
  template <class T> T item() const;
  Scalar item() const;
  // Copies the elements out in row-major order, converted to T (any layout, CPU or CUDA).
  template <class T> std::vector<T> to_vector() const;

  // ---- conversion and copies --------------------------------------------------------------------
  Tensor to(DType dtype, bool copy = false) const;    // same tensor when nothing changes, unless copy
  Tensor to(Device device, bool copy = false) const;  // through the backends' copy kernels
  Tensor to(Device device, DType dtype, bool copy = false) const;
  Tensor cpu() const { return to(kCPU); }
  Tensor cuda() const { return to(Device(DeviceType::CUDA, 0)); }
  Tensor clone() const;           // new storage, same values, contiguous; differentiable
  Tensor contiguous() const;      // *this when already contiguous, else a contiguous copy
  Tensor& copy_(const Tensor& src);  // in place, broadcasting src, converting dtype/device
  Tensor& fill_(const Scalar& value);
  Tensor& zero_();

  // ---- views: O(ndim), no data touched, share storage -------------------------------------------
  Tensor view(IntArrayRef shape) const;     // PyTorch's stride rule; throws where it can't alias
  Tensor view(DType dtype) const;           // reinterpret bytes (same element size only)
  Tensor reshape(IntArrayRef shape) const;  // a view when possible, else a copy
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;   // 2-D transpose (0-D and 1-D unchanged)
  Tensor T() const;   // all dims reversed
  Tensor mT() const;  // last two dims swapped
  Tensor permute(IntArrayRef dims) const;
  Tensor expand(IntArrayRef shape) const;  // -1 keeps a dim; new leading dims allowed
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor broadcast_to(IntArrayRef shape) const { return expand(shape); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, IntArrayRef sizes) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  // Elements start, start+step, ... < end along dim; negative start/end count from the end and
  // are clamped like Python slices. step must be positive.
  Tensor slice(int64_t dim, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;
  Tensor as_strided(IntArrayRef sizes, IntArrayRef strides, std::optional<int64_t> storage_offset = std::nullopt) const;
  Tensor unfold(int64_t dim, int64_t size, int64_t step) const;
  Tensor detach() const;  // same storage, cut from the graph
  Tensor& detach_();

  // ---- autograd ---------------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool enabled = true);
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this leaf
  void set_grad(const Tensor& g);  // replace .grad (undefined clears it)
  std::shared_ptr<autograd::Node> grad_fn() const;
  void retain_grad();
  bool retains_grad() const;
  // Runs backward from this tensor. A non-scalar needs an explicit `gradient` of its shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false, bool create_graph = false) const;
  // Hooks see (and may replace) the gradient flowing into this tensor. The id removes it.
  using Hook = std::function<Tensor(const Tensor&)>;
  struct HookHandle {
    std::weak_ptr<void> owner;  // the hook list (leaf) or the grad_fn node it lives in
    size_t id = 0;
    bool on_leaf = false;
    void remove();  // no-op when the tensor or graph is already gone
  };
  HookHandle register_hook(Hook hook);
  int64_t output_nr() const;

  // ---- elementwise (ops/elementwise.h) ------------------------------------------------------------
  Tensor abs() const; Tensor neg() const; Tensor sign() const; Tensor exp() const; Tensor exp2() const;
  Tensor expm1() const; Tensor log() const; Tensor log2() const; Tensor log10() const; Tensor log1p() const;
  Tensor sqrt() const; Tensor rsqrt() const; Tensor square() const; Tensor reciprocal() const;
  Tensor sin() const; Tensor cos() const; Tensor tan() const; Tensor tanh() const; Tensor sigmoid() const;
  Tensor relu() const; Tensor erf() const; Tensor floor() const; Tensor ceil() const; Tensor round() const;
  Tensor trunc() const; Tensor logical_not() const; Tensor isnan() const; Tensor isinf() const; Tensor isfinite() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor pow(const Tensor& e) const; Tensor pow(const Scalar& e) const;
  Tensor maximum(const Tensor& o) const; Tensor minimum(const Tensor& o) const;
  Tensor& add_(const Tensor& o, const Scalar& alpha = 1); Tensor& add_(const Scalar& o);
  Tensor& sub_(const Tensor& o, const Scalar& alpha = 1); Tensor& sub_(const Scalar& o);
  Tensor& mul_(const Tensor& o); Tensor& mul_(const Scalar& o);
  Tensor& div_(const Tensor& o); Tensor& div_(const Scalar& o);
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
  Tensor& exp_(); Tensor& relu_(); Tensor& neg_(); Tensor& sqrt_();
  Tensor& lerp_(const Tensor& end, const Scalar& weight);
  Tensor& addcmul_(const Tensor& t1, const Tensor& t2, const Scalar& value = 1);
  Tensor& addcdiv_(const Tensor& t1, const Tensor& t2, const Scalar& value = 1);
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);
  Tensor gelu(std::string_view approximate = "none") const; Tensor silu() const;
  Tensor softplus(double beta = 1.0, double threshold = 20.0) const;
  Tensor clamp_min(const Scalar& min) const; Tensor clamp_max(const Scalar& max) const; Tensor bitwise_not() const;
  Tensor add(const Tensor& o, const Scalar& alpha = 1) const; Tensor add(const Scalar& o, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& o, const Scalar& alpha = 1) const; Tensor sub(const Scalar& o, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& o) const; Tensor mul(const Scalar& o) const;
  Tensor div(const Tensor& o, std::optional<std::string_view> rounding_mode = std::nullopt) const;
  Tensor div(const Scalar& o, std::optional<std::string_view> rounding_mode = std::nullopt) const;
  Tensor fmod(const Tensor& o) const; Tensor fmod(const Scalar& o) const;
  Tensor remainder(const Tensor& o) const; Tensor remainder(const Scalar& o) const; Tensor atan2(const Tensor& o) const;
  Tensor eq(const Tensor& o) const; Tensor eq(const Scalar& o) const; Tensor ne(const Tensor& o) const; Tensor ne(const Scalar& o) const;
  Tensor lt(const Tensor& o) const; Tensor lt(const Scalar& o) const; Tensor le(const Tensor& o) const; Tensor le(const Scalar& o) const;
  Tensor gt(const Tensor& o) const; Tensor gt(const Scalar& o) const; Tensor ge(const Tensor& o) const; Tensor ge(const Scalar& o) const;
  Tensor logical_and(const Tensor& o) const; Tensor logical_or(const Tensor& o) const; Tensor logical_xor(const Tensor& o) const;
  Tensor bitwise_and(const Tensor& o) const; Tensor bitwise_or(const Tensor& o) const; Tensor bitwise_xor(const Tensor& o) const;
  Tensor where(const Tensor& condition, const Tensor& other) const;  // condition ? *this : other
  Tensor lerp(const Tensor& end, const Scalar& weight) const; Tensor lerp(const Tensor& end, const Tensor& weight) const;
  Tensor addcmul(const Tensor& t1, const Tensor& t2, const Scalar& value = 1) const;
  Tensor addcdiv(const Tensor& t1, const Tensor& t2, const Scalar& value = 1) const;
  Tensor& abs_(); Tensor& sign_(); Tensor& exp2_(); Tensor& expm1_(); Tensor& log_(); Tensor& log2_(); Tensor& log10_();
  Tensor& log1p_(); Tensor& rsqrt_(); Tensor& square_(); Tensor& reciprocal_(); Tensor& sin_(); Tensor& cos_();
  Tensor& tan_(); Tensor& tanh_(); Tensor& sigmoid_(); Tensor& erf_(); Tensor& floor_(); Tensor& ceil_(); Tensor& round_();
  Tensor& trunc_(); Tensor& clamp_min_(const Scalar& min); Tensor& clamp_max_(const Scalar& max);
  Tensor& pow_(const Tensor& e); Tensor& pow_(const Scalar& e); Tensor& fmod_(const Scalar& o); Tensor& remainder_(const Scalar& o);
  Tensor sinh() const; Tensor cosh() const; Tensor asinh() const; Tensor acosh() const; Tensor atanh() const;
  Tensor asin() const; Tensor acos() const; Tensor atan() const;
  Tensor& sinh_(); Tensor& cosh_(); Tensor& asinh_(); Tensor& acosh_(); Tensor& atanh_(); Tensor& asin_();
  Tensor& acos_(); Tensor& atan_();
  Tensor logaddexp(const Tensor& o) const; Tensor hypot(const Tensor& o) const;
  Tensor nan_to_num(double nan = 0.0, std::optional<double> posinf = std::nullopt,
                    std::optional<double> neginf = std::nullopt) const;
  Tensor& nan_to_num_(double nan = 0.0, std::optional<double> posinf = std::nullopt,
                      std::optional<double> neginf = std::nullopt);

  // ---- reductions (ops/reduce.h) ------------------------------------------------------------------
  Tensor sum(std::optional<DType> dtype = std::nullopt) const;
  Tensor sum(IntArrayRef dims, bool keepdim = false, std::optional<DType> dtype = std::nullopt) const;
  Tensor mean() const;
  Tensor mean(IntArrayRef dims, bool keepdim = false) const;
  Tensor prod() const;
  Tensor amax(IntArrayRef dims = {}, bool keepdim = false) const;
  Tensor amin(IntArrayRef dims = {}, bool keepdim = false) const;
  Tensor max() const;  // all elements
  Tensor min() const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor var(IntArrayRef dims = {}, int64_t correction = 1, bool keepdim = false) const;
  Tensor std(IntArrayRef dims = {}, int64_t correction = 1, bool keepdim = false) const;
  Tensor norm(double p = 2) const;
  Tensor logsumexp(IntArrayRef dims, bool keepdim = false) const;
  Tensor all() const; Tensor any() const;
  Tensor cumsum(int64_t dim) const;
  Tensor cumprod(int64_t dim) const;
  Tensor logcumsumexp(int64_t dim) const;
  std::tuple<Tensor, Tensor> cummax(int64_t dim) const;
  std::tuple<Tensor, Tensor> cummin(int64_t dim) const;
  Tensor median() const;  // all elements: the lower median
  std::tuple<Tensor, Tensor> median(int64_t dim, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> kthvalue(int64_t k, int64_t dim = -1, bool keepdim = false) const;
  Tensor count_nonzero(IntArrayRef dims = {}) const;
  Tensor count_nonzero(int64_t dim) const;

  // ---- linear algebra (ops/linalg.h) --------------------------------------------------------------
  Tensor matmul(const Tensor& o) const;
  Tensor mm(const Tensor& o) const;
  Tensor bmm(const Tensor& o) const;
  Tensor dot(const Tensor& o) const;
  Tensor trace() const;
  Tensor baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1, const Scalar& alpha = 1) const;
  Tensor kron(const Tensor& o) const;
  Tensor cross(const Tensor& o, std::optional<int64_t> dim = std::nullopt) const;

  // ---- shape and indexing (ops/index.h) -----------------------------------------------------------
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  Tensor repeat(IntArrayRef repeats) const;
  Tensor flip(IntArrayRef dims) const;
  Tensor tril(int64_t diagonal = 0) const;
  Tensor triu(int64_t diagonal = 0) const;
  Tensor tile(IntArrayRef reps) const;
  Tensor roll(IntArrayRef shifts, IntArrayRef dims = {}) const;
  Tensor diff(int64_t n = 1, int64_t dim = -1, const Tensor& prepend = Tensor(), const Tensor& append = Tensor()) const;
  Tensor diag(int64_t diagonal = 0) const;
  Tensor diag_embed(int64_t offset = 0, int64_t dim1 = -2, int64_t dim2 = -1) const;
  Tensor repeat_interleave(int64_t repeats, std::optional<int64_t> dim = std::nullopt,
                           std::optional<int64_t> output_size = std::nullopt) const;
  Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> dim = std::nullopt,
                           std::optional<int64_t> output_size = std::nullopt) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor scatter(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor scatter(int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& index_add_(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1);
  Tensor take_along_dim(const Tensor& indices, std::optional<int64_t> dim = std::nullopt) const;
  std::tuple<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  std::tuple<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true) const;
  // x.index({0, Slice(1, None), idx}); TensorIndex lives in ops/index.h.
  Tensor index(std::initializer_list<class TensorIndex> indices) const;
  Tensor& index_put_(std::initializer_list<TensorIndex> indices, const Tensor& values, bool accumulate = false);
  Tensor& index_put_(std::initializer_list<TensorIndex> indices, const Scalar& value);

  // ---- nn functional (nn/functional.h) ------------------------------------------------------------
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- printing ---------------------------------------------------------------------------------
  std::string str() const;  // PyTorch's repr: tensor([[1., 2.], [3., 4.]])

  TensorImpl& impl() const { return *impl_; }
  TensorImpl* unsafe_impl() const { return impl_.get(); }
  const detail::IntrusivePtr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  detail::IntrusivePtr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- helpers shared by ops -----------------------------------------------------------------------
// Wraps a possibly negative dim into [0, ndim); throws IndexError naming the op otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Contiguous (row-major) strides for a shape.
Dims contiguous_strides(IntArrayRef sizes);
// A fresh, uninitialised tensor (the allocator's cached blocks make this cheap). The shape is
// checked (Note [Checked size arithmetic]); errors name `op`, the op whose output this is.
Tensor empty_tensor(IntArrayRef sizes, DType dtype, Device device = kCPU, const char* op = "empty");
// Throws DeviceError "Expected all tensors to be on the same device ..." unless all agree.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// Throws Error naming the op when a tensor is undefined.
void check_defined(const Tensor& t, const char* op, const char* arg = "input");

}  // namespace ricci
