#pragma once
// nn::Module: a tree of named parameters, buffers and child modules, PyTorch's torch.nn.Module
// without the Python attribute magic. Modules live in std::shared_ptr; a subclass registers what
// it owns in its constructor and keeps the handles it needs for forward():
//
//   struct TwoLayer : nn::Module {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     TwoLayer(int64_t i, int64_t h, int64_t o)
//         : fc1(register_module("fc1", std::make_shared<nn::Linear>(i, h))),
//           fc2(register_module("fc2", std::make_shared<nn::Linear>(h, o))) {}
//     Tensor forward(const Tensor& x) { return fc2->forward(fc1->forward(x).relu()); }
//   };
//
// A parameter is registered once and stays the same Tensor (the same TensorImpl) for the module's
// life: load_state_dict copies values into it, to() swaps its storage in place, so optimizers
// holding the handles keep working.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ricci/tensor.h"
#include "ricci/tree.h"

namespace ricci::nn {

// Ordered (name, tensor) pairs: state dicts and named_parameters() keep registration order.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What a non-strict load_state_dict found (PyTorch's _IncompatibleKeys); check_state_dict also
// fills `errors`: one line per problem load_state_dict would throw for.
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  std::vector<std::string> errors;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Copying would alias the parameters of two modules silently: share the pointer instead.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- registration -------------------------------------------------------------------------------
  // Registers `t` as parameter `name` (a leaf: detached from any graph, requires_grad set) and
  // returns the registered handle. Registering an existing parameter name replaces it. Names must
  // be non-empty, without '.', and not used by a buffer or child (ValueError).
  Tensor register_parameter(const std::string& name, const Tensor& t, bool requires_grad = true);
  // A buffer: state that is saved and moved with the module but not trained (running stats, steps).
  Tensor register_buffer(const std::string& name, const Tensor& t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module_impl(name, module);
    return module;
  }

  // ---- traversal (registration order, children depth first, dotted names) -------------------------
  // Shared parameters (the same TensorImpl registered twice) are listed once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  // This module first, then every descendant (pre-order). Non-owning: valid while *this lives.
  std::vector<Module*> modules();
  std::vector<std::pair<std::string, Module*>> named_modules();
  // The registered parameter / buffer / child called `name` (dotted names reach into children);
  // IndexError when absent.
  Tensor parameter(const std::string& name) const;
  Tensor buffer(const std::string& name) const;
  std::shared_ptr<Module> child(const std::string& name) const;

  // ---- parameters as trees (MLX) --------------------------------------------------------------------
  // {own parameters by name..., child name: child's tree...}, in registration order.
  Tree parameter_tree() const;
  // The same, only the parameters that require grad (what a gradient tree has).
  Tree trainable_parameters() const;
  // Sets each parameter named in `params` (dotted paths, as parameter_tree() lays them out) to
  // the given values, in place and without recording a graph: handles to the parameters (layers'
  // members, optimizers) stay valid. A pending (lazy) value is evaluated. IndexError for an
  // unknown name, ShapeError for a shape that differs.
  Module& update(const Tree& params);

  // ---- state ------------------------------------------------------------------------------------
  // Per module: its parameters, then its buffers, then each child's entries with the child's
  // prefix — PyTorch's order. The tensors are detached handles sharing the module's storage.
  NamedTensors state_dict() const;
  // Copies each entry into the matching parameter/buffer in place (no graph recorded), onto its
  // device. Always errors: a shape mismatch, an undefined tensor, a key given twice. With strict
  // (the default) also errors: missing keys, unexpected keys and a dtype other than the target's;
  // with strict=false those keys are skipped and returned, and dtypes are converted. One error
  // lists every problem (ShapeError when a shape is among them, else DTypeError when a dtype is,
  // else ValueError) and nothing is copied. The messages follow PyTorch:
  //   Error(s) in loading state_dict for TwoLayer:
  //   	Missing key(s) in state_dict: "fc2.bias".
  LoadStateDictResult load_state_dict(const NamedTensors& state, bool strict = true);
  LoadStateDictResult load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  // What load_state_dict(state, strict) would report, without loading anything: the missing and
  // unexpected keys and, in `errors`, one line per problem it would throw for (none: it would load).
  LoadStateDictResult check_state_dict(const NamedTensors& state, bool strict = true) const;
  // The state dict as a safetensors file, and back (load goes through load_state_dict).
  void save(const std::string& path) const;
  LoadStateDictResult load(const std::string& path, bool strict = true);

  // ---- modes and conversion -----------------------------------------------------------------------
  Module& train(bool mode = true);  // recursive, like PyTorch
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }
  // Converts floating parameters and buffers (and existing .grad) in place: each keeps its
  // TensorImpl, only its storage and dtype change, and parameters stay leaves requiring grad.
  Module& to(DType dtype);
  Module& to(Device device);
  // Clears every parameter's .grad (set_to_none) or zeroes it.
  void zero_grad(bool set_to_none = true);
  // Calls fn on every module, children first then this one (PyTorch's apply order).
  Module& apply(const std::function<void(Module&)>& fn);
  int64_t num_parameters(bool only_trainable = false) const;
  size_t parameter_bytes() const;

  // The class name used in messages ("Linear", "TwoLayer"), from typeid, without namespaces.
  std::string type_name() const;

 protected:
  bool training_ = true;

 private:
  void register_module_impl(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool recurse, NamedTensors& out) const;
  void collect_state(const std::string& prefix, NamedTensors& out) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);
  template <class F>
  void for_each_tensor(F&& f);  // own params and buffers, all descendants; defined in module.cpp

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace ricci::nn
