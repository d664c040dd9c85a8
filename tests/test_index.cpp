// index_select, gather, scatter, scatter_add, index_add, take_along_dim, one_hot, sort, argsort,
// topk, and NumPy-style index / index_put_: values on contiguous and strided inputs, dtypes,
// empty, NaN, gradients, and every error (indices are always bounds-checked).
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

// ---- index_select -----------------------------------------------------------------------------------

TEST(IndexSelect, Values) {
  Tensor a = seq({3, 4});
  EXPECT_TENSOR_EQ(a.index_select(0, i64({2, 0, 2})), f64({{8, 9, 10, 11}, {0, 1, 2, 3}, {8, 9, 10, 11}}));
  EXPECT_TENSOR_EQ(a.index_select(1, tensor({3, 1}, int32)), f64({{3, 1}, {7, 5}, {11, 9}}));
  EXPECT_TENSOR_EQ(a.t().index_select(0, i64({1})), f64({{1, 5, 9}}));
  EXPECT_TENSOR_EQ(a.slice(1, 0, 4, 2).index_select(-1, i64({1})), f64({{2}, {6}, {10}}));
  EXPECT_TENSOR_EQ(a.index_select(0, scalar_tensor(1, int64)), f64({{4, 5, 6, 7}}));
  EXPECT_EQ(a.index_select(0, zeros({0}, int64)).shape(), IntArrayRef({0, 4}));
  EXPECT_TENSOR_EQ(tensor({true, false}, bool_).index_select(0, i64({1, 1, 0})), tensor({false, false, true}, bool_));
  EXPECT_TENSOR_EQ(tensor({1, 2}, float16).index_select(0, i64({1})), tensor({2}, float16));
  EXPECT_TENSOR_EQ(scalar_tensor(4.0, float64).index_select(0, i64({0})), scalar_tensor(4.0, float64));
}

TEST(IndexSelect, ErrorsAndGradient) {
  EXPECT_THROW_MSG(seq({3}).index_select(0, i64({5})), IndexError, "index 5 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(seq({3}).index_select(0, i64({-1})), IndexError, "index -1 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(seq({3}).index_select(0, i64({{0}})), ShapeError, "Index is supposed to be a vector");
  EXPECT_THROW_MSG(seq({3}).index_select(0, f64({0})), DTypeError, "Expected dtype int32 or int64 for index, got float64");
  EXPECT_THROW_MSG(seq({3}).index_select(1, i64({0})), IndexError, "Dimension out of range");
  Tensor a = leaf(seq({3, 2}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].index_select(0, i64({2, 0, 2}))}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].index_select(1, i64({1}))}; }, {a}));
}

// ---- gather / take_along_dim ------------------------------------------------------------------------

TEST(Gather, Values) {
  Tensor a = f64({{1, 2}, {3, 4}});
  EXPECT_TENSOR_EQ(a.gather(1, i64({{0, 0}, {1, 0}})), f64({{1, 1}, {4, 3}}));
  EXPECT_TENSOR_EQ(a.gather(0, i64({{1, 0}})), f64({{3, 2}}));
  EXPECT_TENSOR_EQ(a.t().gather(1, i64({{1}, {0}})), f64({{3}, {2}}));
  EXPECT_TENSOR_EQ(seq({2, 3}, int32).gather(1, i64({{2}, {0}})), tensor({{2}, {3}}, int32));
  EXPECT_EQ(a.gather(1, zeros({2, 0}, int64)).shape(), IntArrayRef({2, 0}));
  EXPECT_TENSOR_EQ(a.gather(1, i64({{1}}).expand({2, 3})), f64({{2, 2, 2}, {4, 4, 4}}));
}

TEST(Gather, TakeAlongDim) {
  Tensor a = f64({{10, 30, 20}, {60, 40, 50}});
  Tensor idx = argsort(a, 1);
  EXPECT_TENSOR_EQ(take_along_dim(a, idx, 1), f64({{10, 20, 30}, {40, 50, 60}}));
  EXPECT_TENSOR_EQ(take_along_dim(a, i64({{0}}), 1), f64({{10}, {60}}));  // broadcast indices
  EXPECT_TENSOR_EQ(take_along_dim(a, i64({5, 0})), f64({50, 10}));
  EXPECT_THROW_MSG(take_along_dim(a, i64({0}), 1), ShapeError, "input and indices should have the same number of dimensions");
}

