// CPU kernels for cumsum and cumprod. The contiguous input is seen as (outer, n, inner) with the
// scanned dim in the middle: a tile of up to kTile inner columns keeps its running values in a
// local float64/int64 array and walks the n rows, so the reads and writes stay contiguous
// (a scan along the last dim is the inner == 1 case).
#include "backend/cpu/cast.h"
#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_kernels.h"
#include "backend/cpu/wrapping.h"
#include "backend/kernel_table.h"

namespace ricci::cpu {
namespace {

template <class T, bool kProd>
void scan_typed(const Tensor& out, const Tensor& in, int64_t dim, bool reverse) {
  using Acc = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;
  using Out = std::conditional_t<std::is_floating_point_v<compute_t<T>>, T, int64_t>;
  const int64_t nd = in.dim();
  int64_t outer = 1, inner = 1;
  const int64_t n = nd == 0 ? 1 : in.sizes()[dim];
  for (int64_t d = 0; d < nd; ++d) {
    if (d < dim) outer *= in.sizes()[d];
    if (d > dim) inner *= in.sizes()[d];
  }
  if (outer * n * inner == 0) return;
  const T* ip = static_cast<const T*>(in.data_ptr());
  Out* op = static_cast<Out*>(out.data_ptr());
  const int64_t nblk = (inner + reduce::kTile - 1) / reduce::kTile;
  const int64_t grain = std::max<int64_t>(1, kGrainSize / (n * std::min(inner, reduce::kTile)));
  parallel_for(0, outer * nblk, grain, [&](int64_t ub, int64_t ue) {
    Acc acc[reduce::kTile];
    for (int64_t u = ub; u < ue; ++u) {
      const int64_t o = u / nblk, j0 = (u % nblk) * reduce::kTile, w = std::min(reduce::kTile, inner - j0);
      const T* src = ip + o * n * inner + j0;
      Out* dst = op + o * n * inner + j0;
      for (int64_t j = 0; j < w; ++j) acc[j] = kProd ? 1 : 0;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = reverse ? n - 1 - k : k;
        const T* s = src + i * inner;
        Out* d = dst + i * inner;
        for (int64_t j = 0; j < w; ++j) {
          acc[j] = kProd ? acc_mul(acc[j], cast<Acc>(s[j])) : acc_add(acc[j], cast<Acc>(s[j]));  // integers wrap
          d[j] = cast<Out>(acc[j]);
        }
      }
    }
  });
}

template <class T> void cumsum_kernel(const Tensor& o, const Tensor& i, int64_t d, bool r) { scan_typed<T, false>(o, i, d, r); }
template <class T> void cumprod_kernel(const Tensor& o, const Tensor& i, int64_t d, bool r) { scan_typed<T, true>(o, i, d, r); }

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("cumsum", DeviceType::CPU, Ts, &cumsum_kernel<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("cumprod", DeviceType::CPU, Ts, &cumprod_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
