#pragma once
// The thread state of lazy evaluation and the hooks the core calls (Note [Lazy tensors] in
// src/lazy/lazy.cpp). Internal: kernels, storage and autograd include it, users do not.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace ricci {
class Storage;
class Tensor;
class TensorImpl;
namespace lazy {
class PendingOp;
}
}  // namespace ricci

namespace ricci::lazy::detail {

// One thread-local block, read once per op (a shared library reaches each thread_local through a
// call; initial-exec makes it one load, at the price of a few bytes of static TLS).
struct ThreadState {
  int lazy = -1;        // -1: the process default; 0 or 1: a LazyGuard's
  int suspended = 0;    // > 0: inferring shapes or evaluating: never record
  int tracing = 0;      // > 0: a transform is tracing f on placeholders (vmap)
  bool trace_draws = false;  // the trace records random draws as primitives (compile), else refuses them
  bool trace_grad = false;   // the trace records autograd history and backward passes (compile), else refuses them
  int64_t traced_backward_passes = 0;  // backward passes recorded into traces on this thread
  bool meta = false;    // inferring shapes: no bytes exist, kernels do nothing
};
extern thread_local constinit ThreadState tl_state __attribute__((tls_model("initial-exec")));
extern std::atomic<bool> g_lazy_default;

// Whether an op called now is recorded rather than run (the check every op entry point makes).
inline bool recording() {
  const ThreadState& st = tl_state;
  if (st.suspended != 0) return false;
  return st.lazy < 0 ? g_lazy_default.load(std::memory_order_relaxed) : st.lazy != 0;
}
inline bool in_meta() { return tl_state.meta; }
// Whether ops called now run on values: no recording, no transform tracing placeholders, no shape
// inference. Eager-only fast paths (a fused kernel standing in for several ops, a layout choice)
// check this and otherwise take the composed ops, which record or refuse as they should.
inline bool running_on_values() { return !recording() && tl_state.tracing == 0 && !in_meta(); }

// Thrown inside a shape-inference run when the op needs bytes (reads a value, or writes without
// the kernel table): the op is then run eagerly on evaluated inputs instead.
struct NeedsValue {};

// Thrown while a transform traces f when f needs what a trace cannot give: a value of a traced
// input (a boolean mask, item()), or a gradient (autograd runs on values). The transform then
// falls back to running f on real values (vmap: once per example).
struct TraceFailed {
  std::string why;  // for compile_stats(fn).untraceable_reason
};

// A tensor whose storage is a placeholder is about to be read (data_ptr): evaluate what it needs.
// During shape inference this throws NeedsValue instead.
void on_deferred_read(const Tensor& t);
// Autograd is about to look at a pending tensor (requires_grad, grad_fn, an edge to it): its
// history exists once it is evaluated. During shape inference, nothing happens.
void on_deferred_autograd(const Tensor& t);
// A kernel is about to compute a value while a transform traces f: throws TraceFailed, except for
// fills (factories like zeros make constants that cannot go stale).
void on_traced_kernel(std::string_view op);
// Destruction hooks: a pending op forgets outputs and placeholders that are gone.
void forget_output(PendingOp& op, const TensorImpl* impl);
void forget_placeholder(PendingOp& op, const Storage* placeholder);

// Runs its scope with recording off (evaluation, backward, eager-only internals).
class Suspend {
 public:
  Suspend() { ++tl_state.suspended; }
  ~Suspend() { --tl_state.suspended; }
  Suspend(const Suspend&) = delete;
  Suspend& operator=(const Suspend&) = delete;
};

// Records f's ops as a trace: reading a placeholder's value throws TraceFailed. With
// `record_draws`, random factories record a primitive that draws when the trace is replayed
// (compile: Note [Random draws in a compiled program], random.cpp); without, a draw throws
// TraceFailed (vmap: each example must draw its own numbers). With `record_gradients`, ops
// recorded under grad mode get their autograd history at record time and a backward pass records
// its ops too (compile: Note [Gradients inside a trace], lazy.cpp); without, autograd on a traced
// tensor throws TraceFailed.
class Tracing {
 public:
  explicit Tracing(bool record_draws = false, bool record_gradients = false)
      : prev_draws_(tl_state.trace_draws), prev_grad_(tl_state.trace_grad) {
    ++tl_state.tracing;
    tl_state.trace_draws = record_draws;
    tl_state.trace_grad = record_gradients;
  }
  ~Tracing() {
    --tl_state.tracing;
    tl_state.trace_draws = prev_draws_;
    tl_state.trace_grad = prev_grad_;
  }
  Tracing(const Tracing&) = delete;
  Tracing& operator=(const Tracing&) = delete;

 private:
  bool prev_draws_;
  bool prev_grad_;
};

// Makes its scope allocate and fill real bytes inside a shape-inference run: for the constants
// an op's autograd rule saves (a wrapped scalar), which a trace that records gradients must hold
// as values (Note [Gradients inside a trace]).
class OutsideMeta {
 public:
  OutsideMeta() : prev_(tl_state.meta) { tl_state.meta = false; }
  ~OutsideMeta() { tl_state.meta = prev_; }
  OutsideMeta(const OutsideMeta&) = delete;
  OutsideMeta& operator=(const OutsideMeta&) = delete;

 private:
  bool prev_;
};

// Whether autograd works on traced tensors now (Note [Gradients inside a trace]).
inline bool tracing_gradients() { return tl_state.tracing != 0 && tl_state.trace_grad; }
// Whether an op may take a fast form built from other recordable primitives (linear's addmm,
// attention's batched products, split's one node): on values, and in compile's trace, which
// records those primitives and replays their rules; not while vmap traces (its batching rules
// see the composed ops) or plain lazy recording.
inline bool fast_forms_apply() { return running_on_values() || tracing_gradients(); }

}  // namespace ricci::lazy::detail
