// CPU kernels for sum, prod, mean, amax, amin, all and any, over any set of dims.
#include <cmath>
#include <limits>

#include "backend/cpu/cast.h"
#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_hwy.h"
#include "backend/cpu/reduce_kernels.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

using kernels::ReduceParams;

// Floats accumulate in float64 (Note [Accurate float sums]); integers and bool in int64.
template <class T> using sum_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;
template <class T> using sum_out_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, T, int64_t>;

// The vectorised float32 paths of sum and mean (Note [Reduction plans]); both accumulate in
// float64 like the generic loop.
template <class T>
struct PlainSumPaths {
  double fold_contiguous(double a, const T* p, int64_t n) const requires std::is_same_v<T, float> {
    return a + reduce::sum_contiguous_f32(p, n);
  }
  void fold_rows(double* acc, const T* p, int64_t rs, int64_t n, int64_t w) const requires std::is_same_v<T, float> {
    reduce::sum_rows_f32(acc, p, rs, n, w);
  }
};

template <class T>
struct SumOp : PlainSumPaths<T> {
  using Acc = sum_acc_t<T>;
  using Out = sum_out_t<T>;
  Acc init() const { return 0; }
  Acc step(Acc a, T x, double) const { return acc_add(a, cast<Acc>(x)); }  // integer sums wrap, as PyTorch's
  Acc merge(Acc a, Acc b) const { return acc_add(a, b); }
  Out finish(Acc a, int64_t, double) const { return cast<Out>(a); }
};

template <class T>
struct ProdOp {
  using Acc = sum_acc_t<T>;
  using Out = sum_out_t<T>;
  Acc init() const { return 1; }
  Acc step(Acc a, T x, double) const { return acc_mul(a, cast<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return acc_mul(a, b); }
  Out finish(Acc a, int64_t, double) const { return cast<Out>(a); }
};

template <class T>
struct MeanOp : PlainSumPaths<T> {
  using Acc = double;
  using Out = T;
  Acc init() const { return 0; }
  Acc step(Acc a, T x, double) const { return a + cast<double>(x); }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t n, double) const { return cast<Out>(a / static_cast<double>(n)); }
};

template <class A>
inline bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>) return v != v;
  else return false;
}

// NaN propagates: once a lane holds NaN it keeps it.
template <class T, bool kMax>
struct ExtremumOp {
  using Acc = compute_t<T>;
  using Out = T;
  Acc init() const {
    if constexpr (std::is_floating_point_v<Acc>) return kMax ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    else return kMax ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
  }
  Acc step(Acc a, T xt, double) const {
    const Acc x = static_cast<Acc>(xt);
    // Bitwise | rather than ||: no branch, so the lanes vectorise into compare + blend.
    if constexpr (kMax) return ((x > a) | is_nan(x)) ? x : a;
    else return ((x < a) | is_nan(x)) ? x : a;
  }
  Acc merge(Acc a, Acc b) const { return step(a, static_cast<T>(b), 0); }
  Out finish(Acc a, int64_t, double) const { return static_cast<T>(a); }
  Acc fold_contiguous(Acc a, const T* p, int64_t n) const requires std::is_same_v<T, float> {
    return step(a, reduce::extremum_f32(p, n, kMax), 0);
  }
  void fold_rows(Acc* acc, const T* p, int64_t rs, int64_t n, int64_t w) const requires std::is_same_v<T, float> {
    reduce::extremum_rows_f32(acc, p, rs, n, w, kMax);
  }
};

template <class T, class O, bool kAll>
struct LogicalOp {
  using Acc = bool;
  using Out = O;
  Acc init() const { return kAll; }
  Acc step(Acc a, T x, double) const {
    const bool v = cast<bool>(x);
    return kAll ? (a && v) : (a || v);
  }
  Acc merge(Acc a, Acc b) const { return kAll ? (a && b) : (a || b); }
  Out finish(Acc a, int64_t, double) const { return static_cast<Out>(a); }
};

template <class T> void sum_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(SumOp<T>{}, out, in, m); }
template <class T> void prod_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(ProdOp<T>{}, out, in, m); }
template <class T> void mean_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(MeanOp<T>{}, out, in, m); }
template <class T> void amax_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(ExtremumOp<T, true>{}, out, in, m); }
template <class T> void amin_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(ExtremumOp<T, false>{}, out, in, m); }
// PyTorch keeps uint8 for all/any of uint8 (a legacy of masks); everything else gives bool.
template <class T> using logical_out_t = std::conditional_t<std::is_same_v<T, uint8_t>, uint8_t, bool>;
template <class T> void all_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(LogicalOp<T, logical_out_t<T>, true>{}, out, in, m); }
template <class T> void any_kernel(const Tensor& out, const Tensor& in, uint64_t m, const ReduceParams&) { reduce::run<T>(LogicalOp<T, logical_out_t<T>, false>{}, out, in, m); }

template <DType... Ts>
bool register_all() {
  using kernels::register_kernel;
  constexpr auto cpu = DeviceType::CPU;
  (register_kernel("sum", cpu, Ts, &sum_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("prod", cpu, Ts, &prod_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("amax", cpu, Ts, &amax_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("amin", cpu, Ts, &amin_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("all", cpu, Ts, &all_kernel<dtype_cpp_t<Ts>>), ...);
  (register_kernel("any", cpu, Ts, &any_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
template <DType... Ts>
bool register_float() {
  (kernels::register_kernel("mean", DeviceType::CPU, Ts, &mean_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>() &&
                        register_float<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
