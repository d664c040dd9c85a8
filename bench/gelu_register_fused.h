#pragma once
// bench_compile's register-level GELU (gelu_register_fused.cpp).
#include <cstdint>

namespace ricci::bench {
// out = GELU-tanh(in), n float32 values, `vectors_per_step` (1 or 4) independent vectors per step.
void gelu_register_fused(const float* in, float* out, int64_t n, int vectors_per_step);
}  // namespace ricci::bench
