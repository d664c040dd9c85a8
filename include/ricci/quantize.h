#pragma once
// Group-wise affine quantization of weights (MLX's `quantize`, `dequantize`, `quantized_matmul`),
// the format quantized LLM weights ship in. docs/quantization.md explains the format, its error
// and when to pick which bit width.
//
// The format (MLX's "affine" mode, bit for bit). A weight matrix w (..., N, K) is cut along its
// last axis into groups of `group_size` elements. Each group g gets a scale s and a bias b (in
// w's dtype) and each element an unsigned `bits`-bit code q in [0, 2^bits - 1], so that
//     w ≈ s * q + b.
// s and b come from the group's min and max: s = (max - min) / (2^bits - 1), b = the group's
// edge (the end of larger magnitude), and s is nudged so that b sits exactly on the grid — as
// MLX does, so that MLX's and ricci's codes agree. Every element lies within s/2 of s * q + b.
// The codes of a row are one little-endian bit stream, element e at bits [e*bits, (e+1)*bits),
// stored in 32-bit words: (..., N, K * bits / 32). MLX types these words uint32; ricci, which
// has no uint32, keeps the same bits in an int32 tensor (a file written by MLX stores them as
// U32: nn::load_quantized_file reads those, see nn/quantized.h).
//
// Bits: 2, 3, 4, 5, 6, 8; group sizes: 32, 64, 128 (MLX's defaults: 64 and 4). A weight takes
// bits + 2 * 16 / group_size bits with float16 scales (4.5 bits at 4 bits, group 64).
#include <cstdint>

#include "ricci/tensor.h"

namespace ricci {

// Packed codes (int32 words), scales and biases of a quantized matrix.
struct QuantizedTensor {
  Tensor weight;  // (..., N, K * bits / 32) int32: the codes, MLX's uint32 words
  Tensor scales;  // (..., N, K / group_size), w's dtype
  Tensor biases;  // (..., N, K / group_size), w's dtype
};

// Quantizes w (floating, at least 2-D, last dim divisible by group_size) along its last axis.
// Any layout; no gradient (the result is a constant). Errors: ValueError for a group size or bit
// width outside the lists above, ShapeError for w with fewer than 2 dims or a last dim not
// divisible by group_size, DTypeError for a non-floating w.
QuantizedTensor quantize(const Tensor& w, int64_t group_size = 64, int64_t bits = 4);

// s * q + b for every element: (..., N, K) in the dtype of scales. Computed in float32 (float64
// for float64 scales) and rounded once. No gradient is recorded.
Tensor dequantize(const Tensor& w, const Tensor& scales, const Tensor& biases, int64_t group_size = 64,
                  int64_t bits = 4);
Tensor dequantize(const QuantizedTensor& q, int64_t group_size = 64, int64_t bits = 4);

// x @ dequantize(w)ᵀ (transpose = true: w holds (N, K), a linear layer's weight) or x @
// dequantize(w) (transpose = false: w holds (K, N)), without making the float matrix: x (..., K)
// → (..., N), in promote_types(x, scales) (floating). w 2-D multiplies every row of x; w with
// batch dims (..., N, K') broadcasts them against x's batch dims (x then at least 2-D), as
// matmul does. Accumulation is float32 (float64 when the result is float64).
//
// Kernels: 4 and 8 bits with transpose have AVX2 and AVX-512 kernels for up to 16 rows (decoding:
// the packed weights are streamed once, on every thread, src/quant/qmv_avx2.cpp); beyond, the
// weights are dequantized in panels into float32 and multiplied by the BLAS (prefill); other bit
// widths, float64 and RICCI_CPU_ISA=portable use portable code up to 8 rows, the BLAS beyond.
//
// Gradient: with respect to x only (quantized_matmul of the gradient with !transpose). A backward
// that needs the gradient of scales or biases throws AutogradError, as MLX does: the codes are
// not differentiable; train float weights (or adapters beside the quantized ones) instead.
//
// activations: Float (the default) multiplies x as it is — MLX's numbers. Int8 first rounds each
// row of x to int8 per block of 32 elements, x̂ = d · round(x / d) with d = max|x| / 127 over the
// block, and returns x̂ @ dequantize(w) (a row holding inf or NaN gives NaN): the dynamic
// quantization of PyTorch's quantize_dynamic Linear and of llama.cpp's CPU matmuls. Each x̂ is
// within d/2 of x (0.4 % of the block's largest element), and the 4- and 8-bit decode shape then
// runs integer dot products on AVX2: 1.4-2.5x faster than Float on a Zen 3 core (4096 x 4096
// int4: 431-493 µs against 793-820 on one thread; docs/quantization.md, "Int8 activations"). For
// inference: Int8 has no gradient (a backward or jvp through it throws AutogradError; use Float
// to differentiate).
enum class ActivationPrecision { Float, Int8 };

Tensor quantized_matmul(const Tensor& x, const Tensor& w, const Tensor& scales, const Tensor& biases,
                        bool transpose = true, int64_t group_size = 64, int64_t bits = 4,
                        ActivationPrecision activations = ActivationPrecision::Float);

}  // namespace ricci
