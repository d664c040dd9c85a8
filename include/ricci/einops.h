#pragma once
// einops: rearrange, reduce and repeat with einops' pattern grammar (https://einops.rocks).
//
// In namespace ricci::einops (ricci::repeat is torch's tile-like Tensor::repeat):
//   using namespace ricci::einops;
//   rearrange(x, "b c h w -> b h w c")                    permute (a view)
//   rearrange(x, "b c h w -> b (c h w)")                  flatten (a view when x is contiguous)
//   rearrange(x, "b (h p) (w q) c -> b h w (p q c)", {{"p", 2}, {"q", 2}})   space to depth
//   rearrange(x, "b ... -> b (...)")                       ellipsis: every other dim
//   rearrange({t0, t1, t2}, "n h w -> h (n w)")            a list is stacked on a new first axis
//   reduce(x, "b c (h 2) (w 2) -> b c h w", "max")        2x2 max-pooling
//   reduce(x, "b c h w -> b c", "mean")                    global average pooling
//   reduce(x, "b c h w -> b c 1 1", "mean")                the same, keeping the axes
//   repeat(x, "h w -> h w c", {{"c", 3}})                  a new axis (a broadcast view)
//   repeat(x, "h w -> (h 2) (w 2)")                        upsampling (a copy)
//
// Grammar (einops'): "<input axes> -> <output axes>"; axes separated by spaces; an axis is a name
// (letters, digits and '_', not starting with a digit), a number (an anonymous axis of that
// length; "1" or "()" is an axis of length 1 that is dropped on the left and inserted on the
// right), a parenthesized group of axes (one dim whose length is the product of the group's, at
// most one level deep) or "..." (every dim not named otherwise, once per side). Each name appears
// at most once per side. Lengths come from the input's shape and from `axes_lengths`; a group on
// the left may leave one length to be inferred.
//  - rearrange: the same names on both sides, no anonymous axes other than 1.
//  - reduce: the output's names are a subset of the input's; the others are reduced with
//    `reduction` ("sum", "mean", "max", "min", "prod", "any", "all").
//  - repeat: every input name is in the output; new output axes need a length (a number, or
//    axes_lengths).
//
// How it runs: reshape the input into its elementary axes, permute them into the output's order,
// reduce (sum/mean/amax/amin/prod/any/all over the reduced axes), unsqueeze + expand the new axes,
// reshape into the output's groups. Each step is a ricci op, so the result is differentiable, and
// every reshape is a view where the strides allow: a rearrange that only splits axes, permutes
// them, or merges axes that are adjacent in memory returns a view of the input (as Tensor::reshape
// would); a repeat that only adds axes returns an expanded view.
//
// Errors name the op and the pattern and say the way out: a malformed pattern or an axis on the
// wrong side (ValueError), an input whose rank or lengths do not fit the pattern (ShapeError).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ricci/tensor.h"

namespace ricci::einops {

// Lengths of axes the input's shape does not determine (or to check): {{"p", 2}, {"q", 2}}.
using AxesLengths = std::vector<std::pair<std::string, int64_t>>;

Tensor rearrange(const Tensor& x, std::string_view pattern, const AxesLengths& axes_lengths = {});
Tensor rearrange(const std::vector<Tensor>& xs, std::string_view pattern, const AxesLengths& axes_lengths = {});
Tensor reduce(const Tensor& x, std::string_view pattern, std::string_view reduction,
              const AxesLengths& axes_lengths = {});
Tensor reduce(const std::vector<Tensor>& xs, std::string_view pattern, std::string_view reduction,
              const AxesLengths& axes_lengths = {});
Tensor repeat(const Tensor& x, std::string_view pattern, const AxesLengths& axes_lengths = {});
Tensor repeat(const std::vector<Tensor>& xs, std::string_view pattern, const AxesLengths& axes_lengths = {});

}  // namespace ricci::einops
