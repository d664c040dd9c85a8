// Note [Fused kernels]
// ~~~~~~~~~~~~~~~~~~~~
// A fused kernel runs a run of elementwise primitives as one pass: the output shape is walked in
// chunks of a few thousand elements (the strided loop of every elementwise kernel, split over the
// thread pool), and for each chunk every op of the run executes on chunk-sized buffers that stay
// in the L1/L2 cache. Each input is read once (straight from its memory when it is contiguous in
// the compute dtype, converted into a buffer otherwise, one value when it is broadcast along the
// chunk) and each wanted value is written once; no intermediate exists at full size.
//
// The ops are not re-implemented: each step calls the op's own vector loop (the Highway loops the
// eager kernels take for contiguous float32/float64 runs) and, for ops without one, the op's eager
// kernel on the chunk, so a fused float32 chain gives the values eager gives on contiguous inputs.
// The run computes in float32 (float64 when one of its values is float64): float16/bfloat16
// intermediates are not rounded to their dtype between ops, which makes fused results at least as
// accurate as eager ones.
//
// This is an interpreter over register-sized chunks rather than generated code (docs/compile.md,
// "Why an interpreter"): its per-step cost is one indirect call per chunk, under 5 % of a step
// on 1,024 float32 values, and it needs no compiler at run time.
#include "compile/fused_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "backend/cpu/elementwise_loops.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/reduce_engine.h"
#include "backend/cpu/reduce_hwy.h"
#include "compile/codegen.h"
#include "ricci/parallel.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"

namespace ricci::compile_detail {

namespace {

bool is_float(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

template <class C> constexpr int64_t kChunk = 4096 / sizeof(C);

// Chunk-sized buffers, one set per thread (the pass runs on the thread pool).
template <class C>
C* scratch(int slots) {
  thread_local std::vector<C> buf;
  const size_t need = static_cast<size_t>(slots) * static_cast<size_t>(kChunk<C>);
  if (buf.size() < need) buf.resize(need);
  return buf.data();
}

// Conversions as every kernel does them (cpu::cast: through float for the 16-bit floats, != 0
// into bool).
template <class C, class T>
void load_strided(const char* p, int64_t stride, int64_t n, C* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = cpu::cast<C>(*reinterpret_cast<const T*>(p + i * stride));
}

template <class C, class T>
void store_strided(const C* in, char* p, int64_t stride, int64_t n) {
  for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p + i * stride) = cpu::cast<T>(in[i]);
}

// n values of an input of dtype t at p (byte stride) as C, into out.
template <class C>
void load(DType t, const char* p, int64_t stride, int64_t n, C* out) {
  if constexpr (std::is_same_v<C, float>) {
    if (t == DType::Float16 && stride == 2) return cpu::ew_detail::widen(reinterpret_cast<const Half*>(p), out, n);
    if (t == DType::BFloat16 && stride == 2) return cpu::ew_detail::widen(reinterpret_cast<const BFloat16*>(p), out, n);
  }
  switch (t) {
    case DType::Bool: return load_strided<C, bool>(p, stride, n, out);
    case DType::Float32: return load_strided<C, float>(p, stride, n, out);
    case DType::Float64: return load_strided<C, double>(p, stride, n, out);
    case DType::Float16: return load_strided<C, Half>(p, stride, n, out);
    default: return load_strided<C, BFloat16>(p, stride, n, out);
  }
}

template <class C>
void store(DType t, const C* in, char* p, int64_t stride, int64_t n) {
  if (t == dtype_of<C>() && stride == static_cast<int64_t>(sizeof(C))) {
    std::memcpy(p, in, static_cast<size_t>(n) * sizeof(C));
    return;
  }
  if constexpr (std::is_same_v<C, float>) {
    if (t == DType::Float16 && stride == 2) return cpu::ew_detail::narrow(in, reinterpret_cast<Half*>(p), n);
    if (t == DType::BFloat16 && stride == 2) return cpu::ew_detail::narrow(in, reinterpret_cast<BFloat16*>(p), n);
  }
  switch (t) {
    case DType::Bool: return store_strided<C, bool>(in, p, stride, n);
    case DType::Float32: return store_strided<C, float>(in, p, stride, n);
    case DType::Float64: return store_strided<C, double>(in, p, stride, n);
    case DType::Float16: return store_strided<C, Half>(in, p, stride, n);
    default: return store_strided<C, BFloat16>(in, p, stride, n);
  }
}

// A comparison or logical op (the eager kernels' table, with_predicate): 1 or 0.
template <class C>
void run_predicate(ew::BinaryOp op, const C* a, const C* b, C* out, int64_t n, int mode) {
  const int64_t sa = mode == 2 ? 0 : 1, sb = mode == 1 ? 0 : 1;
  cpu::ew_detail::with_predicate<C>(op, [&](auto f) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]) ? C(1) : C(0);
  });
}

