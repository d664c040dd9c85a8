// Building reduction plans (Note [Reduction plans] in reduce_engine.h).
#include "backend/cpu/reduce_engine.h"

#include <cstdlib>

namespace ricci::cpu::reduce {

Plan make_plan(const Tensor& out, const Tensor& in, uint64_t mask) {
  RICCI_CHECK(in.dim() <= kMaxDims, ShapeError, "[reduce] tensors with more than ", kMaxDims, " dims are not supported");
  Plan P;
  struct R { int64_t size, in; };
  R red[kMaxDims];
  int nr = 0;
  for (int64_t d = 0; d < in.dim(); ++d) {
    const int64_t s = in.sizes()[d];
    if (mask >> d & 1) {
      P.nred *= s;
      if (s != 1) red[nr++] = {s, in.strides()[d]};
    } else {
      P.nout *= s;
      if (s == 1) continue;
      const int64_t is = in.strides()[d], os = out.strides()[d];
      if (P.nk > 0 && P.kin[P.nk - 1] == s * is && P.kout[P.nk - 1] == s * os) {
        P.ksize[P.nk - 1] *= s;
        P.kin[P.nk - 1] = is;
        P.kout[P.nk - 1] = os;
        continue;
      }
      P.ksize[P.nk] = s;
      P.kin[P.nk] = is;
      P.kout[P.nk] = os;
      ++P.nk;
    }
  }
  // Innermost (smallest stride) reduced dim last, then merge what memory walks as one.
  std::stable_sort(red, red + nr, [](const R& a, const R& b) { return std::llabs(a.in) > std::llabs(b.in); });
  for (int i = 0; i < nr; ++i) {
    if (P.nr > 0 && P.rin[P.nr - 1] == red[i].size * red[i].in) {
      P.rsize[P.nr - 1] *= red[i].size;
      P.rin[P.nr - 1] = red[i].in;
      continue;
    }
    P.rsize[P.nr] = red[i].size;
    P.rin[P.nr] = red[i].in;
    ++P.nr;
  }
  if (P.nr > 0 && P.rin[P.nr - 1] != 1) {
    for (int k = P.nk - 1; k >= 0; --k) {
      if (P.kin[k] != 1) continue;
      // The contiguous kept dim becomes the tile dim (last in plan order).
      std::swap(P.ksize[k], P.ksize[P.nk - 1]);
      std::swap(P.kin[k], P.kin[P.nk - 1]);
      std::swap(P.kout[k], P.kout[P.nk - 1]);
      P.tile = true;
      break;
    }
  }
  return P;
}

}  // namespace ricci::cpu::reduce
