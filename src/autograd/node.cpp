// Nodes, saved tensors and recording: how an op joins the graph.
#include <atomic>
#include <mutex>

#include "autograd/autograd_meta.h"
#include "autograd/node_allocator.h"
#include "ricci/ops/elementwise.h"
#include "core/tensor_internal.h"
#include "ricci/factories.h"
#include "ricci/lazy.h"
#include "lazy/lazy_detail.h"

namespace ricci::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};

// Deposits the incoming gradient into a leaf's .grad (summing with what is there).
//
// Note [Leaves are held weakly]: the accumulator refers to its leaf without owning it, and a saved
// leaf is kept as a detached alias plus its accumulator (SavedTensor). A create_graph backward
// leaves a .grad whose graph ends in this node; were the leaf owned here (as in PyTorch), the leaf
// would own itself through .grad and never be freed. When the leaf dies, ~AutogradMeta clears the
// pointer under the node's lock, and a later deposit finds nothing to do.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const Tensor& leaf) : Node("AccumulateGrad", nullptr), leaf_(leaf.unsafe_impl()) {
    outputs_.push_back({leaf.impl().sizes, leaf.dtype(), leaf.device()});
  }
  Tensors apply(Tensors grads) override {
    Tensor leaf = variable();
    if (!leaf.defined()) return {};
    Tensor g = std::move(grads[0]);
    AutogradMeta& m = get_or_create_meta(leaf);
    // Threads that run backward on their own graphs may share this leaf (Note [Threads and
    // autograd] in docs/autograd.md): one deposit at a time, as PyTorch locks AccumulateGrad.
    std::lock_guard<std::mutex> lock(m.mutex);
    if (m.leaf_hooks) {
      for (auto& h : m.leaf_hooks->hooks) {
        Tensor r = h.fn(g);
        if (r.defined()) g = r;
      }
    }
    if (is_grad_enabled()) {  // create_graph: keep the sum differentiable, never mutate
      m.grad = m.grad.defined() ? m.grad + g : g;
    } else if (!m.grad.defined()) {
      // Own the gradient: an alias of another tensor (or an expanded, stride-0 view) would make a
      // later in-place update (optimizer, accumulation) write through to someone else's data.
      const bool exclusive = g.is_contiguous() && g.unsafe_impl()->use_count() == 1 && g.storage().use_count() == 1 &&
                             g.storage_offset() == 0 && g.storage().nbytes() == g.nbytes();
      m.grad = exclusive ? g.detach() : g.detach().clone();
    } else {
      m.grad = m.grad + g.detach();
    }
    return {};
  }
  std::string name() const override { return "AccumulateGrad"; }
  // Nothing is saved here, and threads running backward on their own graphs share this node:
  // marking it "released" would be a write that races with theirs.
  void release_saved() override {}
  // The leaf, or undefined once it is gone.
  Tensor variable() const {
    std::lock_guard<std::mutex> lock(leaf_mutex_);
    return Tensor(ricci::detail::IntrusivePtr<TensorImpl>::retain_if_alive(leaf_));
  }
  void forget_leaf() {
    std::lock_guard<std::mutex> lock(leaf_mutex_);
    leaf_ = nullptr;
  }

 private:
  mutable std::mutex leaf_mutex_;
  TensorImpl* leaf_;  // not owned: Note [Leaves are held weakly]
};

}  // namespace

AutogradMeta& get_or_create_meta(const Tensor& t) {
  auto& slot = t.unsafe_impl()->autograd;
  if (!slot) slot = std::make_unique<AutogradMeta>();
  return *slot;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& m = get_or_create_meta(leaf);
  std::lock_guard<std::mutex> lock(m.mutex);  // threads recording on one shared leaf make one accumulator
  if (auto acc = m.grad_accumulator.lock()) return acc;
  auto acc = make_node<AccumulateGrad>(leaf);
  m.grad_accumulator = acc;
  m.owns_accumulator = true;
  return acc;
}

Tensor accumulate_grad_variable(const Node& node) {
  const auto* acc = dynamic_cast<const AccumulateGrad*>(&node);
  return acc ? acc->variable() : Tensor();
}

AutogradMeta::~AutogradMeta() {
  if (!owns_accumulator) return;
  if (auto acc = grad_accumulator.lock()) static_cast<AccumulateGrad*>(acc.get())->forget_leaf();
}

Edge gradient_edge(const Tensor& t) {
  refresh_view_history(t);
  AutogradMeta* m = meta_of(t);
  if (!m) return {};
  if (m->grad_fn) return {m->grad_fn, m->output_nr};
  if (m->requires_grad) return {grad_accumulator(t), 0};
  return {};
}

