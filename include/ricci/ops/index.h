#pragma once
// Indexing: gathering and scattering along a dim, sorting, and NumPy/PyTorch-style indexing with
// integers, slices, None, Ellipsis, bool masks and integer tensors (`x.index({0, Slice(1, None),
// idx})`). Integer index tensors may be int64 or int32. Every index is bounds-checked: a bad one
// throws IndexError ("index 5 is out of bounds for dimension 0 with size 3"), nothing is read or
// written out of bounds. Floating results are differentiable; integer results (indices,
// argsort) are not.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

// ---- along one dim ---------------------------------------------------------------------------------
// out[..., i, ...] = self[..., index[i], ...]; index is 1-D (or 0-d) int64/int32.
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
// out[i][j][k] = self[index[i][j][k]][j][k] (dim 0): index is int64 with self's rank and
// index.size(d) <= self.size(d) for d != dim. The output has index's shape.
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);
// gather after broadcasting self and indices (except along dim); dim unset: both are flattened.
Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim = std::nullopt);
// A copy of self with self[index[i][j]][j] = src[i][j] (dim 0). index as in gather, and
// index.size(d) <= src.size(d) for all d. Duplicate indices: one of the writes wins.
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
// As scatter, adding: duplicates accumulate.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// self[..., index[i], ...] += alpha * source[..., i, ...]; index 1-D int64/int32 of length
// source.size(dim). Duplicates accumulate. (The backward of index_select and embedding.)
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1);
Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1);
// int64 tensor of shape self.shape + [num_classes] with 1 at each value; num_classes = -1 uses
// max(self) + 1. self must be int64 (or int32) with values in [0, num_classes).
Tensor one_hot(const Tensor& self, int64_t num_classes = -1);
// The positions of the non-zero (true) elements in row-major order: torch.nonzero's [n, ndim]
// int64 tensor, or (nonzero_tuple, as_tuple=True) one int64 [n] tensor per dim. Any dtype; NaN is
// non-zero. A 0-d input gives [1, 0] or [0, 0] (a hit with no coordinates), and as a tuple one
// column as if it were 1-d (torch's rules). Not differentiable (indices).
Tensor nonzero(const Tensor& self);
std::vector<Tensor> nonzero_tuple(const Tensor& self);

// ---- ordering ------------------------------------------------------------------------------------
// (values, indices) sorted along dim. Always stable (equal elements keep their order, so
// `stable` is accepted for PyTorch compatibility). NaN sorts as the largest value: last when
// ascending, first when descending. indices are int64.
std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim = -1, bool descending = false, bool stable = false);
Tensor argsort(const Tensor& self, int64_t dim = -1, bool descending = false, bool stable = false);
// The k largest (or smallest) elements along dim and their indices, in sorted order. Ties keep
// the lower index first. Throws IndexError when k > size of dim. A 0-d input is one element:
// k = 0 and k = 1 both give (its value, index 0), as in PyTorch.
std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim = -1, bool largest = true,
                                bool sorted = true);

// ---- searching sorted sequences ------------------------------------------------------------------
// For each value, the index at which it would be inserted into sorted_sequence to keep it sorted:
// the first position i with values <= seq[i] (side "left", right=false), or with values < seq[i]
// (side "right" / right=true). sorted_sequence is 1-D (searched for every value) or N-D whose
// leading dims equal those of values (row by row along the last dim). `sorter` (int64, the shape of
// sorted_sequence) is an argsort of an unsorted sequence. The two tensors are promoted to a common
// dtype; bool is refused. The result has values' shape, int64 (int32 when out_int32). Comparisons
// follow PyTorch's binary search exactly, so NaN ends up where PyTorch puts it (a NaN value: after
// everything). Results for an unsorted sequence are unspecified (but always in [0, n]).
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool out_int32 = false, bool right = false,
                    std::optional<std::string_view> side = std::nullopt, const Tensor& sorter = Tensor());
Tensor searchsorted(const Tensor& sorted_sequence, const Scalar& value, bool out_int32 = false, bool right = false,
                    std::optional<std::string_view> side = std::nullopt, const Tensor& sorter = Tensor());
// The bucket of each input element for 1-D sorted `boundaries`: searchsorted(boundaries, input,
// out_int32, right). right=false: boundaries[i-1] < x <= boundaries[i]; right=true: boundaries[i-1]
// <= x < boundaries[i].
Tensor bucketize(const Tensor& input, const Tensor& boundaries, bool out_int32 = false, bool right = false);
Tensor bucketize(const Scalar& input, const Tensor& boundaries, bool out_int32 = false, bool right = false);

// ---- NumPy-style indexing ------------------------------------------------------------------------
// `None` in an index list inserts a new axis; as a Slice end it means "open".
inline constexpr std::nullopt_t None = std::nullopt;
struct EllipsisIndex {};
inline constexpr EllipsisIndex Ellipsis{};

// start:stop:step, with Python's rules: negative ends count from the end, out-of-range ends are
// clamped, unset ends are open. step must be positive (PyTorch has no negative steps; flip()).
struct Slice {
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Slice(std::optional<int64_t> start_ = std::nullopt, std::optional<int64_t> stop_ = std::nullopt, int64_t step_ = 1)
      : start(start_), stop(stop_), step(step_) {}
};

// One entry of an index list: an integer (selects, removing the dim), a Slice (a view), None (a
// new axis of size 1), Ellipsis (as many full slices as needed), a bool (a new axis of size 1,
// indexed by [0] when true and by [] when false, like a 0-d bool mask), a bool mask tensor
// (selects the true positions of the dims it covers; a uint8 tensor is a mask too, as in PyTorch)
// or an integer tensor (picks along its dim). Integer tensors, masks and bools are "advanced"
// indices: they are broadcast together, and their result dims go where the first of them stood
// when they are adjacent, else first (NumPy's rule): x[True, 1, False] on a [3, 4] tensor is
// [0, 4]. Basic-only indexing returns a view; advanced, a copy.
class TensorIndex {
 public:
  enum class Kind : uint8_t { Integer, Slice, None, Ellipsis, Boolean, Tensor };
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  TensorIndex(T i) : kind_(Kind::Integer), integer_(static_cast<int64_t>(i)) {}
  TensorIndex(bool b) : kind_(Kind::Boolean), integer_(b ? 1 : 0) {}
  TensorIndex(const ricci::Slice& s) : kind_(Kind::Slice), slice_(s) {}
  TensorIndex(std::nullopt_t) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndex) : kind_(Kind::Ellipsis) {}
  TensorIndex(ricci::Tensor t) : kind_(Kind::Tensor), tensor_(std::move(t)) {}

  Kind kind() const { return kind_; }
  int64_t integer() const { return integer_; }
  bool boolean() const { return integer_ != 0; }
  const ricci::Slice& slice() const { return slice_; }
  const ricci::Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  ricci::Slice slice_;
  ricci::Tensor tensor_;
};

// self[indices]: a view when every entry is basic (integers, slices, None, Ellipsis),
// else a new tensor. Differentiable: the gradient is accumulated back into the indexed positions.
Tensor index(const Tensor& self, std::initializer_list<TensorIndex> indices);
Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices);
// self[indices] = values (broadcast to the indexed shape, converted to self's dtype), or += when
// accumulate (duplicate indices then add up; without it one of the duplicate writes wins).
Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                   bool accumulate = false);
Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Scalar& value);
// The out-of-place form: a copy of self with the writes applied.
Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& values,
                 bool accumulate = false);

}  // namespace ricci
