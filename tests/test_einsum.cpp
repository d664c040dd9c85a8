// einsum: the lesson's equations against matmul, the grammar (implicit output, ellipsis, spaces,
// repeated letters, size-1 broadcasting), chains of 3-4 operands against step-by-step products,
// gradients, and every error.
#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

namespace {
Tensor rnd(std::vector<int64_t> shape, DType t = float32) { return randn(shape, float64).to(t); }
}  // namespace

TEST(Einsum, LessonEquations) {
  manual_seed(11);
  Tensor A = rnd({3, 4}), B = rnd({4, 5});
  EXPECT_TENSOR_CLOSE(einsum("ij,jk->ik", {A, B}), matmul(A, B));
  Tensor BA = rnd({2, 3, 4}), BB = rnd({2, 4, 5});
  EXPECT_TENSOR_CLOSE(einsum("bij,bjk->bik", {BA, BB}), bmm(BA, BB));
  Tensor Q = rnd({2, 5, 8}), K = rnd({2, 5, 8});
  Tensor scores = einsum("btd,bsd->bts", {Q, K});
  EXPECT_EQ(scores.shape(), IntArrayRef({2, 5, 5}));
  EXPECT_TENSOR_CLOSE(scores, matmul(Q, K.transpose(-1, -2)));
  Tensor a = rnd({3}), b = rnd({4});
  EXPECT_TENSOR_CLOSE(einsum("i,j->ij", {a, b}), outer(a, b));
  Tensor M = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}, {7.0, 8.0, 9.0}});
  Tensor tr = einsum("ii->", {M});
  EXPECT_EQ(tr.dim(), 0);
  EXPECT_EQ(tr.item<double>(), 15.0);
  EXPECT_TENSOR_EQ(einsum("ii->i", {M}), tensor({1.0, 5.0, 9.0}));
}

TEST(Einsum, ImplicitOutputAndSpaces) {
  manual_seed(12);
  Tensor A = rnd({3, 4}), B = rnd({4, 5});
  EXPECT_TENSOR_CLOSE(einsum("ij,jk", {A, B}), matmul(A, B));         // i, k appear once: "ik"
  EXPECT_TENSOR_CLOSE(einsum("kj,ji", {B.t(), A.t()}), matmul(A, B));  // alphabetical: "ik"
  EXPECT_TENSOR_EQ(einsum("ij", {A}), A);
  EXPECT_TENSOR_EQ(einsum("ji", {A}), A.t());
  EXPECT_TENSOR_CLOSE(einsum("i j , j k -> i k", {A, B}), matmul(A, B));
  EXPECT_EQ(einsum("ii", {rnd({3, 3})}).dim(), 0);  // implicit trace
  Tensor x = rnd({2, 3});
  EXPECT_TENSOR_CLOSE(einsum("Ab", {x}), x);  // uppercase sorts before lowercase
  EXPECT_TENSOR_CLOSE(einsum("bA", {x}), x.t());
}

TEST(Einsum, SumsTransposesAndDiagonals) {
  manual_seed(13);
  Tensor x = rnd({2, 3, 4}, float64);
  EXPECT_TENSOR_CLOSE(einsum("ijk->", {x}), x.sum());
  EXPECT_TENSOR_CLOSE(einsum("ijk->j", {x}), x.sum({0, 2}));
  EXPECT_TENSOR_CLOSE(einsum("ijk->kji", {x}), x.permute({2, 1, 0}));
  Tensor d = rnd({3, 2, 3}, float64);
  EXPECT_TENSOR_CLOSE(einsum("iji->j", {d}), d.diagonal(0, 0, 2).sum({1}));
  EXPECT_TENSOR_CLOSE(einsum("iji->ij", {d}), d.diagonal(0, 0, 2).t());
  Tensor c = rnd({2, 2, 2}, float64);
  EXPECT_NEAR(einsum("iii->", {c}).item<double>(), values(c)[0] + values(c)[7], 1e-12);
  // A lone letter is summed before the product: sum_j A_ij * sum_k B_k.
  Tensor A = rnd({3, 4}, float64), B = rnd({5}, float64);
  EXPECT_TENSOR_CLOSE(einsum("ij,k->i", {A, B}), A.sum({1}) * B.sum());
}