// where(cond, a, b); an operand marked uniform is one value.
template <class C>
void run_where(const C* cond, bool uc, const C* a, bool ua, const C* b, bool ub, C* out, int64_t n) {
  const int64_t sc = uc ? 0 : 1, sa = ua ? 0 : 1, sb = ub ? 0 : 1;
  for (int64_t i = 0; i < n; ++i) out[i] = cond[i * sc] != C(0) ? a[i * sa] : b[i * sb];
}

// One step on n values: the op's vector loop, else its eager kernel on the chunk. `mode` as in
// the vector loops: 0 both operands have n values, 1 b is one value, 2 a is one value.
template <class C>
void run_step(const FusedKernel::Step& s, const C* a, const C* b, C* out, int64_t n, int mode) {
  if (s.op.arity == 1) {
    bool done;
    if constexpr (std::is_same_v<C, float>) done = cpu::hwy_unary_f32(s.op.uop, a, out, n, s.op.up);
    else done = cpu::hwy_unary_f64(s.op.uop, a, out, n, s.op.up);
    if (done) return;
    const DType t = dtype_of<C>();
    Tensor x = from_blob(const_cast<C*>(a), {n}, {1}, t), o = from_blob(out, {n}, {1}, t);
    reinterpret_cast<ew::UnaryKernel>(s.kernel)(s.op.uop, o, x, s.op.up);
    return;
  }
  if (s.op.is_predicate()) return run_predicate<C>(s.op.bop, a, b, out, n, mode);
  const double alpha = s.op.alpha.to_double();
  bool done;
  if constexpr (std::is_same_v<C, float>) done = cpu::hwy_binary_f32(s.op.bop, a, b, out, n, mode, static_cast<float>(alpha));
  else done = cpu::hwy_binary_f64(s.op.bop, a, b, out, n, mode, alpha);
  if (done) return;
  const DType t = dtype_of<C>();
  Tensor x = from_blob(const_cast<C*>(a), {n}, {mode == 2 ? 0 : 1}, t);
  Tensor y = from_blob(const_cast<C*>(b), {n}, {mode == 1 ? 0 : 1}, t);
  Tensor o = from_blob(out, {n}, {1}, t);
  reinterpret_cast<ew::BinaryKernel>(s.kernel)(s.op.bop, o, x, y, s.op.alpha);
}

}  // namespace

struct FusedKernel::Generated {
  std::mutex mutex;
  std::vector<std::pair<std::vector<char>, GeneratedKernel>> by_layout;  // nullptr: not generated
  std::string failure;
};

int64_t FusedKernel::generated_count() const {
  if (!generated_) return 0;
  std::lock_guard<std::mutex> lock(generated_->mutex);
  int64_t n = 0;
  for (const auto& [layout, k] : generated_->by_layout) n += k != nullptr;
  return n;
}

std::string FusedKernel::codegen_failure() const {
  if (!generated_) return "";
  std::lock_guard<std::mutex> lock(generated_->mutex);
  return generated_->failure;
}

