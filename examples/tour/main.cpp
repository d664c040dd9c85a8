// The lesson "Tensors, Autograd, PyTorch & MLX", section by section, in ricci.
// Each block mirrors a PyTorch sample of the lesson and prints the same values.
// Sections that need a GPU or MLX's compile say so and are skipped.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "ricci/ricci.h"
#include "tour_modules.h"

using namespace ricci;

namespace {

void section(const char* title) { std::cout << "\n=== " << title << " ===\n"; }

void tensors_and_strides() {
  section("A tensor is an n-dimensional array with metadata");
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  std::cout << x.shape() << " " << x.dtype() << " " << x.device() << "\n";  // [2, 3] float32 cpu

  section("Tensor anatomy: storage, shape, strides");
  Tensor y = arange(6).reshape({2, 3});
  std::cout << y.shape() << " " << y.strides() << "\n";              // [2, 3] [3, 1]
  std::cout << y.T().shape() << " " << y.T().strides() << "\n";      // [3, 2] [1, 3]  same storage
  std::cout << std::boolalpha << y.T().is_contiguous() << "\n";      // false
  std::cout << y.T().contiguous().strides() << "\n";                 // [2, 1]  copied to a new buffer
  std::cout << "T shares storage: " << y.T().shares_storage_with(y)
            << ", T().contiguous() shares storage: " << y.T().contiguous().shares_storage_with(y) << "\n";

  section("view is strict, reshape is friendly");
  try {
    y.T().view({6});
  } catch (const Error& e) {
    std::cout << "y.T().view({6}) -> " << e.what() << "\n";
  }
  std::cout << "y.T().reshape({6}) -> " << y.T().reshape({6}) << "\n";

  section("Reshape, view, transpose, permute");
  Tensor z = arange(24).reshape({2, 3, 4});
  std::cout << z.shape() << " strides " << z.strides() << "\n";                        // (12, 4, 1)
  std::cout << z.view({6, 4}).shape() << "\n";                                           // [6, 4]
  std::cout << z.transpose(0, 1).shape() << " strides " << z.transpose(0, 1).strides()   // (4, 12, 1)
            << " contiguous " << z.transpose(0, 1).is_contiguous() << "\n";
  std::cout << z.permute({2, 0, 1}).shape() << "\n";                                     // [4, 2, 3]
}

void dtypes_and_memory() {
  section("dtype: bytes per number");
  Tensor x = randn({1024, 4096}, bfloat16);
  std::cout << x.numel() * static_cast<int64_t>(x.element_size()) << " bytes\n";  // 8388608
  const double billions[] = {7, 13};
  struct Format {
    const char* name;
    double bytes;
  } formats[] = {{"fp32", 4}, {"bf16", 2}, {"int8", 1}, {"int4", 0.5}};
  for (double b : billions) {
    std::cout << b << "B params:";
    for (auto f : formats) std::cout << "  " << f.name << " " << b * f.bytes << " GB";
    std::cout << "\n";
  }
  std::cout << "element sizes: float64 " << element_size(float64) << ", float32 " << element_size(float32)
            << ", bfloat16 " << element_size(bfloat16) << ", float16 " << element_size(float16) << ", int8 "
            << element_size(int8) << "\n";
  // bf16 keeps fp32's exponent: 1e38 survives, fp16 overflows to inf.
  Tensor big = tensor({1e38f, 70000.0f});
  std::cout << "as bfloat16: " << big.to(bfloat16) << "\nas float16:  " << big.to(float16) << "\n";
}

void devices() {
  section("device: where the tensor lives");
  std::cout << "cuda available: " << std::boolalpha << cuda::is_available() << "\n";
  Tensor a = zeros({2});
  if (!cuda::is_available()) {
    std::cout << "(no GPU here: the PCIe-copy samples of the lesson are skipped)\n";
    try {
      a.to("cuda");
    } catch (const Error& e) {
      std::cout << "a.to(\"cuda\") -> " << e.what() << "\n";
    }
  } else {
    Tensor x_gpu = randn({1000, 1000}).to("cuda");
    Tensor y = matmul(x_gpu, x_gpu.T());
    std::cout << "y on " << y.device() << ", back on " << y.cpu().device() << "\n";
  }
}

void operations() {
  section("Element-wise");
  std::cout << tensor({1, 2, 3}) + tensor({10, 20, 30}) << "\n";  // tensor([11, 22, 33])

  section("Reductions");
  Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}, float32);
  std::cout << a.sum({-1}) << "\n";  // tensor([ 6., 15.])
  std::cout << a.sum({0}) << "\n";   // tensor([5., 7., 9.])
  std::cout << a.sum() << "\n";      // tensor(21.)

  section("Matmul");
  Tensor A = randn({8, 16}), W = randn({16, 4});
  std::cout << matmul(A, W).shape() << "\n";  // [8, 4]
  Tensor Ab = randn({2, 8, 16});
  std::cout << matmul(Ab, W).shape() << "\n";  // [2, 8, 4]  batch dim flows through

  section("Broadcasting");
  Tensor x8 = randn({8, 1, 4}), b3 = randn({3, 4});
  std::cout << (x8 + b3).shape() << "\n";  // [8, 3, 4]
  Tensor xb = randn({2, 5, 8}), bias = randn({8});
  std::cout << (xb + bias).shape() << "\n";  // [2, 5, 8]
  try {
    zeros({3, 4}) + zeros({2, 4});
  } catch (const Error& e) {
    std::cout << "(3,4) + (2,4) -> " << e.what() << "\n";
  }

  section("einsum");
  Tensor P = randn({3, 4}), Q = randn({4, 5});
  std::cout << "ij,jk->ik equals A@B: " << std::boolalpha
            << allclose(einsum("ij,jk->ik", {P, Q}), matmul(P, Q)) << "\n";
  Tensor Pb = randn({2, 3, 4}), Qb = randn({2, 4, 5});
  std::cout << "bij,bjk->bik equals bmm: " << allclose(einsum("bij,bjk->bik", {Pb, Qb}), bmm(Pb, Qb)) << "\n";
  Tensor Qa = randn({2, 5, 8}), K = randn({2, 5, 8});
  Tensor scores = einsum("btd,bsd->bts", {Qa, K});
  std::cout << "scores " << scores.shape() << " equals Q @ K^T: "
            << allclose(scores, matmul(Qa, K.transpose(-1, -2)), 1e-5, 1e-5) << "\n";
  Tensor u = tensor({1.0, 2.0}), v = tensor({3.0, 4.0, 5.0});
  std::cout << "outer:\n" << einsum("i,j->ij", {u, v}) << "\n";
  Tensor M = arange(9, float32).reshape({3, 3});
  std::cout << "trace ii-> " << einsum("ii->", {M}) << "\n";  // tensor(12.)
}

