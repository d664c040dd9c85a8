// compile(grad(f)): the backward pass traced into the compiled program (Note [Gradients inside a
// trace], src/lazy/lazy.cpp). Every op in the registry (tests/op_registry.h) through
// compile(vjp): the compiled gradients against eager vjp, on the traced call and on replays with
// other values; a training step's value_and_grad; and the compositions that must run f instead.
#include <set>

#include "op_registry.h"
#include "ricci/compile.h"
#include "ricci/nn/functional.h"
#include "ricci/nn/layers.h"
#include "ricci/optim.h"
#include "ricci/random.h"
#include "ricci/transforms.h"

namespace ricci {
namespace {

using namespace op_registry;

Tensors plain_inputs(const Case& c, Layout layout, int salt) {
  Tensors in;
  for (size_t i = 0; i < c.shapes.size(); ++i)
    in.push_back(make_input(c.shapes[i], c.domain, static_cast<int>(i) + salt, layout).detach());
  return in;
}

// Fixed cotangents with the shapes of f's floating-point outputs.
Tensors cotangents_for(const Tensors& outs) {
  Tensors u(outs.size());
  for (size_t j = 0; j < outs.size(); ++j) {
    if (!outs[j].defined() || !is_floating_point(outs[j].dtype())) continue;
    const int64_t n = outs[j].numel();
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = std::cos(0.3 * static_cast<double>(k) + 0.7 * static_cast<double>(j)) + 0.1;
    u[j] = from_vector(v, outs[j].shape(), outs[j].dtype());
  }
  return u;
}

// The ops compile(vjp) runs uncompiled, because the forward or the backward rule needs values
// while it is traced (an index or mask read, a sort order, a value check), runs a kernel in its
// own code outside the kernel table, or keeps a tensor its rule captures (the extrema's masks).
// Listed so that a change in either direction is seen.
const std::set<std::string>& untraceable_backward() {
  static const std::set<std::string> names = {
      "prod", "prod_dim", "max_dim", "min_dim", "cumsum", "cumprod",
      "scatter_src", "scatter_value", "scatter_add", "index_add", "index_tensor", "index_mask",
      "index_put", "index_put_overwrite", "sort", "sort_desc", "topk", "cross_entropy_smoothing",
      "binary_cross_entropy", "einops_reduce_prod", "median_all", "median_dim", "kthvalue",
      "cummax", "cummin", "diag_vector", "diag_embed", "repeat_interleave_tensor"};
  return names;
}

TEST(CompileGrad, EveryRegistryOpMatchesEagerVjp) {
  int traced = 0, checked = 0;
  std::vector<std::string> fell_back;
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.name);
    const Tensors x = plain_inputs(c, Layout::Contiguous, 0);
    Tensors float_outs = c.fn(x);
    const Tensors u = cotangents_for(float_outs);
    TensorFn f = [&c](const Tensors& in) {
      Tensors out = c.fn(in);
      for (Tensor& o : out)
        if (o.defined() && !is_floating_point(o.dtype())) o = Tensor();
      return out;
    };
    // The cotangents are inputs too: a compiled vjp takes them per call.
    const size_t n = x.size();
    TensorFn pullback = [f, n](const Tensors& in) {
      const Tensors primals(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
      const Tensors cot(in.begin() + static_cast<std::ptrdiff_t>(n), in.end());
      return vjp(f, primals, cot).second;
    };
    TensorFn compiled = compile(pullback);
    for (int call = 0; call < 2; ++call) {
      // The second call replays the program on other values in other layouts (nothing frozen
      // into the trace; views the trace took of an input are taken of the new one).
      const Tensors xc = call == 0 ? x : plain_inputs(c, Layout::NonContiguous, 3);
      Tensors args = xc;
      args.insert(args.end(), u.begin(), u.end());
      const Tensors want = pullback(args);
      Tensors got;
      try {
        got = compiled(args);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "compiled vjp threw: " << e.what();
        break;
      }
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        if (!want[i].defined()) continue;
        ASSERT_TRUE(got[i].defined()) << "input " << i;
        EXPECT_TRUE(allclose(got[i], want[i], 1e-10, 1e-12)) << "call " << call << ", input " << i << ": compiled "
                                                              << got[i] << " vs eager " << want[i];
      }
    }
    ++checked;
    if (compile_stats(compiled).traceable) ++traced;
    else {
      fell_back.push_back(c.name);
      std::cout << "[compile(vjp)] " << c.name << " runs uncompiled: " << compile_stats(compiled).untraceable_reason << "\n";
    }
  }
  EXPECT_GT(checked, 100);
  std::string names;
  for (const std::string& s : fell_back) names += s + " ";
  std::cout << "[compile(vjp)] " << traced << " of " << checked << " registry ops traced; run uncompiled: " << names << "\n";
  const std::set<std::string> fell(fell_back.begin(), fell_back.end());
  for (const std::string& s : fell) EXPECT_TRUE(untraceable_backward().count(s)) << s << " no longer traces";
  for (const std::string& s : untraceable_backward()) EXPECT_TRUE(fell.count(s)) << s << " traces now: take it off the list";
}

