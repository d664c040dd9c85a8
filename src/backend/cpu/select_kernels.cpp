// CPU kernels that pick by rank or search sorted rows: kthvalue (also median's) and searchsorted
// (also bucketize's). Rows arrive contiguous; each row is independent, so rows (or values) are
// split over the thread pool.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cpu/index_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

namespace ricci::cpu {
namespace {

template <class C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

// ---- kthvalue / median ---------------------------------------------------------------------------
// (value, position) pairs in the order of PyTorch's median along a dim: equal values by position
// (NaN never reaches it: a row with NaN answers its first NaN). A strict total order, so
// nth_element has one answer.
template <class C>
bool rank_before(const std::pair<C, int64_t>& x, const std::pair<C, int64_t>& y) {
  const bool xn = is_nan(x.first), yn = is_nan(y.first);
  if (xn || yn) return xn == yn ? x.second < y.second : yn;
  if (x.first < y.first) return true;
  if (y.first < x.first) return false;
  return x.second < y.second;
}

// kthvalue's selection: Sedgewick's quickselect with a median-of-three pivot, step for step as
// PyTorch's CPU kthvalue runs it (NaN above every number), so that among equal values the same
// position is picked as there. The values and their positions are permuted together.
template <class C>
int64_t quickselect(std::vector<C>& v, std::vector<int64_t>& pos, int64_t k) {
  auto gt = [](C x, C y) { return (is_nan(x) && !is_nan(y)) || x > y; };
  auto swap = [&](int64_t i, int64_t j) {
    std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(j)]);
    std::swap(pos[static_cast<size_t>(i)], pos[static_cast<size_t>(j)]);
  };
  auto at = [&](int64_t i) { return v[static_cast<size_t>(i)]; };
  int64_t lo = 0, hi = static_cast<int64_t>(v.size()) - 1;
  while (hi > lo) {
    if (hi == lo + 1) {
      if (gt(at(lo), at(hi))) swap(lo, hi);
      break;
    }
    swap((lo + hi) >> 1, lo + 1);
    if (gt(at(lo + 1), at(hi))) swap(lo + 1, hi);
    if (gt(at(lo), at(hi))) swap(lo, hi);
    if (gt(at(lo + 1), at(lo))) swap(lo + 1, lo);
    // v[lo] is the pivot; v[lo + 1] <= pivot <= v[hi] stop both scans inside [lo + 1, hi].
    int64_t i = lo + 1, j = hi;
    const C piv = at(lo);
    while (true) {
      do ++i;
      while (gt(piv, at(i)));
      do --j;
      while (gt(at(j), piv));
      if (j < i) break;
      swap(i, j);
    }
    swap(lo, j);
    if (j <= k) lo = i;
    if (j >= k) hi = j - 1;
  }
  return pos[static_cast<size_t>(k)];
}

template <class T>
void kthvalue_kernel(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, bool nan_first) {
  using C = compute_t<T>;
  const int64_t rows = input.size(0), n = input.size(1);
  const T* in = input.data_ptr<T>();
  T* vo = values.data_ptr<T>();
  int64_t* io = indices.data_ptr<int64_t>();
  parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    std::vector<std::pair<C, int64_t>> kv;
    std::vector<C> v;
    std::vector<int64_t> pos;
    for (int64_t r = b; r < e; ++r) {
      const T* row = in + r * n;
      int64_t pick = -1;
      if (nan_first) {
        // median: the first NaN, else the k-th in (value, position) order, which is unique.
        for (int64_t j = 0; j < n && pick < 0; ++j)
          if (is_nan(static_cast<C>(row[j]))) pick = j;
        if (pick < 0) {
          kv.resize(static_cast<size_t>(n));
          for (int64_t j = 0; j < n; ++j) kv[static_cast<size_t>(j)] = {static_cast<C>(row[j]), j};
          std::nth_element(kv.begin(), kv.begin() + k, kv.end(), rank_before<C>);
          pick = kv[static_cast<size_t>(k)].second;
        }
      } else {
        v.resize(static_cast<size_t>(n));
        pos.resize(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j) {
          v[static_cast<size_t>(j)] = static_cast<C>(row[j]);
          pos[static_cast<size_t>(j)] = j;
        }
        pick = quickselect(v, pos, k);
      }
      vo[r] = row[pick];
      io[r] = pick;
    }
  });
}

// ---- searchsorted --------------------------------------------------------------------------------
// PyTorch's binary searches (cus_lower_bound / cus_upper_bound) comparison for comparison, so that
// NaN values and NaN boundaries land exactly where PyTorch puts them.
template <class C, class T>
int64_t lower_bound(const T* bd, const int64_t* sort, int64_t n, C val) {
  int64_t start = 0, end = n;
  while (start < end) {
    const int64_t mid = start + ((end - start) >> 1);
    const C mid_val = static_cast<C>(sort ? bd[sort[mid]] : bd[mid]);
    if (!(mid_val >= val)) start = mid + 1;
    else end = mid;
  }
  return start;
}

template <class C, class T>
int64_t upper_bound(const T* bd, const int64_t* sort, int64_t n, C val) {
  int64_t start = 0, end = n;
  while (start < end) {
    const int64_t mid = start + ((end - start) >> 1);
    const C mid_val = static_cast<C>(sort ? bd[sort[mid]] : bd[mid]);
    if (!(mid_val > val)) start = mid + 1;
    else end = mid;
  }
  return start;
}

template <class T>
void searchsorted_kernel(const Tensor& out, const Tensor& boundaries, const Tensor& values, const Tensor& sorter,
                         bool right) {
  using C = compute_t<T>;
  const int64_t nb = boundaries.size(0), n = boundaries.size(1), m = values.size(1);
  const T* bd = boundaries.data_ptr<T>();
  const T* vals = values.data_ptr<T>();
  const int64_t* srt = sorter.defined() ? sorter.data_ptr<int64_t>() : nullptr;
  if (srt) {
    // A sorter entry names a position of its row: checked before any is used.
    for (int64_t i = 0; i < nb * n; ++i)
      RICCI_CHECK(srt[i] >= 0 && srt[i] < n, IndexError, "[searchsorted] torch.searchsorted(): sorter index out of range (",
                  srt[i], " at flat position ", i, " for a last dim of size ", n, ")");
  }
  const bool i32 = out.dtype() == DType::Int32;
  int64_t* o64 = i32 ? nullptr : out.data_ptr<int64_t>();
  int32_t* o32 = i32 ? out.data_ptr<int32_t>() : nullptr;
  parallel_for(0, nb * m, /*grain: a few log2(n) steps each*/ 2048, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t row = i / m;
      const T* bdr = bd + row * n;
      const int64_t* sr = srt ? srt + row * n : nullptr;
      const C v = static_cast<C>(vals[i]);
      const int64_t pos = right ? upper_bound<C>(bdr, sr, n, v) : lower_bound<C>(bdr, sr, n, v);
      if (i32) o32[i] = static_cast<int32_t>(pos);
      else o64[i] = pos;
    }
  });
}

template <DType... Ts>
bool register_all() {
  using namespace kernels;
  (register_kernel("kthvalue", DeviceType::CPU, Ts, &kthvalue_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("searchsorted", DeviceType::CPU, Ts, &searchsorted_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}

// No bool: PyTorch has neither order statistics nor searchsorted for it.
const bool registered = register_all<DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