void autograd_dag() {
  section("A worked DAG with a branch");
  Tensor a = tensor(2.0).requires_grad_();
  Tensor b = tensor(3.0).requires_grad_();
  Tensor c = a * b;
  Tensor d = a + b;
  Tensor e = c * d;
  Tensor L = e.pow(2);
  L.backward();
  std::cout << a.grad() << "\n";  // tensor(1260.)
  std::cout << b.grad() << "\n";  // tensor(960.)
  std::cout << "c.grad_fn = " << c.grad_fn()->name() << ", d.grad_fn = " << d.grad_fn()->name() << "\n";

  section("Exercise 5: L = e^3");
  Tensor a3 = tensor(2.0).requires_grad_(), b3 = tensor(3.0).requires_grad_();
  Tensor e3 = (a3 * b3) * (a3 + b3);
  e3.pow(3).backward();
  std::cout << "dL/da = 3e^2 (d*b + c) = 3*900*21 = " << a3.grad() << "\n";  // 56700
  std::cout << "dL/db = 3e^2 (d*a + c) = 3*900*16 = " << b3.grad() << "\n";  // 43200

  section("Exercise 6: branching gradient accumulation");
  Tensor x = tensor(2.0).requires_grad_();
  Tensor y = x * x + x;
  y.backward();
  std::cout << x.grad() << "\n";  // tensor(5.)

  section("Why grads accumulate (and why you call zero_grad)");
  Tensor w = tensor(1.0).requires_grad_();
  (w * 3).backward();
  (w * 3).backward();
  std::cout << "after two backward calls: " << w.grad() << "\n";  // tensor(6.)
  w.set_grad(Tensor());  // p.grad = None
  (w * 3).backward();
  std::cout << "after reset and one more: " << w.grad() << "\n";  // tensor(3.)
}

