// Elementwise ops: values against std:: math on every layout, dtypes, promotion, errors.
// Gradients live in test_elementwise_grad.cpp.
#include <cmath>
#include <functional>
#include <limits>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// n values spread over [lo, hi], as a contiguous tensor of `dtype`.
Tensor spread(int64_t n, double lo, double hi, DType dtype = float32) {
  return linspace(lo, hi, n, TensorOptions(dtype));
}

bool close(double a, double e, double rtol, double atol) {
  if (std::isnan(e)) return std::isnan(a);
  if (std::isinf(e)) return a == e;
  return std::abs(a - e) <= atol + rtol * std::abs(e);
}

// Checks op(x)[i] against ref(x[i]) element by element.
void expect_unary(const Tensor& out, const Tensor& in, const std::function<double(double)>& ref, double rtol,
                  double atol, const char* what) {
  auto o = values(out), x = values(in);
  ASSERT_EQ(o.size(), x.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < o.size() && bad < 5; ++i) {
    double e = ref(x[i]);
    if (out.dtype() == float32) e = static_cast<float>(e);  // overflow to inf like the result
    if (!close(o[i], e, rtol, atol)) {
      ADD_FAILURE() << what << " at x=" << x[i] << ": got " << o[i] << ", want " << e;
      ++bad;
    }
  }
}

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  std::function<double(double)> ref;
  double lo, hi;
};

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, -5, 5},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::abs(x); }, -5, 5},
      {"sign", [](const Tensor& x) { return sign(x); }, [](double x) { return double((x > 0) - (x < 0)); }, -5, 5},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -20, 20},
      {"exp2", [](const Tensor& x) { return exp2(x); }, [](double x) { return std::exp2(x); }, -20, 20},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double x) { return std::expm1(x); }, -3, 3},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0.01, 100},
      {"log2", [](const Tensor& x) { return log2(x); }, [](double x) { return std::log2(x); }, 0.01, 100},
      {"log10", [](const Tensor& x) { return log10(x); }, [](double x) { return std::log10(x); }, 0.01, 100},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double x) { return std::log1p(x); }, -0.5, 10},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 100},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0.1, 100},
      {"square", [](const Tensor& x) { return square(x); }, [](double x) { return x * x; }, -5, 5},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1 / x; }, 0.1, 5},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); }, -6, 6},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); }, -6, 6},
      {"tan", [](const Tensor& x) { return tan(x); }, [](double x) { return std::tan(x); }, -1.2, 1.2},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -6, 6},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, [](double x) { return 1 / (1 + std::exp(-x)); }, -20, 20},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double x) { return x < 0 ? 0.0 : x; }, -5, 5},
      {"gelu", [](const Tensor& x) { return gelu(x); }, gelu_ref, -6, 6},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }, gelu_tanh_ref, -6, 6},
      {"silu", [](const Tensor& x) { return silu(x); }, [](double x) { return x / (1 + std::exp(-x)); }, -20, 20},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 10.0); },
       [](double x) { return 2 * x > 10 ? x : std::log1p(std::exp(2 * x)) / 2; }, -10, 10},
      {"erf", [](const Tensor& x) { return erf(x); }, [](double x) { return std::erf(x); }, -5, 5},
      {"floor", [](const Tensor& x) { return floor(x); }, [](double x) { return std::floor(x); }, -5, 5},
      {"ceil", [](const Tensor& x) { return ceil(x); }, [](double x) { return std::ceil(x); }, -5, 5},
      {"round", [](const Tensor& x) { return round(x); }, [](double x) { return std::nearbyint(x); }, -5, 5},
      {"trunc", [](const Tensor& x) { return trunc(x); }, [](double x) { return std::trunc(x); }, -5, 5},
      {"clamp", [](const Tensor& x) { return clamp(x, -1.5, 2.0); }, [](double x) { return std::min(std::max(x, -1.5), 2.0); }, -5, 5},
  };
}

}  // namespace

// ---- broadcasting ---------------------------------------------------------------------------------
TEST(ElementwiseBroadcast, Shapes) {
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}, "add"), Dims({2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {5}, "add"), Dims({5}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 3}, "add"), Dims({0, 3}));
}

TEST(ElementwiseBroadcast, ErrorTextMatchesPyTorch) {
  EXPECT_THROW_MSG(add(ones({3}), ones({2})), ShapeError,
                   "[add] The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0");
  EXPECT_THROW_MSG(ones({2, 3}) * ones({2}), ShapeError,
                   "[mul] The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1");
}

