// The memory calculator (include/ricci/memory_calc.h) against figures computed by hand.
#include "ricci/memory_calc.h"
#include "test_util.h"

using namespace ricci;
using namespace ricci::memcalc;

TEST(MemoryCalc, TheLessonsSevenBillionParameters) {
  WeightFormat f32{"float32", 32}, bf16{"bfloat16", 16}, i8{"int8", 8}, i4{"int4", 4};
  EXPECT_DOUBLE_EQ(weight_bytes(7'000'000'000, f32), 28e9);
  EXPECT_DOUBLE_EQ(weight_bytes(7'000'000'000, bf16), 14e9);
  EXPECT_DOUBLE_EQ(weight_bytes(7'000'000'000, i8), 7e9);
  EXPECT_DOUBLE_EQ(weight_bytes(7'000'000'000, i4), 3.5e9);
  EXPECT_EQ(format_gb(28e9), "28.00 GB");
  // Groups of 64 with float16 scale and bias: 4 + 32/64 = 4.5 bits per weight.
  EXPECT_DOUBLE_EQ(standard_formats()[3].bits_per_weight(), 4.5);
  EXPECT_DOUBLE_EQ(weight_bytes(7'000'000'000, standard_formats()[3]), 7e9 * 4.5 / 8);
}

TEST(MemoryCalc, Llama2KvCacheAndParameters) {
  const TransformerConfig c = llama2_7b(4096, 1);
  // 2 × 32 layers × 32 heads × 128 × 4096 tokens × 2 bytes = 2^31 bytes.
  EXPECT_DOUBLE_EQ(kv_cache_bytes(c, 2), 2147483648.0);
  EXPECT_EQ(format_gib(kv_cache_bytes(c, 2)), "2.00 GiB");
  // 2 × 32000 × 4096 (embeddings, head) + 32 × (4 × 4096² + 3 × 4096 × 11008 + 2 × 4096) + 4096.
  EXPECT_EQ(parameter_count(c), 6'738'415'616);
  // Grouped-query attention with 8 KV heads: a quarter of the cache; batch 2 doubles it.
  TransformerConfig gqa = c;
  gqa.n_kv_heads = 8;
  gqa.batch = 2;
  EXPECT_DOUBLE_EQ(kv_cache_bytes(gqa, 2), 2147483648.0 / 4 * 2);
}

TEST(MemoryCalc, ActivationsAndTotal) {
  TransformerConfig c;
  c.n_layers = 2;
  c.d_model = 8;
  c.n_heads = 2;
  c.vocab_size = 10;
  c.context = 3;
  c.batch = 1;
  // per token: 4·8 + 2·8 + 2·3 + 32 = 86 elements × 2 bytes, 3 tokens; logits 3 × 10 × 4.
  EXPECT_DOUBLE_EQ(activation_bytes(c, 2), 3 * 86 * 2 + 3 * 10 * 4);
  // 2·10·8 + 2 · (4·64 + 2·8·32 + 16) + 8
  EXPECT_EQ(parameter_count(c), 160 + 2 * (256 + 512 + 16) + 8);
  const Estimate e = estimate(c, WeightFormat{"f32", 32}, 2, 2);
  EXPECT_DOUBLE_EQ(e.total(), e.weights + e.kv_cache + e.activations);
  EXPECT_DOUBLE_EQ(e.kv_cache, 2.0 * 2 * 8 * 3 * 2);
  c.tied_embeddings = true;
  EXPECT_EQ(parameter_count(c), 80 + 2 * (256 + 512 + 16) + 8);
}

TEST(MemoryCalc, Errors) {
  TransformerConfig c = llama2_7b();
  c.n_heads = 30;
  EXPECT_THROW_MSG(parameter_count(c), ValueError, "[memcalc] d_model 4096 must be divisible by the number of heads 30");
  c = llama2_7b();
  c.n_kv_heads = 5;
  EXPECT_THROW_MSG(kv_cache_bytes(c), ValueError, "divisible by the number of KV heads 5");
  EXPECT_THROW_MSG(estimate(TransformerConfig{}, standard_formats()[0]), ValueError, "must be positive");
}
