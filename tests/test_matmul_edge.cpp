// matmul / einsum edge cases the main suite leaves out: integer products (and their wrap),
// vector-batch combinations, zero-size contractions, addmm's beta = 0 ignoring NaN, and the
// einsum grammar's remaining errors.
#include <cmath>
#include <limits>

#include "op_test_helpers.h"

using namespace ricci;
using namespace ricci::op_tests;

TEST(MatmulEdge, IntegerProductsOnEveryShapeRule) {
  Tensor a = i64({{1, 2}, {3, 4}}), v = i64({5, 6});
  EXPECT_TENSOR_EQ(matmul(a, v), i64({17, 39}));
  EXPECT_TENSOR_EQ(matmul(v, a), i64({23, 34}));
  EXPECT_TENSOR_EQ(matmul(v, v), scalar_tensor(61, int64));
  EXPECT_TENSOR_EQ(matmul(a.t(), a), i64({{10, 14}, {14, 20}}));
  EXPECT_TENSOR_EQ(matmul(seq({2, 2, 2}, int32), tensor({1, -1}, int32)), tensor({{-1, -1}, {-1, -1}}, int32));
  EXPECT_TENSOR_EQ(outer(tensor({1, 2}, int8), tensor({3}, int8)), tensor({{3}, {6}}, int8));
  EXPECT_TENSOR_EQ(dot(tensor({2, 3}, int16), tensor({4, 5}, int16)), scalar_tensor(23, int16));
  EXPECT_TENSOR_EQ(addmm(i64({1, 1}), a, a, 2, 3), i64({{23, 32}, {47, 68}}));
  EXPECT_THROW_MSG(addmm(i64({1, 1}), a, a, 0.5, 1), ValueError, "[addmm] For integral input tensors, argument alpha and beta must not be a floating point number");
}

TEST(MatmulEdge, VectorBatchCombinations) {
  Tensor b = seq({2, 3, 4});
  Tensor v3 = f64({1, 0, -1}), v4 = f64({1, 1, 1, 1});
  EXPECT_TENSOR_EQ(matmul(v3, b), f64({{-8, -8, -8, -8}, {-8, -8, -8, -8}}));
  EXPECT_TENSOR_EQ(matmul(b, v4), f64({{6, 22, 38}, {54, 70, 86}}));
  EXPECT_EQ(matmul(seq({5, 1, 2, 3}), seq({4, 3, 2})).shape(), IntArrayRef({5, 4, 2, 2}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{matmul(x[0], x[1])}; }, {leaf(f64({1, -2, 0.5})), leaf(seq({2, 3, 4}) / 10)}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{matmul(x[0], x[1])}; }, {leaf(seq({2, 1, 2, 3}) / 5), leaf(seq({4, 3, 2}) / 7)}));
}

TEST(MatmulEdge, ZeroSizeContractionGivesZeros) {
  EXPECT_TENSOR_EQ(matmul(empty({2, 0}, float64), empty({0, 3}, float64)), zeros({2, 3}, float64));
  EXPECT_TENSOR_EQ(dot(empty({0}, float64), empty({0}, float64)), scalar_tensor(0.0, float64));
  EXPECT_TENSOR_EQ(addmm(f64({1, 2, 3}), empty({2, 0}, float64), empty({0, 3}, float64)), f64({{1, 2, 3}, {1, 2, 3}}));
  EXPECT_EQ(bmm(empty({0, 2, 3}, float64), empty({0, 3, 4}, float64)).shape(), IntArrayRef({0, 2, 4}));
}

TEST(MatmulEdge, AddmmBetaZeroIgnoresNaNInput) {
  // PyTorch: with beta = 0 the input is not read, so NaN in it does not propagate.
  Tensor m = f64({{1, 0}, {0, 1}});
  EXPECT_TENSOR_EQ(addmm(f64({kNaN, kNaN}), m, m, 0), f64({{1, 0}, {0, 1}}));
  EXPECT_TENSOR_EQ(addmm(f64({{1}, {2}}), m, m.t(), 0.5, 2), f64({{2.5, 0.5}, {1, 3}}));
  EXPECT_TRUE(check([](const Tensors& x) { return Tensors{addmm(x[0], x[1], x[2], 0.5, -2)}; },
                    {leaf(f64({1, 2})), leaf(seq({3, 2}) / 4), leaf(seq({2, 2}).t() / 3)}));
}

