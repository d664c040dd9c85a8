// The memory a transformer needs at inference, per weight format (include/ricci/memory_calc.h).
//   memcalc                       the lesson's 7B figures and LLaMA-2-7B at 4,096 tokens
//   memcalc --layers 32 --d-model 4096 --heads 32 [--kv-heads 8] --vocab 32000 --context 4096
//           [--batch 1] [--d-ff 11008] [--mlp-matrices 3] [--tied] [--kv-bytes 2] [--act-bytes 2]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ricci/memory_calc.h"

using namespace ricci::memcalc;

namespace {

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "memcalc: %s\nusage: memcalc [--layers N --d-model N --heads N --vocab N --context N]\n"
                       "               [--kv-heads N] [--batch N] [--d-ff N] [--mlp-matrices 2|3] [--tied]\n"
                       "               [--kv-bytes N] [--act-bytes N]\n", msg);
  std::exit(2);
}

void table(const TransformerConfig& c, int64_t kv_bytes, int64_t act_bytes) {
  std::printf("%-9s %8s %12s %12s %12s %12s\n", "weights", "bits/w", "weights", "KV cache", "activations", "total");
  for (const WeightFormat& f : standard_formats()) {
    const Estimate e = estimate(c, f, kv_bytes, act_bytes);
    std::printf("%-9s %8.2f %12s %12s %12s %12s\n", f.name.c_str(), f.bits_per_weight(), format_gb(e.weights).c_str(),
                format_gib(e.kv_cache).c_str(), format_gib(e.activations).c_str(), format_gb(e.total()).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  TransformerConfig c;
  int64_t kv_bytes = 2, act_bytes = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto next = [&]() -> int64_t {
      if (i + 1 >= argc) usage(("missing value after " + f).c_str());
      return std::stoll(argv[++i]);
    };
    if (f == "--layers") c.n_layers = next();
    else if (f == "--d-model") c.d_model = next();
    else if (f == "--heads") c.n_heads = next();
    else if (f == "--kv-heads") c.n_kv_heads = next();
    else if (f == "--vocab") c.vocab_size = next();
    else if (f == "--context") c.context = next();
    else if (f == "--batch") c.batch = next();
    else if (f == "--d-ff") c.d_ff = next();
    else if (f == "--mlp-matrices") c.mlp_matrices = next();
    else if (f == "--tied") c.tied_embeddings = true;
    else if (f == "--kv-bytes") kv_bytes = next();
    else if (f == "--act-bytes") act_bytes = next();
    else if (f == "-h" || f == "--help") usage("help");
    else usage(("unknown flag " + f).c_str());
  }
  try {
    if (argc > 1) {
      std::printf("%lld parameters; KV cache and activations at %lld bytes per element, context %lld, batch %lld\n",
                  static_cast<long long>(parameter_count(c)), static_cast<long long>(kv_bytes),
                  static_cast<long long>(c.context), static_cast<long long>(c.batch));
      table(c, kv_bytes, act_bytes);
      return 0;
    }
    std::printf("The lesson's 7B model (7e9 parameters, weights only, no quantization overhead):\n");
    for (const WeightFormat& f : standard_formats()) {
      WeightFormat plain = f;
      plain.group_size = 0;
      std::printf("  %-9s %s", f.name.c_str(), format_gb(weight_bytes(7'000'000'000, plain)).c_str());
      if (f.group_size > 0)
        std::printf("   (%s with a float16 scale and bias per group of %lld)",
                    format_gb(weight_bytes(7'000'000'000, f)).c_str(), static_cast<long long>(f.group_size));
      std::printf("\n");
    }
    const TransformerConfig llama = llama2_7b(4096, 1);
    std::printf("\nLLaMA-2-7B (%lld parameters), 4,096 tokens, batch 1; KV cache and activations in float16:\n",
                static_cast<long long>(parameter_count(llama)));
    std::printf("  KV cache: 2 x 32 layers x 32 heads x 128 x 4,096 tokens x 2 bytes = %s\n",
                format_gib(kv_cache_bytes(llama, 2)).c_str());
    table(llama, 2, 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "memcalc: %s\n", e.what());
    return 1;
  }
  return 0;
}
