#pragma once
// torch.optim: optimizers over parameter groups, LR schedulers and gradient clipping.
//   optim::AdamW opt(model->parameters(), {.lr = 3e-4});
//   for (...) { opt.zero_grad(); auto loss = ...; loss.backward(); opt.step(); }
// Updates run in place under NoGradGuard with ricci's vectorised in-place ops (no graph, no
// per-element loops) and follow PyTorch's single-tensor ("foreach=False") formulas exactly.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ricci/tensor.h"

namespace ricci::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// One group of parameters with its hyperparameters (each optimizer reads the fields it uses).
struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
  double momentum = 0.0;     // SGD
  double dampening = 0.0;    // SGD
  bool nesterov = false;     // SGD
  double weight_decay = 0.0;  // SGD/Adam: L2 added to the gradient; AdamW: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam/AdamW
  double initial_lr = -1.0;  // set by the first scheduler attached (its base lr)
};

// Per-parameter state (what is in use depends on the optimizer).
struct ParamState {
  int64_t step = 0;
  Tensor momentum_buffer;  // SGD
  Tensor exp_avg, exp_avg_sq;  // Adam/AdamW
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // Clears (set_to_none) or zeroes every parameter's .grad.
  void zero_grad(bool set_to_none = true);
  void add_param_group(ParamGroup group);
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // The state of a parameter (created empty on first use).
  ParamState& state(const Tensor& param);

  // Flat, safetensors-friendly: "state.<i>.step" (0-d float64), "state.<i>.momentum_buffer",
  // "state.<i>.exp_avg", "state.<i>.exp_avg_sq", and "param_groups.<g>.lr"; i numbers the
  // parameters across groups in order, as PyTorch does. Tensors are copies.
  NamedTensors state_dict() const;
  // Restores what state_dict() wrote into an optimizer over parameters of the same shapes.
  void load_state_dict(const NamedTensors& sd);

 protected:
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

struct SGDOptions {
  double lr = 1e-3, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = {});
  explicit SGD(std::vector<ParamGroup> groups);
  void step() override;
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};
// Adam: weight_decay is L2 added to the gradient.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  explicit Adam(std::vector<ParamGroup> groups);
  void step() override;

 protected:
  bool decoupled_ = false;
};

struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
};
// AdamW: p ← p·(1 − lr·wd) before the Adam step.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  explicit AdamW(std::vector<ParamGroup> groups);
};

// ---- LR schedulers -------------------------------------------------------------------------------
// A scheduler sets every group's lr from its base lr (initial_lr) and the step count; construction
// applies step 0, each step() advances by one (call it after optimizer.step()).
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& opt);
  virtual ~LRScheduler() = default;
  void step();
  int64_t last_epoch() const { return last_epoch_; }
  std::vector<double> get_last_lr() const;

 protected:
  virtual double lr_at(double base_lr, int64_t step) const = 0;
  void apply();  // call at the end of a derived constructor
  Optimizer& opt_;
  int64_t last_epoch_ = 0;
};

// lr = base · gamma^(step // step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base, int64_t step) const override;
  int64_t step_size_;
  double gamma_;
};

// Linear warmup then cosine decay to min_lr:
//   step < warmup:  base · (step + 1) / warmup
//   step ≤ total:   min_lr + (base − min_lr) · ½(1 + cos(π · (step − warmup) / (total − warmup)))
//   after total:    min_lr
class WarmupCosine : public LRScheduler {
 public:
  WarmupCosine(Optimizer& opt, int64_t warmup_steps, int64_t total_steps, double min_lr = 0.0);

 protected:
  double lr_at(double base, int64_t step) const override;
  int64_t warmup_, total_;
  double min_lr_;
};

// Scales the gradients in place so that their joint norm is at most max_norm (PyTorch's
// clip_coef = max_norm / (total + 1e-6), applied when below 1); returns the total norm before
// clipping. norm_type may be INFINITY. Parameters without .grad are skipped.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace ricci::optim
