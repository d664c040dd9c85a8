// Vectorised float32 reduction loops (declared in reduce_hwy.h), compiled for AVX2 and AVX-512
// plus a portable fallback and picked at run time (Highway's dynamic dispatch). Several
// independent accumulators keep the loops free of a single loop-carried dependency. Sums of
// arbitrary-sign terms and of exponentials widen every term to float64; sums of squares add small
// float32 groups first, which costs them at most a few float32 roundings of relative error.
#include <cmath>
#include <limits>

#include "backend/cpu/reduce_hwy.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/reduce_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include "backend/cpu/hwy_exp_diff-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::reduce::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

#if HWY_TARGET == HWY_SCALAR
// One lane: widening needs no halves.
using DD = hn::Rebind<double, DF>;
using VD = hn::Vec<DD>;
HWY_INLINE void AddWide(VF v, VD& lo, VD&) { lo = hn::Add(lo, hn::PromoteTo(DD(), v)); }
HWY_INLINE void AddWideTo(double* acc, VF v) { acc[0] += static_cast<double>(hn::GetLane(v)); }
#else
using DH = hn::Half<DF>;
using DD = hn::Repartition<double, DF>;  // half as many lanes as DF
using VD = hn::Vec<DD>;

// Adds the float lanes of v into two float64 accumulators (its lower and upper halves).
HWY_INLINE void AddWide(VF v, VD& lo, VD& hi) {
  const DD dd;
  const DH dh;
  lo = hn::Add(lo, hn::PromoteTo(dd, hn::LowerHalf(dh, v)));
  hi = hn::Add(hi, hn::PromoteTo(dd, hn::UpperHalf(dh, v)));
}

// acc[0..Lanes(DF)) += v, in float64.
HWY_INLINE void AddWideTo(double* HWY_RESTRICT acc, VF v) {
  const DD dd;
  const size_t H = hn::Lanes(dd);
  VD lo = hn::LoadU(dd, acc), hi = hn::LoadU(dd, acc + H);
  AddWide(v, lo, hi);
  hn::StoreU(lo, dd, acc);
  hn::StoreU(hi, dd, acc + H);
}
#endif

template <bool kMax>
HWY_INLINE VF Ext(VF a, VF b) {
  if constexpr (kMax) return hn::Max(a, b);
  else return hn::Min(a, b);
}

template <bool kMax>
HWY_INLINE float ExtScalar(float a, float x) {
  return (kMax ? x > a : x < a) ? x : a;
}

HWY_INLINE int64_t FirstNaN(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (p[i] != p[i]) return i;
  return -1;
}

// True in the lanes where a or b is NaN: one unordered compare on x86 (half the instructions of
// two IsNaN, which keeps more loads in flight in the memory-bound row loops).
HWY_INLINE auto EitherNaN(VF a, VF b) {
#if HWY_TARGET == HWY_AVX3
  return hn::Mask512<float>{_mm512_cmp_ps_mask(a.raw, b.raw, _CMP_UNORD_Q)};
#elif HWY_TARGET == HWY_AVX2
  return hn::Mask256<float>{_mm256_cmp_ps(a.raw, b.raw, _CMP_UNORD_Q)};
#else
  return hn::Or(hn::IsNaN(a), hn::IsNaN(b));
#endif
}

// hn::Max/Min leave NaN handling to the target, so NaN is tracked in a separate mask and, when
// present, the first NaN is returned instead.
template <bool kMax>
HWY_INLINE float ExtremumRow(const float* HWY_RESTRICT p, int64_t n) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const float id = kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  VF m0 = hn::Set(d, id), m1 = m0, m2 = m0, m3 = m0;
  auto nan = hn::Lt(m0, m0);  // all false
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const VF a = hn::LoadU(d, p + i), b = hn::LoadU(d, p + i + N);
    const VF c = hn::LoadU(d, p + i + 2 * N), e = hn::LoadU(d, p + i + 3 * N);
    m0 = Ext<kMax>(m0, a);
    m1 = Ext<kMax>(m1, b);
    m2 = Ext<kMax>(m2, c);
    m3 = Ext<kMax>(m3, e);
    nan = hn::Or(nan, hn::Or(EitherNaN(a, b), EitherNaN(c, e)));
  }
  for (; i + N <= n; i += N) {
    const VF a = hn::LoadU(d, p + i);
    m0 = Ext<kMax>(m0, a);
    nan = hn::Or(nan, hn::IsNaN(a));
  }
  if (!hn::AllFalse(d, nan)) return p[FirstNaN(p, i)];
  const VF m = Ext<kMax>(Ext<kMax>(m0, m1), Ext<kMax>(m2, m3));
  // The lanes reduced here, not with MaxOfLanes: some portable targets start that reduction from
  // the lowest finite value, which turns a row of -inf into -FLT_MAX.
  HWY_ALIGN float lanes[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(m, d, lanes);
  float r = lanes[0];
  for (int64_t k = 1; k < N; ++k) r = ExtScalar<kMax>(r, lanes[k]);
  for (; i < n; ++i) {
    if (p[i] != p[i]) return p[i];
    r = ExtScalar<kMax>(r, p[i]);
  }
  return r;
}

