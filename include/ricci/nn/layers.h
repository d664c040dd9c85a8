#pragma once
// Layers: Modules with `Tensor forward(const Tensor&)` (also callable as `layer(x)`), initialised
// as PyTorch initialises them.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ricci/nn/module.h"

namespace ricci::nn {

class QuantizedLinear;     // nn/quantized.h
class QuantizedEmbedding;  // nn/quantized.h

// CRTP helper: operator() forwards to Derived::forward.
template <class Derived>
class Layer : public Module {
 public:
  Tensor operator()(const Tensor& x) { return static_cast<Derived*>(this)->forward(x); }
};

// y = x Wᵀ + b, W (out, in). Init: W ~ kaiming_uniform(a=√5) = U(-1/√in, 1/√in), b ~ U(-1/√in, 1/√in).
class Linear : public Layer<Linear> {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, TensorOptions options = {});
  Tensor forward(const Tensor& x);
  int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined when bias=false
  // Set by nn::quantize, which put this QuantizedLinear in the layer's place (and released
  // weight and bias): forward runs it. The replacement owns this layer, not the other way round.
  std::weak_ptr<QuantizedLinear> quantized;
};

// Rows of weight (num, dim) ~ N(0, 1); the padding_idx row starts at zero and gets no gradient.
class Embedding : public Layer<Embedding> {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = std::nullopt,
            TensorOptions options = {});
  Tensor forward(const Tensor& indices);
  std::optional<int64_t> padding_idx;
  Tensor weight;
  // Set by nn::quantize, which put this QuantizedEmbedding in the layer's place (and released
  // weight): forward runs it. The replacement owns this layer, not the other way round.
  std::weak_ptr<QuantizedEmbedding> quantized;
};

// Normalises over the trailing `normalized_shape` dims; weight ones, bias zeros when affine.
class LayerNorm : public Layer<LayerNorm> {
 public:
  LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
            bool bias = true, TensorOptions options = {});
  LayerNorm(int64_t normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNorm(std::vector<int64_t>{normalized_shape}, eps, elementwise_affine) {}
  Tensor forward(const Tensor& x);
  std::vector<int64_t> normalized_shape;
  double eps;
  Tensor weight, bias;
};

// x / √(mean(x²) + eps) * weight; eps unset: the dtype's machine epsilon (as PyTorch).
class RMSNorm : public Layer<RMSNorm> {
 public:
  RMSNorm(std::vector<int64_t> normalized_shape, std::optional<double> eps = std::nullopt,
          bool elementwise_affine = true, TensorOptions options = {});
  RMSNorm(int64_t normalized_shape, std::optional<double> eps = std::nullopt)
      : RMSNorm(std::vector<int64_t>{normalized_shape}, eps) {}
  Tensor forward(const Tensor& x);
  std::vector<int64_t> normalized_shape;
  std::optional<double> eps;
  Tensor weight;
};

// Active only while training (train()/eval()).
class Dropout : public Layer<Dropout> {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x);
  double p;
};

class ReLU : public Layer<ReLU> { public: Tensor forward(const Tensor& x) { return x.relu(); } };
class GELU : public Layer<GELU> {
 public:
  explicit GELU(std::string approximate = "none") : approximate(std::move(approximate)) {}
  Tensor forward(const Tensor& x) { return x.gelu(approximate); }
  std::string approximate;
};
class SiLU : public Layer<SiLU> { public: Tensor forward(const Tensor& x) { return x.silu(); } };
class Tanh : public Layer<Tanh> { public: Tensor forward(const Tensor& x) { return x.tanh(); } };
class Sigmoid : public Layer<Sigmoid> { public: Tensor forward(const Tensor& x) { return x.sigmoid(); } };

// Runs its modules in order. push_back takes any Module with `Tensor forward(const Tensor&)`; the
// call is type-erased, children are named "0", "1", ... as in PyTorch.
class Sequential : public Layer<Sequential> {
 public:
  Sequential() = default;
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    M* raw = module.get();
    steps_.push_back([raw](const Tensor& x) { return raw->forward(x); });
    return register_module(std::to_string(steps_.size() - 1), std::move(module));
  }
  template <class M, class... Args>
  std::shared_ptr<M> emplace_back(Args&&... args) {
    return push_back(std::make_shared<M>(std::forward<Args>(args)...));
  }
  Tensor forward(const Tensor& x);
  size_t size() const { return steps_.size(); }
  std::shared_ptr<Module> operator[](size_t i) const;

 private:
  std::vector<std::function<Tensor(const Tensor&)>> steps_;
};

// Holds modules under "0", "1", ...; no forward of its own.
class ModuleList : public Module {
 public:
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    items_.push_back(module);
    return register_module(std::to_string(items_.size() - 1), std::move(module));
  }
  size_t size() const { return items_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;
  template <class M>
  std::shared_ptr<M> at(size_t i) const { return std::dynamic_pointer_cast<M>((*this)[i]); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

// Holds modules by name, in insertion order.
class ModuleDict : public Module {
 public:
  template <class M>
  std::shared_ptr<M> insert(const std::string& name, std::shared_ptr<M> module) {
    return register_module(name, std::move(module));
  }
  bool contains(const std::string& name) const;
  std::shared_ptr<Module> operator[](const std::string& name) const { return child(name); }
  template <class M>
  std::shared_ptr<M> at(const std::string& name) const { return std::dynamic_pointer_cast<M>(child(name)); }
  size_t size() const { return named_children().size(); }
};

// Multi-head causal self-attention on (B, T, d_model): one Linear for q, k, v ("c_attn"), the
// heads through F::scaled_dot_product_attention(is_causal), an output Linear ("c_proj"), and
// dropout on the output while training.
class CausalSelfAttention : public Layer<CausalSelfAttention> {
 public:
  CausalSelfAttention(int64_t d_model, int64_t n_heads, double dropout = 0.0);
  Tensor forward(const Tensor& x);
  int64_t d_model, n_heads;
  std::shared_ptr<Linear> c_attn, c_proj;
  std::shared_ptr<Dropout> resid_dropout;
};

// Pre-norm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)) with the MLP
// Linear(d, 4d) → GELU → Linear(4d, d) → Dropout.
class TransformerBlock : public Layer<TransformerBlock> {
 public:
  TransformerBlock(int64_t d_model, int64_t n_heads, double dropout = 0.0);
  Tensor forward(const Tensor& x);
  std::shared_ptr<LayerNorm> ln1, ln2;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<Sequential> mlp;
};

}  // namespace ricci::nn
