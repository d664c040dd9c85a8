#pragma once
// Strided loops over several operands that share one shape (broadcast inputs are expanded
// beforehand, so a stretched dim has stride 0). The element loop is the innermost function call:
// fn(char* const* ptrs, const int64_t* strides_in_bytes, int64_t n) processes n elements along
// the innermost dim; a kernel checks the strides for its contiguous fast path.
//
// Before looping, dims are coalesced: two neighbouring dims merge when every operand steps over
// them as one (stride[d-1] == size[d] * stride[d]), so a contiguous tensor of any rank is one
// long inner loop. Work is split over threads by the flat element range.
#include <algorithm>
#include <array>
#include <cstdint>

#include "ricci/parallel.h"
#include "ricci/tensor.h"

namespace ricci::cpu {

inline constexpr int kMaxOperands = 8;

struct LoopLayout {
  int nops = 0;
  int ndim = 0;  // after coalescing; 0 means a single element
  Dims sizes;    // innermost last
  std::array<Dims, kMaxOperands> strides;  // in bytes
  std::array<char*, kMaxOperands> base{};
  int64_t numel = 1;
};

// Describes the loop over `ops` (all of ops[0]'s shape). Operands may have different dtypes.
LoopLayout make_loop_layout(const Tensor* const* ops, int nops);

template <class Fn>
void run_loop_range(const LoopLayout& L, int64_t begin, int64_t end, Fn& fn) {
  const int nd = L.ndim;
  if (nd == 0) {
    int64_t zero[kMaxOperands] = {};
    char* ptrs[kMaxOperands];
    for (int k = 0; k < L.nops; ++k) ptrs[k] = L.base[k];
    if (begin < end) fn(ptrs, zero, int64_t{1});
    return;
  }
  const int64_t inner = L.sizes[nd - 1];
  int64_t inner_strides[kMaxOperands];
  for (int k = 0; k < L.nops; ++k) inner_strides[k] = L.strides[k][nd - 1];
  // Multi-index of `begin` over the outer dims.
  int64_t idx[16] = {};
  int64_t rest = begin / inner;
  int64_t col = begin % inner;
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = rest % L.sizes[d];
    rest /= L.sizes[d];
  }
  char* ptrs[kMaxOperands];
  int64_t pos = begin;
  while (pos < end) {
    for (int k = 0; k < L.nops; ++k) {
      char* p = L.base[k] + col * inner_strides[k];
      for (int d = 0; d < nd - 1; ++d) p += idx[d] * L.strides[k][d];
      ptrs[k] = p;
    }
    const int64_t n = std::min(inner - col, end - pos);
    fn(ptrs, inner_strides, n);
    pos += n;
    col = 0;
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < L.sizes[d]) break;
      idx[d] = 0;
    }
  }
}

// Runs fn over every element of ops[0]'s shape, in parallel chunks of at least `grain` elements.
template <class Fn>
void for_each_strided(std::initializer_list<const Tensor*> ops, Fn&& fn, int64_t grain = kGrainSize) {
  // All operands contiguous (the common case, and every small op): one flat run, without building
  // the coalesced layout.
  const int64_t n = (*ops.begin())->numel();
  // Nothing to do, and an empty tensor's strides may be anything that fits (no byte strides made).
  if (n == 0) return;
  if (std::all_of(ops.begin(), ops.end(), [n](const Tensor* t) { return t->is_contiguous() && t->numel() == n; })) {
    char* base[kMaxOperands];
    int64_t steps[kMaxOperands];
    int k = 0;
    for (const Tensor* t : ops) {
      base[k] = static_cast<char*>(t->data_ptr());
      steps[k++] = static_cast<int64_t>(t->element_size());
    }
    auto run = [&](int64_t b, int64_t e) {
      char* ptrs[kMaxOperands];
      for (int j = 0; j < k; ++j) ptrs[j] = base[j] + b * steps[j];
      fn(ptrs, steps, e - b);
    };
    if (n < grain || get_num_threads() == 1) return run(0, n);
    return parallel_for(0, n, grain, run);
  }
  const LoopLayout L = make_loop_layout(ops.begin(), static_cast<int>(ops.size()));
  if (L.numel == 0) return;
  if (L.numel < grain || get_num_threads() == 1) {
    run_loop_range(L, 0, L.numel, fn);
    return;
  }
  parallel_for(0, L.numel, grain, [&](int64_t b, int64_t e) { run_loop_range(L, b, e, fn); });
}

// True when every operand's innermost stride equals its element size (the vectorisable case).
inline bool is_contiguous_inner(const int64_t* strides, std::initializer_list<size_t> elem_sizes) {
  int k = 0;
  for (size_t es : elem_sizes) {
    if (strides[k++] != static_cast<int64_t>(es)) return false;
  }
  return true;
}

}  // namespace ricci::cpu