TEST(Einsum, Ellipsis) {
  manual_seed(14);
  Tensor A = rnd({2, 3, 4, 5}), B = rnd({3, 5, 6});
  EXPECT_TENSOR_CLOSE(einsum("...ij,...jk->...ik", {A, B}), matmul(A, B), 1e-5, 1e-5);
  EXPECT_TENSOR_CLOSE(einsum("...ij,...jk", {A, B}), matmul(A, B), 1e-5, 1e-5);  // implicit: ellipsis first
  // Ellipsis dims not in an explicit output are summed.
  EXPECT_TENSOR_CLOSE(einsum("...ij,...jk->ik", {A, B}), matmul(A, B).sum({0, 1}), 1e-4, 1e-4);
  // Broadcast of a size-1 ellipsis dim, and ellipsis in the middle.
  Tensor C = rnd({1, 4, 5}), D = rnd({7, 5, 2});
  EXPECT_TENSOR_CLOSE(einsum("...ij,...jk->...ik", {C, D}), matmul(C, D), 1e-5, 1e-5);
  Tensor E = rnd({3, 2, 2, 4});
  EXPECT_TENSOR_CLOSE(einsum("i...j->...ij", {E}), E.permute({1, 2, 0, 3}));
  EXPECT_TENSOR_CLOSE(einsum("...->...", {E}), E);
}

TEST(Einsum, SizeOneLettersBroadcast) {
  manual_seed(15);
  Tensor A = rnd({3, 1}), B = rnd({4, 5});
  // j has size 1 in A: A's column broadcasts over j = 4.
  EXPECT_TENSOR_CLOSE(einsum("ij,jk->ik", {A, B}), matmul(A.expand({3, 4}), B), 1e-5, 1e-5);
  Tensor C = rnd({1, 1});
  EXPECT_EQ(einsum("ij,jk->ik", {C, C}).shape(), IntArrayRef({1, 1}));
}

TEST(Einsum, ChainsOfThreeAndFour) {
  manual_seed(16);
  Tensor A = rnd({3, 4}, float64), B = rnd({4, 50}, float64), C = rnd({50, 2}, float64), D = rnd({2, 6}, float64);
  EXPECT_TENSOR_CLOSE(einsum("ij,jk,kl->il", {A, B, C}), matmul(matmul(A, B), C), 1e-10, 1e-10);
  EXPECT_TENSOR_CLOSE(einsum("ij,jk,kl,lm->im", {A, B, C, D}), matmul(matmul(matmul(A, B), C), D), 1e-10, 1e-10);
  // A batch letter shared by three operands, and a contraction over two letters at once.
  Tensor P = rnd({2, 3, 4}, float64), Q = rnd({2, 4, 5}, float64), R = rnd({2, 5}, float64);
  EXPECT_TENSOR_CLOSE(einsum("bij,bjk,bk->bi", {P, Q, R}), matmul(bmm(P, Q), R.unsqueeze(-1)).squeeze(-1), 1e-10, 1e-10);
  Tensor S = rnd({3, 4, 5}, float64), T = rnd({4, 5, 6}, float64);
  EXPECT_TENSOR_CLOSE(einsum("ijk,jkl->il", {S, T}), matmul(S.reshape({3, 20}), T.reshape({20, 6})), 1e-10, 1e-10);
  // Five operands take the greedy path.
  Tensor v = rnd({3}, float64);
  Tensor five = einsum("i,ij,jk,kl,lm->m", {v, A, B, C, D});
  EXPECT_TENSOR_CLOSE(five, matmul(matmul(matmul(matmul(v, A), B), C), D), 1e-10, 1e-10);
  // The same equation again hits the path cache and gives the same result.
  EXPECT_TENSOR_EQ(einsum("i,ij,jk,kl,lm->m", {v, A, B, C, D}), five);
}

TEST(Einsum, DtypesAndLayouts) {
  manual_seed(17);
  for (DType t : {float32, float64, bfloat16, float16}) {
    Tensor A = rnd({4, 6}, t).t(), B = rnd({4, 5}, t);
    const double tol = is_reduced_float(t) ? 2e-2 : 1e-5;
    EXPECT_TENSOR_CLOSE(einsum("ij,jk->ik", {A, B}), matmul(A.to(float64), B.to(float64)), tol, tol) << t;
    EXPECT_EQ(einsum("ij,jk->ik", {A, B}).dtype(), t);
  }
  Tensor I = tensor({{1, 2}, {3, 4}}), J = tensor({{5, 6}, {7, 8}});
  EXPECT_TENSOR_EQ(einsum("ij,jk->ik", {I, J}), tensor({{19, 22}, {43, 50}}));
  EXPECT_TENSOR_EQ(einsum("ii", {I.to(int32)}), tensor(5, int32));
  Tensor S = rnd({10, 8}).slice(0, 0, 10, 2);  // rows with step 2
  EXPECT_TENSOR_CLOSE(einsum("ij,kj->ik", {S, S}), matmul(S, S.t()));
}

