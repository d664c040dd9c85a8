#pragma once
// Making tensors: from nested braces, from C++ buffers, and the usual factories.
#include <initializer_list>
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

// A nested list of numbers, as written in braces: {{1., 2.}, {3., 4.}}.
class NestedList {
 public:
  NestedList(bool v) : scalar_(v), is_scalar_(true) {}
  NestedList(int v) : scalar_(v), is_scalar_(true) {}
  NestedList(long v) : scalar_(v), is_scalar_(true) {}
  NestedList(long long v) : scalar_(v), is_scalar_(true) {}
  NestedList(float v) : scalar_(v), is_scalar_(true) {}
  NestedList(double v) : scalar_(v), is_scalar_(true) {}
  NestedList(std::initializer_list<NestedList> items) : items_(items) {}

  bool is_scalar() const { return is_scalar_; }
  const Scalar& scalar() const { return scalar_; }
  const std::vector<NestedList>& items() const { return items_; }

 private:
  Scalar scalar_;
  std::vector<NestedList> items_;
  bool is_scalar_ = false;
};

// torch.tensor: the dtype is inferred as PyTorch does (any float -> float32, else any int ->
// int64, else bool) unless options say otherwise. Ragged lists throw ShapeError.
Tensor tensor(const NestedList& data, TensorOptions options = {});
// A 0-d tensor.
Tensor scalar_tensor(const Scalar& value, TensorOptions options = {});
// Copies `data` into a new tensor of `shape` (numel must match).
template <class T>
Tensor from_vector(const std::vector<T>& data, IntArrayRef shape, TensorOptions options = {});
Tensor from_blob_copy(const void* data, IntArrayRef shape, DType dtype, TensorOptions options = {});
// Wraps memory someone else owns without copying; `deleter(ctx)` runs when the storage dies.
Tensor from_blob(void* data, IntArrayRef shape, IntArrayRef strides, DType dtype, Device device = kCPU,
                 Storage::Deleter deleter = nullptr, void* ctx = nullptr);

Tensor empty(IntArrayRef shape, TensorOptions options = {});
// An uninitialised tensor with the given (non-negative) strides, over a fresh storage just large
// enough for them (torch.empty_strided). Overlapping layouts (stride 0) are allowed.
Tensor empty_strided(IntArrayRef shape, IntArrayRef strides, TensorOptions options = {});
Tensor zeros(IntArrayRef shape, TensorOptions options = {});
Tensor ones(IntArrayRef shape, TensorOptions options = {});
Tensor full(IntArrayRef shape, const Scalar& value, TensorOptions options = {});  // dtype from value if unset
// arange(end), arange(start, end, step): int64 when all are integers, else float32.
Tensor arange(const Scalar& end, TensorOptions options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, TensorOptions options = {});

// *_like: the same shape, dtype and device as `t` unless options override.
Tensor empty_like(const Tensor& t, TensorOptions options = {});
Tensor zeros_like(const Tensor& t, TensorOptions options = {});
Tensor ones_like(const Tensor& t, TensorOptions options = {});
Tensor full_like(const Tensor& t, const Scalar& value, TensorOptions options = {});
Tensor rand_like(const Tensor& t, TensorOptions options = {});
Tensor randn_like(const Tensor& t, TensorOptions options = {});

}  // namespace ricci
