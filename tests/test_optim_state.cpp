// Optimizer and LR scheduler state dicts: what they hold, that a loaded optimizer continues
// bit-identically, and one test per error of load_state_dict.
#include <cmath>

#include "ricci/optim.h"
#include "test_util.h"

using namespace ricci;

namespace {

const Tensor W = tensor({{1.0, 2.0, 0.5}, {3.0, 1.5, 0.25}}, float64);
Tensor p0() { return tensor({{1.0, -2.0, 3.0}, {0.5, -0.5, 2.0}}, float64).requires_grad_(); }
Tensor q0() { return tensor({0.5, -1.5}, float64).requires_grad_(); }

void step(optim::Optimizer& o, const std::vector<Tensor>& ps) {
  o.zero_grad();
  Tensor loss = scalar_tensor(0.0, float64);
  for (const Tensor& p : ps) loss = loss.add(p.mul(p).mul(p.sin()).sum());
  loss.backward();
  o.step();
}

void copy_values(const Tensor& dst, const Tensor& src) {
  NoGradGuard g;
  Tensor d = dst;
  d.copy_(src);
}

// Two groups, two parameters each way, so indices cross the groups.
struct Params3 {
  Tensor a = p0(), b = q0(), c = p0().mul(0.5).detach().requires_grad_();
  std::vector<optim::ParamGroup> groups(double lr0, double lr1) const {
    optim::ParamGroup g0, g1;
    g0.params = {a, b}, g0.lr = lr0, g0.weight_decay = 0.01;
    g1.params = {c}, g1.lr = lr1, g1.amsgrad = true, g1.beta2 = 0.5;
    return {g0, g1};
  }
  std::vector<Tensor> all() const { return {a, b, c}; }
};

optim::OptimizerStateDict adam_sd() {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  step(opt, s.all());
  return opt.state_dict();
}

}  // namespace

TEST(OptimState, AdamStateDictLayout) {
  Params3 s;
  optim::AdamW opt(s.groups(0.1, 0.2));
  step(opt, s.all());
  step(opt, s.all());
  const optim::OptimizerStateDict sd = opt.state_dict();
  EXPECT_EQ(sd.optimizer, "AdamW");
  ASSERT_EQ(sd.param_groups.size(), 2u);
  EXPECT_EQ(sd.param_groups[0].params, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(sd.param_groups[1].params, (std::vector<int64_t>{2}));
  const std::map<std::string, double> g1 = {{"lr", 0.2}, {"beta1", 0.9}, {"beta2", 0.5}, {"eps", 1e-8},
                                            {"weight_decay", 0.0}, {"amsgrad", 1.0}};
  EXPECT_EQ(sd.param_groups[1].options, g1);
  EXPECT_EQ(sd.param_groups[0].options.at("weight_decay"), 0.01);
  EXPECT_EQ(sd.param_groups[0].options.at("amsgrad"), 0.0);
  ASSERT_EQ(sd.state.size(), 3u);
  EXPECT_EQ(sd.state.at(0).size(), 3u);  // step, exp_avg, exp_avg_sq
  EXPECT_EQ(sd.state.at(2).size(), 4u);  // + max_exp_avg_sq (amsgrad)
  EXPECT_TENSOR_EQ(sd.state.at(1).at("step"), scalar_tensor(2.0, float64));
  EXPECT_TENSOR_EQ(sd.state.at(1).at("exp_avg"), opt.state(s.b).exp_avg);
  EXPECT_TENSOR_EQ(sd.state.at(2).at("max_exp_avg_sq"), opt.state(s.c).max_exp_avg_sq);
  EXPECT_FALSE(sd.state.at(0).at("exp_avg").requires_grad());
}

TEST(OptimState, SGDStateDictLayout) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.5});
  EXPECT_TRUE(opt.state_dict().state.empty());  // no step yet: no state
  (void)opt.state(p);                           // looking does not make an entry
  EXPECT_TRUE(opt.state_dict().state.empty());
  step(opt, {p});
  const optim::OptimizerStateDict sd = opt.state_dict();
  EXPECT_EQ(sd.optimizer, "SGD");
  ASSERT_EQ(sd.state.size(), 1u);
  ASSERT_EQ(sd.state.at(0).size(), 1u);  // PyTorch's SGD keeps no step
  EXPECT_TENSOR_EQ(sd.state.at(0).at("momentum_buffer"), opt.state(p).momentum_buffer);
  const std::map<std::string, double> g = {{"lr", 0.1}, {"momentum", 0.9}, {"dampening", 0.1}, {"nesterov", 0.0},
                                           {"weight_decay", 0.5}};
  EXPECT_EQ(sd.param_groups[0].options, g);
}