std::optional<FusedKernel> FusedKernel::make(const std::vector<FusedOp>& ops, const std::vector<DType>& dtypes,
                                             const std::vector<int>& wanted, const FusedOp* reduction) {
  FusedKernel k;
  std::vector<std::optional<ew::ElementwiseStep>> parsed;
  std::vector<int> produced;
  bool any_double = false;
  auto floating = [&](int id) {
    if (id < 0) return true;
    const DType t = dtypes[static_cast<size_t>(id)];
    any_double = any_double || t == DType::Float64;
    return is_float(t);
  };
  // Values are floating point, or bool (a comparison's result, a where's condition: 0 or 1 in
  // the compute dtype, as eager promotes a bool operand).
  auto floating_or_bool = [&](int id) { return floating(id) || dtypes[static_cast<size_t>(id)] == DType::Bool; };
  for (const FusedOp& op : ops) {
    parsed.push_back(ew::elementwise_step(*op.prim));
    if (!parsed.back() || op.out < 0) return std::nullopt;
    const bool bool_out = dtypes[static_cast<size_t>(op.out)] == DType::Bool;
    if (parsed.back()->is_predicate() ? !bool_out : !floating(op.out)) return std::nullopt;
    for (int id : op.in)
      if (id >= 0 && !floating_or_bool(id)) return std::nullopt;
    produced.push_back(op.out);
  }
  k.compute_ = any_double ? DType::Float64 : DType::Float32;
  auto is_produced = [&](int id) { return std::find(produced.begin(), produced.end(), id) != produced.end(); };
  for (const FusedOp& op : ops)
    for (int id : op.in)
      if (id >= 0 && !is_produced(id) && std::find(k.inputs_.begin(), k.inputs_.end(), id) == k.inputs_.end())
        k.inputs_.push_back(id);
  for (int id : wanted) k.outputs_.push_back(id);
  std::optional<reduce_detail::ReductionStep> rstep;
  if (reduction) {
    rstep = reduce_detail::reduction_step(*reduction->prim);
    if (!rstep || reduction->in.size() != 1 || !is_produced(reduction->in[0]) || reduction->out < 0 ||
        !floating(reduction->out))
      return std::nullopt;
  }
  if (k.inputs_.size() + k.outputs_.size() > static_cast<size_t>(cpu::kMaxOperands) ||
      (k.outputs_.empty() && !reduction) || k.inputs_.empty())
    return std::nullopt;

  // Slots: the inputs first, then the scalar operands, then the ops' results, a slot reused once
  // the value in it has been read for the last time (and is not an output).
  std::vector<int> slot_of_value(dtypes.size(), -1);
  int next = 0;
  for (int id : k.inputs_) slot_of_value[static_cast<size_t>(id)] = next++;
  std::vector<int> last_use(dtypes.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i)
    for (int id : ops[i].in)
      if (id >= 0) last_use[static_cast<size_t>(id)] = static_cast<int>(i);
  for (int id : k.outputs_) last_use[static_cast<size_t>(id)] = static_cast<int>(ops.size());
  if (reduction) last_use[static_cast<size_t>(reduction->in[0])] = static_cast<int>(ops.size());
  std::vector<int> free_slots;
  for (size_t i = 0; i < ops.size(); ++i) {
    const ew::ElementwiseStep& e = *parsed[i];
    Step s;
    s.op = e;
    if (e.uses_kernel()) {
      s.kernel = kernels::kernel_table().find(e.kernel, DeviceType::CPU, k.compute_);
      if (!s.kernel) return std::nullopt;
    }
    auto operand = [&](int pos, const std::optional<Scalar>& scalar) {
      if (scalar) {
        k.constants_.emplace_back(next, scalar->to_double());
        return next++;
      }
      const int id = ops[i].in[static_cast<size_t>(pos)];
      return id < 0 ? -1 : slot_of_value[static_cast<size_t>(id)];
    };
    if (e.arity == 3) {  // where(cond, a, b)
      s.a = operand(0, std::nullopt);
      s.b = operand(1, e.sa);
      s.c = operand(2, e.sb);
    } else {
      s.a = operand(0, e.arity == 2 ? e.sa : std::nullopt);
      if (e.arity == 2) s.b = operand(1, e.sb);
    }
    if (s.a < 0 || (e.arity >= 2 && s.b < 0) || (e.arity == 3 && s.c < 0)) return std::nullopt;
    // The result's slot is taken before the operands' are freed: a step never writes what it reads.
    if (free_slots.empty()) {
      s.out = next++;
    } else {
      s.out = free_slots.back();
      free_slots.pop_back();
    }
    slot_of_value[static_cast<size_t>(ops[i].out)] = s.out;
    for (int id : ops[i].in) {
      if (id < 0 || last_use[static_cast<size_t>(id)] != static_cast<int>(i) || !is_produced(id)) continue;
      const int slot = slot_of_value[static_cast<size_t>(id)];
      if (std::find(free_slots.begin(), free_slots.end(), slot) == free_slots.end()) free_slots.push_back(slot);
    }
    if (last_use[static_cast<size_t>(ops[i].out)] < 0) free_slots.push_back(s.out);  // never read
    k.steps_.push_back(s);
  }
  for (size_t j = 0; j < k.outputs_.size(); ++j) {
    const int id = k.outputs_[j];
    k.output_slots_.push_back(slot_of_value[static_cast<size_t>(id)]);
    k.output_dtypes_.push_back(dtypes[static_cast<size_t>(id)]);
    for (size_t i = 0; i < ops.size(); ++i)
      if (ops[i].out == id) k.steps_[i].output = static_cast<int>(j);
  }
  if (reduction) {
    const int r = reduction->in[0];
    k.reduction_ = Epilogue{rstep->kind, slot_of_value[static_cast<size_t>(r)], reduction->out,
                            dtypes[static_cast<size_t>(reduction->out)], rstep->keepdim};
  }
  k.slots_ = next;
  k.generated_ = std::make_shared<Generated>();
  return k;
}

