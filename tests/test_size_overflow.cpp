// Size arithmetic never wraps (Note [Checked size arithmetic] in include/ricci/detail/size_math.h):
// factories, views, arange, cat/stack, repeat, matmul and einsum with sizes near 2^31, 2^32, 2^62
// and 2^63 - 1, and with products past int64. Each case either works (and computes the right
// thing) or throws a ricci::Error naming the op; none may allocate a wrapped, tiny buffer. Huge
// shapes are made as stride-0 views of one element, so nothing here allocates more than a few GiB
// of untouched address space. Runs clean under ASan + UBSan (build-asan).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

namespace {

constexpr int64_t k31 = int64_t{1} << 31;
constexpr int64_t k32 = int64_t{1} << 32;
constexpr int64_t k40 = int64_t{1} << 40;
constexpr int64_t k62 = int64_t{1} << 62;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// A tensor of `shape` whose every element is the same one (stride 0): any size, one float of memory.
Tensor huge(IntArrayRef shape, DType dt = float32) { return ones({1}, dt).reshape(Dims(shape.size(), 1)).expand(shape); }

// Shapes whose element count (or span, zeros counted as one) overflows int64.
const std::vector<std::vector<int64_t>> kOverflowing = {
    {k40, k40},          {k62 + 1, 4},          {k32, k32},         {kMax, 2},        {2, kMax},
    {k31, k31, 4},       {k40, k40, 0},         {0, k40, k40},      {k62, 2},         {3, k62, 1},
    {kMax, kMax, kMax},  {k32 + 1, k32 - 1, 3},
};

// Shapes whose element count fits but whose bytes (float32) do not, or that no machine holds.
const std::vector<std::vector<int64_t>> kTooManyBytes = {{k62}, {kMax}, {k62 - 1, 1}, {k31, k31}, {1, k62 + 1}};

// fn throws ShapeError (overflow) or Error ("[allocate]": more than the machine has) naming `op`.
void expect_refused(const std::function<void()>& fn, const std::string& op, const std::string& context) {
  try {
    fn();
    ADD_FAILURE() << context << ": expected an error from [" << op << "]";
  } catch (const Error& e) {
    const std::string msg = e.what();
    const bool named = msg.find("[" + op + "]") != std::string::npos || msg.find("[allocate]") != std::string::npos;
    EXPECT_TRUE(named) << context << ": message does not name [" << op << "]: " << msg;
  }
}

std::string str(IntArrayRef s) { return detail::cat(s); }

}  // namespace

// ---- the helpers ---------------------------------------------------------------------------------

TEST(SizeOverflow, CheckedHelpers) {
  EXPECT_EQ(checked_numel({}, "t"), 1);
  EXPECT_EQ(checked_numel({0, k62, 1}, "t"), 0);
  EXPECT_THROW_MSG(checked_numel({0, k62, 3}, "myop"), ShapeError, "[myop]");  // the span counts zeros as one
  EXPECT_EQ(checked_numel({k31, k31}, "t"), k62);
  EXPECT_EQ(checked_numel({kMax}, "t"), kMax);
  EXPECT_EQ(product({2, 3, 4}), 24);
  for (const auto& s : kOverflowing)
    EXPECT_THROW_MSG(checked_numel(s, "myop"), ShapeError, "[myop] the number of elements overflows int64 for shape");
  EXPECT_THROW_MSG(checked_numel({2, -1}, "myop"), ValueError, "[myop] Trying to create tensor with negative dimension -1: [2, -1]");
  EXPECT_THROW_MSG(checked_numel({kMin}, "myop"), ValueError, "negative dimension");
  EXPECT_THROW_MSG(product({k40, k40}), ShapeError, "[numel]");
  EXPECT_EQ(checked_nbytes({3, 5}, 8, "t"), 120u);
  EXPECT_EQ(checked_nbytes({0, k62 - 1}, 1, "t"), 0u);
  EXPECT_THROW_MSG(checked_nbytes({k62}, 2, "myop"), ShapeError, "[myop] the storage size in bytes overflows");
  EXPECT_EQ(checked_nbytes({0, k62}, 8, "t"), 0u);  // no bytes, whatever the span
  EXPECT_EQ(zeros({0, k62}, float64).clone().shape(), IntArrayRef({0, k62}));
  EXPECT_EQ(checked_mul(k31, 4, "t", {}, "x"), int64_t{1} << 33);
  EXPECT_THROW_MSG(checked_mul(k32, k32, "myop", {k32, k32}, "the thing"), ShapeError, "[myop] the thing overflows int64");
  EXPECT_THROW_MSG(checked_add(kMax, 1, "myop", {}, "the offset"), ShapeError, "[myop] the offset overflows int64");
  EXPECT_EQ(checked_add(kMax, kMin, "t", {}, "x"), -1);
}