// A small GPT: token embedding, one pre-norm TransformerBlock with dropout, final norm, head.
struct TinyGpt {
  std::shared_ptr<nn::Embedding> emb = std::make_shared<nn::Embedding>(17, 16);
  std::shared_ptr<nn::TransformerBlock> block = std::make_shared<nn::TransformerBlock>(16, 2, 0.1);
  std::shared_ptr<nn::LayerNorm> ln = std::make_shared<nn::LayerNorm>(16);
  std::shared_ptr<nn::Linear> head = std::make_shared<nn::Linear>(16, 17, /*bias=*/false);
  std::vector<Tensor> params() const {
    std::vector<Tensor> ps;
    for (const Tensor& p : emb->parameters()) ps.push_back(p);
    for (const Tensor& p : block->parameters()) ps.push_back(p);
    for (const Tensor& p : ln->parameters()) ps.push_back(p);
    for (const Tensor& p : head->parameters()) ps.push_back(p);
    return ps;
  }
  Tensor loss(const Tensor& x, const Tensor& y) const {
    const Tensor logits = head->forward(ln->forward(block->forward(emb->forward(x))));
    return nn::functional::cross_entropy(logits.reshape({-1, 17}), y.reshape({-1}));
  }
};

// The weights after `steps` AdamW steps, each step's loss and gradients eager or compiled; the
// dropout masks come from the default generator either way.
std::vector<Tensor> train(bool compiled, int steps, CompileStats* stats = nullptr) {
  manual_seed(11);
  TinyGpt m;
  const std::vector<Tensor> ps = m.params();
  optim::AdamW opt(ps, {.lr = 1e-2});
  TensorFn step = compile([&](const Tensors& in) {
    const Tensor loss = m.loss(in[0], in[1]);
    const Tensors grads = autograd::grad({loss}, ps);
    Tensors out{loss.detach()};
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  });
  Generator data(3);
  for (int i = 0; i < steps; ++i) {
    const Tensor x = randint(0, 17, {4, 8}, {}, &data), y = randint(0, 17, {4, 8}, {}, &data);
    opt.zero_grad();
    if (compiled) {
      const Tensors out = step({x, y});
      for (size_t k = 0; k < ps.size(); ++k) Tensor(ps[k]).set_grad(out[k + 1]);
    } else {
      m.loss(x, y).backward();
    }
    opt.step();
  }
  if (stats) *stats = compile_stats(step);
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach().clone());
  return out;
}