TEST(OptimState, LoadContinuesBitIdentically) {
  for (int kind = 0; kind < 3; ++kind) {
    Params3 s, t;
    auto make = [&](const Params3& x, double lr0, double lr1) -> std::unique_ptr<optim::Optimizer> {
      if (kind == 0) return std::make_unique<optim::Adam>(x.groups(lr0, lr1));
      if (kind == 1) return std::make_unique<optim::AdamW>(x.groups(lr0, lr1));
      auto g = x.groups(lr0, lr1);
      for (auto& gr : g) gr.momentum = 0.9, gr.nesterov = true;
      return std::make_unique<optim::SGD>(g);
    };
    auto oa = make(s, 0.1, 0.2);
    auto ob = make(t, 0.7, 0.9);  // other hyperparameters: loading replaces them
    for (int i = 0; i < 3; ++i) step(*oa, s.all());
    step(*ob, t.all());  // state that loading must replace
    for (int i = 0; i < 3; ++i) copy_values(t.all()[i], s.all()[i]);
    const auto res = ob->load_state_dict(oa->state_dict());
    EXPECT_TRUE(res.missing_keys.empty() && res.unexpected_keys.empty() && res.errors.empty());
    EXPECT_EQ(ob->param_groups()[0].lr, 0.1);
    EXPECT_EQ(ob->param_groups()[1].lr, 0.2);
    // The loaded state is a copy: stepping the source does not reach it.
    for (int i = 0; i < 3; ++i) {
      step(*oa, s.all());
      step(*ob, t.all());
    }
    for (int i = 0; i < 3; ++i) EXPECT_TENSOR_EQ(t.all()[i].detach(), s.all()[i].detach()) << kind << " " << i;
  }
}

TEST(OptimState, LoadCopiesTheState) {
  Tensor p = p0();
  optim::Adam oa({p}, {.lr = 0.1});
  step(oa, {p});
  Tensor q = p0();
  optim::Adam ob({q}, {.lr = 0.1});
  ob.load_state_dict(oa.state_dict());
  EXPECT_EQ(ob.state(q).step, 1);
  EXPECT_FALSE(ob.state(q).exp_avg.is_same(oa.state(p).exp_avg));
  EXPECT_EQ(ob.state(q).exp_avg.device(), q.device());
}

TEST(OptimState, LoadingClearsStateAbsentFromTheDict) {
  Tensor p = p0();
  optim::Adam fresh({p0()});
  optim::Adam opt({p});
  step(opt, {p});
  opt.load_state_dict(fresh.state_dict());  // a state dict with no state
  EXPECT_TRUE(opt.state_dict().state.empty());
}

// ---- errors: each one, then all at once -------------------------------------------------------------

TEST(OptimState, ErrorWrongNumberOfGroups) {
  Tensor p = p0();
  optim::Adam opt({p});
  EXPECT_THROW_MSG(opt.load_state_dict(adam_sd()), ValueError,
                   "loaded state dict has 2 parameter group(s), this optimizer has 1");
  EXPECT_THROW_MSG(opt.load_state_dict(adam_sd(), false), ValueError, "parameter group(s)");
}

TEST(OptimState, ErrorGroupHoldsOtherParameters) {
  Params3 s;
  optim::ParamGroup g0, g1;
  g0.params = {s.a}, g1.params = {s.b, s.c};
  optim::Adam opt({g0, g1});
  EXPECT_THROW_MSG(opt.load_state_dict(adam_sd(), false), ValueError,
                   "param_groups.0.params: the loaded group holds the parameters [0, 1], this optimizer's group 0 "
                   "holds [0]; build the optimizer over the same parameters");
}

TEST(OptimState, ErrorMissingAndUnexpectedHyperparameters) {
  Params3 s;
  optim::Adam opt(s.groups(0.5, 0.5));
  auto sd = adam_sd();
  sd.param_groups[0].options.erase("eps");
  sd.param_groups[1].options["momentum"] = 0.9;  // SGD's, not Adam's
  EXPECT_THROW_MSG(opt.load_state_dict(sd), ValueError,
                   "\tUnexpected key(s) in state_dict: \"param_groups.1.momentum\". \n\tMissing key(s) in state_dict: "
                   "\"param_groups.0.eps\". \n(pass strict=false");
  EXPECT_EQ(opt.param_groups()[0].lr, 0.5);  // nothing loaded
  const auto res = opt.load_state_dict(sd, false);
  EXPECT_EQ(res.missing_keys, (std::vector<std::string>{"param_groups.0.eps"}));
  EXPECT_EQ(res.unexpected_keys, (std::vector<std::string>{"param_groups.1.momentum"}));
  EXPECT_EQ(opt.param_groups()[0].lr, 0.1);
  EXPECT_EQ(opt.param_groups()[0].eps, 1e-8);  // kept its own
}

