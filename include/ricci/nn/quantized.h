#pragma once
// Quantized layers (MLX's nn.QuantizedLinear, nn.QuantizedEmbedding and nn.quantize): the
// weights held as group-wise codes, scales and biases (include/ricci/quantize.h), multiplied
// without ever making the float matrix. For inference: every tensor of these layers is frozen
// (requires_grad false); a gradient still flows to the layer's input.
//
//   auto model = std::make_shared<GPT>(cfg);
//   model->load("gpt.safetensors");
//   nn::quantize(*model, /*group_size=*/64, /*bits=*/4);  // every Linear and Embedding, in place
//   model->save("gpt-int4.safetensors");                    // weight (int32 codes), scales, biases
//
// State dict keys follow MLX: "weight" (the packed codes, int32 — MLX's uint32 bits), "scales",
// "biases" and, for a Linear with a bias, "bias". nn::load_quantized reads files MLX wrote (its
// packed weights are typed U32).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ricci/nn/layers.h"
#include "ricci/quantize.h"

namespace ricci::nn {

// y = x · dequantize(weight)ᵀ + bias, weight (out, in) quantized along `in`.
class QuantizedLinear : public Layer<QuantizedLinear> {
 public:
  // A Linear(in, out) with PyTorch's init, quantized (in % group_size == 0, else ShapeError).
  QuantizedLinear(int64_t in_features, int64_t out_features, bool bias = true, int64_t group_size = 64,
                  int64_t bits = 4, TensorOptions options = {});
  // The quantized copy of a Linear (its bias copied as it is).
  static std::shared_ptr<QuantizedLinear> from_linear(const Linear& linear, int64_t group_size = 64, int64_t bits = 4);
  Tensor forward(const Tensor& x);
  int64_t in_features, out_features, group_size, bits;
  // How forward multiplies x (quantized_matmul's `activations`): Float, MLX's numbers, or Int8,
  // x rounded to int8 per block of 32 (faster decoding on AVX2, inference only).
  ActivationPrecision activations = ActivationPrecision::Float;
  Tensor weight, scales, biases, bias;  // bias undefined when bias=false
  // The float layer nn::quantize replaced, kept alive for code that still holds it (it forwards here).
  std::shared_ptr<Module> replaces;

 private:
  QuantizedLinear(const Tensor& w, const Tensor& b, int64_t group_size, int64_t bits);
};

// Rows of a quantized (num, dim) table: forward(indices) dequantizes the rows it gathers.
class QuantizedEmbedding : public Layer<QuantizedEmbedding> {
 public:
  QuantizedEmbedding(int64_t num_embeddings, int64_t embedding_dim, int64_t group_size = 64, int64_t bits = 4,
                     TensorOptions options = {});
  static std::shared_ptr<QuantizedEmbedding> from_embedding(const Embedding& embedding, int64_t group_size = 64,
                                                            int64_t bits = 4);
  // indices (any shape, int64/int32) → (..., dim) in the scales' dtype.
  Tensor forward(const Tensor& indices);
  // x (..., dim) @ tableᵀ → (..., num): the output head of a model whose head shares the table.
  Tensor as_linear(const Tensor& x);
  int64_t num_embeddings, embedding_dim, group_size, bits;
  ActivationPrecision activations = ActivationPrecision::Float;  // as_linear's, as in QuantizedLinear
  std::optional<int64_t> padding_idx;  // copied from the Embedding (its row is stored like any other)
  Tensor weight, scales, biases;
  std::shared_ptr<Module> replaces;  // as in QuantizedLinear

 private:
  QuantizedEmbedding(const Tensor& w, int64_t group_size, int64_t bits);
};

// Replaces every Linear and Embedding under `model` (not `model` itself) whose input dim (a
// Linear's in_features, an Embedding's embedding_dim) is divisible by group_size, and for which
// `predicate(dotted path, module)` returns true when given, by its quantized form — in place:
// the parent's child entry becomes the QuantizedLinear / QuantizedEmbedding (state_dict,
// named_modules and save show it), and the old layer forwards to it (so code holding the old
// handle, such as a model's forward, keeps working) and lets go of its float weights. Returns
// the number of layers replaced. ValueError for a group size or bit width quantize() refuses.
int64_t quantize(Module& model, int64_t group_size = 64, int64_t bits = 4,
                 const std::function<bool(const std::string&, Module&)>& predicate = {});

// Sets `activations` on every QuantizedLinear and QuantizedEmbedding in `model` (itself included);
// returns how many. Int8 trades 0.4 % of each activation block's range for 1.4-2.5x the decode
// speed on AVX2 (docs/quantization.md, "Int8 activations").
int64_t set_activation_precision(Module& model, ActivationPrecision activations);

// Module::load for files with quantized weights written by MLX: tensors typed U32 (MLX's packed
// codes) are read as int32, the rest as Module::load reads them.
LoadStateDictResult load_quantized(Module& model, const std::string& path, bool strict = true);

}  // namespace ricci::nn
