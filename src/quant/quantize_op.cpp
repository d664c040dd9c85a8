// quantize and dequantize (include/ricci/quantize.h): checks, shapes, and the kernels of
// quantize_kernels.cpp. Both are lazy primitives; neither records a gradient.
#include "backend/kernel_table.h"
#include "lazy/record.h"
#include "quant/quant_checks.h"
#include "quant/quant_kernels.h"
#include "ricci/quantize.h"

namespace ricci {

using autograd::Tensors;

QuantizedTensor quantize(const Tensor& w, int64_t group_size, int64_t bits) {
  if (lazy::recording()) [[unlikely]] {
    Tensors r = lazy::record_n("quantize", [](const Tensors& in, int64_t gs, int64_t b) {
      QuantizedTensor q = quantize(in[0], gs, b);
      return Tensors{q.weight, q.scales, q.biases};
    }, {w}, group_size, bits);
    return {r[0], r[1], r[2]};
  }
  check_defined(w, "quantize", "w");
  quant::check_params("quantize", group_size, bits);
  RICCI_CHECK(is_floating_point(w.dtype()), DTypeError, "[quantize] Only real floating types can be quantized but "
              "w has type ", w.dtype(), "; convert it with .to(float32) first");
  RICCI_CHECK(w.dim() >= 2, ShapeError, "[quantize] The matrix to be quantized must have at least 2 dimensions but "
              "it has only ", w.dim(), " (shape ", w.shape(), "); reshape a vector to (1, n)");
  RICCI_CHECK(w.size(-1) % group_size == 0, ShapeError, "[quantize] The last dimension of the matrix needs to be "
              "divisible by the quantization group size ", group_size, ". However the provided matrix has shape ",
              w.shape(), "; pick a group size that divides ", w.size(-1), " or pad the matrix");
  const Tensor src = w.contiguous();
  Dims wq(w.shape()), ss(w.shape());
  wq.back() = w.size(-1) * bits / 32;
  ss.back() = w.size(-1) / group_size;
  QuantizedTensor q{empty_tensor(wq, DType::Int32, w.device(), "quantize"),
                    empty_tensor(ss, w.dtype(), w.device(), "quantize"),
                    empty_tensor(ss, w.dtype(), w.device(), "quantize")};
  static const kernels::OpId id = kernels::op_id("quantize");
  kernels::kernel_table().get<quant::QuantizeKernel>(id, w.device(), w.dtype())(src, q.weight, q.scales, q.biases,
                                                                                 group_size, bits);
  return q;
}

Tensor dequantize(const Tensor& w, const Tensor& scales, const Tensor& biases, int64_t group_size, int64_t bits) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("dequantize", [](const Tensors& in, int64_t gs, int64_t b) {
      return dequantize(in[0], in[1], in[2], gs, b);
    }, {w, scales, biases}, group_size, bits);
  const int64_t k = quant::check_packed("dequantize", w, scales, biases, group_size, bits);
  Dims shape(w.shape());
  shape.back() = k;
  Tensor out = empty_tensor(shape, scales.dtype(), w.device(), "dequantize");
  static const kernels::OpId id = kernels::op_id("dequantize");
  kernels::kernel_table().get<quant::DequantizeKernel>(id, w.device(), scales.dtype())(
      out, w.contiguous(), scales.contiguous(), biases.contiguous(), group_size, bits);
  return out;
}

Tensor dequantize(const QuantizedTensor& q, int64_t group_size, int64_t bits) {
  return dequantize(q.weight, q.scales, q.biases, group_size, bits);
}

}  // namespace ricci
