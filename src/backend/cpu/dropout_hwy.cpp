// The dropout mask of F::dropout (src/nn/functional_compose.cpp) for float32: out[i] = scale where
// bernoulli(keep) draws 1 for element i, else 0 — the values of
//   bernoulli(shape, keep, float32, gen) * scale
// bit for bit (Note [Philox streams], src/core/random.cpp: block k of the op's reserved stream is
// philox4x32_10(counter = offset + k, key = seed) and gives elements 2k and 2k+1 their 64-bit
// draws (words 0,1 and 2,3); a draw u = (bits >> 11) 2^-53 keeps its element when u < keep), in
// one pass with eight Philox blocks per AVX2 vector instead of one at a time (a fifth of the time
// of the scalar bernoulli, which was 5 % of a GPT training step) and without the separate
// `* scale` pass.
//
// u < keep compares integers: (bits >> 11) < keep 2^53 exactly when bits < ceil(keep 2^53) 2^11
// (the left side is an integer; keep 2^53 is exact), a 64-bit threshold compared as (hi, lo)
// 32-bit halves.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "ricci/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/dropout_hwy.cpp"
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
#endif
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#ifndef RICCI_DROPOUT_HWY_ONCE
#define RICCI_DROPOUT_HWY_ONCE
namespace ricci::cpu::dropout_detail {

using Block = std::array<uint32_t, 4>;
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox round multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments

// Philox 4x32-10, the same function as src/core/random.cpp's (checked against the same
// known-answer vectors).
constexpr Block philox(Block c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kM0} * c[0];
    const uint64_t p1 = uint64_t{kM1} * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<uint32_t>(p0)};
    k0 += kW0;
    k1 += kW1;
  }
  return c;
}
static_assert(philox({0, 0, 0, 0}, 0, 0) == Block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
static_assert(philox({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u) == Block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
static_assert(philox({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u) ==
              Block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});

// Blocks [kb, ke) of the stream, scalar: elements 2k, 2k+1 (the last may be past n).
inline void mask_blocks_scalar(float* out, int64_t n, int64_t kb, int64_t ke, uint32_t k0, uint32_t k1, uint64_t offset,
                               uint64_t threshold, float scale) {
  for (int64_t k = kb; k < ke; ++k) {
    const uint64_t c = offset + static_cast<uint64_t>(k);
    const Block b = philox({static_cast<uint32_t>(c), static_cast<uint32_t>(c >> 32), 0, 0}, k0, k1);
    const uint64_t x0 = (uint64_t{b[0]} << 32) | b[1], x1 = (uint64_t{b[2]} << 32) | b[3];
    out[2 * k] = x0 < threshold ? scale : 0.0f;
    if (2 * k + 1 < n) out[2 * k + 1] = x1 < threshold ? scale : 0.0f;
  }
}

}  // namespace ricci::cpu::dropout_detail
#endif

HWY_BEFORE_NAMESPACE();
namespace ricci::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Blocks [kb, ke), eight (a vector's worth of counters) at a time; a 32 x 32 -> 64-bit product
// of every lane is MulEven of the even lanes and of the odd lanes shifted down.
void DropoutMaskBlocks(float* HWY_RESTRICT out, int64_t n, int64_t kb, int64_t ke, uint32_t k0, uint32_t k1,
                       uint64_t offset, uint64_t threshold, float scale) {
  int64_t k = kb;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<uint32_t> du;
  const hn::Repartition<uint64_t, decltype(du)> d64;
  const hn::Rebind<float, decltype(du)> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(du));
  HWY_ALIGN uint32_t lane_lo[HWY_MAX_BYTES / sizeof(uint32_t)], lane_hi[HWY_MAX_BYTES / sizeof(uint32_t)];
  HWY_ALIGN float va[HWY_MAX_BYTES / sizeof(float)], vb[HWY_MAX_BYTES / sizeof(float)];
  const auto m0 = hn::Set(du, dropout_detail::kM0), m1 = hn::Set(du, dropout_detail::kM1);
  const auto thi = hn::Set(du, static_cast<uint32_t>(threshold >> 32)), tlo = hn::Set(du, static_cast<uint32_t>(threshold));
  const auto vscale = hn::Set(df, scale);
  // lo and hi 32-bit halves of a * m for every lane.
  const auto mul = [&](auto a, auto m, auto& hi) {
    const auto even = hn::MulEven(a, m);  // u64: products of lanes 0, 2, ...
    const auto odd = hn::MulEven(hn::BitCast(du, hn::ShiftRight<32>(hn::BitCast(d64, a))), m);
    hi = hn::OddEven(hn::BitCast(du, odd), hn::BitCast(du, hn::ShiftRight<32>(even)));
    return hn::OddEven(hn::BitCast(du, hn::ShiftLeft<32>(odd)), hn::BitCast(du, even));
  };
  const auto keep = [&](auto hi, auto lo) {
    return hn::Or(hn::Lt(hi, thi), hn::And(hn::Eq(hi, thi), hn::Lt(lo, tlo)));
  };
  for (; k + N <= ke; k += N) {
    for (int64_t j = 0; j < N; ++j) {
      const uint64_t c = offset + static_cast<uint64_t>(k + j);
      lane_lo[j] = static_cast<uint32_t>(c);
      lane_hi[j] = static_cast<uint32_t>(c >> 32);
    }
    auto c0 = hn::Load(du, lane_lo), c1 = hn::Load(du, lane_hi), c2 = hn::Zero(du), c3 = hn::Zero(du);
    uint32_t key0 = k0, key1 = k1;
    for (int round = 0; round < 10; ++round) {
      decltype(c0) hi0, hi1;
      const auto lo0 = mul(c0, m0, hi0);
      const auto lo1 = mul(c2, m1, hi1);
      const auto n0 = hn::Xor(hn::Xor(hi1, c1), hn::Set(du, key0));
      const auto n2 = hn::Xor(hn::Xor(hi0, c3), hn::Set(du, key1));
      c0 = n0;
      c1 = lo1;
      c2 = n2;
      c3 = lo0;
      key0 += dropout_detail::kW0;
      key1 += dropout_detail::kW1;
    }
    // Element 2k draws (c0, c1), element 2k + 1 draws (c2, c3).
    hn::Store(hn::IfThenElseZero(hn::RebindMask(df, keep(c0, c1)), vscale), df, va);
    hn::Store(hn::IfThenElseZero(hn::RebindMask(df, keep(c2, c3)), vscale), df, vb);
    if (2 * (k + N) <= n) {
      float* o = out + 2 * k;
      for (int64_t j = 0; j < N; ++j) {
        o[2 * j] = va[j];
        o[2 * j + 1] = vb[j];
      }
    } else {
      break;  // the last, partial vector: the scalar loop below
    }
  }
#endif
  dropout_detail::mask_blocks_scalar(out, n, k, ke, k0, k1, offset, threshold, scale);
}

}  // namespace ricci::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ricci::cpu {
HWY_EXPORT(DropoutMaskBlocks);

namespace {
// out (contiguous float32) = the mask; keep in (0, 1].
void dropout_mask_f32(const Tensor& out, uint64_t seed, uint64_t offset, double keep, double scale_d) {
  float* o = out.data_ptr<float>();
  const int64_t n = out.numel();
  const float scale = static_cast<float>(scale_d);  // what `mask * scale` multiplies by
  if (n <= 0) return;
  // ceil(keep 2^53) = 2^53 keeps every element (no 53-bit draw reaches it); below, the threshold
  // times 2^11 fits 64 bits.
  const double t = std::ceil(keep * 0x1p53);
  const bool all = t >= 0x1p53;
  const uint64_t threshold = all ? 0 : static_cast<uint64_t>(t) << 11;
  const uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  const int64_t nblocks = n / 2 + n % 2;
  parallel_for(0, nblocks, std::max<int64_t>(1, kGrainSize / 2), [&](int64_t b, int64_t e) {
    if (all) {
      std::fill(o + 2 * b, o + std::min(n, 2 * e), scale);
      return;
    }
    HWY_DYNAMIC_DISPATCH(DropoutMaskBlocks)(o, n, b, e, k0, k1, offset, threshold, scale);
  });
}

const bool registered =
    kernels::register_kernel("nn_dropout_mask", DeviceType::CPU, DType::Float32, &dropout_mask_f32);
}  // namespace
}  // namespace ricci::cpu
#endif
