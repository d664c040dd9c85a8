// LR schedulers: closed-form lr(step) applied to every parameter group.
#include <cmath>
#include <numbers>
#include <typeinfo>

#include "nn/state_dict_errors.h"
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

std::string LRScheduler::type_name() const { return detail::short_type_name(typeid(*this)); }

SchedulerStateDict LRScheduler::state_dict() const {
  SchedulerStateDict sd;
  sd.scheduler = type_name();
  sd.last_epoch = last_epoch_;
  for (const auto& g : opt_.param_groups()) sd.base_lrs.push_back(g.initial_lr);
  sd.options = options();
  return sd;
}

std::vector<std::string> LRScheduler::check_state_dict(const SchedulerStateDict& sd) const {
  std::vector<std::string> lines;
  const std::string type = type_name();
  if (sd.scheduler != type) lines.push_back("the state dict was written by " + sd.scheduler + ", this scheduler is " + type);
  if (sd.last_epoch < 0) lines.push_back("last_epoch must be >= 0, got " + std::to_string(sd.last_epoch));
  const size_t groups = opt_.param_groups().size();
  if (sd.base_lrs.size() != groups)
    lines.push_back("loaded state dict has " + std::to_string(sd.base_lrs.size()) + " base lr(s), the optimizer has " +
                    std::to_string(groups) + " parameter group(s)");
  for (size_t i = 0; i < sd.base_lrs.size(); ++i)
    if (!(sd.base_lrs[i] >= 0.0) || !std::isfinite(sd.base_lrs[i]))
      lines.push_back("base_lrs[" + std::to_string(i) + "] must be a finite lr >= 0, got " + detail::cat(sd.base_lrs[i]));
  if (sd.scheduler != type) return lines;  // the settings of another type mean nothing here
  const std::map<std::string, double> own = options();
  std::vector<std::string> missing, unexpected;
  for (const auto& [name, _] : own)
    if (!sd.options.count(name)) missing.push_back(name);
  for (const auto& [name, _] : sd.options)
    if (!own.count(name)) unexpected.push_back(name);
  detail::add_key_lines(missing, unexpected, lines);
  if (missing.empty() && unexpected.empty())
    for (auto& l : check_options(sd.options)) lines.push_back(std::move(l));
  return lines;
}

void LRScheduler::load_state_dict(const SchedulerStateDict& sd) {
  const std::vector<std::string> lines = check_state_dict(sd);
  if (!lines.empty())
    detail::throw_state_dict_errors("[LRScheduler.load_state_dict] Error(s) in loading state_dict for " + type_name() +
                                    ":", lines);
  set_options(sd.options);
  last_epoch_ = sd.last_epoch;
  auto& groups = opt_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].initial_lr = sd.base_lrs[i];
}

namespace {
// A setting that must hold a whole number (a step count) in a double.
bool whole(double v) { return std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9.0e15; }
}  // namespace

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma) : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  RICCI_CHECK(step_size > 0, ValueError, "[StepLR] step_size must be positive, got ", step_size);
  apply();
}

double StepLR::lr_at(double base, int64_t step) const {
  return base * std::pow(gamma_, static_cast<double>(step / step_size_));
}

std::map<std::string, double> StepLR::options() const {
  return {{"step_size", static_cast<double>(step_size_)}, {"gamma", gamma_}};
}
void StepLR::set_options(const std::map<std::string, double>& o) {
  step_size_ = static_cast<int64_t>(o.at("step_size"));
  gamma_ = o.at("gamma");
}
std::vector<std::string> StepLR::check_options(const std::map<std::string, double>& o) const {
  std::vector<std::string> lines;
  const double step_size = o.at("step_size"), gamma = o.at("gamma");
  if (!whole(step_size) || step_size <= 0) lines.push_back("step_size must be a positive whole number, got " + detail::cat(step_size));
  if (!std::isfinite(gamma)) lines.push_back("gamma must be finite, got " + detail::cat(gamma));
  return lines;
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

std::map<std::string, double> WarmupCosine::options() const {
  return {{"warmup_steps", static_cast<double>(warmup_)}, {"total_steps", static_cast<double>(total_)}, {"min_lr", min_lr_}};
}
void WarmupCosine::set_options(const std::map<std::string, double>& o) {
  warmup_ = static_cast<int64_t>(o.at("warmup_steps"));
  total_ = static_cast<int64_t>(o.at("total_steps"));
  min_lr_ = o.at("min_lr");
}
std::vector<std::string> WarmupCosine::check_options(const std::map<std::string, double>& o) const {
  std::vector<std::string> lines;
  const double warmup = o.at("warmup_steps"), total = o.at("total_steps"), min_lr = o.at("min_lr");
  if (!whole(warmup) || !whole(total) || warmup < 0 || total <= warmup)
    lines.push_back("needs whole numbers 0 <= warmup_steps < total_steps, got warmup_steps=" + detail::cat(warmup) +
                    ", total_steps=" + detail::cat(total));
  if (!std::isfinite(min_lr)) lines.push_back("min_lr must be finite, got " + detail::cat(min_lr));
  return lines;
}

}  // namespace ricci::optim
