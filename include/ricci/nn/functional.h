#pragma once
// Neural-network functions, PyTorch's torch.nn.functional: softmax and friends, normalisation,
// dropout, embedding, linear layers, losses and attention. `ricci::F` is a short alias:
//   auto p = F::softmax(logits, -1);
//   auto loss = F::cross_entropy(logits, target, {.label_smoothing = 0.1});
// Every function is differentiable in its floating inputs (targets, indices and masks are
// constants). float16/bfloat16 inputs are computed in float32 and rounded once at the end.
#include <cstdint>
#include <optional>

#include "ricci/ops/shape.h"
#include "ricci/tensor.h"

namespace ricci {
class Generator;
}

namespace ricci::nn::functional {

// How a loss combines its per-element values: `None` keeps them, `Mean` averages, `Sum` adds.
// `BatchMean` (kl_div only: the sum divided by the batch size, input.size(0)); other losses
// refuse it with ValueError "batchmean is not a valid value for reduction", as PyTorch.
enum class Reduction : uint8_t { None, Mean, Sum, BatchMean };

// ---- softmax -----------------------------------------------------------------------------------
// exp(x - max) / sum(exp(x - max)) along `dim` (negative counts from the end); stable for any
// finite input (±1e4 gives no NaN/inf). A row holding +inf gives NaN, as in PyTorch; a row of
// -inf gives NaN. `dtype` converts the input first (the way to take the softmax of an integer
// tensor). Floating inputs only, else DTypeError. 0-d inputs are treated as one-element rows.
Tensor softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);
// x - max - log(sum(exp(x - max))): the log of softmax, without its underflow.
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);
// softmax(-x, dim): the same rules (dtype converts first; bool inputs are refused by the
// negation, as in PyTorch).
Tensor softmin(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);

// ---- normalisation -----------------------------------------------------------------------------
// (x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape) dims, which
// must equal normalized_shape (ShapeError otherwise). var is the biased variance. weight and bias
// (optional, undefined Tensor to omit) have shape normalized_shape. A fused kernel computes the
// mean and 1/std per row in one pass. Gradients: input, weight and bias; second derivatives too
// (the backward then runs as ricci ops instead of the fused kernel).
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
// x / sqrt(mean(x^2) + eps) * weight over the last dims; eps unset: the machine epsilon of the
// type the norm is computed in, as PyTorch's kernel does: float32's (2^-23) for float16, bfloat16
// and float32 inputs, float64's for float64 (PyTorch's docs say torch.finfo(input.dtype).eps, but
// its result uses float32's eps for float16/bfloat16 too, and so does ricci).
Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = Tensor(),
                std::optional<double> eps = std::nullopt);
// Input (N, C, *) split into num_groups groups of C / num_groups channels; each (sample, group)
// is normalised over its channels and spatial elements like layer_norm (biased variance), then
// weight and bias (optional, shape (C)) scale and shift each channel. Errors as PyTorch: input
// of fewer than 2 dims, C not divisible by num_groups, weight/bias not a vector of C elements
// (ShapeError); num_groups < 1, or one value per group ("Expected more than 1 value per channel
// when training", ValueError). Built on layer_norm's kernel: every gradient, second ones too.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// ---- dropout and embedding ----------------------------------------------------------------------
// While training, zeroes each element with probability p and scales the rest by 1 / (1 - p)
// (p = 1 gives zeros); otherwise returns the input. p outside [0, 1] is a ValueError. Draws from
// `gen` (default: the global generator, see random.h).
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, Generator* gen = nullptr);
// weight[indices]: the rows of `weight` (num_embeddings, embedding_dim) picked by integer
// `indices` (int64/int32, any shape); the result has shape indices.shape + [embedding_dim].
// Indices outside [0, num_embeddings) throw IndexError "index out of range in self". The gradient
// of weight accumulates the output gradient into the picked rows; the row `padding_idx` (negative
// counts from the end) gets no gradient.
Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx = std::nullopt);

// ---- linear layers ------------------------------------------------------------------------------
// x @ weight^T + bias, with x (*, in_features), weight (out_features, in_features) and bias
// (out_features) (optional). Leading dims of x are batch dims.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());

