// The small float32 GEMM without packing (src/backend/cpu/gemm_small.cpp, Note [Small float32
// products without packing]): every (ta, tb), M, N, K over 1..70 around the register tile's edges
// (6 x 16 on AVX2, 8 x 32 on AVX-512, vectors of 8 / 16 / 4 / 1 lanes), leading dimensions past
// the minimum, alpha != 1 and beta in {0 with C full of NaN, 1, 0.5}, against a float64 reference
// within float32 rounding and against OpenBLAS; the cells of C outside the product must be left
// alone. Then attention-shaped batched products through matmul / baddbmm, forward and backward,
// with permuted views, and a check that the matmul kernel took the small path.
//
// ctest also runs this file under RICCI_CPU_ISA=avx512, avx2 and portable (those this CPU
// supports), so each of Highway's targets the machine can run is checked.
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "backend/cpu/gemm.h"
#include "test_util.h"

using namespace ricci;

namespace {

constexpr float kSentinel = 12345.0f;

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  int64_t lda_pad, ldb_pad, ldc_pad;
  float alpha, beta;
};

// Runs one case through sgemm_small and cblas_sgemm and checks both against float64.
::testing::AssertionResult check_case(const Case& c, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
  const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
  const int64_t lda = a_cols + c.lda_pad, ldb = b_cols + c.ldb_pad, ldc = c.N + c.ldc_pad;
  std::vector<float> A(static_cast<size_t>(a_rows * lda)), B(static_cast<size_t>(b_rows * ldb));
  for (float& x : A) x = dist(rng);
  for (float& x : B) x = dist(rng);
  std::vector<float> C0(static_cast<size_t>(c.M * ldc), kSentinel);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j)
      C0[static_cast<size_t>(i * ldc + j)] = c.beta == 0 ? std::numeric_limits<float>::quiet_NaN() : dist(rng);
  std::vector<float> C = C0, Cblas = C0;
  cpu::sgemm_small(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc);
  cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans, c.tb ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(c.M), static_cast<blasint>(c.N), static_cast<blasint>(c.K), c.alpha, A.data(),
              static_cast<blasint>(lda), B.data(), static_cast<blasint>(ldb), c.beta, Cblas.data(),
              static_cast<blasint>(ldc));
  const auto a = [&](int64_t i, int64_t k) {
    return static_cast<double>(A[static_cast<size_t>(c.ta ? k * lda + i : i * lda + k)]);
  };
  const auto b = [&](int64_t k, int64_t j) {
    return static_cast<double>(B[static_cast<size_t>(c.tb ? j * ldb + k : k * ldb + j)]);
  };
  const double eps = std::ldexp(1.0, -24);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      if (j >= c.N) {
        if (C[at] != kSentinel) return ::testing::AssertionFailure() << "wrote C(" << i << ", " << j << ") past N";
        continue;
      }
      double s = 0, mag = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        s += a(i, k) * b(k, j);
        mag += std::fabs(a(i, k) * b(k, j));
      }
      const double old = c.beta == 0 ? 0.0 : static_cast<double>(C0[at]);
      const double want = c.alpha * s + c.beta * old;
      // float32 rounding of a K-term sum, the alpha and beta products and their sum.
      const double tol =
          2.0 * static_cast<double>(c.K + 3) * eps * (std::fabs(c.alpha) * mag + std::fabs(c.beta * old)) + 1e-30;
      for (const auto& [name, got] : {std::pair<const char*, float>{"sgemm_small", C[at]}, {"cblas_sgemm", Cblas[at]}})
        if (!(std::fabs(static_cast<double>(got) - want) <= tol))
          return ::testing::AssertionFailure()
                 << name << " ta=" << c.ta << " tb=" << c.tb << " M=" << c.M << " N=" << c.N << " K=" << c.K
                 << " lda=" << lda << " ldb=" << ldb << " ldc=" << ldc << " alpha=" << c.alpha << " beta=" << c.beta
                 << ": C(" << i << ", " << j << ") = " << got << ", float64 reference " << want << " (tolerance " << tol
                 << ")";
    }
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(GemmSmall, EveryTransposeAndEdgeAgainstFloat64AndOpenBlas) {
  std::mt19937 rng(7);
  const std::vector<int64_t> mn = {1,  2,  3,  4,  5,  6,  7,  8,  9,  11, 12, 13, 15, 16,
                                   17, 23, 24, 31, 32, 33, 37, 47, 48, 49, 63, 64, 65, 70};
  const std::vector<int64_t> ks = {1, 2, 3, 8, 17, 32, 64, 70};
  const float betas[] = {0.0f, 1.0f, 0.5f};
  int64_t n = 0;
  for (int t = 0; t < 4; ++t)
    for (int64_t M : mn)
      for (int64_t N : mn)
        for (int64_t K : ks) {
          ++n;
          // Padding and the scalars vary with the case: every combination of them appears.
          const Case c{(t & 1) != 0,
                       (t & 2) != 0,
                       M,
                       N,
                       K,
                       n % 3 == 0 ? 0 : 3,
                       n % 5 == 0 ? 0 : 5,
                       n % 2 == 0 ? 0 : 7,
                       n % 4 == 0 ? 1.0f : -0.75f,
                       betas[n % 3]};
          ASSERT_TRUE(check_case(c, rng));
        }
  // Every M, N in 1..70 with K = 32 (attention's head size), both transposes of B.
  for (int64_t M = 1; M <= 70; ++M)
    for (int64_t N = 1; N <= 70; N += (M % 7) + 1) {
      ++n;
      ASSERT_TRUE(check_case({M % 2 == 0, N % 2 == 1, M, N, 32, 1, 2, 3, 0.125f, betas[n % 3]}, rng));
    }
}

