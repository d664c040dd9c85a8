#pragma once
// The scope of a shape-inference run (Note [Lazy tensors]): no recording, no gradients, no bytes.
#include "lazy/lazy_detail.h"
#include "ricci/autograd.h"

namespace ricci::lazy {

class MetaScope {
 public:
  MetaScope() : prev_(detail::tl_state.meta) { detail::tl_state.meta = true; }
  ~MetaScope() { detail::tl_state.meta = prev_; }
  MetaScope(const MetaScope&) = delete;
  MetaScope& operator=(const MetaScope&) = delete;

 private:
  detail::Suspend suspend_;
  NoGradGuard no_grad_;
  bool prev_;
};

}  // namespace ricci::lazy
