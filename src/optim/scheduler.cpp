// LR schedulers: closed-form lr(step) applied to every parameter group.
#include <cmath>
#include <numbers>

#include "ricci/optim.h"

namespace ricci::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt) {
  for (auto& g : opt_.param_groups())
    if (g.initial_lr < 0.0) g.initial_lr = g.lr;
}

void LRScheduler::apply() {
  for (auto& g : opt_.param_groups()) g.lr = lr_at(g.initial_lr, last_epoch_);
}

void LRScheduler::step() {
  ++last_epoch_;
  apply();
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> v;
  for (const auto& g : opt_.param_groups()) v.push_back(g.lr);
  return v;
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma) : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  RICCI_CHECK(step_size > 0, ValueError, "[StepLR] step_size must be positive, got ", step_size);
  apply();
}

double StepLR::lr_at(double base, int64_t step) const {
  return base * std::pow(gamma_, static_cast<double>(step / step_size_));
}

WarmupCosine::WarmupCosine(Optimizer& opt, int64_t warmup, int64_t total, double min_lr)
    : LRScheduler(opt), warmup_(warmup), total_(total), min_lr_(min_lr) {
  RICCI_CHECK(warmup >= 0 && total > warmup, ValueError, "[WarmupCosine] needs 0 <= warmup_steps < total_steps, got "
              "warmup_steps=", warmup, ", total_steps=", total);
  apply();
}

double WarmupCosine::lr_at(double base, int64_t step) const {
  if (step < warmup_) return base * static_cast<double>(step + 1) / static_cast<double>(warmup_);
  if (step > total_) return min_lr_;
  const double ratio = static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_);
  return min_lr_ + (base - min_lr_) * 0.5 * (1.0 + std::cos(std::numbers::pi * ratio));
}

}  // namespace ricci::optim
