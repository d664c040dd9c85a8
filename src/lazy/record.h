#pragma once
// What an op's entry point writes to become a lazy primitive (docs/CONVENTIONS.md, "Adding an op"):
//
//   Tensor sum_impl(const Tensor& x, IntArrayRef dims, bool keepdim, std::optional<DType> dtype) {
//     if (lazy::recording()) [[unlikely]]
//       return lazy::record1("sum", [](const Tensors& in, const Dims& d, bool k, std::optional<DType> t) {
//         return sum_impl(in[0], d, k, t); }, {x}, Dims(dims), keepdim, dtype);
//     ... the eager op ...
//
// The tensors go in `inputs`, everything else is a parameter, stored by value (IntArrayRef as
// Dims, string_view as std::string): two applications with equal parameters are equivalent. The
// lambda must not capture: it is the primitive's eval, called again when the op is evaluated.
#include <tuple>

#include "lazy/lazy_detail.h"
#include "ricci/lazy.h"

namespace ricci::lazy {

using detail::recording;

template <class F, class... P>
Tensors record_n(const char* name, F, Tensors inputs, P... params) {
  static_assert(std::is_empty_v<F>, "a primitive's eval lambda must not capture");
  using Params = std::tuple<P...>;
  typename OpPrimitive<Params>::Fn fn = [](const Tensors& in, const Params& p) -> Tensors {
    return std::apply([&](const auto&... a) { return Tensors(F{}(in, a...)); }, p);
  };
  return record_op<Params>(name, fn, Params(std::move(params)...), std::move(inputs));
}

template <class F, class... P>
Tensor record1_as(PrimitiveKind kind, const char* name, F, Tensors inputs, P... params) {
  static_assert(std::is_empty_v<F>, "a primitive's eval lambda must not capture");
  using Params = std::tuple<P...>;
  typename OpPrimitive<Params>::Fn fn = [](const Tensors& in, const Params& p) -> Tensors {
    return {std::apply([&](const auto&... a) { return Tensor(F{}(in, a...)); }, p)};
  };
  return record_op<Params>(name, fn, Params(std::move(params)...), std::move(inputs), kind)[0];
}

template <class F, class... P>
Tensor record1(const char* name, F f, Tensors inputs, P... params) {
  return record1_as(PrimitiveKind::Generic, name, f, std::move(inputs), std::move(params)...);
}

}  // namespace ricci::lazy
