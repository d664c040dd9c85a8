#include "backend/kernel_table.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace ricci::kernels {

namespace {
struct OpNames {
  std::mutex mutex;
  std::unordered_map<std::string, OpId> ids;
  std::vector<std::string> names;
};
OpNames& op_names() {
  static OpNames names;
  return names;
}
}  // namespace

OpId op_id(std::string_view name) {
  OpNames& n = op_names();
  std::lock_guard<std::mutex> lock(n.mutex);
  auto it = n.ids.find(std::string(name));
  if (it != n.ids.end()) return it->second;
  OpId id = static_cast<OpId>(n.names.size());
  n.names.emplace_back(name);
  n.ids.emplace(std::string(name), id);
  return id;
}

std::string_view op_name(OpId id) {
  OpNames& n = op_names();
  std::lock_guard<std::mutex> lock(n.mutex);
  return id < n.names.size() ? std::string_view(n.names[id]) : std::string_view("?");
}

void KernelTable::add(OpId op, DeviceType device, DType dtype, AnyKernel fn) {
  if (op >= rows_.size()) rows_.resize(op + 1, Row{});
  rows_[op][static_cast<int>(device)][static_cast<int>(dtype)] = fn;
}

void KernelTable::missing(OpId op, Device device, DType dtype) const {
  std::string how = device.is_cuda() ? " (build ricci with -DRICCI_CUDA=ON on a machine with nvcc, or move the tensor to the CPU with .cpu())"
                                     : " (convert the input with .to(float32) or another supported dtype)";
  throw NotImplementedError(detail::cat("[", op_name(op), "] has no kernel for dtype ", dtype_name(dtype),
                                        " on device ", device.str(), how));
}

KernelTable& kernel_table() {
  static KernelTable table;
  return table;
}

}  // namespace ricci::kernels
