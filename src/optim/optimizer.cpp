// Optimizer base (groups, zero_grad, state dicts), SGD, Adam/AdamW and clip_grad_norm_.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <typeinfo>
#include <unordered_set>

#include "backend/cpu/optim_kernels.h"
#include "backend/kernel_table.h"
#include "lazy/lazy_detail.h"
#include "nn/state_dict_errors.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"
#include "ricci/optim.h"

namespace ricci::optim {

namespace {
std::vector<ParamGroup> one_group(std::vector<Tensor> params) {
  ParamGroup g;
  g.params = std::move(params);
  return {std::move(g)};
}

std::atomic<bool> g_one_pass{true};
std::atomic<int64_t> g_one_pass_count{0};

// The one-pass update kernel `id` for these tensors (the parameter first), or null: the kernel
// exists for the parameter's device and dtype, every tensor is contiguous with the parameter's
// shape, dtype and device, none overlaps another, and no lazy recording, trace or shape inference
// is running (the composed ops then record or refuse as they do).
kernels::AnyKernel one_pass_kernel(kernels::OpId id, const Tensor* const* ts, size_t count) {
  if (!g_one_pass.load(std::memory_order_relaxed)) return nullptr;
  if (!lazy::detail::running_on_values()) return nullptr;
  const Tensor& p = *ts[0];
  const kernels::AnyKernel k = kernels::kernel_table().find(id, p.device().type, p.dtype());
  if (!k) return nullptr;
  for (size_t i = 0; i < count; ++i) {
    const Tensor& t = *ts[i];
    if (!t.defined() || t.dtype() != p.dtype() || t.device() != p.device() || t.shape() != p.shape() ||
        !t.is_contiguous())
      return nullptr;
  }
  const size_t bytes = static_cast<size_t>(p.numel()) * p.element_size();
  if (bytes == 0) return k;
  for (size_t i = 0; i < count; ++i)
    for (size_t j = i + 1; j < count; ++j) {
      const char* a = static_cast<const char*>(ts[i]->data_ptr());
      const char* b = static_cast<const char*>(ts[j]->data_ptr());
      if (a < b + bytes && b < a + bytes) return nullptr;
    }
  return k;
}
}  // namespace

void set_one_pass_updates(bool enabled) { g_one_pass.store(enabled); }
int64_t one_pass_update_count() { return g_one_pass_count.load(); }

Optimizer::Optimizer(std::vector<ParamGroup> groups) {
  RICCI_CHECK(!groups.empty(), ValueError, "[optim] optimizer got an empty parameter list");
  for (auto& g : groups) add_param_group(std::move(g));
}

void Optimizer::add_param_group(ParamGroup group) {
  std::unordered_set<const TensorImpl*> seen;
  for (const auto& g : groups_)
    for (const auto& p : g.params) seen.insert(p.unsafe_impl());
  for (const auto& p : group.params) {
    RICCI_CHECK(p.defined(), ValueError, "[optim] can't optimize an undefined tensor");
    RICCI_CHECK(p.is_leaf(), ValueError, "[optim] can't optimize a non-leaf Tensor; pass the parameters themselves");
    RICCI_CHECK(p.is_floating_point(), DTypeError, "[optim] can't optimize a tensor of dtype ", p.dtype(),
                "; parameters must be floating point");
    RICCI_CHECK(seen.insert(p.unsafe_impl()).second, ValueError,
                "[optim] some parameters appear in more than one parameter group");
  }
  RICCI_CHECK(group.lr >= 0.0, ValueError, "[optim] Invalid learning rate: ", group.lr);
  groups_.push_back(std::move(group));
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& g : groups_)
    for (auto& p : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor());
      } else {
        grad = grad.detach();
        grad.zero_();
      }
    }
}

ParamState& Optimizer::state(const Tensor& param) { return state_[param.unsafe_impl()]; }

std::string Optimizer::type_name() const { return detail::short_type_name(typeid(*this)); }

