// The CUDA backend. Without a GPU (or without -DRICCI_CUDA=ON) only the availability checks run;
// the rest skip. On a GPU machine, every CUDA result is compared with the CPU's.
#include <cmath>
#include <vector>

#include "test_util.h"

namespace {

using ricci::Device;
using ricci::DType;
using ricci::Tensor;

const Device kCuda("cuda");

#define SKIP_WITHOUT_CUDA()                                                         \
  do {                                                                              \
    if (!ricci::cuda::is_available()) GTEST_SKIP() << "CUDA is not available here"; \
  } while (0)

const std::vector<DType> kAllDTypes = {ricci::bool_,   ricci::uint8,    ricci::int8,    ricci::int16,
                                       ricci::int32,   ricci::int64,    ricci::float16, ricci::bfloat16,
                                       ricci::float32, ricci::float64};

// 24 values that every dtype holds (no negatives for uint8, 0/1 for bool), as a CPU tensor.
Tensor sample(DType dtype, ricci::IntArrayRef shape = {2, 3, 4}) {
  std::vector<double> v(24);
  for (size_t i = 0; i < v.size(); ++i) {
    double x = static_cast<double>(i % 7);
    if (ricci::is_floating_point(dtype)) x = x * 0.5 - 1.25;  // exact in float16 and bfloat16 too
    else if (dtype == ricci::bool_) x = static_cast<double>(i % 3 == 0);
    else if (dtype != ricci::uint8) x -= 3;
    v[i] = x;
  }
  return ricci::from_vector(v, shape).to(dtype);
}

// ---- without a GPU: clear errors, no crash ------------------------------------------------------------

TEST(CudaAvailability, QueriesNeverCrash) {
  const bool available = ricci::cuda::is_available();
  EXPECT_GE(ricci::cuda::device_count(), 0);
  EXPECT_EQ(available, ricci::cuda::device_count() > 0);
}

TEST(CudaAvailability, UnavailableCudaThrowsDeviceError) {
  if (ricci::cuda::is_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_THROW_MSG(ricci::allocator_for(kCuda), ricci::DeviceError, "CUDA is not available");
  EXPECT_THROW_MSG(ricci::allocator_for(Device("cuda:1")), ricci::DeviceError, "CUDA is not available");
  EXPECT_THROW_MSG(ricci::memory_stats(kCuda), ricci::DeviceError, "CUDA is not available");
  EXPECT_THROW_MSG(ricci::cuda::synchronize(), ricci::DeviceError, "CUDA is not available");
  EXPECT_THROW(ricci::zeros({2, 3}, kCuda), ricci::DeviceError);
  EXPECT_THROW(ricci::ones({2}).to(kCuda), ricci::DeviceError);
}

// ---- on a GPU: every result equals the CPU's ---------------------------------------------------------

TEST(Cuda, RoundTripEveryDType) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    const Tensor cpu = sample(dt);
    const Tensor gpu = cpu.to(kCuda);
    EXPECT_TRUE(gpu.is_cuda());
    EXPECT_EQ(gpu.dtype(), dt);
    EXPECT_TENSOR_EQ(gpu.cpu(), cpu);
  }
}

TEST(Cuda, SpecialFloatValuesRoundTrip) {
  SKIP_WITHOUT_CUDA();
  const Tensor cpu = ricci::tensor({0.0, -0.0, INFINITY, -INFINITY, NAN, 65504.0, 1e-7, 3.0e38});
  for (DType dt : {ricci::float16, ricci::bfloat16, ricci::float32, ricci::float64}) {
    const Tensor x = cpu.to(dt);
    EXPECT_TENSOR_EQ(x.to(kCuda).cpu(), x);
  }
}

TEST(Cuda, ConversionsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  // Non-negative values with halves: every dtype-to-dtype conversion is well defined (truncation
  // to integers, != 0 to bool), so the GPU must agree with the CPU exactly, all 10 x 10 pairs.
  std::vector<double> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 9) * 0.5;
  const Tensor base = ricci::from_vector(v, {4, 6});
  for (DType from : kAllDTypes) {
    const Tensor src = base.to(from);
    const Tensor src_gpu = src.to(kCuda);
    for (DType to : kAllDTypes) {
      SCOPED_TRACE(std::string(ricci::dtype_name(from)) + " -> " + std::string(ricci::dtype_name(to)));
      EXPECT_TENSOR_EQ(src_gpu.to(to).cpu(), src.to(to));
      EXPECT_TENSOR_EQ(src.to(kCuda, to).cpu(), src.to(to));  // converting while crossing devices
    }
  }
}

