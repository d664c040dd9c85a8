// libFuzzer target for the safetensors header parser: arbitrary bytes are a file image.
// Build and run: see fuzz/README.md. Checks, beyond "no crash, no sanitizer report":
//  - every validated tensor range is read in full (ASan catches a range outside the input);
//  - the ranges tile the data buffer and match numel * element size;
//  - the file re-serialized by ricci's writer parses back to the same tensors and metadata.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors_format.h"
#include "ricci/error.h"
#include "fuzz_common.h"

using namespace ricci::io;

namespace {

void check(bool ok, const char* what) { ricci::fuzz::check(ok, what, "fuzz_safetensors"); }

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SafetensorsHeader h;
  try {
    h = parse_safetensors_header(data, size, "fuzz");
  } catch (const ricci::Error&) {
    return 0;  // IOError / DTypeError: the expected answer to a bad file
  }
  // Touch every tensor's bytes, as get() would hand them out.
  uint64_t covered = 0;
  volatile uint8_t sink = 0;
  for (const auto& e : h.entries) {
    check(e.begin == covered && e.end >= e.begin, "entries tile the buffer");
    check(e.end - e.begin == static_cast<uint64_t>(e.numel) * e.element_size, "byte count matches shape");
    const uint8_t* p = data + h.data_start + e.begin;
    uint8_t acc = 0;
    for (uint64_t i = 0; i < e.end - e.begin; ++i) acc ^= p[i];
    sink = sink ^ acc;
    covered = e.end;
  }
  check(h.data_start + covered == size, "entries cover the whole file");

  // Round trip through the writer: same names, dtypes, shapes, bytes and metadata.
  std::vector<SafetensorsEntry> out = h.entries;
  order_for_writing(out);
  std::string header;
  try {
    header = serialize_safetensors_header(out, h.metadata);
  } catch (const ricci::Error&) {
    check(false, "a header we accepted must be writable");
  }
  std::string image = le64(header.size()) + header;
  for (const auto& e : out) {
    const auto* src = reinterpret_cast<const char*>(data + h.data_start);
    for (const auto& orig : h.entries)
      if (orig.name == e.name) image.append(src + orig.begin, orig.end - orig.begin);
  }
  SafetensorsHeader again;
  try {
    again = parse_safetensors_header(reinterpret_cast<const uint8_t*>(image.data()), image.size(), "roundtrip");
  } catch (const ricci::Error& err) {
    std::fprintf(stderr, "%s\n", err.what());
    check(false, "what the writer writes must parse");
  }
  check(again.metadata == h.metadata, "metadata survives");
  check(again.entries.size() == h.entries.size(), "entry count survives");
  check(again.data_start % 8 == 0, "the writer aligns the data buffer");
  for (const auto& a : again.entries) {
    bool found = false;
    for (const auto& e : h.entries) {
      if (e.name != a.name) continue;
      found = true;
      check(e.dtype_str == a.dtype_str && e.shape == a.shape, "dtype and shape survive");
      check(std::memcmp(data + h.data_start + e.begin, image.data() + again.data_start + a.begin, e.end - e.begin) == 0,
            "bytes survive");
    }
    check(found, "names survive");
  }
  return 0;
}
