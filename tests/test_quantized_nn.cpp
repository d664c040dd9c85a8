// nn::QuantizedLinear, nn::QuantizedEmbedding, nn::quantize and saving/loading quantized models
// (include/ricci/nn/quantized.h).
#include <cstdio>

#include "ricci/nn/quantized.h"
#include "test_util.h"

using namespace ricci;
using ricci::testing::data_path;

namespace {

struct Net : nn::Module {
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::TransformerBlock> block;
  std::shared_ptr<nn::Linear> head;
  Net() {
    emb = register_module("emb", std::make_shared<nn::Embedding>(50, 64));
    block = register_module("block", std::make_shared<nn::TransformerBlock>(64, 4));
    head = register_module("head", std::make_shared<nn::Linear>(64, 50, false));
  }
  Tensor forward(const Tensor& idx) { return head->forward(block->forward(emb->forward(idx))); }
};

Tensor tokens() { return from_vector(std::vector<int64_t>{1, 4, 9, 16, 25, 36, 49, 0}, {2, 4}); }

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

}  // namespace

TEST(QuantizedLinear, FromLinearMatchesTheDequantizedWeights) {
  manual_seed(1);
  nn::Linear lin(128, 24);
  auto q = nn::QuantizedLinear::from_linear(lin, 64, 4);
  EXPECT_EQ(q->weight.shape(), (Dims{24, 16}));
  EXPECT_EQ(q->scales.shape(), (Dims{24, 2}));
  EXPECT_FALSE(q->weight.requires_grad() || q->scales.requires_grad() || q->bias.requires_grad());
  const Tensor x = randn({3, 5, 128});
  const Tensor w = dequantize(q->weight, q->scales, q->biases, 64, 4);
  EXPECT_TENSOR_CLOSE(q->forward(x), matmul(x, w.mT()) + lin.bias, 1e-4, 1e-4);
  // 8 bits stays close to the float layer.
  EXPECT_TENSOR_CLOSE(nn::QuantizedLinear::from_linear(lin, 32, 8)->forward(x), lin.forward(x), 0.0, 2e-2);
  // The gradient reaches the input.
  Tensor xg = x.detach().requires_grad_();
  q->forward(xg).sum().backward();
  EXPECT_TENSOR_CLOSE(xg.grad(), w.sum({0}).expand({3, 5, 128}), 1e-4, 1e-4);
}

TEST(QuantizedLinear, ConstructAndErrors) {
  nn::QuantizedLinear q(256, 10, /*bias=*/false, 128, 8);
  EXPECT_FALSE(q.bias.defined());
  EXPECT_EQ(q.forward(randn({2, 256})).shape(), (Dims{2, 10}));
  std::vector<std::string> keys;
  for (const auto& [k, _] : q.state_dict()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"weight", "scales", "biases"}));
  EXPECT_THROW_MSG(nn::QuantizedLinear(100, 4), ShapeError, "[QuantizedLinear] the input dim 100 must be divisible");
  EXPECT_THROW_MSG(q.forward(randn({2, 64})), ShapeError, "[QuantizedLinear] mat1 and mat2 shapes cannot be multiplied");
  EXPECT_THROW_MSG(nn::QuantizedLinear(64, 4, true, 64, 7), ValueError, "number of bits 7");
}

TEST(QuantizedEmbedding, RowsAndAsLinear) {
  manual_seed(2);
  nn::Embedding e(30, 64);
  auto q = nn::QuantizedEmbedding::from_embedding(e, 32, 8);
  const Tensor idx = from_vector(std::vector<int64_t>{3, 0, 29, 3}, {2, 2});
  const Tensor table = dequantize(q->weight, q->scales, q->biases, 32, 8);
  const Tensor out = q->forward(idx);
  EXPECT_EQ(out.shape(), (Dims{2, 2, 64}));
  EXPECT_TENSOR_EQ(out, index_select(table, 0, idx.reshape({4})).reshape({2, 2, 64}));
  EXPECT_TENSOR_CLOSE(out, e.forward(idx), 0.0, 2e-2);
  EXPECT_TENSOR_EQ(q->forward(idx.to(int32)), out);
  const Tensor x = randn({3, 64});
  EXPECT_TENSOR_CLOSE(q->as_linear(x), matmul(x, table.mT()), 1e-4, 1e-4);
  EXPECT_THROW_MSG(q->forward(idx.to(float32)), DTypeError, "[QuantizedEmbedding] Expected tensor for argument #1");
  EXPECT_THROW_MSG(q->forward(full({1}, int64_t{30})), IndexError, "index");
  EXPECT_THROW_MSG(q->as_linear(randn({3, 32})), ShapeError, "[QuantizedEmbedding::as_linear]");
  EXPECT_THROW_MSG(nn::QuantizedEmbedding(10, 48), ShapeError, "[QuantizedEmbedding] the input dim 48");
}

TEST(NnQuantize, ReplacesLayersInPlace) {
  manual_seed(3);
  Net net;
  const Tensor before = net.forward(tokens());
  auto old_head = net.head;
  EXPECT_EQ(nn::quantize(net, 64, 8), 6);  // emb, c_attn, c_proj, mlp.0, mlp.2, head
  EXPECT_NE(std::dynamic_pointer_cast<nn::QuantizedLinear>(net.child("head")), nullptr);
  EXPECT_NE(std::dynamic_pointer_cast<nn::QuantizedLinear>(net.child("block.mlp.0")), nullptr);
  EXPECT_NE(std::dynamic_pointer_cast<nn::QuantizedEmbedding>(net.child("emb")), nullptr);
  EXPECT_FALSE(old_head->weight.defined());  // the float weights are released
  // Handles held by forward code (typed members, Sequential's steps) now run the quantized layers.
  const Tensor after = net.forward(tokens());
  EXPECT_TENSOR_CLOSE(after, before, 0.0, 5e-2);
  EXPECT_FALSE(allclose(after, before, 0.0, 1e-7));
  bool has_scales = false;
  for (const auto& [k, t] : net.state_dict()) has_scales |= k == "block.attn.c_attn.scales";
  EXPECT_TRUE(has_scales);
  EXPECT_EQ(nn::quantize(net, 64, 8), 0);  // nothing left to replace
}

