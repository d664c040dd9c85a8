// The accuracy bounds of docs/accuracy.md, held. Each float32 math function (tests/accuracy_cases.h)
// is swept over ~650K inputs (every 8191st bit pattern, a dense stretch of its working range and
// its edges) on contiguous tensors, once per instruction set this CPU runs (the vector path), and
// on stride-2 views (the scalar path), and fails when its error exceeds the documented bound
// (Note [Measuring ulps]). float16/bfloat16: every bit pattern is the float32 result rounded once.
// Sums: 16M float32 within one ulp of the exact sum. softmax / log_softmax / cross_entropy: exact
// at logits of +-1e4, 0 and -inf, NaN for rows of -inf (PyTorch), and within their bounds on
// ordinary logits. bench/accuracy_ulp prints the full table.
#include <hwy/targets.h>

#include <iomanip>
#include <random>
#include <sstream>

#include "accuracy_cases.h"
#include "test_util.h"

using namespace ricci;
using namespace ricci::accuracy;
namespace F = ricci::nn::functional;

namespace {

std::string where(const Worst& w) {
  std::ostringstream s;
  s.precision(9);
  s << " (worst " << w.ulp << " ulp at x=" << w.x << (w.y != 0 ? ", y=" + std::to_string(w.y) : std::string())
    << ": got " << w.got << ", float64 " << std::setprecision(17) << w.ref << ")";
  return s.str();
}

std::vector<float> unary_inputs(const UnaryCase& c) {
  std::vector<float> xs = bit_sweep(8191);
  const std::vector<float> b = linear_sweep(c.lo, c.hi, 1 << 17);
  const std::vector<float> e = edge_values(c.thresholds);
  xs.insert(xs.end(), b.begin(), b.end());
  xs.insert(xs.end(), e.begin(), e.end());
  return xs;
}

std::vector<double> refs_of(const UnaryCase& c, const std::vector<float>& xs) {
  std::vector<double> r(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) r[i] = c.ref(xs[i]);
  return r;
}

// The instruction sets the vector path is measured on: Highway's run-time dispatch restricted to
// each in turn (libhwy is shared with the library), as tests/test_reduce_kernels.cpp does.
struct Target {
  const char* name;
  int64_t mask;  // 0: every target the CPU supports
};

std::vector<Target> targets() {
  std::vector<Target> t = {{"native", 0}};
  if (__builtin_cpu_supports("avx2")) t.push_back({"avx2", HWY_AVX2});
  t.push_back({"portable", HWY_STATIC_TARGET});
  return t;
}

// Runs f with the dispatch restricted to t.
template <class Fn>
void on_target(const Target& t, Fn f) {
  if (t.mask != 0) hwy::SetSupportedTargetsForTest(t.mask);
  f();
  if (t.mask != 0) hwy::SetSupportedTargetsForTest(0);
}

TEST(Accuracy, UnaryFunctionsWithinTheirBounds) {
  for (const UnaryCase& c : unary_cases()) {
    const auto xs = unary_inputs(c);
    const auto refs = refs_of(c, xs);
    for (const Target& t : targets()) {
      on_target(t, [&] {
        const Worst w = measure(c, xs, refs, /*strided=*/false);
        const double bound = t.mask == HWY_STATIC_TARGET && c.bound_portable > 0 ? c.bound_portable : c.bound_vector;
        EXPECT_LE(w.ulp, bound) << c.name << ", contiguous, " << t.name << where(w);
      });
    }
    const Worst w = measure(c, xs, refs, /*strided=*/true);
    EXPECT_LE(w.ulp, c.bound_scalar) << c.name << ", strided" << where(w);
  }
}

TEST(Accuracy, BinaryFunctionsWithinTheirBounds) {
  for (const BinaryCase& c : binary_cases()) {
    const auto in = binary_inputs(c.name, 1 << 18, 99);
    std::vector<double> refs(in.size());
    for (size_t i = 0; i < in.size(); ++i) refs[i] = c.ref(in[i].first, in[i].second);
    for (const Target& t : targets()) {
      on_target(t, [&] {
        const Worst w = measure(c, in, refs, false);
        EXPECT_LE(w.ulp, c.bound_vector) << c.name << ", contiguous, " << t.name << where(w);
      });
    }
    const Worst w = measure(c, in, refs, true);
    EXPECT_LE(w.ulp, c.bound_scalar) << c.name << ", strided" << where(w);
  }
}

// gelu's plain backward (the one-pass kernel, Note [Fused GELU backward]) within its bound of
// max(|Phi(x)|, |x phi(x)|) on every instruction set, over every 61st float32 in [-40, 40] (both
// signs, ~36M values; bench/accuracy_ulp measures every one) and at the edges; NaN and +-inf give
// NaN (the composed form's and PyTorch's inf * 0), large finite |x| gives exactly 1 or 0.
TEST(AccuracyGeluBackward, WithinItsBound) {
  std::vector<float> xs;
  for (uint32_t b = 0; b <= 0x42200000u; b += 61) xs.push_back(from_bits(b)), xs.push_back(-from_bits(b));
  for (double e : {0.75, 1.6, 2.8284271, 13.2, 14.5, 14.6, 15.0, 40.0})
    for (int k = -3; k <= 3; ++k)
      for (float sg : {1.0f, -1.0f}) {
        float v = static_cast<float>(e);
        for (int j = 0; j < std::abs(k); ++j) v = std::nextafter(v, k < 0 ? 0.0f : 100.0f);
        xs.push_back(sg * v);
      }
  xs.insert(xs.end(), {0x1p-149f, -0x1p-149f, 0x1p-126f, -0x1p-126f, 1e-30f, -1e-30f});
  std::vector<GeluGradRef> refs(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) refs[i] = ref_gelu_erf_grad(xs[i]);
  const std::vector<float> special = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e38f, -3e38f, 0.0f, -0.0f};
  for (const Target& t : targets()) {
    on_target(t, [&] {
      Worst w;
      for (size_t i0 = 0; i0 < xs.size(); i0 += size_t{1} << 20) {
        const size_t n = std::min(xs.size() - i0, size_t{1} << 20);
        const Tensor g = gelu_grad_plain(from_blob(xs.data() + i0, {static_cast<int64_t>(n)}, {1}, DType::Float32));
        const float* o = g.data_ptr<float>();
        for (size_t i = 0; i < n; ++i)
          w.take(gelu_grad_error(o[i], refs[i0 + i]), xs[i0 + i], 0, o[i], refs[i0 + i].value);
      }
      const double bound = t.mask == HWY_STATIC_TARGET ? kGeluGradBoundPortable : kGeluGradBound;
      EXPECT_LE(w.ulp, bound) << t.name << where(w);
      const Tensor gs = gelu_grad_plain(from_vector<float>(special, {static_cast<int64_t>(special.size())}));
      const float* o = gs.data_ptr<float>();
      EXPECT_TRUE(std::isnan(o[0]) && std::isnan(o[1]) && std::isnan(o[2])) << t.name;
      EXPECT_EQ(o[3], 1.0f) << t.name;
      EXPECT_EQ(o[4], 0.0f) << t.name;
      EXPECT_EQ(o[5], 1.0f) << t.name;
      EXPECT_EQ(o[6], 0.0f) << t.name;
      EXPECT_EQ(o[7], 0.5f) << t.name;
      EXPECT_EQ(o[8], 0.5f) << t.name;
    });
  }
  // The measure can fail: the composed float32 formula, 0.5 (1 + erf(x / sqrt2)) + x phi(x),
  // loses all of Phi where erf is near -1 (x < -4), thousands of ulps off.
  const Tensor x = from_vector<float>({-5.0f, -6.0f}, {2});
  const Tensor composed = (erf(x * std::sqrt(0.5)) + 1) * 0.5 + x * exp(x * x * -0.5) * (1 / std::sqrt(2 * M_PI));
  EXPECT_GT(gelu_grad_error(composed.contiguous().data_ptr<float>()[1], ref_gelu_erf_grad(-6.0)), 100.0);
}

