// compile(f): trace into a program of primitives, simplify, fuse elementwise runs, cache by
// signature, replay (docs/compile.md).
//
// Note [Compiled programs]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// A trace records f lazily on placeholders shaped like the call's inputs (the machinery vmap
// uses, Note [vmap by tracing]) and reads the recorded primitives into a program: numbered
// values (f's inputs, tensors f captured, op outputs) and instructions (primitive, input ids,
// output ids). Replaying a program calls each primitive's eval — the op's own eager code — on
// the call's tensors, in the caller's modes: with a gradient needed it records autograd as f
// would, in lazy mode it records lazily, inside a transform's trace it is traced again. That is
// why compiled functions compose with every transform.
//
// Simplification: instructions whose primitives are equivalent (same op, equal parameters) and
// that read the same values are merged; a view or reshape to the shape it already has and an
// arithmetic identity (x * 1, x / 1, x - 0, x ** 1) are dropped; what no output needs is never
// kept. Before that, unless CompileOptions::stable_rewrites is off, two rewrites replace
// expressions by equal ones that round better or cost less (Note [1 + tanh], Note [Power-of-two
// scalings]).
//
// Fusion: a run of consecutive elementwise instructions whose outputs all have one shape runs
// as one fused kernel (Note [Fused kernels], fused_kernel.cpp): one pass over the shape in
// cache-sized chunks, every input read once, every value read after the run written once, no
// intermediate at full size. Fused runs need real values on the CPU: with a gradient needed, in
// lazy mode or on another device the program runs op by op.
#include "ricci/compile.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "compile/codegen.h"
#include "compile/fused_kernel.h"
#include "core/tensor_internal.h"
#include "lazy/graph.h"
#include "lazy/lazy_detail.h"
#include "ricci/error.h"
#include "ricci/lazy.h"

namespace ricci {

namespace {

struct Instr {
  PrimitivePtr prim;
  std::vector<int> in;   // value ids, -1: an undefined input
  std::vector<int> out;  // value ids, -1: an output nothing reads
};

struct Group {
  size_t first = 0, last = 0;  // the instructions [first, last]
  compile_detail::FusedKernel kernel;
};

struct Program {
  size_t n_inputs = 0;
  std::vector<Tensor> constants;  // by value id; undefined for other values
  std::vector<Dims> shapes;       // traced shape of each value
  std::vector<DType> dtypes;      // and its dtype
  std::vector<Instr> instrs;
  std::vector<Instr> traced;      // the instructions as recorded, for compile_dot
  std::vector<int> outputs;       // f's outputs; -1: undefined
  std::vector<int> traced_outputs;
  std::vector<Group> groups;
  int64_t traced_ops = 0;
  int64_t fused_ops = 0;
  bool generate_code = false;  // fused kernels as generated code (Note [Generated kernels])
  // f ran a backward pass: the program holds it as ops (Note [Gradients inside a trace]).
  bool differentiates = false;
  // Some output of f had autograd history in the trace (through a captured tensor that requires
  // grad): a caller with grad mode on may differentiate it.
  bool outputs_have_history = false;
  // The values whose last reader is instruction k, dropped once it has run (a training step's
  // activations go as its backward pass reads them for the last time, as eager's do).
  std::vector<std::vector<int>> release_after;
};

// ---- tracing ----------------------------------------------------------------------------------

// A view of a traced value that an op made inside its own code, where nothing records it (a
// backward rule's saved `v.unsqueeze(1)` of mv's input): the same elements, taken from the value
// when the program runs. The value was contiguous in the trace; at run time it may have any
// layout, so the view is taken of its contiguous form, at the traced offset from its start.
struct AliasOf {
  Dims sizes, strides;
  int64_t offset = 0;  // from the value's first element
  bool operator==(const AliasOf&) const = default;
};

Tensors eval_alias(const Tensors& in, const AliasOf& a) {
  const Tensor c = in[0].contiguous();
  return {c.as_strided(a.sizes, a.strides, c.storage_offset() + a.offset)};
}

struct TracedLayout {
  Dims strides;
  int64_t offset = 0;
};

std::shared_ptr<Program> trace(const TensorFn& f, const Tensors& xs) {
  auto p = std::make_shared<Program>();
  p->n_inputs = xs.size();
  std::unordered_map<const Storage*, int> by_storage;
  std::unordered_map<const TensorImpl*, int> by_constant;
  std::vector<TracedLayout> layouts;  // by value id; constants hold their own tensors
  auto new_value = [&p, &layouts](const Dims& shape, DType dtype, TracedLayout layout) {
    p->shapes.push_back(shape);
    p->dtypes.push_back(dtype);
    p->constants.emplace_back();
    layouts.push_back(std::move(layout));
    return static_cast<int>(p->shapes.size()) - 1;
  };
  Tensors ph(xs.size()), outs;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Dims shape = xs[i].defined() ? Dims(xs[i].shape()) : Dims();
    new_value(shape, xs[i].defined() ? xs[i].dtype() : DType::Float32, {contiguous_strides(shape), 0});
  }
  {
    LazyGuard lazy;
    lazy::detail::Tracing tracing(/*record_draws=*/true, /*record_gradients=*/true);
    const int64_t passes_before = lazy::detail::tl_state.traced_backward_passes;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (!xs[i].defined()) continue;
      ph[i] = lazy::trace_placeholder(xs[i].shape(), xs[i].dtype(), xs[i].device());
      by_storage[ph[i].unsafe_impl()->storage.get()] = static_cast<int>(i);
    }
    outs = f(ph);
    p->differentiates = lazy::detail::tl_state.traced_backward_passes != passes_before;
    for (const Tensor& o : outs) p->outputs_have_history = p->outputs_have_history || (o.defined() && o.requires_grad());
  }
  std::map<std::vector<int64_t>, int> aliases;  // (value, offset, sizes..., strides...) -> id
  auto value_of = [&](const Tensor& t) -> int {
    if (!t.defined()) return -1;
    const Storage* s = t.unsafe_impl()->storage.get();
    if (auto it = by_storage.find(s); it != by_storage.end()) {
      const int base = it->second;
      const size_t b = static_cast<size_t>(base);
      const Dims sizes(t.shape()), strides(t.strides());
      if (sizes == p->shapes[b] && strides == layouts[b].strides && t.storage_offset() == layouts[b].offset) return base;
      // Another view of the value's bytes (AliasOf), made where nothing recorded it.
      const int64_t offset = t.storage_offset() - layouts[b].offset;
      if (layouts[b].strides != contiguous_strides(p->shapes[b]) || offset < 0 || t.dtype() != p->dtypes[b])
        throw lazy::detail::TraceFailed{"an op keeps a view of a traced value whose layout the program cannot re-make"};
      std::vector<int64_t> key{base, offset};
      key.insert(key.end(), sizes.begin(), sizes.end());
      key.insert(key.end(), strides.begin(), strides.end());
      if (auto a = aliases.find(key); a != aliases.end()) return a->second;
      const int id = new_value(sizes, t.dtype(), {strides, t.storage_offset()});
      p->instrs.push_back({std::make_shared<const OpPrimitive<AliasOf>>("alias", &eval_alias, AliasOf{sizes, strides, offset}),
                           {base}, {id}});
      aliases[key] = id;
      return id;
    }
    if (s->is_deferred())
      throw lazy::detail::TraceFailed{"an op's backward rule keeps a value the op made inside its own code (not an "
                                      "input or output of a recorded op)"};
    if (auto it = by_constant.find(t.unsafe_impl()); it != by_constant.end()) return it->second;
    const int id = new_value(Dims(t.shape()), t.dtype(), {});
    p->constants[static_cast<size_t>(id)] = t;
    by_constant[t.unsafe_impl()] = id;
    return id;
  };
  lazy::walk_pending(outs, [&](const PrimitivePtr& prim, const Tensors& ins, const std::vector<lazy::PendingOutput>& recorded) {
    Instr instr{prim, {}, {}};
    for (const Tensor& t : ins) instr.in.push_back(value_of(t));
    for (const lazy::PendingOutput& o : recorded) {
      if (!o.placeholder) {
        instr.out.push_back(-1);
        continue;
      }
      const int id = new_value(o.sizes, o.dtype, {o.strides, o.storage_offset});
      by_storage[o.placeholder] = id;
      instr.out.push_back(id);
    }
    p->instrs.push_back(std::move(instr));
  });
  for (const Tensor& o : outs) p->outputs.push_back(value_of(o));
  p->traced_ops = static_cast<int64_t>(p->instrs.size());
  p->traced = p->instrs;
  p->traced_outputs = p->outputs;
  return p;
}

