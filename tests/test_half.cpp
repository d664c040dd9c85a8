// float16 / bfloat16 conversions: every bit pattern against an independent reference, rounding
// at every midpoint, the edge cases (overflow, subnormals, signed zero, NaN), and the vectorised
// array conversions against the scalar ones.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ricci/half.h"

namespace {

using ricci::BFloat16;
using ricci::Half;
namespace d = ricci::detail;

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

// IEEE binary16 decoded by arithmetic, not bit moves: (-1)^s * 1.m * 2^(e-15), subnormals m * 2^-24.
float reference_half(uint16_t h) {
  const bool negative = h & 0x8000;
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  double v;
  if (e == 0x1f) v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else if (e == 0) v = std::ldexp(static_cast<double>(m), -24);
  else v = std::ldexp(static_cast<double>(1024 + m), e - 25);
  return static_cast<float>(negative ? -v : v);
}

// bfloat16: (-1)^s * 1.m * 2^(e-127) with a 7-bit m; subnormals m * 2^-133.
float reference_bf16(uint16_t b) {
  const bool negative = b & 0x8000;
  const int e = (b >> 7) & 0xff;
  const int m = b & 0x7f;
  double v;
  if (e == 0xff) v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else if (e == 0) v = std::ldexp(static_cast<double>(m), -133);
  else v = std::ldexp(static_cast<double>(128 + m), e - 134);
  return static_cast<float>(negative ? -v : v);
}

bool is_half_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }
bool is_bf16_nan(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0; }

// ---- every bit pattern ------------------------------------------------------------------------------

TEST(Half, WideningAllPatternsMatchesReference) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float got = d::half_bits_to_float(static_cast<uint16_t>(h));
    const float want = reference_half(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << h;
      ASSERT_EQ(bits(got) >> 31, h >> 15) << "NaN keeps its sign: " << std::hex << h;
    } else {
      ASSERT_EQ(bits(got), bits(want)) << std::hex << h;  // bits: also tells -0 from +0
    }
  }
}

TEST(Half, NarrowingTheWidenedValueGivesTheBitsBack) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const uint16_t back = d::float_to_half_bits(d::half_bits_to_float(static_cast<uint16_t>(h)));
    if (is_half_nan(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(is_half_nan(back)) << std::hex << h;
      ASSERT_EQ(back & 0x8000, h & 0x8000) << std::hex << h;
      ASSERT_TRUE(back & 0x200) << "NaN comes back quiet: " << std::hex << h;
    } else {
      ASSERT_EQ(back, h) << std::hex << h;
    }
  }
}

TEST(BFloat16, WideningAllPatternsMatchesReference) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const float got = d::bfloat16_bits_to_float(static_cast<uint16_t>(b));
    const float want = reference_bf16(static_cast<uint16_t>(b));
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << std::hex << b;
      ASSERT_EQ(bits(got) >> 31, b >> 15) << std::hex << b;
    } else {
      ASSERT_EQ(bits(got), bits(want)) << std::hex << b;
    }
  }
}

TEST(BFloat16, NarrowingTheWidenedValueGivesTheBitsBack) {
  for (uint32_t b = 0; b <= 0xffff; ++b) {
    const uint16_t back = d::float_to_bfloat16_bits(d::bfloat16_bits_to_float(static_cast<uint16_t>(b)));
    if (is_bf16_nan(static_cast<uint16_t>(b))) {
      ASSERT_TRUE(is_bf16_nan(back)) << std::hex << b;
      ASSERT_EQ(back & 0x8000, b & 0x8000) << std::hex << b;
      ASSERT_TRUE(back & 0x40) << "NaN comes back quiet: " << std::hex << b;
    } else {
      ASSERT_EQ(back, b) << std::hex << b;
    }
  }
}

// ---- rounding at every midpoint -----------------------------------------------------------------------
// For neighbouring finite values a < b (bit patterns h, h + 1): the exact midpoint rounds to the
// one with an even last bit, and one float ulp either side of it rounds to the nearer one. The
// midpoint needs one bit more than the 16-bit format has, so float holds it exactly.
template <class Narrow, class Widen>
void check_midpoints(uint16_t last_finite, Narrow narrow, Widen widen) {
  for (uint32_t h = 0; h < last_finite; ++h) {
    const float a = widen(static_cast<uint16_t>(h));
    const float b = widen(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(a) + b) / 2);
    ASSERT_EQ(static_cast<double>(mid), (static_cast<double>(a) + b) / 2) << "midpoint not exact";
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
      const float s = sign ? -1.0f : 1.0f;
      ASSERT_EQ(narrow(s * mid), even | sign) << std::hex << h;
      ASSERT_EQ(narrow(s * std::nextafter(mid, 0.0f)), h | sign) << std::hex << h;
      ASSERT_EQ(narrow(s * std::nextafter(mid, INFINITY)), (h + 1) | sign) << std::hex << h;
    }
  }
}

