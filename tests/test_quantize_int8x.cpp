// quantized_matmul with ActivationPrecision::Int8 (include/ricci/quantize.h; Note [Int8
// activations] in src/quant/int8_activations.h): x rounded to int8 per block of 32 by a reference
// written here, then x̂ @ dequantize(w) in float64, against every path — the AVX2 integer decode
// kernel (4 and 8 bits, every group size, 1-16 rows), the other bit widths, the prefill shape,
// !transpose, float64 — and the errors. ctest also runs this file under each RICCI_CPU_ISA cap, so
// the portable path (x̂ through the float kernels) meets the same reference.
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

namespace {

constexpr auto kInt8 = ActivationPrecision::Int8;

// x̂: per row, blocks of 32 along the last dim (the last one shorter), d = max |x| / 127 in x's
// dtype, q = round half to even of x / d. Written apart from the library's rounding on purpose.
Tensor round_to_int8_reference(const Tensor& x) {
  const bool f64 = x.dtype() == float64;
  const int64_t K = x.size(-1), rows = x.numel() / K;
  std::vector<double> v = values(x), out(v.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b0 = 0; b0 < K; b0 += 32) {
      const int64_t b1 = std::min(K, b0 + 32);
      double amax = 0;
      for (int64_t k = b0; k < b1; ++k) amax = std::max(amax, std::fabs(v[r * K + k]));
      const double d = f64 ? amax / 127.0 : static_cast<double>(static_cast<float>(amax) / 127.0f);
      for (int64_t k = b0; k < b1; ++k) {
        const double xv = v[r * K + k];
        const double t = f64 ? xv / d : static_cast<double>(static_cast<float>(xv) / static_cast<float>(d));
        out[r * K + k] = d > 0 ? d * std::nearbyint(t) : 0.0;
      }
    }
  return from_vector(out, x.shape(), float64);
}

// The product against x̂ @ dequantize(w) in float64, within rtol of Σ |x̂| |w| per output.
void expect_int8x_close(const Tensor& x, const QuantizedTensor& q, bool transpose, int gs, int bits,
                        double rtol = 2e-6) {
  const Tensor y = quantized_matmul(x, q.weight, q.scales, q.biases, transpose, gs, bits, kInt8);
  const Tensor xh = round_to_int8_reference(x);
  const Tensor w = dequantize(q.weight, q.scales.to(float64), q.biases.to(float64), gs, bits);
  const Tensor wabs = dequantize(q.weight, q.scales.to(float64).abs(), q.biases.to(float64).abs(), gs, bits);
  const std::vector<double> got = values(y), want = values(matmul(xh, transpose ? w.mT() : w));
  const std::vector<double> mag = values(matmul(xh.abs(), transpose ? wabs.mT() : wabs));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), rtol * mag[i]) << "element " << i << ": " << got[i] << " vs " << want[i];
}

QuantizedTensor quantized_random(Dims shape, int gs, int bits, uint64_t seed, DType dt = float32) {
  manual_seed(seed);
  return quantize(randn(shape, dt), gs, bits);
}

}  // namespace

// The decode shape on every group size, row count and scale dtype (the AVX2 integer kernel where
// the CPU has it): groups 1, 3 (an odd last pair of 32-groups), 6 and 17; N not a multiple of the
// 8-row tiles.
TEST(QuantizedMatmulInt8x, DecodeMatchesRoundedX) {
  for (int bits : {4, 8})
    for (int gs : {32, 64, 128})
      for (int64_t groups : {1, 3, 6, 17})
        for (int64_t N : {1, 9, 18})
          for (int64_t M : {1, 5, 16})
            for (DType dt : {float32, bfloat16, float16}) {
              SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs) + " groups " +
                           std::to_string(groups) + " N " + std::to_string(N) + " M " + std::to_string(M) +
                           " scales " + std::string(dtype_name(dt)));
              const QuantizedTensor q =
                  quantized_random({N, groups * gs}, gs, bits, static_cast<uint64_t>(N + groups), dt);
              expect_int8x_close(randn({M, groups * gs}) * 3.0, q, true, gs, bits);
            }
}

