// bfloat16 GEMM on the CPU's bf16 dot-product instruction (AVX512_BF16's vdpbf16ps), for CPUs
// that have it (Intel Cooper Lake and later, AMD Zen 4 and later). Each instruction multiplies
// 16 pairs of bf16 products and adds both into 16 float32 accumulators, so the kernel does twice
// the work of a float32 FMA per instruction and reads the operands at half the width.
//
// Operands are packed as *pairs along K*: one 32-bit word holds (x[k], x[k+1]) of one row of A
// or one column of B, because that is the unit vdpbf16ps multiplies. The blocking is BLIS's, with
// the roles of the operands chosen for this broadcast-A / load-B kernel:
//
//   for jc over N in NC columns, for pc over K in KP pairs:
//     pack B[pc, jc] into NR-wide pair panels          (shared by all threads)
//     for ic over M in MB rows:
//       pack A[ic, pc] into MR-tall pair panels        (shared)
//       parallel over (MC x NT) tiles of C, B block major so that a thread's consecutive tiles
//       reuse the B block (NT x KP words, L2); within a tile the A micro-panel (MR x KP words)
//       stays in L1 while the NR-wide B micro-panels stream past it.
//
// Accumulation is float32 throughout. When K spans several blocks the partial sums live in a
// float32 workspace (the micro-kernel loads and stores it), and the output is rounded to bf16 once,
// at the end. Like every implementation of vdpbf16ps (and so like PyTorch's oneDNN path), the
// instruction treats bf16 subnormal inputs as zero and flushes subnormal results.
#include <algorithm>
#include <cstring>

#include "backend/cpu/gemm.h"
#include "backend/cpu/transpose_tile.h"
#include "ricci/parallel.h"
#include "ricci/tensor.h"

#if defined(__x86_64__)
// GCC 12 reports the intentionally undefined upper halves inside its own AVX-512 cast intrinsics.
#if !defined(__clang__)  // a GCC-only warning (clang builds the fuzzers)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define RICCI_BF16_DOT 1
#define RICCI_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#else
#define RICCI_BF16_DOT 0
#endif

