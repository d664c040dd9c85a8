// Indexing edge cases the main suite leaves out: negative and out-of-range indices in every
// index-taking op (each must throw, never read or write out of bounds), wrong index dtypes,
// 0-d and empty operands, NaN ordering in sort/topk, and the NumPy indexing corner cases.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

// ---- out-of-range and negative indices -------------------------------------------------------------

// PyTorch does not wrap negative indices in these ops: they are out of range.
TEST(IndexEdgeBounds, NegativeAndTooLargeIndicesThrow) {
  Tensor a = seq({3, 4});
  EXPECT_THROW_MSG(index_select(a, 0, i64({0, 3})), IndexError, "[index_select] index 3 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(index_select(a, 1, i64({-1})), IndexError, "[index_select] index -1 is out of bounds");
  EXPECT_THROW_MSG(gather(a, 1, i64({{0, 4}})), IndexError, "[gather] index 4 is out of bounds for dimension 1 with size 4");
  EXPECT_THROW_MSG(gather(a, 0, i64({{-1}})), IndexError, "[gather]");
  EXPECT_THROW_MSG(take_along_dim(a, i64({12})), IndexError, "[take_along_dim]");
  EXPECT_THROW_MSG(scatter(a, 0, i64({{3}}), 1.0), IndexError, "[scatter] index 3 is out of bounds");
  EXPECT_THROW_MSG(scatter_add(a, 1, i64({{-1}}), f64({{1}})), IndexError, "[scatter_add]");
  EXPECT_THROW_MSG(index_add(a, 0, i64({5}), f64({{1, 1, 1, 1}})), IndexError, "[index_add]");
  // A failed in-place scatter leaves no partial write behind only when the check comes first;
  // at least self keeps its shape and stays readable.
  Tensor b = zeros({2, 2}, float64);
  EXPECT_THROW_MSG(scatter_(b, 1, i64({{0, 2}}), f64({{1, 1}})), IndexError, "[scatter_]");
  EXPECT_EQ(b.shape(), IntArrayRef({2, 2}));
}

TEST(IndexEdgeBounds, AdvancedIndexingWrapsNegativesAndChecksRange) {
  Tensor a = seq({3, 4});
  // Integer tensors in index() do wrap negatives (NumPy semantics).
  EXPECT_TENSOR_EQ(a.index({i64({-1, 0})}), f64({{8, 9, 10, 11}, {0, 1, 2, 3}}));
  EXPECT_TENSOR_EQ(a.index({Slice(), i64({-4, 3})}), f64({{0, 3}, {4, 7}, {8, 11}}));
  EXPECT_THROW_MSG(a.index({i64({3})}), IndexError, "index 3 is out of bounds for dimension 0 with size 3");
  EXPECT_THROW_MSG(a.index({Slice(), i64({-5})}), IndexError, "index -5 is out of bounds for dimension 1 with size 4");
  EXPECT_THROW_MSG(a.index({-4}), IndexError, "[index] index -4 is out of bounds for dimension 0 with size 3");
  Tensor b = zeros({3}, float64);
  EXPECT_THROW_MSG(b.index_put_({i64({3})}, f64({1})), IndexError, "out of bounds");
  EXPECT_THROW_MSG(b.index_put_({i64({-4})}, 1.0), IndexError, "out of bounds");
  b.index_put_({i64({-1})}, 5.0);
  EXPECT_TENSOR_EQ(b, f64({0, 0, 5}));
}

TEST(IndexEdgeBounds, OneHotAndEmbeddingRejectBadClasses) {
  EXPECT_THROW_MSG(one_hot(i64({0, -1}), 3), ValueError, "[one_hot] Class values must be non-negative, got -1");
  EXPECT_THROW_MSG(one_hot(i64({0, 3}), 3), ValueError, "[one_hot] Class values must be smaller than num_classes (3), got 3");
  EXPECT_THROW_MSG(one_hot(i64({0}), -2), ValueError, "[one_hot] num_classes should be positive or -1, got -2");
  EXPECT_THROW_MSG(one_hot(empty({0}, int64)), ValueError, "[one_hot] Can not infer total number of classes from empty tensor");
  EXPECT_THROW_MSG(one_hot(f64({1})), DTypeError, "[one_hot] one_hot is only applicable to index tensor of type int64");
  Tensor w = seq({4, 2});
  EXPECT_THROW_MSG(nn::functional::embedding(i64({4}), w), IndexError, "[embedding] index out of range in self (index 4, num_embeddings 4)");
  EXPECT_THROW_MSG(nn::functional::embedding(i64({-1}), w), IndexError, "[embedding] index out of range in self (index -1");
  EXPECT_THROW_MSG(nn::functional::embedding(f64({1}), w), DTypeError, "[embedding] Expected indices of dtype int64 (or int32), but got float64");
  EXPECT_THROW_MSG(nn::functional::embedding(i64({1}), w, 4), ValueError, "[embedding] Padding_idx must be within num_embeddings");
  EXPECT_THROW_MSG(nn::functional::embedding(i64({1}), seq({4})), ShapeError, "[embedding] 'weight' must be 2-D");
}

// ---- index dtypes ----------------------------------------------------------------------------------

TEST(IndexEdgeDtypes, FloatAndBoolIndicesAreRefusedWhereInvalid) {
  Tensor a = seq({3, 4});
  EXPECT_THROW_MSG(index_select(a, 0, f64({0})), DTypeError, "[index_select] Expected dtype int32 or int64 for index, got float64");
  EXPECT_THROW_MSG(gather(a, 0, tensor({{0}}, int32)), DTypeError, "[gather] Expected dtype int64 for index, got int32");
  EXPECT_THROW_MSG(scatter(a, 0, f64({{0}}), 1.0), DTypeError, "[scatter] Expected dtype int64 for index");
  EXPECT_THROW_MSG(scatter(a, 0, i64({{0}}), tensor({{1}}, int64)), DTypeError, "[scatter] Expected self.dtype to be equal to src.dtype");
  EXPECT_THROW_MSG(take_along_dim(a, f64({{0}}), 0), DTypeError, "[take_along_dim] Expected dtype int64 for index");
  EXPECT_THROW_MSG(a.index({f64({0})}), IndexError, "[index] tensors used as indices must be long, int, byte or bool tensors, got float64");
  EXPECT_THROW_MSG(index_add(a, 0, i64({0}), tensor({{1, 1, 1, 1}}, int64)), DTypeError, "[index_add] self (float64) and source (int64)");
  // int32 indices are accepted where PyTorch accepts them.
  EXPECT_TENSOR_EQ(a.index({tensor({2}, int32)}), f64({{8, 9, 10, 11}}));
  EXPECT_TENSOR_EQ(index_select(a, 1, tensor({0}, int32)), f64({{0}, {4}, {8}}));
}

// ---- shapes ----------------------------------------------------------------------------------------

TEST(IndexEdgeShapes, ZeroDimAndEmptyOperands) {
  Tensor s = scalar_tensor(7.0, float64);
  EXPECT_TENSOR_EQ(index_select(s, 0, i64({0})), s);
  EXPECT_TENSOR_EQ(gather(s, 0, scalar_tensor(0, int64)), s);
  EXPECT_TENSOR_EQ(scatter(s, 0, scalar_tensor(0, int64), 2.0), scalar_tensor(2.0, float64));
  Tensor a = seq({3, 4});
  EXPECT_EQ(index_select(a, 0, empty({0}, int64)).shape(), IntArrayRef({0, 4}));
  EXPECT_EQ(gather(a, 1, empty({3, 0}, int64)).shape(), IntArrayRef({3, 0}));
  EXPECT_TENSOR_EQ(scatter(a, 1, empty({3, 0}, int64), 1.0), a);
  EXPECT_EQ(one_hot(empty({0}, int64), 3).shape(), IntArrayRef({0, 3}));
  EXPECT_EQ(a.index({i64({})}).shape(), IntArrayRef({0, 4}));
  EXPECT_EQ(a.index({tensor({false, false, false})}).shape(), IntArrayRef({0, 4}));
  EXPECT_EQ(nn::functional::embedding(empty({2, 0}, int64), seq({4, 3})).shape(), IntArrayRef({2, 0, 3}));
}

TEST(IndexEdgeShapes, GatherAndScatterShapeErrors) {
  Tensor a = seq({3, 4});
  EXPECT_THROW_MSG(gather(a, 0, i64({0})), ShapeError, "[gather] Index tensor must have the same number of dimensions as input tensor");
  EXPECT_THROW_MSG(gather(a, 0, i64({{0, 0, 0, 0, 0}})), ShapeError, "[gather] Size does not match at dimension 1");
  EXPECT_THROW_MSG(scatter(a, 0, i64({{0, 0}}), f64({{1}})), ShapeError, "[scatter] Expected index [1, 2] to be smaller than src [1, 1]");
  EXPECT_THROW_MSG(gather(a, 2, i64({{0}})), IndexError, "[gather] Dimension out of range");
  EXPECT_THROW_MSG(index_select(a, 0, i64({{0}})), ShapeError, "[index_select] Index is supposed to be a vector");
  EXPECT_THROW_MSG(index_add(a, 0, i64({0, 1}), f64({{1, 1, 1, 1}})), ShapeError, "[index_add] Number of indices (2) should be equal to source.size(dim) (1)");
  EXPECT_THROW_MSG(take_along_dim(a, i64({0}), 0), ShapeError, "[take_along_dim] input and indices should have the same number of dimensions");
}

// ---- values on strided inputs ----------------------------------------------------------------------

TEST(IndexEdgeValues, StridedSourcesAndIndices) {
  Tensor a = seq({4, 3});
  Tensor at = a.t();  // [3, 4]
  Tensor idx = i64({{0, 3, 1}, {2, 2, 0}});
  EXPECT_TENSOR_EQ(gather(at, 1, idx.slice(1, 0, 2)), f64({{0, 9}, {7, 7}}));
  EXPECT_TENSOR_EQ(index_select(at, 1, i64({3, 0, 3, 1}).slice(0, 0, 4, 2)), f64({{9, 9}, {10, 10}, {11, 11}}));
  EXPECT_TENSOR_EQ(take_along_dim(at, i64({{3}, {0}, {1}}), 1), f64({{9}, {1}, {5}}));
  // take_along_dim broadcasts the non-dim sizes.
  EXPECT_TENSOR_EQ(take_along_dim(at, i64({{0, 3}}), 1), f64({{0, 9}, {1, 10}, {2, 11}}));
  Tensor z = zeros({3, 4}, float64);
  Tensor src = seq({4, 3}).t();
  EXPECT_TENSOR_EQ(scatter_add(z, 1, i64({{0, 0}, {1, 1}, {3, 3}}), src), f64({{3, 0, 0, 0}, {0, 5, 0, 0}, {0, 0, 0, 7}}));
  EXPECT_TENSOR_EQ(one_hot(tensor({{2, 0}}, int32).t(), 3), i64({{{0, 0, 1}}, {{1, 0, 0}}}));
}

// ---- sort / argsort / topk -------------------------------------------------------------------------

TEST(IndexEdgeSort, NaNSortsLastAscendingAndFirstDescending) {
  Tensor x = f64({3, kNaN, -kInf, 1, kInf});
  auto [v, i] = sort(x);
  EXPECT_TENSOR_EQ(v, f64({-kInf, 1, 3, kInf, kNaN}));
  EXPECT_TENSOR_EQ(i, i64({2, 3, 0, 4, 1}));
  auto [vd, id] = sort(x, 0, true);
  EXPECT_TENSOR_EQ(vd, f64({kNaN, kInf, 3, 1, -kInf}));
  EXPECT_TENSOR_EQ(id, i64({1, 4, 0, 3, 2}));
  auto [tv, ti] = topk(x, 2);
  EXPECT_TENSOR_EQ(tv, f64({kNaN, kInf}));
  EXPECT_TENSOR_EQ(ti, i64({1, 4}));
  auto [bv, bi] = topk(x, 2, 0, false);
  EXPECT_TENSOR_EQ(bv, f64({-kInf, 1}));
  EXPECT_TENSOR_EQ(bi, i64({2, 3}));
}

TEST(IndexEdgeSort, StableTiesIntegersBoolsAndStrided) {
  Tensor x = tensor({{2, 1, 2, 1}, {0, 0, 0, 0}}, int32);
  EXPECT_TENSOR_EQ(argsort(x, 1), i64({{1, 3, 0, 2}, {0, 1, 2, 3}}));
  EXPECT_TENSOR_EQ(argsort(x, 1, true), i64({{0, 2, 1, 3}, {0, 1, 2, 3}}));
  EXPECT_TENSOR_EQ(std::get<0>(sort(x.t(), 0)), tensor({{1, 0}, {1, 0}, {2, 0}, {2, 0}}, int32));
  EXPECT_TENSOR_EQ(std::get<0>(sort(tensor({true, false, true}))), tensor({false, true, true}));
  auto [v, i] = sort(scalar_tensor(3.0, float64));
  EXPECT_EQ(v.dim(), 0);
  EXPECT_EQ(i.item<int64_t>(), 0);
  EXPECT_EQ(std::get<0>(topk(seq({3, 4}), 0, 1)).shape(), IntArrayRef({3, 0}));
  EXPECT_THROW_MSG(topk(seq({3, 4}), 5, 1), IndexError, "[topk] selected index k out of range: k is 5 but dimension 1");
  EXPECT_THROW_MSG(topk(seq({3, 4}), -1, 1), IndexError, "[topk] selected index k out of range");
  EXPECT_THROW_MSG(sort(seq({3}), 1), IndexError, "[sort] Dimension out of range");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(topk(v[0], 2, 0, false))}; },
                    {leaf(f64({{0.5, -1}, {2, 0.25}, {-3, 1.5}}))}));
}

