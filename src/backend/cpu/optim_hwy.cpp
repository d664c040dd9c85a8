// Note [One-pass Adam]
// Adam::step (src/optim/optimizer.cpp) follows PyTorch's single-tensor algorithm as a chain of
// in-place ops per parameter:
//   AdamW:  p.mul_(1 - lr wd)               Adam: g = grad.add(p, wd)
//   exp_avg.lerp_(g, 1 - beta1)
//   exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
//   amsgrad: max_exp_avg_sq.copy_(maximum(max_exp_avg_sq, exp_avg_sq))
//   denom = sqrt(exp_avg_sq or max_exp_avg_sq).div_(sqrt(bc2)).add_(eps)
//   p.addcdiv_(exp_avg, denom, -lr / bc1)
// eight passes over the parameter and its moments, each paying an op's dispatch. This kernel does
// the same float operations on each element in one pass, in the same order and with the same
// roundings, so its result is the composed one bit for bit (tests/test_optim.cpp compares them):
//   - every scalar is rounded to the dtype first, as the ops wrap scalars into tensors of it;
//   - mul_, div_, add_(eps) and sqrt are the vector ops of elementwise_hwy.cpp (IEEE, exact), and
//     grad.add(p, wd) is its Highway MulAdd (one rounding where the target has FMA, two where not:
//     the same target is picked here, with the same HWY_DISABLED_TARGETS and RICCI_CPU_ISA cap);
//   - lerp_, addcmul_, addcdiv_ and maximum are the scalar kernels of
//     elementwise_binary_kernels.cpp, compiled for baseline x86-64 (no FMA): lerp is
//     s + w (e - s) for |w| < 0.5, else e - (e - s)(1 - w); addcmul s + (v a) b; addcdiv s + (v a) / b;
//     maximum propagates a NaN of either side. Their products must not fuse with the sums here,
//     so this file is compiled with -ffp-contract=off (CMakeLists.txt): GCC otherwise contracts
//     Highway's Mul + Add into FMAs on the AVX2 and AVX-512 targets.
// Only NaN payloads may differ (an IEEE sum of two NaNs may keep either operand's).
//
// SGD's step (d = grad.add(p, wd); buf.mul_(momentum).add_(d, 1 - dampening); d = buf or, Nesterov,
// d.add(buf, momentum); p.add_(d, -lr)) is all add-with-alpha and mul, elementwise_hwy.cpp's
// MulAdd (or its plain sum where alpha rounds to 1) and Mul, done here in one pass the same way.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/optim_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/optim_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#ifndef RICCI_OPTIM_HWY_ONCE
#define RICCI_OPTIM_HWY_ONCE
namespace ricci::cpu::optim_detail {

// The step's scalars, rounded to T as the composed ops round them.
template <class T>
struct AdamScalars {
  int wd_kind;      // 0: none, 1: decoupled (p *= wd_mul), 2: L2 (g = g + wd_alpha p)
  T wd_mul, wd_alpha;
  bool l2_plain;    // wd_alpha == 1: add's plain sum
  T w1, one_minus_w1;
  bool lerp_low;    // |w1| < 0.5: lerp's first formula
  T beta2, one_minus_beta2, sqrt_bc2, eps, step_size;
  bool amsgrad;
};

template <class T>
AdamScalars<T> adam_scalars(const optimk::AdamStepParams& p) {
  AdamScalars<T> s;
  s.wd_kind = p.weight_decay == 0.0 ? 0 : p.decoupled ? 1 : 2;
  s.wd_mul = static_cast<T>(1.0 - p.lr * p.weight_decay);
  s.wd_alpha = static_cast<T>(p.weight_decay);
  s.l2_plain = s.wd_alpha == T(1);
  s.w1 = static_cast<T>(1.0 - p.beta1);
  s.one_minus_w1 = T(1) - s.w1;
  s.lerp_low = std::abs(s.w1) < T(0.5);
  s.beta2 = static_cast<T>(p.beta2);
  s.one_minus_beta2 = static_cast<T>(1.0 - p.beta2);
  s.sqrt_bc2 = static_cast<T>(std::sqrt(p.bias_correction2));
  s.eps = static_cast<T>(p.eps);
  s.step_size = static_cast<T>(-p.lr / p.bias_correction1);
  s.amsgrad = p.amsgrad;
  return s;
}

template <class T>
struct SgdScalars {
  bool wd, momentum, nesterov;
  T wd_alpha, mom, damp_alpha, neg_lr;  // the adds' alphas (and mul_'s factor), rounded to T
};

template <class T>
SgdScalars<T> sgd_scalars(const optimk::SgdStepParams& p) {
  return {p.weight_decay != 0.0, p.momentum != 0.0, p.nesterov, static_cast<T>(p.weight_decay),
          static_cast<T>(p.momentum), static_cast<T>(1.0 - p.dampening), static_cast<T>(-p.lr)};
}

}  // namespace ricci::cpu::optim_detail
#endif

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One vector of every operand (Note [One-pass Adam]); vmax is only read and written with kAms.
template <int kWd, bool kAms, class T>
HWY_INLINE void AdamVector(T* HWY_RESTRICT p, const T* HWY_RESTRICT g, T* HWY_RESTRICT m, T* HWY_RESTRICT v,
                           T* HWY_RESTRICT vmax, const optim_detail::AdamScalars<T>& s) {
  const hn::ScalableTag<T> d;
  auto vp = hn::LoadU(d, p);
  auto vg = hn::LoadU(d, g);
  if constexpr (kWd == 1) {
    vp = hn::Mul(vp, hn::Set(d, s.wd_mul));
  } else if constexpr (kWd == 2) {
    vg = s.l2_plain ? hn::Add(vg, vp) : hn::MulAdd(hn::Set(d, s.wd_alpha), vp, vg);
  }
  auto vm = hn::LoadU(d, m);
  vm = s.lerp_low ? hn::Add(vm, hn::Mul(hn::Set(d, s.w1), hn::Sub(vg, vm)))
                  : hn::Sub(vg, hn::Mul(hn::Sub(vg, vm), hn::Set(d, s.one_minus_w1)));
  hn::StoreU(vm, d, m);
  auto vv = hn::Mul(hn::LoadU(d, v), hn::Set(d, s.beta2));
  vv = hn::Add(vv, hn::Mul(hn::Mul(hn::Set(d, s.one_minus_beta2), vg), vg));
  hn::StoreU(vv, d, v);
  auto src = vv;
  if constexpr (kAms) {
    const auto x = hn::LoadU(d, vmax);
    src = hn::IfThenElse(hn::IsNaN(x), x, hn::IfThenElse(hn::Gt(x, vv), x, vv));
    hn::StoreU(src, d, vmax);
  }
  const auto denom = hn::Add(hn::Div(hn::Sqrt(src), hn::Set(d, s.sqrt_bc2)), hn::Set(d, s.eps));
  vp = hn::Add(vp, hn::Div(hn::Mul(hn::Set(d, s.step_size), vm), denom));
  hn::StoreU(vp, d, p);
}

