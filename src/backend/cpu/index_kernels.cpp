// CPU kernels of the indexing family: gather / scatter along a dim, advanced indexing reads and
// writes, sort / topk along rows, and the triangular masks. Moves of whole elements only depend
// on the element size, so those kernels are instantiated once per size, not once per dtype.
#include "backend/cpu/index_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#include "backend/cpu/loops.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

using kernels::AdvancedIndexArgs;

// Same-sized plain type for moving elements around without caring what they mean.
template <size_t N> struct Bits;
template <> struct Bits<1> { using type = uint8_t; };
template <> struct Bits<2> { using type = uint16_t; };
template <> struct Bits<4> { using type = uint32_t; };
template <> struct Bits<8> { using type = uint64_t; };

[[noreturn]] void out_of_bounds(const char* op, int64_t idx, int64_t dim, int64_t size) {
  throw IndexError(detail::cat("[", op, "] index ", idx, " is out of bounds for dimension ", dim, " with size ", size));
}

inline int64_t load_index(const char* p) { return *reinterpret_cast<const int64_t*>(p); }

template <class Fn>
void run_layout(const LoopLayout& L, Fn& fn, bool parallel, int64_t grain = kGrainSize) {
  if (L.numel == 0) return;
  if (!parallel || L.numel < grain || get_num_threads() == 1) {
    run_loop_range(L, 0, L.numel, fn);
    return;
  }
  parallel_for(0, L.numel, grain, [&](int64_t b, int64_t e) { run_loop_range(L, b, e, fn); });
}

// ---- gather / scatter along a dim ------------------------------------------------------------------

template <class E>
void gather_kernel(const Tensor& out, const Tensor& self_r, const Tensor& index, int64_t dim, int64_t dim_size,
                   int64_t dim_stride, const char* op) {
  const int64_t sb = dim_stride * static_cast<int64_t>(sizeof(E));
  constexpr int64_t es = sizeof(E);
  for_each_strided({&out, &self_r, &index}, [=](char* const* p, const int64_t* st, int64_t n) {
    if (st[0] == es && st[1] == es && st[2] == 0) {
      // One index for a contiguous run (index_select of rows, embedding lookup): one memcpy.
      const int64_t idx = load_index(p[2]);
      if (idx < 0 || idx >= dim_size) [[unlikely]] out_of_bounds(op, idx, dim, dim_size);
      std::memcpy(p[0], p[1] + idx * sb, static_cast<size_t>(n * es));
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t idx = load_index(p[2] + i * st[2]);
      if (idx < 0 || idx >= dim_size) [[unlikely]] out_of_bounds(op, idx, dim, dim_size);
      *reinterpret_cast<E*>(p[0] + i * st[0]) = *reinterpret_cast<const E*>(p[1] + i * st[1] + idx * sb);
    }
  });
}