// The sweeps can fail: a function one ulp off everywhere is caught.
TEST(Accuracy, TheMeasureSeesOneUlp) {
  UnaryCase c = unary_cases()[0];  // exp
  c.op = [](const Tensor& x) {
    Tensor y = exp(x).contiguous();
    float* p = y.data_ptr<float>();
    for (int64_t i = 0; i < y.numel(); ++i) p[i] = std::nextafter(p[i], std::numeric_limits<float>::infinity());
    return y;
  };
  const std::vector<float> xs = linear_sweep(-10, 10, 1000);
  EXPECT_GT(measure(c, xs, refs_of(c, xs), false).ulp, 1.0);
  EXPECT_EQ(ulp_error(1.0f, 1.0), 0);
  EXPECT_EQ(ulp_error(std::nextafter(1.0f, 2.0f), 1.0), 1);
  EXPECT_EQ(ulp_error(std::numeric_limits<float>::infinity(), 1e39), 0);  // overflow is right
  EXPECT_EQ(ulp_error(std::numeric_limits<float>::max(), 1e39), 1);
  EXPECT_EQ(ulp_error(0.0f, 0x1p-149), 1);  // a lost subnormal is one ulp of the subnormals
  EXPECT_TRUE(std::isinf(ulp_error(0.0f, NAN)));
}

