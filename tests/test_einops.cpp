// einops (include/ricci/einops.h): rearrange / reduce / repeat values against the same thing
// written with permute / reshape / reductions, which results are views of the input, the grammar
// (groups, '...', anonymous axes, '1' and '()', lists), gradients, and every error.
#include "test_util.h"

using namespace ricci;
using ricci::testing::values;
namespace eo = ricci::einops;

namespace {
Tensor iota(std::vector<int64_t> shape, DType t = float32) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return arange(n, TensorOptions(t)).reshape(shape);
}
bool is_view_of(const Tensor& v, const Tensor& base) { return v.shares_storage_with(base); }
}  // namespace

TEST(Einops, RearrangeValues) {
  Tensor x = iota({2, 3, 4, 5});
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c h w -> b h w c"), x.permute({0, 2, 3, 1}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c h w -> b (c h w)"), x.reshape({2, 60}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c h w -> (b h) (w c)"), x.permute({0, 2, 3, 1}).reshape({8, 15}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c h w -> b c h w"), x);
  // splitting with a given length, and the length inferred for the other axis of the group
  Tensor y = iota({6, 4});
  EXPECT_TENSOR_EQ(eo::rearrange(y, "(a b) c -> a b c", {{"a", 2}}), y.reshape({2, 3, 4}));
  EXPECT_TENSOR_EQ(eo::rearrange(y, "(a b) c -> a b c", {{"b", 2}}), y.reshape({3, 2, 4}));
  EXPECT_TENSOR_EQ(eo::rearrange(y, "(a b) c -> (b a) c", {{"a", 2}}),
                   y.reshape({2, 3, 4}).permute({1, 0, 2}).reshape({6, 4}));
  // space to depth
  Tensor img = iota({1, 4, 6, 3});
  Tensor s2d = eo::rearrange(img, "b (h p) (w q) c -> b h w (p q c)", {{"p", 2}, {"q", 2}});
  EXPECT_TENSOR_EQ(s2d, img.reshape({1, 2, 2, 3, 2, 3}).permute({0, 1, 3, 2, 4, 5}).reshape({1, 2, 3, 12}));
  // both given: checked, not inferred
  EXPECT_TENSOR_EQ(eo::rearrange(y, "(a b) c -> a b c", {{"a", 3}, {"b", 2}}), y.reshape({3, 2, 4}));
  // integer and bool dtypes, 0-d, empty
  Tensor yi = iota({2, 3}, int64);
  EXPECT_TENSOR_EQ(eo::rearrange(yi, "a b -> b a"), yi.t());
  Tensor yb = iota({2, 3}, int64).gt(2);
  EXPECT_TENSOR_EQ(eo::rearrange(yb, "a b -> (b a)"), yb.t().reshape({6}));
  Tensor s = scalar_tensor(3.0);
  EXPECT_TENSOR_EQ(eo::rearrange(s, " -> "), s);
  EXPECT_EQ(eo::rearrange(s, " -> 1 1").shape(), IntArrayRef({1, 1}));
  Tensor e = zeros({0, 3});
  EXPECT_EQ(eo::rearrange(e, "a b -> b a").shape(), IntArrayRef({3, 0}));
  EXPECT_EQ(eo::rearrange(e, "a b -> (a b)").shape(), IntArrayRef({0}));
}

