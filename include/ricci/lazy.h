#pragma once
// Lazy evaluation, as in MLX: inside a LazyGuard (or after set_lazy(true)) ops record what to
// compute and return tensors that know their shape, dtype and device but have no bytes yet.
//
//     ricci::LazyGuard lazy;
//     Tensor y = x * 2 + 1;            // records two ops, computes nothing
//     ricci::pending_stats({y});        // {nodes = 2, bytes = what evaluation will allocate}
//     ricci::eval(y);                   // computes both, in order, freeing what is no longer needed
//
// Reading a value evaluates what it needs: item(), to_vector(), data_ptr(), printing, saving,
// copying to another device, and any op that runs eagerly on a pending tensor. Shape and dtype
// errors are raised when an op is recorded, not when it runs. Gradients: backward() through a
// lazy graph gives eager's gradients (each op records its autograd node when it is evaluated,
// with the grad mode it was recorded under). In-place ops are not recorded: on a pending tensor
// they first evaluate it, then run eagerly (the values are PyTorch's; each is a sync point).
// A pending graph belongs to the thread that recorded it until it is evaluated.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ricci/primitive.h"
#include "ricci/tensor.h"

namespace ricci {

// Records instead of running, in this thread, while alive (enabled = false: eager inside).
class LazyGuard {
 public:
  explicit LazyGuard(bool enabled = true);
  ~LazyGuard();
  LazyGuard(const LazyGuard&) = delete;
  LazyGuard& operator=(const LazyGuard&) = delete;

 private:
  int prev_;
};

// The process-wide default for threads outside any LazyGuard (off unless set).
void set_lazy(bool enabled);
// Whether an op called now, in this thread, is recorded rather than run.
bool is_lazy();
// Whether `t` (or the tensor it views) is waiting for a recorded op to run.
bool is_pending(const Tensor& t);

// Evaluates every pending tensor given (and what they need), in dependency order; each
// intermediate is freed when its last consumer has run, unless something else holds it.
void eval(const std::vector<Tensor>& tensors);
void eval(const std::vector<std::pair<std::string, Tensor>>& named);  // parameter trees, state dicts
void eval(const std::map<std::string, Tensor>& named);
template <class... Ts>
void eval(const Tensor& first, const Ts&... rest) {
  eval(std::vector<Tensor>{first, rest...});
}

// What evaluating `tensors` would do now: recorded ops to run and bytes they will allocate
// (views and results already computed count nothing). The lesson's "lazy eval tax", visible.
struct PendingStats {
  int64_t nodes = 0;
  int64_t bytes = 0;
};
PendingStats pending_stats(const std::vector<Tensor>& tensors);
// The pending graph in Graphviz DOT: one box per recorded op (op, parameters, output shape,
// dtype, bytes it will allocate), inputs that have values as ellipses. autograd::to_dot draws
// this graph too when its root is pending.
std::string pending_dot(const std::vector<Tensor>& tensors);

namespace lazy {
// Records `prim` applied to `inputs` when is_lazy(), returning pending outputs; ops call this at
// their entry point (docs/CONVENTIONS.md). The shapes come from running the op on placeholders
// (Primitive::infer); an op that must read a value to know its output runs eagerly instead.
Tensors record(PrimitivePtr prim, Tensors inputs);

template <class Params>
Tensors record_op(const char* name, typename OpPrimitive<Params>::Fn fn, Params params, Tensors inputs,
                  PrimitiveKind kind = PrimitiveKind::Generic, typename OpPrimitive<Params>::VmapRule rule = nullptr) {
  return record(std::make_shared<const OpPrimitive<Params>>(name, fn, std::move(params), kind, rule), std::move(inputs));
}

// The primitive that will produce a pending tensor (null once evaluated, or for eager tensors).
PrimitivePtr producer(const Tensor& t);
}  // namespace lazy

}  // namespace ricci
