#pragma once
// Eager autograd, PyTorch-style. Forward builds a graph, backward walks it.
//
// Every op that runs with grad mode on and an input that requires grad gives its output a
// grad_fn: a Node holding the op's vector-Jacobian product (written in ricci ops, so the
// backward pass is itself differentiable), the tensors it saved, and one Edge per input pointing
// at the Node that produced that input (or at the AccumulateGrad node of a leaf).
// backward() walks the Nodes reachable from the root in reverse topological order, counting
// dependencies so that each Node runs once with the sum of the gradients that reached it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ricci/detail/inline_vector.h"
#include "ricci/tensor.h"

namespace ricci::autograd {

using Tensors = std::vector<Tensor>;

// ---- grad modes ----------------------------------------------------------------------------------
bool is_grad_enabled();
void set_grad_enabled(bool enabled);
bool is_inference_mode_enabled();

// Inside a NoGradGuard ops record no graph; version counters still tick so in-place ops stay safe.
class NoGradGuard {
 public:
  NoGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Re-enables recording inside a NoGradGuard (what create_graph uses).
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// Inference mode: no graph, no version-counter bumps, no view tracking. Tensors made inside are
// "inference tensors": they can be read later, but never saved for a backward pass.
class InferenceMode {
 public:
  explicit InferenceMode(bool enabled = true);
  ~InferenceMode();
  InferenceMode(const InferenceMode&) = delete;
  InferenceMode& operator=(const InferenceMode&) = delete;

 private:
  bool prev_grad_;
  bool prev_inference_;
};

// ---- the graph -----------------------------------------------------------------------------------
class Node;
namespace detail_alloc {
template <class T>
struct NodeAllocator;
}

// Where a gradient goes next: the `input_nr`-th output slot of `node`.
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool is_valid() const { return static_cast<bool>(node); }
};

// A tensor saved for the backward pass together with the storage version it had then, so that a
// later in-place change is caught instead of silently giving wrong gradients.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, bool is_output_of_node);
  Tensor unpack(const std::shared_ptr<Node>& owner, const char* node_name, size_t index) const;
  void release() {
    data_ = Tensor();
    leaf_accumulator_.reset();
    released_ = true;
  }
  bool was_released() const { return released_; }
  // unpack() makes an alias whose grad_fn is the owner (a saved output that requires grad).
  bool needs_owner() const { return defined_ && is_output_ && requires_grad_; }

 private:
  Tensor data_;  // shares storage; for an output of its own node, or a leaf, without autograd (no cycle)
  std::shared_ptr<Node> leaf_accumulator_;  // a saved leaf's AccumulateGrad (Note [Leaves are held weakly])
  uint32_t version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool requires_grad_ = false;
  bool defined_ = false;
  bool released_ = false;
};

struct VjpArgs;
using VjpFn = std::function<Tensors(const VjpArgs&)>;

// Shape, dtype and device of one output, so a missing gradient can be made as zeros.
struct OutputMeta {
  Dims sizes;
  DType dtype;
  Device device;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  // Edges, output shapes and saved tensors are kept inside the node up to these counts (most ops
  // have one or two inputs, one output, up to three saved values): recording an op and freeing its
  // node then touch no other heap block.
  using EdgeList = detail::InlineVector<Edge, 2>;

  Node(const char* name, VjpFn vjp) : name_(name), vjp_(std::move(vjp)) {}
  virtual ~Node() = default;

  // "MulBackward0", "AccumulateGrad", ... (what users print as grad_fn).
  virtual std::string name() const { return name_; }
  // The nodes that receive this node's input gradients (null node: that input needs none).
  const EdgeList& next_functions() const { return next_edges_; }
  size_t num_outputs() const { return outputs_.size(); }
  const OutputMeta& output_meta(size_t i) const { return outputs_[i]; }
  uint64_t sequence_nr() const { return sequence_nr_; }

  // Runs the vector-Jacobian product: one gradient per output in, one per input out.
  virtual Tensors apply(Tensors grad_outputs);
  // Drops the saved tensors (after a backward without retain_graph).
  virtual void release_saved();
  // What the base apply() does, with the caller's vectors: the engine passes buffers it reuses
  // from node to node, so a node that records through record() costs it no heap block for its
  // gradients or saved values (`saved` is overwritten).
  Tensors run_vjp(Tensors& grad_outputs, Tensors& saved);

  // Hooks on the gradient of output `output_nr` before it is used (Tensor::register_hook).
  size_t add_pre_hook(uint32_t output_nr, Tensor::Hook hook);
  void remove_pre_hook(size_t id);
  Tensor run_pre_hooks(uint32_t output_nr, Tensor grad);
  bool has_pre_hooks() const { return !pre_hooks_.empty(); }

  // Declares that this node's vjp rule reads tensors only through its VjpArgs (the incoming
  // gradients and the saved values) and captures nothing but parameters (sizes, scalars, flags).
  // Inside a compile trace such a rule is recorded as one primitive that runs the rule itself when
  // the program runs (Note [Gradients inside a trace], src/lazy/lazy.cpp), so rules that call
  // kernels directly or take fused fast paths work there too; other rules must be made of ops.
  void set_replayable() { replayable_ = true; }

  // Building (ops use record() below rather than these directly).
  void add_next_edge(Edge e) { next_edges_.push_back(std::move(e)); }
  void add_output(const Tensor& t) { outputs_.push_back({t.impl().sizes, t.dtype(), t.device()}); }
  void save(const Tensor& t, bool is_output = false) { saved_.emplace_back(t, is_output); }

