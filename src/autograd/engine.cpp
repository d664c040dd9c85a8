// The backward walk: find every node reachable from the roots, count how many edges lead into
// each (its dependencies), then run nodes whose dependencies are all satisfied, so every node runs
// once with the sum of the gradients that reached it.
#include <memory>
#include <queue>

#include "autograd/autograd_meta.h"
#include "lazy/lazy_detail.h"
#include "ricci/ops/elementwise.h"
#include "ricci/factories.h"

namespace ricci::autograd {

namespace {

struct NodeState {
  int dependencies = 0;
  Tensors grads;  // one slot per node output
};

// Per-node state of one backward pass, keyed by node address. Open addressing in one array:
// a pass touches every node once or twice, and a node-based hash map would cost an allocation
// per node (Note [Freeing deep graphs] in node.cpp has the other half of that story). A map is
// reused by the thread's next pass (take_state_map below): growing a fresh one to a 100k-node
// graph's size reallocated and rehashed it seventeen times and sent its megabytes through malloc
// on every backward — a quarter of a scalar graph's backward time.
class StateMap {
 public:
  StateMap() : slots_(64) {}
  // The state of n, created when absent; `inserted` says which.
  // References stay valid until the next insertion (lookups of present keys never move slots).
  NodeState& get(Node* n, bool* inserted = nullptr) {
    Slot* s = &find_slot(n);
    if (inserted) *inserted = s->key == nullptr;
    if (s->key == nullptr) {
      if ((size_ + 1) * 2 > slots_.size()) {
        grow();
        s = &find_slot(n);
      }
      s->key = n;
      used_.push_back(static_cast<size_t>(s - slots_.data()));
      ++size_;
    }
    return s->value;
  }
  // Empties the map for another pass, keeping its memory: only the slots this pass used are reset.
  void clear() {
    for (size_t i : used_) slots_[i] = Slot{};
    used_.clear();
    size_ = 0;
  }

 private:
  struct Slot {
    Node* key = nullptr;
    NodeState value;
  };
  Slot& find_slot(Node* n) {
    const size_t mask = slots_.size() - 1;
    size_t i = (reinterpret_cast<uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull >> 20 & mask;
    while (slots_[i].key != nullptr && slots_[i].key != n) i = (i + 1) & mask;
    return slots_[i];
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    used_.clear();
    for (Slot& s : old) {
      if (s.key) {
        Slot& d = find_slot(s.key);
        d.key = s.key;
        d.value = std::move(s.value);
        used_.push_back(static_cast<size_t>(&d - slots_.data()));
      }
    }
  }
  std::vector<Slot> slots_;
  std::vector<size_t> used_;  // indices of the occupied slots
  size_t size_ = 0;
};

// One spare map per thread, taken by a pass and given back emptied (a nested pass — a hook that
// runs backward — makes its own). Trivially destructible initial-exec thread-locals, as the
// node graveyard's (node_allocator.h): a pass after the thread's reaper ran simply allocates.
struct SpareStateMap {
  StateMap* map;
  bool gone;
};
thread_local constinit SpareStateMap spare_state_map __attribute__((tls_model("initial-exec"))) = {nullptr, false};
struct SpareStateMapReaper {
  ~SpareStateMapReaper() {
    spare_state_map.gone = true;
    delete spare_state_map.map;
    spare_state_map.map = nullptr;
  }
};

std::unique_ptr<StateMap> take_state_map() {
  if (StateMap* m = spare_state_map.map) {
    spare_state_map.map = nullptr;
    return std::unique_ptr<StateMap>(m);
  }
  return std::make_unique<StateMap>();
}

void give_back_state_map(std::unique_ptr<StateMap> m) {
  if (spare_state_map.gone || spare_state_map.map) return;  // the unique_ptr frees it
  static thread_local SpareStateMapReaper reaper;
  (void)&reaper;
  m->clear();
  spare_state_map.map = m.release();
}

struct ByNewest {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Captures, for autograd::grad, the gradient arriving at (node, input_nr) of each requested input.
struct Capture {
  Node* node;
  uint32_t input_nr;
  Tensor grad;
  bool reached = false;
};

void add_into(Tensor& slot, const Tensor& g) {
  if (!g.defined()) return;
  slot = slot.defined() ? slot + g : g;
}

bool is_accumulate_grad(const Node* n) { return n->num_outputs() == 1 && n->next_functions().empty() && n->name() == "AccumulateGrad"; }

void run_backward(const std::vector<Edge>& roots, const Tensors& root_grads, bool keep_graph, bool create_graph,
                  std::vector<Capture>* captures) {
  struct Lease {
    std::unique_ptr<StateMap> map = take_state_map();
    ~Lease() { give_back_state_map(std::move(map)); }
  } lease;
  StateMap& state = *lease.map;
  std::vector<Node*> stack;
  for (const Edge& e : roots) {
    bool inserted = false;
    state.get(e.node.get(), &inserted);
    if (inserted) stack.push_back(e.node.get());
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_functions()) {
      if (!e.node) continue;
      bool inserted = false;
      state.get(e.node.get(), &inserted).dependencies++;
      if (inserted) stack.push_back(e.node.get());
    }
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    NodeState& s = state.get(roots[i].node.get());
    s.grads.resize(roots[i].node->num_outputs());
    add_into(s.grads[roots[i].input_nr], root_grads[i]);
  }
  std::priority_queue<Node*, std::vector<Node*>, ByNewest> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    Node* r = roots[i].node.get();
    bool duplicate = false;
    for (size_t j = 0; j < i; ++j) duplicate = duplicate || roots[j].node.get() == r;
    if (!duplicate && state.get(r).dependencies == 0) ready.push(r);
  }