// ---- float16 / bfloat16 ---------------------------------------------------------------------------
// Every 16-bit pattern x: f(x) in float16/bfloat16 is the float32 result of the same path
// (contiguous or strided) on float(x), rounded once; hence within 0.5 ulp of 16-bit precision
// plus the float32 error (which is 2^-13 / 2^-16 of a 16-bit ulp per float32 ulp).
void check_half(DType dt) {
  const bool f16 = dt == DType::Float16;
  std::vector<uint16_t> bits(65536), bits2(2 * 65536);
  std::vector<float> wide(65536);
  for (uint32_t i = 0; i < 65536; ++i) {
    bits[i] = bits2[2 * i] = static_cast<uint16_t>(i);
    const uint16_t b = static_cast<uint16_t>(i);
    wide[i] = f16 ? float(Half::from_bits(b)) : float(BFloat16::from_bits(b));
  }
  for (const UnaryCase& c : unary_cases()) {
    if (c.name == "pow(x, 0.3333)") continue;  // the exponent rounds to the 16-bit format (PyTorch too)
    for (bool strided : {false, true}) {
      const Tensor in = strided ? from_blob(bits2.data(), {65536}, {2}, dt) : from_blob(bits.data(), {65536}, {1}, dt);
      const Tensor out = c.op(in).contiguous();
      ASSERT_EQ(out.dtype(), dt) << c.name;
      std::vector<float> keep;
      const Tensor r32 = c.op(layout(wide, strided, keep)).contiguous();
      const uint16_t* o = static_cast<const uint16_t*>(out.data_ptr());
      const float* r = r32.data_ptr<float>();
      int64_t bad = 0, first = -1;
      double worst = 0;
      for (int i = 0; i < 65536; ++i) {
        const uint16_t want = f16 ? Half(r[i]).bits : BFloat16(r[i]).bits;
        const float got = f16 ? float(Half::from_bits(o[i])) : float(BFloat16::from_bits(o[i]));
        if (o[i] != want && !(std::isnan(got) && std::isnan(r[i]))) {
          if (bad++ == 0) first = i;
        }
        worst = std::max(worst, ulp_error(got, c.ref(wide[i]), f16 ? kF16 : kBF16));
      }
      EXPECT_EQ(bad, 0) << c.name << (strided ? " strided" : " contiguous")
                        << ": first at x=" << (first >= 0 ? wide[first] : 0.0f);
      EXPECT_LE(worst, 0.5 + 1.0 / 256) << c.name << (strided ? " strided" : " contiguous");
    }
  }
}

