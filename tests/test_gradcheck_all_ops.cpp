// Every differentiable op against finite differences (float64): on contiguous inputs, on
// non-contiguous ones (transposed, or sliced with a step), and on broadcast shapes where the op
// broadcasts; gradgradcheck where the second derivative is cheap to check.
//
// Inputs are deterministic and kept away from kinks (0 for abs/relu, ties for max/sort), where
// a finite difference straddles two branches and disagrees with any one-sided rule.
#include "op_registry.h"

namespace ricci {
namespace {

using namespace op_registry;

void run_case(const Case& c, const std::vector<Dims>& shapes, Layout layout, const char* label) {
  SCOPED_TRACE(std::string(c.name) + " / " + label);
  Tensors inputs;
  for (size_t i = 0; i < shapes.size(); ++i) inputs.push_back(make_input(shapes[i], c.domain, static_cast<int>(i), layout));
  if (layout == Layout::NonContiguous) {
    bool any = false;
    for (const Tensor& t : inputs) any = any || !t.is_contiguous();
    if (!any) return;  // 0-d or one-element inputs: nothing new to test
  }
  try {
    EXPECT_TRUE(autograd::gradcheck(c.fn, inputs));
    if (c.gradgrad) {
      EXPECT_TRUE(autograd::gradgradcheck(c.fn, inputs));
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

void run_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    run_case(c, c.shapes, Layout::Contiguous, "contiguous");
    run_case(c, c.shapes, Layout::NonContiguous, "non-contiguous");
    if (!c.broadcast_shapes.empty()) {
      run_case(c, c.broadcast_shapes, Layout::Contiguous, "broadcast");
      run_case(c, c.broadcast_shapes, Layout::NonContiguous, "broadcast non-contiguous");
    }
  }
}

TEST(GradcheckAllOps, Elementwise) { run_all(elementwise_cases()); }
TEST(GradcheckAllOps, Reductions) { run_all(reduction_cases()); }
TEST(GradcheckAllOps, Linalg) { run_all(linalg_cases()); }
TEST(GradcheckAllOps, IndexingAndShape) { run_all(index_and_shape_cases()); }
TEST(GradcheckAllOps, NnFunctional) { run_all(nn_cases()); }
TEST(GradcheckAllOps, Einsum) { run_all(einsum_cases()); }
TEST(GradcheckAllOps, Einops) { run_all(einops_cases()); }
TEST(GradcheckAllOps, StructExtra) { run_all(struct_extra_cases()); }

TEST(GradcheckAllOps, ZeroDimInputs) {
  const std::vector<Case> cs = {
      {"mul_0d", {{}, {}}, [](const Tensors& in) { return Tensors{in[0] * in[1]}; }, true},
      {"broadcast_0d", {{}, {3}}, [](const Tensors& in) { return Tensors{in[0] * in[1] + in[0]}; }, true},
      {"sum_0d", {{}}, [](const Tensors& in) { return Tensors{in[0].sum()}; }},
      {"exp_0d", {{}}, [](const Tensors& in) { return Tensors{in[0].exp()}; }, true},
  };
  run_all(cs);
}

}  // namespace
}  // namespace ricci
