#pragma once
// A refcount that lives in the object. Tensor handles are copied on every op; an intrusive count
// is one atomic increment and no separate control block (cheaper than std::shared_ptr).
#include <atomic>
#include <cstdint>
#include <utility>

namespace ricci::detail {

class RefCounted {
 public:
  RefCounted() = default;
  RefCounted(const RefCounted&) : refcount_(0) {}
  RefCounted& operator=(const RefCounted&) { return *this; }
  uint32_t use_count() const { return refcount_.load(std::memory_order_relaxed); }

 protected:
  virtual ~RefCounted() = default;

 private:
  template <class T> friend class IntrusivePtr;
  void retain() const { refcount_.fetch_add(1, std::memory_order_relaxed); }
  // A new reference unless the count already reached zero (the object is being destroyed).
  bool try_retain() const {
    uint32_t n = refcount_.load(std::memory_order_relaxed);
    while (n != 0 && !refcount_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) {
    }
    return n != 0;
  }
  bool release() const { return refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  mutable std::atomic<uint32_t> refcount_{0};
};

template <class T>
class IntrusivePtr {
 public:
  IntrusivePtr() = default;
  IntrusivePtr(std::nullptr_t) {}
  explicit IntrusivePtr(T* p) : p_(p) {
    if (p_) p_->retain();
  }
  IntrusivePtr(const IntrusivePtr& o) : p_(o.p_) {
    if (p_) p_->retain();
  }
  IntrusivePtr(IntrusivePtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  IntrusivePtr(const IntrusivePtr<U>& o) : IntrusivePtr(static_cast<T*>(o.get())) {}
  IntrusivePtr& operator=(IntrusivePtr o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~IntrusivePtr() { reset(); }
  // A strong reference to `p` if it is still alive, else null: a weak reference's lock(). The
  // caller must know that p's memory is valid (its owner's destructor has not finished).
  static IntrusivePtr retain_if_alive(T* p) {
    IntrusivePtr r;
    if (p && p->try_retain()) r.p_ = p;
    return r;
  }
  void reset() {
    if (p_ && p_->release()) delete p_;
    p_ = nullptr;
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const IntrusivePtr& o) const { return p_ == o.p_; }
  uint32_t use_count() const { return p_ ? p_->use_count() : 0; }

 private:
  T* p_ = nullptr;
};

template <class T, class... Args>
IntrusivePtr<T> make_intrusive(Args&&... args) {
  return IntrusivePtr<T>(new T(std::forward<Args>(args)...));
}

}  // namespace ricci::detail
