#pragma once
// The one kernel table: (op, device type, dtype) -> kernel. A backend adds kernels by registering
// them here, without touching any op. Each op family fixes the signature of its kernels (a
// function pointer type); the table stores them type-erased and the op casts back.
//
// Lookups are lock-free: registration happens during static initialisation of libricci.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ricci/device.h"
#include "ricci/dtype.h"
#include "lazy/lazy_detail.h"
#include "ricci/error.h"
#include <type_traits>

namespace ricci::kernels {

using OpId = uint16_t;

// A kernel of signature Fn that does nothing (what get() hands out during shape inference).
template <class Fn> struct NoopKernel;
template <class R, class... Args>
struct NoopKernel<R (*)(Args...)> {
  static R run(Args...) {
    if constexpr (!std::is_void_v<R>) return R{};
  }
};
using AnyKernel = void (*)();

// Interns an op name ("add", "copy", ...) into a small integer, stable for the process.
OpId op_id(std::string_view name);
std::string_view op_name(OpId id);

class KernelTable {
 public:
  void add(OpId op, DeviceType device, DType dtype, AnyKernel fn);
  AnyKernel find(OpId op, DeviceType device, DType dtype) const {
    if (op >= rows_.size()) return nullptr;
    return rows_[op][static_cast<int>(device)][static_cast<int>(dtype)];
  }
  // The kernel, or NotImplementedError "[op] has no kernel for dtype D on device X".
  template <class Fn>
  Fn get(OpId op, Device device, DType dtype) const {
    // Note [Lazy tensors]: inferring a lazy op's shapes runs the op with no bytes: no kernel runs.
    if (lazy::detail::in_meta()) [[unlikely]] return &NoopKernel<Fn>::run;
    // A trace (vmap, compile) must not compute values from tensors captured by f and freeze them.
    if (lazy::detail::tl_state.tracing) [[unlikely]] lazy::detail::on_traced_kernel(op_name(op));
    AnyKernel k = find(op, device.type, dtype);
    if (!k) missing(op, device, dtype);
    return reinterpret_cast<Fn>(k);
  }

 private:
  [[noreturn]] void missing(OpId op, Device device, DType dtype) const;
  using Row = std::array<std::array<AnyKernel, kNumDTypes>, kNumDeviceTypes>;
  std::vector<Row> rows_;
};

KernelTable& kernel_table();

// Registers fn for op on device for one dtype; returns true so it can initialise a static.
template <class Fn>
bool register_kernel(std::string_view op, DeviceType device, DType dtype, Fn fn) {
  kernel_table().add(op_id(op), device, dtype, reinterpret_cast<AnyKernel>(fn));
  return true;
}

}  // namespace ricci::kernels
