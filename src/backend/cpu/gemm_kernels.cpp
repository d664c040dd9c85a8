// The CPU "matmul" kernels: float32/float64 through OpenBLAS (small float32 products through
// sgemm_small, gemm_small.cpp), float16/bfloat16 through our packed float32-accumulating GEMM
// (gemm_packed.cpp), integers through blocked loops accumulating in 64 bits. All of them take
// batched, strided operands (see MatmulKernel in gemm.h).
//
// Note [BLAS operands without copies]: a matrix whose last two strides are (ld, 1) is passed as
// NoTrans with leading dimension ld; one with strides (1, ld) is the transpose of a row-major
// matrix and is passed as Trans. Only a matrix with neither unit stride (a slice with step, an
// expanded dim) is copied first.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "backend/cpu/gemm.h"
#include "backend/kernel_table.h"
#include "core/parallel_fine.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

namespace ricci::cpu {
namespace {

// Per-matrix work (multiply-adds) below which a batch is spread over threads, one matrix each,
// rather than letting each GEMM use every thread.
constexpr int64_t kSmallGemm = int64_t{128} * 128 * 128;

// Element offsets of every matrix of a batched operand, in row-major batch order.
std::vector<int64_t> batch_offsets(const Tensor& t, int64_t nbatch_dims) {
  std::vector<int64_t> offs{0};
  for (int64_t d = 0; d < nbatch_dims; ++d) {
    const int64_t size = t.size(d), stride = t.stride(d);
    std::vector<int64_t> next;
    next.reserve(offs.size() * static_cast<size_t>(size));
    for (int64_t o : offs)
      for (int64_t i = 0; i < size; ++i) next.push_back(o + i * stride);
    offs.swap(next);
  }
  return offs;
}

struct Orientation {
  bool ok = false;
  bool trans = false;
  int64_t ld = 0;
};

// How BLAS can read a rows x cols matrix with these strides without a copy (Note [BLAS operands
// without copies]). Strides of dims of size 1 do not matter.
Orientation orientation(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if ((cs == 1 || cols <= 1) && (rows <= 1 || rs >= std::max<int64_t>(1, cols)))
    return {true, false, rows <= 1 ? std::max<int64_t>(1, cols) : rs};
  if ((rs == 1 || rows <= 1) && (cols <= 1 || cs >= std::max<int64_t>(1, rows)))
    return {true, true, cols <= 1 ? std::max<int64_t>(1, rows) : cs};
  return {};
}

// Note [One thread budget for BLAS]: OpenBLAS is held at one thread for good (parallel.cpp), and
// its products are split over ricci's own pool here. Left to its own threads, OpenBLAS keeps them
// polling (sched_yield in a loop) for ~2^28 cycles after every call, so on two cores its
// spinning thread competed with ricci's worker for the second core, and with any other process
// for both (issue 16: `matmul_1024_f32_t2` and `bmm` fell below PyTorch in a loaded run). One
// pool, whose workers sleep when idle, owns the whole budget.
//
// Runs body(i, parallel) for every matrix of the batch: spread over the pool, one matrix per
// call, when each product is small or the batch divides evenly over the threads (no split of a
// product, no packing twice), else one after another, each product free to split itself.
template <class Body>
void for_each_matrix(int64_t nbatch, int64_t work, const Body& body) {
  const int threads = get_num_threads();
  if (nbatch > 1 && threads > 1 && !in_parallel_region() &&
      (work < kSmallGemm || nbatch % threads == 0 || nbatch >= 4 * threads)) {
    // Small products: enough per call to amortise a claim; large ones: one each, so a worker
    // that lost its core holds back one matrix, not a share of the batch.
    const int64_t grain = work < kSmallGemm ? std::max<int64_t>(1, kSmallGemm / std::max<int64_t>(work, 1) / 8) : 1;
    parallel_for_fine(0, nbatch, grain, 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) body(i, false);
    });
    return;
  }
  for (int64_t i = 0; i < nbatch; ++i) body(i, true);
}