TEST(GemmSmall, LongKAndWideTransposedB) {
  std::mt19937 rng(8);
  // K past the tile loop's usual range and N past one transposed block (16384 floats / K).
  for (int t = 0; t < 4; ++t)
    for (auto [M, N, K] :
         {std::tuple<int64_t, int64_t, int64_t>{7, 300, 256}, {13, 1029, 33}, {2, 2000, 9}, {65, 70, 400}})
      ASSERT_TRUE(check_case({(t & 1) != 0, (t & 2) != 0, M, N, K, 1, 0, 2, 1.5f, t == 3 ? 0.0f : 1.0f}, rng));
}

// An element rounds the same whether it falls in a whole register tile or in the narrower tile
// of the last columns: column j < 17 of a 17-wide product (its last column in a partial tile on
// every target) equals that of a 64-wide one with the same leading columns of B, bit for bit.
TEST(GemmSmall, LastColumnsRoundAsWholeTiles) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t M = 7, K = 19, wide = 64, narrow = 17;
  for (bool tb : {false, true})
    for (float beta : {0.0f, 1.0f, 0.5f}) {
      std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * wide)), C0(static_cast<size_t>(M * wide));
      for (float& x : A) x = dist(rng);
      for (float& x : B) x = dist(rng);
      for (float& x : C0) x = dist(rng);
      // B (K x N) stored as K x wide (ldb = wide), or transposed as N x K (ldb = K): the narrow
      // product reads B's first 17 columns either way.
      std::vector<float> Bt(static_cast<size_t>(wide * K));
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < wide; ++j) Bt[static_cast<size_t>(j * K + k)] = B[static_cast<size_t>(k * wide + j)];
      const float* b = tb ? Bt.data() : B.data();
      const int64_t ldb = tb ? K : wide;
      std::vector<float> Cw = C0, Cn = C0;
      cpu::sgemm_small(false, tb, M, wide, K, 1.5f, A.data(), K, b, ldb, beta, Cw.data(), wide);
      cpu::sgemm_small(false, tb, M, narrow, K, 1.5f, A.data(), K, b, ldb, beta, Cn.data(), wide);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < narrow; ++j)
          ASSERT_EQ(Cw[static_cast<size_t>(i * wide + j)], Cn[static_cast<size_t>(i * wide + j)])
              << "tb=" << tb << " beta=" << beta << " at (" << i << ", " << j << ")";
    }
}

TEST(GemmSmall, KZeroScalesC) {
  std::vector<float> C = {std::numeric_limits<float>::quiet_NaN(), 1.0f, 2.0f, 3.0f};
  const float dummy = 0;
  cpu::sgemm_small(false, false, 2, 2, 0, 1.0f, &dummy, 1, &dummy, 2, 0.0f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0, 0, 0, 0}));
  C = {1.0f, 2.0f, 3.0f, 4.0f};
  cpu::sgemm_small(true, true, 2, 2, 0, 1.0f, &dummy, 2, &dummy, 1, 0.5f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
}

TEST(GemmSmall, AlphaZeroReadsNeitherOperand) {
  // As cblas_sgemm: C = beta C, whatever A and B hold.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> A(6, nan), B(6, nan);
  std::vector<float> C = {1.0f, 2.0f, 3.0f, 4.0f};
  cpu::sgemm_small(false, false, 2, 2, 3, 0.0f, A.data(), 3, B.data(), 2, 0.5f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f}));
  C = {nan, nan, nan, nan};
  cpu::sgemm_small(true, true, 2, 2, 3, 0.0f, A.data(), 2, B.data(), 3, 0.0f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0, 0, 0, 0}));
}

