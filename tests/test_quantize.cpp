// quantize, dequantize and quantized_matmul (include/ricci/quantize.h): MLX's layout and numbers
// (tests/data/quantize_golden.safetensors, made by tests/data/make_quantize_golden.py), the
// round-trip bound, the product against dequantize-then-matmul on every layout, batching and
// dtype, the gradient, and every error. ctest also runs this file under RICCI_CPU_ISA=portable
// (and avx2 where AVX-512 exists), so each kernel is checked.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "test_util.h"

using namespace ricci;
using ricci::testing::data_path;
using ricci::testing::values;

namespace {

const int kBits[] = {2, 3, 4, 5, 6, 8};
const int kGroups[] = {32, 64, 128};

// The reference: dequantize, then an ordinary float64 product.
Tensor reference(const Tensor& x, const QuantizedTensor& q, bool transpose, int gs, int bits) {
  Tensor w = dequantize(q.weight, q.scales.to(float64), q.biases.to(float64), gs, bits);
  return matmul(x.to(float64), transpose ? w.mT() : w);
}

QuantizedTensor quantized_random(Dims shape, int gs, int bits, uint64_t seed, DType dt = float32) {
  manual_seed(seed);
  return quantize(randn(shape, dt), gs, bits);
}

}  // namespace

TEST(Quantize, MatchesMlxBitForBit) {
  SafetensorsFile f = load_safetensors(data_path("quantize_golden.safetensors"));
  const Tensor w = f.get("w"), x = f.get("x"), wt = f.get("wt"), xt = f.get("xt");
  for (int bits : kBits)
    for (int gs : kGroups) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs));
      const std::string k = "b" + std::to_string(bits) + "_g" + std::to_string(gs);
      QuantizedTensor q = quantize(w, gs, bits);
      EXPECT_TENSOR_EQ(q.weight, f.get(k + ".weight"));
      EXPECT_TENSOR_EQ(q.scales, f.get(k + ".scales"));
      EXPECT_TENSOR_EQ(q.biases, f.get(k + ".biases"));
      EXPECT_TENSOR_CLOSE(dequantize(q, gs, bits), f.get(k + ".deq"), 1e-6, 1e-6);
      // MLX's own codes give MLX's product.
      EXPECT_TENSOR_CLOSE(quantized_matmul(x, f.get(k + ".weight"), f.get(k + ".scales"), f.get(k + ".biases"), true,
                                           gs, bits),
                          f.get(k + ".qmm"), 1e-4, 1e-4);
      QuantizedTensor qt = quantize(wt, gs, bits);
      EXPECT_TENSOR_EQ(qt.weight, f.get(k + ".t.weight"));
      EXPECT_TENSOR_EQ(qt.scales, f.get(k + ".t.scales"));
      EXPECT_TENSOR_CLOSE(quantized_matmul(xt, qt.weight, qt.scales, qt.biases, false, gs, bits), f.get(k + ".t.qmm"),
                          1e-4, 1e-4);
    }
}

TEST(Quantize, MatchesMlxInBfloat16) {
  SafetensorsFile f = load_safetensors(data_path("quantize_golden.safetensors"));
  QuantizedTensor q = quantize(f.get("bf16.w"), 64, 4);
  EXPECT_TENSOR_EQ(q.weight, f.get("bf16.weight"));
  EXPECT_TENSOR_EQ(q.scales, f.get("bf16.scales"));
  EXPECT_TENSOR_EQ(q.biases, f.get("bf16.biases"));
  // MLX rounds s * q and then + b to bfloat16; ricci rounds once: a few bfloat16 ulps apart.
  EXPECT_TENSOR_CLOSE(dequantize(q, 64, 4), f.get("bf16.deq"), 3e-2, 3e-2);
  EXPECT_EQ(q.scales.dtype(), bfloat16);
}

