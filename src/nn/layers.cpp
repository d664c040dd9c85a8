// The layers of nn/layers.h: construction (PyTorch's default init) and forward.
#include "ricci/nn/layers.h"

#include <cmath>

#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/nn/functional.h"
#include "ricci/nn/init.h"
#include "ricci/nn/quantized.h"

namespace ricci::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias, TensorOptions options)
    : in_features(in), out_features(out) {
  RICCI_CHECK(in >= 0 && out >= 0, ValueError, "[Linear] in_features and out_features must be non-negative, got (",
              in, ", ", out, ")");
  options.requires_grad = false;
  weight = register_parameter("weight", empty({out, in}, options));
  // kaiming_uniform(a=√5) is U(-1/√in, 1/√in): PyTorch's reset_parameters.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    bias = register_parameter("bias", empty({out}, options));
    const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& x) {
  if (auto q = quantized.lock()) return q->forward(x);
  RICCI_CHECK(weight.defined(), ValueError, "[Linear] this layer was quantized and its QuantizedLinear is gone");
  RICCI_CHECK(x.dim() >= 1 && x.size(-1) == in_features, ShapeError, "[Linear] mat1 and mat2 shapes cannot be "
              "multiplied: input has shape ", x.shape(), " but the layer expects a last dim of ", in_features);
  return F::linear(x, weight, bias);
}

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad, TensorOptions options) {
  RICCI_CHECK(num >= 0 && dim >= 0, ValueError, "[Embedding] sizes must be non-negative, got (", num, ", ", dim, ")");
  if (pad) {
    RICCI_CHECK(*pad < num && *pad >= -num, ValueError, "[Embedding] padding_idx must be within num_embeddings (",
                num, "), got ", *pad);
    padding_idx = *pad < 0 ? *pad + num : *pad;
  }
  options.requires_grad = false;
  weight = register_parameter("weight", empty({num, dim}, options));
  init::normal_(weight);
  if (padding_idx) {
    NoGradGuard g;
    weight.select(0, *padding_idx).zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  if (auto q = quantized.lock()) return q->forward(indices);
  RICCI_CHECK(weight.defined(), ValueError, "[Embedding] this layer was quantized and its QuantizedEmbedding is gone");
  return F::embedding(indices, weight, padding_idx);
}

LayerNorm::LayerNorm(std::vector<int64_t> shape, double eps_, bool affine, bool with_bias, TensorOptions options)
    : normalized_shape(std::move(shape)), eps(eps_) {
  options.requires_grad = false;
  if (affine) {
    weight = register_parameter("weight", ones(normalized_shape, options));
    if (with_bias) bias = register_parameter("bias", zeros(normalized_shape, options));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return F::layer_norm(x, normalized_shape, weight, bias, eps); }

RMSNorm::RMSNorm(std::vector<int64_t> shape, std::optional<double> eps_, bool affine, TensorOptions options)
    : normalized_shape(std::move(shape)), eps(eps_) {
  options.requires_grad = false;
  if (affine) weight = register_parameter("weight", ones(normalized_shape, options));
}

Tensor RMSNorm::forward(const Tensor& x) { return F::rms_norm(x, normalized_shape, weight, eps); }

Dropout::Dropout(double p_) : p(p_) {
  RICCI_CHECK(p >= 0.0 && p <= 1.0, ValueError, "[Dropout] dropout probability has to be between 0 and 1, but got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return F::dropout(x, p, is_training()); }

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& step : steps_) y = step(y);
  return y;
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  RICCI_CHECK(i < steps_.size(), IndexError, "[Sequential] index ", i, " is out of range for ", steps_.size(),
              " modules");
  return named_children()[i].second;
}

const std::shared_ptr<Module>& ModuleList::operator[](size_t i) const {
  RICCI_CHECK(i < items_.size(), IndexError, "[ModuleList] index ", i, " is out of range for ", items_.size(),
              " modules");
  return items_[i];
}

bool ModuleDict::contains(const std::string& name) const {
  for (const auto& [n, _] : named_children())
    if (n == name) return true;
  return false;
}

CausalSelfAttention::CausalSelfAttention(int64_t d, int64_t h, double dropout) : d_model(d), n_heads(h) {
  RICCI_CHECK(h > 0 && d % h == 0, ValueError, "[CausalSelfAttention] d_model (", d,
              ") must be divisible by n_heads (", h, ")");
  c_attn = register_module("c_attn", std::make_shared<Linear>(d, 3 * d));
  c_proj = register_module("c_proj", std::make_shared<Linear>(d, d));
  resid_dropout = register_module("resid_dropout", std::make_shared<Dropout>(dropout));
}

Tensor CausalSelfAttention::forward(const Tensor& x) {
  RICCI_CHECK(x.dim() == 3 && x.size(2) == d_model, ShapeError, "[CausalSelfAttention] expected input of shape "
              "(B, T, ", d_model, "), got ", x.shape());
  const int64_t B = x.size(0), T = x.size(1), hd = d_model / n_heads;
  const std::vector<Tensor> qkv = c_attn->forward(x).split(d_model, 2);
  auto heads = [&](const Tensor& t) { return t.reshape({B, T, n_heads, hd}).transpose(1, 2); };
  const Tensor y = F::scaled_dot_product_attention(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), Tensor(), true);
  return resid_dropout->forward(c_proj->forward(y.transpose(1, 2).reshape({B, T, d_model})));
}

TransformerBlock::TransformerBlock(int64_t d, int64_t h, double dropout) {
  ln1 = register_module("ln1", std::make_shared<LayerNorm>(d));
  attn = register_module("attn", std::make_shared<CausalSelfAttention>(d, h, dropout));
  ln2 = register_module("ln2", std::make_shared<LayerNorm>(d));
  mlp = register_module("mlp", std::make_shared<Sequential>());
  mlp->emplace_back<Linear>(d, 4 * d);
  mlp->emplace_back<GELU>();
  mlp->emplace_back<Linear>(4 * d, d);
  mlp->emplace_back<Dropout>(dropout);
}

Tensor TransformerBlock::forward(const Tensor& x) {
  const Tensor h = x.add(attn->forward(ln1->forward(x)));
  return h.add(mlp->forward(ln2->forward(h)));
}

}  // namespace ricci::nn