TEST(OptimState, ErrorInvalidHyperparameters) {
  Params3 s;
  optim::Adam opt(s.groups(0.5, 0.5));
  auto sd = adam_sd();
  sd.param_groups[0].options["lr"] = -1.0;
  sd.param_groups[0].options["beta2"] = 1.0;
  sd.param_groups[1].options["amsgrad"] = 0.5;
  sd.param_groups[1].options["eps"] = NAN;
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError, "param_groups.0.beta2 must be in [0, 1), got 1");
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError, "param_groups.0.lr must be >= 0, got -1");
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError, "param_groups.1.amsgrad must be 0 or 1, got 0.5");
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError, "param_groups.1.eps is not finite");
  Tensor p = p0();
  optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  auto ssd = sgd.state_dict();
  ssd.param_groups[0].options["dampening"] = 0.5;
  EXPECT_THROW_MSG(sgd.load_state_dict(ssd), ValueError, "Nesterov momentum requires a momentum and zero dampening");
}

TEST(OptimState, ErrorStateOfAParameterThatDoesNotExist) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  auto sd = adam_sd();
  sd.state[7] = sd.state.at(0);
  EXPECT_THROW_MSG(opt.load_state_dict(sd), ValueError,
                   "Unexpected key(s) in state_dict: \"state.7.exp_avg\", \"state.7.exp_avg_sq\", \"state.7.step\"");
  const auto res = opt.load_state_dict(sd, false);
  EXPECT_EQ(res.unexpected_keys.size(), 3u);
  EXPECT_EQ(opt.state(s.a).step, 1);
}

TEST(OptimState, ErrorUnknownStateField) {
  Tensor p = p0();
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  optim::OptimizerStateDict one;  // exp_avg is Adam's: it means nothing to SGD
  one.optimizer = "SGD";
  one.param_groups = {opt.state_dict().param_groups[0]};
  one.state[0] = {{"momentum_buffer", zeros({2, 3}, float64)}, {"exp_avg", zeros({2, 3}, float64)}};
  EXPECT_THROW_MSG(opt.load_state_dict(one), ValueError, "Unexpected key(s) in state_dict: \"state.0.exp_avg\"");
  EXPECT_EQ(opt.load_state_dict(one, false).unexpected_keys, (std::vector<std::string>{"state.0.exp_avg"}));
  EXPECT_TENSOR_EQ(opt.state(p).momentum_buffer, zeros({2, 3}, float64));
}

TEST(OptimState, ErrorMissingStateTensor) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  auto sd = adam_sd();
  sd.state.at(0).erase("exp_avg_sq");
  sd.state.at(2).erase("max_exp_avg_sq");  // group 1 uses amsgrad: required there
  EXPECT_THROW_MSG(opt.load_state_dict(sd), ValueError,
                   "Missing key(s) in state_dict: \"state.0.exp_avg_sq\", \"state.2.max_exp_avg_sq\".");
  // Not strict: those parameters start afresh; the complete one is loaded.
  const auto res = opt.load_state_dict(sd, false);
  EXPECT_EQ(res.missing_keys, (std::vector<std::string>{"state.0.exp_avg_sq", "state.2.max_exp_avg_sq"}));
  EXPECT_EQ(opt.state(s.a).step, 0);
  EXPECT_EQ(opt.state(s.b).step, 1);
  EXPECT_EQ(opt.state(s.c).step, 0);
  step(opt, s.all());  // and training goes on
  EXPECT_EQ(opt.state(s.a).step, 1);
}

TEST(OptimState, ErrorWrongShape) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  auto sd = adam_sd();
  sd.state.at(1)["exp_avg"] = zeros({3}, float64);
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ShapeError,
                   "size mismatch for state.1.exp_avg: copying a state tensor with shape [3] from checkpoint, "
                   "parameter 1 has shape [2].");
}