// MLX puts the bias (the group's edge of larger magnitude) exactly on the grid by nudging the
// step to edge / round(edge / step), so the grid's span, n * |s| (n = 2^bits - 1), can fall short
// of the group's range by up to range / (n + 1): elements past the span are clamped to the last
// code. Every element inside the span is within half a step; the clamped ones within one step.
// (With MLX's codes the half-step bound does not hold for every element: MLX itself exceeds it
// in about a quarter of the groups at 4 bits, up to 0.999 of a step.)
TEST(Quantize, RoundTripWithinHalfAStepInsideTheGrid) {
  for (int bits : kBits)
    for (int gs : kGroups) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs));
      manual_seed(static_cast<uint64_t>(bits * 1000 + gs));
      const Tensor w = randn({2, 5, 256}).mul(3.0);
      QuantizedTensor q = quantize(w, gs, bits);
      ASSERT_EQ(q.weight.shape(), (Dims{2, 5, 256 * bits / 32}));
      ASSERT_EQ(q.scales.shape(), (Dims{2, 5, 256 / gs}));
      const auto wv = values(w), dv = values(dequantize(q, gs, bits)), sv = values(q.scales), bv = values(q.biases);
      const double n = (1 << bits) - 1;
      int64_t inside = 0;
      for (size_t i = 0; i < wv.size(); ++i) {
        const size_t g = i / static_cast<size_t>(gs);
        const double s = sv[g], b = bv[g], lo = std::min(b, b + n * s), hi = std::max(b, b + n * s);
        const double err = std::abs(wv[i] - dv[i]), slack = 1e-5 * std::abs(wv[i]) + 1e-6;
        if (wv[i] >= lo && wv[i] <= hi) {
          ++inside;
          ASSERT_LE(err, 0.5 * std::abs(s) + slack) << "element " << i << " inside the grid";
        } else {
          ASSERT_LE(err, std::abs(s) + slack) << "element " << i << " past the grid";
        }
      }
      EXPECT_GT(inside, static_cast<int64_t>(wv.size()) * 3 / 4);
    }
}

TEST(Quantize, AnyLayoutAndDtype) {
  manual_seed(3);
  const Tensor w = randn({64, 12});
  EXPECT_TENSOR_EQ(quantize(w.T(), 32, 4).weight, quantize(w.T().contiguous(), 32, 4).weight);
  for (DType dt : {float16, bfloat16, float64}) {
    QuantizedTensor q = quantize(w.T().to(dt), 64, 8);
    EXPECT_EQ(q.scales.dtype(), dt);
    EXPECT_EQ(q.weight.dtype(), int32);
    EXPECT_TENSOR_CLOSE(dequantize(q, 64, 8), w.T().to(dt), 0.0, 0.05);
  }
}

TEST(Quantize, ConstantAndNonFiniteGroupsDoNotCrash) {
  const Tensor z = zeros({2, 32});
  EXPECT_TENSOR_EQ(dequantize(quantize(z, 32, 4), 32, 4), z);
  const Tensor c = full({1, 32}, 0.75);
  EXPECT_TENSOR_CLOSE(dequantize(quantize(c, 32, 3), 32, 3), c, 1e-6, 0.0);
  std::vector<float> nv(64, 1.0f);
  nv[5] = NAN;
  const Tensor n = from_vector(nv, {1, 64});
  // As in MLX: min and max skip the NaN, whose code is 0 (the group's bias); nothing is read or
  // written out of bounds, and the other group is exact.
  QuantizedTensor q = quantize(n, 32, 4);
  const auto d = values(dequantize(q, 32, 4));
  EXPECT_DOUBLE_EQ(d[5], values(q.biases)[0]);
  EXPECT_DOUBLE_EQ(d[40], 1.0);
  std::vector<float> iv(32, 1.0f);
  iv[0] = INFINITY;
  (void)dequantize(quantize(from_vector(iv, {1, 32}), 32, 4), 32, 4);
}

TEST(Quantize, EmptyMatrices) {
  QuantizedTensor q = quantize(zeros({0, 64}), 64, 4);
  EXPECT_EQ(q.weight.shape(), (Dims{0, 8}));
  EXPECT_EQ(quantized_matmul(zeros({3, 64}), q.weight, q.scales, q.biases, true, 64, 4).shape(), (Dims{3, 0}));
  QuantizedTensor k0 = quantize(zeros({4, 0}), 32, 4);
  EXPECT_TENSOR_EQ(quantized_matmul(zeros({3, 0}), k0.weight, k0.scales, k0.biases, true, 32, 4), zeros({3, 4}));
  QuantizedTensor w = quantized_random({5, 64}, 64, 4, 1);
  EXPECT_EQ(quantized_matmul(zeros({0, 64}), w.weight, w.scales, w.biases, true, 64, 4).shape(), (Dims{0, 5}));
}