// The prefill shape (more than 16 rows; the int8 GEMM where the CPU has AVX512-VNNI, Note [Int8
// GEMM]) on every group size, bit width and scale dtype: row counts that leave 1-3 rows past the
// 4-row micro-tiles, N that leaves a partial tile of 32 columns, a NaN row among them, and the
// same result on one thread and two.
TEST(QuantizedMatmulInt8x, PrefillMatchesRoundedX) {
  for (int bits : {4, 8})
    for (int gs : {32, 64, 128})
      for (int64_t N : {1, 33, 70})
        for (int64_t M : {17, 19, 66})
          for (DType dt : {float32, bfloat16, float16}) {
            SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs) + " N " + std::to_string(N) +
                         " M " + std::to_string(M) + " scales " + std::string(dtype_name(dt)));
            const int64_t K = 3 * 128;
            const QuantizedTensor q = quantized_random({N, K}, gs, bits, static_cast<uint64_t>(N + M), dt);
            expect_int8x_close(randn({M, K}) * 3.0, q, true, gs, bits);
          }
  const QuantizedTensor q = quantized_random({40, 256}, 64, 4, 9);
  Tensor x = randn({21, 256});
  x[0].fill_(0.0);                           // d = 0 everywhere: zeros
  x[1].narrow(0, 32, 32).fill_(1e-30);       // a block far below the others
  x[2].narrow(0, 64, 64).fill_(1e-44);       // d underflows: that block becomes zeros
  x[3].narrow(0, 0, 32).mul_(1e30);          // a huge block
  x[17][3].fill_(std::numeric_limits<double>::infinity());
  x[18][7].fill_(std::numeric_limits<double>::quiet_NaN());
  const int n = get_num_threads();
  set_num_threads(1);
  const Tensor one = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  set_num_threads(2);
  const Tensor two = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  set_num_threads(n);
  EXPECT_TENSOR_EQ(one, two);
  EXPECT_TRUE(one[17].isnan().all().item<bool>());
  EXPECT_TRUE(one[18].isnan().all().item<bool>());
  EXPECT_TRUE(one.narrow(0, 0, 17).isfinite().all().item<bool>());
  expect_int8x_close(cat({x.narrow(0, 0, 17), x.narrow(0, 19, 2)}), q, true, 64, 4);
  // A transposed (non-contiguous) x and one broadcast along its rows take the same path.
  expect_int8x_close(randn({256, 30}).t(), q, true, 64, 4);
  expect_int8x_close(randn({1, 256}).expand({20, 256}), q, true, 64, 4);
}

// Every other path rounds x the same way: other bit widths, the prefill shape (more than 16
// rows), !transpose (K not a multiple of 32: a short last block), float64, batched x.
TEST(QuantizedMatmulInt8x, EveryPathRoundsXTheSameWay) {
  for (int bits : {2, 3, 5, 6})
    expect_int8x_close(randn({3, 128}), quantized_random({10, 128}, 64, bits, 1), true, 64, bits);
  for (int bits : {4, 8}) {
    expect_int8x_close(randn({40, 256}), quantized_random({24, 256}, 64, bits, 2), true, 64, bits);
    expect_int8x_close(randn({4, 50}), quantized_random({50, 64}, 32, bits, 3), false, 32, bits);
  }
  expect_int8x_close(randn({3, 128}, float64), quantized_random({12, 128}, 32, 4, 4, float64), true, 32, 4, 1e-12);
  const QuantizedTensor q = quantized_random({12, 128}, 64, 4, 5);
  const Tensor x = randn({2, 3, 128});
  EXPECT_TENSOR_CLOSE(quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4, kInt8)[1],
                      quantized_matmul(x[1], q.weight, q.scales, q.biases, true, 64, 4, kInt8), 1e-6, 1e-6);
}