TEST(OptimState, ErrorWrongDType) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  auto sd = adam_sd();
  sd.state.at(1)["exp_avg"] = sd.state.at(1).at("exp_avg").to(float32);
  EXPECT_THROW_MSG(opt.load_state_dict(sd), DTypeError,
                   "dtype mismatch for state.1.exp_avg: copying a state tensor with dtype float32 from checkpoint, "
                   "parameter 1 has dtype float64.");
  opt.load_state_dict(sd, false);  // converted
  EXPECT_EQ(opt.state(s.b).exp_avg.dtype(), float64);
  EXPECT_TENSOR_EQ(opt.state(s.b).exp_avg, sd.state.at(1).at("exp_avg").to(float64));
}

TEST(OptimState, ErrorBadStep) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  for (const Tensor& bad : {scalar_tensor(-1.0, float64), scalar_tensor(1.5, float64), zeros({2}, float64),
                            scalar_tensor(NAN, float64)}) {
    auto sd = adam_sd();
    sd.state.at(0)["step"] = bad;
    EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError,
                     "state.0.step must be a one-element tensor holding a whole number >= 0");
  }
  auto sd = adam_sd();
  sd.state.at(0)["step"] = scalar_tensor(int64_t{41}, int64);  // any whole-number dtype does
  opt.load_state_dict(sd);
  EXPECT_EQ(opt.state(s.a).step, 41);
}

TEST(OptimState, ErrorUndefinedTensor) {
  Params3 s;
  optim::Adam opt(s.groups(0.1, 0.2));
  auto sd = adam_sd();
  sd.state.at(0)["exp_avg"] = Tensor();
  EXPECT_THROW_MSG(opt.load_state_dict(sd, false), ValueError, "the entry \"state.0.exp_avg\" is an undefined tensor");
}

TEST(OptimState, ErrorOtherOptimizerType) {
  Params3 s;
  optim::AdamW opt(s.groups(0.1, 0.2));
  EXPECT_THROW_MSG(opt.load_state_dict(adam_sd()), ValueError,
                   "the state dict was written by Adam but this optimizer is AdamW (pass strict=false");
  const auto res = opt.load_state_dict(adam_sd(), false);  // same layout: loads
  EXPECT_TRUE(res.missing_keys.empty() && res.unexpected_keys.empty());
  EXPECT_EQ(opt.state(s.c).step, 1);
}

TEST(OptimState, EveryProblemInOneErrorAndNothingLoaded) {
  Params3 s;
  optim::Adam opt(s.groups(0.5, 0.5));
  step(opt, s.all());
  const Tensor before = opt.state(s.a).exp_avg.clone();
  auto sd = adam_sd();
  for (auto& [i, e] : sd.state) e["exp_avg"] = e.at("exp_avg").mul(3.0);
  sd.optimizer = "SGD";
  sd.param_groups[0].options.erase("lr");
  sd.param_groups[1].options["foo"] = 1.0;
  sd.state.at(0)["bar"] = zeros({1});
  sd.state.at(1)["exp_avg"] = zeros({5}, float64);
  sd.state.at(2)["exp_avg_sq"] = sd.state.at(2).at("exp_avg_sq").to(float32);
  sd.state.at(2).erase("step");
  try {
    opt.load_state_dict(sd);
    ADD_FAILURE() << "no error";
  } catch (const ShapeError& e) {  // a shape is among the problems
    const std::string msg = e.what();
    for (const char* part :
         {"[optim.load_state_dict] Error(s) in loading state_dict for Adam:",
          "\n\tUnexpected key(s) in state_dict: \"param_groups.1.foo\", \"state.0.bar\". ",
          "\n\tMissing key(s) in state_dict: \"param_groups.0.lr\", \"state.2.step\". ",
          "\n\tthe state dict was written by SGD but this optimizer is Adam",
          "\n\tsize mismatch for state.1.exp_avg", "\n\tdtype mismatch for state.2.exp_avg_sq"})
      EXPECT_NE(msg.find(part), std::string::npos) << "missing: " << part << "\nin: " << msg;
  }
  EXPECT_EQ(opt.param_groups()[0].lr, 0.5);
  EXPECT_TENSOR_EQ(opt.state(s.a).exp_avg, before);
  // check_state_dict reports the same without throwing.
  const auto check = opt.check_state_dict(sd);
  EXPECT_EQ(check.errors.size(), 5u);
  EXPECT_EQ(check.missing_keys, (std::vector<std::string>{"param_groups.0.lr", "state.2.step"}));
  EXPECT_TRUE(opt.check_state_dict(adam_sd()).errors.empty());
}

// ---- schedulers ---------------------------------------------------------------------------------------