// Every bit width and group size, decode (1-32 rows; portable: 1-8) and prefill shapes, both orientations.
TEST(QuantizedMatmul, MatchesDequantizeThenMatmul) {
  for (int bits : kBits)
    for (int gs : kGroups)
      for (int64_t M : {1, 2, 5, 8, 9, 32, 33, 40}) {
        SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs) + " rows " + std::to_string(M));
        QuantizedTensor q = quantized_random({37, 256}, gs, bits, static_cast<uint64_t>(bits + gs));
        const Tensor x = randn({M, 256});
        EXPECT_TENSOR_CLOSE(quantized_matmul(x, q.weight, q.scales, q.biases, true, gs, bits),
                            reference(x, q, true, gs, bits), 1e-4, 1e-3);
        QuantizedTensor t = quantized_random({24, 256}, gs, bits, static_cast<uint64_t>(bits * gs));
        const Tensor xt = randn({M, 24});
        EXPECT_TENSOR_CLOSE(quantized_matmul(xt, t.weight, t.scales, t.biases, false, gs, bits),
                            reference(xt, t, false, gs, bits), 1e-4, 1e-3);
      }
}

TEST(QuantizedMatmul, NonContiguousBatchedAndBroadcastX) {
  QuantizedTensor q = quantized_random({40, 128}, 64, 4, 7);
  const Tensor base = randn({128, 6});
  const Tensor xs[] = {base.T(),                                   // transposed
                       randn({3, 256}).slice(1, 0, 256, 2),         // step-sliced
                       randn({2, 3, 128}),                          // batched
                       randn({1, 128}).expand({4, 128}),            // broadcast rows
                       randn({128})};                               // a vector
  for (const Tensor& x : xs)
    for (int bits : {4, 8, 3}) {
      QuantizedTensor qb = quantized_random({40, 128}, 64, bits, 8);
      EXPECT_TENSOR_CLOSE(quantized_matmul(x, qb.weight, qb.scales, qb.biases, true, 64, bits),
                          reference(x, qb, true, 64, bits), 1e-4, 1e-3);
    }
  // Batched weights broadcast against x's batch dims.
  QuantizedTensor qb = quantized_random({3, 1, 16, 64}, 32, 4, 9);
  const Tensor x = randn({2, 5, 64});
  const Tensor out = quantized_matmul(x, qb.weight, qb.scales, qb.biases, true, 32, 4);
  EXPECT_EQ(out.shape(), (Dims{3, 2, 5, 16}));
  EXPECT_TENSOR_CLOSE(out, reference(x, qb, true, 32, 4), 1e-4, 1e-3);
  const Tensor xt = randn({5, 16});
  EXPECT_TENSOR_CLOSE(quantized_matmul(xt, qb.weight, qb.scales, qb.biases, false, 32, 4),
                      reference(xt, qb, false, 32, 4), 1e-4, 1e-3);
}

TEST(QuantizedMatmul, Dtypes) {
  QuantizedTensor q = quantized_random({24, 128}, 64, 4, 11);
  const Tensor x = randn({3, 128});
  for (DType dt : {float16, bfloat16}) {
    const Tensor y = quantized_matmul(x.to(dt), q.weight, q.scales, q.biases, true, 64, 4);
    EXPECT_EQ(y.dtype(), float32);  // promote_types(x, scales)
    EXPECT_TENSOR_CLOSE(y, reference(x.to(dt), q, true, 64, 4), 1e-3, 1e-3);
    QuantizedTensor qd{q.weight, q.scales.to(dt), q.biases.to(dt)};
    const Tensor yd = quantized_matmul(x.to(dt), qd.weight, qd.scales, qd.biases, true, 64, 4);
    EXPECT_EQ(yd.dtype(), dt);
    EXPECT_TENSOR_CLOSE(yd, reference(x.to(dt), qd, true, 64, 4), 2e-2, 5e-2);
    const Tensor big = randn({40, 128}).to(dt);  // the prefill path with 16-bit scales
    EXPECT_TENSOR_CLOSE(quantized_matmul(big, qd.weight, qd.scales, qd.biases, true, 64, 4),
                        reference(big, qd, true, 64, 4), 2e-2, 5e-2);
  }
  const Tensor y64 = quantized_matmul(x.to(float64), q.weight, q.scales, q.biases, true, 64, 4);
  EXPECT_EQ(y64.dtype(), float64);
  EXPECT_TENSOR_CLOSE(y64, reference(x, q, true, 64, 4), 1e-12, 1e-12);
}

TEST(QuantizedMatmul, ResultDoesNotDependOnThreads) {
  QuantizedTensor q = quantized_random({300, 512}, 64, 4, 12);
  const Tensor x = randn({3, 512});
  const int n = get_num_threads();
  set_num_threads(1);
  const Tensor one = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  set_num_threads(std::max(2, n));
  const Tensor many = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  set_num_threads(n);
  EXPECT_TENSOR_EQ(one, many);
}

