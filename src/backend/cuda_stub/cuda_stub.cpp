// The CUDA entry points of a build without CUDA (-DRICCI_CUDA=OFF): CUDA is simply unavailable,
// and everything that would need it says how to get it.
#include "backend/device_backend.h"
#include "ricci/device.h"
#include "ricci/error.h"

namespace ricci {

namespace {
constexpr const char* kReason = "ricci was built without CUDA support (configure with -DRICCI_CUDA=ON)";
}

namespace cuda {
bool is_available() { return false; }
int device_count() { return 0; }
void synchronize() { throw DeviceError(detail::cat("[cuda.synchronize] CUDA is not available: ", kReason)); }
}  // namespace cuda

namespace backend {
Allocator* cuda_allocator_or_null(int) { return nullptr; }
std::string cuda_unavailable_reason() { return kReason; }
void copy_bytes(void*, Device dst_device, const void*, Device src_device, size_t) {
  throw DeviceError(detail::cat("[to] cannot copy from ", src_device, " to ", dst_device,
                                ": CUDA is not available: ", kReason));
}
}  // namespace backend

}  // namespace ricci
