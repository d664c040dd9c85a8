#pragma once
// The seam between the core and a device backend that may not be compiled in. The CUDA backend
// (src/backend/cuda/) implements these; without CUDA, src/backend/cuda_stub/ does, so the core
// never needs #ifdefs.
#include <cstddef>
#include <string>

#include "ricci/allocator.h"
#include "ricci/device.h"

namespace ricci::backend {

// The caching allocator of CUDA device `index` (>= 0), or nullptr when CUDA is unavailable (not
// built in, or no driver/GPU). Throws DeviceError when the index names a GPU that doesn't exist.
Allocator* cuda_allocator_or_null(int index);

// Why CUDA is unavailable, as the tail of an error message ("ricci was built without ...").
std::string cuda_unavailable_reason();

// Copies nbytes between any two devices where at least one is CUDA (cpu<->cuda, cuda<->cuda);
// synchronous. Throws DeviceError without CUDA.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

}  // namespace ricci::backend
