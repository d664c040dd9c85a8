// The backward walk: find every node reachable from the roots, count how many edges lead into
// each (its dependencies), then run nodes whose dependencies are all satisfied, so every node runs
// once with the sum of the gradients that reached it.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <queue>

#include "autograd/autograd_meta.h"
#include "lazy/lazy_detail.h"
#include "ricci/ops/elementwise.h"
#include "ricci/factories.h"

namespace ricci::autograd {

// Note [Backward slots]: a pass keeps each node's state (dependency count, gradients so far) in
// a table indexed by the order it found the nodes, and stamps "pass id, index" into the node
// (Node::pass_tag_, 32 bits in the node's padding: an 8-bit id and a 24-bit index) with a
// compare-and-swap when it finds it. Finding a node's state is then a load from the node, which
// the pass reads anyway, and the table is read in about the order it was filled; a hash table
// keyed by address (what this was) missed the cache on nearly every lookup of a 100k-node graph,
// three lookups per node — 40 % of the walk. A node another pass holds (threads backpropagating
// into one shared leaf's AccumulateGrad, a hook that runs backward through part of the outer
// graph) keeps the other pass's stamp, and this pass finds it through its own address-keyed table
// instead; so does every node past the 2^24th of a graph. A pass clears its stamp from a node
// when it runs the node (nothing looks the node up after that) and, when the walk stops early (an
// exception), from every node it has not run. Ids are unique among the passes alive at one time
// (a 255-id pool; a pass that finds none free — 255 passes running at once — stamps nothing and
// uses its table for every node), so a stamp that reads as a pass's own was written by that pass.
struct BackwardPass {
  struct NodeState {
    Node* node;
    int dependencies;
    bool stamped;  // node->pass_tag_ holds this pass's stamp
    Tensor grad0;  // the gradient of output 0 so far; outputs past the first in `more`
    Tensors more;
    Tensor& grad(uint32_t output_nr) {
      if (output_nr == 0) return grad0;
      if (more.size() < output_nr) more.resize(output_nr);
      return more[output_nr - 1];
    }
  };

  // Node address -> table index, for the nodes another pass had stamped. Open addressing in one
  // array; its memory is kept for the thread's next pass, as the table's (`used_` lists the slots
  // to reset).
  class AddressMap {
   public:
    AddressMap() : slots_(16) {}
    // The index of n, set to `fresh` when n is absent; `inserted` says which.
    uint32_t get(Node* n, uint32_t fresh, bool* inserted) {
      Slot* s = &find_slot(n);
      *inserted = s->key == nullptr;
      if (s->key == nullptr) {
        if ((used_.size() + 1) * 2 > slots_.size()) {
          grow();
          s = &find_slot(n);
        }
        s->key = n;
        s->index = fresh;
        used_.push_back(static_cast<size_t>(s - slots_.data()));
      }
      return s->index;
    }
    uint32_t find(Node* n) { return find_slot(n).index; }  // n must be present
    void clear() {
      for (size_t i : used_) slots_[i] = Slot{};
      used_.clear();
    }

