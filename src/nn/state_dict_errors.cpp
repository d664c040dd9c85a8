// The lines of load_state_dict errors, shared by modules, optimizers, schedulers and checkpoints.
#include "nn/state_dict_errors.h"

#include <cxxabi.h>

#include <cstdlib>

#include "ricci/error.h"

namespace ricci::detail {

std::string join_quoted(const std::vector<std::string>& keys) {
  std::string s;
  for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", \"" : "\"") + keys[i] + "\"";
  return s;
}

void add_key_lines(const std::vector<std::string>& missing, const std::vector<std::string>& unexpected,
                   std::vector<std::string>& lines) {
  if (!unexpected.empty()) lines.push_back("Unexpected key(s) in state_dict: " + join_quoted(unexpected) + ". ");
  if (!missing.empty()) lines.push_back("Missing key(s) in state_dict: " + join_quoted(missing) + ". ");
}

void throw_state_dict_errors(const std::string& title, const std::vector<std::string>& lines) {
  std::string msg = title;
  bool shape = false, dtype = false, keys = false;
  for (const auto& l : lines) {
    msg += "\n\t" + l;
    shape = shape || l.find(kSizeMismatch) != std::string::npos;
    dtype = dtype || l.find(kDTypeMismatch) != std::string::npos;
    keys = keys || l.find("Missing key(s)") != std::string::npos || l.find("Unexpected key(s)") != std::string::npos;
  }
  if (keys || dtype) msg += "\n(pass strict=false to load the matching entries and get the rest back)";
  if (shape) throw ShapeError(msg);
  if (dtype) throw DTypeError(msg);
  throw ValueError(msg);
}

std::string short_type_name(const std::type_info& type) {
  const char* mangled = type.name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = (status == 0 && demangled) ? demangled : mangled;
  std::free(demangled);
  const size_t lt = name.find('<');  // keep template arguments intact, strip the namespaces
  const size_t colon = name.rfind("::", lt);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name;
}

}  // namespace ricci::detail
