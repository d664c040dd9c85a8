// The "quantized_matmul" CPU kernel: picks the decode kernels (few rows, 4/8 bits, AVX-512 or
// AVX2 as RICCI_CPU_ISA allows), the dequantize-and-sgemm path (many rows) or the portable code;
// with int8 activations, the integer decode kernel, the int8 GEMM (many rows: 4/8 bits with
// AVX512-VNNI, 4 bits with AVX2) or x̂ through those paths.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "backend/kernel_table.h"
#include "quant/int8_activations.h"
#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/tensor.h"

namespace ricci::quant {
namespace {

template <class S>
void qmm_kernel(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& scales, const Tensor& biases,
                bool transpose, int64_t group_size, int64_t bits, bool int8_x) {
  using Acc = decltype(to_compute(S{}));
  QmmProblem<S, Acc> p{x.data_ptr<Acc>(),
                       out.data_ptr<Acc>(),
                       reinterpret_cast<const uint8_t*>(w.data_ptr<int32_t>()),
                       scales.data_ptr<S>(),
                       biases.data_ptr<S>(),
                       x.size(0),
                       out.size(1),
                       x.size(1),
                       transpose,
                       static_cast<int>(group_size),
                       static_cast<int>(bits)};
  if (p.M == 0 || p.N == 0) return;
  if (p.K == 0) {
    std::fill(p.y, p.y + p.M * p.N, Acc(0));
    return;
  }
  std::vector<Acc> xhat;
  if (int8_x) {
    if constexpr (std::is_same_v<Acc, float>)
      if (p.M <= kDecodeRows ? qmv_int8x_avx2<S>(p) : qmm_int8x_gemm<S>(p)) return;
    // Elsewhere x̂ as floats, then the float product (Note [Int8 activations]).
    xhat.resize(static_cast<size_t>(p.M * p.K));
    bool done = false;
    if constexpr (std::is_same_v<Acc, float>) done = round_rows_to_int8_avx2(p.x, p.M, p.K, xhat.data());
    if (!done) round_rows_to_int8(p.x, p.M, p.K, xhat.data());
    p.x = xhat.data();
  }
  if constexpr (std::is_same_v<Acc, float>) {
    if (p.M <= kDecodeRows && (qmv_avx512<S>(p) || qmv_avx2<S>(p))) return;
    if (p.M > kPortableRows) return qmm_prefill<S>(p);
  }
  qmm_portable<S, Acc>(p);
}

template <DType D>
bool register_one() {
  return kernels::register_kernel("quantized_matmul", DeviceType::CPU, D, &qmm_kernel<typename dtype_cpp<D>::type>);
}

[[maybe_unused]] const bool g_registered = register_one<DType::Float32>() && register_one<DType::Float16>() &&
                                           register_one<DType::BFloat16>() && register_one<DType::Float64>();

}  // namespace
}  // namespace ricci::quant