// The decode kernels (1-16 rows of x, 4 and 8 bits) against the float64 product, to float32
// rounding: |y - ref| within 1e-5 of Σ |x| (|s| q + |b|) (an element's code or scale wrong by one
// step is ~1e-3 of it). Shapes cover a group count that is odd with 4 bits in groups of 32 (half a
// 32-byte chunk at the end), rows not a multiple of the kernel's 8 or its pairs, and 16-bit scales.
void expect_decode_close(const Tensor& x, const QuantizedTensor& q, int gs, int bits, double rtol = 1e-5,
                         double atol = 0) {
  const Tensor y = quantized_matmul(x, q.weight, q.scales, q.biases, true, gs, bits);
  const std::vector<double> got = values(y), want = values(reference(x, q, true, gs, bits));
  // Σ |x| (|s| q + |b|): the kernels sum s Σ x q and b Σ x apart, which cancel where w ≈ 0.
  const Tensor wmag = dequantize(q.weight, q.scales.to(float64).abs(), q.biases.to(float64).abs(), gs, bits);
  const std::vector<double> mag = values(matmul(x.to(float64).abs(), wmag.mT()));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), rtol * mag[i] + atol)
        << "element " << i << ": " << got[i] << " vs " << want[i];
}

TEST(QuantizedMatmul, DecodeKernelToFloat32Rounding) {
  for (int bits : {4, 8})
    for (int gs : kGroups)
      for (int64_t groups : {1, 3, 6, 17})
        for (int64_t N : {1, 7, 9, 18})
          for (int64_t M : {1, 3, 16})
            for (DType dt : {float32, bfloat16, float16}) {
              SCOPED_TRACE("bits " + std::to_string(bits) + " group " + std::to_string(gs) + " groups " +
                           std::to_string(groups) + " N " + std::to_string(N) + " M " + std::to_string(M) +
                           " scales " + std::string(dtype_name(dt)));
              // Scales and biases in dt; x float32, so the result is float32 (the decode kernels).
              QuantizedTensor q = quantized_random({N, groups * gs}, gs, bits, static_cast<uint64_t>(N + groups), dt);
              expect_decode_close(randn({M, groups * gs}), q, gs, bits);
            }
}

// The decode kernels' tiles split over threads: row counts that leave the last tile short, on one
// and two threads (1001 rows: two runs of tiles), each output against the float64 product and the
// same on either thread count.
TEST(QuantizedMatmul, DecodeKernelRowsOverThreads) {
  const int n = get_num_threads();
  for (int bits : {4, 8})
    for (int64_t N : {63, 250, 1001}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " N " + std::to_string(N));
      QuantizedTensor q = quantized_random({N, 128}, 32, bits, static_cast<uint64_t>(N + bits));
      const Tensor x = randn({2, 128});
      set_num_threads(1);
      const Tensor one = quantized_matmul(x, q.weight, q.scales, q.biases, true, 32, bits);
      expect_decode_close(x, q, 32, bits);
      set_num_threads(2);
      const Tensor two = quantized_matmul(x, q.weight, q.scales, q.biases, true, 32, bits);
      expect_decode_close(x, q, 32, bits);
      set_num_threads(n);
      EXPECT_TENSOR_EQ(one, two);
    }
}

TEST(QuantizedMatmul, DecodeKernelExtremeAndNonFiniteX) {
  for (int bits : {4, 8}) {
    SCOPED_TRACE("bits " + std::to_string(bits));
    QuantizedTensor q = quantized_random({10, 256}, 64, bits, 21);
    const Tensor x = randn({2, 256});
    // Tiny (subnormal elements), huge, and one element far above the others.
    expect_decode_close(x * 1e-38, q, 64, bits, 1e-5, 1e-43);
    expect_decode_close(x * 1e-30, q, 64, bits);
    expect_decode_close(x * 1e34, q, 64, bits);
    Tensor spread = x.clone();
    spread.index_put_({0, 3}, 1e30);
    spread.index_put_({1, 200}, -3e-20);
    expect_decode_close(spread, q, 64, bits);
    EXPECT_TENSOR_EQ(quantized_matmul(zeros({2, 256}), q.weight, q.scales, q.biases, true, 64, bits), zeros({2, 10}));
    // inf or NaN in a row of x makes every output of that row non-finite, and only that row.
    for (double bad : {INFINITY, NAN}) {
      Tensor xb = x.clone();
      xb.index_put_({1, 77}, bad);
      const std::vector<double> y = values(quantized_matmul(xb, q.weight, q.scales, q.biases, true, 64, bits));
      for (int j = 0; j < 10; ++j) {
        EXPECT_TRUE(std::isfinite(y[static_cast<size_t>(j)])) << j;
        EXPECT_FALSE(std::isfinite(y[static_cast<size_t>(10 + j)])) << j;
      }
    }
  }
}