// ---- factories -------------------------------------------------------------------------------------

TEST(SizeOverflow, FactoriesRefuseOverflowingShapes) {
  const std::vector<std::pair<std::string, std::function<Tensor(IntArrayRef)>>> factories = {
      {"empty", [](IntArrayRef s) { return empty(s); }},
      {"zeros", [](IntArrayRef s) { return zeros(s); }},
      {"ones", [](IntArrayRef s) { return ones(s, int8); }},
      {"full", [](IntArrayRef s) { return full(s, 2.5); }},
      {"randn", [](IntArrayRef s) { return randn(s); }},
      {"rand", [](IntArrayRef s) { return rand(s, float64); }},
      {"randint", [](IntArrayRef s) { return randint(0, 5, s); }},
      {"bernoulli", [](IntArrayRef s) { return bernoulli(s, 0.5); }},
      {"empty_strided", [](IntArrayRef s) { return empty_strided(s, contiguous_strides(s)); }},
  };
  for (const auto& entry : factories) {
    const std::string& name = entry.first;
    const auto& make = entry.second;
    for (const auto& s : kOverflowing) {
      if (name == "empty_strided") continue;  // contiguous strides of these shapes overflow themselves
      EXPECT_THROW_MSG(make(s), ShapeError, "[" + name + "]");
    }
    for (const auto& s : kTooManyBytes) expect_refused([&] { make(s); }, name, name + str(s));
    EXPECT_THROW_MSG(make({2, -1}), ValueError, "negative dimension -1");
    EXPECT_THROW_MSG(make({kMin}), ValueError, "negative dimension");
    // Empty tensors with huge (but representable) other dims are fine.
    EXPECT_EQ(make({0, k31}).numel(), 0) << name;
    EXPECT_EQ(make({k40, 0}).numel(), 0) << name;
  }
  EXPECT_THROW_MSG(zeros({k40, k40}), ShapeError, "[zeros] the number of elements overflows int64 for shape [1099511627776, 1099511627776]");
  EXPECT_THROW_MSG(zeros({k62}), ShapeError, "[zeros] the storage size in bytes overflows int64");
  EXPECT_THROW_MSG(eye(k40, k40), ShapeError, "[eye]");
  EXPECT_THROW_MSG(eye(-1), ValueError, "[eye] n and m must be non-negative");
  EXPECT_THROW_MSG(from_vector(std::vector<float>{1.f}, {k40, k40}), ShapeError, "[from_vector]");
  EXPECT_THROW_MSG(from_vector(std::vector<float>{1.f}, {-1}), ValueError, "[from_vector]");
}