TEST(Einops, EllipsisOnesAndLists) {
  Tensor x = iota({2, 3, 4, 5});
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b ... -> b (...)"), x.reshape({2, 60}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "... w -> w ..."), x.permute({3, 0, 1, 2}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c ... -> (...) c b"), x.permute({2, 3, 1, 0}).reshape({20, 3, 2}));
  EXPECT_TENSOR_EQ(eo::rearrange(x, "b c h w ... -> b c h w ..."), x);  // '...' of no dims
  // 1 and () on the left drop a length-1 dim, on the right insert one
  Tensor o = iota({3, 1, 4});
  EXPECT_TENSOR_EQ(eo::rearrange(o, "a 1 b -> a b"), o.reshape({3, 4}));
  EXPECT_TENSOR_EQ(eo::rearrange(o, "a () b -> b a"), o.reshape({3, 4}).t());
  EXPECT_EQ(eo::rearrange(o, "a 1 b -> 1 a b 1").shape(), IntArrayRef({1, 3, 4, 1}));
  EXPECT_EQ(eo::rearrange(o, "a 1 b -> (a 1) (1 b)").shape(), IntArrayRef({3, 4}));
  // a list is stacked on a new first axis
  Tensor t0 = iota({2, 3}), t1 = iota({2, 3}) + 10;
  EXPECT_TENSOR_EQ(eo::rearrange(std::vector<Tensor>{t0, t1}, "n h w -> h (n w)"),
                   stack({t0, t1}).permute({1, 0, 2}).reshape({2, 6}));
  EXPECT_TENSOR_EQ(eo::reduce(std::vector<Tensor>{t0, t1}, "n h w -> h w", "sum"), t0 + t1);
  EXPECT_TENSOR_EQ(eo::repeat(std::vector<Tensor>{t0}, "n h w -> n h w c", {{"c", 2}}),
                   t0.unsqueeze(0).unsqueeze(-1).expand({1, 2, 3, 2}));
}

TEST(Einops, RearrangeIsAViewWhereStridesAllow) {
  Tensor x = iota({2, 3, 4, 5});
  for (const char* p : {"b c h w -> b h w c", "b c h w -> b (c h w)", "b c h w -> (b c) h w", "b c h w -> b c (h w)",
                        "b c h w -> w h c b", "b c (h1 h2) w -> b c h1 h2 w", "b c h w -> (b c) (h w)",
                        "b c h w -> b 1 c h w", "b ... -> b (...)"}) {
    Tensor r = p == std::string_view("b c (h1 h2) w -> b c h1 h2 w") ? eo::rearrange(x, p, {{"h1", 2}}) : eo::rearrange(x, p);
    EXPECT_TRUE(is_view_of(r, x)) << p;
  }
  // merging axes that are not adjacent in memory has to copy (as reshape does)
  Tensor m = eo::rearrange(x, "b c h w -> (h b) c w");
  EXPECT_FALSE(is_view_of(m, x));
  EXPECT_TENSOR_EQ(m, x.permute({2, 0, 1, 3}).reshape({8, 3, 5}));
  // a permuted input whose merge is still adjacent in memory: a view
  Tensor xt = x.permute({0, 2, 3, 1});  // b h w c, memory order b c h w
  Tensor back = eo::rearrange(xt, "b h w c -> b (c h w)");
  EXPECT_TRUE(is_view_of(back, x));
  EXPECT_TENSOR_EQ(back, x.reshape({2, 60}));
  // writes through the view reach the input
  Tensor v = eo::rearrange(x, "b c h w -> (b c) (h w)");
  v.fill_(1.0);
  EXPECT_EQ(x.sum().item<double>(), 120.0);
}

TEST(Einops, NonContiguousInputs) {
  Tensor base = iota({4, 6, 5});
  Tensor x = base.transpose(0, 2).narrow(1, 1, 4);  // [5, 4, 4], non-contiguous
  EXPECT_TENSOR_EQ(eo::rearrange(x, "a b c -> c (a b)"), x.permute({2, 0, 1}).reshape({4, 20}));
  Tensor step = base.slice(1, 0, 6, 2);  // step-sliced [4, 3, 5]
  EXPECT_TENSOR_EQ(eo::reduce(step, "a b c -> c", "sum"), step.sum({0, 1}));
  EXPECT_TENSOR_EQ(eo::repeat(step, "a b c -> a (b r) c", {{"r", 2}}), step.repeat_interleave(2, 1));
}

