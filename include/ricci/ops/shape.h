#pragma once
// Shape ops that move data: joining (cat, stack), splitting (split, chunk), repeating (repeat,
// tile), reordering (flip, roll) and triangular masks (tril, triu). All follow PyTorch's
// semantics and error wording and are differentiable for floating inputs.
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

// Joins tensors along an existing dim. The result dtype is the promotion of all input dtypes.
// Every input must have the same shape except along `dim`; 1-D empty tensors (shape [0]) are
// skipped, as PyTorch's legacy rule allows. Throws ValueError for an empty list, ShapeError for
// mismatched sizes or ranks, DeviceError for mixed devices.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins tensors of one shape along a new dim (inserted at `dim`, which may be ndim).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Views of `self` along dim, each `split_size` long (the last may be shorter).
std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim = 0);
// Views with the given lengths, which must add up to the size of dim.
std::vector<Tensor> split(const Tensor& self, IntArrayRef split_sizes, int64_t dim = 0);
// At most `chunks` views of equal length ceil(size / chunks) (the last may be shorter).
std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim = 0);

// Lower / upper triangle of the last two dims; the rest is zero. diagonal > 0 moves the
// boundary above the main diagonal, < 0 below. Needs at least 2 dims.
Tensor tril(const Tensor& self, int64_t diagonal = 0);
Tensor triu(const Tensor& self, int64_t diagonal = 0);

// Repeats the whole tensor along each dim; repeats.size() >= ndim (extra leading repeats add
// dims). tile pads the shorter of repeats/shape with leading ones instead.
Tensor repeat(const Tensor& self, IntArrayRef repeats);
Tensor tile(const Tensor& self, IntArrayRef reps);

// Reverses the order of elements along each dim in `dims` (a copy, like PyTorch).
Tensor flip(const Tensor& self, IntArrayRef dims);
// Rolls elements along dims by shifts (elements leaving one end come back at the other). With
// dims empty the tensor is flattened, rolled by shifts[0], and restored to its shape.
Tensor roll(const Tensor& self, IntArrayRef shifts, IntArrayRef dims = {});

}  // namespace ricci
