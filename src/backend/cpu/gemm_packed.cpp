// A packed GEMM that accumulates in float32, for the element types BLAS does not cover
// (float16, bfloat16). The structure is BLIS's:
//
//   for jc over N in NC columns:            B[:, jc] is packed once per K block ...
//     for pc over K in KC steps:            ... converted to float32 into NR-wide panels
//       pack B[pc, jc]                      (shared by all threads)
//       for ic over M in MB rows:
//         pack A[ic, pc] into MR-tall panels (shared)
//         parallel over (MC x NT) tiles of C: micro-kernel MR x NR, register-blocked
//
// The micro-kernel always writes its full MR x NR float tile to a local buffer; an epilogue then
// merges the valid part into C: straight into the 16-bit output when K fits one block, else
// through a float32 workspace that carries the partial sums between K blocks (rounding to 16 bits
// happens exactly once, at the end). Edge tiles therefore need no special kernel: packing pads
// panels with zeros.
//
// The micro-kernel is chosen at run time: AVX-512 (8 x 32), AVX2+FMA (6 x 16) or portable C++.
// bfloat16 first tries gemm_bf16_dot.cpp, which multiplies in bf16 hardware where the CPU has it;
// on AVX2 CPUs, up to 128 rows of A against a transposed B (x @ W^T) and up to 32 columns of B
// (W @ x) take row dot products instead (gemm_dot_nt_avx2.cpp), which read W once, unpacked.
#include <algorithm>
#include <cstring>

#include "backend/cpu/gemm.h"
#include "core/cpu_features.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RICCI_GEMM_X86 1
#define RICCI_TARGET(t) __attribute__((target(t)))
#else
#define RICCI_GEMM_X86 0
#define RICCI_TARGET(t)
#endif

namespace ricci::cpu {
namespace {

constexpr int64_t kKC = 256;   // K block: an A micro-panel (MR x KC) stays in L1
constexpr int64_t kNC = 4096;  // columns of B packed at once (KC x NC floats: 4 MiB, L3)
constexpr int64_t kMB = 2048;  // rows of A packed at once

// The CPU's support and the caps (RICCI_CPU_ISA, RICCI_GEMM_ISA) are in gemm_isa().
bool cpu_has_avx512() { return gemm_isa() >= CpuIsa::Avx512; }
bool cpu_has_avx2() { return gemm_isa() >= CpuIsa::Avx2; }

// ---- conversion of contiguous runs (packing and epilogue) ----------------------------------------

#if RICCI_GEMM_X86
RICCI_TARGET("avx2,fma,f16c") inline __m256 load8(const BFloat16* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
RICCI_TARGET("avx2,fma,f16c") inline __m256 load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
RICCI_TARGET("avx2,fma,f16c") inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }

// Round to nearest even, NaN kept quiet: the same bits as detail::float_to_bfloat16_bits.
RICCI_TARGET("avx2,fma,f16c") inline void store8(BFloat16* p, __m256 v) {
  const __m256i x = _mm256_castps_si256(v);
  const __m256i hi = _mm256_srli_epi32(x, 16);
  const __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), nan);
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xD8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}
RICCI_TARGET("avx2,fma,f16c") inline void store8(Half* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
RICCI_TARGET("avx2,fma,f16c") inline void store8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }

template <class T>
RICCI_TARGET("avx2,fma,f16c") void convert_avx2(const T* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src + i));
  for (; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}
#endif

// dst[0..n) = float(src[0..n)), src contiguous.
template <class T>
void convert_run(const T* src, float* dst, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else {
#if RICCI_GEMM_X86
    if (cpu_has_avx2()) return convert_avx2(src, dst, n);
#endif
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
  }
}

// ---- packing -------------------------------------------------------------------------------------

