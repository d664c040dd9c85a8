// Resumable training: save_checkpoint / load_checkpoint (every part, every error), and the `gpt`
// example (examples/gpt/train.*, compiled into this test) stopped at step N and resumed, which must
// give bit-identical losses up to step 2N to the run that never stopped.
#include <cstdio>
#include <filesystem>
#include <string>

#include "test_util.h"

#include "../examples/gpt/gpt_model.h"
#include "../examples/gpt/gpt_model.cpp"  // NOLINT: the example's code is not part of the library
#include "../examples/gpt/train.h"
#include "../examples/gpt/train.cpp"  // NOLINT

using namespace ricci;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ricci_test_resume_" + name + ".safetensors")).string();
}

struct TwoLayer : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  TwoLayer(int64_t i, int64_t h, int64_t o)
      : fc1(register_module("fc1", std::make_shared<nn::Linear>(i, h))),
        fc2(register_module("fc2", std::make_shared<nn::Linear>(h, o))) {}
  Tensor forward(const Tensor& x) { return fc2->forward(F::dropout(fc1->forward(x).relu(), 0.3, is_training())); }
};

// A small training setup whose every part matters: dropout (default generator), a data generator,
// Adam with amsgrad in one of two groups, and a step schedule.
struct SmallRun {
  std::shared_ptr<TwoLayer> model;
  std::unique_ptr<optim::Adam> opt;
  std::unique_ptr<optim::StepLR> sched;
  Generator data{99};

  explicit SmallRun(uint64_t seed) {
    manual_seed(seed);
    model = std::make_shared<TwoLayer>(5, 8, 3);
    optim::ParamGroup g0, g1;
    g0.params = {model->fc1->weight, model->fc1->bias}, g0.lr = 0.05;
    g1.params = {model->fc2->weight, model->fc2->bias}, g1.lr = 0.02, g1.amsgrad = true;
    opt = std::make_unique<optim::Adam>(std::vector<optim::ParamGroup>{g0, g1});
    sched = std::make_unique<optim::StepLR>(*opt, 2, 0.7);
  }
  double step() {
    const Tensor x = randn({6, 5}, {}, &data);
    opt->zero_grad();
    const Tensor loss = model->forward(x).square().mean();
    loss.backward();
    opt->step();
    sched->step();
    return loss.item<double>();
  }
  nn::TrainingState state() {
    return {.model = model.get(), .optimizer = opt.get(), .scheduler = sched.get(), .generators = {{"data", &data}}};
  }
};

}  // namespace

// ---- save_checkpoint / load_checkpoint ------------------------------------------------------------------

TEST(Checkpoint, RoundTripContinuesBitIdentically) {
  const std::string path = temp_path("roundtrip");
  SmallRun a(1);
  for (int i = 0; i < 5; ++i) a.step();
  nn::TrainingState st = a.state();
  st.extra = {{"step", "5"}, {"note", "hello"}};
  nn::save_checkpoint(path, st);
  std::vector<double> expected;
  for (int i = 0; i < 6; ++i) expected.push_back(a.step());

  SmallRun b(2);  // other weights, other generator positions
  (void)randn({17});
  nn::TrainingState sb = b.state();
  const nn::LoadCheckpointResult res = nn::load_checkpoint(path, sb);
  EXPECT_TRUE(res.model.missing_keys.empty() && res.optimizer.unexpected_keys.empty());
  EXPECT_EQ(sb.extra, (std::map<std::string, std::string>{{"step", "5"}, {"note", "hello"}}));
  EXPECT_EQ(b.sched->last_epoch(), 5);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b.step(), expected[static_cast<size_t>(i)]) << "step " << 6 + i;
  const auto pa = a.model->state_dict(), pb = b.model->state_dict();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TENSOR_EQ(pb[i].second, pa[i].second) << pa[i].first;
  std::remove(path.c_str());
}

