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

// With a batching rule R: a captureless lambda (const std::tuple<P...>&, const Tensors& inputs,
// const std::vector<int64_t>& in_axes) -> std::pair<Tensors, std::vector<int64_t>>.
template <class F, class R, class... P>
Tensor record1_rule(const char* name, F, R, Tensors inputs, P... params) {
  static_assert(std::is_empty_v<F> && std::is_empty_v<R>, "a primitive's lambdas must not capture");
  using Params = std::tuple<P...>;
  typename OpPrimitive<Params>::Fn fn = [](const Tensors& in, const Params& p) -> Tensors {
    return {std::apply([&](const auto&... a) { return Tensor(F{}(in, a...)); }, p)};
  };
  typename OpPrimitive<Params>::VmapRule rule = [](const Params& p, const Tensors& in, const std::vector<int64_t>& ax) {
    return R{}(p, in, ax);
  };
  return record_op<Params>(name, fn, Params(std::move(params)...), std::move(inputs), PrimitiveKind::Generic, rule)[0];
}

template <class F, class... P>
Tensor record1(const char* name, F f, Tensors inputs, P... params) {
  return record1_as(PrimitiveKind::Generic, name, f, std::move(inputs), std::move(params)...);
}

}  // namespace ricci::lazy
