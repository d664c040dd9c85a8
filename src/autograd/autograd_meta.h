#pragma once
// The autograd half of a TensorImpl, allocated only once gradients are involved (requires_grad_,
// or the output of a recorded op), so a plain tensor pays one null pointer for it.
#include <memory>
#include <vector>

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
  Tensor grad;
  std::shared_ptr<Node> grad_fn;             // null for leaves
  std::weak_ptr<Node> grad_accumulator;      // leaves: the AccumulateGrad node, while a graph uses it
  std::shared_ptr<HookList> leaf_hooks;      // leaves only
  std::shared_ptr<Tensor> retained_grad;     // non-leaves after retain_grad(): filled by a grad_fn hook
  Tensor view_base;                          // set when this tensor is a view made while recording
  uint32_t output_nr = 0;
  bool requires_grad = false;
  bool retains_grad = false;
};

AutogradMeta& get_or_create_meta(const Tensor& t);
inline AutogradMeta* meta_of(const Tensor& t) { return t.unsafe_impl()->autograd.get(); }
// The AccumulateGrad node of a leaf that requires grad (created on first use).
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);
// The leaf an AccumulateGrad node deposits into; null for every other node (to_dot draws leaves).
const Tensor* accumulate_grad_variable(const Node& node);

}  // namespace ricci::autograd
