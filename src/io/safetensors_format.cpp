// The safetensors header, read from untrusted bytes. Every check happens here, before any tensor
// is made, so that the loader only does pointer arithmetic on ranges proven to lie in the file.
// Where the format leaves a choice, we do what the reference implementation (the Rust crate)
// does: 100 MB header limit, offsets that tile the data buffer exactly (no holes, no overlap, no
// trailing bytes), checked shape products, unknown fields ignored. We are stricter in one place:
// duplicate keys are rejected (the reference keeps the last), since two readers that resolve a
// duplicate differently would see different tensors in the same file.
#include "io/safetensors_format.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "ricci/error.h"

namespace ricci::io {
namespace {

using json = nlohmann::json;

struct DTypeInfo {
  const char* name;
  std::optional<DType> dtype;
  size_t element_size;
  int rank;  // the reference crate's enum order; its writer puts larger ranks first
};

// Format dtypes with whole-byte elements. Sub-byte ones (F4, F6_*, packed 4-bit) are absent:
// ricci cannot size-check them, so they are rejected as unsupported.
constexpr DTypeInfo kDTypes[] = {
    {"BOOL", DType::Bool, 1, 0},     {"U8", DType::UInt8, 1, 1},        {"I8", DType::Int8, 1, 2},
    {"F8_E5M2", std::nullopt, 1, 3}, {"F8_E4M3", std::nullopt, 1, 4},   {"F8_E8M0", std::nullopt, 1, 5},
    {"I16", DType::Int16, 2, 6},     {"U16", std::nullopt, 2, 7},       {"F16", DType::Float16, 2, 8},
    {"BF16", DType::BFloat16, 2, 9}, {"I32", DType::Int32, 4, 10},      {"U32", std::nullopt, 4, 11},
    {"F32", DType::Float32, 4, 12},  {"C64", std::nullopt, 8, 13},      {"F64", DType::Float64, 8, 14},
    {"I64", DType::Int64, 8, 15},    {"U64", std::nullopt, 8, 16},
};

const DTypeInfo* find_dtype(const std::string& name) {
  for (const auto& info : kDTypes)
    if (name == info.name) return &info;
  return nullptr;
}
const DTypeInfo& info_of(DType dtype) {
  for (const auto& info : kDTypes)
    if (info.dtype == dtype) return info;
  throw DTypeError("[save_safetensors] unsupported dtype");  // unreachable: all ten are listed
}

std::string supported_list() {
  return "BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64";
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). Returns the offset
// of the first bad byte, or npos.
size_t invalid_utf8_at(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else return i;
    if (n - i < len) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string::npos;
}

const char* json_kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer: return "a negative integer";
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a non-integer number";
    default: return "an unexpected value";
  }
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class HeaderParser {
 public:
  HeaderParser(const std::string& source) : prefix_("[load_safetensors] '" + source + "': ") {}

  template <class... Args>
  [[noreturn]] void fail(const Args&... parts) const {
    throw IOError(detail::cat(prefix_, parts...));
  }

  // Parses with a callback that rejects duplicate keys and any nesting deeper than a valid
  // header has (object > entry > shape array), so a hostile header cannot make us build a
  // hundred million nested containers.
  json parse_json(const char* begin, const char* end) {
    std::vector<std::unordered_set<std::string>> keys_seen;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
      switch (event) {
        case json::parse_event_t::object_start:
          if (depth > 1) fail("header JSON nests objects deeper than a safetensors header can (invalid header)");
          keys_seen.emplace_back();
          break;
        case json::parse_event_t::array_start:
          if (depth > 2) fail("header JSON nests arrays deeper than a safetensors header can (invalid header)");
          break;
        case json::parse_event_t::key:
          if (!keys_seen.back().insert(parsed.get<std::string>()).second)
            fail("header JSON has the key \"", parsed.get<std::string>(), "\" twice",
                 depth == 1 ? "" : " in one object", "; a safetensors header needs unique keys");
          break;
        case json::parse_event_t::object_end:
          keys_seen.pop_back();
          break;
        default:
          break;
      }
      return true;
    };
    try {
      return json::parse(begin, end, callback, /*allow_exceptions=*/true);
    } catch (const json::exception& e) {
      fail("header is not valid JSON: ", e.what());
    }
  }

