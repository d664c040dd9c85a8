// cat, stack, split, chunk, tril, triu, repeat, tile, flip, roll: values on contiguous,
// transposed, step-sliced and expanded inputs, dtypes, empty and 0-d, gradients, every error.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

// ---- cat ----------------------------------------------------------------------------------------------

TEST(Cat, ValuesAlongEachDim) {
  Tensor a = f64({{1, 2}, {3, 4}}), b = f64({{5, 6}});
  EXPECT_TENSOR_EQ(cat({a, b}, 0), f64({{1, 2}, {3, 4}, {5, 6}}));
  EXPECT_TENSOR_EQ(cat({a, a}, 1), f64({{1, 2, 1, 2}, {3, 4, 3, 4}}));
  EXPECT_TENSOR_EQ(cat({a, a}, -1), f64({{1, 2, 1, 2}, {3, 4, 3, 4}}));
  EXPECT_TENSOR_EQ(cat({a}, 0), a);
}

TEST(Cat, NonContiguousInputs) {
  Tensor a = seq({2, 3});              // [[0,1,2],[3,4,5]]
  Tensor t = a.t();                    // [[0,3],[1,4],[2,5]]
  Tensor s = seq({3, 4}).slice(1, 0, 4, 2);  // [[0,2],[4,6],[8,10]]
  Tensor e = f64({{7}}).expand({3, 2});
  EXPECT_TENSOR_EQ(cat({t, s, e}, 1), f64({{0, 3, 0, 2, 7, 7}, {1, 4, 4, 6, 7, 7}, {2, 5, 8, 10, 7, 7}}));
  EXPECT_TENSOR_EQ(cat({t, s}, 0), f64({{0, 3}, {1, 4}, {2, 5}, {0, 2}, {4, 6}, {8, 10}}));
}

TEST(Cat, PromotesDtypes) {
  Tensor a = tensor({1, 2}, int32), b = tensor({1.5f}, float32), c = tensor({true}, bool_);
  Tensor r = cat({a, b, c});
  EXPECT_EQ(r.dtype(), float32);
  EXPECT_TENSOR_EQ(r, tensor({1.f, 2.f, 1.5f, 1.f}));
  EXPECT_EQ(cat({tensor({1}, int64), tensor({2.0}, float16)}).dtype(), float16);
  EXPECT_EQ(cat({tensor({1}, uint8), tensor({2}, int8)}).dtype(), int16);
  EXPECT_TENSOR_EQ(cat({tensor({true}, bool_), tensor({false}, bool_)}), tensor({true, false}, bool_));
}

TEST(Cat, SkipsLegacyEmptyAndKeepsEmptyDims) {
  Tensor a = seq({2, 3});
  Tensor r = cat({zeros({0}, float64), a, zeros({0}, int64)}, 1);
  EXPECT_TENSOR_EQ(r, a);
  EXPECT_EQ(cat({zeros({0}), zeros({0})}).shape(), IntArrayRef({0}));
  Tensor e = zeros({2, 0}, float64);
  EXPECT_TENSOR_EQ(cat({e, a, e}, 1), a);
  EXPECT_EQ(cat({zeros({0, 3}), zeros({0, 3})}, 0).shape(), IntArrayRef({0, 3}));
}

TEST(Cat, Errors) {
  EXPECT_THROW_MSG(cat({}, 0), ValueError, "[cat] expected a non-empty list of Tensors");
  EXPECT_THROW_MSG(cat({zeros({2, 2}), zeros({3, 3})}, 1), ShapeError,
                   "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in the list.");
  EXPECT_THROW_MSG(cat({zeros({2, 2}), zeros({2})}, 0), ShapeError, "Tensors must have same number of dimensions: got 2 and 1");
  EXPECT_THROW_MSG(cat({scalar_tensor(1.0)}, 0), ShapeError, "zero-dimensional tensor (at position 0) cannot be concatenated");
  EXPECT_THROW_MSG(cat({zeros({2}), zeros({2})}, 2), IndexError, "Dimension out of range");
  EXPECT_THROW_MSG(cat({zeros({2}), Tensor()}, 0), ValueError, "tensor number 1 in the list is undefined");
}

