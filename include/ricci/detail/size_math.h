#pragma once
// Note [Checked size arithmetic]
// Element counts, byte counts, inferred sizes, strides and offsets are products and sums of
// user-given int64s. A product that wraps ({1<<40, 1<<40}, {(1<<62) + 1, 4}) would give a tiny
// buffer that kernels then index far out of bounds, so every such computation in ricci goes
// through the helpers here (compiler overflow builtins; the error path is out of line) and throws
// ShapeError naming the op and the shape instead.
//
// The invariant every tensor keeps (checked_numel, run by every TensorImpl): all sizes are >= 0,
// and the product of the sizes with zeros counted as one (the "span") fits in int64. So any partial
// product of a tensor's sizes (what kernels compute as outer/inner extents) and its contiguous
// strides fit too, even for an empty tensor such as [0, 2^40, 2^40], which PyTorch also refuses
// ("Stride calculation overflowed"). A non-empty tensor's bytes (numel * element size) fit as
// well, so its byte strides do; an empty one's byte strides may not, and kernels do nothing for
// an empty tensor (cpu::for_each_strided and make_loop_layout return before forming them).
#include <cstddef>
#include <cstdint>

#include "ricci/error.h"
#include "ricci/small_vector.h"

namespace ricci {

namespace detail {
// "[op] <what> overflows int64 ... (shape [..])": ShapeError. Out of line, so the checks inline small.
[[noreturn]] void throw_size_overflow(const char* op, IntArrayRef shape, const char* what);
// "[op] Trying to create tensor with negative dimension -1: [..]" (PyTorch's words): ValueError.
[[noreturn]] void throw_negative_size(const char* op, IntArrayRef shape, int64_t size);
}  // namespace detail

// Raw forms: true when a (op) b overflows int64; *out gets the wrapped result either way.
inline bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
inline bool add_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

// a * b and a + b, or ShapeError "[op] <what> overflows int64" naming `shape`.
inline int64_t checked_mul(int64_t a, int64_t b, const char* op, IntArrayRef shape, const char* what) {
  int64_t r;
  if (mul_overflows(a, b, &r)) [[unlikely]] detail::throw_size_overflow(op, shape, what);
  return r;
}
inline int64_t checked_add(int64_t a, int64_t b, const char* op, IntArrayRef shape, const char* what) {
  int64_t r;
  if (add_overflows(a, b, &r)) [[unlikely]] detail::throw_size_overflow(op, shape, what);
  return r;
}

// Validates a shape (sizes >= 0, span within int64: the invariant above) and returns its number
// of elements. ValueError for a negative size, ShapeError for an overflow; both name `op`.
inline int64_t checked_numel(IntArrayRef sizes, const char* op) {
  int64_t span = 1;
  bool empty = false;
  for (int64_t s : sizes) {
    if (s < 0) [[unlikely]] detail::throw_negative_size(op, sizes, s);
    if (s == 0) {
      empty = true;
      continue;
    }
    if (mul_overflows(span, s, &span)) [[unlikely]] detail::throw_size_overflow(op, sizes, "the number of elements");
  }
  return empty ? 0 : span;
}

// Bytes of a new contiguous tensor of `sizes`: checked_numel, then numel * element_size within
// int64 (ShapeError otherwise). Whether the allocator can serve it is the allocator's check.
size_t checked_nbytes(IntArrayRef sizes, size_t element_size, const char* op);

// Product of the entries (1 for an empty list), for shapes: checked_numel under the name "numel".
inline int64_t product(IntArrayRef dims) { return checked_numel(dims, "numel"); }

}  // namespace ricci
