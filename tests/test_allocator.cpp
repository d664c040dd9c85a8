// The CPU caching allocator and Storage: alignment, reuse of freed blocks, counters, emptying the
// cache, external memory, and many threads at once.
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using ricci::AllocatorStats;
using ricci::cpu_allocator;
using ricci::kCPU;

TEST(Allocator, BlocksAre64ByteAligned) {
  ricci::Allocator& a = cpu_allocator();
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{4096},
                   size_t{100000}, size_t{1} << 20, size_t{5} << 20}) {
    void* p = a.allocate(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << n;
    if (n) std::memset(p, 0xab, n);  // the whole request is writable
    a.deallocate(p, n);
  }
}

TEST(Allocator, ZeroBytesGivesDistinctValidPointers) {
  ricci::Allocator& a = cpu_allocator();
  void* p = a.allocate(0);
  void* q = a.allocate(0);
  EXPECT_NE(p, nullptr);
  EXPECT_NE(q, nullptr);
  EXPECT_NE(p, q);
  a.deallocate(p, 0);
  a.deallocate(q, 0);
}

TEST(Allocator, FreedBlockIsReused) {
  ricci::Allocator& a = cpu_allocator();
  const size_t n = 123457;  // an unusual size, so no other test's block is cached for it
  void* p = a.allocate(n);
  a.deallocate(p, n);
  const AllocatorStats before = a.stats();
  void* q = a.allocate(n);
  const AllocatorStats after = a.stats();
  EXPECT_EQ(q, p);
  EXPECT_EQ(after.num_cache_hits, before.num_cache_hits + 1);
  EXPECT_EQ(after.num_allocs, before.num_allocs + 1);
  // A slightly different size in the same class reuses it too.
  a.deallocate(q, n);
  void* r = a.allocate(n - 100);
  EXPECT_EQ(r, p);
  a.deallocate(r, n - 100);
}

TEST(Allocator, LargeTensorReallocatesIntoTheSameBlock) {
  ricci::Allocator& a = cpu_allocator();
  const size_t n = size_t{64} << 20;
  void* p = a.allocate(n);
  static_cast<char*>(p)[n - 1] = 1;
  a.deallocate(p, n);
  const size_t hits = a.stats().num_cache_hits;
  void* q = a.allocate(n);
  EXPECT_EQ(q, p);
  EXPECT_EQ(a.stats().num_cache_hits, hits + 1);
  a.deallocate(q, n);
  a.empty_cache();
}

TEST(Allocator, Counters) {
  ricci::Allocator& a = cpu_allocator();
  a.empty_cache();
  const AllocatorStats s0 = a.stats();
  EXPECT_EQ(s0.cached_bytes, 0u);
  const size_t n = 10000;
  void* p = a.allocate(n);
  const AllocatorStats s1 = a.stats();
  const size_t block = s1.allocated_bytes - s0.allocated_bytes;  // counted in size-class bytes
  EXPECT_GE(block, n);
  EXPECT_LE(block, n + 512);
  EXPECT_GE(s1.peak_allocated_bytes, s1.allocated_bytes);
  EXPECT_EQ(s1.num_allocs, s0.num_allocs + 1);

  a.deallocate(p, n);
  const AllocatorStats s2 = a.stats();
  EXPECT_EQ(s2.allocated_bytes, s0.allocated_bytes);
  EXPECT_EQ(s2.cached_bytes, block);
  EXPECT_EQ(s2.peak_allocated_bytes, s1.peak_allocated_bytes);  // the peak stays

  a.reset_peak_stats();
  EXPECT_EQ(a.stats().peak_allocated_bytes, s0.allocated_bytes);

  a.empty_cache();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
  EXPECT_EQ(a.stats().allocated_bytes, s0.allocated_bytes);
}

TEST(Allocator, MemoryStatsAndEmptyCacheForTheCpu) {
  void* p = cpu_allocator().allocate(3000);
  cpu_allocator().deallocate(p, 3000);
  EXPECT_GT(ricci::memory_stats().cached_bytes, 0u);
  EXPECT_EQ(ricci::memory_stats(kCPU).num_allocs, cpu_allocator().stats().num_allocs);
  ricci::empty_cache();
  EXPECT_EQ(ricci::memory_stats(kCPU).cached_bytes, 0u);
  EXPECT_EQ(&ricci::allocator_for(kCPU), &cpu_allocator());
  EXPECT_EQ(cpu_allocator().device(), kCPU);
}