namespace {

// A row's reduction so far: the sum in float64 (Note [Accurate float sums]), or the extremum with
// NaN propagating.
struct Accumulator {
  double value = 0;
  bool any = false;
};

template <class C>
double chunk_sum(const C* p, int64_t n) {
  if constexpr (std::is_same_v<C, float>) {
    return cpu::reduce::sum_contiguous_f32(p, n);
  } else {
    double a[4] = {};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) a[k] += p[i + k];
    double t = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < n; ++i) t += p[i];
    return t;
  }
}

template <class C>
double chunk_extremum(const C* p, int64_t n, bool is_max) {
  if constexpr (std::is_same_v<C, float>) {
    return cpu::reduce::extremum_f32(p, n, is_max);
  } else {
    double r = p[0];
    for (int64_t i = 0; i < n && !std::isnan(r); ++i) r = std::isnan(p[i]) ? p[i] : is_max ? std::max(r, p[i]) : std::min(r, p[i]);
    return r;
  }
}

// Folds m values of a row (one chunk; `uniform`: all equal to p[0]) into its reduction so far:
// the interpreter and generated code both reduce through here, chunk by chunk, so their sums are
// the same.
template <class C>
void accumulate(Accumulator& acc, reduce_detail::ReductionStep::Kind kind, const C* p, int64_t m, bool uniform) {
  using Kind = reduce_detail::ReductionStep::Kind;
  const bool is_sum = kind == Kind::Sum || kind == Kind::Mean;
  const bool is_max = kind == Kind::Max;
  const double v = is_sum ? (uniform ? static_cast<double>(p[0]) * static_cast<double>(m) : chunk_sum(p, m))
                          : chunk_extremum(p, uniform ? 1 : m, is_max);
  if (is_sum) {
    acc.value += v;
  } else if (!acc.any || std::isnan(v) || std::isnan(acc.value)) {
    acc.value = !acc.any || std::isnan(v) ? v : acc.value;
  } else {
    acc.value = is_max ? std::max(acc.value, v) : std::min(acc.value, v);
  }
  acc.any = true;
}

}  // namespace