// ---- SavedTensor ---------------------------------------------------------------------------------

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : is_output_(is_output), defined_(t.defined()) {
  if (!t.defined()) return;
  RICCI_CHECK(!t.is_inference(), AutogradError,
              "Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal "
              "tensor and use it in autograd.");
  version_ = t.version();
  requires_grad_ = t.requires_grad();
  if (is_output) {
    // The node is the output's grad_fn: holding the output itself would be a cycle.
    output_nr_ = static_cast<uint32_t>(t.output_nr());
    data_ = t.detach();
  } else if (requires_grad_ && t.is_leaf()) {
    // Note [Leaves are held weakly]: keep the values and the accumulator, not the leaf itself.
    data_ = t.detach();
    leaf_accumulator_ = grad_accumulator(t);
  } else {
    data_ = t;
  }
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner, const char* node_name, size_t index) const {
  if (!defined_) return Tensor();
  RICCI_CHECK(!released_, AutogradError,
              "Trying to backward through the graph a second time (or directly access saved tensors after they have "
              "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
              "autograd.grad(). Specify retain_graph=true if you need to backward through the graph a second time or "
              "if you need to access saved tensors after calling backward.");
  RICCI_CHECK(data_.version() == version_, AutogradError,
              "one of the variables needed for gradient computation has been modified by an inplace operation: [",
              dtype_name(data_.dtype()), " ", data_.shape(), "], which is output ", index, " of ", node_name,
              ", is at version ", data_.version(), "; expected version ", version_,
              " instead. Hint: the tensor was changed in place (e.g. add_, mul_, copy_, an optimizer step) after an "
              "op saved it for backward; use an out-of-place op (x = x + y) or .clone() it before modifying.");
  if (is_output_ && requires_grad_ && owner) {
    Tensor alias = data_.detach();
    AutogradMeta& m = get_or_create_meta(alias);
    m.grad_fn = owner;
    m.output_nr = output_nr_;
    m.requires_grad = true;
    return alias;
  }
  if (leaf_accumulator_ && is_grad_enabled()) {
    // A stand-in for the leaf: same values, and gradients flow into the leaf's accumulator. Only
    // a create_graph backward records through it; a first-order one needs the values alone.
    Tensor alias = data_.detach();
    AutogradMeta& m = get_or_create_meta(alias);
    m.grad_accumulator = leaf_accumulator_;
    m.requires_grad = true;
    return alias;
  }
  return data_;
}

// ---- Node ------------------------------------------------------------------------------------------

Tensors Node::apply(Tensors grad_outputs) {
  Tensors saved;
  return run_vjp(grad_outputs, saved);
}

Tensors Node::run_vjp(Tensors& grad_outputs, Tensors& saved) {
  saved.clear();
  saved.reserve(saved_.size());
  // Only a saved output that requires grad needs the node itself (its alias's grad_fn): taking a
  // reference to this node is an atomic read-modify-write, spared for every other node.
  std::shared_ptr<Node> self;
  for (size_t i = 0; i < saved_.size(); ++i) {
    if (!self && saved_[i].needs_owner()) self = shared_from_this();
    saved.push_back(saved_[i].unpack(self, name_, i));
  }
  RICCI_CHECK(!saved_released_ || saved_.empty(), AutogradError,
              "Trying to backward through the graph a second time (or directly access saved tensors after they have "
              "already been freed). Specify retain_graph=true if you need to backward through the graph a second time.");
  for (size_t i = 0; i < grad_outputs.size(); ++i) {
    if (!grad_outputs[i].defined()) {
      const OutputMeta& m = outputs_[i];
      grad_outputs[i] = zeros(m.sizes, TensorOptions(m.dtype, m.device));
    }
  }
  if (replayable_ && lazy::detail::tracing_gradients() && lazy::detail::recording()) [[unlikely]]
    return record_rule(grad_outputs, saved);
  return vjp_(VjpArgs{grad_outputs, saved, *this});
}

// A replayable rule inside a trace (Note [Gradients inside a trace]): one primitive, named after
// the node, whose inputs are the incoming gradients and the saved values. It holds a copy of the
// node that keeps the rule, the output metadata and which inputs need a gradient, with no edge
// into the traced graph (an edge that needs a gradient points at a shared stub).
struct ReplayedRule {
  std::shared_ptr<const Node> node;
  size_t n_grads = 0;
  bool operator==(const ReplayedRule&) const = default;