// Splits one product's output over the pool (Note [One thread budget for BLAS]): fn(r0, r1)
// computes rows [r0, r1) of C when `rows`, else columns. Products too small to be worth a split
// run in one call.
template <class Fn>
void split_output(bool parallel, int64_t M, int64_t N, int64_t K, bool* rows, Fn&& fn) {
  *rows = M >= N;
  const int64_t len = *rows ? M : N;
  const int threads = get_num_threads();
  if (!parallel || threads <= 1 || in_parallel_region() || gemm_work(M, N, K) < kSmallGemm / 4 || len < 2 * 16) {
    fn(0, len);
    return;
  }
  // Pieces of whole 16-row (or column) panels, at least 64 rows each and up to four per thread.
  // Each piece packs the other operand whole (B for a row split), about 6 % of a 64-row piece's
  // time and 3 % of a 128-row one's; in return a worker that loses its core to another process
  // holds back one piece while the others take the rest (under a background load matmul_256 at
  // two threads went from 5 to 20 GFLOP/s with two pieces per product; bench/README.md).
  const int64_t panels = (len + 15) / 16;
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(panels / 4, 4 * threads));
  parallel_for_fine(0, pieces, 1, 4, [&](int64_t b, int64_t e) {
    const int64_t r0 = std::min(len, panels * b / pieces * 16), r1 = std::min(len, panels * e / pieces * 16);
    if (r0 < r1) fn(r0, r1);
  });
}

// Note [Matrix times vector through gemv]: OpenBLAS's gemm packs both operands even when one is a
// single row or column (x @ W^T while decoding, W @ x), and then reads W at a tenth of memory
// speed; its gemv streams W once. So a product with M == 1 or N == 1 is passed as a gemv:
//   M == 1: C^T = op(B)^T a^T, the matrix is B (trans flipped), the vector a row of A;
//   N == 1: C = op(A) b, the matrix is A, the vector a column of B.
// A vector's stride is 1 along a stored row and the leading dimension across rows.
void blas_gemv(bool trans, int64_t rows, int64_t cols, double alpha, const float* mat, int64_t ld, const float* x,
               int64_t incx, double beta, float* y, int64_t incy) {
  cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(cols),
              static_cast<float>(alpha), mat, static_cast<blasint>(ld), x, static_cast<blasint>(incx),
              static_cast<float>(beta), y, static_cast<blasint>(incy));
}
void blas_gemv(bool trans, int64_t rows, int64_t cols, double alpha, const double* mat, int64_t ld, const double* x,
               int64_t incx, double beta, double* y, int64_t incy) {
  cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, static_cast<blasint>(rows), static_cast<blasint>(cols),
              alpha, mat, static_cast<blasint>(ld), x, static_cast<blasint>(incx), beta, y, static_cast<blasint>(incy));
}

// True when the product was passed as a gemv (Note [Matrix times vector through gemv]).
template <class T>
bool blas_as_gemv(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const T* A, int64_t lda,
                  const T* B, int64_t ldb, double beta, T* C, int64_t ldc) {
  if (M == 1) {
    // B stored K x N (tb false) or N x K (tb true); y = C's one row, x = A's one row.
    if (tb) blas_gemv(false, N, K, alpha, B, ldb, A, ta ? lda : 1, beta, C, 1);
    else blas_gemv(true, K, N, alpha, B, ldb, A, ta ? lda : 1, beta, C, 1);
    return true;
  }
  if (N == 1) {
    if (ta) blas_gemv(true, K, M, alpha, A, lda, B, tb ? 1 : ldb, beta, C, ldc);
    else blas_gemv(false, M, K, alpha, A, lda, B, tb ? 1 : ldb, beta, C, ldc);
    return true;
  }
  return false;
}

// Note [Zeroing C ourselves]: OpenBLAS computes every product as C += alpha A B, so for beta == 0 it
// first clears C with its `gemm_beta` loop, slower on Zen 3 than a memset of the same rows (one
// thread, a 2048 x 128 x 384 product, 2265 us with beta = 0, 2207 us memset + beta = 1; 3-8 %
// over a GPT step's input-gradient shapes). So beta == 0 becomes a memset of C's rows and beta = 1:
// the same result (C's old contents, NaN included, are ignored either way), bit for bit, since
// 0 + x is exact.
template <class T>
double zero_output_for_beta(int64_t M, int64_t N, double beta, T* C, int64_t ldc) {
  if (beta != 0) return beta;
  if (ldc == N) {
    std::memset(C, 0, sizeof(T) * static_cast<size_t>(M * N));
  } else {
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, sizeof(T) * static_cast<size_t>(N));
  }
  return 1.0;
}

