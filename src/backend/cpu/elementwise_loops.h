#pragma once
// The loop shapes the elementwise CPU kernels share: a contiguous run (the vectorisable case),
// a run against one broadcast value, and the general strided run. float16/bfloat16 runs are
// widened to float32 in small stack chunks so they take the float32 vector loops.
#include <algorithm>
#include <type_traits>

#include "backend/cpu/cast.h"
#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/loops.h"

namespace ricci::cpu::ew_detail {

inline constexpr int64_t kChunk = 256;

template <class T> inline constexpr bool is_half_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

inline void widen(const Half* s, float* d, int64_t n) { convert_half_to_float(s, d, static_cast<size_t>(n)); }
inline void widen(const BFloat16* s, float* d, int64_t n) { convert_bfloat16_to_float(s, d, static_cast<size_t>(n)); }
inline void narrow(const float* s, Half* d, int64_t n) { convert_float_to_half(s, d, static_cast<size_t>(n)); }
inline void narrow(const float* s, BFloat16* d, int64_t n) { convert_float_to_bfloat16(s, d, static_cast<size_t>(n)); }

// The comparison and logical ops as functions of two compute values: calls go(f) with f(x, y) ->
// bool and returns true, or returns false for another op. NaN compares as IEEE says (unequal to
// everything). Shared by the bool-output kernels and compile's fused kernels.
template <class C, class Go>
bool with_predicate(ew::BinaryOp op, Go&& go) {
  using ew::BinaryOp;
  switch (op) {
    case BinaryOp::Eq: go([](C x, C y) { return x == y; }); return true;
    case BinaryOp::Ne: go([](C x, C y) { return x != y; }); return true;
    case BinaryOp::Lt: go([](C x, C y) { return x < y; }); return true;
    case BinaryOp::Le: go([](C x, C y) { return x <= y; }); return true;
    case BinaryOp::Gt: go([](C x, C y) { return x > y; }); return true;
    case BinaryOp::Ge: go([](C x, C y) { return x >= y; }); return true;
    case BinaryOp::LogicalAnd: go([](C x, C y) { return x != C(0) && y != C(0); }); return true;
    case BinaryOp::LogicalOr: go([](C x, C y) { return x != C(0) || y != C(0); }); return true;
    case BinaryOp::LogicalXor: go([](C x, C y) { return (x != C(0)) != (y != C(0)); }); return true;
    default: return false;
  }
}

// out[i] = f(in[i]) in the compute type; TO is the output element type (T itself, or bool).
template <class TO, class TI, class F>
void run_unary(ew::UnaryOp op, const ew::UnaryParams& p, const Tensor& out, const Tensor& in, F f) {
  using C = compute_t<TI>;
  for_each_strided({&out, &in}, [&](char* const* ptrs, const int64_t* st, int64_t n) {
    if (st[0] == sizeof(TO) && st[1] == sizeof(TI)) {
      TO* o = reinterpret_cast<TO*>(ptrs[0]);
      const TI* x = reinterpret_cast<const TI*>(ptrs[1]);
      if constexpr (std::is_same_v<TO, float> && std::is_same_v<TI, float>) {
        if (hwy_unary_f32(op, x, o, n, p)) return;
      } else if constexpr (std::is_same_v<TO, double> && std::is_same_v<TI, double>) {
        if (hwy_unary_f64(op, x, o, n, p)) return;
      } else if constexpr (is_half_v<TI> && std::is_same_v<TO, TI>) {
        float buf[kChunk];
        for (int64_t i = 0; i < n; i += kChunk) {
          const int64_t m = std::min(kChunk, n - i);
          widen(x + i, buf, m);
          if (!hwy_unary_f32(op, buf, buf, m, p)) {
            for (int64_t j = 0; j < m; ++j) buf[j] = static_cast<float>(f(buf[j]));
          }
          narrow(buf, o + i, m);
        }
        return;
      }
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TO>(f(static_cast<C>(x[i])));
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<TO*>(ptrs[0] + i * st[0]) =
          static_cast<TO>(f(static_cast<C>(*reinterpret_cast<const TI*>(ptrs[1] + i * st[1]))));
    }
  });
}

// out[i] = f(a[i], b[i]); mode 1/2 when b/a is one broadcast value along the run.
template <class TO, class T, class F>
void run_binary(ew::BinaryOp op, double alpha, const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  using C = compute_t<T>;
  for_each_strided({&out, &a, &b}, [&](char* const* ptrs, const int64_t* st, int64_t n) {
    const int64_t es = sizeof(T);
    int mode = -1;
    if (st[0] == sizeof(TO)) {
      if (st[1] == es && st[2] == es) mode = 0;
      else if (st[1] == es && st[2] == 0) mode = 1;
      else if (st[1] == 0 && st[2] == es) mode = 2;
    }
    TO* o = reinterpret_cast<TO*>(ptrs[0]);
    const T* x = reinterpret_cast<const T*>(ptrs[1]);
    const T* y = reinterpret_cast<const T*>(ptrs[2]);
    if (mode >= 0) {
      if constexpr (std::is_same_v<TO, float> && std::is_same_v<T, float>) {
        if (hwy_binary_f32(op, x, y, o, n, mode, static_cast<float>(alpha))) return;
      } else if constexpr (std::is_same_v<TO, double> && std::is_same_v<T, double>) {
        if (hwy_binary_f64(op, x, y, o, n, mode, alpha)) return;
      } else if constexpr (is_half_v<T> && std::is_same_v<TO, T>) {
        float ba[kChunk], bb[kChunk], bo[kChunk];
        for (int64_t i = 0; i < n; i += kChunk) {
          const int64_t m = std::min(kChunk, n - i);
          const float* pa = ba;
          const float* pb = bb;
          if (mode == 2) ba[0] = static_cast<float>(*x); else widen(x + i, ba, m);
          if (mode == 1) bb[0] = static_cast<float>(*y); else widen(y + i, bb, m);
          if (!hwy_binary_f32(op, pa, pb, bo, m, mode, static_cast<float>(alpha))) {
            for (int64_t j = 0; j < m; ++j) bo[j] = static_cast<float>(f(pa[mode == 2 ? 0 : j], pb[mode == 1 ? 0 : j]));
          }
          narrow(bo, o + i, m);
        }
        return;
      }
      if (mode == 0) {
        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TO>(f(static_cast<C>(x[i]), static_cast<C>(y[i])));
      } else if (mode == 1) {
        const C yv = static_cast<C>(*y);
        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TO>(f(static_cast<C>(x[i]), yv));
      } else {
        const C xv = static_cast<C>(*x);
        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<TO>(f(xv, static_cast<C>(y[i])));
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<TO*>(ptrs[0] + i * st[0]) =
          static_cast<TO>(f(static_cast<C>(*reinterpret_cast<const T*>(ptrs[1] + i * st[1])),
                            static_cast<C>(*reinterpret_cast<const T*>(ptrs[2] + i * st[2]))));
    }
  });
}

}  // namespace ricci::cpu::ew_detail
