// CPU kernels for the index-driven nn ops: embedding (row gather and its accumulating backward)
// and the NLL loss as a linear map (gather of the target entries and its transpose, a scatter).
// Indices arrive bounds-checked by the ops.
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

namespace ricci::cpu {
namespace {

// Rows are copied as bytes: one instantiation per element size serves every dtype.
template <size_t ES>
void embedding_fwd(const Tensor& out, const Tensor& weight, const Tensor& idx, int64_t skip) {
  const int64_t k = idx.numel(), d = weight.size(1);
  const int64_t* ip = idx.data_ptr<int64_t>();
  const char* wp = static_cast<const char*>(weight.data_ptr());
  char* op = static_cast<char*>(out.data_ptr());
  const size_t row = static_cast<size_t>(d) * ES;
  parallel_for(0, k, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(d, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (ip[i] == skip) std::memset(op + i * row, 0, row);
      else std::memcpy(op + i * row, wp + ip[i] * row, row);
    }
  });
}

// Threads split the embedding dim, so each owns whole columns: no races, and every row is
// summed in index order (deterministic).
template <class T>
void embedding_bwd(const Tensor& grad_weight, const Tensor& g, const Tensor& idx, int64_t skip) {
  using C = compute_t<T>;
  const int64_t k = idx.numel(), d = grad_weight.size(1);
  const int64_t* ip = idx.data_ptr<int64_t>();
  const T* gp = g.data_ptr<T>();
  T* wp = grad_weight.data_ptr<T>();
  const int64_t grain = std::max<int64_t>(16, kGrainSize / std::max<int64_t>(k, 1));
  parallel_for(0, d, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < k; ++i) {
      if (ip[i] == skip) continue;
      T* dst = wp + ip[i] * d;
      const T* src = gp + i * d;
      for (int64_t c = c0; c < c1; ++c) dst[c] = static_cast<T>(static_cast<C>(dst[c]) + static_cast<C>(src[c]));
    }
  });
}

template <class T>
void nll_gather(const Tensor& out, const Tensor& x, const Tensor& target, const Tensor& coef, int64_t n, int64_t c,
                int64_t inner, bool reduce) {
  const T* xp = x.data_ptr<T>();
  const int64_t* tp = target.data_ptr<int64_t>();
  const double* cp = coef.data_ptr<double>();
  T* op = out.data_ptr<T>();
  const int64_t m = n * inner;
  if (reduce) {
    double s = 0;  // serial and in double: the same sum for any thread count
    for (int64_t i = 0; i < m; ++i) {
      if (cp[i] == 0) continue;  // ignored targets may hold any value
      const int64_t b = i / inner, j = i % inner;
      s += cp[i] * static_cast<double>(xp[(b * c + tp[i]) * inner + j]);
    }
    op[0] = static_cast<T>(s);
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    const int64_t b = i / inner, j = i % inner;
    op[i] = cp[i] == 0 ? T(0) : static_cast<T>(cp[i] * static_cast<double>(xp[(b * c + tp[i]) * inner + j]));
  }
}

template <class T>
void nll_scatter(const Tensor& dx, const Tensor& g, const Tensor& target, const Tensor& coef, int64_t n, int64_t c,
                 int64_t inner, bool reduce) {
  const T* gp = g.data_ptr<T>();
  const int64_t* tp = target.data_ptr<int64_t>();
  const double* cp = coef.data_ptr<double>();
  T* dp = dx.data_ptr<T>();
  const int64_t m = n * inner;
  for (int64_t i = 0; i < m; ++i) {
    if (cp[i] == 0) continue;
    const int64_t b = i / inner, j = i % inner;
    const double gv = static_cast<double>(reduce ? gp[0] : gp[i]);
    dp[(b * c + tp[i]) * inner + j] = static_cast<T>(cp[i] * gv);
  }
}

template <DType... Ts>
bool register_all() {
  (kernels::register_kernel("nn_embedding", DeviceType::CPU, Ts, &embedding_fwd<element_size(Ts)>), ...);
  return true;
}
template <DType... Ts>
bool register_float() {
  (kernels::register_kernel("nn_embedding_backward", DeviceType::CPU, Ts, &embedding_bwd<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("nn_nll_gather", DeviceType::CPU, Ts, &nll_gather<dtype_cpp_t<Ts>>), ...);
  (kernels::register_kernel("nn_nll_scatter", DeviceType::CPU, Ts, &nll_scatter<dtype_cpp_t<Ts>>), ...);
  return true;
}

const bool registered = register_all<DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                     DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>() &&
                        register_float<DType::Float16, DType::BFloat16, DType::Float32, DType::Float64>();

}  // namespace
}  // namespace ricci::cpu
