// Device strings: "cpu", "cuda", "cuda:N" (and "cpu:0", which PyTorch accepts too).
#include <charconv>
#include <limits>

#include "ricci/device.h"
#include "ricci/error.h"

namespace ricci {

namespace {

[[noreturn]] void bad_device(std::string_view spec, const char* why = "") {
  throw ValueError(detail::cat("[Device] Expected one of cpu, cuda device type at start of device string: ", spec,
                               why));
}

// The N of ":N": a non-negative decimal that fits the index, nothing else (no sign, no spaces).
int parse_index(std::string_view spec, std::string_view digits) {
  constexpr const char* kWhy = " (the index after ':' must be a non-negative integer, e.g. cuda:0)";
  int value = -1;
  const char* first = digits.data();
  const char* last = digits.data() + digits.size();
  if (digits.empty() || digits[0] < '0' || digits[0] > '9') bad_device(spec, kWhy);
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || value > std::numeric_limits<int16_t>::max()) bad_device(spec, kWhy);
  return value;
}

}  // namespace

Device::Device(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  if (name == "cpu") {
    type = DeviceType::CPU;
    // The CPU is one device: only "cpu:0" is meaningful as an indexed name.
    if (colon != std::string_view::npos && parse_index(spec, spec.substr(colon + 1)) != 0)
      bad_device(spec, " (the CPU has only device index 0; write \"cpu\")");
    index = -1;
  } else if (name == "cuda") {
    type = DeviceType::CUDA;
    index = colon == std::string_view::npos ? int16_t{-1}
                                             : static_cast<int16_t>(parse_index(spec, spec.substr(colon + 1)));
  } else {
    bad_device(spec);
  }
}

std::string Device::str() const {
  if (type == DeviceType::CPU) return "cpu";
  return index < 0 ? std::string("cuda") : "cuda:" + std::to_string(index);
}

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace ricci