TEST(ElementwiseBroadcast, Values) {
  Tensor a = tensor({{1., 2., 3.}});      // [1, 3]
  Tensor b = tensor({{10.}, {20.}});      // [2, 1]
  EXPECT_TENSOR_EQ(a + b, tensor({{11., 12., 13.}, {21., 22., 23.}}));
  EXPECT_TENSOR_EQ(b - a, tensor({{9., 8., 7.}, {19., 18., 17.}}));
}

// ---- unary values on every layout and dtype ---------------------------------------------------------
TEST(ElementwiseUnary, Float64MatchesStd) {
  for (const auto& c : unary_cases()) {
    Tensor x = spread(101, c.lo, c.hi, float64);
    expect_unary(c.fn(x), x, c.ref, 1e-12, 1e-14, c.name);
  }
}

TEST(ElementwiseUnary, Float32MatchesStdContiguousAndTails) {
  // 37 and 1000 elements: vector bodies plus a tail on AVX2 and AVX-512.
  for (int64_t n : {1, 37, 1000}) {
    for (const auto& c : unary_cases()) {
      Tensor x = spread(n, c.lo, c.hi);
      expect_unary(c.fn(x), x, c.ref, 4e-6, 1e-6, c.name);
    }
  }
}

TEST(ElementwiseUnary, NonContiguousLayouts) {
  Tensor base = spread(24, 0.1, 4.0, float32).reshape({4, 6});
  Tensor transposed = base.t();
  Tensor stepped = base.slice(1, 0, 6, 2);
  Tensor expanded = base.slice(0, 0, 1).expand({5, 6});
  for (const auto& c : unary_cases()) {
    for (const Tensor& x : {transposed, stepped, expanded}) {
      Tensor y = c.fn(x);
      EXPECT_EQ(y.shape(), x.shape());
      EXPECT_TRUE(y.is_contiguous());
      EXPECT_TENSOR_CLOSE(y, c.fn(x.contiguous()), 1e-6, 1e-7);
    }
  }
}

TEST(ElementwiseUnary, ReducedFloats) {
  for (DType t : {float16, bfloat16}) {
    const double tol = t == float16 ? 2e-3 : 1.6e-2;
    for (const auto& c : unary_cases()) {
      if (std::string(c.name) == "exp" || std::string(c.name) == "exp2") continue;  // overflow float16 range
      Tensor x = spread(67, c.lo, c.hi, t);
      Tensor y = c.fn(x);
      EXPECT_EQ(y.dtype(), t) << c.name;
      // The reference sees the same (rounded) inputs; the result is rounded once more.
      expect_unary(y, x, c.ref, tol, tol, c.name);
      expect_unary(c.fn(x.slice(0, 0, 67, 3)), x.slice(0, 0, 67, 3), c.ref, tol, tol, c.name);
    }
  }
}

