// bfloat16 matmul, exercised at the edges of the packed GEMM's blocking (micro-tile 6 x 64 on
// AVX512_BF16 CPUs, 8 x 32 / 6 x 16 / 4 x 8 on the float32 kernels, K blocks of 1024 and 256).
//
// Inputs are small integers, so every product and every float32 partial sum is exact and the
// only rounding is the final one to bfloat16: the result must equal the float64 product rounded
// to bfloat16 bit for bit, whatever order a kernel sums in. A packing or indexing mistake cannot
// hide inside a tolerance.
//
// ctest also runs this file under RICCI_CPU_ISA=avx512, avx2 and portable (those this CPU
// supports), so each kernel this machine can run is checked, not only the one it would pick.
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace ricci;

namespace {

// Integers in [-2, 2] as bfloat16.
Tensor small_ints(std::vector<int64_t> shape) { return randint(-2, 3, shape, int64).to(bfloat16); }

Tensor exact_product(const Tensor& a, const Tensor& b) { return matmul(a.to(float64), b.to(float64)).to(bfloat16); }

// Integers in [-2, 2] of a 16-bit dtype, and the float64 product rounded once to that dtype.
Tensor small_ints_as(std::vector<int64_t> shape, DType dtype) { return randint(-2, 3, shape, int64).to(dtype); }
Tensor exact_product_as(const Tensor& a, const Tensor& b, DType dtype) {
  return matmul(a.to(float64), b.to(float64)).to(dtype);
}

}  // namespace

TEST(MatmulBf16, EdgeTilesAndKBlocksAreExact) {
  manual_seed(11);
  // M around the 6-row tile and the 96-row task; N around 64 and 128; K odd and even, across the
  // 1024-element block (single pass, exactly one block, a workspace pass, an odd remainder).
  // With B transposed: 4 x 6 dot tiles, 64 x 48 tasks, 32-element steps, 4096-element K blocks.
  for (int64_t M : {1, 5, 6, 7, 97})
    for (int64_t N : {1, 63, 64, 65, 130})
      for (int64_t K : {1, 2, 3, 255, 1024, 1025, 2050, 4097}) {
        Tensor a = small_ints({M, K}), b = small_ints({K, N});
        const Tensor want = exact_product(a, b);
        EXPECT_TENSOR_EQ(matmul(a, b), want) << "M=" << M << " N=" << N << " K=" << K;
        // The same B stored transposed, as a linear layer's weight: the row-dot-product kernel.
        const Tensor b_t = b.t().contiguous().t();
        EXPECT_TENSOR_EQ(matmul(a, b_t), want) << "B transposed, M=" << M << " N=" << N << " K=" << K;
      }
}

TEST(MatmulBf16, LayoutsEveryPackingPathIsExact) {
  manual_seed(12);
  const int64_t M = 37, N = 75, K = 1091;
  Tensor a = small_ints({M, K}), b = small_ints({K, N});
  Tensor want = exact_product(a, b);
  Tensor at = small_ints({K, M}).t(), bt = small_ints({N, K}).t();  // column-major operands
  at.copy_(a);
  bt.copy_(b);
  EXPECT_EQ(at.stride(0), 1);
  EXPECT_EQ(bt.stride(0), 1);
  EXPECT_TENSOR_EQ(matmul(at, b), want);
  EXPECT_TENSOR_EQ(matmul(a, bt), want);
  EXPECT_TENSOR_EQ(matmul(at, bt), want);
  // Step slices: neither stride is 1, so the generic packing runs.
  Tensor as = small_ints({M, 2 * K}).slice(1, 0, 2 * K, 2), bs = small_ints({2 * K, 3 * N}).slice(0, 0, 2 * K, 2);
  bs = bs.slice(1, 0, 3 * N, 3);
  as.copy_(a);
  bs.copy_(b);
  EXPECT_TENSOR_EQ(matmul(as, bs), want);
  // Expanded operands: a row and a column repeated through stride 0.
  Tensor row = small_ints({1, K}).expand({M, K}), col = small_ints({K, 1}).expand({K, N});
  EXPECT_TENSOR_EQ(matmul(row, col), exact_product(row.contiguous(), col.contiguous()));
}