// Whole vectors, then the tail through padded stack buffers with the same vector operations (as
// elementwise_hwy.cpp's loops: MulAdd rounds the same in every lane).
template <int kWd, bool kAms, class T>
HWY_INLINE void AdamLoop(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const optim_detail::AdamScalars<T>& s) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) AdamVector<kWd, kAms>(p + i, g + i, m + i, v + i, kAms ? vmax + i : nullptr, s);
  if (i < n) {
    constexpr size_t kMax = HWY_MAX_BYTES / sizeof(T);
    HWY_ALIGN T bp[kMax] = {}, bg[kMax] = {}, bm[kMax] = {}, bv[kMax] = {}, bx[kMax] = {};
    const size_t rest = static_cast<size_t>(n - i), bytes = rest * sizeof(T);
    std::memcpy(bp, p + i, bytes);
    std::memcpy(bg, g + i, bytes);
    std::memcpy(bm, m + i, bytes);
    std::memcpy(bv, v + i, bytes);
    if (kAms) std::memcpy(bx, vmax + i, bytes);
    AdamVector<kWd, kAms>(bp, bg, bm, bv, bx, s);
    std::memcpy(p + i, bp, bytes);
    std::memcpy(m + i, bm, bytes);
    std::memcpy(v + i, bv, bytes);
    if (kAms) std::memcpy(vmax + i, bx, bytes);
  }
}

template <class T>
HWY_INLINE void AdamStepT(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const optim_detail::AdamScalars<T>& s) {
  switch (s.wd_kind * 2 + (s.amsgrad ? 1 : 0)) {
    case 0: return AdamLoop<0, false>(p, g, m, v, vmax, n, s);
    case 1: return AdamLoop<0, true>(p, g, m, v, vmax, n, s);
    case 2: return AdamLoop<1, false>(p, g, m, v, vmax, n, s);
    case 3: return AdamLoop<1, true>(p, g, m, v, vmax, n, s);
    case 4: return AdamLoop<2, false>(p, g, m, v, vmax, n, s);
    default: return AdamLoop<2, true>(p, g, m, v, vmax, n, s);
  }
}

// add(x, y, alpha) as elementwise_hwy.cpp computes it: x + y, or MulAdd(alpha, y, x).
template <class D, class V, class T>
HWY_INLINE V AddAlpha(D d, V x, V y, T alpha) {
  return alpha == T(1) ? hn::Add(x, y) : hn::MulAdd(hn::Set(d, alpha), y, x);
}