// ---- simplification ---------------------------------------------------------------------------

// x * 1, 1 * x, x / 1, x - 0, x ** 1 with the result in x's shape and dtype: exact identities for
// every x (NaN, infinities and -0 included; x + 0 is not one: -0 + 0 is +0). Returns x's id.
int identity_operand(const Program& p, const Instr& instr) {
  if (instr.out.size() != 1 || instr.out[0] < 0) return -1;
  const std::optional<ew::ElementwiseStep> e = ew::binary_step(*instr.prim);
  if (!e || (e->sa && e->sb)) return -1;
  const bool scalar_first = e->sa.has_value();
  const std::optional<Scalar>& c = scalar_first ? e->sa : e->sb;
  if (!c) return -1;
  const double v = c->to_double();
  using ew::BinaryOp;
  const bool identity = (e->bop == BinaryOp::Mul && v == 1) ||
                        (!scalar_first && e->bop == BinaryOp::Div && v == 1) ||
                        (!scalar_first && e->bop == BinaryOp::Sub && v == 0) ||
                        (!scalar_first && e->bop == BinaryOp::Pow && v == 1);
  const int x = instr.in[scalar_first ? 1 : 0];
  if (!identity || x < 0) return -1;
  const size_t xi = static_cast<size_t>(x), oi = static_cast<size_t>(instr.out[0]);
  return p.shapes[xi] == p.shapes[oi] && p.dtypes[xi] == p.dtypes[oi] ? x : -1;
}

