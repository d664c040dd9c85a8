// nn::Module (registration, naming, state dicts, modes, conversion), layers and init.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "ricci/nn/init.h"
#include "ricci/nn/layers.h"
#include "test_util.h"

using namespace ricci;

namespace {

struct TwoLayer : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  TwoLayer(int64_t i, int64_t h, int64_t o)
      : fc1(register_module("fc1", std::make_shared<nn::Linear>(i, h))),
        fc2(register_module("fc2", std::make_shared<nn::Linear>(h, o))) {
    register_buffer("step", zeros({1}));
  }
  Tensor forward(const Tensor& x) { return fc2->forward(fc1->forward(x).relu()); }
};

std::vector<std::string> names(const nn::NamedTensors& v) {
  std::vector<std::string> out;
  for (const auto& [n, _] : v) out.push_back(n);
  return out;
}

}  // namespace

TEST(Module, RegistrationAndNaming) {
  auto m = std::make_shared<TwoLayer>(128, 256, 10);
  const auto np = m->named_parameters();
  EXPECT_EQ(names(np), (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(np[0].second.shape(), (Dims{256, 128}));
  EXPECT_EQ(np[1].second.shape(), (Dims{256}));
  EXPECT_EQ(np[2].second.shape(), (Dims{10, 256}));
  EXPECT_EQ(np[3].second.shape(), (Dims{10}));
  for (const auto& [_, p] : np) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  EXPECT_EQ(names(m->named_buffers()), (std::vector<std::string>{"step"}));
  EXPECT_FALSE(m->buffer("step").requires_grad());
  EXPECT_EQ(m->children().size(), 2u);
  EXPECT_EQ(m->modules().size(), 3u);
  EXPECT_EQ(m->named_modules()[1].first, "fc1");
  EXPECT_TRUE(m->parameter("fc1.weight").is_same(m->fc1->weight));
  EXPECT_EQ(m->num_parameters(), 256 * 128 + 256 + 10 * 256 + 10);
  EXPECT_EQ(m->parameter_bytes(), static_cast<size_t>(m->num_parameters()) * 4);
  EXPECT_EQ(m->type_name(), "TwoLayer");
  EXPECT_EQ(names(m->state_dict()),
            (std::vector<std::string>{"step", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
}

TEST(Module, RegistrationErrors) {
  nn::Module m;
  m.register_parameter("w", zeros({2}));
  EXPECT_THROW_MSG(m.register_buffer("w", zeros({2})), ValueError, "attribute 'w' already exists");
  EXPECT_THROW_MSG(m.register_parameter("a.b", zeros({2})), ValueError, "can't contain \".\"");
  EXPECT_THROW_MSG(m.register_parameter("", zeros({2})), ValueError, "can't be empty");
  EXPECT_THROW_MSG(m.register_parameter("i", zeros({2}, int64)), DTypeError, "only floating point");
  EXPECT_THROW_MSG(m.parameter("nope"), IndexError, "has no parameter \"nope\"");
}

TEST(Module, SharedParameterListedOnce) {
  nn::Module m;
  Tensor w = m.register_parameter("w", ones({2}));
  m.register_parameter("w2", w);
  EXPECT_EQ(m.parameters().size(), 1u);
}

TEST(Module, StateDictRoundTripInMemory) {
  manual_seed(1);
  auto a = std::make_shared<TwoLayer>(4, 3, 2);
  auto b = std::make_shared<TwoLayer>(4, 3, 2);
  const Tensor w_handle = b->fc1->weight;
  const auto res = b->load_state_dict(a->state_dict());
  EXPECT_TRUE(res.missing_keys.empty() && res.unexpected_keys.empty());
  EXPECT_TRUE(b->fc1->weight.is_same(w_handle));  // copied in place
  EXPECT_TRUE(w_handle.is_leaf() && w_handle.requires_grad());
  const auto sa = a->state_dict(), sb = b->state_dict();
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TENSOR_EQ(sb[i].second, sa[i].second) << sa[i].first;
  const Tensor x = randn({5, 4});
  EXPECT_TENSOR_EQ(b->forward(x).detach(), a->forward(x).detach());
}

TEST(Module, SaveLoadThroughSafetensors) {
  manual_seed(2);
  auto a = std::make_shared<TwoLayer>(4, 3, 2);
  {
    NoGradGuard g;
    Tensor s = a->buffer("step");
    s.fill_(7);
  }
  const std::string path = (std::filesystem::temp_directory_path() / "ricci_test_module.safetensors").string();
  a->save(path);
  auto b = std::make_shared<TwoLayer>(4, 3, 2);
  b->load(path);
  std::remove(path.c_str());
  const auto sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TENSOR_EQ(sb[i].second, sa[i].second) << sa[i].first;
}

TEST(Module, StrictErrors) {
  auto m = std::make_shared<TwoLayer>(4, 4, 2);
  auto sd = m->state_dict();
  nn::NamedTensors missing(sd.begin(), sd.end() - 1);
  EXPECT_THROW_MSG(m->load_state_dict(missing), ValueError,
                   "Error(s) in loading state_dict for TwoLayer:\n\tMissing key(s) in state_dict: \"fc2.bias\".");
  auto extra = sd;
  extra.emplace_back("foo", zeros({1}));
  EXPECT_THROW_MSG(m->load_state_dict(extra), ValueError, "Unexpected key(s) in state_dict: \"foo\".");
  auto bad = sd;
  bad[1].second = zeros({3, 4});
  EXPECT_THROW_MSG(m->load_state_dict(bad), ShapeError,
                   "size mismatch for fc1.weight: copying a param with shape [3, 4] from checkpoint, the shape in "
                   "current model is [4, 4].");
  EXPECT_THROW_MSG(m->load_state_dict(bad, false), ShapeError, "size mismatch for fc1.weight");
}

TEST(Module, NonStrictReturnsKeys) {
  auto m = std::make_shared<TwoLayer>(4, 4, 2);
  auto sd = m->state_dict();
  nn::NamedTensors partial(sd.begin(), sd.end() - 1);
  partial.emplace_back("foo", zeros({1}));
  {
    NoGradGuard g;
    partial[1].second = full({4, 4}, 3.0);
  }
  const auto res = m->load_state_dict(partial, false);
  EXPECT_EQ(res.missing_keys, (std::vector<std::string>{"fc2.bias"}));
  EXPECT_EQ(res.unexpected_keys, (std::vector<std::string>{"foo"}));
  EXPECT_TENSOR_EQ(m->fc1->weight.detach(), full({4, 4}, 3.0f));
}

TEST(Module, StrictDTypeMismatch) {
  auto m = std::make_shared<TwoLayer>(4, 4, 2);
  auto sd = m->state_dict();  // step, fc1.weight, fc1.bias, fc2.weight, fc2.bias
  sd[2].second = sd[2].second.to(float64).add(1.0);
  EXPECT_THROW_MSG(m->load_state_dict(sd), DTypeError,
                   "Error(s) in loading state_dict for TwoLayer:\n\tdtype mismatch for fc1.bias: copying a param with "
                   "dtype float64 from checkpoint, the dtype in current model is float32.\n(pass strict=false");
  const auto res = m->load_state_dict(sd, false);  // converted while copying
  EXPECT_TRUE(res.missing_keys.empty() && res.unexpected_keys.empty());
  EXPECT_EQ(m->fc1->bias.dtype(), float32);
  EXPECT_TENSOR_EQ(m->fc1->bias.detach(), sd[2].second.to(float32));
}

TEST(Module, UndefinedAndDuplicateEntries) {
  auto m = std::make_shared<TwoLayer>(4, 4, 2);
  auto sd = m->state_dict();
  sd[1].second = Tensor();
  EXPECT_THROW_MSG(m->load_state_dict(sd, false), ValueError, "the entry \"fc1.weight\" is an undefined tensor.");
  sd = m->state_dict();
  sd.push_back(sd[3]);
  EXPECT_THROW_MSG(m->load_state_dict(sd, false), ValueError, "the key \"fc2.weight\" appears more than once.");
}

TEST(Module, EveryMismatchInOneErrorAndNothingCopied) {
  auto m = std::make_shared<TwoLayer>(4, 4, 2);
  const Tensor w_before = m->fc2->weight.detach().clone();
  nn::NamedTensors sd;
  for (auto& [n, t] : m->state_dict())
    if (n != "fc1.bias" && n != "step") sd.emplace_back(n, t.add(1.0));
  sd.emplace_back("extra.a", zeros({1}));
  sd.emplace_back("extra.b", zeros({1}));
  sd[0].second = zeros({2, 4});               // fc1.weight: shape
  sd[2].second = sd[2].second.to(float64);    // fc2.bias: dtype
  try {
    m->load_state_dict(sd);
    ADD_FAILURE() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()),
              "[load_state_dict] Error(s) in loading state_dict for TwoLayer:"
              "\n\tUnexpected key(s) in state_dict: \"extra.a\", \"extra.b\". "
              "\n\tMissing key(s) in state_dict: \"fc1.bias\", \"step\". "
              "\n\tsize mismatch for fc1.weight: copying a param with shape [2, 4] from checkpoint, the shape in "
              "current model is [4, 4]."
              "\n\tdtype mismatch for fc2.bias: copying a param with dtype float64 from checkpoint, the dtype in "
              "current model is float32."
              "\n(pass strict=false to load the matching entries and get the rest back)");
  }
  EXPECT_TENSOR_EQ(m->fc2->weight.detach(), w_before);  // fc2.weight was fine, but nothing is copied
  const auto check = m->check_state_dict(sd);
  EXPECT_EQ(check.errors.size(), 4u);
  EXPECT_EQ(check.missing_keys, (std::vector<std::string>{"fc1.bias", "step"}));
  EXPECT_EQ(check.unexpected_keys, (std::vector<std::string>{"extra.a", "extra.b"}));
  EXPECT_EQ(m->check_state_dict(sd, false).errors.size(), 1u);  // only the shape is left
  EXPECT_TRUE(m->check_state_dict(m->state_dict()).errors.empty());
}

TEST(Module, TrainEvalRecursive) {
  auto block = std::make_shared<nn::TransformerBlock>(8, 2, 0.5);
  EXPECT_TRUE(block->is_training());
  block->eval();
  for (nn::Module* m : block->modules()) EXPECT_FALSE(m->is_training());
  const Tensor x = randn({2, 5, 8});
  EXPECT_TENSOR_EQ(block->forward(x).detach(), block->forward(x).detach());  // dropout off
  block->train();
  for (nn::Module* m : block->modules()) EXPECT_TRUE(m->is_training());
}

TEST(Module, ToFloat64KeepsHandles) {
  auto m = std::make_shared<TwoLayer>(4, 3, 2);
  const Tensor w = m->fc1->weight;
  const std::vector<double> before = ricci::testing::values(w);
  m->forward(randn({2, 4})).sum().backward();
  m->to(float64);
  EXPECT_EQ(w.dtype(), float64);
  EXPECT_EQ(m->fc1->weight.dtype(), float64);
  EXPECT_EQ(m->buffer("step").dtype(), float64);
  EXPECT_EQ(w.grad().dtype(), float64);
  EXPECT_TRUE(w.is_leaf() && w.requires_grad());
  EXPECT_EQ(ricci::testing::values(w), before);
  const Tensor y = m->forward(randn({2, 4}, float64));
  EXPECT_EQ(y.dtype(), float64);
  m->zero_grad();
  y.sum().backward();
  EXPECT_EQ(w.grad().dtype(), float64);
  m->zero_grad();
  EXPECT_FALSE(w.grad().defined());
  EXPECT_THROW_MSG(m->to(int64), DTypeError, "floating point");
}

TEST(Module, Apply) {
  auto m = std::make_shared<TwoLayer>(4, 3, 2);
  std::vector<std::string> order;
  m->apply([&](nn::Module& mod) { order.push_back(mod.type_name()); });
  EXPECT_EQ(order, (std::vector<std::string>{"Linear", "Linear", "TwoLayer"}));
  m->apply([](nn::Module& mod) {
    if (auto* lin = dynamic_cast<nn::Linear*>(&mod)) nn::init::zeros_(lin->weight);
  });
  EXPECT_TENSOR_EQ(m->fc2->weight.detach(), zeros({2, 3}));
}

TEST(Layers, LinearInitBounds) {
  manual_seed(3);
  nn::Linear lin(64, 500);
  const double bound = 1.0 / 8.0;
  const auto w = ricci::testing::values(lin.weight), b = ricci::testing::values(lin.bias);
  double wmax = 0, bmax = 0;
  for (double v : w) wmax = std::max(wmax, std::abs(v));
  for (double v : b) bmax = std::max(bmax, std::abs(v));
  EXPECT_LE(wmax, bound);
  EXPECT_GT(wmax, 0.95 * bound);  // 32000 draws reach near the edge
  EXPECT_LE(bmax, bound);
  EXPECT_GT(bmax, 0.9 * bound);
  nn::Linear nobias(3, 2, false);
  EXPECT_FALSE(nobias.bias.defined());
  EXPECT_EQ(nobias.parameters().size(), 1u);
  EXPECT_EQ(lin(randn({7, 64})).shape(), (Dims{7, 500}));
  EXPECT_THROW_MSG(lin.forward(randn({2, 3})), ShapeError, "last dim of 64");
}

TEST(Layers, ForwardShapesAndValues) {
  manual_seed(4);
  nn::Embedding emb(10, 6, 0);
  EXPECT_TENSOR_EQ(emb.weight[0].detach(), zeros({6}));
  EXPECT_EQ(emb(tensor({{1, 2}, {3, 0}})).shape(), (Dims{2, 2, 6}));
  nn::LayerNorm ln(6);
  const Tensor x = randn({3, 6});
  EXPECT_TENSOR_CLOSE(ln(x), F::layer_norm(x, {6}), 1e-6, 1e-6);
  nn::RMSNorm rms(6);
  EXPECT_TENSOR_CLOSE(rms(x), F::rms_norm(x, {6}), 1e-6, 1e-6);
  nn::Sequential seq;
  seq.emplace_back<nn::Linear>(6, 4);
  seq.emplace_back<nn::ReLU>();
  seq.emplace_back<nn::SiLU>();
  seq.emplace_back<nn::Sigmoid>();
  EXPECT_EQ(seq(x).shape(), (Dims{3, 4}));
  EXPECT_EQ(names(seq.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  nn::ModuleList list;
  list.push_back(std::make_shared<nn::Linear>(2, 2));
  list.push_back(std::make_shared<nn::GELU>());
  EXPECT_EQ(list.size(), 2u);
  EXPECT_NE(list.at<nn::Linear>(0), nullptr);
  nn::ModuleDict dict;
  dict.insert("proj", std::make_shared<nn::Linear>(2, 3));
  EXPECT_TRUE(dict.contains("proj"));
  EXPECT_EQ(names(dict.named_parameters()), (std::vector<std::string>{"proj.weight", "proj.bias"}));
  nn::Dropout d(0.5);
  d.eval();
  EXPECT_TENSOR_EQ(d(x), x);
  EXPECT_THROW_MSG(nn::Dropout(1.5), ValueError, "between 0 and 1");
}

TEST(Layers, TransformerBlockIsCausal) {
  manual_seed(5);
  auto block = std::make_shared<nn::TransformerBlock>(8, 2);
  EXPECT_EQ(names(block->named_parameters())[2], "attn.c_attn.weight");
  const Tensor x = randn({1, 5, 8});
  const Tensor y = block->forward(x).detach();
  EXPECT_EQ(y.shape(), (Dims{1, 5, 8}));
  // Changing the last position leaves earlier outputs alone.
  Tensor x2 = x.clone();
  x2.select(1, 4).fill_(3.0);
  const Tensor y2 = block->forward(x2).detach();
  EXPECT_TENSOR_CLOSE(y2.narrow(1, 0, 4), y.narrow(1, 0, 4), 1e-5, 1e-6);
  block->forward(x).sum().backward();
  for (const auto& [n, p] : block->named_parameters()) EXPECT_TRUE(p.grad().defined()) << n;
  EXPECT_THROW_MSG(nn::CausalSelfAttention(6, 4), ValueError, "divisible");
}

TEST(Init, FansAndBounds) {
  Tensor w = empty({20, 30, 3});
  EXPECT_EQ(nn::init::calculate_fan_in_and_fan_out(w), (std::pair<int64_t, int64_t>{90, 60}));
  nn::init::xavier_uniform_(w);
  const double xb = std::sqrt(6.0 / 150.0);
  EXPECT_LE(ricci::testing::values(w.abs().max())[0], xb);
  nn::init::kaiming_uniform_(w, 0.0, nn::init::FanMode::FanOut, "relu");
  EXPECT_LE(ricci::testing::values(w.abs().max())[0], std::sqrt(2.0) * std::sqrt(3.0 / 60.0));
  Tensor big = empty({200, 400}, float64);
  nn::init::kaiming_normal_(big, 0.0, nn::init::FanMode::FanIn, "relu");
  EXPECT_NEAR(big.std().item<double>(), std::sqrt(2.0 / 400.0), 0.003);
  nn::init::xavier_normal_(big, 2.0);
  EXPECT_NEAR(big.std().item<double>(), 2.0 * std::sqrt(2.0 / 600.0), 0.003);
  nn::init::constant_(big, 0.5);
  EXPECT_EQ(big.mean().item<double>(), 0.5);
  nn::init::ones_(big);
  EXPECT_EQ(big.sum().item<double>(), 80000.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_THROW_MSG(nn::init::xavier_uniform_(empty({3})), ValueError, "fewer than 2 dimensions");
  EXPECT_THROW_MSG(nn::init::calculate_gain("nope"), ValueError, "Unsupported nonlinearity");
  // Works on a parameter that requires grad, without making it a non-leaf.
  Tensor p = zeros({3, 3}).requires_grad_();
  nn::init::normal_(p);
  EXPECT_TRUE(p.is_leaf());
}
