// bench/overhead_instr.cpp against libtorch: the same cases, the same loops, for instruction
// counts under `valgrind --tool=callgrind` ((count at 2N − count at N) / N per op). Built by
// bench/torch_autograd.sh next to torch_autograd (libtorch is a peer, never a dependency).
//   torch_overhead_instr <case> <n>   (cases as in overhead_instr.cpp, lazy ones excepted)
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

torch::Tensor one(double v, bool requires_grad) {
  return torch::full({1}, v, torch::kFloat32).set_requires_grad(requires_grad);
}

volatile float g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <case> <n>\n", argv[0]);
    return 2;
  }
  torch::set_num_threads(1);
  const char* which = argv[1];
  const long n = std::atol(argv[2]);
  auto is = [&](const char* c) { return std::strcmp(which, c) == 0; };
  if (is("add_tiny_nograd") || is("add_tiny_requires_grad")) {
    const torch::Tensor a = one(1, is("add_tiny_requires_grad")), b = one(2, false);
    torch::Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (is("add_tiny_no_grad_guard")) {
    const torch::Tensor a = one(1, true), b = one(2, false);
    torch::NoGradGuard guard;
    torch::Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (is("add_tiny_inference_mode")) {
    const torch::Tensor a = one(1, true), b = one(2, false);
    c10::InferenceMode guard;
    torch::Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (is("mul_backward_tiny")) {
    torch::Tensor a = one(1, true), b = one(2, true);
    for (long i = 0; i < n; ++i) {
      (a * b).sum().backward();
      a.mutable_grad().reset();
      b.mutable_grad().reset();
    }
  } else if (is("scalar_graph_forward") || is("scalar_graph_backward") || is("scalar_graph_free")) {
    torch::Tensor x = one(1, true), m = one(1, false), c = one(0, false);
    torch::Tensor y = x;
    for (long i = 0; i < n; ++i) y = (i & 1) ? y + c : y * m;
    if (!is("scalar_graph_forward")) y.sum().backward();
    g_sink = y.defined() ? 1.0f : 0.0f;
    if (is("scalar_graph_free")) y = torch::Tensor();
    std::fflush(stdout);
    std::_Exit(0);
  } else {
    std::fprintf(stderr, "unknown case %s\n", which);
    return 2;
  }
  return 0;
}
