// Character-level GPT: trains on a public-domain text shipped in examples/gpt/data, reports the
// validation loss against the unigram baseline, saves a safetensors checkpoint, reloads it into a
// fresh model and samples from it.
//   gpt [--steps N] [--quick] [--bench N] [--out PATH] [--data PATH] [--seed S] [--threads N]
//       [--sample N] [--temperature T] [--top-k K] [--eval-every N] [--compile]
//       [--stop-at N] [--checkpoint PATH] [--resume PATH] [--quantize 8|4]
// --stop-at N ends the run after step N with a full training checkpoint (weights, AdamW state,
// schedule, random generators) at --checkpoint PATH; --resume PATH continues such a run, with the
// same other flags, exactly as if it had never stopped.
// --quantize 8|4 evaluates the checkpoint at --out (trained first when there is none) in float32,
// bfloat16, int8 and int4 (nn::quantize, groups of 64; 32 for --quick), and int8 and int4 with int8
// activations: validation loss, weight bytes and decode tokens/s side by side, then samples from
// the int8 or int4 model.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "gpt_model.h"
#include "ricci/nn/quantized.h"
#include "train.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Args {
  int64_t steps = -1;  // -1: the preset's
  bool quick = false;
  int64_t bench = 0;
  std::string out = "gpt_char.safetensors";
  std::string data = std::string(RICCI_SOURCE_DIR) + "/examples/gpt/data/sonnets.txt";
  uint64_t seed = 1337;
  int threads = 2;
  int64_t sample = 400;
  double temperature = 0.8;
  int64_t top_k = 20;
  int64_t eval_every = -1;
  int64_t stop_at = 0;
  std::string checkpoint = "gpt_resume.safetensors";
  std::string resume;
  bool compile = false;
  int quantize = 0;  // 0: off; 8 or 4
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "gpt: %s\nusage: gpt [--steps N] [--quick] [--bench N] [--out PATH] [--data PATH] [--seed S]\n"
                       "           [--threads N] [--sample N] [--temperature T] [--top-k K] [--eval-every N]\n"
                       "           [--stop-at N] [--checkpoint PATH] [--resume PATH] [--compile] [--quantize 8|4]\n", msg);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + f).c_str());
      return argv[++i];
    };
    if (f == "--quick") a.quick = true;
    else if (f == "--steps") a.steps = std::stoll(next());
    else if (f == "--bench") a.bench = std::stoll(next());
    else if (f == "--out") a.out = next();
    else if (f == "--data") a.data = next();
    else if (f == "--seed") a.seed = std::stoull(next());
    else if (f == "--threads") a.threads = std::stoi(next());
    else if (f == "--sample") a.sample = std::stoll(next());
    else if (f == "--temperature") a.temperature = std::stod(next());
    else if (f == "--top-k") a.top_k = std::stoll(next());
    else if (f == "--eval-every") a.eval_every = std::stoll(next());
    else if (f == "--stop-at") a.stop_at = std::stoll(next());
    else if (f == "--checkpoint") a.checkpoint = next();
    else if (f == "--resume") a.resume = next();
    else if (f == "--compile") a.compile = true;
    else if (f == "--quantize") {
      a.quantize = std::stoi(next());
      if (a.quantize != 8 && a.quantize != 4) usage("--quantize takes 8 or 4");
    }
    else if (f == "-h" || f == "--help") usage("help");
    else usage(("unknown flag " + f).c_str());
  }
  return a;
}

// The corpus without its first line (the header saying what the text is).
std::string read_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage(("cannot open " + path).c_str());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

void progress_bar(int64_t done, int64_t total, char* out, int width) {
  const int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
  for (int i = 0; i < width; ++i) out[i] = i < filled ? '#' : '.';
  out[width] = '\0';
}

