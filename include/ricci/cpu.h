#pragma once
// The vector instruction set ricci's CPU kernels use. They are compiled for several and pick the
// best one this CPU supports at run time; the environment variable
// RICCI_CPU_ISA=portable|avx2|avx512|avx512bf16 caps the choice for every kernel at once (read
// once, when the library loads), e.g. to run or measure the AVX2 kernels on an AVX-512 machine.
// float32/float64 matrix products go through OpenBLAS, which picks its own kernels
// (OPENBLAS_CORETYPE caps those).

namespace ricci {

// "avx512bf16" (AVX-512 with bf16 dot products), "avx512", "avx2" (AVX2 + FMA + F16C) or "portable".
const char* cpu_isa_name();

}  // namespace ricci
