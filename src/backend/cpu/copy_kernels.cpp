// CPU kernels for copy (any layout, any dtype pair), fill and ordered accumulation.
#include <algorithm>
#include <cstring>

#include "backend/cpu/cast.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/transpose_tile.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"

namespace ricci::cpu {
namespace {

// Copies a 2-D tile walk for dst contiguous along its last dim while src walks the other way
// (a transpose): reading and writing 128x128 blocks keeps both sides in cache lines and TLB entries; inside them,
// 16x16 tiles of 4-byte elements are transposed in vector registers.
template <class T>
bool try_blocked_transpose(const Tensor& dst, const Tensor& src) {
  const Tensor* ops[2] = {&dst, &src};
  const LoopLayout L = make_loop_layout(ops, 2);
  if (L.ndim < 2) return false;
  const int nd = L.ndim;
  const int64_t es = sizeof(T);
  if (L.strides[0][nd - 1] != es || L.strides[1][nd - 2] != es || L.strides[1][nd - 1] == es) return false;
  const int64_t rows = L.sizes[nd - 2], cols = L.sizes[nd - 1];
  if (rows < 32 || cols < 32) return false;
  int64_t outer = 1;
  for (int d = 0; d < nd - 2; ++d) outer *= L.sizes[d];
  constexpr int64_t B = 128;
  const int64_t row_blocks = (rows + B - 1) / B;
  const int64_t dst_rs = L.strides[0][nd - 2], src_cs = L.strides[1][nd - 1];
  // 4-byte elements on whole 16 x 16 tiles transpose in registers (transpose_tile.cpp).
  const bool vector_tiles = sizeof(T) == 4 && has_transpose_tile_16x16_b32() && src_cs % es == 0 && dst_rs % es == 0;
  parallel_for(0, outer * row_blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t job = b; job < e; ++job) {
      int64_t o = job / row_blocks, rb = job % row_blocks;
      char* dbase = L.base[0];
      char* sbase = L.base[1];
      int64_t rem = o;
      for (int d = nd - 3; d >= 0; --d) {
        const int64_t i = rem % L.sizes[d];
        rem /= L.sizes[d];
        dbase += i * L.strides[0][d];
        sbase += i * L.strides[1][d];
      }
      const int64_t r0 = rb * B, r1 = std::min(rows, r0 + B);
      for (int64_t c0 = 0; c0 < cols; c0 += B) {
        const int64_t c1 = std::min(cols, c0 + B);
        for (int64_t rs = r0; rs < r1; rs += 16)
          for (int64_t cs = c0; cs < c1; cs += 16) {
            const int64_t re = std::min(r1, rs + 16), ce = std::min(c1, cs + 16);
            if (vector_tiles && re - rs == 16 && ce - cs == 16) {
              transpose_tile_16x16_b32(reinterpret_cast<const uint32_t*>(sbase + rs * es + cs * src_cs),
                                       src_cs / es, reinterpret_cast<uint32_t*>(dbase + rs * dst_rs + cs * es),
                                       dst_rs / es);
              continue;
            }
            for (int64_t r = rs; r < re; ++r) {
              T* d = reinterpret_cast<T*>(dbase + r * dst_rs);
              const char* s = sbase + r * es;
              for (int64_t c = cs; c < ce; ++c) d[c] = *reinterpret_cast<const T*>(s + c * src_cs);
            }
          }
      }
    }
  });
  return true;
}

template <class D, class S>
void copy_typed(const Tensor& dst, const Tensor& src) {
  if constexpr (std::is_same_v<D, S>) {
    if (dst.is_contiguous() && src.is_contiguous()) {
      const char* s = static_cast<const char*>(src.data_ptr());
      char* d = static_cast<char*>(dst.data_ptr());
      const int64_t n = static_cast<int64_t>(dst.nbytes());
      parallel_for(0, n, 1 << 20, [&](int64_t b, int64_t e) { std::memcpy(d + b, s + b, static_cast<size_t>(e - b)); });
      return;
    }
    if (try_blocked_transpose<D>(dst, src)) return;
  }
  for_each_strided({&dst, &src}, [](char* const* p, const int64_t* st, int64_t n) {
    D* d = reinterpret_cast<D*>(p[0]);
    const char* s = p[1];
    if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
      const S* sp = reinterpret_cast<const S*>(s);
      for (int64_t i = 0; i < n; ++i) d[i] = cast<D>(sp[i]);
    } else {
      char* dp = p[0];
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<D*>(dp + i * st[0]) = cast<D>(*reinterpret_cast<const S*>(s + i * st[1]));
    }
  });
}

template <class S>
void copy_from(const Tensor& dst, const Tensor& src) {
  RICCI_DISPATCH_ALL(dst.dtype(), "copy", [&]<class D>() { copy_typed<D, S>(dst, src); });
}

template <class T>
void fill_typed(const Tensor& dst, const Scalar& value) {
  const T v = value.to<T>();
  for_each_strided({&dst}, [v](char* const* p, const int64_t* st, int64_t n) {
    if (st[0] == sizeof(T)) {
      std::fill_n(reinterpret_cast<T*>(p[0]), n, v);
    } else {
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * st[0]) = v;
    }
  });
}

// dst may overlap itself (an expanded or as_strided view): run serially, in order.
template <class T>
void accumulate_typed(const Tensor& dst, const Tensor& src) {
  const Tensor* ops[2] = {&dst, &src};
  const LoopLayout L = make_loop_layout(ops, 2);
  auto body = [](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      T* d = reinterpret_cast<T*>(p[0] + i * st[0]);
      const T s = *reinterpret_cast<const T*>(p[1] + i * st[1]);
      *d = static_cast<T>(acc_add(static_cast<compute_t<T>>(*d), static_cast<compute_t<T>>(s)));  // integers wrap
    }
  };
  run_loop_range(L, 0, L.numel, body);
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("copy", DeviceType::CPU, Ts, &copy_from<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("fill", DeviceType::CPU, Ts, &fill_typed<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("accumulate", DeviceType::CPU, Ts, &accumulate_typed<dtype_cpp_t<Ts>>), ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
