// The intra-op thread pool.
//
// One job runs at a time. The caller publishes it by storing a 64-bit ticket
// (generation | next chunk | chunk count); workers and the caller claim chunks by CAS on the
// ticket, so a worker can never claim a chunk of a job that has already finished (the generation
// would differ) and the job's fields stay valid for as long as any chunk is claimed but not done.
// Workers spin briefly after each job before sleeping on a condition variable, so back-to-back
// parallel_for calls (the common case in an op loop) cost a few microseconds, not a wake-up each.
// A caller that finds no worker awake yet simply claims the next chunk itself.
//
// Note [Sharing two cores]: on a machine where other processes run too (issue 16, item 6), a
// thread of ours may lose its core at any moment. Three rules keep a job from stalling on that:
//   - a job may be cut into several chunks per thread (parallel_for_fine, core/parallel_fine.h;
//     the GEMM splits use it), claimed one at a time, so a worker descheduled mid-job holds back
//     one small chunk while the others take the rest (parallel_for keeps its documented "at
//     most get_num_threads() chunks");
//   - waiting (a worker for the next job, the caller for chunks in flight) spins on `pause` only
//     briefly, then yields the core on every round (sched_yield returns at once when nobody else
//     wants the core, and hands it over when someone does), and workers sleep after kSpinMicros;
//   - OpenBLAS never runs threads of its own (Note [One thread budget for BLAS] in
//     src/backend/cpu/gemm_kernels.cpp): its products are split over this pool.
#include "ricci/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel_fine.h"
#include "ricci/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RICCI_CPU_RELAX() _mm_pause()
#else
#define RICCI_CPU_RELAX() std::this_thread::yield()
#endif

// OpenBLAS is linked privately into libricci; its threads and ours share one budget.
extern "C" void openblas_set_num_threads(int);

