#pragma once
// Small helpers shared by the CUDA backend's host code: error checks that throw DeviceError, and
// a guard that makes a tensor's GPU the current one for the duration of a call.
#include <cuda_runtime_api.h>

#include "ricci/error.h"

namespace ricci::cuda_backend {

// Clears CUDA's last error and throws DeviceError "[op] CUDA error: <text> (<call>)".
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* op, const char* call);

#define RICCI_CUDA_CHECK(expr, op)                                                        \
  do {                                                                                    \
    const cudaError_t ricci_err__ = (expr);                                               \
    if (ricci_err__ != cudaSuccess) [[unlikely]]                                          \
      ::ricci::cuda_backend::throw_cuda_error(ricci_err__, op, #expr);                    \
  } while (0)

class DeviceGuard {
 public:
  explicit DeviceGuard(int index) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != index) {
      RICCI_CUDA_CHECK(cudaSetDevice(index), "cuda");
    } else {
      previous_ = -1;  // nothing to restore
    }
  }
  ~DeviceGuard() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace ricci::cuda_backend