// ---- state dicts -------------------------------------------------------------------------------------

namespace {

// The hyperparameters a state dict may carry, by ParamGroup field.
struct Hyper {
  const char* name;
  double ParamGroup::*real;
  bool ParamGroup::*flag;
};
constexpr Hyper kHypers[] = {
    {"lr", &ParamGroup::lr, nullptr},           {"momentum", &ParamGroup::momentum, nullptr},
    {"dampening", &ParamGroup::dampening, nullptr}, {"nesterov", nullptr, &ParamGroup::nesterov},
    {"weight_decay", &ParamGroup::weight_decay, nullptr}, {"beta1", &ParamGroup::beta1, nullptr},
    {"beta2", &ParamGroup::beta2, nullptr},     {"eps", &ParamGroup::eps, nullptr},
    {"amsgrad", nullptr, &ParamGroup::amsgrad}, {"initial_lr", &ParamGroup::initial_lr, nullptr},
};

const Hyper* find_hyper(const std::string& name) {
  for (const auto& h : kHypers)
    if (name == h.name) return &h;
  return nullptr;
}
double get_hyper(const ParamGroup& g, const Hyper& h) { return h.real ? g.*h.real : (g.*h.flag ? 1.0 : 0.0); }
void set_hyper(ParamGroup& g, const Hyper& h, double v) {
  if (h.real) {
    g.*h.real = v;
  } else {
    g.*h.flag = v != 0.0;
  }
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string shape_str(IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// "[0, 1, 2]", or "[0, 1, ..., 9] (10 parameters)" for long lists.
std::string indices_str(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (v.size() > 8 && i == 3) {
      out += "..., ";
      i = v.size() - 2;
    }
    out += std::to_string(v[i]) + (i + 1 < v.size() ? ", " : "");
  }
  out += "]";
  return v.size() > 8 ? out + " (" + std::to_string(v.size()) + " parameters)" : out;
}

// Why `v` is not a valid value of hyperparameter `name`; empty when it is.
std::string bad_hyper(const std::string& name, double v) {
  if (!std::isfinite(v)) return "is not finite";
  if (name == "nesterov" || name == "amsgrad") return v == 0.0 || v == 1.0 ? "" : "must be 0 or 1";
  if (name == "beta1" || name == "beta2") return v >= 0.0 && v < 1.0 ? "" : "must be in [0, 1)";
  if (name == "dampening") return "";
  return v >= 0.0 ? "" : "must be >= 0";
}

}  // namespace

std::vector<std::string> Optimizer::hyperparameters() const {
  return {"lr", "momentum", "dampening", "nesterov", "weight_decay", "beta1", "beta2", "eps", "amsgrad"};
}
std::vector<std::string> Optimizer::required_state(const ParamGroup&) const { return {}; }
std::vector<std::string> Optimizer::known_state() const {
  return {"step", "momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
}

OptimizerStateDict Optimizer::state_dict() const {
  OptimizerStateDict sd;
  sd.optimizer = type_name();
  const std::vector<std::string> hypers = hyperparameters(), fields = known_state();
  int64_t i = 0;
  for (const auto& g : groups_) {
    OptimizerStateDict::Group& out = sd.param_groups.emplace_back();
    for (const auto& name : hypers) out.options[name] = get_hyper(g, *find_hyper(name));
    if (g.initial_lr >= 0.0) out.options["initial_lr"] = g.initial_lr;
    for (const auto& p : g.params) {
      const int64_t idx = i++;
      out.params.push_back(idx);
      auto it = state_.find(p.unsafe_impl());
      if (it == state_.end()) continue;
      const ParamState& s = it->second;
      std::map<std::string, Tensor> entry;
      const std::pair<const char*, const Tensor*> tensors[] = {{"momentum_buffer", &s.momentum_buffer},
                                                               {"exp_avg", &s.exp_avg},
                                                               {"exp_avg_sq", &s.exp_avg_sq},
                                                               {"max_exp_avg_sq", &s.max_exp_avg_sq}};
      for (const auto& [name, t] : tensors)
        if (t->defined() && contains(fields, name)) entry[name] = t->detach();
      if (entry.empty()) continue;  // state(p) was looked at, but nothing was ever stored
      if (contains(fields, "step")) entry["step"] = scalar_tensor(static_cast<double>(s.step), DType::Float64);
      sd.state[idx] = std::move(entry);
    }
  }
  return sd;
}

LoadStateDictResult Optimizer::check_state_dict(const OptimizerStateDict& sd, bool strict) const {
  return check_state_dict_impl(sd, strict, nullptr);
}

LoadStateDictResult Optimizer::check_state_dict_impl(const OptimizerStateDict& sd, bool strict,
                                                     std::vector<bool>* skip) const {
  LoadStateDictResult r;
  std::vector<std::string> problems;
  const std::string type = type_name();
  if (strict && !sd.optimizer.empty() && sd.optimizer != type)
    problems.push_back("the state dict was written by " + sd.optimizer + " but this optimizer is " + type +
                       " (pass strict=false to load the entries that fit)");
  if (sd.param_groups.size() != groups_.size())
    problems.push_back("loaded state dict has " + std::to_string(sd.param_groups.size()) +
                       " parameter group(s), this optimizer has " + std::to_string(groups_.size()));

  // The parameters numbered as the state dict numbers them, with their groups as they would be
  // after loading (amsgrad decides whether max_exp_avg_sq is required).
  std::vector<const Tensor*> flat;
  std::vector<size_t> group_of;
  std::vector<ParamGroup> loaded;
  const std::vector<std::string> hypers = hyperparameters(), fields = known_state();
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup g = groups_[gi];
    g.params.clear();
    std::vector<int64_t> expected;
    for (const auto& p : groups_[gi].params) {
      expected.push_back(static_cast<int64_t>(flat.size()));
      flat.push_back(&p);
      group_of.push_back(gi);
    }
    if (gi < sd.param_groups.size()) {
      const OptimizerStateDict::Group& in = sd.param_groups[gi];
      const std::string key = "param_groups." + std::to_string(gi) + ".";
      if (in.params != expected)
        problems.push_back(key + "params: the loaded group holds the parameters " + indices_str(in.params) +
                           ", this optimizer's group " + std::to_string(gi) + " holds " + indices_str(expected) +
                           "; build the optimizer over the same parameters in the same groups and order");
      for (const auto& name : hypers)
        if (!in.options.count(name)) r.missing_keys.push_back(key + name);
      for (const auto& [name, v] : in.options) {
        if (!contains(hypers, name) && name != "initial_lr") {
          r.unexpected_keys.push_back(key + name);
          continue;
        }
        const std::string why = bad_hyper(name, v);
        if (!why.empty()) {
          problems.push_back(key + name + " " + why + ", got " + detail::cat(v));
          continue;
        }
        set_hyper(g, *find_hyper(name), v);
      }
      if (contains(hypers, "nesterov") && g.nesterov && (g.momentum <= 0.0 || g.dampening != 0.0))
        problems.push_back(key + "nesterov: Nesterov momentum requires a momentum and zero dampening, got momentum " +
                           detail::cat(g.momentum) + " and dampening " + detail::cat(g.dampening));
    }
    loaded.push_back(std::move(g));
  }

  for (const auto& [idx, entry] : sd.state) {
    const std::string key = "state." + std::to_string(idx) + ".";
    if (idx < 0 || idx >= static_cast<int64_t>(flat.size())) {
      for (const auto& [field, _] : entry) r.unexpected_keys.push_back(key + field);
      continue;
    }
    const Tensor& p = *flat[static_cast<size_t>(idx)];
    for (const auto& [field, t] : entry) {
      if (!contains(fields, field)) {
        r.unexpected_keys.push_back(key + field);
        continue;
      }
      if (!t.defined()) {
        problems.push_back("the entry \"" + key + field + "\" is an undefined tensor");
      } else if (field == "step") {
        const bool scalar = t.numel() == 1 && t.dtype() != DType::Bool;
        const double v = scalar ? t.item<double>() : -1.0;
        if (!scalar || !std::isfinite(v) || v < 0.0 || v != std::floor(v) || v > 9.0e15)
          problems.push_back(key + "step must be a one-element tensor holding a whole number >= 0, got shape " +
                             shape_str(t.shape()) + (scalar ? " holding " + detail::cat(v) : std::string()));
      } else if (t.shape() != p.shape()) {
        problems.push_back(std::string(detail::kSizeMismatch) + key + field + ": copying a state tensor with shape " +
                           shape_str(t.shape()) + " from checkpoint, parameter " + std::to_string(idx) +
                           " has shape " + shape_str(p.shape()) + ".");
      } else if (strict && t.dtype() != p.dtype()) {
        problems.push_back(std::string(detail::kDTypeMismatch) + key + field + ": copying a state tensor with dtype " +
                           std::string(dtype_name(t.dtype())) + " from checkpoint, parameter " + std::to_string(idx) +
                           " has dtype " + std::string(dtype_name(p.dtype())) + ".");
      }
    }
    bool incomplete = false;
    for (const auto& field : required_state(loaded[group_of[static_cast<size_t>(idx)]]))
      if (!entry.count(field)) {
        r.missing_keys.push_back(key + field);
        incomplete = true;
      }
    if (incomplete && skip) (*skip)[static_cast<size_t>(idx)] = true;
  }

  if (strict) detail::add_key_lines(r.missing_keys, r.unexpected_keys, r.errors);
  for (auto& p : problems) r.errors.push_back(std::move(p));
  return r;
}

LoadStateDictResult Optimizer::load_state_dict(const OptimizerStateDict& sd, bool strict) {
  size_t nparams = 0;
  for (const auto& g : groups_) nparams += g.params.size();
  std::vector<bool> skip(nparams, false);
  LoadStateDictResult r = check_state_dict_impl(sd, strict, &skip);
  if (!r.errors.empty())
    detail::throw_state_dict_errors("[optim.load_state_dict] Error(s) in loading state_dict for " + type_name() + ":",
                                    r.errors);
  const std::vector<std::string> hypers = hyperparameters(), fields = known_state();
  std::vector<const Tensor*> flat;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    for (const auto& p : groups_[gi].params) flat.push_back(&p);
    for (const auto& [name, v] : sd.param_groups[gi].options)
      if (contains(hypers, name) || name == "initial_lr") set_hyper(groups_[gi], *find_hyper(name), v);
  }
  NoGradGuard no_grad;
  state_.clear();
  for (const auto& [idx, entry] : sd.state) {
    if (idx < 0 || idx >= static_cast<int64_t>(flat.size()) || skip[static_cast<size_t>(idx)]) continue;
    const Tensor& p = *flat[static_cast<size_t>(idx)];
    ParamState s;
    for (const auto& [field, t] : entry) {
      if (!contains(fields, field)) continue;
      if (field == "step") {
        s.step = static_cast<int64_t>(t.item<double>());
        continue;
      }
      Tensor* dst = field == "momentum_buffer" ? &s.momentum_buffer
                    : field == "exp_avg"       ? &s.exp_avg
                    : field == "exp_avg_sq"    ? &s.exp_avg_sq
                                               : &s.max_exp_avg_sq;
      *dst = t.detach().to(p.device(), p.dtype(), /*copy=*/true);
    }
    state_[p.unsafe_impl()] = std::move(s);
  }
  return r;
}

