// C++ operators and the binary Tensor methods: thin forwards to the elementwise ops, so that
// `a * b + 1` reads like PyTorch and records the same graph as mul/add.
#include "ops/elementwise_common.h"

namespace ricci {

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator-(const Scalar& a, const Tensor& b) { return ew::rsub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
Tensor operator/(const Scalar& a, const Tensor& b) { return ew::rdiv(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }

Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, b); }
Tensor operator&&(const Tensor& a, const Tensor& b) { return logical_and(a, b); }
Tensor operator||(const Tensor& a, const Tensor& b) { return logical_or(a, b); }
Tensor operator!(const Tensor& a) { return logical_not(a); }
Tensor operator~(const Tensor& a) { return bitwise_not(a); }
Tensor operator&(const Tensor& a, const Tensor& b) { return bitwise_and(a, b); }
Tensor operator&(const Tensor& a, const Scalar& b) { return bitwise_and(a, b); }
Tensor operator|(const Tensor& a, const Tensor& b) { return bitwise_or(a, b); }
Tensor operator|(const Tensor& a, const Scalar& b) { return bitwise_or(a, b); }
Tensor operator^(const Tensor& a, const Tensor& b) { return bitwise_xor(a, b); }
Tensor operator^(const Tensor& a, const Scalar& b) { return bitwise_xor(a, b); }
Tensor operator<<(const Tensor& a, const Scalar& b) { return bitwise_left_shift(a, b); }
Tensor operator>>(const Tensor& a, const Scalar& b) { return bitwise_right_shift(a, b); }

Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator+=(Tensor& a, const Scalar& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator-=(Tensor& a, const Scalar& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator*=(Tensor& a, const Scalar& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator/=(Tensor& a, const Scalar& b) { return a.div_(b); }

// ---- Tensor methods ------------------------------------------------------------------------------
Tensor Tensor::add(const Tensor& o, const Scalar& alpha) const { return ricci::add(*this, o, alpha); }
Tensor Tensor::add(const Scalar& o, const Scalar& alpha) const { return ricci::add(*this, o, alpha); }
Tensor Tensor::sub(const Tensor& o, const Scalar& alpha) const { return ricci::sub(*this, o, alpha); }
Tensor Tensor::sub(const Scalar& o, const Scalar& alpha) const { return ricci::sub(*this, o, alpha); }
Tensor Tensor::mul(const Tensor& o) const { return ricci::mul(*this, o); }
Tensor Tensor::mul(const Scalar& o) const { return ricci::mul(*this, o); }
Tensor Tensor::div(const Tensor& o, std::optional<std::string_view> m) const { return ricci::div(*this, o, m); }
Tensor Tensor::div(const Scalar& o, std::optional<std::string_view> m) const { return ricci::div(*this, o, m); }
Tensor Tensor::pow(const Tensor& e) const { return ricci::pow(*this, e); }
Tensor Tensor::pow(const Scalar& e) const { return ricci::pow(*this, e); }
Tensor Tensor::maximum(const Tensor& o) const { return ricci::maximum(*this, o); }
Tensor Tensor::minimum(const Tensor& o) const { return ricci::minimum(*this, o); }
Tensor Tensor::fmod(const Tensor& o) const { return ricci::fmod(*this, o); }
Tensor Tensor::fmod(const Scalar& o) const { return ricci::fmod(*this, o); }
Tensor Tensor::remainder(const Tensor& o) const { return ricci::remainder(*this, o); }
Tensor Tensor::remainder(const Scalar& o) const { return ricci::remainder(*this, o); }
Tensor Tensor::atan2(const Tensor& o) const { return ricci::atan2(*this, o); }
Tensor Tensor::logaddexp(const Tensor& o) const { return ricci::logaddexp(*this, o); }
Tensor Tensor::hypot(const Tensor& o) const { return ricci::hypot(*this, o); }
Tensor Tensor::eq(const Tensor& o) const { return ricci::eq(*this, o); }
Tensor Tensor::eq(const Scalar& o) const { return ricci::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return ricci::ne(*this, o); }
Tensor Tensor::ne(const Scalar& o) const { return ricci::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return ricci::lt(*this, o); }
Tensor Tensor::lt(const Scalar& o) const { return ricci::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return ricci::le(*this, o); }
Tensor Tensor::le(const Scalar& o) const { return ricci::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return ricci::gt(*this, o); }
Tensor Tensor::gt(const Scalar& o) const { return ricci::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return ricci::ge(*this, o); }
Tensor Tensor::ge(const Scalar& o) const { return ricci::ge(*this, o); }
Tensor Tensor::logical_and(const Tensor& o) const { return ricci::logical_and(*this, o); }
Tensor Tensor::logical_or(const Tensor& o) const { return ricci::logical_or(*this, o); }
Tensor Tensor::logical_xor(const Tensor& o) const { return ricci::logical_xor(*this, o); }
Tensor Tensor::bitwise_and(const Tensor& o) const { return ricci::bitwise_and(*this, o); }
Tensor Tensor::bitwise_or(const Tensor& o) const { return ricci::bitwise_or(*this, o); }
Tensor Tensor::bitwise_xor(const Tensor& o) const { return ricci::bitwise_xor(*this, o); }

}  // namespace ricci