TEST(ElementwiseUnary, GeluErfIsFloat32Accurate) {
  Tensor x = spread(20001, -8, 8);
  auto y = values(gelu(x)), e = values(erf(x)), xs = values(x);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double ref = std::erf(xs[i]);
    worst = std::max(worst, std::abs(e[i] - ref) / std::max(std::abs(ref), 1e-3));
    EXPECT_NEAR(y[i], gelu_ref(xs[i]), 1e-6 * std::max(1.0, std::abs(xs[i])));
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(ElementwiseUnary, IntegerInputsPromoteToFloat32) {
  Tensor i = tensor({0, 1, 2}, int32);
  EXPECT_EQ(exp(i).dtype(), float32);
  EXPECT_TENSOR_CLOSE(exp(i), tensor({1.0, std::exp(1.0), std::exp(2.0)}), 1e-6);
  EXPECT_EQ(sqrt(tensor({true, false})).dtype(), float32);
  EXPECT_EQ(sigmoid(i).dtype(), float32);
  // Integer-preserving ones keep the dtype.
  EXPECT_EQ(abs(i).dtype(), int32);
  EXPECT_TENSOR_EQ(neg(i), tensor({0, -1, -2}, int32));
  EXPECT_TENSOR_EQ(sign(tensor({-3, 0, 7}, int64)), tensor({-1, 0, 1}, int64));
  EXPECT_TENSOR_EQ(square(tensor({-3, 4}, int16)), tensor({9, 16}, int16));
  EXPECT_TENSOR_EQ(relu(tensor({-3, 4}, int8)), tensor({0, 4}, int8));
  EXPECT_TENSOR_EQ(floor(tensor({-3, 4}, int64)), tensor({-3, 4}, int64));
  EXPECT_EQ(square(tensor({true, false})).dtype(), int64);
}

TEST(ElementwiseUnary, NaNAndInfPropagate) {
  // 20 elements so the float32 vector path sees them.
  std::vector<double> v = {kNaN, kInf, -kInf, 0.0, -0.0, 1.0, -1.0, 2.0, kNaN, kInf,
                           -kInf, 0.5, -0.5, 3.0, 100.0, -100.0, 1e-30, kNaN, 7.0, -7.0};
  for (DType t : {float32, float64}) {
    Tensor x = from_vector(v, {20}).to(t);
    for (const auto& c : unary_cases()) {
      if (std::string(c.name) == "silu" || std::string(c.name) == "softplus") continue;  // checked below
      expect_unary(c.fn(x), x, c.ref, 2e-6, 1e-9, c.name);
    }
    auto ynan = values(silu(from_vector(std::vector<double>{kNaN, kInf}, {2}).to(t)));
    EXPECT_TRUE(std::isnan(ynan[0]));
    EXPECT_EQ(ynan[1], kInf);
  }
  EXPECT_TENSOR_EQ(isnan(tensor({1.0, kNaN, kInf})), tensor({false, true, false}));
  EXPECT_TENSOR_EQ(isinf(tensor({1.0, kNaN, -kInf})), tensor({false, false, true}));
  EXPECT_TENSOR_EQ(isfinite(tensor({1.0, kNaN, -kInf})), tensor({true, false, false}));
  EXPECT_TENSOR_EQ(isfinite(tensor({1, 2})), tensor({true, true}));
  EXPECT_TENSOR_EQ(isnan(tensor({1, 2})), tensor({false, false}));
}

TEST(ElementwiseUnary, EmptyAndZeroDim) {
  Tensor e = empty({0, 3});
  EXPECT_EQ(exp(e).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ((e + e).shape(), IntArrayRef({0, 3}));
  Tensor s = scalar_tensor(2.0);
  EXPECT_EQ(exp(s).dim(), 0);
  EXPECT_NEAR(exp(s).item<double>(), std::exp(2.0), 1e-5);
  EXPECT_EQ((s * s).dim(), 0);
  EXPECT_EQ((s + ones({3})).shape(), IntArrayRef({3}));
}

TEST(ElementwiseUnary, ClampForms) {
  Tensor x = tensor({-3.0, -1.0, 0.5, 2.0, kNaN});
  EXPECT_TENSOR_EQ(clamp(x, -2.0, 1.0), tensor({-2.0, -1.0, 0.5, 1.0, kNaN}));
  EXPECT_TENSOR_EQ(clamp(x, std::nullopt, 0.0), tensor({-3.0, -1.0, 0.0, 0.0, kNaN}));
  EXPECT_TENSOR_EQ(x.clamp_min(0.0), tensor({0.0, 0.0, 0.5, 2.0, kNaN}));
  EXPECT_TENSOR_EQ(clamp(x, 2.0, 1.0), tensor({1.0, 1.0, 1.0, 1.0, kNaN}));  // min > max gives max
  Tensor i = tensor({-5, 0, 5}, int32);
  EXPECT_TENSOR_EQ(clamp(i, -1, 1), tensor({-1, 0, 1}, int32));
  EXPECT_EQ(clamp(i, 0.5).dtype(), float32);
  Tensor lo = tensor({0.0, 0.0, 1.0, 0.0, 0.0}), hi = tensor({1.0});
  EXPECT_TENSOR_EQ(clamp(x, lo, hi), tensor({0.0, 0.0, 1.0, 1.0, kNaN}));
  EXPECT_THROW_MSG(clamp(x, std::nullopt, std::nullopt), ValueError, "At least one of 'min' or 'max'");
}

TEST(ElementwiseUnary, LogicalAndBitwiseNot) {
  EXPECT_TENSOR_EQ(logical_not(tensor({0.0, 2.0})), tensor({true, false}));
  EXPECT_TENSOR_EQ(!tensor({true, false}), tensor({false, true}));
  EXPECT_TENSOR_EQ(~tensor({0, 5}, int32), tensor({-1, -6}, int32));
  EXPECT_TENSOR_EQ(~tensor({true, false}), tensor({false, true}));
  EXPECT_THROW_MSG(bitwise_not(ones({2})), DTypeError, "[bitwise_not]");
  EXPECT_THROW_MSG(-tensor({true}), DTypeError, "[neg] Negation, the `-` operator, on a bool tensor is not supported");
  EXPECT_THROW_MSG(gelu(ones({2}), "fast"), ValueError, "[gelu] approximate argument must be either none or tanh");
}

// ---- binary ------------------------------------------------------------------------------------------
TEST(ElementwiseBinary, ArithmeticAllLayouts) {
  Tensor a = spread(24, -3, 3, float64).reshape({4, 6});
  Tensor b = spread(24, 0.5, 5, float64).reshape({6, 4}).t();  // transposed
  Tensor bc = b.contiguous();
  EXPECT_TENSOR_CLOSE(a + b, a + bc, 0, 0);
  EXPECT_TENSOR_CLOSE(a - b, a - bc, 0, 0);
  EXPECT_TENSOR_CLOSE(a * b, a * bc, 0, 0);
  EXPECT_TENSOR_CLOSE(a / b, a / bc, 0, 0);
  auto av = values(a), bv = values(bc), s = values(add(a, b, 2.5)), d = values(sub(a, b, 0.5));
  for (size_t i = 0; i < av.size(); ++i) {
    EXPECT_DOUBLE_EQ(s[i], av[i] + 2.5 * bv[i]);
    EXPECT_DOUBLE_EQ(d[i], av[i] - 0.5 * bv[i]);
  }
  Tensor stepped = a.slice(1, 0, 6, 2);  // [4, 3] with step
  Tensor row = tensor({1.0, 2.0, 3.0}, float64);
  EXPECT_TENSOR_CLOSE(stepped * row, stepped.contiguous() * row, 0, 0);
  Tensor expanded = row.expand({4, 3});
  EXPECT_TENSOR_CLOSE(stepped + expanded, stepped.contiguous() + row, 0, 0);
}

TEST(ElementwiseBinary, EveryDtypeAdds) {
  for (DType t : {uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64}) {
    Tensor a = tensor({1, 2, 3, 4}, t), b = tensor({4, 3, 2, 1}, t);
    EXPECT_TENSOR_EQ(a + b, tensor({5, 5, 5, 5}, t)) << t;
    EXPECT_TENSOR_EQ(a * b, tensor({4, 6, 6, 4}, t)) << t;
    EXPECT_TENSOR_EQ(maximum(a, b), tensor({4, 3, 3, 4}, t)) << t;
    EXPECT_TENSOR_EQ(a > b, tensor({false, false, true, true})) << t;
  }
  EXPECT_TENSOR_EQ(tensor({true, false}) + tensor({true, true}), tensor({true, true}));
  EXPECT_TENSOR_EQ(tensor({true, false}) * tensor({true, true}), tensor({true, false}));
}

TEST(ElementwiseBinary, ReducedFloatsVectorPathAndScalars) {
  for (DType t : {float16, bfloat16}) {
    Tensor a = spread(300, -4, 4, t), b = spread(300, 1, 2, t);
    EXPECT_TENSOR_CLOSE(a * b, (a.to(float32) * b.to(float32)).to(t), 0, 0);
    EXPECT_TENSOR_CLOSE(a + 1.5, (a.to(float32) + 1.5).to(t), 0, 0);
    EXPECT_TENSOR_CLOSE(1.5 - a, (1.5 - a.to(float32)).to(t), 0, 0);
    EXPECT_TENSOR_CLOSE(a / b, (a.to(float32) / b.to(float32)).to(t), 0, 0);
  }
}

TEST(ElementwiseBinary, TypePromotionTable) {
  Tensor i32 = tensor({1, 2}, int32), i64 = tensor({1, 2}, int64), f16 = tensor({1, 2}, float16);
  Tensor f32 = tensor({1, 2}, float32), f64 = tensor({1, 2}, float64), u8 = tensor({1, 2}, uint8);
  Tensor i8 = tensor({1, 2}, int8), b = tensor({true, false}), bf = tensor({1, 2}, bfloat16);
  EXPECT_EQ((i32 * 2).dtype(), int32);
  EXPECT_EQ((f16 * 2.5).dtype(), float16);
  EXPECT_EQ((i32 * 2.5).dtype(), float32);
  EXPECT_EQ((i64 * 2.5).dtype(), float32);
  EXPECT_EQ((i32 / i32).dtype(), float32);
  EXPECT_TENSOR_EQ(tensor({3, 4}, int32) / tensor({2, 2}, int32), tensor({1.5f, 2.0f}));
  EXPECT_EQ((i32 + i64).dtype(), int64);
  EXPECT_EQ((u8 + i8).dtype(), int16);
  EXPECT_EQ((f16 + bf).dtype(), float32);
  EXPECT_EQ((f32 + f64).dtype(), float64);
  EXPECT_EQ((b + b).dtype(), bool_);
  EXPECT_EQ((b + 1).dtype(), int64);
  EXPECT_EQ((b + 1.5).dtype(), float32);
  EXPECT_EQ((u8 + 1000).dtype(), uint8);
  EXPECT_EQ((i32 + i64.sum()).dtype(), int32) << "a 0-d tensor does not widen within its category";
  EXPECT_EQ((f16 + scalar_tensor(1.0, float64)).dtype(), float16);
  EXPECT_EQ((i32 + scalar_tensor(1.0, float64)).dtype(), float64) << "0-d of a higher category counts fully";
  EXPECT_EQ((2 * i32).dtype(), int32);
  EXPECT_EQ((2.0 / i32).dtype(), float32);
  EXPECT_EQ(result_type(i32, 2.5), float32);
  EXPECT_EQ((i32 == 2.5).dtype(), bool_);
}

TEST(ElementwiseBinary, ScalarOnEitherSide) {
  Tensor x = tensor({1.0, 2.0, 4.0});
  EXPECT_TENSOR_EQ(x + 1, tensor({2.0, 3.0, 5.0}));
  EXPECT_TENSOR_EQ(1 + x, tensor({2.0, 3.0, 5.0}));
  EXPECT_TENSOR_EQ(x - 1, tensor({0.0, 1.0, 3.0}));
  EXPECT_TENSOR_EQ(1 - x, tensor({0.0, -1.0, -3.0}));
  EXPECT_TENSOR_EQ(x * 3, tensor({3.0, 6.0, 12.0}));
  EXPECT_TENSOR_EQ(3 * x, tensor({3.0, 6.0, 12.0}));
  EXPECT_TENSOR_EQ(x / 2, tensor({0.5, 1.0, 2.0}));
  EXPECT_TENSOR_EQ(2 / x, tensor({2.0, 1.0, 0.5}));
  EXPECT_TENSOR_EQ(10 - tensor({1, 2}, int32), tensor({9, 8}, int32));
  EXPECT_TENSOR_EQ(-x, tensor({-1.0, -2.0, -4.0}));
}

TEST(ElementwiseBinary, DivRoundingModes) {
  Tensor a = tensor({7.0, -7.0, 7.0, -7.0}), b = tensor({2.0, 2.0, -2.0, -2.0});
  EXPECT_TENSOR_EQ(div(a, b, "floor"), tensor({3.0, -4.0, -4.0, 3.0}));
  EXPECT_TENSOR_EQ(div(a, b, "trunc"), tensor({3.0, -3.0, -3.0, 3.0}));
  Tensor ai = tensor({7, -7, 7, -7}, int64), bi = tensor({2, 2, -2, -2}, int64);
  EXPECT_TENSOR_EQ(div(ai, bi, "floor"), tensor({3, -4, -4, 3}, int64));
  EXPECT_TENSOR_EQ(div(ai, bi, "trunc"), tensor({3, -3, -3, 3}, int64));
  EXPECT_TENSOR_EQ(div(ai, 2, "floor"), tensor({3, -4, 3, -4}, int64));
  EXPECT_THROW_MSG(div(ai, tensor({0}, int64), "floor"), ValueError, "ZeroDivisionError");
  EXPECT_THROW_MSG(div(a, b, "round"), ValueError, "rounding_mode");
  auto inf = values(div(tensor({1.0, -1.0, 0.0}), 0.0));
  EXPECT_EQ(inf[0], kInf);
  EXPECT_EQ(inf[1], -kInf);
  EXPECT_TRUE(std::isnan(inf[2]));
}

TEST(ElementwiseBinary, PowForms) {
  Tensor x = tensor({1.0, 2.0, 3.0});
  EXPECT_TENSOR_CLOSE(pow(x, 2), tensor({1.0, 4.0, 9.0}));
  EXPECT_TENSOR_CLOSE(pow(x, tensor({0.5, 1.0, 2.0})), tensor({1.0, 2.0, 9.0}));
  EXPECT_TENSOR_CLOSE(pow(2, x), tensor({2.0, 4.0, 8.0}));
  EXPECT_TENSOR_EQ(pow(tensor({2, 3}, int32), 3), tensor({8, 27}, int32));
  EXPECT_EQ(pow(tensor({2, 3}, int32), 0.5).dtype(), float32);
  EXPECT_TENSOR_EQ(pow(tensor({2, 1, -1}, int64), tensor({-1, -2, -3}, int64)), tensor({0, 1, -1}, int64));
  EXPECT_THROW_MSG(pow(tensor({2}, int64), -1), ValueError, "Integers to negative integer powers are not allowed");
}

TEST(ElementwiseBinary, MaxMinFmodRemainderAtan2) {
  Tensor a = tensor({1.0, kNaN, 3.0, -5.5}), b = tensor({2.0, 1.0, kNaN, 2.0});
  auto mx = values(maximum(a, b)), mn = values(minimum(a, b));
  EXPECT_EQ(mx[0], 2.0);
  EXPECT_TRUE(std::isnan(mx[1]) && std::isnan(mx[2]));
  EXPECT_TRUE(std::isnan(mn[1]) && std::isnan(mn[2]));
  EXPECT_EQ(mn[3], -5.5);
  EXPECT_TENSOR_EQ(fmod(tensor({-7.0, 7.0}), 3), tensor({-1.0, 1.0}));
  EXPECT_TENSOR_EQ(remainder(tensor({-7.0, 7.0}), 3), tensor({2.0, 1.0}));
  EXPECT_TENSOR_EQ(remainder(tensor({-7, 7}, int32), -3), tensor({-1, -2}, int32));
  EXPECT_TENSOR_EQ(fmod(tensor({-7, 7}, int32), 3), tensor({-1, 1}, int32));
  EXPECT_THROW_MSG(remainder(tensor({1}, int32), 0), ValueError, "[remainder] ZeroDivisionError");
  EXPECT_TENSOR_CLOSE(atan2(tensor({1.0, -1.0}), tensor({1.0, -1.0})), tensor({M_PI / 4, -3 * M_PI / 4}), 1e-6);
}

TEST(ElementwiseBinary, ComparisonsGiveBool) {
  Tensor a = tensor({1.0, 2.0, 3.0}), b = tensor({3.0, 2.0, 1.0});
  EXPECT_TENSOR_EQ(a == b, tensor({false, true, false}));
  EXPECT_TENSOR_EQ(a != b, tensor({true, false, true}));
  EXPECT_TENSOR_EQ(a < b, tensor({true, false, false}));
  EXPECT_TENSOR_EQ(a <= b, tensor({true, true, false}));
  EXPECT_TENSOR_EQ(a > b, tensor({false, false, true}));
  EXPECT_TENSOR_EQ(a >= b, tensor({false, true, true}));
  EXPECT_TENSOR_EQ(a == 2, tensor({false, true, false}));
  EXPECT_TENSOR_EQ(tensor({1, 2}, int32) < 1.5, tensor({true, false}));
  EXPECT_TENSOR_EQ(tensor({kNaN}) == tensor({kNaN}), tensor({false}));
  EXPECT_TENSOR_EQ(a.t() > 1, tensor({false, true, true}));
}

TEST(ElementwiseBinary, LogicalBitwiseShifts) {
  Tensor p = tensor({true, true, false, false}), q = tensor({true, false, true, false});
  EXPECT_TENSOR_EQ(p && q, tensor({true, false, false, false}));
  EXPECT_TENSOR_EQ(p || q, tensor({true, true, true, false}));
  EXPECT_TENSOR_EQ(logical_xor(p, q), tensor({false, true, true, false}));
  EXPECT_TENSOR_EQ(logical_and(tensor({0.0, 2.0}), tensor({1, 1}, int32)), tensor({false, true}));
  EXPECT_TENSOR_EQ(p & q, tensor({true, false, false, false}));
  EXPECT_TENSOR_EQ(p ^ q, tensor({false, true, true, false}));
  Tensor i = tensor({12, 10}, int32);
  EXPECT_TENSOR_EQ(i & 6, tensor({4, 2}, int32));
  EXPECT_TENSOR_EQ(i | 1, tensor({13, 11}, int32));
  EXPECT_TENSOR_EQ(i ^ tensor({15, 15}, int32), tensor({3, 5}, int32));
  EXPECT_TENSOR_EQ(i << 2, tensor({48, 40}, int32));
  EXPECT_TENSOR_EQ(tensor({-16, 16}, int64) >> 2, tensor({-4, 4}, int64));
  EXPECT_THROW_MSG(ones({2}) & ones({2}), DTypeError, "[bitwise_and] bitwise_and is only supported for integer and bool");
  EXPECT_THROW_MSG(bitwise_left_shift(ones({2}), 1), DTypeError, "[bitwise_left_shift]");
  EXPECT_THROW_MSG(tensor({true}) - tensor({true}), DTypeError, "Subtraction, the `-` operator, with two bool tensors");
}

TEST(ElementwiseBinary, LargeParallelAdd) {
  const int64_t n = 1 << 20;
  Tensor a = arange(n, float32), b = full({n}, 2.0f);
  auto c = values(a + b);
  for (int64_t k : {int64_t{0}, int64_t{12345}, n - 1}) EXPECT_EQ(c[k], static_cast<double>(k) + 2.0);
  auto t = values((a.reshape({1024, 1024}).t() * 2).reshape({n}));
  EXPECT_EQ(t[1], 2.0 * 1024);
}

// ---- ternary -------------------------------------------------------------------------------------
TEST(ElementwiseTernary, WhereBroadcastPromoteScalars) {
  Tensor c = tensor({{true}, {false}});
  Tensor a = tensor({1, 2, 3}, int32);
  Tensor b = tensor({0.5});
  Tensor w = where(c, a, b);
  EXPECT_EQ(w.dtype(), float32);
  EXPECT_TENSOR_EQ(w, tensor({{1.0f, 2.0f, 3.0f}, {0.5f, 0.5f, 0.5f}}));
  EXPECT_TENSOR_EQ(where(tensor({true, false}), a.slice(0, 0, 2), 0), tensor({1, 0}, int32));
  EXPECT_TENSOR_EQ(where(tensor({true, false}), 1.5, tensor({2.0, 3.0})), tensor({1.5, 3.0}));
  EXPECT_TENSOR_EQ(where(tensor({true, false}), 1, 0), tensor({1, 0}, int64));
  EXPECT_THROW_MSG(where(ones({2}), a.slice(0, 0, 2), 0), DTypeError, "where expected condition to be a boolean tensor");
}

TEST(ElementwiseTernary, LerpAddcmulAddcdiv) {
  Tensor s = tensor({0.0, 10.0}), e = tensor({10.0, 20.0});
  EXPECT_TENSOR_CLOSE(lerp(s, e, 0.25), tensor({2.5, 12.5}));
  EXPECT_TENSOR_CLOSE(lerp(s, e, tensor({0.0, 1.0})), tensor({0.0, 20.0}));
  Tensor x = tensor({1.0, 1.0}), t1 = tensor({2.0, 3.0}), t2 = tensor({{4.0}, {5.0}});
  EXPECT_TENSOR_CLOSE(addcmul(x, t1, t2, 0.5), tensor({{5.0, 7.0}, {6.0, 8.5}}));
  EXPECT_TENSOR_CLOSE(addcdiv(x, t1, t2, 2), tensor({{2.0, 2.5}, {1.8, 2.2}}));
  EXPECT_TENSOR_EQ(addcmul(tensor({1}, int32), tensor({2}, int32), tensor({3}, int32), 2), tensor({13}, int32));
  EXPECT_THROW_MSG(addcdiv(tensor({1}, int32), tensor({2}, int32), tensor({3}, int32)), DTypeError, "[addcdiv]");
  EXPECT_THROW_MSG(lerp(tensor({1}, int32), tensor({2}, int32), 0.5), DTypeError, "[lerp]");
}

TEST(ElementwiseTernary, MaskedFill) {
  Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}});
  Tensor m = tensor({true, false});
  EXPECT_TENSOR_EQ(masked_fill(x, m, -1.0), tensor({{-1.0, 2.0}, {-1.0, 4.0}}));
  EXPECT_TENSOR_EQ(x.masked_fill(m, 0), tensor({{0.0, 2.0}, {0.0, 4.0}}));
  EXPECT_TENSOR_EQ(masked_fill(tensor({1, 2}, int32), m, 9), tensor({9, 2}, int32));
  EXPECT_TENSOR_EQ(masked_fill(x, m, scalar_tensor(5.0)), tensor({{5.0, 2.0}, {5.0, 4.0}}));
  Tensor y = x.clone();
  y.t().masked_fill_(tensor({{true, false}, {false, false}}), 7.0);
  EXPECT_TENSOR_EQ(y, tensor({{7.0, 2.0}, {3.0, 4.0}}));
  EXPECT_THROW_MSG(masked_fill(x, tensor({1, 0}, int32), 0), DTypeError, "only supports boolean masks");
  EXPECT_THROW_MSG(tensor({1.0}).masked_fill_(tensor({true, false}), 0), ShapeError,
                   "output with shape [1] doesn't match the broadcast shape [2]");
}