namespace {

// The innermost stride (bytes) of each operand in the loop for_each_strided makes over them.
std::vector<int64_t> inner_strides(const std::vector<Tensor>& operands) {
  const int64_t n = operands.front().numel();
  std::vector<int64_t> inner;
  if (std::all_of(operands.begin(), operands.end(), [n](const Tensor& t) { return t.is_contiguous() && t.numel() == n; })) {
    for (const Tensor& t : operands) inner.push_back(static_cast<int64_t>(t.element_size()));
    return inner;
  }
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : operands) ptrs.push_back(&t);
  const cpu::LoopLayout L = cpu::make_loop_layout(ptrs.data(), static_cast<int>(ptrs.size()));
  for (size_t k = 0; k < operands.size(); ++k) inner.push_back(L.ndim == 0 ? 0 : L.strides[k][static_cast<size_t>(L.ndim - 1)]);
  return inner;
}

void host_unary_f32(int op, const float* in, float* out, int64_t n, const void* params) {
  cpu::hwy_unary_f32(static_cast<ew::UnaryOp>(op), in, out, n, *static_cast<const ew::UnaryParams*>(params));
}
void host_unary_f64(int op, const double* in, double* out, int64_t n, const void* params) {
  cpu::hwy_unary_f64(static_cast<ew::UnaryOp>(op), in, out, n, *static_cast<const ew::UnaryParams*>(params));
}

}  // namespace

// The generated kernel for these operands' layout, made on first use (nullptr: the interpreter).
GeneratedKernel FusedKernel::generated_for(const std::vector<Tensor>& operands, const std::vector<int64_t>& inner,
                                           bool write_reduced) const {
  const size_t n_out = outputs_.size();
  const int64_t es = static_cast<int64_t>(element_size(compute_));
  std::vector<char> uniform;
  for (size_t k = 0; k < operands.size(); ++k) {
    const bool out = k < n_out;
    if (inner[k] != es && (out || inner[k] != 0)) return nullptr;
    if (operands[k].dtype() != compute_) return nullptr;
    if (!out) uniform.push_back(inner[k] == 0);
  }
  std::vector<char> key = uniform;
  if (write_reduced) key.push_back(2);  // another kernel than the one without the row
  std::lock_guard<std::mutex> lock(generated_->mutex);
  for (const auto& [layout, k] : generated_->by_layout)
    if (layout == key) return k;
  if (codegen_isa_flags().empty()) {
    generated_->failure = "generated code needs AVX2 (this CPU, or RICCI_CPU_ISA, is below it)";
    generated_->by_layout.emplace_back(key, nullptr);
    return nullptr;
  }
  GeneratedKernel k = nullptr;
  if (std::optional<std::string> src = generated_source(uniform, write_reduced)) {
    std::string why;
    k = load_generated_kernel(*src, &why);
    if (!k) generated_->failure = why;
  }
  generated_->by_layout.emplace_back(key, k);
  return k;
}

