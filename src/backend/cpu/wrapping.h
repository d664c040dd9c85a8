#pragma once
// Integer arithmetic that wraps around on overflow, as PyTorch's integer tensors do. Signed
// overflow is undefined behaviour in C++, so the arithmetic runs in the unsigned type of the same
// width, where wrapping is defined, and converts back (modular since C++20).
#include <type_traits>

namespace ricci::cpu {

template <class T>
using wrap_unsigned_t = std::make_unsigned_t<std::common_type_t<T, unsigned>>;

template <class T>
constexpr T wrapping_add(T x, T y) {
  return static_cast<T>(static_cast<wrap_unsigned_t<T>>(x) + static_cast<wrap_unsigned_t<T>>(y));
}
template <class T>
constexpr T wrapping_sub(T x, T y) {
  return static_cast<T>(static_cast<wrap_unsigned_t<T>>(x) - static_cast<wrap_unsigned_t<T>>(y));
}
template <class T>
constexpr T wrapping_mul(T x, T y) {
  return static_cast<T>(static_cast<wrap_unsigned_t<T>>(x) * static_cast<wrap_unsigned_t<T>>(y));
}
template <class T>
constexpr T wrapping_neg(T x) {
  return wrapping_sub(T(0), x);
}

// x + y and x * y for accumulators and read-modify-write kernels (sums, products, index_add,
// index_put(accumulate=true)): wrapping for integers, plain arithmetic for floats.
template <class T>
constexpr T acc_add(T x, T y) {
  if constexpr (std::is_integral_v<T>) return wrapping_add(x, y);
  else return x + y;
}
template <class T>
constexpr T acc_mul(T x, T y) {
  if constexpr (std::is_integral_v<T>) return wrapping_mul(x, y);
  else return x * y;
}

}  // namespace ricci::cpu
