// CPU gelu backward (approximate="none") for float32 and float64: one pass computing
// g * (Phi(x) + x phi(x)) (Note [Fused GELU backward], nn_hwy.cpp). float32 runs the vector loop
// of nn_hwy.cpp (one shared exp, within 2 ulp of max(|Phi|, |x phi|); not the composed float32
// form's bits); float64 the same operations on the C library's erf and exp as the composed
// float64 form, so it equals that bit for bit.
#include <cmath>
#include <numbers>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

namespace ricci::cpu {
namespace {

void gelu_bwd_f64(const double* g, const double* x, double* dx, int64_t n) {
  const double c = 1.0 / std::sqrt(2 * std::numbers::pi);
  for (int64_t i = 0; i < n; ++i) {
    const double xv = x[i];
    const double cdf = (std::erf(xv * std::numbers::sqrt2 / 2) + 1) * 0.5;
    const double pdf = std::exp(xv * xv * -0.5) * c;
    dx[i] = g[i] * (cdf + xv * pdf);
  }
}

template <class T>
void gelu_backward(const Tensor& dx, const Tensor& g, const Tensor& x) {
  const T* gp = g.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  T* out = dx.data_ptr<T>();
  parallel_for(0, x.numel(), kGrainSize, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, float>) hwy_gelu_erf_backward_f32(gp + b, xp + b, out + b, e - b);
    else gelu_bwd_f64(gp + b, xp + b, out + b, e - b);
  });
}

const bool registered = [] {
  kernels::register_kernel("nn_gelu_backward", DeviceType::CPU, DType::Float32, &gelu_backward<float>);
  kernels::register_kernel("nn_gelu_backward", DeviceType::CPU, DType::Float64, &gelu_backward<double>);
  return true;
}();

}  // namespace
}  // namespace ricci::cpu
