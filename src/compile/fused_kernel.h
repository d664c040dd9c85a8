#pragma once
// A fused elementwise kernel: a run of unary and binary floating-point primitives executed as one
// pass over its output shape (Note [Fused kernels], fused_kernel.cpp).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compile/codegen.h"
#include "ops/elementwise_step.h"
#include "ops/reduction_step.h"
#include "ricci/primitive.h"

namespace ricci::compile_detail {

// One primitive of the run, by value ids of the enclosing program (-1: an input the primitive
// takes as a scalar parameter).
struct FusedOp {
  PrimitivePtr prim;
  std::vector<int> in;
  int out = -1;
};

class FusedKernel {
 public:
  // The kernel for `ops` (in order, every output of one shape) whose values have the given
  // dtypes (by value id); `wanted`: the values written out at full size (read later or returned). nullopt when an op is not fusable (not a floating-point unary/binary primitive) or
  // the run reads and writes more tensors than one pass takes.
  //
  // `reduction`, when given, reads a value of the run and reduces it over the last dim (over the
  // only dim of a vector): the run's chunks are then reduced as they are made, row by row, and the
  // reduced value is written only when wanted (Note [Fused kernels]).
  static std::optional<FusedKernel> make(const std::vector<FusedOp>& ops, const std::vector<DType>& dtypes,
                                         const std::vector<int>& wanted, const FusedOp* reduction = nullptr);

  // Runs the pass: reads the run's inputs from `values` (by value id, any strides, broadcast to
  // the shape) and stores the wanted values there as new contiguous tensors. False (and nothing
  // done) when an input is not on the CPU: the caller runs the ops one by one.
  //
  // generate_code: run as generated machine code where the kernel and its operands' layout allow
  // (Note [Generated kernels], codegen.cpp; built at the first such run), else as the interpreter.
  bool run(std::vector<Tensor>& values, bool generate_code = false) const;

  // The C++ source of this kernel as generated code, for inputs that are one value along the run
  // where uniform_input says so and contiguous elsewhere; nullopt when an op or dtype is not
  // generated (codegen.cpp). The kernel's pointers are the outputs, then (with write_reduced) the
  // reduced value's row, which the run does not write out otherwise, then the inputs.
  std::optional<std::string> generated_source(const std::vector<char>& uniform_input, bool write_reduced = false) const;
  // How many operand layouts run as generated code so far, and why the last attempt did not ("" if none failed).
  int64_t generated_count() const;
  std::string codegen_failure() const;

  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }

  struct Step {
    ew::ElementwiseStep op;
    int a = -1, b = -1, c = -1, out = -1;  // slots (c: where's second value)
    int output = -1;                // the output this step's value is (an index into outputs())
    kernels::AnyKernel kernel = nullptr;  // the eager kernel, for ops without a vector loop
  };

 private:
  template <class C>
  void run_pass(const std::vector<Tensor>& operands, const Tensor* reduced, bool generate_code) const;
  GeneratedKernel generated_for(const std::vector<Tensor>& operands, const std::vector<int64_t>& inner,
                                bool write_reduced = false) const;

  DType compute_ = DType::Float32;
  int slots_ = 0;
  std::vector<int> inputs_;                         // value ids; input k lives in slot k
  std::vector<std::pair<int, double>> constants_;   // (slot, value): scalar operands
  std::vector<Step> steps_;
  std::vector<int> outputs_;                        // value ids
  std::vector<int> output_slots_;
  std::vector<DType> output_dtypes_;
  struct Epilogue {
    reduce_detail::ReductionStep::Kind kind;
    int slot = -1;    // the slot reduced
    int out = -1;     // the reduction's value id
    DType dtype;      // and its dtype
    bool keepdim = false;
  };
  std::optional<Epilogue> reduction_;
  // Generated code per layout of the inputs (which are uniform), made at the first run that needs
  // it; shared by copies of the kernel, guarded by its mutex.
  struct Generated;
  std::shared_ptr<Generated> generated_;
};

}  // namespace ricci::compile_detail