// Note [1 + tanh]
// ~~~~~~~~~~~~~~~
// 1 + tanh(u) loses every digit where tanh(u) nears -1 (and 1 - tanh(u) where it nears 1): in
// the GELU tanh form 0.5 x (1 + tanh(u)), float32 at x = -5.1 is off by 2.7e7 ulp
// (docs/accuracy.md). The same values are 2 sigmoid(2u) and 2 sigmoid(-2u), within 2.5 ulp
// everywhere, for one exp and one division where tanh pays an exp, a division and a polynomial
// (the fused GELU runs 1.4x faster). So where nothing else reads the tanh (a backward pass that
// reuses it keeps it), the program computes
//   t = tanh(u); y = 1 + t   as   v = u * 2; w = sigmoid(v); y = w * 2   (u * -2 for 1 - t).
// Doubling is exact, so y differs from eager's only by the two forms' roundings, and more
// accurate where eager's cancels. CompileOptions::stable_rewrites = false keeps eager's ops.
void rewrite_one_plus_tanh(Program& p) {
  const size_t n_values = p.shapes.size();
  std::vector<int> readers(n_values, 0), made_by(n_values, -1);
  for (size_t k = 0; k < p.instrs.size(); ++k) {
    for (int id : p.instrs[k].in)
      if (id >= 0) ++readers[static_cast<size_t>(id)];
    for (int id : p.instrs[k].out)
      if (id >= 0) made_by[static_cast<size_t>(id)] = static_cast<int>(k);
  }
  for (int id : p.outputs)
    if (id >= 0) ++readers[static_cast<size_t>(id)];
  // The tanh value y = c + sign * t reads, when y is 1 + t, t + 1 or 1 - t in t's shape and dtype.
  auto tanh_sum = [&p](const Instr& y, double* sign) -> int {
    const std::optional<ew::ElementwiseStep> e = ew::binary_step(*y.prim);
    if (!e || y.in.size() != 2 || y.out.size() != 1 || y.out[0] < 0 || e->alpha.to_double() != 1) return -1;
    const bool one_first = e->sa && e->sa->to_double() == 1 && y.in[0] < 0 && y.in[1] >= 0;
    const bool one_second = e->sb && e->sb->to_double() == 1 && y.in[1] < 0 && y.in[0] >= 0;
    int t = -1;
    if (e->bop == ew::BinaryOp::Add && (one_first || one_second)) {
      t = one_first ? y.in[1] : y.in[0];
      *sign = 1;
    } else if (e->bop == ew::BinaryOp::Sub && one_first) {
      t = y.in[1];
      *sign = -1;
    }
    if (t < 0) return -1;
    const size_t ti = static_cast<size_t>(t), yi = static_cast<size_t>(y.out[0]);
    return p.shapes[ti] == p.shapes[yi] && p.dtypes[ti] == p.dtypes[yi] ? t : -1;
  };
  // First the sums to rewrite (by instruction, the tanh instruction they replace), then the program.
  std::vector<int> tanh_of(p.instrs.size(), -1);
  std::vector<bool> dropped(p.instrs.size(), false);
  std::vector<double> signs(p.instrs.size(), 1);
  for (size_t k = 0; k < p.instrs.size(); ++k) {
    const int t = tanh_sum(p.instrs[k], &signs[k]);
    if (t < 0 || readers[static_cast<size_t>(t)] != 1 || made_by[static_cast<size_t>(t)] < 0) continue;
    const size_t j = static_cast<size_t>(made_by[static_cast<size_t>(t)]);
    const std::optional<ew::ElementwiseStep> e = ew::unary_step(*p.instrs[j].prim);
    const int u = p.instrs[j].in.empty() ? -1 : p.instrs[j].in[0];
    const size_t ti = static_cast<size_t>(t);
    if (!e || e->uop != ew::UnaryOp::Tanh || u < 0 || !is_floating_point(p.dtypes[ti]) ||
        p.dtypes[static_cast<size_t>(u)] != p.dtypes[ti] || p.shapes[static_cast<size_t>(u)] != p.shapes[ti])
      continue;
    tanh_of[k] = static_cast<int>(j);
    dropped[j] = true;
  }
  std::vector<Instr> instrs;
  for (size_t k = 0; k < p.instrs.size(); ++k) {
    if (dropped[k]) continue;
    if (tanh_of[k] < 0) {
      instrs.push_back(std::move(p.instrs[k]));
      continue;
    }
    const int u = p.instrs[static_cast<size_t>(tanh_of[k])].in[0], y = p.instrs[k].out[0];
    auto new_value = [&p, y] {
      p.shapes.push_back(p.shapes[static_cast<size_t>(y)]);
      p.dtypes.push_back(p.dtypes[static_cast<size_t>(y)]);
      p.constants.emplace_back();
      return static_cast<int>(p.shapes.size()) - 1;
    };
    const int v = new_value(), w = new_value();
    instrs.push_back({ew::scalar_binary_primitive(ew::BinaryOp::Mul, "mul", 2.0 * signs[k]), {u, -1}, {v}});
    instrs.push_back({ew::unary_primitive(ew::UnaryOp::Sigmoid), {v}, {w}});
    instrs.push_back({ew::scalar_binary_primitive(ew::BinaryOp::Mul, "mul", 2.0), {w, -1}, {y}});
  }
  p.instrs = std::move(instrs);
}

// Note [Power-of-two scalings]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Multiplying a float by a power of two is exact (away from overflow and subnormals), so such a
// scaling commutes with the products around it: (a c1) c2 = a (c1 c2) when c1 or c2 is one, and
// (a ca)(b cb) = a b when ca and cb are and cancel (ca cb = 1, or ca cb c2 = 1 with the one
// scaling c2 that reads the product; an uncancelled ca cb is not moved out, as a b could overflow
// where the scaled factors do not); a division by a power of two is
// a scaling by its reciprocal (x / 2 is x * 0.5 bit for bit). The GELU tanh form after Note [1 + tanh] is
//   0.5 x * (2 sigmoid(2 (u c)))   which becomes   x * sigmoid(u (2c))
// three multiplications fewer, in the one pass that computes it (the scalings are single-reader
// values). The results equal f's own ops bit for bit except where an intermediate product
// overflows or becomes subnormal, and there the rewritten form is the accurate one: (a * 2) * 0.5
// is inf for a near the largest float, a * 1 is a. float32 and float64 only: a half-precision
// op rounds its scalar constant to the dtype first. Part of CompileOptions::stable_rewrites.
bool is_power_of_two(double c) {
  int e = 0;
  return std::isfinite(c) && c != 0 && std::abs(std::frexp(c, &e)) == 0.5;
}