TEST(CompileGrad, TrainingStepIsEagerBitForBit) {
  CompileStats st;
  const std::vector<Tensor> eager = train(false, 4), compiled = train(true, 4, &st);
  EXPECT_TRUE(st.traceable);
  EXPECT_EQ(st.traces, 1);
  EXPECT_GT(st.traced_ops, 60);  // forward and backward: the whole step is one program
  ASSERT_EQ(eager.size(), compiled.size());
  // Bit for bit, which also shows the compiled step drew new dropout masks each step as eager did.
  for (size_t k = 0; k < eager.size(); ++k) EXPECT_TRUE(allclose(compiled[k], eager[k], 0, 0)) << "parameter " << k;
}

TEST(CompileGrad, ComposesWithOuterTransforms) {
  const TensorFn f = [](const Tensors& in) { return Tensors{(in[0].tanh() * in[0]).sum()}; };
  const TensorFn df = grad(f);
  const TensorFn compiled = compile(df);
  const Tensor x = from_vector(std::vector<double>{0.3, -1.2, 0.7, 2.0}, {4}, float64);
  EXPECT_TRUE(allclose(compiled({x})[0], df({x})[0], 1e-13, 1e-13));
  EXPECT_TRUE(compile_stats(compiled).traceable);
  // Outer transforms differentiate or batch f itself (the program holds a backward pass as it ran).
  const TensorFn second = [&](const Tensors& in) { return Tensors{compiled(in)[0].sum()}; };
  const TensorFn second_eager = [&](const Tensors& in) { return Tensors{df(in)[0].sum()}; };
  EXPECT_TRUE(allclose(grad(second)({x})[0], grad(second_eager)({x})[0], 1e-12, 1e-12));
  const Tensor v = from_vector(std::vector<double>{1, 0.5, -1, 2}, {4}, float64);
  EXPECT_TRUE(allclose(jvp(compiled, {x}, {v}).second[0], jvp(df, {x}, {v}).second[0], 1e-12, 1e-12));
  const Tensor X = from_vector(std::vector<double>{0.1, 0.2, 0.3, 0.4, -0.5, -0.6, 0.7, 0.8}, {2, 4}, float64);
  EXPECT_TRUE(allclose(vmap(compiled)({X})[0], vmap(df)({X})[0], 1e-12, 1e-12));
  // With an input that requires grad, the compiled function's result keeps its history.
  const Tensor xr = x.detach().requires_grad_(true);
  const Tensor gx = compiled({xr})[0];
  EXPECT_TRUE(gx.requires_grad());
  // Lazily: one pending call, evaluated when read.
  Tensor lazy_out;
  {
    LazyGuard lazy;
    lazy_out = compiled({x})[0];
  }
  EXPECT_TRUE(allclose(lazy_out, df({x})[0], 1e-13, 1e-13));
}

TEST(CompileGrad, NewSignaturesTraceAgain) {
  const TensorFn f = [](const Tensors& in) { return Tensors{(in[0].exp() * in[1]).sum()}; };
  const ValueAndGradFn vg = value_and_grad(f, {0, 1});
  const TensorFn compiled = compile([vg](const Tensors& in) {
    auto [vals, grads] = vg(in);
    Tensors out = vals;
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  }, {.generate_code = false});
  for (int64_t n : {3, 5}) {
    for (DType t : {float32, float64}) {
      const Tensor a = randn({n}, t), b = randn({n}, t);
      const Tensors got = compiled({a, b});
      EXPECT_TRUE(allclose(got[0], (a.exp() * b).sum(), 1e-5, 1e-6));
      EXPECT_TRUE(allclose(got[1], a.exp() * b, 1e-5, 1e-6));
      EXPECT_TRUE(allclose(got[2], a.exp(), 1e-5, 1e-6));
    }
  }
  EXPECT_EQ(compile_stats(compiled).traces, 4);
}

