#pragma once
// Helpers for batching rules (Note [vmap by tracing], src/transforms/vmap.cpp): an op's rule gets
// its inputs with their batch axes and returns its outputs with theirs.
#include <functional>
#include <utility>
#include <vector>

#include "ricci/tensor.h"

namespace ricci::batching {

using Result = std::pair<std::vector<Tensor>, std::vector<int64_t>>;

// x with the batch axis (axis) moved to the front.
Tensor batch_first(const Tensor& x, int64_t axis);
// A dim of one example (negative counts from the end of its `rank` dims) as a dim of the batch
// with the batch axis in front.
int64_t shifted_dim(int64_t dim, int64_t rank, const char* op);
// The same for a list of dims; an empty list (all dims) becomes every example dim.
Dims shifted_dims(IntArrayRef dims, int64_t rank, const char* op);
// The rule every op without a better one gets: fn once per example (the batched inputs sliced
// along their axes, -1: passed whole), each output stacked along 0 (undefined outputs stay so).
Result per_example(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                   const std::vector<Tensor>& inputs, const std::vector<int64_t>& axes, int64_t n, const char* op);
// The rule of view and reshape: each example reshaped to `shape`, batch first (as values: the
// batch of views may not be one view of the batch).
Result reshape_each(const Tensor& x, int64_t axis, IntArrayRef shape);

}  // namespace ricci::batching