TEST(AccuracyHalf, Float16IsTheFloat32ResultRoundedOnce) { check_half(DType::Float16); }
TEST(AccuracyHalf, BFloat16IsTheFloat32ResultRoundedOnce) { check_half(DType::BFloat16); }

// ---- sums -------------------------------------------------------------------------------------------
float exact_sum(const float* p, int64_t n) {
  ExactSum s;
  for (int64_t i = 0; i < n; ++i) s.add(p[i]);
  return s.value();
}

TEST(AccuracySum, ExactSumRoundsOnce) {
  const std::vector<float> a = {1e30f, 1.0f, -1e30f, 0x1p-149f};
  EXPECT_EQ(exact_sum(a.data(), 4), 1.0f);  // 1 + 2^-149 rounds to 1
  const std::vector<float> b = {0x1p-149f, 0x1p-149f, -0x1p-148f};
  EXPECT_EQ(exact_sum(b.data(), 3), 0.0f);
  const std::vector<float> c = {1.0f, 0x1p-24f};  // a tie: to even
  EXPECT_EQ(exact_sum(c.data(), 2), 1.0f);
  const std::vector<float> d = {1.0f, 0x1p-24f, 0x1p-60f};
  EXPECT_EQ(exact_sum(d.data(), 3), std::nextafter(1.0f, 2.0f));
  const std::vector<float> e = {-3.0f, 0.5f, std::numeric_limits<float>::max(), std::numeric_limits<float>::max()};
  EXPECT_EQ(exact_sum(e.data(), 4), std::numeric_limits<float>::infinity());
  EXPECT_EQ(exact_sum(e.data(), 2), -2.5f);
}

struct Distribution {
  const char* name;
  std::function<void(std::vector<float>&, uint64_t&)> fill;
};

std::vector<Distribution> distributions() {
  return {
      {"ones", [](auto& x, auto&) { std::fill(x.begin(), x.end(), 1.0f); }},
      {"uniform [0, 1)", [](auto& x, auto& s) { for (auto& v : x) v = static_cast<float>(uniform01(s)); }},
      {"uniform [-1, 1)", [](auto& x, auto& s) { for (auto& v : x) v = static_cast<float>(2 * uniform01(s) - 1); }},
      {"+-10^U(-20, 20)", [](auto& x, auto& s) {
         for (auto& v : x) v = static_cast<float>((splitmix(s) & 1 ? -1 : 1) * std::exp2(-66.4 + 132.9 * uniform01(s)));
       }},
      // Large values and their negatives at random places among small positive ones: the exact
      // sum is the sum of the small ones; float32 partial sums would lose them all.
      {"1e6, -1e6 and 1e-3", [](auto& x, auto& s) {
         for (size_t i = 0; i + 4 <= x.size(); i += 4) {
           const float big = static_cast<float>(1e6 * (1 + uniform01(s)));
           x[i] = big;
           x[i + 1] = static_cast<float>(1e-3 * uniform01(s));
           x[i + 2] = -big;
           x[i + 3] = static_cast<float>(1e-3 * uniform01(s));
         }
         for (size_t i = x.size(); i-- > 1;) std::swap(x[i], x[splitmix(s) % (i + 1)]);
       }},
  };
}

