// CUDA add/sub/mul/div on operands already broadcast (stride 0 allowed) to the output's shape
// and converted to its dtype. float16/bfloat16 compute in float, as on the CPU.
#include "backend/cuda/elementwise.cuh"

namespace ricci::cuda_backend {

namespace {

struct AddOp { template <class V> __device__ V operator()(V a, V b) const { return a + b; } };
struct SubOp { template <class V> __device__ V operator()(V a, V b) const { return a - b; } };
struct MulOp { template <class V> __device__ V operator()(V a, V b) const { return a * b; } };
struct DivOp {
  template <class V> __device__ V operator()(V a, V b) const {
    // Integer division truncates; x / 0 gives 0 instead of the GPU's unspecified bits.
    if constexpr (std::is_integral_v<V>) return b == 0 ? V(0) : a / b;
    else return a / b;
  }
};

template <class Op, class T>
__global__ void binary_kernel(T* out, const T* a, const T* b, LoopParams<3> p) {
  const Op op;
  RICCI_CUDA_KERNEL_LOOP(i, p.numel) {
    int64_t off[3];
    offsets(p, i, off);
    out[off[0]] = store_as<T>(op(load(a[off[1]]), load(b[off[2]])));
  }
}

template <class T>
void launch_typed(BinaryOp op, void* out, const void* a, const void* b, const LoopParams<3>& p) {
  auto* o = static_cast<T*>(out);
  const auto* x = static_cast<const T*>(a);
  const auto* y = static_cast<const T*>(b);
  const unsigned blocks = blocks_for(p.numel);
  switch (op) {
    case BinaryOp::Add: binary_kernel<AddOp><<<blocks, kThreads>>>(o, x, y, p); break;
    case BinaryOp::Sub: binary_kernel<SubOp><<<blocks, kThreads>>>(o, x, y, p); break;
    case BinaryOp::Mul: binary_kernel<MulOp><<<blocks, kThreads>>>(o, x, y, p); break;
    case BinaryOp::Div: binary_kernel<DivOp><<<blocks, kThreads>>>(o, x, y, p); break;
  }
}

}  // namespace

cudaError_t launch_binary(BinaryOp op, ElemType type, void* out, const void* a, const void* b, const LoopParams<3>& p) {
  if (p.numel == 0) return cudaSuccess;
  switch (type) {
    case ElemType::Float32: launch_typed<float>(op, out, a, b, p); break;
    case ElemType::Float64: launch_typed<double>(op, out, a, b, p); break;
    case ElemType::Float16: launch_typed<f16>(op, out, a, b, p); break;
    case ElemType::BFloat16: launch_typed<bf16>(op, out, a, b, p); break;
    case ElemType::Int32: launch_typed<int32_t>(op, out, a, b, p); break;
    case ElemType::Int64: launch_typed<int64_t>(op, out, a, b, p); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace ricci::cuda_backend