TEST(MatmulBf16, AlphaBetaAndBatches) {
  manual_seed(13);
  Tensor c = small_ints({70, 66}), a = small_ints({70, 1030}), b = small_ints({1030, 66});
  Tensor want = (matmul(a.to(float64), b.to(float64)) * 2.0 + c.to(float64) * 0.5).to(bfloat16);
  EXPECT_TENSOR_EQ(addmm(c, a, b, /*beta=*/0.5, /*alpha=*/2.0), want);
  // Batched with a broadcast batch dim: each matrix runs serially inside the batch loop.
  Tensor x = small_ints({3, 1, 13, 300}), y = small_ints({4, 300, 70});
  EXPECT_TENSOR_EQ(matmul(x, y), matmul(x.to(float64), y.to(float64)).to(bfloat16));
}

TEST(MatmulBf16, RandomValuesWithinOneRounding) {
  manual_seed(14);
  Tensor a = randn({129, 2100}).to(bfloat16), b = randn({2100, 200}).to(bfloat16);
  // float32 accumulation of 2100 products, then one rounding to bfloat16 (2^-8 relative).
  EXPECT_TENSOR_CLOSE(matmul(a, b), matmul(a.to(float64), b.to(float64)), 1.0 / 256, 1e-3);
}

TEST(MatmulBf16, NanAndInfPropagate) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  Tensor a = ones({8, 70}, bfloat16), b = ones({70, 80}, bfloat16);
  a.index_put_({3, 5}, nan);
  b.index_put_({0, 2}, inf);
  const std::vector<double> out = ricci::testing::values(matmul(a, b));
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < 80; ++j) {
      const double v = out[static_cast<size_t>(i * 80 + j)];
      if (i == 3) EXPECT_TRUE(std::isnan(v)) << i << "," << j;
      else if (j == 2) EXPECT_EQ(v, inf) << i << "," << j;
      else EXPECT_EQ(v, 70.0) << i << "," << j;
    }
}

// Decoding through a linear layer, x @ W^T with few rows of x: on AVX2 CPUs the row-dot-product
// kernel (gemm_dot_nt_avx2.cpp, register tiles 4 x 2, 3 x 3, 2 x 4, 1 x 8 over tasks of 24 rows
// of W, 16-element steps, K blocks of 24 KiB of float32 A, at least 256; groups of 32 rows up to
// 128). Every row count of one group (1..32), the group edges, and the first row count left to
// the packed GEMM (129); N around the tiles and the task; K around a step, a block and the
// zero-padded tail.
TEST(MatmulBf16, DecodeRowsEveryMExact) {
  manual_seed(15);
  std::vector<int64_t> rows;
  for (int64_t M = 1; M <= 33; ++M) rows.push_back(M);
  for (int64_t M : {63, 64, 65, 127, 128, 129}) rows.push_back(M);
  for (DType dtype : {bfloat16, float16})
    for (int64_t M : rows)
      for (int64_t N : {1, 8, 23, 25, 49})
        for (int64_t K : {1, 15, 17, 300, 1537}) {
          Tensor x = small_ints_as({M, K}, dtype), w = small_ints_as({N, K}, dtype);
          EXPECT_TENSOR_EQ(matmul(x, w.t()), exact_product_as(x, w.t(), dtype))
              << dtype << " M=" << M << " N=" << N << " K=" << K;
        }
}

TEST(MatmulBf16, DecodeRowsLongKExact) {
  manual_seed(16);
  // One row: a single K block up to 6144 (W's rows stream end to end), several beyond. Four rows:
  // blocks of 1536. Sixteen: 384.
  for (DType dtype : {bfloat16, float16})
    for (int64_t M : {1, 4, 16})
      for (int64_t K : {6144, 6161, 1536 * 2 + 7}) {
        Tensor x = small_ints_as({M, K}, dtype), w = small_ints_as({50, K}, dtype);
        EXPECT_TENSOR_EQ(matmul(x, w.t()), exact_product_as(x, w.t(), dtype)) << dtype << " M=" << M << " K=" << K;
      }
}