// ---- NumPy-style indexing --------------------------------------------------------------------------

TEST(IndexEdgeNumpy, NoneEllipsisAndSlicesCombine) {
  Tensor a = seq({2, 3, 4});
  EXPECT_EQ(a.index({None, Ellipsis, None}).shape(), IntArrayRef({1, 2, 3, 4, 1}));
  EXPECT_TENSOR_EQ(a.index({Ellipsis, 1}), a.select(2, 1));
  EXPECT_TENSOR_EQ(a.index({1, Ellipsis, Slice(None, None, 3)}), f64({{12, 15}, {16, 19}, {20, 23}}));
  EXPECT_EQ(a.index({Slice(5, 10)}).shape(), IntArrayRef({0, 3, 4}));   // clamped, empty
  EXPECT_EQ(a.index({Slice(-100, 1)}).shape(), IntArrayRef({1, 3, 4}));
  EXPECT_TENSOR_EQ(a.index({Slice(), Slice(-2), -1}), f64({{7, 11}, {19, 23}}));
  // A 0-d index tensor behaves like an integer but copies.
  EXPECT_TENSOR_EQ(a.index({scalar_tensor(1, int64), 0, 0}), scalar_tensor(12.0, float64));
  // 0-d tensor indexed with an Ellipsis or None.
  Tensor s = scalar_tensor(3.0, float64);
  EXPECT_TENSOR_EQ(s.index({Ellipsis}), s);
  EXPECT_EQ(s.index({None}).shape(), IntArrayRef({1}));
  EXPECT_THROW_MSG(s.index({0}), IndexError, "[index] too many indices for tensor of dimension 0");
  EXPECT_THROW_MSG(a.index({Ellipsis, 0, Ellipsis}), IndexError, "[index] an index can only have a single ellipsis");
  EXPECT_THROW_MSG(a.index({Slice(0, 2, 0)}), ValueError, "[index] slice step must be greater than zero");
  EXPECT_THROW_MSG(a.index({Slice(0, 2, -1)}), ValueError, "negative steps are not supported; use flip()");
  EXPECT_THROW_MSG(a.index({0, 0, 0, 0}), IndexError, "[index] too many indices for tensor of dimension 3 (got 4)");
}