  uint64_t unsigned_field(const json& v, const std::string& name, const char* what) const {
    if (!v.is_number_unsigned())
      fail("tensor '", name, "': ", what, " must be a non-negative integer, got ", json_kind(v),
           v.is_number() ? " (" + v.dump() + ")" : std::string());
    return v.get<uint64_t>();
  }

  SafetensorsEntry parse_entry(const std::string& name, const json& v, uint64_t data_size) const {
    if (!v.is_object()) fail("tensor '", name, "': entry must be an object, got ", json_kind(v));
    SafetensorsEntry e;
    e.name = name;
    const auto dt = v.find("dtype");
    if (dt == v.end()) fail("tensor '", name, "': missing field \"dtype\"");
    if (!dt->is_string()) fail("tensor '", name, "': \"dtype\" must be a string, got ", json_kind(*dt));
    e.dtype_str = dt->get<std::string>();
    const DTypeInfo* info = find_dtype(e.dtype_str);
    if (!info)
      throw DTypeError(detail::cat(prefix_, "tensor '", name, "' has dtype \"", e.dtype_str,
                                   "\": unsupported dtype (ricci reads ", supported_list(), ")"));
    e.dtype = info->dtype;
    e.element_size = info->element_size;

    const auto sh = v.find("shape");
    if (sh == v.end()) fail("tensor '", name, "': missing field \"shape\"");
    if (!sh->is_array()) fail("tensor '", name, "': \"shape\" must be an array, got ", json_kind(*sh));
    // The product is checked in order, as the reference does: [2^40, 2^40, 0] overflows.
    uint64_t numel = 1;
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    for (const auto& d : *sh) {
      const uint64_t size = unsigned_field(d, name, "each \"shape\" entry");
      if (size > kMax || (size != 0 && numel > kMax / size))
        fail("tensor '", name, "': shape ", sh->dump(), " has more elements than fit in int64 (overflow)");
      numel *= size;
      e.shape.push_back(static_cast<int64_t>(size));
    }
    if (numel > kMax / e.element_size)
      fail("tensor '", name, "': shape ", sh->dump(), " of ", e.dtype_str, " needs more bytes than fit in int64 (overflow)");
    e.numel = static_cast<int64_t>(numel);

    const auto off = v.find("data_offsets");
    if (off == v.end()) fail("tensor '", name, "': missing field \"data_offsets\"");
    if (!off->is_array() || off->size() != 2)
      fail("tensor '", name, "': \"data_offsets\" must be [begin, end], got ", off->is_array() ? off->dump() : json_kind(*off));
    e.begin = unsigned_field((*off)[0], name, "data_offsets[0]");
    e.end = unsigned_field((*off)[1], name, "data_offsets[1]");
    if (e.begin > e.end)
      fail("tensor '", name, "': data_offsets [", e.begin, ", ", e.end, "] end before they begin");
    if (e.end > data_size)
      fail("tensor '", name, "': data_offsets [", e.begin, ", ", e.end, "] run past the end of the ", data_size,
           "-byte data buffer (truncated or corrupt file)");
    const uint64_t nbytes = numel * e.element_size;
    if (e.end - e.begin != nbytes)
      fail("tensor '", name, "': ", e.dtype_str, " of shape ", shape_str(e.shape), " needs ", nbytes,
           " bytes but data_offsets [", e.begin, ", ", e.end, "] span ", e.end - e.begin);
    return e;
  }

  void parse_metadata(const json& v, std::map<std::string, std::string>& out) const {
    if (v.is_null()) return;  // the reference reads null as "no metadata"
    if (!v.is_object()) fail("\"__metadata__\" must be an object of strings, got ", json_kind(v));
    for (const auto& [k, value] : v.items()) {
      if (!value.is_string())
        fail("\"__metadata__\" values must be strings, but \"", k, "\" is ", json_kind(value));
      out.emplace(k, value.get<std::string>());
    }
  }

