// matmul, mm, bmm, addmm, mv, dot, outer: values against a naive float64 reference for every
// shape rule, layouts BLAS must read in place (transposed) or copy (sliced with step, expanded),
// each dtype, empty dims, gradients, and every error.
#include <cmath>
#include <string>

#include "test_util.h"

using namespace ricci;
using ricci::testing::values;

namespace {

// torch.matmul's semantics written as plain loops over float64 values.
Tensor ref_matmul(const Tensor& a_in, const Tensor& b_in) {
  const bool va = a_in.dim() == 1, vb = b_in.dim() == 1;
  Tensor a = va ? a_in.unsqueeze(0) : a_in;
  Tensor b = vb ? b_in.unsqueeze(1) : b_in;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const int64_t ba = a.dim() - 2, bb = b.dim() - 2, nb = std::max(ba, bb);
  std::vector<int64_t> batch(nb);
  for (int64_t i = 0; i < nb; ++i) {
    const int64_t sa = i - (nb - ba) >= 0 ? a.size(i - (nb - ba)) : 1;
    const int64_t sb = i - (nb - bb) >= 0 ? b.size(i - (nb - bb)) : 1;
    batch[i] = std::max(sa, sb);
  }
  std::vector<int64_t> ea(batch), eb(batch);
  ea.push_back(M), ea.push_back(K), eb.push_back(K), eb.push_back(N);
  const std::vector<double> av = values(a.expand(ea)), bv = values(b.expand(eb));
  int64_t nbatch = 1;
  for (int64_t s : batch) nbatch *= s;
  std::vector<double> out(static_cast<size_t>(nbatch * M * N), 0.0);
  for (int64_t p = 0; p < nbatch; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += av[(p * M + i) * K + k] * bv[(p * K + k) * N + j];
        out[(p * M + i) * N + j] = s;
      }
  std::vector<int64_t> shape(batch);
  if (!va) shape.push_back(M);
  if (!vb) shape.push_back(N);
  return from_vector(out, shape, float64);
}

Tensor rnd(std::vector<int64_t> shape, DType t = float32) { return randn(shape, float64).to(t); }

}  // namespace

TEST(Matmul, AllShapeRules) {
  manual_seed(1);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{5}, {5}},              // dot -> 0-d
      {{3, 5}, {5}},           // matrix @ vector
      {{5}, {5, 4}},           // vector @ matrix
      {{3, 5}, {5, 4}},        // matrix product
      {{2, 3, 5}, {5, 4}},     // batch @ matrix (folds into one GEMM)
      {{2, 3, 5}, {5}},        // batch @ vector
      {{5}, {2, 5, 4}},        // vector @ batch
      {{3, 5}, {2, 5, 4}},     // matrix @ batch
      {{2, 3, 5}, {2, 5, 4}},  // bmm
      {{2, 1, 3, 5}, {4, 5, 6}},  // broadcast batch dims
      {{1, 3, 5}, {7, 5, 2}},
      {{2, 3, 3, 5}, {1, 5, 4}},
  };
  for (auto& [sa, sb] : cases) {
    Tensor a = rnd(sa), b = rnd(sb);
    Tensor out = matmul(a, b);
    EXPECT_EQ(out.dtype(), float32);
    EXPECT_TENSOR_CLOSE(out, ref_matmul(a, b), 1e-5, 1e-5) << "shapes " << a.shape() << " @ " << b.shape();
  }
  EXPECT_EQ(matmul(rnd({5}), rnd({5})).dim(), 0);
  EXPECT_EQ(matmul(rnd({2, 1, 3, 5}), rnd({4, 5, 6})).shape(), IntArrayRef({2, 4, 3, 6}));
}