 protected:
  const char* name_;
  VjpFn vjp_;
  EdgeList next_edges_;
  detail::InlineVector<OutputMeta, 1> outputs_;
  detail::InlineVector<SavedTensor, 3> saved_;
  uint64_t sequence_nr_ = 0;
  bool saved_released_ = false;
  bool plain_ = false;  // made by record(): apply() is the base one, so the engine may call run_vjp
  bool replayable_ = false;  // set_replayable()
  // Note [Backward slots]: the pass that reached this node first stamps its id and the node's
  // index in its state table here (src/autograd/engine.cpp), so that finding a node's state is
  // one load, not a hash lookup. 0: no pass holds it. (In the padding after the flags: the node
  // keeps its size.)
  std::atomic<uint32_t> pass_tag_{0};
  struct PreHook {
    size_t id;
    uint32_t output_nr;
    Tensor::Hook fn;
  };
  std::vector<PreHook> pre_hooks_;
  friend struct VjpArgs;
  friend struct BackwardPass;  // the engine (src/autograd/engine.cpp)
  friend struct ReplayedRule;  // node.cpp
  Tensors record_rule(const Tensors& grad_outputs, const Tensors& saved) const;
  template <class T>
  friend struct detail_alloc::NodeAllocator;
  friend std::shared_ptr<Node> record(const char*, std::initializer_list<const Tensor*>,
                                      std::initializer_list<Tensor*>, std::initializer_list<const Tensor*>,
                                      std::initializer_list<const Tensor*>, VjpFn);
  template <class In, class Out>
  friend std::shared_ptr<Node> build_node(std::shared_ptr<Node> node, const In& inputs, const Out& outputs,
                                          const In& saved_inputs, const In& saved_outputs);
};

// What a vjp rule sees.
struct VjpArgs {
  const Tensors& grads;  // one per output, never undefined (missing ones arrive as zeros)
  const Tensors& saved;  // in the order they were saved
  const Node& node;
  // False when input i does not require grad: the rule may return an undefined Tensor for it.
  bool needs_input_grad(size_t i) const { return i < node.next_functions().size() && node.next_functions()[i].is_valid(); }
};

// True when an op on these inputs must record a node: grad mode on and some input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
inline bool needs_grad(const Tensor& a) { return needs_grad({&a}); }
inline bool needs_grad(const Tensor& a, const Tensor& b) { return needs_grad({&a, &b}); }

// Records one application of an op: makes the Node, points its edges at the inputs' grad_fns,
// saves `saved_inputs` and `saved_outputs`, and makes it the grad_fn of each output. Call it only
// when needs_grad() said so. Inputs may be undefined (optional arguments).
std::shared_ptr<Node> record(const char* name, std::initializer_list<const Tensor*> inputs,
                             std::initializer_list<Tensor*> outputs,
                             std::initializer_list<const Tensor*> saved_inputs,
                             std::initializer_list<const Tensor*> saved_outputs, VjpFn vjp);
// The same with counts known only at run time (custom_vjp, checkpoint).
std::shared_ptr<Node> record(const char* name, const std::vector<const Tensor*>& inputs,
                             const std::vector<Tensor*>& outputs, const std::vector<const Tensor*>& saved_inputs,
                             const std::vector<const Tensor*>& saved_outputs, VjpFn vjp);

// For ops that write into `self`, before writing: when the graph is being kept, refuses leaves
// that require grad, views of such leaves, and views made under no_grad of tensors that require
// grad (PyTorch's errors).
void check_inplace(const Tensor& self, const char* op);
// Bumps the storage's version counter (not for inference tensors in inference mode).
void bump_version(const Tensor& self);
// After an in-place op recorded `node` with `self`'s old history as its first input, make node
// the new history of self. When self is a view, the base's history is rewritten instead (a
// CopySlices node: the base with the view's region replaced by node's result) and self reads
// its value out of it (Note [Views and in-place ops] in src/autograd/view_history.cpp).
void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node);
// The edge a gradient for `t` should flow into (its grad_fn, or its leaf accumulator).
Edge gradient_edge(const Tensor& t);

// ---- running backward ----------------------------------------------------------------------------
// Accumulates d(sum of outputs·grad_outputs)/d(leaf) into each leaf's .grad.
void backward(const Tensors& outputs, const Tensors& grad_outputs = {}, bool retain_graph = false,
              bool create_graph = false, const Tensors& inputs = {});
// Returns d(outputs)/d(inputs) without touching .grad. allow_unused=false throws when an input
// is not reached; with true its entry is undefined.
Tensors grad(const Tensors& outputs, const Tensors& inputs, const Tensors& grad_outputs = {},
             std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
             bool allow_unused = false);

// ---- checking gradients --------------------------------------------------------------------------
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool raise_exception = true;  // throw AutogradError with PyTorch's report; else return false
};
// Compares the analytical Jacobian (backward) with central finite differences, for every
// floating input that requires grad. Inputs should be float64.
bool gradcheck(const std::function<Tensors(const Tensors&)>& fn, const Tensors& inputs,
               const GradcheckOptions& options = {});
// Same for the gradient of the gradient (random grad_outputs, create_graph).
bool gradgradcheck(const std::function<Tensors(const Tensors&)>& fn, const Tensors& inputs,
                   const GradcheckOptions& options = {});

// ---- a picture of the graph ----------------------------------------------------------------------
// Graphviz DOT of the graph behind `root`: leaves with their values and .grad, each node's op
// name, and every tensor's shape, dtype and bytes. Render with `dot -Tsvg`.
std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& named_leaves = {});

}  // namespace ricci::autograd

namespace ricci {
using autograd::InferenceMode;
using autograd::NoGradGuard;
using autograd::is_grad_enabled;
}  // namespace ricci
