// The lesson's TwoLayer network (Linear → ReLU → Linear) trained with the four-line heartbeat
//   zero_grad → forward → backward → step
// on a fixed synthetic batch whose labels come from a fixed random "teacher", so the loss can fall.
#include <cstdio>
#include <memory>

#include "ricci/ricci.h"

using namespace ricci;

struct TwoLayer : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  TwoLayer(int64_t in, int64_t hidden, int64_t out)
      : fc1(register_module("fc1", std::make_shared<nn::Linear>(in, hidden))),
        fc2(register_module("fc2", std::make_shared<nn::Linear>(hidden, out))) {}
  Tensor forward(const Tensor& x) { return fc2->forward(fc1->forward(x).relu()); }
};

int main() {
  set_num_threads(2);
  manual_seed(0);
  const Tensor x = randn({8, 128});
  const Tensor teacher = randn({128, 10});
  const Tensor target = x.matmul(teacher).argmax(1);  // int64 class labels in [0, 10)

  auto model = std::make_shared<TwoLayer>(128, 64, 10);
  optim::AdamW opt(model->parameters(), {.lr = 1e-3});

  double first = 0.0, last = 0.0;
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    const Tensor loss = F::cross_entropy(model->forward(x), target);
    loss.backward();
    opt.step();

    last = loss.item<double>();
    if (step == 0) first = last;
    if (step % 10 == 0 || step == 99) std::printf("step %3d  loss %.4f\n", step, last);
  }
  std::printf("loss %.4f -> %.4f (%s)\n", first, last, last < first ? "went down" : "did NOT go down");
  return last < first ? 0 : 1;
}
