#pragma once
// torch.optim: optimizers over parameter groups, LR schedulers and gradient clipping.
//   optim::AdamW opt(model->parameters(), {.lr = 3e-4});
//   for (...) { opt.zero_grad(); auto loss = ...; loss.backward(); opt.step(); }
// Updates run in place under NoGradGuard with ricci's vectorised in-place ops (no graph, no
// per-element loops) and follow PyTorch's single-tensor ("foreach=False") formulas exactly; on
// the CPU, float32/float64 parameters take one pass that gives the same values bit for bit.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ricci/nn/module.h"
#include "ricci/tensor.h"

namespace ricci::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using nn::LoadStateDictResult;

// One group of parameters with its hyperparameters (each optimizer reads the fields it uses).
struct ParamGroup {
  std::vector<Tensor> params;
  double lr = 1e-3;
  double momentum = 0.0;     // SGD
  double dampening = 0.0;    // SGD
  bool nesterov = false;     // SGD
  double weight_decay = 0.0;  // SGD/Adam: L2 added to the gradient; AdamW: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam/AdamW
  bool amsgrad = false;      // Adam/AdamW: divide by the running maximum of exp_avg_sq
  double initial_lr = -1.0;  // set by the first scheduler attached (its base lr)
};

// Per-parameter state (what is in use depends on the optimizer).
struct ParamState {
  int64_t step = 0;
  Tensor momentum_buffer;  // SGD
  Tensor exp_avg, exp_avg_sq;  // Adam/AdamW
  Tensor max_exp_avg_sq;       // Adam/AdamW with amsgrad
};

// An optimizer's state laid out as PyTorch's Optimizer.state_dict():
//   state:        parameter index -> its tensors. Parameters are numbered across the groups in
//                 order (0, 1, ... through group 0, then on through group 1); only parameters that
//                 have state appear. SGD: "momentum_buffer"; Adam/AdamW: "step" (0-d float64),
//                 "exp_avg", "exp_avg_sq" and, with amsgrad, "max_exp_avg_sq".
//   param_groups: per group, every hyperparameter the optimizer reads (booleans as 0 or 1; the
//                 schedulers' "initial_lr" when one is attached) and the indices of its parameters.
// Hyperparameter names are ParamGroup's fields: PyTorch's betas=(b1, b2) are "beta1" and "beta2".
// In error messages an entry is called "state.<i>.<name>" or "param_groups.<g>.<name>".
struct OptimizerStateDict {
  struct Group {
    std::map<std::string, double> options;
    std::vector<int64_t> params;
  };
  std::string optimizer;  // the type that wrote it: "SGD", "Adam", "AdamW"
  std::map<int64_t, std::map<std::string, Tensor>> state;
  std::vector<Group> param_groups;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // MLX's functional step: the gradients come as a tree shaped like model.trainable_parameters()
  // (nn::value_and_grad gives one) instead of in .grad. Runs exactly step()'s arithmetic on the
  // model's parameters (which must be this optimizer's), leaving every .grad as it was.
  void update(nn::Module& model, const Tree& grads);
  // The state as a tree: {"<parameter index>": {"step", "exp_avg", ...}} (state_dict's layout),
  // for eval(model.parameter_tree(), opt.state_tree()).
  Tree state_tree() const;
  // Clears (set_to_none) or zeroes every parameter's .grad.
  void zero_grad(bool set_to_none = true);
  void add_param_group(ParamGroup group);
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // The state of a parameter (created empty on first use).
  ParamState& state(const Tensor& param);
  // The class name ("SGD", "AdamW"), as state dicts and messages call it.
  std::string type_name() const;

  // Everything needed to continue training identically (see OptimizerStateDict). The tensors are
  // detached handles sharing the optimizer's storage, as in PyTorch: copy them (or save them)
  // before stepping again if the values must stay.
  OptimizerStateDict state_dict() const;
  // Replaces the whole state (parameters absent from sd.state start afresh) and every group's
  // hyperparameters with copies of sd's, onto the parameters' devices. Errors list every problem
  // at once and load nothing; always errors: a different number of groups or of parameters in a
  // group, a state tensor whose shape is not its parameter's, a malformed step or hyperparameter.
  // With strict (the default) also errors: missing and unexpected entries, a state tensor of
  // another dtype than its parameter, a state dict written by another optimizer type. With
  // strict=false those entries are skipped and returned (a parameter whose state is incomplete
  // starts afresh, a missing hyperparameter keeps its value) and dtypes are converted.
  LoadStateDictResult load_state_dict(const OptimizerStateDict& sd, bool strict = true);
  // What load_state_dict(sd, strict) would report, without loading: the missing and unexpected
  // entries and, in `errors`, one line per problem it would throw for (none: it would load).
  LoadStateDictResult check_state_dict(const OptimizerStateDict& sd, bool strict = true) const;

