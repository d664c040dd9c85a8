// Instructions per op for bench_autograd.cpp's cases, for bench/compare_builds.sh: it is built
// against two ricci builds (any version: it uses only the eager API) and run under
// `valgrind --tool=callgrind`, once with N and once with 2N ops per case; the difference divided
// by N is the per-op count, free of start-up and of what one-off setup costs. Wall-clock time on
// a shared machine moves by tens of percent; instruction counts do not.
//   overhead_instr <case> <n>   case: add_tiny_nograd | add_tiny_requires_grad | add_tiny_no_grad_guard
//                                     | add_tiny_inference_mode | mul_backward_tiny
//                                     | scalar_graph_forward | scalar_graph_backward | scalar_graph_free
//                                     | lazy_record_add_tiny | lazy_record_eval_add_tiny (builds with lazy.h)
// scalar_graph_backward runs n forward ops plus the backward; subtract scalar_graph_forward's count
// (and scalar_graph_free runs both and frees the graph: subtract scalar_graph_backward's).
// bench/torch_overhead_instr.cpp is the same program against libtorch (bench/torch_autograd.sh).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ricci/ricci.h"
#if __has_include("ricci/lazy.h")
#include "ricci/lazy.h"
#define OVERHEAD_INSTR_LAZY 1
#endif

using namespace ricci;

namespace {

Tensor one(double v, bool requires_grad) {
  Tensor t = scalar_tensor(v, float32).reshape({1}).detach();
  if (requires_grad) t.requires_grad_();
  return t;
}

volatile float g_sink = 0;  // keeps results observable

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <case> <n>\n", argv[0]);
    return 2;
  }
  set_num_threads(1);
  const char* which = argv[1];
  const long n = std::atol(argv[2]);
  if (std::strcmp(which, "add_tiny_nograd") == 0 || std::strcmp(which, "add_tiny_requires_grad") == 0) {
    const Tensor a = one(1, std::strcmp(which, "add_tiny_requires_grad") == 0), b = one(2, false);
    Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (std::strcmp(which, "add_tiny_no_grad_guard") == 0) {
    const Tensor a = one(1, true), b = one(2, false);
    NoGradGuard guard;
    Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (std::strcmp(which, "add_tiny_inference_mode") == 0) {
    const Tensor a = one(1, true), b = one(2, false);
    InferenceMode guard;
    Tensor c;
    for (long i = 0; i < n; ++i) c = a + b;
    g_sink = c.defined() ? 1.0f : 0.0f;
  } else if (std::strcmp(which, "mul_backward_tiny") == 0) {
    Tensor a = one(1, true), b = one(2, true);
    for (long i = 0; i < n; ++i) {
      (a * b).sum().backward();
      a.set_grad(Tensor());
      b.set_grad(Tensor());
    }
  } else if (std::strcmp(which, "scalar_graph_forward") == 0 || std::strcmp(which, "scalar_graph_backward") == 0 ||
             std::strcmp(which, "scalar_graph_free") == 0) {
    Tensor x = one(1, true), m = one(1, false), c = one(0, false);
    Tensor y = x;
    for (long i = 0; i < n; ++i) y = (i & 1) ? y + c : y * m;
    if (std::strcmp(which, "scalar_graph_forward") != 0) y.sum().backward();
    g_sink = y.defined() ? 1.0f : 0.0f;
    if (std::strcmp(which, "scalar_graph_free") == 0) y = Tensor();
    std::fflush(stdout);
    std::_Exit(0);  // the graph is freed only in scalar_graph_free (and x, m, c never)
#ifdef OVERHEAD_INSTR_LAZY
  } else if (std::strcmp(which, "lazy_record_add_tiny") == 0) {
    const Tensor a = one(1, false), b = one(2, false);
    LazyGuard lazy;
    for (long i = 0; i < n; ++i) g_sink = (a + b).defined() ? 1.0f : 0.0f;  // recorded, dropped
  } else if (std::strcmp(which, "lazy_record_eval_add_tiny") == 0) {
    const Tensor a = one(1, false), b = one(2, false);
    LazyGuard lazy;
    for (long i = 0; i < n; ++i) {
      Tensor c = a + b;
      eval(c);
      g_sink = c.defined() ? 1.0f : 0.0f;
    }
#endif
  } else {
    std::fprintf(stderr, "unknown case %s\n", which);
    return 2;
  }
  return 0;
}
