#pragma once
// Kernel signatures of the indexing family (shared by src/ops/index*.cpp, src/ops/sort.cpp,
// src/ops/shape.cpp and the backends that implement them). Index tensors reaching a kernel are
// int64; the kernels bounds-check every index and throw IndexError, never touching memory out of
// range.
#include <cstdint>

#include "ricci/tensor.h"

namespace ricci::kernels {

// out = self[..., index, ...] along one dim. `self_r` is self restrided to index's shape with
// stride 0 along `dim`; dim_size/dim_stride (elements) describe self's real dim. No wrapping of
// negative indices (PyTorch's gather rule). Keyed by dtype.
// `op` names the caller in error messages.
using GatherKernel = void (*)(const Tensor& out, const Tensor& self_r, const Tensor& index, int64_t dim,
                              int64_t dim_size, int64_t dim_stride, const char* op);
// self_r[..., index, ...] = src (accumulate: += alpha * src), iterating index's shape. `src` is
// the value source restrided to index's shape (a stride-0 0-d tensor for the scalar form).
using ScatterKernel = void (*)(const Tensor& self_r, const Tensor& index, const Tensor& src, int64_t dim,
                               int64_t dim_size, int64_t dim_stride, bool accumulate, const Scalar& alpha,
                               const char* op);

// Advanced indexing: up to 6 int64 index tensors, each restrided to the result's shape. src_r is
// the source with stride 0 on the broadcast index dims; offsets add index[k] * strides[k].
// Negative indices wrap once (Python's rule). dims[k] is the source dim, for error messages.
struct AdvancedIndexArgs {
  static constexpr int kMax = 6;
  int n = 0;
  const Tensor* indices[kMax] = {};
  int64_t sizes[kMax] = {};
  int64_t strides[kMax] = {};  // in elements
  int64_t dims[kMax] = {};
};
// out = src[indices]; keyed by dtype.
using IndexKernel = void (*)(const Tensor& out, const Tensor& src_r, const AdvancedIndexArgs& args, const char* op);
// dst[indices] = values (or +=); values already have dst's dtype and the result's shape.
using IndexPutKernel = void (*)(const Tensor& dst_r, const Tensor& values, const AdvancedIndexArgs& args,
                                bool accumulate, const char* op);

// Sorts each row of a contiguous [rows, n] input into contiguous values/indices (stable; NaN as
// the largest value).
using SortKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& input, bool descending);
// The k first of each row of a contiguous [rows, n] input in sorted order, ties by lower index.
using TopkKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, bool largest);
// The k-th smallest (0-based) of each row of a contiguous [rows, n] input (n >= 1) into contiguous
// values/indices [rows]: NaN counts as the largest value and equal values rank by position. With
// `nan_first` (median's rule) a row holding NaN gives its first NaN instead.
using KthvalueKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k,
                                bool nan_first);
// searchsorted: `boundaries` contiguous [B, n], `values` contiguous [B, m] (B = 1 for a 1-D
// sequence), `sorter` contiguous int64 [B, n] (checked in range) or undefined; `out` contiguous
// [B, m], int64 or int32. Keyed by the (common) dtype of boundaries and values.
using SearchsortedKernel = void (*)(const Tensor& out, const Tensor& boundaries, const Tensor& values,
                                    const Tensor& sorter, bool right);
// Zeros the part of contiguous `out` outside the triangle (last two dims): upper=false keeps
// j <= i + diagonal, upper=true keeps j >= i + diagonal.
using TriKernel = void (*)(const Tensor& out, int64_t diagonal, bool upper);

}  // namespace ricci::kernels