void inference_mode_timing() {
  section("Exercise 7: inference_mode timing (Linear on the CPU)");
  // The lesson uses 4096x4096; on 2 CPU cores one such matmul takes about a second, so this runs
  // 1024x1024 (the comparison is the point). Best of 5 runs each.
  const int64_t n = 1024;
  nn::Linear layer(n, n);
  Tensor xin = randn({n, n});
  auto time_it = [&](const char* label, auto&& fn) {
    double best = 1e30;
    size_t peak = 0;
    for (int rep = 0; rep < 5; ++rep) {
      cpu_allocator().reset_peak_stats();
      const size_t before = memory_stats().allocated_bytes;
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      peak = memory_stats().peak_allocated_bytes - before;
    }
    std::cout << std::setw(16) << label << ": " << std::fixed << std::setprecision(2) << best << " ms, peak extra memory "
              << peak / (1 << 20) << " MiB\n";
    std::cout.unsetf(std::ios::fixed);
  };
  // With autograd the graph keeps the input and the pre-activation alive for backward.
  time_it("with autograd", [&] { Tensor y = layer(xin).relu(); });
  time_it("no_grad", [&] {
    NoGradGuard g;
    Tensor y = layer(xin).relu();
  });
  time_it("inference_mode", [&] {
    InferenceMode g;
    Tensor y = layer(xin).relu();
  });
}

void lazy_evaluation() {
  section("MLX: lazy evaluation (ricci::LazyGuard, ricci::eval)");
  Tensor x = randn({3, 4});
  Tensor y;
  {
    LazyGuard lazy;  // ops record a graph, compute nothing
    y = x * 2 + 1;
  }
  const PendingStats before = pending_stats({y});
  std::cout << "pending: " << before.nodes << " ops, " << before.bytes << " bytes to allocate\n";  // 2 ops, 96 bytes
  std::cout << pending_dot({y});
  eval(y);  // forces evaluation
  std::cout << "after eval: " << pending_stats({y}).nodes << " pending\n";
  Tensor z;
  {
    LazyGuard lazy;
    z = x * 2 + 1;
  }
  std::cout << z << "\n";  // printing also forces evaluation
  std::cout << std::boolalpha << "same values: " << allclose(y, z, 0.0, 0.0) << "\n";

  section("Lazy eval tax: force eval before stopping the timer");
  const int64_t n = std::getenv("RICCI_DEMO_QUICK") ? 512 : 4096;
  Tensor a = randn({n, n});
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  LazyGuard lazy;
  auto t0 = clock::now();
  Tensor g = matmul(a, a.T());  // graph built, not run
  const double record_ms = ms(clock::now() - t0);
  t0 = clock::now();
  eval(g);  // actually run
  const double total_ms = record_ms + ms(clock::now() - t0);
  std::cout << std::fixed << std::setprecision(3) << n << "x" << n << " x @ x.T: without eval " << record_ms
            << " ms (graph construction only), with eval " << total_ms << " ms\n";
}

