#pragma once
// How graph nodes are allocated and freed (see Note [Freeing deep graphs]). Every Node subclass
// is made with make_node<T>(...) so that freeing a long chain is a loop, not a recursion.
#include <memory>
#include <type_traits>
#include <vector>

#include "ricci/autograd.h"

namespace ricci::autograd {
namespace detail_alloc {

// Note [Freeing deep graphs]: a node owns its next nodes (edges) and, through saved tensors, the
// grad_fn of its inputs, so dropping the root of a chain of n ops would run n nested destructors
// and overflow the stack near a million ops (an RNN unrolled over a long sequence, a scalar loop).
// Nodes therefore die through NodeAllocator::destroy, which parks the next nodes in a thread-local
// list before running the destructor and lets only the outermost call drain that list: the
// recursion becomes a loop. The same allocator keeps freed node blocks on a free list, because a
// backward pass frees thousands of nodes in a row, past what malloc's per-thread caches absorb.
// Thread-locals die before the statics of the main thread: a node freed after that (a global
// holding a graph) must not touch them. These flags are trivially destructible, so they stay
// readable during thread exit.
inline thread_local bool graveyard_gone = false;
struct NodeGraveyard {
  std::vector<std::shared_ptr<Node>> pending;
  bool draining = false;
  ~NodeGraveyard() { graveyard_gone = true; }
};
inline thread_local NodeGraveyard graveyard;

// One free list per block size (the shared_ptr control block with the Node inside).
template <size_t Bytes>
struct BlockPool {
  static constexpr size_t kMaxCached = 1 << 16;
  std::vector<void*> free;
  ~BlockPool() {
    for (void* p : free) ::operator delete(p);
    gone() = true;
  }
  static bool& gone() {
    thread_local bool g = false;
    return g;
  }
};

template <class T>
struct NodeAllocator {
  using value_type = T;
  NodeAllocator() = default;
  template <class U>
  NodeAllocator(const NodeAllocator<U>&) {}

  static BlockPool<sizeof(T)>& pool() {
    thread_local BlockPool<sizeof(T)> p;
    return p;
  }
  T* allocate(size_t n) {
    if (BlockPool<sizeof(T)>::gone()) return static_cast<T*>(::operator new(n * sizeof(T)));
    auto& p = pool();
    if (n == 1 && !p.free.empty()) {
      void* b = p.free.back();
      p.free.pop_back();
      return static_cast<T*>(b);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* ptr, size_t n) {
    if (BlockPool<sizeof(T)>::gone()) {
      ::operator delete(ptr);
      return;
    }
    auto& p = pool();
    if (n == 1 && p.free.size() < BlockPool<sizeof(T)>::kMaxCached) {
      p.free.push_back(ptr);
      return;
    }
    ::operator delete(ptr);
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  void destroy(U* p) {
    if constexpr (std::is_base_of_v<Node, U>) {
      if (graveyard_gone) {
        p->~U();
        return;
      }
      NodeGraveyard& g = graveyard;
      // The next nodes move to the graveyard (no reference-count traffic): the node is dying.
      for (Edge& e : static_cast<Node*>(p)->next_edges_) {
        if (e.node) g.pending.push_back(std::move(e.node));
      }
      p->~U();
      if (g.draining) return;
      g.draining = true;
      while (!g.pending.empty()) {
        std::shared_ptr<Node> n = std::move(g.pending.back());
        g.pending.pop_back();
        n.reset();  // may push more nodes, drained by this loop
      }
      g.draining = false;
    } else {
      p->~U();
    }
  }
  template <class U>
  bool operator==(const NodeAllocator<U>&) const { return true; }
};

}  // namespace detail_alloc

template <class T, class... Args>
std::shared_ptr<T> make_node(Args&&... args) {
  return std::allocate_shared<T>(detail_alloc::NodeAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace ricci::autograd
