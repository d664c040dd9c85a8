#pragma once
// The lesson's TwoLayer network (Linear → ReLU → Linear), its data and its training step, shared
// by the `mlp` example and tests/test_memory.cpp.
#include <cstdint>
#include <memory>

#include "ricci/ricci.h"

namespace mlp {

struct TwoLayer : ricci::nn::Module {
  std::shared_ptr<ricci::nn::Linear> fc1, fc2;
  TwoLayer(int64_t in, int64_t hidden, int64_t out)
      : fc1(register_module("fc1", std::make_shared<ricci::nn::Linear>(in, hidden))),
        fc2(register_module("fc2", std::make_shared<ricci::nn::Linear>(hidden, out))) {}
  ricci::Tensor forward(const ricci::Tensor& x) { return fc2->forward(fc1->forward(x).relu()); }
};

// A fixed synthetic batch whose labels come from a fixed random "teacher", so the loss can fall.
struct Data {
  ricci::Tensor x, target;
};
inline Data make_data(int64_t batch, int64_t in, int64_t classes) {
  const ricci::Tensor x = ricci::randn({batch, in});
  const ricci::Tensor teacher = ricci::randn({in, classes});
  return {x, x.matmul(teacher).argmax(1)};  // int64 class labels in [0, classes)
}

// The four-line heartbeat: zero_grad → forward → backward → step. Returns the loss.
inline double train_step(TwoLayer& model, ricci::optim::Optimizer& opt, const Data& d) {
  opt.zero_grad();
  const ricci::Tensor loss = ricci::F::cross_entropy(model.forward(d.x), d.target);
  loss.backward();
  opt.step();
  return loss.item<double>();
}

}  // namespace mlp
