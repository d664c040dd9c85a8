// quantized_matmul's portable kernel: every bit width, both orientations, float32 or float64
// accumulation. Each row of the quantized matrix is dequantized once into a small buffer and
// then meets every row of x; each output element is summed by one thread in a fixed order, so
// the result does not depend on the thread count.
#include <algorithm>
#include <vector>

#include "quant/quant_format.h"
#include "quant/quant_kernels.h"
#include "ricci/parallel.h"

namespace ricci::quant {
namespace {

// Four partial sums: vectorisable without reassociating a single chain.
template <class Acc>
Acc dot(const Acc* a, const Acc* b, int64_t n) {
  Acc s[4] = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= n; k += 4)
    for (int u = 0; u < 4; ++u) s[u] += a[k + u] * b[k + u];
  for (; k < n; ++k) s[0] += a[k] * b[k];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace

template <class S, class Acc>
void qmm_portable(const QmmProblem<S, Acc>& p) {
  const int bits = p.bits;
  const int64_t gs = p.group_size, M = p.M, N = p.N, K = p.K;
  const int64_t gbytes = row_bytes(gs, bits);
  if (p.transpose) {
    // w: N rows of K codes. y[i, j] = x_i · row j.
    const int64_t G = K / gs, rb = row_bytes(K, bits);
    const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, K * M));
    parallel_for(0, N, grain, [&](int64_t j0, int64_t j1) {
      std::vector<Acc> row(static_cast<size_t>(K));
      for (int64_t j = j0; j < j1; ++j) {
        for (int64_t g = 0; g < G; ++g)
          dequantize_run<Acc>(p.w + j * rb + g * gbytes, bits, gs, to_compute(p.scales[j * G + g]),
                              to_compute(p.biases[j * G + g]), row.data() + g * gs);
        for (int64_t i = 0; i < M; ++i) p.y[i * N + j] = dot(p.x + i * K, row.data(), K);
      }
    });
    return;
  }
  // w: K rows of N codes. Column groups are split over threads; y[i, cols] += x[i, k] * row k.
  const int64_t G = N / gs, rb = row_bytes(N, bits);
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, gs * K * M));
  parallel_for(0, G, grain, [&](int64_t g0, int64_t g1) {
    const int64_t width = (g1 - g0) * gs;
    std::vector<Acc> row(static_cast<size_t>(width)), acc(static_cast<size_t>(M * width), Acc(0));
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t g = g0; g < g1; ++g)
        dequantize_run<Acc>(p.w + k * rb + g * gbytes, bits, gs, to_compute(p.scales[k * G + g]),
                            to_compute(p.biases[k * G + g]), row.data() + (g - g0) * gs);
      for (int64_t i = 0; i < M; ++i) {
        const Acc a = p.x[i * K + k];
        Acc* o = acc.data() + i * width;
        for (int64_t c = 0; c < width; ++c) o[c] += a * row[c];
      }
    }
    for (int64_t i = 0; i < M; ++i)
      std::copy(acc.begin() + i * width, acc.begin() + (i + 1) * width, p.y + i * N + g0 * gs);
  });
}

template void qmm_portable<float, float>(const QmmProblem<float, float>&);
template void qmm_portable<Half, float>(const QmmProblem<Half, float>&);
template void qmm_portable<BFloat16, float>(const QmmProblem<BFloat16, float>&);
template void qmm_portable<double, double>(const QmmProblem<double, double>&);

}  // namespace ricci::quant