// ---- in place -------------------------------------------------------------------------------------
TEST(ElementwiseInplace, WritesThroughViews) {
  Tensor x = zeros({3, 4});
  Tensor col = x.slice(1, 1, 4, 2);  // non-contiguous view
  col.add_(tensor({1.0, 2.0}));
  col.mul_(3);
  EXPECT_TENSOR_EQ(x, tensor({{0.0, 3.0, 0.0, 6.0}, {0.0, 3.0, 0.0, 6.0}, {0.0, 3.0, 0.0, 6.0}}));
  Tensor y = ones({2, 2});
  y += 1;
  y *= tensor({1.0, 2.0});
  y -= 0.5;
  y /= 2;
  EXPECT_TENSOR_EQ(y, tensor({{0.75, 1.75}, {0.75, 1.75}}));
  Tensor z = tensor({1.0, 4.0, 9.0});
  z.sqrt_().neg_();
  EXPECT_TENSOR_EQ(z, tensor({-1.0, -2.0, -3.0}));
  z.clamp_(-2.5, std::nullopt).relu_();
  EXPECT_TENSOR_EQ(z, tensor({0.0, 0.0, 0.0}));
  Tensor w = tensor({0.0, 1.0});
  w.exp_();
  EXPECT_TENSOR_CLOSE(w, tensor({1.0, std::exp(1.0)}));
  Tensor l = tensor({0.0, 10.0});
  l.lerp_(tensor({10.0, 20.0}), 0.5);
  EXPECT_TENSOR_EQ(l, tensor({5.0, 15.0}));
  l.addcmul_(tensor({1.0, 2.0}), tensor({2.0, 2.0}), 0.5).addcdiv_(tensor({4.0}), tensor({2.0}));
  EXPECT_TENSOR_EQ(l, tensor({8.0, 19.0}));
  Tensor i = tensor({1, 2}, int32);
  i.add_(tensor({1, 1}, int64));  // int64 result casts back to int32 (same category)
  EXPECT_TENSOR_EQ(i, tensor({2, 3}, int32));
  Tensor f = tensor({1.0f, 2.0f});
  f.add_(tensor({0.5, 0.5}, float64));
  EXPECT_TENSOR_EQ(f, tensor({1.5f, 2.5f}));
}

