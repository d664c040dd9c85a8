// to_dot: the lesson's worked DAG as Graphviz. With RICCI_WORKED_DAG_DOT=<path> in the
// environment the test also writes the DOT there (how docs/images/worked_dag.dot is made:
// see docs/autograd.md).
#include <cstdlib>
#include <fstream>

#include "test_util.h"

namespace ricci {
namespace {

Tensor leaf(double v) {
  Tensor t = scalar_tensor(v, float64);
  t.requires_grad_();
  return t;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(ToDot, WorkedDag) {
  Tensor a = leaf(2), b = leaf(3);
  Tensor c = a * b, d = a + b, e = c * d, L = e.pow(2);
  c.retain_grad();
  d.retain_grad();
  e.retain_grad();
  L.backward(Tensor(), /*retain_graph=*/true);
  const std::string dot =
      autograd::to_dot(L, {{"a", a}, {"b", b}, {"c", c}, {"d", d}, {"e", e}, {"L", L}});
  EXPECT_EQ(dot.rfind("digraph", 0), 0u);
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_NE(dot.find("a (leaf)\\nvalue 2 · grad 1260"), std::string::npos) << dot;
  EXPECT_NE(dot.find("b (leaf)\\nvalue 3 · grad 960"), std::string::npos) << dot;
  EXPECT_NE(dot.find("c = MulBackward0\\nvalue 6 · grad 300"), std::string::npos) << dot;
  EXPECT_NE(dot.find("d = AddBackward0\\nvalue 5 · grad 360"), std::string::npos) << dot;
  EXPECT_NE(dot.find("e = MulBackward0\\nvalue 30 · grad 60"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\\nvalue 900"), std::string::npos) << dot;
  EXPECT_NE(dot.find("[] float64 · 8 B"), std::string::npos) << dot;
  // 6 tensors; edges a→c, b→c, a→d, b→d, c→e, d→e, e→L.
  EXPECT_EQ(count(dot, "[label="), 6u);
  EXPECT_EQ(count(dot, " -> "), 7u);
  EXPECT_EQ(count(dot, "peripheries=2"), 1u);  // the root

  if (const char* path = std::getenv("RICCI_WORKED_DAG_DOT")) {
    std::ofstream(path) << dot;
  }
}

TEST(ToDot, UnnamedLeavesAndLargeTensors) {
  Tensor x = ones({4, 5}, float32);
  x.requires_grad_();
  Tensor y = (x * 2.0).sum();
  const std::string dot = autograd::to_dot(y);
  EXPECT_NE(dot.find("leaf (leaf)\\nvalue …"), std::string::npos) << dot;  // 20 elements: values elided
  EXPECT_NE(dot.find("[4, 5] float32 · 80 B"), std::string::npos) << dot;
  EXPECT_NE(dot.find("MulBackward0"), std::string::npos) << dot;
  EXPECT_NE(dot.find("SumBackward"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("· grad"), std::string::npos) << dot;  // no backward yet
}

TEST(ToDot, TensorWithoutGraph) {
  const std::string dot = autograd::to_dot(tensor({1., 2.}, float64));
  EXPECT_NE(dot.find("no graph"), std::string::npos) << dot;
  EXPECT_NE(dot.find("value [1, 2]"), std::string::npos) << dot;
}

TEST(ToDot, ConstantInputsAreNotDrawn) {
  Tensor a = leaf(2);
  Tensor k = scalar_tensor(5.0, float64);
  const std::string dot = autograd::to_dot(a * k, {{"a", a}, {"k", k}});
  EXPECT_EQ(dot.find("k (leaf)"), std::string::npos) << dot;
  EXPECT_EQ(count(dot, " -> "), 1u);
}

TEST(ToDot, UndefinedRootThrows) {
  EXPECT_THROW_MSG(autograd::to_dot(Tensor()), Error, "to_dot");
}

}  // namespace
}  // namespace ricci
