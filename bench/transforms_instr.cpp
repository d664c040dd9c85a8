// Instructions per call of bench_transforms.cpp's cases, for bench/run_transforms.sh: run under
// `valgrind --tool=callgrind` once with N and once with 2N calls; the difference divided by N is
// the per-call count, free of start-up and setup. Wall-clock time on a shared machine moves by
// tens of percent; instruction counts do not. Same model and data as bench_transforms.cpp.
//   transforms_instr <case> <n>   case: vmap | vmap_row | loop | hvp | grad | backward
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "ricci/parallel.h"
#include "ricci/ricci.h"
#include "ricci/transforms.h"

using namespace ricci;

namespace {

Tensor mlp_loss(const Tensor& W1, const Tensor& b1, const Tensor& W2, const Tensor& b2, const Tensor& x,
                const Tensor& y) {
  const Tensor h = (matmul(x, W1) + b1).tanh();
  return (matmul(h, W2) + b2 - y).pow(2).mean();
}

volatile float g_sink = 0;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <vmap|vmap_row|loop|hvp|grad|backward> <n>\n", argv[0]);
    return 2;
  }
  set_num_threads(1);
  manual_seed(0);
  const Tensor W1 = randn({32, 64}) * (1.0 / std::sqrt(32.0)), b1 = randn({64}) * 0.1;
  const Tensor W2 = randn({64, 10}) * (1.0 / std::sqrt(64.0)), b2 = randn({10}) * 0.1;
  const Tensor X = randn({64, 32}), Y = randn({64, 10}), V = randn({32, 64});
  const Tensors inputs = {W1, b1, W2, b2, X, Y};
  const TensorFn loss = [](const Tensors& in) { return Tensors{mlp_loss(in[0], in[1], in[2], in[3], in[4], in[5])}; };
  const TensorFn row_loss = [](const Tensors& in) {
    return Tensors{mlp_loss(in[0], in[1], in[2], in[3], in[4].unsqueeze(-2), in[5].unsqueeze(-2))};
  };
  const std::optional<int64_t> no;
  const Axes axes = {no, no, no, no, 0, 0};
  const TensorFn g = grad(loss, {0, 1, 2, 3});
  const TensorFn per = vmap(g, axes), per_row = vmap(grad(row_loss, {0, 1, 2, 3}), axes);
  const TensorFn f1 = [&](const Tensors& in) { return Tensors{mlp_loss(in[0], b1, W2, b2, X, Y)}; };
  const TensorFn g1 = grad(f1);
  Tensors w = {W1.detach(), b1.detach(), W2.detach(), b2.detach()};
  for (Tensor& t : w) t.requires_grad_();
  const char* which = argv[1];
  const long n = std::atol(argv[2]);
  for (long k = 0; k < n; ++k) {
    Tensor out;
    if (!std::strcmp(which, "vmap")) {
      out = per(inputs)[0];
    } else if (!std::strcmp(which, "vmap_row")) {
      out = per_row(inputs)[0];
    } else if (!std::strcmp(which, "loop")) {
      Tensors rows;
      for (int64_t i = 0; i < 64; ++i) rows.push_back(g({W1, b1, W2, b2, X[i], Y[i]})[0]);
      out = stack(rows, 0);
    } else if (!std::strcmp(which, "hvp")) {
      out = jvp(g1, {W1}, {V}).second[0];
    } else if (!std::strcmp(which, "grad")) {
      out = g(inputs)[0];
    } else if (!std::strcmp(which, "backward")) {
      for (Tensor& t : w) t.set_grad(Tensor());
      mlp_loss(w[0], w[1], w[2], w[3], X, Y).backward();
      out = w[0].grad();
    } else {
      std::fprintf(stderr, "unknown case %s\n", which);
      return 2;
    }
    g_sink = g_sink + out.view({-1})[0].item<float>();
  }
  return 0;
}