TEST(Matmul, TransposedSlicedAndExpandedOperands) {
  manual_seed(2);
  for (DType t : {float32, float64, bfloat16, float16, int64}) {
    const double tol = is_reduced_float(t) ? 2e-2 : 1e-5;
    auto make = [&](std::vector<int64_t> s) { return t == int64 ? randint(-5, 5, s, int64) : rnd(s, t); };
    Tensor at = make({37, 29}).t();               // (29, 37), strides (1, 29): BLAS Trans
    Tensor bt = make({41, 37}).t();               // (37, 41) transposed
    Tensor as = make({29, 80}).slice(1, 0, 74, 2);  // (29, 37), column stride 2: copied
    Tensor be = make({1, 41}).expand({37, 41});   // row stride 0
    for (auto& [a, b] : std::vector<std::pair<Tensor, Tensor>>{{at, bt}, {as, bt}, {at, be}, {as, be}}) {
      EXPECT_TENSOR_CLOSE(matmul(a, b), ref_matmul(a, b), tol, tol) << t;
      EXPECT_TENSOR_CLOSE(mm(a, b), ref_matmul(a, b), tol, tol) << t;
    }
    // Batched and transposed inside each matrix, with a stride-0 batch dim on one side.
    Tensor ab = make({3, 20, 9}).mT();  // (3, 9, 20)
    Tensor bb = make({20, 7}).expand({3, 20, 7});
    EXPECT_TENSOR_CLOSE(matmul(ab, bb), ref_matmul(ab, bb), tol, tol) << t;
    EXPECT_TENSOR_CLOSE(bmm(ab, bb), ref_matmul(ab, bb), tol, tol) << t;
    // Strided vectors.
    Tensor v = make({40}).slice(0, 0, 40, 2);
    Tensor w = make({60}).slice(0, 1, 60, 3);
    EXPECT_TENSOR_CLOSE(dot(v, w), ref_matmul(v, w), tol, tol) << t;
    Tensor mt = make({20, 5}).t();  // (5, 20) transposed
    EXPECT_TENSOR_CLOSE(mv(mt, v), ref_matmul(mt, v), tol, tol) << t;
  }
}

TEST(Matmul, Dtypes) {
  manual_seed(3);
  for (DType t : {float32, float64, float16, bfloat16}) {
    Tensor a = rnd({4, 33, 70}, t), b = rnd({4, 70, 45}, t);
    Tensor out = matmul(a, b);
    EXPECT_EQ(out.dtype(), t);
    const double tol = is_reduced_float(t) ? 1.5e-2 : 1e-5;
    EXPECT_TENSOR_CLOSE(out, ref_matmul(a, b), tol, tol) << t;
  }
  for (DType t : {int32, int64, int16, int8, uint8}) {
    Tensor a = randint(0, 4, {3, 6, 5}, t), b = randint(0, 4, {5, 7}, t);
    Tensor out = matmul(a, b);
    EXPECT_EQ(out.dtype(), t);
    EXPECT_TENSOR_EQ(out, ref_matmul(a, b).to(t));
  }
  // int32 accumulates in 64 bits and wraps once, at the store.
  Tensor big = full({1, 2}, int64_t{1} << 30, int32);
  Tensor ones2 = ones({2, 1}, int32);
  EXPECT_EQ(matmul(big, ones2).item<int64_t>(), static_cast<int32_t>(uint32_t{1} << 31));
}

TEST(Matmul, ReducedPrecisionLargeAndOdd) {
  // Sizes that cross the packed GEMM's K block (256) and leave ragged edge tiles.
  manual_seed(4);
  for (DType t : {bfloat16, float16}) {
    Tensor a = rnd({67, 600}, t), b = rnd({600, 93}, t);
    EXPECT_TENSOR_CLOSE(matmul(a, b), ref_matmul(a, b), 2e-2, 5e-2) << t;
    Tensor c = rnd({130, 130}, t);
    EXPECT_TENSOR_CLOSE(matmul(c.t(), c), ref_matmul(c.t(), c), 2e-2, 5e-2) << t;
  }
}

TEST(Matmul, EmptyDims) {
  for (DType t : {float32, float64, bfloat16, int64}) {
    Tensor a = zeros({3, 0}, t), b = zeros({0, 4}, t);
    Tensor out = matmul(a, b);  // K = 0: a sum over nothing
    EXPECT_EQ(out.shape(), IntArrayRef({3, 4}));
    EXPECT_TENSOR_EQ(out, zeros({3, 4}, t));
    EXPECT_EQ(matmul(zeros({0, 5}, t), zeros({5, 2}, t)).shape(), IntArrayRef({0, 2}));
    EXPECT_EQ(matmul(zeros({2, 0, 3, 5}, t), zeros({5, 2}, t)).shape(), IntArrayRef({2, 0, 3, 2}));
    EXPECT_EQ(bmm(zeros({0, 3, 5}, t), zeros({0, 5, 2}, t)).shape(), IntArrayRef({0, 3, 2}));
    EXPECT_TENSOR_EQ(dot(zeros({0}, t), zeros({0}, t)), zeros({}, t));
  }
}

