// The accuracy table of docs/accuracy.md: the largest error in ulps of every float32 math function
// against its float64 value (Note [Measuring ulps] in tests/accuracy_cases.h), over
//   - every 257th float32 bit pattern (16.7M values: each binade, subnormals, both signs, inf, NaN),
//   - 4M values evenly spaced over the function's working range,
//   - the edges: zeros, infinities, NaN, the format's limits, the overflow and underflow
//     thresholds and where the vector path hands lanes to the C library,
// on contiguous tensors (the vector path, once per instruction set this CPU runs: Highway's
// run-time dispatch is restricted to each in turn) and on stride-2 views (the scalar path).
// Then gelu's plain backward over every float32 in [-40, 40]; float16/bfloat16: every bit
// pattern, checked to be the float32 result rounded once; and the float32 sum of 16M values
// against the exact sum.
//
//   build/bench/accuracy_ulp [--quick]     (--quick: 1/16 of the inputs)
#include <hwy/targets.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "accuracy_cases.h"

using namespace ricci;
using namespace ricci::accuracy;

namespace {

struct Target {
  std::string name;
  int64_t mask;  // 0: every target the CPU supports (Highway's own choice)
};

std::vector<Target> targets() {
  std::vector<Target> t = {{"native", 0}};
  const int64_t supported = hwy::SupportedTargets();
#ifdef HWY_AVX3_ZEN4
  if (supported & HWY_AVX3_ZEN4) t.push_back({"avx512zen4", HWY_AVX3_ZEN4});
#endif
  if (supported & HWY_AVX3) t.push_back({"avx512", HWY_AVX3});
  if (supported & HWY_AVX2) t.push_back({"avx2", HWY_AVX2});
  t.push_back({"portable", HWY_STATIC_TARGET});
  return t;
}

void select(const Target& t) { hwy::SetSupportedTargetsForTest(t.mask); }

std::string fmt_ulp(double u) {
  char b[32];
  if (std::isinf(u)) return "inf";
  if (std::isnan(u)) return "nan";
  std::snprintf(b, sizeof b, u < 100 ? "%.3f" : "%.3g", u);
  return b;
}

// The inputs of one case, processed in chunks so the references and tensors stay small.
template <class F>
void for_chunks(const std::vector<float>& xs, F f) {
  constexpr size_t kChunk = size_t{1} << 20;
  for (size_t i = 0; i < xs.size(); i += kChunk) {
    std::vector<float> part(xs.begin() + static_cast<std::ptrdiff_t>(i),
                            xs.begin() + static_cast<std::ptrdiff_t>(std::min(xs.size(), i + kChunk)));
    f(part);
  }
}

void unary_table(const std::vector<Target>& ts, bool quick) {
  const std::vector<float> sweep_a = bit_sweep(quick ? 4099 : 257);
  std::printf("\nfloat32 unary functions: %zu bit-pattern values + %d evenly spaced + edges per function\n",
              sweep_a.size(), quick ? 1 << 18 : 1 << 22);
  std::printf("%-14s", "function");
  for (const Target& t : ts) std::printf(" %12s", ("vec " + t.name).c_str());
  std::printf(" %10s %11s %9s %9s  %s\n", "scalar", "bound vec", "bound sc", "glibc", "worst input (vector path)");
  for (const UnaryCase& c : unary_cases()) {
    std::vector<float> xs = sweep_a;
    const std::vector<float> b = linear_sweep(c.lo, c.hi, quick ? 1 << 18 : 1 << 22);
    const std::vector<float> e = edge_values(c.thresholds);
    xs.insert(xs.end(), b.begin(), b.end());
    xs.insert(xs.end(), e.begin(), e.end());
    std::vector<Worst> vec(ts.size());
    Worst sc;
    for_chunks(xs, [&](const std::vector<float>& part) {
      std::vector<double> refs(part.size());
      for (size_t i = 0; i < part.size(); ++i) refs[i] = c.ref(part[i]);
      for (size_t t = 0; t < ts.size(); ++t) {
        select(ts[t]);
        const Worst w = measure(c, part, refs, false);
        vec[t].take(w.ulp, w.x, w.y, w.got, w.ref);
      }
      select(ts[0]);
      const Worst w = measure(c, part, refs, true);
      sc.take(w.ulp, w.x, w.y, w.got, w.ref);
    });
    std::printf("%-14s", c.name.c_str());
    Worst worst;
    for (const Worst& w : vec) {
      std::printf(" %12s", fmt_ulp(w.ulp).c_str());
      worst.take(w.ulp, w.x, w.y, w.got, w.ref);
    }
    std::string bv = fmt_ulp(c.bound_vector);
    if (c.bound_portable > 0) bv += "/" + fmt_ulp(c.bound_portable) + "p";
    std::printf(" %10s %11s %9s %9s  x=%.9g got=%.9g ref=%.17g\n", fmt_ulp(sc.ulp).c_str(), bv.c_str(),
                fmt_ulp(c.bound_scalar).c_str(), c.glibc, worst.x, worst.got, worst.ref);
    if (sc.ulp > 0.5) std::printf("%-14s %*s scalar worst: x=%.9g got=%.9g ref=%.17g\n", "", 0, "", sc.x, sc.got, sc.ref);
    std::fflush(stdout);
  }
}

void binary_table(const std::vector<Target>& ts, bool quick) {
  const int64_t n = quick ? 1 << 20 : 1 << 24;
  std::printf("\nfloat32 binary functions: %lld pairs each\n", static_cast<long long>(n));
  for (const BinaryCase& c : binary_cases()) {
    const auto in = binary_inputs(c.name, n, 1234);
    std::vector<double> refs(in.size());
    for (size_t i = 0; i < in.size(); ++i) refs[i] = c.ref(in[i].first, in[i].second);
    Worst vec, sc;
    for (const Target& t : ts) {
      select(t);
      const Worst w = measure(c, in, refs, false);
      vec.take(w.ulp, w.x, w.y, w.got, w.ref);
    }
    select(ts[0]);
    sc = measure(c, in, refs, true);
    std::printf("%-14s contiguous %8s  strided %8s  bound %s/%s  glibc %s  worst (%.9g, %.9g) got %.9g ref %.17g\n",
                c.name.c_str(), fmt_ulp(vec.ulp).c_str(), fmt_ulp(sc.ulp).c_str(), fmt_ulp(c.bound_vector).c_str(),
                fmt_ulp(c.bound_scalar).c_str(), c.glibc, vec.x, vec.y, vec.got, vec.ref);
  }
}

// gelu's plain backward (Note [Fused GELU backward]): every float32 x in [-40, 40] (--quick: every
// 16th), g = 1, in ulps of max(|Phi(x)|, |x phi(x)|) (tests/accuracy_cases.h).
void gelu_backward_table(const std::vector<Target>& ts, bool quick) {
  const uint32_t stride = quick ? 16 : 1, top = 0x42200000u;  // 40.0f
  std::printf("\ngelu backward (plain, one pass), %s float32 in [-40, 40], ulps of max(|Phi|, |x phi|)\n",
              quick ? "every 16th" : "every");
  std::vector<Worst> worst(ts.size());
  constexpr size_t kChunk = size_t{1} << 22;
  std::vector<float> xs;
  std::vector<GeluGradRef> refs;
  for (int sign = 0; sign < 2; ++sign) {
    for (uint64_t b0 = 0; b0 <= top; b0 += uint64_t{stride} * kChunk) {
      xs.clear();
      for (uint64_t b = b0; b <= top && xs.size() < kChunk; b += stride)
        xs.push_back(sign ? -from_bits(static_cast<uint32_t>(b)) : from_bits(static_cast<uint32_t>(b)));
      refs.resize(xs.size());
      for (size_t i = 0; i < xs.size(); ++i) refs[i] = ref_gelu_erf_grad(xs[i]);
      const Tensor x = from_blob(xs.data(), {static_cast<int64_t>(xs.size())}, {1}, DType::Float32);
      for (size_t t = 0; t < ts.size(); ++t) {
        select(ts[t]);
        const Tensor g = gelu_grad_plain(x);
        const float* o = g.data_ptr<float>();
        for (size_t i = 0; i < xs.size(); ++i) worst[t].take(gelu_grad_error(o[i], refs[i]), xs[i], 0, o[i], refs[i].value);
      }
    }
  }
  select(ts[0]);
  for (size_t t = 0; t < ts.size(); ++t)
    std::printf("%-12s %8s  (bound %s)  worst x=%.9g got=%.9g ref=%.17g\n", ts[t].name.c_str(), fmt_ulp(worst[t].ulp).c_str(),
                fmt_ulp(ts[t].mask == HWY_STATIC_TARGET ? kGeluGradBoundPortable : kGeluGradBound).c_str(), worst[t].x,
                worst[t].got, worst[t].ref);
}

// float16/bfloat16: every bit pattern x; the op's 16-bit result must be the float32 result on
// float(x), rounded once (contiguous: against the contiguous float32 op; strided: the strided
// one). Also the error of the 16-bit result against float64, in 16-bit ulps.
void half_table(bool quick) {
  std::printf("\nfloat16 / bfloat16, every bit pattern: mismatches against round(float32 result), max ulp vs float64\n");
  std::printf("%-14s %10s %10s %10s %10s %10s %10s\n", "function", "f16 contig", "f16 strid", "f16 ulp", "bf16 contig",
              "bf16 strid", "bf16 ulp");
  for (const UnaryCase& c : unary_cases()) {
    if (quick && c.name.rfind("pow", 0) == 0 && c.name != "pow(x, 2)") continue;
    if (c.name == "pow(x, 0.3333)") continue;  // the exponent rounds to the 16-bit format (PyTorch too)
    std::printf("%-14s", c.name.c_str());
    for (DType dt : {DType::Float16, DType::BFloat16}) {
      std::vector<uint16_t> bits(65536), bits2(2 * 65536);
      std::vector<float> wide(65536);
      for (uint32_t i = 0; i < 65536; ++i) {
        bits[i] = bits2[2 * i] = static_cast<uint16_t>(i);
        wide[i] = dt == DType::Float16 ? float(Half::from_bits(static_cast<uint16_t>(i)))
                                       : float(BFloat16::from_bits(static_cast<uint16_t>(i)));
      }
      int64_t bad[2] = {0, 0};
      double max_ulp = 0;
      for (int strided = 0; strided < 2; ++strided) {
        const Tensor in = strided ? from_blob(bits2.data(), {65536}, {2}, dt) : from_blob(bits.data(), {65536}, {1}, dt);
        const Tensor out = c.op(in).contiguous();
        std::vector<float> keep;
        const Tensor ref32 = c.op(layout(wide, strided != 0, keep)).contiguous();
        const uint16_t* o = static_cast<const uint16_t*>(out.data_ptr());
        const float* r = ref32.data_ptr<float>();
        for (int i = 0; i < 65536; ++i) {
          const uint16_t want = dt == DType::Float16 ? Half(r[i]).bits : BFloat16(r[i]).bits;
          const float got = dt == DType::Float16 ? float(Half::from_bits(o[i])) : float(BFloat16::from_bits(o[i]));
          const bool both_nan = std::isnan(got) && std::isnan(r[i]);
          if (o[i] != want && !both_nan) ++bad[strided];
          if (!strided) max_ulp = std::max(max_ulp, ulp_error(got, c.ref(wide[i]), dt == DType::Float16 ? kF16 : kBF16));
        }
      }
      std::printf(" %10lld %10lld %10s", static_cast<long long>(bad[0]), static_cast<long long>(bad[1]),
                  fmt_ulp(max_ulp).c_str());
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

// sum of 16M float32 against the exact sum rounded to float32.
void sum_table(bool quick) {
  const int64_t n = quick ? 1 << 20 : 1 << 24;
  std::printf("\nsum of %lld float32 (contiguous), error in ulps of the correctly rounded sum\n", static_cast<long long>(n));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u01(0, 1);
  struct Dist {
    const char* name;
    std::function<float()> draw;
  };
  std::vector<Dist> dists = {
      {"uniform [0,1)", [&] { return static_cast<float>(u01(rng)); }},
      {"uniform [-1,1)", [&] { return static_cast<float>(2 * u01(rng) - 1); }},
      {"normal(0,1)",
       [&] {
         const double r = std::sqrt(-2 * std::log(1 - u01(rng)));
         return static_cast<float>(r * std::cos(6.283185307179586 * u01(rng)));
       }},
      {"+-10^U(-20,20)",
       [&] { return static_cast<float>((u01(rng) < 0.5 ? -1 : 1) * std::pow(10.0, -20 + 40 * u01(rng))); }},
      {"1e6 - 1e6 + small", nullptr},
  };
  for (auto& d : dists) {
    std::vector<float> x(static_cast<size_t>(n));
    if (d.draw) {
      for (auto& v : x) v = d.draw();
    } else {  // large values and their negatives at random places, plus small positive values
      for (int64_t i = 0; i < n; i += 4) {
        const float big = static_cast<float>(1e6 * (1 + u01(rng)));
        x[static_cast<size_t>(i)] = big;
        x[static_cast<size_t>(i + 1)] = static_cast<float>(u01(rng) * 1e-3);
        x[static_cast<size_t>(i + 2)] = -big;
        x[static_cast<size_t>(i + 3)] = static_cast<float>(u01(rng) * 1e-3);
      }
      std::shuffle(x.begin(), x.end(), rng);
    }
    ExactSum ex;
    for (float v : x) ex.add(v);
    const float exact = ex.value();
    const Tensor t = from_blob(x.data(), {n}, {1}, DType::Float32);
    const auto t0 = std::chrono::steady_clock::now();
    const float got = t.sum().item<float>();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-20s exact %.9g  ricci %.9g  %s ulp  (%.1f ms)\n", d.name, exact, got,
                fmt_ulp(ulp_error(got, exact)).c_str(), ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const auto ts = targets();
  std::printf("instruction sets measured:");
  for (const auto& t : ts) std::printf(" %s", t.name.c_str());
  std::printf("  (native = %s)\n", hwy::TargetName(hwy::SupportedTargets() & -hwy::SupportedTargets()));
  unary_table(ts, quick);
  binary_table(ts, quick);
  gelu_backward_table(ts, quick);
  half_table(quick);
  sum_table(quick);
  return 0;
}
