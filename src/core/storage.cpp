// Storage: bytes on one device. Either fresh from the device's allocator (given back to it on
// destruction, where the caching allocator keeps it for the next tensor of the same size), or
// memory someone else owns, released through their deleter, or — for lazy tensors — a placeholder
// that gets its bytes when the op recorded for it runs (Note [Lazy tensors], src/lazy/lazy.cpp).
#include "ricci/storage.h"

#include "core/object_pool.h"
#include "lazy/lazy_detail.h"

namespace ricci {

Storage::Storage(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(&allocator_for(device)) {
  data_ = allocator_->allocate(nbytes);
}

Storage::Storage(void* data, size_t nbytes, Device device, Deleter deleter, void* ctx)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(deleter), deleter_ctx_(ctx) {}

Storage::Storage(Deferred, size_t nbytes, Device device) : nbytes_(nbytes), device_(device), deferred_(true) {}

Storage::~Storage() {
  if (pending_) lazy::detail::forget_placeholder(*pending_, this);
  if (allocator_) {
    allocator_->deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(deleter_ctx_);
  }
}

void* Storage::operator new(size_t bytes) {
  if (bytes != sizeof(Storage)) return ::operator new(bytes);
  return detail::ThreadBlockCache<sizeof(Storage)>::allocate();
}

void Storage::operator delete(void* p, size_t bytes) {
  if (bytes != sizeof(Storage)) return ::operator delete(p);
  detail::ThreadBlockCache<sizeof(Storage)>::deallocate(p);
}

void Storage::forward_to(const detail::IntrusivePtr<Storage>& real) {
  forward_ = real;
  data_ = real->data_;
  nbytes_ = real->nbytes_;
  deferred_ = false;
  pending_.reset();
}

}  // namespace ricci