// The extremum first (one vector pass), then the first lane equal to it: the row is still in
// cache for the second pass.
template <bool kMax>
HWY_INLINE int64_t ArgExtremumRow(const float* HWY_RESTRICT p, int64_t n) {
  const float best = ExtremumRow<kMax>(p, n);
  if (best != best) return FirstNaN(p, n);
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const VF vb = hn::Set(d, best);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const auto eq = hn::Eq(hn::LoadU(d, p + i), vb);
    if (!hn::AllFalse(d, eq)) return i + static_cast<int64_t>(hn::FindKnownFirstTrue(d, eq));
  }
  for (; i < n; ++i)
    if (p[i] == best) return i;
  return 0;
}

// Tree sums of d = x - mu (s1) and d^2 (s2) over K vectors at p, p + N, ...
template <int K>
HWY_INLINE void TreeDev(DF d, const float* HWY_RESTRICT p, int64_t N, VF mu, VF& s1, VF& s2) {
  if constexpr (K == 1) {
    s1 = hn::Sub(hn::LoadU(d, p), mu);
    s2 = hn::Mul(s1, s1);
  } else {
    VF a1, a2, b1, b2;
    TreeDev<K / 2>(d, p, N, mu, a1, a2);
    TreeDev<K / 2>(d, p + K / 2 * N, N, mu, b1, b2);
    s1 = hn::Add(a1, b1);
    s2 = hn::Add(a2, b2);
  }
}

// acc[j] += the sum of K rows at column j, each term widened to float64 before it is added (a
// float32 partial sum would drop small terms beside large ones of opposite sign).
template <int K>
HWY_INLINE void SumRowBlock(double* HWY_RESTRICT acc, const float* HWY_RESTRICT p, int64_t rs, int64_t w) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t j = 0;
#if HWY_TARGET == HWY_SCALAR
  for (; j + N <= w; j += N)
    for (int k = 0; k < K; ++k) AddWideTo(acc + j, hn::LoadU(d, p + k * rs + j));
#else
  const DD dd;
  const int64_t H = static_cast<int64_t>(hn::Lanes(dd));
  for (; j + N <= w; j += N) {
    VD lo = hn::LoadU(dd, acc + j), hi = hn::LoadU(dd, acc + j + H);
    for (int k = 0; k < K; ++k) AddWide(hn::LoadU(d, p + k * rs + j), lo, hi);
    hn::StoreU(lo, dd, acc + j);
    hn::StoreU(hi, dd, acc + j + H);
  }
#endif
  for (; j < w; ++j) {
    double s = 0;
    for (int k = 0; k < K; ++k) s += static_cast<double>(p[k * rs + j]);
    acc[j] += s;
  }
}

void SumRowsF32(double* acc, const float* p, int64_t rs, int64_t n, int64_t w) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) SumRowBlock<8>(acc, p + i * rs, rs, w);
  if (i + 4 <= n) SumRowBlock<4>(acc, p + i * rs, rs, w), i += 4;
  if (i + 2 <= n) SumRowBlock<2>(acc, p + i * rs, rs, w), i += 2;
  if (i < n) SumRowBlock<1>(acc, p + i * rs, rs, w);
}

// One row into the running column extrema: x replaces acc when better or NaN, so a NaN, once
// in, stays (nothing compares better than it).
template <bool kMax>
HWY_INLINE VF ExtStep(VF a, VF x) {
  const auto better = kMax ? hn::Gt(x, a) : hn::Lt(x, a);
  return hn::IfThenElse(hn::Or(better, hn::IsNaN(x)), x, a);
}

