#pragma once
// torch.nn.init: fill a tensor in place (no graph recorded, so parameters can be initialised
// directly) and return it. Fans follow PyTorch: for a (out, in, *k) weight, fan_in = in * prod(k)
// and fan_out = out * prod(k); fewer than 2 dims is a ValueError for the fan-based schemes.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "ricci/tensor.h"

namespace ricci {
class Generator;
}

namespace ricci::nn::init {

enum class FanMode : uint8_t { FanIn, FanOut };

// The recommended gain for a nonlinearity: "linear"/"conv*"/"sigmoid" 1, "tanh" 5/3, "relu" √2,
// "leaky_relu" √(2 / (1 + a²)) with a the negative slope (default 0.01), "selu" 3/4.
double calculate_gain(std::string_view nonlinearity, std::optional<double> param = std::nullopt);
// (fan_in, fan_out) of a weight of at least 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
Tensor normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(const Tensor& t, const Scalar& value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);
// U(-b, b) with b = gain * √(3 / fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        std::string_view nonlinearity = "leaky_relu", Generator* gen = nullptr);
// N(0, std²) with std = gain / √fan.
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       std::string_view nonlinearity = "leaky_relu", Generator* gen = nullptr);
// U(-b, b) with b = gain * √(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
// N(0, std²) with std = gain * √(2 / (fan_in + fan_out)).
Tensor xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace ricci::nn::init