TEST(AccuracySum, SixteenMillionFloatsWithinOneUlpOfTheExactSum) {
  const int64_t n = int64_t{1} << 24;
  uint64_t g = 5;
  std::vector<float> x(static_cast<size_t>(n));
  for (const auto& dist : distributions()) {
    dist.fill(x, g);
    const float exact = exact_sum(x.data(), n);
    const Tensor t = from_blob(x.data(), {n}, {1}, DType::Float32);
    const float got = t.sum().item<float>();
    EXPECT_LE(ulp_error(got, exact), 1.0) << dist.name << ": got " << got << ", exact " << exact;
    // The same numbers seen as a strided view (the generic float64 loop).
    const float got2 = from_blob(x.data(), {n / 2}, {2}, DType::Float32).sum().item<float>();
    ExactSum half;
    for (int64_t i = 0; i < n; i += 2) half.add(x[static_cast<size_t>(i)]);
    EXPECT_LE(ulp_error(got2, half.value()), 1.0) << dist.name << " (stride 2)";
  }
}

// Sums along a dim: rows (contiguous runs) and columns (the tile path, sum_rows_f32), both within
// one ulp of each exact row / column sum.
TEST(AccuracySum, RowAndColumnSumsWithinOneUlp) {
  const int64_t r = 1024, c = 1024;
  uint64_t g = 6;
  std::vector<float> x(static_cast<size_t>(r * c));
  for (const auto& dist : distributions()) {
    dist.fill(x, g);
    const Tensor t = from_blob(x.data(), {r, c}, {c, 1}, DType::Float32);
    const Tensor rows = t.sum({1}).contiguous(), cols = t.sum({0}).contiguous();
    double worst_row = 0, worst_col = 0;
    for (int64_t i = 0; i < r; ++i)
      worst_row = std::max(worst_row, ulp_error(rows.data_ptr<float>()[i], exact_sum(x.data() + i * c, c)));
    for (int64_t j = 0; j < c; ++j) {
      ExactSum s;
      for (int64_t i = 0; i < r; ++i) s.add(x[static_cast<size_t>(i * c + j)]);
      worst_col = std::max(worst_col, ulp_error(cols.data_ptr<float>()[j], s.value()));
    }
    EXPECT_LE(worst_row, 1.0) << dist.name << " rows";
    EXPECT_LE(worst_col, 1.0) << dist.name << " columns";
  }
}

// ---- softmax, log_softmax, cross_entropy ---------------------------------------------------------
// float64 references computed from the float32 logits, with PyTorch's special values: a row of
// -inf gives NaN (-inf - (-inf)).
std::vector<double> softmax_ref(const std::vector<float>& row, bool log) {
  double m = -kInf;
  for (float v : row) m = std::max(m, static_cast<double>(v));
  std::vector<double> out(row.size());
  double s = 0;
  for (float v : row) s += std::exp(static_cast<double>(v) - m);
  for (size_t i = 0; i < row.size(); ++i) {
    const double z = static_cast<double>(row[i]) - m;
    out[i] = log ? z - std::log(s) : std::exp(z) / s;
  }
  return out;
}

// softmax: ulps of the element; log_softmax: ulps of max(|y|, 1) (its values near 0 come from
// log(sum) with sum near 1, which float32 holds to an absolute 2^-24, like PyTorch's).
double allowed_error(float got, double ref, bool log) {
  if (!log || !std::isfinite(ref) || !std::isfinite(got)) return ulp_error(got, ref);
  return std::fabs(got - ref) / std::ldexp(1.0, std::max(std::ilogb(std::max(std::fabs(ref), 1.0)), -126) - 23);
}