TEST(Einops, ReduceValues) {
  Tensor x = randn({2, 3, 4, 6}, float64);
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w -> b c", "mean"), x.mean({2, 3}));
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w -> b c 1 1", "mean"), x.mean({2, 3}, true));
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w -> c", "sum"), x.sum({0, 2, 3}));
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w -> w h", "max"), x.amax({0, 1}).t());
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w ->", "min"), x.amin());
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c h w -> b w", "prod"), prod(prod(x, 2), 1));
  // 2x2 max-pooling with anonymous axes, and with named ones
  Tensor pooled = eo::reduce(x, "b c (h 2) (w 2) -> b c h w", "max");
  EXPECT_TENSOR_CLOSE(pooled, x.reshape({2, 3, 2, 2, 3, 2}).amax({3, 5}));
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b c (h h2) (w w2) -> b c h w", "max", {{"h2", 2}, {"w2", 2}}), pooled);
  // '...' reduced when the output lacks it
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "b ... -> b", "sum"), x.sum({1, 2, 3}));
  EXPECT_TENSOR_CLOSE(eo::reduce(x, "... w -> ... ", "mean"), x.mean({3}));
  // nothing reduced: a rearrange
  EXPECT_TENSOR_EQ(eo::reduce(x, "b c h w -> b h w c", "sum"), x.permute({0, 2, 3, 1}));
  // integer and bool reductions
  Tensor xi = iota({2, 3}, int64);
  EXPECT_TENSOR_EQ(eo::reduce(xi, "a b -> b", "sum"), xi.sum({0}));
  EXPECT_TENSOR_EQ(eo::reduce(xi, "a b -> a", "max"), xi.amax({1}));
  Tensor xb = xi.gt(0);
  EXPECT_TENSOR_EQ(eo::reduce(xb, "a b -> b", "any"), any(xb, {0}));
  EXPECT_TENSOR_EQ(eo::reduce(xb, "a b -> b", "all"), all(xb, {0}));
  // NaN propagates through max, empty sums are 0
  Tensor nan = tensor({1.0, std::nan(""), 3.0}).reshape({1, 3});
  EXPECT_TRUE(std::isnan(eo::reduce(nan, "a b -> a", "max").item<double>()));
  EXPECT_TENSOR_EQ(eo::reduce(zeros({0, 3}), "a b -> b", "sum"), zeros({3}));
}

TEST(Einops, RepeatValues) {
  Tensor x = iota({2, 3});
  Tensor r = eo::repeat(x, "h w -> h w c", {{"c", 4}});
  EXPECT_TENSOR_EQ(r, x.unsqueeze(-1).expand({2, 3, 4}));
  EXPECT_TRUE(is_view_of(r, x));  // only new axes: an expanded view
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> c h w", {{"c", 2}}), x.unsqueeze(0).expand({2, 2, 3}));
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> (h 2) (w 2)"), x.repeat_interleave(2, 0).repeat_interleave(2, 1));
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> (2 h) w"), x.repeat({2, 1}));
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> w (h r)", {{"r", 3}}), x.t().repeat_interleave(3, 1));
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> h w 3"), x.unsqueeze(-1).expand({2, 3, 3}));
  EXPECT_TENSOR_EQ(eo::repeat(x, "... -> b ...", {{"b", 2}}), x.unsqueeze(0).expand({2, 2, 3}));
  EXPECT_TENSOR_EQ(eo::repeat(x, "h w -> h w"), x);
}

TEST(Einops, Gradients) {
  manual_seed(3);
  Tensor x = randn({2, 6, 4}, float64).requires_grad_();
  auto check = [&](std::function<Tensor(const Tensor&)> f) {
    return autograd::gradcheck([f](const autograd::Tensors& in) { return autograd::Tensors{f(in[0])}; }, {x});
  };
  EXPECT_TRUE(check([](const Tensor& t) { return eo::rearrange(t, "b (h p) w -> (b w) h p", {{"p", 3}}); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::reduce(t, "b (h 2) w -> b h", "mean"); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::reduce(t, "b h w -> w", "sum"); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::reduce(t, "b h w -> b w", "max"); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::reduce(t, "b h w -> h", "min"); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::reduce(t, "b h w -> b", "prod"); }));
  EXPECT_TRUE(check([](const Tensor& t) { return eo::repeat(t, "b h w -> b (h r) w c", {{"r", 2}, {"c", 3}}); }));
  // the gradient of a repeat sums the copies
  Tensor y = ones({2, 3}).requires_grad_();
  eo::repeat(y, "h w -> (h 2) w c", {{"c", 5}}).sum().backward();
  EXPECT_TENSOR_EQ(y.grad(), full({2, 3}, 10.0));
}

