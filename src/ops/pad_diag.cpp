// Ops that place a tensor inside a larger one: pad (constant, reflect, replicate, circular), diag
// and diag_embed. The constant-background forms fill a new tensor and copy the input into a view
// of it (one node each, whose rule is the same op run backwards); the other pad modes gather with
// index_select, whose gradient (index_add) sums the mirrored / repeated positions.
#include <algorithm>
#include <string>
#include <vector>

#include "core/tensor_internal.h"
#include "lazy/record.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/ops/index.h"
#include "ricci/ops/shape.h"

namespace ricci {

using autograd::Tensors;
using autograd::VjpArgs;

namespace {

// constant_pad_nd: pad pairs from the last dim; negative pads crop. Its gradient is itself with
// the pads negated (crop what was added, zero-pad what was cropped).
Tensor constant_pad(const Tensor& self, IntArrayRef pad, const Scalar& value) {
  if (lazy::recording()) [[unlikely]]
    return lazy::record1("constant_pad_nd", [](const Tensors& in, const Dims& p, const Scalar& v) { return constant_pad(in[0], p, v); },
                         {self}, Dims(pad), value);
  const int64_t nd = self.dim(), npad = static_cast<int64_t>(pad.size()) / 2;
  Dims out_sizes(self.shape());
  for (int64_t i = 0; i < npad; ++i) {
    const int64_t d = nd - 1 - i, pl = pad[2 * i], pr = pad[2 * i + 1];
    const int64_t s = self.size(d), n = s + pl + pr;
    RICCI_CHECK(n >= 0, ShapeError, "[pad] The input size ", s, ", plus negative padding ", pl, " and ", pr,
                " resulted in a negative output size, which is invalid. Check dimension ", d, " of your input.");
    out_sizes[d] = n;
  }
  Tensor out = empty_tensor(out_sizes, self.dtype(), self.device());
  {
    NoGradGuard no_grad;
    fill_kernel(out, value);
    // The part of the input that survives the crop, and where it lands.
    Tensor src = self.detach(), dst = out;
    bool any = true;
    for (int64_t i = 0; i < npad && any; ++i) {
      const int64_t d = nd - 1 - i, pl = pad[2 * i], pr = pad[2 * i + 1];
      const int64_t len = self.size(d) - std::max<int64_t>(0, -pl) - std::max<int64_t>(0, -pr);
      if (len <= 0) {
        any = false;
        break;
      }
      src = src.narrow(d, std::max<int64_t>(0, -pl), len);
      dst = dst.narrow(d, std::max<int64_t>(0, pl), len);
    }
    if (any && src.numel() > 0) copy_kernel(dst, src);
  }
  if (autograd::needs_grad(self)) {
    std::vector<int64_t> neg(pad.begin(), pad.end());
    for (int64_t& p : neg) p = -p;
    autograd::record("ConstantPadNdBackward0", {&self}, {&out}, {}, {},
                     [neg](const VjpArgs& g) { return Tensors{constant_pad(g.grads[0], neg, Scalar(0))}; });
  }
  return out;
}

enum class PadMode { Reflect, Replicate, Circular };

// The source position of each output position along one dim of size n padded by (pl, pr).
// Reflect and replicate measure from the original ends (a negative pad only crops); circular
// wraps around what is left after the crops, as PyTorch's _pad_circular copies from the cropped
// interior.
Tensor pad_index(int64_t n, int64_t pl, int64_t pr, PadMode mode, Device device) {
  const int64_t out = n + pl + pr;
  const int64_t first = std::max<int64_t>(-pl, 0), kept = n - first - std::max<int64_t>(-pr, 0);
  std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(out, 0)));
  for (int64_t o = 0; o < out; ++o) {
    int64_t j = o - pl;
    switch (mode) {
      case PadMode::Reflect:
        if (j < 0) j = -j;
        if (j >= n) j = 2 * (n - 1) - j;
        break;
      case PadMode::Replicate: j = std::clamp<int64_t>(j, 0, n - 1); break;
      case PadMode::Circular: {
        const int64_t w = (o - std::max<int64_t>(pl, 0)) % kept;  // kept > 0 here: the pads were checked
        j = first + (w < 0 ? w + kept : w);
        break;
      }
    }
    idx[static_cast<size_t>(o)] = j;
  }
  return from_vector(idx, {static_cast<int64_t>(idx.size())}, TensorOptions(int64, device));
}

