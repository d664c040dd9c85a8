#pragma once
// Reading a pending graph without evaluating it: what transforms that rewrite a traced
// function (vmap) walk. Internal.
#include <functional>
#include <vector>

#include "ricci/primitive.h"

namespace ricci::lazy {

// One output of a pending op as recorded: its placeholder storage (null where nothing holds it
// any more), by which later ops' inputs (and views of them) can be recognised, and its shape and
// dtype. A placeholder outlives the output tensor when only a saved value holds it (a backward
// node recorded inside a trace keeps exp's output after f dropped it).
struct PendingOutput {
  const Storage* placeholder = nullptr;
  Dims sizes;
  Dims strides;
  int64_t storage_offset = 0;
  DType dtype = DType::Float32;
};

// Called once per pending op that `roots` need, inputs before the ops that read them: the
// primitive, its inputs and its outputs.
using PendingVisitor = std::function<void(const PrimitivePtr&, const Tensors& inputs, const std::vector<PendingOutput>&)>;
void walk_pending(const std::vector<Tensor>& roots, const PendingVisitor& visit);

// A tensor with this shape, dtype and device and no bytes, nothing recorded to fill it: what a
// transform traces f on (reading its value inside the trace throws TraceFailed).
Tensor trace_placeholder(IntArrayRef shape, DType dtype, Device device);

}  // namespace ricci::lazy
