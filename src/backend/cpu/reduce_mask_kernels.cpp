// The masks reduction gradients need (ties of amax, the index chosen by max(dim)): constant
// tensors, computed without a graph.
#include "backend/cpu/cast.h"
#include "backend/cpu/loops.h"
#include "backend/kernel_table.h"
#include "ops/reduce_common.h"
#include "ricci/factories.h"

namespace ricci::cpu {
namespace {

using EqMaskKernel = void (*)(const Tensor& out, const Tensor& a, const Tensor& b);

template <class T>
void eq_mask_kernel(const Tensor& out, const Tensor& a, const Tensor& b) {
  for_each_strided({&out, &a, &b}, [](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const auto x = static_cast<compute_t<T>>(*reinterpret_cast<const T*>(p[1] + i * st[1]));
      const auto y = static_cast<compute_t<T>>(*reinterpret_cast<const T*>(p[2] + i * st[2]));
      *reinterpret_cast<T*>(p[0] + i * st[0]) = cast<T>(x == y ? 1 : 0);
    }
  });
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("reduce_eq_mask", DeviceType::CPU, Ts, &eq_mask_kernel<dtype_cpp_t<Ts>>), ...);
  return true;
}
const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu

namespace ricci::reduce_detail {

Tensor eq_mask(const Tensor& a, const Tensor& b) {
  static const auto id = kernels::op_id("reduce_eq_mask");
  Tensor ad = a.detach(), bd = b.detach().expand(a.shape());
  Tensor out = empty_tensor(a.shape(), a.dtype(), a.device());
  kernels::kernel_table().get<cpu::EqMaskKernel>(id, a.device(), a.dtype())(out, ad, bd);
  return out;
}

Tensor index_mask(const Tensor& indices, IntArrayRef in_sizes, int64_t dim, DType dtype) {
  Dims shape(in_sizes.size(), 1);
  shape[dim] = in_sizes[dim];
  Tensor pos = arange(in_sizes[dim], TensorOptions(int64, indices.device())).view(shape).expand(in_sizes);
  return eq_mask(pos, indices.expand(in_sizes)).to(dtype);
}

}  // namespace ricci::reduce_detail