// Packs rows [r0, r0 + rows) x k-range [k0, k0 + kc) of A into one MR-tall panel: dst[k * MR + i].
template <int MR, class T>
void pack_a_panel(MatrixRef<const T> A, int64_t r0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
  if (A.rs == 1 && A.cs != 1) {
    // A column of the panel is contiguous in memory (a transposed operand): convert directly.
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * MR;
      convert_run(A.data + r0 * A.rs + (k0 + k) * A.cs, d, rows);
      for (int64_t i = rows; i < MR; ++i) d[i] = 0.f;
    }
    return;
  }
  if (A.cs == 1) {
    alignas(64) float tmp[MR * kKC];
    for (int64_t i = 0; i < rows; ++i) convert_run(A.data + (r0 + i) * A.rs + k0, tmp + i * kc, kc);
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * MR;
      for (int64_t i = 0; i < rows; ++i) d[i] = tmp[i * kc + k];
      for (int64_t i = rows; i < MR; ++i) d[i] = 0.f;
    }
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * MR;
    for (int64_t i = 0; i < rows; ++i) d[i] = static_cast<float>(A.data[(r0 + i) * A.rs + (k0 + k) * A.cs]);
    for (int64_t i = rows; i < MR; ++i) d[i] = 0.f;
  }
}

// Packs k-range [k0, k0 + kc) x columns [c0, c0 + cols) of B into one NR-wide panel: dst[k * NR + j].
template <int NR, class T>
void pack_b_panel(MatrixRef<const T> B, int64_t k0, int64_t kc, int64_t c0, int64_t cols, float* dst) {
  if (B.cs == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * NR;
      convert_run(B.data + (k0 + k) * B.rs + c0 * B.cs, d, cols);
      for (int64_t j = cols; j < NR; ++j) d[j] = 0.f;
    }
    return;
  }
  if (B.rs == 1 && cols > 1) {
    alignas(64) float tmp[NR * kKC];
    for (int64_t j = 0; j < cols; ++j) convert_run(B.data + k0 + (c0 + j) * B.cs, tmp + j * kc, kc);
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst + k * NR;
      for (int64_t j = 0; j < cols; ++j) d[j] = tmp[j * kc + k];
      for (int64_t j = cols; j < NR; ++j) d[j] = 0.f;
    }
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * NR;
    for (int64_t j = 0; j < cols; ++j) d[j] = static_cast<float>(B.data[(k0 + k) * B.rs + (c0 + j) * B.cs]);
    for (int64_t j = cols; j < NR; ++j) d[j] = 0.f;
  }
}

// ---- micro-kernels: c[MR x NR] (row-major, ld NR) = sum_k a[k*MR + i] * b[k*NR + j] ---------------

#if RICCI_GEMM_X86
RICCI_TARGET("avx512f") void ukernel_avx512(int64_t kc, const float* a, const float* b, float* c) {
  __m512 acc[8][2];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * 32), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += 8;
    b += 32;
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    _mm512_store_ps(c + i * 32, acc[i][0]);
    _mm512_store_ps(c + i * 32 + 16, acc[i][1]);
  }
}

RICCI_TARGET("avx2,fma") void ukernel_avx2(int64_t kc, const float* a, const float* b, float* c) {
  __m256 acc[6][2];
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * 16), _MM_HINT_T0);
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += 6;
    b += 16;
  }
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) {
    _mm256_store_ps(c + i * 16, acc[i][0]);
    _mm256_store_ps(c + i * 16 + 8, acc[i][1]);
  }
}
#endif

void ukernel_generic(int64_t kc, const float* a, const float* b, float* c) {
  float acc[4][8] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 8; ++j) acc[i][j] += a[i] * b[j];
    a += 4;
    b += 8;
  }
  std::memcpy(c, acc, sizeof(acc));
}

// ---- epilogue ------------------------------------------------------------------------------------

enum class Pass { Only, First, Middle, Last };

