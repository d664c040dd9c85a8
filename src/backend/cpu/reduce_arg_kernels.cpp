// argmax/argmin (and max/min along a dim, which also return the values) over one dim.
// Uses the reduction plan (Note [Reduction plans]): along a contiguous reduced dim each output
// scans its run; otherwise a tile of neighbouring outputs compares whole rows at once.
#include <limits>

#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_hwy.h"
#include "backend/cpu/reduce_kernels.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

template <class A>
inline bool nan_of(A v) {
  if constexpr (std::is_floating_point_v<A>) return v != v;
  else return false;
}

// True when x should replace the current best: strictly better, or the first NaN.
template <bool kMax, class A>
inline bool better(A x, A best) {
  if (nan_of(best)) return false;
  if (nan_of(x)) return true;
  return kMax ? x > best : x < best;
}

template <class T, bool kMax>
void arg_typed(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim) {
  using A = compute_t<T>;
  const uint64_t mask = in.dim() == 0 ? 0 : uint64_t{1} << dim;
  const reduce::Plan P = reduce::make_plan(indices, in, mask);
  if (P.nout == 0) return;
  const T* ip = static_cast<const T*>(in.data_ptr());
  int64_t* xp = static_cast<int64_t*>(indices.data_ptr());
  T* vp = values.defined() ? static_cast<T*>(values.data_ptr()) : nullptr;
  const int64_t n = P.nred;
  const int64_t rstride = P.nr ? P.rin[0] : 0;
  const int64_t tlen = P.tile ? P.ksize[P.nk - 1] : 1;
  const int64_t nblk = P.tile ? (tlen + reduce::kTile - 1) / reduce::kTile : 1;
  const int64_t units = P.tile ? P.nout / tlen * nblk : P.nout;
  const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(1, n * (P.tile ? reduce::kTile : 1)));
  parallel_for(0, units, grain, [&](int64_t ub, int64_t ue) {
    if (!P.tile) {
      for (int64_t o = ub; o < ue; ++o) {
        int64_t ioff, ooff;
        reduce::kept_offsets(P, o, ioff, ooff);
        const T* p = ip + ioff;
        if constexpr (std::is_same_v<T, float>) {
          if (rstride == 1 || n == 1) {  // a contiguous row: the vectorised scan
            const int64_t i = reduce::arg_extremum_f32(p, n, kMax);
            xp[ooff] = i;
            if (vp) vp[ooff] = p[i];
            continue;
          }
        }
        A best = static_cast<A>(p[0]);
        int64_t bi = 0;
        for (int64_t i = 1; i < n; ++i) {
          const A x = static_cast<A>(p[i * rstride]);
          if (better<kMax>(x, best)) best = x, bi = i;
        }
        xp[ooff] = bi;
        if (vp) vp[ooff] = static_cast<T>(best);
      }
      return;
    }
    A best[reduce::kTile];
    int64_t bi[reduce::kTile];
    const int t = P.nk - 1;
    for (int64_t u = ub; u < ue; ++u) {
      const int64_t outer = u / nblk, j0 = (u % nblk) * reduce::kTile, w = std::min(reduce::kTile, tlen - j0);
      int64_t ioff, ooff;
      reduce::kept_offsets(P, outer * tlen + j0, ioff, ooff);
      const T* base = ip + ioff;
      for (int64_t j = 0; j < w; ++j) best[j] = static_cast<A>(base[j]), bi[j] = 0;
      for (int64_t i = 1; i < n; ++i) {
        const T* row = base + i * rstride;
        for (int64_t j = 0; j < w; ++j) {
          const A x = static_cast<A>(row[j]);
          if (better<kMax>(x, best[j])) best[j] = x, bi[j] = i;
        }
      }
      for (int64_t j = 0; j < w; ++j) {
        xp[ooff + j * P.kout[t]] = bi[j];
        if (vp) vp[ooff + j * P.kout[t]] = static_cast<T>(best[j]);
      }
    }
  });
}

template <class T>
void arg_kernel(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, bool is_max) {
  if (is_max) arg_typed<T, true>(values, indices, in, dim);
  else arg_typed<T, false>(values, indices, in, dim);
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("arg_reduce", DeviceType::CPU, Ts, &arg_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