TEST(GemmSmall, NanAndInfPropagate) {
  // A NaN or inf in A or B reaches exactly the row or column it belongs to.
  const int64_t M = 9, N = 19, K = 5;
  std::vector<float> A(M * K, 1.0f), B(K * N, 1.0f), C(M * N, 0.0f);
  A[3 * K + 2] = std::numeric_limits<float>::quiet_NaN();
  B[4 * N + 17] = std::numeric_limits<float>::infinity();
  cpu::sgemm_small(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const float v = C[static_cast<size_t>(i * N + j)];
      if (i == 3)
        EXPECT_TRUE(std::isnan(v)) << i << ", " << j;
      else if (j == 17)
        EXPECT_EQ(v, std::numeric_limits<float>::infinity()) << i << ", " << j;
      else
        EXPECT_EQ(v, static_cast<float>(K)) << i << ", " << j;
    }
}

TEST(GemmSmall, TargetFollowsTheIsaCap) {
  const std::string target = cpu::sgemm_small_target();
  switch (cpu::cpu_isa()) {
    case cpu::CpuIsa::Portable:
      EXPECT_TRUE(target == "EMU128" || target == "SCALAR" || target == "SSE2") << target;
      break;
    case cpu::CpuIsa::Avx2:
      EXPECT_EQ(target, "AVX2");
      break;
    default:
      EXPECT_EQ(target.rfind("AVX3", 0), 0u) << target;
      break;  // AVX3, or AVX3_ZEN4 etc. in newer Highway
  }
}

// Attention's products through the public API: q, k, v as (B, T, H, D) memory read as
// (B, H, T, D), causal scores added into a 0 / -inf bias by baddbmm, then the values; forward
// and backward against float64.
TEST(GemmSmall, AttentionShapedProductsForwardAndBackward) {
  manual_seed(3);
  const int64_t Bn = 2, T = 64, H = 4, D = 32;
  const Tensor q64 = randn({Bn, T, H, D}, float64), k64 = randn({Bn, T, H, D}, float64),
               v64 = randn({Bn, T, H, D}, float64);
  const Tensor bias64 = triu(full({T, T}, -std::numeric_limits<double>::infinity(), float64), 1);
  const Tensor g64 = randn({Bn, H, T, D}, float64);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  auto run = [&](DType dt) {
    const Tensor q = q64.to(dt).requires_grad_(), k = k64.to(dt).requires_grad_(), v = v64.to(dt).requires_grad_();
    const Tensor qh = q.permute({0, 2, 1, 3}), kh = k.permute({0, 2, 1, 3}), vh = v.permute({0, 2, 1, 3});
    const Tensor scores = baddbmm(bias64.to(dt).expand({Bn * H, T, T}), qh.reshape({Bn * H, T, D}),
                                  kh.reshape({Bn * H, T, D}).mT(), 1.0, scale)
                              .view({Bn, H, T, T});
    const Tensor p = scores.softmax(-1);
    const Tensor out = matmul(p, vh);
    const autograd::Tensors gr = autograd::grad({out}, {q, k, v}, {g64.to(dt)});
    return std::vector<Tensor>{out, gr[0], gr[1], gr[2]};
  };
  const int64_t calls = cpu::sgemm_small_calls();
  const std::vector<Tensor> got = run(float32);
  const std::vector<Tensor> want = run(float64);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TENSOR_CLOSE(got[i], want[i], 1e-4, 1e-4) << "output " << i;
  // Forward: QK^T and PV per head; backward: four more per head.
  if (cpu::sgemm_small_pays(T, T, D))
    EXPECT_GE(cpu::sgemm_small_calls() - calls, 6 * Bn * H);
  else
    EXPECT_EQ(cpu::sgemm_small_calls(), calls);
}

TEST(GemmSmall, MatmulTakesTheSmallPathOnlyWhenItPays) {
  manual_seed(4);
  const Tensor a = randn({3, 64, 32}), b = randn({3, 32, 64});
  int64_t calls = cpu::sgemm_small_calls();
  const Tensor c = matmul(a, b);
  EXPECT_TENSOR_CLOSE(c, matmul(a.to(float64), b.to(float64)), 1e-5, 1e-5);
  EXPECT_EQ(cpu::sgemm_small_calls() - calls, cpu::cpu_isa_allows(cpu::CpuIsa::Avx2) ? 3 : 0);
  // Past the crossover: OpenBLAS.
  calls = cpu::sgemm_small_calls();
  const Tensor big = randn({300, 300});
  (void)matmul(big, big);
  EXPECT_EQ(cpu::sgemm_small_calls(), calls);
  // Transposed and step-sliced operands on the small path.
  const Tensor x = randn({40, 70}), y = randn({70, 90});
  const Tensor xs = x.t().slice(0, 0, 70, 2), ys = y.t();  // (35, 40) with row stride 2, (90, 70)
  EXPECT_TENSOR_CLOSE(matmul(xs, x.slice(1, 0, 30)), matmul(xs.to(float64), x.slice(1, 0, 30).to(float64)), 1e-5, 1e-5);
  EXPECT_TENSOR_CLOSE(matmul(ys, y.t().mT()), matmul(ys.to(float64), y.to(float64)), 1e-5, 1e-5);
}
