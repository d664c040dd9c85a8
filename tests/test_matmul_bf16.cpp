// bfloat16 matmul, exercised at the edges of the packed GEMM's blocking (micro-tile 6 x 64 on
// AVX512_BF16 CPUs, 8 x 32 / 6 x 16 / 4 x 8 on the float32 kernels, K blocks of 1024 and 256).
//
// Inputs are small integers, so every product and every float32 partial sum is exact and the
// only rounding is the final one to bfloat16: the result must equal the float64 product rounded
// to bfloat16 bit for bit, whatever order a kernel sums in. A packing or indexing mistake cannot
// hide inside a tolerance.
//
// ctest also runs this file with RICCI_GEMM_ISA=avx512, avx2 and generic, so each kernel this
// machine can run is checked, not only the one it would pick.
#include <cmath>
#include <limits>

#include "test_util.h"

using namespace ricci;

namespace {

// Integers in [-2, 2] as bfloat16.
Tensor small_ints(std::vector<int64_t> shape) { return randint(-2, 3, shape, int64).to(bfloat16); }

Tensor exact_product(const Tensor& a, const Tensor& b) { return matmul(a.to(float64), b.to(float64)).to(bfloat16); }

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
