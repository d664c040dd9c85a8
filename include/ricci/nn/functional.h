#pragma once
// Neural-network functions, PyTorch's torch.nn.functional: softmax and friends, normalisation,
// dropout, embedding, linear layers, losses and attention. `ricci::F` is a short alias:
//   auto p = F::softmax(logits, -1);
//   auto loss = F::cross_entropy(logits, target, {.label_smoothing = 0.1});
// Every function is differentiable in its floating inputs (targets, indices and masks are
// constants). float16/bfloat16 inputs are computed in float32 and rounded once at the end.
#include <cstdint>
#include <optional>

#include "ricci/tensor.h"

namespace ricci {
class Generator;
}

namespace ricci::nn::functional {

// How a loss combines its per-element values: `None` keeps them, `Mean` averages, `Sum` adds.
enum class Reduction : uint8_t { None, Mean, Sum };

// ---- softmax -----------------------------------------------------------------------------------
// exp(x - max) / sum(exp(x - max)) along `dim` (negative counts from the end); stable for any
// finite input (±1e4 gives no NaN/inf). A row holding +inf gives NaN, as in PyTorch; a row of
// -inf gives NaN. `dtype` converts the input first (the way to take the softmax of an integer
// tensor). Floating inputs only, else DTypeError. 0-d inputs are treated as one-element rows.
Tensor softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);
// x - max - log(sum(exp(x - max))): the log of softmax, without its underflow.
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);

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

}  // namespace ricci::nn::functional

namespace ricci {
namespace F = nn::functional;
}  // namespace ricci