namespace ricci::cpu {

bool gemm_bf16_dot_available() {
#if RICCI_BF16_DOT
  return gemm_isa() >= CpuIsa::Avx512Bf16;
#else
  return false;
#endif
}

#if RICCI_BF16_DOT
namespace {

constexpr int MR = 6;             // rows of C per micro-tile: 6 x 4 accumulators = 24 of 32 zmm
constexpr int NR = 64;            // columns of C per micro-tile: four zmm of float32
constexpr int64_t kKP = 512;      // K pairs per block: K <= 1024 needs no workspace
constexpr int64_t kMC = MR * 16;  // rows per task
constexpr int64_t kNT = NR * 2;   // columns per task: its B block, NT x KP words, is 256 KiB (L2)
constexpr int64_t kNC = 2048;     // columns of B packed at once (KP x NC words: 4 MiB)
constexpr int64_t kMB = 2048;     // rows of A packed at once
// Up to this many rows of A, a transposed B is multiplied by row dot products (gemm_bf16_dot_nt)
// rather than packed: packing all of B costs about as much as 32 rows of product.
constexpr int64_t kDotRowsMax = 32;

uint32_t bits(BFloat16 x) {
  uint16_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// ---- packing ---------------------------------------------------------------------------------------

// Packs `lanes` (<= W) rows of A or columns of B over k in [0, kc) into pair words:
// dst[p * W + l] = x(l, 2p) | x(l, 2p + 1) << 16, where x(l, k) = src[l * ls + k * ks]. Missing
// lanes and the odd last k are zero, so edge tiles need no special kernel.
template <int W>
RICCI_TARGET_BF16 void pack_pairs(const BFloat16* src, int64_t ls, int64_t ks, int64_t lanes, int64_t kc,
                                  uint32_t* dst) {
  const int64_t np = (kc + 1) / 2, full = kc / 2;
  if (ls == 1 && lanes > 1) {
    // Lanes contiguous (a transposed A or a row-major B): widen two k-rows and interleave them.
    for (int64_t p = 0; p < np; ++p) {
      const BFloat16* r0 = src + 2 * p * ks;
      const BFloat16* r1 = r0 + ks;
      const bool has_r1 = 2 * p + 1 < kc;
      uint32_t* d = dst + p * W;
      for (int64_t l = 0; l < W; l += 16) {
        const int64_t n = std::clamp<int64_t>(lanes - l, 0, 16);
        const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
        const __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0 + l));
        const __m512i hi = has_r1 ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r1 + l)) : _mm512_setzero_si512();
        _mm512_storeu_si512(d + l, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
    }
    return;
  }
  if (ks == 1) {
    // k contiguous (a row-major A or a transposed B): each pair is already one 32-bit word, and
    // packing is a transpose of words, done 16 x 16 in registers where whole tiles fit.
    int64_t p_done = 0;
    if (W % 16 == 0 && lanes == W && ls % 2 == 0 && has_transpose_tile_16x16_b32()) {
      for (; p_done + 16 <= full; p_done += 16)
        for (int64_t l = 0; l < W; l += 16)
          transpose_tile_16x16_b32(reinterpret_cast<const uint32_t*>(src + l * ls + 2 * p_done), ls / 2,
                                   dst + p_done * W + l, W);
    }
    for (int64_t p = p_done; p < full; ++p) {
      uint32_t* d = dst + p * W;
      for (int64_t l = 0; l < lanes; ++l) std::memcpy(d + l, src + l * ls + 2 * p, sizeof(uint32_t));
      for (int64_t l = lanes; l < W; ++l) d[l] = 0;
    }
    if (full < np) {
      uint32_t* d = dst + full * W;
      for (int64_t l = 0; l < lanes; ++l) d[l] = bits(src[l * ls + 2 * full]);
      for (int64_t l = lanes; l < W; ++l) d[l] = 0;
    }
    return;
  }
  for (int64_t p = 0; p < np; ++p) {
    uint32_t* d = dst + p * W;
    for (int64_t l = 0; l < lanes; ++l) {
      const BFloat16* x = src + l * ls + 2 * p * ks;
      d[l] = bits(x[0]) | (2 * p + 1 < kc ? bits(x[ks]) << 16 : 0u);
    }
    for (int64_t l = lanes; l < W; ++l) d[l] = 0;
  }
}

// ---- the micro-kernel: c[MR x NR] (ld ldc) (+)= sum_p a(i, p) . b[p * NR + j] ------------------------

// A's pair word (i, p) is read at a + i * a_row + p * a_pair (bytes): a packed panel, or A itself
// when its rows are contiguous and K is even, since a row-major pair is already one 32-bit word.
struct PairsOfA {
  const char* a;
  int64_t a_row;
  int64_t a_pair;
};

RICCI_TARGET_BF16 inline __m512bh broadcast_pair(const char* p) {
  int32_t w;
  std::memcpy(&w, p, sizeof w);
  return (__m512bh)_mm512_set1_epi32(w);
}

RICCI_TARGET_BF16 void ukernel(int64_t np, PairsOfA A, const uint32_t* b, float* c, int64_t ldc, bool load_c) {
  __m512 acc[MR][4];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[i][j] = load_c ? _mm512_loadu_ps(c + i * ldc + 16 * j) : _mm512_setzero_ps();
  const char* a = A.a;
  for (int64_t p = 0; p < np; ++p) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(b + 16);
    const __m512bh b2 = (__m512bh)_mm512_load_si512(b + 32);
    const __m512bh b3 = (__m512bh)_mm512_load_si512(b + 48);
    // The B micro-panel streams from L2: fetch the pair eight steps ahead.
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR + 16), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR + 32), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 8 * NR + 48), _MM_HINT_T0);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m512bh ai = broadcast_pair(a + i * A.a_row);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
      acc[i][2] = _mm512_dpbf16_ps(acc[i][2], ai, b2);
      acc[i][3] = _mm512_dpbf16_ps(acc[i][3], ai, b3);
    }
    a += A.a_pair;
    b += NR;
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) _mm512_storeu_ps(c + i * ldc + 16 * j, acc[i][j]);
}

