#include "ricci/dtype.h"

#include <string>

namespace ricci {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

DType dtype_from_name(std::string_view name) {
  struct Alias {
    std::string_view name;
    DType dtype;
  };
  static constexpr Alias aliases[] = {
      {"bool", DType::Bool},       {"uint8", DType::UInt8},     {"int8", DType::Int8},
      {"int16", DType::Int16},     {"short", DType::Int16},     {"int32", DType::Int32},
      {"int", DType::Int32},       {"int64", DType::Int64},     {"long", DType::Int64},
      {"float16", DType::Float16}, {"half", DType::Float16},    {"f16", DType::Float16},
      {"bfloat16", DType::BFloat16}, {"bf16", DType::BFloat16}, {"float32", DType::Float32},
      {"float", DType::Float32},   {"f32", DType::Float32},     {"float64", DType::Float64},
      {"double", DType::Float64},  {"f64", DType::Float64},
  };
  for (const auto& a : aliases)
    if (a.name == name) return a.dtype;
  throw ValueError(detail::cat("[dtype] unknown dtype name '", name,
                               "'; expected one of bool, uint8, int8, int16, int32, int64, float16, bfloat16, "
                               "float32, float64"));
}

std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const DTypeCategory ca = category(a), cb = category(b);
  if (ca != cb) return ca > cb ? a : b;  // bool < integral < floating
  if (ca == DTypeCategory::Floating) {
    if (is_reduced_float(a) && is_reduced_float(b)) return DType::Float32;  // float16 with bfloat16
    return element_size(a) >= element_size(b) ? (element_size(a) == element_size(b) ? a : a) : b;
  }
  // Integral: uint8 with a signed type needs a signed type that holds 0..255.
  if (a == DType::UInt8 || b == DType::UInt8) {
    const DType other = a == DType::UInt8 ? b : a;
    return other == DType::Int8 ? DType::Int16 : other;
  }
  return element_size(a) >= element_size(b) ? a : b;
}

}  // namespace ricci
