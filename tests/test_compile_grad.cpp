// compile(grad(f)): the backward pass traced into the compiled program (Note [Gradients inside a
// trace], src/lazy/lazy.cpp). Every op in the registry (tests/op_registry.h) through
// compile(vjp): the compiled gradients against eager vjp, on the traced call and on replays with
// other values; a training step's value_and_grad; and the compositions that must run f instead.
#include <set>

#include "op_registry.h"
#include "ricci/compile.h"
#include "ricci/nn/functional.h"
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
      "prod", "prod_dim", "amax", "amin", "max", "min",
      "max_dim", "min_dim", "norm_inf", "cumsum", "cumprod",
      "index_select", "gather", "take_along_dim", "scatter_src", "scatter_value", "scatter_add",
      "index_add", "index_tensor", "index_mask", "index_put", "index_put_overwrite", "sort",
      "sort_desc", "topk", "cross_entropy_smoothing", "binary_cross_entropy", "cosine_similarity", "einops_reduce_max",
      "einops_reduce_prod", "median_all", "median_dim", "kthvalue", "cummax", "cummin",
      "pad_reflect", "pad_replicate", "pad_circular", "diag_vector", "diag_embed",
      "repeat_interleave_tensor"};
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
    else fell_back.push_back(c.name);
  }
  EXPECT_GT(checked, 100);
  std::string names;
  for (const std::string& s : fell_back) names += s + " ";
  std::cout << "[compile(vjp)] " << traced << " of " << checked << " registry ops traced; run uncompiled: " << names << "\n";
  const std::set<std::string> fell(fell_back.begin(), fell_back.end());
  for (const std::string& s : fell) EXPECT_TRUE(untraceable_backward().count(s)) << s << " no longer traces";
  for (const std::string& s : untraceable_backward()) EXPECT_TRUE(fell.count(s)) << s << " traces now: take it off the list";
}

}  // namespace
}  // namespace ricci