TEST(MatmulBf16, DecodeRowsLayoutsExact) {
  manual_seed(17);
  for (DType dtype : {bfloat16, float16}) {
    const int64_t M = 6, N = 27, K = 301;
    Tensor x = small_ints_as({M, K}, dtype), w = small_ints_as({N, K}, dtype);
    const Tensor want = exact_product_as(x, w.t(), dtype);
    // x transposed in memory (column-major) and step-sliced: converted element by element.
    Tensor xt = small_ints_as({K, M}, dtype).t();
    xt.copy_(x);
    EXPECT_TENSOR_EQ(matmul(xt, w.t()), want) << dtype;
    Tensor xs = small_ints_as({M, 3 * K}, dtype).slice(1, 0, 3 * K, 3);
    xs.copy_(x);
    EXPECT_TENSOR_EQ(matmul(xs, w.t()), want) << dtype;
    // W a column slice of a wider matrix: rows contiguous along K, row stride > K.
    Tensor wide = small_ints_as({N, K + 13}, dtype);
    Tensor ws = wide.slice(1, 5, 5 + K);
    ws.copy_(w);
    EXPECT_TENSOR_EQ(matmul(x, ws.t()), want) << dtype;
    // A batch of decodes (3-D x), and a single vector x @ W^T.
    Tensor xb = small_ints_as({2, 3, K}, dtype);
    EXPECT_TENSOR_EQ(matmul(xb, w.t()), exact_product_as(xb, w.t(), dtype)) << dtype;
    Tensor v = small_ints_as({K}, dtype);
    EXPECT_TENSOR_EQ(matmul(v, w.t()), exact_product_as(v, w.t(), dtype)) << dtype;
    // Matrix times vector, W @ v (few columns of B): the same kernel on the transposed problem.
    EXPECT_TENSOR_EQ(mv(w, v), exact_product_as(w, v, dtype)) << dtype;
    EXPECT_TENSOR_EQ(matmul(w, x.t()), exact_product_as(w, x.t(), dtype)) << dtype;
  }
}

TEST(MatmulBf16, DecodeRowsAlphaBetaNanInf) {
  manual_seed(18);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (DType dtype : {bfloat16, float16}) {
    Tensor c = small_ints_as({5, 30}, dtype), x = small_ints_as({5, 70}, dtype), w = small_ints_as({30, 70}, dtype);
    Tensor want = (matmul(x.to(float64), w.t().to(float64)) * 2.0 + c.to(float64) * 0.5).to(dtype);
    EXPECT_TENSOR_EQ(addmm(c, x, w.t(), /*beta=*/0.5, /*alpha=*/2.0), want) << dtype;
    // beta = 0 ignores the old contents, NaN included.
    Tensor c_nan = full({5, 30}, nan, TensorOptions(dtype));
    EXPECT_TENSOR_EQ(addmm(c_nan, x, w.t(), /*beta=*/0.0, /*alpha=*/1.0), exact_product_as(x, w.t(), dtype)) << dtype;

    Tensor a = ones({3, 70}, dtype), b = ones({40, 70}, dtype);
    a.index_put_({1, 69}, nan);  // in the zero-padded tail step
    b.index_put_({33, 0}, inf);
    const std::vector<double> out = ricci::testing::values(matmul(a, b.t()));
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 40; ++j) {
        const double v = out[static_cast<size_t>(i * 40 + j)];
        if (i == 1) EXPECT_TRUE(std::isnan(v)) << dtype << " " << i << "," << j;
        else if (j == 33) EXPECT_EQ(v, inf) << dtype << " " << i << "," << j;
        else EXPECT_EQ(v, 70.0) << dtype << " " << i << "," << j;
      }
  }
}