void rewrite_power_of_two_scalings(Program& p) {
  const size_t n_values = p.shapes.size();
  std::vector<int> readers(n_values, 0);
  for (const Instr& instr : p.instrs)
    for (int id : instr.in)
      if (id >= 0) ++readers[static_cast<size_t>(id)];
  for (int id : p.outputs)
    if (id >= 0) ++readers[static_cast<size_t>(id)];
  auto scalable_dtype = [&p](int id) { return p.dtypes[static_cast<size_t>(id)] == DType::Float32 || p.dtypes[static_cast<size_t>(id)] == DType::Float64; };
  // The constant as the dtype's kernels use it, and whether c1 * c2 is one exactly.
  auto in_dtype = [](double c, DType dt) { return dt == DType::Float32 ? static_cast<double>(static_cast<float>(c)) : c; };
  auto normal_in = [&in_dtype](double c, DType dt) {  // c is a normal number of the dtype, exactly
    return std::isfinite(c) && c != 0 && in_dtype(c, dt) == c && std::abs(c) >= (dt == DType::Float32 ? 0x1p-126 : 0x1p-1022);
  };
  auto exact_product = [&normal_in](double c1, double c2, DType dt, double* c) {
    *c = c1 * c2;  // exact in double: both are float32 values or one is a power of two
    return (is_power_of_two(c1) || is_power_of_two(c2)) && normal_in(*c, dt);
  };
  // value id -> (the value it scales, the constant), for values made as `a * c` in a's shape and
  // dtype (float32 or float64) that one instruction reads.
  struct Scaling {
    int of = -1;
    double by = 1;
  };
  std::vector<Scaling> scaling(n_values);
  auto scaled_value = [&](const Instr& instr) -> std::optional<std::pair<int, double>> {
    const std::optional<ew::ElementwiseStep> e = ew::binary_step(*instr.prim);
    const bool div = e && e->bop == ew::BinaryOp::Div && e->sb && !e->sa;  // a / c: a * (1 / c)
    if (!e || (e->bop != ew::BinaryOp::Mul && !div) || instr.in.size() != 2 || instr.out.size() != 1 ||
        instr.out[0] < 0 || static_cast<bool>(e->sa) == static_cast<bool>(e->sb))
      return std::nullopt;
    const int a = e->sa ? instr.in[1] : instr.in[0];
    const size_t ai = static_cast<size_t>(a), yi = static_cast<size_t>(instr.out[0]);
    if (a < 0 || !scalable_dtype(instr.out[0]) || p.dtypes[ai] != p.dtypes[yi] || p.shapes[ai] != p.shapes[yi])
      return std::nullopt;
    const double c = in_dtype((e->sa ? *e->sa : *e->sb).to_double(), p.dtypes[yi]);
    if (!div) return std::pair{a, c};
    // Dividing by a power of two is multiplying by its reciprocal, bit for bit; by anything else it
    // is not, and the value is no scaling.
    if (!is_power_of_two(c) || !normal_in(1 / c, p.dtypes[yi])) return std::nullopt;
    return std::pair{a, 1 / c};
  };
  // The one instruction reading a value (when readers is 1), for a product whose scalings cancel
  // only against the scaling after it: (a (b cb)) c2 with cb c2 = 1.
  std::vector<int> reader_of(n_values, -1);
  for (size_t k = 0; k < p.instrs.size(); ++k)
    for (int id : p.instrs[k].in)
      if (id >= 0) reader_of[static_cast<size_t>(id)] = static_cast<int>(k);
  std::vector<double> pending(n_values, 1);  // the value holds (its true value) / pending
  auto single_reader = [&](int id) { return id >= 0 && readers[static_cast<size_t>(id)] == 1 && scaling[static_cast<size_t>(id)].of >= 0; };
  std::vector<Instr> instrs;
  for (Instr& instr : p.instrs) {
    if (const auto s = scaled_value(instr)) {
      auto [a, c2] = *s;
      const int y = instr.out[0];
      double c = 0;
      if (pending[static_cast<size_t>(a)] != 1) {  // a holds its value / pending: fold that in
        c2 *= pending[static_cast<size_t>(a)];
        instr = {ew::scalar_binary_primitive(ew::BinaryOp::Mul, "mul", c2), {a, -1}, {y}};
      }
      // (a' c1) c2 with a' = a c1 read only here: a (c1 c2).
      if (single_reader(a) && exact_product(scaling[static_cast<size_t>(a)].by, c2, p.dtypes[static_cast<size_t>(y)], &c)) {
        const int inner = a;
        a = scaling[static_cast<size_t>(inner)].of;
        c2 = c;
        --readers[static_cast<size_t>(inner)];
        ++readers[static_cast<size_t>(a)];
        instr = {ew::scalar_binary_primitive(ew::BinaryOp::Mul, "mul", c2), {a, -1}, {y}};
      }
      scaling[static_cast<size_t>(y)] = {a, c2};
      instrs.push_back(std::move(instr));
      continue;
    }
    // (a ca)(b cb) with power-of-two ca and cb, ca cb = 1 (cb = 1: b as it is), each product read
    // only here, all in y's shape and dtype: a b.
    const std::optional<ew::ElementwiseStep> e = ew::binary_step(*instr.prim);
    if (e && e->bop == ew::BinaryOp::Mul && !e->sa && !e->sb && instr.in.size() == 2 && instr.out.size() == 1 &&
        instr.out[0] >= 0 && instr.in[0] >= 0 && instr.in[1] >= 0 && scalable_dtype(instr.out[0])) {
      const int y = instr.out[0];
      int ops[2] = {instr.in[0], instr.in[1]};
      double c = 1;
      int pulled = 0;
      const bool promotes = p.dtypes[static_cast<size_t>(ops[0])] != p.dtypes[static_cast<size_t>(y)] ||
                            p.dtypes[static_cast<size_t>(ops[1])] != p.dtypes[static_cast<size_t>(y)];
      for (int& id : ops) {
        const size_t i = static_cast<size_t>(id);
        if (promotes || !single_reader(id) || !is_power_of_two(scaling[i].by) || p.shapes[i] != p.shapes[static_cast<size_t>(y)])
          continue;
        c *= scaling[i].by;
        --readers[i];
        id = scaling[i].of;
        ++readers[static_cast<size_t>(id)];
        ++pulled;
      }
      // Only scalings that cancel, here or in the one scaling that reads y: (a b) c could overflow
      // or underflow where (a ca)(b cb) does not.
      bool cancels = c == 1;
      if (pulled > 0 && !cancels && readers[static_cast<size_t>(y)] == 1 && reader_of[static_cast<size_t>(y)] >= 0) {
        const Instr& next = p.instrs[static_cast<size_t>(reader_of[static_cast<size_t>(y)])];
        const auto s = scaled_value(next);
        cancels = s && s->first == y && c * s->second == 1;
        if (cancels) pending[static_cast<size_t>(y)] = c;
      }
      if (pulled > 0 && !cancels) {
        for (int k = 0; k < 2; ++k)
          if (ops[k] != instr.in[k]) {
            --readers[static_cast<size_t>(ops[k])];
            ++readers[static_cast<size_t>(instr.in[k])];
          }
        pulled = 0;
      }
      if (pulled > 0) {
        instrs.push_back({instr.prim, {ops[0], ops[1]}, {y}});
        continue;
      }
    }
    instrs.push_back(std::move(instr));
  }
  p.instrs = std::move(instrs);
}

