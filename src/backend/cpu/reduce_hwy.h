#pragma once
// Vectorised float32 reduction loops (reduce_hwy.cpp: Highway, dispatched at run time to AVX-512,
// AVX2 or a portable fallback). The engine (reduce_engine.h) and the stat and arg kernels call
// them for contiguous data; every other layout and dtype takes the generic loops.
//
// Accuracy follows Note [Accurate float sums]: sums of terms of any sign (sum_rows_f32) and of
// exponentials widen every term to float64; sums of squares add groups of at most eight in
// float32 and accumulate the group sums in float64.
#include <cstdint>

namespace ricci::cpu::reduce {

// max (is_max) or min of p[0..n), NaN propagating: the first NaN when there is one; the
// identity (-inf or inf) when n == 0.
float extremum_f32(const float* p, int64_t n, bool is_max);

// Index of the first maximum (minimum) of p[0..n), n >= 1; the first NaN wins over every number.
int64_t arg_extremum_f32(const float* p, int64_t n, bool is_max);

// acc[j] += sum over rows i < n of p[i * row_stride + j], for j < w (column sums of a block of
// rows, each contiguous).
void sum_rows_f32(double* acc, const float* p, int64_t row_stride, int64_t n, int64_t w);

// acc[j] = max (min) of acc[j] and p[i * row_stride + j] over rows i < n, for j < w; a NaN in
// either replaces the number (NaN propagates per column).
void extremum_rows_f32(float* acc, const float* p, int64_t row_stride, int64_t n, int64_t w, bool is_max);

// sum of (p[i] - mu)^2 for mu the mean of p[0..n) (float64), corrected for mu's rounding;
// NaN when p holds NaN or inf.
double sq_dev_sum_f32(const float* p, int64_t n, double mu);

// sum of exp(p[i] - m) for a finite m (so no term exceeds 1 when m is the row's max).
double exp_sum_f32(const float* p, int64_t n, float m);

// acc[j] += sum over rows i < n of exp(p[i * row_stride + j] - m[j]), for j < w; m finite.
void exp_sum_rows_f32(double* acc, const float* p, int64_t row_stride, int64_t n, int64_t w, const float* m);

}  // namespace ricci::cpu::reduce