TEST(Matmul, NanAndInfPropagate) {
  Tensor a = tensor({{1.0, NAN}, {2.0, 3.0}});
  Tensor b = tensor({{1.0, 0.0}, {INFINITY, 1.0}});
  std::vector<double> v = values(matmul(a, b));
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_TRUE(std::isnan(v[1]));
  EXPECT_EQ(v[2], INFINITY);
  EXPECT_EQ(v[3], 3.0);
  std::vector<double> h = values(matmul(a.to(bfloat16), b.to(bfloat16)));
  EXPECT_TRUE(std::isnan(h[0]));
  EXPECT_EQ(h[2], INFINITY);
}

TEST(Matmul, AddmmOuterDotMv) {
  manual_seed(5);
  for (DType t : {float32, float64, bfloat16}) {
    const double tol = t == bfloat16 ? 2e-2 : 1e-5;
    Tensor m1 = rnd({4, 6}, t), m2 = rnd({6, 5}, t);
    Tensor prod = ref_matmul(m1, m2);
    for (Tensor input : {rnd({4, 5}, t), rnd({5}, t), rnd({4, 1}, t), rnd({}, t)}) {
      Tensor expect = prod * 0.5 + input.to(float64).expand({4, 5}) * 2.0;
      EXPECT_TENSOR_CLOSE(addmm(input, m1, m2, 2.0, 0.5), expect, tol, tol) << input.shape();
    }
    // beta = 0 ignores the input, NaN included.
    EXPECT_TENSOR_CLOSE(addmm(full({4, 5}, NAN, t), m1, m2, 0), prod, tol, tol);
    Tensor x = rnd({4}, t), y = rnd({6}, t);
    EXPECT_TENSOR_CLOSE(outer(x, y), ref_matmul(x.unsqueeze(1), y.unsqueeze(0)), tol, tol);
    EXPECT_TENSOR_CLOSE(mv(m1, y), ref_matmul(m1, y), tol, tol);
    EXPECT_TENSOR_CLOSE(x.dot(x), ref_matmul(x, x), tol, tol);
  }
  Tensor ia = tensor({1, 2}), ib = tensor({3, 4});
  EXPECT_TENSOR_EQ(addmm(tensor({{1, 1}, {1, 1}}), ia.unsqueeze(1), ib.unsqueeze(0), 2, 3), tensor({{11, 14}, {20, 26}}));
  EXPECT_TENSOR_EQ(outer(tensor({true, false}), tensor({true, true})), tensor({{true, true}, {false, false}}));
  EXPECT_EQ(outer(tensor({1, 2}), tensor({0.5f})).dtype(), float32);  // promotes like *
}

// Products with one row of A or one column of B go to BLAS's gemv (Note [Matrix times vector
// through gemv]): every layout of the matrix and the vector, alpha and beta, in float32 and
// float64. Small integers make every product and partial sum exact: the result must equal the
// float64 reference exactly, whatever order gemv sums in.
TEST(Matmul, MatrixTimesVectorThroughGemvExact) {
  manual_seed(7);
  auto ints = [](std::vector<int64_t> shape, DType t) { return randint(-3, 4, shape, int64).to(t); };
  for (DType t : {float32, float64})
    for (int64_t K : {1, 7, 300})
      for (int64_t N : {1, 5, 130}) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " K=" + std::to_string(K) + " N=" + std::to_string(N));
        Tensor x = ints({1, K}, t), w = ints({N, K}, t);
        const Tensor want = ref_matmul(x, w.t());
        EXPECT_TENSOR_EQ(matmul(x, w.t()), want.to(t));  // x @ W^T, W stored N x K
        EXPECT_TENSOR_EQ(matmul(x, w.t().contiguous()), want.to(t));  // x @ B, B stored K x N
        Tensor xs = ints({1, 3 * K}, t).slice(1, 0, 3 * K, 3);  // x with stride 3 along K
        xs.copy_(x);
        EXPECT_TENSOR_EQ(matmul(xs, w.t()), want.to(t));
        EXPECT_TENSOR_EQ(matmul(x.squeeze(0), w.t()), want.squeeze(0).to(t));  // a 1-D x
        // W @ v: one column of B, A stored N x K or transposed.
        EXPECT_TENSOR_EQ(mv(w, x.squeeze(0)), ref_matmul(w, x.squeeze(0)).to(t));
        EXPECT_TENSOR_EQ(matmul(w.t().contiguous().t(), x.t()), ref_matmul(w, x.t()).to(t));
        EXPECT_TENSOR_EQ(matmul(w, xs.t()), ref_matmul(w, x.t()).to(t));
        // alpha and beta, and beta = 0 ignoring NaN in the output.
        Tensor c = ints({1, N}, t);
        EXPECT_TENSOR_EQ(addmm(c, x, w.t(), 3, 2), (want * 2.0 + c.to(float64) * 3.0).to(t));
        EXPECT_TENSOR_EQ(addmm(full({1, N}, NAN, t), x, w.t(), 0, 1), want.to(t));
        EXPECT_TENSOR_EQ(addmm(full({N, 1}, NAN, t), w, x.t(), 0, 1), ref_matmul(w, x.t()).to(t));
      }
  // A batch of vectors against one matrix, and a batch of matrix-vector products.
  Tensor xb = ints({4, 1, 33}, float32), wb = ints({4, 20, 33}, float32);
  EXPECT_TENSOR_EQ(matmul(xb, wb.transpose(1, 2)), ref_matmul(xb, wb.transpose(1, 2)).to(float32));
  EXPECT_TENSOR_EQ(matmul(wb, xb.transpose(1, 2)), ref_matmul(wb, xb.transpose(1, 2)).to(float32));
  // NaN and inf reach the right outputs.
  Tensor w = ones({6, 10}), v = ones({10});
  w.index_put_({2, 3}, NAN);
  v.index_put_({4}, INFINITY);
  const std::vector<double> got = values(mv(w, v));
  for (size_t i = 0; i < got.size(); ++i) {
    if (i == 2) EXPECT_TRUE(std::isnan(got[i]));
    else EXPECT_EQ(got[i], INFINITY) << i;
  }
}