TEST(Gather, ErrorsAndGradient) {
  Tensor a = seq({2, 3});
  EXPECT_THROW_MSG(a.gather(1, i64({{3}})), IndexError, "index 3 is out of bounds for dimension 1 with size 3");
  EXPECT_THROW_MSG(a.gather(1, i64({{-1}})), IndexError, "index -1 is out of bounds for dimension 1 with size 3");
  EXPECT_THROW_MSG(a.gather(1, tensor({{0}}, int32)), DTypeError, "Expected dtype int64 for index, got int32");
  EXPECT_THROW_MSG(a.gather(1, i64({0})), ShapeError, "Index tensor must have the same number of dimensions as input tensor");
  EXPECT_THROW_MSG(a.gather(1, i64({{0}, {0}, {0}})), ShapeError, "Size does not match at dimension 0");
  Tensor x = leaf(seq({2, 3}));
  EXPECT_TRUE(check([](const Tensors& t) { return Tensors{t[0].gather(1, i64({{0, 0, 2}, {1, 1, 1}}))}; }, {x}));
}

// ---- scatter / scatter_add / index_add --------------------------------------------------------------

TEST(Scatter, Values) {
  Tensor z = zeros({2, 3}, float64);
  EXPECT_TENSOR_EQ(z.scatter(1, i64({{2}, {0}}), f64({{5}, {6}})), f64({{0, 0, 5}, {6, 0, 0}}));
  EXPECT_TENSOR_EQ(z.scatter(0, i64({{1, 0, 1}}), seq({2, 3}).t().t()), f64({{0, 1, 0}, {0, 0, 2}}));
  EXPECT_TENSOR_EQ(z.scatter(1, i64({{1}, {2}}), Scalar(7.0)), f64({{0, 7, 0}, {0, 0, 7}}));
  EXPECT_TENSOR_EQ(zeros({3}, int64).scatter(0, i64({2, 2}), i64({4, 4})), i64({0, 0, 4}));
  Tensor y = zeros({4}, float32);
  scatter_(y, 0, i64({3}), tensor({1.5f}));
  EXPECT_TENSOR_EQ(y, tensor({0.f, 0.f, 0.f, 1.5f}));
  scatter_(y, 0, i64({0}), Scalar(2));
  EXPECT_TENSOR_EQ(y, tensor({2.f, 0.f, 0.f, 1.5f}));
  EXPECT_TENSOR_EQ(z.scatter(1, zeros({2, 0}, int64), Scalar(1.0)), z);
}

TEST(Scatter, AddAccumulatesDuplicates) {
  Tensor z = zeros({2, 3}, float64);
  EXPECT_TENSOR_EQ(z.scatter_add(1, i64({{0, 0, 2}, {1, 1, 1}}), f64({{1, 2, 3}, {4, 5, 6}})), f64({{3, 0, 3}, {0, 15, 0}}));
  Tensor s = ones({3}, int32);
  scatter_add_(s, 0, i64({1, 1}), tensor({5, 5}, int32));
  EXPECT_TENSOR_EQ(s, tensor({1, 11, 1}, int32));
}

TEST(Scatter, IndexAdd) {
  Tensor z = zeros({3, 2}, float64);
  Tensor r = index_add(z, 0, i64({2, 0, 2}), f64({{1, 2}, {3, 4}, {5, 6}}));
  EXPECT_TENSOR_EQ(r, f64({{3, 4}, {0, 0}, {6, 8}}));
  EXPECT_TENSOR_EQ(index_add(z, 1, tensor({1}, int32), ones({3, 1}, float64), 2.5), f64({{0, 2.5}, {0, 2.5}, {0, 2.5}}));
  Tensor w = zeros({4}, float32);
  w.index_add_(0, i64({1, 1, 3}), tensor({1.f, 2.f, 3.f}));
  EXPECT_TENSOR_EQ(w, tensor({0.f, 3.f, 0.f, 3.f}));
  EXPECT_TENSOR_EQ(index_add(z, 0, zeros({0}, int64), zeros({0, 2}, float64)), z);
}

