#pragma once
// Scalar: a C++ number on its way into a tensor op (fill values, `x * 2.0`, `item()` results).
// It remembers its category so `int_tensor * 2` stays integral and `float16_tensor * 2.5` stays
// float16: a scalar never widens a tensor's dtype within its category (PyTorch's rule).
#include <bit>
#include <cstdint>
#include <ostream>
#include <type_traits>

#include "ricci/dtype.h"

namespace ricci {

class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Float };
  Scalar() : kind_(Kind::Int), i_(0) {}
  Scalar(bool v) : kind_(Kind::Bool), i_(v) {}
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : kind_(Kind::Float), d_(static_cast<double>(v)) {}
  Scalar(Half v) : kind_(Kind::Float), d_(static_cast<float>(v)) {}
  Scalar(BFloat16 v) : kind_(Kind::Float), d_(static_cast<float>(v)) {}

  Kind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  double to_double() const { return kind_ == Kind::Float ? d_ : static_cast<double>(i_); }
  // A float outside int64's range (NaN and the infinities too) gives INT64_MIN, what x86's
  // conversion — and so PyTorch on the CPU — gives; C++ leaves the plain cast undefined.
  int64_t to_int() const {
    if (kind_ != Kind::Float) return i_;
    return d_ >= -9223372036854775808.0 && d_ < 9223372036854775808.0 ? static_cast<int64_t>(d_) : INT64_MIN;
  }
  template <class T>
  T to() const {
    if constexpr (std::is_same_v<T, bool>) return kind_ == Kind::Float ? d_ != 0 : i_ != 0;
    else if constexpr (std::is_integral_v<T>) return static_cast<T>(to_int());
    else return static_cast<T>(static_cast<compute_t<T>>(to_double()));
  }
  // The dtype a tensor made from this scalar alone gets: bool, int64 or float32 (as torch.tensor).
  DType default_dtype() const {
    return kind_ == Kind::Bool ? DType::Bool : kind_ == Kind::Int ? DType::Int64 : DType::Float32;
  }
  // Same kind and same value; floats compare by their bits (NaN equals itself, -0 differs from 0),
  // which is what deciding that two ops compute the same thing needs.
  bool operator==(const Scalar& o) const {
    if (kind_ != o.kind_) return false;
    if (kind_ != Kind::Float) return i_ == o.i_;
    return std::bit_cast<uint64_t>(d_) == std::bit_cast<uint64_t>(o.d_);
  }

 private:
  Kind kind_;
  union {
    int64_t i_;
    double d_;
  };
};

std::ostream& operator<<(std::ostream& os, const Scalar& s);

}  // namespace ricci
