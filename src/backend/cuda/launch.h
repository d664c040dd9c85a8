#pragma once
// The boundary between the CUDA kernels (.cu, compiled by nvcc) and their host wrappers (.cpp,
// compiled by the C++ compiler). Only plain types cross it, so nvcc never has to parse the
// library's C++20 headers (Tensor, Scalar, ...), and the wrappers never see device code.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace ricci::cuda_backend {

inline constexpr int kMaxDims = 8;

// Sizes and per-operand strides (in elements) of a loop over N operands, passed to kernels by
// value. Dims of size 1 are dropped and mergeable neighbours merged before they get here.
template <int N>
struct LoopParams {
  int ndim = 0;
  int64_t numel = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};
};

// Element types by index, in ricci::DType's order (the wrappers static_assert that they agree).
enum class ElemType : int { Bool, UInt8, Int8, Int16, Int32, Int64, Float16, BFloat16, Float32, Float64 };

enum class BinaryOp : int { Add, Sub, Mul, Div };

// Each launches on the current device and stream and returns cudaGetLastError() (the launch
// status; kernels run asynchronously). An unsupported element type gives cudaErrorInvalidValue.
cudaError_t launch_copy(ElemType dst_type, void* dst, ElemType src_type, const void* src, const LoopParams<2>& p);
// `value` holds the element's bytes (the host converts, so rounding matches the CPU exactly).
cudaError_t launch_fill(ElemType type, void* dst, uint64_t value, const LoopParams<1>& p);
// Float32, Float64, Float16, BFloat16, Int32, Int64; a and b already have out's shape and type.
cudaError_t launch_binary(BinaryOp op, ElemType type, void* out, const void* a, const void* b, const LoopParams<3>& p);

}  // namespace ricci::cuda_backend
