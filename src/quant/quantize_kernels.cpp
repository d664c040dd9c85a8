// The "quantize" and "dequantize" CPU kernels: MLX's affine quantization, group by group
// (include/ricci/quantize.h has the format; quant_format.h the bit layout).
#include <algorithm>
#include <cmath>

#include "backend/kernel_table.h"
#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

namespace ricci::quant {
namespace {

// One group of n values: its scale and bias, computed as MLX computes them (float32, the same
// operations in the same order, so the codes agree bit for bit), and its codes written at out.
template <class T>
void quantize_group(const T* w, int64_t n, int bits, uint8_t* out, T* scale_out, T* bias_out) {
  const float n_bins = static_cast<float>((1 << bits) - 1);
  const float eps = 1e-7f;
  float w_min = INFINITY, w_max = -INFINITY;
  for (int64_t j = 0; j < n; ++j) {
    const float v = static_cast<float>(w[j]);
    w_max = std::max(w_max, v);
    w_min = std::min(w_min, v);
  }
  // The edge of larger magnitude becomes the bias, exactly on the grid: its code is 0 or n_bins.
  const bool mask = std::abs(w_min) > std::abs(w_max);
  float scale = std::max((w_max - w_min) / n_bins, eps);
  scale = mask ? scale : -scale;
  const float edge = mask ? w_min : w_max;
  const float q0 = std::rint(edge / scale);
  float bias = 0;
  if (q0 != 0) {
    scale = edge / q0;
    bias = edge;
  }
  uint32_t q[8];
  for (int64_t e = 0; e < n; e += 8, out += bits) {
    for (int i = 0; i < 8; ++i) {
      float c = std::rint((static_cast<float>(w[e + i]) - bias) / scale);
      c = std::min(std::max(c, 0.0f), n_bins);
      q[i] = c >= 0.0f ? static_cast<uint32_t>(c) : 0u;  // NaN (a NaN or inf in the group) → code 0
    }
    pack8(q, bits, out);
  }
  *scale_out = static_cast<T>(scale);
  *bias_out = static_cast<T>(bias);
}

template <class T>
void quantize_kernel(const Tensor& w, const Tensor& packed, const Tensor& scales, const Tensor& biases,
                     int64_t group_size, int64_t bits) {
  const int64_t groups = w.numel() / group_size;
  if (groups == 0) return;
  const T* src = w.data_ptr<T>();
  auto* dst = reinterpret_cast<uint8_t*>(packed.data_ptr<int32_t>());
  T* s = scales.data_ptr<T>();
  T* b = biases.data_ptr<T>();
  const int nbits = static_cast<int>(bits);
  const int64_t group_bytes = row_bytes(group_size, nbits);
  parallel_for(0, groups, std::max<int64_t>(1, kGrainSize / group_size), [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g)
      quantize_group<T>(src + g * group_size, group_size, nbits, dst + g * group_bytes, s + g, b + g);
  });
}

template <class T>
void dequantize_kernel(const Tensor& out, const Tensor& packed, const Tensor& scales, const Tensor& biases,
                       int64_t group_size, int64_t bits) {
  const int64_t groups = out.numel() / group_size;
  if (groups == 0) return;
  using Acc = decltype(to_compute(T{}));
  T* dst = out.data_ptr<T>();
  const auto* src = reinterpret_cast<const uint8_t*>(packed.data_ptr<int32_t>());
  const T* s = scales.data_ptr<T>();
  const T* b = biases.data_ptr<T>();
  const int nbits = static_cast<int>(bits);
  const int64_t group_bytes = row_bytes(group_size, nbits);
  parallel_for(0, groups, std::max<int64_t>(1, kGrainSize / group_size), [&](int64_t g0, int64_t g1) {
    Acc buf[128];
    for (int64_t g = g0; g < g1; ++g) {
      dequantize_run<Acc>(src + g * group_bytes, nbits, group_size, to_compute(s[g]), to_compute(b[g]), buf);
      for (int64_t e = 0; e < group_size; ++e) dst[g * group_size + e] = static_cast<T>(buf[e]);
    }
  });
}

template <DType D>
bool register_both() {
  using T = typename dtype_cpp<D>::type;
  kernels::register_kernel("quantize", DeviceType::CPU, D, &quantize_kernel<T>);
  return kernels::register_kernel("dequantize", DeviceType::CPU, D, &dequantize_kernel<T>);
}

[[maybe_unused]] const bool g_registered = register_both<DType::Float32>() && register_both<DType::Float16>() &&
                                           register_both<DType::BFloat16>() && register_both<DType::Float64>();

}  // namespace
}  // namespace ricci::quant