TEST(Checkpoint, FileLayout) {
  const std::string path = temp_path("layout");
  SmallRun a(1);
  for (int i = 0; i < 2; ++i) a.step();
  nn::save_checkpoint(path, a.state());
  const SafetensorsFile f = load_safetensors(path);
  for (const char* key : {"model.fc1.weight", "model.fc2.bias", "optimizer.state.0.exp_avg", "optimizer.state.0.step",
                          "optimizer.state.3.max_exp_avg_sq"})
    EXPECT_TRUE(f.contains(key)) << key;
  EXPECT_FALSE(f.contains("optimizer.state.0.max_exp_avg_sq"));  // group 0 has no amsgrad
  EXPECT_EQ(f.dtype("optimizer.state.1.step"), float64);
  const std::string meta = f.metadata().at("ricci.checkpoint");
  for (const char* part : {"\"format\":1", "\"type\":\"Adam\"", "\"amsgrad\":true", "\"params\":[2,3]",
                           "\"type\":\"StepLR\"", "\"last_epoch\":2", "\"step_size\":2.0", "\"data\":{\"offset\":",
                           "\"default\":{\"offset\":"})
    EXPECT_NE(meta.find(part), std::string::npos) << part << " not in " << meta;
  std::remove(path.c_str());
}

TEST(Checkpoint, PartsAreOptional) {
  const std::string path = temp_path("parts");
  SmallRun a(1);
  a.step();
  nn::save_checkpoint(path, {.model = a.model.get(), .default_generator = false});
  SmallRun b(2);
  nn::TrainingState weights_only{.model = b.model.get(), .default_generator = false};
  nn::load_checkpoint(path, weights_only);
  EXPECT_TENSOR_EQ(b.model->fc1->weight.detach(), a.model->fc1->weight.detach());
  // Asking for a part the file lacks is an error that names each one.
  nn::TrainingState all = b.state();
  EXPECT_THROW_MSG(nn::load_checkpoint(path, all), ValueError,
                   "\n\toptimizer (Adam): the checkpoint holds no optimizer state"
                   "\n\tscheduler (StepLR): the checkpoint holds no scheduler state"
                   "\n\tgenerator \"default\": the checkpoint holds no generator of that name"
                   "\n\tgenerator \"data\": the checkpoint holds no generator of that name");
  // Parts the file has but the caller does not ask for are left alone.
  nn::save_checkpoint(path, a.state());
  const GeneratorState before = get_rng_state();
  nn::load_checkpoint(path, weights_only);
  EXPECT_EQ(get_rng_state(), before);
  std::remove(path.c_str());
}

