#include "ricci/autograd.h"

namespace ricci::autograd {

namespace {
// Read on every op (twice for a binary one): initial-exec makes each read one load instead of a
// call to __tls_get_addr (ricci is a shared library), as lazy's thread state (lazy_detail.h).
thread_local constinit bool grad_enabled __attribute__((tls_model("initial-exec"))) = true;
thread_local constinit bool inference_enabled __attribute__((tls_model("initial-exec"))) = false;
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
