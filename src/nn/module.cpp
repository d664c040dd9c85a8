// nn::Module: registration, traversal, state dicts, modes and in-place conversion.
#include "ricci/nn/module.h"

#include <typeinfo>
#include <unordered_map>
#include <unordered_set>

#include "ricci/autograd.h"
#include "nn/state_dict_errors.h"
#include "ricci/io.h"

namespace ricci::nn {

namespace {

std::string shape_str(IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Points `dst`'s TensorImpl at `src`'s data and layout, so every handle to dst sees the change.
// This is PyTorch's `param.data = new_data`: the autograd identity (leaf, requires_grad, hooks)
// stays, only the bytes behind it move.
void swap_data(const Tensor& dst, const Tensor& src) {
  TensorImpl& d = dst.impl();
  const TensorImpl& s = src.impl();
  d.storage = s.storage;
  d.dtype = s.dtype;
  d.sizes = s.sizes;
  d.strides = s.strides;
  d.storage_offset = s.storage_offset;
  d.refresh_layout();
}

}  // namespace

std::string Module::type_name() const { return detail::short_type_name(typeid(*this)); }

void Module::check_new_name(const std::string& name, const char* what) const {
  RICCI_CHECK(!name.empty(), ValueError, "[register_", what, "] ", what, " name can't be empty string \"\"");
  RICCI_CHECK(name.find('.') == std::string::npos, ValueError, "[register_", what, "] ", what,
              " name can't contain \".\", got \"", name, "\"");
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  const bool is_param = std::string(what) == "parameter", is_buffer = std::string(what) == "buffer",
             is_module = std::string(what) == "module";
  RICCI_CHECK(!((!is_param && taken(params_)) || (!is_buffer && taken(buffers_)) || (!is_module && taken(children_))),
              ValueError, "[register_", what, "] attribute '", name, "' already exists in ", type_name(),
              "; pick another name");
}

Tensor Module::register_parameter(const std::string& name, const Tensor& t, bool requires_grad) {
  check_new_name(name, "parameter");
  RICCI_CHECK(t.defined(), ValueError, "[register_parameter] parameter \"", name,
              "\" is undefined; leave it unregistered instead (e.g. Linear without bias)");
  Tensor p = t.is_leaf() ? t : t.detach();
  if (requires_grad) {
    RICCI_CHECK(p.is_floating_point(), DTypeError, "[register_parameter] only floating point tensors can require "
                "gradients, but \"", name, "\" has dtype ", p.dtype(), "; pass requires_grad=false or convert it");
    p.requires_grad_(true);
  }
  for (auto& [n, existing] : params_)
    if (n == name) return existing = p;
  params_.emplace_back(name, p);
  return p;
}

Tensor Module::register_buffer(const std::string& name, const Tensor& t) {
  check_new_name(name, "buffer");
  RICCI_CHECK(t.defined(), ValueError, "[register_buffer] buffer \"", name, "\" is undefined");
  Tensor b = t.detach();
  for (auto& [n, existing] : buffers_)
    if (n == name) return existing = b;
  buffers_.emplace_back(name, b);
  return b;
}

void Module::register_module_impl(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "module");
  RICCI_CHECK(module != nullptr, ValueError, "[register_module] module \"", name, "\" is null");
  RICCI_CHECK(module.get() != this, ValueError, "[register_module] a module can't be its own child (\"", name, "\")");
  for (auto& [n, existing] : children_)
    if (n == name) {
      existing = std::move(module);
      return;
    }
  children_.emplace_back(name, std::move(module));
}

// ---- traversal ---------------------------------------------------------------------------------

void Module::collect(const std::string& prefix, bool params, bool recurse, NamedTensors& out) const {
  for (const auto& [n, t] : params ? params_ : buffers_) out.emplace_back(prefix + n, t);
  if (!recurse) return;
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", params, true, out);
}

namespace {
NamedTensors dedup(NamedTensors all) {
  std::unordered_set<const TensorImpl*> seen;
  NamedTensors out;
  out.reserve(all.size());
  for (auto& e : all)
    if (seen.insert(e.second.unsafe_impl()).second) out.push_back(std::move(e));
  return out;
}
std::vector<Tensor> values_of(const NamedTensors& named) {
  std::vector<Tensor> v;
  v.reserve(named.size());
  for (const auto& [_, t] : named) v.push_back(t);
  return v;
}
}  // namespace

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, recurse, out);
  return dedup(std::move(out));
}
std::vector<Tensor> Module::parameters(bool recurse) const { return values_of(named_parameters(recurse)); }
NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, recurse, out);
  return dedup(std::move(out));
}
std::vector<Tensor> Module::buffers(bool recurse) const { return values_of(named_buffers(recurse)); }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> v;
  for (const auto& [_, c] : children_) v.push_back(c);
  return v;
}

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (const auto& [n, c] : children_) c->collect_modules(prefix.empty() ? n : prefix + "." + n, out);
}
std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules("", out);
  return out;
}
std::vector<Module*> Module::modules() {
  std::vector<Module*> v;
  for (const auto& [_, m] : named_modules()) v.push_back(m);
  return v;
}