TEST(Matmul, Methods) {
  Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}});
  Tensor expect = tensor({{7.0, 10.0}, {15.0, 22.0}});
  EXPECT_TENSOR_EQ(a.matmul(a), expect);
  EXPECT_TENSOR_EQ(a.mm(a), expect);
  EXPECT_TENSOR_EQ(a.unsqueeze(0).bmm(a.unsqueeze(0)), expect.unsqueeze(0));
  EXPECT_EQ(a[0].dot(a[1]).item<double>(), 11.0);
}

TEST(Matmul, BatchedParallelPathMatchesSerial) {
  // Many small matrices: spread over threads with BLAS held to one thread.
  manual_seed(6);
  Tensor a = rnd({64, 8, 9}), b = rnd({64, 9, 10});
  Tensor ref = ref_matmul(a, b);
  EXPECT_TENSOR_CLOSE(bmm(a, b), ref, 1e-5, 1e-5);
  set_num_threads(1);
  EXPECT_TENSOR_CLOSE(bmm(a, b), ref, 1e-5, 1e-5);
  EXPECT_TENSOR_CLOSE(bmm(a.to(bfloat16), b.to(bfloat16)), ref, 2e-2, 3e-2);
  set_num_threads(2);
  EXPECT_TENSOR_CLOSE(bmm(a.to(bfloat16), b.to(bfloat16)), ref, 2e-2, 3e-2);
}

// ---- gradients -------------------------------------------------------------------------------------

TEST(MatmulGrad, Gradcheck) {
  manual_seed(7);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{4}, {4}}, {{3, 4}, {4}}, {{4}, {4, 2}}, {{3, 4}, {4, 2}}, {{2, 3, 4}, {4, 2}},
      {{2, 3, 4}, {4}}, {{3, 4}, {2, 4, 2}}, {{2, 1, 3, 4}, {3, 4, 2}},
  };
  for (auto& [sa, sb] : cases) {
    Tensor a = randn(sa, float64).requires_grad_(), b = randn(sb, float64).requires_grad_();
    EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{matmul(x[0], x[1])}; },
                                    {a, b}))
        << a.shape() << " @ " << b.shape();
  }
  // Transposed inputs and the other entry points.
  Tensor a = randn({4, 3}, float64).requires_grad_(), b = randn({5, 4}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{mm(x[0].t(), x[1].t())}; }, {a, b}));
  Tensor i = randn({1, 5}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck(
      [](const autograd::Tensors& x) { return autograd::Tensors{addmm(x[0], x[1].t(), x[2].t(), 0.5, 2.0)}; }, {i, a, b}));
  Tensor u = randn({3}, float64).requires_grad_(), v = randn({4}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{outer(x[0], x[1])}; }, {u, v}));
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{dot(x[0], x[0])}; }, {v}));
  Tensor p = randn({2, 3, 4}, float64).requires_grad_(), q = randn({2, 4, 5}, float64).requires_grad_();
  EXPECT_TRUE(autograd::gradcheck([](const autograd::Tensors& x) { return autograd::Tensors{bmm(x[0], x[1])}; }, {p, q}));
  EXPECT_TRUE(autograd::gradgradcheck([](const autograd::Tensors& x) { return autograd::Tensors{matmul(x[0], x[1])}; }, {p, q}));
}

