#pragma once
// Helpers the reduction ops share: dim lists to masks and shapes, running a kernel, and sending
// a gradient back to the input's shape.
#include "backend/cpu/reduce_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/tensor.h"

namespace ricci::reduce_detail {

struct ReduceShape {
  uint64_t mask = 0;  // bit d: dim d is reduced
  Dims keep;          // the input's shape with 1 at reduced dims
  Dims out;           // the result's shape (keep, or keep without the reduced dims)
  int64_t n = 1;      // elements reduced per output
};

// Empty dims reduces every dim. Throws for duplicate or out-of-range dims.
ReduceShape reduce_shape(const Tensor& x, IntArrayRef dims, bool keepdim, const char* op);
ReduceShape reduce_shape_one(const Tensor& x, int64_t dim, bool keepdim, const char* op);
// Throws "Expected reduction dim d to have non-zero size" for ops without an identity.
void check_nonempty_dims(const Tensor& x, const ReduceShape& rs, const char* op);
// Allocates the result and runs kernel `op` (keyed by x's dtype) into it.
Tensor run_reduce(const char* op, const Tensor& x, const ReduceShape& rs, DType out_dtype,
                  const kernels::ReduceParams& params = {});
// The gradient (result shape) brought back to the keepdim shape, then expanded to `in_sizes`.
Tensor unreduce(const Tensor& g, uint64_t mask, int64_t in_dim);
inline Tensor expand_back(const Tensor& g, uint64_t mask, IntArrayRef in_sizes) {
  return unreduce(g, mask, static_cast<int64_t>(in_sizes.size())).expand(in_sizes);
}
// 1 where a == b (b broadcast to a's shape) else 0, in a's dtype; no graph (a mask is constant).
Tensor eq_mask(const Tensor& a, const Tensor& b);
// 1 at the positions `indices` (keepdim shape, int64) name along dim, in dtype.
Tensor index_mask(const Tensor& indices, IntArrayRef in_sizes, int64_t dim, DType dtype);

}  // namespace ricci::reduce_detail
