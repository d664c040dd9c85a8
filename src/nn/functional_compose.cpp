// nn functions composed of other ricci ops (their gradients follow from those ops): dropout,
// linear, mse_loss, scaled_dot_product_attention, softmin and group_norm.
#include <cmath>
#include <limits>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "lazy/lazy_detail.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/nn/functional.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/linalg.h"
#include "ricci/ops/reduce.h"
#include "ricci/random.h"
#include "nn/functional_internal.h"

namespace ricci::nn::functional {

namespace {
std::string shape_str(IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
}  // namespace

Tensor dropout(const Tensor& input, double p, bool training, Generator* gen) {
  check_defined(input, "dropout");
  RICCI_CHECK(p >= 0.0 && p <= 1.0, ValueError, "[dropout] dropout probability has to be between 0 and 1, but got ", p);
  if (!training || p == 0.0) return input;
  RICCI_CHECK(input.is_floating_point(), DTypeError, "[dropout] expected a floating point input, but got ", input.dtype());
  // p = 1: input * 0 keeps NaN and the graph, as PyTorch does.
  if (p == 1.0) return input * zeros({}, TensorOptions(input.dtype(), input.device()));
  const double keep_p = 1.0 - p, scale = 1.0 / (1.0 - p);
  // The mask in one pass where a kernel makes it (float32 on the CPU: dropout_hwy.cpp), the same
  // values from the same draws as the composed form below.
  static const auto mask_id = kernels::op_id("nn_dropout_mask");
  const kernels::AnyKernel mask_kernel = kernels::kernel_table().find(mask_id, input.device().type, input.dtype());
  if (mask_kernel && lazy::detail::running_on_values()) {
    Generator& g = gen ? *gen : default_generator();
    const int64_t n = input.numel();
    const uint64_t offset = g.reserve(static_cast<uint64_t>(n / 2 + n % 2));  // bernoulli's: one block per 2
    Tensor mask = empty_tensor(input.shape(), input.dtype(), input.device());
    reinterpret_cast<nnk::DropoutMaskKernel>(mask_kernel)(mask, g.initial_seed(), offset, keep_p, scale);
    return input * mask;
  }
  Tensor keep = bernoulli(input.shape(), keep_p, TensorOptions(input.dtype(), input.device()), gen);
  return input * (keep * scale);
}

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  check_defined(input, "linear");
  check_defined(weight, "linear", "weight");
  RICCI_CHECK(weight.dim() == 2 || weight.dim() == 1, ShapeError,
              "[linear] weight must be 2-D (out_features, in_features) or 1-D, got shape ", shape_str(weight.shape()));
  RICCI_CHECK(input.dim() >= 1, ShapeError, "[linear] input must have at least 1 dim (*, in_features), got a 0-d tensor");
  const int64_t in_f = weight.size(-1);
  RICCI_CHECK(input.size(-1) == in_f, ShapeError, "[linear] input of shape ", shape_str(input.shape()), " has ",
              input.size(-1), " features but weight of shape ", shape_str(weight.shape()), " expects in_features = ",
              in_f);
  const int64_t out_f = weight.dim() == 2 ? weight.size(0) : 1;
  if (bias.defined())
    RICCI_CHECK(bias.numel() == out_f && bias.dim() <= 1, ShapeError, "[linear] bias of shape ",
                shape_str(bias.shape()), " does not match out_features = ", out_f, " of weight ",
                shape_str(weight.shape()));
  // Note [Linear's bias in the GEMM]: float32/float64 rows times a 2-D weight with a bias run as
  // one addmm, as PyTorch's linear does: the output starts as the broadcast bias and the BLAS
  // product adds into it (beta = 1), so OpenBLAS does not zero C first and no second pass adds
  // the bias (issue 16: ~15 ms of a 230 ms GPT step). A compile trace records it so too. The sum is rounded in the kernel's order
  // (bias first) rather than product-then-bias, a last-bit difference PyTorch's addmm has too.
  // The bias's gradient is the sum of grad_out over the rows (addmm's rule), the matrices' the
  // products of matmul. float16/bfloat16, 1-D inputs or weights, inputs whose rows do not fold
  // into one matrix without a copy, and lazy recording or vmap's tracing keep matmul + add.
  if (bias.defined() && weight.dim() == 2 && input.dim() >= 2 && bias.dtype() == input.dtype() &&
      weight.dtype() == input.dtype() && (input.dtype() == float32 || input.dtype() == float64) &&
      input.device().type == DeviceType::CPU && weight.device() == input.device() &&
      bias.device() == input.device() && (input.dim() == 2 || input.is_contiguous()) &&
      lazy::detail::fast_forms_apply()) {
    if (input.dim() == 2) return addmm(bias, input, weight.t());
    int64_t rows = 1;  // not reshape({-1, in_f}): with in_f == 0 the -1 would be ambiguous
    for (int64_t d = 0; d + 1 < input.dim(); ++d) rows *= input.size(d);
    Dims shape(input.shape());
    shape.back() = out_f;
    return addmm(bias, input.reshape({rows, in_f}), weight.t()).view(shape);
  }
  Tensor out = weight.dim() == 2 ? input.matmul(weight.t()) : input.matmul(weight);
  if (!bias.defined()) return out;
  return out + bias;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_defined(input, "mse_loss");
  check_defined(target, "mse_loss", "target");
  internal::check_reduction(reduction, "mse_loss");
  const Tensor d = input - target;
  return internal::reduce_loss(d * d, reduction);
}

Tensor softmin(const Tensor& input, int64_t dim, std::optional<DType> dtype) {
  check_defined(input, "softmin");
  return softmax(-input, dim, dtype);  // PyTorch's definition, negation first
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "group_norm";
  check_defined(input, op);
  RICCI_CHECK(input.dim() >= 2, ShapeError, "[group_norm] Expected at least 2 dimensions for input tensor but received ",
              input.dim(), " (input of shape (N, C, *))");
  RICCI_CHECK(input.is_floating_point(), DTypeError, "[group_norm] expected a floating point input, but got ",
              input.dtype(), "; convert the input with .to(float32)");
  RICCI_CHECK(num_groups > 0, ValueError, "[group_norm] num_groups must be a positive number of groups, got ",
              num_groups);
  const int64_t n = input.size(0), c = input.size(1);
  RICCI_CHECK(c % num_groups == 0, ShapeError,
              "[group_norm] Expected number of channels in input to be divisible by num_groups, but got input of shape ",
              shape_str(input.shape()), " and num_groups=", num_groups);
  for (const auto& [t, name] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!t->defined()) continue;
    RICCI_CHECK(t->dim() == 1 && t->numel() == c, ShapeError, "[group_norm] Expected ", name,
                " to be a vector of size equal to the number of channels in input, but got ", name, " of shape ",
                shape_str(t->shape()), " and input of shape ", shape_str(input.shape()));
    RICCI_CHECK(t->is_floating_point(), DTypeError, "[group_norm] expected a floating point ", name, ", but got ",
                t->dtype());
    check_same_device(op, {&input, t});
  }
  int64_t spatial = 1;
  for (int64_t d = 2; d < input.dim(); ++d) spatial *= input.size(d);
  // PyTorch's F.group_norm check (_verify_batch_size of [N * C / G, G, *spatial]).
  if (n * (c / num_groups) * spatial == 1) {
    Dims size{n * c / num_groups, num_groups};
    for (int64_t d = 2; d < input.dim(); ++d) size.push_back(input.size(d));
    throw ValueError(detail::cat("[group_norm] Expected more than 1 value per channel when training, got input size ",
                                 shape_str(size)));
  }
  // float16/bfloat16: normalised and scaled in float32, rounded once at the end.
  const DType t = input.dtype();
  const DType compute = t == float16 || t == bfloat16 ? float32 : t;
  const Tensor x = compute == t ? input : input.to(compute);
  const int64_t group = c / num_groups * spatial;
  const Dims grouped{n, num_groups, group};
  const int64_t last[1] = {group};
  Tensor y = layer_norm(x.reshape(grouped), last, Tensor(), Tensor(), eps).reshape(input.shape());
  Dims per_channel(static_cast<size_t>(input.dim()), 1);
  per_channel[1] = c;
  if (weight.defined()) y = y * weight.to(compute).reshape(per_channel);
  if (bias.defined()) y = y + bias.to(compute).reshape(per_channel);
  return compute == t ? y : y.to(t);
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    bool is_causal, std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  check_defined(q, op, "query");
  check_defined(k, op, "key");
  check_defined(v, op, "value");
  RICCI_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, ShapeError, "[", op,
              "] query, key and value need at least 2 dims (..., L, E), got shapes ", shape_str(q.shape()), ", ",
              shape_str(k.shape()), " and ", shape_str(v.shape()));
  RICCI_CHECK(q.size(-1) == k.size(-1), ShapeError, "[", op, "] query of shape ", shape_str(q.shape()),
              " and key of shape ", shape_str(k.shape()), " must have the same embedding size (last dim)");
  RICCI_CHECK(k.size(-2) == v.size(-2), ShapeError, "[", op, "] key of shape ", shape_str(k.shape()),
              " and value of shape ", shape_str(v.shape()), " must have the same sequence length (dim -2)");
  RICCI_CHECK(!(is_causal && attn_mask.defined()), ValueError, "[", op,
              "] Explicit attn_mask should not be set when is_causal=True; fold the causal mask into attn_mask instead");
  RICCI_CHECK(q.is_floating_point(), DTypeError, "[", op, "] expected floating point query, key and value, got ",
              q.dtype());
  const double s = scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  const double ninf = -std::numeric_limits<double>::infinity();
  auto qk = [&] { return q.matmul(k.mT()); };
  bool same_batch_product = q.dim() >= 3 && q.dim() == k.dim() && q.device().type == DeviceType::CPU &&
                            k.device() == q.device() && k.dtype() == q.dtype() &&
                            lazy::detail::fast_forms_apply();
  for (int64_t d = 0; same_batch_product && d + 2 < q.dim(); ++d) same_batch_product = q.size(d) == k.size(d);
  Tensor scores;
  if (is_causal) {
    // Top-left aligned, as PyTorch: query i attends to keys j <= i.
    const int64_t L = q.size(-2), S = k.size(-2);
    const DType t = promote_types(q.dtype(), k.dtype());
    if (t == float32 || t == float64) {
      // bias + s * qk, the bias 0 or -inf, as PyTorch's math attention adds its causal bias: for
      // finite scores (qk * s).masked_fill(future, -inf) bit for bit in float32 and float64
      // (0 + x = x, -inf + x = -inf), in one pass instead of two, and its backward is one multiply
      // by s where masked_fill's added a where() (two passes of a GPT step's attention). A NaN or
      // inf score in a masked place gives NaN, as in PyTorch's math attention.
      Tensor bias = zeros({L, S}, TensorOptions(float64));
      double* b = bias.data_ptr<double>();
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = i + 1; j < S; ++j) b[i * S + j] = ninf;
      bias = bias.to(t).to(q.device());
      // Same batch dims on the CPU: the GEMM adds s * q @ k^T into the broadcast bias (beta = 1,
      // as linear's bias, Note [Linear's bias in the GEMM]): the same values bit for bit (one
      // K block, 0 + x and -inf + x exact), without OpenBLAS zeroing the scores first or the
      // separate pass. The gradients of q and k get s inside their GEMMs (last-bit differences).
      if (same_batch_product) {
        const Tensor p = softmax(internal::add_batched_product(bias, q, k.mT(), s), -1);
        // The output in q's layout (a GPT's heads: (B, T, H, D) memory, so that the merge of the
        // heads after is a view, not a copy), as PyTorch's CPU flash attention writes (B, L, H, E).
        bool same_v = v.dim() == q.dim() && v.dtype() == q.dtype() && v.device() == q.device();
        for (int64_t d = 0; same_v && d + 2 < q.dim(); ++d) same_v = v.size(d) == q.size(d);
        return same_v ? internal::batched_product_like(p, v, q) : p.matmul(v);
      }
      scores = add(bias, qk(), s);
    } else {
      Tensor future = empty({L, S}, bool_);
      bool* m = future.data_ptr<bool>();
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < S; ++j) m[i * S + j] = j > i;
      scores = (qk() * s).masked_fill(future.to(q.device()), ninf);
    }
  } else if (attn_mask.defined()) {
    scores = qk() * s;
    if (attn_mask.dtype() == bool_) scores = scores.masked_fill(attn_mask.logical_not(), ninf);
    else scores = scores + attn_mask;
    // A query row the mask hides completely (every score -inf) attends to nothing: PyTorch gives 0
    // for it, and zero gradients, where softmax alone would give NaN. Its scores are replaced by 0
    // before the softmax (finite, so the backward is too) and its weights by 0 after.
    const int64_t last[1] = {-1};
    const Tensor hidden = all(scores.detach() == ninf, last, /*keepdim=*/true);
    return where(hidden, 0.0, softmax(where(hidden, 0.0, scores), -1)).matmul(v);
  } else {
    scores = qk() * s;
  }
  return softmax(scores, -1).matmul(v);
}

}  // namespace ricci::nn::functional