// Small float32 products skip OpenBLAS (and its packing) altogether: Note [Small float32 products
// without packing], gemm_small.cpp; that kernel handles beta itself.
void blas_gemm_call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, double beta, float* C, int64_t ldc) {
  if (sgemm_small_pays(M, N, K))
    return sgemm_small(ta, tb, M, N, K, static_cast<float>(alpha), A, lda, B, ldb, static_cast<float>(beta), C, ldc);
  beta = zero_output_for_beta(M, N, beta, C, ldc);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), static_cast<float>(alpha), A, static_cast<blasint>(lda), B,
              static_cast<blasint>(ldb), static_cast<float>(beta), C, static_cast<blasint>(ldc));
}
void blas_gemm_call(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                    const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  beta = zero_output_for_beta(M, N, beta, C, ldc);
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), alpha, A, static_cast<blasint>(lda), B,
              static_cast<blasint>(ldb), beta, C, static_cast<blasint>(ldc));
}

// C = alpha op(A) op(B) + beta C, row-major, split over the pool when `parallel` (Note [One thread
// budget for BLAS]). Rows r0.. of C need rows r0.. of op(A): A + r0 * lda untransposed, A + r0
// transposed; columns c0.. need columns c0.. of op(B): B + c0, or B + c0 * ldb transposed. A
// one-row or one-column product is a gemv, split the same way.
template <class T>
void blas_gemm(bool parallel, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const T* A, int64_t lda,
               const T* B, int64_t ldb, double beta, T* C, int64_t ldc) {
  bool rows = true;
  split_output(parallel, M, N, K, &rows, [&](int64_t r0, int64_t r1) {
    if (rows) {
      const T* a = A + (ta ? r0 : r0 * lda);
      if (!blas_as_gemv(ta, tb, r1 - r0, N, K, alpha, a, lda, B, ldb, beta, C + r0 * ldc, ldc))
        blas_gemm_call(ta, tb, r1 - r0, N, K, alpha, a, lda, B, ldb, beta, C + r0 * ldc, ldc);
    } else {
      const T* b = B + (tb ? r0 * ldb : r0);
      if (!blas_as_gemv(ta, tb, M, r1 - r0, K, alpha, A, lda, b, ldb, beta, C + r0, ldc))
        blas_gemm_call(ta, tb, M, r1 - r0, K, alpha, A, lda, b, ldb, beta, C + r0, ldc);
    }
  });
}

// out = beta * out (K == 0: the sum over an empty dim is zero).
template <class T>
void scale_out(const Tensor& out, const Scalar& beta) {
  T* o = out.data_ptr<T>();
  const int64_t n = out.numel();
  if constexpr (!std::is_integral_v<T>) {
    const double b = beta.to_double();
    for (int64_t i = 0; i < n; ++i)
      o[i] = b == 0 ? T(0.f) : T(static_cast<compute_t<T>>(b * static_cast<double>(static_cast<compute_t<T>>(o[i]))));
  } else {
    const int64_t b = beta.to_int();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(static_cast<uint64_t>(b) * static_cast<uint64_t>(o[i]));
  }
}

// The sizes of a batched product.
struct Problem {
  int64_t M, N, K, nbatch_dims, nbatch;
};

Problem describe(const Tensor& out, const Tensor& a, const Tensor& b) {
  Problem p;
  p.nbatch_dims = out.dim() - 2;
  p.M = a.size(-2);
  p.K = a.size(-1);
  p.N = b.size(-1);
  p.nbatch = 1;
  for (int64_t d = 0; d < p.nbatch_dims; ++d) p.nbatch *= out.size(d);
  return p;
}

