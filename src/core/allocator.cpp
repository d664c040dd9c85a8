// The CPU caching allocator and the per-device allocator lookup.
//
// Why cache at all: a fresh page costs microseconds to fault in, and glibc hands large blocks
// straight back to the kernel (mmap/munmap), so an op loop that allocates a 64 MiB output every
// iteration would pay for ~16k page faults each time. Keeping freed blocks by size class makes
// the second iteration free. Counters are in block bytes (the size class), like PyTorch's.
#include "ricci/allocator.h"

#include <sys/mman.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backend/device_backend.h"
#include "core/size_class.h"
#include "ricci/error.h"

namespace ricci {

namespace {

constexpr size_t kAlignment = 64;
// Blocks from here up are 2 MiB aligned and marked for transparent huge pages: one fault maps
// 2 MiB instead of 4 KiB (the kernel here runs THP in "madvise" mode, so it must be asked).
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeBlockMin = size_t{4} << 20;
constexpr size_t kDefaultCacheLimit = size_t{4} << 30;

// A byte count from the environment: digits with an optional K/M/G suffix ("512M"); `fallback`
// when unset or unreadable.
size_t bytes_from_env(const char* name, size_t fallback) {
  const char* s = std::getenv(name);
  if (!s || !*s) return fallback;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s) return fallback;  // unreadable: keep the default
  size_t shift = 0;
  switch (*end) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: break;
  }
  if (shift && v > (~0ull >> shift)) return fallback;  // "99999999999G": unreadable too
  return static_cast<size_t>(v) << shift;
}

// RICCI_CPU_CACHE_LIMIT: the most freed bytes kept for reuse; 0 disables caching.
size_t cache_limit_from_env() { return bytes_from_env("RICCI_CPU_CACHE_LIMIT", kDefaultCacheLimit); }

// The most one allocation may ask for: the machine's memory plus swap, or RICCI_CPU_MEMORY_LIMIT
// when that is lower (fuzzers and tests keep allocations small with it). A larger request cannot
// be served, but an overcommitting kernel (or a sanitizer's allocator) may still say yes and then
// kill the process when the pages are touched, so such requests get a clear error up front.
size_t machine_memory_bytes() {
  static const size_t bytes = [] {
    size_t machine = detail::kMaxBlockBytes;
    struct sysinfo info {};
    if (::sysinfo(&info) == 0) {
      const unsigned __int128 total =
          (static_cast<unsigned __int128>(info.totalram) + info.totalswap) * std::max<unsigned>(info.mem_unit, 1);
      if (total > 0 && total < detail::kMaxBlockBytes) machine = static_cast<size_t>(total);
    }
    return std::min(machine, bytes_from_env("RICCI_CPU_MEMORY_LIMIT", machine));
  }();
  return bytes;
}

std::string gib(size_t bytes) { return detail::cat(static_cast<double>(bytes) / static_cast<double>(size_t{1} << 30), " GiB"); }

void* system_alloc(size_t block) {
  const size_t align = block >= kHugeBlockMin ? kHugePage : kAlignment;
  void* p = nullptr;
  if (posix_memalign(&p, align, block) != 0) return nullptr;
  if (block >= kHugeBlockMin) madvise(p, block, MADV_HUGEPAGE);  // a hint: failure is harmless
  return p;
}

// The allocator's lock: held for a few dozen instructions (a list pop or push and the counters),
// where std::mutex's lock and unlock cost more than the work they guard on a tiny op. A waiter
// spins briefly, then yields its core (Note [Sharing two cores] in src/core/parallel.cpp: never
// spin against a thread that may be descheduled).
class SpinLock {
 public:
  void lock() {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) {
          std::this_thread::yield();
        } else {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        }
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

class CpuCachingAllocator final : public Allocator {
 public:
  CpuCachingAllocator() : cache_limit_(cache_limit_from_env()) {}

