// Shape-op edge cases the main suite leaves out: dims out of range and negative, 0-d and empty
// inputs, integer and bool dtypes, strided sources, and the error of every op.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

TEST(ShapeEdgeCat, DimsDtypesAndErrors) {
  Tensor a = seq({2, 2}), b = tensor({{7, 8}}, int32);
  Tensor c = cat({a, b}, -2);
  EXPECT_EQ(c.dtype(), float64);
  EXPECT_TENSOR_EQ(c, f64({{0, 1}, {2, 3}, {7, 8}}));
  EXPECT_TENSOR_EQ(cat({tensor({true}), tensor({false})}, 0), tensor({true, false}));
  EXPECT_TENSOR_EQ(cat({a.t(), a.slice(1, 0, 2, 2)}, 1), f64({{0, 2, 0}, {1, 3, 2}}));
  EXPECT_THROW_MSG(cat({a, b}, 2), IndexError, "[cat] Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_MSG(cat({}, 0), ValueError, "[cat] expected a non-empty list of Tensors");
  EXPECT_THROW_MSG(cat({a, Tensor()}, 0), ValueError, "[cat] tensor number 1 in the list is undefined");
  EXPECT_THROW_MSG(cat({a, scalar_tensor(1.0)}, 0), ShapeError, "[cat] zero-dimensional tensor (at position 1) cannot be concatenated");
  EXPECT_THROW_MSG(cat({a, seq({2, 3})}, 0), ShapeError, "[cat] Sizes of tensors must match except in dimension 0. Expected size 2 but got size 3 for tensor number 1");
  EXPECT_THROW_MSG(cat({a, seq({4})}, 0), ShapeError, "[cat] Tensors must have same number of dimensions: got 2 and 1");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{cat({v[0], v[1].t()}, 1)}; }, {leaf(seq({2, 1})), leaf(seq({3, 2}))}));
}

TEST(ShapeEdgeStack, NegativeDimsAndErrors) {
  Tensor a = f64({1, 2}), b = f64({3, 4});
  EXPECT_TENSOR_EQ(stack({a, b}, -1), f64({{1, 3}, {2, 4}}));
  EXPECT_TENSOR_EQ(stack({scalar_tensor(1.0, float64), scalar_tensor(2.0, float64)}, 0), f64({1, 2}));
  EXPECT_THROW_MSG(stack({a, b}, 2), IndexError, "[stack] Dimension out of range (expected to be in range of [-2, 1], but got 2)");
  EXPECT_THROW_MSG(stack({a, f64({1, 2, 3})}, 0), ShapeError, "[stack] stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1");
  EXPECT_THROW_MSG(stack({}, 0), ValueError, "[stack] expects a non-empty TensorList");
}

TEST(ShapeEdgeSplit, SizesChunksAndErrors) {
  Tensor a = seq({5, 2});
  auto parts = split(a, 2, 0);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TENSOR_EQ(parts[2], f64({{8, 9}}));
  auto by = split(a.t(), IntArrayRef({0, 4, 1}), -1);
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by[0].shape(), IntArrayRef({2, 0}));
  EXPECT_TENSOR_EQ(by[2], f64({{8}, {9}}));
  auto ch = chunk(seq({5}), 3);
  ASSERT_EQ(ch.size(), 3u);  // sizes 2, 2, 1
  EXPECT_TENSOR_EQ(ch[2], f64({4}));
  EXPECT_EQ(chunk(seq({2}), 4).size(), 2u);  // fewer chunks than asked when the dim is short (PyTorch)
  EXPECT_THROW_MSG(split(a, -1, 0), ValueError, "[split] split expects split_size be non-negative, but got split_size=-1");
  EXPECT_THROW_MSG(split(a, 0, 0), ValueError, "[split] split_size can only be 0 if dimension size is 0");
  EXPECT_THROW_MSG(split(a, IntArrayRef({2, 2}), 0), ValueError, "[split] split_with_sizes expects split_sizes to sum exactly to 5");
  EXPECT_THROW_MSG(split(scalar_tensor(1.0), 1, 0), ShapeError, "[split] split expects at least a 1-dimensional tensor");
  EXPECT_THROW_MSG(chunk(a, 0, 0), ValueError, "[chunk] chunk expects `chunks` to be greater than 0, got: 0");
  EXPECT_THROW_MSG(chunk(a, 2, 2), IndexError, "[chunk] Dimension out of range");
}

