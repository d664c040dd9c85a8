#pragma once
// Primitive: one op as a value that can be run later. Lazy evaluation records primitives instead
// of running them; the function transforms (jvp, vmap) and compile dispatch on them.
//
// A primitive holds the op's parameters (everything but its tensor inputs) and knows:
//   name()            the op ("mul", "sum", "transpose"); its grad_fn keeps PyTorch's node name
//                     (MulBackward0), made when the op runs with a gradient needed;
//   eval(inputs)      the op run eagerly on inputs that have values (through the kernel table,
//                     on whichever device the inputs live), recording autograd like any eager op;
//   infer(inputs)     the outputs' shapes, dtypes and devices from the inputs' metadata alone,
//                     raising the op's own shape and dtype errors, computing nothing;
//   vjp(...)          cotangents of the inputs, written in ricci ops (the eager rule);
//   jvp(...), vmap()  the forward-mode and batching rules; an op without one throws
//                     NotImplementedError naming the op and the transform;
//   is_equivalent()   same op, same parameters: two applications to the same inputs give the
//                     same values (what common-subexpression elimination needs).
// How a new op becomes a primitive is written in docs/CONVENTIONS.md ("Adding an op").
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ricci/autograd.h"
#include "ricci/tensor.h"

namespace ricci {

using autograd::Tensors;

// What an op will produce, known before it runs.
struct OutputSpec {
  Dims shape;
  DType dtype;
  Device device;
};

// What the batching transform may assume about an op (its vmap rule is chosen from this).
enum class PrimitiveKind {
  Generic,      // no assumption: vmap runs the op once per example and stacks the results
  Elementwise,  // outputs broadcast their inputs: vmap aligns the batch axes and runs the op once
  Matmul,       // matmul-like (batch dims broadcast): vmap moves the batch into the batch dims
};

class Primitive {
 public:
  virtual ~Primitive() = default;
  virtual PrimitiveKind kind() const { return PrimitiveKind::Generic; }
  virtual const char* name() const = 0;
  virtual Tensors eval(const Tensors& inputs) const = 0;
  virtual bool is_equivalent(const Primitive& other) const = 0;
  // The parameters, for graph drawings and error messages ("dim=1, keepdim=false").
  virtual std::string describe() const { return name(); }

  std::vector<OutputSpec> infer(const Tensors& inputs) const;
  // The cotangents of `inputs` given the outputs' cotangents (undefined: zero), as ricci ops, so
  // that they are differentiable again. An input that needs no gradient gets an undefined tensor.
  virtual Tensors vjp(const Tensors& inputs, const Tensors& cotangents) const;
  // Forward mode: the outputs' tangents given the inputs' (undefined: zero). The rule every
  // op has: the transpose of its vjp (Note [Transforms on the tape], src/transforms/transforms.cpp).
  virtual Tensors jvp(const Tensors& inputs, const Tensors& tangents) const;
  // Batching: inputs batched along in_axes (-1: not batched; at least one is batched); returns
  // the outputs and the axis each output is batched along (-1: not batched). The rule follows
  // kind(): elementwise and matmul ops run once on the whole batch, others once per example.
  virtual std::pair<Tensors, std::vector<int64_t>> vmap(const Tensors& inputs, const std::vector<int64_t>& in_axes) const;
};

using PrimitivePtr = std::shared_ptr<const Primitive>;

// The usual primitive: an op's eager entry point plus its parameters as a plain struct with
// operator== (C++20 `= default` suffices). `eval` calls fn(inputs, params).
// An op may also bring its own batching rule (a reduction shifts its dims past the batch axis).
template <class Params>
class OpPrimitive final : public Primitive {
 public:
  using Fn = Tensors (*)(const Tensors& inputs, const Params& params);
  using VmapRule = std::pair<Tensors, std::vector<int64_t>> (*)(const Params& params, const Tensors& inputs,
                                                                 const std::vector<int64_t>& in_axes);
  OpPrimitive(const char* name, Fn fn, Params params, PrimitiveKind kind = PrimitiveKind::Generic,
              VmapRule rule = nullptr)
      : name_(name), fn_(fn), params_(std::move(params)), kind_(kind), rule_(rule) {}
  const char* name() const override { return name_; }
  PrimitiveKind kind() const override { return kind_; }
  std::pair<Tensors, std::vector<int64_t>> vmap(const Tensors& inputs, const std::vector<int64_t>& in_axes) const override {
    return rule_ ? rule_(params_, inputs, in_axes) : Primitive::vmap(inputs, in_axes);
  }
  Tensors eval(const Tensors& inputs) const override { return fn_(inputs, params_); }
  bool is_equivalent(const Primitive& other) const override {
    const auto* o = dynamic_cast<const OpPrimitive*>(&other);
    return o && o->fn_ == fn_ && std::string_view(o->name_) == name_ && o->params_ == params_;
  }
  const Params& params() const { return params_; }

 private:
  const char* name_;
  Fn fn_;
  Params params_;
  PrimitiveKind kind_;
  VmapRule rule_;
};

}  // namespace ricci