// Serial and in index order: duplicate indices are the normal case (embedding gradients), and
// the order makes float accumulation deterministic.
template <class T>
void scatter_kernel(const Tensor& self_r, const Tensor& index, const Tensor& src, int64_t dim, int64_t dim_size,
                    int64_t dim_stride, bool accumulate, const Scalar& alpha, const char* op) {
  using C = compute_t<T>;
  const Tensor* ops[3] = {&index, &self_r, &src};
  const LoopLayout L = make_loop_layout(ops, 3);
  const int64_t sb = dim_stride * static_cast<int64_t>(sizeof(T));
  const C a = alpha.to<C>();
  const bool unit = alpha.to_double() == 1.0;
  constexpr int64_t es = sizeof(T);
  auto body = [&](char* const* p, const int64_t* st, int64_t n) {
    if (st[0] == 0 && st[1] == es && st[2] == es) {
      // One index for a contiguous run (index_add of rows, embedding backward): a plain loop.
      const int64_t idx = load_index(p[0]);
      if (idx < 0 || idx >= dim_size) [[unlikely]] out_of_bounds(op, idx, dim, dim_size);
      T* d = reinterpret_cast<T*>(p[1] + idx * sb);
      const T* s = reinterpret_cast<const T*>(p[2]);
      if (!accumulate) {
        std::memcpy(d, s, static_cast<size_t>(n * es));
      } else if (unit) {
        for (int64_t i = 0; i < n; ++i) d[i] = T(acc_add(static_cast<C>(d[i]), static_cast<C>(s[i])));
      } else {
        for (int64_t i = 0; i < n; ++i) d[i] = T(acc_add(static_cast<C>(d[i]), acc_mul(static_cast<C>(s[i]), a)));
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t idx = load_index(p[0] + i * st[0]);
      if (idx < 0 || idx >= dim_size) [[unlikely]] out_of_bounds(op, idx, dim, dim_size);
      T* d = reinterpret_cast<T*>(p[1] + i * st[1] + idx * sb);
      const T s = *reinterpret_cast<const T*>(p[2] + i * st[2]);
      if (!accumulate) {
        *d = s;
      } else if (unit) {
        *d = T(acc_add(static_cast<C>(*d), static_cast<C>(s)));
      } else {
        *d = T(acc_add(static_cast<C>(*d), acc_mul(static_cast<C>(s), a)));
      }
    }
  };
  run_layout(L, body, /*parallel=*/false);
}

// ---- advanced indexing -----------------------------------------------------------------------------

// Byte offset of one element of the source; throws on an index out of range.
inline int64_t source_offset(char* const* p, const int64_t* st, int64_t i, const AdvancedIndexArgs& a,
                             const int64_t* stride_bytes, const char* op) {
  int64_t off = 0;
  for (int k = 0; k < a.n; ++k) {
    int64_t idx = load_index(p[2 + k] + i * st[2 + k]);
    const int64_t size = a.sizes[k];
    if (idx < -size || idx >= size) [[unlikely]] out_of_bounds(op, idx, a.dims[k], size);
    if (idx < 0) idx += size;
    off += idx * stride_bytes[k];
  }
  return off;
}

// True when every index operand is constant along the inner run (stride 0).
inline bool same_index_along_run(const int64_t* st, int n) {
  for (int k = 0; k < n; ++k)
    if (st[2 + k] != 0) return false;
  return true;
}

LoopLayout advanced_layout(const Tensor& first, const Tensor& second, const AdvancedIndexArgs& a) {
  const Tensor* ops[kMaxOperands];
  ops[0] = &first;
  ops[1] = &second;
  for (int k = 0; k < a.n; ++k) ops[2 + k] = a.indices[k];
  return make_loop_layout(ops, 2 + a.n);
}

template <class E>
void index_kernel(const Tensor& out, const Tensor& src_r, const AdvancedIndexArgs& a, const char* op) {
  int64_t sb[AdvancedIndexArgs::kMax];
  for (int k = 0; k < a.n; ++k) sb[k] = a.strides[k] * static_cast<int64_t>(sizeof(E));
  const LoopLayout L = advanced_layout(out, src_r, a);
  constexpr int64_t es = sizeof(E);
  auto body = [&](char* const* p, const int64_t* st, int64_t n) {
    if (st[0] == es && st[1] == es && same_index_along_run(st, a.n)) {
      // Whole rows picked by one index (x[idx] on a contiguous source): one memcpy.
      const int64_t off = source_offset(p, st, 0, a, sb, op);
      std::memcpy(p[0], p[1] + off, static_cast<size_t>(n * es));
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = source_offset(p, st, i, a, sb, op);
      *reinterpret_cast<E*>(p[0] + i * st[0]) = *reinterpret_cast<const E*>(p[1] + i * st[1] + off);
    }
  };
  run_layout(L, body, /*parallel=*/true);
}

template <class T>
void index_put_kernel(const Tensor& dst_r, const Tensor& values, const AdvancedIndexArgs& a, bool accumulate,
                      const char* op) {
  using C = compute_t<T>;
  int64_t sb[AdvancedIndexArgs::kMax];
  for (int k = 0; k < a.n; ++k) sb[k] = a.strides[k] * static_cast<int64_t>(sizeof(T));
  // Loop over the values' (the result's) shape; dst_r has that shape too.
  const LoopLayout L = advanced_layout(values, dst_r, a);
  auto body = [&](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = source_offset(p, st, i, a, sb, op);
      T* d = reinterpret_cast<T*>(p[1] + i * st[1] + off);
      const T v = *reinterpret_cast<const T*>(p[0] + i * st[0]);
      *d = accumulate ? T(acc_add(static_cast<C>(*d), static_cast<C>(v))) : v;
    }
  };
  // Duplicates must add up in order when accumulating.
  run_layout(L, body, /*parallel=*/!accumulate);
}

// ---- sort / topk ------------------------------------------------------------------------------------

// NaN is the largest value (PyTorch's order), so NaNs end up last ascending, first descending.
template <class C>
struct Order {
  bool descending;
  bool operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      if (descending) return a > b || (std::isnan(a) && !std::isnan(b));
      return a < b || (std::isnan(b) && !std::isnan(a));
    } else {
      return descending ? a > b : a < b;
    }
  }
};

template <class T>
int64_t row_grain(int64_t n) {
  return std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1));
}

