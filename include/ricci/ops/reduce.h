#pragma once
// Reductions: sum, mean, prod, amax/amin, max/min, argmax/argmin, var/std, norm, logsumexp,
// all/any, count_nonzero, the order statistics median/kthvalue, and the scans cumsum/cumprod/
// logcumsumexp/cummax/cummin. PyTorch's semantics throughout:
//  - `dims` lists the dims to reduce (negative dims count from the end); an empty list reduces
//    every dim. A dim listed twice throws ShapeError ("dim 1 appears multiple times in the list
//    of dims"); a dim out of range throws IndexError.
//  - keepdim=true keeps each reduced dim with size 1, so the result broadcasts against the input.
//  - Floats accumulate in float64 (float16/bfloat16/float32 results are rounded once at the end),
//    so long sums are accurate; integer and bool sums/products accumulate and return int64.
//  - NaN propagates through sum/mean/prod/amax/amin/max/min/argmax/argmin (argmax gives the
//    first NaN). Ties go to the first occurrence.
//  - Reducing zero elements: sum 0, prod 1, mean NaN, all true, any false; amax/amin/max/min/
//    argmax/argmin throw ("Expected reduction dim ... to have non-zero size").
// All are differentiable for float inputs (see src/ops/reduce*.cpp for the rules).
#include <optional>
#include <tuple>
#include <utility>

#include "ricci/tensor.h"

namespace ricci {

// Sum; `dtype` converts the input first (PyTorch's sum(dtype=)).
Tensor sum(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim = false, std::optional<DType> dtype = std::nullopt);
// Mean of a floating tensor (integer inputs throw DTypeError: convert with .to(float32) first).
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// Product of all elements, or along one dim.
Tensor prod(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor prod(const Tensor& x, int64_t dim, bool keepdim = false, std::optional<DType> dtype = std::nullopt);
// Largest/smallest values over dims (the gradient is split evenly among ties).
Tensor amax(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);
// Largest/smallest of all elements (0-d), or along one dim as (values, indices); the gradient of
// the values goes to the element each index names.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// int64 index of the first largest/smallest element along dim, or into the flattened tensor.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
// Variance and standard deviation over dims, dividing by max(0, n - correction) (two passes:
// the mean first, then the squared deviations, so large offsets do not cancel). Floats only.
Tensor var(const Tensor& x, IntArrayRef dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, IntArrayRef dims = {}, int64_t correction = 1, bool keepdim = false);
// Vector p-norm over dims (all by default): p = 2, 1, inf (max |x|), -inf (min |x|), 0 (count
// of non-zeros) or any other p: (sum |x|^p)^(1/p). Floats only.
Tensor norm(const Tensor& x, double p = 2, IntArrayRef dims = {}, bool keepdim = false);
// log(sum(exp(x))) over dims, computed as m + log(sum(exp(x - m))) with m the max, so it never
// overflows; rows of -inf give -inf. Floats only (integers are converted to float32).
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// True when every / any element is non-zero (bool result; uint8 for uint8 input, as PyTorch).
Tensor all(const Tensor& x);
Tensor all(const Tensor& x, IntArrayRef dims, bool keepdim = false);
Tensor any(const Tensor& x);
Tensor any(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// Inclusive running sum / product along dim (integer and bool inputs give int64).
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
// log(cumsum(exp(x))) along dim, accumulated in float64 as m + log1p(exp(min - max)) step by step,
// so it neither overflows nor underflows: -inf entries add nothing, +inf gives +inf, NaN
// propagates. Floating dtypes only (an integer input throws NotImplementedError, as in PyTorch).
Tensor logcumsumexp(const Tensor& x, int64_t dim);
// Running maximum / minimum along dim and the int64 index where it was taken. Ties move the index
// forward (the last of equal values wins, PyTorch's rule); once a NaN is seen the value stays NaN
// and the index follows each later NaN. Every dtype, bool included. The gradient of the values goes
// to the indexed elements (summed where one element is the running extremum of several outputs).
std::tuple<Tensor, Tensor> cummax(const Tensor& x, int64_t dim);
std::tuple<Tensor, Tensor> cummin(const Tensor& x, int64_t dim);

// ---- order statistics --------------------------------------------------------------------------------
// Order statistics count NaN as the largest value. Numeric dtypes (bool throws NotImplementedError).
// The lower median of all elements (the ((n - 1) / 2)-th smallest, never an average), 0-d; NaN
// when any element is NaN, and NaN for an empty input. The gradient is split evenly among the
// elements equal to the result (the NaNs when it is NaN), as in PyTorch.
Tensor median(const Tensor& x);
// Lower median along dim: (values, int64 indices). Equal values are ranked by position, so the
// index is that of the ((n - 1) / 2)-th element in a stable sort; a slice holding NaN gives NaN
// and the index of its first NaN. Throws IndexError for an empty dim.
std::tuple<Tensor, Tensor> median(const Tensor& x, int64_t dim, bool keepdim = false);
// The k-th smallest (k counts from 1) along dim: (values, int64 indices), ties ranked by position.
// Throws IndexError unless 1 <= k <= size of dim (a 0-d input has one element).
std::tuple<Tensor, Tensor> kthvalue(const Tensor& x, int64_t k, int64_t dim = -1, bool keepdim = false);
// Number of non-zero elements over dims (all when empty), int64; NaN counts as non-zero.
Tensor count_nonzero(const Tensor& x, IntArrayRef dims = {});
Tensor count_nonzero(const Tensor& x, int64_t dim);

}  // namespace ricci
