#pragma once
// Function transforms, as in MLX and JAX: functions in, functions (or values) out.
//
//     auto f = [](const Tensors& in) { return Tensors{(in[0] * in[0]).sum()}; };
//     Tensors g = grad(f)({x});                        // {2x}
//     auto [values, grads] = value_and_grad(f)({x});   // {sum x^2}, {2x}
//     auto [outs, tangents] = jvp(f, {x}, {v});        // forward mode: J v
//     auto [outs2, cotangents] = vjp(f, {x}, {u});     // reverse mode: u^T J
//     Tensors per_example = vmap(grad(f))({X});        // f's gradient for each row of X
//
// They compose to any depth (grad(grad(f)), vmap(grad(f)), jvp of grad for Hessian-vector
// products) and work in eager and lazy mode. They never touch .grad or the graph of the tensors
// passed in: gradients come from private graphs (docs/transforms.md says how each one works on the
// Primitive layer). A function is `Tensors(const Tensors&)`: inputs and outputs in order.
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "ricci/autograd.h"
#include "ricci/tensor.h"
#include "ricci/tree.h"

namespace ricci {

using autograd::Tensors;
using TensorFn = std::function<Tensors(const Tensors&)>;

// Reverse mode: f's outputs and the cotangents of its inputs, given one cotangent per output
// (undefined: that output does not contribute). Inputs that are not floating point get an
// undefined entry; a floating input f does not depend on gets zeros.
std::pair<Tensors, Tensors> vjp(const TensorFn& f, const Tensors& primals, const Tensors& cotangents);
// Forward mode: f's outputs and their tangents, given one tangent per input (undefined: zero).
std::pair<Tensors, Tensors> jvp(const TensorFn& f, const Tensors& primals, const Tensors& tangents);

// f's first output must hold one element (a loss); the others ride along (MLX's aux outputs).
// The gradients are those of the first output with respect to the inputs in argnums, in order.
using ValueAndGradFn = std::function<std::pair<Tensors, Tensors>(const Tensors&)>;
ValueAndGradFn value_and_grad(const TensorFn& f, std::vector<int> argnums = {0});
TensorFn grad(const TensorFn& f, std::vector<int> argnums = {0});
// One tensor in, one scalar out.
std::function<Tensor(const Tensor&)> grad(const std::function<Tensor(const Tensor&)>& f);

// Over a parameter tree (MLX's grad(loss_fn)(params, x, y)): f takes the tree and the other
// inputs; the gradients of its first output come back as a tree shaped like `params`.
using TreeFn = std::function<Tensors(const Tree& params, const Tensors& inputs)>;
using TreeValueAndGradFn = std::function<std::pair<Tensors, Tree>(const Tree& params, const Tensors& inputs)>;
TreeValueAndGradFn value_and_grad(const TreeFn& f);
std::function<Tree(const Tree& params, const Tensors& inputs)> grad(const TreeFn& f);

// Batching: in_axes[i] is the axis of input i that is mapped over (negative counts from the
// end; nullopt: not batched, the same tensor for every example); all mapped axes must have the
// same size. out_axes[j] is where output j's batch axis goes. Empty lists mean axis 0 for all.
using Axes = std::vector<std::optional<int64_t>>;
TensorFn vmap(const TensorFn& f, Axes in_axes = {}, Axes out_axes = {});

// The Jacobian of f's first output with respect to input argnum: shape out.shape + in.shape.
// jacrev builds it row by row with vjp, jacfwd column by column with jvp; hessian is the
// Jacobian of the gradient.
TensorFn jacrev(const TensorFn& f, int argnum = 0);
TensorFn jacfwd(const TensorFn& f, int argnum = 0);
TensorFn hessian(const TensorFn& f, int argnum = 0);

// The value of x, through which no transform or backward() passes a gradient.
Tensor stop_gradient(const Tensor& x);

// f with a backward of your own: vjp_fn(primals, outputs, cotangents) returns one cotangent per
// primal (undefined: none). f runs without recording a graph; every transform and backward()
// that reaches the outputs calls vjp_fn instead of differentiating f.
using CustomVjpFn = std::function<Tensors(const Tensors& primals, const Tensors& outputs, const Tensors& cotangents)>;
TensorFn custom_vjp(TensorFn f, CustomVjpFn vjp_fn);
// Gradient checkpointing: f's intermediates are not kept for the backward pass; it runs f again
// when the gradient is needed. Same values and gradients, less memory between forward and backward.
TensorFn checkpoint(TensorFn f);

}  // namespace ricci