TEST(NnQuantize, PredicateGroupSizeAndErrors) {
  Net net;
  const int64_t n = nn::quantize(net, 64, 4, [](const std::string& path, nn::Module&) { return path != "head"; });
  EXPECT_EQ(n, 5);
  EXPECT_NE(std::dynamic_pointer_cast<nn::Linear>(net.child("head")), nullptr);
  Net other;
  other.register_module("odd", std::make_shared<nn::Linear>(48, 4));
  EXPECT_EQ(nn::quantize(other, 32, 4), 6);  // 48 inputs do not divide into groups of 32
  EXPECT_NE(std::dynamic_pointer_cast<nn::Linear>(other.child("odd")), nullptr);
  Net third;
  third.register_module("odd", std::make_shared<nn::Linear>(48, 4));
  EXPECT_EQ(nn::quantize(third, 128, 4), 1);  // only mlp.2 (256 inputs) divides by 128
  EXPECT_THROW_MSG(nn::quantize(net, 16, 4), ValueError, "[nn::quantize] The requested group size 16");
  EXPECT_THROW_MSG(nn::quantize(net, 64, 1), ValueError, "[nn::quantize] The requested number of bits 1");
}

TEST(NnQuantize, SaveAndLoadThroughSafetensors) {
  manual_seed(4);
  Net a;
  nn::quantize(a, 32, 4);
  const std::string path = temp_path("ricci_quantized_net.safetensors");
  a.save(path);
  SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.dtype("head.weight"), int32);
  EXPECT_EQ(f.dtype("head.scales"), float32);
  manual_seed(99);
  Net b;
  nn::quantize(b, 32, 4);
  b.load(path);
  EXPECT_TENSOR_EQ(b.forward(tokens()), a.forward(tokens()));
  // Converting the model converts scales and biases; the codes stay int32.
  b.to(bfloat16);
  EXPECT_EQ(b.parameter("head.weight").dtype(), int32);
  EXPECT_EQ(b.parameter("head.scales").dtype(), bfloat16);
  EXPECT_EQ(b.forward(tokens()).dtype(), bfloat16);
  std::remove(path.c_str());
}

TEST(NnQuantize, LoadsWeightsMlxWrote) {
  struct Holder : nn::Module {
    std::shared_ptr<nn::QuantizedLinear> mlx_u32 =
        register_module("mlx_u32", std::make_shared<nn::QuantizedLinear>(128, 4, false, 64, 4));
  } m;
  const std::string golden = data_path("quantize_golden.safetensors");
  EXPECT_EQ(load_safetensors(golden).dtype_str("mlx_u32.weight"), "U32");
  EXPECT_THROW(m.load(golden, false), DTypeError);  // plain load refuses U32
  nn::load_quantized(m, golden, /*strict=*/false);
  SafetensorsFile f = load_safetensors(golden);
  EXPECT_TENSOR_EQ(m.mlx_u32->weight, f.get("b4_g64.weight"));
  EXPECT_TENSOR_CLOSE(m.mlx_u32->forward(f.get("x")), f.get("b4_g64.qmm"), 1e-4, 1e-4);
  EXPECT_THROW_MSG(f.get_bits("mlx_u32.weight", int64), DTypeError, "cannot be read as int64");
}

// set_activation_precision reaches every quantized layer (the Embedding too, for its as_linear);
// Int8 changes the model's output by the rounding of its activations, and Float restores it.
TEST(NnQuantize, ActivationPrecisionOnEveryLayer) {
  manual_seed(4);
  Net net;
  nn::quantize(net, 64, 4);
  NoGradGuard no_grad;
  const Tensor f = net.forward(tokens());
  EXPECT_EQ(nn::set_activation_precision(net, ActivationPrecision::Int8), 6);
  auto head = std::dynamic_pointer_cast<nn::QuantizedLinear>(net.child("head"));
  auto emb = std::dynamic_pointer_cast<nn::QuantizedEmbedding>(net.child("emb"));
  EXPECT_EQ(head->activations, ActivationPrecision::Int8);
  EXPECT_EQ(emb->activations, ActivationPrecision::Int8);
  const Tensor x = randn({3, 64});
  EXPECT_TENSOR_EQ(head->forward(x), quantized_matmul(x, head->weight, head->scales, head->biases, true, 64, 4,
                                                      ActivationPrecision::Int8));
  EXPECT_TENSOR_EQ(emb->as_linear(x), quantized_matmul(x, emb->weight, emb->scales, emb->biases, true, 64, 4,
                                                       ActivationPrecision::Int8));
  const Tensor i = net.forward(tokens());
  EXPECT_FALSE(allclose(i, f, 0.0, 1e-6));
  EXPECT_TENSOR_CLOSE(i, f, 0.0, 5e-2);
  EXPECT_EQ(nn::set_activation_precision(net, ActivationPrecision::Float), 6);
  EXPECT_TENSOR_EQ(net.forward(tokens()), f);
}
