// Device strings: parsing, printing, equality, and the errors for everything else.
#include <sstream>

#include "test_util.h"

namespace {

using ricci::Device;
using ricci::DeviceType;

TEST(Device, ParsesCpuAndCuda) {
  const Device cpu("cpu");
  EXPECT_TRUE(cpu.is_cpu());
  EXPECT_FALSE(cpu.is_cuda());
  EXPECT_EQ(cpu.index, -1);
  const Device cuda("cuda");
  EXPECT_TRUE(cuda.is_cuda());
  EXPECT_EQ(cuda.index, -1);
  EXPECT_EQ(Device("cuda:0").index, 0);
  EXPECT_EQ(Device("cuda:3").index, 3);
  EXPECT_EQ(Device("cuda:12").index, 12);
  EXPECT_TRUE(Device("cpu:0").is_cpu());  // accepted, as in PyTorch
  EXPECT_TRUE(Device(std::string("cuda:1")).is_cuda());
  EXPECT_TRUE(Device(std::string_view("cpu")).is_cpu());
}

TEST(Device, Prints) {
  EXPECT_EQ(Device("cpu").str(), "cpu");
  EXPECT_EQ(Device("cpu:0").str(), "cpu");
  EXPECT_EQ(Device("cuda").str(), "cuda");
  EXPECT_EQ(Device("cuda:1").str(), "cuda:1");
  EXPECT_EQ(Device(DeviceType::CUDA, 2).str(), "cuda:2");
  EXPECT_EQ(ricci::kCPU.str(), "cpu");
  std::ostringstream os;
  os << Device("cuda:7") << "," << ricci::kCPU;
  EXPECT_EQ(os.str(), "cuda:7,cpu");
}

TEST(Device, Equality) {
  EXPECT_EQ(Device("cuda"), Device("cuda:0"));  // -1 means the current device: 0 unless set
  EXPECT_FALSE(Device("cuda:1") == Device("cuda:0"));
  EXPECT_FALSE(Device("cpu") == Device("cuda"));
  EXPECT_EQ(Device("cpu"), ricci::kCPU);
  EXPECT_EQ(Device("cpu:0"), ricci::kCPU);
}

TEST(Device, RejectsUnknownTypes) {
  for (const char* bad : {"tpu", "", "CPU", "CUDA", "gpu", " cpu", "cpu ", "cudax", "mps:0"}) {
    EXPECT_THROW_MSG(Device d(bad), ricci::ValueError,
                     std::string("[Device] Expected one of cpu, cuda device type at start of device string: ") + bad);
  }
}

TEST(Device, RejectsBadIndices) {
  for (const char* bad : {"cuda:", "cuda:-1", "cuda:x", "cuda:1x", "cuda: 1", "cuda:+1", "cuda:1:2", "cuda:99999",
                          "cuda:0x1", "cpu:1", "cpu:"}) {
    EXPECT_THROW_MSG(Device d(bad), ricci::ValueError,
                     std::string("Expected one of cpu, cuda device type at start of device string: ") + bad);
  }
  EXPECT_THROW_MSG(Device d("cuda:-1"), ricci::ValueError, "must be a non-negative integer");
}

}  // namespace