TEST(ShapeEdgeTri, DiagonalsOutsideTheMatrixAndErrors) {
  Tensor a = seq({2, 3}) + 1;
  EXPECT_TENSOR_EQ(tril(a, -5), zeros({2, 3}, float64));
  EXPECT_TENSOR_EQ(triu(a, 5), zeros({2, 3}, float64));
  EXPECT_TENSOR_EQ(tril(a, 5), a);
  EXPECT_TENSOR_EQ(triu(a.t(), -1), f64({{1, 4}, {2, 5}, {0, 6}}));
  EXPECT_TENSOR_EQ(tril(tensor({{true, true}, {true, true}})), tensor({{true, false}, {true, true}}));
  EXPECT_EQ(triu(empty({0, 3}, float64)).shape(), IntArrayRef({0, 3}));
  EXPECT_THROW_MSG(tril(seq({3})), ShapeError, "[tril] tril: input tensor must have at least 2 dimensions, got shape [3]");
  EXPECT_THROW_MSG(triu(scalar_tensor(1.0)), ShapeError, "[triu] triu: input tensor must have at least 2 dimensions");
}

TEST(ShapeEdgeRepeat, ZeroRepeatsZeroDimAndErrors) {
  EXPECT_EQ(repeat(seq({2, 3}), {0, 2}).shape(), IntArrayRef({0, 6}));
  EXPECT_TENSOR_EQ(repeat(scalar_tensor(2.0, float64), {3}), f64({2, 2, 2}));
  EXPECT_TENSOR_EQ(repeat(scalar_tensor(2.0, float64), {}), scalar_tensor(2.0, float64));
  EXPECT_TENSOR_EQ(tile(i64({1, 2}), {2}), i64({1, 2, 1, 2}));
  EXPECT_TENSOR_EQ(tile(seq({2, 2}).t(), {2}), f64({{0, 2, 0, 2}, {1, 3, 1, 3}}));
  EXPECT_THROW_MSG(repeat(seq({2, 3}), {2}), ShapeError, "[repeat] Number of dimensions of repeat dims (1) can not be smaller than number of dimensions of tensor (2)");
  EXPECT_THROW_MSG(repeat(seq({2}), {-1}), ValueError, "[repeat] Trying to create tensor with negative dimension -1");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{tile(v[0], {2, 1, 2})}; }, {leaf(seq({2, 3}))}));
}

TEST(ShapeEdgeFlipRoll, NegativeDimsZeroDimEmptyAndErrors) {
  Tensor a = seq({2, 3});
  EXPECT_TENSOR_EQ(flip(a, {-1, 0}), f64({{5, 4, 3}, {2, 1, 0}}));
  EXPECT_TENSOR_EQ(flip(a, {}), a);
  EXPECT_TENSOR_EQ(flip(scalar_tensor(1.0, float64), {0}), scalar_tensor(1.0, float64));
  EXPECT_EQ(flip(empty({0, 2}, float64), {0}).shape(), IntArrayRef({0, 2}));
  EXPECT_TENSOR_EQ(roll(a, {-1}, {1}), f64({{1, 2, 0}, {4, 5, 3}}));
  EXPECT_TENSOR_EQ(roll(a, {7}, {1}), f64({{2, 0, 1}, {5, 3, 4}}));  // 7 mod 3 = 1
  EXPECT_TENSOR_EQ(roll(a, {1, 1}, {0, 1}), f64({{5, 3, 4}, {2, 0, 1}}));
  EXPECT_TENSOR_EQ(roll(a.t(), {1}, {}), f64({{5, 0}, {3, 1}, {4, 2}}));  // flattened roll
  EXPECT_THROW_MSG(flip(a, {0, -2}), ValueError, "[flip] dim 0 appears multiple times in the list of dims");
  EXPECT_THROW_MSG(flip(a, {2}), IndexError, "[flip] Dimension out of range");
  EXPECT_THROW_MSG(roll(a, {1, 2}, {0}), ValueError, "[roll] shifts and dimensions must align. shifts: 2, dims:1");
  EXPECT_THROW_MSG(roll(a, {1, 2}, {}), ValueError, "[roll] shifts must have exactly one value when dims is not given");
  EXPECT_THROW_MSG(roll(a, {1}, {3}), IndexError, "[roll] Dimension out of range");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{roll(v[0].t(), {-2}, {0})}; }, {leaf(seq({2, 3}))}));
}
