// Matrix products: matmul, mm, bmm, addmm, baddbmm, mv, dot, outer.
//
// Every product ends in one primitive, `gemm`: out(..., M, N) = alpha * a(..., M, K) @ b(..., K, N)
// over equal batch sizes, run by the "matmul" kernel (backend/cpu/gemm_kernels.cpp). The public ops
// only reshape their operands into that form with views (unsqueeze, expand, reshape), so their
// gradients come from gemm's rule plus the views' own (expand's sums over broadcast batch dims).
#include <algorithm>
#include <cstring>

#include "lazy/lazy_detail.h"
#include "lazy/record.h"
#include "backend/cpu/gemm.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/linalg.h"
#include "ricci/parallel.h"
#include "nn/functional_internal.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// "2x3" for the shape [2, 3], as PyTorch prints shapes in product errors.
std::string shape_x(IntArrayRef s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return s.empty() ? "scalar" : r;
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(a, op, "first operand");
  check_defined(b, op, "second operand");
  check_same_device(op, {&a, &b});
  RICCI_CHECK(a.dtype() == b.dtype(), DTypeError, "[", op,
              "] dtype mismatch: expected both operands to have the same dtype, got ", a.dtype(), " and ", b.dtype(),
              "; convert one with .to(", promote_types(a.dtype(), b.dtype()), ")");
  RICCI_CHECK(a.dtype() != DType::Bool, DTypeError, "[", op,
              "] not implemented for dtype bool; convert the operands with .to(int64) or .to(float32) first");
}

// Note [Products in their operand's layout]: a product's gradient for an operand that is a
// permuted view is written in that operand's order of dims in memory, dense, rather than
// contiguous, so that the permute's and reshape's backward are views, not copies:
// - attention's heads ((B, T, H, D) memory read as (B, H, T, D)): the GEMM writes q's, k's and v's
//   gradients directly in that layout (unit column stride, leading dimension and batch offsets
//   from the layout), where they were three copies a layer of a GPT step;
// - an operand whose rows are its unit-stride dim (k.mT() in q @ k.mT(), linear's weight.t() in
//   x @ weight.t()) gets the transposed product b^T a^T in its transpose's layout, returned
//   transposed, as PyTorch's mm backward does for a transposed mat2: the weight's gradient is then
//   contiguous, where AccumulateGrad copied the transposed one into a contiguous .grad.
// Only float32/float64 on the CPU (the BLAS kernel takes such outputs), eager, with every dim of
// `like` of size > 1 and distinct strides; otherwise the output is contiguous, as before. Values
// are the same products, up to the summation order inside the GEMM for a transposed product.
bool layout_products_apply(const Tensor& like, const Tensor& a) {
  if (!like.defined() || like.dim() < 2 || a.device().type != DeviceType::CPU) return false;
  if (a.dtype() != DType::Float32 && a.dtype() != DType::Float64) return false;
  if (!lazy::detail::running_on_values()) return false;
  for (int64_t d = 0; d < like.dim(); ++d)
    if (like.size(d) <= 1 || like.stride(d) <= 0) return false;
  return true;
}

// The strides of a dense tensor of `shape` with its dims in memory in `like`'s order (largest
// stride outermost), when that order ends in the last dim and is not the contiguous one; empty
// otherwise.
Dims dense_strides_like(IntArrayRef shape, const Tensor& like) {
  const int64_t n = like.dim();
  if (static_cast<int64_t>(shape.size()) != n) return {};
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t d = 0; d < n; ++d) order[static_cast<size_t>(d)] = d;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return like.stride(x) > like.stride(y); });
  bool identity = true;
  for (int64_t i = 0; i < n; ++i) {
    identity = identity && order[static_cast<size_t>(i)] == i;
    if (i > 0 && like.stride(order[static_cast<size_t>(i)]) == like.stride(order[static_cast<size_t>(i - 1)])) return {};
  }
  if (identity || order.back() != n - 1) return {};
  Dims strides(static_cast<size_t>(n));
  int64_t s = 1;
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t d = order[static_cast<size_t>(i)];
    strides[static_cast<size_t>(d)] = s;
    if (mul_overflows(s, std::max<int64_t>(shape[static_cast<size_t>(d)], 1), &s)) return {};
  }
  return strides;
}