   private:
    struct Slot {
      Node* key = nullptr;
      uint32_t index = 0;
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
          d = s;
          used_.push_back(static_cast<size_t>(&d - slots_.data()));
        }
      }
    }
    std::vector<Slot> slots_;
    std::vector<size_t> used_;
  };

  // What one pass works in. A thread keeps one for its next pass: growing a fresh table to a
  // 100k-node graph's size on every backward sent megabytes through malloc (a quarter of a scalar
  // graph's backward once).
  struct Workspace {
    std::vector<NodeState> states;
    AddressMap elsewhere;  // nodes another pass had stamped
    std::vector<Node*> stack;
    Tensors grads, saved;  // a running node's gradients and saved values (Node::run_vjp)
    void clear() {
      states.clear();
      elsewhere.clear();
      stack.clear();
      grads.clear();
      saved.clear();
    }
  };

  Workspace& ws;
  uint32_t stamp;  // this pass's id in the tag's top 8 bits; 0: this pass stamps nothing

  static constexpr uint32_t kIndexBits = 24;
  static constexpr uint32_t kIndexMask = (uint32_t{1} << kIndexBits) - 1;
  // The pool of pass ids: a set bit is an id in use (id 0, bit 0, means "none" and stays set).
  static inline std::atomic<uint64_t> ids_in_use[4] = {1, 0, 0, 0};
  static uint32_t acquire_id() {
    for (uint32_t w = 0; w < 4; ++w) {
      uint64_t cur = ids_in_use[w].load(std::memory_order_relaxed);
      while (~cur != 0) {
        const int bit = __builtin_ctzll(~cur);
        if (ids_in_use[w].compare_exchange_weak(cur, cur | uint64_t{1} << bit, std::memory_order_acquire,
                                                std::memory_order_relaxed))
          return (w * 64 + static_cast<uint32_t>(bit)) << kIndexBits;
      }
    }
    return 0;
  }
  static void release_id(uint32_t stamp) {
    if (stamp == 0) return;
    const uint32_t id = stamp >> kIndexBits;
    ids_in_use[id / 64].fetch_and(~(uint64_t{1} << (id % 64)), std::memory_order_release);
  }

  // n's table index; a node found for the first time gets a new entry (`inserted`).
  uint32_t discover(Node* n, bool* inserted) {
    uint32_t tag = n->pass_tag_.load(std::memory_order_relaxed);
    if (stamp != 0 && (tag & ~kIndexMask) == stamp) {
      *inserted = false;
      return tag & kIndexMask;
    }
    __builtin_prefetch(&n->next_edges_);  // read next; the tag's line is fetched by the swap below
    const auto fresh = static_cast<uint32_t>(ws.states.size());
    // Room first: a node is never left stamped without an entry that would unstamp it.
    if (ws.states.size() == ws.states.capacity()) ws.states.reserve(2 * ws.states.size() + 64);
    bool stamped = false;
    uint32_t index;
    if (tag == 0 && stamp != 0 && fresh <= kIndexMask &&
        n->pass_tag_.compare_exchange_strong(tag, stamp | fresh, std::memory_order_relaxed)) {
      stamped = true;
      *inserted = true;
      index = fresh;
    } else {
      index = ws.elsewhere.get(n, fresh, inserted);
    }
    if (*inserted) ws.states.push_back(NodeState{n, 0, stamped, Tensor(), {}});
    return index;
  }
  // n's entry; n was discovered by this pass.
  NodeState& state(Node* n) {
    const uint32_t tag = n->pass_tag_.load(std::memory_order_relaxed);
    return ws.states[stamp != 0 && (tag & ~kIndexMask) == stamp ? tag & kIndexMask : ws.elsewhere.find(n)];
  }
  static void unstamp(NodeState& s) {
    if (s.stamped) {
      s.node->pass_tag_.store(0, std::memory_order_relaxed);
      s.stamped = false;
    }
  }
  // Clears the stamps this pass still holds (a walk cut short).
  void unstamp_all() {
    for (NodeState& s : ws.states) unstamp(s);
  }

  // Fetches the lines of the nodes n sends gradients to, which it is about to read and write
  // (their state lookups, output shapes and then their own run): by the time n's vjp has run they
  // are in the cache, where a walk of a large graph would otherwise miss on each in turn.
  static void prefetch_next(const Node* n) {
    for (const Edge& e : n->next_edges_) {
      if (!e.node) continue;
      const char* b = reinterpret_cast<const char*>(e.node.get()) - 16;  // the shared_ptr's counts first
      for (size_t off = 0; off < sizeof(Node) + 16; off += 64) __builtin_prefetch(b + off, 1);
    }
  }

  static Tensors run(Node* n, Workspace& ws) {
    if (n->plain_) return n->run_vjp(ws.grads, ws.saved);
    Tensors outs = n->apply(std::move(ws.grads));
    ws.grads = Tensors();
    return outs;
  }
};