TEST(IndexEdgeNumpy, BoolMasksOnStridedTensorsAndIndexPut) {
  Tensor a = seq({3, 4});
  Tensor m = a.t().gt(5.0);  // [4, 3], strided source of the mask
  EXPECT_TENSOR_EQ(a.t().index({m}), f64({8, 9, 6, 10, 7, 11}));
  EXPECT_THROW_MSG(a.index({tensor({true, false})}), IndexError, "[index] The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3, 4] at index 0");
  Tensor b = seq({3, 4});
  b.index_put_({b.gt(9.0)}, f64({-1}));
  EXPECT_TENSOR_EQ(b.index({2}), f64({8, 9, -1, -1}));
  b.index_put_({Slice(), i64({0, 0})}, f64({{1, 2}, {3, 4}, {5, 6}}), /*accumulate=*/true);
  EXPECT_TENSOR_EQ(b.index({Slice(), 0}), f64({3, 11, 19}));
  EXPECT_THROW_MSG(b.index_put_({i64({0, 1})}, f64({1, 2, 3})), ShapeError, "[index_put_] shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2, 4]");
  // Values of another dtype are converted to self's.
  Tensor c = zeros({3}, int64);
  c.index_put_({i64({1})}, f64({2.7}));
  EXPECT_TENSOR_EQ(c, i64({0, 2, 0}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{index_put(v[0], {i64({2, 0, 2})}, v[1], true)}; },
                    {leaf(seq({3, 2})), leaf(f64({{1, 2}, {3, 4}, {5, 6}}))}));
}