TEST(Cuda, StridedCopies) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {ricci::float32, ricci::float16, ricci::int64, ricci::bool_}) {
    const Tensor cpu = sample(dt);  // 2 x 3 x 4
    const Tensor gpu = cpu.to(kCuda);
    EXPECT_TENSOR_EQ(gpu.transpose(0, 2).contiguous().cpu(), cpu.transpose(0, 2).contiguous());
    EXPECT_TENSOR_EQ(gpu.permute({1, 2, 0}).contiguous().cpu(), cpu.permute({1, 2, 0}).contiguous());
    EXPECT_TENSOR_EQ(gpu.slice(2, 1, std::nullopt, 2).contiguous().cpu(), cpu.slice(2, 1, std::nullopt, 2).contiguous());
    EXPECT_TENSOR_EQ(gpu.select(1, 2).cpu(), cpu.select(1, 2));
    // Non-contiguous source and destination at once, converting the dtype on the way.
    Tensor dst = ricci::zeros({4, 3, 2}, {ricci::float64, kCuda});
    dst.transpose(0, 2).copy_(gpu);
    EXPECT_TENSOR_EQ(dst.cpu().transpose(0, 2).contiguous(), cpu.to(ricci::float64));
    // Broadcasting copy_: a stride-0 source.
    Tensor row = ricci::zeros({5, 4}, {dt, kCuda});
    row.copy_(cpu.select(0, 1).select(0, 0));
    EXPECT_TENSOR_EQ(row.cpu(), cpu.select(0, 1).select(0, 0).expand({5, 4}).contiguous());
  }
}

TEST(Cuda, Fill) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kAllDTypes) {
    SCOPED_TRACE(std::string(ricci::dtype_name(dt)));
    Tensor gpu = ricci::zeros({3, 5}, {dt, kCuda});
    Tensor cpu = ricci::zeros({3, 5}, dt);
    gpu.fill_(1);
    cpu.fill_(1);
    EXPECT_TENSOR_EQ(gpu.cpu(), cpu);
    // A strided view: every other column of the transpose.
    gpu.t().slice(0, 0, std::nullopt, 2).fill_(0);
    cpu.t().slice(0, 0, std::nullopt, 2).fill_(0);
    EXPECT_TENSOR_EQ(gpu.cpu(), cpu);
  }
  Tensor h = ricci::empty({7}, {ricci::float16, kCuda});
  h.fill_(0.1);  // rounded on the host exactly as the CPU rounds it
  EXPECT_TENSOR_EQ(h.cpu(), ricci::full({7}, 0.1, ricci::float16));
}

TEST(Cuda, ArithmeticMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {ricci::float32, ricci::float64, ricci::float16, ricci::bfloat16, ricci::int32, ricci::int64}) {
    SCOPED_TRACE(std::string(ricci::dtype_name(dt)));
    const Tensor a = sample(dt, {4, 6});
    const Tensor b = (sample(dt, {6, 4}).t() + 5).contiguous();  // no zeros: division is defined
    const Tensor ga = a.to(kCuda), gb = b.to(kCuda);
    EXPECT_TENSOR_CLOSE((ga + gb).cpu(), a + b);
    EXPECT_TENSOR_CLOSE((ga - gb).cpu(), a - b);
    EXPECT_TENSOR_CLOSE((ga * gb).cpu(), a * b);
    EXPECT_TENSOR_CLOSE((ga / gb).cpu(), a / b, 1e-3, 1e-3);
    // Broadcasting (stride-0 operands) and a transposed operand.
    const Tensor col = a.slice(1, 0, 1);  // 4 x 1
    EXPECT_TENSOR_CLOSE((ga.t() * col.to(kCuda).t()).cpu(), a.t() * col.t());
    EXPECT_TENSOR_CLOSE((ga + col.to(kCuda)).cpu(), a + col);
  }
}

TEST(Cuda, AllocatorCachesBlocks) {
  SKIP_WITHOUT_CUDA();
  ricci::empty_cache(kCuda);
  const ricci::AllocatorStats s0 = ricci::memory_stats(kCuda);
  {
    Tensor x = ricci::empty({1 << 20}, {ricci::float32, kCuda});
    EXPECT_GE(ricci::memory_stats(kCuda).allocated_bytes, s0.allocated_bytes + (4u << 20));
  }
  EXPECT_GE(ricci::memory_stats(kCuda).cached_bytes, 4u << 20);
  const size_t hits = ricci::memory_stats(kCuda).num_cache_hits;
  { Tensor y = ricci::empty({1 << 20}, {ricci::float32, kCuda}); }
  EXPECT_EQ(ricci::memory_stats(kCuda).num_cache_hits, hits + 1);
  ricci::empty_cache(kCuda);
  EXPECT_EQ(ricci::memory_stats(kCuda).cached_bytes, 0u);
  EXPECT_THROW_MSG(ricci::allocator_for(Device(ricci::DeviceType::CUDA, ricci::cuda::device_count())),
                   ricci::DeviceError, "out of range");
  ricci::cuda::synchronize();
}

}  // namespace
