// Every op in the registry (tests/op_registry.h) through the function transforms: jvp against
// central finite differences (float64), the adjoint identity <u, J v> = <J^T u, v> between jvp
// and vjp, and vmap(f)(X) against stacking f(X[i]) with the batch axis first, last and in the
// middle, on non-contiguous inputs. A new op added to the registry is covered here too.
#include "op_registry.h"
#include "ricci/transforms.h"

namespace ricci {
namespace {

using namespace op_registry;

Tensors inputs_for(const Case& c, Layout layout) {
  Tensors in;
  for (size_t i = 0; i < c.shapes.size(); ++i) in.push_back(make_input(c.shapes[i], c.domain, static_cast<int>(i), layout).detach());
  return in;
}

// Deterministic directions with the inputs' shapes.
Tensors directions(const Tensors& like, int salt) {
  Tensors d;
  for (size_t i = 0; i < like.size(); ++i) {
    const int64_t n = like[i].numel();
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = std::cos(0.7 * static_cast<double>(k) + 1.3 * salt + static_cast<double>(i));
    d.push_back(from_vector(v, like[i].shape(), float64));
  }
  return d;
}

double dot_all(const Tensors& a, const Tensors& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].defined() && b[i].defined() && is_floating_point(a[i].dtype())) s += (a[i].to(float64) * b[i].to(float64)).sum().item<double>();
  return s;
}

Tensors float_outputs(const Case& c, const Tensors& in) {
  Tensors out = c.fn(in);
  for (Tensor& o : out)
    if (o.defined() && !is_floating_point(o.dtype())) o = Tensor();
  return out;
}

TEST(TransformsRegistry, JvpMatchesFiniteDifferencesAndVjp) {
  int checked = 0;
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.name);
    const Tensors x = inputs_for(c, Layout::Contiguous);
    const Tensors v = directions(x, 1);
    TensorFn f = [&c](const Tensors& in) { return float_outputs(c, in); };
    Tensors jv;
    try {
      jv = jvp(f, x, v).second;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "jvp threw: " << e.what();
      continue;
    }
    // Central differences along v.
    const double h = 1e-6;
    Tensors xp, xm;
    for (size_t i = 0; i < x.size(); ++i) {
      xp.push_back(x[i] + v[i] * h);
      xm.push_back(x[i] - v[i] * h);
    }
    const Tensors fp = f(xp), fm = f(xm);
    for (size_t j = 0; j < fp.size(); ++j) {
      if (!fp[j].defined()) continue;
      const Tensor fd = (fp[j] - fm[j]) / (2 * h);
      EXPECT_TRUE(allclose(jv[j], fd, 1e-5, 1e-6)) << "output " << j << ": jvp " << jv[j] << " vs finite differences " << fd;
    }
    // <u, J v> = <J^T u, v>.
    const Tensors outs = f(x);
    Tensors u = directions(outs, 2);
    for (size_t j = 0; j < outs.size(); ++j)
      if (!outs[j].defined()) u[j] = Tensor();
    const Tensors jtu = vjp(f, x, u).second;
    const double lhs = dot_all(u, jv), rhs = dot_all(jtu, v);
    EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::abs(lhs)));
    ++checked;
  }
  EXPECT_GT(checked, 90);
}

void expect_vmap_matches_stack(const Case& c, int64_t axis_choice) {
  const int64_t B = 3;
  // Batched inputs: each example's input, stacked along the chosen axis, made non-contiguous.
  Tensors xs;
  std::vector<Tensors> examples(B);
  Axes axes;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    Tensors per;
    for (int64_t b = 0; b < B; ++b) {
      Tensor e = make_input(c.shapes[i], c.domain, static_cast<int>(i + 7 * b), Layout::Contiguous).detach();
      examples[static_cast<size_t>(b)].push_back(e);
      per.push_back(e);
    }
    const int64_t nd = static_cast<int64_t>(c.shapes[i].size()) + 1;
    const int64_t axis = axis_choice == 0 ? 0 : axis_choice == 1 ? nd - 1 : nd / 2;
    Tensor stacked = stack(per, axis);
    // The same values in a transposed buffer: non-contiguous.
    Tensor nc = stacked.dim() >= 2 ? stacked.transpose(0, stacked.dim() - 1).contiguous().transpose(0, stacked.dim() - 1) : stacked;
    xs.push_back(nc);
    axes.push_back(axis);
  }
  TensorFn f = [&c](const Tensors& in) { return float_outputs(c, in); };
  Tensors got = vmap(f, axes)(xs);
  std::vector<Tensors> want_parts;
  for (int64_t b = 0; b < B; ++b) want_parts.push_back(f(examples[static_cast<size_t>(b)]));
  ASSERT_EQ(got.size(), want_parts[0].size());
  for (size_t j = 0; j < got.size(); ++j) {
    if (!want_parts[0][j].defined()) continue;
    Tensors parts;
    for (auto& p : want_parts) parts.push_back(p[j]);
    const Tensor want = stack(parts, 0);
    ASSERT_EQ(got[j].shape(), want.shape()) << "output " << j;
    EXPECT_TRUE(allclose(got[j], want, 1e-12, 1e-12)) << "output " << j;
  }
}

TEST(TransformsRegistry, VmapMatchesStackingExamples) {
  for (const Case& c : all_cases()) {
    for (int64_t choice : {0, 1, 2}) {
      SCOPED_TRACE(std::string(c.name) + " axis choice " + std::to_string(choice));
      try {
        expect_vmap_matches_stack(c, choice);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "vmap threw: " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace ricci