// The error of softmax / log_softmax over the rows of x (shape (rows, n)) along dim 1, and along
// dim 0 of its transpose (the column kernel), as the worst ratio err / allowed(i, j) where
// `allowed` gives the element's bound in its own units (ulps of the element, or of max(|y|, 1)).
// float64 references from the float32 logits.
template <class Allowed>
double softmax_error(const std::vector<std::vector<float>>& rows, bool log, Allowed allowed) {
  const int64_t r = static_cast<int64_t>(rows.size()), n = static_cast<int64_t>(rows[0].size());
  std::vector<float> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  const Tensor x = from_blob(flat.data(), {r, n}, {n, 1}, DType::Float32);
  const Tensor xt = x.t().contiguous();  // (n, r): the rows are columns
  const Tensor a = (log ? F::log_softmax(x, 1) : F::softmax(x, 1)).contiguous();
  const Tensor b = (log ? F::log_softmax(xt, 0) : F::softmax(xt, 0)).t().contiguous();
  double worst = 0;
  for (int64_t i = 0; i < r; ++i) {
    const auto& row = rows[static_cast<size_t>(i)];
    const auto ref = softmax_ref(row, log);
    const float m = *std::max_element(row.begin(), row.end());
    for (int64_t j = 0; j < n; ++j) {
      const double y = ref[static_cast<size_t>(j)];
      const double lim = allowed(y, static_cast<double>(row[static_cast<size_t>(j)]) - m);
      worst = std::max(worst, allowed_error(a.data_ptr<float>()[i * n + j], y, log) / lim);
      worst = std::max(worst, allowed_error(b.data_ptr<float>()[i * n + j], y, log) / lim);
    }
  }
  return worst;
}

double exact_rows_error(const std::vector<std::vector<float>>& rows, bool log) {
  return softmax_error(rows, log, [](double, double) { return 1.0; });
}

// Rows built from +-1e4, 0 and -inf, of lengths that take the vector loops and their tails.
std::vector<std::vector<float>> extreme_rows(int64_t n, uint64_t seed) {
  const float vals[] = {1e4f, -1e4f, 0.0f, -std::numeric_limits<float>::infinity()};
  std::mt19937_64 g(seed);
  std::vector<std::vector<float>> rows;
  for (int k = 0; k < 64; ++k) {
    std::vector<float> row(static_cast<size_t>(n));
    for (auto& v : row) v = vals[g() % 4];
    if (k % 4 == 0) row.assign(row.size(), vals[k / 4 % 3]);  // constant rows
    if (k % 8 == 1) row[0] = 1e4f;                             // at least one finite
    rows.push_back(row);
  }
  return rows;
}

TEST(AccuracySoftmax, ExactAtExtremeLogits) {
  for (int64_t n : {1, 2, 3, 5, 8, 16, 17, 33, 100}) {
    SCOPED_TRACE("row length " + std::to_string(n));
    auto rows = extreme_rows(n, static_cast<uint64_t>(n));
    // Rows with at least one finite entry: exact (the results are 0, 1, 1/k, -1e4, -2e4, -log k).
    std::vector<std::vector<float>> finite;
    for (auto& row : rows) {
      if (std::any_of(row.begin(), row.end(), [](float v) { return std::isfinite(v); })) finite.push_back(row);
    }
    EXPECT_LE(exact_rows_error(finite, false), 0.5);
    EXPECT_LE(exact_rows_error(finite, true), 0.5);
  }
}

TEST(AccuracySoftmax, RowsOfMinusInfinityGiveNaN) {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t n : {1, 3, 8, 17}) {
    std::vector<float> x(static_cast<size_t>(2 * n), ninf);
    x[static_cast<size_t>(n)] = 0.0f;  // row 1: one finite entry
    const Tensor t = from_blob(x.data(), {2, n}, {n, 1}, DType::Float32);
    for (bool log : {false, true}) {
      const Tensor y = (log ? F::log_softmax(t, 1) : F::softmax(t, 1)).contiguous();
      for (int64_t j = 0; j < n; ++j) EXPECT_TRUE(std::isnan(y.data_ptr<float>()[j])) << "n=" << n << " log=" << log;
      EXPECT_EQ(y.data_ptr<float>()[n], log ? 0.0f : 1.0f);
      for (int64_t j = 1; j < n; ++j) EXPECT_EQ(y.data_ptr<float>()[n + j], log ? ninf : 0.0f);
    }
  }
}

