// The out-of-line halves of the checked size arithmetic (Note [Checked size arithmetic] in
// include/ricci/detail/size_math.h).
#include "ricci/detail/size_math.h"

#include <limits>

namespace ricci {

namespace detail {

void throw_size_overflow(const char* op, IntArrayRef shape, const char* what) {
  throw ShapeError(cat("[", op, "] ", what, " overflows int64 for shape ", shape, " (no tensor can hold more than ",
                       std::numeric_limits<int64_t>::max(), " elements or bytes); check the sizes"));
}

void throw_negative_size(const char* op, IntArrayRef shape, int64_t size) {
  throw ValueError(cat("[", op, "] Trying to create tensor with negative dimension ", size, ": ", shape));
}

}  // namespace detail

size_t checked_nbytes(IntArrayRef sizes, size_t element_size, const char* op) {
  const int64_t numel = checked_numel(sizes, op);
  return static_cast<size_t>(checked_mul(numel, static_cast<int64_t>(element_size), op, sizes, "the storage size in bytes"));
}

}  // namespace ricci