Tensor index_pad(const Tensor& self, IntArrayRef pad, PadMode mode, std::string_view mode_name) {
  const int64_t nd = self.dim(), npad = static_cast<int64_t>(pad.size()) / 2;
  RICCI_CHECK(nd == npad + 1 || nd == npad + 2, NotImplementedError, "[pad] Padding size ", pad.size(),
              " is not supported for ", nd, "D input tensor (mode \"", std::string(mode_name), "\" with ", pad.size(),
              " pad values needs a ", npad + 1, "D or ", npad + 2, "D input, got ", self.shape(), ")");
  if (mode != PadMode::Circular) {
    // PyTorch's check_valid_input: only a leading batch dim may be empty.
    bool ok = true;
    for (int64_t d = nd == npad + 2 ? 1 : 0; d < nd; ++d) ok = ok && self.size(d) != 0;
    RICCI_CHECK(ok, ShapeError, "[pad] Expected ", npad + 1, "D or ", npad + 2,
                "D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: ",
                self.shape());
  }
  Tensor x = self;
  for (int64_t i = 0; i < npad; ++i) {
    const int64_t d = nd - 1 - i, pl = pad[2 * i], pr = pad[2 * i + 1], n = self.size(d);
    switch (mode) {
      case PadMode::Reflect:
        RICCI_CHECK(pl < n && pr < n, ValueError,
                    "[pad] Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (",
                    pl, ", ", pr, ") at dimension ", d, " of input ", self.shape());
        break;
      case PadMode::Circular:
        RICCI_CHECK(pl <= n && pr <= n, ValueError, "[pad] Padding value causes wrapping around more than once (padding (",
                    pl, ", ", pr, ") at dimension ", d, " of input ", self.shape(), ")");
        RICCI_CHECK(n + pl + pr >= 0, ValueError, "[pad] Negative padding value is resulting in an empty dimension (padding (",
                    pl, ", ", pr, ") at dimension ", d, " of input ", self.shape(), ")");
        {
          // What is left after a negative pad on one side is all the other side can wrap around.
          const int64_t kept = n - std::max<int64_t>(-pl, 0) - std::max<int64_t>(-pr, 0);
          RICCI_CHECK(std::max<int64_t>(pl, 0) <= kept && std::max<int64_t>(pr, 0) <= kept, ValueError,
                      "[pad] Padding value causes wrapping around more than once (padding (", pl, ", ", pr,
                      ") at dimension ", d, " of input ", self.shape(), " leaves ", kept, " elements to wrap around)");
        }
        break;
      case PadMode::Replicate: break;
    }
    if (mode != PadMode::Circular)
      RICCI_CHECK(n + pl + pr >= 1, ShapeError, "[pad] input (size ", n, " at dimension ", d,
                  ") is too small. Calculated output size: ", n + pl + pr, " (padding (", pl, ", ", pr, "))");
    if (pl == 0 && pr == 0) continue;
    x = index_select(x, d, pad_index(n, pl, pr, mode, self.device()));
  }
  return x.is_same(self) ? self.clone() : x;
}

}  // namespace

Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode, std::optional<Scalar> value) {
  check_defined(self, "pad");
  RICCI_CHECK(pad.size() % 2 == 0, ValueError, "[pad] Padding length must be divisible by 2 (got ", pad.size(), " values)");
  RICCI_CHECK(static_cast<int64_t>(pad.size()) <= 2 * self.dim(), ValueError,
              "[pad] Padding length should be less than or equal to two times the input dimension but got padding length ",
              pad.size(), " and input of dimension ", self.dim());
  if (mode == "constant") return constant_pad(self, pad, value.value_or(Scalar(0)));
  PadMode m;
  if (mode == "reflect") m = PadMode::Reflect;
  else if (mode == "replicate") m = PadMode::Replicate;
  else if (mode == "circular") m = PadMode::Circular;
  else
    throw ValueError(detail::cat("[pad] Unrecognised padding mode ", std::string(mode),
                                 "; expected \"constant\", \"reflect\", \"replicate\" or \"circular\""));
  RICCI_CHECK(!value || value->to_double() == 0, ValueError, "[pad] Padding mode \"", std::string(mode),
              "\" doesn't take in value argument");
  return index_pad(self, pad, m, mode);
}

Tensor diag_embed(const Tensor& self, int64_t offset, int64_t dim1, int64_t dim2) {
  check_defined(self, "diag_embed");
  const int64_t nd = self.dim() + 1;
  const int64_t d1 = wrap_dim(dim1, nd, "diag_embed"), d2 = wrap_dim(dim2, nd, "diag_embed");
  RICCI_CHECK(d1 != d2, ValueError, "[diag_embed] diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  // (A 0-d input has nd = 1, where no two dims differ: wrap_dim has refused it.)
  const int64_t n = self.size(-1) + (offset < 0 ? -offset : offset);
  Dims sizes(self.shape());
  sizes.pop_back();
  std::vector<int64_t> v(sizes.begin(), sizes.end());
  v.insert(v.begin() + std::min(d1, d2), n);
  v.insert(v.begin() + std::max(d1, d2), n);
  Tensor out = zeros(v, TensorOptions(self.dtype(), self.device()));
  if (self.numel() > 0) {
    NoGradGuard no_grad;
    copy_kernel(out.diagonal(offset, d1, d2), self.detach());
  }
  if (autograd::needs_grad(self)) {
    autograd::record("DiagEmbedBackward0", {&self}, {&out}, {}, {}, [offset, d1, d2](const VjpArgs& g) {
      return Tensors{g.grads[0].diagonal(offset, d1, d2)};
    });
  }
  return out;
}

Tensor diag(const Tensor& self, int64_t diagonal) {
  check_defined(self, "diag");
  RICCI_CHECK(self.dim() == 1 || self.dim() == 2, ShapeError, "[diag] diag(): Supports 1D or 2D tensors. Got ", self.dim(),
              "D; use diagonal() or diag_embed() for other ranks");
  if (self.dim() == 1) return diag_embed(self, diagonal, 0, 1);
  return self.diagonal(diagonal).clone();
}

// ---- Tensor methods -------------------------------------------------------------------------------
Tensor Tensor::diag(int64_t diagonal) const { return ricci::diag(*this, diagonal); }
Tensor Tensor::diag_embed(int64_t offset, int64_t dim1, int64_t dim2) const {
  return ricci::diag_embed(*this, offset, dim1, dim2);
}

}  // namespace ricci