TEST(Scatter, Errors) {
  Tensor z = zeros({2, 3}, float64);
  EXPECT_THROW_MSG(z.scatter(1, i64({{3}}), Scalar(1.0)), IndexError, "index 3 is out of bounds for dimension 1 with size 3");
  EXPECT_THROW_MSG(z.scatter(1, i64({{0}}), f64({{1}}).to(float32)), DTypeError, "Expected self.dtype to be equal to src.dtype");
  EXPECT_THROW_MSG(z.scatter(1, i64({{0, 1}}), f64({{1}})), ShapeError, "to be smaller than src");
  EXPECT_THROW_MSG(z.scatter(1, tensor({{0}}, int32), Scalar(1.0)), DTypeError, "Expected dtype int64 for index");
  EXPECT_THROW_MSG(index_add(z, 0, i64({5}), zeros({1, 3}, float64)), IndexError, "index 5 is out of bounds for dimension 0 with size 2");
  EXPECT_THROW_MSG(index_add(z, 0, i64({0, 1}), zeros({1, 3}, float64)), ShapeError, "Number of indices (2) should be equal to source.size(dim) (1)");
  EXPECT_THROW_MSG(index_add(z, 0, i64({0}), zeros({1, 2}, float64)), ShapeError, "must match in every dimension except 0");
  Tensor leafy = zeros({3}, float64);
  leafy.requires_grad_(true);
  EXPECT_THROW_MSG(leafy.index_add_(0, i64({0}), f64({1})), AutogradError, "a leaf Variable that requires grad");
}

TEST(Scatter, Gradients) {
  Tensor self = leaf(seq({2, 3})), src = leaf(seq({2, 3}) * 0.5);
  const Tensor idx = i64({{0, 2, 1}, {2, 2, 2}});
  EXPECT_TRUE(check([idx](const Tensors& x) { return Tensors{x[0].scatter_add(1, idx, x[1])}; }, {self, src}));
  const Tensor perm = i64({{2, 0, 1}, {1, 2, 0}});
  EXPECT_TRUE(check([perm](const Tensors& x) { return Tensors{x[0].scatter(1, perm, x[1])}; }, {self, src}));
  EXPECT_TRUE(check([perm](const Tensors& x) { return Tensors{x[0].scatter(1, perm.slice(1, 0, 1), Scalar(3.0))}; }, {self}));
  Tensor s3 = leaf(seq({3, 3}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{index_add(x[0], 0, i64({1, 1, 0}), x[1], 2.0)}; }, {s3, leaf(seq({3, 3}))}));
}

TEST(OneHot, ValuesAndErrors) {
  EXPECT_TENSOR_EQ(one_hot(i64({0, 2})), i64({{1, 0, 0}, {0, 0, 1}}));
  EXPECT_TENSOR_EQ(one_hot(i64({1}), 4), i64({{0, 1, 0, 0}}));
  EXPECT_EQ(one_hot(i64({{0, 1}, {1, 0}})).shape(), IntArrayRef({2, 2, 2}));
  EXPECT_EQ(one_hot(zeros({0}, int64), 3).shape(), IntArrayRef({0, 3}));
  EXPECT_THROW_MSG(one_hot(zeros({0}, int64)), ValueError, "Can not infer total number of classes from empty tensor");
  EXPECT_THROW_MSG(one_hot(i64({-1})), ValueError, "Class values must be non-negative");
  EXPECT_THROW_MSG(one_hot(i64({3}), 3), ValueError, "Class values must be smaller than num_classes");
  EXPECT_THROW_MSG(one_hot(f64({1})), DTypeError, "one_hot is only applicable to index tensor");
}

// ---- sort / argsort / topk --------------------------------------------------------------------------

