// Optimizers against PyTorch's update sequence (tests/data/make_optim_golden.py), schedulers,
// clip_grad_norm_ and a small training loop (state dicts: test_optim_state.cpp).
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "ricci/nn/layers.h"
#include "ricci/optim.h"
#include "test_util.h"

using namespace ricci;

namespace {

std::map<std::string, std::vector<double>> golden() {
  std::map<std::string, std::vector<double>> out;
  std::ifstream f(ricci::testing::data_path("optim_golden.txt"));
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream is(line);
    std::string name, step;
    is >> name >> step;
    std::vector<double> v;
    for (double x; is >> x;) v.push_back(x);
    out[name + " " + step] = v;
  }
  return out;
}

const Tensor W = tensor({{1.0, 2.0, 0.5}, {3.0, 1.5, 0.25}}, float64);
const Tensor Bv = tensor({{0.1, -0.3, 0.2}, {0.0, 0.4, -0.1}}, float64);
Tensor p0() { return tensor({{1.0, -2.0, 3.0}, {0.5, -0.5, 2.0}}, float64).requires_grad_(); }

void run_against_golden(const std::string& name, optim::Optimizer& opt, Tensor& p) {
  static const auto g = golden();
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    Tensor loss = W.mul(p).mul(p).sum().mul(0.5).add(Bv.mul(p).sum());
    loss.backward();
    opt.step();
    const auto it = g.find(name + " " + std::to_string(step));
    ASSERT_NE(it, g.end()) << name << " " << step;
    EXPECT_TENSOR_CLOSE(p.detach(), from_vector(it->second, {2, 3}, float64), 1e-12, 1e-12) << name << " step " << step;
  }
}

}  // namespace

TEST(Optim, SGDNesterovWeightDecayMatchesPyTorch) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
  run_against_golden("sgd", opt, p);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
}

TEST(Optim, SGDDampeningMatchesPyTorch) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 0.05, .momentum = 0.8, .dampening = 0.3});
  run_against_golden("sgd_damp", opt, p);
}

TEST(Optim, AdamMatchesPyTorch) {
  Tensor p = p0();
  optim::Adam opt({p}, {.lr = 0.1, .weight_decay = 0.05});
  run_against_golden("adam", opt, p);
  EXPECT_EQ(opt.state(p).step, 5);
}

TEST(Optim, AdamWMatchesPyTorch) {
  Tensor p = p0();
  optim::AdamW opt({p}, {.lr = 0.1});
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].weight_decay, 1e-2);
  run_against_golden("adamw", opt, p);
}

TEST(Optim, AdamAmsgradMatchesPyTorch) {
  Tensor p = p0();
  optim::Adam opt({p}, {.lr = 0.3, .beta1 = 0.8, .beta2 = 0.5, .weight_decay = 0.05, .amsgrad = true});
  run_against_golden("adam_amsgrad", opt, p);
  // The running maximum is kept and is what divides: it is >= the current second moment.
  const optim::ParamState& s = opt.state(p);
  ASSERT_TRUE(s.max_exp_avg_sq.defined());
  EXPECT_TRUE(s.max_exp_avg_sq.ge(s.exp_avg_sq).all().item<bool>());
  EXPECT_FALSE(s.max_exp_avg_sq.eq(s.exp_avg_sq).all().item<bool>());  // the maximum mattered
}

TEST(Optim, AdamWAmsgradMatchesPyTorch) {
  Tensor p = p0();
  optim::AdamW opt({p}, {.lr = 0.3, .beta1 = 0.8, .beta2 = 0.5, .amsgrad = true});
  EXPECT_TRUE(opt.param_groups()[0].amsgrad);
  run_against_golden("adamw_amsgrad", opt, p);
}

TEST(Optim, StepBuildsNoGraph) {
  Tensor p = p0();
  optim::Adam opt({p});
  W.mul(p).sum().backward();
  opt.step();
  EXPECT_TRUE(p.is_leaf());
  EXPECT_EQ(p.grad_fn(), nullptr);
  EXPECT_FALSE(opt.state(p).exp_avg.requires_grad());
}