// The primitive: alpha * a @ b over equal batch dims (stride-0 batch dims welcome). `like`: an
// operand whose layout the output takes (Note [Products in their operand's layout]).
Tensor gemm(const Tensor& a, const Tensor& b, const char* node_name, const Scalar& alpha = 1,
            const Tensor& like = Tensor()) {
  // Recorded as itself where a fast path calls it directly (attention inside a compile trace).
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("gemm", [](const Tensors& in, const char* name, const Scalar& al) {
      return gemm(in[0], in[1], name, al, in[2]); }, {a, b, like}, node_name, alpha);
  Dims shape(a.shape());
  shape.back() = b.size(-1);
  Dims strides;
  if (layout_products_apply(like, a)) {
    if (like.stride(-1) != 1 && like.stride(-2) == 1)
      return gemm(b.mT(), a.mT(), node_name, alpha, like.mT()).mT();
    strides = dense_strides_like(shape, like);
  }
  Tensor out = strides.empty() ? empty_tensor(shape, a.dtype(), a.device(), "matmul")
                               : empty_strided(shape, strides, TensorOptions(a.dtype(), a.device()));
  static const kernels::OpId id = kernels::op_id("matmul");
  kernels::kernel_table().get<MatmulKernel>(id, a.device(), a.dtype())(out, a, b, alpha, Scalar(0));
  if (autograd::needs_grad(a, b)) {
    autograd::record(node_name, {&a, &b}, {&out}, {&a, &b}, {}, [node_name, alpha](const VjpArgs& g) {
      Tensors r(2);
      if (g.needs_input_grad(0)) r[0] = gemm(g.grads[0], g.saved[1].mT(), node_name, alpha, g.saved[0]);
      if (g.needs_input_grad(1)) r[1] = gemm(g.saved[0].mT(), g.grads[0], node_name, alpha, g.saved[1]);
      return r;
    })->set_replayable();
  }
  return out;
}

[[noreturn]] void cannot_multiply(const char* op, const Tensor& a, const Tensor& b) {
  throw ShapeError(detail::cat("[", op, "] mat1 and mat2 shapes cannot be multiplied (", shape_x(a.shape()), " and ",
                               shape_x(b.shape()), "): the last dim of the first operand must equal the ",
                               b.dim() == 1 ? "size of the vector" : "second-to-last dim of the second"));
}

// True when the batch dims and the row dim of `a` merge into one dim without a copy, so that
// (..., M, K) @ (K, N) can run as one (batch*M, K) @ (K, N) product.
bool rows_fold(const Tensor& a) {
  int64_t expected;
  if (mul_overflows(a.stride(-2), a.size(-2), &expected)) return false;  // a size-1 dim's stride is arbitrary
  for (int64_t d = a.dim() - 3; d >= 0; --d) {
    if (a.size(d) == 1) continue;
    if (a.stride(d) != expected || mul_overflows(expected, a.size(d), &expected)) return false;
  }
  return true;
}

