#pragma once
// Kernel signatures of the optimizers' one-pass updates (src/optim/optimizer.cpp; the CPU kernels
// are in optim_hwy.cpp). A kernel takes every tensor contiguous, of one dtype and numel, on its
// device, none overlapping another.
#include <cstdint>

#include "ricci/tensor.h"

namespace ricci::optimk {

// One Adam/AdamW step of one parameter: the hyperparameters, and the step's bias corrections as
// Adam::step computes them (1 - beta^step, in float64).
struct AdamStepParams {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;  // AdamW: p *= 1 - lr wd; else Adam: grad + wd p
  bool amsgrad;    // max_exp_avg_sq is defined and updated
  double bias_correction1, bias_correction2;
};

// param, exp_avg, exp_avg_sq (and max_exp_avg_sq with amsgrad) are updated in place, to the
// values of Adam's composed single-tensor update bit for bit (Note [One-pass Adam], optim_hwy.cpp).
using AdamStepKernel = void (*)(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                                const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStepParams& p);

// One SGD step of one parameter whose momentum buffer (if momentum != 0) already exists: param
// (and momentum_buffer) updated in place to the values of SGD's composed ops bit for bit.
struct SgdStepParams {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
};
using SgdStepKernel = void (*)(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                               const SgdStepParams& p);

}  // namespace ricci::optimk