TEST(Einsum, EmptyDims) {
  Tensor A = zeros({3, 0}), B = zeros({0, 4});
  EXPECT_TENSOR_EQ(einsum("ij,jk->ik", {A, B}), zeros({3, 4}));
  EXPECT_EQ(einsum("ij,jk->ik", {zeros({0, 2}), zeros({2, 4})}).shape(), IntArrayRef({0, 4}));
  EXPECT_TENSOR_EQ(einsum("ij->", {A}), zeros({}));
}

TEST(EinsumGrad, Gradcheck) {
  manual_seed(18);
  Tensor A = randn({3, 4}, float64).requires_grad_(), B = randn({4, 5}, float64).requires_grad_();
  Tensor C = randn({5, 2}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck(
      [](const autograd::Tensors& x) { return autograd::Tensors{einsum("ij,jk,kl->il", {x[0], x[1], x[2]})}; }, {A, B, C}));
  Tensor Q = randn({2, 3, 4}, float64).requires_grad_(), K = randn({2, 5, 4}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck(
      [](const autograd::Tensors& x) { return autograd::Tensors{einsum("btd,bsd->bts", {x[0], x[1]})}; }, {Q, K}));
  Tensor M = randn({3, 3}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{einsum("ii->", {x[0]})}; }, {M}));
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{einsum("ii->i", {x[0]})}; }, {M}));
  Tensor v = randn({3}, float64).requires_grad_(), w = randn({4}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{einsum("i,j->ij", {x[0], x[1]})}; }, {v, w}));
  Tensor E = randn({2, 1, 3, 4}, float64).requires_grad_(), F = randn({3, 4, 2}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck(
      [](const autograd::Tensors& x) { return autograd::Tensors{einsum("...ij,...jk->...ik", {x[0], x[1]})}; }, {E, F}));
}

TEST(EinsumErrors, Malformed) {
  Tensor A = ones({2, 3}), B = ones({3, 4});
  EXPECT_THROW_MSG(einsum("ij,jk-ik", {A, B}), ValueError, "[einsum] malformed equation 'ij,jk-ik'");
  EXPECT_THROW_MSG(einsum("ij,jk->ik->i", {A, B}), ValueError, "[einsum] malformed equation");
  EXPECT_THROW_MSG(einsum("i1,jk->ik", {A, B}), ValueError, "[einsum] invalid subscript '1'");
  EXPECT_THROW_MSG(einsum("i..j,jk", {A, B}), ValueError, "not part of an ellipsis");
  EXPECT_THROW_MSG(einsum("...i...,jk", {A, B}), ValueError, "more than one ellipsis");
  EXPECT_THROW_MSG(einsum("ij,jk->iz", {A, B}), ValueError,
                   "[einsum] output subscript 'z' does not appear in the equation for any input operand");
  EXPECT_THROW_MSG(einsum("ij,jk->ii", {A, B}), ValueError, "[einsum] output subscript 'i' appears more than once");
  EXPECT_THROW_MSG(einsum("ij,jk->i,k", {A, B}), ValueError, "cannot contain ','");
}

TEST(EinsumErrors, OperandsAndShapes) {
  Tensor A = ones({2, 3}), B = ones({4, 5});
  EXPECT_THROW_MSG(einsum("ij,jk,kl->il", {A, B}), ValueError,
                   "[einsum] 2 operands were given but the equation 'ij,jk,kl->il' has subscripts for 3 operands");
  EXPECT_THROW_MSG(einsum("ij", {}), ValueError, "[einsum] must provide at least one operand");
  EXPECT_THROW_MSG(einsum("ijk,jk->i", {A, B}), ShapeError,
                   "[einsum] the number of subscripts in the equation (3) does not match the number of dimensions (2) "
                   "for operand 0 and no ellipsis was given");
  EXPECT_THROW_MSG(einsum("ijk...->i", {A}), ShapeError, "is more than the number of dimensions (2) for operand 0");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {A, B}), ShapeError,
                   "[einsum] operands do not broadcast: subscript 'j' has size 3 for operand 0 but size 4 for operand 1");
  EXPECT_THROW_MSG(einsum("...i,...i->...", {ones({2, 3}), ones({5, 3})}), ShapeError,
                   "[einsum] operands do not broadcast: ellipsis dim 0 has size 2 for operand 0 but size 5 for operand 1");
  EXPECT_THROW_MSG(einsum("ii->i", {A}), ShapeError,
                   "[einsum] subscript 'i' is repeated for operand 0 but the sizes don't match, 2 != 3");
  EXPECT_THROW_MSG(einsum("ij,jk->ik", {A, ones({3, 4}, float64)}), DTypeError, "[einsum] dtype mismatch");
  EXPECT_THROW_MSG(einsum("ij->", {ones({2, 2}, bool_)}), DTypeError, "[einsum] not implemented for dtype bool");
}
