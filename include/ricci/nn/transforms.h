#pragma once
// MLX's nn.value_and_grad: the loss of a model and its gradients, shaped like the model's
// trainable parameters, without touching any .grad.
//
//     auto loss_and_grad = nn::value_and_grad(model, [&](const Tensors& in) {
//       return Tensors{F::mse_loss(model(in[0]), in[1])};
//     });
//     auto [loss, grads] = loss_and_grad({x, target});  // grads["weight"], grads["bias"]
//     opt.update(model, grads);
#include <functional>
#include <utility>

#include "ricci/nn/module.h"
#include "ricci/transforms.h"
#include "ricci/tree.h"

namespace ricci::nn {

// loss_fn's first output must hold one element; its other outputs ride along in the values.
using ModelValueAndGradFn = std::function<std::pair<Tensors, Tree>(const Tensors& inputs)>;
ModelValueAndGradFn value_and_grad(Module& model, TensorFn loss_fn);

}  // namespace ricci::nn