namespace ricci {

namespace {

thread_local bool t_in_parallel = false;

// Sets the in-parallel flag for the duration of a chunk (restoring it even when fn throws).
struct ParallelRegion {
  bool saved = t_in_parallel;
  ParallelRegion() { t_in_parallel = true; }
  ~ParallelRegion() { t_in_parallel = saved; }
};

int default_num_threads() {
  if (const char* s = std::getenv("RICCI_NUM_THREADS")) {
    const int n = std::atoi(s);
    if (n >= 1) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

constexpr int kMaxChunks = 0xffff;  // the ticket has 16 bits for the chunk count

struct Ticket {
  uint32_t gen;
  uint32_t next;
  uint32_t count;
  static Ticket unpack(uint64_t t) {
    return {static_cast<uint32_t>(t >> 32), static_cast<uint32_t>((t >> 16) & 0xffff), static_cast<uint32_t>(t & 0xffff)};
  }
  uint64_t pack() const { return (uint64_t{gen} << 32) | (uint64_t{next} << 16) | count; }
};

class ThreadPool {
 public:
  // OpenBLAS runs on one thread, inside this pool's chunks (Note [One thread budget for BLAS] in
  // src/backend/cpu/gemm_kernels.cpp): its own threads would poll for ~2^28 cycles after every
  // call and take the cores from this pool's workers and from every other process.
  ThreadPool() : num_threads_(default_num_threads()) { openblas_set_num_threads(1); }

  int num_threads() const { return num_threads_.load(std::memory_order_relaxed); }
  void set_num_threads(int n) { num_threads_.store(n, std::memory_order_relaxed); }

  void run(int64_t begin, int64_t end, int64_t grain, int chunks_per_thread,
           const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t n = end - begin;
    // Every chunk gets at least `grain` elements: n / grain chunks at most.
    const int64_t max_chunks = std::min<int64_t>({int64_t{num_threads()} * chunks_per_thread, n / grain, kMaxChunks});
    // One job at a time. Another thread's job in flight already uses the budget: run inline.
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (max_chunks <= 1 || num_threads() <= 1 || !job_lock.owns_lock()) {
      ParallelRegion region;
      fn(begin, end);
      return;
    }
    ensure_workers(static_cast<int>(std::min<int64_t>(max_chunks, num_threads())) - 1);

    fn_ = &fn;
    begin_ = begin;
    len_ = n;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint32_t count = static_cast<uint32_t>(max_chunks);
    const uint32_t gen = Ticket::unpack(ticket_.load(std::memory_order_relaxed)).gen + 1;
    ticket_.store(Ticket{gen, 0, count}.pack(), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      // Taking the lock orders this wake-up after any worker that is between "sleepers++" and
      // cv.wait, so no worker misses the job.
      { std::lock_guard<std::mutex> lock(sleep_mutex_); }
      wake_.notify_all();
    }

    while (claim_and_run(gen)) {
    }
    // Wait for chunks other threads claimed. They are at least `grain` elements each.
    for (int spins = 0; done_.load(std::memory_order_acquire) < count; ++spins) {
      if (spins < kPauseSpins) RICCI_CPU_RELAX();
      else std::this_thread::yield();
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Claims one chunk of job `gen` and runs it; false when none is left.
  bool claim_and_run(uint32_t gen) {
    uint64_t raw = ticket_.load(std::memory_order_acquire);
    for (;;) {
      Ticket t = Ticket::unpack(raw);
      if (t.gen != gen || t.next >= t.count) return false;
      Ticket claimed = t;
      ++claimed.next;
      if (ticket_.compare_exchange_weak(raw, claimed.pack(), std::memory_order_acq_rel, std::memory_order_acquire)) {
        run_chunk(t.next, t.count);
        return true;
      }
    }
  }

  void run_chunk(uint32_t index, uint32_t count) {
    // Even split; the first len % count chunks take one extra element.
    const int64_t base = len_ / count, extra = len_ % count;
    const int64_t b = begin_ + index * base + std::min<int64_t>(index, extra);
    const int64_t e = b + base + (static_cast<int64_t>(index) < extra ? 1 : 0);
    if (!failed_.load(std::memory_order_relaxed)) {  // after a failure, skip the remaining work
      try {
        ParallelRegion region;
        (*fn_)(b, e);
      } catch (...) {
        if (!failed_.exchange(true)) error_ = std::current_exception();
      }
    }
    done_.fetch_add(1, std::memory_order_release);  // last touch of the job's fields
  }

  void ensure_workers(int wanted) {
    if (static_cast<int>(nworkers_.load(std::memory_order_acquire)) >= wanted) return;
    std::lock_guard<std::mutex> lock(create_mutex_);
    while (static_cast<int>(workers_.size()) < wanted) {
      workers_.emplace_back([this] { worker_loop(); });
      // The pool lives for the whole process: let exit tear the threads down.
      workers_.back().detach();
    }
    nworkers_.store(static_cast<int>(workers_.size()), std::memory_order_release);
  }

  void worker_loop() {
    uint32_t seen = Ticket::unpack(ticket_.load(std::memory_order_acquire)).gen;
    using Clock = std::chrono::steady_clock;
    for (;;) {
      // Spin a little for the next job before going to sleep.
      const auto spin_until = Clock::now() + std::chrono::microseconds(kSpinMicros);
      uint32_t gen = seen;
      for (int i = 0;; ++i) {
        gen = Ticket::unpack(ticket_.load(std::memory_order_acquire)).gen;
        if (gen != seen) break;
        if (i < kPauseSpins) {
          RICCI_CPU_RELAX();
          continue;
        }
        if (Clock::now() > spin_until) break;
        std::this_thread::yield();  // Note [Sharing two cores]
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return Ticket::unpack(ticket_.load(std::memory_order_seq_cst)).gen != seen; });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        gen = Ticket::unpack(ticket_.load(std::memory_order_acquire)).gen;
      }
      seen = gen;
      while (claim_and_run(gen)) {
      }
    }
  }

  static constexpr int kSpinMicros = 50;
  static constexpr int kPauseSpins = 256;  // ~5 us of `pause` on Zen 3 before yielding

  std::atomic<int> num_threads_;
  std::mutex job_mutex_;     // held by the caller of the job in flight
  std::mutex create_mutex_;  // guards workers_
  std::vector<std::thread> workers_;
  std::atomic<int> nworkers_{0};

  alignas(64) std::atomic<uint64_t> ticket_{0};
  alignas(64) std::atomic<uint32_t> done_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;

  // The job in flight (valid while a chunk is claimed and not done).
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t begin_ = 0;
  int64_t len_ = 0;
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

ThreadPool& pool() {
  // Leaked on purpose: its detached workers may still be parked on its condition variable at exit.
  static ThreadPool* p = new ThreadPool();
  return *p;
}

// Apply the budget to OpenBLAS at load time, before any BLAS call can start its own threads.
[[maybe_unused]] const bool g_pool_initialised = (pool(), true);

}  // namespace

void set_num_threads(int n) {
  RICCI_CHECK(n >= 1, ValueError, "[set_num_threads] the number of threads must be at least 1, got ", n,
              " (use set_num_threads(1) to run single-threaded)");
  pool().set_num_threads(n);
}

int get_num_threads() { return pool().num_threads(); }

bool in_parallel_region() { return t_in_parallel; }

namespace {
void run_parallel(int64_t begin, int64_t end, int64_t grain, int chunks_per_thread,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (begin >= end) return;
  if (grain < 1) grain = 1;
  if (t_in_parallel || end - begin <= grain) {  // nested or too small: run here, no pool traffic
    ParallelRegion region;
    fn(begin, end);
    return;
  }
  pool().run(begin, end, grain, chunks_per_thread, fn);
}
}  // namespace

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  run_parallel(begin, end, grain, 1, fn);
}

void parallel_for_fine(int64_t begin, int64_t end, int64_t grain, int chunks_per_thread,
                       const std::function<void(int64_t, int64_t)>& fn) {
  run_parallel(begin, end, grain, std::max(chunks_per_thread, 1), fn);
}

}  // namespace ricci