template <class T>
HWY_INLINE void SgdVector(T* HWY_RESTRICT p, const T* HWY_RESTRICT g, T* HWY_RESTRICT buf,
                          const optim_detail::SgdScalars<T>& s) {
  const hn::ScalableTag<T> d;
  auto vp = hn::LoadU(d, p);
  auto vd = hn::LoadU(d, g);
  if (s.wd) vd = AddAlpha(d, vd, vp, s.wd_alpha);
  if (s.momentum) {
    auto vb = hn::Mul(hn::LoadU(d, buf), hn::Set(d, s.mom));
    vb = AddAlpha(d, vb, vd, s.damp_alpha);
    hn::StoreU(vb, d, buf);
    vd = s.nesterov ? AddAlpha(d, vd, vb, s.mom) : vb;
  }
  hn::StoreU(AddAlpha(d, vp, vd, s.neg_lr), d, p);
}

template <class T>
HWY_INLINE void SgdStepT(T* p, const T* g, T* buf, int64_t n, const optim_detail::SgdScalars<T>& s) {
  const hn::ScalableTag<T> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) SgdVector(p + i, g + i, s.momentum ? buf + i : nullptr, s);
  if (i < n) {
    constexpr size_t kMax = HWY_MAX_BYTES / sizeof(T);
    HWY_ALIGN T bp[kMax] = {}, bg[kMax] = {}, bb[kMax] = {};
    const size_t bytes = static_cast<size_t>(n - i) * sizeof(T);
    std::memcpy(bp, p + i, bytes);
    std::memcpy(bg, g + i, bytes);
    if (s.momentum) std::memcpy(bb, buf + i, bytes);
    SgdVector(bp, bg, bb, s);
    std::memcpy(p + i, bp, bytes);
    if (s.momentum) std::memcpy(buf + i, bb, bytes);
  }
}

void SgdStepF32(float* p, const float* g, float* buf, int64_t n, const optim_detail::SgdScalars<float>& s) {
  SgdStepT(p, g, buf, n, s);
}
void SgdStepF64(double* p, const double* g, double* buf, int64_t n, const optim_detail::SgdScalars<double>& s) {
  SgdStepT(p, g, buf, n, s);
}

void AdamStepF32(float* p, const float* g, float* m, float* v, float* vmax, int64_t n,
                 const optim_detail::AdamScalars<float>& s) {
  AdamStepT(p, g, m, v, vmax, n, s);
}
void AdamStepF64(double* p, const double* g, double* m, double* v, double* vmax, int64_t n,
                 const optim_detail::AdamScalars<double>& s) {
  AdamStepT(p, g, m, v, vmax, n, s);
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(AdamStepF32);
HWY_EXPORT(AdamStepF64);
HWY_EXPORT(SgdStepF32);
HWY_EXPORT(SgdStepF64);

namespace {

template <class T>
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const optimk::AdamStepParams& hp) {
  const int64_t n = param.numel();
  if (n == 0) return;
  const optim_detail::AdamScalars<T> s = optim_detail::adam_scalars<T>(hp);
  T* p = param.data_ptr<T>();
  const T* g = grad.data_ptr<T>();
  T* m = exp_avg.data_ptr<T>();
  T* v = exp_avg_sq.data_ptr<T>();
  T* vmax = hp.amsgrad ? max_exp_avg_sq.data_ptr<T>() : nullptr;
  // Elementwise, so any split gives the same values.
  parallel_for(0, n, kGrainSize, [&](int64_t b, int64_t e) {
    T* x = vmax ? vmax + b : nullptr;
    if constexpr (std::is_same_v<T, float>) {
      HWY_DYNAMIC_DISPATCH(AdamStepF32)(p + b, g + b, m + b, v + b, x, e - b, s);
    } else {
      HWY_DYNAMIC_DISPATCH(AdamStepF64)(p + b, g + b, m + b, v + b, x, e - b, s);
    }
  });
}

template <class T>
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const optimk::SgdStepParams& hp) {
  const int64_t n = param.numel();
  if (n == 0) return;
  const optim_detail::SgdScalars<T> s = optim_detail::sgd_scalars<T>(hp);
  T* p = param.data_ptr<T>();
  const T* g = grad.data_ptr<T>();
  T* buf = s.momentum ? momentum_buffer.data_ptr<T>() : nullptr;
  parallel_for(0, n, kGrainSize, [&](int64_t b, int64_t e) {
    T* x = buf ? buf + b : nullptr;
    if constexpr (std::is_same_v<T, float>) {
      HWY_DYNAMIC_DISPATCH(SgdStepF32)(p + b, g + b, x, e - b, s);
    } else {
      HWY_DYNAMIC_DISPATCH(SgdStepF64)(p + b, g + b, x, e - b, s);
    }
  });
}

const bool registered =
    kernels::register_kernel("optim_adam_step", DeviceType::CPU, DType::Float32, &adam_step<float>) &&
    kernels::register_kernel("optim_adam_step", DeviceType::CPU, DType::Float64, &adam_step<double>) &&
    kernels::register_kernel("optim_sgd_step", DeviceType::CPU, DType::Float32, &sgd_step<float>) &&
    kernels::register_kernel("optim_sgd_step", DeviceType::CPU, DType::Float64, &sgd_step<double>);

}  // namespace
}  // namespace ricci::cpu
#endif
