#pragma once
// A character-level GPT built from ricci::nn layers, shared by the `gpt` example and
// tests/test_gpt_smoke.cpp (which compiles gpt_model.cpp into itself).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ricci/ricci.h"

namespace gpt {

struct Config {
  int64_t vocab_size = 0;
  int64_t block_size = 64;  // context length
  int64_t d_model = 128;
  int64_t n_layers = 4;
  int64_t n_heads = 4;
  double dropout = 0.0;
};

// Token + position embedding, n_layers pre-norm TransformerBlocks, final LayerNorm, LM head.
class GPT : public ricci::nn::Module {
 public:
  explicit GPT(const Config& cfg);
  // idx (B, T) int64 with T <= block_size → logits (B, T, vocab_size).
  ricci::Tensor forward(const ricci::Tensor& idx);
  // Mean next-token cross-entropy of forward(idx) against targets (B, T).
  ricci::Tensor loss(const ricci::Tensor& idx, const ricci::Tensor& targets);
  // Runs everything after the embeddings (the blocks, the final norm and the head) through
  // ricci::compile: traced once per shape, its elementwise runs (GELU, residual adds, the
  // attention mask) fused when no gradient is needed (sampling, evaluation).
  void set_compiled(bool on);

  Config cfg;
  std::shared_ptr<ricci::nn::Embedding> tok_emb, pos_emb;
  std::shared_ptr<ricci::nn::ModuleList> blocks;
  std::shared_ptr<ricci::nn::LayerNorm> ln_f;
  std::shared_ptr<ricci::nn::Linear> lm_head;

 private:
  ricci::Tensor trunk(const ricci::Tensor& x);
  ricci::TensorFn compiled_trunk_;  // empty unless set_compiled(true)
};

// GPT-2's initialisation: weights ~ N(0, 0.02), the residual projections scaled by 1/√(2·layers),
// biases zero; it trains markedly faster than PyTorch's layer defaults at this size.
void init_weights(GPT& model, ricci::Generator* gen = nullptr);

// Weight decay applies to matrices (Linear weights, embeddings), not to biases or norm gains.
std::vector<ricci::optim::ParamGroup> param_groups(const GPT& model, double lr, double weight_decay);

// Appends `n` sampled tokens to `prompt` (the context is cropped to block_size). Runs under
// ricci::InferenceMode. temperature > 0; top_k <= 0 means the whole vocabulary.
std::vector<int64_t> generate(GPT& model, std::vector<int64_t> prompt, int64_t n, double temperature, int64_t top_k,
                              ricci::Generator& gen);

// Characters ↔ ids over the sorted set of characters (bytes) of a text.
struct CharTokenizer {
  explicit CharTokenizer(const std::string& text);
  std::vector<int64_t> encode(const std::string& s) const;
  std::string decode(const std::vector<int64_t>& ids) const;
  int64_t vocab_size() const { return static_cast<int64_t>(chars.size()); }
  std::string chars;
  int64_t id_of[256];
};

// B random windows of T+1 tokens from `data`: x = first T, y = the next-token targets (both (B, T)).
struct Batch {
  ricci::Tensor x, y;
};
Batch get_batch(const std::vector<int64_t>& data, int64_t B, int64_t T, ricci::Generator& gen);

// Entropy (nats) of the token frequency distribution of `data`: the loss of the best model that
// ignores context.
double unigram_entropy(const std::vector<int64_t>& data, int64_t vocab_size);

}  // namespace gpt