#if RICCI_GEMM_X86
// out[j] = alpha * (acc[j] + ws[j]) + beta * out[j] for the multiple-of-8 prefix; returns its length.
template <class T>
RICCI_TARGET("avx2,fma,f16c")
int64_t finish_run_avx2(const float* acc, const float* ws, T* out, int64_t n, float alpha, float beta) {
  int64_t j = 0;
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(acc + j);
    if (ws) v = _mm256_add_ps(v, _mm256_loadu_ps(ws + j));
    v = _mm256_mul_ps(v, va);
    if (beta != 0.f) v = _mm256_fmadd_ps(vb, load8(out + j), v);
    store8(out + j, v);
  }
  return j;
}
#endif

// Merges n sums of one tile row into the output row (and the workspace between K blocks).
template <class T>
void finish_row(Pass pass, const float* acc, float* ws, T* out, int64_t ocs, int64_t n, float alpha, float beta) {
  if (pass == Pass::First) {
    std::memcpy(ws, acc, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  if (pass == Pass::Middle) {
    for (int64_t j = 0; j < n; ++j) ws[j] += acc[j];
    return;
  }
  const bool add_ws = pass == Pass::Last;
  int64_t j = 0;
#if RICCI_GEMM_X86
  if (ocs == 1 && cpu_has_avx2()) j = finish_run_avx2(acc, add_ws ? ws : nullptr, out, n, alpha, beta);
#endif
  for (; j < n; ++j) {
    float v = acc[j] + (add_ws ? ws[j] : 0.f);
    v *= alpha;
    T& o = out[j * ocs];
    if (beta != 0.f) v += beta * static_cast<float>(o);
    o = T(v);
  }
}

// ---- the driver ----------------------------------------------------------------------------------

using UKernel = void (*)(int64_t, const float*, const float*, float*);

template <int MR, int NR, class T>
void gemm_driver(UKernel ukernel, int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> B,
                 MatrixRef<T> C, float alpha, float beta, bool parallel) {
  // Tiles of C that one task computes: an A block of MC x KC floats (L2) against NT columns.
  constexpr int64_t MC = MR * 16;
  constexpr int64_t NT = NR * 8;
  const bool multi_k = K > kKC;
  const bool use_pool = gemm_use_pool(parallel, M, N, K);

  Tensor ws_holder, a_holder, b_holder;
  float* ws = multi_k ? gemm_scratch(ws_holder, M * N) : nullptr;  // ld N
  const int64_t nc_max = std::min(N, kNC), mb_max = std::min(M, kMB);
  float* bp = gemm_scratch(b_holder, kKC * ((nc_max + NR - 1) / NR) * NR);
  float* ap = gemm_scratch(a_holder, kKC * ((mb_max + MR - 1) / MR) * MR);

  auto run = [&](int64_t n, int64_t grain, auto&& fn) { gemm_run(use_pool, n, grain, fn); };

  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    const int64_t npanels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      const Pass pass = !multi_k ? Pass::Only : pc == 0 ? Pass::First : pc + kc >= K ? Pass::Last : Pass::Middle;
      run(npanels, 4, [&](int64_t b, int64_t e) {
        for (int64_t q = b; q < e; ++q)
          pack_b_panel<NR>(B, pc, kc, jc + q * NR, std::min<int64_t>(NR, nc - q * NR), bp + q * NR * kc);
      });
      for (int64_t ic = 0; ic < M; ic += kMB) {
        const int64_t mb = std::min(kMB, M - ic);
        const int64_t mpanels = (mb + MR - 1) / MR;
        run(mpanels, 4, [&](int64_t b, int64_t e) {
          for (int64_t p = b; p < e; ++p)
            pack_a_panel<MR>(A, ic + p * MR, std::min<int64_t>(MR, mb - p * MR), pc, kc, ap + p * MR * kc);
        });
        const int64_t mt = (mb + MC - 1) / MC, nt = (nc + NT - 1) / NT;
        run(mt * nt, 1, [&](int64_t tb, int64_t te) {
          alignas(64) float tile[MR * NR];
          for (int64_t t = tb; t < te; ++t) {
            const int64_t i_begin = (t / nt) * MC, i_end = std::min(mb, i_begin + MC);
            const int64_t j_begin = (t % nt) * NT, j_end = std::min(nc, j_begin + NT);
            for (int64_t jr = j_begin; jr < j_end; jr += NR) {
              const int64_t nr = std::min<int64_t>(NR, j_end - jr);
              const float* bpanel = bp + (jr / NR) * NR * kc;
              for (int64_t ir = i_begin; ir < i_end; ir += MR) {
                const int64_t mr = std::min<int64_t>(MR, i_end - ir);
                ukernel(kc, ap + (ir / MR) * MR * kc, bpanel, tile);
                for (int64_t i = 0; i < mr; ++i) {
                  const int64_t row = ic + ir + i, col = jc + jr;
                  finish_row(pass, tile + i * NR, ws ? ws + row * N + col : nullptr, C.data + row * C.rs + col * C.cs,
                             C.cs, nr, alpha, beta);
                }
              }
            }
          }
        });
      }
    }
  }
}

}  // namespace