Tensor expand_if_needed(const Tensor& t, const Dims& shape) { return t.shape() == shape.ref() ? t : t.expand(shape); }

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_as(PrimitiveKind::Matmul, "mm", [](const Tensors& in) { return mm(in[0], in[1]); }, {a, b});
  check_operands("mm", a, b);
  RICCI_CHECK(a.dim() == 2, ShapeError, "[mm] mat1 must be a matrix, got ", a.dim(), "-D tensor; use matmul for vectors and batches");
  RICCI_CHECK(b.dim() == 2, ShapeError, "[mm] mat2 must be a matrix, got ", b.dim(), "-D tensor; use matmul for vectors and batches");
  if (a.size(1) != b.size(0)) cannot_multiply("mm", a, b);
  return gemm(a, b, "MmBackward0");
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_as(PrimitiveKind::Matmul, "bmm", [](const Tensors& in) { return bmm(in[0], in[1]); }, {a, b});
  check_operands("bmm", a, b);
  RICCI_CHECK(a.dim() == 3, ShapeError, "[bmm] batch1 must be a 3D tensor, got ", a.dim(), "-D; use matmul to broadcast");
  RICCI_CHECK(b.dim() == 3, ShapeError, "[bmm] batch2 must be a 3D tensor, got ", b.dim(), "-D; use matmul to broadcast");
  RICCI_CHECK(a.size(0) == b.size(0) && a.size(2) == b.size(1), ShapeError,
              "[bmm] Expected size for first two dimensions of batch2 tensor to be: [", a.size(0), ", ", a.size(2),
              "] but got: [", b.size(0), ", ", b.size(1), "] (batch1 is ", a.shape(), ", batch2 is ", b.shape(),
              "; use matmul to broadcast batch dims)");
  return gemm(a, b, "BmmBackward0");
}

Tensor mv(const Tensor& m, const Tensor& v) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("mv", [](const Tensors& in) { return mv(in[0], in[1]); }, {m, v});
  check_operands("mv", m, v);
  RICCI_CHECK(m.dim() == 2 && v.dim() == 1, ShapeError, "[mv] vector + matrix @ vector expected, got ", m.dim(), "-D and ",
              v.dim(), "-D; use matmul for other shapes");
  if (m.size(1) != v.size(0)) cannot_multiply("mv", m, v);
  return gemm(m, v.unsqueeze(1), "MvBackward0").squeeze(1);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("dot", [](const Tensors& in) { return dot(in[0], in[1]); }, {a, b});
  check_operands("dot", a, b);
  RICCI_CHECK(a.dim() == 1 && b.dim() == 1, ShapeError, "[dot] 1D tensors expected, but got ", a.dim(), "D and ",
              b.dim(), "D tensors; use matmul or sum(a * b) for other shapes");
  RICCI_CHECK(a.size(0) == b.size(0), ShapeError, "[dot] inconsistent tensor size, expected tensor [", a.size(0),
              "] and src [", b.size(0), "] to have the same number of elements, but got ", a.size(0), " and ",
              b.size(0), " elements respectively");
  return gemm(a.unsqueeze(0), b.unsqueeze(1), "DotBackward0").reshape({});
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("outer", [](const Tensors& in) { return outer(in[0], in[1]); }, {a, b});
  check_defined(a, "outer", "first operand");
  check_defined(b, "outer", "second operand");
  check_same_device("outer", {&a, &b});
  RICCI_CHECK(a.dim() == 1, ShapeError, "[outer] Expected 1-D argument self, but got ", a.dim(), "-D");
  RICCI_CHECK(b.dim() == 1, ShapeError, "[outer] Expected 1-D argument vec2, but got ", b.dim(), "-D");
  const DType t = promote_types(a.dtype(), b.dtype());
  if (t == DType::Bool) {  // a[i] and b[j]: the integer product of 0/1 values
    return outer(a.to(DType::UInt8), b.to(DType::UInt8)).to(DType::Bool);
  }
  // A product over K = 1: one multiplication per element, so no rounding differs from `a * b`.
  return gemm(a.to(t).unsqueeze(1), b.to(t).unsqueeze(0), "OuterBackward0");
}