template <bool kMax>
HWY_INLINE float ExtStepScalar(float a, float x) {
  return ((kMax ? x > a : x < a) || x != x) ? x : a;
}

// K rows into the running column extrema, one sweep over the columns (acc is loaded and stored
// once per K rows).
template <bool kMax, int K>
HWY_INLINE void ExtRowBlock(float* HWY_RESTRICT acc, const float* HWY_RESTRICT p, int64_t rs, int64_t w) {
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t j = 0;
  for (; j + N <= w; j += N) {
    VF a = hn::LoadU(d, acc + j);
    for (int k = 0; k < K; ++k) a = ExtStep<kMax>(a, hn::LoadU(d, p + k * rs + j));
    hn::StoreU(a, d, acc + j);
  }
  for (; j < w; ++j)
    for (int k = 0; k < K; ++k) acc[j] = ExtStepScalar<kMax>(acc[j], p[k * rs + j]);
}

template <bool kMax>
HWY_INLINE void ExtremumRows(float* HWY_RESTRICT acc, const float* HWY_RESTRICT p, int64_t rs, int64_t n, int64_t w) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) ExtRowBlock<kMax, 8>(acc, p + i * rs, rs, w);
  if (i + 4 <= n) ExtRowBlock<kMax, 4>(acc, p + i * rs, rs, w), i += 4;
  for (; i < n; ++i) ExtRowBlock<kMax, 1>(acc, p + i * rs, rs, w);
}

// The corrected two-pass sum (Chan, Golub & LeVeque): with d = x - mu in float32, sum(d^2) -
// sum(d)^2 / n cancels the rounding of mu to float. Squares are grouped eight at a time in
// float32, then accumulated in float64.
double SqDevSumF32(const float* HWY_RESTRICT p, int64_t n, double mu) {
  const DF d;
  const DD dd;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const float muf = static_cast<float>(mu);
  const VF vmu = hn::Set(d, muf);
  VD s1lo = hn::Zero(dd), s1hi = s1lo, s2lo = s1lo, s2hi = s1lo;
  int64_t i = 0;
  for (; i + 8 * N <= n; i += 8 * N) {
    VF x, q;
    TreeDev<8>(d, p + i, N, vmu, x, q);
    AddWide(x, s1lo, s1hi);
    AddWide(q, s2lo, s2hi);
  }
  double s1 = hn::GetLane(hn::SumOfLanes(dd, hn::Add(s1lo, s1hi)));
  double s2 = hn::GetLane(hn::SumOfLanes(dd, hn::Add(s2lo, s2hi)));
  for (; i < n; ++i) {
    const double v = static_cast<double>(p[i]) - static_cast<double>(muf);
    s1 += v;
    s2 += v * v;
  }
  if (n == 0) return 0;
  const double r = s2 - s1 * s1 / static_cast<double>(n);
  return r < 0 ? 0 : r;  // rounding can leave a tiny negative; NaN passes through
}

// sum of exp(p[i] - m): each term exact in its shift (ExpDiff) and widened to float64 before it
// is added, so log(sum) keeps its relative accuracy when sum = 1 + tiny (logsumexp near max).
double ExpSumF32(const float* HWY_RESTRICT p, int64_t n, float m) {
  using ricci::cpu::HWY_NAMESPACE::ExpDiff;
  const DF d;
  const DD dd;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const VF vm = hn::Set(d, m);
  VD lo0 = hn::Zero(dd), hi0 = lo0, lo1 = lo0, hi1 = lo0;
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    AddWide(ExpDiff(d, hn::LoadU(d, p + i), vm), lo0, hi0);
    AddWide(ExpDiff(d, hn::LoadU(d, p + i + N), vm), lo1, hi1);
  }
  for (; i + N <= n; i += N) AddWide(ExpDiff(d, hn::LoadU(d, p + i), vm), lo0, hi0);
  double s = hn::GetLane(hn::SumOfLanes(dd, hn::Add(hn::Add(lo0, hi0), hn::Add(lo1, hi1))));
  for (; i < n; ++i) s += std::exp(static_cast<double>(p[i]) - static_cast<double>(m));
  return s;
}