TEST(Cat, Gradient) {
  Tensor a = leaf(seq({2, 3})), b = leaf(seq({2, 1})), c = leaf(seq({2, 2}).t());
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{cat({x[0], x[1], x[2]}, 1)}; }, {a, b, c}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{cat({x[0], x[0]}, 0)}; }, {a}));
  Tensor f = tensor({1.0, 2.0}, float32);
  f.requires_grad_(true);
  Tensor r = cat({f, tensor({3.0}, float64)});  // float32 input, float64 result
  r.sum().backward();
  EXPECT_EQ(f.grad().dtype(), float32);
  EXPECT_TENSOR_EQ(f.grad(), tensor({1.f, 1.f}));
  EXPECT_EQ(r.grad_fn()->name(), "CatBackward0");
}

// ---- stack ------------------------------------------------------------------------------------------

TEST(Stack, Values) {
  Tensor a = f64({1, 2}), b = f64({3, 4});
  EXPECT_TENSOR_EQ(stack({a, b}), f64({{1, 2}, {3, 4}}));
  EXPECT_TENSOR_EQ(stack({a, b}, 1), f64({{1, 3}, {2, 4}}));
  EXPECT_TENSOR_EQ(stack({a, b}, -1), f64({{1, 3}, {2, 4}}));
  EXPECT_TENSOR_EQ(stack({scalar_tensor(1.0, float64), scalar_tensor(2.0, float64)}), f64({1, 2}));
  EXPECT_EQ(stack({zeros({0}), zeros({0})}).shape(), IntArrayRef({2, 0}));
  EXPECT_TENSOR_EQ(stack({seq({2, 2}).t(), seq({2, 2})}), f64({{{0, 2}, {1, 3}}, {{0, 1}, {2, 3}}}));
}

TEST(Stack, ErrorsAndGradient) {
  EXPECT_THROW_MSG(stack({zeros({2, 3}), zeros({2, 4})}), ShapeError,
                   "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1");
  EXPECT_THROW_MSG(stack({}), ValueError, "[stack] expects a non-empty TensorList");
  EXPECT_THROW_MSG(stack({zeros({2})}, 3), IndexError, "Dimension out of range");
  Tensor a = leaf(seq({3})), b = leaf(seq({3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{stack({x[0], x[1]}, 1)}; }, {a, b}));
}

// ---- split / chunk ----------------------------------------------------------------------------------

TEST(Split, BySizeAndBySizes) {
  Tensor a = seq({5, 2});
  auto parts = split(a, 2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TENSOR_EQ(parts[0], f64({{0, 1}, {2, 3}}));
  EXPECT_TENSOR_EQ(parts[2], f64({{8, 9}}));
  EXPECT_TRUE(parts[1].shares_storage_with(a));
  auto cols = a.split(1, 1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_TENSOR_EQ(cols[1], f64({{1}, {3}, {5}, {7}, {9}}));
  auto sized = split(a, {1, 0, 4});
  ASSERT_EQ(sized.size(), 3u);
  EXPECT_EQ(sized[1].shape(), IntArrayRef({0, 2}));
  EXPECT_TENSOR_EQ(sized[2], seq({5, 2}).slice(0, 1));
  auto empty = split(zeros({0, 2}), 3);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].shape(), IntArrayRef({0, 2}));
}