#if defined(__x86_64__)
// The AVX2 kernel may read codes as float32 subnormals (src/quant/qmv_avx2.cpp, Note [Codes read
// in place]): with denormals-are-zero set by the caller the result must not change.
TEST(QuantizedMatmul, DecodeKernelUnderDenormalsAreZero) {
  QuantizedTensor q = quantized_random({24, 512}, 64, 4, 22);
  QuantizedTensor q8 = quantized_random({24, 512}, 32, 8, 23);
  const Tensor x = randn({2, 512});
  const int n = get_num_threads();
  set_num_threads(1);  // the kernel runs on this thread, under this thread's MXCSR
  const Tensor plain = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  const Tensor plain8 = quantized_matmul(x, q8.weight, q8.scales, q8.biases, true, 32, 8);
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(csr | 0x8040);  // DAZ and FTZ
  const Tensor daz = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  const Tensor daz8 = quantized_matmul(x, q8.weight, q8.scales, q8.biases, true, 32, 8);
  const unsigned after = _mm_getcsr();
  _mm_setcsr(csr);
  set_num_threads(n);
  EXPECT_EQ(after, csr | 0x8040);  // restored
  EXPECT_TENSOR_EQ(daz, plain);
  EXPECT_TENSOR_EQ(daz8, plain8);
}
#endif

#if defined(__linux__)
// Both forms of the AVX2 kernel (codes converted, or read as subnormals: only one is picked on a
// given CPU) run here: this binary again, once per form (RICCI_QMV_CODES).
TEST(QuantizedMatmul, DecodeKernelBothCodeForms) {
  if (std::getenv("RICCI_QMV_CODES") != nullptr) GTEST_SKIP() << "a child run";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  for (const char* form : {"convert", "subnormal"}) {
    const std::string cmd = std::string("RICCI_QMV_CODES=") + form + " '" + self +
                            "' --gtest_brief=1 --gtest_filter='QuantizedMatmul.Decode*:QuantizedMatmul.Matches*:"
                            "QuantizedMatmul.NonContiguous*:QuantizedMatmul.Dtypes:QuantizedMatmul.ResultDoes*'"
                            " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
}
#endif

TEST(QuantizedMatmul, GradientWithRespectToX) {
  manual_seed(13);
  for (bool transpose : {true, false})
    for (int bits : {4, 8, 3}) {
      QuantizedTensor q = quantize(randn({2, 32, 64}, float64), 32, bits);  // batched weights
      const Dims xs = transpose ? Dims{3, 64} : Dims{3, 32};
      Tensor x = randn(xs, float64).requires_grad_();
      EXPECT_TRUE(autograd::gradcheck(
          [&](const autograd::Tensors& in) {
            return autograd::Tensors{quantized_matmul(in[0], q.weight, q.scales, q.biases, transpose, 32, bits)};
          },
          {x}));
    }
  // 2-D weights, x batched; float32 gradient matches the float64 one.
  QuantizedTensor q = quantized_random({16, 64}, 64, 4, 14);
  Tensor x = randn({2, 3, 64}).requires_grad_();
  quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4).sum().backward();
  EXPECT_TENSOR_CLOSE(x.grad(), dequantize(q, 64, 4).sum({0}).expand({2, 3, 64}), 1e-5, 1e-5);
}

TEST(QuantizedMatmul, NoGradientForScalesOrBiases) {
  QuantizedTensor q = quantized_random({8, 64}, 64, 4, 15);
  Tensor s = q.scales.detach().requires_grad_();
  Tensor y = quantized_matmul(randn({2, 64}), q.weight, s, q.biases, true, 64, 4);
  EXPECT_THROW_MSG(y.sum().backward(), AutogradError, "[quantized_matmul] no gradient with respect to the quantized");
}

