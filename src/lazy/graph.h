#pragma once
// Reading a pending graph without evaluating it: what transforms that rewrite a traced
// function (vmap) walk. Internal.
#include <functional>
#include <vector>

#include "ricci/primitive.h"

namespace ricci::lazy {

// Called once per pending op that `roots` need, inputs before the ops that read them: the
// primitive, its inputs, the placeholder storage of each output (null where that output is
// gone), by which later ops' inputs (and views of them) can be recognised, and each output
// tensor (null where it is gone).
using PendingVisitor = std::function<void(const PrimitivePtr&, const Tensors& inputs, const std::vector<const Storage*>&,
                                          const std::vector<const TensorImpl*>&)>;
void walk_pending(const std::vector<Tensor>& roots, const PendingVisitor& visit);

// A tensor with this shape, dtype and device and no bytes, nothing recorded to fill it: what a
// transform traces f on (reading its value inside the trace throws TraceFailed).
Tensor trace_placeholder(IntArrayRef shape, DType dtype, Device device);

}  // namespace ricci::lazy