TEST(Split, Chunk) {
  Tensor a = seq({5});
  auto c = a.chunk(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TENSOR_EQ(c[0], f64({0, 1, 2}));
  EXPECT_TENSOR_EQ(c[1], f64({3, 4}));
  EXPECT_EQ(chunk(a, 10).size(), 5u);  // chunks of 1: fewer than asked, like PyTorch
  EXPECT_EQ(chunk(seq({6}), 4).size(), 3u);
  EXPECT_EQ(chunk(zeros({0}), 3).size(), 3u);
  auto t = chunk(seq({2, 4}).t(), 2, 0);
  EXPECT_TENSOR_EQ(t[1], f64({{2, 6}, {3, 7}}));
}

TEST(Split, ErrorsAndGradient) {
  EXPECT_THROW_MSG(split(zeros({3}), -1), ValueError, "split expects split_size be non-negative, but got split_size=-1");
  EXPECT_THROW_MSG(split(zeros({3}), 0), ValueError, "split_size can only be 0 if dimension size is 0, but got dimension size of 3");
  EXPECT_THROW_MSG(split(zeros({3}), {1, 1}), ValueError,
                   "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 0), but got split_sizes=[1, 1]");
  EXPECT_THROW_MSG(chunk(zeros({3}), 0), ValueError, "chunk expects `chunks` to be greater than 0, got: 0");
  EXPECT_THROW_MSG(split(scalar_tensor(1.0), 1), ShapeError, "at least a 1-dimensional tensor");
  Tensor a = leaf(seq({5, 2}));
  EXPECT_TRUE(check([](const Tensors& x) {
    auto p = split(x[0], 2);
    return Tensors{p[0], p[2]};
  }, {a}));
}

// The pieces share one SplitBackward0 node whose backward concatenates their gradients (Note
// [Split's one backward node]): unused pieces get zeros, a transposed base and second derivatives
// work, and an in-place write through one piece rewrites the base's history for every piece.
TEST(Split, OneBackwardNode) {
  Tensor a = leaf(seq({6, 4}));
  auto p = split(a, {1, 2, 3}, 0);
  ASSERT_TRUE(p[0].grad_fn());
  EXPECT_EQ(p[0].grad_fn()->name(), "SplitBackward0");
  EXPECT_EQ(p[0].grad_fn(), p[2].grad_fn());
  EXPECT_EQ(p[0].grad_fn()->num_outputs(), 3u);
  // Only the first and last pieces used: the middle rows get zeros.
  (p[0] * 2).sum().backward();
  ((p[2] * p[2]).sum()).backward();
  Tensor want = zeros({6, 4}, float64);
  want.slice(0, 0, 1).fill_(2.0);
  want.slice(0, 3, 6).copy_(seq({6, 4}).slice(0, 3, 6) * 2);
  EXPECT_TENSOR_EQ(a.grad(), want);
  // Along an inner dim, contiguous gradients (joined block by block, not by cat).
  Tensor m = leaf(seq({3, 4}));
  auto cols = split(m, {1, 3}, 1);
  const Tensor wl = seq({3, 1}) + 1, wr = seq({3, 3}) - 4;
  const Tensor gm = autograd::grad({(cols[0] * wl).sum() + (cols[1] * wr).sum()}, {m})[0];
  EXPECT_TENSOR_EQ(gm, cat({wl, wr}, 1));
  // chunk of a transposed base, along the strided dim; gradients through every piece.
  Tensor b = leaf(seq({4, 6}));
  auto c = b.t().chunk(3, 0);  // three (2, 4) views with strides (1, 6)
  ASSERT_EQ(c.size(), 3u);
  (c[0] * 1 + c[1] * 2 + c[2] * 3).sum().backward();
  EXPECT_TENSOR_EQ(b.grad(), (arange(6, float64).div(2).floor() + 1).expand({4, 6}));
  EXPECT_TRUE(check([](const Tensors& x) {
    auto q = x[0].t().chunk(3, 0);
    return Tensors{q[0] * q[2], q[1]};
  }, {leaf(seq({4, 6}))}));
  // Second order: the backward (a cat) is differentiable.
  Tensor x = leaf(seq({4}) + 1);
  auto h = split(x, 2);
  const Tensor gx = autograd::grad({(h[0] * h[0] * h[0]).sum() + (h[1] * h[1]).sum()}, {x}, {}, true, true)[0];
  EXPECT_TENSOR_EQ(autograd::grad({gx.sum()}, {x})[0], f64({6, 12, 2, 2}));
  // In place through a piece: y = base, piece 0 doubled; the other pieces see the write.
  Tensor w = leaf(seq({3, 2}) + 1);
  Tensor base = w * 1;
  auto q = split(base, 1, 0);
  q[0].mul_(3);
  (base * base).sum().backward();
  Tensor wv = seq({3, 2}) + 1;
  Tensor expect = wv * 2;
  expect.slice(0, 0, 1).mul_(9);
  EXPECT_TENSOR_EQ(w.grad(), expect);
  Tensor w2 = leaf(seq({3, 2}) + 1);
  Tensor base2 = w2 * 1;
  auto q2 = split(base2, 1, 0);
  q2[1].add_(q2[0]);  // row 1 += row 0
  (q2[1] * 5 + q2[2]).sum().backward();
  EXPECT_TENSOR_EQ(w2.grad(), f64({{5, 5}, {5, 5}, {1, 1}}));
}

// ---- tril / triu ------------------------------------------------------------------------------------

TEST(Tri, Values) {
  Tensor a = seq({3, 4}) + 1;
  EXPECT_TENSOR_EQ(a.tril(), f64({{1, 0, 0, 0}, {5, 6, 0, 0}, {9, 10, 11, 0}}));
  EXPECT_TENSOR_EQ(a.triu(), f64({{1, 2, 3, 4}, {0, 6, 7, 8}, {0, 0, 11, 12}}));
  EXPECT_TENSOR_EQ(a.tril(1), f64({{1, 2, 0, 0}, {5, 6, 7, 0}, {9, 10, 11, 12}}));
  EXPECT_TENSOR_EQ(a.triu(-1), f64({{1, 2, 3, 4}, {5, 6, 7, 8}, {0, 10, 11, 12}}));
  EXPECT_TENSOR_EQ(a.tril(-5), zeros({3, 4}, float64));
  EXPECT_TENSOR_EQ(a.triu(-5), a);
  EXPECT_TENSOR_EQ(a.tril(10), a);
}

TEST(Tri, BatchedNonContiguousAndDtypes) {
  Tensor b = seq({2, 2, 2}, int64).transpose(1, 2);  // [[[0,2],[1,3]],[[4,6],[5,7]]]
  EXPECT_TENSOR_EQ(tril(b), i64({{{0, 0}, {1, 3}}, {{4, 0}, {5, 7}}}));
  EXPECT_TENSOR_EQ(triu(ones({2, 2}, bool_)), tensor({{true, true}, {false, true}}, bool_));
  EXPECT_TENSOR_EQ(tril(ones({2, 3}, float16)), tensor({{1, 0, 0}, {1, 1, 0}}, float16));
  Tensor s = seq({4, 4}).slice(0, 0, 4, 2);  // rows 0 and 2
  EXPECT_TENSOR_EQ(triu(s, 1), f64({{0, 1, 2, 3}, {0, 0, 10, 11}}));
  Tensor nanv = full({2, 2}, std::numeric_limits<double>::quiet_NaN(), float64);
  Tensor r = tril(nanv);
  EXPECT_TRUE(std::isnan(r.index({0, 0}).item<double>()));
  EXPECT_EQ(r.index({0, 1}).item<double>(), 0.0);
  EXPECT_EQ(tril(zeros({0, 3})).shape(), IntArrayRef({0, 3}));
}

TEST(Tri, ErrorsAndGradient) {
  EXPECT_THROW_MSG(tril(zeros({3})), ShapeError, "[tril] tril: input tensor must have at least 2 dimensions");
  EXPECT_THROW_MSG(triu(scalar_tensor(1.0)), ShapeError, "[triu] triu: input tensor must have at least 2 dimensions");
  Tensor a = leaf(seq({3, 3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].tril(-1), x[0].triu(1)}; }, {a}));
}

