// Long runs keep flat memory: the `mlp` example's training step (examples/mlp/mlp.h) run 10,000
// times holds the process's resident memory and the CPU allocator's counters where they were at
// step 100. A leak of one small tensor or one graph per step would grow them by far more than 5 %.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "test_util.h"

#include "../examples/mlp/mlp.h"

using namespace ricci;

namespace {

// Resident set size from /proc/self/statm (second field, in pages).
size_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t total_pages = 0, resident_pages = 0;
  f >> total_pages >> resident_pages;
  return resident_pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct Snapshot {
  size_t rss = 0;
  AllocatorStats alloc;
};

Snapshot snapshot() { return {resident_bytes(), memory_stats()}; }

double relative_change(size_t before, size_t after) {
  return std::abs(static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(before);
}

}  // namespace

// The same loop eagerly, or with every step recorded lazily (Note [Lazy tensors]): backward()
// and the loss's item() evaluate each step's graph, which must then be gone.
// GCC says it builds with a sanitizer by a macro, clang by __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RICCI_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RICCI_TEST_SANITIZED 1
#endif
#endif
#ifndef RICCI_TEST_SANITIZED
#define RICCI_TEST_SANITIZED 0
#endif

void check_flat_memory(bool lazy) {
  set_num_threads(2);
  manual_seed(0);
  // The example's own sizes: batch 8, 128 → 64 → 10.
  const mlp::Data data = mlp::make_data(8, 128, 10);
  auto model = std::make_shared<mlp::TwoLayer>(128, 64, 10);
  optim::AdamW opt(model->parameters(), {.lr = 1e-3});

  Snapshot at_100;
  double first = 0.0, last = 0.0;
  for (int step = 1; step <= 10000; ++step) {
    LazyGuard mode(lazy);
    last = mlp::train_step(*model, opt, data);
    ASSERT_TRUE(std::isfinite(last)) << "step " << step;
    if (step == 1) first = last;
    if (step == 100) at_100 = snapshot();
  }
  const Snapshot at_10000 = snapshot();
  EXPECT_LT(last, first);

  std::printf("            step 100       step 10000\n");
  std::printf("rss         %10zu B   %10zu B\n", at_100.rss, at_10000.rss);
  std::printf("allocated   %10zu B   %10zu B\n", at_100.alloc.allocated_bytes, at_10000.alloc.allocated_bytes);
  std::printf("cached      %10zu B   %10zu B\n", at_100.alloc.cached_bytes, at_10000.alloc.cached_bytes);
  std::printf("peak        %10zu B   %10zu B\n", at_100.alloc.peak_allocated_bytes,
              at_10000.alloc.peak_allocated_bytes);
  ASSERT_GT(at_100.rss, 0u);
  ASSERT_GT(at_100.alloc.allocated_bytes, 0u);
#if RICCI_TEST_SANITIZED
  // A sanitizer's quarantine keeps freed blocks resident on purpose (hundreds of MiB): resident
  // memory says nothing there. ricci's own counters above and below still must stay flat.
#else
  EXPECT_LT(relative_change(at_100.rss, at_10000.rss), 0.05);
#endif
  EXPECT_LT(relative_change(at_100.alloc.allocated_bytes, at_10000.alloc.allocated_bytes), 0.05);
  EXPECT_LT(relative_change(at_100.alloc.allocated_bytes + at_100.alloc.cached_bytes,
                            at_10000.alloc.allocated_bytes + at_10000.alloc.cached_bytes),
            0.05);
  EXPECT_LT(relative_change(at_100.alloc.peak_allocated_bytes, at_10000.alloc.peak_allocated_bytes), 0.05);
}

TEST(Memory, TenThousandTrainingStepsKeepFlatMemory) { check_flat_memory(false); }
TEST(Memory, TenThousandLazyTrainingStepsKeepFlatMemory) { check_flat_memory(true); }

// A chain of 1,000 elementwise ops evaluated lazily peaks no higher than the same chain run
// eagerly: evaluation frees each intermediate once its consumer has run.
TEST(Memory, LazyChainPeaksNoHigherThanEager) {
  const Tensor x = randn({256, 256});
  auto chain = [&x] {
    Tensor y = x;
    for (int i = 0; i < 1000; ++i) y = (i % 2 == 0) ? y * 1.0001 : y + 0.5;
    return y;
  };
  cpu_allocator().reset_peak_stats();
  const size_t base_e = memory_stats().allocated_bytes;
  const Tensor eager = chain();
  const size_t peak_eager = memory_stats().peak_allocated_bytes - base_e;

  cpu_allocator().reset_peak_stats();
  const size_t base_l = memory_stats().allocated_bytes;
  Tensor lazy;
  {
    LazyGuard g;
    lazy = chain();
  }
  EXPECT_TRUE(is_pending(lazy));
  EXPECT_EQ(memory_stats().allocated_bytes, base_l) << "recording allocated memory";
  eval(lazy);
  const size_t peak_lazy = memory_stats().peak_allocated_bytes - base_l;
  std::printf("1,000-op chain on 256x256 float32: peak %zu B eager, %zu B lazy\n", peak_eager, peak_lazy);
  EXPECT_LE(peak_lazy, peak_eager);
  EXPECT_TRUE(allclose(eager, lazy, 0.0, 0.0));
}
