#pragma once
// How graph nodes are allocated and freed (see Note [Freeing deep graphs]). Every Node subclass
// is made with make_node<T>(...) so that freeing a long chain is a loop, not a recursion.
#include <memory>
#include <type_traits>
#include <vector>

#include "core/object_pool.h"
#include "ricci/autograd.h"

namespace ricci::autograd {
namespace detail_alloc {

// Note [Freeing deep graphs]: a node owns its next nodes (edges) and, through saved tensors, the
// grad_fn of its inputs, so dropping the root of a chain of n ops would run n nested destructors
// and overflow the stack near a million ops (an RNN unrolled over a long sequence, a scalar loop).
// Nodes therefore die through NodeAllocator::destroy, which parks the next nodes in a thread-local
// list before running the destructor and lets only the outermost call drain that list: the
// recursion becomes a loop. The same allocator keeps freed node blocks on a per-thread free list,
// because a backward pass frees thousands of nodes in a row, past what malloc's caches absorb; and
// a node keeps its edges, output metadata and saved tensors inside itself (detail::InlineVector),
// so freeing one frees no other block.
// Thread-locals die before the statics of the main thread: a node freed after that (a global
// holding a graph) must not touch them. Both the graveyard's state and the block caches (Note
// [Thread block caches] in src/core/object_pool.h) are trivially destructible, initial-exec
// thread-locals: one load each on every free, no __tls_get_addr call (ricci is a shared library)
// and no guard; what needs freeing at thread exit is freed by a reaper registered on first use.
struct NodeGraveyard {
  std::vector<std::shared_ptr<Node>>* pending;  // made on first use
  bool draining;
  bool gone;  // the thread is exiting: free nodes directly
};
inline thread_local constinit NodeGraveyard graveyard __attribute__((tls_model("initial-exec"))) = {nullptr, false, false};

struct GraveyardReaper {
  ~GraveyardReaper() {
    graveyard.gone = true;
    delete graveyard.pending;
    graveyard.pending = nullptr;
  }
};
[[gnu::noinline]] inline std::vector<std::shared_ptr<Node>>& make_graveyard() {
  static thread_local GraveyardReaper reaper;
  (void)&reaper;
  graveyard.pending = new std::vector<std::shared_ptr<Node>>();
  return *graveyard.pending;
}

template <class T>
struct NodeAllocator {
  using value_type = T;
  NodeAllocator() = default;
  template <class U>
  NodeAllocator(const NodeAllocator<U>&) {}

  // A backward pass frees a whole graph in a row: keep up to 2^18 node blocks per thread (about
  // 100 MiB of ~400-byte nodes, held only by a thread that once freed a graph that large — the
  // memory that graph needed anyway, and what malloc's arenas would keep too). With 2^16, a
  // 100k-op graph sent a third of its nodes through malloc and free: teardown took 1.7x longer.
  using Cache = ricci::detail::ThreadBlockCache<sizeof(T), size_t{1} << 18>;
  T* allocate(size_t n) {
    if (n == 1) return static_cast<T*>(Cache::allocate());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* ptr, size_t n) {
    if (n == 1) return Cache::deallocate(ptr);
    ::operator delete(ptr);
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  void destroy(U* p) {
    if constexpr (std::is_base_of_v<Node, U>) {
      NodeGraveyard& g = graveyard;
      if (g.gone) [[unlikely]] {
        p->~U();
        return;
      }
      std::vector<std::shared_ptr<Node>>& pending = g.pending ? *g.pending : make_graveyard();
      // The next nodes move to the graveyard (no reference-count traffic): the node is dying.
      // Their blocks are fetched now, while this one is destroyed: freeing a chain is otherwise
      // one cache miss after another (the next node's address is in this one), and a graph that
      // backward just walked is mostly out of the cache again.
      for (Edge& e : static_cast<Node*>(p)->next_edges_) {
        if (e.node) {
          prefetch_block(e.node.get());
          pending.push_back(std::move(e.node));
        }
      }
      p->~U();
      if (g.draining) return;
      g.draining = true;
      while (!pending.empty()) {
        std::shared_ptr<Node> n = std::move(pending.back());
        pending.pop_back();
        n.reset();  // may push more nodes, drained by this loop
      }
      g.draining = false;
    } else {
      p->~U();
    }
  }
  template <class U>
  bool operator==(const NodeAllocator<U>&) const { return true; }
  // The cache lines of a node's block (the shared_ptr's counts sit just before the node).
  static void prefetch_block(const Node* n) {
    const char* b = reinterpret_cast<const char*>(n) - 16;
    for (size_t off = 0; off < sizeof(Node) + 16; off += 64) __builtin_prefetch(b + off, 1);
  }
};

}  // namespace detail_alloc

template <class T, class... Args>
std::shared_ptr<T> make_node(Args&&... args) {
  return std::allocate_shared<T>(detail_alloc::NodeAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace ricci::autograd
