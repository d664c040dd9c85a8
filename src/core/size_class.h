#pragma once
// Size classes shared by the caching allocators. A freed block is reused only for a request of
// the same class, so the classes trade a little slack for hit rate: small requests round up to
// 64 B (the CPU alignment), mid-sized ones to 512 B, and large ones to quarter powers of two
// (1, 1.25, 1.5, 1.75 x 2^k), which wastes at most 25% and makes a 64 MiB tensor land exactly in
// a 64 MiB block, so the same workload loop after loop always hits the cache.
#include <bit>
#include <cstddef>

namespace ricci::detail {

inline constexpr size_t kSmallClassLimit = 512;        // up to here: multiples of 64 B
inline constexpr size_t kMidClassLimit = 64 * 1024;    // up to here: multiples of 512 B
// No allocator serves more than this (2^62 B): size_class must not wrap, and the allocators refuse
// larger requests before asking for a class.
inline constexpr size_t kMaxBlockBytes = size_t{1} << 62;

constexpr size_t round_up(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// The block size serving a request of n bytes (n == 0 gets the smallest block, so every
// allocation has a unique, dereferenceable address).
constexpr size_t size_class(size_t n) {
  if (n <= kSmallClassLimit) return n == 0 ? 64 : round_up(n, 64);
  if (n <= kMidClassLimit) return round_up(n, 512);
  // n in (2^k, 2^(k+1)]: step 2^(k-2). bit_width(n - 1) - 1 is k for such n.
  const size_t k = static_cast<size_t>(std::bit_width(n - 1)) - 1;
  return round_up(n, size_t{1} << (k - 2));
}

static_assert(size_class(kMaxBlockBytes) == kMaxBlockBytes && size_class(kMaxBlockBytes - 1) == kMaxBlockBytes);
static_assert(size_class(0) == 64 && size_class(1) == 64 && size_class(65) == 128);
static_assert(size_class(513) == 1024 && size_class(64 * 1024) == 64 * 1024);
static_assert(size_class(64 * 1024 + 1) == 80 * 1024);
static_assert(size_class(size_t{64} << 20) == size_t{64} << 20);
static_assert(size_class((size_t{64} << 20) + 1) == size_t{80} << 20);

}  // namespace ricci::detail
