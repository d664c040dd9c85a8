#pragma once
// compile(f), as MLX's mx.compile: the first call with a given input signature (count, shapes,
// dtypes, devices) traces f into a graph of primitives, simplifies it (common subexpressions,
// dead code, reshapes to the same shape, x * 1) and fuses chains of elementwise ops, with the
// reduction that follows them, so that each chain runs as one pass over memory; the program is cached and replayed on later calls with that
// signature. Another signature traces again: a compiled function never returns a stale result.
//
//     TensorFn gelu = compile([](const Tensors& in) {
//       const Tensor& x = in[0];
//       return Tensors{0.5 * x * (1 + ((x + 0.044715 * x.pow(3)) * 0.7978845608).tanh())};
//     });
//
// f must be a function of its inputs (captured tensors are constants). Random draws (rand, randn,
// randint, bernoulli, hence dropout) are part of the program: every call draws new numbers from the
// generator, as f would. When f cannot be traced — it reads a value of an input (item(), a boolean
// mask) or takes a gradient inside — the compiled function simply runs f every call: values are
// never frozen into a trace. Compiled functions compose with grad, value_and_grad, vjp, jvp and
// vmap in either order: grad(compile(f)) runs the program op by op, unfused; compile(grad(f))
// takes a gradient inside, so it runs uncompiled, as above. In lazy mode
// a call records the whole program as one pending primitive, fused when evaluated.
// docs/compile.md explains the pieces.
#include <optional>
#include <string>

#include "ricci/transforms.h"

namespace ricci {

struct CompileOptions {
  bool fuse = true;
  // Key the cache on ranks and dtypes only, not on sizes: one trace serves every shape. Only
  // for functions whose ops do not fix sizes (a reshape to a literal shape does).
  bool shapeless = false;
  // Run fused kernels as generated machine code: at a kernel's first run its C++ source is
  // built by the system's C++ compiler (about half a second) and cached on disk
  // ($RICCI_CACHE_DIR, else ~/.cache/ricci), so later runs, and later processes, load it. Kernels
  // the generator does not take, and every kernel where no compiler works, run as an interpreter
  // over cache-sized chunks instead, with the same values. Unset: on, unless the environment
  // variable RICCI_COMPILE_CODEGEN is 0 (and off below AVX2).
  std::optional<bool> generate_code;
  // Rewrite expressions that cancel in floating point into equal ones that do not: 1 + tanh(u)
  // and 1 - tanh(u) become 2 sigmoid(2u) and 2 sigmoid(-2u) where nothing else reads the tanh
  // (the GELU tanh form: accurate in its left tail, and 1.4x faster fused); a float32/float64
  // multiplication by a power of two merges with the constants around it ((a * 0.5) * (b * 2) is
  // a * b: exact, except that an overflow or subnormal in between is avoided). Off: the program
  // runs f's own ops, and a fused float32 chain equals eager bit for bit. docs/compile.md.
  bool stable_rewrites = true;
};

TensorFn compile(TensorFn f, CompileOptions options = {});

// What compiling did, for the most recent signature a compiled function was called with.
struct CompileStats {
  int64_t traces = 0;         // signatures traced so far
  int64_t traced_ops = 0;     // primitives recorded by the last trace
  int64_t ops = 0;            // after simplification
  int64_t fused_groups = 0;   // groups of elementwise ops run as one pass
  int64_t fused_ops = 0;      // ops inside those groups
  bool traceable = true;      // false: f runs uncompiled (see above)
  std::string untraceable_reason;  // why not, when not ("f needs a traced tensor's value ...")
  int64_t generated_kernels = 0;  // fused kernels that have run as generated code so far
  std::string codegen_failure;    // why a kernel could not be built ("" when none failed)
};
// The stats of a function made by compile() (ValueError for any other function).
CompileStats compile_stats(const TensorFn& compiled);

// The program of the most recent signature as a Graphviz graph (render with `dot -Tsvg`): as
// traced, or (traced = false) as it runs — simplified, each fused kernel drawn as a dashed box.
// ValueError before the first traceable call.
std::string compile_dot(const TensorFn& compiled, bool traced = false);

}  // namespace ricci
