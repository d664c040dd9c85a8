#pragma once
// Errors are API. Every mistake a user can make throws a ricci::Error subclass whose message
// starts with the op in brackets, names the offending shapes / dtypes / devices, and says the
// way out: "[view] view size is not compatible with input tensor's size and stride ...".
#include <sstream>
#include <stdexcept>
#include <string>

namespace ricci {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { public: using Error::Error; };     // shapes that do not fit
class DTypeError : public Error { public: using Error::Error; };     // unsupported or mismatched dtypes
class DeviceError : public Error { public: using Error::Error; };    // wrong or unavailable device
class IndexError : public Error { public: using Error::Error; };     // index or dim out of range
class ValueError : public Error { public: using Error::Error; };     // bad argument value
class AutogradError : public Error { public: using Error::Error; };  // misuse of the gradient machinery
class IOError : public Error { public: using Error::Error; };        // files: missing, malformed, hostile
class NotImplementedError : public Error { public: using Error::Error; };

namespace detail {
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace ricci

// RICCI_CHECK(cond, ErrorType, "[op] message parts", ...): throws ErrorType with the parts
// streamed together when cond is false. The parts are only formatted on failure.
#define RICCI_CHECK(cond, ErrorType, ...)                          \
  do {                                                             \
    if (!(cond)) [[unlikely]] {                                    \
      throw ErrorType(::ricci::detail::cat(__VA_ARGS__));          \
    }                                                              \
  } while (0)
