#pragma once
// Transposing a tile in registers, for the copy kernel's blocked transpose (copy_kernels.cpp).
#include <cstdint>

namespace ricci::cpu {

// True when transpose_tile_16x16_b32 may run (AVX-512F on this CPU).
bool has_transpose_tile_16x16_b32();

// dst[j * dst_stride + i] = src[i * src_stride + j] for i, j < 16, on 4-byte elements (strides in
// elements). Requires has_transpose_tile_16x16_b32().
void transpose_tile_16x16_b32(const uint32_t* src, int64_t src_stride, uint32_t* dst, int64_t dst_stride);

}  // namespace ricci::cpu
