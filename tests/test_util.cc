#include "test_util.h"

#include <cmath>
#include <sstream>

namespace ricci::testing {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

static std::string shape_str(const Tensor& t) {
  std::ostringstream os;
  os << t.shape();
  return os.str();
}

::testing::AssertionResult tensors_equal(const Tensor& actual, const Tensor& expected) {
  if (!(actual.shape() == expected.shape()))
    return ::testing::AssertionFailure() << "shape " << shape_str(actual) << " != " << shape_str(expected);
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "dtype " << actual.dtype() << " != " << expected.dtype();
  auto a = values(actual), b = values(expected);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && !(std::isnan(a[i]) && std::isnan(b[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " != " << b[i] << "\nactual: " << actual
                                           << "\nexpected: " << expected;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (!(actual.shape() == expected.shape()))
    return ::testing::AssertionFailure() << "shape " << shape_str(actual) << " != " << shape_str(expected);
  auto a = values(actual), b = values(expected);
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::isinf(b[i]) && a[i] == b[i]) continue;
    if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i] << " (rtol " << rtol
                                           << ", atol " << atol << ")\nactual: " << actual << "\nexpected: " << expected;
  }
  return ::testing::AssertionSuccess();
}

std::string data_path(const std::string& name) { return std::string(RICCI_TEST_DATA_DIR) + "/" + name; }

}  // namespace ricci::testing
