#pragma once
// Value conversion between element types, as the copy kernel and the ops do it: through float for
// the 16-bit floats, `!= 0` into bool.
#include <type_traits>

#include "ricci/dtype.h"

namespace ricci::cpu {

template <class D, class S>
inline D cast(S v) {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (std::is_same_v<D, bool>) {
    return static_cast<compute_t<S>>(v) != compute_t<S>(0);
  } else if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>) {
    return D(static_cast<float>(static_cast<compute_t<S>>(v)));
  } else {
    return static_cast<D>(static_cast<compute_t<S>>(v));
  }
}

}  // namespace ricci::cpu
