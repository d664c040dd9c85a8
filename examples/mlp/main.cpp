// The lesson's TwoLayer network (Linear → ReLU → Linear) trained with the four-line heartbeat
//   zero_grad → forward → backward → step
// (mlp.h) on a fixed synthetic batch whose labels come from a fixed random "teacher", so the loss
// can fall.
#include <cstdio>
#include <memory>

#include "mlp.h"

using namespace ricci;

int main() {
  set_num_threads(2);
  manual_seed(0);
  const mlp::Data data = mlp::make_data(8, 128, 10);

  auto model = std::make_shared<mlp::TwoLayer>(128, 64, 10);
  optim::AdamW opt(model->parameters(), {.lr = 1e-3});

  double first = 0.0, last = 0.0;
  for (int step = 0; step < 100; ++step) {
    last = mlp::train_step(*model, opt, data);
    if (step == 0) first = last;
    if (step % 10 == 0 || step == 99) std::printf("step %3d  loss %.4f\n", step, last);
  }
  std::printf("loss %.4f -> %.4f (%s)\n", first, last, last < first ? "went down" : "did NOT go down");
  return last < first ? 0 : 1;
}