  static Tensors eval(const Tensors& in, const ReplayedRule& r) {
    const Tensors grads(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(r.n_grads));
    const Tensors saved(in.begin() + static_cast<std::ptrdiff_t>(r.n_grads), in.end());
    return r.node->vjp_(VjpArgs{grads, saved, *r.node});
  }
};

Tensors Node::record_rule(const Tensors& grad_outputs, const Tensors& saved) const {
  static const std::shared_ptr<Node> needs_grad_stub = std::make_shared<Node>("ReplayedRuleInput", nullptr);
  auto copy = std::make_shared<Node>(name_, vjp_);
  for (const Edge& e : next_edges_) copy->next_edges_.push_back(e.is_valid() ? Edge{needs_grad_stub, 0} : Edge{});
  for (const OutputMeta& m : outputs_) copy->outputs_.push_back(m);
  copy->plain_ = true;
  Tensors inputs(grad_outputs);
  inputs.insert(inputs.end(), saved.begin(), saved.end());
  return lazy::record_op<ReplayedRule>(name_, &ReplayedRule::eval, ReplayedRule{std::move(copy), grad_outputs.size()},
                                       std::move(inputs));
}

void Node::release_saved() {
  for (auto& s : saved_) s.release();
  saved_released_ = true;
}

size_t Node::add_pre_hook(uint32_t output_nr, Tensor::Hook hook) {
  static std::atomic<size_t> next_id{1};
  const size_t id = next_id++;
  pre_hooks_.push_back({id, output_nr, std::move(hook)});
  return id;
}

void Node::remove_pre_hook(size_t id) {
  std::erase_if(pre_hooks_, [id](const PreHook& h) { return h.id == id; });
}

Tensor Node::run_pre_hooks(uint32_t output_nr, Tensor grad) {
  for (auto& h : pre_hooks_) {
    if (h.output_nr != output_nr) continue;
    Tensor r = h.fn(grad);
    if (r.defined()) grad = r;
  }
  return grad;
}

// ---- recording ---------------------------------------------------------------------------------------

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t->defined()) {
      refresh_view_history(*t);
      if (AutogradMeta* m = meta_of(*t); m && m->requires_grad) return true;
    }
  }
  return false;
}

// What both record() overloads do: edges to the inputs, saved values, and the outputs' history.
template <class In, class Out>
std::shared_ptr<Node> build_node(std::shared_ptr<Node> node, const In& inputs, const Out& outputs,
                                 const In& saved_inputs, const In& saved_outputs) {
  node->sequence_nr_ = next_sequence_nr.fetch_add(1, std::memory_order_relaxed);
  node->plain_ = true;  // a base Node (both record() overloads make one)
  node->next_edges_.reserve(inputs.size());
  node->saved_.reserve(saved_inputs.size() + saved_outputs.size());
  node->outputs_.reserve(outputs.size());
  for (const Tensor* t : inputs) node->next_edges_.push_back(t->defined() ? gradient_edge(*t) : Edge{});
  for (const Tensor* t : saved_inputs) node->saved_.emplace_back(*t, false);
  uint32_t nr = 0;
  for (Tensor* out : outputs) {
    node->outputs_.push_back({out->impl().sizes, out->dtype(), out->device()});
    if (is_floating_point(out->dtype())) {
      AutogradMeta& m = get_or_create_meta(*out);
      m.grad_fn = node;
      m.output_nr = nr;
      m.requires_grad = true;
    }
    ++nr;
  }
  for (const Tensor* t : saved_outputs) node->saved_.emplace_back(*t, true);
  return node;
}

std::shared_ptr<Node> record(const char* name, std::initializer_list<const Tensor*> inputs,
                             std::initializer_list<Tensor*> outputs, std::initializer_list<const Tensor*> saved_inputs,
                             std::initializer_list<const Tensor*> saved_outputs, VjpFn vjp) {
  return build_node(make_node<Node>(name, std::move(vjp)), inputs, outputs, saved_inputs, saved_outputs);
}

std::shared_ptr<Node> record(const char* name, const std::vector<const Tensor*>& inputs,
                             const std::vector<Tensor*>& outputs, const std::vector<const Tensor*>& saved_inputs,
                             const std::vector<const Tensor*>& saved_outputs, VjpFn vjp) {
  return build_node(make_node<Node>(name, std::move(vjp)), inputs, outputs, saved_inputs, saved_outputs);
}

void bump_version(const Tensor& self) {
  if (is_inference_mode_enabled() && self.is_inference()) return;
  self.impl().storage->bump_version();
}

}  // namespace ricci::autograd
