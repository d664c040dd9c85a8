// exp(x - m) with x - m carried exactly, for the Highway kernels that exponentiate shifted values
// (softmax in nn_hwy.cpp, logsumexp in reduce_hwy.cpp): Note [Softmax accuracy] (nn_hwy.cpp).
// A per-target header: each foreach_target translation unit includes it once per target.
#if defined(RICCI_HWY_EXP_DIFF_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef RICCI_HWY_EXP_DIFF_INL_H_
#undef RICCI_HWY_EXP_DIFF_INL_H_
#else
#define RICCI_HWY_EXP_DIFF_INL_H_
#endif

#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hwy_ed = hwy::HWY_NAMESPACE;

// z = x - m and zlo with z + zlo = x - m exactly (2Sum).
template <class V>
HWY_INLINE V TwoDiff(V x, V m, V& zlo) {
  const V z = hwy_ed::Sub(x, m);
  const V bb = hwy_ed::Sub(z, x);
  zlo = hwy_ed::Sub(hwy_ed::Sub(x, hwy_ed::Sub(z, bb)), hwy_ed::Add(m, bb));
  return z;
}

// exp(x - m) = exp(z) (1 + zlo): float32's rounding of x - m would otherwise become a relative
// error of |x - m| 2^-24 (|x - m| ulps). x = -inf gives 0 (its zlo, NaN, is dropped).
template <class D, class V>
HWY_INLINE V ExpDiff(D d, V x, V m) {
  V zlo;
  const V z = TwoDiff(x, m, zlo);
#if HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
  // The emulated targets convert NaN to an integer inside Exp with a C++ cast (undefined behaviour,
  // which UBSan reports): NaN lanes go in as 0 and come out as NaN.
  const auto nan = hwy_ed::IsNaN(z);
  const V e = hwy_ed::IfThenElse(nan, z, hwy_ed::Exp(d, hwy_ed::IfThenZeroElse(nan, z)));
#else
  const V e = hwy_ed::Exp(d, z);
#endif
  return hwy_ed::MulAdd(e, hwy_ed::IfThenZeroElse(hwy_ed::IsNaN(zlo), zlo), e);
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // RICCI_HWY_EXP_DIFF_INL_H_