namespace {
template <class List>
auto find_named(const List& list, const std::string& name) -> decltype(&list.front().second) {
  for (const auto& e : list)
    if (e.first == name) return &e.second;
  return nullptr;
}
}  // namespace

std::shared_ptr<Module> Module::child(const std::string& name) const {
  const size_t dot = name.find('.');
  const auto* c = find_named(children_, name.substr(0, dot));
  RICCI_CHECK(c != nullptr, IndexError, "[child] ", type_name(), " has no submodule \"", name.substr(0, dot), "\"");
  return dot == std::string::npos ? *c : (*c)->child(name.substr(dot + 1));
}

Tensor Module::parameter(const std::string& name) const {
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) return child(name.substr(0, dot))->parameter(name.substr(dot + 1));
  const Tensor* t = find_named(params_, name);
  RICCI_CHECK(t != nullptr, IndexError, "[parameter] ", type_name(), " has no parameter \"", name, "\"");
  return *t;
}

Tensor Module::buffer(const std::string& name) const {
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) return child(name.substr(0, dot))->buffer(name.substr(dot + 1));
  const Tensor* t = find_named(buffers_, name);
  RICCI_CHECK(t != nullptr, IndexError, "[buffer] ", type_name(), " has no buffer \"", name, "\"");
  return *t;
}

// ---- state dicts ---------------------------------------------------------------------------------

void Module::collect_state(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t.detach());
  for (const auto& [n, t] : buffers_) out.emplace_back(prefix + n, t.detach());
  for (const auto& [n, c] : children_) c->collect_state(prefix + n + ".", out);
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect_state("", out);
  return out;
}

LoadStateDictResult Module::check_state_dict(const NamedTensors& state, bool strict) const {
  // Targets are the live tensors (state_dict() would hand back detached aliases of the same data).
  NamedTensors targets;
  collect("", true, true, targets);
  collect("", false, true, targets);
  std::unordered_map<std::string, const Tensor*> given;
  std::vector<std::string> twice;
  for (const auto& [n, t] : state)
    if (!given.emplace(n, &t).second) twice.push_back(n);

  LoadStateDictResult result;
  std::vector<std::string> mismatches;
  std::unordered_set<std::string> own;
  for (const auto& [n, t] : targets) {
    own.insert(n);
    auto it = given.find(n);
    if (it == given.end()) {
      result.missing_keys.push_back(n);
      continue;
    }
    const Tensor& src = *it->second;
    if (!src.defined()) {
      mismatches.push_back("the entry \"" + n + "\" is an undefined tensor.");
    } else if (src.shape() != t.shape()) {
      mismatches.push_back(std::string(detail::kSizeMismatch) + n + ": copying a param with shape " +
                           shape_str(src.shape()) + " from checkpoint, the shape in current model is " +
                           shape_str(t.shape()) + ".");
    } else if (strict && src.dtype() != t.dtype()) {
      mismatches.push_back(std::string(detail::kDTypeMismatch) + n + ": copying a param with dtype " +
                           std::string(dtype_name(src.dtype())) + " from checkpoint, the dtype in current model is " +
                           std::string(dtype_name(t.dtype())) + ".");
    }
  }
  for (const auto& [n, _] : state)
    if (!own.count(n)) result.unexpected_keys.push_back(n);

  if (strict) detail::add_key_lines(result.missing_keys, result.unexpected_keys, result.errors);
  for (const auto& n : twice) result.errors.push_back("the key \"" + n + "\" appears more than once.");
  for (auto& m : mismatches) result.errors.push_back(std::move(m));
  return result;
}