TEST(AccuracySoftmax, CrossEntropyExactAtExtremeLogits) {
  const float ninf = -std::numeric_limits<float>::infinity();
  // (N, C) = (5, 3); per-row loss = logsumexp(row) - row[target].
  std::vector<float> x = {1e4f, 0.0f, -1e4f,    // target 0: 0; target 1: 1e4
                          1e4f, 1e4f, ninf,     // target 0: log 2
                          0.0f, ninf, ninf,     // target 0: 0
                          ninf, ninf, ninf,     // NaN
                          -1e4f, -1e4f, -1e4f}; // log 3
  const Tensor logits = from_blob(x.data(), {5, 3}, {3, 1}, DType::Float32);
  auto loss = [&](std::vector<int64_t> t) {
    return F::cross_entropy(logits, from_vector(t, {5}), {.reduction = F::Reduction::None}).contiguous();
  };
  Tensor l0 = loss({0, 0, 0, 0, 0});
  const float* p = l0.data_ptr<float>();
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_LE(ulp_error(p[1], std::log(2.0)), 0.5);
  EXPECT_EQ(p[2], 0.0f);
  EXPECT_TRUE(std::isnan(p[3]));
  EXPECT_LE(ulp_error(p[4], std::log(3.0)), 0.5);
  Tensor l1 = loss({1, 2, 1, 1, 2});
  p = l1.data_ptr<float>();
  EXPECT_EQ(p[0], 1e4f);
  EXPECT_EQ(p[1], std::numeric_limits<float>::infinity());  // the target's logit is -inf
  EXPECT_EQ(p[2], std::numeric_limits<float>::infinity());
  EXPECT_LE(ulp_error(p[4], std::log(3.0)), 0.5);
  Tensor l2 = loss({2, 0, 0, 0, 0});
  EXPECT_EQ(l2.data_ptr<float>()[0], 2e4f);
  // The mean over the rows without NaN or inf: (1e4 + log 2 + 0 + log 3) / 4 for targets 1,0,0,_,0.
  std::vector<float> x4(x.begin(), x.begin() + 9);
  x4.insert(x4.end(), x.begin() + 12, x.end());
  const Tensor l4 =
      F::cross_entropy(from_blob(x4.data(), {4, 3}, {3, 1}, DType::Float32), from_vector<int64_t>({1, 0, 0, 0}, {4}));
  EXPECT_LE(ulp_error(l4.item<float>(), (1e4 + std::log(2.0) + std::log(3.0)) / 4), 1.0);
}

// Ordinary logits: softmax and log_softmax within the bounds of docs/accuracy.md against the
// float64 values of the same float32 logits (Note [Softmax accuracy] in nn_hwy.cpp: without the
// exact x - max and the float64 sum, softmax was 65 ulp off at n = 1000 and log_softmax 1e7 ulp
// near 0), along the last dim (the row kernel) and the first (the column kernel).
TEST(AccuracySoftmax, OrdinaryLogitsWithinTheirBounds) {
  for (const Target& t : targets()) {
    on_target(t, [&] {
      uint64_t g = 8;
      for (double scale : {1.0, 10.0, 100.0}) {
        for (int64_t n : {7, 64, 1000}) {
          std::vector<std::vector<float>> rows(64, std::vector<float>(static_cast<size_t>(n)));
          for (auto& row : rows)
            for (auto& v : row) v = static_cast<float>(scale * (uniform01(g) + uniform01(g) + uniform01(g) - 1.5) * 2);
          SCOPED_TRACE(std::string(t.name) + ", scale " + std::to_string(scale) + ", n " + std::to_string(n));
          EXPECT_LE(softmax_error(rows, false, [](double, double) { return kSoftmaxBound; }), 1.0);
          EXPECT_LE(softmax_error(rows, true, [](double, double) { return kLogSoftmaxBound; }), 1.0);
        }
      }
    });
  }
}

