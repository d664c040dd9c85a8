// The one place that decides which instruction set the CPU kernels use (Note [Capping the
// instruction set] in cpu_isa.h).
#include "backend/cpu/cpu_isa.h"

#include "core/cpu_features.h"

#include <hwy/targets.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ricci/cpu.h"

namespace ricci::cpu {
namespace {

CpuIsa detect() {
#if defined(__x86_64__)
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && ricci::detail::cpu_has_f16c()))
    return CpuIsa::Portable;
  if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")))
    return CpuIsa::Avx2;
  if (!__builtin_cpu_supports("avx512bf16")) return CpuIsa::Avx512;
  return CpuIsa::Avx512Bf16;
#else
  return CpuIsa::Portable;
#endif
}

// The level an environment variable names; `none` (no cap) when it is unset, empty or "native".
// An unknown value is reported once on stderr and ignored: this runs while the library loads,
// where an exception could only terminate the program.
CpuIsa parse_cap(const char* var, CpuIsa none) {
  const char* v = std::getenv(var);
  if (!v || !*v || std::strcmp(v, "native") == 0) return none;
  if (std::strcmp(v, "portable") == 0 || std::strcmp(v, "generic") == 0) return CpuIsa::Portable;
  if (std::strcmp(v, "avx2") == 0) return CpuIsa::Avx2;
  if (std::strcmp(v, "avx512") == 0) return CpuIsa::Avx512;
  if (std::strcmp(v, "avx512bf16") == 0) return CpuIsa::Avx512Bf16;
  std::fprintf(stderr, "ricci: ignoring %s=%s (expected portable, avx2, avx512, avx512bf16 or native)\n", var, v);
  return none;
}

// Highway's targets above the level, for hwy::DisableTargets. A lower bit is a better target; the
// portable level keeps only what the library was compiled for without target attributes.
int64_t highway_targets_above(CpuIsa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case CpuIsa::Portable: return HWY_STATIC_TARGET - 1;
    case CpuIsa::Avx2: return HWY_AVX2 - 1;
    case CpuIsa::Avx512:
    case CpuIsa::Avx512Bf16: return 0;
  }
#endif
  return 0;
}

CpuIsa choose() {
  const CpuIsa has = detect();
  const CpuIsa cap = parse_cap("RICCI_CPU_ISA", CpuIsa::Avx512Bf16);
  const CpuIsa isa = cap < has ? cap : has;
  if (const int64_t above = highway_targets_above(isa)) hwy::DisableTargets(above);
  return isa;
}

// Applied while the library loads, before any kernel dispatches.
[[maybe_unused]] const CpuIsa g_applied = cpu_isa();

}  // namespace

CpuIsa cpu_isa() {
  static const CpuIsa isa = choose();
  return isa;
}

CpuIsa gemm_isa() {
  static const CpuIsa isa = [] {
    const CpuIsa cap = parse_cap("RICCI_GEMM_ISA", CpuIsa::Avx512Bf16);
    return cap < cpu_isa() ? cap : cpu_isa();
  }();
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Portable: return "portable";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx512Bf16: return "avx512bf16";
  }
  return "?";
}

}  // namespace ricci::cpu

namespace ricci {
const char* cpu_isa_name() { return cpu::cpu_isa_name(cpu::cpu_isa()); }
}  // namespace ricci