// ---- losses -------------------------------------------------------------------------------------
struct NllLossOptions {
  Tensor weight;               // per-class rescaling, shape (C); undefined: all ones
  int64_t ignore_index = -100;  // targets equal to it add nothing (and do not count in the mean)
  Reduction reduction = Reduction::Mean;
};
// -input[n, target[n]] * weight[target[n]], with input (N, C) or (C) or (N, C, d1, ...) holding
// log-probabilities and target (N) or () or (N, d1, ...) int64 class indices. Mean divides by
// the sum of the weights of the counted targets. A target outside [0, C) (other than
// ignore_index) throws IndexError "Target 7 is out of bounds.".
Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options = {});

struct CrossEntropyOptions {
  Tensor weight;               // per-class rescaling, shape (C)
  int64_t ignore_index = -100;  // class-index targets only
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]: mixes the target with the uniform distribution
};
// nll_loss(log_softmax(input, 1), target) for class-index targets (int64), or, when target is
// floating with input's shape, -sum(target * log_softmax(input, 1)) per sample (class
// probabilities). Label smoothing follows PyTorch exactly (also with weights and ignore_index).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

// (input - target)^2, broadcast, then reduced.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// -w (t log(x) + (1 - t) log(1 - x)) with input x (probabilities) and target t of the same shape
// (ValueError otherwise), each log clamped to >= -100 as PyTorch (so x = 0 or 1 gives a finite
// loss). weight (optional, not differentiated) broadcasts to the input's shape. Elements of x or
// t outside [0, 1] (NaN too) are a ValueError. Gradients are PyTorch's: (x - t) / max(x (1 - x),
// 1e-12) for the input, -logit(x) for the target.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);
// binary_cross_entropy(sigmoid(x), t) computed from the logits without overflow:
// (1 - t) x - log_weight * logsigmoid(x), log_weight = 1 + (pos_weight - 1) t. pos_weight
// (optional, broadcast against target; per-class weights of the positive term) and weight
// (optional) are not differentiated, and must broadcast to the input's shape. Input and target
// must have the same shape (ValueError).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                                        Reduction reduction = Reduction::Mean, const Tensor& pos_weight = Tensor());
// Kullback-Leibler divergence, input holding log-probabilities: target (log(target) - input),
// with 0 log 0 = 0; log_target: target holds log-probabilities too, exp(t) (t - input). Broadcasts.
// Reduction::BatchMean divides the sum by input.size(0) (the mathematically right mean; Mean
// averages over every element, as PyTorch).
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
              bool log_target = false);
// 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere, d = input - target (broadcast);
// beta = 0 is the L1 loss, beta < 0 a ValueError. Gradient: clamp(d / beta, -1, 1), as PyTorch.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
// 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere; delta must be > 0 (ValueError).
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);

// ---- distances -----------------------------------------------------------------------------------
// sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, after broadcasting x1 with x2 (so
// the result stays in [-1, 1]); integer inputs are converted to the common floating dtype, which
// must exist (DTypeError otherwise). The gradient treats the clamp as PyTorch does (through the
// norm, as if unclamped).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

// ---- attention ----------------------------------------------------------------------------------
// softmax(q @ k^T * scale + mask) @ v with q (..., L, E), k (..., S, E), v (..., S, Ev) (leading
// dims broadcast). attn_mask (broadcastable to (..., L, S)): bool, where true means "may attend",
// or floating, added to the scores. is_causal masks the upper triangle (j > i) and excludes
// attn_mask. scale unset: 1 / sqrt(E). A query row that attn_mask hides completely (all its
// scores -inf) gives 0 and passes zero gradients, as in PyTorch (not softmax's NaN). Composed of
// ricci ops, so every gradient follows.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

// ---- padding ------------------------------------------------------------------------------------
// F::pad(input, pad, mode, value) is ricci::pad (ops/shape.h): constant, reflect, replicate and
// circular modes with PyTorch's pad list (pairs from the last dim).
using ricci::pad;

}  // namespace ricci::nn::functional

namespace ricci {
namespace F = nn::functional;
}  // namespace ricci