namespace {

// out = input broadcast to out's shape. An input that is a contiguous block repeated over out's
// leading dims (linear's bias over every row, Note [Linear's bias in the GEMM]; attention's causal
// bias over every batch) is copied block by block with memcpy; the generic broadcast copy walks it
// element by element (~4 ms of a GPT step's 230).
void broadcast_into(const Tensor& out, const Tensor& input) {
  const int64_t m = input.numel();
  int64_t first = 0;  // input's dims without its leading 1s must be out's trailing dims
  while (first < input.dim() && input.size(first) == 1) ++first;
  bool block = out.is_contiguous() && input.is_contiguous() && m > 0 && input.dtype() == out.dtype() &&
               input.device().type == DeviceType::CPU && out.device().type == DeviceType::CPU &&
               input.dim() - first <= out.dim();
  for (int64_t d = first; block && d < input.dim(); ++d) block = input.size(d) == out.size(out.dim() - input.dim() + d);
  if (!block || lazy::detail::in_meta()) return copy_kernel(out, input.expand(out.shape()));
  const size_t bytes = static_cast<size_t>(m) * out.element_size();
  const char* src = static_cast<const char*>(input.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  const int64_t copies = out.numel() / m;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / static_cast<int64_t>(bytes));  // >= 64 KiB a piece
  parallel_for(0, copies, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::memcpy(dst + static_cast<size_t>(r) * bytes, src, bytes);
  });
}

// beta * input + alpha * (m1 @ m2), the product batched or not, written once for addmm and
// baddbmm: input is broadcast into the output, the kernel adds the product, and the gradient
// follows (`mm_node`: the name the matrices' gradients record under create_graph).
Tensor add_product(const char* node_name, const char* mm_node, const Tensor& input, const Tensor& m1, const Tensor& m2,
                   const Dims& shape, const Scalar& beta, const Scalar& alpha) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("add_product", [](const Tensors& in, const char* name, const char* mm, const Dims& sh,
                                           const Scalar& be, const Scalar& al) {
      return add_product(name, mm, in[0], in[1], in[2], sh, be, al); }, {input, m1, m2}, node_name, mm_node, shape, beta, alpha);
  Tensor out = empty_tensor(shape, m1.dtype(), m1.device());
  const bool use_input = beta.to_double() != 0.0;
  if (use_input) broadcast_into(out, input);
  static const kernels::OpId id = kernels::op_id("matmul");
  kernels::kernel_table().get<MatmulKernel>(id, m1.device(), m1.dtype())(out, m1, m2, alpha, use_input ? beta : Scalar(0));
  if (autograd::needs_grad({&input, &m1, &m2})) {
    const Dims input_sizes(input.shape());
    autograd::record(node_name, {&input, &m1, &m2}, {&out}, {&m1, &m2}, {},
                     [input_sizes, beta, alpha, use_input, mm_node](const VjpArgs& g) {
                       Tensors r(3);
                       const Tensor& go = g.grads[0];
                       if (g.needs_input_grad(0)) {
                         if (!use_input) r[0] = zeros(input_sizes, TensorOptions(go.dtype(), go.device()));
                         else {
                           Tensor gi = sum_to(go, input_sizes);
                           r[0] = beta.to_double() == 1.0 ? gi : gi * beta;
                         }
                       }
                       if (g.needs_input_grad(1)) r[1] = gemm(go, g.saved[1].mT(), mm_node, alpha, g.saved[0]);
                       if (g.needs_input_grad(2)) r[2] = gemm(g.saved[0].mT(), go, mm_node, alpha, g.saved[1]);
                       return r;
                     })
        ->set_replayable();
  }
  return out;
}

}  // namespace