float* gemm_scratch(Tensor& holder, int64_t n) {
  holder = empty_tensor({n}, DType::Float32);
  return holder.data_ptr<float>();
}

template <class T>
void gemm_reduced(int64_t M, int64_t N, int64_t K, MatrixRef<const T> A, MatrixRef<const T> B, MatrixRef<T> C,
                  float alpha, float beta, bool parallel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // an empty sum: C = beta * C
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        T& o = C.data[i * C.rs + j * C.cs];
        o = T(beta == 0.f ? 0.f : beta * static_cast<float>(o));
      }
    return;
  }
  if constexpr (std::is_same_v<T, BFloat16>) {
    if (gemm_bf16_dot(M, N, K, A, B, C, alpha, beta, parallel)) return;
  }
  // Few rows of A against a transposed B (a linear layer's W^T): row dot products, W read once.
  if (B.rs == 1 && M <= kDotRowsLimitAvx2 &&
      gemm_dot_nt_avx2<T>(M, N, K, A, {B.data, B.cs, B.rs}, C, alpha, beta, parallel))
    return;
  // Few columns of B against a row-major A (W @ x, matrix times vector): the same on C^T = B^T A^T.
  if (A.cs == 1 && N <= kDotRowsMaxAvx2 &&
      gemm_dot_nt_avx2<T>(N, M, K, {B.data, B.cs, B.rs}, A, {C.data, C.cs, C.rs}, alpha, beta, parallel))
    return;
#if RICCI_GEMM_X86
  if (cpu_has_avx512()) return gemm_driver<8, 32>(&ukernel_avx512, M, N, K, A, B, C, alpha, beta, parallel);
  if (cpu_has_avx2()) return gemm_driver<6, 16>(&ukernel_avx2, M, N, K, A, B, C, alpha, beta, parallel);
#endif
  gemm_driver<4, 8>(&ukernel_generic, M, N, K, A, B, C, alpha, beta, parallel);
}

const char* gemm_reduced_kernel_name(bool bfloat16) {
  if (bfloat16 && gemm_bf16_dot_available()) return "avx512bf16 6x64";
  if (cpu_has_avx512()) return "avx512 8x32";
  if (cpu_has_avx2()) return "avx2 6x16";
  return "generic 4x8";
}

template void gemm_reduced<Half>(int64_t, int64_t, int64_t, MatrixRef<const Half>, MatrixRef<const Half>,
                                 MatrixRef<Half>, float, float, bool);
template void gemm_reduced<BFloat16>(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>, MatrixRef<const BFloat16>,
                                     MatrixRef<BFloat16>, float, float, bool);
template void gemm_reduced<float>(int64_t, int64_t, int64_t, MatrixRef<const float>, MatrixRef<const float>,
                                  MatrixRef<float>, float, float, bool);

}  // namespace ricci::cpu