  const bool prev_grad = is_grad_enabled();
  set_grad_enabled(create_graph);
  struct Restore {
    bool prev;
    ~Restore() { set_grad_enabled(prev); }
  } restore{prev_grad};

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    NodeState& s = state.get(n);
    Tensors grads = std::move(s.grads);
    grads.resize(n->num_outputs());
    if (n->has_pre_hooks()) {
      for (uint32_t i = 0; i < grads.size(); ++i)
        if (grads[i].defined()) grads[i] = n->run_pre_hooks(i, grads[i]);
    }
    bool captured_here = false;
    if (captures) {
      for (Capture& c : *captures) {
        if (c.node == n) {
          add_into(c.grad, grads[c.input_nr]);
          c.reached = true;
          captured_here = true;
        }
      }
      // autograd::grad never touches .grad: leaves' accumulators are not run.
      if (is_accumulate_grad(n)) continue;
    }
    (void)captured_here;
    Tensors outs = n->apply(std::move(grads));
    if (!keep_graph) n->release_saved();
    const auto& edges = n->next_functions();
    for (size_t j = 0; j < edges.size(); ++j) {
      const Edge& e = edges[j];
      if (!e.node) continue;
      NodeState& next = state.get(e.node.get());
      if (next.grads.size() < e.node->num_outputs()) next.grads.resize(e.node->num_outputs());
      if (j < outs.size() && outs[j].defined()) {
        const OutputMeta& meta = e.node->output_meta(e.input_nr);
        Tensor g = outs[j];
        RICCI_CHECK(g.shape() == meta.sizes.ref(), AutogradError, "[backward] Function ", n->name(),
                    " returned an invalid gradient at index ", j, " - got ", g.shape(), " but expected shape compatible with ",
                    meta.sizes);
        if (g.dtype() != meta.dtype) g = g.to(meta.dtype);
        add_into(next.grads[e.input_nr], g);
      }
      if (--next.dependencies == 0) ready.push(e.node.get());
    }
  }
}

std::vector<Edge> root_edges(const Tensors& outputs, const Tensors& grad_outputs, Tensors& grads) {
  std::vector<Edge> edges;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    check_defined(out, "backward", "outputs");
    Edge e = gradient_edge(out);
    RICCI_CHECK(e.is_valid(), AutogradError, "[backward] element ", i,
                " of tensors does not require grad and does not have a grad_fn. Make sure a leaf it depends on was "
                "created with requires_grad=true (or call requires_grad_()) and that grad mode was on.");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      RICCI_CHECK(out.numel() == 1, AutogradError, "[backward] grad can be implicitly created only for scalar outputs (output ",
                  i, " has shape ", out.shape(), "); pass a gradient of that shape, e.g. backward(ones_like(out))");
      g = ones_like(out);
    } else {
      RICCI_CHECK(g.shape() == out.shape(), ShapeError, "[backward] Mismatch in shape: grad_output[", i, "] has a shape of ",
                  g.shape(), " and output[", i, "] has a shape of ", out.shape(), ".");
    }
    edges.push_back(e);
    grads.push_back(g);
  }
  return edges;
}

}  // namespace

void backward(const Tensors& outputs, const Tensors& grad_outputs, bool retain_graph, bool create_graph,
              const Tensors& inputs) {
  lazy::detail::Suspend eager;  // gradients are computed, never recorded (Note [Lazy tensors])
  RICCI_CHECK(!is_inference_mode_enabled(), AutogradError,
              "[backward] cannot run backward inside InferenceMode: no graph was recorded there");
  Tensors grads;
  std::vector<Edge> roots = root_edges(outputs, grad_outputs, grads);
  if (!inputs.empty()) {
    // Only accumulate into the given leaves: capture the rest and deposit these.
    std::vector<Capture> caps;
    for (const Tensor& in : inputs) {
      Edge e = gradient_edge(in);
      RICCI_CHECK(e.is_valid(), AutogradError, "[backward] One of the differentiated Tensors does not require grad");
      caps.push_back({e.node.get(), e.input_nr, Tensor(), false});
    }
    run_backward(roots, grads, retain_graph || create_graph, create_graph, &caps);
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!caps[i].grad.defined()) continue;
      AutogradMeta& m = get_or_create_meta(inputs[i]);
      m.grad = m.grad.defined() ? m.grad + caps[i].grad : (create_graph ? caps[i].grad : caps[i].grad.detach().clone());
    }
    return;
  }
  run_backward(roots, grads, retain_graph || create_graph, create_graph, nullptr);
}

Tensors grad(const Tensors& outputs, const Tensors& inputs, const Tensors& grad_outputs, std::optional<bool> retain_graph,
             bool create_graph, bool allow_unused) {
  lazy::detail::Suspend eager;
  Tensors grads;
  std::vector<Edge> roots = root_edges(outputs, grad_outputs, grads);
  std::vector<Capture> caps;
  for (size_t i = 0; i < inputs.size(); ++i) {
    check_defined(inputs[i], "grad", "inputs");
    Edge e = gradient_edge(inputs[i]);
    RICCI_CHECK(e.is_valid(), AutogradError, "[grad] One of the differentiated Tensors (input ", i,
                ") does not require grad");
    caps.push_back({e.node.get(), e.input_nr, Tensor(), false});
  }
  run_backward(roots, grads, retain_graph.value_or(create_graph), create_graph, &caps);
  Tensors result;
  for (size_t i = 0; i < caps.size(); ++i) {
    RICCI_CHECK(caps[i].reached || allow_unused, AutogradError, "[grad] One of the differentiated Tensors (input ", i,
                ") appears to not have been used in the graph. Set allow_unused=true if this is the desired behavior.");
    result.push_back(caps[i].grad);
  }
  return result;
}

}  // namespace ricci::autograd