template <class C>
void FusedKernel::run_pass(const std::vector<Tensor>& operands, const Tensor* reduced, bool generate_code) const {
  using Kind = reduce_detail::ReductionStep::Kind;
  const size_t n_out = output_slots_.size();
  const size_t n_in = inputs_.size();
  std::vector<DType> in_dtypes;
  for (size_t j = 0; j < n_in; ++j) in_dtypes.push_back(operands[n_out + j].dtype());
  // One run of n elements along the innermost dim; with a reduction, the run is one row and its
  // chunks are reduced into acc.
  auto body = [&](char* const* ptrs, const int64_t* st, int64_t n, Accumulator* acc) {
    C* buf = scratch<C>(slots_);
    auto slot_buf = [&](int s) { return buf + static_cast<int64_t>(s) * kChunk<C>; };
    // Per-slot state, per thread: this body runs once per row or run, which may be short.
    thread_local std::vector<const C*> src;
    thread_local std::vector<char> uniform, written;
    src.assign(static_cast<size_t>(slots_), nullptr);
    uniform.assign(static_cast<size_t>(slots_), 0);
    written.assign(n_out, 0);
    for (const auto& [s, v] : constants_) {
      slot_buf(s)[0] = static_cast<C>(v);
      src[static_cast<size_t>(s)] = slot_buf(s);
      uniform[static_cast<size_t>(s)] = 1;
    }
    for (int64_t i0 = 0; i0 < n; i0 += kChunk<C>) {
      const int64_t m = std::min(kChunk<C>, n - i0);
      for (size_t j = 0; j < n_in; ++j) {
        const size_t op = n_out + j;
        const int s = static_cast<int>(j);
        const char* p = ptrs[op] + i0 * st[op];
        if (st[op] == 0) {
          load<C>(in_dtypes[j], p, 0, 1, slot_buf(s));
          src[j] = slot_buf(s);
          uniform[j] = 1;
        } else if (in_dtypes[j] == dtype_of<C>() && st[op] == static_cast<int64_t>(sizeof(C))) {
          src[j] = reinterpret_cast<const C*>(p);  // read in place
          uniform[j] = 0;
        } else {
          load<C>(in_dtypes[j], p, st[op], m, slot_buf(s));
          src[j] = slot_buf(s);
          uniform[j] = 0;
        }
      }
      std::fill(written.begin(), written.end(), 0);
      for (const Step& s : steps_) {
        const size_t a = static_cast<size_t>(s.a);
        const size_t b = s.op.arity >= 2 ? static_cast<size_t>(s.b) : a;
        const size_t c = s.op.arity == 3 ? static_cast<size_t>(s.c) : a;
        const bool one = uniform[a] && uniform[b] && uniform[c];
        // An output contiguous in the compute dtype is written in place by the step that makes it.
        C* out = slot_buf(s.out);
        if (s.output >= 0 && !one && output_dtypes_[static_cast<size_t>(s.output)] == dtype_of<C>() &&
            st[s.output] == static_cast<int64_t>(sizeof(C))) {
          out = reinterpret_cast<C*>(ptrs[s.output] + i0 * st[s.output]);
          written[static_cast<size_t>(s.output)] = 1;
        }
        if (s.op.arity == 1) {
          run_step<C>(s, src[a], nullptr, out, one ? 1 : m, 0);
        } else if (s.op.arity == 3) {
          run_where<C>(src[a], uniform[a], src[b], uniform[b], src[c], uniform[c], out, one ? 1 : m);
        } else {
          const int mode = uniform[a] == uniform[b] ? 0 : (uniform[b] ? 1 : 2);
          run_step<C>(s, src[a], src[b], out, one ? 1 : m, mode);
        }
        uniform[static_cast<size_t>(s.out)] = one;
        src[static_cast<size_t>(s.out)] = out;
      }
      for (size_t j = 0; j < n_out; ++j) {
        if (written[j]) continue;
        const size_t s = static_cast<size_t>(output_slots_[j]);
        char* p = ptrs[j] + i0 * st[j];
        if (uniform[s]) {  // every value of the chunk is the same: spread it, then store
          C* b = slot_buf(static_cast<int>(s));
          const C v = src[s][0];
          std::fill(b, b + m, v);
          store<C>(output_dtypes_[j], b, p, st[j], m);
          src[s] = b;
        } else {
          store<C>(output_dtypes_[j], src[s], p, st[j], m);
        }
      }
      if (acc) {
        const size_t s = static_cast<size_t>(reduction_->slot);
        accumulate(*acc, reduction_->kind, src[s], m, uniform[s] != 0);
      }
    }
  };
  if (!reduction_) {
    GeneratedKernel generated = nullptr;
    std::vector<int64_t> inner;
    std::vector<const void*> params;
    if (generate_code && operands.front().numel() > 0) {
      inner = inner_strides(operands);
      generated = generated_for(operands, inner);
      for (const Step& s : steps_) params.push_back(&s.op.up);
    }
    const JitHost host{host_unary_f32, host_unary_f64, params.data()};
    auto run = [&](char* const* ptrs, const int64_t* st, int64_t n) {
      if (generated && std::equal(inner.begin(), inner.end(), st)) return generated(ptrs, n, &host);
      body(ptrs, st, n, nullptr);
    };
    std::vector<const Tensor*> ptrs;
    for (const Tensor& t : operands) ptrs.push_back(&t);
    switch (ptrs.size()) {
#define RICCI_FUSED_CASE(N, ...) \
  case N: return cpu::for_each_strided({__VA_ARGS__}, run);
      RICCI_FUSED_CASE(1, ptrs[0])
      RICCI_FUSED_CASE(2, ptrs[0], ptrs[1])
      RICCI_FUSED_CASE(3, ptrs[0], ptrs[1], ptrs[2])
      RICCI_FUSED_CASE(4, ptrs[0], ptrs[1], ptrs[2], ptrs[3])
      RICCI_FUSED_CASE(5, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4])
      RICCI_FUSED_CASE(6, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5])
      RICCI_FUSED_CASE(7, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6])
      RICCI_FUSED_CASE(8, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6], ptrs[7])
