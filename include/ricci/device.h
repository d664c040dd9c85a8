#pragma once
// Where a tensor's bytes live: "cpu", "cuda", "cuda:1".
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace ricci {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
inline constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int16_t index = -1;  // -1: "the current one" (for CUDA: device 0 unless set)

  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = -1) : type(t), index(static_cast<int16_t>(i)) {}
  // Parses "cpu", "cuda", "cuda:N". Throws ValueError on anything else.
  Device(std::string_view spec);
  Device(const char* spec) : Device(std::string_view(spec)) {}
  Device(const std::string& spec) : Device(std::string_view(spec)) {}

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda", "cuda:1"
  bool operator==(const Device& o) const {
    return type == o.type && (type == DeviceType::CPU || normalized_index() == o.normalized_index());
  }
  int normalized_index() const { return index < 0 ? 0 : index; }
};

inline const Device kCPU{DeviceType::CPU};
std::ostream& operator<<(std::ostream& os, const Device& d);

namespace cuda {
// True only when ricci was built with CUDA and a driver with at least one GPU is present.
// Never throws, never crashes on a machine without a driver.
bool is_available();
int device_count();
// Waits for all work queued on the current CUDA device. Throws DeviceError without CUDA.
void synchronize();
}  // namespace cuda

}  // namespace ricci