// An op that takes a view of its input inside its own code and saves it for its rule (matmul of a
// matrix and a vector multiplies by v.unsqueeze(1)): the program re-makes that view from the value
// when it runs (AliasOf in compile.cpp), also when the value comes in another layout.
TEST(CompileGrad, ViewsAnOpTookInsideAreRemade) {
  const TensorFn f = [](const Tensors& in) { return Tensors{(in[0].matmul(in[1]) * in[2]).sum()}; };
  const TensorFn df = grad(f, {0, 1});
  const TensorFn compiled = compile(df);
  for (int call = 0; call < 3; ++call) {
    const Tensor m = randn({3, 3}, float64), c = randn({3}, float64);
    // The second and third calls replay on a strided vector and a transposed matrix.
    const Tensor v = call == 0 ? randn({3}, float64) : randn({7}, float64).slice(0, 1, 7, 2);
    const Tensor mm = call == 2 ? m.t() : m;
    const Tensors want = df({mm, v, c}), got = compiled({mm, v, c});
    EXPECT_TRUE(compile_stats(compiled).traceable) << compile_stats(compiled).untraceable_reason;
    EXPECT_TRUE(allclose(got[0], want[0], 1e-12, 1e-12)) << got[0] << " vs " << want[0];
    EXPECT_TRUE(allclose(got[1], want[1], 1e-12, 1e-12)) << got[1] << " vs " << want[1];
  }
  EXPECT_EQ(compile_stats(compiled).traces, 1);
}

// Inside compile's trace linear records its one-addmm form and attention its batched products
// (fast_forms_apply): replayed op by op under vmap or a gradient, those primitives give f's values.
TEST(CompileGrad, FastFormsReplayUnderOuterTransforms) {
  const Tensor w = randn({5, 4}, float64), b = randn({5}, float64);
  const TensorFn f = [&](const Tensors& in) {
    const Tensor h = nn::functional::linear(in[0], w, b);  // (2, 3, 5)
    const Tensor q = h.reshape({2, 3, 5});
    return Tensors{nn::functional::scaled_dot_product_attention(q, q, q, Tensor(), true)};
  };
  const TensorFn compiled = compile(f);
  const Tensor x = randn({2, 3, 4}, float64);
  EXPECT_TRUE(allclose(compiled({x})[0], f({x})[0], 1e-12, 1e-12));
  EXPECT_TRUE(compile_stats(compiled).traceable) << compile_stats(compiled).untraceable_reason;
  const Tensor X = randn({3, 2, 3, 4}, float64);
  EXPECT_TRUE(allclose(vmap(compiled)({X})[0], vmap(f)({X})[0], 1e-12, 1e-12));
  const TensorFn loss = [&](const Tensors& in) { return Tensors{compiled(in)[0].sum()}; };
  const TensorFn loss_eager = [&](const Tensors& in) { return Tensors{f(in)[0].sum()}; };
  EXPECT_TRUE(allclose(grad(loss)({x})[0], grad(loss_eager)({x})[0], 1e-12, 1e-12));
}

TEST(CompileGrad, UntraceableSaysWhy) {
  const TensorFn reads = compile([](const Tensors& in) { return Tensors{in[0] * in[0].sum().item<double>()}; });
  const Tensor x = ones({3});
  EXPECT_TRUE(allclose(reads({x})[0], x * 3, 0, 0));
  EXPECT_FALSE(compile_stats(reads).traceable);
  EXPECT_NE(compile_stats(reads).untraceable_reason.find("needs a traced tensor's value"), std::string::npos)
      << compile_stats(reads).untraceable_reason;
  const TensorFn samples = compile([](const Tensors& in) { return Tensors{in[0] + randperm(4).to(float32)}; });
  samples({ones({4})});
  EXPECT_NE(compile_stats(samples).untraceable_reason.find("random draw"), std::string::npos)
      << compile_stats(samples).untraceable_reason;
  const TensorFn fine = compile([](const Tensors& in) { return Tensors{in[0] * 2}; });
  fine({x});
  EXPECT_TRUE(compile_stats(fine).untraceable_reason.empty());
}

}  // namespace
}  // namespace ricci
