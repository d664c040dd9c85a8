// The register-level GELU that generated code would produce for bench_compile's nine-op GELU
// (0.5 x (1 + tanh((x + 0.044715 x^3) 0.79788...)), tanh and all): every value stays in a vector
// register, the same vector tanh as the eager and fused kernels (backend/cpu/vector_math-inl.h),
// with one vector or four independent vectors per step. docs/compile.md compares it with the
// fused-kernel interpreter to size what generated code could win; it is a measuring stick, not
// a library path (it skips the checks that send special values to the scalar code).
#include "gelu_register_fused.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gelu_register_fused.cpp"
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include "backend/cpu/vector_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {

template <class D, class V>
HWY_INLINE V GeluNineOps(D d, V x) {
  const V x3 = hn::Mul(hn::Mul(x, x), x);
  const V u = hn::Mul(hn::Add(x, hn::Mul(hn::Set(d, 0.044715f), x3)), hn::Set(d, 0.7978845608028654f));
  return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), TanhF32(d, u)));
}

void GeluRegisterFused(const float* HWY_RESTRICT in, float* HWY_RESTRICT out, int64_t n, int vectors_per_step) {
  const hn::ScalableTag<float> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  if (vectors_per_step == 4) {
    for (; i + 4 * N <= n; i += 4 * N) {
      const auto y0 = GeluNineOps(d, hn::LoadU(d, in + i)), y1 = GeluNineOps(d, hn::LoadU(d, in + i + N));
      const auto y2 = GeluNineOps(d, hn::LoadU(d, in + i + 2 * N)), y3 = GeluNineOps(d, hn::LoadU(d, in + i + 3 * N));
      hn::StoreU(y0, d, out + i);
      hn::StoreU(y1, d, out + i + N);
      hn::StoreU(y2, d, out + i + 2 * N);
      hn::StoreU(y3, d, out + i + 3 * N);
    }
  }
  for (; i + N <= n; i += N) hn::StoreU(GeluNineOps(d, hn::LoadU(d, in + i)), d, out + i);
  for (; i < n; ++i) {
    HWY_ALIGN float buf[hn::MaxLanes(d)] = {in[i]};
    hn::Store(GeluNineOps(d, hn::Load(d, buf)), d, buf);
    out[i] = buf[0];
  }
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(GeluRegisterFused);
}  // namespace ricci::cpu
void ricci::bench::gelu_register_fused(const float* in, float* out, int64_t n, int vectors_per_step) {
  HWY_DYNAMIC_DISPATCH(ricci::cpu::GeluRegisterFused)(in, out, n, vectors_per_step);
}
#endif
