#pragma once
// Argument checks shared by quantize, dequantize and quantized_matmul: every misuse is an error
// naming the op, what it got and the way out, before any kernel runs.
#include "quant/quant_format.h"
#include "ricci/tensor.h"

namespace ricci::quant {

inline void check_params(const char* op, int64_t group_size, int64_t bits) {
  RICCI_CHECK(valid_group_size(group_size), ValueError, "[", op, "] The requested group size ", group_size,
              " is not supported. The supported group sizes are 32, 64, and 128.");
  RICCI_CHECK(valid_bits(bits), ValueError, "[", op, "] The requested number of bits ", bits,
              " is not supported. The supported bits are 2, 3, 4, 5, 6 and 8.");
}

// w, scales and biases as quantize() makes them for these parameters; returns the number of
// codes per packed row (K for a (N, K) matrix).
inline int64_t check_packed(const char* op, const Tensor& w, const Tensor& scales, const Tensor& biases,
                            int64_t group_size, int64_t bits) {
  check_defined(w, op, "w");
  check_defined(scales, op, "scales");
  check_defined(biases, op, "biases");
  check_same_device(op, {&w, &scales, &biases});
  check_params(op, group_size, bits);
  RICCI_CHECK(w.dtype() == DType::Int32, DTypeError, "[", op, "] expected the packed weights w as int32 (the bits "
              "of MLX's uint32 words), got ", w.dtype(), "; make them with ricci::quantize(w, group_size, bits)");
  RICCI_CHECK(is_floating_point(scales.dtype()), DTypeError, "[", op, "] scales must be floating, got ", scales.dtype());
  RICCI_CHECK(scales.dtype() == biases.dtype(), DTypeError, "[", op, "] scales and biases must have the same dtype, "
              "got ", scales.dtype(), " and ", biases.dtype(), "; convert one with .to(", scales.dtype(), ")");
  RICCI_CHECK(w.dim() >= 2, ShapeError, "[", op, "] the packed weights must be at least 2-D, got shape ", w.shape());
  RICCI_CHECK(scales.shape() == biases.shape(), ShapeError, "[", op, "] scales ", scales.shape(),
              " and biases ", biases.shape(), " must have the same shape");
  bool lead = scales.dim() == w.dim();
  for (int64_t d = 0; lead && d + 1 < w.dim(); ++d) lead = scales.size(d) == w.size(d);
  RICCI_CHECK(lead, ShapeError, "[", op, "] Shape of scales and biases ", scales.shape(),
              " does not match the matrix ", w.shape(), ": all but the last dim must be equal");
  const int64_t k = w.size(-1) * 32 / bits;
  RICCI_CHECK(k == scales.size(-1) * group_size, ShapeError, "[", op, "] Shape of scales and biases does not "
              "match the matrix given the quantization parameters. Provided matrix of shape ", w.shape(),
              " and scales/biases of shape ", scales.shape(), " with group_size=", group_size, " and bits=", bits,
              " (", w.size(-1), " words hold ", k, " codes, ", scales.size(-1), " groups hold ",
              scales.size(-1) * group_size, "); pass the group_size and bits the weights were quantized with");
  return k;
}

}  // namespace ricci::quant
