#pragma once
// Note [Capping the instruction set]
// The library is compiled for baseline x86-64; its vector kernels are compiled for several
// instruction sets (target attributes, Highway's dynamic dispatch) and pick the best one this CPU
// supports at run time. RICCI_CPU_ISA=portable|avx2|avx512|avx512bf16 caps that choice for every
// kernel at once: the hand-written AVX-512 / AVX2 paths ask cpu_isa() (or gemm_isa()), and the
// Highway kernels are capped by disabling Highway's higher targets (process-wide: other code using
// the same shared libhwy is capped with it, and only under a cap). The variable is read once,
// when the library is loaded, so one process never mixes levels. RICCI_GEMM_ISA (avx512bf16,
// avx512, avx2, generic) caps the reduced-precision GEMM alone, below RICCI_CPU_ISA. ctest runs
// the kernel tests once per level this CPU supports (tests/CMakeLists.txt), and
// bench/run_compare.sh measures under a cap with RICCI_BENCH_ISA. OpenBLAS (float32/float64
// GEMM) picks its own kernels: OPENBLAS_CORETYPE caps it. Small float32 products run on
// sgemm_small (gemm_small.cpp, Highway, so capped here) instead, and only at AVX2 or above.
#include <cstdint>

namespace ricci::cpu {

// In order: each level includes the ones before it.
//   Avx2:       AVX2 + FMA + F16C
//   Avx512:     AVX-512 F, BW, VL and DQ (what Highway's AVX3 target requires)
//   Avx512Bf16: the above + AVX512_BF16 (vdpbf16ps)
enum class CpuIsa { Portable, Avx2, Avx512, Avx512Bf16 };

// The best level this CPU supports, capped by RICCI_CPU_ISA.
CpuIsa cpu_isa();
inline bool cpu_isa_allows(CpuIsa isa) { return isa <= cpu_isa(); }

// The level the reduced-precision GEMM may use: cpu_isa(), capped further by RICCI_GEMM_ISA.
CpuIsa gemm_isa();

// "portable", "avx2", "avx512", "avx512bf16".
const char* cpu_isa_name(CpuIsa isa);

}  // namespace ricci::cpu
