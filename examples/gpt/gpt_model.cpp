#include "gpt_model.h"

#include <algorithm>
#include <cmath>

namespace gpt {

using ricci::Tensor;
namespace nn = ricci::nn;

GPT::GPT(const Config& c) : cfg(c) {
  RICCI_CHECK(c.vocab_size > 0 && c.block_size > 0, ricci::ValueError, "[GPT] vocab_size and block_size must be positive");
  tok_emb = register_module("tok_emb", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  pos_emb = register_module("pos_emb", std::make_shared<nn::Embedding>(c.block_size, c.d_model));
  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < c.n_layers; ++i)
    blocks->push_back(std::make_shared<nn::TransformerBlock>(c.d_model, c.n_heads, c.dropout));
  ln_f = register_module("ln_f", std::make_shared<nn::LayerNorm>(c.d_model));
  lm_head = register_module("lm_head", std::make_shared<nn::Linear>(c.d_model, c.vocab_size, /*bias=*/false));
}

Tensor GPT::forward(const Tensor& idx) {
  RICCI_CHECK(idx.dim() == 2 && idx.size(1) <= cfg.block_size, ricci::ShapeError,
              "[GPT] expected token ids of shape (B, T) with T <= block_size (", cfg.block_size, "), got ",
              idx.shape());
  const int64_t T = idx.size(1);
  // (B, T, d) + (T, d): the position embedding broadcasts over the batch.
  Tensor x = tok_emb->forward(idx).add(pos_emb->forward(ricci::arange(T)));
  return compiled_trunk_ ? compiled_trunk_({x})[0] : trunk(x);
}

Tensor GPT::trunk(const Tensor& x0) {
  Tensor x = x0;
  for (const auto& b : *blocks) x = std::static_pointer_cast<nn::TransformerBlock>(b)->forward(x);
  return lm_head->forward(ln_f->forward(x));
}

void GPT::set_compiled(bool on) {
  compiled_trunk_ = on ? ricci::compile([this](const ricci::Tensors& in) { return ricci::Tensors{trunk(in[0])}; })
                       : ricci::TensorFn();
}

Tensor GPT::loss(const Tensor& idx, const Tensor& targets) {
  const Tensor logits = forward(idx);
  return ricci::F::cross_entropy(logits.reshape({-1, cfg.vocab_size}), targets.reshape({-1}));
}

void init_weights(GPT& model, ricci::Generator* gen) {
  ricci::NoGradGuard no_grad;
  const double proj_std = 0.02 / std::sqrt(2.0 * static_cast<double>(model.cfg.n_layers));
  for (auto& [name, p] : model.named_parameters()) {
    Tensor t = p;
    const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    const bool is_norm = name.find("ln") != std::string::npos;  // ln1, ln2, ln_f
    if (is_norm) continue;  // LayerNorm keeps ones / zeros
    if (is_bias) {
      t.zero_();
    } else {
      // c_proj.weight and the MLP's second Linear ("mlp.2.weight") write into the residual stream.
      const bool resid = name.find("c_proj.weight") != std::string::npos || name.find("mlp.2.weight") != std::string::npos;
      ricci::normal_(t, 0.0, resid ? proj_std : 0.02, gen);
    }
  }
}

std::vector<ricci::optim::ParamGroup> param_groups(const GPT& model, double lr, double weight_decay) {
  ricci::optim::ParamGroup decay, no_decay;
  for (const auto& [name, p] : model.named_parameters()) (p.dim() >= 2 ? decay : no_decay).params.push_back(p);
  decay.lr = no_decay.lr = lr;
  decay.weight_decay = weight_decay;
  no_decay.weight_decay = 0.0;
  decay.beta2 = no_decay.beta2 = 0.99;  // nanoGPT's choice for small character models
  return {decay, no_decay};
}

std::vector<int64_t> generate(GPT& model, std::vector<int64_t> tokens, int64_t n, double temperature, int64_t top_k,
                              ricci::Generator& gen) {
  RICCI_CHECK(temperature > 0, ricci::ValueError, "[generate] temperature must be positive, got ", temperature);
  RICCI_CHECK(!tokens.empty(), ricci::ValueError, "[generate] the prompt must hold at least one token");
  ricci::InferenceMode inference;
  const bool was_training = model.is_training();
  model.eval();
  const int64_t V = model.cfg.vocab_size;
  const int64_t k = top_k <= 0 ? V : std::min(top_k, V);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t T = std::min<int64_t>(static_cast<int64_t>(tokens.size()), model.cfg.block_size);
    std::vector<int64_t> ctx(tokens.end() - T, tokens.end());
    const Tensor logits = model.forward(ricci::from_vector(ctx, {1, T})).select(0, 0).select(0, T - 1);
    // Sample among the k most likely tokens only: softmax over their logits, then map back.
    auto [vals, ids] = logits.div(temperature).topk(k);
    const Tensor choice = ricci::multinomial(ricci::F::softmax(vals, -1), 1, false, &gen);
    tokens.push_back(ids.index_select(0, choice).item<int64_t>());
  }
  model.train(was_training);
  return tokens;
}

CharTokenizer::CharTokenizer(const std::string& text) {
  bool seen[256] = {};
  for (unsigned char ch : text) seen[ch] = true;
  std::fill(std::begin(id_of), std::end(id_of), -1);
  for (int c = 0; c < 256; ++c)
    if (seen[c]) {
      id_of[c] = static_cast<int64_t>(chars.size());
      chars.push_back(static_cast<char>(c));
    }
}

std::vector<int64_t> CharTokenizer::encode(const std::string& s) const {
  std::vector<int64_t> out;
  out.reserve(s.size());
  for (unsigned char ch : s) {
    RICCI_CHECK(id_of[ch] >= 0, ricci::ValueError, "[CharTokenizer] character ", int(ch), " is not in the vocabulary");
    out.push_back(id_of[ch]);
  }
  return out;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.push_back(chars.at(static_cast<size_t>(id)));
  return out;
}

Batch get_batch(const std::vector<int64_t>& data, int64_t B, int64_t T, ricci::Generator& gen) {
  const int64_t N = static_cast<int64_t>(data.size());
  RICCI_CHECK(N > T + 1, ricci::ValueError, "[get_batch] need more than ", T + 1, " tokens, got ", N);
  const Tensor starts = ricci::randint(0, N - T - 1, {B}, ricci::int64, &gen).contiguous();
  const int64_t* s = starts.data_ptr<int64_t>();
  std::vector<int64_t> x(static_cast<size_t>(B * T)), y(x.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      x[static_cast<size_t>(b * T + t)] = data[static_cast<size_t>(s[b] + t)];
      y[static_cast<size_t>(b * T + t)] = data[static_cast<size_t>(s[b] + t + 1)];
    }
  return {ricci::from_vector(x, {B, T}), ricci::from_vector(y, {B, T})};
}

double unigram_entropy(const std::vector<int64_t>& data, int64_t vocab_size) {
  std::vector<double> count(static_cast<size_t>(vocab_size), 0.0);
  for (int64_t id : data) count[static_cast<size_t>(id)] += 1.0;
  double h = 0.0;
  const double n = static_cast<double>(data.size());
  for (double c : count)
    if (c > 0) h -= (c / n) * std::log(c / n);
  return h;
}

}  // namespace gpt