#undef RICCI_FUSED_CASE
      default: RICCI_CHECK(false, Error, "[compile] a fused kernel with ", ptrs.size(), " operands (a bug)");
    }
  }
  // Row by row: each row's runs are reduced into the row's result.
  const Dims shape(operands.front().shape());
  const int64_t len = shape.back();
  const int64_t rows = operands.front().numel() / len;
  const int64_t nd = static_cast<int64_t>(shape.size());
  char* out = static_cast<char*>(reduced->data_ptr());
  const DType out_dtype = reduced->dtype();
  const int64_t n_ops = static_cast<int64_t>(operands.size());
  std::vector<char*> base(operands.size());
  std::vector<int64_t> inner(operands.size());
  for (size_t k = 0; k < operands.size(); ++k) {
    base[k] = static_cast<char*>(operands[k].data_ptr());
    inner[k] = operands[k].stride(-1) * static_cast<int64_t>(operands[k].element_size());
  }
  // Generated code for the run's ops (Note [Generated kernels]) when the reduced value varies
  // along the row: the kernel writes the row — the reduced value's output (softmax's exp, read
  // again by its division), else a row buffer of this thread (the square inside a norm) — and its
  // chunks are reduced from there as the interpreter reduces its own, so the results are the same
  // bit for bit.
  GeneratedKernel generated = nullptr;
  int reduced_output = -1;
  bool write_reduced = false;
  std::vector<const void*> params;
  if (generate_code && rows > 0 && len > 0) {
    for (size_t j = 0; j < output_slots_.size(); ++j)
      if (output_slots_[j] == reduction_->slot && output_dtypes_[j] == dtype_of<C>()) reduced_output = static_cast<int>(j);
    std::vector<char> varies(static_cast<size_t>(slots_), 0);  // not one value along the row
    for (size_t j = 0; j < inputs_.size(); ++j) varies[j] = inner[output_slots_.size() + j] != 0;
    for (const Step& st : steps_) {
      const size_t a = static_cast<size_t>(st.a);
      const size_t b = st.op.arity >= 2 ? static_cast<size_t>(st.b) : a;
      const size_t c = st.op.arity == 3 ? static_cast<size_t>(st.c) : a;
      varies[static_cast<size_t>(st.out)] = varies[a] || varies[b] || varies[c];
    }
    write_reduced = reduced_output < 0;
    if (varies[static_cast<size_t>(reduction_->slot)]) generated = generated_for(operands, inner, write_reduced);
    for (const Step& st : steps_) params.push_back(&st.op.up);
  }
  const JitHost host{host_unary_f32, host_unary_f64, params.data()};
  auto row_body = [&](char* const* ptrs, Accumulator* acc) {
    if (!generated) return body(ptrs, inner.data(), len, acc);
    const C* r = nullptr;
    if (write_reduced) {
      thread_local std::vector<C> row;
      thread_local std::vector<char*> with_row;
      row.resize(static_cast<size_t>(len));
      with_row.assign(ptrs, ptrs + n_out);
      with_row.push_back(reinterpret_cast<char*>(row.data()));
      with_row.insert(with_row.end(), ptrs + n_out, ptrs + operands.size());
      generated(with_row.data(), len, &host);
      r = row.data();
    } else {
      generated(ptrs, len, &host);
      r = reinterpret_cast<const C*>(ptrs[reduced_output]);
    }
    for (int64_t i0 = 0; i0 < len; i0 += kChunk<C>) accumulate(*acc, reduction_->kind, r + i0, std::min(kChunk<C>, len - i0), false);
  };
  auto run_rows = [&](int64_t r0, int64_t r1) {
    std::vector<char*> ptrs(operands.size());
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t k = 0; k < n_ops; ++k) {
        int64_t rest = r, offset = 0;
        for (int64_t d = nd - 2; d >= 0; --d) {
          offset += (rest % shape[static_cast<size_t>(d)]) * operands[static_cast<size_t>(k)].stride(d);
          rest /= shape[static_cast<size_t>(d)];
        }
        ptrs[static_cast<size_t>(k)] = base[static_cast<size_t>(k)] + offset * static_cast<int64_t>(operands[static_cast<size_t>(k)].element_size());
      }
      Accumulator acc;
      row_body(ptrs.data(), &acc);
      const C v = static_cast<C>(reduction_->kind == Kind::Mean ? acc.value / static_cast<double>(len) : acc.value);
      store<C>(out_dtype, &v, out + r * static_cast<int64_t>(reduced->element_size()), 0, 1);
    }
  };
  if (rows * len < kGrainSize || get_num_threads() == 1) return run_rows(0, rows);
  parallel_for(0, rows, std::max<int64_t>(1, kGrainSize / len), run_rows);
}

