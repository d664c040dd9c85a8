#pragma once
// Storage: bytes on one device, shared by every tensor that views them. A view is nothing but
// another TensorImpl pointing at the same Storage with other sizes/strides/offset.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "ricci/allocator.h"
#include "ricci/detail/intrusive_ptr.h"
#include "ricci/device.h"

namespace ricci {
namespace lazy {
class PendingOp;
}

class Storage : public detail::RefCounted {
 public:
  // Fresh memory from the device's allocator.
  Storage(size_t nbytes, Device device);
  // Memory someone else owns (an mmap'ed file, a user buffer); `deleter(ctx)` runs when the last
  // tensor viewing it goes away (nullptr: never freed by ricci).
  using Deleter = void (*)(void* ctx);
  Storage(void* data, size_t nbytes, Device device, Deleter deleter, void* ctx);
  // Note [Lazy tensors] (src/lazy/lazy.cpp): a placeholder for bytes that a recorded op will
  // produce. It holds no memory; `pending()` is the op that fills it (null while an op's shapes
  // are being inferred). Evaluation either hands the result's storage to the tensor directly or,
  // for other tensors sharing the placeholder, makes it forward to that storage.
  struct Deferred {};
  Storage(Deferred, size_t nbytes, Device device);
  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // The version counter that in-place ops bump; autograd compares it with the version a saved
  // tensor had when it was saved. Shared by all views of this storage.
  uint32_t version() const { return counter().load(std::memory_order_relaxed); }
  void bump_version() { counter().fetch_add(1, std::memory_order_relaxed); }

  // Lazy evaluation (Note [Lazy tensors]): true while the bytes do not exist yet.
  bool is_deferred() const { return deferred_; }
  const std::shared_ptr<lazy::PendingOp>& pending() const { return pending_; }
  // Attaches (or, with nullptr, detaches) the op that will fill this placeholder.
  void set_pending(std::shared_ptr<lazy::PendingOp> op) { pending_ = std::move(op); }
  // The placeholder's bytes are `real`'s from now on (data, size and version counter).
  void forward_to(const detail::IntrusivePtr<Storage>& real);
  // From a per-thread cache of freed blocks (Note [Thread block caches] in src/core/object_pool.h).
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

 private:
  std::atomic<uint32_t>& counter() const { return forward_ ? forward_->version_ : version_; }
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;  // set when allocated here
  Deleter deleter_ = nullptr;
  void* deleter_ctx_ = nullptr;
  mutable std::atomic<uint32_t> version_{0};
  bool deferred_ = false;
  std::shared_ptr<lazy::PendingOp> pending_;
  detail::IntrusivePtr<Storage> forward_;  // a filled placeholder's real storage
};

using StoragePtr = detail::IntrusivePtr<Storage>;

}  // namespace ricci