bool is_view_op(const Primitive& prim) {
  const std::string_view n = prim.name();
  return n == "view" || n == "reshape";
}

void simplify(Program& p) {
  std::vector<int> replace(p.shapes.size());
  for (size_t i = 0; i < replace.size(); ++i) replace[i] = static_cast<int>(i);
  auto resolved = [&replace](int id) { return id < 0 ? id : replace[static_cast<size_t>(id)]; };
  std::vector<Instr> kept;
  for (Instr& instr : p.instrs) {
    for (int& id : instr.in) id = resolved(id);
    // A view or reshape to the shape it already has.
    if (is_view_op(*instr.prim) && instr.in.size() == 1 && instr.in[0] >= 0 && instr.out.size() == 1 &&
        instr.out[0] >= 0 && p.shapes[static_cast<size_t>(instr.in[0])] == p.shapes[static_cast<size_t>(instr.out[0])]) {
      replace[static_cast<size_t>(instr.out[0])] = instr.in[0];
      continue;
    }
    if (const int x = identity_operand(p, instr); x >= 0) {
      replace[static_cast<size_t>(instr.out[0])] = x;
      continue;
    }
    // Common subexpressions: an equivalent primitive already applied to the same values.
    bool merged = false;
    for (const Instr& earlier : kept) {
      if (earlier.in != instr.in || earlier.out.size() != instr.out.size() || !earlier.prim->is_equivalent(*instr.prim))
        continue;
      for (size_t j = 0; j < instr.out.size(); ++j)
        if (instr.out[j] >= 0 && earlier.out[j] >= 0) replace[static_cast<size_t>(instr.out[j])] = earlier.out[j];
      bool complete = true;
      for (size_t j = 0; j < instr.out.size(); ++j) complete = complete && (instr.out[j] < 0 || earlier.out[j] >= 0);
      merged = complete;
      break;
    }
    if (!merged) kept.push_back(std::move(instr));
  }
  for (int& id : p.outputs) id = resolved(id);
  // Dead code: keep what the outputs need, walking back.
  std::vector<bool> needed(p.shapes.size(), false);
  for (int id : p.outputs)
    if (id >= 0) needed[static_cast<size_t>(id)] = true;
  std::vector<Instr> live;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    bool used = false;
    for (int id : it->out) used = used || (id >= 0 && needed[static_cast<size_t>(id)]);
    if (!used) continue;
    for (int id : it->in)
      if (id >= 0) needed[static_cast<size_t>(id)] = true;
    live.push_back(std::move(*it));
  }
  p.instrs.assign(std::make_move_iterator(live.rbegin()), std::make_move_iterator(live.rend()));
}

// ---- fusion -----------------------------------------------------------------------------------

bool fusable(const Program& p, const Instr& instr, Dims* shape) {
  if (instr.prim->kind() != PrimitiveKind::Elementwise || instr.out.size() != 1 || instr.out[0] < 0) return false;
  *shape = p.shapes[static_cast<size_t>(instr.out[0])];
  return true;
}

