// A short run of the `gpt` example's model (examples/gpt/gpt_model.*, compiled into this test):
// training lowers the loss, a checkpoint round trip keeps the logits, and sampling works.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "test_util.h"

#include "../examples/gpt/gpt_model.h"
#include "../examples/gpt/gpt_model.cpp"  // NOLINT: the example's model is not part of the library

namespace {

using ricci::Tensor;

gpt::Config tiny_config() {
  gpt::Config cfg;
  cfg.vocab_size = 24, cfg.block_size = 16, cfg.d_model = 32, cfg.n_layers = 2, cfg.n_heads = 2;
  return cfg;
}

std::vector<int64_t> toy_corpus() {
  const std::string text = "to be, or not to be, that is the question: whether tis nobler in the mind ";
  std::string all;
  for (int i = 0; i < 8; ++i) all += text;
  static const gpt::CharTokenizer tok(all);
  return tok.encode(all);
}

TEST(GptSmoke, TrainingLowersTheLossOnAFixedBatch) {
  ricci::set_num_threads(2);
  ricci::Generator gen(7);
  const std::vector<int64_t> data = toy_corpus();
  gpt::Config cfg = tiny_config();
  cfg.vocab_size = *std::max_element(data.begin(), data.end()) + 1;
  auto model = std::make_shared<gpt::GPT>(cfg);
  gpt::init_weights(*model, &gen);
  const gpt::Batch batch = gpt::get_batch(data, 4, cfg.block_size, gen);
  EXPECT_EQ(batch.x.shape(), (ricci::Dims{4, 16}));
  EXPECT_EQ(model->forward(batch.x).shape(), (ricci::Dims{4, 16, cfg.vocab_size}));

  ricci::optim::AdamW opt(gpt::param_groups(*model, 3e-3, 0.1));
  ricci::optim::WarmupCosine sched(opt, 2, 15, 3e-4);
  const std::vector<Tensor> params = model->parameters();
  std::vector<double> losses;
  for (int step = 0; step < 15; ++step) {
    opt.zero_grad();
    const Tensor loss = model->loss(batch.x, batch.y);
    loss.backward();
    const double norm = ricci::optim::clip_grad_norm_(params, 1.0);
    EXPECT_TRUE(std::isfinite(norm));
    opt.step();
    sched.step();
    losses.push_back(loss.item<double>());
    ASSERT_TRUE(std::isfinite(losses.back())) << "step " << step;
  }
  // Starts near ln(vocab) and must fall well below it on a batch it keeps seeing.
  EXPECT_NEAR(losses.front(), std::log(static_cast<double>(cfg.vocab_size)), 0.5);
  EXPECT_LT(losses.back(), losses.front() - 0.5) << "first " << losses.front() << " last " << losses.back();
  // Every parameter got a gradient.
  for (const auto& [name, p] : model->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

TEST(GptSmoke, CheckpointRoundTripGivesIdenticalLogits) {
  ricci::Generator gen(11);
  const gpt::Config cfg = tiny_config();
  auto model = std::make_shared<gpt::GPT>(cfg);
  gpt::init_weights(*model, &gen);
  model->eval();
  const Tensor idx = ricci::randint(0, cfg.vocab_size, {2, 10}, ricci::int64, &gen);
  const std::string path = ::testing::TempDir() + "gpt_smoke_" + std::to_string(::getpid()) + ".safetensors";
  model->save(path);

  auto fresh = std::make_shared<gpt::GPT>(cfg);  // PyTorch-default init: different weights
  fresh->eval();
  ricci::NoGradGuard no_grad;
  EXPECT_FALSE(ricci::testing::tensors_equal(fresh->forward(idx), model->forward(idx)));
  const auto result = fresh->load(path);
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_TRUE(result.unexpected_keys.empty());
  EXPECT_TENSOR_EQ(fresh->forward(idx), model->forward(idx));
  std::remove(path.c_str());
}

TEST(GptSmoke, GenerationReturnsTheRequestedTokensUnderInferenceMode) {
  ricci::Generator gen(3);
  const gpt::Config cfg = tiny_config();
  auto model = std::make_shared<gpt::GPT>(cfg);
  gpt::init_weights(*model, &gen);
  const std::vector<int64_t> prompt = {1, 2, 3};
  // Longer than block_size, so the context crop is exercised.
  ricci::Generator g1(42), g2(42);
  const std::vector<int64_t> a = gpt::generate(*model, prompt, 20, 0.8, 5, g1);
  const std::vector<int64_t> b = gpt::generate(*model, prompt, 20, 0.8, 5, g2);
  ASSERT_EQ(a.size(), prompt.size() + 20);
  EXPECT_TRUE(std::equal(prompt.begin(), prompt.end(), a.begin()));
  for (int64_t t : a) {
    EXPECT_GE(t, 0);
    EXPECT_LT(t, cfg.vocab_size);
  }
  EXPECT_EQ(a, b) << "the same seed must give the same sample";
  EXPECT_TRUE(model->is_training()) << "generate restores the training mode";
  // top_k = 1 is greedy decoding: deterministic whatever the seed.
  ricci::Generator g3(1), g4(2);
  EXPECT_EQ(gpt::generate(*model, prompt, 5, 1.0, 1, g3), gpt::generate(*model, prompt, 5, 1.0, 1, g4));
  EXPECT_THROW_MSG(gpt::generate(*model, prompt, 1, 0.0, 5, g3), ricci::ValueError, "temperature must be positive");
}

TEST(GptSmoke, TokenizerAndBaseline) {
  const gpt::CharTokenizer tok("abcab");
  EXPECT_EQ(tok.vocab_size(), 3);
  EXPECT_EQ(tok.decode(tok.encode("cab")), "cab");
  EXPECT_THROW_MSG(tok.encode("z"), ricci::ValueError, "not in the vocabulary");
  // Two equally frequent symbols: ln 2 nats.
  EXPECT_NEAR(gpt::unigram_entropy({0, 1, 0, 1}, 2), std::log(2.0), 1e-12);
}

}  // namespace
