// quantized_matmul (include/ricci/quantize.h): checks, batching and broadcasting, the kernel of
// qmm_kernels.cpp, and the gradient with respect to x.
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "quant/quant_checks.h"
#include "quant/quant_kernels.h"
#include "ricci/autograd.h"
#include "ricci/ops/elementwise.h"
#include "ricci/quantize.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

Dims prefix(IntArrayRef s, int64_t drop) { return Dims(IntArrayRef(s.data(), s.size() - static_cast<size_t>(drop))); }
Dims join(const Dims& a, std::initializer_list<int64_t> b) {
  Dims r(a);
  for (int64_t v : b) r.push_back(v);
  return r;
}

// The forward product, no graph: out (..., N) in `comp` (float32 or float64).
Tensor qmm_forward(const Tensor& x, const Tensor& w, const Tensor& sc, const Tensor& bi, bool transpose,
                   int64_t group_size, int64_t bits, bool int8_x, int64_t K, int64_t N, DType comp) {
  static const kernels::OpId id = kernels::op_id("quantized_matmul");
  const auto kernel = kernels::kernel_table().get<quant::QmmKernel>(id, x.device(), sc.dtype());
  if (w.dim() == 2) {
    int64_t rows = 1;
    for (int64_t d = 0; d + 1 < x.dim(); ++d) rows *= x.size(d);
    const Tensor x2 = x.to(comp).reshape({rows, K}).contiguous();
    Tensor o = empty_tensor({x2.size(0), N}, comp, x.device(), "quantized_matmul");
    kernel(o, x2, w.contiguous(), sc.contiguous(), bi.contiguous(), transpose, group_size, bits, int8_x);
    Dims os(x.shape());
    os.back() = N;
    return o.reshape(os);
  }
  // Batched weights: broadcast the batch dims of x (..., M, K) and of w, scales, biases.
  const Dims batch = broadcast_shapes(prefix(x.shape(), 2), prefix(w.shape(), 2), "quantized_matmul");
  int64_t B = 1;
  for (int64_t v : batch) B *= v;
  const int64_t M = x.size(-2);
  auto flat = [&](const Tensor& t, DType dt) {
    return t.expand(join(batch, {t.size(-2), t.size(-1)})).to(dt).contiguous().reshape({B, t.size(-2), t.size(-1)});
  };
  const Tensor xe = flat(x, comp), we = flat(w, DType::Int32), se = flat(sc, sc.dtype()), be = flat(bi, bi.dtype());
  Tensor o = empty_tensor({B, M, N}, comp, x.device(), "quantized_matmul");
  for (int64_t b = 0; b < B; ++b)
    kernel(o.select(0, b), xe.select(0, b), we.select(0, b), se.select(0, b), be.select(0, b), transpose, group_size,
           bits, int8_x);
  return o.reshape(join(batch, {M, N}));
}

}  // namespace

Tensor quantized_matmul(const Tensor& x, const Tensor& w, const Tensor& scales, const Tensor& biases, bool transpose,
                        int64_t group_size, int64_t bits, ActivationPrecision activations) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("quantized_matmul", [](const Tensors& in, bool t, int64_t gs, int64_t b, bool int8_x) {
      return quantized_matmul(in[0], in[1], in[2], in[3], t, gs, b,
                              int8_x ? ActivationPrecision::Int8 : ActivationPrecision::Float);
    }, {x, w, scales, biases}, transpose, group_size, bits, activations == ActivationPrecision::Int8);
  const bool int8_x = activations == ActivationPrecision::Int8;
  RICCI_CHECK(int8_x || activations == ActivationPrecision::Float, ValueError, "[quantized_matmul] unknown "
              "ActivationPrecision ", static_cast<int>(activations), "; use ActivationPrecision::Float or Int8");
  check_defined(x, "quantized_matmul", "x");
  const int64_t codes = quant::check_packed("quantized_matmul", w, scales, biases, group_size, bits);
  check_same_device("quantized_matmul", {&x, &w});
  RICCI_CHECK(is_floating_point(x.dtype()), DTypeError, "[quantized_matmul] Only real floating types are supported "
              "but x.dtype() == ", x.dtype(), "; convert x with .to(float32)");
  const int64_t K = transpose ? codes : w.size(-2);
  const int64_t N = transpose ? w.size(-2) : codes;
  RICCI_CHECK(x.dim() >= 1 && x.size(-1) == K, ShapeError, "[quantized_matmul] The last dimension of x (shape ",
              x.shape(), ") must match the inner dimension ", K, " of the quantized matrix (w ", w.shape(),
              " holds ", transpose ? "(N, K) = (" : "(K, N) = (", w.size(-2), ", ", codes, ") at bits=", bits,
              ", transpose=", transpose ? "true" : "false", "); check bits and transpose");
  RICCI_CHECK(w.dim() == 2 || x.dim() >= 2, ShapeError, "[quantized_matmul] batched quantized weights ", w.shape(),
              " need x with at least 2 dims (..., M, K), got ", x.shape());
  const DType out_dtype = promote_types(x.dtype(), scales.dtype());
  const DType comp = out_dtype == DType::Float64 ? DType::Float64 : DType::Float32;
  // float64 products run in float64 throughout; the others read scales as they are.
  const DType sdt = comp == DType::Float64 ? DType::Float64 : scales.dtype();
  Tensor out;
  {
    NoGradGuard no_grad;  // the node below is the whole op's history
    out = qmm_forward(x, w, scales.to(sdt), biases.to(sdt), transpose, group_size, bits, int8_x, K, N, comp)
              .to(out_dtype);
  }
  if (autograd::needs_grad({&x, &scales, &biases})) {
    const DType x_dtype = x.dtype();
    const Dims x_sizes(x.shape());
    autograd::record("QuantizedMatmulBackward0", {&x, &scales, &biases}, {&out}, {&w, &scales, &biases}, {},
                     [transpose, group_size, bits, x_dtype, x_sizes, int8_x](const VjpArgs& g) {
                       RICCI_CHECK(!g.needs_input_grad(1) && !g.needs_input_grad(2), AutogradError,
                                   "[quantized_matmul] no gradient with respect to the quantized weights (scales, "
                                   "biases): the codes are not differentiable. Train float weights (or adapters "
                                   "beside the quantized layer) and quantize afterwards, or detach() the scales and "
                                   "biases");
                       // Rounding x has a zero derivative almost everywhere: no honest gradient.
                       RICCI_CHECK(!int8_x || !g.needs_input_grad(0), AutogradError,
                                   "[quantized_matmul] no gradient with respect to x with int8 activations (x is "
                                   "rounded to int8, a step function); use ActivationPrecision::Float to "
                                   "differentiate, or run the layer under no_grad");
                       Tensors r(3);
                       if (g.needs_input_grad(0))
                         r[0] = sum_to(quantized_matmul(g.grads[0], g.saved[0], g.saved[1], g.saved[2],
                                                        !transpose, group_size, bits),
                                       x_sizes)
                                    .to(x_dtype);
                       return r;
                     });
  }
  return out;
}

}  // namespace ricci
