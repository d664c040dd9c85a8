// Optimizers against PyTorch's update sequence (tests/data/make_optim_golden.py), schedulers,
// clip_grad_norm_ and a small training loop (state dicts: test_optim_state.cpp).
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
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

// ---- the one-pass Adam update (Note [One-pass Adam], src/backend/cpu/optim_hwy.cpp) ------------

namespace {

// a and b hold the same bits, element by element (any NaN matches any NaN: an IEEE sum of two
// NaNs may keep either payload).
::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype())
    return ::testing::AssertionFailure() << "shape or dtype differs";
  const Tensor x = a.detach().contiguous().to(float64), y = b.detach().contiguous().to(float64);
  const Tensor xs = a.detach().contiguous(), ys = b.detach().contiguous();
  const size_t es = a.element_size();
  const auto* px = static_cast<const unsigned char*>(xs.data_ptr());
  const auto* py = static_cast<const unsigned char*>(ys.data_ptr());
  const double* dx = x.data_ptr<double>();
  const double* dy = y.data_ptr<double>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::isnan(dx[i]) && std::isnan(dy[i])) continue;
    if (std::memcmp(px + i * es, py + i * es, es) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << dx[i] << " vs " << dy[i];
  }
  return ::testing::AssertionSuccess();
}

struct AdamCase {
  bool decoupled;
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad;
};

// Parameters of awkward sizes: vector tails, one element, 0-d, empty, and one split over threads.
std::vector<Tensor> odd_params(DType t) {
  std::vector<Tensor> ps;
  for (const Dims& s : std::vector<Dims>{{37}, {5, 13}, {1}, {}, {0}, {3, 1, 7}, {70001}})
    ps.push_back(randn(s, t).mul(0.5).requires_grad_());
  return ps;
}

// A gradient of p's shape, its scale drawn from [e^-2, e).
Tensor random_grad(const Tensor& p, DType t) {
  return randn(p.shape(), t).mul(std::exp(3.0 * rand({}).item<double>() - 2.0));
}

// Runs `steps` updates of c over copies of `init` with the gradients `grads(step, i)`, one-pass
// or composed; returns the parameters followed by every state tensor.
template <class Grads>
std::vector<Tensor> run_adam(const AdamCase& c, const std::vector<Tensor>& init, int steps, bool one_pass, Grads grads,
                             int64_t* updates = nullptr) {
  std::vector<Tensor> ps;
  for (const Tensor& p : init) ps.push_back(p.detach().clone().requires_grad_());
  optim::ParamGroup g;
  g.params = ps;
  g.lr = c.lr, g.beta1 = c.beta1, g.beta2 = c.beta2, g.eps = c.eps, g.weight_decay = c.weight_decay;
  g.amsgrad = c.amsgrad;
  std::unique_ptr<optim::Adam> opt;
  if (c.decoupled) {
    opt = std::make_unique<optim::AdamW>(std::vector<optim::ParamGroup>{g});
  } else {
    opt = std::make_unique<optim::Adam>(std::vector<optim::ParamGroup>{g});
  }
  optim::set_one_pass_updates(one_pass);
  const int64_t before = optim::one_pass_update_count();
  for (int step = 0; step < steps; ++step) {
    for (size_t i = 0; i < ps.size(); ++i) ps[i].set_grad(grads(step, i, ps[i]));
    opt->step();
  }
  if (updates) *updates = optim::one_pass_update_count() - before;
  optim::set_one_pass_updates(true);
  std::vector<Tensor> out = ps;
  for (const Tensor& p : ps) {
    const optim::ParamState& s = opt->state(p);
    out.push_back(s.exp_avg);
    out.push_back(s.exp_avg_sq);
    if (c.amsgrad) out.push_back(s.max_exp_avg_sq);
  }
  return out;
}

}  // namespace

// The one-pass update gives the composed ops' values bit for bit, step after step, for Adam and
// AdamW with and without weight decay, amsgrad, both lerp formulas (beta1 above and below 0.5),
// an L2 weight of exactly 1 (add's plain sum), float32 and float64, and it did run.
TEST(Optim, OnePassAdamMatchesComposedBitForBit) {
  const AdamCase cases[] = {
      {true, 2e-3, 0.9, 0.99, 1e-8, 0.1, false},  {true, 1e-3, 0.9, 0.999, 1e-8, 0.0, false},
      {false, 1e-2, 0.9, 0.999, 1e-8, 0.05, false}, {false, 1e-3, 0.9, 0.999, 1e-8, 0.0, false},
      {true, 3e-2, 0.8, 0.5, 1e-6, 0.01, true},     {false, 0.3, 0.3, 0.6, 1e-3, 0.05, true},
      {false, 1e-2, 0.2, 0.9, 1e-8, 1.0, false},    {true, 0.5, 0.0, 0.0, 0.0, 0.3, true},
  };
  for (DType t : {float32, float64}) {
    manual_seed(7);
    const std::vector<Tensor> init = odd_params(t);
    std::vector<std::vector<Tensor>> grads(25);
    for (auto& step : grads)
      for (const Tensor& p : init) step.push_back(random_grad(p, t));
    auto g = [&](int step, size_t i, const Tensor&) { return grads[static_cast<size_t>(step)][i]; };
    for (const AdamCase& c : cases) {
      int64_t fused = 0, composed = 0;
      const auto a = run_adam(c, init, 25, true, g, &fused);
      const auto b = run_adam(c, init, 25, false, g, &composed);
      EXPECT_EQ(fused, static_cast<int64_t>(25 * init.size())) << "the one-pass kernel did not run";
      EXPECT_EQ(composed, 0);
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k)
        EXPECT_TRUE(same_bits(a[k], b[k])) << t << " decoupled " << c.decoupled << " wd " << c.weight_decay << " beta1 "
                                           << c.beta1 << " amsgrad " << c.amsgrad << " tensor " << k;
    }
  }
}