TEST(Checkpoint, EveryProblemOfEveryPartInOneErrorAndNothingChanged) {
  const std::string path = temp_path("mismatch");
  SmallRun a(1);
  a.step();
  nn::save_checkpoint(path, a.state());

  manual_seed(3);
  auto model = std::make_shared<TwoLayer>(5, 9, 3);  // hidden 9, not 8
  optim::SGD opt(model->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::WarmupCosine sched(opt, 1, 10);
  Generator data(5);
  const Tensor w_before = model->fc2->bias.detach().clone();
  const GeneratorState rng_before = get_rng_state(), data_before = data.get_state();
  nn::TrainingState st{.model = model.get(), .optimizer = &opt, .scheduler = &sched,
                       .generators = {{"data", &data}, {"eval", &data}}};
  try {
    nn::load_checkpoint(path, st);
    ADD_FAILURE() << "no error";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    for (const char* part :
         {"[load_checkpoint] Error(s) in loading checkpoint ",
          "\n\tmodel (TwoLayer): size mismatch for fc1.weight: copying a param with shape [8, 5] from checkpoint, the "
          "shape in current model is [9, 5].",
          "\n\tmodel (TwoLayer): size mismatch for fc2.weight",
          "\n\toptimizer (SGD): Unexpected key(s) in state_dict: \"param_groups.0.amsgrad\"",
          "\n\toptimizer (SGD): Missing key(s) in state_dict: \"param_groups.0.momentum\", "
          "\"param_groups.0.dampening\", \"param_groups.0.nesterov\", \"state.0.momentum_buffer\"",
          "\n\toptimizer (SGD): the state dict was written by Adam but this optimizer is SGD",
          "\n\toptimizer (SGD): loaded state dict has 2 parameter group(s), this optimizer has 1",
          "\n\tscheduler (WarmupCosine): the state dict was written by StepLR, this scheduler is WarmupCosine",
          "\n\tgenerator \"eval\": the checkpoint holds no generator of that name"})
      EXPECT_NE(msg.find(part), std::string::npos) << "missing: " << part << "\nin: " << msg;
  }
  EXPECT_TENSOR_EQ(model->fc2->bias.detach(), w_before);  // fc2.bias would have fitted
  EXPECT_EQ(get_rng_state(), rng_before);
  EXPECT_EQ(data.get_state(), data_before);
  EXPECT_EQ(sched.last_epoch(), 0);
  std::remove(path.c_str());
}

TEST(Checkpoint, NonStrictReturnsTheKeysOfEachPart) {
  const std::string path = temp_path("nonstrict");
  SmallRun a(1);
  a.step();
  nn::save_checkpoint(path, a.state());
  SmallRun b(2);
  b.model->register_buffer("extra", zeros({2}));
  nn::TrainingState st = b.state();
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), ValueError, "model (TwoLayer): Missing key(s) in state_dict: \"extra\"");
  const nn::LoadCheckpointResult res = nn::load_checkpoint(path, st, false);
  EXPECT_EQ(res.model.missing_keys, (std::vector<std::string>{"extra"}));
  EXPECT_TRUE(res.optimizer.missing_keys.empty());
  EXPECT_TENSOR_EQ(b.model->fc1->weight.detach(), a.model->fc1->weight.detach());
  std::remove(path.c_str());
}

TEST(Checkpoint, StrayTensorsAreUnexpected) {
  const std::string path = temp_path("stray");
  SmallRun a(1);
  a.step();
  nn::save_checkpoint(path, {.model = a.model.get(), .default_generator = false});
  std::vector<std::pair<std::string, Tensor>> tensors;
  const SafetensorsFile f = load_safetensors(path);
  for (const auto& k : f.keys()) tensors.emplace_back(k, f.get(k).clone());
  tensors.emplace_back("junk", zeros({1}));
  save_safetensors(path, tensors, f.metadata());
  nn::TrainingState st{.model = a.model.get(), .default_generator = false};
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), ValueError,
                   "Unexpected key(s) in checkpoint (neither \"model.\" nor \"optimizer.state.\"): \"junk\".");
  nn::load_checkpoint(path, st, false);
  std::remove(path.c_str());
}