TEST(QuantizedMatmul, Errors) {
  QuantizedTensor q = quantized_random({8, 64}, 64, 4, 16);
  const Tensor x = randn({2, 64});
  EXPECT_THROW_MSG(quantize(randn({4, 64}), 48, 4), ValueError, "[quantize] The requested group size 48");
  EXPECT_THROW_MSG(quantize(randn({4, 64}), 64, 7), ValueError, "The supported bits are 2, 3, 4, 5, 6 and 8");
  EXPECT_THROW_MSG(quantize(randn({64}), 64, 4), ShapeError, "at least 2 dimensions");
  EXPECT_THROW_MSG(quantize(randn({4, 96}), 64, 4), ShapeError, "divisible by the quantization group size 64");
  EXPECT_THROW_MSG(quantize(ones({4, 64}, int64), 64, 4), DTypeError, "Only real floating types can be quantized");
  EXPECT_THROW_MSG(quantize(Tensor(), 64, 4), Error, "quantize");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales, q.biases, true, 32, 4), ShapeError,
                   "with group_size=32 and bits=4");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 8), ShapeError, "bits=8");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 1), ValueError, "number of bits 1");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight.to(float32), q.scales, q.biases, true, 64, 4), DTypeError,
                   "expected the packed weights w as int32");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales.to(int32), q.biases, true, 64, 4), DTypeError,
                   "scales must be floating");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales, q.biases.to(float64), true, 64, 4), DTypeError,
                   "scales and biases must have the same dtype");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales, q.biases.slice(0, 0, 4), true, 64, 4), ShapeError,
                   "must have the same shape");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight, q.scales.slice(0, 0, 4), q.biases.slice(0, 0, 4), true, 64, 4),
                   ShapeError, "all but the last dim");
  EXPECT_THROW_MSG(quantized_matmul(x, q.weight.reshape({64}), q.scales, q.biases, true, 64, 4), ShapeError,
                   "at least 2-D");
  EXPECT_THROW_MSG(quantized_matmul(randn({2, 32}), q.weight, q.scales, q.biases, true, 64, 4), ShapeError,
                   "The last dimension of x (shape [2, 32]) must match the inner dimension 64");
  EXPECT_THROW_MSG(quantized_matmul(randn({2, 64}), q.weight, q.scales, q.biases, false, 64, 4), ShapeError,
                   "transpose=false");
  EXPECT_THROW_MSG(quantized_matmul(ones({2, 64}, int64), q.weight, q.scales, q.biases, true, 64, 4), DTypeError,
                   "x.dtype() == int64");
  QuantizedTensor qb = quantized_random({2, 8, 64}, 64, 4, 17);
  EXPECT_THROW_MSG(quantized_matmul(randn({64}), qb.weight, qb.scales, qb.biases, true, 64, 4), ShapeError,
                   "batched quantized weights");
  EXPECT_THROW_MSG(quantized_matmul(randn({3, 2, 64}), qb.weight, qb.scales, qb.biases, true, 64, 4), ShapeError,
                   "quantized_matmul");
  EXPECT_THROW_MSG(dequantize(q.weight, q.scales, q.biases, 128, 4), ShapeError, "[dequantize] Shape of scales");
  EXPECT_THROW_MSG(quantized_matmul(Tensor(), q.weight, q.scales, q.biases, true, 64, 4), Error, "quantized_matmul");
}

TEST(QuantizedMatmul, Lazy) {
  QuantizedTensor q = quantized_random({8, 64}, 64, 4, 18);
  const Tensor x = randn({2, 64});
  const Tensor eager = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
  Tensor lazy_out;
  {
    LazyGuard lazy;
    lazy_out = quantized_matmul(x, q.weight, q.scales, q.biases, true, 64, 4);
    EXPECT_EQ(lazy_out.shape(), (Dims{2, 8}));
    EXPECT_TRUE(is_pending(lazy_out));
  }
  EXPECT_TENSOR_EQ(lazy_out, eager);
  // quantize and dequantize are primitives too.
  const Tensor w = randn({4, 64});
  QuantizedTensor lq;
  Tensor ld;
  {
    LazyGuard lazy;
    lq = quantize(w * 2.0, 32, 3);
    ld = dequantize(lq, 32, 3);
    EXPECT_TRUE(is_pending(lq.weight));
    EXPECT_EQ(lq.scales.shape(), (Dims{4, 2}));
  }
  QuantizedTensor eq = quantize(w * 2.0, 32, 3);
  EXPECT_TENSOR_EQ(lq.weight, eq.weight);
  EXPECT_TENSOR_EQ(ld, dequantize(eq, 32, 3));
}
