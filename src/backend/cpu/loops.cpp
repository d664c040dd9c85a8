#include "backend/cpu/loops.h"

namespace ricci::cpu {

LoopLayout make_loop_layout(const Tensor* const* ops, int nops) {
  RICCI_CHECK(nops <= kMaxOperands, Error, "[loop] at most ", kMaxOperands, " operands");
  LoopLayout L;
  L.nops = nops;
  const Tensor& out = *ops[0];
  const int64_t nd = out.dim();
  L.numel = out.numel();
  // Empty: nothing will run (ndim 0 with numel 0). Its strides may be anything that fits, so no
  // byte strides are formed; in a non-empty tensor, stride * element size of a dim of size >= 2
  // lies within its storage.
  if (L.numel == 0) return L;
  for (int k = 0; k < nops; ++k) {
    const Tensor& t = *ops[k];
    L.base[k] = static_cast<char*>(t.data_ptr());
  }
  // Keep dims of size != 1, then merge neighbours that every operand walks as one.
  Dims sizes;
  std::array<Dims, kMaxOperands> strides;
  for (int64_t d = 0; d < nd; ++d) {
    const int64_t s = out.sizes()[d];
    if (s == 1) continue;
    if (!sizes.empty()) {
      bool mergeable = true;
      for (int k = 0; k < nops && mergeable; ++k) {
        const int64_t es = static_cast<int64_t>(ops[k]->element_size());
        int64_t span;  // s * stride * es: no wrap, so no false merge
        mergeable = !mul_overflows(s, ops[k]->strides()[d], &span) && !mul_overflows(span, es, &span) &&
                    strides[k].back() == span;
      }
      if (mergeable) {
        sizes.back() *= s;
        for (int k = 0; k < nops; ++k) strides[k].back() = ops[k]->strides()[d] * static_cast<int64_t>(ops[k]->element_size());
        continue;
      }
    }
    sizes.push_back(s);
    for (int k = 0; k < nops; ++k) strides[k].push_back(ops[k]->strides()[d] * static_cast<int64_t>(ops[k]->element_size()));
  }
  RICCI_CHECK(sizes.size() <= 16, ShapeError, "[loop] tensors with more than 16 non-trivial dims are not supported");
  L.ndim = static_cast<int>(sizes.size());
  L.sizes = std::move(sizes);
  for (int k = 0; k < nops; ++k) L.strides[k] = std::move(strides[k]);
  return L;
}

}  // namespace ricci::cpu
