#pragma once
// What the fuzz targets share: the abort that turns a broken invariant into a finding, a reader
// that consumes the input a byte at a time, and the environment every libricci target runs in.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace ricci::fuzz {

// A broken invariant is a finding: abort, so libFuzzer keeps the input.
inline void check(bool ok, const char* what, const char* target = "fuzz") {
  if (!ok) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
    std::abort();
  }
}

// Consumes the input a byte at a time; zeros once it runs out.
struct Bytes {
  const uint8_t* p;
  size_t n;
  uint8_t next() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

// For LLVMFuzzerInitialize of the targets that drive libricci: allocations over 64 MiB get
// ricci's clean "[allocate]" error (inputs may ask for huge tensors, and copying hundreds of MiB
// under ASan would make slow units); one thread keeps runs replayable.
inline void set_up_environment() {
  setenv("RICCI_CPU_MEMORY_LIMIT", "64M", 0);
  setenv("RICCI_NUM_THREADS", "1", 0);
}

}  // namespace ricci::fuzz