void function_transforms() {
  section("MLX: function transforms (grad, value_and_grad)");
  // def loss_fn(params, x, target): mean((params['W'] @ x + params['b'] - target) ** 2)
  Tensor W = randn({4, 3}), b = randn({4}), x = randn({3}), target = randn({4});
  TensorFn loss_fn = [](const Tensors& in) { return Tensors{(matmul(in[0], in[2]) + in[1] - in[3]).pow(2).mean()}; };
  TensorFn grad_fn = grad(loss_fn, {0, 1});  // a new function: d loss / d (W, b)
  const Tensors grads = grad_fn({W, b, x, target});
  std::cout << "dW " << grads[0].shape() << ", db " << grads[1].shape() << "\n";

  section("MLX training loop: value_and_grad + opt.update + eval (Linear 128 -> 64, AdamW)");
  auto linear = std::make_shared<nn::Linear>(128, 64);
  optim::AdamW opt(linear->parameters(), {.lr = 1e-3});
  auto loss_and_grad_fn = nn::value_and_grad(*linear, [&linear](const Tensors& in) {
    return Tensors{(linear->forward(in[0]) - in[1]).pow(2).mean()};
  });
  for (int step = 0; step < 100; ++step) {
    LazyGuard lazy;  // MLX is lazy: record, then eval once per step
    Tensor xs = randn({8, 128}), tgt = randn({8, 64});
    auto [loss, grads_tree] = loss_and_grad_fn({xs, tgt});
    opt.update(*linear, grads_tree);
    eval(linear->parameter_tree(), opt.state_tree());  // force the update
    if (step % 25 == 0 || step == 99) std::cout << "step " << step << " loss " << loss[0].item<float>() << "\n";
  }

  section("Exercise 8: Linear -> ReLU -> Linear -> MSE, PyTorch-style and MLX-style, same seed");
  auto make = [] {
    auto m = std::make_shared<nn::Sequential>();
    m->push_back(std::make_shared<nn::Linear>(16, 32));
    m->push_back(std::make_shared<nn::ReLU>());
    m->push_back(std::make_shared<nn::Linear>(32, 1));
    return m;
  };
  manual_seed(8);
  auto torch_style = make();
  manual_seed(8);
  auto mlx_style = make();
  optim::SGD opt_t(torch_style->parameters(), {.lr = 0.05}), opt_m(mlx_style->parameters(), {.lr = 0.05});
  const Tensor X = randn({32, 16}), Y = randn({32, 1});
  auto mlx_loss = nn::value_and_grad(*mlx_style, [&](const Tensors& in) { return Tensors{F::mse_loss(mlx_style->forward(in[0]), in[1])}; });
  float lt = 0, lm = 0;
  for (int step = 0; step < 100; ++step) {
    opt_t.zero_grad();  // PyTorch: zero_grad -> forward -> backward -> step
    Tensor loss = F::mse_loss(torch_style->forward(X), Y);
    loss.backward();
    opt_t.step();
    lt = loss.item<float>();
    auto [values, g] = mlx_loss({X, Y});  // MLX: value_and_grad -> update -> eval
    opt_m.update(*mlx_style, g);
    eval(mlx_style->parameter_tree());
    lm = values[0].item<float>();
    if (step % 25 == 0 || step == 99) std::cout << "step " << step << "  torch-style " << lt << "  mlx-style " << lm << "\n";
  }
  std::cout << std::boolalpha << "same loss after 100 steps: " << (lt == lm) << "\n";

  section("Per-example gradients: vmap(grad(loss)) against a loop");
  Tensor Wp = randn({3, 2}), Xb = randn({5, 3}), Yb = randn({5, 2});
  TensorFn per_loss = [](const Tensors& in) { return Tensors{(matmul(in[1], in[0]) - in[2]).pow(2).sum()}; };
  const Tensor batched = vmap(grad(per_loss), {std::nullopt, 0, 0})({Wp, Xb, Yb})[0];  // [5, 3, 2]
  float max_diff = 0;
  for (int64_t i = 0; i < 5; ++i) {
    const Tensor gi = grad(per_loss)({Wp, Xb[i], Yb[i]})[0];
    max_diff = std::max(max_diff, (batched[i] - gi).abs().max().item<float>());
  }
  std::cout << "per-example gradients " << batched.shape() << ", largest difference from the loop: " << max_diff << "\n";
}

// mx.compile(f): the first call traces f into primitives; the elementwise chain runs as one fused
// kernel; later calls with the same shapes replay the program (docs/compile.md).
void compile_section() {
  section("MLX: compile");
  const TensorFn gelu_fn = [](const Tensors& in) {
    const Tensor& x = in[0];
    return Tensors{0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())};
  };
  const TensorFn fast = compile(gelu_fn);
  std::cout << "compiled gelu at -1, 0, 1, 2: " << fast({tensor({-1.0f, 0.0f, 1.0f, 2.0f})})[0] << "\n";
  const Tensor x = randn({1 << 20});
  const float diff = (fast({x})[0] - gelu_fn({x})[0]).abs().max().item<float>();
  const CompileStats st = compile_stats(fast);
  std::ostringstream d;
  d << std::defaultfloat << diff;  // as Python's {:g}
  std::cout << st.traced_ops << " ops traced, " << st.fused_ops << " of them fused into " << st.fused_groups
            << " kernel\nlargest difference from eager on 1M values: " << d.str() << "\n";
}

}  // namespace

int main() {
  manual_seed(0);
  tensors_and_strides();
  dtypes_and_memory();
  devices();
  operations();
  autograd_dag();
  tour::modules_and_state_dict();
  tour::training_step();
  inference_mode_timing();
  lazy_evaluation();
  function_transforms();
  compile_section();
  return 0;
}
