#pragma once
// The ten element types, their sizes, categories and PyTorch's promotion rule.
#include <cstdint>
#include <ostream>
#include <string_view>
#include <type_traits>

#include "ricci/error.h"
#include "ricci/half.h"

namespace ricci {

enum class DType : uint8_t {
  Bool, UInt8, Int8, Int16, Int32, Int64, Float16, BFloat16, Float32, Float64,
};
inline constexpr int kNumDTypes = 10;

// Short names so user code reads like PyTorch: ricci::float32, ricci::int64, ...
inline constexpr DType bool_ = DType::Bool, uint8 = DType::UInt8, int8 = DType::Int8, int16 = DType::Int16,
                       int32 = DType::Int32, int64 = DType::Int64, float16 = DType::Float16,
                       bfloat16 = DType::BFloat16, float32 = DType::Float32, float64 = DType::Float64;

enum class DTypeCategory : uint8_t { Bool, Integral, Floating };

constexpr size_t element_size(DType t) {
  switch (t) {
    case DType::Bool: case DType::UInt8: case DType::Int8: return 1;
    case DType::Int16: case DType::Float16: case DType::BFloat16: return 2;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}
constexpr DTypeCategory category(DType t) {
  if (t == DType::Bool) return DTypeCategory::Bool;
  if (t == DType::Float16 || t == DType::BFloat16 || t == DType::Float32 || t == DType::Float64)
    return DTypeCategory::Floating;
  return DTypeCategory::Integral;
}
constexpr bool is_floating_point(DType t) { return category(t) == DTypeCategory::Floating; }
constexpr bool is_integral(DType t, bool include_bool = false) {
  return category(t) == DTypeCategory::Integral || (include_bool && t == DType::Bool);
}
constexpr bool is_reduced_float(DType t) { return t == DType::Float16 || t == DType::BFloat16; }

// "float32", "bfloat16", ... (PyTorch's names without the torch. prefix).
std::string_view dtype_name(DType t);
// Parses "float32", "float", "f32", "bf16", "int64", "long", "bool", ... Throws ValueError.
DType dtype_from_name(std::string_view name);
std::ostream& operator<<(std::ostream& os, DType t);

// PyTorch's promotion of two tensor dtypes: the higher category wins; within a category the
// wider type; float16 with bfloat16 gives float32; uint8 with int8 gives int16.
DType promote_types(DType a, DType b);

// The C++ type behind each dtype, and back.
template <DType T> struct dtype_cpp;
template <> struct dtype_cpp<DType::Bool> { using type = bool; };
template <> struct dtype_cpp<DType::UInt8> { using type = uint8_t; };
template <> struct dtype_cpp<DType::Int8> { using type = int8_t; };
template <> struct dtype_cpp<DType::Int16> { using type = int16_t; };
template <> struct dtype_cpp<DType::Int32> { using type = int32_t; };
template <> struct dtype_cpp<DType::Int64> { using type = int64_t; };
template <> struct dtype_cpp<DType::Float16> { using type = Half; };
template <> struct dtype_cpp<DType::BFloat16> { using type = BFloat16; };
template <> struct dtype_cpp<DType::Float32> { using type = float; };
template <> struct dtype_cpp<DType::Float64> { using type = double; };
template <DType T> using dtype_cpp_t = typename dtype_cpp<T>::type;

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int8_t>() { return DType::Int8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::Int16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<Half>() { return DType::Float16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::BFloat16; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

// The type arithmetic on T is carried out in: float for the 16-bit floats, T otherwise.
template <class T> struct compute_type { using type = T; };
template <> struct compute_type<Half> { using type = float; };
template <> struct compute_type<BFloat16> { using type = float; };
template <class T> using compute_t = typename compute_type<T>::type;

}  // namespace ricci

// RICCI_DISPATCH_ALL(dtype, "op", [&]<class scalar_t>() { ... }): calls the template lambda with
// the C++ type of dtype. _FLOAT restricts to the four float types; _NUMERIC excludes bool.
#define RICCI_DISPATCH_CASE_(D, ...) \
  case ::ricci::DType::D: return (__VA_ARGS__).template operator()<::ricci::dtype_cpp_t<::ricci::DType::D>>();
#define RICCI_DISPATCH_FLOAT_CASES_(...)                                                        \
  RICCI_DISPATCH_CASE_(Float32, __VA_ARGS__) RICCI_DISPATCH_CASE_(Float64, __VA_ARGS__)         \
  RICCI_DISPATCH_CASE_(Float16, __VA_ARGS__) RICCI_DISPATCH_CASE_(BFloat16, __VA_ARGS__)
#define RICCI_DISPATCH_INT_CASES_(...)                                                          \
  RICCI_DISPATCH_CASE_(UInt8, __VA_ARGS__) RICCI_DISPATCH_CASE_(Int8, __VA_ARGS__)              \
  RICCI_DISPATCH_CASE_(Int16, __VA_ARGS__) RICCI_DISPATCH_CASE_(Int32, __VA_ARGS__)             \
  RICCI_DISPATCH_CASE_(Int64, __VA_ARGS__)
#define RICCI_DISPATCH_FAIL_(dtype, opname)                                                     \
  default:                                                                                      \
    throw ::ricci::DTypeError(::ricci::detail::cat("[", opname, "] not implemented for dtype ", \
                                                   ::ricci::dtype_name(dtype)));
#define RICCI_DISPATCH_ALL(dtype, opname, ...)                                            \
  [&] {                                                                                   \
    switch (dtype) {                                                                      \
      RICCI_DISPATCH_FLOAT_CASES_(__VA_ARGS__)                                            \
      RICCI_DISPATCH_INT_CASES_(__VA_ARGS__)                                              \
      RICCI_DISPATCH_CASE_(Bool, __VA_ARGS__)                                             \
      RICCI_DISPATCH_FAIL_(dtype, opname)                                                 \
    }                                                                                     \
  }()
#define RICCI_DISPATCH_NUMERIC(dtype, opname, ...)                                        \
  [&] {                                                                                   \
    switch (dtype) {                                                                      \
      RICCI_DISPATCH_FLOAT_CASES_(__VA_ARGS__)                                            \
      RICCI_DISPATCH_INT_CASES_(__VA_ARGS__)                                              \
      RICCI_DISPATCH_FAIL_(dtype, opname)                                                 \
    }                                                                                     \
  }()
#define RICCI_DISPATCH_FLOAT(dtype, opname, ...)                                          \
  [&] {                                                                                   \
    switch (dtype) {                                                                      \
      RICCI_DISPATCH_FLOAT_CASES_(__VA_ARGS__)                                            \
      RICCI_DISPATCH_FAIL_(dtype, opname)                                                 \
    }                                                                                     \
  }()
#define RICCI_DISPATCH_INTEGRAL(dtype, opname, ...)                                       \
  [&] {                                                                                   \
    switch (dtype) {                                                                      \
      RICCI_DISPATCH_INT_CASES_(__VA_ARGS__)                                              \
      RICCI_DISPATCH_CASE_(Bool, __VA_ARGS__)                                             \
      RICCI_DISPATCH_FAIL_(dtype, opname)                                                 \
    }                                                                                     \
  }()