 protected:
  // The hyperparameters this optimizer reads (ParamGroup field names); the state dict holds these.
  virtual std::vector<std::string> hyperparameters() const;
  // The state tensors a parameter of `group` must have once it has state at all.
  virtual std::vector<std::string> required_state(const ParamGroup& group) const;
  // Every state tensor name this optimizer knows (a superset of required_state()).
  virtual std::vector<std::string> known_state() const;

  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;

 private:
  LoadStateDictResult check_state_dict_impl(const OptimizerStateDict& sd, bool strict,
                                            std::vector<bool>* skip) const;
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

 protected:
  std::vector<std::string> hyperparameters() const override;
  std::vector<std::string> required_state(const ParamGroup& group) const override;
  std::vector<std::string> known_state() const override;
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false;
};
// Adam: weight_decay is L2 added to the gradient. amsgrad (Reddi et al., 2018) divides by the
// square root of the running maximum of exp_avg_sq instead of exp_avg_sq itself.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  explicit Adam(std::vector<ParamGroup> groups);
  void step() override;

 protected:
  std::vector<std::string> hyperparameters() const override;
  std::vector<std::string> required_state(const ParamGroup& group) const override;
  std::vector<std::string> known_state() const override;
  bool decoupled_ = false;
};

struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
};
// AdamW: p ← p·(1 − lr·wd) before the Adam step.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  explicit AdamW(std::vector<ParamGroup> groups);
};

// SGD, Adam and AdamW update a parameter in one pass where a kernel applies (the CPU, float32 or
// float64, the parameter, its gradient and state contiguous and of its dtype, no lazy recording
// or trace), to the values of the composed in-place ops bit for bit (Note [One-pass Adam],
// src/backend/cpu/optim_hwy.cpp). For tests and benchmarks: switch that path off for the process
// (the composed ops run) and count the parameter updates it made.
void set_one_pass_updates(bool enabled);
int64_t one_pass_update_count();

// ---- LR schedulers -------------------------------------------------------------------------------
// A scheduler's state as PyTorch's LRScheduler.state_dict() holds it: the step count, each group's
// base lr and the scheduler's own settings (StepLR: "step_size", "gamma"; WarmupCosine:
// "warmup_steps", "total_steps", "min_lr").
struct SchedulerStateDict {
  std::string scheduler;  // the type that wrote it: "StepLR", "WarmupCosine"
  int64_t last_epoch = 0;
  std::vector<double> base_lrs;
  std::map<std::string, double> options;
};

// A scheduler sets every group's lr from its base lr (initial_lr) and the step count; construction
// applies step 0, each step() advances by one (call it after optimizer.step()).
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& opt);
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;
  void step();
  int64_t last_epoch() const { return last_epoch_; }
  std::vector<double> get_last_lr() const;
  std::string type_name() const;  // "StepLR", "WarmupCosine"

  SchedulerStateDict state_dict() const;
  // Takes the step count, the settings and the base lrs (each group's initial_lr) from sd; the
  // groups' current lr is the optimizer's to restore (load the optimizer's state dict too), as in
  // PyTorch. Errors (ValueError, listing every problem, nothing loaded): another scheduler type,
  // another number of groups, a missing, unexpected or invalid setting.
  void load_state_dict(const SchedulerStateDict& sd);
  // The lines load_state_dict(sd) would throw, without loading (empty: it would load).
  std::vector<std::string> check_state_dict(const SchedulerStateDict& sd) const;

 protected:
  virtual double lr_at(double base_lr, int64_t step) const = 0;
  // The settings, by name, and setting them back (after check_options found them valid).
  virtual std::map<std::string, double> options() const = 0;
  virtual void set_options(const std::map<std::string, double>& options) = 0;
  // The problems with `options` as this scheduler's settings, one line each.
  virtual std::vector<std::string> check_options(const std::map<std::string, double>& options) const = 0;
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
  std::map<std::string, double> options() const override;
  void set_options(const std::map<std::string, double>& options) override;
  std::vector<std::string> check_options(const std::map<std::string, double>& options) const override;
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
  std::map<std::string, double> options() const override;
  void set_options(const std::map<std::string, double>& options) override;
  std::vector<std::string> check_options(const std::map<std::string, double>& options) const override;
  int64_t warmup_, total_;
  double min_lr_;
};

// Scales the gradients in place so that their joint norm is at most max_norm (PyTorch's
// clip_coef = max_norm / (total + 1e-6), applied when below 1); returns the total norm before
// clipping. norm_type may be INFINITY. Parameters without .grad are skipped.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace ricci::optim