template <class T>
void matmul_blas(const Tensor& out, const Tensor& a_in, const Tensor& b_in, const Scalar& alpha_s, const Scalar& beta_s) {
  Problem p = describe(out, a_in, b_in);
  if (p.nbatch == 0 || p.M == 0 || p.N == 0) return;
  if (p.K == 0) return scale_out<T>(out, beta_s);
  RICCI_CHECK(p.M <= INT_MAX && p.N <= INT_MAX && p.K <= INT_MAX, ValueError, "[matmul] a matrix dimension exceeds ",
              INT_MAX, " (the BLAS limit): got M=", p.M, ", N=", p.N, ", K=", p.K, "; split the product into blocks");
  Tensor a = a_in, b = b_in;
  Orientation oa = orientation(p.M, p.K, a.stride(-2), a.stride(-1));
  if (!oa.ok) {
    a = a.contiguous();
    oa = orientation(p.M, p.K, a.stride(-2), a.stride(-1));
  }
  Orientation ob = orientation(p.K, p.N, b.stride(-2), b.stride(-1));
  if (!ob.ok) {
    b = b.contiguous();
    ob = orientation(p.K, p.N, b.stride(-2), b.stride(-1));
  }
  const double alpha = alpha_s.to_double(), beta = beta_s.to_double();
  const T* A = a.data_ptr<T>();
  const T* B = b.data_ptr<T>();
  T* C = out.data_ptr<T>();
  // out contiguous, or dense with a unit column stride and its matrices anywhere (gemm.h).
  const bool out_contiguous = out.is_contiguous();
  const int64_t ldc = out_contiguous || p.M <= 1 ? p.N : out.stride(-2);
  if (p.nbatch == 1) return blas_gemm(true, oa.trans, ob.trans, p.M, p.N, p.K, alpha, A, oa.ld, B, ob.ld, beta, C, ldc);

  // (B, M, K) @ (K, N) with the rows of every A matrix evenly spaced and one shared B: a single
  // (B*M, K) @ (K, N) GEMM.
  bool b_shared = true;
  for (int64_t d = 0; d < p.nbatch_dims; ++d) b_shared = b_shared && (b.stride(d) == 0 || b.size(d) == 1);
  if (b_shared && !oa.trans && out_contiguous && p.nbatch * p.M <= INT_MAX) {
    int64_t expected;
    bool folds = !mul_overflows(p.M, oa.ld, &expected);
    for (int64_t d = p.nbatch_dims - 1; d >= 0 && folds; --d) {
      if (a.size(d) == 1) continue;
      folds = a.stride(d) == expected && !mul_overflows(expected, a.size(d), &expected);
    }
    if (folds) return blas_gemm(true, false, ob.trans, p.nbatch * p.M, p.N, p.K, alpha, A, oa.ld, B, ob.ld, beta, C, p.N);
  }
  const std::vector<int64_t> a_off = batch_offsets(a, p.nbatch_dims), b_off = batch_offsets(b, p.nbatch_dims);
  const std::vector<int64_t> c_off = out_contiguous ? std::vector<int64_t>() : batch_offsets(out, p.nbatch_dims);
  const int64_t mn = p.M * p.N;
  for_each_matrix(p.nbatch, gemm_work(p.M, p.N, p.K), [&](int64_t i, bool parallel) {
    T* c = C + (out_contiguous ? i * mn : c_off[static_cast<size_t>(i)]);
    blas_gemm(parallel, oa.trans, ob.trans, p.M, p.N, p.K, alpha, A + a_off[i], oa.ld, B + b_off[i], ob.ld, beta, c, ldc);
  });
}

template <class T>
void matmul_reduced(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha, const Scalar& beta) {
  Problem p = describe(out, a, b);
  if (p.nbatch == 0 || p.M == 0 || p.N == 0) return;
  if (p.K == 0) return scale_out<T>(out, beta);
  const std::vector<int64_t> a_off = batch_offsets(a, p.nbatch_dims), b_off = batch_offsets(b, p.nbatch_dims);
  const T* A = a.data_ptr<T>();
  const T* B = b.data_ptr<T>();
  T* C = out.data_ptr<T>();
  const int64_t mn = p.M * p.N;
  const int64_t ars = a.stride(-2), acs = a.stride(-1), brs = b.stride(-2), bcs = b.stride(-1);
  for_each_matrix(p.nbatch, gemm_work(p.M, p.N, p.K), [&](int64_t i, bool parallel) {
    gemm_reduced<T>(p.M, p.N, p.K, {A + a_off[i], ars, acs}, {B + b_off[i], brs, bcs}, {C + i * mn, p.N, 1},
                    static_cast<float>(alpha.to_double()), static_cast<float>(beta.to_double()), parallel);
  });
}

