#pragma once
// Shape ops that move data: joining (cat, stack), splitting (split, chunk), repeating (repeat,
// tile, repeat_interleave), reordering (flip, roll), triangular masks (tril, triu), diagonals
// (diag, diag_embed), padding (pad) and finite differences (diff). All follow PyTorch's semantics
// and error wording and are differentiable for floating inputs.
#include <optional>
#include <string_view>
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

// Each element repeated `repeats` times along dim (dim unset: over the flattened tensor), or
// element i repeats[i] times: repeats is an int64/int32 tensor, 1-D of the size of dim, or 0-d /
// one element (used for every element). Negative repeats throw ValueError. output_size, when
// given, must be the sum of the repeats (it saves the sum; a wrong one throws ValueError).
Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
// repeat_interleave(repeats) alone: index i repeated repeats[i] times (repeats 1-D int64/int32;
// the result has its dtype): [2, 0, 1] -> [0, 0, 2]. As in ATen, a plain integer second argument
// picks the (self, repeats) form above: pass output_size as std::optional<int64_t>(n) here.
Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size = std::nullopt);

// n-th forward difference along dim: out[i] = x[i + 1] - x[i], applied n times (logical_xor for
// bool). prepend / append (undefined: none) are joined to x along dim first; they must have x's
// rank and its sizes except along dim. n = 0 returns x unchanged (prepend/append ignored, as in
// PyTorch); n larger than the size leaves an empty dim. Needs at least 1 dim.
Tensor diff(const Tensor& self, int64_t n = 1, int64_t dim = -1, const Tensor& prepend = Tensor(),
            const Tensor& append = Tensor());

// 1-D input: a square matrix with the vector on diagonal `diagonal` (> 0 above the main one, < 0
// below) and zeros elsewhere. 2-D input: a copy of that diagonal as a vector. Other ranks throw.
Tensor diag(const Tensor& self, int64_t diagonal = 0);
// The last dim of self placed on the diagonal (offset as in diag) of the dims dim1, dim2 of a new
// tensor with one more dim, zeros elsewhere: diag_embed of [B, n] is [B, n, n] by default.
Tensor diag_embed(const Tensor& self, int64_t offset = 0, int64_t dim1 = -2, int64_t dim2 = -1);

// torch.nn.functional.pad. `pad` lists (before, after) pairs starting from the LAST dim:
// {1, 2} pads the last dim with 1 before and 2 after, {1, 2, 3, 4} also the second-to-last.
// mode "constant" (every dtype, any number of dims, `value` default 0, negative pads crop),
// "reflect" (mirror without repeating the edge; each pad < the size of its dim), "replicate"
// (repeat the edge element) and "circular" (wrap around what is left after any negative pad, as
// PyTorch does; each positive pad <= that length). The non-constant
// modes pad the last 1, 2 or 3 dims of a tensor with one or two more dims than that (PyTorch's
// rule: (C, W) or (N, C, W) for a 2-element pad, and so on), and take no `value`.
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode = "constant",
           std::optional<Scalar> value = std::nullopt);

}  // namespace ricci
