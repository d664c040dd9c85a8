#pragma once
// Per-device allocators. The CPU allocator hands out 64-byte aligned blocks and keeps freed blocks
// in size classes for reuse: on this class of machine a fresh 4 KiB page costs ~3.5 us to fault
// in, so allocating a new buffer for every op would throw most of the memory bandwidth away.
#include <cstddef>
#include <cstdint>

#include "ricci/device.h"

namespace ricci {

struct AllocatorStats {
  size_t allocated_bytes = 0;   // live: handed out and not yet returned
  size_t cached_bytes = 0;      // returned and kept for reuse
  size_t peak_allocated_bytes = 0;
  size_t num_allocs = 0;        // requests served
  size_t num_cache_hits = 0;    // requests served from the cache
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void empty_cache() = 0;      // give cached blocks back to the system
  virtual void reset_peak_stats() = 0;
  virtual Device device() const = 0;
};

// One CPU allocation may take at most the machine's memory plus swap (or RICCI_CPU_MEMORY_LIMIT,
// bytes with an optional K/M/G suffix, when lower): a larger request throws Error "[allocate] CPU
// out of memory ..." before asking the system, which might overcommit and kill the process later.
// The allocator of a device. CUDA throws DeviceError when CUDA is unavailable.
Allocator& allocator_for(Device device);
Allocator& cpu_allocator();

// Convenience: the CPU allocator's counters, as tests and benchmarks read them.
AllocatorStats memory_stats(Device device = kCPU);
void empty_cache(Device device = kCPU);

}  // namespace ricci
