// nn::init: in-place initialisers with PyTorch's fan and gain rules.
#include "ricci/nn/init.h"

#include <cmath>
#include <optional>

#include "ricci/autograd.h"
#include "ricci/random.h"

namespace ricci::nn::init {

double calculate_gain(std::string_view nl, std::optional<double> param) {
  if (nl == "linear" || nl == "sigmoid" || nl.starts_with("conv")) return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") {
    const double a = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + a * a));
  }
  if (nl == "selu") return 3.0 / 4.0;
  throw ValueError(detail::cat("[calculate_gain] Unsupported nonlinearity ", nl,
                               "; use one of linear, conv1d, sigmoid, tanh, relu, leaky_relu, selu"));
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  RICCI_CHECK(t.dim() >= 2, ValueError, "[init] Fan in and fan out can not be computed for tensor with fewer than "
              "2 dimensions (got shape ", t.shape(), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace {
int64_t fan_of(const Tensor& t, FanMode mode) {
  const auto [in, out] = calculate_fan_in_and_fan_out(t);
  return mode == FanMode::FanIn ? in : out;
}
}  // namespace

Tensor uniform_(const Tensor& t, double a, double b, Generator* gen) {
  NoGradGuard no_grad;
  Tensor h = t;
  ricci::uniform_(h, a, b, gen);
  return t;
}

Tensor normal_(const Tensor& t, double mean, double std, Generator* gen) {
  NoGradGuard no_grad;
  Tensor h = t;
  ricci::normal_(h, mean, std, gen);
  return t;
}

Tensor constant_(const Tensor& t, const Scalar& value) {
  NoGradGuard no_grad;
  Tensor h = t;
  h.fill_(value);
  return t;
}
Tensor zeros_(const Tensor& t) { return constant_(t, 0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1); }

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, std::string_view nonlinearity, Generator* gen) {
  if (t.numel() == 0) return t;  // PyTorch warns and leaves empty tensors alone
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / static_cast<double>(fan_of(t, mode)));
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, std::string_view nonlinearity, Generator* gen) {
  if (t.numel() == 0) return t;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan_of(t, mode)));
  return normal_(t, 0.0, std, gen);
}

Tensor xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  const auto [in, out] = calculate_fan_in_and_fan_out(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform_(t, -bound, bound, gen);
}

Tensor xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  const auto [in, out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

}  // namespace ricci::nn::init