// Which values of the instructions [first, last] are read by the instructions from `readers` on
// (or returned): those are written at full size.
std::vector<int> run_outputs(const Program& p, size_t first, size_t last, size_t readers) {
  std::vector<bool> used_later(p.shapes.size(), false);
  for (size_t k = readers; k < p.instrs.size(); ++k)
    for (int id : p.instrs[k].in)
      if (id >= 0) used_later[static_cast<size_t>(id)] = true;
  for (int id : p.outputs)
    if (id >= 0) used_later[static_cast<size_t>(id)] = true;
  std::vector<int> outs;
  for (size_t k = first; k <= last; ++k)
    if (used_later[static_cast<size_t>(p.instrs[k].out[0])]) outs.push_back(p.instrs[k].out[0]);
  return outs;
}

std::vector<compile_detail::FusedOp> fused_ops(const Program& p, size_t first, size_t last) {
  std::vector<compile_detail::FusedOp> ops;
  for (size_t k = first; k <= last; ++k) ops.push_back({p.instrs[k].prim, p.instrs[k].in, p.instrs[k].out[0]});
  return ops;
}

std::optional<compile_detail::FusedKernel> fused_kernel(const Program& p, size_t first, size_t last) {
  return compile_detail::FusedKernel::make(fused_ops(p, first, last), p.dtypes, run_outputs(p, first, last, last + 1));
}

// The run [first, last] folded into the reduction right after it, when that reduction reads a
// value of the run over its last dim (or a vector whole).
std::optional<compile_detail::FusedKernel> fused_reduction(const Program& p, size_t first, size_t last) {
  if (last + 1 >= p.instrs.size()) return std::nullopt;
  const Instr& r = p.instrs[last + 1];
  const std::optional<reduce_detail::ReductionStep> step = reduce_detail::reduction_step(*r.prim);
  if (!step || r.in.size() != 1 || r.in[0] < 0 || r.out.size() != 1 || r.out[0] < 0) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(p.shapes[static_cast<size_t>(r.in[0])].size());
  const bool last_dim = step->dims.size() == 1 && (step->dims[0] == -1 || step->dims[0] == rank - 1);
  const bool whole_vector = rank == 1 && (step->dims.empty() || last_dim);
  if (rank == 0 || !(last_dim || whole_vector)) return std::nullopt;
  const compile_detail::FusedOp reduction{r.prim, r.in, r.out[0]};
  return compile_detail::FusedKernel::make(fused_ops(p, first, last), p.dtypes, run_outputs(p, first, last, last + 2),
                                           &reduction);
}