// ---- SGD -------------------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, SGDOptions o) : SGD(one_group(std::move(params))) {
  for (auto& g : groups_) {
    g.lr = o.lr, g.momentum = o.momentum, g.dampening = o.dampening, g.weight_decay = o.weight_decay;
    g.nesterov = o.nesterov;
  }
  RICCI_CHECK(o.lr >= 0.0, ValueError, "[SGD] Invalid learning rate: ", o.lr);
  RICCI_CHECK(o.momentum >= 0.0, ValueError, "[SGD] Invalid momentum value: ", o.momentum);
  RICCI_CHECK(o.weight_decay >= 0.0, ValueError, "[SGD] Invalid weight_decay value: ", o.weight_decay);
  RICCI_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0), ValueError,
              "[SGD] Nesterov momentum requires a momentum and zero dampening");
}

SGD::SGD(std::vector<ParamGroup> groups) : Optimizer(std::move(groups)) {}

std::vector<std::string> SGD::hyperparameters() const {
  return {"lr", "momentum", "dampening", "nesterov", "weight_decay"};
}
std::vector<std::string> SGD::required_state(const ParamGroup&) const { return {"momentum_buffer"}; }
std::vector<std::string> SGD::known_state() const { return {"momentum_buffer"}; }

void SGD::step() {
  NoGradGuard no_grad;
  for (auto& g : groups_) {
    for (auto& p_handle : g.params) {
      Tensor grad = p_handle.grad();
      if (!grad.defined()) continue;
      Tensor p = p_handle.detach();  // same storage; writing through it bypasses the leaf check
      // The ops below in one pass where a kernel applies (Note [One-pass Adam]); the first step's
      // momentum buffer is the ops' clone.
      ParamState* st = g.momentum != 0.0 ? &state(p_handle) : nullptr;
      static const kernels::OpId sgd_id = kernels::op_id("optim_sgd_step");
      const std::array<const Tensor*, 3> ts{&p, &grad, st ? &st->momentum_buffer : nullptr};
      if (!st || st->momentum_buffer.defined()) {
        if (const kernels::AnyKernel k = one_pass_kernel(sgd_id, ts.data(), st ? 3 : 2)) {
          const optimk::SgdStepParams hp{g.lr, g.momentum, g.dampening, g.weight_decay, g.nesterov};
          reinterpret_cast<optimk::SgdStepKernel>(k)(p, grad, st ? st->momentum_buffer : Tensor(), hp);
          autograd::bump_version(p);
          if (st) autograd::bump_version(st->momentum_buffer);
          g_one_pass_count.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      }
      Tensor d = g.weight_decay != 0.0 ? grad.add(p, g.weight_decay) : grad;
      if (g.momentum != 0.0) {
        ParamState& s = state(p_handle);
        if (!s.momentum_buffer.defined()) {
          s.momentum_buffer = d.detach().clone();
        } else {
          s.momentum_buffer.mul_(g.momentum).add_(d, 1.0 - g.dampening);
        }
        d = g.nesterov ? d.add(s.momentum_buffer, g.momentum) : s.momentum_buffer;
      }
      p.add_(d, -g.lr);
    }
  }
}

// ---- Adam / AdamW ------------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions o) : Adam(one_group(std::move(params))) {
  for (auto& g : groups_) {
    g.lr = o.lr, g.beta1 = o.beta1, g.beta2 = o.beta2, g.eps = o.eps, g.weight_decay = o.weight_decay;
    g.amsgrad = o.amsgrad;
  }
  RICCI_CHECK(o.lr >= 0.0, ValueError, "[Adam] Invalid learning rate: ", o.lr);
  RICCI_CHECK(o.eps >= 0.0, ValueError, "[Adam] Invalid epsilon value: ", o.eps);
  RICCI_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0, ValueError, "[Adam] Invalid beta parameter at index 0: ", o.beta1);
  RICCI_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0, ValueError, "[Adam] Invalid beta parameter at index 1: ", o.beta2);
  RICCI_CHECK(o.weight_decay >= 0.0, ValueError, "[Adam] Invalid weight_decay value: ", o.weight_decay);
}

