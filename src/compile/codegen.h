#pragma once
// Fused kernels as generated machine code (Note [Generated kernels], codegen.cpp): the C++ source
// of one fused kernel, built by the system's C++ compiler into a shared library, cached on disk
// and loaded.
#include <cstdint>
#include <string>

namespace ricci::compile_detail {

// What generated code calls back into the library for: the op's own vector loop (with its scalar
// fallback for special values and short tails), so that every value matches the interpreter's.
// A plain C struct: generated code declares the same layout.
struct JitHost {
  void (*unary_f32)(int op, const float* in, float* out, int64_t n, const void* params);
  void (*unary_f64)(int op, const double* in, double* out, int64_t n, const void* params);
  const void* const* params;  // per step of the kernel: its ew::UnaryParams (nullptr for others)
};

// A generated kernel runs one run of n elements: ptrs holds the outputs' then the inputs'
// addresses at the run's start (contiguous, or one value for an input read as uniform).
using GeneratedKernel = void (*)(char* const* ptrs, int64_t n, const JitHost* host);

// Whether compile() generates code when its options leave it open: RICCI_COMPILE_CODEGEN=0 turns
// it off (read once), and it is off below the AVX2 level (the portable build keeps the interpreter).
bool codegen_by_default();

// The kernel (FusedKernel::generated_source: the function, after the prelude every kernel shares),
// built (or found in the cache directory) and loaded; nullptr when that is not possible (no
// compiler, the compiler failed), with the reason in *why. Thread-safe; a kernel is built at most
// once per process.
GeneratedKernel load_generated_kernel(const std::string& kernel, std::string* why);

// The compiler flags for the instruction set generated code targets now ("" below AVX2).
std::string codegen_isa_flags();

// Counters for tests and stats: kernels compiled by the compiler, and loaded from the disk cache.
struct CodegenCounters {
  int64_t compiled = 0;
  int64_t loaded_from_disk = 0;
};
CodegenCounters codegen_counters();
// Forgets the kernels loaded in this process (they stay mapped): the next request for a source goes
// to the disk cache again. For tests of the cache.
void forget_loaded_kernels_for_testing();

}  // namespace ricci::compile_detail