TEST(Einops, PatternErrors) {
  Tensor x = iota({2, 3, 4});
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c"), ValueError, "[rearrange] pattern 'a b c': no '->'");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a -> b"), ValueError, "more than one '->'");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b (c -> a b c"), ValueError, "'(' without a matching ')' on the input side");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c) -> a b c"), ValueError, "')' without a matching '('");
  EXPECT_THROW_MSG(eo::rearrange(x, "a (b (c)) -> a b c"), ValueError, "parentheses inside parentheses");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c. -> a b c"), ValueError, "a '.' outside an ellipsis");
  EXPECT_THROW_MSG(eo::rearrange(x, "... a ... -> a"), ValueError, "more than one '...' on the input side");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b 2c -> a b c"), ValueError, "'2c' is not an axis name");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c!"), ValueError, "unexpected character '!'");
  EXPECT_THROW_MSG(eo::rearrange(x, "a a c -> a c"), ValueError, "axis 'a' appears twice on the input side");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b b"), ValueError, "axis 'b' appears twice on the output side");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b 0 -> a b"), ValueError, "an anonymous axis of length 0");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b (c 2)"), ValueError,
                   "rearrange does not take anonymous axes other than 1");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b"), ValueError, "axes on only one side (c); rearrange keeps every axis");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c d"), ValueError, "axes on only one side (d)");
  EXPECT_THROW_MSG(eo::rearrange(x, "a (b ...) -> a b ..."), ValueError, "'...' inside parentheses on the input side");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c ..."), ValueError, "'...' on the output side but not on the input");
  EXPECT_THROW_MSG(eo::reduce(x, "a b c -> a b d", "sum"), ValueError, "output axes not in the input (d)");
  EXPECT_THROW_MSG(eo::reduce(x, "a b c -> a", "median"), ValueError, "unknown reduction 'median'");
  EXPECT_THROW_MSG(eo::reduce(iota({2, 3}, int64), "a b -> a", "mean"), DTypeError,
                   "[reduce] pattern 'a b -> a': the mean of a int64 tensor; convert it first");
  EXPECT_THROW_MSG(eo::repeat(x, "a b c -> a b"), ValueError, "input axes missing from the output (c)");
  EXPECT_THROW_MSG(eo::repeat(x, "a b c -> a b c d"), ValueError, "the new axes d need a length");
  EXPECT_THROW_MSG(eo::repeat(x, "a b (c 2) -> a b c", {}), ValueError, "repeat does not take anonymous axes");
  EXPECT_THROW_MSG(eo::rearrange(std::vector<Tensor>{}, "a b -> b a"), ValueError, "an empty list of tensors");
  EXPECT_THROW_MSG(eo::rearrange(Tensor(), "a -> a"), Error, "rearrange");
}

TEST(Einops, LengthErrors) {
  Tensor x = iota({2, 6, 4});
  EXPECT_THROW_MSG(eo::rearrange(x, "a b -> b a"), ShapeError,
                   "[rearrange] pattern 'a b -> b a': the input side names 2 dims but the input has shape [2, 6, 4] (3 dims)");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c d ... -> a b c d ..."), ShapeError, "names at least 4 dims");
  EXPECT_THROW_MSG(eo::rearrange(x, "a (b c) d -> a b c d"), ValueError, "cannot infer the lengths of b, c from dim 1");
  EXPECT_THROW_MSG(eo::rearrange(x, "a (b c) d -> a b c d", {{"b", 4}}), ShapeError,
                   "has length 6, which '(b c)' cannot split: 6 is not a multiple of 4");
  EXPECT_THROW_MSG(eo::rearrange(x, "a (b c) d -> a b c d", {{"b", 2}, {"c", 2}}), ShapeError,
                   "dim 1 of the input (shape [2, 6, 4]) has length 6 but '(b c)' makes 4");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b 1 -> a b"), ShapeError, "has length 4 but '1' makes 1");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c", {{"z", 2}}), ValueError,
                   "the length of 'z' is given but the pattern has no axis 'z'");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c", {{"a", -1}}), ValueError, "negative length");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c", {{"a", 2}, {"a", 2}}), ValueError, "given twice");
  EXPECT_THROW_MSG(eo::rearrange(x, "a b c -> a b c", {{"a", 3}}), ShapeError, "has length 2 but '(a)' makes 3");
  EXPECT_THROW_MSG(eo::reduce(x, "a (b 4) c -> a c", "sum"), ShapeError, "6 is not a multiple of 4");
}