Adam::Adam(std::vector<ParamGroup> groups) : Optimizer(std::move(groups)) {}

std::vector<std::string> Adam::hyperparameters() const {
  return {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"};
}
std::vector<std::string> Adam::required_state(const ParamGroup& group) const {
  if (group.amsgrad) return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"step", "exp_avg", "exp_avg_sq"};
}
std::vector<std::string> Adam::known_state() const { return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}; }

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions o)
    : Adam(std::move(params), AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad}) {
  decoupled_ = true;
}

AdamW::AdamW(std::vector<ParamGroup> groups) : Adam(std::move(groups)) { decoupled_ = true; }

void Adam::step() {
  NoGradGuard no_grad;
  for (auto& g : groups_) {
    for (auto& p_handle : g.params) {
      Tensor grad = p_handle.grad();
      if (!grad.defined()) continue;
      Tensor p = p_handle.detach();
      ParamState& s = state(p_handle);
      if (!s.exp_avg.defined()) {
        s.exp_avg = zeros_like(p);
        s.exp_avg_sq = zeros_like(p);
      }
      if (g.amsgrad && !s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = zeros_like(p);
      s.step += 1;
      const double bc1 = 1.0 - std::pow(g.beta1, static_cast<double>(s.step));
      const double bc2 = 1.0 - std::pow(g.beta2, static_cast<double>(s.step));
      // The composed ops below in one pass where a kernel applies (Note [One-pass Adam]).
      static const kernels::OpId adam_id = kernels::op_id("optim_adam_step");
      const std::array<const Tensor*, 5> ts{&p, &grad, &s.exp_avg, &s.exp_avg_sq, &s.max_exp_avg_sq};
      if (const kernels::AnyKernel k = one_pass_kernel(adam_id, ts.data(), g.amsgrad ? 5 : 4)) {
        const optimk::AdamStepParams hp{g.lr, g.beta1, g.beta2, g.eps, g.weight_decay, decoupled_, g.amsgrad, bc1, bc2};
        reinterpret_cast<optimk::AdamStepKernel>(k)(p, grad, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, hp);
        for (const Tensor* t : {&p, &s.exp_avg, &s.exp_avg_sq}) autograd::bump_version(*t);
        if (g.amsgrad) autograd::bump_version(s.max_exp_avg_sq);
        g_one_pass_count.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (g.weight_decay != 0.0) {
        if (decoupled_) {
          p.mul_(1.0 - g.lr * g.weight_decay);
        } else {
          grad = grad.add(p, g.weight_decay);
        }
      }
      s.exp_avg.lerp_(grad, 1.0 - g.beta1);
      s.exp_avg_sq.mul_(g.beta2).addcmul_(grad, grad, 1.0 - g.beta2);
      if (g.amsgrad) s.max_exp_avg_sq.copy_(maximum(s.max_exp_avg_sq, s.exp_avg_sq));
      Tensor denom = (g.amsgrad ? s.max_exp_avg_sq : s.exp_avg_sq).sqrt();
      denom.div_(std::sqrt(bc2)).add_(g.eps);
      p.addcdiv_(s.exp_avg, denom, -g.lr / bc1);
    }
  }
}

// ---- clipping ----------------------------------------------------------------------------------------

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const auto& p : params) {
    const Tensor g = p.grad();
    if (g.defined()) grads.push_back(g.detach());
  }
  if (grads.empty()) return 0.0;
  double total = 0.0;
  if (std::isinf(norm_type)) {
    for (const auto& g : grads)
      if (g.numel() > 0) total = std::max(total, g.abs().max().item<double>());
  } else {
    for (const auto& g : grads) total += std::pow(g.norm(norm_type).item<double>(), norm_type);
    total = std::pow(total, 1.0 / norm_type);
  }
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0)
    for (auto& g : grads) g.mul_(coef);
  return total;
}

}  // namespace ricci::optim
