// Array conversions between float32 and the 16-bit floats. Every path gives exactly the bits of
// the scalar functions in half.h (round to nearest even, NaN quieting, subnormals), so a
// contiguous conversion and an element-by-element strided one always agree.
//
// float16 uses the F16C instructions where the CPU has them (picked once at runtime, so the
// library still runs on CPUs without F16C); bfloat16 uses AVX2 integer arithmetic, which is the
// scalar formula eight lanes at a time.
#include <cstring>

#include "core/cpu_features.h"
#include "ricci/half.h"

#include "backend/cpu/cpu_isa.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RICCI_X86 1
#endif

namespace ricci {

namespace {

void float_to_half_scalar(const float* src, Half* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i].bits = detail::float_to_half_bits(src[i]);
}
void half_to_float_scalar(const Half* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = detail::half_bits_to_float(src[i].bits);
}
void float_to_bfloat16_scalar(const float* src, BFloat16* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i].bits = detail::float_to_bfloat16_bits(src[i]);
}
void bfloat16_to_float_scalar(const BFloat16* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = detail::bfloat16_bits_to_float(src[i].bits);
}

#ifdef RICCI_X86

// VCVTPS2PH with round-to-nearest-even matches float_to_half_bits exactly, NaNs included
// (checked over edge cases in tests/test_half.cpp). The tail goes through a padded buffer so it
// takes the same instruction.
__attribute__((target("f16c,avx"))) void float_to_half_f16c(const float* src, Half* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  if (i < n) {
    float in[8] = {};
    uint16_t out[8];
    std::memcpy(in, src + i, (n - i) * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    std::memcpy(dst + i, out, (n - i) * sizeof(uint16_t));
  }
}

// VCVTPH2PS quiets a signalling NaN (sets the float's quiet bit) where half_bits_to_float keeps
// the payload as is. Blocks holding a signalling NaN (rare) take the scalar path.
__attribute__((target("f16c,avx"))) void half_to_float_f16c(const Half* src, float* dst, size_t n) {
  const __m128i exp_mask = _mm_set1_epi16(0x7e00);   // exponent + quiet bit
  const __m128i snan_exp = _mm_set1_epi16(0x7c00);   // all-ones exponent, quiet bit clear
  const __m128i mant_mask = _mm_set1_epi16(0x01ff);  // payload below the quiet bit
  const __m128i zero = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i snan = _mm_andnot_si128(_mm_cmpeq_epi16(_mm_and_si128(h, mant_mask), zero),
                                          _mm_cmpeq_epi16(_mm_and_si128(h, exp_mask), snan_exp));
    if (_mm_movemask_epi8(snan) != 0) [[unlikely]] {
      half_to_float_scalar(src + i, dst + i, 8);
      continue;
    }
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  half_to_float_scalar(src + i, dst + i, n - i);
}

// float_to_bfloat16_bits, eight lanes at a time: add 0x7fff plus the kept lowest bit, keep the
// top half; NaNs instead keep their top half with the quiet bit set.
__attribute__((target("avx2"))) inline __m256i bf16_round(__m256i x) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i bias = _mm256_set1_epi32(0x7fff);
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i inf = _mm256_set1_epi32(0x7f800000);
  const __m256i quiet = _mm256_set1_epi32(0x40);
  const __m256i top = _mm256_srli_epi32(x, 16);
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, bias), _mm256_and_si256(top, one)), 16);
  const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
  return _mm256_blendv_epi8(rounded, _mm256_or_si256(top, quiet), is_nan);
}

__attribute__((target("avx2"))) void float_to_bfloat16_avx2(const float* src, BFloat16* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_round(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    const __m256i b = bf16_round(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 8)));
    // packus works per 128-bit lane (a0-3 b0-3 | a4-7 b4-7); the permute restores a0-7 b0-7.
    // Every lane is <= 0xffff, so the unsigned saturation never bites.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
  float_to_bfloat16_scalar(src + i, dst + i, n - i);
}

__attribute__((target("avx2"))) void bfloat16_to_float_avx2(const BFloat16* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(w, 16));
  }
  bfloat16_to_float_scalar(src + i, dst + i, n - i);
}

// Both are part of the AVX2 level (Note [Capping the instruction set]); CPUs with F16C but no
// AVX2 (2012's Ivy Bridge) take the scalar conversions.
bool has_f16c() { return cpu::cpu_isa() >= cpu::CpuIsa::Avx2; }
bool has_avx2() { return cpu::cpu_isa() >= cpu::CpuIsa::Avx2; }

#endif  // RICCI_X86

}  // namespace

void convert_float_to_half(const float* src, Half* dst, size_t n) {
#ifdef RICCI_X86
  if (has_f16c()) return float_to_half_f16c(src, dst, n);
#endif
  float_to_half_scalar(src, dst, n);
}

void convert_half_to_float(const Half* src, float* dst, size_t n) {
#ifdef RICCI_X86
  if (has_f16c()) return half_to_float_f16c(src, dst, n);
#endif
  half_to_float_scalar(src, dst, n);
}

void convert_float_to_bfloat16(const float* src, BFloat16* dst, size_t n) {
#ifdef RICCI_X86
  if (has_avx2()) return float_to_bfloat16_avx2(src, dst, n);
#endif
  float_to_bfloat16_scalar(src, dst, n);
}

void convert_bfloat16_to_float(const BFloat16* src, float* dst, size_t n) {
#ifdef RICCI_X86
  if (has_avx2()) return bfloat16_to_float_avx2(src, dst, n);
#endif
  bfloat16_to_float_scalar(src, dst, n);
}

}  // namespace ricci