namespace nn::functional::internal {

Tensor add_batched_product(const Tensor& input, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Dims shape(a.shape());
  shape.back() = b.size(-1);
  return add_product("BaddbmmBackward0", "BmmBackward0", input, a, b, shape, 1, alpha);
}

Tensor batched_product_like(const Tensor& a, const Tensor& b, const Tensor& like) {
  return gemm(a, b, "BmmBackward0", 1, like);
}

}  // namespace nn::functional::internal

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("addmm", [](const Tensors& in, const Scalar& be, const Scalar& al) {
      return addmm(in[0], in[1], in[2], be, al); }, {input, m1, m2}, beta, alpha);
  check_defined(input, "addmm", "input");
  check_operands("addmm", m1, m2);
  check_same_device("addmm", {&input, &m1});
  RICCI_CHECK(input.dtype() == m1.dtype(), DTypeError, "[addmm] dtype mismatch: expected input to have the dtype of the "
              "matrices, ", m1.dtype(), ", got ", input.dtype(), "; convert it with .to(", m1.dtype(), ")");
  RICCI_CHECK(m1.dim() == 2, ShapeError, "[addmm] mat1 must be a matrix, got ", m1.dim(), "-D tensor");
  RICCI_CHECK(m2.dim() == 2, ShapeError, "[addmm] mat2 must be a matrix, got ", m2.dim(), "-D tensor");
  if (m1.size(1) != m2.size(0)) cannot_multiply("addmm", m1, m2);
  const Dims shape{m1.size(0), m2.size(1)};
  bool fits = input.dim() <= 2;
  for (int64_t i = 0; fits && i < input.dim(); ++i) {
    const int64_t s = input.size(-1 - i);
    fits = s == 1 || s == shape[1 - i];
  }
  RICCI_CHECK(fits, ShapeError, "[addmm] input of shape ", input.shape(), " cannot be broadcast to the product's shape ",
              shape, "; it must be a scalar, a row, a column or the full matrix");
  RICCI_CHECK(!is_integral(m1.dtype()) || (!alpha.is_floating_point() && !beta.is_floating_point()), ValueError,
              "[addmm] For integral input tensors, argument alpha and beta must not be a floating point number");

  return add_product("AddmmBackward0", "MmBackward0", input, m1, m2, shape, beta, alpha);
}

