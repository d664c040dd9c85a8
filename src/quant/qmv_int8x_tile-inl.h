// The int8-activation decode tiles for one instruction set (Note [Int8 activations]), included
// by qmv_int8x_avx2.cpp once per set inside its own namespace, with
//   RICCI_INT8X_ATTR  the functions' target attribute,
//   RICCI_INT8X_VNNI  1 where the dot products are AVX512-VNNI's vpdpbusd on 256-bit vectors
//                     (u8 codes times s8 q, four products summed into each 32-bit lane), 0 for
//                     AVX2's vpmaddubsw / vpmaddwd.
// Both give the same exact 32-bit sums in the same lanes, so the same floats follow: the VNNI
// tiles equal the AVX2 ones bit for bit. VNNI saves 2 of the 7 integer µops per 64 4-bit codes,
// and for 8 bits it multiplies the bytes as they are (x as int8), where AVX2 widens both to 16 bits.
// Expects XRow, Int8xTile, kQmvRows and the avx2 lane helpers in scope.

// Σ code · q over one chunk of 64 4-bit codes, as eight 32-bit lanes (lane l: elements 8l..8l+7).
RICCI_INT8X_ATTR inline __m256i dot4(__m256i codes, const int8_t* q, __m256i low, __m256i ones) {
  const __m256i even = _mm256_and_si256(codes, low);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(codes, 4), low);
  const __m256i qe = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i qo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32));
#if RICCI_INT8X_VNNI
  (void)ones;
  return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), even, qe), odd, qo);
#else
  return _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(even, qe), _mm256_maddubs_epi16(odd, qo)), ones);
#endif
}

#if RICCI_INT8X_VNNI
using Q8 = int8_t;  // 8 bits: x's q as bytes, in memory order
// Σ code · q over one chunk of 32 8-bit codes at p, as eight 32-bit lanes (lane l: elements 4l..4l+3).
RICCI_INT8X_ATTR inline __m256i dot8(const uint8_t* p, const int8_t* q) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
}
#else
using Q8 = int16_t;  // 8 bits: x's q widened to 16 bits, in memory order
// Σ code · q over one chunk of 32 8-bit codes at p, as eight 32-bit lanes.
RICCI_INT8X_ATTR inline __m256i dot8(const uint8_t* p, const int16_t* q) {
  const __m256i lo = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i hi = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
  return _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q))),
                          _mm256_madd_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 16))));
}
#endif

// A tile's rows one at a time, so that the codes are one sequential stream (with a software
// prefetch 1 KiB ahead), and two accumulators (even and odd groups) so that two chains of
// multiply-adds overlap. Measured on Zen 3 from memory (8 matrices of 4096 x 4096 in turn): rows in
// pairs as the float kernel runs them, 755 µs per int4 product on one thread, 411 on two; one row
// at a time 553-667 and 313-410 (a raw read of the same bytes: 22.7 GB/s two rows interleaved,
// 25-28 GB/s as one stream).
template <int BITS, int GS, class S>
RICCI_INT8X_ATTR void tile_rows(const XRow& x, const uint8_t* const* w, const S* const* sc, const S* const* bi, int64_t G,
                          float* out) {
  constexpr int kCodes = 256 / BITS;  // per 32-byte chunk
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  constexpr int64_t kAhead = 1024;  // bytes (512 to 4096 measured alike, within the noise)
  for (int r = 0; r < kQmvRows; ++r) {
    const uint8_t* wr = w[r];
    const S* sr = sc[r];
    auto codes = [&](int64_t c) RICCI_INT8X_ATTR {  // chunk c, and a prefetch of the stream ahead
      if (c % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(wr + kAhead + 32 * c), _MM_HINT_T0);
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + 32 * c));
    };
    __m256 t0 = _mm256_setzero_ps(), t1 = t0;
    if constexpr (GS >= kCodes) {
      constexpr int kChunks = GS / kCodes;
      auto group = [&](int64_t g) RICCI_INT8X_ATTR {  // Σ over the group's chunks of d · Σ code q
        __m256 f = _mm256_setzero_ps();
        for (int c = 0; c < kChunks; ++c) {
          const int64_t ci = g * kChunks + c;
          if constexpr (BITS == 4) {
            const __m256i dot = dot4(codes(ci), static_cast<const int8_t*>(x.q) + kCodes * ci, low, ones);
            f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(x.dv + 8 * ci), f);
          } else {
            if (ci % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(wr + kAhead + 32 * ci), _MM_HINT_T0);
            const __m256i dot = dot8(wr + 32 * ci, static_cast<const Q8*>(x.q) + kCodes * ci);
            f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), bcast(x.d + ci), f);
          }
        }
        return f;
      };
      int64_t g = 0;
      for (; g + 2 <= G; g += 2) {
        t0 = _mm256_fmadd_ps(bcast(sr + g), group(g), t0);
        t1 = _mm256_fmadd_ps(bcast(sr + g + 1), group(g + 1), t1);
      }
      if (g < G) t0 = _mm256_fmadd_ps(bcast(sr + g), group(g), t0);
    } else {
      // 4 bits in groups of 32: lanes 0-3 of chunk c are group 2c, lanes 4-7 group 2c + 1. An odd
      // last group is half a chunk: 16 bytes loaded, the upper lanes zero (q and d zero there too).
      static_assert(BITS == 4 && GS == 32);
      const int8_t* q = static_cast<const int8_t*>(x.q);
      auto chunk = [&](int64_t c, __m256i v, __m256 s, __m256& t) RICCI_INT8X_ATTR {
        const __m256 sum = _mm256_cvtepi32_ps(dot4(v, q + kCodes * c, low, ones));
        const __m256 f = _mm256_mul_ps(sum, _mm256_loadu_ps(x.dv + 8 * c));
        t = _mm256_fmadd_ps(f, s, t);
      };
      const int64_t full = G / 2;  // whole chunks
      int64_t c = 0;
      for (; c + 2 <= full; c += 2) {
        chunk(c, codes(c), bcast_pair(sr + 2 * c), t0);
        chunk(c + 1, codes(c + 1), bcast_pair(sr + 2 * c + 2), t1);
      }
      if (c < full) chunk(c, codes(c), bcast_pair(sr + 2 * c), t0), ++c;
      if (2 * c < G)
        chunk(c, _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wr + 32 * c))),
              bcast(sr + 2 * c), t1);
    }
    out[r] = lane_sum(_mm256_add_ps(t0, t1)) + bias_dot_avx2(bi[r], x.xs, G);
  }
}

template <int BITS, class S>
Int8xTile<S> tile_for(int gs) {
  return gs == 32 ? &tile_rows<BITS, 32, S> : gs == 64 ? &tile_rows<BITS, 64, S> : &tile_rows<BITS, 128, S>;
}

