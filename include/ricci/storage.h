#pragma once
// Storage: bytes on one device, shared by every tensor that views them. A view is nothing but
// another TensorImpl pointing at the same Storage with other sizes/strides/offset.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ricci/allocator.h"
#include "ricci/detail/intrusive_ptr.h"
#include "ricci/device.h"

namespace ricci {

class Storage : public detail::RefCounted {
 public:
  // Fresh memory from the device's allocator.
  Storage(size_t nbytes, Device device);
  // Memory someone else owns (an mmap'ed file, a user buffer); `deleter(ctx)` runs when the last
  // tensor viewing it goes away (nullptr: never freed by ricci).
  using Deleter = void (*)(void* ctx);
  Storage(void* data, size_t nbytes, Device device, Deleter deleter, void* ctx);
  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // The version counter that in-place ops bump; autograd compares it with the version a saved
  // tensor had when it was saved. Shared by all views of this storage.
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;  // set when allocated here
  Deleter deleter_ = nullptr;
  void* deleter_ctx_ = nullptr;
  std::atomic<uint32_t> version_{0};
};

using StoragePtr = detail::IntrusivePtr<Storage>;

}  // namespace ricci
