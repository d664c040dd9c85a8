// Printing tensors the way PyTorch's repr does (torch/_tensor_str.py with default print options),
// so that output pasted from a PyTorch session and from ricci can be compared by eye or by string.
//
// The steps mirror PyTorch's: pick the elements that will be shown (all, or 3 from each end of
// every dim once numel > 1000), let one formatter choose the style (integers, fixed with 4
// decimals, or scientific) and a common width from those elements, then lay the nested lists out
// in 80 columns and append the suffixes (dtype=, device=, requires_grad= / grad_fn=).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ricci/autograd.h"
#include "ricci/scalar.h"
#include "ricci/tensor.h"

namespace ricci {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;  // more elements than this are summarised
constexpr int64_t kEdgeItems = 3;
constexpr int kLineWidth = 80;

// One element, read as a double (float dtypes) or exactly as an integer (int and bool dtypes).
struct Value {
  double d = 0.0;
  int64_t i = 0;
};

std::string printf_str(const char* fmt, int precision, double v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, precision, v);
  return buf;
}

// Python's "{:.Nf}" / "{:.Ne}": like printf, except that NaN never carries a sign.
std::string format_fixed(double v, int precision) {
  if (std::isnan(v)) return "nan";
  return printf_str("%.*f", precision, v);
}
std::string format_sci(double v, int precision) {
  if (std::isnan(v)) return "nan";
  return printf_str("%.*e", precision, v);
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// PyTorch's _Formatter: the style and width every element of one tensor is printed with.
class Formatter {
 public:
  Formatter(DType dtype, const std::vector<Value>& values) : dtype_(dtype) {
    if (!is_floating_point(dtype)) {
      for (const Value& v : values) max_width_ = std::max(max_width_, plain(v).size());
      return;
    }
    // Only nonzero finite values decide the style; nan and inf fit any style.
    double lo = INFINITY, hi = 0.0;
    bool any = false;
    for (const Value& v : values) {
      if (!std::isfinite(v.d) || v.d == 0.0) continue;
      any = true;
      lo = std::min(lo, std::abs(v.d));
      hi = std::max(hi, std::abs(v.d));
      if (v.d != std::ceil(v.d)) int_mode_ = false;
    }
    if (!any) return;
    // Integers switch to scientific only for a wide range; fractions also for tiny magnitudes.
    sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (const Value& v : values) {
      if (!std::isfinite(v.d) || v.d == 0.0) continue;
      const size_t width = sci_mode_   ? format_sci(v.d, kPrecision).size()
                           : int_mode_ ? format_fixed(v.d, 0).size() + 1  // the trailing "."
                                       : format_fixed(v.d, kPrecision).size();
      max_width_ = std::max(max_width_, width);
    }
  }

  size_t width() const { return max_width_; }

  std::string format(const Value& v) const {
    std::string s;
    if (!is_floating_point(dtype_)) {
      s = plain(v);
    } else if (sci_mode_) {
      s = format_sci(v.d, kPrecision);
    } else if (int_mode_) {
      s = format_fixed(v.d, 0);
      if (std::isfinite(v.d)) s += ".";  // "1." says "float" where "1" would say "int"
    } else {
      s = format_fixed(v.d, kPrecision);
    }
    return pad_left(s, max_width_);
  }

 private:
  std::string plain(const Value& v) const {
    if (dtype_ == DType::Bool) return v.i ? "True" : "False";
    return std::to_string(v.i);
  }

  DType dtype_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t max_width_ = 1;
};

// Walks a CPU tensor of any layout through its strides.
class Printer {
 public:
  explicit Printer(const Tensor& t)
      : t_(t), base_(static_cast<const char*>(t.data_ptr())), summarize_(t.numel() > kThreshold) {}

  std::string body(int indent) {
    std::vector<Value> shown;
    collect(0, 0, shown);
    formatter_.emplace(t_.dtype(), shown);
    return nested(0, 0, indent);
  }

 private:
  // Indices of dim d that are printed, with -1 where "..." stands for the ones left out.
  std::vector<int64_t> shown_indices(int64_t d) const {
    const int64_t n = t_.size(d);
    std::vector<int64_t> idx;
    if (summarize_ && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
      idx.push_back(-1);
      for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    } else {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
    }
    return idx;
  }

  Value at(int64_t offset) const {
    const char* p = base_ + offset * static_cast<int64_t>(t_.element_size());
    Value v;
    switch (t_.dtype()) {
      case DType::Bool: v.i = *reinterpret_cast<const bool*>(p); break;
      case DType::UInt8: v.i = *reinterpret_cast<const uint8_t*>(p); break;
      case DType::Int8: v.i = *reinterpret_cast<const int8_t*>(p); break;
      case DType::Int16: v.i = *reinterpret_cast<const int16_t*>(p); break;
      case DType::Int32: v.i = *reinterpret_cast<const int32_t*>(p); break;
      case DType::Int64: v.i = *reinterpret_cast<const int64_t*>(p); break;
      case DType::Float16: v.d = static_cast<float>(*reinterpret_cast<const Half*>(p)); break;
      case DType::BFloat16: v.d = static_cast<float>(*reinterpret_cast<const BFloat16*>(p)); break;
      case DType::Float32: v.d = *reinterpret_cast<const float*>(p); break;
      case DType::Float64: v.d = *reinterpret_cast<const double*>(p); break;
    }
    return v;
  }

  void collect(int64_t d, int64_t offset, std::vector<Value>& out) const {
    if (d == t_.dim()) {
      out.push_back(at(offset));
      return;
    }
    for (int64_t i : shown_indices(d)) {
      if (i >= 0) collect(d + 1, offset + i * t_.stride(d), out);
    }
  }

  std::string nested(int64_t d, int64_t offset, int indent) const {
    const int64_t remaining = t_.dim() - d;
    if (remaining == 0) return formatter_->format(at(offset));
    if (remaining == 1) return vector(d, offset, indent);
    std::string sep = "," + std::string(static_cast<size_t>(remaining - 1), '\n') + std::string(indent + 1, ' ');
    std::string s = "[";
    bool first = true;
    for (int64_t i : shown_indices(d)) {
      if (!first) s += sep;
      first = false;
      s += i < 0 ? std::string("...") : nested(d + 1, offset + i * t_.stride(d), indent + 1);
    }
    return s + "]";
  }

  // The innermost dim: as many elements per line as fit in 80 columns at this indent.
  std::string vector(int64_t d, int64_t offset, int indent) const {
    const int64_t element_length = static_cast<int64_t>(formatter_->width()) + 2;  // with ", "
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / element_length);
    std::vector<std::string> items;
    for (int64_t i : shown_indices(d)) items.push_back(i < 0 ? " ..." : formatter_->format(at(offset + i * t_.stride(d))));
    std::string s = "[";
    for (size_t k = 0; k < items.size(); ++k) {
      if (k > 0) s += k % static_cast<size_t>(per_line) == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
      s += items[k];
    }
    return s + "]";
  }

  const Tensor& t_;
  const char* base_;
  bool summarize_;
  std::optional<Formatter> formatter_;
};