// ---- bools in an index ------------------------------------------------------------------------------

// A bool (or a 0-d bool tensor) is an advanced index, as in PyTorch/NumPy: a new axis indexed by
// [0] (true) or [] (false), broadcast with the other advanced indices. ricci used to make it a
// basic new axis of size 1 or 0, so x[True, 1, False] gave [1, 0, 4] instead of [0, 4]. Every
// shape below is PyTorch's.
TEST(IndexEdgeNumpy, BoolScalarsAreAdvancedIndices) {
  Tensor x = seq({3, 4});
  const Tensor t = scalar_tensor(true, bool_), f = scalar_tensor(false, bool_);
  EXPECT_EQ(x.index({true, 1, false}).shape(), IntArrayRef({0, 4}));
  EXPECT_EQ(x.index({t, 1, f}).shape(), IntArrayRef({0, 4}));
  EXPECT_EQ(x.index({true}).shape(), IntArrayRef({1, 3, 4}));
  EXPECT_EQ(x.index({false}).shape(), IntArrayRef({0, 3, 4}));
  EXPECT_EQ(x.index({None, true}).shape(), IntArrayRef({1, 1, 3, 4}));
  EXPECT_EQ(x.index({1, true}).shape(), IntArrayRef({1, 4}));
  EXPECT_EQ(x.index({true, 1}).shape(), IntArrayRef({1, 4}));
  EXPECT_EQ(x.index({true, Slice(), false}).shape(), IntArrayRef({0, 3, 4}));
  EXPECT_EQ(x.index({Ellipsis, true}).shape(), IntArrayRef({3, 4, 1}));
  EXPECT_EQ(x.index({true, true}).shape(), IntArrayRef({1, 3, 4}));
  EXPECT_EQ(x.index({true, None, 1}).shape(), IntArrayRef({1, 1, 4}));
  EXPECT_EQ(x.index({1, Slice(), true}).shape(), IntArrayRef({4, 1}));
  EXPECT_EQ(x.index({true, i64({0, 2})}).shape(), IntArrayRef({2, 4}));
  EXPECT_EQ(x.index({i64({0, 2}), true}).shape(), IntArrayRef({2, 4}));
  EXPECT_EQ(scalar_tensor(5.0, float64).index({true}).shape(), IntArrayRef({1}));
  EXPECT_EQ(scalar_tensor(5.0, float64).index({false}).shape(), IntArrayRef({0}));
  // Values: true keeps everything; separated from a tensor index, the broadcast dims go first.
  EXPECT_TENSOR_EQ(x.index({true, 1}), f64({{4, 5, 6, 7}}));
  EXPECT_TENSOR_EQ(x.index({true, Slice(), i64({1, 2})}), f64({{1, 5, 9}, {2, 6, 10}}));
  EXPECT_TENSOR_EQ(x.index({i64({0, 1}), Slice(), true}), f64({{0, 1, 2, 3}, {4, 5, 6, 7}}));
  // The result is a copy (advanced indexing), as in PyTorch.
  Tensor c = x.index({true});
  c.fill_(-1.0);
  EXPECT_EQ(x.index({0, 0}).item<double>(), 0.0);
  // index_put_: true writes through its new axis, false writes nothing (values still broadcast).
  Tensor a = zeros({3, 4}, float64);
  a.index_put_({true, 1}, f64({1, 2, 3, 4}));
  EXPECT_TENSOR_EQ(a, f64({{0, 0, 0, 0}, {1, 2, 3, 4}, {0, 0, 0, 0}}));
  a.index_put_({false}, 9.0);
  a.index_put_({true, Slice(), false}, f64({5}));
  EXPECT_EQ(a.sum().item<double>(), 10.0);
  Tensor b = zeros({3, 4}, float64);
  b.index_put_({Ellipsis, true}, 7.0);
  EXPECT_TENSOR_EQ(b, full({3, 4}, 7.0, float64));
  Tensor d = zeros({2, 2}, float64);
  d.index_put_({true, true}, f64({1}), /*accumulate=*/true);  // one position per element, added once
  EXPECT_TENSOR_EQ(d, f64({{1, 1}, {1, 1}}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{v[0].index({true, Slice(), i64({1, 2})})}; }, {leaf(seq({3, 4}))}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{index_put(v[0], {true, 1}, v[1])}; },
                    {leaf(seq({3, 4})), leaf(f64({1, 2, 3, 4}))}));
}

