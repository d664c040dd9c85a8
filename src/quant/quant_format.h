#pragma once
// The bit layout of quantized weights (include/ricci/quantize.h): the codes of a row are one
// little-endian bit stream, element e at bits [e * bits, (e + 1) * bits). Eight consecutive codes
// therefore fill exactly `bits` bytes, and every group (32, 64 or 128 codes) starts on a byte
// boundary: the helpers here work eight codes at a time. (The stream is read bytewise, which is
// the same as MLX's uint32 words on a little-endian CPU — every CPU ricci builds for.)
#include <cstdint>
#include <cstring>

#include "ricci/half.h"

namespace ricci::quant {

inline bool valid_bits(int64_t bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8; }
inline bool valid_group_size(int64_t gs) { return gs == 32 || gs == 64 || gs == 128; }

// Bytes of one packed row of k codes.
inline int64_t row_bytes(int64_t k, int bits) { return k * bits / 8; }

// The eight codes stored in the `bits` bytes at p.
inline void unpack8(const uint8_t* p, int bits, uint32_t* q) {
  uint64_t v = 0;
  std::memcpy(&v, p, static_cast<size_t>(bits));
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  for (int i = 0; i < 8; ++i) q[i] = static_cast<uint32_t>((v >> (i * bits)) & mask);
}

// Writes eight codes (each < 2^bits) as `bits` bytes at p.
inline void pack8(const uint32_t* q, int bits, uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(q[i]) << (i * bits);
  std::memcpy(p, &v, static_cast<size_t>(bits));
}

// Scales and biases as the compute type.
inline float to_compute(float v) { return v; }
inline float to_compute(Half v) { return static_cast<float>(v); }
inline float to_compute(BFloat16 v) { return static_cast<float>(v); }
inline double to_compute(double v) { return v; }

// dst[0, n) = s * q + b for n codes (n a multiple of 8) of one group starting at byte p.
template <class Acc>
inline void dequantize_run(const uint8_t* p, int bits, int64_t n, Acc s, Acc b, Acc* dst) {
  // 8 and 4 bits (the common widths) as plain byte loops, which the compiler vectorises.
  if (bits == 8) {
    for (int64_t e = 0; e < n; ++e) dst[e] = s * static_cast<Acc>(p[e]) + b;
    return;
  }
  if (bits == 4) {
    for (int64_t i = 0; i < n / 2; ++i) {
      dst[2 * i] = s * static_cast<Acc>(p[i] & 15) + b;
      dst[2 * i + 1] = s * static_cast<Acc>(p[i] >> 4) + b;
    }
    return;
  }
  uint32_t q[8];
  for (int64_t e = 0; e < n; e += 8, p += bits) {
    unpack8(p, bits, q);
    for (int i = 0; i < 8; ++i) dst[e + i] = s * static_cast<Acc>(q[i]) + b;
  }
}

}  // namespace ricci::quant