// ---- repeat / tile ----------------------------------------------------------------------------------

TEST(Repeat, Values) {
  Tensor a = f64({1, 2});
  EXPECT_TENSOR_EQ(a.repeat({3}), f64({1, 2, 1, 2, 1, 2}));
  EXPECT_TENSOR_EQ(a.repeat({2, 2}), f64({{1, 2, 1, 2}, {1, 2, 1, 2}}));
  Tensor m = seq({2, 2}).t();  // [[0,2],[1,3]]
  EXPECT_TENSOR_EQ(m.repeat({1, 2}), f64({{0, 2, 0, 2}, {1, 3, 1, 3}}));
  EXPECT_TENSOR_EQ(m.repeat({2, 1}), f64({{0, 2}, {1, 3}, {0, 2}, {1, 3}}));
  EXPECT_EQ(m.repeat({0, 2}).shape(), IntArrayRef({0, 4}));
  EXPECT_TENSOR_EQ(scalar_tensor(5, int64).repeat({2}), i64({5, 5}));
  EXPECT_TENSOR_EQ(scalar_tensor(5, int64).repeat({}), scalar_tensor(5, int64));
  EXPECT_TENSOR_EQ(tensor({true, false}, bool_).repeat({2}), tensor({true, false, true, false}, bool_));
  EXPECT_TENSOR_EQ(f64({7}).expand({3}).repeat({2}), f64({7, 7, 7, 7, 7, 7}));
}

