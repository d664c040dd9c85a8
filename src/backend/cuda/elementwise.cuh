#pragma once
// What the CUDA elementwise kernels (.cu only) share: device-side element types, conversions giving the
// same bits as the CPU (half.h's formulas, not the hardware's NaN canonicalisation), and a
// strided loop over N operands whose sizes/strides travel by value in a small struct.
#include <cstdint>
#include <type_traits>

#include "backend/cuda/launch.h"

namespace ricci::cuda_backend {

// ---- element types on the device -----------------------------------------------------------------
struct f16 { uint16_t bits; };
struct bf16 { uint16_t bits; };

// Calls fn.template operator()<T>() with the device type of `type`; false when it's not handled.
template <class Fn>
bool dispatch_all(ElemType type, Fn&& fn) {
  switch (type) {
    case ElemType::Bool: fn.template operator()<bool>(); return true;
    case ElemType::UInt8: fn.template operator()<uint8_t>(); return true;
    case ElemType::Int8: fn.template operator()<int8_t>(); return true;
    case ElemType::Int16: fn.template operator()<int16_t>(); return true;
    case ElemType::Int32: fn.template operator()<int32_t>(); return true;
    case ElemType::Int64: fn.template operator()<int64_t>(); return true;
    case ElemType::Float16: fn.template operator()<f16>(); return true;
    case ElemType::BFloat16: fn.template operator()<bf16>(); return true;
    case ElemType::Float32: fn.template operator()<float>(); return true;
    case ElemType::Float64: fn.template operator()<double>(); return true;
  }
  return false;
}

__device__ inline float to_float(f16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1fu;
  const uint32_t mantissa = h.bits & 0x3ffu;
  if (exponent == 0x1f) return __uint_as_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return __uint_as_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

__device__ inline float to_float(bf16 b) { return __uint_as_float(static_cast<uint32_t>(b.bits) << 16); }

__device__ inline f16 to_f16(float f) {
  uint32_t x = __float_as_uint(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u)
    return {static_cast<uint16_t>(sign | 0x7c00u | (x > 0x7f800000u ? (0x200u | ((x >> 13) & 0x3ffu)) : 0u))};
  if (x >= 0x477ff000u) return {static_cast<uint16_t>(sign | 0x7c00u)};
  if (x >= 0x38800000u) {
    x += 0xfffu + ((x >> 13) & 1u);
    return {static_cast<uint16_t>(sign | ((x - 0x38000000u) >> 13))};
  }
  const uint32_t exponent = x >> 23;
  if (exponent < 102) return {static_cast<uint16_t>(sign)};
  const uint32_t mantissa = (x & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;
  uint32_t result = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (result & 1u))) ++result;
  return {static_cast<uint16_t>(sign | result)};
}

__device__ inline bf16 to_bf16(float f) {
  const uint32_t x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((x >> 16) | 0x40u)};
  return {static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16)};
}

// The value arithmetic sees: float for the 16-bit floats, the type itself otherwise.
template <class T> struct compute { using type = T; };
template <> struct compute<f16> { using type = float; };
template <> struct compute<bf16> { using type = float; };
template <class T> using compute_of = typename compute<T>::type;

template <class T> __device__ inline compute_of<T> load(T v) {
  if constexpr (std::is_same_v<T, f16> || std::is_same_v<T, bf16>) return to_float(v);
  else return v;
}

// Converts any compute value to element type D the way the CPU does: bool is "!= 0", small
// integers wrap through int64, 16-bit floats round from float.
template <class D, class V> __device__ inline D store_as(V v) {
  if constexpr (std::is_same_v<D, f16>) return to_f16(static_cast<float>(v));
  else if constexpr (std::is_same_v<D, bf16>) return to_bf16(static_cast<float>(v));
  else if constexpr (std::is_same_v<D, bool>) return v != V(0);
  else if constexpr (std::is_integral_v<D> && sizeof(D) < 8 && std::is_floating_point_v<V>)
    return static_cast<D>(static_cast<int64_t>(v));
  else return static_cast<D>(v);
}

// ---- strided loop ----------------------------------------------------------------------------------
// Element offsets (in elements) of linear index i for every operand.
template <int N>
__device__ inline void offsets(const LoopParams<N>& p, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = p.ndim - 1; d > 0; --d) {
    const int64_t idx = i % p.sizes[d];
    i /= p.sizes[d];
    for (int k = 0; k < N; ++k) off[k] += idx * p.strides[k][d];
  }
  if (p.ndim > 0)
    for (int k = 0; k < N; ++k) off[k] += i * p.strides[k][0];
}

// Grid-stride loop over the p.numel elements.
#define RICCI_CUDA_KERNEL_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

inline constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65536 ? b : 65536);  // grid-stride loops cover the rest
}


}  // namespace ricci::cuda_backend