 private:
  std::string prefix_;
};

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source) {
  HeaderParser p(source);
  if (size < 8)
    p.fail("file is ", size, " bytes, too short to hold the 8-byte header length (not a safetensors file, or truncated)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];  // little-endian on any host
  if (n > kMaxHeaderSize)
    p.fail("header length ", n, " exceeds the ", kMaxHeaderSize, "-byte limit (corrupt, or not a safetensors file)");
  if (n > size - 8)
    p.fail("header length ", n, " runs past the end of the ", size, "-byte file (truncated file)");
  const uint8_t* text = bytes + 8;
  if (const size_t bad = invalid_utf8_at(text, n); bad != std::string::npos)
    p.fail("header is not valid UTF-8 (bad byte 0x", std::hex, static_cast<int>(text[bad]), std::dec,
           " at header offset ", bad, ")");

  // nlohmann's lexer takes a NUL byte for the end of input and would ignore whatever follows it;
  // raw NUL is never valid JSON, so reject it before parsing.
  if (const void* nul = std::memchr(text, 0, n))
    p.fail("header is not valid JSON: it contains a NUL byte at header offset ",
           static_cast<const uint8_t*>(nul) - text, " (headers are padded with spaces, not NULs)");

  SafetensorsHeader h;
  h.data_start = 8 + n;
  h.data_size = size - h.data_start;
  const json root = p.parse_json(reinterpret_cast<const char*>(text), reinterpret_cast<const char*>(text + n));
  if (!root.is_object()) p.fail("header JSON must be an object, got ", json_kind(root));

  h.entries.reserve(root.size());
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") p.parse_metadata(value, h.metadata);
    else h.entries.push_back(p.parse_entry(key, value, h.data_size));
  }
  // json objects iterate by name, so ties between empty tensors at one offset break by name.
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const auto& e : h.entries) {
    if (e.begin < covered)
      p.fail("tensors '", prev->name, "' and '", e.name, "' overlap (data_offsets [", prev->begin, ", ", prev->end,
             "] and [", e.begin, ", ", e.end, "]); safetensors tensors must not share bytes");
    if (e.begin > covered)
      p.fail("bytes [", covered, ", ", e.begin, ") of the data buffer belong to no tensor (a hole before '", e.name,
             "'); the format requires tensors to cover the buffer contiguously");
    covered = e.end;
    prev = &e;
  }
  if (covered != h.data_size)
    p.fail("the last ", h.data_size - covered, " bytes of the ", h.data_size,
           "-byte data buffer belong to no tensor (incomplete metadata, or a file with trailing garbage)");
  return h;
}

const char* safetensors_dtype_name(DType dtype) { return info_of(dtype).name; }

void order_for_writing(std::vector<SafetensorsEntry>& entries) {
  std::sort(entries.begin(), entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    const int ra = find_dtype(a.dtype_str)->rank, rb = find_dtype(b.dtype_str)->rank;
    return ra != rb ? ra > rb : a.name < b.name;
  });
  uint64_t offset = 0;
  for (auto& e : entries) {
    e.begin = offset;
    offset += static_cast<uint64_t>(e.numel) * e.element_size;
    e.end = offset;
  }
}

std::string serialize_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                         const std::map<std::string, std::string>& metadata) {
  // Written by hand rather than through a json object, which would reorder the keys.
  auto quote = [](const std::string& s, const char* what) {
    try {
      return json(s).dump();
    } catch (const json::exception&) {
      throw ValueError(detail::cat("[save_safetensors] ", what, " is not valid UTF-8; safetensors headers are UTF-8 JSON"));
    }
  };
  std::string out = "{";
  if (!metadata.empty()) {
    out += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) out += ',';
      first = false;
      out += quote(k, "a metadata key");
      out += ':';
      out += quote(v, "a metadata value");
    }
    out += '}';
  }
  for (const auto& e : entries) {
    if (out.size() > 1) out += ',';
    out += quote(e.name, "a tensor name");
    out += ":{\"dtype\":\"";
    out += e.dtype_str;
    out += "\",\"shape\":[";
    for (size_t i = 0; i < e.shape.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(e.shape[i]);
    }
    out += "],\"data_offsets\":[" + std::to_string(e.begin) + ',' + std::to_string(e.end) + "]}";
  }
  out += '}';
  out.append((8 - out.size() % 8) % 8, ' ');
  return out;
}

}  // namespace ricci::io