// PyTorch: a 0-d input is one element, and topk with k = 0 gives it back like k = 1 (ricci threw
// a [reshape] error).
TEST(IndexEdgeSort, TopkOfZeroDimInput) {
  const Tensor s = scalar_tensor(1.5, float64);
  for (int64_t k : {0, 1}) {
    auto [v, i] = topk(s, k);
    EXPECT_TENSOR_EQ(v, scalar_tensor(1.5, float64));
    EXPECT_TENSOR_EQ(i, scalar_tensor(0, int64));
  }
  auto [v0, i0] = topk(s, 0, 0, /*largest=*/false);
  EXPECT_TENSOR_EQ(v0, scalar_tensor(1.5, float64));
  EXPECT_THROW_MSG(topk(s, 2), IndexError, "[topk] selected index k out of range: k is 2");
  EXPECT_THROW_MSG(topk(s, -1), IndexError, "[topk] selected index k out of range");
  EXPECT_THROW_MSG(topk(s, 0, 1), IndexError, "[topk]");
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{std::get<0>(topk(v[0], 0))}; }, {leaf(scalar_tensor(0.3, float64))}));
}

// ---- in place into an expanded tensor --------------------------------------------------------------

TEST(IndexEdgeInplace, ExpandedSelfIsRefused) {
  Tensor e = zeros({1, 3}, float64).expand({2, 3});
  EXPECT_THROW_MSG(scatter_(e, 0, i64({{1, 0, 1}}), 1.0), ValueError,
                   "[scatter_] unsupported operation: more than one element of the written-to tensor refers to a single memory location");
  EXPECT_THROW_MSG(scatter_add_(e, 1, i64({{0}}), f64({{1}})), ValueError, "[scatter_add_] unsupported operation");
  EXPECT_THROW_MSG(index_add_(e, 0, i64({0}), f64({{1, 1, 1}})), ValueError, "[index_add_] unsupported operation");
  EXPECT_THROW_MSG(e.index_put_({0}, 5.0), ValueError, "[index_put_] unsupported operation");
  // The out-of-place forms copy first, so an expanded input is fine.
  EXPECT_TENSOR_EQ(scatter(e, 0, i64({{1, 0, 1}}), 1.0), f64({{0, 1, 0}, {1, 0, 1}}));
  EXPECT_TENSOR_EQ(index_put(e, {i64({1})}, f64({7})), f64({{0, 0, 0}, {7, 7, 7}}));
}