LoadStateDictResult Module::load_state_dict(const NamedTensors& state, bool strict) {
  LoadStateDictResult result = check_state_dict(state, strict);
  if (!result.errors.empty())
    detail::throw_state_dict_errors("[load_state_dict] Error(s) in loading state_dict for " + type_name() + ":",
                                    result.errors);
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [n, t] : state) given.emplace(n, &t);
  NamedTensors targets;
  collect("", true, true, targets);
  collect("", false, true, targets);
  NoGradGuard no_grad;
  for (auto& [n, dst] : targets) {
    auto it = given.find(n);
    if (it != given.end() && !dst.is_same(*it->second)) dst.copy_(*it->second);
  }
  return result;
}

LoadStateDictResult Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  return load_state_dict(NamedTensors(state.begin(), state.end()), strict);
}

void Module::save(const std::string& path) const { save_safetensors(path, state_dict()); }

LoadStateDictResult Module::load(const std::string& path, bool strict) {
  return load_state_dict(load_safetensors_all(path), strict);
}

// ---- modes and conversion ----------------------------------------------------------------------

Module& Module::train(bool mode) {
  training_ = mode;
  for (auto& [_, c] : children_) c->train(mode);
  return *this;
}

template <class F>
void Module::for_each_tensor(F&& f) {
  std::unordered_set<const TensorImpl*> seen;  // a shared parameter is converted once
  for (Module* m : modules()) {
    for (auto& [_, t] : m->params_)
      if (seen.insert(t.unsafe_impl()).second) f(t, true);
    for (auto& [_, t] : m->buffers_)
      if (seen.insert(t.unsafe_impl()).second) f(t, false);
  }
}

Module& Module::to(DType dtype) {
  RICCI_CHECK(is_floating_point(dtype), DTypeError, "[Module.to] nn.Module.to only accepts floating point dtypes, "
              "but got desired dtype=", dtype, "; convert individual buffers with Tensor::to instead");
  NoGradGuard no_grad;
  for_each_tensor([&](Tensor& t, bool) {
    if (!t.is_floating_point() || t.dtype() == dtype) return;
    swap_data(t, t.detach().to(dtype));
    const Tensor g = t.grad();
    if (g.defined()) t.set_grad(g.to(dtype));
  });
  return *this;
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  for_each_tensor([&](Tensor& t, bool) {
    if (t.device() == device) return;
    swap_data(t, t.detach().to(device));
    const Tensor g = t.grad();
    if (g.defined()) t.set_grad(g.to(device));
  });
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (Tensor& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      g = g.detach();
      g.zero_();
    }
  }
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [_, c] : children_) c->apply(fn);
  fn(*this);
  return *this;
}

int64_t Module::num_parameters(bool only_trainable) const {
  int64_t n = 0;
  for (const Tensor& p : parameters())
    if (!only_trainable || p.requires_grad()) n += p.numel();
  return n;
}

size_t Module::parameter_bytes() const {
  size_t n = 0;
  for (const Tensor& p : parameters()) n += p.nbytes();
  return n;
}

}  // namespace ricci::nn
