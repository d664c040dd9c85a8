// Lazy evaluation: recording primitives, and running them when a value is needed.
//
// Note [Lazy tensors]
// ~~~~~~~~~~~~~~~~~~~
// In lazy mode an op's entry point calls lazy::record(primitive, inputs) instead of computing.
// record() runs the op's own eager code once in *meta mode*: allocation hands out placeholder
// storages that hold no memory (Storage::Deferred), every kernel from the kernel table is a no-op,
// and reading or writing bytes throws NeedsValue. So the shapes, dtypes, strides and every
// validation error come from the one implementation the eager op uses, at record time, and no
// per-op shape function can drift from it. An op that needs a value to know its output (it reads
// an index, or writes bytes outside the kernel table) throws NeedsValue and is run eagerly on
// evaluated inputs instead: correct, only not deferred.
//
// The meta run's outputs become the pending tensors. Each one's placeholder storage points at
// the PendingOp (primitive, inputs, grad mode at record time); the op refers back to its outputs
// weakly (destructors clear the pointers), so dropping a pending tensor frees what only it needed.
//
// Evaluation (eval(), or data_ptr() / autograd touching a placeholder) orders the pending ops
// reachable from the roots (iterative depth-first, so a chain of 100,000 ops is fine), runs each
// one's eager code on its evaluated inputs under the grad mode it was recorded with, and hands
// each result's storage, layout and autograd history to the pending tensor. Autograd nodes are
// therefore made as an eager run would make them (same names, same saved values): backward()
// through a lazy graph is eager's backward. A placeholder that other tensors still share (a view
// or detach() taken outside lazy mode) forwards to the result's storage, version counter
// included, so an in-place write through any of them is seen by autograd. Once run, an op drops
// its inputs and its primitive: intermediates die as soon as their last consumer has run.
//
// Note [Gradients inside a trace]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// compile traces with Tracing(record_gradients = true), so that compile(grad(f)) — a training
// step's loss and gradients — becomes one program. Three things make a gradient traceable:
//   - History at record time. record() runs an op's meta run with grad mode as it is (not under
//     no_grad), so the op's own code makes its autograd node on the meta outputs, which become
//     the pending tensors: edges, saved values and grad_fn exactly as an eager run makes them.
//     on_deferred_autograd lets autograd read that history instead of refusing.
//   - The backward pass recorded. The engine does not suspend recording inside such a trace, so a
//     rule made of ops records them like f's own ops (and the program fuses them). A rule that
//     runs kernels itself, or takes a fused fast path, is declared replayable
//     (Node::set_replayable: it reads tensors only through its VjpArgs): it is recorded whole, as
//     one primitive named after its node, whose inputs are the incoming gradients and the saved
//     values, and which runs the rule on values when the program runs (node.cpp, ReplayedRule).
//   - Saved values the program can name. A rule may keep only inputs and outputs of recorded ops:
//     layer_norm returns its mean and rstd as outputs, nll and embedding save their targets and
//     indices rather than capture tensors made inside, a wrapped scalar is a real constant
//     (scalar_tensor outside meta), and a view an op took of its input inside its own code is
//     re-made from the value when the program runs (compile.cpp, AliasOf). A value the program
//     cannot name ends the trace (TraceFailed, with the reason compile_stats reports), and f runs
//     uncompiled: slower, never wrong.
// Shape inference reads no values (embedding's bounds, nll's targets are checked when the op
// runs), so these ops record. The backward pass is recorded as it runs (no create_graph), so a
// program holding one is never differentiated again: an outer transform runs f itself
// (compile.cpp, `differentiates`).
#include "ricci/lazy.h"

#include <atomic>
#include <sstream>
#include <unordered_set>

#include "autograd/autograd_meta.h"
#include "core/tensor_internal.h"
#include "lazy/lazy_detail.h"
#include "lazy/graph.h"
#include "lazy/meta_scope.h"
#include "ricci/error.h"
#include "ricci/parallel.h"

