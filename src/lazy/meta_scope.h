#pragma once
// The scope of a shape-inference run (Note [Lazy tensors]): no recording, no gradients, no bytes.
#include <optional>

#include "lazy/lazy_detail.h"
#include "ricci/autograd.h"

namespace ricci::lazy {

class MetaScope {
 public:
  // `keep_grad_mode`: the op's own code records its autograd node on the meta outputs (a trace
  // that records gradients, Note [Gradients inside a trace] in lazy.cpp).
  explicit MetaScope(bool keep_grad_mode = false) : prev_(detail::tl_state.meta) {
    if (!keep_grad_mode) no_grad_.emplace();
    detail::tl_state.meta = true;
  }
  ~MetaScope() { detail::tl_state.meta = prev_; }
  MetaScope(const MetaScope&) = delete;
  MetaScope& operator=(const MetaScope&) = delete;

 private:
  detail::Suspend suspend_;
  std::optional<NoGradGuard> no_grad_;
  bool prev_;
};

}  // namespace ricci::lazy