TEST(MatmulEdge, Errors) {
  EXPECT_THROW_MSG(matmul(scalar_tensor(1.0, float64), seq({2})), ShapeError, "[matmul] both arguments to matmul need to be at least 1D, but they are 0D and 1D");
  EXPECT_THROW_MSG(matmul(seq({2, 3}), seq({2})), ShapeError, "[matmul] mat1 and mat2 shapes cannot be multiplied (2x3 and 2)");
  EXPECT_THROW_MSG(matmul(seq({2, 2, 3}), seq({3, 3, 1})), ShapeError, "[matmul] The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0");
  EXPECT_THROW_MSG(matmul(seq({2, 3}), seq({3, 2}, float32)), DTypeError, "[matmul] dtype mismatch: expected both operands to have the same dtype, got float64 and float32");
  EXPECT_THROW_MSG(mm(tensor({{true}}), tensor({{true}})), DTypeError, "[mm] not implemented for dtype bool");
  EXPECT_THROW_MSG(mm(seq({2}), seq({2, 2})), ShapeError, "[mm] mat1 must be a matrix, got 1-D tensor");
  EXPECT_THROW_MSG(bmm(seq({2, 2, 3}), seq({3, 3, 2})), ShapeError, "[bmm] Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]");
  EXPECT_THROW_MSG(dot(seq({2}), seq({3})), ShapeError, "[dot] inconsistent tensor size");
  EXPECT_THROW_MSG(dot(seq({2, 1}), seq({2})), ShapeError, "[dot] 1D tensors expected, but got 2D and 1D tensors");
  EXPECT_THROW_MSG(outer(seq({2, 1}), seq({2})), ShapeError, "[outer] Expected 1-D argument self, but got 2-D");
  EXPECT_THROW_MSG(addmm(seq({3}), seq({2, 2}), seq({2, 2})), ShapeError, "[addmm] input of shape [3] cannot be broadcast to the product's shape [2, 2]");
  EXPECT_THROW_MSG(addmm(seq({2}, float32), seq({2, 2}), seq({2, 2})), DTypeError, "[addmm] dtype mismatch: expected input to have the dtype of the matrices");
  EXPECT_THROW_MSG(matmul(Tensor(), seq({2})), Error, "[matmul]");
}

// ---- einsum ----------------------------------------------------------------------------------------

TEST(EinsumEdge, IntegerOperandsAndSizeZeroLabels) {
  Tensor a = i64({{1, 2}, {3, 4}});
  EXPECT_TENSOR_EQ(einsum("ij,jk->ik", {a, a}), i64({{7, 10}, {15, 22}}));
  EXPECT_TENSOR_EQ(einsum("ii", {a}), scalar_tensor(5, int64));
  EXPECT_TENSOR_EQ(einsum("ij->", {a}), scalar_tensor(10, int64));
  EXPECT_TENSOR_EQ(einsum("ij,kj->ik", {empty({2, 0}, float64), empty({3, 0}, float64)}), zeros({2, 3}, float64));
  EXPECT_EQ(einsum("ij,jk->ik", {empty({0, 2}, float64), seq({2, 3})}).shape(), IntArrayRef({0, 3}));
}

TEST(EinsumEdge, EllipsisSummedWhenTheOutputOmitsIt) {
  Tensor x = seq({2, 3, 4});
  EXPECT_TENSOR_EQ(einsum("...ij->ij", {x}), sum(x, {0}));
  EXPECT_TENSOR_EQ(einsum("b...,b...->b", {x, x}), sum(x * x, {1, 2}));
  // Ellipsis dims broadcast between operands (right-aligned).
  EXPECT_TENSOR_EQ(einsum("...i,...i->...", {seq({2, 3}), f64({1, 1, 1})}), f64({3, 12}));
  EXPECT_TRUE(check([](const Tensors& v) { return Tensors{einsum("...ij,...jk->...ik", {v[0], v[1]})}; },
                    {leaf(seq({2, 2, 3}) / 5), leaf(seq({3, 2}) / 7)}));
}

TEST(EinsumEdge, MoreErrors) {
  Tensor a = seq({2, 3});
  EXPECT_THROW_MSG(einsum("ij->ii", {a}), ValueError, "[einsum] output subscript 'i' appears more than once in the output");
  EXPECT_THROW_MSG(einsum("ij->k", {a}), ValueError, "[einsum] output subscript 'k' does not appear in the equation for any input operand");
  EXPECT_THROW_MSG(einsum("i.j", {a}), ValueError, "[einsum] malformed equation 'i.j': found '.' that is not part of an ellipsis");
  EXPECT_THROW_MSG(einsum("...i...", {a}), ValueError, "more than one ellipsis");
  EXPECT_THROW_MSG(einsum("i1", {a}), ValueError, "[einsum] invalid subscript '1'");
  EXPECT_THROW_MSG(einsum("ij->i->j", {a}), ValueError, "'->' must appear at most once");
  EXPECT_THROW_MSG(einsum("ij->i,j", {a}), ValueError, "cannot contain ','");
  EXPECT_THROW_MSG(einsum("ij,jk", {a}), ValueError, "[einsum] 1 operands were given but the equation 'ij,jk' has subscripts for 2 operands");
  EXPECT_THROW_MSG(einsum("ijk", {a}), ShapeError, "[einsum] the number of subscripts in the equation (3) does not match the number of dimensions (2) for operand 0");
  EXPECT_THROW_MSG(einsum("ijk...", {a}), ShapeError, "is more than the number of dimensions (2) for operand 0");
  EXPECT_THROW_MSG(einsum("ii", {a}), ShapeError, "[einsum] subscript 'i' is repeated for operand 0 but the sizes don't match, 2 != 3");
  EXPECT_THROW_MSG(einsum("ij,ij->i", {a, seq({2, 4})}), ShapeError, "[einsum] operands do not broadcast: subscript 'j' has size 3 for operand 0 but size 4 for operand 1");
  EXPECT_THROW_MSG(einsum("ij,ij", {a, seq({2, 3}, float32)}), DTypeError, "[einsum] dtype mismatch");
  EXPECT_THROW_MSG(einsum("i", {tensor({true})}), DTypeError, "[einsum] not implemented for dtype bool");
  EXPECT_THROW_MSG(einsum("i", {}), ValueError, "[einsum] must provide at least one operand");
}
