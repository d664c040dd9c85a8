#pragma once
// CPU features that __builtin_cpu_supports cannot name with every compiler: clang before 15 does
// not know "f16c", so it is read from CPUID here (leaf 1, ECX bit 29), for gcc and clang alike.
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace ricci::detail {

inline bool cpu_has_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_F16C) != 0 && __builtin_cpu_supports("avx");  // F16C needs the OS to save AVX state
#else
  return false;
#endif
}

}  // namespace ricci::detail
