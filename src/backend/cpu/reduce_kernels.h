#pragma once
// Kernel signatures of the reduction family (see backend/kernel_table.h). Every kernel is keyed
// by the input's dtype. Outputs arrive allocated, contiguous, in the keepdim shape (the input's
// rank with size 1 at each reduced dim); `mask` has bit d set for each reduced dim d.
#include <cstdint>

#include "ricci/tensor.h"

namespace ricci::kernels {

struct ReduceParams {
  double p = 2;              // norm's order
  int64_t correction = 1;    // var/std: divide by max(0, n - correction)
  bool take_sqrt = false;    // std rather than var
};

// sum, prod (out int64 for integral/bool inputs, else the input dtype), mean (floats), amax, amin
// (input dtype), all, any (bool; uint8 for uint8 inputs), norm, var, logsumexp (floats).
using ReduceKernel = void (*)(const Tensor& out, const Tensor& in, uint64_t mask, const ReduceParams& params);
// argmax/argmin along one dim: indices (int64) and, when defined, the values (input dtype).
// First occurrence wins; a NaN wins over every number (the first NaN).
using ArgReduceKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, bool is_max);
// cumsum/cumprod along dim of a contiguous input into a contiguous out (int64 for integral/bool
// inputs); reverse scans from the end (the gradient of cumsum). logcumsumexp has the same form
// (floating dtypes only, out in the input dtype).
using ScanKernel = void (*)(const Tensor& out, const Tensor& in, int64_t dim, bool reverse);
// cummax/cummin along dim of a contiguous input into contiguous values (input dtype) and indices
// (int64): ties and NaN move the index forward (PyTorch's rule).
using CumExtremumKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim,
                                   bool is_max);

}  // namespace ricci::kernels
