#include "ricci/autograd.h"

namespace ricci::autograd {

namespace {
thread_local bool grad_enabled = true;
thread_local bool inference_enabled = false;
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }
bool is_inference_mode_enabled() { return inference_enabled; }

InferenceMode::InferenceMode(bool enabled) : prev_grad_(grad_enabled), prev_inference_(inference_enabled) {
  if (enabled) {
    grad_enabled = false;
    inference_enabled = true;
  }
}

InferenceMode::~InferenceMode() {
  grad_enabled = prev_grad_;
  inference_enabled = prev_inference_;
}

}  // namespace ricci::autograd
