#pragma once
// Value conversion between element types, as the copy kernel and the ops do it: through float for
// the 16-bit floats, `!= 0` into bool.
#include <cstdint>
#include <type_traits>

#include "ricci/dtype.h"

namespace ricci::cpu {

// Float to integer. C++ leaves a value outside the target's range (and NaN) undefined; this gives
// what x86 (and so PyTorch's CPU kernels) does: truncate toward zero into int64 for int64 and into
// int32 for the narrower types, where NaN or a value out of that range becomes its minimum, then
// wrap to the target's width. So 300.0 -> int8 is 44, 128.0 -> -128, 1e10 -> int8 0, NaN -> int32
// INT32_MIN, as torch gives.
template <class D>
inline D float_to_int(double x) {
  if constexpr (sizeof(D) == 8) {
    const bool fits = x >= -9223372036854775808.0 && x < 9223372036854775808.0;
    return static_cast<D>(fits ? static_cast<int64_t>(x) : INT64_MIN);
  } else {
    const bool fits = x >= -2147483648.0 && x < 2147483648.0;
    return static_cast<D>(fits ? static_cast<int32_t>(x) : INT32_MIN);  // the narrowing wraps (C++20)
  }
}

template <class D, class S>
inline D cast(S v) {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bool>) {
    return static_cast<compute_t<S>>(v) != compute_t<S>(0);
  } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
    return D(static_cast<float>(static_cast<compute_t<S>>(v)));
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<compute_t<S>>) {
    return float_to_int<D>(static_cast<double>(static_cast<compute_t<S>>(v)));
  } else {
    return static_cast<D>(static_cast<compute_t<S>>(v));
  }
}

}  // namespace ricci::cpu
