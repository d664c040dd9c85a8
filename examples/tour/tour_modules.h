#pragma once
// The lesson's PyTorch section: a TwoLayer module, its parameters and state_dict, and the
// four-line training heartbeat.
#include <cstdio>
#include <iostream>

#include "ricci/ricci.h"

namespace tour {

using namespace ricci;

// class TwoLayer(nn.Module): fc1, fc2 and a 'step' buffer.
class TwoLayer : public nn::Module {
 public:
  TwoLayer(int64_t d_in, int64_t d_hidden, int64_t d_out) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(d_in, d_hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(d_hidden, d_out));
    register_buffer("step", zeros({1}));  // saved and loaded, not trained
  }
  Tensor forward(const Tensor& x) { return fc2->forward(relu(fc1->forward(x))); }
  std::shared_ptr<nn::Linear> fc1, fc2;
};

inline void modules_and_state_dict() {
  std::cout << "\n=== Modules: parameters, buffers, state_dict ===\n";
  auto m = std::make_shared<TwoLayer>(128, 256, 10);
  for (const auto& [name, p] : m->named_parameters())
    std::cout << name << " " << p.shape() << " " << (p.requires_grad() ? "True" : "False") << "\n";
  // fc1.weight [256, 128] True / fc1.bias [256] True / fc2.weight [10, 256] True / fc2.bias [10] True
  std::cout << "buffers:";
  for (const auto& [name, b] : m->named_buffers()) std::cout << " " << name << " " << b.shape();
  std::cout << "\nparameters: " << m->num_parameters() << " (" << m->parameter_bytes() << " bytes in float32)\n";

  const std::string path = "tour_twolayer.safetensors";
  m->save(path);  // torch.save(m.state_dict(), 'model.pt'), as safetensors
  auto m2 = std::make_shared<TwoLayer>(128, 256, 10);
  m2->load(path);  // m2.load_state_dict(torch.load('model.pt'))
  Tensor x = randn({4, 128});
  std::cout << "reloaded model gives the same output: " << std::boolalpha
            << allclose(m->forward(x), m2->forward(x)) << "\n";
  std::remove(path.c_str());
  m->eval();
  std::cout << "after eval(): training = " << m->is_training() << ", fc1 training = " << m->fc1->is_training() << "\n";
}

inline void training_step() {
  std::cout << "\n=== A complete training step (zero_grad -> forward -> backward -> step) ===\n";
  auto m = std::make_shared<TwoLayer>(128, 256, 10);
  optim::AdamW opt(m->parameters(), {.lr = 1e-3});
  // A fixed batch, so the loss can go down (the lesson draws a fresh random batch each step).
  Tensor x = randn({8, 128});
  Tensor target = randint(0, 10, {8});
  for (int step = 0; step < 100; ++step) {
    Tensor logits = m->forward(x);
    Tensor loss = F::cross_entropy(logits, target);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (step % 20 == 0 || step == 99) std::cout << "step " << step << " loss " << loss.item<float>() << "\n";
  }
}

}  // namespace tour