TEST(Sort, ValuesIndicesAndStability) {
  auto [v, i] = sort(f64({3, 1, 2, 1}));
  EXPECT_TENSOR_EQ(v, f64({1, 1, 2, 3}));
  EXPECT_TENSOR_EQ(i, i64({1, 3, 2, 0}));  // equal keys keep their order
  auto [vd, id] = sort(f64({3, 1, 2, 1}), -1, /*descending=*/true);
  EXPECT_TENSOR_EQ(vd, f64({3, 2, 1, 1}));
  EXPECT_TENSOR_EQ(id, i64({0, 2, 1, 3}));
  auto [v0, i0] = f64({{3, 0}, {1, 5}, {2, 4}}).sort(0);
  EXPECT_TENSOR_EQ(v0, f64({{1, 0}, {2, 4}, {3, 5}}));
  EXPECT_TENSOR_EQ(i0, i64({{1, 0}, {2, 2}, {0, 1}}));
  auto [vt, it] = f64({{3, 0}, {1, 5}, {2, 4}}).t().sort(1);
  EXPECT_TENSOR_EQ(vt, f64({{1, 2, 3}, {0, 4, 5}}));
  EXPECT_TENSOR_EQ(it, i64({{1, 2, 0}, {0, 2, 1}}));
}

TEST(Sort, NaNDtypesAndEmpty) {
  auto [v, i] = sort(f64({2, kNaN, -INFINITY, 1}));
  EXPECT_TENSOR_EQ(v, f64({-INFINITY, 1, 2, kNaN}));
  EXPECT_TENSOR_EQ(i, i64({2, 3, 0, 1}));
  auto [vd, idd] = sort(f64({2, kNaN, 1}), 0, true);
  EXPECT_TENSOR_EQ(vd, f64({kNaN, 2, 1}));
  EXPECT_TENSOR_EQ(std::get<0>(sort(tensor({3, -1, 2}, int8))), tensor({-1, 2, 3}, int8));
  EXPECT_TENSOR_EQ(std::get<0>(sort(tensor({true, false, true}, bool_))), tensor({false, true, true}, bool_));
  EXPECT_TENSOR_EQ(std::get<0>(sort(tensor({2.5, 1.0}, bfloat16))), tensor({1.0, 2.5}, bfloat16));
  EXPECT_TENSOR_EQ(std::get<0>(sort(seq({6}, int64).slice(0, 0, 6, 2).flip({0}))), i64({0, 2, 4}));
  EXPECT_EQ(std::get<0>(sort(zeros({0, 3}))).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ(std::get<1>(sort(zeros({2, 0}), 0)).shape(), IntArrayRef({2, 0}));
  auto [s0, s0i] = sort(scalar_tensor(5.0, float64));
  EXPECT_TENSOR_EQ(s0, scalar_tensor(5.0, float64));
  EXPECT_TENSOR_EQ(s0i, scalar_tensor(0, int64));
  EXPECT_TENSOR_EQ(argsort(f64({3, 1, 2}), 0, true), i64({0, 2, 1}));
}

TEST(Sort, Topk) {
  Tensor a = f64({1, 5, 3, 5, 2});
  auto [v, i] = topk(a, 3);
  EXPECT_TENSOR_EQ(v, f64({5, 5, 3}));
  EXPECT_TENSOR_EQ(i, i64({1, 3, 2}));
  auto [vs, is] = a.topk(2, 0, /*largest=*/false);
  EXPECT_TENSOR_EQ(vs, f64({1, 2}));
  EXPECT_TENSOR_EQ(is, i64({0, 4}));
  auto [v2, i2] = seq({2, 3}).t().topk(1, 0);  // columns of the transpose: per original row
  EXPECT_TENSOR_EQ(v2, f64({{2, 5}}));
  EXPECT_TENSOR_EQ(i2, i64({{2, 2}}));
  auto [vn, in] = topk(f64({1, kNaN, 3}), 1);
  EXPECT_TRUE(std::isnan(vn.item<double>()));
  EXPECT_EQ(std::get<0>(topk(a, 0)).shape(), IntArrayRef({0}));
  EXPECT_THROW_MSG(topk(a, 6), IndexError, "selected index k out of range");
  EXPECT_THROW_MSG(topk(a, 1, 1), IndexError, "Dimension out of range");
}

TEST(Sort, Gradients) {
  Tensor a = leaf(f64({{0.3, -1.2, 2.5}, {4.0, 0.1, -0.7}}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{std::get<0>(x[0].sort(1))}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{std::get<0>(x[0].sort(0, true))}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{std::get<0>(x[0].topk(2, 1))}; }, {a}));
  Tensor r = std::get<1>(a.sort());
  EXPECT_FALSE(r.requires_grad());
  EXPECT_FALSE(argsort(a).requires_grad());
}