  void* allocate(size_t nbytes) override {
    RICCI_CHECK(nbytes <= machine_memory_bytes(), Error, "[allocate] CPU out of memory: tried to allocate ", nbytes,
                " bytes (", gib(nbytes), "), more than the ", gib(machine_memory_bytes()),
                " one allocation may take (this machine's memory and swap, or RICCI_CPU_MEMORY_LIMIT); use smaller "
                "tensors or batches");
    const size_t block = detail::size_class(nbytes);
    {
      std::lock_guard<SpinLock> lock(mutex_);
      ++stats_.num_allocs;
      std::vector<void*>* list = nullptr;
      if (block <= detail::kSmallClassLimit) {
        list = &small_free_[block / kAlignment - 1];
      } else if (auto it = free_.find(block); it != free_.end()) {
        list = &it->second;
      }
      if (list && !list->empty()) {
        void* p = list->back();
        list->pop_back();
        ++stats_.num_cache_hits;
        stats_.cached_bytes -= block;
        note_allocated(block);
        return p;
      }
    }
    void* p = system_alloc(block);
    if (!p) {
      // The cache may hold what we need in other size classes: give it back and retry once.
      empty_cache();
      p = system_alloc(block);
    }
    RICCI_CHECK(p != nullptr, Error, "[allocate] CPU out of memory: tried to allocate ", nbytes,
                " bytes. Free some tensors, use smaller batches, or lower RICCI_CPU_CACHE_LIMIT");
    std::lock_guard<SpinLock> lock(mutex_);
    note_allocated(block);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t block = detail::size_class(nbytes);
    {
      std::lock_guard<SpinLock> lock(mutex_);
      stats_.allocated_bytes -= block;
      if (stats_.cached_bytes + block <= cache_limit_) {
        (block <= detail::kSmallClassLimit ? small_free_[block / kAlignment - 1] : free_[block]).push_back(ptr);
        stats_.cached_bytes += block;
        return;
      }
    }
    std::free(ptr);  // over the cache limit: back to the system, outside the lock
  }

  AllocatorStats stats() const override {
    std::lock_guard<SpinLock> lock(mutex_);
    return stats_;
  }

  void empty_cache() override {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    std::vector<void*> small[kSmallClasses];
    {
      std::lock_guard<SpinLock> lock(mutex_);
      blocks.swap(free_);
      for (size_t i = 0; i < kSmallClasses; ++i) small[i].swap(small_free_[i]);
      stats_.cached_bytes = 0;
    }
    for (auto& [size, list] : blocks)
      for (void* p : list) std::free(p);
    for (auto& list : small)
      for (void* p : list) std::free(p);
  }

  void reset_peak_stats() override {
    std::lock_guard<SpinLock> lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

  Device device() const override { return kCPU; }

 private:
  void note_allocated(size_t block) {
    stats_.allocated_bytes += block;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

  static constexpr size_t kSmallClasses = detail::kSmallClassLimit / kAlignment;
  mutable SpinLock mutex_;
  std::vector<void*> small_free_[kSmallClasses];         // classes of 64 .. 512 B, by index
  std::unordered_map<size_t, std::vector<void*>> free_;  // larger size class -> cached blocks
  AllocatorStats stats_;
  const size_t cache_limit_;
};

}  // namespace

Allocator& cpu_allocator() {
  // Deliberately leaked: tensors held in static objects may be freed after this file's statics
  // would have been destroyed.
  static CpuCachingAllocator* allocator = new CpuCachingAllocator();
  return *allocator;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  Allocator* cuda = backend::cuda_allocator_or_null(device.normalized_index());
  RICCI_CHECK(cuda != nullptr, DeviceError, "[to] CUDA is not available: ", backend::cuda_unavailable_reason());
  return *cuda;
}

AllocatorStats memory_stats(Device device) { return allocator_for(device).stats(); }

void empty_cache(Device device) { allocator_for(device).empty_cache(); }

}  // namespace ricci