// NaN and infinite gradients reach the parameter and the moments as through the composed ops.
TEST(Optim, OnePassAdamNonFiniteGradients) {
  for (DType t : {float32, float64}) {
    const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
    const std::vector<Tensor> init{
        tensor({1.0, -2.0, 0.5, 3.0, 0.0, -1.0, 2.0, 4.0, 5.0, -3.0, 0.25}, t).requires_grad_()};
    auto g = [&](int step, size_t, const Tensor&) {
      if (step == 1) return tensor({nan, inf, -inf, 1.0, 0.0, -0.0, 1e30, -1e-30, 2.0, nan, -inf}, t);
      return tensor({0.5, -0.25, 1.0, 2.0, -1.0, 0.0, 3.0, -2.0, 1.0, 0.5, 0.125}, t).mul(step + 1);
    };
    for (const AdamCase& c :
         {AdamCase{true, 1e-2, 0.9, 0.999, 1e-8, 0.1, true}, AdamCase{false, 1e-2, 0.3, 0.99, 1e-8, 0.1, false}}) {
      int64_t fused = 0;
      const auto a = run_adam(c, init, 4, true, g, &fused);
      const auto b = run_adam(c, init, 4, false, g);
      EXPECT_EQ(fused, 4);
      for (size_t k = 0; k < a.size(); ++k) EXPECT_TRUE(same_bits(a[k], b[k])) << t << " tensor " << k;
      EXPECT_TRUE(std::isnan(a[0].detach()[0].item<double>()));
    }
  }
}

// A non-contiguous parameter takes the composed ops.
TEST(Optim, OnePassAdamFallsBack) {
  Tensor p = randn({4, 6}).t().requires_grad_();
  ASSERT_FALSE(p.is_contiguous());
  Tensor q = randn({5}).requires_grad_();
  optim::AdamW opt({p, q}, {.lr = 0.1});
  const int64_t before = optim::one_pass_update_count();
  p.set_grad(randn({6, 4}));
  q.set_grad(randn({5}));
  opt.step();
  EXPECT_EQ(optim::one_pass_update_count() - before, 1);  // q only
  EXPECT_EQ(opt.state(p).step, 1);
  EXPECT_TRUE(opt.state(p).exp_avg.defined());
}

// SGD's one-pass update gives the composed ops' values bit for bit: plain, weight decay (also of
// exactly 1, add's plain sum), momentum with dampening, Nesterov (also momentum 1); its first
// momentum step is the composed clone, every later one the kernel's.
TEST(Optim, OnePassSGDMatchesComposedBitForBit) {
  const optim::SGDOptions cases[] = {
      {.lr = 0.1},
      {.lr = 0.05, .weight_decay = 0.01},
      {.lr = 0.05, .momentum = 0.8, .dampening = 0.3},
      {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true},
      {.lr = 0.01, .momentum = 1.0, .weight_decay = 1.0, .nesterov = true},
  };
  for (DType t : {float32, float64}) {
    manual_seed(11);
    const std::vector<Tensor> init = odd_params(t);
    std::vector<std::vector<Tensor>> grads(20);
    for (auto& step : grads)
      for (const Tensor& p : init) step.push_back(random_grad(p, t));
    for (const optim::SGDOptions& c : cases) {
      std::vector<Tensor> out[2];
      int64_t updates[2] = {};
      for (int one_pass = 0; one_pass < 2; ++one_pass) {
        std::vector<Tensor> ps;
        for (const Tensor& p : init) ps.push_back(p.detach().clone().requires_grad_());
        optim::SGD opt(ps, c);
        optim::set_one_pass_updates(one_pass == 1);
        const int64_t before = optim::one_pass_update_count();
        for (size_t step = 0; step < grads.size(); ++step) {
          for (size_t i = 0; i < ps.size(); ++i) ps[i].set_grad(grads[step][i]);
          opt.step();
        }
        updates[one_pass] = optim::one_pass_update_count() - before;
        optim::set_one_pass_updates(true);
        out[one_pass] = ps;
        if (c.momentum != 0.0)
          for (const Tensor& p : ps) out[one_pass].push_back(opt.state(p).momentum_buffer);
      }
      const int64_t steps = static_cast<int64_t>(grads.size()) - (c.momentum != 0.0 ? 1 : 0);
      EXPECT_EQ(updates[1], steps * static_cast<int64_t>(init.size())) << "the one-pass kernel did not run";
      EXPECT_EQ(updates[0], 0);
      for (size_t k = 0; k < out[0].size(); ++k)
        EXPECT_TRUE(same_bits(out[1][k], out[0][k])) << t << " momentum " << c.momentum << " tensor " << k;
    }
  }
}