// ---- index (reading) --------------------------------------------------------------------------------

TEST(Index, BasicIsAView) {
  Tensor a = seq({3, 4});
  Tensor r = a.index({1});
  EXPECT_TENSOR_EQ(r, f64({4, 5, 6, 7}));
  EXPECT_TRUE(r.shares_storage_with(a));
  EXPECT_TENSOR_EQ(a.index({-1, Slice(1, None, 2)}), f64({9, 11}));
  EXPECT_TENSOR_EQ(a.index({Slice(), 0}), f64({0, 4, 8}));
  EXPECT_TENSOR_EQ(a.index({Slice(-2), Slice(None, -2)}), f64({{4, 5}, {8, 9}}));
  EXPECT_TENSOR_EQ(a.index({Slice(5, 10)}), zeros({0, 4}, float64));
  EXPECT_EQ(a.index({None, Slice(), None}).shape(), IntArrayRef({1, 3, 1, 4}));
  EXPECT_EQ(a.index({Ellipsis, None}).shape(), IntArrayRef({3, 4, 1}));
  EXPECT_TENSOR_EQ(a.index({Ellipsis, 2}), f64({2, 6, 10}));
  EXPECT_TENSOR_EQ(a.index({1, 2}), scalar_tensor(6.0, float64));
  EXPECT_EQ(a.index({true}).shape(), IntArrayRef({1, 3, 4}));
  EXPECT_EQ(a.index({false}).shape(), IntArrayRef({0, 3, 4}));
  EXPECT_TENSOR_EQ(a.index({}), a);
  EXPECT_TENSOR_EQ(a.t().index({1, Slice(None, None, 2)}), f64({1, 9}));
}

TEST(Index, IntegerTensors) {
  Tensor a = seq({3, 4});
  EXPECT_TENSOR_EQ(a.index({i64({2, 0, -1})}), f64({{8, 9, 10, 11}, {0, 1, 2, 3}, {8, 9, 10, 11}}));
  EXPECT_TENSOR_EQ(a.index({i64({0, 2}), i64({1, 3})}), f64({1, 11}));
  EXPECT_TENSOR_EQ(a.index({i64({{0}, {2}}), i64({1, 3})}), f64({{1, 3}, {9, 11}}));  // broadcast
  EXPECT_TENSOR_EQ(a.index({Slice(), tensor({3, 0}, int32)}), f64({{3, 0}, {7, 4}, {11, 8}}));
  EXPECT_TENSOR_EQ(a.index({1, i64({3, 0})}), f64({7, 4}));
  EXPECT_TENSOR_EQ(a.index({scalar_tensor(1, int64)}), f64({4, 5, 6, 7}));
  EXPECT_TENSOR_EQ(a.t().index({i64({1})}), f64({{1, 5, 9}}));
  EXPECT_EQ(a.index({i64({}).reshape({0})}).shape(), IntArrayRef({0, 4}));
  EXPECT_TENSOR_EQ(seq({4}, int16).index({i64({3, 3})}), tensor({3, 3}, int16));
}

