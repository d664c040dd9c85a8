// A 16 x 16 transpose of 4-byte elements in AVX-512 registers: 16 row loads, four rounds of
// shuffles, 16 row stores. Element by element, the same tile costs 256 scalar loads and stores,
// and every load touches a different row of the source.
#include "backend/cpu/transpose_tile.h"

#include "backend/cpu/cpu_isa.h"

#if defined(__x86_64__)
// GCC 12 reports the intentionally undefined upper halves inside its own AVX-512 cast intrinsics.
#if !defined(__clang__)  // a GCC-only warning (clang builds the fuzzers)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#endif

namespace ricci::cpu {

#if defined(__x86_64__)

bool has_transpose_tile_16x16_b32() { return cpu_isa() >= CpuIsa::Avx512; }

__attribute__((target("avx512f"))) void transpose_tile_16x16_b32(const uint32_t* src, int64_t src_stride,
                                                                  uint32_t* dst, int64_t dst_stride) {
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * src_stride);
  // Round 1: interleave row pairs; within each 128-bit lane, (r0[c], r1[c]) for two columns c.
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // Round 2: 64-bit interleave; lane L of r[4k + j] now holds rows 4k..4k+3 of column 4L + j.
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m512d a = _mm512_castps_pd(t[4 * k]), b = _mm512_castps_pd(t[4 * k + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * k + 2]), d = _mm512_castps_pd(t[4 * k + 3]);
    r[4 * k + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // Rounds 3 and 4: gather lane L of the four row groups into output row 4L + j.
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512 even01 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);   // lanes 0, 2 of groups 0, 1
    const __m512 odd01 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);    // lanes 1, 3 of groups 0, 1
    const __m512 even23 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 odd23 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    t[j] = _mm512_shuffle_f32x4(even01, even23, 0x88);       // lane 0 -> column j
    t[8 + j] = _mm512_shuffle_f32x4(even01, even23, 0xdd);   // lane 2 -> column 8 + j
    t[4 + j] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);     // lane 1 -> column 4 + j
    t[12 + j] = _mm512_shuffle_f32x4(odd01, odd23, 0xdd);    // lane 3 -> column 12 + j
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * dst_stride, t[i]);
}

#else

bool has_transpose_tile_16x16_b32() { return false; }
void transpose_tile_16x16_b32(const uint32_t*, int64_t, uint32_t*, int64_t) {}

#endif

}  // namespace ricci::cpu