TEST(Optim, ZeroGrad) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 0.1});
  W.mul(p).sum().backward();
  opt.zero_grad(false);
  ASSERT_TRUE(p.grad().defined());
  EXPECT_TENSOR_EQ(p.grad(), zeros({2, 3}, float64));
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

TEST(Optim, InvalidArguments) {
  Tensor p = p0();
  EXPECT_THROW_MSG(optim::SGD({p}, {.lr = -1.0}), ValueError, "Invalid learning rate");
  EXPECT_THROW_MSG(optim::SGD({p}, {.lr = 0.1, .nesterov = true}), ValueError, "Nesterov");
  EXPECT_THROW_MSG(optim::Adam({p}, {.beta1 = 1.0}), ValueError, "Invalid beta parameter at index 0");
  EXPECT_THROW_MSG(optim::SGD({p, p}), ValueError, "more than one");
  EXPECT_THROW_MSG(optim::SGD({p.mul(2.0)}), ValueError, "non-leaf");
}

TEST(Optim, StepLR) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 1.0});
  optim::StepLR sched(opt, 2, 0.5);
  std::vector<double> lrs;
  for (int i = 0; i < 6; ++i) {
    lrs.push_back(sched.get_last_lr()[0]);
    sched.step();
  }
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25}));
}

TEST(Optim, WarmupCosine) {
  Tensor p = p0();
  optim::AdamW opt({p}, {.lr = 1.0});
  optim::WarmupCosine sched(opt, 4, 12, 0.1);
  std::vector<double> lrs;
  for (int i = 0; i < 14; ++i) {
    lrs.push_back(opt.param_groups()[0].lr);
    sched.step();
  }
  EXPECT_DOUBLE_EQ(lrs[0], 0.25);
  EXPECT_DOUBLE_EQ(lrs[3], 1.0);
  EXPECT_DOUBLE_EQ(lrs[4], 1.0);                                            // cosine starts at the peak
  EXPECT_NEAR(lrs[8], 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 0.5)), 1e-15);  // halfway
  EXPECT_DOUBLE_EQ(lrs[12], 0.1);
  EXPECT_DOUBLE_EQ(lrs[13], 0.1);
  for (int i = 4; i < 12; ++i) EXPECT_GT(lrs[i], lrs[i + 1]);
  EXPECT_THROW_MSG(optim::WarmupCosine(opt, 5, 5), ValueError, "warmup_steps < total_steps");
}

TEST(Optim, ClipGradNormMatchesPyTorch) {
  const auto g = golden();
  Tensor p = p0();
  Tensor q = tensor({1.0, 2.0}, float64).requires_grad_();
  W.mul(p).mul(p).sum().add(q.mul(q).mul(3.0).sum()).backward();
  const double total = optim::clip_grad_norm_({p, q}, 1.5);
  EXPECT_NEAR(total, g.at("clip_total 0")[0], 1e-12);
  EXPECT_TENSOR_CLOSE(p.grad(), from_vector(g.at("clip_p 0"), {2, 3}, float64), 1e-12, 1e-12);
  EXPECT_TENSOR_CLOSE(q.grad(), from_vector(g.at("clip_q 0"), {2}, float64), 1e-12, 1e-12);
  // Below the threshold nothing changes; infinity norm is the largest |g|.
  const Tensor before = q.grad().clone();
  EXPECT_NEAR(optim::clip_grad_norm_({q}, 100.0, INFINITY), 1.0969696767524455, 1e-12);
  EXPECT_TENSOR_EQ(q.grad(), before);
}

TEST(Optim, TrainingLoopLossGoesDown) {
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>();
  model->emplace_back<nn::Linear>(4, 16);
  model->emplace_back<nn::Tanh>();
  model->emplace_back<nn::Linear>(16, 1);
  const Tensor x = randn({32, 4});
  const Tensor y = x.sum({1}, true).sin();
  optim::Adam opt(model->parameters(), {.lr = 1e-2});
  double first = 0, last = 0;
  for (int i = 0; i < 100; ++i) {
    opt.zero_grad();
    Tensor loss = F::mse_loss(model->forward(x), y);
    loss.backward();
    opt.step();
    (i == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, first * 0.2);
}
