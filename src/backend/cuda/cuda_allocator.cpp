// The CUDA caching allocator: cudaMalloc and cudaFree synchronise the whole device and cost
// tens of microseconds, so freed blocks are kept by size class for the next tensor. All kernels
// run on the default stream, so a block freed by one op and reused by the next is ordered.
// Without a cache limit (as PyTorch): on out-of-memory the cache is emptied and the request retried.
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/cuda/cuda_common.h"
#include "backend/device_backend.h"
#include "core/size_class.h"

namespace ricci {

namespace {

class CudaCachingAllocator final : public Allocator {
 public:
  explicit CudaCachingAllocator(int index) : index_(index) {}

  void* allocate(size_t nbytes) override {
    RICCI_CHECK(nbytes <= detail::kMaxBlockBytes, DeviceError, "[allocate] CUDA out of memory on cuda:", index_,
                ": tried to allocate ", nbytes, " bytes, more than any device holds; use smaller tensors");
    const size_t block = detail::size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.num_allocs;
      auto it = free_.find(block);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        ++stats_.num_cache_hits;
        stats_.cached_bytes -= block;
        note_allocated(block);
        return p;
      }
    }
    cuda_backend::DeviceGuard guard(index_);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, block);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      empty_cache();
      err = cudaMalloc(&p, block);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      const AllocatorStats s = stats();
      throw DeviceError(detail::cat("[allocate] CUDA out of memory on cuda:", index_, ": tried to allocate ",
                                    nbytes, " bytes with ", s.allocated_bytes, " bytes in use (",
                                    cudaGetErrorString(err), "). Free some tensors or use smaller batches"));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    note_allocated(block);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t block = detail::size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.allocated_bytes -= block;
    stats_.cached_bytes += block;
    free_[block].push_back(ptr);
  }

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void empty_cache() override {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks.swap(free_);
      stats_.cached_bytes = 0;
    }
    if (blocks.empty()) return;
    cuda_backend::DeviceGuard guard(index_);
    for (auto& [size, list] : blocks)
      for (void* p : list) cudaFree(p);  // errors here (e.g. at process exit) leave nothing to do
  }

  void reset_peak_stats() override {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

  Device device() const override { return Device(DeviceType::CUDA, index_); }

 private:
  void note_allocated(size_t block) {
    stats_.allocated_bytes += block;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) stats_.peak_allocated_bytes = stats_.allocated_bytes;
  }

  const int index_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
};

}  // namespace

namespace backend {

Allocator* cuda_allocator_or_null(int index) {
  if (!cuda::is_available()) return nullptr;
  const int count = cuda::device_count();
  RICCI_CHECK(index >= 0 && index < count, DeviceError, "[to] CUDA device index ", index,
              " is out of range: this machine has ", count, " GPU(s) (use cuda:0 ... cuda:", count - 1, ")");
  // Leaked on purpose: tensors in static objects may be freed after static destructors ran.
  static std::mutex mutex;
  static std::vector<CudaCachingAllocator*>* allocators = new std::vector<CudaCachingAllocator*>(count, nullptr);
  std::lock_guard<std::mutex> lock(mutex);
  CudaCachingAllocator*& a = (*allocators)[index];
  if (!a) a = new CudaCachingAllocator(index);
  return a;
}

}  // namespace backend

}  // namespace ricci