// Runs of consecutive elementwise instructions with one output shape become fused kernels: each
// run is grown while its kernel can take the next instruction (Note [Fused kernels]), then folded
// into a reduction that follows it when it can be, and kept when some value of it never has to
// exist at full size.
void plan_groups(Program& p) {
  p.groups.clear();
  p.fused_ops = 0;
  size_t i = 0;
  while (i < p.instrs.size()) {
    Dims shape;
    if (!fusable(p, p.instrs[i], &shape) || shape.size() == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    std::optional<compile_detail::FusedKernel> kernel = fused_kernel(p, i, i);
    Dims next;
    while (kernel && j + 1 < p.instrs.size() && fusable(p, p.instrs[j + 1], &next) && next == shape) {
      auto grown = fused_kernel(p, i, j + 1);
      if (!grown) break;
      kernel = std::move(grown);
      ++j;
    }
    if (auto folded = fused_reduction(p, i, j)) {
      p.groups.push_back({i, j + 1, std::move(*folded)});
      p.fused_ops += static_cast<int64_t>(j - i + 2);
      i = j + 2;
      continue;
    }
    if (kernel && j > i && run_outputs(p, i, j, j + 1).size() < j - i + 1) {
      p.groups.push_back({i, j, std::move(*kernel)});
      p.fused_ops += static_cast<int64_t>(j - i + 1);
    }
    i = j + 1;
  }
}

// ---- replay -----------------------------------------------------------------------------------

void plan_releases(Program& p) {
  std::vector<int> last(p.shapes.size(), -1);
  for (size_t k = 0; k < p.instrs.size(); ++k)
    for (int id : p.instrs[k].in)
      if (id >= 0) last[static_cast<size_t>(id)] = static_cast<int>(k);
  for (int id : p.outputs)
    if (id >= 0) last[static_cast<size_t>(id)] = -1;  // handed back
  p.release_after.assign(p.instrs.size(), {});
  for (size_t id = 0; id < last.size(); ++id)
    if (last[id] >= 0) p.release_after[static_cast<size_t>(last[id])].push_back(static_cast<int>(id));
}

void release(const Program& p, size_t first, size_t last, std::vector<Tensor>& v) {
  for (size_t k = first; k <= last && k < p.release_after.size(); ++k)
    for (int id : p.release_after[k]) v[static_cast<size_t>(id)] = Tensor();
}

Tensors eval_instr(const Instr& instr, const std::vector<Tensor>& v) {
  Tensors ins;
  ins.reserve(instr.in.size());
  for (int id : instr.in) ins.push_back(id < 0 ? Tensor() : v[static_cast<size_t>(id)]);
  return instr.prim->eval(ins);
}

void store(const Instr& instr, Tensors outs, std::vector<Tensor>& v) {
  RICCI_CHECK(outs.size() == instr.out.size(), Error, "[compile] ", instr.prim->name(), " returned ", outs.size(),
              " outputs on replay but ", instr.out.size(), " when traced (a bug in the op's primitive)");
  for (size_t j = 0; j < outs.size(); ++j)
    if (instr.out[j] >= 0) v[static_cast<size_t>(instr.out[j])] = std::move(outs[j]);
}

Tensors replay(const Program& p, const Tensors& xs, bool fuse) {
  std::vector<Tensor> v(p.shapes.size());
  for (size_t i = 0; i < xs.size(); ++i) v[i] = xs[i];
  for (size_t i = 0; i < p.constants.size(); ++i)
    if (p.constants[i].defined()) v[i] = p.constants[i];
  size_t g = 0;
  for (size_t k = 0; k < p.instrs.size(); ++k) {
    if (fuse && g < p.groups.size() && p.groups[g].first == k && p.groups[g].kernel.run(v, p.generate_code)) {
      release(p, k, p.groups[g].last, v);
      k = p.groups[g].last;
      ++g;
      continue;
    }
    while (g < p.groups.size() && p.groups[g].last < k) ++g;
    store(p.instrs[k], eval_instr(p.instrs[k], v), v);
    release(p, k, k, v);
  }
  Tensors outs;
  for (int id : p.outputs) {
    Tensor o = id < 0 ? Tensor() : v[static_cast<size_t>(id)];
    // f returned one of its inputs: hand back that tensor, as f itself would.
    outs.push_back(std::move(o));
  }
  return outs;
}

// ---- the compiled function ----------------------------------------------------------------------

// The cache key: the input count, then per input its dtype, device and shape (its rank when
// shapeless); -1 for an undefined input. A flat vector of integers: cheap to build and compare,
// which is most of what a cached call on small inputs costs.
using Signature = std::vector<int64_t>;
Signature signature(const Tensors& xs, bool shapeless) {
  Signature key;
  key.reserve(1 + 4 * xs.size());
  key.push_back(static_cast<int64_t>(xs.size()));
  // Grad mode decides which ops record history in the trace (Note [Gradients inside a trace]).
  key.push_back(autograd::is_grad_enabled() ? 1 : 0);
  for (const Tensor& x : xs) {
    if (!x.defined()) {
      key.push_back(-1);
      continue;
    }
    key.push_back(static_cast<int64_t>(x.dtype()));
    key.push_back(static_cast<int64_t>(x.device().type) * 1024 + x.device().index);
    key.push_back(x.dim());
    if (!shapeless)
      for (int64_t d : x.shape()) key.push_back(d);
  }
  return key;
}

bool needs_grad(const Program& p, const Tensors& xs) {
  if (!autograd::is_grad_enabled()) return false;
  for (const Tensor& x : xs)
    if (x.defined() && x.requires_grad()) return true;
  for (const Tensor& c : p.constants)
    if (c.defined() && c.requires_grad()) return true;
  return false;
}

// A compiled program as one lazy primitive: evaluated, it replays fused; inferring its outputs'
// shapes (meta mode, no bytes) replays it op by op.
struct CompiledCall {
  std::shared_ptr<const Program> program;
  bool operator==(const CompiledCall&) const = default;
};

Tensors eval_compiled(const Tensors& xs, const CompiledCall& c) {
  return replay(*c.program, xs, !lazy::detail::in_meta() && !needs_grad(*c.program, xs));
}

struct CompiledState {
  TensorFn f;
  CompileOptions options;
  std::mutex mutex;
  std::map<Signature, std::shared_ptr<Program>> cache;  // null program: f cannot be traced
  CompileStats last;
  std::shared_ptr<Program> last_program;
};

// ---- drawing ------------------------------------------------------------------------------------

std::string describe_value(const Program& p, int id) {
  std::ostringstream os;
  if (static_cast<size_t>(id) < p.n_inputs) os << "input " << id;
  else if (p.constants[static_cast<size_t>(id)].defined()) os << "captured";
  else os << "v" << id;
  os << "\\n" << p.shapes[static_cast<size_t>(id)] << ' ' << p.dtypes[static_cast<size_t>(id)];
  return os.str();
}

// "mul 0.5", "add 1": an elementwise op with its scalar operand, else the primitive's description.
std::string describe_instr(const Instr& instr) {
  std::ostringstream os;
  os << instr.prim->describe();
  if (const auto e = ew::binary_step(*instr.prim)) {
    if (e->sa) os << ' ' << e->sa->to_double() << " (left)";
    if (e->sb) os << ' ' << e->sb->to_double();
  }
  return os.str();
}

std::string program_dot(const Program& p, bool traced) {
  const std::vector<Instr>& instrs = traced ? p.traced : p.instrs;
  const std::vector<int>& outputs = traced ? p.traced_outputs : p.outputs;
  std::ostringstream os;
  os << "digraph compiled {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  std::vector<bool> drawn(p.shapes.size(), false);
  // A value made inside a fused kernel and not written out exists only chunk by chunk: dotted.
  auto value = [&](int id, bool internal) {
    if (id < 0 || drawn[static_cast<size_t>(id)]) return;
    drawn[static_cast<size_t>(id)] = true;
    os << "  v" << id << " [shape=ellipse" << (internal ? ", style=dotted" : "") << ", label=\"" << describe_value(p, id)
       << "\"];\n";
  };
  auto instr_node = [&](size_t k) {
    os << "  i" << k << " [shape=box, style=filled, fillcolor=\"#dde8f6\", label=\"" << describe_instr(instrs[k]) << "\"];\n";
  };
  size_t g = 0;
  for (size_t k = 0; k < instrs.size(); ++k) {
    if (!traced && g < p.groups.size() && p.groups[g].first == k) {
      const Group& grp = p.groups[g];
      const std::vector<int>& written = grp.kernel.outputs();
      os << "  subgraph cluster_" << g << " {\n  label=\"fused kernel " << g << "\"; style=dashed;\n";
      for (; k <= grp.last; ++k) {
        instr_node(k);
        const int out = instrs[k].out[0];
        const bool kept = k == grp.last || std::find(written.begin(), written.end(), out) != written.end();
        if (!kept) value(out, true);
      }
      os << "  }\n";
      --k;
      ++g;
      continue;
    }
    instr_node(k);
  }
  for (size_t k = 0; k < instrs.size(); ++k) {
    for (int id : instrs[k].in) {
      if (id < 0) continue;
      value(id, false);
      os << "  v" << id << " -> i" << k << ";\n";
    }
    for (int id : instrs[k].out) {
      if (id < 0) continue;
      value(id, false);
      os << "  i" << k << " -> v" << id << ";\n";
    }
  }
  for (size_t j = 0; j < outputs.size(); ++j) {
    if (outputs[j] < 0) continue;
    value(outputs[j], false);
    os << "  out" << j << " [shape=plaintext, label=\"output " << j << "\"];\n  v" << outputs[j] << " -> out" << j << ";\n";
  }
  os << "}\n";
  return os.str();
}

struct CompiledFunctor {
  std::shared_ptr<CompiledState> state;

  Tensors operator()(const Tensors& xs) const {
    CompiledState& st = *state;
    const Signature key = signature(xs, st.options.shapeless);
    std::shared_ptr<Program> program;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(st.mutex);
      if (auto it = st.cache.find(key); it != st.cache.end()) {
        program = it->second;
        known = true;
      }
    }
    if (!known) {
      std::string why;
      try {
        program = trace(st.f, xs);
        if (st.options.stable_rewrites) {
          rewrite_one_plus_tanh(*program);
          rewrite_power_of_two_scalings(*program);
        }
        simplify(*program);
        if (st.options.fuse) plan_groups(*program);
        plan_releases(*program);
        program->generate_code = st.options.generate_code.value_or(compile_detail::codegen_by_default());
      } catch (const lazy::detail::TraceFailed& e) {
        program = nullptr;  // f runs as it is, every call
        why = e.why;
      }
      std::lock_guard<std::mutex> lock(st.mutex);
      st.cache[key] = program;
      st.last.traces = static_cast<int64_t>(st.cache.size());
      st.last.traceable = program != nullptr;
      st.last.untraceable_reason = why;
      st.last.traced_ops = program ? program->traced_ops : 0;
      st.last.ops = program ? static_cast<int64_t>(program->instrs.size()) : 0;
      st.last.fused_groups = program ? static_cast<int64_t>(program->groups.size()) : 0;
      st.last.fused_ops = program ? program->fused_ops : 0;
      st.last_program = program;
    }
    if (!program) return st.f(xs);
    bool plain = !needs_grad(*program, xs) && !lazy::detail::tl_state.tracing;
    std::optional<NoGradGuard> no_grad;
    if (program->differentiates && !plain) {
      // The program holds a backward pass as it ran, without a graph of its own: differentiating
      // it again (an outer grad, jvp, vmap's trace) needs f itself. Otherwise — its outputs had
      // no history (value_and_grad detaches them) and no input asks for one — nobody can
      // differentiate what it returns, and it runs without recording any (the captured weights
      // that require grad would otherwise make every op record a node).
      bool input_requires_grad = false;
      for (const Tensor& x : xs) input_requires_grad = input_requires_grad || (x.defined() && x.requires_grad());
      if (lazy::detail::tl_state.tracing || program->outputs_have_history || input_requires_grad) return st.f(xs);
      plain = true;
      no_grad.emplace();
    }
    // In lazy mode the whole program is one pending primitive, evaluated (fused) when its
    // outputs are: MLX's compile-under-eval.
    if (plain && st.options.fuse && is_lazy())
      return lazy::record_op<CompiledCall>("compiled", eval_compiled, CompiledCall{program}, xs);
    return replay(*program, xs, plain && st.options.fuse && !is_lazy());
  }
};

}  // namespace