TEST(Repeat, Tile) {
  Tensor m = seq({2, 2});
  EXPECT_TENSOR_EQ(m.tile({2}), f64({{0, 1, 0, 1}, {2, 3, 2, 3}}));
  EXPECT_TENSOR_EQ(tile(f64({1, 2}), {2, 1}), f64({{1, 2}, {1, 2}}));
}

TEST(Repeat, ErrorsAndGradient) {
  EXPECT_THROW_MSG(seq({2, 2}).repeat({2}), ShapeError,
                   "Number of dimensions of repeat dims (1) can not be smaller than number of dimensions of tensor (2)");
  EXPECT_THROW_MSG(seq({2}).repeat({-1}), ValueError, "Trying to create tensor with negative dimension -1");
  Tensor a = leaf(seq({2, 3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].repeat({2, 1, 3})}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].tile({2})}; }, {a}));
}

// ---- flip / roll ------------------------------------------------------------------------------------

TEST(Flip, Values) {
  Tensor a = seq({2, 3});
  EXPECT_TENSOR_EQ(a.flip({0}), f64({{3, 4, 5}, {0, 1, 2}}));
  EXPECT_TENSOR_EQ(a.flip({1}), f64({{2, 1, 0}, {5, 4, 3}}));
  EXPECT_TENSOR_EQ(a.flip({0, -1}), f64({{5, 4, 3}, {2, 1, 0}}));
  EXPECT_TENSOR_EQ(a.flip({}), a);
  EXPECT_TENSOR_EQ(a.t().flip({0}), f64({{2, 5}, {1, 4}, {0, 3}}));
  EXPECT_TENSOR_EQ(seq({6}, int32).slice(0, 0, 6, 2).flip({0}), tensor({4, 2, 0}, int32));
  EXPECT_TENSOR_EQ(tensor({1, 2}, float16).flip({0}), tensor({2, 1}, float16));
  EXPECT_TENSOR_EQ(scalar_tensor(3.0, float64).flip({0}), scalar_tensor(3.0, float64));
  EXPECT_EQ(zeros({0, 2}).flip({0}).shape(), IntArrayRef({0, 2}));
  Tensor big = seq({64, 64});
  EXPECT_EQ(big.flip({0, 1}).index({0, 0}).item<double>(), 4095.0);
}

TEST(Flip, ErrorsAndGradient) {
  EXPECT_THROW_MSG(seq({2, 2}).flip({0, -2}), ValueError, "dim 0 appears multiple times in the list of dims");
  EXPECT_THROW_MSG(seq({2}).flip({1}), IndexError, "Dimension out of range");
  Tensor a = leaf(seq({2, 3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].flip({0, 1})}; }, {a}));
}

TEST(Roll, Values) {
  Tensor a = seq({5});
  EXPECT_TENSOR_EQ(a.roll({2}, {0}), f64({3, 4, 0, 1, 2}));
  EXPECT_TENSOR_EQ(a.roll({-1}, {0}), f64({1, 2, 3, 4, 0}));
  EXPECT_TENSOR_EQ(a.roll({7}), f64({3, 4, 0, 1, 2}));
  Tensor m = seq({2, 3});
  EXPECT_TENSOR_EQ(m.roll({1}), f64({{5, 0, 1}, {2, 3, 4}}));
  EXPECT_TENSOR_EQ(m.roll({1, 1}, {0, 1}), f64({{5, 3, 4}, {2, 0, 1}}));
  EXPECT_TENSOR_EQ(m.t().roll({1}, {0}), f64({{2, 5}, {0, 3}, {1, 4}}));
  Tensor same = m.roll({3}, {1});
  EXPECT_TENSOR_EQ(same, m);
  EXPECT_FALSE(same.shares_storage_with(m));
  EXPECT_EQ(zeros({0}).roll({1}).shape(), IntArrayRef({0}));
}

TEST(Roll, ErrorsAndGradient) {
  EXPECT_THROW_MSG(seq({3}).roll({1, 2}, {0}), ValueError, "shifts and dimensions must align. shifts: 2, dims:1");
  EXPECT_THROW_MSG(seq({3}).roll({1, 2}), ValueError, "shifts must have exactly one value when dims is not given");
  Tensor a = leaf(seq({2, 3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].roll({1, -1}, {0, 1}), x[0].roll({4})}; }, {a}));
}