TEST(Half, MidpointsRoundToEven) {
  check_midpoints(0x7bff, d::float_to_half_bits, d::half_bits_to_float);
}

TEST(BFloat16, MidpointsRoundToEven) {
  check_midpoints(0x7f7f, d::float_to_bfloat16_bits, d::bfloat16_bits_to_float);
}

// ---- edge cases ---------------------------------------------------------------------------------------

TEST(Half, OverflowRoundsToInfinity) {
  EXPECT_EQ(d::float_to_half_bits(65504.0f), 0x7bff);
  EXPECT_EQ(d::float_to_half_bits(65519.99f), 0x7bff);
  EXPECT_EQ(d::float_to_half_bits(65520.0f), 0x7c00);  // the midpoint to 2^16 ties to even: inf
  EXPECT_EQ(d::float_to_half_bits(-65520.0f), 0xfc00);
  EXPECT_EQ(d::float_to_half_bits(1e10f), 0x7c00);
  EXPECT_EQ(d::float_to_half_bits(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(d::float_to_half_bits(INFINITY), 0x7c00);
  EXPECT_EQ(d::float_to_half_bits(-INFINITY), 0xfc00);
}

TEST(BFloat16, OverflowRoundsToInfinity) {
  EXPECT_EQ(d::float_to_bfloat16_bits(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x7f7f7fff)), 0x7f7f);
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x7f7f8000)), 0x7f80);
  EXPECT_EQ(d::float_to_bfloat16_bits(-INFINITY), 0xff80);
}

TEST(Half, Subnormals) {
  EXPECT_EQ(d::float_to_half_bits(0x1p-24f), 0x0001);               // smallest subnormal
  EXPECT_EQ(d::float_to_half_bits(0x1p-25f), 0x0000);               // half of it: ties to even 0
  EXPECT_EQ(d::float_to_half_bits(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(d::float_to_half_bits(3 * 0x1p-25f), 0x0002);           // 1.5 ulp: ties to even 2
  EXPECT_EQ(d::float_to_half_bits(0x1p-14f - 0x1p-24f), 0x03ff);    // largest subnormal
  EXPECT_EQ(d::float_to_half_bits(0x1p-14f), 0x0400);               // smallest normal
  EXPECT_EQ(d::float_to_half_bits(0x1p-14f - 0x1p-25f), 0x0400);    // ties to even across the boundary
  EXPECT_EQ(d::float_to_half_bits(-0x1p-26f), 0x8000);              // underflows to -0
  EXPECT_EQ(d::float_to_half_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(d::half_bits_to_float(0x0001), 0x1p-24f);
  EXPECT_EQ(d::half_bits_to_float(0x83ff), -(0x1p-14f - 0x1p-24f));
}

TEST(BFloat16, Subnormals) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(d::float_to_bfloat16_bits(tiny), 0x0000);
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x00010000)), 0x0001);
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x00018000)), 0x0002);  // tie to even
  EXPECT_EQ(d::bfloat16_bits_to_float(0x0001), from_bits(0x00010000));
}

TEST(Half, SignedZero) {
  EXPECT_EQ(d::float_to_half_bits(0.0f), 0x0000);
  EXPECT_EQ(d::float_to_half_bits(-0.0f), 0x8000);
  EXPECT_EQ(bits(d::half_bits_to_float(0x8000)), 0x80000000u);
  EXPECT_EQ(d::float_to_bfloat16_bits(-0.0f), 0x8000);
  EXPECT_EQ(bits(d::bfloat16_bits_to_float(0x8000)), 0x80000000u);
}

TEST(Half, NaNIsQuieted) {
  EXPECT_EQ(d::float_to_half_bits(from_bits(0x7f800001)), 0x7e00);  // signalling, payload below the cut
  EXPECT_EQ(d::float_to_half_bits(from_bits(0xff800001)), 0xfe00);
  EXPECT_EQ(d::float_to_half_bits(from_bits(0x7fa00000)), 0x7f00);  // top payload bits survive
  EXPECT_EQ(d::float_to_half_bits(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_TRUE(std::isnan(static_cast<float>(Half(NAN))));
}

TEST(BFloat16, NaNIsQuieted) {
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x7f800001)), 0x7fc0);  // would round to inf without quieting
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0x7f810000)), 0x7fc1);
  EXPECT_EQ(d::float_to_bfloat16_bits(from_bits(0xffffffff)), 0xffff);  // no carry out of the NaN
  EXPECT_EQ(d::float_to_bfloat16_bits(std::numeric_limits<float>::quiet_NaN()), 0x7fc0);
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(NAN))));
}

