#pragma once
// Shared by Module, the optimizers, the schedulers and load_checkpoint: the lines of a
// load_state_dict error (PyTorch's wording) and the one error that lists them all.
#include <string>
#include <typeinfo>
#include <vector>

namespace ricci::detail {

// "\"a\", \"b\""
std::string join_quoted(const std::vector<std::string>& keys);
// PyTorch's lines for keys: "Unexpected key(s) in state_dict: ...", "Missing key(s) in state_dict: ..."
// (none when both lists are empty).
void add_key_lines(const std::vector<std::string>& missing, const std::vector<std::string>& unexpected,
                   std::vector<std::string>& lines);
// Line prefixes that pick the error type (see throw_state_dict_errors).
inline constexpr const char* kSizeMismatch = "size mismatch for ";
inline constexpr const char* kDTypeMismatch = "dtype mismatch for ";
// Throws `title` followed by each line on its own tab-indented line: ShapeError when a line holds
// kSizeMismatch, else DTypeError when one holds kDTypeMismatch, else ValueError. When a line is
// about keys or dtypes, the message ends with the way out (strict=false).
[[noreturn]] void throw_state_dict_errors(const std::string& title, const std::vector<std::string>& lines);
// The class name of `type` without namespaces ("AdamW", "TwoLayer"), template arguments kept.
std::string short_type_name(const std::type_info& type);

}  // namespace ricci::detail