TEST(SchedulerState, StateDictLayout) {
  Params3 s;
  optim::AdamW opt(s.groups(1.0, 0.5));
  optim::WarmupCosine sched(opt, 3, 10, 0.01);
  sched.step();
  sched.step();
  const optim::SchedulerStateDict sd = sched.state_dict();
  EXPECT_EQ(sd.scheduler, "WarmupCosine");
  EXPECT_EQ(sd.last_epoch, 2);
  EXPECT_EQ(sd.base_lrs, (std::vector<double>{1.0, 0.5}));
  const std::map<std::string, double> o = {{"warmup_steps", 3.0}, {"total_steps", 10.0}, {"min_lr", 0.01}};
  EXPECT_EQ(sd.options, o);
  optim::StepLR step_lr(opt, 4, 0.5);
  EXPECT_EQ(step_lr.state_dict().options, (std::map<std::string, double>{{"step_size", 4.0}, {"gamma", 0.5}}));
  // The optimizer's groups carry the base lr too, as PyTorch's do.
  EXPECT_EQ(opt.state_dict().param_groups[1].options.at("initial_lr"), 0.5);
}

TEST(SchedulerState, ResumedScheduleIsIdentical) {
  for (int kind = 0; kind < 2; ++kind) {
    Params3 s, t;
    optim::SGD oa(s.groups(1.0, 0.3)), ob(t.groups(5.0, 5.0));
    std::unique_ptr<optim::LRScheduler> sa, sb;
    if (kind == 0) {
      sa = std::make_unique<optim::StepLR>(oa, 3, 0.5);
      sb = std::make_unique<optim::StepLR>(ob, 7, 0.9);  // other settings: loading replaces them
    } else {
      sa = std::make_unique<optim::WarmupCosine>(oa, 2, 12, 0.05);
      sb = std::make_unique<optim::WarmupCosine>(ob, 5, 50, 0.0);
    }
    for (int i = 0; i < 5; ++i) sa->step();
    ob.load_state_dict(oa.state_dict());
    sb->load_state_dict(sa->state_dict());
    EXPECT_EQ(sb->last_epoch(), 5);
    EXPECT_EQ(ob.param_groups()[1].initial_lr, 0.3);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(sb->get_last_lr(), sa->get_last_lr()) << kind << " " << i;
      sa->step();
      sb->step();
    }
  }
}

TEST(SchedulerState, Errors) {
  Params3 s;
  optim::SGD opt(s.groups(1.0, 0.5));
  optim::StepLR sched(opt, 3, 0.5);
  optim::WarmupCosine cos(opt, 2, 10);
  auto sd = sched.state_dict();
  EXPECT_THROW_MSG(sched.load_state_dict(cos.state_dict()), ValueError,
                   "the state dict was written by WarmupCosine, this scheduler is StepLR");
  auto bad = sd;
  bad.base_lrs.push_back(1.0);
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError,
                   "loaded state dict has 3 base lr(s), the optimizer has 2 parameter group(s)");
  bad = sd;
  bad.base_lrs[0] = -1.0;
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError, "base_lrs[0] must be a finite lr >= 0, got -1");
  bad = sd;
  bad.last_epoch = -2;
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError, "last_epoch must be >= 0, got -2");
  bad = sd;
  bad.options.erase("gamma");
  bad.options["warmup_steps"] = 3;
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError,
                   "Unexpected key(s) in state_dict: \"warmup_steps\". \n\tMissing key(s) in state_dict: \"gamma\".");
  bad = sd;
  bad.options["step_size"] = 2.5;
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError, "step_size must be a positive whole number, got 2.5");
  auto cbad = cos.state_dict();
  cbad.options["total_steps"] = 1;
  EXPECT_THROW_MSG(cos.load_state_dict(cbad), ValueError, "needs whole numbers 0 <= warmup_steps < total_steps");
  cbad = cos.state_dict();
  cbad.options["min_lr"] = INFINITY;
  EXPECT_THROW_MSG(cos.load_state_dict(cbad), ValueError, "min_lr must be finite");
  bad = sd;
  bad.options["gamma"] = NAN;
  EXPECT_THROW_MSG(sched.load_state_dict(bad), ValueError, "gamma must be finite");
  // Nothing was loaded by any of these.
  EXPECT_EQ(sched.state_dict().options, sd.options);
  EXPECT_EQ(sched.last_epoch(), 0);
  EXPECT_TRUE(sched.check_state_dict(sd).empty());
}
