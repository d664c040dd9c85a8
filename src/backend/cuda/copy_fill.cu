// CUDA copy (any layouts, any of the 10 dtypes to any other) and fill (any layout) kernels.
// Each of the 10 x 10 conversions is compiled once; the host wrappers are in cuda_kernels.cpp.
#include <cstring>

#include "backend/cuda/elementwise.cuh"

namespace ricci::cuda_backend {

namespace {

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, LoopParams<2> p) {
  RICCI_CUDA_KERNEL_LOOP(i, p.numel) {
    int64_t off[2];
    offsets(p, i, off);
    dst[off[0]] = store_as<D>(load(src[off[1]]));
  }
}

template <class T>
__global__ void fill_kernel(T* dst, T value, LoopParams<1> p) {
  RICCI_CUDA_KERNEL_LOOP(i, p.numel) {
    int64_t off[1];
    offsets(p, i, off);
    dst[off[0]] = value;
  }
}

// Dispatch functors (not template lambdas: the .cu files stay valid C++17 for older CMake/nvcc).
template <class S>
struct CopyTo {
  void* dst;
  const void* src;
  const LoopParams<2>* p;
  template <class D>
  void operator()() const {
    copy_kernel<<<blocks_for(p->numel), kThreads>>>(static_cast<D*>(dst), static_cast<const S*>(src), *p);
  }
};

struct CopyFrom {
  ElemType dst_type;
  void* dst;
  const void* src;
  const LoopParams<2>* p;
  bool* ok;
  template <class S>
  void operator()() const {
    *ok = dispatch_all(dst_type, CopyTo<S>{dst, src, p});
  }
};

struct Fill {
  void* dst;
  uint64_t value;
  const LoopParams<1>* p;
  template <class T>
  void operator()() const {
    T v;
    std::memcpy(&v, &value, sizeof(T));  // the low bytes hold the element (little-endian)
    fill_kernel<<<blocks_for(p->numel), kThreads>>>(static_cast<T*>(dst), v, *p);
  }
};

}  // namespace

cudaError_t launch_copy(ElemType dst_type, void* dst, ElemType src_type, const void* src, const LoopParams<2>& p) {
  if (p.numel == 0) return cudaSuccess;
  bool ok = false;
  dispatch_all(src_type, CopyFrom{dst_type, dst, src, &p, &ok});
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_fill(ElemType type, void* dst, uint64_t value, const LoopParams<1>& p) {
  if (p.numel == 0) return cudaSuccess;
  const bool ok = dispatch_all(type, Fill{dst, value, &p});
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace ricci::cuda_backend