TEST(Storage, AllocatesAndReturnsToTheCache) {
  ricci::empty_cache();
  const AllocatorStats s0 = ricci::memory_stats();
  {
    ricci::StoragePtr s = ricci::detail::make_intrusive<ricci::Storage>(4000, kCPU);
    EXPECT_EQ(s->nbytes(), 4000u);
    EXPECT_EQ(s->device(), kCPU);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s->data()) % 64, 0u);
    EXPECT_GT(ricci::memory_stats().allocated_bytes, s0.allocated_bytes);
    EXPECT_EQ(s->version(), 0u);
    s->bump_version();
    EXPECT_EQ(s->version(), 1u);
  }
  EXPECT_EQ(ricci::memory_stats().allocated_bytes, s0.allocated_bytes);
  EXPECT_GT(ricci::memory_stats().cached_bytes, 0u);
  ricci::StoragePtr empty = ricci::detail::make_intrusive<ricci::Storage>(0, kCPU);
  EXPECT_NE(empty->data(), nullptr);
}

int g_deleted = 0;
void count_delete(void* ctx) {
  ++g_deleted;
  delete[] static_cast<float*>(ctx);
}

TEST(Storage, ExternalMemoryUsesTheDeleter) {
  g_deleted = 0;
  float* buffer = new float[16];
  {
    ricci::StoragePtr s = ricci::detail::make_intrusive<ricci::Storage>(buffer, 64, kCPU, &count_delete, buffer);
    EXPECT_EQ(s->data(), buffer);
    EXPECT_EQ(s->nbytes(), 64u);
    EXPECT_EQ(g_deleted, 0);
  }
  EXPECT_EQ(g_deleted, 1);
  float local[4] = {};
  {  // nullptr deleter: ricci never frees it
    ricci::StoragePtr s = ricci::detail::make_intrusive<ricci::Storage>(local, sizeof(local), kCPU, nullptr, nullptr);
  }
  EXPECT_EQ(g_deleted, 1);
}

TEST(Allocator, ThreadSafety) {
  ricci::Allocator& a = cpu_allocator();
  const size_t live_before = a.stats().allocated_bytes;
  const size_t allocs_before = a.stats().num_allocs;
  constexpr int kThreads = 4, kIters = 5000;
  std::vector<std::thread> threads;
  std::atomic<int> corrupt{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<std::pair<unsigned char*, size_t>> held;
      for (int i = 0; i < kIters; ++i) {
        if (held.size() < 8 && (rng() % 2 || held.empty())) {
          const size_t n = rng() % 20000;
          auto* p = static_cast<unsigned char*>(a.allocate(n));
          std::memset(p, t + 1, n);
          held.emplace_back(p, n);
        } else {
          auto [p, n] = held.back();
          held.pop_back();
          for (size_t k = 0; k < n; k += 97)
            if (p[k] != t + 1) corrupt++;  // someone else was handed our live block
          a.deallocate(p, n);
        }
      }
      for (auto [p, n] : held) a.deallocate(p, n);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_EQ(a.stats().allocated_bytes, live_before);
  EXPECT_GE(a.stats().num_allocs, allocs_before + kThreads);
}

}  // namespace

namespace {

// Note [Thread block caches] (src/core/object_pool.h): tensors made on one thread and freed on
// another, by threads that then exit, and made again; values stay right and nothing is shared.
TEST(ThreadBlockCache, TensorsCrossThreadsAndOutliveTheirMakers) {
  std::vector<ricci::Tensor> made;
  std::thread maker([&] {
    for (int i = 0; i < 2000; ++i) made.push_back(ricci::full({1}, static_cast<double>(i), ricci::float32));
  });
  maker.join();  // its cache is gone; its tensors live on
  std::thread freer([&] { made.resize(1000); });  // freed into another thread's cache
  freer.join();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(made[static_cast<size_t>(i)].item<float>(), static_cast<float>(i));
  made.clear();  // and into this one's
  std::vector<ricci::Tensor> again;
  for (int i = 0; i < 3000; ++i) again.push_back(ricci::full({2}, static_cast<double>(i), ricci::float32) + 1);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(again[static_cast<size_t>(i)].sum().item<float>(), 2.0f * (i + 1)) << i;
}

}  // namespace
