#pragma once
// parallel_for with more chunks than threads (Note [Sharing two cores] in src/core/parallel.cpp):
// [begin, end) is cut into up to chunks_per_thread * get_num_threads() contiguous chunks of at
// least `grain` elements, claimed one at a time by the caller and the workers, so a thread that
// loses its core to another process holds back one chunk, not its whole share. Otherwise as
// parallel_for (include/ricci/parallel.h).
#include <cstdint>
#include <functional>

namespace ricci {

void parallel_for_fine(int64_t begin, int64_t end, int64_t grain, int chunks_per_thread,
                       const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ricci
