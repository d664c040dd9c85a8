#pragma once
// The autograd half of a TensorImpl, allocated only once gradients are involved (requires_grad_,
// or the output of a recorded op), so a plain tensor pays one null pointer for it.
#include <memory>
#include <mutex>
#include <vector>

#include "core/object_pool.h"
#include "lazy/lazy_detail.h"
#include "ricci/autograd.h"

namespace ricci::autograd {

// Hooks of a leaf tensor; AccumulateGrad runs them before depositing .grad.
struct HookList {
  struct Entry {
    size_t id;
    Tensor::Hook fn;
  };
  std::vector<Entry> hooks;
  size_t next_id = 1;
};

struct AutogradMeta {
  AutogradMeta() = default;
  ~AutogradMeta();  // tells the leaf's AccumulateGrad that its leaf is gone
  AutogradMeta(const AutogradMeta&) = delete;
  AutogradMeta& operator=(const AutogradMeta&) = delete;
  // Every recorded op's output gets one: from a per-thread block cache (Note [Thread block caches]).
  static void* operator new(size_t) { return ricci::detail::ThreadBlockCache<sizeof(AutogradMeta)>::allocate(); }
  static void operator delete(void* p) { ricci::detail::ThreadBlockCache<sizeof(AutogradMeta)>::deallocate(p); }

  Tensor grad;
  std::shared_ptr<Node> grad_fn;             // null for leaves
  std::weak_ptr<Node> grad_accumulator;      // leaves: the AccumulateGrad node, while a graph uses it
  std::shared_ptr<HookList> leaf_hooks;      // leaves only
  std::shared_ptr<Tensor> retained_grad;     // non-leaves after retain_grad(): filled by a grad_fn hook
  std::mutex mutex;                          // guards grad and grad_accumulator across threads
  uint32_t output_nr = 0;
  bool requires_grad = false;
  bool retains_grad = false;
  bool owns_accumulator = false;             // grad_accumulator deposits into this tensor (not a saved alias)
};

AutogradMeta& get_or_create_meta(const Tensor& t);
// A pending lazy tensor is evaluated first: its history is made when its op runs.
inline AutogradMeta* meta_of(const Tensor& t) {
  if (t.unsafe_impl()->storage->is_deferred()) [[unlikely]] lazy::detail::on_deferred_autograd(t);
  return t.unsafe_impl()->autograd.get();
}
// The AccumulateGrad node of a leaf that requires grad (created on first use).
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);
// Note [Views and in-place ops]: when `t` is a view whose base's history changed since the view's
// own was made (an in-place write through another view, or into the base), give `t` a fresh
// grad_fn that reads it out of the base's current history. Cheap when `t` is not a view.
void refresh_view_history_slow(const Tensor& t);
inline void refresh_view_history(const Tensor& t) {
  const TensorImpl* i = t.unsafe_impl();
  if (i->view_base && i->view_differentiable &&
      i->view_version.load(std::memory_order_relaxed) != i->storage->version())
    refresh_view_history_slow(t);
}
// The leaf an AccumulateGrad node deposits into; undefined for every other node, or when the leaf
// is gone (to_dot draws leaves).
Tensor accumulate_grad_variable(const Node& node);

}  // namespace ricci::autograd