TEST(Index, AdvancedDimsPlacement) {
  Tensor a = seq({2, 3, 4, 5});
  // Adjacent advanced indices: their dims replace them in place.
  EXPECT_EQ(a.index({Slice(), i64({0, 1}), i64({0, 2}), Slice()}).shape(), IntArrayRef({2, 2, 5}));
  EXPECT_EQ(a.index({Slice(), i64({{0, 1, 2}}), Slice()}).shape(), IntArrayRef({2, 1, 3, 4, 5}));
  // Separated by a slice: the broadcast dims go first (NumPy's rule).
  Tensor r = a.index({Slice(), i64({0, 2}), Slice(), i64({1, 4})});
  EXPECT_EQ(r.shape(), IntArrayRef({2, 2, 4}));
  EXPECT_EQ(r.index({1, 0, 3}).item<double>(), a.index({0, 2, 3, 4}).item<double>());
  EXPECT_EQ(r.index({0, 1, 2}).item<double>(), a.index({1, 0, 2, 1}).item<double>());
}

TEST(Index, BoolMasks) {
  Tensor a = f64({{1, -2}, {-3, 4}});
  EXPECT_TENSOR_EQ(a.index({tensor({{true, false}, {false, true}}, bool_)}), f64({1, 4}));
  EXPECT_TENSOR_EQ(a.index({tensor({false, true}, bool_)}), f64({{-3, 4}}));
  EXPECT_TENSOR_EQ(a.index({Slice(), tensor({true, false}, bool_)}), f64({{1}, {-3}}));
  EXPECT_EQ(a.index({zeros({2, 2}, bool_)}).shape(), IntArrayRef({0}));
  EXPECT_EQ(a.index({scalar_tensor(true, bool_)}).shape(), IntArrayRef({1, 2, 2}));
  EXPECT_THROW_MSG(a.index({tensor({true, false, true}, bool_)}), IndexError,
                   "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 2] at index 0");
}

TEST(Index, Errors) {
  Tensor a = seq({3});
  EXPECT_THROW_MSG(a.index({5}), IndexError, "index 5 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(a.index({i64({5})}), IndexError, "index 5 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(a.index({i64({-4})}), IndexError, "index -4 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(a.index({0, 0}), IndexError, "too many indices for tensor of dimension 1");
  EXPECT_THROW_MSG(a.index({Ellipsis, Ellipsis}), IndexError, "an index can only have a single ellipsis");
  EXPECT_THROW_MSG(a.index({Slice(0, 3, -1)}), ValueError, "slice step must be greater than zero");
  EXPECT_THROW_MSG(a.index({f64({0})}), IndexError, "tensors used as indices must be long, int, byte or bool tensors");
  EXPECT_THROW_MSG(seq({3, 3}).index({i64({0, 1}), i64({0, 1, 2})}), IndexError,
                   "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]");
}

TEST(Index, Gradients) {
  Tensor a = leaf(seq({3, 4}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].index({i64({2, 0, 2}), Slice(1, None, 2)})}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].index({i64({0, 0}), i64({1, 1})})}; }, {a}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{x[0].index({1, Slice(None, 3), None})}; }, {a}));
  const Tensor mask = tensor({{true, false, false, true}, {false, false, true, false}, {true, true, false, false}}, bool_);
  EXPECT_TRUE(check([mask](const Tensors& x) { return Tensors{x[0].index({mask})}; }, {a}));
}

// ---- index_put_ (writing) ---------------------------------------------------------------------------