// acc[j] += the sum over K rows of exp(x - m[j]), each term widened as in ExpSumF32.
template <int K>
HWY_INLINE void ExpSumRowBlock(double* HWY_RESTRICT acc, const float* HWY_RESTRICT p, int64_t rs, int64_t w,
                               const float* HWY_RESTRICT m) {
  using ricci::cpu::HWY_NAMESPACE::ExpDiff;
  const DF d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t j = 0;
  for (; j + N <= w; j += N) {
    const VF vm = hn::LoadU(d, m + j);
#if HWY_TARGET == HWY_SCALAR
    for (int k = 0; k < K; ++k) AddWideTo(acc + j, ExpDiff(d, hn::LoadU(d, p + k * rs + j), vm));
#else
    const DD dd;
    const int64_t H = static_cast<int64_t>(hn::Lanes(dd));
    VD lo = hn::LoadU(dd, acc + j), hi = hn::LoadU(dd, acc + j + H);
    for (int k = 0; k < K; ++k) AddWide(ExpDiff(d, hn::LoadU(d, p + k * rs + j), vm), lo, hi);
    hn::StoreU(lo, dd, acc + j);
    hn::StoreU(hi, dd, acc + j + H);
#endif
  }
  for (; j < w; ++j)
    for (int k = 0; k < K; ++k) acc[j] += std::exp(static_cast<double>(p[k * rs + j]) - static_cast<double>(m[j]));
}

void ExpSumRowsF32(double* acc, const float* p, int64_t rs, int64_t n, int64_t w, const float* m) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) ExpSumRowBlock<8>(acc, p + i * rs, rs, w, m);
  for (; i < n; ++i) ExpSumRowBlock<1>(acc, p + i * rs, rs, w, m);
}

float ExtremumF32(const float* p, int64_t n, bool is_max) {
  return is_max ? ExtremumRow<true>(p, n) : ExtremumRow<false>(p, n);
}
int64_t ArgExtremumF32(const float* p, int64_t n, bool is_max) {
  return is_max ? ArgExtremumRow<true>(p, n) : ArgExtremumRow<false>(p, n);
}
void ExtremumRowsF32(float* acc, const float* p, int64_t rs, int64_t n, int64_t w, bool is_max) {
  if (is_max) ExtremumRows<true>(acc, p, rs, n, w);
  else ExtremumRows<false>(acc, p, rs, n, w);
}

}  // namespace ricci::cpu::reduce::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu::reduce {
HWY_EXPORT(ExtremumF32);
HWY_EXPORT(ArgExtremumF32);
HWY_EXPORT(SumRowsF32);
HWY_EXPORT(ExtremumRowsF32);
HWY_EXPORT(SqDevSumF32);
HWY_EXPORT(ExpSumF32);
HWY_EXPORT(ExpSumRowsF32);

float extremum_f32(const float* p, int64_t n, bool is_max) { return HWY_DYNAMIC_DISPATCH(ExtremumF32)(p, n, is_max); }
int64_t arg_extremum_f32(const float* p, int64_t n, bool is_max) {
  return HWY_DYNAMIC_DISPATCH(ArgExtremumF32)(p, n, is_max);
}
void sum_rows_f32(double* acc, const float* p, int64_t row_stride, int64_t n, int64_t w) {
  HWY_DYNAMIC_DISPATCH(SumRowsF32)(acc, p, row_stride, n, w);
}
void extremum_rows_f32(float* acc, const float* p, int64_t row_stride, int64_t n, int64_t w, bool is_max) {
  HWY_DYNAMIC_DISPATCH(ExtremumRowsF32)(acc, p, row_stride, n, w, is_max);
}
double sq_dev_sum_f32(const float* p, int64_t n, double mu) { return HWY_DYNAMIC_DISPATCH(SqDevSumF32)(p, n, mu); }
double exp_sum_f32(const float* p, int64_t n, float m) { return HWY_DYNAMIC_DISPATCH(ExpSumF32)(p, n, m); }
void exp_sum_rows_f32(double* acc, const float* p, int64_t row_stride, int64_t n, int64_t w, const float* m) {
  HWY_DYNAMIC_DISPATCH(ExpSumRowsF32)(acc, p, row_stride, n, w, m);
}
}  // namespace ricci::cpu::reduce
#endif