// ---- uint8 index tensors ---------------------------------------------------------------------------

// PyTorch treats a uint8 index tensor as a mask (its legacy rule); reading it as positions
// silently picked other rows ([1, 0, 1] gave rows 1, 0, 1 instead of rows 0 and 2).
TEST(IndexEdgeUint8, ByteTensorsAreMasks) {
  Tensor a = seq({3, 2});
  EXPECT_TENSOR_EQ(a.index({tensor({1, 0, 1}, uint8)}), f64({{0, 1}, {4, 5}}));
  EXPECT_TENSOR_EQ(a.index({tensor({0, 7, 0}, uint8), 1}), f64({3}));  // any non-zero byte is true
  EXPECT_TENSOR_EQ(a.index({tensor({{1, 0}, {0, 0}, {0, 1}}, uint8)}), f64({0, 5}));
  Tensor b = zeros({3}, float64);
  b.index_put_({tensor({0, 1, 1}, uint8)}, 2.0);
  EXPECT_TENSOR_EQ(b, f64({0, 2, 2}));
  EXPECT_THROW_MSG(a.index({tensor({1, 0}, uint8)}), IndexError, "[index] The shape of the mask [2] at index 0 does not match");
}

TEST(IndexEdgeAccumulate, IntegerAccumulationWrapsLikePyTorch) {
  // Read-modify-write on integers wraps (unsigned arithmetic underneath); values from torch 2.x.
  const Tensor d = tensor({2147483647, 0}, int32);
  EXPECT_EQ(index_add(d, 0, tensor({int64_t{0}, int64_t{0}}), tensor({1, 2}, int32)).to_vector<int32_t>(),
            (std::vector<int32_t>{-2147483646, 0}));
  Tensor m = tensor({std::numeric_limits<int64_t>::max()});
  m.index_put_({tensor({int64_t{0}, int64_t{0}})}, tensor({int64_t{1}, int64_t{1}}), /*accumulate=*/true);
  EXPECT_EQ(m.item<int64_t>(), -9223372036854775807);
  EXPECT_EQ(scatter_add(tensor({std::numeric_limits<int64_t>::max()}), 0, tensor({int64_t{0}}), tensor({int64_t{2}})).item<int64_t>(),
            std::numeric_limits<int64_t>::min() + 1);
}

