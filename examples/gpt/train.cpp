#include "train.h"

#include <charconv>

namespace gpt {

namespace {
// The shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
std::string str(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}
std::string str(int64_t v) { return std::to_string(v); }
}  // namespace

std::string TrainConfig::describe() const {
  return "vocab " + str(model.vocab_size) + ", context " + str(model.block_size) + ", d_model " + str(model.d_model) +
         ", " + str(model.n_layers) + " layers, " + str(model.n_heads) + " heads, dropout " + str(model.dropout) +
         ", batch " + str(batch) + ", steps " + str(steps) + ", warmup " + str(warmup) + ", lr " + str(lr) +
         ", weight_decay " + str(weight_decay) + ", clip " + str(clip) + ", seed " + std::to_string(seed);
}

namespace {
std::shared_ptr<GPT> make_model(const TrainConfig& cfg) {
  ricci::manual_seed(cfg.seed);
  auto model = std::make_shared<GPT>(cfg.model);
  ricci::Generator init_gen(cfg.seed);
  init_weights(*model, &init_gen);
  return model;
}
}  // namespace

Trainer::Trainer(const TrainConfig& c, const std::vector<int64_t>& train)
    : cfg(c),
      model(make_model(c)),
      opt(param_groups(*model, c.lr, c.weight_decay)),
      sched(opt, c.warmup, c.steps, c.lr / 10),
      data_gen(c.seed + 1),
      train_(train),
      params_(model->parameters()) {}

double Trainer::step() {
  const Batch b = get_batch(train_, cfg.batch, cfg.model.block_size, data_gen);
  opt.zero_grad();
  ricci::Tensor loss;
  if (compiled_loss_and_grads_) {
    const ricci::Tensors out = compiled_loss_and_grads_({b.x, b.y});
    loss = out[0];
    for (size_t i = 0; i < params_.size(); ++i) params_[i].set_grad(out[i + 1]);
  } else {
    loss = model->loss(b.x, b.y);
    loss.backward();
  }
  ricci::optim::clip_grad_norm_(params_, cfg.clip);
  opt.step();
  sched.step();
  ++steps_done_;
  return loss.item<double>();
}

void Trainer::set_compiled(bool on) {
  if (!on) {
    compiled_loss_and_grads_ = ricci::TensorFn();
    return;
  }
  compiled_loss_and_grads_ = ricci::compile([this](const ricci::Tensors& in) {
    const ricci::Tensor loss = model->loss(in[0], in[1]);
    const ricci::Tensors grads = ricci::autograd::grad({loss}, params_);
    ricci::Tensors out{loss.detach()};
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  });
}

ricci::nn::TrainingState Trainer::training_state() {
  return {.model = model.get(), .optimizer = &opt, .scheduler = &sched, .generators = {{"data", &data_gen}},
          .default_generator = true, .extra = {{"config", cfg.describe()}, {"step", std::to_string(steps_done_)}}};
}

void Trainer::save_checkpoint(const std::string& path) {
  ricci::nn::save_checkpoint(path, training_state());
}

void Trainer::load_checkpoint(const std::string& path) {
  ricci::nn::TrainingState st = training_state();
  // The run's settings are checked first: the same tensors under another schedule would load
  // without complaint and then train differently.
  {
    ricci::nn::TrainingState probe{.default_generator = false};
    ricci::nn::load_checkpoint(path, probe);
    const auto it = probe.extra.find("config");
    const std::string theirs = it == probe.extra.end() ? "(none recorded)" : it->second;
    RICCI_CHECK(theirs == cfg.describe(), ricci::ValueError, "[gpt] ", path, " was made by a run with\n  ", theirs,
                "\nbut this run has\n  ", cfg.describe(), "\nresume with the same flags");
  }
  ricci::nn::load_checkpoint(path, st);
  steps_done_ = std::stoll(st.extra.at("step"));
}

}  // namespace gpt
