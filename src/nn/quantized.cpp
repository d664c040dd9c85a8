// Quantized layers and nn::quantize (include/ricci/nn/quantized.h).
#include "ricci/nn/quantized.h"

#include <cmath>

#include "ricci/autograd.h"
#include "ricci/nn/init.h"
#include "ricci/factories.h"
#include "ricci/io.h"
#include "ricci/ops/index.h"

namespace ricci::nn {

namespace {

// The codes, scales and biases of a float weight, registered on `m` as frozen parameters.
void register_quantized(Module& m, const char* layer, const Tensor& w, int64_t group_size, int64_t bits,
                        Tensor& weight, Tensor& scales, Tensor& biases) {
  RICCI_CHECK(w.size(-1) % group_size == 0, ShapeError, "[", layer, "] the input dim ", w.size(-1),
              " must be divisible by group_size ", group_size, "; pick a group size that divides it (32, 64 or "
              "128) or leave this layer in float (nn::quantize's predicate)");
  QuantizedTensor q;
  {
    NoGradGuard no_grad;
    q = ricci::quantize(w.detach(), group_size, bits);
  }
  weight = m.register_parameter("weight", q.weight, false);
  scales = m.register_parameter("scales", q.scales, false);
  biases = m.register_parameter("biases", q.biases, false);
}

}  // namespace

QuantizedLinear::QuantizedLinear(int64_t in, int64_t out, bool with_bias, int64_t gs, int64_t b, TensorOptions options)
    : QuantizedLinear(Linear(in, out, with_bias, options).weight, Tensor(), gs, b) {
  if (with_bias) {
    const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
    options.requires_grad = false;
    bias = register_parameter("bias", empty({out}, options), false);
    init::uniform_(bias, -bound, bound);
  }
}

QuantizedLinear::QuantizedLinear(const Tensor& w, const Tensor& b, int64_t gs, int64_t nbits)
    : in_features(w.size(1)), out_features(w.size(0)), group_size(gs), bits(nbits) {
  register_quantized(*this, "QuantizedLinear", w, gs, nbits, weight, scales, biases);
  if (b.defined()) bias = register_parameter("bias", b.detach().clone(), false);
}

std::shared_ptr<QuantizedLinear> QuantizedLinear::from_linear(const Linear& linear, int64_t gs, int64_t b) {
  RICCI_CHECK(linear.weight.defined(), ValueError, "[QuantizedLinear::from_linear] the Linear holds no weight (it "
              "was quantized already: use its `quantized` layer)");
  return std::shared_ptr<QuantizedLinear>(new QuantizedLinear(linear.weight, linear.bias, gs, b));
}

Tensor QuantizedLinear::forward(const Tensor& x) {
  RICCI_CHECK(x.dim() >= 1 && x.size(-1) == in_features, ShapeError, "[QuantizedLinear] mat1 and mat2 shapes cannot "
              "be multiplied: input has shape ", x.shape(), " but the layer expects a last dim of ", in_features);
  Tensor y = quantized_matmul(x, weight, scales, biases, true, group_size, bits, activations);
  return bias.defined() ? y.add(bias) : y;
}

QuantizedEmbedding::QuantizedEmbedding(int64_t num, int64_t dim, int64_t gs, int64_t b, TensorOptions options)
    : QuantizedEmbedding(Embedding(num, dim, std::nullopt, options).weight, gs, b) {}

QuantizedEmbedding::QuantizedEmbedding(const Tensor& w, int64_t gs, int64_t nbits)
    : num_embeddings(w.size(0)), embedding_dim(w.size(1)), group_size(gs), bits(nbits) {
  register_quantized(*this, "QuantizedEmbedding", w, gs, nbits, weight, scales, biases);
}

std::shared_ptr<QuantizedEmbedding> QuantizedEmbedding::from_embedding(const Embedding& e, int64_t gs, int64_t b) {
  RICCI_CHECK(e.weight.defined(), ValueError, "[QuantizedEmbedding::from_embedding] the Embedding holds no weight (it "
              "was quantized already: use its `quantized` layer)");
  auto q = std::shared_ptr<QuantizedEmbedding>(new QuantizedEmbedding(e.weight, gs, b));
  q->padding_idx = e.padding_idx;
  return q;
}

Tensor QuantizedEmbedding::forward(const Tensor& indices) {
  RICCI_CHECK(indices.defined() && (indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32), DTypeError,
              "[QuantizedEmbedding] Expected tensor for argument #1 'indices' to have one of the following scalar "
              "types: Long, Int; but got ", indices.defined() ? indices.dtype() : DType::Float32,
              " instead (call .to(int64) on the indices)");
  const Tensor flat = indices.reshape({indices.numel()});
  const Tensor rows = dequantize(index_select(weight, 0, flat), index_select(scales, 0, flat),
                                 index_select(biases, 0, flat), group_size, bits);
  Dims shape(indices.shape());
  shape.push_back(embedding_dim);
  return rows.reshape(shape);
}

Tensor QuantizedEmbedding::as_linear(const Tensor& x) {
  RICCI_CHECK(x.dim() >= 1 && x.size(-1) == embedding_dim, ShapeError, "[QuantizedEmbedding::as_linear] input has "
              "shape ", x.shape(), " but the table's rows have ", embedding_dim, " elements");
  return quantized_matmul(x, weight, scales, biases, true, group_size, bits, activations);
}

int64_t quantize(Module& model, int64_t group_size, int64_t bits,
                 const std::function<bool(const std::string&, Module&)>& predicate) {
  RICCI_CHECK(group_size == 32 || group_size == 64 || group_size == 128, ValueError, "[nn::quantize] The requested "
              "group size ", group_size, " is not supported. The supported group sizes are 32, 64, and 128.");
  RICCI_CHECK(bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8, ValueError,
              "[nn::quantize] The requested number of bits ", bits,
              " is not supported. The supported bits are 2, 3, 4, 5, 6 and 8.");
  int64_t replaced = 0;
  // Parents first; each parent's children are copied before any is replaced.
  for (auto& [path, parent] : model.named_modules()) {
    const auto children = parent->named_children();
    for (const auto& [name, child] : children) {
      const std::string full = path.empty() ? name : path + "." + name;
      if (auto lin = std::dynamic_pointer_cast<Linear>(child)) {
        if (!lin->weight.defined() || lin->in_features % group_size != 0 || (predicate && !predicate(full, *lin)))
          continue;
        auto q = QuantizedLinear::from_linear(*lin, group_size, bits);
        parent->register_module(name, q);
        lin->quantized = q;
        q->replaces = lin;
        lin->weight = Tensor();
        lin->bias = Tensor();
        ++replaced;
      } else if (auto emb = std::dynamic_pointer_cast<Embedding>(child)) {
        if (!emb->weight.defined() || emb->weight.size(1) % group_size != 0 || (predicate && !predicate(full, *emb)))
          continue;
        auto q = QuantizedEmbedding::from_embedding(*emb, group_size, bits);
        parent->register_module(name, q);
        emb->quantized = q;
        q->replaces = emb;
        emb->weight = Tensor();
        ++replaced;
      }
    }
  }
  return replaced;
}

int64_t set_activation_precision(Module& model, ActivationPrecision activations) {
  int64_t n = 0;
  for (auto& [path, m] : model.named_modules()) {
    if (auto* lin = dynamic_cast<QuantizedLinear*>(m)) {
      lin->activations = activations;
      ++n;
    } else if (auto* emb = dynamic_cast<QuantizedEmbedding*>(m)) {
      emb->activations = activations;
      ++n;
    }
  }
  return n;
}

LoadStateDictResult load_quantized(Module& model, const std::string& path, bool strict) {
  const SafetensorsFile file = load_safetensors(path);
  NamedTensors state;
  for (const std::string& key : file.keys())
    state.emplace_back(key, file.dtype_str(key) == "U32" ? file.get_bits(key, DType::Int32) : file.get(key));
  return model.load_state_dict(state, strict);
}

}  // namespace ricci::nn
