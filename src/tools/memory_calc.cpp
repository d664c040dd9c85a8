// The memory calculator (include/ricci/memory_calc.h).
#include "ricci/memory_calc.h"

#include <cstdio>

#include "ricci/error.h"

namespace ricci::memcalc {

TransformerConfig llama2_7b(int64_t context, int64_t batch) {
  TransformerConfig c;
  c.n_layers = 32;
  c.d_model = 4096;
  c.n_heads = 32;
  c.n_kv_heads = 32;
  c.vocab_size = 32000;
  c.context = context;
  c.batch = batch;
  c.d_ff = 11008;
  c.mlp_matrices = 3;
  return c;
}

std::vector<WeightFormat> standard_formats() {
  return {{"float32", 32, 0, 16}, {"bfloat16", 16, 0, 16}, {"int8", 8, 64, 16}, {"int4", 4, 64, 16}};
}

namespace {
void check(const TransformerConfig& c) {
  RICCI_CHECK(c.n_layers > 0 && c.d_model > 0 && c.n_heads > 0 && c.vocab_size > 0 && c.context >= 0 && c.batch > 0 &&
                  c.kv_heads() > 0 && c.mlp_matrices > 0,
              ValueError, "[memcalc] layers, d_model, heads, KV heads, vocabulary, batch and MLP matrices must be "
              "positive and the context non-negative");
  RICCI_CHECK(c.d_model % c.n_heads == 0, ValueError, "[memcalc] d_model ", c.d_model,
              " must be divisible by the number of heads ", c.n_heads);
  RICCI_CHECK(c.n_heads % c.kv_heads() == 0, ValueError, "[memcalc] the number of heads ", c.n_heads,
              " must be divisible by the number of KV heads ", c.kv_heads());
}
}  // namespace

int64_t parameter_count(const TransformerConfig& c) {
  check(c);
  const int64_t d = c.d_model, kv = c.kv_heads() * c.head_dim();
  const int64_t attention = d * d /*q*/ + 2 * d * kv /*k, v*/ + d * d /*o*/;
  const int64_t mlp = c.mlp_matrices * d * c.ff();
  const int64_t norms = 2 * d;
  const int64_t embeddings = c.vocab_size * d * (c.tied_embeddings ? 1 : 2);
  return embeddings + c.n_layers * (attention + mlp + norms) + d;
}

double weight_bytes(int64_t parameters, const WeightFormat& f) {
  return static_cast<double>(parameters) * f.bits_per_weight() / 8.0;
}

double kv_cache_bytes(const TransformerConfig& c, int64_t bytes_per_element) {
  check(c);
  return 2.0 * static_cast<double>(c.n_layers) * static_cast<double>(c.kv_heads() * c.head_dim()) *
         static_cast<double>(c.context) * static_cast<double>(c.batch) * static_cast<double>(bytes_per_element);
}

double activation_bytes(const TransformerConfig& c, int64_t bytes_per_element) {
  check(c);
  const double tokens = static_cast<double>(c.batch) * static_cast<double>(c.context);
  const double per_token = 4.0 * static_cast<double>(c.d_model) + 2.0 * static_cast<double>(c.kv_heads() * c.head_dim()) +
                           static_cast<double>(c.n_heads) * static_cast<double>(c.context) + static_cast<double>(c.ff());
  return tokens * per_token * static_cast<double>(bytes_per_element) + tokens * static_cast<double>(c.vocab_size) * 4.0;
}

Estimate estimate(const TransformerConfig& c, const WeightFormat& format, int64_t kv_bytes, int64_t act_bytes) {
  Estimate e;
  e.parameters = parameter_count(c);
  e.weights = weight_bytes(e.parameters, format);
  e.kv_cache = kv_cache_bytes(c, kv_bytes);
  e.activations = activation_bytes(c, act_bytes);
  return e;
}

std::string format_gb(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  return buf;
}
std::string format_gib(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace ricci::memcalc
