// CUDA device queries and byte copies. Availability is probed once: a machine without a driver
// makes cudaGetDeviceCount fail (no device, insufficient driver, ...), which means "unavailable",
// never a crash, so the same binary runs on CPU-only machines.
#include <cstring>
#include <string>

#include "backend/cuda/cuda_common.h"
#include "backend/device_backend.h"
#include "ricci/device.h"

namespace ricci {

namespace {

struct Probe {
  int count = 0;
  cudaError_t error = cudaSuccess;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    r.error = cudaGetDeviceCount(&r.count);
    if (r.error != cudaSuccess) {
      r.count = 0;
      cudaGetLastError();  // don't leave the failure behind for the next unrelated check
    }
    return r;
  }();
  return p;
}

}  // namespace

namespace cuda_backend {
void throw_cuda_error(cudaError_t err, const char* op, const char* call) {
  cudaGetLastError();
  throw DeviceError(detail::cat("[", op, "] CUDA error: ", cudaGetErrorString(err), " (", call, ")"));
}
}  // namespace cuda_backend

namespace cuda {

bool is_available() { return probe().count > 0; }

int device_count() { return probe().count; }

void synchronize() {
  RICCI_CHECK(is_available(), DeviceError, "[cuda.synchronize] CUDA is not available: ",
              backend::cuda_unavailable_reason());
  RICCI_CUDA_CHECK(cudaDeviceSynchronize(), "cuda.synchronize");
}

}  // namespace cuda

namespace backend {

std::string cuda_unavailable_reason() {
  const Probe& p = probe();
  std::string why = p.error != cudaSuccess ? detail::cat(" (", cudaGetErrorString(p.error), ")") : std::string();
  return "no CUDA driver/GPU was found on this machine" + why + "; keep tensors on the CPU";
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  RICCI_CHECK(cuda::is_available(), DeviceError, "[to] cannot copy from ", src_device, " to ", dst_device,
              ": CUDA is not available: ", cuda_unavailable_reason());
  // With unified addressing the runtime knows each pointer's side; the GPU involved is made
  // current so the copy runs in its context. Pageable host memory makes the copy synchronous.
  const Device gpu = src_device.is_cuda() ? src_device : dst_device;
  cuda_backend::DeviceGuard guard(gpu.normalized_index());
  RICCI_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, cudaMemcpyDefault), "to");
}

}  // namespace backend

}  // namespace ricci