TEST(Checkpoint, NotACheckpointOrMalformed) {
  const std::string path = temp_path("malformed");
  SmallRun a(1);
  nn::TrainingState st{.model = a.model.get(), .default_generator = false};
  a.model->save(path);
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError,
                   "is not a ricci checkpoint (its metadata has no \"ricci.checkpoint\"); weights saved with "
                   "Module::save load with Module::load");
  auto write = [&](const std::string& meta, std::vector<std::pair<std::string, Tensor>> tensors = {}) {
    save_safetensors(path, tensors, {{"ricci.checkpoint", meta}});
  };
  write("{not json");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, "malformed checkpoint metadata: not JSON");
  write("[1]");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, "malformed checkpoint metadata: not a JSON object");
  write("{}");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, "the checkpoint has no \"format\"");
  write(R"({"format": 2})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, "has checkpoint format 2, this ricci reads format 1");
  write(R"({"format": 1, "extra": {"a": 3}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, "extra.a must be a string, got 3");
  write(R"({"format": 1, "generators": {"default": {"seed": -1, "offset": 0}}})");
  nn::TrainingState with_rng{};
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_rng), IOError,
                   "generators.default.seed must be an unsigned integer, got -1");
  write(R"({"format": 1, "generators": {"default": 5}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_rng), IOError, "generators.default must be an object, got 5");
  write(R"({"format": 1, "extra": []})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_rng), IOError, "extra must be an object, got []");
  write(R"({"format": 1, "generators": 3})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_rng), IOError, "generators must be an object, got 3");

  optim::Adam opt(a.model->parameters());
  nn::TrainingState with_opt{.optimizer = &opt, .default_generator = false};
  write(R"({"format": 1, "optimizer": {"type": "Adam"}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError, "optimizer has no \"param_groups\"");
  write(R"({"format": 1, "optimizer": {"type": 7, "param_groups": []}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError, "optimizer.type must be a string, got 7");
  write(R"({"format": 1, "optimizer": {"type": "Adam", "param_groups": [3]}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError, "optimizer.param_groups[0] must be an object, got 3");
  write(R"({"format": 1, "optimizer": {"type": "Adam", "param_groups": [{"lr": "fast", "params": [0]}]}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError,
                   "optimizer.param_groups[0].lr must be a number, got \"fast\"");
  write(R"({"format": 1, "optimizer": {"type": "Adam", "param_groups": [{"lr": 1, "params": [0.5]}]}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError, "params must hold integers, got 0.5");
  write(R"({"format": 1, "optimizer": {"type": "Adam", "param_groups": []}})", {{"optimizer.state.x.step", zeros({})}});
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_opt), IOError,
                   "the tensor \"optimizer.state.x.step\" is not named \"optimizer.state.<index>.<name>\"");

  optim::StepLR sched(opt, 2);
  nn::TrainingState with_sched{.scheduler = &sched, .default_generator = false};
  write(R"({"format": 1, "scheduler": {"type": "StepLR", "last_epoch": 1.5, "base_lrs": [], "options": {}}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_sched), IOError, "scheduler.last_epoch must be an integer, got 1.5");
  write(R"({"format": 1, "scheduler": {"type": "StepLR", "last_epoch": 1, "base_lrs": [null], "options": {}}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_sched), IOError, "scheduler.base_lrs[] must be a number, got null");
  write(R"({"format": 1, "scheduler": {"type": "StepLR", "last_epoch": 1, "base_lrs": [], "options": 2}})");
  EXPECT_THROW_MSG(nn::load_checkpoint(path, with_sched), IOError, "scheduler.options must be an object, got 2");
  std::remove(path.c_str());
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), IOError, path);  // no such file
}

TEST(Checkpoint, SaveErrors) {
  Generator g;
  const std::string path = temp_path("save_errors");
  EXPECT_THROW_MSG(nn::save_checkpoint(path, {.generators = {{"default", &g}}}), ValueError,
                   "the generator name \"default\" is reserved");
  EXPECT_THROW_MSG(nn::save_checkpoint(path, {.generators = {{"data", nullptr}}}), ValueError,
                   "the generator \"data\" is null");
  nn::TrainingState nothing{};
  EXPECT_THROW_MSG(nn::load_checkpoint(path, nothing), IOError, path);  // nothing was written
  // The same checks on load, before the file is even opened.
  nn::TrainingState st{.generators = {{"default", &g}}};
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), ValueError,
                   "[load_checkpoint] the generator name \"default\" is reserved");
  st.generators = {{"data", nullptr}};
  EXPECT_THROW_MSG(nn::load_checkpoint(path, st), ValueError, "[load_checkpoint] the generator \"data\" is null");
}

// ---- the gpt example, stopped and resumed ---------------------------------------------------------------

namespace {

std::vector<int64_t> toy_corpus() {
  const std::string text = "to be, or not to be, that is the question: whether tis nobler in the mind to suffer ";
  std::string all;
  for (int i = 0; i < 6; ++i) all += text;
  static const gpt::CharTokenizer tok(all);
  return tok.encode(all);
}

gpt::TrainConfig tiny_run(const std::vector<int64_t>& data, int64_t steps) {
  gpt::TrainConfig c;
  c.model.vocab_size = *std::max_element(data.begin(), data.end()) + 1;
  c.model.block_size = 16, c.model.d_model = 32, c.model.n_layers = 2, c.model.n_heads = 2;
  c.model.dropout = 0.1;  // so the default generator's state matters
  c.batch = 4, c.steps = steps, c.warmup = 3, c.lr = 3e-3, c.seed = 11;
  return c;
}

constexpr int64_t kN = 8;  // stop at step N, compare up to step 2N

// The losses of an uninterrupted run of `steps` steps.
std::vector<double> straight_losses(const gpt::TrainConfig& cfg, const std::vector<int64_t>& data, int64_t steps) {
  gpt::Trainer t(cfg, data);
  std::vector<double> losses;
  for (int64_t i = 0; i < steps; ++i) losses.push_back(t.step());
  return losses;
}

}  // namespace

TEST(GptResume, ResumedRunGivesBitIdenticalLosses) {
  set_num_threads(2);
  const std::vector<int64_t> data = toy_corpus();
  const gpt::TrainConfig cfg = tiny_run(data, 2 * kN);
  const std::vector<double> straight = straight_losses(cfg, data, 2 * kN);
  const std::string path = temp_path("gpt");
  std::vector<double> first_half;
  {
    gpt::Trainer t(cfg, data);
    for (int64_t i = 0; i < kN; ++i) first_half.push_back(t.step());
    t.save_checkpoint(path);
  }
  EXPECT_EQ(first_half, std::vector<double>(straight.begin(), straight.begin() + kN));
  manual_seed(12345);  // disturb the default generator: the checkpoint must bring it back
  (void)rand({1000});

  gpt::Trainer resumed(cfg, data);
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.steps_done(), kN);
  for (int64_t i = kN; i < 2 * kN; ++i) {
    const double loss = resumed.step();
    EXPECT_EQ(loss, straight[static_cast<size_t>(i)]) << "step " << i + 1;  // exact, not close
  }
  std::remove(path.c_str());
}