TensorFn compile(TensorFn f, CompileOptions options) {
  auto state = std::make_shared<CompiledState>();
  state->f = std::move(f);
  state->options = options;
  return CompiledFunctor{std::move(state)};
}

std::string compile_dot(const TensorFn& compiled, bool traced) {
  const auto* c = compiled.target<CompiledFunctor>();
  RICCI_CHECK(c != nullptr, ValueError, "[compile_dot] this function was not made by compile()");
  std::lock_guard<std::mutex> lock(c->state->mutex);
  RICCI_CHECK(c->state->last_program != nullptr, ValueError,
              "[compile_dot] nothing to draw: call the compiled function first (with inputs it can trace; "
              "compile_stats(fn).traceable says whether the last signature could be)");
  return program_dot(*c->state->last_program, traced);
}

CompileStats compile_stats(const TensorFn& compiled) {
  const auto* c = compiled.target<CompiledFunctor>();
  RICCI_CHECK(c != nullptr, ValueError, "[compile_stats] this function was not made by compile()");
  std::lock_guard<std::mutex> lock(c->state->mutex);
  CompileStats st = c->state->last;
  // Kernels are generated at their first run, after the trace: counted now.
  if (const Program* p = c->state->last_program.get()) {
    for (const Group& g : p->groups) {
      st.generated_kernels += g.kernel.generated_count() > 0;
      if (std::string why = g.kernel.codegen_failure(); !why.empty()) st.codegen_failure = why;
    }
  }
  return st;
}

}  // namespace ricci