TEST(SizeOverflow, AllocationsBeyondTheMachineAreClearErrors) {
  // Representable, but more than memory + swap: a ricci error, never std::bad_alloc or an OOM kill.
  EXPECT_THROW_MSG(empty({k40}), Error, "[allocate] CPU out of memory: tried to allocate 4398046511104 bytes");
  EXPECT_THROW_MSG(zeros({int64_t{1} << 38}, float64), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(randn({k40}), Error, "one allocation may take (this machine's memory and swap, or RICCI_CPU_MEMORY_LIMIT)");
  // A copy of a huge broadcast view needs the memory for real.
  EXPECT_THROW_MSG(huge({k40}).contiguous(), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(zeros({2, 1}).expand({2, k40}).t().reshape({-1}), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(huge({k62}).nbytes(), ShapeError, "[nbytes] the size in bytes overflows");
}

TEST(SizeOverflow, EmptyStrided) {
  Tensor a = empty_strided({2, 3}, {1, 2});
  EXPECT_EQ(a.strides(), IntArrayRef({1, 2}));
  EXPECT_EQ(a.storage().nbytes(), 6u * 4u);
  EXPECT_EQ(empty_strided({4, 3}, {0, 1}, float64).storage().nbytes(), 3u * 8u);
  EXPECT_EQ(empty_strided({0, 3}, {k62, 1}, int8).numel(), 0);
  EXPECT_EQ(empty_strided({}, {}).numel(), 1);
  a.fill_(7);
  EXPECT_TENSOR_EQ(a, full({2, 3}, 7.0f));
  EXPECT_THROW_MSG(empty_strided({2, 2}, {k62, 1}), ShapeError, "[empty_strided] a stride in bytes overflows");
  EXPECT_THROW_MSG(empty_strided({5}, {int64_t{1} << 61}, int8), ShapeError, "[empty_strided] the storage extent overflows");
  EXPECT_THROW_MSG(empty_strided({k40, k40}, {0, 0}), ShapeError, "[empty_strided] the number of elements overflows");
  EXPECT_THROW_MSG(empty_strided({k40}, {1}), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(empty_strided({2}, {-1}), ValueError, "[empty_strided] strides must be non-negative");
  EXPECT_THROW_MSG(empty_strided({-2}, {1}), ValueError, "negative dimension -2");
  EXPECT_THROW_MSG(empty_strided({2, 2}, {1}), ShapeError, "[empty_strided] shape [2, 2] and strides [1] must have the same length");
}

TEST(SizeOverflow, FromBlob) {
  float buf[4] = {1, 2, 3, 4};
  EXPECT_TENSOR_EQ(from_blob(buf, {2, 2}, {1, 2}, float32), tensor({{1.f, 3.f}, {2.f, 4.f}}));
  EXPECT_THROW_MSG(from_blob(buf, {2, k62}, {k62, 1}, float32), ShapeError, "[from_blob]");
  EXPECT_THROW_MSG(from_blob(buf, {3}, {k62}, int8), ShapeError, "[from_blob] the storage extent overflows");
  EXPECT_THROW_MSG(from_blob(buf, {2}, {-1}, float32), ValueError, "[from_blob] strides must be non-negative");
  EXPECT_THROW_MSG(from_blob(buf, {-2}, {1}, float32), ValueError, "negative dimension");
}

// ---- arange and linspace ---------------------------------------------------------------------------

TEST(SizeOverflow, ArangeRanges) {
  EXPECT_THROW_MSG(arange(0, 10, 0), ValueError, "[arange] step must be nonzero");
  EXPECT_THROW_MSG(arange(0.0, 10.0, 0.0), ValueError, "[arange] step must be nonzero");
  EXPECT_THROW_MSG(arange(kNaN, 10.0, 1.0), ValueError, "[arange] unsupported range: nan -> 10");
  EXPECT_THROW_MSG(arange(0.0, kNaN, 1.0), ValueError, "[arange] unsupported range");
  EXPECT_THROW_MSG(arange(0.0, kInf, 1.0), ValueError, "[arange] unsupported range: 0 -> inf");
  EXPECT_THROW_MSG(arange(-kInf, 0.0, 1.0), ValueError, "[arange] unsupported range");
  EXPECT_THROW_MSG(arange(0.0, 10.0, kNaN), ValueError, "[arange] step must be finite but got nan");
  EXPECT_THROW_MSG(arange(0.0, 10.0, kInf), ValueError, "[arange] step must be finite but got inf");
  EXPECT_THROW_MSG(arange(0.0, 10.0, -kInf), ValueError, "[arange] step must be finite");
  EXPECT_THROW_MSG(arange(0, 10, -1), ValueError, "inconsistent with step sign");
  // Counts past int64, or past any buffer.
  EXPECT_THROW_MSG(arange(kMin, kMax), ShapeError, "[arange] invalid size, possible overflow?");
  EXPECT_THROW_MSG(arange(kMax), ShapeError, "[arange] the storage size in bytes overflows");
  EXPECT_THROW_MSG(arange(0, kMax, 2), ShapeError, "[arange]");
  EXPECT_THROW_MSG(arange(-1e308, 1e308, 1e-300), ShapeError, "[arange] invalid size, possible overflow?");
  EXPECT_THROW_MSG(arange(0.0, 1e30, 1.0), ShapeError, "[arange] invalid size");
  EXPECT_THROW_MSG(arange(0.0, 1e19, 1.0), ShapeError, "[arange] invalid size");
  EXPECT_THROW_MSG(arange(k40), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(arange(0.0, static_cast<double>(k62), 1.0), ShapeError, "[arange] the storage size in bytes overflows");
  // At the ends of int64 the values are exact (counted in 128 bits, stepped without wrapping).
  EXPECT_EQ(arange(kMax - 2, kMax).to_vector<int64_t>(), (std::vector<int64_t>{kMax - 2, kMax - 1}));
  EXPECT_EQ(arange(kMin, kMin + 3).to_vector<int64_t>(), (std::vector<int64_t>{kMin, kMin + 1, kMin + 2}));
  EXPECT_EQ(arange(kMin, kMax, kMax).to_vector<int64_t>(), (std::vector<int64_t>{kMin, -1, kMax - 1}));
  EXPECT_EQ(arange(kMax, kMin, kMin).to_vector<int64_t>(), (std::vector<int64_t>{kMax, -1}));
  EXPECT_EQ(arange(0, 10, kMax).to_vector<int64_t>(), (std::vector<int64_t>{0}));
  EXPECT_EQ(arange(k62 + 1, k62 - 2, -1).to_vector<int64_t>(), (std::vector<int64_t>{k62 + 1, k62, k62 - 1}));
  EXPECT_EQ(arange(5, 5).numel(), 0);
}

TEST(SizeOverflow, Linspace) {
  EXPECT_THROW_MSG(linspace(0, 1, -1), ValueError, "[linspace] number of steps must be non-negative");
  EXPECT_THROW_MSG(linspace(0, 1, kMax), ShapeError, "[linspace] the storage size in bytes overflows");
  EXPECT_THROW_MSG(linspace(0, 1, k62), ShapeError, "[linspace]");
  EXPECT_THROW_MSG(linspace(0, 1, k40), Error, "[allocate] CPU out of memory");
  const std::vector<double> v = linspace(kNaN, 1, 3, float64).to_vector<double>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(linspace(-kInf, kInf, 0).numel(), 0);
}

TEST(SizeOverflow, Randperm) {
  EXPECT_THROW_MSG(randperm(k62), ShapeError, "[randperm]");
  EXPECT_THROW_MSG(randperm(kMax), ShapeError, "[randperm]");
  EXPECT_THROW_MSG(randperm(k40), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(randperm(-1), ValueError, "[randperm] n must be non-negative");
  EXPECT_EQ(std::get<0>(randperm(5).sort()).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

// ---- views -------------------------------------------------------------------------------------------

TEST(SizeOverflow, HugeBroadcastViews) {
  const Tensor x = huge({kMax});
  EXPECT_EQ(x.numel(), kMax);
  EXPECT_EQ(huge({k62, 1}).numel(), k62);
  EXPECT_EQ(huge({k31, k31}).numel(), k62);
  for (const auto& s : kOverflowing)
    if (s.back() != 0 && s.front() != 0)
      EXPECT_THROW_MSG(ones({1}).expand(s), ShapeError, "[expand] the number of elements overflows int64");
  EXPECT_THROW_MSG(huge({k62}).expand({4, k62}), ShapeError, "[expand]");
  EXPECT_THROW_MSG(ones({1, 1}).expand({k40, k40}), ShapeError, "[expand]");
  EXPECT_THROW_MSG(ones({1}).expand({-2}), ShapeError, "[expand] The expanded size of the tensor (-2) at dimension 0 must be non-negative");
  EXPECT_THROW_MSG(ones({1}).expand({2, -3, 1}), ShapeError, "[expand]");
  // The last elements of a 2^62-element view are reachable and right.
  const Tensor tail = huge({k62}).narrow(0, k62 - 5, 5);
  EXPECT_EQ(tail.numel(), 5);
  EXPECT_EQ(tail.sum().item<double>(), 5.0);
  EXPECT_NE(huge({k62}).str().find("..."), std::string::npos);
  EXPECT_EQ(huge({k62}).unsqueeze(1).size(0), k62);
  EXPECT_EQ(huge({k62}).select(0, k62 - 1).item<float>(), 1.0f);
}

TEST(SizeOverflow, ViewAndReshapeInferredSizes) {
  const Tensor base = arange(4.0);
  for (const char* op : {"view", "reshape"}) {
    auto f = [&](IntArrayRef s) { return std::string(op) == "view" ? base.view(s) : base.reshape(s); };
    EXPECT_THROW_MSG(f({-1, k62}), ShapeError, detail::cat("[", op, "] shape '[-1, 4611686018427387904]' is invalid for input of size 4"));
    EXPECT_THROW_MSG(f({k62, k62, -1}), ShapeError, detail::cat("[", op, "] the number of elements overflows"));
    EXPECT_THROW_MSG(f({k62 + 1, 4, -1}), ShapeError, detail::cat("[", op, "]"));
    EXPECT_THROW_MSG(f({k32, k32}), ShapeError, detail::cat("[", op, "]"));
    EXPECT_THROW_MSG(f({0, -1}), ShapeError, detail::cat("[", op, "] shape '[0, -1]' is invalid for input of size 4"));
    EXPECT_THROW_MSG(f({-2, -2}), ShapeError, detail::cat("[", op, "] invalid shape dimension -2"));
    EXPECT_THROW_MSG(f({-1, -1}), ShapeError, detail::cat("[", op, "] only one dimension can be inferred"));
    EXPECT_THROW_MSG(f({kMin, -1}), ShapeError, "invalid shape dimension");
    EXPECT_EQ(f({-1, 2}).shape(), IntArrayRef({2, 2}));
  }
  // Empty inputs: the other dims may be large, but their span must fit.
  const Tensor e = zeros({0});
  EXPECT_EQ(e.view({-1, k62}).shape(), IntArrayRef({0, k62}));
  EXPECT_EQ(e.reshape({k31, 0, k31}).numel(), 0);
  EXPECT_THROW_MSG(e.view({0, k62, k62}), ShapeError, "[view] the number of elements overflows");
  EXPECT_THROW_MSG(e.reshape({k62, k62, -1}), ShapeError, "[reshape] the number of elements overflows");
  // A broadcast view reshapes without a copy, whatever its size.
  const Tensor r = huge({k40}).reshape({1 << 10, -1});
  EXPECT_EQ(r.size(1), int64_t{1} << 30);
  EXPECT_EQ(huge({k62}).view({2, -1, 2}).size(1), k62 / 4);
  EXPECT_THROW_MSG(huge({k62}).view({3, -1}), ShapeError, "[view] shape '[3, -1]' is invalid for input of size 4611686018427387904");
}

TEST(SizeOverflow, NarrowSliceSelect) {
  const Tensor x = arange(10, float64);
  EXPECT_THROW_MSG(x.narrow(0, 5, kMax), IndexError, "[narrow] start (5) + length (9223372036854775807) exceeds dimension size (10).");
  EXPECT_THROW_MSG(x.narrow(0, kMax, 1), IndexError, "[narrow]");
  EXPECT_THROW_MSG(x.narrow(0, kMin, 1), IndexError, "[narrow]");
  EXPECT_THROW_MSG(x.narrow(0, -1, kMax), IndexError, "[narrow]");
  EXPECT_THROW_MSG(x.narrow(0, 0, -1), IndexError, "[narrow] narrow(): length must be non-negative");
  EXPECT_THROW_MSG(x.narrow(0, 0, kMin), IndexError, "[narrow]");
  EXPECT_EQ(x.narrow(0, 10, 0).numel(), 0);
  EXPECT_TENSOR_EQ(x.narrow(0, -2, 2), f64({8, 9}));
  // Huge steps give one element (no `+ step - 1` to wrap), huge bounds clamp.
  EXPECT_TENSOR_EQ(x.slice(0, 3, 10, kMax), f64({3}));
  EXPECT_TENSOR_EQ(x.slice(0, 0, std::nullopt, kMax), f64({0}));
  EXPECT_TENSOR_EQ(x.slice(0, kMin, kMax, 4), f64({0, 4, 8}));
  EXPECT_EQ(x.slice(0, kMax, kMin).numel(), 0);
  EXPECT_THROW_MSG(x.slice(0, 0, 10, 0), ValueError, "[slice] slice step must be positive");
  EXPECT_THROW_MSG(x.slice(0, 0, 10, kMin), ValueError, "[slice] slice step must be positive");
  // stride * step past int64 on a dim left with one element: the stride is unused, no wrap.
  const Tensor m = arange(20, float64).view({2, 10});
  EXPECT_TENSOR_EQ(m.slice(0, 0, 2, kMax), m.narrow(0, 0, 1));
  EXPECT_TENSOR_EQ(m.slice(0, 1, 2, kMax / 3), m.narrow(0, 1, 1));
  EXPECT_TENSOR_EQ(huge({k62 / 2, 3}).slice(0, k62 / 2 - 1, kMax, k62), ones({1, 3}));
  EXPECT_THROW_MSG(x.select(0, kMax), IndexError, "[select] index 9223372036854775807 is out of bounds");
  EXPECT_THROW_MSG(x.select(0, kMin), IndexError, "[select]");
  // An empty tensor may have any sizes and strides: an offset they overflow is an error, not UB
  // (found by fuzz_views).
  const Tensor e = empty_strided({0, k32}, {1, k32}, int8);
  EXPECT_THROW_MSG(e.select(1, k32 - 4), ShapeError, "[select] the offset overflows int64");
  EXPECT_EQ(e.select(1, 3).numel(), 0);
  // Offsets past 2^31 and 2^32 elements stay exact.
  const Tensor h = huge({k32 + 7});
  EXPECT_EQ(h.narrow(0, k32, 7).numel(), 7);
  EXPECT_EQ(h.narrow(0, k31 - 1, 3).sum().item<double>(), 3.0);
}

TEST(SizeOverflow, AsStrided) {
  const Tensor f = zeros({16});
  const Tensor b = zeros({16}, int8);
  // The old bug: (size - 1) * stride wrapped negative and passed the bounds check.
  EXPECT_THROW_MSG(b.as_strided({3, 2}, {k62, 1}), ShapeError, "[as_strided] the storage extent overflows");
  EXPECT_THROW_MSG(b.as_strided({5}, {int64_t{1} << 61}), ShapeError, "[as_strided] the storage extent overflows");
  EXPECT_THROW_MSG(f.as_strided({2}, {k62}), ShapeError, "[as_strided] a stride in bytes overflows");
  EXPECT_THROW_MSG(f.as_strided({k40, k40}, {0, 0}), ShapeError, "[as_strided] the number of elements overflows");
  EXPECT_THROW_MSG(f.as_strided({2}, {1}, kMax), ShapeError, "[as_strided] the storage offset in bytes overflows");
  EXPECT_THROW_MSG(b.as_strided({2}, {1}, kMax), ShapeError, "[as_strided] the storage extent overflows");
  EXPECT_THROW_MSG(f.as_strided({2}, {1}, 15), IndexError, "require a storage of 17 elements, but it holds only 16");
  EXPECT_THROW_MSG(b.as_strided({2, 2}, {kMax / 2, kMax / 2}), IndexError, "require a storage of 9223372036854775807 elements");
  EXPECT_THROW_MSG(f.as_strided({-1}, {1}), ValueError, "[as_strided] negative size or stride");
  EXPECT_THROW_MSG(f.as_strided({1}, {-1}), ValueError, "[as_strided] negative size or stride");
  EXPECT_THROW_MSG(f.as_strided({k32, k32}, {0, 0}), ShapeError, "[as_strided] the number of elements overflows");
  EXPECT_EQ(f.as_strided({k31, k31}, {0, 0}).numel(), k62);
  EXPECT_EQ(f.as_strided({0}, {1}, 1000).numel(), 0);
  EXPECT_EQ(f.as_strided({k62}, {0}).numel(), k62);
  EXPECT_TENSOR_EQ(arange(6, float64).as_strided({2, 2}, {2, 1}, 1), f64({{1, 2}, {3, 4}}));
}

TEST(SizeOverflow, UnfoldUnflattenFlattenDiagonal) {
  const Tensor x = arange(10, float64);
  EXPECT_TENSOR_EQ(x.unfold(0, 3, kMax), f64({{0, 1, 2}}));
  EXPECT_TENSOR_EQ(arange(20, float64).view({2, 10}).unfold(0, 1, kMax), f64({{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}}).view({1, 10, 1}));
  EXPECT_THROW_MSG(x.unfold(0, 11, 1), ShapeError, "[unfold] maximum size for tensor at dimension 0 is 10 but size is 11");
  EXPECT_THROW_MSG(x.unfold(0, kMax, 1), ShapeError, "[unfold]");
  EXPECT_THROW_MSG(x.unfold(0, -1, 1), ShapeError, "[unfold]");
  EXPECT_THROW_MSG(x.unfold(0, 2, 0), ValueError, "[unfold] step is 0 but must be > 0");
  EXPECT_EQ(huge({k62}).unfold(0, 2, k62 / 2).shape(), IntArrayRef({2, 2}));
  EXPECT_THROW_MSG(x.unflatten(0, {k62, -1}), ShapeError, "[unflatten] shape '[4611686018427387904, -1]' is invalid for input of size 10");
  EXPECT_THROW_MSG(x.unflatten(0, {k62 + 1, 4, -1}), ShapeError, "[unflatten] the number of elements overflows");
  EXPECT_THROW_MSG(x.unflatten(0, {2, -2}), ShapeError, "[unflatten] invalid shape dimension -2");
  EXPECT_EQ(huge({k62}).unflatten(0, {k31, -1}).shape(), IntArrayRef({k31, k31}));
  EXPECT_EQ(huge({k31, k31 / 2, 2}).flatten(0, 1).shape(), IntArrayRef({k62 / 2, 2}));
  EXPECT_THROW_MSG(zeros({0, k31, k31}, bool_).flatten(1, 2).view({0, -1, 2, 2}), ShapeError, "[view]");
  EXPECT_EQ(zeros({0, k31, k31}, bool_).flatten(1).shape(), IntArrayRef({0, k62}));
  const Tensor m = ones({3, 3});
  EXPECT_EQ(m.diagonal(kMax).numel(), 0);
  EXPECT_EQ(m.diagonal(kMin).numel(), 0);
  EXPECT_EQ(m.diagonal(-2).numel(), 1);
}

TEST(SizeOverflow, TooManyDimsForAMask) {
  const Tensor x = zeros(Dims(65, 1));
  EXPECT_THROW_MSG(x.sum(), ShapeError, "[sum] only tensors with up to 64 dims are supported, got 65 dims");
  EXPECT_THROW_MSG(x.sum({64}), ShapeError, "[sum] only tensors with up to 64 dims");
  EXPECT_THROW_MSG(x.amax({-1}), ShapeError, "[amax] only tensors with up to 64 dims");
  EXPECT_THROW_MSG(x.argmax(64), ShapeError, "[argmax] only tensors with up to 64 dims");
  EXPECT_THROW_MSG(x.var({0}), ShapeError, "only tensors with up to 64 dims");
  EXPECT_THROW_MSG(zeros(Dims(200, 1)).mean(), ShapeError, "only tensors with up to 64 dims");
  EXPECT_EQ(zeros(Dims(10, 1)).sum().item<double>(), 0.0);
}

// ---- ops that make new shapes ---------------------------------------------------------------------

TEST(SizeOverflow, CatAndStack) {
  const Tensor h = huge({k62});
  EXPECT_THROW_MSG(cat({h, h}, 0), ShapeError, "[cat] the concatenated size overflows");
  EXPECT_THROW_MSG(cat({h, huge({kMax})}, 0), ShapeError, "[cat] the concatenated size overflows");
  EXPECT_THROW_MSG(cat({h, huge({k62 - 1})}, 0), ShapeError, "[cat] the storage size in bytes overflows");
  EXPECT_THROW_MSG(cat({huge({k40}), huge({1})}, 0), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(cat({huge({2, k62 / 2}), huge({2, k62 / 2})}, 0), ShapeError, "[cat] the number of elements overflows");
  EXPECT_THROW_MSG(stack({h, h}, 0), ShapeError, "[stack] the number of elements overflows");
  EXPECT_THROW_MSG(stack({huge({k32, k31 / 2}), huge({k32, k31 / 2})}, 1), ShapeError, "[stack]");
  EXPECT_THROW_MSG(stack({h, h, h}, 1), ShapeError, "[stack]");
  EXPECT_THROW_MSG(stack({huge({k40}), huge({k40})}, 0), Error, "[allocate] CPU out of memory");
  EXPECT_TENSOR_EQ(cat({zeros({0}), f64({1, 2})}, 0), f64({1, 2}));
}

TEST(SizeOverflow, RepeatTileSplitChunk) {
  EXPECT_THROW_MSG(zeros({2}).repeat({k62}), ShapeError, "[repeat] the repeated size overflows");
  EXPECT_THROW_MSG(zeros({3}).repeat({kMax}), ShapeError, "[repeat]");
  EXPECT_THROW_MSG(huge({k32}).repeat({k32}), ShapeError, "[repeat]");
  EXPECT_THROW_MSG(zeros({1, 1}).repeat({k40, k40}), ShapeError, "[repeat] the number of elements overflows");
  EXPECT_THROW_MSG(zeros({2}).repeat({k40}), Error, "[allocate] CPU out of memory");
  EXPECT_EQ(zeros({2}).repeat({k40, 0}).shape(), IntArrayRef({k40, 0}));
  EXPECT_EQ(zeros({2}).repeat({k62, 0}).shape(), IntArrayRef({k62, 0}));
  EXPECT_THROW_MSG(zeros({2}).repeat({k62, 1}), ShapeError, "overflows");
  EXPECT_THROW_MSG(zeros({2}).repeat({-1}), ValueError, "[repeat] Trying to create tensor with negative dimension -1");
  EXPECT_EQ(zeros({0}).repeat({k40}).numel(), 0);
  EXPECT_THROW_MSG(zeros({2}).tile({k62}), ShapeError, "[repeat]");
  EXPECT_TENSOR_EQ(f64({1, 2}).repeat({2}), f64({1, 2, 1, 2}));
  const Tensor x = arange(5.0);
  EXPECT_EQ(x.chunk(kMax).size(), 5u);
  EXPECT_EQ(x.split(kMax).size(), 1u);
  EXPECT_THROW_MSG(split(x, IntArrayRef({kMax, kMax}), 0), ShapeError, "[split] the sum of split_sizes overflows");
  EXPECT_THROW_MSG(split(x, IntArrayRef({kMax, 1}), 0), ShapeError, "[split]");
}

TEST(SizeOverflow, MatmulOutputShapes) {
  const Tensor row = huge({k40, 1}), col = huge({1, k40});
  EXPECT_THROW_MSG(matmul(row, col), ShapeError, "[matmul] the number of elements overflows");
  EXPECT_THROW_MSG(mm(row, col), ShapeError, "[matmul]");
  EXPECT_THROW_MSG(outer(huge({k40}), huge({k40})), ShapeError, "[matmul]");
  EXPECT_THROW_MSG(matmul(huge({k32, 1, 1}), huge({1, 1, k32})), ShapeError, "[matmul]");
  EXPECT_THROW_MSG(matmul(huge({k32, 1, 2, 1}), huge({1, k32, 1, 2})), ShapeError, "[matmul] the number of elements overflows");
  EXPECT_THROW_MSG(bmm(huge({k31, k31, 1}), huge({k31, 1, 4})), ShapeError, "[matmul] the number of elements overflows");
  EXPECT_THROW_MSG(matmul(huge({1 << 20, 1}), huge({1, 1 << 20})), Error, "[allocate] CPU out of memory");
  EXPECT_THROW_MSG(matmul(huge({k62, 1}, float64), huge({1, 4}, float64)), ShapeError, "[matmul]");
  // A broadcast operand with many rows and a small output still runs.
  EXPECT_TENSOR_EQ(matmul(huge({3, 1}), huge({1, 2})), ones({3, 2}));
}

TEST(SizeOverflow, EinsumOutputShapes) {
  const Tensor v = huge({k32});
  EXPECT_THROW_MSG(einsum("i,j->ij", {v, v}), ShapeError, "[einsum] the number of elements overflows");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {huge({k32, 1}), huge({1, k32})}), ShapeError, "[einsum]");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {huge({k32, 2}), huge({2, k32})}), ShapeError, "[einsum]");
  EXPECT_THROW_MSG(einsum("bi,bj->bij", {huge({k31, 2}), huge({k31, k31})}), ShapeError, "[einsum]");
  EXPECT_THROW_MSG(einsum("i,j->ij", {huge({1 << 20}), huge({1 << 20})}), Error, "[allocate] CPU out of memory");
  EXPECT_TENSOR_EQ(einsum("i,j->ij", {huge({2}), huge({3})}), ones({2, 3}));
}

TEST(SizeOverflow, BroadcastAndIndexingOutputs) {
  const Tensor row = huge({k40, 1}), col = huge({1, k40});
  EXPECT_THROW_MSG(row + col, ShapeError, "[add] the number of elements overflows");
  EXPECT_THROW_MSG(row * col, ShapeError, "[mul]");
  EXPECT_THROW_MSG(where(huge({k40, 1}, bool_), row, col), ShapeError, "[where]");
  EXPECT_THROW_MSG(huge({1 << 20, 1}) + huge({1, 1 << 20}), Error, "[allocate] CPU out of memory");
  const Tensor idx = zeros({1}, int64).expand({k32});
  EXPECT_THROW_MSG(index_select(huge({2, k32}), 0, idx), ShapeError, "[index_select]");
  EXPECT_THROW_MSG(one_hot(tensor({int64_t{0}}), k62), ShapeError, "[one_hot]");
  EXPECT_THROW_MSG(one_hot(tensor({kMax}), -1), ShapeError, "[one_hot] the number of classes overflows");
  const Tensor i1 = zeros({1, 1}, int64).expand({k32, 1}), i2 = zeros({1, 1}, int64).expand({1, k32});
  EXPECT_THROW_MSG(zeros({2, 2}).index({i1, i2}), ShapeError, "overflows");
}

TEST(SizeOverflow, TrilTriuExtremeDiagonals) {
  const Tensor m = ones({3, 4});
  EXPECT_TENSOR_EQ(tril(m, kMax), m);
  EXPECT_TENSOR_EQ(triu(m, kMin), m);
  EXPECT_TENSOR_EQ(tril(m, kMin), zeros({3, 4}));
  EXPECT_TENSOR_EQ(triu(m, kMax), zeros({3, 4}));
}

// ---- real buffers past 2^31 and 2^32 bytes -------------------------------------------------------------

TEST(SizeOverflow, OffsetsPast32BitsInARealBuffer) {
  // 4 GiB + 64 B of address space, of which only the pages written below are touched.
  Tensor big;
  try {
    big = empty({k32 + 64}, uint8);
  } catch (const Error& e) {
    GTEST_SKIP() << "no 4 GiB of address space here: " << e.what();
  }
  ASSERT_EQ(big.numel(), k32 + 64);
  Tensor a = big.narrow(0, k31 - 4, 8), b = big.narrow(0, k32 + 8, 8);
  EXPECT_EQ(static_cast<char*>(b.data_ptr()) - static_cast<char*>(big.data_ptr()), k32 + 8);
  a.fill_(2);
  b.fill_(3);
  EXPECT_EQ(a.sum().item<int64_t>(), 16);
  EXPECT_EQ(b.sum().item<int64_t>(), 24);
  EXPECT_EQ(big.select(0, k32 + 15).item<int64_t>(), 3);
  EXPECT_EQ(big.as_strided({2}, {k32 - k31 + 12}, k31 - 4).to_vector<uint8_t>(), (std::vector<uint8_t>{2, 3}));
  EXPECT_EQ(big.view({-1, 64}).size(0), k32 / 64 + 1);
  EXPECT_THROW_MSG(big.as_strided({2}, {k32}, k31), IndexError, "[as_strided] setStorage");
}

// Run by the ctest size_overflow_memory_limit with RICCI_CPU_MEMORY_LIMIT=1M (read once per process).
TEST(SizeOverflow, MemoryLimitFromTheEnvironment) {
  const char* limit = std::getenv("RICCI_CPU_MEMORY_LIMIT");
  if (!limit || std::string(limit) != "1M") GTEST_SKIP() << "needs RICCI_CPU_MEMORY_LIMIT=1M";
  EXPECT_EQ(zeros({1 << 18}).numel(), 1 << 18);  // exactly 1 MiB
  EXPECT_THROW_MSG(zeros({(1 << 18) + 1}), Error, "[allocate] CPU out of memory: tried to allocate 1048580 bytes");
  EXPECT_THROW_MSG(arange(1 << 20), Error, "or RICCI_CPU_MEMORY_LIMIT");
  EXPECT_THROW_MSG(ones({1}).expand({1 << 20}).contiguous(), Error, "[allocate]");
}
