// nn::value_and_grad: gradients of a loss with respect to a model's trainable parameters, as a tree.
#include "ricci/error.h"
#include "ricci/factories.h"
#include "ricci/nn/transforms.h"

namespace ricci::nn {

ModelValueAndGradFn value_and_grad(Module& model, TensorFn loss_fn) {
  return [&model, loss_fn](const Tensors& inputs) -> std::pair<Tensors, Tree> {
    const Tree params = model.trainable_parameters();
    const std::vector<Tensor> ps = tree_flatten(params);
    Tensors outs;
    {
      autograd::EnableGradGuard grad_on;
      outs = loss_fn(inputs);
    }
    RICCI_CHECK(!outs.empty() && outs[0].defined() && outs[0].numel() == 1, ValueError,
                "[value_and_grad] the loss function must return a scalar (one element) first, but it returned ",
                outs.empty() || !outs[0].defined() ? std::string("nothing") : detail::cat("shape ", outs[0].shape()),
                "; reduce it first (e.g. .mean())");
    std::vector<Tensor> grads(ps.size());
    if (!ps.empty() && outs[0].requires_grad())
      grads = autograd::grad({outs[0]}, ps, {}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < ps.size(); ++i)
      if (!grads[i].defined()) grads[i] = zeros_like(ps[i]);
    for (Tensor& o : outs)
      if (o.defined()) o = o.detach();
    return {outs, tree_unflatten(params, grads)};
  };
}

}  // namespace ricci::nn