// Mean loss over `batches` fixed batches of `data`, without a graph and with dropout off.
double evaluate(gpt::GPT& model, const std::vector<int64_t>& data, int64_t B, int64_t T, int64_t batches,
                uint64_t seed) {
  ricci::NoGradGuard no_grad;
  model.eval();
  ricci::Generator gen(seed);  // the same windows every time, so evaluations compare
  double sum = 0.0;
  for (int64_t i = 0; i < batches; ++i) {
    const gpt::Batch b = gpt::get_batch(data, B, T, gen);
    sum += model.loss(b.x, b.y).item<double>();
  }
  model.train();
  return sum / static_cast<double>(batches);
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// The checkpoint in one precision: "float32", "bfloat16" (every tensor converted), "int8" or
// "int4" (nn::quantize: every Linear and Embedding, groups of 64, float32 scales and biases), and
// "int8-a8" / "int4-a8" (the same with activations rounded to int8: ActivationPrecision::Int8).
std::shared_ptr<gpt::GPT> load_as(const gpt::Config& cfg, const std::string& checkpoint, const std::string& precision) {
  auto m = std::make_shared<gpt::GPT>(cfg);
  m->load(checkpoint);
  if (precision == "bfloat16") m->to(ricci::bfloat16);
  const int64_t group = cfg.d_model % 64 == 0 ? 64 : 32;  // --quick's d_model is 32
  if (precision.rfind("int8", 0) == 0) ricci::nn::quantize(*m, group, 8);
  if (precision.rfind("int4", 0) == 0) ricci::nn::quantize(*m, group, 4);
  // "-a8": the quantized layers round their activations to int8 too (W8A8 / W4A8).
  if (precision.size() > 4 && precision.substr(4) == "-a8")
    ricci::nn::set_activation_precision(*m, ricci::ActivationPrecision::Int8);
  m->eval();
  return m;
}

size_t weight_bytes(const ricci::nn::Module& m) {
  size_t n = 0;
  for (const auto& [_, t] : m.state_dict()) n += t.nbytes();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  ricci::set_num_threads(args.threads);
  ricci::manual_seed(args.seed);

  const std::string text = read_corpus(args.data);
  const gpt::CharTokenizer tok(text);
  const std::vector<int64_t> all = tok.encode(text);
  const size_t n_train = all.size() * 9 / 10;  // 90/10 split: validation is the text's last tenth
  const std::vector<int64_t> train(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n_train));
  const std::vector<int64_t> val(all.begin() + static_cast<std::ptrdiff_t>(n_train), all.end());

  gpt::TrainConfig tc;
  gpt::Config& cfg = tc.model;
  cfg.vocab_size = tok.vocab_size();
  int64_t eval_every = 100, eval_batches = 8;
  tc.batch = 32, tc.steps = 500, tc.warmup = 30, tc.lr = 2e-3, tc.seed = args.seed;
  // 31K training characters overfit a 0.8M-parameter model after ~400 steps: dropout and a short
  // schedule keep the validation loss at its best.
  cfg.dropout = 0.1;
  if (args.quick) {
    cfg.block_size = 32, cfg.d_model = 32, cfg.n_layers = 1, cfg.n_heads = 2, cfg.dropout = 0.0;
    tc.batch = 8, tc.steps = 20, tc.warmup = 2, eval_every = 10, eval_batches = 2;
  }
  if (args.steps > 0) tc.steps = args.steps;
  if (args.eval_every > 0) eval_every = args.eval_every;
  tc.warmup = std::min(tc.warmup, std::max<int64_t>(1, tc.steps / 10));
  if (args.stop_at < 0 || args.stop_at >= tc.steps) usage("--stop-at must lie between 1 and --steps - 1");
  const int64_t T = cfg.block_size, batch = tc.batch, steps = tc.steps;

  gpt::Trainer trainer(tc, train);
  const std::shared_ptr<gpt::GPT> model = trainer.model;

  std::printf("corpus: %s\n  %zu chars, vocab %lld, train %zu / val %zu\n", args.data.c_str(), all.size(),
              static_cast<long long>(cfg.vocab_size), train.size(), val.size());
  std::printf("model: d_model %lld, %lld layers, %lld heads, context %lld, %lld parameters; batch %lld, %d threads\n",
              static_cast<long long>(cfg.d_model), static_cast<long long>(cfg.n_layers),
              static_cast<long long>(cfg.n_heads), static_cast<long long>(T),
              static_cast<long long>(model->num_parameters()), static_cast<long long>(batch), args.threads);

  // --compile: the training step's loss and gradients run as one compiled program too.
  if (args.compile) trainer.set_compiled(true);
  auto train_step = [&]() { return trainer.step(); };

  // --quantize: the checkpoint in float32, bfloat16, int8 and int4, side by side.
  auto compare_precisions = [&]() {
    std::printf("\n%-9s %10s %12s %14s   (checkpoint %s; decode: %lld tokens, batch 1, %d threads)\n", "weights",
                "val loss", "weight bytes", "decode tok/s", args.out.c_str(), static_cast<long long>(args.sample),
                args.threads);
    double f32_loss = 0;
    std::shared_ptr<gpt::GPT> chosen;
    for (const char* p : {"float32", "bfloat16", "int8", "int4", "int8-a8", "int4-a8"}) {
      auto m = load_as(cfg, args.out, p);
      const double vl = evaluate(*m, val, batch, T, 4 * eval_batches, args.seed + 2);
      m->eval();
      if (std::string(p) == "float32") f32_loss = vl;
      ricci::Generator gen(args.seed);
      gpt::generate(*m, tok.encode("\n"), 8, args.temperature, args.top_k, gen);  // warm up
      const auto t0 = Clock::now();
      gpt::generate(*m, tok.encode("\n"), args.sample, args.temperature, args.top_k, gen);
      const double tps = static_cast<double>(args.sample) / seconds_since(t0);
      std::printf("%-9s %10.4f %12zu %14.0f   (loss %+.2f %% vs float32)\n", p, vl, weight_bytes(*m), tps,
                  100.0 * (vl - f32_loss) / f32_loss);
      if (std::string(p) == (args.quantize == 8 ? "int8" : "int4")) chosen = m;
    }
    std::printf("(-a8: the quantized layers also round their inputs to int8 per block of 32, "
                "ActivationPrecision::Int8)\n");
    ricci::Generator gen(args.seed);
    const std::vector<int64_t> out = gpt::generate(*chosen, tok.encode("\n"), args.sample, args.temperature, args.top_k, gen);
    std::printf("---- sample from the int%d model (temperature %.2f, top-k %lld, seed %llu) ----\n%s\n----\n",
                args.quantize, args.temperature, static_cast<long long>(args.top_k),
                static_cast<unsigned long long>(args.seed), tok.decode(out).c_str());
  };
  if (args.quantize && args.resume.empty() && file_exists(args.out)) {
    std::printf("--quantize: using the trained checkpoint %s (delete it to train again)\n", args.out.c_str());
    compare_precisions();
    return 0;
  }

  if (args.bench > 0) {
    for (int i = 0; i < 3; ++i) train_step();  // warm the allocator and the thread pool
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < args.bench; ++i) train_step();
    const double s = seconds_since(t0);
    std::printf("tokens_per_s=%.0f\n", static_cast<double>(args.bench * batch * T) / s);
    if (args.compile) {
      const ricci::CompileStats st = trainer.compile_stats();
      std::printf("compiled step: %s, %lld ops traced, %lld after simplification, %lld fused kernels of %lld ops\n",
                  st.traceable ? "traced" : ("NOT traceable (runs uncompiled): " + st.untraceable_reason).c_str(),
                  static_cast<long long>(st.traced_ops),
                  static_cast<long long>(st.ops), static_cast<long long>(st.fused_groups),
                  static_cast<long long>(st.fused_ops));
    }
    return 0;
  }

  if (!args.resume.empty()) {
    try {
      trainer.load_checkpoint(args.resume);
    } catch (const ricci::Error& e) {
      std::fprintf(stderr, "gpt: cannot resume from %s:\n%s\n", args.resume.c_str(), e.what());
      return 1;
    }
    std::printf("resumed from %s at step %lld\n", args.resume.c_str(), static_cast<long long>(trainer.steps_done()));
  }

  const auto t_start = Clock::now();
  auto t_window = Clock::now();
  int64_t window_steps = 0;
  const int64_t log_every = std::max<int64_t>(1, std::min<int64_t>(50, steps / 20));
  char bar[31];
  double loss = 0.0;
  for (int64_t step = trainer.steps_done() + 1; step <= steps; ++step) {
    loss = train_step();
    ++window_steps;
    if (step % log_every == 0 || step == steps) {
      const double tps = static_cast<double>(window_steps * batch * T) / seconds_since(t_window);
      progress_bar(step, steps, bar, 30);
      std::printf("step %5lld/%lld [%s] loss %.4f  lr %.2e  %7.0f tok/s\n", static_cast<long long>(step),
                  static_cast<long long>(steps), bar, loss, trainer.lr(), tps);
      std::fflush(stdout);
      t_window = Clock::now();
      window_steps = 0;
    }
    if (step % eval_every == 0 && step != steps) {
      std::printf("  val loss %.4f\n", evaluate(*model, val, batch, T, eval_batches, args.seed + 2));
      t_window = Clock::now();  // keep evaluation out of the throughput figure
    }
    if (step == args.stop_at) {
      trainer.save_checkpoint(args.checkpoint);
      std::printf("stopped at step %lld (train loss %.17g); resume with --resume %s\n", static_cast<long long>(step),
                  loss, args.checkpoint.c_str());
      return 0;
    }
  }
  std::printf("last train loss %.17g (step %lld)\n", loss, static_cast<long long>(steps));
  const double train_s = seconds_since(t_start);
  const double val_loss = evaluate(*model, val, batch, T, 4 * eval_batches, args.seed + 2);
  const double baseline = gpt::unigram_entropy(train, cfg.vocab_size);
  std::printf("trained %lld steps in %.1f s\n", static_cast<long long>(steps), train_s);
  std::printf("final val loss %.4f nats  |  unigram baseline %.4f nats  |  uniform %.4f nats\n", val_loss, baseline,
              std::log(static_cast<double>(cfg.vocab_size)));

  model->save(args.out);
  std::printf("saved checkpoint to %s\n", args.out.c_str());
  if (args.quantize) {
    compare_precisions();
    return 0;
  }

  // A fresh model (different random weights) proves the checkpoint carries everything.
  auto restored = std::make_shared<gpt::GPT>(cfg);
  restored->load(args.out);
  const double restored_val = evaluate(*restored, val, batch, T, 4 * eval_batches, args.seed + 2);
  std::printf("reloaded into a fresh model: val loss %.4f\n", restored_val);

  // Sampling speed eagerly and, with --compile, through ricci::compile (same seed).
  auto timed_sample = [&](const char* how) {
    ricci::Generator gen(args.seed);
    const auto t0 = Clock::now();
    std::vector<int64_t> toks = gpt::generate(*restored, tok.encode("\n"), args.sample, args.temperature, args.top_k, gen);
    const double s = seconds_since(t0);
    std::printf("sampled %lld tokens %s: %.0f tok/s\n", static_cast<long long>(args.sample), how,
                static_cast<double>(args.sample) / s);
    return toks;
  };
  std::vector<int64_t> out = timed_sample("eagerly");
  if (args.compile) {
    restored->set_compiled(true);
    out = timed_sample("compiled");
  }
  std::printf("---- sample (temperature %.2f, top-k %lld, seed %llu) ----\n%s\n----\n", args.temperature,
              static_cast<long long>(args.top_k), static_cast<unsigned long long>(args.seed), tok.decode(out).c_str());
  std::printf("total time %.1f s\n", seconds_since(t_start));
  return 0;
}