// Note [Products in their operand's layout] (src/ops/matmul.cpp): the gradient of a permuted
// batched operand is written in that operand's memory order (a transposed one through the
// transposed product), with the values of contiguous gradients, and stays differentiable.
TEST(MatmulGrad, PermutedOperandsGetGradientsInTheirLayout) {
  manual_seed(11);
  const Tensor x = randn({2, 4, 3}, float64), y = randn({4, 2, 5}, float64), g = randn({2, 3, 5}, float64);
  // x.permute(0, 2, 1): rows at unit stride (the transposed product); y.permute(1, 0, 2): the
  // batch dim in the middle of memory (a strided dense output).
  auto f = [](const autograd::Tensors& t) {
    return autograd::Tensors{matmul(t[0].permute({0, 2, 1}), t[1].permute({1, 0, 2}))};
  };
  const Tensor xa = x.clone().requires_grad_(), ya = y.clone().requires_grad_();
  const autograd::Tensors views = {xa.permute({0, 2, 1}), ya.permute({1, 0, 2})};
  const autograd::Tensors gv = autograd::grad({matmul(views[0], views[1])}, views, {g});
  EXPECT_EQ(gv[0].strides(), IntArrayRef({12, 1, 3}));
  EXPECT_EQ(gv[1].strides(), IntArrayRef({5, 10, 1}));
  EXPECT_TENSOR_CLOSE(gv[0], matmul(g, views[1].detach().mT()), 1e-12, 1e-12);
  EXPECT_TENSOR_CLOSE(gv[1], matmul(views[0].detach().mT(), g), 1e-12, 1e-12);
  // A linear layer's weight.t(): its gradient comes out contiguous for the weight, as PyTorch's.
  const Tensor w = randn({6, 4}, float64).requires_grad_(), b = randn({6}, float64).requires_grad_();
  const Tensor in = randn({5, 4}, float64), gl = randn({5, 6}, float64);
  // (autograd::grad: no AccumulateGrad, whose copy into .grad would be contiguous anyway)
  const Tensor gw = autograd::grad({addmm(b, in, w.t())}, {w}, {gl})[0];
  EXPECT_TRUE(gw.is_contiguous());
  EXPECT_TENSOR_CLOSE(gw, matmul(gl.t(), in), 1e-12, 1e-12);
  const Tensor in3 = randn({2, 5, 4}, float64);
  const Tensor gw3 = autograd::grad({matmul(in3, w.t())}, {w}, {gl.expand({2, 5, 6})})[0];
  EXPECT_TRUE(gw3.is_contiguous());
  EXPECT_TENSOR_CLOSE(gw3, matmul(gl.t(), in3[0] + in3[1]), 1e-12, 1e-12);
  const Tensor xc = x.clone().requires_grad_(), yc = y.clone().requires_grad_();
  EXPECT_TRUE(autograd::gradcheck(f, {xc, yc}));
  EXPECT_TRUE(autograd::gradgradcheck(f, {xc, yc}));
}

TEST(MatmulGrad, BroadcastBatchGradientIsSummed) {
  Tensor a = ones({3, 2, 4}, float64).requires_grad_();
  Tensor b = ones({4, 5}, float64).requires_grad_();
  matmul(a.mT().mT(), b).sum().backward();
  EXPECT_TENSOR_EQ(b.grad(), full({4, 5}, 6.0, float64));  // 3 batches x 2 rows
  EXPECT_TENSOR_EQ(a.grad(), full({3, 2, 4}, 5.0, float64));
  EXPECT_EQ(mm(a[0], b).grad_fn()->name(), "MmBackward0");
}

// ---- errors ----------------------------------------------------------------------------------------