TEST(Half, ValueTypes) {
  EXPECT_EQ(Half(1.0f).bits, 0x3c00);
  EXPECT_EQ(static_cast<float>(Half::from_bits(0xc000)), -2.0f);
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(static_cast<float>(BFloat16::from_bits(0xc000)), -2.0f);
  static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);
}

// ---- array conversions ----------------------------------------------------------------------------------

// Floats that exercise every path: random bit patterns (NaNs, infinities, subnormals included),
// values near the 16-bit formats' rounding points, and the named edge cases.
std::vector<float> edge_and_random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v = {0.0f, -0.0f, 65504.0f, 65519.99f, 65520.0f, -65520.0f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-25f,
                          INFINITY, -INFINITY, from_bits(0x7f800001), from_bits(0xff800001), from_bits(0x7fc00000),
                          from_bits(0xffffffff), from_bits(0x7f7f8000), from_bits(0x00018000), 1.0f, -1.5f};
  while (v.size() < n) {
    switch (rng() % 4) {
      case 0: v.push_back(from_bits(rng())); break;  // anything
      case 1: v.push_back(std::ldexp(static_cast<float>(rng() % 4096) / 2048, static_cast<int>(rng() % 48) - 30)); break;
      case 2: v.push_back(from_bits((rng() & 0xffff0000u) | 0x8000u)); break;  // bfloat16 ties
      default: v.push_back(from_bits((rng() & 0xffffe000u) | 0x1000u)); break;  // float16 ties (normal range)
    }
  }
  v.resize(n);
  return v;
}

TEST(HalfArray, ConversionsMatchScalar) {
  for (size_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 1003}) {
    const std::vector<float> src = edge_and_random_floats(n, static_cast<uint32_t>(n));
    std::vector<Half> h(n);
    ricci::convert_float_to_half(src.data(), h.data(), n);
    std::vector<BFloat16> b(n);
    ricci::convert_float_to_bfloat16(src.data(), b.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(h[i].bits, d::float_to_half_bits(src[i])) << "n=" << n << " i=" << i << " x=" << std::hex << bits(src[i]);
      ASSERT_EQ(b[i].bits, d::float_to_bfloat16_bits(src[i])) << "n=" << n << " i=" << i << " x=" << std::hex << bits(src[i]);
    }
  }
}

TEST(HalfArray, WideningAllPatternsMatchesScalar) {
  // All 65536 patterns, then odd-length tails at every offset so the vector loop and the tail
  // both see signalling NaNs, subnormals and infinities.
  std::vector<Half> h(65536);
  std::vector<BFloat16> b(65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    h[i] = Half::from_bits(static_cast<uint16_t>(i));
    b[i] = BFloat16::from_bits(static_cast<uint16_t>(i));
  }
  for (size_t offset : {0, 1, 5}) {
    const size_t n = 65536 - offset - 3;
    std::vector<float> fh(n), fb(n);
    ricci::convert_half_to_float(h.data() + offset, fh.data(), n);
    ricci::convert_bfloat16_to_float(b.data() + offset, fb.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(bits(fh[i]), bits(d::half_bits_to_float(h[offset + i].bits))) << std::hex << h[offset + i].bits;
      ASSERT_EQ(bits(fb[i]), bits(d::bfloat16_bits_to_float(b[offset + i].bits))) << std::hex << b[offset + i].bits;
    }
  }
}

TEST(HalfArray, RoundTripThroughArrays) {
  const size_t n = 1027;
  std::vector<float> src(n);
  for (size_t i = 0; i < n; ++i) src[i] = static_cast<float>(i) * 0.25f - 100.0f;  // exact in both formats
  std::vector<Half> h(n);
  std::vector<BFloat16> b(n);
  std::vector<float> back(n);
  ricci::convert_float_to_half(src.data(), h.data(), n);
  ricci::convert_half_to_float(h.data(), back.data(), n);
  EXPECT_EQ(back, src);
  ricci::convert_float_to_bfloat16(src.data(), b.data(), n);
  ricci::convert_bfloat16_to_float(b.data(), back.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(back[i], static_cast<float>(BFloat16(src[i]))) << i;
}

}  // namespace