namespace ricci {
namespace lazy {

class PendingOp {
 public:
  struct Output {
    TensorImpl* impl = nullptr;     // the pending tensor (not owned; cleared when it dies)
    Storage* placeholder = nullptr;  // its storage (not owned; cleared when it dies)
    int64_t bytes = 0;               // what running the op allocates for it (0 for a view)
    Dims sizes, strides;             // its layout and dtype, as recorded
    int64_t storage_offset = 0;
    DType dtype = DType::Float32;
  };
  PrimitivePtr prim;
  Tensors inputs;
  std::vector<Output> outputs;
  bool grad_enabled = false;
  bool inference = false;
};

namespace detail {

thread_local constinit ThreadState tl_state __attribute__((tls_model("initial-exec")));
std::atomic<bool> g_lazy_default{false};

void forget_output(PendingOp& op, const TensorImpl* impl) {
  for (auto& o : op.outputs)
    if (o.impl == impl) o.impl = nullptr;
}

void forget_placeholder(PendingOp& op, const Storage* placeholder) {
  for (auto& o : op.outputs)
    if (o.placeholder == placeholder) o.placeholder = nullptr;
}

}  // namespace detail

namespace {

using OpPtr = std::shared_ptr<PendingOp>;

// The pending ops `roots` need, each after every op it reads from (inputs first).
std::vector<OpPtr> schedule(const std::vector<OpPtr>& roots) {
  std::vector<OpPtr> order;
  std::unordered_set<const PendingOp*> seen;
  struct Frame {
    OpPtr op;
    size_t next = 0;
  };
  std::vector<Frame> stack;
  for (const OpPtr& r : roots) {
    if (!r || !seen.insert(r.get()).second) continue;
    stack.push_back({r});
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.op->inputs.size()) {
        const Tensor& in = f.op->inputs[f.next++];
        if (!in.defined()) continue;
        const OpPtr& p = in.impl().storage->pending();
        if (p && seen.insert(p.get()).second) stack.push_back({p});
        continue;
      }
      order.push_back(std::move(f.op));
      stack.pop_back();
    }
  }
  return order;
}

std::vector<OpPtr> roots_of(const std::vector<Tensor>& tensors) {
  std::vector<OpPtr> roots;
  for (const Tensor& t : tensors)
    if (t.defined() && t.impl().storage->pending()) roots.push_back(t.impl().storage->pending());
  return roots;
}

// Gives the pending tensor `l` the result `e`: its storage, layout, view tracking and history.
void adopt(TensorImpl& l, const Tensor& e) {
  TensorImpl& ei = e.impl();
  l.storage = ei.storage;
  l.sizes = ei.sizes;
  l.strides = ei.strides;
  l.storage_offset = ei.storage_offset;
  l.refresh_layout();
  l.is_inference = ei.is_inference;
  l.view_base = ei.view_base;
  l.view_differentiable = ei.view_differentiable;
  l.view_version.store(ei.view_version.load(std::memory_order_relaxed), std::memory_order_relaxed);
  if (const autograd::AutogradMeta* em = ei.autograd.get(); em && (em->grad_fn || em->requires_grad)) {
    // The same output of the same node: edges, hooks by output_nr and retain_grad all follow.
    auto m = std::make_unique<autograd::AutogradMeta>();
    m->grad_fn = em->grad_fn;
    m->output_nr = em->output_nr;
    m->requires_grad = em->requires_grad;
    l.autograd = std::move(m);
  }
}

// Sets grad mode and inference mode to what they were when an op was recorded.
class RecordedModes {
 public:
  RecordedModes(bool grad, bool inference) : prev_grad_(autograd::is_grad_enabled()) {
    if (inference) inference_.emplace(true);
    autograd::set_grad_enabled(grad);
  }
  ~RecordedModes() { autograd::set_grad_enabled(prev_grad_); }

 private:
  std::optional<autograd::InferenceMode> inference_;
  bool prev_grad_;
};

void run(PendingOp& op) {
  Tensors results;
  {
    detail::Suspend suspend;
    RecordedModes modes(op.grad_enabled, op.inference);
    results = op.prim->eval(op.inputs);
  }
  RICCI_CHECK(results.size() == op.outputs.size(), Error, "[lazy] ", op.prim->name(), " returned ", results.size(),
              " outputs when evaluated but ", op.outputs.size(), " when recorded (a bug in the op's primitive)");
  for (size_t i = 0; i < results.size(); ++i) {
    PendingOp::Output& o = op.outputs[i];
    const Tensor& e = results[i];
    if (!o.placeholder && !o.impl) continue;
    RICCI_CHECK(e.defined(), Error, "[lazy] ", op.prim->name(), " output ", i,
                " is undefined when evaluated but was defined when recorded (a bug in the op's primitive)");
    if (e.impl().storage->is_deferred()) {
      // The op ran on a placeholder that has no value (a traced input): nothing to hand over.
      if (detail::tl_state.tracing)
        throw detail::TraceFailed{ricci::detail::cat(op.prim->name(), " ran on a traced tensor's value")};
      RICCI_CHECK(false, Error, "[lazy] ", op.prim->name(), " was evaluated on a tensor that has no value (a traced "
                  "placeholder outside its trace); please report this");
    }
    StoragePtr keep(o.placeholder);  // other tensors may share it: it forwards to the result's bytes
    TensorImpl* l = o.impl;
    o = {};
    if (keep) keep->forward_to(e.impl().storage);
    if (l) adopt(*l, e);
  }
  op.inputs.clear();
  op.prim.reset();
}

void evaluate(const std::vector<OpPtr>& roots) {
  std::vector<OpPtr> order = schedule(roots);
  for (OpPtr& op : order) {
    run(*op);
    op.reset();  // the op (and with it each input nobody else holds) goes now
  }
}

// An op that cannot be deferred: evaluate its inputs, then run it as eager code would.
Tensors run_now(const Primitive& prim, const Tensors& inputs) {
  eval(inputs);
  detail::Suspend suspend;
  return prim.eval(inputs);
}

}  // namespace

