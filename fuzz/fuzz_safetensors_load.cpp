// libFuzzer target for the whole safetensors load path, through libricci: the bytes are written to
// a temporary file, which is loaded (header parse, mmap, zero-copy or copied tensors), every tensor
// is made, read in full and written to in place, and the accepted file is saved again and reloaded.
// Also loads the same bytes from memory. Any ricci::Error is an accepted answer to a bad file; a
// crash, a sanitizer report or a broken invariant (abort) is a finding. Build and run: fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ricci/ricci.h"
#include "fuzz_common.h"

using namespace ricci;

namespace {

void check(bool ok, const char* what) { ricci::fuzz::check(ok, what, "fuzz_safetensors_load"); }

std::string temp_path(const char* tag) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/ricci_fuzz_" + tag + "_" + std::to_string(::getpid()) + ".safetensors";
}

bool write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

// Every byte of t, row-major (what a user reading the tensor sees); ASan checks each access.
std::vector<uint8_t> bytes_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

// Makes, reads and modifies every tensor of `file`; returns the ones that could be made.
std::map<std::string, Tensor> exercise(const SafetensorsFile& file) {
  std::map<std::string, Tensor> made;
  for (const std::string& name : file.keys()) {
    check(file.contains(name), "keys() are contained");
    (void)file.dtype_str(name);
    const Dims shape = file.shape(name);
    Tensor t;
    try {
      (void)file.dtype(name);
      t = file.get(name);
    } catch (const Error&) {
      continue;  // a dtype ricci lacks, or a shape no tensor can have
    }
    check(t.shape() == shape.ref(), "get() has the header's shape");
    check(t.dtype() == file.dtype(name), "get() has the header's dtype");
    const std::vector<uint8_t> before = bytes_of(t);
    check(before.size() == static_cast<size_t>(t.numel()) * t.element_size(), "bytes match numel");
    if (t.dtype() == DType::Bool)
      for (uint8_t b : before) check(b <= 1, "bools are 0 or 1");
    if (t.numel() > 0 && t.numel() <= (1 << 16)) {
      (void)t.sum();  // every kernel reads what get() handed out
      // In place on the private mapping: later get()s see it, the file never does.
      Tensor u = file.get(name);
      u.zero_();
      const Tensor again = file.get(name);
      if (again.data_ptr() == u.data_ptr())  // zero-copy (not an owned copy of an unaligned entry)
        check(again.sum().item<double>() == 0.0, "in-place writes are seen by later get()s");
      t = u;
    }
    made.emplace(name, t);
  }
  return made;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ricci::fuzz::set_up_environment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = temp_path("load"), resaved = temp_path("resave");
  if (!write_file(path, data, size)) return 0;
  std::map<std::string, Tensor> made;
  std::map<std::string, std::string> metadata;
  bool loaded = false;
  try {
    const SafetensorsFile file = load_safetensors(path);
    loaded = true;
    metadata = file.metadata();
    made = exercise(file);
    check(file.size() == file.keys().size(), "size() counts keys()");
  } catch (const Error&) {
  }
  std::remove(path.c_str());  // the mapping outlives the name

  // The same bytes from memory: the same verdict.
  bool loaded_from_memory = false;
  try {
    const SafetensorsFile mem = load_safetensors_from_memory(data, size, "fuzz");
    loaded_from_memory = true;
    (void)exercise(mem);
  } catch (const Error&) {
  }
  check(loaded == loaded_from_memory, "file and memory loads agree");
  if (!loaded) return 0;

  // What was accepted is written back and reads back the same (after the in-place zeroing).
  std::map<std::string, std::vector<uint8_t>> expected;
  for (const auto& [name, t] : made) expected[name] = bytes_of(t);
  try {
    save_safetensors(resaved, made, metadata);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    check(false, "tensors that were loaded can be saved");
  }
  try {
    const std::map<std::string, Tensor> again = load_safetensors_all(resaved);
    check(again.size() == made.size(), "tensor count survives");
    for (const auto& [name, t] : again) {
      check(made.count(name) == 1, "names survive");
      check(t.shape() == made.at(name).shape() && t.dtype() == made.at(name).dtype(), "shape and dtype survive");
      check(bytes_of(t) == expected.at(name), "bytes survive");
    }
    check(load_safetensors(resaved).metadata() == metadata, "metadata survives");
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    check(false, "what save_safetensors writes must load");
  }
  std::remove(resaved.c_str());
  return 0;
}