TEST(IndexPut, BasicAndAdvanced) {
  Tensor a = zeros({3, 4}, float64);
  a.index_put_({1}, f64({1, 2, 3, 4}));
  EXPECT_TENSOR_EQ(a.index({1}), f64({1, 2, 3, 4}));
  a.index_put_({Slice(), 0}, Scalar(9.0));
  EXPECT_TENSOR_EQ(a.index({Slice(), 0}), f64({9, 9, 9}));
  Tensor b = zeros({3, 2}, float64);
  b.index_put_({i64({2, 0})}, f64({{1, 2}, {3, 4}}));
  EXPECT_TENSOR_EQ(b, f64({{3, 4}, {0, 0}, {1, 2}}));
  b.index_put_({i64({0, 1}), i64({1, 0})}, f64({7}));  // values broadcast
  EXPECT_TENSOR_EQ(b, f64({{3, 7}, {7, 0}, {1, 2}}));
  Tensor c = f64({1, -2, 3, -4});
  c.index_put_({tensor({false, true, false, true}, bool_)}, Scalar(0));
  EXPECT_TENSOR_EQ(c, f64({1, 0, 3, 0}));
  Tensor d = zeros({4}, int32);
  index_put_(d, {i64({1})}, tensor({2.7}, float64));  // values converted to self's dtype
  EXPECT_TENSOR_EQ(d, tensor({0, 2, 0, 0}, int32));
  Tensor t = zeros({2, 3}, float64).t();  // a non-contiguous destination
  t.index_put_({i64({2})}, f64({5, 6}));
  EXPECT_TENSOR_EQ(t, f64({{0, 0}, {0, 0}, {5, 6}}));
}

TEST(IndexPut, Accumulate) {
  Tensor a = zeros({3}, float64);
  a.index_put_({i64({0, 2, 0, 0})}, f64({1, 2, 3, 4}), /*accumulate=*/true);
  EXPECT_TENSOR_EQ(a, f64({8, 0, 2}));
  Tensor b = ones({2, 2}, int64);
  b.index_put_({Slice(), 1}, i64({10}), true);
  EXPECT_TENSOR_EQ(b, i64({{1, 11}, {1, 11}}));
  Tensor c = zeros({2}, float64);
  Tensor r = index_put(c, {i64({1, 1})}, f64({1, 1}), true);
  EXPECT_TENSOR_EQ(r, f64({0, 2}));
  EXPECT_TENSOR_EQ(c, f64({0, 0}));
}

TEST(IndexPut, Errors) {
  Tensor a = zeros({3}, float64);
  EXPECT_THROW_MSG(a.index_put_({i64({3})}, f64({1})), IndexError, "index 3 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(a.index_put_({i64({0, 1})}, f64({1, 2, 3})), ShapeError,
                   "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]");
  EXPECT_THROW_MSG(a.index_put_({Slice(0, 2)}, f64({1, 2, 3})), ShapeError, "cannot be broadcast to indexing result of shape [2]");
  Tensor l = zeros({3}, float64);
  l.requires_grad_(true);
  EXPECT_THROW_MSG(l.index_put_({0}, Scalar(1.0)), AutogradError, "a leaf Variable that requires grad");
}

TEST(IndexPut, Gradients) {
  Tensor self = leaf(seq({3, 2})), vals = leaf(f64({{1, 2}, {3, 4}}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{index_put(x[0], {i64({2, 0})}, x[1])}; }, {self, vals}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{index_put(x[0], {i64({1, 1})}, x[1], true)}; }, {self, vals}));
  Tensor v1 = leaf(f64({5}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{index_put(x[0], {Slice(), 1}, x[1])}; }, {self, v1}));
}

TEST(Index, SecondDerivatives) {
  Tensor a = leaf(seq({3, 4}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& x) { return Tensors{x[0].index({i64({2, 0, 2}), Slice(1, None, 2)})}; }, {a}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& x) { return Tensors{x[0].index_select(1, i64({3, 3}))}; }, {a}));
  EXPECT_TRUE(autograd::gradgradcheck([](const Tensors& x) { return Tensors{x[0].gather(0, i64({{2, 1, 0, 0}}))}; }, {a}));
}

TEST(Index, BadIndexInALargeParallelGatherThrows) {
  // The check runs inside the threaded kernel loop; the error must still reach the caller.
  Tensor big = zeros({1 << 16, 4}, float32);
  Tensor idx = zeros({1 << 16}, int64);
  idx.index_put_({(1 << 16) - 7}, Scalar(1 << 16));
  EXPECT_THROW_MSG(big.index_select(0, idx), IndexError, "index 65536 is out of bounds for dimension 0 with size 65536");
  EXPECT_THROW_MSG(big.index({idx}), IndexError, "index 65536 is out of bounds for dimension 0 with size 65536");
}
