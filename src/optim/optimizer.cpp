// Optimizer base (groups, zero_grad, state dicts), SGD, Adam/AdamW and clip_grad_norm_.
#include <cmath>
#include <unordered_set>

#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/optim.h"

namespace ricci::optim {

namespace {
std::vector<ParamGroup> one_group(std::vector<Tensor> params) {
  ParamGroup g;
  g.params = std::move(params);
  return {std::move(g)};
}
}  // namespace

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

NamedTensors Optimizer::state_dict() const {
  NamedTensors out;
  int64_t i = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    for (const auto& p : groups_[gi].params) {
      const std::string key = "state." + std::to_string(i++) + ".";
      auto it = state_.find(p.unsafe_impl());
      if (it == state_.end()) continue;
      const ParamState& s = it->second;
      out.emplace_back(key + "step", scalar_tensor(static_cast<double>(s.step), DType::Float64));
      if (s.momentum_buffer.defined()) out.emplace_back(key + "momentum_buffer", s.momentum_buffer.clone());
      if (s.exp_avg.defined()) out.emplace_back(key + "exp_avg", s.exp_avg.clone());
      if (s.exp_avg_sq.defined()) out.emplace_back(key + "exp_avg_sq", s.exp_avg_sq.clone());
    }
    out.emplace_back("param_groups." + std::to_string(gi) + ".lr",
                     scalar_tensor(groups_[gi].lr, DType::Float64));
  }
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& sd) {
  std::vector<Tensor> flat;
  for (const auto& g : groups_)
    for (const auto& p : g.params) flat.push_back(p);
  NoGradGuard no_grad;
  for (const auto& [key, t] : sd) {
    const size_t dot1 = key.find('.'), dot2 = key.find('.', dot1 + 1);
    RICCI_CHECK(dot1 != std::string::npos && dot2 != std::string::npos, ValueError,
                "[optim.load_state_dict] unexpected key \"", key, "\"");
    const std::string kind = key.substr(0, dot1), field = key.substr(dot2 + 1);
    const size_t idx = std::stoul(key.substr(dot1 + 1, dot2 - dot1 - 1));
    if (kind == "param_groups") {
      RICCI_CHECK(idx < groups_.size() && field == "lr", ValueError, "[optim.load_state_dict] loaded state dict has "
                  "an entry \"", key, "\" this optimizer (", groups_.size(), " groups) can't take");
      groups_[idx].lr = t.item<double>();
      continue;
    }
    RICCI_CHECK(kind == "state" && idx < flat.size(), ValueError, "[optim.load_state_dict] loaded state dict "
                "contains a parameter entry \"", key, "\" but the optimizer has ", flat.size(), " parameters");
    const Tensor& p = flat[idx];
    ParamState& s = state(p);
    if (field == "step") {
      s.step = static_cast<int64_t>(t.item<double>());
      continue;
    }
    Tensor* dst = field == "momentum_buffer" ? &s.momentum_buffer
                  : field == "exp_avg"       ? &s.exp_avg
                  : field == "exp_avg_sq"    ? &s.exp_avg_sq
                                             : nullptr;
    RICCI_CHECK(dst != nullptr, ValueError, "[optim.load_state_dict] unknown state field \"", field, "\" in \"", key, "\"");
    RICCI_CHECK(t.shape() == p.shape(), ShapeError, "[optim.load_state_dict] \"", key, "\" has shape ", t.shape(),
                " but parameter ", idx, " has shape ", p.shape());
    *dst = t.detach().to(p.device(), p.dtype(), /*copy=*/true);
  }
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

void SGD::step() {
  NoGradGuard no_grad;
  for (auto& g : groups_) {
    for (auto& p_handle : g.params) {
      Tensor grad = p_handle.grad();
      if (!grad.defined()) continue;
      Tensor p = p_handle.detach();  // same storage; writing through it bypasses the leaf check
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
  }
  RICCI_CHECK(o.lr >= 0.0, ValueError, "[Adam] Invalid learning rate: ", o.lr);
  RICCI_CHECK(o.eps >= 0.0, ValueError, "[Adam] Invalid epsilon value: ", o.eps);
  RICCI_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0, ValueError, "[Adam] Invalid beta parameter at index 0: ", o.beta1);
  RICCI_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0, ValueError, "[Adam] Invalid beta parameter at index 1: ", o.beta2);
  RICCI_CHECK(o.weight_decay >= 0.0, ValueError, "[Adam] Invalid weight_decay value: ", o.weight_decay);
}

Adam::Adam(std::vector<ParamGroup> groups) : Optimizer(std::move(groups)) {}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions o)
    : Adam(std::move(params), AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}) {
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
      s.step += 1;
      if (g.weight_decay != 0.0) {
        if (decoupled_) {
          p.mul_(1.0 - g.lr * g.weight_decay);
        } else {
          grad = grad.add(p, g.weight_decay);
        }
      }
      s.exp_avg.lerp_(grad, 1.0 - g.beta1);
      s.exp_avg_sq.mul_(g.beta2).addcmul_(grad, grad, 1.0 - g.beta2);
      const double bc1 = 1.0 - std::pow(g.beta1, static_cast<double>(s.step));
      const double bc2 = 1.0 - std::pow(g.beta2, static_cast<double>(s.step));
      Tensor denom = s.exp_avg_sq.sqrt();
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
