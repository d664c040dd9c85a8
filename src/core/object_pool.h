#pragma once
// Note [Thread block caches]: a tiny op makes and frees a TensorImpl and a Storage every call;
// through malloc that was about a tenth of its instructions (glibc's free of a 200-byte chunk
// alone ~90). Each thread keeps up to kMaxCached freed blocks per object size in a singly linked
// list instead. A block freed on another thread joins that thread's list (blocks are plain
// memory). When the thread ends its list is freed; a block freed after that goes to the system.
#include <cstddef>
#include <new>

namespace ricci::detail {

template <size_t Bytes, size_t MaxCached = 4096>
class ThreadBlockCache {
 public:
  static constexpr size_t kMaxCached = MaxCached;

  static void* allocate() {
#if defined(__SANITIZE_ADDRESS__)
    return ::operator new(Bytes);  // ASan sees every object's lifetime
#endif
    State& s = state;
    if (s.head) [[likely]] {
      Link* b = s.head;
      s.head = b->next;
      --s.count;
      return b;
    }
    return ::operator new(Bytes);
  }
  static void deallocate(void* p) {
#if defined(__SANITIZE_ADDRESS__)
    ::operator delete(p);
    return;
#endif
    State& s = state;
    if (s.count < kMaxCached && !s.gone) [[likely]] {
      if (!s.registered) [[unlikely]] register_reaper(s);
      auto* b = static_cast<Link*>(p);
      b->next = s.head;
      s.head = b;
      ++s.count;
      return;
    }
    ::operator delete(p);
  }

 private:
  struct Link {
    Link* next;
  };
  static_assert(Bytes >= sizeof(Link));
  // Trivially destructible, so reading it costs one TLS load (no guard, no registration).
  struct State {
    Link* head;
    size_t count;
    bool registered;
    bool gone;
  };
  static inline thread_local constinit State state __attribute__((tls_model("initial-exec"))) = {nullptr, 0, false, false};
  // Frees the list when the thread ends; registered on the first deallocation only.
  struct Reaper {
    ~Reaper() {
      State& s = state;
      s.gone = true;
      while (s.head) {
        Link* n = s.head->next;
        ::operator delete(s.head);
        s.head = n;
      }
      s.count = 0;
    }
  };
  [[gnu::noinline]] static void register_reaper(State& s) {
    static thread_local Reaper reaper;
    (void)&reaper;
    s.registered = true;
  }
};

}  // namespace ricci::detail
