// The intra-op thread pool: thread budget, exact coverage of every range, chunk sizes, nesting,
// exceptions, concurrent callers, and the cost of a parallel_for.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using ricci::get_num_threads;
using ricci::parallel_for;
using ricci::set_num_threads;

// Restores the thread budget a test changed.
struct ThreadsGuard {
  int saved = get_num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

TEST(Parallel, DefaultAndSetNumThreads) {
  ThreadsGuard guard;
  EXPECT_GE(get_num_threads(), 1);
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
}

TEST(Parallel, SetNumThreadsRejectsLessThanOne) {
  ThreadsGuard guard;
  EXPECT_THROW_MSG(set_num_threads(0), ricci::ValueError, "[set_num_threads]");
  EXPECT_THROW_MSG(set_num_threads(-2), ricci::ValueError, "at least 1");
}

TEST(Parallel, CoversEveryIndexExactlyOnce) {
  ThreadsGuard guard;
  const std::vector<std::pair<int64_t, int64_t>> ranges = {{0, 0}, {5, 3}, {0, 1}, {7, 8}, {0, 10}, {3, 1000},
                                                           {-50, 50}, {0, 4097}, {11, 100003}};
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    for (const auto& range : ranges) {
      const int64_t begin = range.first, end = range.second;  // clang 14 cannot capture a structured binding
      for (int64_t grain : {1, 2, 7, 100, 4096, 32768}) {
        const int64_t n = std::max<int64_t>(end - begin, 0);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::mutex m;
        std::vector<std::pair<int64_t, int64_t>> chunks;
        parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
          {
            std::lock_guard<std::mutex> lock(m);
            chunks.emplace_back(b, e);
          }
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i - begin)].fetch_add(1);
        });
        const std::string where = "threads=" + std::to_string(threads) + " range=[" + std::to_string(begin) + "," +
                                  std::to_string(end) + ") grain=" + std::to_string(grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << where << " i=" << i;
        if (n == 0) {
          EXPECT_TRUE(chunks.empty()) << where;
          continue;
        }
        EXPECT_LE(static_cast<int>(chunks.size()), threads) << where;
        for (auto [b, e] : chunks) {
          EXPECT_LT(b, e) << where;
          if (chunks.size() > 1) {
            EXPECT_GE(e - b, grain) << where;  // split only into chunks >= grain
          }
        }
      }
    }
  }
}

TEST(Parallel, UsesSeveralThreads) {
  ThreadsGuard guard;
  set_num_threads(4);
  std::mutex m;
  std::set<std::thread::id> ids;
  // On a loaded machine the caller may finish every chunk before a worker is scheduled, so try a
  // few times: a pool that never uses a second thread still fails.
  for (int attempt = 0; attempt < 10 && ids.size() < 2; ++attempt) {
    parallel_for(0, 4, 1, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // long enough for workers to wake
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_GE(ids.size(), 2u);
}

TEST(Parallel, InParallelRegion) {
  ThreadsGuard guard;
  set_num_threads(2);
  EXPECT_FALSE(ricci::in_parallel_region());
  std::atomic<int> inside{0};
  parallel_for(0, 1000, 10, [&](int64_t, int64_t) { inside += ricci::in_parallel_region() ? 1 : 0; });
  EXPECT_GE(inside.load(), 1);
  EXPECT_FALSE(ricci::in_parallel_region());
}

TEST(Parallel, NestedCallsRunInline) {
  ThreadsGuard guard;
  set_num_threads(4);
  std::vector<std::atomic<int>> hits(100 * 100);
  parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
    const auto outer_thread = std::this_thread::get_id();
    for (int64_t i = b; i < e; ++i) {
      parallel_for(0, 100, 1, [&](int64_t b2, int64_t e2) {
        EXPECT_EQ(std::this_thread::get_id(), outer_thread);  // nested: serial, same thread
        EXPECT_TRUE(ricci::in_parallel_region());
        for (int64_t j = b2; j < e2; ++j) hits[static_cast<size_t>(i * 100 + j)].fetch_add(1);
      });
    }
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(Parallel, ExceptionsPropagateToTheCaller) {
  ThreadsGuard guard;
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    for (int64_t bad : {0, 500, 999}) {
      EXPECT_THROW_MSG(parallel_for(0, 1000, 1,
                                    [&](int64_t b, int64_t e) {
                                      if (b <= bad && bad < e) throw ricci::ShapeError("[test] boom");
                                    }),
                       ricci::ShapeError, "[test] boom");
    }
    EXPECT_THROW(parallel_for(0, 10, 1, [](int64_t, int64_t) { throw std::runtime_error("all"); }), std::runtime_error);
    // The pool is still fine afterwards.
    std::atomic<int64_t> sum{0};
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
    EXPECT_EQ(sum.load(), 999 * 1000 / 2);
    EXPECT_FALSE(ricci::in_parallel_region());
  }
}

TEST(Parallel, ConcurrentCallersAreEachCorrect) {
  ThreadsGuard guard;
  set_num_threads(3);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int rep = 0; rep < 200; ++rep) {
        const int64_t n = 1000 + t * 37 + rep;
        std::atomic<int64_t> sum{0};
        parallel_for(0, n, 16, [&](int64_t b, int64_t e) {
          int64_t s = 0;
          for (int64_t i = b; i < e; ++i) s += i;
          sum += s;
        });
        if (sum.load() != n * (n - 1) / 2) failures++;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Parallel, OverheadOfASmallParallelFor) {
  // Not a pass/fail timing (the machine may be loaded): prints the cost per call for the record.
  ThreadsGuard guard;
  set_num_threads(2);
  std::atomic<int64_t> sink{0};
  auto body = [&](int64_t b, int64_t e) { sink.fetch_add(e - b, std::memory_order_relaxed); };
  for (int i = 0; i < 1000; ++i) parallel_for(0, 2, 1, body);  // warm up, workers awake
  const int reps = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) parallel_for(0, 2, 1, body);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
  std::printf("parallel_for over 2 threads: %.2f us per call\n", us);
  EXPECT_EQ(sink.load(), 2 * (reps + 1000));
}

}  // namespace