namespace detail {

void on_deferred_read(const Tensor& t) {
  if (tl_state.meta) throw NeedsValue{};
  if (tl_state.tracing && !t.impl().storage->pending())
    throw TraceFailed{"f needs a traced tensor's value (its bytes were read: item(), a boolean mask, an index read, a "
                      "value check)"};
  // Evaluation runs on the thread that recorded the graph, never inside a kernel's workers.
  RICCI_CHECK(!in_parallel_region(), Error, "[lazy] a kernel read a pending tensor (shape ", t.shape(),
              ") inside a parallel region; the op must read its inputs before splitting the work (please report this)");
  if (const OpPtr p = t.impl().storage->pending()) evaluate({p});
  RICCI_CHECK(!t.impl().storage->is_deferred(), Error,
              "[lazy] this tensor has no value and nothing recorded to compute it (shape ", t.shape(), ", dtype ",
              t.dtype(), "): a placeholder from shape inference escaped its op; please report this");
}

void on_traced_kernel(std::string_view op) {
  if (op != "fill")
    throw TraceFailed{ricci::detail::cat("f needs a traced tensor's value (the kernel '", op, "' ran: item(), to_vector(), a "
                                         "value check, or an op whose code runs a kernel outside a recorded primitive)")};
}

void on_deferred_autograd(const Tensor& t) {
  if (tl_state.meta) return;
  if (tl_state.tracing) {
    // A trace that records gradients made the history at record time (Note [Gradients inside a
    // trace]); any other transform falls back to values.
    if (tl_state.trace_grad) return;
    throw TraceFailed{"autograd on a traced tensor"};
  }
  if (const OpPtr p = t.impl().storage->pending()) evaluate({p});
}

}  // namespace detail

Tensors record(PrimitivePtr prim, Tensors inputs) {
  Tensors metas;
  const bool with_history = detail::tracing_gradients() && autograd::is_grad_enabled();
  try {
    MetaScope meta(/*keep_grad_mode=*/with_history);
    metas = prim->eval(inputs);
  } catch (const detail::NeedsValue&) {
    return run_now(*prim, inputs);
  }
  auto op = std::make_shared<PendingOp>();
  op->grad_enabled = autograd::is_grad_enabled();
  op->inference = autograd::is_inference_mode_enabled();
  Tensors outs;
  outs.reserve(metas.size());
  op->outputs.resize(metas.size());
  for (size_t i = 0; i < metas.size(); ++i) {
    Tensor& m = metas[i];
    if (!m.defined()) {
      outs.push_back(m);
      continue;
    }
    // An op that hands back one of its inputs unchanged (t() of a vector) needs no node.
    bool is_input = false, aliases_input = false;
    Storage& s = *m.impl().storage;
    for (const Tensor& in : inputs) {
      if (!in.defined()) continue;
      is_input = is_input || in.is_same(m);
      aliases_input = aliases_input || in.unsafe_impl()->storage.get() == &s;
    }
    if (is_input) {
      outs.push_back(m);
      continue;
    }
    Tensor out;
    if (s.is_deferred() && !s.pending() && !aliases_input) {
      // Storage the op allocates: the meta run's tensor becomes the pending one.
      out = m;
      TensorImpl& oi = out.impl();
      oi.view_base = nullptr;
      oi.view_differentiable = false;
      s.set_pending(op);
      op->outputs[i] = {&oi, &s, static_cast<int64_t>(s.nbytes()), Dims(oi.sizes), Dims(oi.strides), oi.storage_offset, oi.dtype};
    } else {
      // A view of an input (or of another output): its own placeholder, filled with the alias.
      auto ph = ricci::detail::make_intrusive<Storage>(Storage::Deferred{}, s.nbytes(), s.device());
      out = make_tensor(ph, m.dtype(), Dims(m.shape()), Dims(m.strides()), m.storage_offset());
      if (with_history) out.impl().autograd = std::move(m.impl().autograd);  // the view's node, as recorded
      ph->set_pending(op);
      op->outputs[i] = {out.unsafe_impl(), ph.get(), 0, Dims(m.shape()), Dims(m.strides()), m.storage_offset(), m.dtype()};
    }
    outs.push_back(std::move(out));
  }
  op->prim = std::move(prim);
  op->inputs = std::move(inputs);
  return outs;
}

