// quantized_matmul for many rows of x (prefill, training): compute-bound, so the quantized matrix
// is dequantized panel by panel into float32 (up to 16 MB each, a run of output columns) and each
// panel multiplied by the BLAS sgemm (split over ricci's pool, sgemm_on_pool), which then runs at
// its own speed. Dequantizing costs about
// one pass over the weights, against 2 * M flops per weight for the product. Panels are large
// because every sgemm call packs all of x again (with 2 MB panels, 32 calls for a 4096 x 4096
// weight, that packing cost as much as the product).

#include <algorithm>

#include "backend/cpu/cpu_isa.h"
#include "backend/cpu/gemm.h"
#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

namespace ricci::quant {

namespace {
constexpr int64_t kPanelFloats = int64_t{1} << 22;  // 16 MB of float32
}

template <class S>
void qmm_prefill(const QmmProblem<S, float>& p) {
  const int bits = p.bits;
  const int64_t gs = p.group_size, M = p.M, N = p.N, K = p.K;
  const int64_t gbytes = row_bytes(gs, bits);
  if (p.transpose) {
    // Panel: rows [j0, j0 + nb) of w, (nb, K); y[:, j0:j0+nb] = x @ panelᵀ.
    const int64_t G = K / gs, rb = row_bytes(K, bits);
    const int64_t nb = std::min(N, std::max<int64_t>(16, kPanelFloats / K / 16 * 16));
    Tensor holder = empty_tensor({nb * K}, DType::Float32, kCPU, "quantized_matmul");
    float* panel = holder.data_ptr<float>();
    // With AVX2, 4- and 8-bit panels are dequantized in registers, 4-bit rows in the decode
    // kernels' order (even elements, then odd, per 16): x is permuted the same way once, which
    // leaves every dot product — and so the result — as it is.
    const bool fast = (p.bits == 4 || p.bits == 8) && cpu::cpu_isa_allows(cpu::CpuIsa::Avx2);
    const float* x = p.x;
    Tensor x_holder;
    if (fast && p.bits == 4) {
      x_holder = empty_tensor({M * K}, DType::Float32, kCPU, "quantized_matmul");
      float* xp = x_holder.data_ptr<float>();
      parallel_for(0, M, std::max<int64_t>(1, kGrainSize / K), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t s = 0; s < K; s += 16)
            for (int u = 0; u < 8; ++u) {
              xp[i * K + s + u] = p.x[i * K + s + 2 * u];
              xp[i * K + s + 8 + u] = p.x[i * K + s + 2 * u + 1];
            }
      });
      x = xp;
    }
    for (int64_t j0 = 0; j0 < N; j0 += nb) {
      const int64_t n = std::min(nb, N - j0);
      if (fast) {
        dequantize_rows_avx2<S>(p, j0, n, panel);  // true: `fast` asks exactly what it checks
      } else {
        parallel_for(0, n, std::max<int64_t>(1, kGrainSize / K), [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const int64_t j = j0 + r;
            for (int64_t g = 0; g < G; ++g)
              dequantize_run<float>(p.w + j * rb + g * gbytes, bits, gs, to_compute(p.scales[j * G + g]),
                                    to_compute(p.biases[j * G + g]), panel + r * K + g * gs);
          }
        });
      }
      cpu::sgemm_on_pool(false, true, M, n, K, 1.0f, x, K, panel, K, 0.0f, p.y + j0, N);
    }
    return;
  }
  // Panel: columns [c0, c0 + nc) of w (K, N), nc a multiple of the group size; y[:, c0:c0+nc] = x @ panel.
  const int64_t G = N / gs, rb = row_bytes(N, bits);
  const int64_t nc = std::min(N, std::max<int64_t>(gs, kPanelFloats / K / gs * gs));
  Tensor holder = empty_tensor({nc * K}, DType::Float32, kCPU, "quantized_matmul");
  float* panel = holder.data_ptr<float>();
  for (int64_t c0 = 0; c0 < N; c0 += nc) {
    const int64_t n = std::min(nc, N - c0), g0 = c0 / gs;
    parallel_for(0, K, std::max<int64_t>(1, kGrainSize / n), [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k)
        for (int64_t g = 0; g < n / gs; ++g)
          dequantize_run<float>(p.w + k * rb + (g0 + g) * gbytes, bits, gs, to_compute(p.scales[k * G + g0 + g]),
                                to_compute(p.biases[k * G + g0 + g]), panel + k * n + g * gs);
    });
    cpu::sgemm_on_pool(false, false, M, n, K, 1.0f, p.x, K, panel, n, 0.0f, p.y + c0, N);
  }
}

template void qmm_prefill<float>(const QmmProblem<float, float>&);
template void qmm_prefill<Half>(const QmmProblem<Half, float>&);
template void qmm_prefill<BFloat16>(const QmmProblem<BFloat16, float>&);

}  // namespace ricci::quant
