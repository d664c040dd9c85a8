#pragma once
// How much memory a transformer needs at inference: weights + KV cache + activations, per weight
// format (float32, bfloat16, int8, int4, ...). The lesson's arithmetic, as an API (the `memcalc`
// example prints it):
//   weights   = parameters × bits per weight / 8
//               (a quantized format also stores a scale and a bias per group:
//                bits + 2 × scale_bits / group_size per weight, 4.5 bits for int4 in groups of 64)
//   KV cache  = 2 (K and V) × layers × kv_heads × head_dim × context × batch × bytes per element
//   activations (the peak of one forward over `context` tokens, nothing kept between layers):
//               batch × context × (4 d_model + 2 kv_heads × head_dim + heads × context + d_ff)
//               × activation bytes  (residual, normed input, attention output, q, k, v, the
//               attention scores, the MLP's hidden layer)  +  batch × context × vocab × 4 (logits)
// A 7B model: 28 GB in float32, 14 GB in bfloat16, 7 GB in int8, 3.5 GB in int4 (decimal GB,
// the lesson's figures: quantization overhead not counted); LLaMA-2-7B's float16 KV cache at
// 4,096 tokens is 2 GiB.
#include <cstdint>
#include <string>
#include <vector>

namespace ricci::memcalc {

struct TransformerConfig {
  int64_t n_layers = 0;
  int64_t d_model = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;  // 0: n_heads (multi-head attention); fewer: grouped-query attention
  int64_t vocab_size = 0;
  int64_t context = 0;     // tokens held in the KV cache (and processed by the forward)
  int64_t batch = 1;
  int64_t d_ff = 0;        // 0: 4 × d_model
  int64_t mlp_matrices = 2;  // 2 (GPT: up, down) or 3 (LLaMA's SwiGLU: gate, up, down)
  bool tied_embeddings = false;  // the output head shares the token embedding
  int64_t head_dim() const { return n_heads > 0 ? d_model / n_heads : 0; }
  int64_t kv_heads() const { return n_kv_heads > 0 ? n_kv_heads : n_heads; }
  int64_t ff() const { return d_ff > 0 ? d_ff : 4 * d_model; }
};

// LLaMA-2-7B: 32 layers, d_model 4096, 32 heads (no GQA), vocabulary 32,000, SwiGLU 11,008,
// untied head; 6.74 B parameters.
TransformerConfig llama2_7b(int64_t context = 4096, int64_t batch = 1);

// How weights are stored: `bits` per weight, plus (group_size > 0) a scale and a bias of
// `scale_bits` each per group of group_size weights.
struct WeightFormat {
  std::string name;
  double bits = 32;
  int64_t group_size = 0;
  int64_t scale_bits = 16;
  double bits_per_weight() const { return bits + (group_size > 0 ? 2.0 * scale_bits / group_size : 0.0); }
};
// float32, bfloat16, int8 and int4 (groups of 64, 16-bit scales and biases: MLX's defaults).
std::vector<WeightFormat> standard_formats();

// Parameters of the configuration: embeddings (and the head unless tied), per layer the
// attention's q, k, v, o projections and the MLP's matrices, two norms' gains per layer and the
// final norm's (biases not counted: LLaMA has none; a GPT's add < 0.1 %).
int64_t parameter_count(const TransformerConfig& c);

double weight_bytes(int64_t parameters, const WeightFormat& f);
double kv_cache_bytes(const TransformerConfig& c, int64_t bytes_per_element = 2);
double activation_bytes(const TransformerConfig& c, int64_t bytes_per_element = 2);

struct Estimate {
  int64_t parameters = 0;
  double weights = 0, kv_cache = 0, activations = 0;  // bytes
  double total() const { return weights + kv_cache + activations; }
};
// Weights in `format`, KV cache and activations in `kv_bytes` / `act_bytes` per element
// (float16: 2). ValueError for a configuration with non-positive sizes or heads not dividing d_model.
Estimate estimate(const TransformerConfig& c, const WeightFormat& format, int64_t kv_bytes = 2, int64_t act_bytes = 2);

// "28.00 GB" (decimal, 1e9) and "2.00 GiB" (binary, 2^30).
std::string format_gb(double bytes);
std::string format_gib(double bytes);

}  // namespace ricci::memcalc