namespace {

// One spare workspace per thread, taken by a pass and given back emptied (a nested pass — a hook
// that runs backward — makes its own). Trivially destructible initial-exec thread-locals, as the
// node graveyard's (node_allocator.h): a pass after the thread's reaper ran simply allocates.
using Workspace = BackwardPass::Workspace;
struct SpareWorkspace {
  Workspace* ws;
  bool gone;
};
thread_local constinit SpareWorkspace spare_workspace __attribute__((tls_model("initial-exec"))) = {nullptr, false};
struct SpareWorkspaceReaper {
  ~SpareWorkspaceReaper() {
    spare_workspace.gone = true;
    delete spare_workspace.ws;
    spare_workspace.ws = nullptr;
  }
};

std::unique_ptr<Workspace> take_workspace() {
  if (Workspace* w = spare_workspace.ws) {
    spare_workspace.ws = nullptr;
    return std::unique_ptr<Workspace>(w);
  }
  return std::make_unique<Workspace>();
}

void give_back_workspace(std::unique_ptr<Workspace> w) {
  if (spare_workspace.gone || spare_workspace.ws) return;  // the unique_ptr frees it
  static thread_local SpareWorkspaceReaper reaper;
  (void)&reaper;
  w->clear();
  spare_workspace.ws = w.release();
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
void add_into(Tensor& slot, Tensor&& g) {
  if (!g.defined()) return;
  slot = slot.defined() ? slot + g : std::move(g);
}

bool is_accumulate_grad(const Node* n) { return n->num_outputs() == 1 && n->next_functions().empty() && n->name() == "AccumulateGrad"; }

void run_backward(const std::vector<Edge>& roots, const Tensors& root_grads, bool keep_graph, bool create_graph,
                  std::vector<Capture>* captures) {
  struct Lease {
    std::unique_ptr<Workspace> ws = take_workspace();
    ~Lease() { give_back_workspace(std::move(ws)); }
  } lease;
  Workspace& ws = *lease.ws;
  BackwardPass pass{ws, BackwardPass::acquire_id()};
  size_t finished = 0;  // nodes run (and unstamped)
  struct Unstamp {
    BackwardPass& pass;
    const size_t& finished;
    ~Unstamp() {
      if (finished != pass.ws.states.size()) pass.unstamp_all();
      BackwardPass::release_id(pass.stamp);
    }
  } unstamp{pass, finished};
  std::vector<Node*>& stack = ws.stack;
  for (const Edge& e : roots) {
    bool inserted = false;
    pass.discover(e.node.get(), &inserted);
    if (inserted) stack.push_back(e.node.get());
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_functions()) {
      if (!e.node) continue;
      bool inserted = false;
      const uint32_t i = pass.discover(e.node.get(), &inserted);
      ws.states[i].dependencies++;
      if (inserted) stack.push_back(e.node.get());
    }
  }
  for (size_t i = 0; i < roots.size(); ++i) add_into(pass.state(roots[i].node.get()).grad(roots[i].input_nr), root_grads[i]);
  std::priority_queue<Node*, std::vector<Node*>, ByNewest> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    Node* r = roots[i].node.get();
    bool duplicate = false;
    for (size_t j = 0; j < i; ++j) duplicate = duplicate || roots[j].node.get() == r;
    if (!duplicate && pass.state(r).dependencies == 0) ready.push(r);
  }

  const bool prev_grad = is_grad_enabled();
  set_grad_enabled(create_graph);
  struct Restore {
    bool prev;
    ~Restore() { set_grad_enabled(prev); }
  } restore{prev_grad};

  Tensors& grads = ws.grads;
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    BackwardPass::prefetch_next(n);
    {
      // Nothing looks n up after this: every edge into it has delivered its gradient.
      BackwardPass::NodeState& s = pass.state(n);
      BackwardPass::unstamp(s);
      ++finished;
      const size_t num_outputs = n->num_outputs();
      grads.clear();
      grads.reserve(std::max<size_t>(num_outputs, 1 + s.more.size()));
      grads.push_back(std::move(s.grad0));
      for (Tensor& g : s.more) grads.push_back(std::move(g));
      s.more = Tensors();
      grads.resize(num_outputs);
    }
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
    Tensors outs = BackwardPass::run(n, ws);
    grads.clear();
    ws.saved.clear();
    if (!keep_graph) n->release_saved();
    const auto& edges = n->next_functions();
    for (size_t j = 0; j < edges.size(); ++j) {
      const Edge& e = edges[j];
      if (!e.node) continue;
      BackwardPass::NodeState& next = pass.state(e.node.get());
      if (j < outs.size() && outs[j].defined()) {
        const OutputMeta& meta = e.node->output_meta(e.input_nr);
        Tensor g = std::move(outs[j]);
        RICCI_CHECK(g.shape() == meta.sizes.ref(), AutogradError, "[backward] Function ", n->name(),
                    " returned an invalid gradient at index ", j, " - got ", g.shape(), " but expected shape compatible with ",
                    meta.sizes);
        if (g.dtype() != meta.dtype) g = g.to(meta.dtype);
        add_into(next.grad(e.input_nr), std::move(g));
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

// Gradients are computed, never recorded (Note [Lazy tensors]) — except inside a trace that
// records them (Note [Gradients inside a trace]), which counts the pass.
class PassMode {
 public:
  PassMode() {
    if (!lazy::detail::tracing_gradients()) eager_.emplace();
    else ++lazy::detail::tl_state.traced_backward_passes;
  }

 private:
  std::optional<lazy::detail::Suspend> eager_;
};

}  // namespace

void backward(const Tensors& outputs, const Tensors& grad_outputs, bool retain_graph, bool create_graph,
              const Tensors& inputs) {
  const PassMode mode;
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
  const PassMode mode;
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
