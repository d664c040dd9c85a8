#pragma once
// The `gpt` example's training run as a class, shared with tests/test_resume.cpp (which compiles
// train.cpp into itself): the model, AdamW over its two groups, the warm-up + cosine schedule and
// the generator that picks the batches, plus a full checkpoint of all of it, so that a run stopped
// at step N and resumed continues bit for bit as the run that never stopped.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpt_model.h"

namespace gpt {

struct TrainConfig {
  Config model;
  int64_t batch = 32, steps = 500, warmup = 30;
  double lr = 2e-3, weight_decay = 0.1, clip = 1.0;  // the schedule decays to lr / 10
  uint64_t seed = 1337;
  // The settings as one line: a checkpoint records it, and resuming refuses a different one.
  std::string describe() const;
};

class Trainer {
 public:
  // Seeds the default generator (dropout) with cfg.seed, initialises the weights from cfg.seed and
  // the batch order from cfg.seed + 1. `train` must outlive the trainer.
  Trainer(const TrainConfig& cfg, const std::vector<int64_t>& train);
  // One step: batch, forward, backward, clip, AdamW, schedule. Returns the batch's loss.
  double step();
  // Runs the loss and its gradients through ricci::compile (one program: forward, backward, the
  // elementwise runs of both fused, dropout drawing new masks each step); AdamW stays eager.
  void set_compiled(bool on);
  // What compiling the step did (ricci::compile_stats); only after a compiled step ran.
  ricci::CompileStats compile_stats() const { return ricci::compile_stats(compiled_loss_and_grads_); }
  int64_t steps_done() const { return steps_done_; }
  double lr() const { return sched.get_last_lr()[0]; }

  // Everything step() depends on: weights, AdamW state, schedule, both generators, the step count.
  void save_checkpoint(const std::string& path);
  // Restores a save_checkpoint of a run with the same settings (ValueError otherwise).
  void load_checkpoint(const std::string& path);

  const TrainConfig cfg;
  std::shared_ptr<GPT> model;
  ricci::optim::AdamW opt;
  ricci::optim::WarmupCosine sched;
  ricci::Generator data_gen;

 private:
  ricci::nn::TrainingState training_state();
  const std::vector<int64_t>& train_;
  std::vector<ricci::Tensor> params_;
  ricci::TensorFn compiled_loss_and_grads_;  // (x, y) -> (loss, one gradient per parameter)
  int64_t steps_done_ = 0;
};

}  // namespace gpt
