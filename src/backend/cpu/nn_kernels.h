#pragma once
// Kernel signatures of the nn functional family (src/nn/functional*.cpp), shared by the ops and
// the CPU kernels. Operands arrive contiguous (the ops make them so); a softmax input is seen as
// (outer, dim_size, inner), a normalisation input as (rows, cols).
#include <cstdint>

#include "ricci/tensor.h"

namespace ricci::nnk {

// out = softmax (log: log_softmax) of in along the middle dim. Keyed by in's dtype (= out's).
using SoftmaxKernel = void (*)(const Tensor& out, const Tensor& in, int64_t outer, int64_t dim_size, int64_t inner,
                               bool log);
// grad_in = y * (g - sum(g * y)) (softmax) or g - exp(y) * sum(g) (log_softmax), y the output.
using SoftmaxBackwardKernel = void (*)(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                       int64_t outer, int64_t dim_size, int64_t inner, bool log);
// y = (x - mean) * rstd * w + b per row (rms: x * rstd * w, mean untouched). mean/rstd are
// (rows) in the accumulation dtype (float64 for float64, else float32); w, b may be undefined.
using NormKernel = void (*)(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
                            const Tensor& b, int64_t rows, int64_t cols, double eps, bool rms);
// dx (may be undefined), dw (cols, float accumulation dtype or x's; may be undefined), db
// (same; may be undefined) from g and the saved x, mean, rstd, w.
using NormBackwardKernel = void (*)(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g,
                                    const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& w,
                                    int64_t rows, int64_t cols, bool rms);
// out (k, d) = weight[idx[i]] for int64 idx (k), already bounds-checked; rows with idx == skip
// are zeros (skip < 0: none). Keyed by weight's dtype.
using EmbeddingKernel = void (*)(const Tensor& out, const Tensor& weight, const Tensor& idx, int64_t skip);
// grad_weight (num, d), zeroed by the caller: grad_weight[idx[i]] += g[i] except idx == skip.
using EmbeddingBackwardKernel = void (*)(const Tensor& grad_weight, const Tensor& g, const Tensor& idx, int64_t skip);
// NLL as a linear map. x (n, c, inner); target and coef (n * inner) (int64, float64).
// gather: out[i] = coef[i] * x[n, target[i], j] (reduce: out is 0-d, the sum of those).
// scatter: dx (zeroed) [n, target[i], j] = coef[i] * g[i] (g is (n * inner), or 0-d when reduce).
using NllGatherKernel = void (*)(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& coef,
                                 int64_t n, int64_t c, int64_t inner, bool reduce);
using NllScatterKernel = void (*)(const Tensor& dx, const Tensor& g, const Tensor& target, const Tensor& coef,
                                  int64_t n, int64_t c, int64_t inner, bool reduce);

// dx = g * gelu'(x), gelu with approximate="none" (Note [Fused GELU backward], nn_hwy.cpp); all
// three contiguous, of one shape and dtype.
using GeluBackwardKernel = void (*)(const Tensor& dx, const Tensor& g, const Tensor& x);
// out (contiguous, fresh) = scale where bernoulli(keep) keeps the element, else 0: the values of
// bernoulli(out.shape(), keep, out.dtype()) * scale drawn from the Philox stream (seed, offset)
// that bernoulli would have reserved (Note [Philox streams], src/core/random.cpp). 0 < keep <= 1.
using DropoutMaskKernel = void (*)(const Tensor& out, uint64_t seed, uint64_t offset, double keep, double scale);

}  // namespace ricci::nnk

namespace ricci::cpu {
// Vectorised (Highway, runtime-dispatched) contiguous rows for float32/float64. The forward
// returns false when the row holds NaN or inf (the scalar loop then gives PyTorch's NaNs).
bool hwy_softmax_row_f32(const float* in, float* out, int64_t n, bool log);
bool hwy_softmax_row_f64(const double* in, double* out, int64_t n, bool log);
void hwy_softmax_bwd_row_f32(const float* g, const float* y, float* dx, int64_t n, bool log);
void hwy_softmax_bwd_row_f64(const double* g, const double* y, double* dx, int64_t n, bool log);
// ex[j] = exp(x[j] - m[j]) (skipped when ex is null), sum[j] += ex[j] in float64; m must be finite.
void hwy_exp_sub_accum_f32(const float* x, const float* m, float* ex, double* sum, int64_t n);
void hwy_exp_sub_accum_f64(const double* x, const double* m, double* ex, double* sum, int64_t n);
// dx[i] = g[i] * gelu'(x[i]) (approximate="none"), float32, the composed form's value bit for bit.
void hwy_gelu_erf_backward_f32(const float* g, const float* x, float* dx, int64_t n);
}  // namespace ricci::cpu
