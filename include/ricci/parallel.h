#pragma once
// One intra-op thread pool for the whole library. set_num_threads(n) sets the budget that ricci's
// own kernels and the BLAS share: ricci never runs n BLAS threads beside n of its own.
#include <cstdint>
#include <functional>

namespace ricci {

void set_num_threads(int n);  // n >= 1; default: the number of cores (or RICCI_NUM_THREADS)
int get_num_threads();
bool in_parallel_region();    // true inside a parallel_for body (nested calls run serially)

// Splits [begin, end) into at most get_num_threads() contiguous chunks of at least `grain`
// elements and runs fn(chunk_begin, chunk_end) on each, the caller's thread taking one. Runs
// inline when the range is below `grain`, when one thread is set, or when already inside a
// parallel region. Exceptions thrown by fn are rethrown in the caller.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Elements per chunk below which splitting costs more than it saves (elementwise work).
inline constexpr int64_t kGrainSize = 32768;

}  // namespace ricci