template <class T>
void sort_kernel(const Tensor& values, const Tensor& indices, const Tensor& input, bool descending) {
  using C = compute_t<T>;
  const int64_t rows = input.size(0), n = input.size(1);
  const T* in = input.data_ptr<T>();
  T* vo = values.data_ptr<T>();
  int64_t* io = indices.data_ptr<int64_t>();
  const Order<C> order{descending};
  parallel_for(0, rows, row_grain<T>(n), [&](int64_t b, int64_t e) {
    // (key, position) pairs sort with better locality than positions looked up in keys.
    std::vector<std::pair<C, int64_t>> kv(static_cast<size_t>(n));
    for (int64_t r = b; r < e; ++r) {
      const T* row = in + r * n;
      for (int64_t j = 0; j < n; ++j) kv[j] = {static_cast<C>(row[j]), j};
      // Ties broken by position: as stable as stable_sort, without its merge buffer.
      std::sort(kv.begin(), kv.end(), [&](const auto& x, const auto& y) {
        if (order(x.first, y.first)) return true;
        if (order(y.first, x.first)) return false;
        return x.second < y.second;
      });
      for (int64_t j = 0; j < n; ++j) {
        vo[r * n + j] = row[kv[j].second];
        io[r * n + j] = kv[j].second;
      }
    }
  });
}

template <class T>
void topk_kernel(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, bool largest) {
  using C = compute_t<T>;
  const int64_t rows = input.size(0), n = input.size(1);
  const T* in = input.data_ptr<T>();
  T* vo = values.data_ptr<T>();
  int64_t* io = indices.data_ptr<int64_t>();
  const Order<C> order{largest};
  parallel_for(0, rows, row_grain<T>(n), [&](int64_t b, int64_t e) {
    std::vector<C> keys(static_cast<size_t>(n));
    std::vector<int64_t> perm(static_cast<size_t>(n));
    for (int64_t r = b; r < e; ++r) {
      const T* row = in + r * n;
      for (int64_t j = 0; j < n; ++j) keys[j] = static_cast<C>(row[j]);
      std::iota(perm.begin(), perm.end(), int64_t{0});
      auto before = [&](int64_t x, int64_t y) {
        if (order(keys[x], keys[y])) return true;
        if (order(keys[y], keys[x])) return false;
        return x < y;
      };
      std::partial_sort(perm.begin(), perm.begin() + k, perm.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        vo[r * k + j] = row[perm[j]];
        io[r * k + j] = perm[j];
      }
    }
  });
}

// ---- tril / triu -----------------------------------------------------------------------------------

// All-zero bytes are zero in every dtype, so one kernel serves them all.
void tri_kernel(const Tensor& out, int64_t diagonal, bool upper) {
  const int64_t nd = out.dim();
  const int64_t R = out.size(nd - 2), Cn = out.size(nd - 1);
  if (out.numel() == 0) return;
  const int64_t batch = out.numel() / (R * Cn);
  const size_t es = out.element_size();
  // Past either corner every row is all kept or all zeroed: clamp, so i + diagonal + 1 cannot wrap.
  diagonal = std::clamp<int64_t>(diagonal, -R - 1, Cn + 1);
  char* base = static_cast<char*>(out.data_ptr());
  parallel_for(0, batch * R, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(Cn, 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t i = row % R;
      char* p = base + static_cast<size_t>(row * Cn) * es;
      int64_t z0, z1;  // zeroed columns [z0, z1)
      if (upper) {
        z0 = 0;
        z1 = std::clamp<int64_t>(i + diagonal, 0, Cn);
      } else {
        z0 = std::clamp<int64_t>(i + diagonal + 1, 0, Cn);
        z1 = Cn;
      }
      if (z1 > z0) std::memset(p + static_cast<size_t>(z0) * es, 0, static_cast<size_t>(z1 - z0) * es);
    }
  });
}

template <DType... Ts>
bool register_all() {
  using namespace kernels;
  (register_kernel("gather", DeviceType::CPU, Ts, &gather_kernel<typename Bits<sizeof(dtype_cpp_t<Ts>)>::type>), ...);
  (register_kernel("scatter", DeviceType::CPU, Ts, &scatter_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("index", DeviceType::CPU, Ts, &index_kernel<typename Bits<sizeof(dtype_cpp_t<Ts>)>::type>), ...);
  (register_kernel("index_put", DeviceType::CPU, Ts, &index_put_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("sort", DeviceType::CPU, Ts, &sort_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("topk", DeviceType::CPU, Ts, &topk_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("tri", DeviceType::CPU, Ts, &tri_kernel), ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