// Each part of the checkpoint is needed: leave one out and the resumed losses drift.
TEST(GptResume, EveryPartMatters) {
  set_num_threads(2);
  const std::vector<int64_t> data = toy_corpus();
  const gpt::TrainConfig cfg = tiny_run(data, 2 * kN);
  const std::vector<double> straight = straight_losses(cfg, data, 2 * kN);
  const std::string path = temp_path("gpt_parts");
  {
    gpt::Trainer t(cfg, data);
    for (int64_t i = 0; i < kN; ++i) t.step();
    t.save_checkpoint(path);
  }
  for (const char* left_out : {"default generator", "data generator", "optimizer", "scheduler"}) {
    gpt::Trainer t(cfg, data);
    manual_seed(777);
    nn::TrainingState st{.model = t.model.get(), .optimizer = &t.opt, .scheduler = &t.sched,
                         .generators = {{"data", &t.data_gen}}};
    const std::string what = left_out;
    if (what == "default generator") st.default_generator = false;
    if (what == "data generator") st.generators.clear();
    if (what == "optimizer") st.optimizer = nullptr;
    if (what == "scheduler") st.scheduler = nullptr;
    nn::load_checkpoint(path, st);
    bool differs = false;
    for (int64_t i = kN; i < 2 * kN; ++i) differs = differs || t.step() != straight[static_cast<size_t>(i)];
    EXPECT_TRUE(differs) << "resuming without the " << left_out << " still matched";
  }
  std::remove(path.c_str());
}

TEST(GptResume, RefusesACheckpointOfOtherSettings) {
  const std::vector<int64_t> data = toy_corpus();
  const std::string path = temp_path("gpt_settings");
  {
    gpt::Trainer t(tiny_run(data, 2 * kN), data);
    t.step();
    t.save_checkpoint(path);
  }
  gpt::Trainer other(tiny_run(data, 3 * kN), data);  // another schedule length
  EXPECT_THROW_MSG(other.load_checkpoint(path), ValueError, "steps 16,");
  EXPECT_THROW_MSG(other.load_checkpoint(path), ValueError, "resume with the same flags");
  EXPECT_EQ(other.steps_done(), 0);
  std::remove(path.c_str());
}