TEST(MatmulErrors, Shapes) {
  EXPECT_THROW_MSG(mm(ones({2, 3}), ones({4, 5})), ShapeError,
                   "[mm] mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
  EXPECT_THROW_MSG(matmul(ones({2, 3}), ones({4, 5})), ShapeError,
                   "[matmul] mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
  EXPECT_THROW_MSG(matmul(ones({2, 3}), ones({4})), ShapeError, "cannot be multiplied (2x3 and 4)");
  EXPECT_THROW_MSG(matmul(ones({3}), ones({4})), ShapeError, "cannot be multiplied (3 and 4)");
  EXPECT_THROW_MSG(matmul(ones({}), ones({4})), ShapeError,
                   "[matmul] both arguments to matmul need to be at least 1D, but they are 0D and 1D");
  EXPECT_THROW_MSG(matmul(ones({2, 2, 3}), ones({3, 3, 4})), ShapeError,
                   "[matmul] The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0");
  EXPECT_THROW_MSG(mm(ones({3}), ones({3, 4})), ShapeError, "[mm] mat1 must be a matrix, got 1-D tensor");
  EXPECT_THROW_MSG(mm(ones({2, 3}), ones({3, 4, 1})), ShapeError, "[mm] mat2 must be a matrix, got 3-D tensor");
  EXPECT_THROW_MSG(bmm(ones({2, 3}), ones({2, 3, 4})), ShapeError, "[bmm] batch1 must be a 3D tensor");
  EXPECT_THROW_MSG(bmm(ones({2, 2, 3}), ones({3, 3, 4})), ShapeError,
                   "[bmm] Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]");
  EXPECT_THROW_MSG(dot(ones({2, 3}), ones({3})), ShapeError, "[dot] 1D tensors expected, but got 2D and 1D tensors");
  EXPECT_THROW_MSG(dot(ones({3}), ones({4})), ShapeError,
                   "[dot] inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements");
  EXPECT_THROW_MSG(outer(ones({2, 2}), ones({3})), ShapeError, "[outer] Expected 1-D argument self, but got 2-D");
  EXPECT_THROW_MSG(mv(ones({2, 3}), ones({2})), ShapeError, "[mv] mat1 and mat2 shapes cannot be multiplied (2x3 and 2)");
  EXPECT_THROW_MSG(addmm(ones({3}), ones({2, 3}), ones({3, 4})), ShapeError,
                   "[addmm] input of shape [3] cannot be broadcast to the product's shape [2, 4]");
  EXPECT_THROW_MSG(addmm(ones({2, 4}), ones({2, 3}), ones({2, 4})), ShapeError,
                   "[addmm] mat1 and mat2 shapes cannot be multiplied (2x3 and 2x4)");
}

TEST(MatmulErrors, DtypesAndDevices) {
  EXPECT_THROW_MSG(matmul(ones({2, 2}), ones({2, 2}, float64)), DTypeError,
                   "[matmul] dtype mismatch: expected both operands to have the same dtype, got float32 and float64");
  EXPECT_THROW_MSG(mm(ones({2, 2}, int64), ones({2, 2})), DTypeError, "[mm] dtype mismatch");
  EXPECT_THROW_MSG(matmul(ones({2, 2}, bool_), ones({2, 2}, bool_)), DTypeError, "[matmul] not implemented for dtype bool");
  EXPECT_THROW_MSG(addmm(ones({2, 2}, float64), ones({2, 2}), ones({2, 2})), DTypeError, "[addmm] dtype mismatch");
  EXPECT_THROW_MSG(addmm(ones({2, 2}, int64), ones({2, 2}, int64), ones({2, 2}, int64), 0.5), ValueError,
                   "[addmm] For integral input tensors, argument alpha and beta must not be a floating point number");
  EXPECT_THROW_MSG(matmul(Tensor(), ones({2})), Error, "[matmul]");
}

TEST(Matmul, EmptyInnerDimWithBatchedLeftOperand) {
  // (..., M, 0) @ (0, N) folds the batch into rows; the product is zeros of shape (..., M, N).
  EXPECT_TENSOR_EQ(matmul(empty_tensor({1, 1, 0}, float32), empty_tensor({0, 1}, float32)), zeros({1, 1, 1}));
  EXPECT_TENSOR_EQ(matmul(empty_tensor({2, 3, 0}, float64), empty_tensor({0}, float64)), zeros({2, 3}, float64));
  EXPECT_EQ(matmul(empty_tensor({2, 0, 0}, float32), empty_tensor({0, 4}, float32)).shape(), IntArrayRef({2, 0, 4}));
}