// Integer GEMM: each output row accumulates in 64 bits (wrapping, as PyTorch's integer matmul
// does), over column blocks that stay in L1.
template <class T>
void matmul_integer(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha_s, const Scalar& beta_s) {
  Problem p = describe(out, a, b);
  if (p.nbatch == 0 || p.M == 0 || p.N == 0) return;
  const std::vector<int64_t> a_off = batch_offsets(a, p.nbatch_dims), b_off = batch_offsets(b, p.nbatch_dims);
  const T* A = a.data_ptr<T>();
  const T* B = b.data_ptr<T>();
  T* C = out.data_ptr<T>();
  const int64_t ars = a.stride(-2), acs = a.stride(-1), brs = b.stride(-2), bcs = b.stride(-1);
  const uint64_t alpha = static_cast<uint64_t>(alpha_s.to_int()), beta = static_cast<uint64_t>(beta_s.to_int());
  const int64_t M = p.M, N = p.N, K = p.K;
  constexpr int64_t kCols = 512;
  // One job is one row of one matrix of the batch.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, N * K));
  parallel_for(0, p.nbatch * M, grain, [&](int64_t jb, int64_t je) {
    uint64_t acc[kCols];
    for (int64_t job = jb; job < je; ++job) {
      const int64_t bi = job / M, i = job % M;
      const T* arow = A + a_off[bi] + i * ars;
      const T* bmat = B + b_off[bi];
      T* crow = C + bi * M * N + i * N;
      for (int64_t j0 = 0; j0 < N; j0 += kCols) {
        const int64_t nj = std::min(kCols, N - j0);
        std::fill(acc, acc + nj, uint64_t{0});
        for (int64_t k = 0; k < K; ++k) {
          const uint64_t av = static_cast<uint64_t>(static_cast<int64_t>(arow[k * acs]));
          if (av == 0) continue;
          const T* brow = bmat + k * brs + j0 * bcs;
          if (bcs == 1) {
            for (int64_t j = 0; j < nj; ++j) acc[j] += av * static_cast<uint64_t>(static_cast<int64_t>(brow[j]));
          } else {
            for (int64_t j = 0; j < nj; ++j) acc[j] += av * static_cast<uint64_t>(static_cast<int64_t>(brow[j * bcs]));
          }
        }
        for (int64_t j = 0; j < nj; ++j) {
          uint64_t v = alpha * acc[j];
          if (beta != 0) v += beta * static_cast<uint64_t>(static_cast<int64_t>(crow[j0 + j]));
          crow[j0 + j] = static_cast<T>(static_cast<int64_t>(v));
        }
      }
    }
  });
}

const bool registered = [] {
  using kernels::register_kernel;
  register_kernel("matmul", DeviceType::CPU, DType::Float32, &matmul_blas<float>);
  register_kernel("matmul", DeviceType::CPU, DType::Float64, &matmul_blas<double>);
  register_kernel("matmul", DeviceType::CPU, DType::Float16, &matmul_reduced<Half>);
  register_kernel("matmul", DeviceType::CPU, DType::BFloat16, &matmul_reduced<BFloat16>);
  register_kernel("matmul", DeviceType::CPU, DType::UInt8, &matmul_integer<uint8_t>);
  register_kernel("matmul", DeviceType::CPU, DType::Int8, &matmul_integer<int8_t>);
  register_kernel("matmul", DeviceType::CPU, DType::Int16, &matmul_integer<int16_t>);
  register_kernel("matmul", DeviceType::CPU, DType::Int32, &matmul_integer<int32_t>);
  register_kernel("matmul", DeviceType::CPU, DType::Int64, &matmul_integer<int64_t>);
  return true;
}();

}  // namespace

void sgemm_on_pool(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  blas_gemm<float>(true, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
}  // namespace ricci::cpu
