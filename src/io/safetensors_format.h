#pragma once
// The safetensors header: parsing and validating it from untrusted bytes, and writing it.
// Deliberately free of Tensor, so the libFuzzer target (fuzz/) compiles just this file with
// sanitizers in seconds; src/io/safetensors.cpp builds tensors on top.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ricci/dtype.h"

namespace ricci::io {

inline constexpr uint64_t kMaxHeaderSize = 100'000'000;  // the reference implementation's limit

struct SafetensorsEntry {
  std::string name;
  std::string dtype_str;       // as spelled in the file: "F32", "U32", ...
  std::optional<DType> dtype;  // nullopt: a format dtype ricci has no type for
  size_t element_size = 0;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  uint64_t begin = 0, end = 0;  // byte range in the data buffer
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by data offset: file order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + header length: where the data buffer starts in the file
  uint64_t data_size = 0;   // equals the end of the last tensor (validated)
};

// Parses and fully validates the file image `bytes[0, size)`: afterwards every entry's
// [data_start + begin, data_start + end) lies inside it and the entries tile the buffer exactly.
// `source` names the file in errors. Throws IOError for malformed files, DTypeError for dtype
// names the format does not define (or defines below one byte per element).
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source);

// The format's name for a ricci dtype ("F32", "BOOL", ...).
const char* safetensors_dtype_name(DType dtype);

// Entries in the reference writer's order: larger dtype alignment first, then by name.
// `entries[i].begin/end` are filled in here from their sizes; each dtype_str must be a format dtype.
void order_for_writing(std::vector<SafetensorsEntry>& entries);

// The header bytes (without the 8-byte length): compact JSON, "__metadata__" first when
// non-empty, then the entries in the given order, space-padded to a multiple of 8.
// Throws ValueError for names or metadata that are not valid UTF-8.
std::string serialize_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                         const std::map<std::string, std::string>& metadata);

}  // namespace ricci::io