// The mode is really on: where the x̂ product and the float one differ by more than the tolerance,
// the result is x̂'s (a kernel that ignored the mode would fail expect_int8x_close).
TEST(QuantizedMatmulInt8x, DiffersFromFloatActivationsByTheRounding) {
  const QuantizedTensor q = quantized_random({64, 256}, 64, 4, 6);
  const Tensor x = randn({1, 256});
  const Tensor f = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  const Tensor i = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  const double diff = (f - i).abs().max().item<double>(), scale = f.abs().max().item<double>();
  EXPECT_GT(diff, 1e-4 * scale);  // the rounding shows
  EXPECT_LT(diff, 2e-2 * scale);  // and stays small: each x̂ within d/2 of x
  expect_int8x_close(x, q, true, 64, 4);
}

// Zero blocks, a block far below the others, and rows with inf or NaN (a NaN row, the others
// untouched); the results do not depend on the thread count.
TEST(QuantizedMatmulInt8x, ZeroTinyAndNonFiniteRows) {
  const QuantizedTensor q = quantized_random({16, 128}, 32, 4, 7);
  Tensor x = randn({4, 128});
  x[0].fill_(0.0);
  x[1].narrow(0, 32, 32).fill_(1e-30);
  expect_int8x_close(x, q, true, 32, 4);
  x[2][5].fill_(std::numeric_limits<double>::infinity());
  x[3][100].fill_(std::numeric_limits<double>::quiet_NaN());
  const Tensor y = quantized_matmul(x, q.weight, q.scales, q.biases, true, 32, 4, kInt8);
  EXPECT_TRUE(y[2].isnan().all().item<bool>());
  EXPECT_TRUE(y[3].isnan().all().item<bool>());
  EXPECT_TRUE(y.narrow(0, 0, 2).isfinite().all().item<bool>());
  const int n = get_num_threads();
  set_num_threads(1);
  const Tensor one = quantized_matmul(x.narrow(0, 0, 2), q.weight, q.scales, q.biases, true, 32, 4, kInt8);
  set_num_threads(2);
  const Tensor two = quantized_matmul(x.narrow(0, 0, 2), q.weight, q.scales, q.biases, true, 32, 4, kInt8);
  set_num_threads(n);
  EXPECT_TENSOR_EQ(one, two);
}

// No gradient through the rounding: a backward that needs x's gradient throws; without grad the
// forward runs as usual, and in a lazy graph it records the mode.
TEST(QuantizedMatmulInt8x, NoGradientWithRespectToX) {
  const QuantizedTensor q = quantized_random({8, 64}, 64, 4, 8);
  Tensor x = randn({2, 64}).requires_grad_();
  Tensor y = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  EXPECT_THROW_MSG(y.sum().backward(), AutogradError, "no gradient with respect to x with int8 activations");
  {
    NoGradGuard no_grad;
    expect_int8x_close(x.detach(), q, true, 64, 4);
  }
  const Tensor eager = quantized_matmul(x.detach(), q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  Tensor lazy_y;
  {
    LazyGuard lazy_mode;
    lazy_y = quantized_matmul(x.detach(), q.weight, q.scales, q.biases, true, 64, 4, kInt8);
  }
  EXPECT_TENSOR_EQ(lazy_y, eager);
}

TEST(QuantizedMatmulInt8x, UnknownPrecisionIsAnError) {
  const QuantizedTensor q = quantized_random({8, 64}, 64, 4, 9);
  EXPECT_THROW_MSG(quantized_matmul(randn({1, 64}), q.weight, q.scales, q.biases, true, 64, 4,
                                    static_cast<ActivationPrecision>(7)),
                   ValueError, "unknown ActivationPrecision 7");
}

// Transforms: vmap over rows of x gives the batched call's values (x is rounded per row, so a row
// does not depend on the others); jvp, which needs x's derivative, throws as backward does.
TEST(QuantizedMatmulInt8x, VmapMatchesTheBatchedCallAndJvpThrows) {
  const QuantizedTensor q = quantized_random({16, 128}, 64, 4, 10);
  const Tensor x = randn({5, 128});
  auto f = [&](const Tensors& in) {
    return Tensors{quantized_matmul(in[0], q.weight, q.scales, q.biases, true, 64, 4, kInt8)};
  };
  EXPECT_TENSOR_CLOSE(vmap(f)({x})[0], f({x})[0], 1e-6, 1e-6);
  EXPECT_THROW_MSG(jvp(f, {x}, {ones_like(x)}), AutogradError, "int8 activations");
}