TEST(ElementwiseInplace, RefusesToBroadcastSelf) {
  Tensor x = ones({3});
  EXPECT_THROW_MSG(x.add_(ones({2, 3})), ShapeError, "[add_] output with shape [3] doesn't match the broadcast shape [2, 3]");
  EXPECT_THROW_MSG(x *= ones({2, 3}), ShapeError, "[mul_] output with shape [3] doesn't match the broadcast shape [2, 3]");
}

TEST(ElementwiseInplace, RefusesToNarrowTheCategory) {
  Tensor i = tensor({1, 2}, int64);
  EXPECT_THROW_MSG(i.add_(1.5), DTypeError, "[add_] result type Float can't be cast to the desired output type Long");
  EXPECT_THROW_MSG(i.div_(2), DTypeError, "[div_] result type Float can't be cast to the desired output type Long");
  EXPECT_THROW_MSG(i.exp_(), DTypeError, "[exp_] result type Float can't be cast to the desired output type Long");
  EXPECT_THROW_MSG(i.clamp_(0.5), DTypeError, "[clamp_] result type Float");
}

TEST(Compare, IsCloseAllCloseEqual) {
  using namespace ricci;
  Tensor a = tensor({1.0, 2.0, NAN, INFINITY});
  Tensor b = tensor({1.0 + 1e-7, 2.1, NAN, INFINITY});
  EXPECT_EQ(ricci::testing::values(isclose(a, b)), (std::vector<double>{1, 0, 0, 1}));
  EXPECT_EQ(ricci::testing::values(isclose(a, b, 1e-5, 1e-8, true)), (std::vector<double>{1, 0, 1, 1}));
  EXPECT_TRUE(allclose(a.slice(0, 0, 1), b.slice(0, 0, 1)));
  EXPECT_FALSE(allclose(a, b));
  EXPECT_TRUE(allclose(a, b, 0.1, 0.0, true));
  // broadcast and non-contiguous
  Tensor m = arange(6, float32).reshape({2, 3});
  EXPECT_TRUE(allclose(m.T().contiguous(), m.T()));
  EXPECT_TRUE(equal(tensor({1, 2}), tensor({1, 2})));
  EXPECT_FALSE(equal(tensor({1, 2}), tensor({1, 3})));
  EXPECT_FALSE(equal(tensor({1, 2}), tensor({1, 2, 3})));
  EXPECT_THROW_MSG(isclose(tensor({1.0}), tensor({1.0}, float64)), DTypeError, "did not match");
  EXPECT_THROW_MSG(isclose(a, b, -1.0), ValueError, "must be non-negative");
}
