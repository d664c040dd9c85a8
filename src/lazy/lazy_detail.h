#pragma once
// The thread state of lazy evaluation and the hooks the core calls (Note [Lazy tensors] in
// src/lazy/lazy.cpp). Internal: kernels, storage and autograd include it, users do not.
#include <atomic>

namespace ricci {
class Storage;
class Tensor;
class TensorImpl;
namespace lazy {
class PendingOp;
}
}  // namespace ricci

namespace ricci::lazy::detail {

extern thread_local constinit int tl_lazy;       // -1: the process default; 0 or 1: a LazyGuard's
extern thread_local constinit int tl_suspended;  // > 0: inferring shapes or evaluating: never record
extern thread_local constinit bool tl_meta;      // inferring shapes: no bytes exist, kernels do nothing
extern std::atomic<bool> g_lazy_default;

// Whether an op called now is recorded rather than run (the check every op entry point makes).
inline bool recording() {
  if (tl_suspended != 0) return false;
  return tl_lazy < 0 ? g_lazy_default.load(std::memory_order_relaxed) : tl_lazy != 0;
}
inline bool in_meta() { return tl_meta; }

// Thrown inside a shape-inference run when the op needs bytes (reads a value, or writes without
// the kernel table): the op is then run eagerly on evaluated inputs instead.
struct NeedsValue {};

// A tensor whose storage is a placeholder is about to be read (data_ptr): evaluate what it needs.
// During shape inference this throws NeedsValue instead.
void on_deferred_read(const Tensor& t);
// Autograd is about to look at a pending tensor (requires_grad, grad_fn, an edge to it): its
// history exists once it is evaluated. During shape inference, nothing happens.
void on_deferred_autograd(const Tensor& t);
// Destruction hooks: a pending op forgets outputs and placeholders that are gone.
void forget_output(PendingOp& op, const TensorImpl* impl);
void forget_placeholder(PendingOp& op, const Storage* placeholder);

// Runs its scope with recording off (evaluation, backward, eager-only internals).
class Suspend {
 public:
  Suspend() { ++tl_suspended; }
  ~Suspend() { --tl_suspended; }
  Suspend(const Suspend&) = delete;
  Suspend& operator=(const Suspend&) = delete;
};

}  // namespace ricci::lazy::detail
