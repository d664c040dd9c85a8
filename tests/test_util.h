#pragma once
// Shared helpers for the GoogleTest suite.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ricci/ricci.h"

namespace ricci::testing {

// Values in row-major order as doubles (any dtype, any layout).
std::vector<double> values(const Tensor& t);
// Same shape and dtype, and every element equal (NaN equals NaN).
::testing::AssertionResult tensors_equal(const Tensor& actual, const Tensor& expected);
// Same shape, every element within atol + rtol*|expected| (dtype may differ).
::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                                         double atol = 1e-6);
// Path of a committed golden file under tests/data.
std::string data_path(const std::string& name);

}  // namespace ricci::testing

#define EXPECT_TENSOR_EQ(a, b) EXPECT_TRUE(::ricci::testing::tensors_equal((a), (b)))
#define EXPECT_TENSOR_CLOSE(a, b, ...) EXPECT_TRUE(::ricci::testing::tensors_close((a), (b), ##__VA_ARGS__))

// Expects `stmt` to throw ErrorType whose what() contains `substring`.
#define EXPECT_THROW_MSG(stmt, ErrorType, substring)                                         \
  do {                                                                                       \
    try {                                                                                    \
      stmt;                                                                                  \
      ADD_FAILURE() << "expected " #ErrorType " from: " #stmt;                               \
    } catch (const ErrorType& e__) {                                                         \
      EXPECT_NE(std::string(e__.what()).find(substring), std::string::npos)                  \
          << "message was: " << e__.what() << "\nexpected it to contain: " << (substring);   \
    }                                                                                        \
  } while (0)
