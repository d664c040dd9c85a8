// Nodes, saved tensors and recording: how an op joins the graph.
#include <atomic>

#include "autograd/autograd_meta.h"
#include "ricci/ops/elementwise.h"
#include "core/tensor_internal.h"
#include "ricci/factories.h"

namespace ricci::autograd {

namespace {
std::atomic<uint64_t> next_sequence_nr{0};

// Note [Freeing deep graphs]: a node owns its next nodes (edges) and, through saved tensors, the
// grad_fn of its inputs, so dropping the root of a chain of n ops would run n nested destructors
// and overflow the stack near a million ops (an RNN unrolled over a long sequence, a scalar loop).
// Nodes therefore die through NodeAllocator::destroy, which parks the next nodes in a thread-local
// list before running the destructor and lets only the outermost call drain that list: the
// recursion becomes a loop. The same allocator keeps freed node blocks on a free list, because a
// backward pass frees thousands of nodes in a row, past what malloc's per-thread caches absorb.
// Thread-locals die before the statics of the main thread: a node freed after that (a global
// holding a graph) must not touch them. These flags are trivially destructible, so they stay
// readable during thread exit.
thread_local bool graveyard_gone = false;
struct NodeGraveyard {
  std::vector<std::shared_ptr<Node>> pending;
  bool draining = false;
  ~NodeGraveyard() { graveyard_gone = true; }
};
thread_local NodeGraveyard graveyard;

// One free list per block size (the shared_ptr control block with the Node inside).
template <size_t Bytes>
struct BlockPool {
  static constexpr size_t kMaxCached = 1 << 16;
  std::vector<void*> free;
  ~BlockPool() {
    for (void* p : free) ::operator delete(p);
    gone() = true;
  }
  static bool& gone() {
    thread_local bool g = false;
    return g;
  }
};

template <class T>
struct NodeAllocator {
  using value_type = T;
  NodeAllocator() = default;
  template <class U>
  NodeAllocator(const NodeAllocator<U>&) {}

