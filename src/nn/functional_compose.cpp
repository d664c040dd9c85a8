// nn functions composed of other ricci ops (their gradients follow from those ops): dropout,
// linear, mse_loss and scaled_dot_product_attention.
#include <cmath>
#include <limits>

#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/nn/functional.h"
#include "ricci/ops/elementwise.h"
#include "ricci/ops/linalg.h"
#include "ricci/ops/reduce.h"
#include "ricci/random.h"

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
  Tensor keep = bernoulli(input.shape(), 1.0 - p, TensorOptions(input.dtype(), input.device()), gen);
  return input * (keep * (1.0 / (1.0 - p)));
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
  Tensor out = weight.dim() == 2 ? input.matmul(weight.t()) : input.matmul(weight);
  if (!bias.defined()) return out;
  const int64_t out_f = weight.dim() == 2 ? weight.size(0) : 1;
  RICCI_CHECK(bias.numel() == out_f && bias.dim() <= 1, ShapeError, "[linear] bias of shape ", shape_str(bias.shape()),
              " does not match out_features = ", out_f, " of weight ", shape_str(weight.shape()));
  return out + bias;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_defined(input, "mse_loss");
  check_defined(target, "mse_loss", "target");
  const Tensor d = input - target;
  const Tensor sq = d * d;
  switch (reduction) {
    case Reduction::None: return sq;
    case Reduction::Sum: return sq.sum();
    case Reduction::Mean: return sq.mean();
  }
  return sq;
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
  Tensor scores = q.matmul(k.mT()) * s;
  const double ninf = -std::numeric_limits<double>::infinity();
  if (is_causal) {
    // Top-left aligned, as PyTorch: query i attends to keys j <= i.
    const int64_t L = q.size(-2), S = k.size(-2);
    Tensor future = empty({L, S}, bool_);
    bool* m = future.data_ptr<bool>();
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < S; ++j) m[i * S + j] = j > i;
    scores = scores.masked_fill(future.to(q.device()), ninf);
  } else if (attn_mask.defined()) {
    if (attn_mask.dtype() == bool_) scores = scores.masked_fill(attn_mask.logical_not(), ninf);
    else scores = scores + attn_mask;
    // A query row the mask hides completely (every score -inf) attends to nothing: PyTorch gives 0
    // for it, and zero gradients, where softmax alone would give NaN. Its scores are replaced by 0
    // before the softmax (finite, so the backward is too) and its weights by 0 after.
    const int64_t last[1] = {-1};
    const Tensor hidden = all(scores.detach() == ninf, last, /*keepdim=*/true);
    return where(hidden, 0.0, softmax(where(hidden, 0.0, scores), -1)).matmul(v);
  }
  return softmax(scores, -1).matmul(v);
}

}  // namespace ricci::nn::functional