bool has_default_dtype(DType d) { return d == DType::Float32 || d == DType::Int64 || d == DType::Bool; }

// Python's str(tuple): "(2, 3)", "(0,)", "()".
std::string tuple_str(IntArrayRef dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

// PyTorch's _add_suffixes, including its count of the last line's length.
std::string add_suffixes(const std::string& tensor_str, const std::vector<std::string>& suffixes, int indent) {
  const size_t newline = tensor_str.rfind('\n');
  int64_t last_line_len = static_cast<int64_t>(tensor_str.size()) -
                          (newline == std::string::npos ? -1 : static_cast<int64_t>(newline)) + 1;
  std::string s = tensor_str;
  for (const std::string& suffix : suffixes) {
    const int64_t len = static_cast<int64_t>(suffix.size());
    if (last_line_len + len + 2 > kLineWidth) {
      s += ",\n" + std::string(indent, ' ') + suffix;
      last_line_len = indent + len;
    } else {
      s += ", " + suffix;
      last_line_len += len + 2;
    }
  }
  return s + ")";
}

// Python's repr(float): the shortest digits that round-trip, fixed notation for exponents in
// [-4, 16), scientific otherwise, and always a "." or an exponent so it reads as a float.
std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, res.ptr);  // "-1.2345e+02": shortest round-trip digits
  const size_t e_pos = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  if (exponent < -4 || exponent >= 16) return sci;
  const bool negative = sci[0] == '-';
  std::string digits;
  for (size_t k = negative ? 1 : 0; k < e_pos; ++k)
    if (sci[k] != '.') digits += sci[k];
  std::string s;
  if (exponent >= 0) {
    const size_t int_len = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_len) {
      s = digits + std::string(int_len - digits.size(), '0') + ".0";
    } else {
      s = digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  } else {
    s = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  return negative ? "-" + s : s;
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const int indent = static_cast<int>(prefix.size());
  std::vector<std::string> suffixes;
  if (is_cuda()) suffixes.push_back("device='cuda:" + std::to_string(device().normalized_index()) + "'");

  std::string body;
  if (numel() == 0) {
    // An empty tensor shows no element to tell its shape or dtype by, so both are spelled out.
    if (dim() != 1) suffixes.push_back("size=" + tuple_str(shape()));
    if (dtype() != DType::Float32) suffixes.push_back("dtype=" + std::string(dtype_name(dtype())));
    body = "[]";
  } else {
    if (!has_default_dtype(dtype())) suffixes.push_back("dtype=" + std::string(dtype_name(dtype())));
    Tensor host = *this;
    if (!is_cpu()) {
      autograd::NoGradGuard no_grad;  // printing must not grow the graph
      host = detach().to(kCPU);
    }
    body = Printer(host).body(indent);
  }

  if (const auto fn = grad_fn()) {
    suffixes.push_back("grad_fn=<" + fn->name() + ">");
  } else if (requires_grad()) {
    suffixes.push_back("requires_grad=True");
  }
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

std::ostream& operator<<(std::ostream& os, IntArrayRef dims) {
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  return os << "]";
}

std::ostream& operator<<(std::ostream& os, const Scalar& s) {
  switch (s.kind()) {
    case Scalar::Kind::Bool: return os << (s.to_int() ? "True" : "False");
    case Scalar::Kind::Int: return os << s.to_int();
    case Scalar::Kind::Float: return os << python_float_repr(s.to_double());
  }
  return os;
}

}  // namespace ricci
