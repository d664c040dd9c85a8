// Printing: the strings PyTorch's repr gives for the same tensors (dtype names without "torch.").
#include <cmath>
#include <limits>
#include <sstream>

#include "test_util.h"

namespace ricci {
namespace {

template <class T>
std::string streamed(const T& value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

TEST(Print, LessonExamples) {
  EXPECT_EQ(tensor({{1., 2., 3.}, {4., 5., 6.}}).str(), "tensor([[1., 2., 3.],\n        [4., 5., 6.]])");
  EXPECT_EQ(tensor({6., 15.}).str(), "tensor([ 6., 15.])");  // one width for all, right aligned
  EXPECT_EQ(tensor({5., 7., 9.}).str(), "tensor([5., 7., 9.])");
  EXPECT_EQ(scalar_tensor(21.).str(), "tensor(21.)");
  EXPECT_EQ(scalar_tensor(1260.).str(), "tensor(1260.)");
  EXPECT_EQ(streamed(tensor({1., 2.})), "tensor([1., 2.])");
}

TEST(Print, Integers) {
  EXPECT_EQ(arange(3).str(), "tensor([0, 1, 2])");
  EXPECT_EQ(tensor({-1, 10}).str(), "tensor([-1, 10])");
  EXPECT_EQ(tensor({{1, 2}, {30, 4}}).str(), "tensor([[ 1,  2],\n        [30,  4]])");
  EXPECT_EQ(scalar_tensor(5).str(), "tensor(5)");
  EXPECT_EQ(tensor({1, 2}, int32).str(), "tensor([1, 2], dtype=int32)");
  EXPECT_EQ(tensor({255, 0}, uint8).str(), "tensor([255,   0], dtype=uint8)");
  EXPECT_EQ(tensor({std::numeric_limits<int64_t>::max()}).str(), "tensor([9223372036854775807])");
}

TEST(Print, Bools) {
  EXPECT_EQ(tensor({true, false}).str(), "tensor([ True, False])");
  EXPECT_EQ(tensor({true, true}).str(), "tensor([True, True])");
  EXPECT_EQ(scalar_tensor(true).str(), "tensor(True)");
}

TEST(Print, FixedPointWithFourDecimals) {
  EXPECT_EQ(tensor({0.1, 2.5}).str(), "tensor([0.1000, 2.5000])");
  EXPECT_EQ(tensor({-1.5, 2.25}).str(), "tensor([-1.5000,  2.2500])");
  EXPECT_EQ(tensor({0.0, 0.5}).str(), "tensor([0.0000, 0.5000])");
  EXPECT_EQ(scalar_tensor(0.5).str(), "tensor(0.5000)");
  EXPECT_EQ(tensor({{0.12345, 10.5}, {3.0, -0.25}}).str(),
            "tensor([[ 0.1235, 10.5000],\n        [ 3.0000, -0.2500]])");
}

TEST(Print, ScientificNotation) {
  EXPECT_EQ(tensor({1e-5, 1e5}).str(), "tensor([1.0000e-05, 1.0000e+05])");
  EXPECT_EQ(tensor({0.00001, 0.5}).str(), "tensor([1.0000e-05, 5.0000e-01])");  // tiny fractions
  EXPECT_EQ(tensor({1., 1e9}).str(), "tensor([1.0000e+00, 1.0000e+09])");       // integers, wide range
  EXPECT_EQ(tensor({1., 2000.}).str(), "tensor([1.0000e+00, 2.0000e+03])");
  EXPECT_EQ(tensor({1., 1000.}).str(), "tensor([   1., 1000.])");                // ratio 1000 is not > 1000
  EXPECT_EQ(scalar_tensor(1e-5).str(), "tensor(1.0000e-05)");
  EXPECT_EQ(tensor({-1e10, 1.}, float64).str(), "tensor([-1.0000e+10,  1.0000e+00], dtype=float64)");
}

TEST(Print, NanAndInf) {
  EXPECT_EQ(tensor({kNaN, kInf, -kInf, 1.}).str(), "tensor([nan, inf, -inf, 1.])");
  EXPECT_EQ(tensor({kNaN, 1.5}).str(), "tensor([   nan, 1.5000])");
  EXPECT_EQ(tensor({kNaN, kNaN}).str(), "tensor([nan, nan])");
  EXPECT_EQ(scalar_tensor(-kInf).str(), "tensor(-inf)");
  EXPECT_EQ(tensor({-kNaN}).str(), "tensor([nan])");  // NaN prints without a sign
  EXPECT_EQ(tensor({1e-5, kInf}).str(), "tensor([1.0000e-05,        inf])");
}

TEST(Print, Empty) {
  EXPECT_EQ(zeros({0}).str(), "tensor([])");
  EXPECT_EQ(zeros({0, 3}).str(), "tensor([], size=(0, 3))");
  EXPECT_EQ(zeros({0}, int64).str(), "tensor([], dtype=int64)");
  EXPECT_EQ(zeros({2, 0, 3}, float64).str(), "tensor([], size=(2, 0, 3), dtype=float64)");
}

TEST(Print, HigherRank) {
  EXPECT_EQ(arange(8).reshape({2, 2, 2}).str(),
            "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])");
  EXPECT_EQ(zeros({1, 1, 1, 1}).str(), "tensor([[[[0.]]]])");
}

TEST(Print, NonContiguous) {
  const Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(a.t().str(), "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])");
  EXPECT_EQ(a.slice(1, 0, std::nullopt, 2).str(), "tensor([[1, 3],\n        [4, 6]])");
  EXPECT_EQ(tensor({1.5, 2.5}).expand({2, 2}).str(), "tensor([[1.5000, 2.5000],\n        [1.5000, 2.5000]])");
}

TEST(Print, ReducedFloatsPrintTheirValues) {
  EXPECT_EQ(tensor({0.5, 1.}, float16).str(), "tensor([0.5000, 1.0000], dtype=float16)");
  EXPECT_EQ(tensor({1., 2.}, bfloat16).str(), "tensor([1., 2.], dtype=bfloat16)");
  EXPECT_EQ(tensor({0.1}, float16).str(), "tensor([0.1000], dtype=float16)");  // 0.0999755859375
}

TEST(Print, LineWrapping) {
  EXPECT_EQ(arange(30.0).str(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
            "        28., 29.])");
  // Nested rows wrap one column further in.
  EXPECT_EQ(arange(40).reshape({2, 20}).str(),
            "tensor([[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
            "         18, 19],\n"
            "        [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,\n"
            "         38, 39]])");
}

TEST(Print, Summarised) {
  EXPECT_EQ(arange(2000).str(), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  EXPECT_EQ(arange(2000).reshape({40, 50}).str(),
            "tensor([[   0,    1,    2,  ...,   47,   48,   49],\n"
            "        [  50,   51,   52,  ...,   97,   98,   99],\n"
            "        [ 100,  101,  102,  ...,  147,  148,  149],\n"
            "        ...,\n"
            "        [1850, 1851, 1852,  ..., 1897, 1898, 1899],\n"
            "        [1900, 1901, 1902,  ..., 1947, 1948, 1949],\n"
            "        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])");
  // The formatter only sees the shown elements: the hidden 0.5 does not force decimals.
  Tensor x = ones({1001});
  x[500].fill_(0.5);
  EXPECT_EQ(x.str(), "tensor([1., 1., 1.,  ..., 1., 1., 1.])");
  EXPECT_EQ(arange(1000).str().find("..."), std::string::npos);  // 1000 is not > threshold
}

TEST(Print, SuffixesForGradients) {
  Tensor a = tensor({1., 2.});
  a.requires_grad_();
  EXPECT_EQ(a.str(), "tensor([1., 2.], requires_grad=True)");
  const Tensor b = a.clone();
  ASSERT_TRUE(b.grad_fn());
  EXPECT_EQ(b.str(), "tensor([1., 2.], grad_fn=<" + b.grad_fn()->name() + ">)");
  EXPECT_EQ(a.detach().str(), "tensor([1., 2.])");
  Tensor w = zeros({2}, float64);
  w.requires_grad_();
  EXPECT_EQ(w.str(), "tensor([0., 0.], dtype=float64, requires_grad=True)");
}

TEST(Print, SuffixWrapsPastEightyColumns) {
  // The line is 77 characters long, so ", dtype=float64" goes to the next line.
  EXPECT_EQ(arange(14, float64).str(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n"
            "       dtype=float64)");
}

TEST(Print, Cuda) {
  if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  EXPECT_EQ(tensor({1., 2.}).cuda().str(), "tensor([1., 2.], device='cuda:0')");
  EXPECT_EQ(tensor({1, 2}, int32).cuda().str(), "tensor([1, 2], device='cuda:0', dtype=int32)");
}

TEST(Print, IntArrayRefAndDims) {
  EXPECT_EQ(streamed(IntArrayRef({2, 3})), "[2, 3]");
  EXPECT_EQ(streamed(IntArrayRef()), "[]");
  EXPECT_EQ(streamed(Dims{4}), "[4]");
}

TEST(Print, ScalarsLikePython) {
  EXPECT_EQ(streamed(Scalar(3)), "3");
  EXPECT_EQ(streamed(Scalar(-7L)), "-7");
  EXPECT_EQ(streamed(Scalar(true)), "True");
  EXPECT_EQ(streamed(Scalar(false)), "False");
  EXPECT_EQ(streamed(Scalar(2.5)), "2.5");
  EXPECT_EQ(streamed(Scalar(1.0)), "1.0");
  EXPECT_EQ(streamed(Scalar(-0.0)), "-0.0");
  EXPECT_EQ(streamed(Scalar(0.1)), "0.1");
  EXPECT_EQ(streamed(Scalar(0.1f)), "0.10000000149011612");
  EXPECT_EQ(streamed(Scalar(1e-5)), "1e-05");
  EXPECT_EQ(streamed(Scalar(0.0001)), "0.0001");
  EXPECT_EQ(streamed(Scalar(123456.0)), "123456.0");
  EXPECT_EQ(streamed(Scalar(1e16)), "1e+16");
  EXPECT_EQ(streamed(Scalar(1234567890123456.0)), "1234567890123456.0");
  EXPECT_EQ(streamed(Scalar(kNaN)), "nan");
  EXPECT_EQ(streamed(Scalar(-kInf)), "-inf");
}

}  // namespace
}  // namespace ricci