TEST(Nonzero, PositionsInRowMajorOrder) {
  Tensor x = tensor({{0.0, 1.5, 0.0}, {std::nan(""), 0.0, -2.0}});
  Tensor nz = nonzero(x);
  EXPECT_EQ(nz.dtype(), int64);
  EXPECT_TENSOR_EQ(nz, tensor({{0, 1}, {1, 0}, {1, 2}}).to(int64));  // NaN is non-zero
  std::vector<Tensor> cols = nonzero_tuple(x);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_TENSOR_EQ(cols[0], tensor({0, 1, 1}).to(int64));
  EXPECT_TENSOR_EQ(cols[1], tensor({1, 0, 2}).to(int64));
  // bool, integer, non-contiguous, empty and 0-d inputs
  EXPECT_TENSOR_EQ(nonzero(tensor({true, false, true})), tensor({{0}, {2}}).to(int64));
  Tensor xi = arange(6).reshape({2, 3}).t();  // [[0, 3], [1, 4], [2, 5]]
  EXPECT_TENSOR_EQ(nonzero(xi), tensor({{0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}}).to(int64));
  EXPECT_EQ(nonzero(zeros({0, 3})).shape(), IntArrayRef({0, 2}));
  EXPECT_EQ(nonzero(zeros({2, 2})).shape(), IntArrayRef({0, 2}));
  EXPECT_EQ(nonzero(scalar_tensor(5.0)).shape(), IntArrayRef({1, 0}));
  EXPECT_EQ(nonzero(scalar_tensor(0.0)).shape(), IntArrayRef({0, 0}));
  EXPECT_TENSOR_EQ(nonzero_tuple(scalar_tensor(5.0)).at(0), tensor({0}).to(int64));
  EXPECT_THROW_MSG(nonzero(Tensor()), Error, "nonzero");
}