  static BlockPool<sizeof(T)>& pool() {
    thread_local BlockPool<sizeof(T)> p;
    return p;
  }
  T* allocate(size_t n) {
    if (BlockPool<sizeof(T)>::gone()) return static_cast<T*>(::operator new(n * sizeof(T)));
    auto& p = pool();
    if (n == 1 && !p.free.empty()) {
      void* b = p.free.back();
      p.free.pop_back();
      return static_cast<T*>(b);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* ptr, size_t n) {
    if (BlockPool<sizeof(T)>::gone()) {
      ::operator delete(ptr);
      return;
    }
    auto& p = pool();
    if (n == 1 && p.free.size() < BlockPool<sizeof(T)>::kMaxCached) {
      p.free.push_back(ptr);
      return;
    }
    ::operator delete(ptr);
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  void destroy(U* p) {
    if constexpr (std::is_base_of_v<Node, U>) {
      if (graveyard_gone) {
        p->~U();
        return;
      }
      NodeGraveyard& g = graveyard;
      for (const Edge& e : p->next_functions()) {
        if (e.node) g.pending.push_back(e.node);
      }
      p->~U();
      if (g.draining) return;
      g.draining = true;
      while (!g.pending.empty()) {
        std::shared_ptr<Node> n = std::move(g.pending.back());
        g.pending.pop_back();
        n.reset();  // may push more nodes, drained by this loop
      }
      g.draining = false;
    } else {
      p->~U();
    }
  }
  template <class U>
  bool operator==(const NodeAllocator<U>&) const { return true; }
};

// Deposits the incoming gradient into a leaf's .grad (summing with what is there).
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf) : Node("AccumulateGrad", nullptr), leaf_(std::move(leaf)) {
    outputs_.push_back({leaf_.impl().sizes, leaf_.dtype(), leaf_.device()});
  }
  Tensors apply(Tensors grads) override {
    Tensor g = std::move(grads[0]);
    AutogradMeta& m = get_or_create_meta(leaf_);
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
  const Tensor& variable() const { return leaf_; }

 private:
  Tensor leaf_;
};

}  // namespace

AutogradMeta& get_or_create_meta(const Tensor& t) {
  auto& slot = t.unsafe_impl()->autograd;
  if (!slot) slot = std::make_unique<AutogradMeta>();
  return *slot;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& m = get_or_create_meta(leaf);
  if (auto acc = m.grad_accumulator.lock()) return acc;
  auto acc = std::allocate_shared<AccumulateGrad>(NodeAllocator<AccumulateGrad>(), leaf);
  m.grad_accumulator = acc;
  return acc;
}

const Tensor* accumulate_grad_variable(const Node& node) {
  const auto* acc = dynamic_cast<const AccumulateGrad*>(&node);
  return acc ? &acc->variable() : nullptr;
}

Edge gradient_edge(const Tensor& t) {
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
  return data_;
}

// ---- Node ------------------------------------------------------------------------------------------

Tensors Node::apply(Tensors grad_outputs) {
  Tensors saved;
  saved.reserve(saved_.size());
  auto self = shared_from_this();
  for (size_t i = 0; i < saved_.size(); ++i) saved.push_back(saved_[i].unpack(self, name_, i));
  RICCI_CHECK(!saved_released_ || saved_.empty(), AutogradError,
              "Trying to backward through the graph a second time (or directly access saved tensors after they have "
              "already been freed). Specify retain_graph=true if you need to backward through the graph a second time.");
  for (size_t i = 0; i < grad_outputs.size(); ++i) {
    if (!grad_outputs[i].defined()) {
      const OutputMeta& m = outputs_[i];
      grad_outputs[i] = zeros(m.sizes, TensorOptions(m.dtype, m.device));
    }
  }
  return vjp_(VjpArgs{grad_outputs, saved, *this});
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
      if (AutogradMeta* m = meta_of(*t); m && m->requires_grad) return true;
    }
  }
  return false;
}

std::shared_ptr<Node> record(const char* name, std::initializer_list<const Tensor*> inputs,
                             std::initializer_list<Tensor*> outputs, std::initializer_list<const Tensor*> saved_inputs,
                             std::initializer_list<const Tensor*> saved_outputs, VjpFn vjp) {
  auto node = std::allocate_shared<Node>(NodeAllocator<Node>(), name, std::move(vjp));
  node->sequence_nr_ = next_sequence_nr.fetch_add(1, std::memory_order_relaxed);
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

void check_inplace(const Tensor& self, const char* op) {
  if (!is_grad_enabled()) return;
  AutogradMeta* m = meta_of(self);
  if (!m) return;
  RICCI_CHECK(!(m->requires_grad && !m->grad_fn), AutogradError, "[", op,
              "] a leaf Variable that requires grad is being used in an in-place operation. Wrap the update in "
              "NoGradGuard (as optimizers do) or work on a clone.");
  RICCI_CHECK(!(m->view_base.defined() && m->requires_grad), AutogradError, "[", op,
              "] in-place operation on a view of a tensor that is part of the autograd graph is not supported: ricci "
              "does not rebase a view's history. Apply the op out of place (y = op(view)) or .clone() the view first.");
}

void bump_version(const Tensor& self) {
  if (is_inference_mode_enabled() && self.is_inference()) return;
  self.impl().storage->bump_version();
}

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  AutogradMeta& m = get_or_create_meta(self);
  if (node->num_outputs() == 0) node->add_output(self);
  m.grad_fn = node;
  m.output_nr = 0;
  m.requires_grad = true;
}

void mark_view(const Tensor& view, const Tensor& base) {
  AutogradMeta& m = get_or_create_meta(view);
  AutogradMeta* bm = meta_of(base);
  m.view_base = (bm && bm->view_base.defined()) ? bm->view_base : base;
}

}  // namespace ricci::autograd
