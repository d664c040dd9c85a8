#pragma once
// x rounded to int8 for quantized_matmul with ActivationPrecision::Int8 (include/ricci/quantize.h).
//
// Note [Int8 activations]
// Each row of x is cut along K into blocks of 32 elements (the weight groups are whole blocks; the
// last block of a row whose K is not a multiple of 32 is shorter). A block gets d = max |x| / 127
// and each element q = round(x / d), an integer in [-127, 127] (rounded to nearest, ties to even);
// x̂ = d q. The product is then x̂ @ dequantize(w), computed so: the AVX2 decode kernel
// (qmv_int8x_avx2.cpp) sums q times the codes as integers, exactly, and multiplies each block's
// sum by d and each group's by its scale; every other path (prefill, other bit widths, no AVX2)
// writes x̂ as floats and runs the float product on it. The two agree to float rounding.
// A block whose largest |x| is so small that d underflows to 0 (below about 1e-43) becomes zeros.
// A row holding inf or NaN gives a row of NaN.
//
// Why it exists: a decode step reads every weight once, and the float kernel turns each code
// into a float32 lane (19 vector µops per 64 4-bit codes), which on AVX2 cores is slower than
// memory delivers the codes. Integer products (vpmaddubsw: 32 code × x products per instruction)
// cost about half as many µops. This is the arithmetic of PyTorch's dynamically quantized Linear
// and of llama.cpp's CPU matmuls (Q8_0 activations); MLX keeps x in float, which is this
// library's default (ActivationPrecision::Float: MLX's numbers).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ricci::quant {

inline constexpr int64_t kInt8Block = 32;
inline int64_t int8_blocks(int64_t K) { return (K + kInt8Block - 1) / kInt8Block; }

// Rounds one row x[0, K): q[k] and, per block, d[b]. False when the row holds a non-finite value
// (q and d are then partly written and meaningless).
template <class T>
bool round_row_to_int8(const T* x, int64_t K, int8_t* q, T* d) {
  for (int64_t b = 0; b * kInt8Block < K; ++b) {
    const int64_t k0 = b * kInt8Block, k1 = std::min(K, k0 + kInt8Block);
    T amax = 0;
    for (int64_t k = k0; k < k1; ++k) {
      if (!std::isfinite(x[k])) return false;
      amax = std::max(amax, std::fabs(x[k]));
    }
    const T db = amax / T(127);
    d[b] = db;
    for (int64_t k = k0; k < k1; ++k)
      q[k] = db > 0 ? static_cast<int8_t>(std::clamp(std::nearbyint(x[k] / db), T(-127), T(127))) : int8_t{0};
  }
  return true;
}

// Σ x̂ over each group of gs elements of one rounded row (K a multiple of gs, gs a multiple of 32): the bias
// term of x̂ · (s c + b) per group. Each block's integer sum times its d, added in block order.
inline void group_sums_of_xhat(const int8_t* q, const float* d, int64_t K, int64_t gs, float* xs) {
  for (int64_t g = 0; g < K / gs; ++g) {
    float t = 0;
    for (int64_t b = g * gs / kInt8Block; b < (g + 1) * gs / kInt8Block; ++b) {
      int sum = 0;
      for (int64_t k = b * kInt8Block; k < (b + 1) * kInt8Block; ++k) sum += q[k];
      t += d[b] * static_cast<float>(sum);
    }
    xs[g] = t;
  }
}

// x̂ = d q for every row of x (M rows of K), NaN rows where x holds a non-finite value. round_row
// rounds one row as round_row_to_int8 does (the AVX2 kernel passes its vector form of it).
template <class T, class RoundRow = bool (*)(const T*, int64_t, int8_t*, T*)>
void round_rows_to_int8(const T* x, int64_t M, int64_t K, T* xhat, RoundRow round_row = &round_row_to_int8<T>) {
  std::vector<int8_t> q(static_cast<size_t>(K));
  std::vector<T> d(static_cast<size_t>(int8_blocks(K)));
  for (int64_t i = 0; i < M; ++i) {
    T* out = xhat + i * K;
    if (!round_row(x + i * K, K, q.data(), d.data())) {
      std::fill(out, out + K, std::numeric_limits<T>::quiet_NaN());
      continue;
    }
    for (int64_t k = 0; k < K; ++k) out[k] = d[static_cast<size_t>(k / kInt8Block)] * static_cast<T>(q[k]);
  }
}

}  // namespace ricci::quant