Tensor baddbmm(const Tensor& input, const Tensor& batch1, const Tensor& batch2, const Scalar& beta, const Scalar& alpha) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("baddbmm", [](const Tensors& in, const Scalar& be, const Scalar& al) {
      return baddbmm(in[0], in[1], in[2], be, al); }, {input, batch1, batch2}, beta, alpha);
  check_defined(input, "baddbmm", "input");
  check_operands("baddbmm", batch1, batch2);
  check_same_device("baddbmm", {&input, &batch1});
  RICCI_CHECK(batch1.dim() == 3, ShapeError, "[baddbmm] batch1 must be a 3D tensor, got ", batch1.dim(), "-D");
  RICCI_CHECK(batch2.dim() == 3, ShapeError, "[baddbmm] batch2 must be a 3D tensor, got ", batch2.dim(), "-D");
  RICCI_CHECK(batch1.size(0) == batch2.size(0) && batch1.size(2) == batch2.size(1), ShapeError,
              "[baddbmm] Expected size for first two dimensions of batch2 tensor to be: [", batch1.size(0), ", ",
              batch1.size(2), "] but got: [", batch2.size(0), ", ", batch2.size(1), "].");
  RICCI_CHECK(input.dtype() == batch1.dtype(), DTypeError, "[baddbmm] Input dtypes must be the same, got: input ", input.dtype(),
              ", batch1: ", batch1.dtype(), ", batch2: ", batch2.dtype(), "; convert input with .to(", batch1.dtype(), ")");
  const Dims shape{batch1.size(0), batch1.size(1), batch2.size(2)};
  bool fits = input.dim() <= 3;
  for (int64_t i = 0; fits && i < input.dim(); ++i) {
    const int64_t s = input.size(-1 - i);
    fits = s == 1 || s == shape[2 - i];
  }
  RICCI_CHECK(fits, ShapeError, "[baddbmm] input of shape ", input.shape(), " cannot be broadcast to the product's shape ", shape);
  RICCI_CHECK(!is_integral(batch1.dtype()) || (!alpha.is_floating_point() && !beta.is_floating_point()), ValueError,
              "[baddbmm] For integral input tensors, argument alpha and beta must not be a floating point number");

  return add_product("BaddbmmBackward0", "BmmBackward0", input, batch1, batch2, shape, beta, alpha);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1_as(PrimitiveKind::Matmul, "matmul", [](const Tensors& in) { return matmul(in[0], in[1]); }, {a, b});
  check_operands("matmul", a, b);
  const int64_t da = a.dim(), db = b.dim();
  RICCI_CHECK(da >= 1 && db >= 1, ShapeError, "[matmul] both arguments to matmul need to be at least 1D, but they are ",
              da, "D and ", db, "D; use mul (*) to scale by a 0-d tensor");
  const int64_t k_a = a.size(-1), k_b = db == 1 ? b.size(0) : b.size(-2);
  if (k_a != k_b) cannot_multiply("matmul", a, b);

  if (da == 1 && db == 1) return gemm(a.unsqueeze(0), b.unsqueeze(1), "DotBackward0").reshape({});
  if (da <= 2 && db <= 2) {
    const Tensor a2 = da == 1 ? a.unsqueeze(0) : a;
    const Tensor b2 = db == 1 ? b.unsqueeze(1) : b;
    Tensor out = gemm(a2, b2, db == 1 ? "MvBackward0" : "MmBackward0");
    if (da == 1) return out.squeeze(0);
    if (db == 1) return out.squeeze(1);
    return out;
  }
  if (db <= 2 && rows_fold(a)) {
    // (..., M, K) @ (K, N): one big (batch*M, K) @ (K, N) product, then split the rows again.
    const Tensor b2 = db == 1 ? b.unsqueeze(1) : b;
    int64_t rows = 1;  // not reshape({-1, k}): with k == 0 the -1 would be ambiguous
    for (int64_t d = 0; d + 1 < da; ++d) rows *= a.size(d);
    Tensor out = gemm(a.reshape({rows, k_a}), b2, "MmBackward0");
    Dims shape(a.shape());
    if (db == 1) shape.pop_back();
    else shape.back() = b.size(1);
    return out.view(shape);
  }
  // General case: broadcast the batch dims, then one batched product.
  const Tensor a2 = da == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = db == 1 ? b.unsqueeze(1) : b;
  const int64_t ba = a2.dim() - 2, bb = b2.dim() - 2, nb = std::max(ba, bb);
  Dims batch(static_cast<size_t>(nb));
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t ia = i - (nb - ba), ib = i - (nb - bb);
    const int64_t sa = ia >= 0 ? a2.size(ia) : 1, sb = ib >= 0 ? b2.size(ib) : 1;
    RICCI_CHECK(sa == sb || sa == 1 || sb == 1, ShapeError, "[matmul] The size of tensor a (", sa,
                ") must match the size of tensor b (", sb, ") at non-singleton dimension ", i,
                " of the batch dims (shapes ", a.shape(), " and ", b.shape(), ")");
    batch[i] = sa == 1 ? sb : sa;
  }
  Dims shape_a = batch, shape_b = batch, shape_out = batch;
  shape_a.push_back(a2.size(-2));
  shape_a.push_back(k_a);
  shape_b.push_back(k_b);
  shape_b.push_back(b2.size(-1));
  shape_out.push_back(a2.size(-2));
  shape_out.push_back(b2.size(-1));
  // Broadcast batch dims can make shapes no operand has: check them under this op's name.
  for (const Dims* s : {&shape_a, &shape_b, &shape_out}) checked_numel(*s, "matmul");
  Tensor out = gemm(expand_if_needed(a2, shape_a), expand_if_needed(b2, shape_b), "BmmBackward0");
  if (da == 1) out = out.squeeze(-2);
  if (db == 1) out = out.squeeze(-1);
  return out;
}

// ---- Tensor methods -------------------------------------------------------------------------------
Tensor Tensor::matmul(const Tensor& o) const { return ricci::matmul(*this, o); }
Tensor Tensor::mm(const Tensor& o) const { return ricci::mm(*this, o); }
Tensor Tensor::bmm(const Tensor& o) const { return ricci::bmm(*this, o); }
Tensor Tensor::dot(const Tensor& o) const { return ricci::dot(*this, o); }
Tensor Tensor::baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta, const Scalar& alpha) const {
  return ricci::baddbmm(*this, batch1, batch2, beta, alpha);
}

}  // namespace ricci