void walk_pending(const std::vector<Tensor>& roots, const PendingVisitor& visit) {
  for (const OpPtr& op : schedule(roots_of(roots))) {
    std::vector<PendingOutput> outputs;
    outputs.reserve(op->outputs.size());
    for (const auto& o : op->outputs) outputs.push_back({o.placeholder, o.sizes, o.strides, o.storage_offset, o.dtype});
    visit(op->prim, op->inputs, outputs);
  }
}

Tensor trace_placeholder(IntArrayRef shape, DType dtype, Device device) {
  const size_t nbytes = checked_nbytes(shape, element_size(dtype), "trace");
  auto storage = ricci::detail::make_intrusive<Storage>(Storage::Deferred{}, nbytes, device);
  return make_tensor(std::move(storage), dtype, Dims(shape), contiguous_strides(shape), 0);
}

PrimitivePtr producer(const Tensor& t) {
  if (!t.defined()) return nullptr;
  const auto& p = t.impl().storage->pending();
  return p ? p->prim : nullptr;
}

}  // namespace lazy

// ---- public API ----------------------------------------------------------------------------------

LazyGuard::LazyGuard(bool enabled) : prev_(lazy::detail::tl_state.lazy) { lazy::detail::tl_state.lazy = enabled ? 1 : 0; }
LazyGuard::~LazyGuard() { lazy::detail::tl_state.lazy = prev_; }

void set_lazy(bool enabled) { lazy::detail::g_lazy_default.store(enabled, std::memory_order_relaxed); }
bool is_lazy() { return lazy::detail::recording(); }

bool is_pending(const Tensor& t) { return t.defined() && t.impl().storage->is_deferred(); }

void eval(const std::vector<Tensor>& tensors) { lazy::evaluate(lazy::roots_of(tensors)); }

void eval(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<Tensor> ts;
  ts.reserve(named.size());
  for (const auto& [name, t] : named) ts.push_back(t);
  eval(ts);
}

void eval(const std::map<std::string, Tensor>& named) {
  std::vector<Tensor> ts;
  ts.reserve(named.size());
  for (const auto& [name, t] : named) ts.push_back(t);
  eval(ts);
}

PendingStats pending_stats(const std::vector<Tensor>& tensors) {
  PendingStats st;
  for (const auto& op : lazy::schedule(lazy::roots_of(tensors))) {
    ++st.nodes;
    for (const auto& o : op->outputs) st.bytes += o.bytes;
  }
  return st;
}

std::string pending_dot(const std::vector<Tensor>& tensors) {
  std::ostringstream os;
  os << "digraph pending {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  const auto order = lazy::schedule(lazy::roots_of(tensors));
  std::unordered_set<const TensorImpl*> drawn_values;
  auto op_id = [](const lazy::PendingOp* p) { return "op" + std::to_string(reinterpret_cast<uintptr_t>(p)); };
  for (const auto& op : order) {
    os << "  " << op_id(op.get()) << " [shape=box, label=\"" << op->prim->describe();
    for (const auto& o : op->outputs) {
      if (!o.impl) continue;
      os << "\\n" << Tensor(detail::IntrusivePtr<TensorImpl>(o.impl)).shape() << ' ' << o.impl->dtype;
    }
    int64_t bytes = 0;
    for (const auto& o : op->outputs) bytes += o.bytes;
    os << "\\n" << bytes << " bytes\"];\n";
    for (const Tensor& in : op->inputs) {
      if (!in.defined()) continue;
      if (const auto& p = in.impl().storage->pending()) {
        os << "  " << op_id(p.get()) << " -> " << op_id(op.get()) << ";\n";
      } else {
        const std::string vid = "v" + std::to_string(reinterpret_cast<uintptr_t>(in.unsafe_impl()));
        if (drawn_values.insert(in.unsafe_impl()).second)
          os << "  " << vid << " [shape=ellipse, label=\"" << in.shape() << ' ' << in.dtype() << "\"];\n";
        os << "  " << vid << " -> " << op_id(op.get()) << ";\n";
      }
    }
  }
  os << "}\n";
  return os.str();
}

}  // namespace ricci
