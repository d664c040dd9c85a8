// The tensor core: metadata, views (exact strides, shared storage), factories, conversions, errors.
#include <limits>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

TEST(Tensor, MetadataOfNestedList) {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  EXPECT_EQ(x.shape(), IntArrayRef({2, 3}));
  EXPECT_EQ(x.dtype(), float32);
  EXPECT_EQ(x.device(), Device("cpu"));
  EXPECT_EQ(x.dim(), 2);
  EXPECT_EQ(x.numel(), 6);
  EXPECT_EQ(x.element_size(), 4u);
  EXPECT_EQ(x.nbytes(), 24u);
  EXPECT_TRUE(x.is_contiguous());
  EXPECT_EQ(x.size(-1), 3);
  EXPECT_EQ(x.stride(0), 3);
  EXPECT_EQ(values(x), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(Tensor, DtypeInferenceLikePyTorch) {
  EXPECT_EQ(tensor({1, 2, 3}).dtype(), int64);
  EXPECT_EQ(tensor({1, 2.5}).dtype(), float32);
  EXPECT_EQ(tensor({true, false}).dtype(), bool_);
  EXPECT_EQ(tensor(2.0).dim(), 0);
  EXPECT_EQ(tensor(2.0).item<float>(), 2.0f);
  EXPECT_EQ(tensor({1, 2}, float64).dtype(), float64);
  EXPECT_EQ(tensor({{{1}, {2}}, {{3}, {4}}}).shape(), IntArrayRef({2, 2, 1}));
}

TEST(Tensor, RaggedListThrows) {
  EXPECT_THROW_MSG(tensor({{1, 2}, {3}}), ShapeError, "rectangular");
  EXPECT_THROW_MSG(tensor({{1, 2}, 3}), ShapeError, "rectangular");
}

TEST(Tensor, LessonStrides) {
  Tensor x = arange(6).reshape({2, 3});
  EXPECT_EQ(x.strides(), IntArrayRef({3, 1}));
  EXPECT_EQ(x.T().shape(), IntArrayRef({3, 2}));
  EXPECT_EQ(x.T().strides(), IntArrayRef({1, 3}));
  EXPECT_TRUE(x.T().shares_storage_with(x));
  EXPECT_FALSE(x.T().is_contiguous());
  Tensor c = x.T().contiguous();
  EXPECT_EQ(c.strides(), IntArrayRef({2, 1}));
  EXPECT_FALSE(c.shares_storage_with(x));
  EXPECT_EQ(values(c), (std::vector<double>{0, 3, 1, 4, 2, 5}));

  Tensor y = arange(24).reshape({2, 3, 4});
  EXPECT_EQ(y.strides(), IntArrayRef({12, 4, 1}));
  EXPECT_EQ(y.view({6, 4}).shape(), IntArrayRef({6, 4}));
  EXPECT_TRUE(y.view({6, 4}).shares_storage_with(y));
  Tensor yt = y.transpose(0, 1);
  EXPECT_EQ(yt.shape(), IntArrayRef({3, 2, 4}));
  EXPECT_EQ(yt.strides(), IntArrayRef({4, 12, 1}));
  EXPECT_FALSE(yt.is_contiguous());
  EXPECT_EQ(y.permute({2, 0, 1}).shape(), IntArrayRef({4, 2, 3}));
  EXPECT_EQ(y.permute({2, 0, 1}).strides(), IntArrayRef({1, 12, 4}));
}

TEST(Tensor, ViewOfTransposeThrowsReshapeCopies) {
  Tensor x = arange(6).reshape({2, 3});
  EXPECT_THROW_MSG(x.T().view({6}), ShapeError,
                   "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                   "two contiguous subspaces). Use .reshape(...) instead.");
  Tensor r = x.T().reshape({6});
  EXPECT_EQ(values(r), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_FALSE(r.shares_storage_with(x));
  // reshape of a contiguous tensor is a view
  EXPECT_TRUE(x.reshape({3, 2}).shares_storage_with(x));
  EXPECT_TRUE(x.T().contiguous().view({6}).is_contiguous());
}

TEST(Tensor, ViewStrideRuleSplitsAndMerges) {
  // A transposed tensor can still be viewed where chunks stay whole: (4, 6) -> T (6, 4) -> (3, 2, 4).
  Tensor x = arange(24).reshape({4, 6}).T();
  Tensor v = x.view({3, 2, 4});
  EXPECT_EQ(v.strides(), IntArrayRef({2, 1, 6}));
  EXPECT_TRUE(v.shares_storage_with(x));
  EXPECT_EQ(values(v.contiguous()), values(x.contiguous()));
  // Inferred size
  EXPECT_EQ(arange(12).view({-1, 4}).shape(), IntArrayRef({3, 4}));
  EXPECT_THROW_MSG(arange(12).view({-1, -1}), ShapeError, "only one dimension can be inferred");
  EXPECT_THROW_MSG(arange(12).view({5, -1}), ShapeError, "shape '[5, -1]' is invalid for input of size 12");
  EXPECT_THROW_MSG(arange(12).view({5, 2}), ShapeError, "is invalid for input of size 12");
}

TEST(Tensor, ExpandAndBroadcastTo) {
  Tensor b = tensor({10, 20, 30});
  Tensor e = b.expand({4, 3});
  EXPECT_EQ(e.strides(), IntArrayRef({0, 1}));
  EXPECT_TRUE(e.shares_storage_with(b));
  EXPECT_EQ(values(e.contiguous()), (std::vector<double>{10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30}));
  Tensor c = tensor({{1}, {2}}).expand({2, -1, 3});
  EXPECT_EQ(c.shape(), IntArrayRef({2, 2, 3}));
  EXPECT_EQ(c.strides(), IntArrayRef({0, 1, 0}));
  EXPECT_THROW_MSG(b.expand({4, 2}), ShapeError, "must match the existing size (3) at non-singleton dimension 1");
  EXPECT_THROW_MSG(b.expand({}), ShapeError, "must be greater or equal to the number of dimensions");
}

TEST(Tensor, SqueezeUnsqueezeFlattenUnflatten) {
  Tensor x = zeros({2, 1, 3, 1});
  EXPECT_EQ(x.squeeze().shape(), IntArrayRef({2, 3}));
  EXPECT_EQ(x.squeeze(1).shape(), IntArrayRef({2, 3, 1}));
  EXPECT_EQ(x.squeeze(0).shape(), IntArrayRef({2, 1, 3, 1}));
  EXPECT_EQ(zeros({2, 3}).unsqueeze(-1).shape(), IntArrayRef({2, 3, 1}));
  EXPECT_EQ(zeros({2, 3}).unsqueeze(0).strides(), IntArrayRef({6, 3, 1}));
  Tensor y = arange(24).reshape({2, 3, 4});
  EXPECT_EQ(y.flatten().shape(), IntArrayRef({24}));
  EXPECT_EQ(y.flatten(1).shape(), IntArrayRef({2, 12}));
  EXPECT_EQ(y.flatten(0, 1).shape(), IntArrayRef({6, 4}));
  EXPECT_EQ(y.unflatten(2, {2, 2}).shape(), IntArrayRef({2, 3, 2, 2}));
  EXPECT_EQ(y.unflatten(-1, {-1, 2}).shape(), IntArrayRef({2, 3, 2, 2}));
  EXPECT_THROW_MSG(y.flatten(2, 1), ValueError, "cannot come after end_dim");
  EXPECT_THROW_MSG(y.unsqueeze(4), IndexError, "Dimension out of range (expected to be in range of [-4, 3], but got 4)");
}

TEST(Tensor, SliceNarrowSelect) {
  Tensor x = arange(10);
  Tensor s = x.slice(0, 1, 8, 3);
  EXPECT_EQ(values(s), (std::vector<double>{1, 4, 7}));
  EXPECT_EQ(s.strides(), IntArrayRef({3}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_EQ(values(x.slice(0, -3)), (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(values(x.slice(0, 2, -5)), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(x.slice(0, 8, 2).numel(), 0);
  EXPECT_EQ(values(x.slice(0, -100, 100, 4)), (std::vector<double>{0, 4, 8}));
  EXPECT_THROW_MSG(x.slice(0, 0, 5, 0), ValueError, "slice step must be positive");
  EXPECT_THROW_MSG(x.slice(0, 0, 5, -1), ValueError, "slice step must be positive");

  Tensor m = arange(12).reshape({3, 4});
  EXPECT_EQ(values(m.narrow(1, 1, 2)), (std::vector<double>{1, 2, 5, 6, 9, 10}));
  EXPECT_THROW_MSG(m.narrow(1, 3, 2), IndexError, "exceeds dimension size (4)");
  EXPECT_EQ(values(m.select(0, -1)), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(values(m[1]), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_EQ(values(m.select(1, 2)), (std::vector<double>{2, 6, 10}));
  EXPECT_THROW_MSG(m.select(0, 3), IndexError, "index 3 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(tensor(1.0).select(0, 0), IndexError, "cannot be applied to a 0-dim tensor");
}

TEST(Tensor, DiagonalAsStridedUnfold) {
  Tensor m = arange(9).reshape({3, 3});
  EXPECT_EQ(values(m.diagonal()), (std::vector<double>{0, 4, 8}));
  EXPECT_EQ(values(m.diagonal(1)), (std::vector<double>{1, 5}));
  EXPECT_EQ(values(m.diagonal(-1)), (std::vector<double>{3, 7}));
  EXPECT_EQ(m.diagonal().strides(), IntArrayRef({4}));
  EXPECT_THROW_MSG(m.diagonal(0, 1, 1), ValueError, "diagonal dimensions cannot be identical");

  Tensor x = arange(6);
  Tensor a = x.as_strided({2, 2}, {1, 2}, 1);
  EXPECT_EQ(values(a), (std::vector<double>{1, 3, 2, 4}));
  EXPECT_TRUE(a.shares_storage_with(x));
  EXPECT_THROW_MSG(x.as_strided({3, 3}, {3, 1}), IndexError, "require a storage of 9 elements, but it holds only 6");

  Tensor u = arange(7).unfold(0, 3, 2);
  EXPECT_EQ(u.shape(), IntArrayRef({3, 3}));
  EXPECT_EQ(u.strides(), IntArrayRef({2, 1}));
  EXPECT_EQ(values(u), (std::vector<double>{0, 1, 2, 2, 3, 4, 4, 5, 6}));
  EXPECT_THROW_MSG(arange(3).unfold(0, 4, 1), ShapeError, "maximum size for tensor at dimension 0 is 3 but size is 4");
}

TEST(Tensor, PermuteTransposeErrors) {
  Tensor y = zeros({2, 3, 4});
  EXPECT_THROW_MSG(y.permute({0, 1}), ShapeError, "number of dims don't match in permute");
  EXPECT_THROW_MSG(y.permute({0, 1, 1}), ShapeError, "repeated dim");
  EXPECT_THROW_MSG(y.transpose(0, 3), IndexError, "Dimension out of range");
  EXPECT_THROW_MSG(y.t(), ShapeError, "t() expects a tensor with <= 2 dimensions");
  EXPECT_EQ(y.mT().shape(), IntArrayRef({2, 4, 3}));
  EXPECT_THROW_MSG(zeros({3}).mT(), ShapeError, "only supported on matrices");
}

TEST(Tensor, Factories) {
  EXPECT_EQ(values(zeros({2, 2})), (std::vector<double>{0, 0, 0, 0}));
  EXPECT_EQ(values(ones({3}, int32)), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(ones({3}, int32).dtype(), int32);
  EXPECT_EQ(full({2}, 7).dtype(), int64);
  EXPECT_EQ(full({2}, 7.5).dtype(), float32);
  EXPECT_EQ(values(arange(1, 10, 3)), (std::vector<double>{1, 4, 7}));
  EXPECT_EQ(arange(5).dtype(), int64);
  EXPECT_EQ(arange(0.0, 1.0, 0.25).dtype(), float32);
  EXPECT_EQ(values(arange(0.0, 1.0, 0.25)), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(values(arange(5, 0, -2)), (std::vector<double>{5, 3, 1}));
  EXPECT_THROW_MSG(arange(0, 5, 0), ValueError, "step must be nonzero");
  EXPECT_THROW_MSG(arange(5, 0, 1), ValueError, "inconsistent with step sign");
  EXPECT_EQ(values(linspace(0, 1, 5)), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(values(linspace(2, 7, 1)), (std::vector<double>{2}));  // one step is start, as in PyTorch
  EXPECT_EQ(linspace(2, 7, 0).numel(), 0);
  EXPECT_EQ(values(eye(2, 3)), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  Tensor e = empty({4, 5}, float64);
  EXPECT_EQ(e.dtype(), float64);
  EXPECT_EQ(zeros_like(e).dtype(), float64);
  EXPECT_EQ(values(full_like(e, 2).slice(1, 0, 1)), (std::vector<double>{2, 2, 2, 2}));
  EXPECT_THROW_MSG(zeros({2, -1}), ValueError, "negative dimension -1");
  Tensor r = zeros({2}, TensorOptions(float64, kCPU, /*requires_grad=*/true));
  EXPECT_TRUE(r.requires_grad());
  EXPECT_TRUE(r.is_leaf());
}

TEST(Tensor, ScalarAndEmpty) {
  Tensor s = scalar_tensor(3.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item<double>(), 3.5);
  EXPECT_EQ(s.item().to_double(), 3.5);
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_EQ(e.contiguous().numel(), 0);
  EXPECT_EQ(e.T().shape(), IntArrayRef({3, 0}));
  EXPECT_THROW_MSG(zeros({2}).item<float>(), ValueError, "a Tensor with 2 elements cannot be converted to Scalar");
}

TEST(Tensor, ConversionsBetweenDtypes) {
  Tensor x = tensor({1.5, -2.25, 3.0});
  EXPECT_EQ(values(x.to(int32)), (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(values(x.to(bool_)), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(values(x.to(float16)), (std::vector<double>{1.5, -2.25, 3}));
  EXPECT_EQ(values(x.to(bfloat16)), (std::vector<double>{1.5, -2.25, 3}));
  EXPECT_TRUE(x.to(float32).is_same(x));
  EXPECT_FALSE(x.to(float32, /*copy=*/true).is_same(x));
  // Non-contiguous source converts through strides.
  Tensor m = arange(6).reshape({2, 3}).T();
  EXPECT_EQ(values(m.to(float64)), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(m.to(float64).strides(), IntArrayRef({2, 1}));
  // All dtype pairs round-trip small integers.
  const DType all[] = {bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64};
  Tensor small = tensor({0, 1, 0, 1});
  for (DType a : all)
    for (DType b : all) EXPECT_EQ(values(small.to(a).to(b)), (std::vector<double>{0, 1, 0, 1})) << a << " -> " << b;
}

TEST(Tensor, FloatToIntegerOutOfRangeIsDefined) {
  // C++ leaves these conversions undefined (UBSan reports them); ricci gives x86's answer, which is
  // what PyTorch's CPU kernels return (values taken from torch 2.x on x86-64).
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const Tensor v = from_vector(std::vector<double>{128, 300, -129, 255.9, -0.9, 1e10, -1e10, 3e19, nan, inf, -inf}, {11});
  EXPECT_EQ(v.to(int8).to_vector<int8_t>(), (std::vector<int8_t>{-128, 44, 127, -1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(v.to(uint8).to_vector<uint8_t>(), (std::vector<uint8_t>{128, 44, 127, 255, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(v.to(int16).to_vector<int16_t>(), (std::vector<int16_t>{128, 300, -129, 255, 0, 0, 0, 0, 0, 0, 0}));
  const int32_t m32 = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(v.to(int32).to_vector<int32_t>(), (std::vector<int32_t>{128, 300, -129, 255, 0, m32, m32, m32, m32, m32, m32}));
  const int64_t m64 = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(v.to(int64).to_vector<int64_t>(),
            (std::vector<int64_t>{128, 300, -129, 255, 0, 10000000000, -10000000000, m64, m64, m64, m64}));
  EXPECT_EQ(v.to(float32).to(int8).to_vector<int8_t>(), v.to(int8).to_vector<int8_t>());
  EXPECT_EQ(tensor({128.0, 300.0, -129.0, 60000.0}, float16).to(int8).to_vector<int8_t>(), (std::vector<int8_t>{-128, 44, 127, 96}));
}

TEST(Tensor, DataPtrChecksDtype) {
  Tensor x = zeros({2}, float64);
  EXPECT_NE(x.data_ptr<double>(), nullptr);
  EXPECT_THROW_MSG(x.data_ptr<float>(), DTypeError, "expected a tensor of dtype float32 but this one is float64");
  EXPECT_EQ(x.slice(0, 1).data_ptr<double>(), x.data_ptr<double>() + 1);
}

TEST(Tensor, CopyFillAndVersions) {
  Tensor x = zeros({2, 3});
  const uint32_t v0 = x.version();
  x.fill_(2.5);
  EXPECT_GT(x.version(), v0);
  EXPECT_EQ(values(x), (std::vector<double>(6, 2.5)));
  x.select(0, 1).fill_(1);
  EXPECT_EQ(values(x), (std::vector<double>{2.5, 2.5, 2.5, 1, 1, 1}));
  x.copy_(tensor({7, 8, 9}));  // broadcast, int64 -> float32
  EXPECT_EQ(values(x), (std::vector<double>{7, 8, 9, 7, 8, 9}));
  x.T().copy_(arange(6).reshape({3, 2}));
  EXPECT_EQ(values(x), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  x.zero_();
  EXPECT_EQ(values(x), (std::vector<double>(6, 0)));
  EXPECT_THROW(x.copy_(zeros({4})), ShapeError);
}

TEST(Tensor, TransposeCopyLarge) {
  // Exercises the cache-blocked transpose path (sizes not multiples of the block).
  Tensor x = arange(100 * 70, float32).reshape({100, 70});
  Tensor c = x.T().contiguous();
  auto v = values(c);
  for (int64_t i = 0; i < 70; ++i)
    for (int64_t j = 0; j < 100; ++j) ASSERT_EQ(v[i * 100 + j], static_cast<double>(j * 70 + i));
  Tensor y = arange(3 * 40 * 50, float64).reshape({3, 40, 50}).transpose(1, 2).contiguous();
  auto w = values(y);
  EXPECT_EQ(w[1 * 2000 + 7 * 40 + 5], static_cast<double>(1 * 2000 + 5 * 50 + 7));
}

TEST(Tensor, TransposeCopyEveryDtypeAndTileEdge) {
  // 300 x 170 crosses the 128-row blocks and leaves partial 16 x 16 register tiles; the sliced
  // source starts off any alignment; the batched permute runs the outer loop.
  for (DType t : {float32, int32, float64, bfloat16, int16, uint8}) {
    Tensor base = arange(302 * 171, float64).remainder(251).reshape({302, 171}).to(t);
    Tensor src = base.slice(0, 1, 301).slice(1, 1, 171);  // 300 x 170, strides (171, 1)
    Tensor c = src.t().contiguous();
    ASSERT_EQ(c.sizes(), (std::vector<int64_t>{170, 300}));
    const std::vector<double> v = ricci::testing::values(c), b = ricci::testing::values(base);
    for (int64_t i = 0; i < 170; ++i)
      for (int64_t j = 0; j < 300; ++j)
        ASSERT_EQ(v[static_cast<size_t>(i * 300 + j)], b[static_cast<size_t>((j + 1) * 171 + i + 1)]) << t << " " << i << "," << j;
  }
  Tensor x = arange(4 * 64 * 48, float32).reshape({4, 64, 48});
  Tensor y = x.permute({0, 2, 1}).contiguous();
  const std::vector<double> w = ricci::testing::values(y);
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t i = 0; i < 48; ++i)
      for (int64_t j = 0; j < 64; ++j)
        ASSERT_EQ(w[static_cast<size_t>((n * 48 + i) * 64 + j)], static_cast<double>((n * 64 + j) * 48 + i));
}

TEST(Tensor, FromVectorAndBlob) {
  std::vector<float> data{1, 2, 3, 4};
  Tensor t = from_vector(data, {2, 2});
  EXPECT_EQ(t.dtype(), float32);
  EXPECT_THROW_MSG(from_vector(data, {3}), ShapeError, "holds 3 elements but the vector has 4");
  float buf[4] = {1, 2, 3, 4};
  Tensor b = from_blob(buf, {2, 2}, {1, 2}, float32);
  EXPECT_EQ(values(b), (std::vector<double>{1, 3, 2, 4}));
  buf[0] = 9;
  EXPECT_EQ(values(b)[0], 9.0);
}

TEST(Tensor, DeviceErrors) {
  if (cuda::is_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_FALSE(cuda::is_available());
  EXPECT_THROW(zeros({2}).to(Device("cuda")), DeviceError);
  EXPECT_THROW(zeros({2}, TensorOptions(Device("cuda:0"))), DeviceError);
}

TEST(Tensor, DtypeNamesAndPromotion) {
  EXPECT_EQ(dtype_name(bfloat16), "bfloat16");
  EXPECT_EQ(dtype_from_name("bf16"), bfloat16);
  EXPECT_EQ(dtype_from_name("long"), int64);
  EXPECT_THROW_MSG(dtype_from_name("complex64"), ValueError, "unknown dtype name 'complex64'");
  EXPECT_EQ(element_size(float16), 2u);
  EXPECT_EQ(element_size(int64), 8u);
  EXPECT_TRUE(is_floating_point(bfloat16));
  EXPECT_FALSE(is_floating_point(int8));
  EXPECT_EQ(promote_types(float16, bfloat16), float32);
  EXPECT_EQ(promote_types(uint8, int8), int16);
  EXPECT_EQ(promote_types(uint8, int32), int32);
  EXPECT_EQ(promote_types(int64, float16), float16);
  EXPECT_EQ(promote_types(bool_, int8), int8);
  EXPECT_EQ(promote_types(float32, float64), float64);
  EXPECT_EQ(promote_types(int32, int64), int64);
}

TEST(Tensor, LessonMemoryFormula) {
  Tensor x = empty({1024, 4096}, bfloat16);
  EXPECT_EQ(static_cast<int64_t>(x.numel() * x.element_size()), 8388608);
  EXPECT_EQ(x.nbytes(), 8388608u);
}