bool FusedKernel::run(std::vector<Tensor>& values, bool generate_code) const {
  for (int id : inputs_)
    if (values[static_cast<size_t>(id)].device() != kCPU) return false;
  // The shape of every op of the run is the broadcast of the run's inputs (its first op reads
  // only inputs); a shapeless program meets other shapes than the traced one.
  Dims shape;
  for (int id : inputs_) shape = broadcast_shapes(shape, values[static_cast<size_t>(id)].shape(), "compile");
  std::vector<Tensor> operands;
  for (size_t j = 0; j < outputs_.size(); ++j) operands.push_back(empty(shape, TensorOptions(output_dtypes_[j])));
  for (int id : inputs_) {
    const Tensor& t = values[static_cast<size_t>(id)];
    operands.push_back(Dims(t.shape()) == shape ? t : t.expand(shape));
  }
  Tensor reduced;
  if (reduction_) {
    // A row of the reduction needs at least one element (amax of nothing is an error, which
    // the op itself raises when run on its own).
    if (shape.empty() || shape.back() == 0 || operands.front().numel() == 0) return false;
    Dims rshape;
    for (size_t d = 0; d + 1 < shape.size(); ++d) rshape.push_back(shape[d]);
    if (reduction_->keepdim) rshape.push_back(1);
    reduced = empty(rshape, TensorOptions(reduction_->dtype));
  }
  if (compute_ == DType::Float64) {
    run_pass<double>(operands, reduction_ ? &reduced : nullptr, generate_code);
  } else {
    run_pass<float>(operands, reduction_ ? &reduced : nullptr, generate_code);
  }
  for (size_t j = 0; j < outputs_.size(); ++j) values[static_cast<size_t>(outputs_[j])] = operands[j];
  if (reduction_) values[static_cast<size_t>(reduction_->out)] = reduced;
  return true;
}

}  // namespace ricci::compile_detail