// logsumexp: each exp(x - max) exact in its shift and summed in float64, so log(sum) + max keeps
// its relative accuracy also where it is near 0; within 1.5 ulp of max(|y|, 1) along either dim,
// and within 1 ulp (relative) where it is ~1e-9.
TEST(AccuracySoftmax, LogSumExpWithinItsBound) {
  uint64_t g = 10;
  for (const Target& t : targets()) {
    on_target(t, [&] {
      for (double scale : {1.0, 10.0, 100.0}) {
        for (int64_t n : {7, 64, 1000}) {
          const int64_t r = 64;
          std::vector<float> x(static_cast<size_t>(r * n));
          for (auto& v : x) v = static_cast<float>(scale * (uniform01(g) + uniform01(g) + uniform01(g) - 1.5) * 2);
          const Tensor xs = from_blob(x.data(), {r, n}, {n, 1}, DType::Float32);
          const Tensor a = logsumexp(xs, {1}).contiguous(), b = logsumexp(xs.t().contiguous(), {0}).contiguous();
          double worst = 0;
          for (int64_t i = 0; i < r; ++i) {
            std::vector<float> row(x.begin() + i * n, x.begin() + (i + 1) * n);
            const double m = *std::max_element(row.begin(), row.end());
            double s = 0;
            for (float v : row) s += std::exp(static_cast<double>(v) - m);
            const double ref = m + std::log(s);
            worst = std::max({worst, allowed_error(a.data_ptr<float>()[i], ref, true),
                              allowed_error(b.data_ptr<float>()[i], ref, true)});
          }
          EXPECT_LE(worst, 1.5) << t.name << ", scale " << scale << ", n " << n;
        }
      }
      // One 0 among values near -20 (long enough for the vector loop): the result is ~1e-7, all
      // of it below float32's resolution of the sum 1 + tiny.
      std::vector<float> tiny(64);
      double rest = 0;
      for (size_t i = 1; i < tiny.size(); ++i) {
        tiny[i] = -20.0f - 0.37f * static_cast<float>(i);
        rest += std::exp(static_cast<double>(tiny[i]));
      }
      const float got = logsumexp(from_blob(tiny.data(), {64}, {1}, DType::Float32), {0}).item<float>();
      EXPECT_LE(ulp_error(got, std::log1p(rest)), 1.0) << t.name;
    });
  }
}

// float16/bfloat16 logits: computed in float32 and rounded once, so within half a 16-bit ulp
// (plus the float32 error, a few 2^-13 of it) of the float64 value, along either dim.
TEST(AccuracySoftmax, HalfPrecisionRoundedOnce) {
  uint64_t g = 9;
  for (DType dt : {DType::Float16, DType::BFloat16}) {
    const Format f = dt == DType::Float16 ? kF16 : kBF16;
    const int64_t r = 16, n = 100;
    std::vector<float> x(static_cast<size_t>(r * n));
    for (auto& v : x) v = static_cast<float>(3 * (uniform01(g) + uniform01(g) - 1));
    const Tensor x16 = from_blob(x.data(), {r, n}, {n, 1}, DType::Float32).to(dt);
    const Tensor x32 = x16.to(DType::Float32).contiguous();  // the 16-bit values, exactly
    for (bool log : {false, true}) {
      for (int64_t dim : {1, 0}) {
        const Tensor in = dim == 1 ? x16 : x16.t().contiguous();
        Tensor y = log ? F::log_softmax(in, dim) : F::softmax(in, dim);
        if (dim == 0) y = y.t();
        y = y.to(DType::Float32).contiguous();
        double worst = 0;
        for (int64_t i = 0; i < r; ++i) {
          std::vector<float> row(x32.data_ptr<float>() + i * n, x32.data_ptr<float>() + (i + 1) * n);
          const auto ref = softmax_ref(row, log);
          for (int64_t j = 0; j < n; ++j)
            worst = std::max(worst, ulp_error(y.data_ptr<float>()[i * n + j], ref[static_cast<size_t>(j)], f));
        }
        EXPECT_LE(worst, 0.5 + 1.0 / 256) << (dt == DType::Float16 ? "float16" : "bfloat16") << " log=" << log
                                          << " dim=" << dim;
      }
    }
  }
}

}  // namespace