// ---- the epilogue: out[0..n) = bf16(alpha * acc + beta * out) --------------------------------------

// Round to nearest even with NaN kept quiet: the same bits as detail::float_to_bfloat16_bits
// (vcvtneps2bf16 would flush subnormals, which the rest of ricci keeps).
RICCI_TARGET_BF16 __m256i round_to_bf16(__m512 v) {
  const __m512i x = _mm512_castps_si512(v);
  const __m512i hi = _mm512_srli_epi32(x, 16);
  const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
  return _mm512_cvtepi32_epi16(r);
}

RICCI_TARGET_BF16 void finish_row(const float* acc, BFloat16* out, int64_t n, float alpha, float beta) {
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = static_cast<__mmask16>(n - j >= 16 ? 0xffffu : (1u << (n - j)) - 1);
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, acc + j), va);
    if (beta != 0.f) {
      const __m512i old = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, out + j));
      v = _mm512_fmadd_ps(vb, _mm512_castsi512_ps(_mm512_slli_epi32(old, 16)), v);
    }
    _mm256_mask_storeu_epi16(out + j, m, round_to_bf16(v));
  }
}

}  // namespace

bool gemm_bf16_dot(int64_t M, int64_t N, int64_t K, MatrixRef<const BFloat16> A, MatrixRef<const BFloat16> B,
                   MatrixRef<BFloat16> C, float alpha, float beta, bool parallel) {
  if (!gemm_bf16_dot_available()) return false;
  // A @ W^T (B transposed: both operands contiguous along K) for a few rows of A.
  if (A.cs == 1 && B.rs == 1 && M <= kDotRowsMax)
    return gemm_bf16_dot_nt(M, N, K, A, {B.data, B.cs, B.rs}, C, alpha, beta, parallel);
  const int64_t kc_max = 2 * kKP;
  const bool multi_k = K > kc_max;
  const bool use_pool = gemm_use_pool(parallel, M, N, K);

  // Float partial sums between K blocks (ld N); a product with K <= 2 * KP needs none.
  Tensor ws_holder, a_holder, b_holder;
  float* ws = multi_k ? gemm_scratch(ws_holder, M * N) : nullptr;
  const int64_t nc_max = std::min(N, kNC), mb_max = std::min(M, kMB);
  uint32_t* bp = gemm_scratch_words(b_holder, kKP * ((nc_max + NR - 1) / NR) * NR);
  // Row-major A with even K is read in place; anything else is packed first.
  const bool pack_a = !(A.cs == 1 && K % 2 == 0);
  uint32_t* ap = pack_a ? gemm_scratch_words(a_holder, kKP * ((mb_max + MR - 1) / MR) * MR) : nullptr;

  auto run = [&](int64_t n, int64_t grain, auto&& fn) { gemm_run(use_pool, n, grain, fn); };

  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    const int64_t npanels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc), np = (kc + 1) / 2;
      const bool first = pc == 0, last = pc + kc >= K;
      run(npanels, 2, [&](int64_t b, int64_t e) {
        for (int64_t q = b; q < e; ++q)
          pack_pairs<NR>(B.data + pc * B.rs + (jc + q * NR) * B.cs, B.cs, B.rs, std::min<int64_t>(NR, nc - q * NR),
                         kc, bp + q * NR * np);
      });
      for (int64_t ic = 0; ic < M; ic += kMB) {
        const int64_t mb = std::min(kMB, M - ic);
        const int64_t mpanels = (mb + MR - 1) / MR;
        if (pack_a)
          run(mpanels, 8, [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p)
              pack_pairs<MR>(A.data + (ic + p * MR) * A.rs + pc * A.cs, A.rs, A.cs,
                             std::min<int64_t>(MR, mb - p * MR), kc, ap + p * MR * np);
          });
        const int64_t mt = (mb + kMC - 1) / kMC, nt = (nc + kNT - 1) / kNT;
        run(mt * nt, 1, [&](int64_t tb, int64_t te) {
          alignas(64) float tile[MR * NR];
          alignas(64) uint32_t edge[MR * kKP];
          for (int64_t t = tb; t < te; ++t) {
            const int64_t i_begin = (t % mt) * kMC, i_end = std::min(mb, i_begin + kMC);
            const int64_t j_begin = (t / mt) * kNT, j_end = std::min(nc, j_begin + kNT);
            for (int64_t ir = i_begin; ir < i_end; ir += MR) {
              const int64_t mr = std::min<int64_t>(MR, i_end - ir);
              PairsOfA apanel{};
              if (pack_a) {
                apanel = {reinterpret_cast<const char*>(ap + (ir / MR) * MR * np), 4, 4 * MR};
              } else if (mr == MR) {
                apanel = {reinterpret_cast<const char*>(A.data + (ic + ir) * A.rs + pc), 2 * A.rs, 4};
              } else if (!pack_a) {
                // The last rows of A: pack them, zero-padded, rather than read past the matrix.
                pack_pairs<MR>(A.data + (ic + ir) * A.rs + pc, A.rs, 1, mr, kc, edge);
                apanel = {reinterpret_cast<const char*>(edge), 4, 4 * MR};
              }
              for (int64_t jr = j_begin; jr < j_end; jr += NR) {
                const int64_t nr = std::min<int64_t>(NR, j_end - jr);
                const int64_t row = ic + ir, col = jc + jr;
                const uint32_t* bpanel = bp + (jr / NR) * NR * np;
                // Full tiles of a multi-block product accumulate in the workspace directly;
                // edge tiles go through the local tile and copy their valid part.
                float* ws_tile = multi_k ? ws + row * N + col : nullptr;
                const bool direct = multi_k && mr == MR && nr == NR;
                if (direct) {
                  ukernel(np, apanel, bpanel, ws_tile, N, !first);
                } else {
                  if (multi_k && !first)
                    for (int64_t i = 0; i < mr; ++i)
                      std::memcpy(tile + i * NR, ws_tile + i * N, static_cast<size_t>(nr) * sizeof(float));
                  ukernel(np, apanel, bpanel, tile, NR, multi_k && !first);
                  if (multi_k && !last)
                    for (int64_t i = 0; i < mr; ++i)
                      std::memcpy(ws_tile + i * N, tile + i * NR, static_cast<size_t>(nr) * sizeof(float));
                }
                if (!last) continue;
                for (int64_t i = 0; i < mr; ++i) {
                  const float* acc = direct ? ws_tile + i * N : tile + i * NR;
                  BFloat16* out = C.data + (row + i) * C.rs + col * C.cs;
                  if (C.cs == 1) {
                    finish_row(acc, out, nr, alpha, beta);
                  } else {
                    for (int64_t j = 0; j < nr; ++j) {
                      BFloat16& o = out[j * C.cs];
                      o = BFloat16(alpha * acc[j] + (beta != 0.f ? beta * static_cast<float>(o) : 0.f));
                    }
                  }
                }
              }
            }
          }
        });
      }
    }
  }
  return true;
}

#else

bool gemm_bf16_dot(int64_t, int64_t, int64_t, MatrixRef<const BFloat16>, MatrixRef<const BFloat16>,
                   MatrixRef<BFloat16>, float, float, bool) {
  return false;
}

#endif

}  // namespace ricci::cpu
