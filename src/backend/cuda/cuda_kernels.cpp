// Host side of the CUDA elementwise kernels: turns Tensors into LoopParams, makes the tensor's GPU
// current, launches (launch.h) and registers the kernels in the table for DeviceType::CUDA.
// "copy" is registered under the SOURCE dtype (the destination type is picked at run time),
// "fill" and the binary ops under the output's dtype.
#include <cstring>

#include "backend/cuda/cuda_common.h"
#include "backend/cuda/launch.h"
#include "backend/kernel_table.h"
#include "ricci/tensor.h"

namespace ricci::cuda_backend {

namespace {

static_assert(static_cast<int>(ElemType::Float64) == static_cast<int>(DType::Float64) &&
                  static_cast<int>(ElemType::Float16) == static_cast<int>(DType::Float16) &&
                  static_cast<int>(ElemType::Bool) == static_cast<int>(DType::Bool) && kNumDTypes == 10,
              "ElemType mirrors DType's order");

ElemType elem(DType t) { return static_cast<ElemType>(static_cast<int>(t)); }

// The loop over ops (all of ops[0]'s shape): size-1 dims dropped and neighbouring dims that
// every operand walks as one merged, so a contiguous tensor of any rank is one flat dim.
template <int N>
LoopParams<N> make_params(const Tensor* const (&ops)[N], const char* op) {
  LoopParams<N> p;
  const IntArrayRef sizes = ops[0]->sizes();
  p.numel = 1;
  for (int64_t s : sizes) p.numel *= s;
  int nd = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    const int64_t s = sizes[d];
    if (s == 1) continue;
    bool mergeable = nd > 0;
    for (int k = 0; k < N && mergeable; ++k) mergeable = p.strides[k][nd - 1] == s * ops[k]->strides()[d];
    if (mergeable) {
      p.sizes[nd - 1] *= s;
      for (int k = 0; k < N; ++k) p.strides[k][nd - 1] = ops[k]->strides()[d];
      continue;
    }
    RICCI_CHECK(nd < kMaxDims, NotImplementedError, "[", op, "] CUDA kernels take at most ", kMaxDims,
                " dims that cannot be merged (call .contiguous() on the inputs first)");
    p.sizes[nd] = s;
    for (int k = 0; k < N; ++k) p.strides[k][nd] = ops[k]->strides()[d];
    ++nd;
  }
  p.ndim = nd;
  return p;
}

void copy_kernel(const Tensor& dst, const Tensor& src) {
  const Tensor* const ops[2] = {&dst, &src};
  const LoopParams<2> p = make_params(ops, "copy");
  if (p.numel == 0) return;
  DeviceGuard guard(dst.device().normalized_index());
  RICCI_CUDA_CHECK(launch_copy(elem(dst.dtype()), dst.data_ptr(), elem(src.dtype()), src.data_ptr(), p), "copy");
}

void fill_kernel(const Tensor& dst, const Scalar& value) {
  const Tensor* const ops[1] = {&dst};
  const LoopParams<1> p = make_params(ops, "fill");
  if (p.numel == 0) return;
  // The host converts the value, so float16/bfloat16 round exactly as on the CPU.
  uint64_t bits = 0;
  RICCI_DISPATCH_ALL(dst.dtype(), "fill", [&]<class T>() {
    const T v = value.to<T>();
    std::memcpy(&bits, &v, sizeof(T));
  });
  DeviceGuard guard(dst.device().normalized_index());
  RICCI_CUDA_CHECK(launch_fill(elem(dst.dtype()), dst.data_ptr(), bits, p), "fill");
}

template <BinaryOp Op>
void binary_kernel(const Tensor& out, const Tensor& a, const Tensor& b) {
  constexpr const char* name = Op == BinaryOp::Add ? "add" : Op == BinaryOp::Sub ? "sub" : Op == BinaryOp::Mul ? "mul" : "div";
  const Tensor* const ops[3] = {&out, &a, &b};
  const LoopParams<3> p = make_params(ops, name);
  if (p.numel == 0) return;
  DeviceGuard guard(out.device().normalized_index());
  RICCI_CUDA_CHECK(launch_binary(Op, elem(out.dtype()), out.data_ptr(), a.data_ptr(), b.data_ptr(), p), name);
}

bool register_all() {
  using kernels::register_kernel;
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    register_kernel("copy", DeviceType::CUDA, t, &copy_kernel);
    register_kernel("fill", DeviceType::CUDA, t, &fill_kernel);
  }
  for (DType t : {float32, float64, float16, bfloat16, int32, int64}) {
    register_kernel("add", DeviceType::CUDA, t, &binary_kernel<BinaryOp::Add>);
    register_kernel("sub", DeviceType::CUDA, t, &binary_kernel<BinaryOp::Sub>);
    register_kernel("mul", DeviceType::CUDA, t, &binary_kernel<BinaryOp::Mul>);
    register_kernel("div", DeviceType::CUDA, t, &binary_kernel<BinaryOp::Div>);
  }
  return true;
}

[[maybe_unused]] const bool g_registered = register_all();

}  // namespace

}  // namespace ricci::cuda_backend
