// Random factories and in-place samplers on top of Philox 4x32-10.
//
// Note [Philox streams]: every op reserves the blocks it consumes from its Generator, and block k
// of the op is philox(key = seed, counter = offset + k). An element's value is a pure function of
// (seed, offset, element index), so a parallel fill gives the same tensor for any thread count,
// and another device can reproduce it by running the same function.
#include "ricci/random.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "backend/cpu/nn_kernels.h"
#include "backend/kernel_table.h"
#include "core/tensor_internal.h"
#include "lazy/lazy_detail.h"
#include "lazy/record.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/parallel.h"

namespace ricci {
namespace {

// ---- Philox 4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11) -------
using Block = std::array<uint32_t, 4>;

constexpr Block philox4x32_10(Block c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kM0} * c[0];
    const uint64_t p1 = uint64_t{kM1} * c[2];
    c = {static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k0, static_cast<uint32_t>(p1),
         static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k1, static_cast<uint32_t>(p0)};
    k0 += kW0;
    k1 += kW1;
  }
  return c;
}

// Known-answer vectors from Random123's kat_vectors: a typo in a constant fails the build.
static_assert(philox4x32_10({0, 0, 0, 0}, 0, 0) == Block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
static_assert(philox4x32_10({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u) ==
              Block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
static_assert(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u) ==
              Block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});

// The blocks one op reserved: see Note [Philox streams].
struct Stream {
  uint32_t k0 = 0, k1 = 0;
  uint64_t offset = 0;
  Block block(uint64_t k) const {
    const uint64_t n = offset + k;
    return philox4x32_10({static_cast<uint32_t>(n), static_cast<uint32_t>(n >> 32), 0, 0}, k0, k1);
  }
};

Stream take(Generator* gen, uint64_t nblocks) {
  Generator& g = gen ? *gen : default_generator();
  const uint64_t offset = g.reserve(nblocks);
  // Read after reserve: a manual_seed racing with a draw has no defined order to keep anyway.
  const uint64_t seed = g.initial_seed();
  return {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), offset};
}

uint64_t blocks_for(int64_t n, int64_t per_block) { return static_cast<uint64_t>(n / per_block + (n % per_block != 0)); }

// ---- bits to uniforms ----------------------------------------------------------------------------
// A uniform in [0, 1) with as many random bits as T's significand holds, so the value is exact in
// T and can never round up to 1 (24 bits would round to 1.0 in float16 or bfloat16).
template <class T> constexpr int kUniformBits = std::numeric_limits<T>::digits;
template <> constexpr int kUniformBits<Half> = 11;
template <> constexpr int kUniformBits<BFloat16> = 8;

template <int Bits>
float uniform32(uint32_t x) {
  return static_cast<float>(x >> (32 - Bits)) * (1.0f / static_cast<float>(1u << Bits));
}
double uniform53(uint32_t hi, uint32_t lo) {
  const uint64_t x = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<double>(x >> 11) * 0x1p-53;
}
uint64_t bits64(uint32_t hi, uint32_t lo) { return (static_cast<uint64_t>(hi) << 32) | lo; }

// Draw d of a stream of 64-bit draws (two per block); for samplers that read out of order.
double uniform53_at(const Stream& s, uint64_t d) {
  const Block b = s.block(d / 2);
  const int w = static_cast<int>(d % 2) * 2;
  return uniform53(b[w], b[w + 1]);
}

// Runs fn(block, first_element, count) for every block of a stream that makes `per` elements per
// block, in parallel chunks; block k always makes elements [k*per, k*per + per).
template <class Fn>
void for_each_block(const Stream& s, int64_t n, int64_t per, const Fn& fn) {
  const int64_t nblocks = static_cast<int64_t>(blocks_for(n, per));
  parallel_for(0, nblocks, std::max<int64_t>(1, kGrainSize / per), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) fn(s.block(static_cast<uint64_t>(k)), k * per, std::min(per, n - k * per));
  });
}

template <class T>
T* data_of(const Tensor& t) {
  return static_cast<T*>(t.data_ptr());
}

// ---- fills of a fresh contiguous CPU tensor -------------------------------------------------------
// The largest T strictly below x: where low + (high - low) * u rounds up to high, it takes that
// value instead, so uniform_ keeps its promise of [low, high).
template <class T>
T largest_below(double x) {
  const T t = static_cast<T>(static_cast<compute_t<T>>(x));
  if (static_cast<double>(t) < x) return t;
  if constexpr (std::is_floating_point_v<T>) {
    return std::nextafter(t, -std::numeric_limits<T>::infinity());
  } else {  // Half, BFloat16: one step down in sign-magnitude bits
    const uint16_t b = t.bits;
    return T::from_bits((b & 0x7fffu) == 0 ? uint16_t{0x8001u} : (b & 0x8000u) ? uint16_t(b + 1) : uint16_t(b - 1));
  }
}

// low + (high - low) * U[0, 1).
void fill_uniform(const Tensor& out, double low, double high, Generator* gen) {
  const int64_t n = out.numel();
  const bool clamp = low < high && std::isfinite(high);
  RICCI_DISPATCH_FLOAT(out.dtype(), "uniform_", [&]<class T>() {
    T* p = data_of<T>(out);
    const T cap = clamp ? largest_below<T>(high) : T(0.0f);
    auto store = [&](int64_t i, T v) { p[i] = clamp && !(static_cast<double>(v) < high) ? cap : v; };
    if constexpr (std::is_same_v<T, double>) {
      const Stream s = take(gen, blocks_for(n, 2));
      for_each_block(s, n, 2, [&](const Block& b, int64_t first, int64_t count) {
        for (int64_t i = 0; i < count; ++i) store(first + i, low + (high - low) * uniform53(b[2 * i], b[2 * i + 1]));
      });
    } else {
      const Stream s = take(gen, blocks_for(n, 4));
      const float lo = static_cast<float>(low), span = static_cast<float>(high - low);
      for_each_block(s, n, 4, [&](const Block& b, int64_t first, int64_t count) {
        for (int64_t i = 0; i < count; ++i) store(first + i, static_cast<T>(lo + span * uniform32<kUniformBits<T>>(b[i])));
      });
    }
  });
}

// mean + std * N(0, 1) by Box-Muller: each pair of uniforms gives a pair of normals. 1 - u lies
// in (0, 1], so the logarithm is finite.
void fill_normal(const Tensor& out, double mean, double std, Generator* gen) {
  const int64_t n = out.numel();
  RICCI_DISPATCH_FLOAT(out.dtype(), "normal_", [&]<class T>() {
    T* p = data_of<T>(out);
    if constexpr (std::is_same_v<T, double>) {
      const Stream s = take(gen, blocks_for(n, 2));
      for_each_block(s, n, 2, [&](const Block& b, int64_t first, int64_t count) {
        const double u1 = uniform53(b[0], b[1]), u2 = uniform53(b[2], b[3]);
        const double r = std::sqrt(-2.0 * std::log(1.0 - u1)), theta = 2.0 * M_PI * u2;
        const double z[2] = {r * std::cos(theta), r * std::sin(theta)};
        for (int64_t i = 0; i < count; ++i) p[first + i] = mean + std * z[i];
      });
    } else {
      const Stream s = take(gen, blocks_for(n, 4));
      const float m = static_cast<float>(mean), sd = static_cast<float>(std);
      for_each_block(s, n, 4, [&](const Block& b, int64_t first, int64_t count) {
        float z[4];
        for (int pair = 0; pair < 2; ++pair) {
          const float u1 = uniform32<24>(b[2 * pair]), u2 = uniform32<24>(b[2 * pair + 1]);
          const float r = std::sqrt(-2.0f * std::log(1.0f - u1)), theta = 2.0f * static_cast<float>(M_PI) * u2;
          z[2 * pair] = r * std::cos(theta);
          z[2 * pair + 1] = r * std::sin(theta);
        }
        for (int64_t i = 0; i < count; ++i) p[first + i] = static_cast<T>(m + sd * z[i]);
      });
    }
  });
}

template <class T>
T from_int(int64_t v) {
  if constexpr (std::is_same_v<T, bool>) return v != 0;
  else return static_cast<T>(static_cast<compute_t<T>>(v));
}

DType float_dtype(const TensorOptions& options, const char* op) {
  const DType d = options.dtype_or(float32);
  RICCI_CHECK(is_floating_point(d), DTypeError, "[", op, "] sampling is not implemented for dtype ", dtype_name(d),
              "; pass a floating dtype (float32, float64, float16 or bfloat16)");
  return d;
}

// Moves a CPU result where the options want it and marks it as a leaf that requires grad.
Tensor finish(Tensor t, const TensorOptions& options) {
  if (!options.device.is_cpu()) t = t.to(options.device);
  if (options.requires_grad) t.requires_grad_(true);
  return t;
}

// Writes `values` (contiguous, CPU, t's shape and dtype) into t, whatever t's layout or device,
// with the bookkeeping of any in-place op (as Tensor::fill_ does). The old values are gone, so
// when t is in a graph its history becomes a node that passes no gradient back.
void write_in_place(Tensor& t, const Tensor& values, const char* op, const char* node_name) {
  autograd::check_inplace(t, op);
  copy_kernel(t, values);  // crosses devices when t lives on a GPU
  autograd::bump_version(t);
  if (autograd::needs_grad(t)) {
    auto node = autograd::record(node_name, {&t}, {}, {}, {},
                                 [](const autograd::VjpArgs& a) { return autograd::Tensors{zeros_like(a.grads[0])}; });
    autograd::rebase_history(t, node);
  }
}

void check_float_in_place(const Tensor& t, const char* op) {
  check_defined(t, op, "self");
  RICCI_CHECK(t.is_floating_point(), DTypeError, "[", op, "] sampling is not implemented for dtype ",
              dtype_name(t.dtype()), "; pass a floating tensor (convert with .to(float32))");
}

}  // namespace

// ---- Generator --------------------------------------------------------------------------------------
void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = seed;
  offset_ = 0;
}

GeneratorState Generator::get_state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {seed_, offset_};
}

void Generator::set_state(const GeneratorState& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = state.seed;
  offset_ = state.offset;
}

uint64_t Generator::reserve(uint64_t n) {
  // A transform tracing f (vmap, compile) must not freeze one draw into its trace: it runs f for
  // real instead (Note [vmap by tracing]).
  if (lazy::detail::tl_state.tracing)
    throw lazy::detail::TraceFailed{"a random draw that a trace cannot record (multinomial, randperm, in-place normal_, or any "
                                    "draw inside vmap)"};
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t first = offset_;
  offset_ += n;
  return first;
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }
GeneratorState get_rng_state() { return default_generator().get_state(); }
void set_rng_state(const GeneratorState& state) { default_generator().set_state(state); }

// ---- draws inside a compiled trace -----------------------------------------------------------------------
//
// Note [Random draws in a compiled program]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A random factory called while compile() traces f records a primitive instead of drawing: each
// replay of the program draws new numbers from the generator's state at that moment, as calling f
// would, so nothing random is frozen into a trace and a model with dropout still compiles (MLX
// keeps the random state as an implicit input of the compiled function for the same reason).
// Every draw is a primitive of its own — a unique id among its parameters — so that two
// equal-looking draws are never merged as common subexpressions. Recorded: rand, randn, randint
// and bernoulli(shape, p) (dropout) of a CPU tensor that needs no gradient. Every other draw, and
// every draw inside vmap's trace (each example must draw its own numbers), ends the trace: f then
// runs uncompiled (Generator::reserve).
namespace {

uint64_t next_draw_id() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool records_draw(const TensorOptions& options) {
  const lazy::detail::ThreadState& st = lazy::detail::tl_state;
  return st.tracing != 0 && st.trace_draws && !st.meta && lazy::recording() && options.device.is_cpu() &&
         !options.requires_grad;
}

// The primitive's eval: while shapes are inferred only the empty result, else the draw itself.
template <class Draw>
Tensor draw_or_shape(const Dims& shape, DType dtype, Draw draw) {
  if (lazy::detail::in_meta()) return empty_tensor(shape, dtype, kCPU, "random draw");
  return draw();
}

}  // namespace

// ---- factories ----------------------------------------------------------------------------------------
Tensor rand(IntArrayRef shape, TensorOptions options, Generator* gen) {
  if (records_draw(options)) [[unlikely]]
    return lazy::record1("rand", [](const Tensors&, const Dims& s, DType d, Generator* g, uint64_t) {
      return draw_or_shape(s, d, [&] { return rand(s, TensorOptions(d), g); });
    }, {}, Dims(shape), float_dtype(options, "rand"), gen, next_draw_id());
  Tensor out = empty_tensor(shape, float_dtype(options, "rand"), kCPU, "rand");
  fill_uniform(out, 0.0, 1.0, gen);
  return finish(out, options);
}

Tensor randn(IntArrayRef shape, TensorOptions options, Generator* gen) {
  if (records_draw(options)) [[unlikely]]
    return lazy::record1("randn", [](const Tensors&, const Dims& s, DType d, Generator* g, uint64_t) {
      return draw_or_shape(s, d, [&] { return randn(s, TensorOptions(d), g); });
    }, {}, Dims(shape), float_dtype(options, "randn"), gen, next_draw_id());
  Tensor out = empty_tensor(shape, float_dtype(options, "randn"), kCPU, "randn");
  fill_normal(out, 0.0, 1.0, gen);
  return finish(out, options);
}

Tensor rand_like(const Tensor& t, TensorOptions options) {
  check_defined(t, "rand_like");
  if (!options.dtype) options.dtype = t.dtype();
  if (options.device.is_cpu()) options.device = t.device();  // kCPU is also "not given"
  return rand(t.shape(), options);
}

Tensor randn_like(const Tensor& t, TensorOptions options) {
  check_defined(t, "randn_like");
  if (!options.dtype) options.dtype = t.dtype();
  if (options.device.is_cpu()) options.device = t.device();
  return randn(t.shape(), options);
}

Tensor randint(int64_t low, int64_t high, IntArrayRef shape, TensorOptions options, Generator* gen) {
  RICCI_CHECK(low < high, ValueError, "[randint] random_ expects 'from' to be less than 'to', but got from=", low,
              " >= to=", high);
  const DType dtype = options.dtype_or(int64);
  if (records_draw(options)) [[unlikely]]
    return lazy::record1("randint", [](const Tensors&, int64_t lo, int64_t hi, const Dims& s, DType d, Generator* g,
                                       uint64_t) {
      return draw_or_shape(s, d, [&] { return randint(lo, hi, s, TensorOptions(d), g); });
    }, {}, low, high, Dims(shape), dtype, gen, next_draw_id());
  Tensor out = empty_tensor(shape, dtype, kCPU, "randint");
  const int64_t n = out.numel();
  // Unsigned arithmetic: high - low may exceed int64's range (low = INT64_MIN, high > 0).
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  RICCI_DISPATCH_ALL(dtype, "randint", [&]<class T>() {
    if constexpr (std::is_integral_v<T>) {
      const int64_t lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
      RICCI_CHECK(low >= lo && high - 1 <= hi, ValueError, "[randint] the range [", low, ", ", high,
                  ") is out of bounds for dtype ", dtype_name(dtype), "; pass a wider dtype such as int64");
    }
    T* p = data_of<T>(out);
    const Stream s = take(gen, blocks_for(n, 2));
    // A 64-bit draw modulo the range: the bias is below range / 2^64, far under sampling noise.
    for_each_block(s, n, 2, [&](const Block& b, int64_t first, int64_t count) {
      for (int64_t i = 0; i < count; ++i) {
        const uint64_t r = bits64(b[2 * i], b[2 * i + 1]) % range;
        p[first + i] = from_int<T>(static_cast<int64_t>(static_cast<uint64_t>(low) + r));
      }
    });
  });
  return finish(out, options);
}

Tensor randint(int64_t high, IntArrayRef shape, TensorOptions options, Generator* gen) {
  return randint(0, high, shape, options, gen);
}

Tensor randperm(int64_t n, TensorOptions options, Generator* gen) {
  RICCI_CHECK(n >= 0, ValueError, "[randperm] n must be non-negative, got n=", n);
  const DType dtype = options.dtype_or(int64);
  // Fisher-Yates is sequential; draw i (for position n-1-i) is the i-th 64-bit value of the stream.
  // The scratch is a tensor, so a huge n meets the allocator's checks, not std::vector's length_error.
  Tensor out = empty_tensor({n}, dtype, kCPU, "randperm");
  const Tensor scratch = empty_tensor({n}, int64, kCPU, "randperm");
  int64_t* perm = scratch.data_ptr<int64_t>();
  std::iota(perm, perm + n, int64_t{0});
  const Stream s = take(gen, blocks_for(std::max<int64_t>(n - 1, 0), 2));
  Block b{};
  for (int64_t i = n - 1, d = 0; i > 0; --i, ++d) {
    if (d % 2 == 0) b = s.block(static_cast<uint64_t>(d / 2));
    const int w = static_cast<int>(d % 2) * 2;
    const int64_t j = static_cast<int64_t>(bits64(b[w], b[w + 1]) % static_cast<uint64_t>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  RICCI_DISPATCH_NUMERIC(dtype, "randperm", [&]<class T>() {
    const double largest = std::is_integral_v<T> ? static_cast<double>(std::numeric_limits<T>::max())
                                                 : std::ldexp(1.0, kUniformBits<T>);
    RICCI_CHECK(n == 0 || static_cast<double>(n - 1) <= largest, ValueError, "[randperm] n=", n,
                " is too large for dtype ", dtype_name(dtype), "; pass a wider dtype such as int64");
    T* p = data_of<T>(out);
    for (int64_t i = 0; i < n; ++i) p[i] = from_int<T>(perm[i]);
  });
  return finish(out, options);
}

// ---- samplers ------------------------------------------------------------------------------------------
Tensor bernoulli(const Tensor& p, Generator* gen) {
  check_defined(p, "bernoulli", "p");
  RICCI_CHECK(p.is_floating_point(), DTypeError, "[bernoulli] expects a floating tensor of probabilities, got dtype ",
              dtype_name(p.dtype()), "; convert it with .to(float32)");
  const std::vector<double> probs = p.to_vector<double>();
  for (size_t i = 0; i < probs.size(); ++i) {
    RICCI_CHECK(probs[i] >= 0.0 && probs[i] <= 1.0, ValueError,
                "[bernoulli] expects all probabilities in [0, 1], but found p=", probs[i], " at flat index ", i,
                "; clamp them with .clamp(0, 1)");
  }
  Tensor out = empty_tensor(p.shape(), p.dtype());
  const int64_t n = out.numel();
  RICCI_DISPATCH_FLOAT(p.dtype(), "bernoulli", [&]<class T>() {
    T* o = data_of<T>(out);
    const Stream s = take(gen, blocks_for(n, 2));
    for_each_block(s, n, 2, [&](const Block& b, int64_t first, int64_t count) {
      for (int64_t i = 0; i < count; ++i)
        o[first + i] = static_cast<T>(uniform53(b[2 * i], b[2 * i + 1]) < probs[static_cast<size_t>(first + i)] ? 1.0f : 0.0f);
    });
  });
  return p.is_cpu() ? out : out.to(p.device());
}

Tensor bernoulli(IntArrayRef shape, double p, TensorOptions options, Generator* gen) {
  RICCI_CHECK(p >= 0.0 && p <= 1.0, ValueError, "[bernoulli] expects 0 <= p <= 1, but got p=", p);
  const DType dtype = options.dtype_or(float32);
  if (records_draw(options)) [[unlikely]]
    return lazy::record1("bernoulli", [](const Tensors&, const Dims& s, double q, DType d, Generator* g, uint64_t) {
      return draw_or_shape(s, d, [&] { return bernoulli(s, q, TensorOptions(d), g); });
    }, {}, Dims(shape), p, dtype, gen, next_draw_id());
  Tensor out = empty_tensor(shape, dtype, kCPU, "bernoulli");
  const int64_t n = out.numel();
  // float32: dropout's mask kernel with scale 1 draws the same values in one vectorised pass
  // (src/backend/cpu/dropout_hwy.cpp), so a compiled dropout's mask costs what eager's does.
  static const auto mask_id = kernels::op_id("nn_dropout_mask");
  if (dtype == float32 && n > 0) {
    if (const kernels::AnyKernel k = kernels::kernel_table().find(mask_id, DeviceType::CPU, float32)) {
      Generator& g = gen ? *gen : default_generator();
      const uint64_t offset = g.reserve(blocks_for(n, 2));
      reinterpret_cast<nnk::DropoutMaskKernel>(k)(out, g.initial_seed(), offset, p, 1.0);
      return finish(out, options);
    }
  }
  RICCI_DISPATCH_ALL(dtype, "bernoulli", [&]<class T>() {
    T* o = data_of<T>(out);
    const Stream s = take(gen, blocks_for(n, 2));
    for_each_block(s, n, 2, [&](const Block& b, int64_t first, int64_t count) {
      for (int64_t i = 0; i < count; ++i) o[first + i] = from_int<T>(uniform53(b[2 * i], b[2 * i + 1]) < p ? 1 : 0);
    });
  });
  return finish(out, options);
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen) {
  check_defined(probs, "multinomial", "probs");
  RICCI_CHECK(probs.dim() == 1 || probs.dim() == 2, ShapeError,
              "[multinomial] prob_dist must be 1 or 2 dim, got shape ", probs.shape(),
              "; pass one row of weights (n) or a batch of rows (rows, n)");
  RICCI_CHECK(probs.is_floating_point(), DTypeError, "[multinomial] only supports floating-point dtypes for input, got ",
              dtype_name(probs.dtype()), "; convert it with .to(float32)");
  RICCI_CHECK(num_samples > 0, ValueError, "[multinomial] cannot sample num_samples=", num_samples,
              " <= 0 samples; ask for at least one");
  const int64_t n = probs.size(-1);
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  RICCI_CHECK(replacement || num_samples <= n, ValueError, "[multinomial] cannot sample num_samples=", num_samples,
              " > prob_dist.size(-1)=", n, " samples without replacement; pass replacement=true or fewer samples");
  const std::vector<double> w = probs.to_vector<double>();
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double v = w[static_cast<size_t>(r * n + i)];
      RICCI_CHECK(std::isfinite(v) && v >= 0.0, ValueError,
                  "[multinomial] probability tensor contains either `inf`, `nan` or element < 0 (found ", v,
                  " in row ", r, ")");
      total += v;
    }
    RICCI_CHECK(total > 0.0, ValueError, "[multinomial] invalid multinomial distribution (sum of probabilities <= 0) in row ",
                r, "; every row needs a positive weight");
  }

  Tensor out = probs.dim() == 2 ? empty_tensor({rows, num_samples}, int64, kCPU, "multinomial")
                                : empty_tensor({num_samples}, int64, kCPU, "multinomial");
  int64_t* o = data_of<int64_t>(out);
  const int64_t draws_per_row = replacement ? num_samples : n;
  const Stream s = take(gen, blocks_for(rows * draws_per_row, 2));
  parallel_for(0, rows, 1, [&](int64_t r0, int64_t r1) {
    std::vector<double> scratch(static_cast<size_t>(n));
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      const double* row = w.data() + r * n;
      const uint64_t first_draw = static_cast<uint64_t>(r * draws_per_row);
      if (replacement) {
        // Inverse CDF: the first category whose running sum exceeds u * total. A zero weight never
        // wins, because its running sum equals its predecessor's.
        std::partial_sum(row, row + n, scratch.begin());
        for (int64_t j = 0; j < num_samples; ++j) {
          const double target = uniform53_at(s, first_draw + static_cast<uint64_t>(j)) * scratch.back();
          const auto it = std::upper_bound(scratch.begin(), scratch.end(), target);
          o[r * num_samples + j] = std::min<int64_t>(it - scratch.begin(), n - 1);
        }
      } else {
        // Sequential draws without replacement equal the top-k of w_i / E_i with E_i ~ Exp(1)
        // (Efraimidis-Spirakis); zero weights rank last, in index order.
        for (int64_t i = 0; i < n; ++i) {
          const double e = -std::log(1.0 - uniform53_at(s, first_draw + static_cast<uint64_t>(i)));
          scratch[static_cast<size_t>(i)] = row[i] == 0.0 ? -1.0 : row[i] / e;
        }
        std::iota(order.begin(), order.end(), int64_t{0});
        std::partial_sort(order.begin(), order.begin() + num_samples, order.end(), [&](int64_t a, int64_t b) {
          const double ka = scratch[static_cast<size_t>(a)], kb = scratch[static_cast<size_t>(b)];
          return ka > kb || (ka == kb && a < b);
        });
        std::copy(order.begin(), order.begin() + num_samples, o + r * num_samples);
      }
    }
  });
  return probs.is_cpu() ? out : out.to(probs.device());
}

// ---- in place ---------------------------------------------------------------------------------------------
Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  check_float_in_place(t, "normal_");
  RICCI_CHECK(std >= 0.0, ValueError, "[normal_] expects std >= 0.0, but found std ", std);
  const Tensor values = empty_tensor(t.shape(), t.dtype());
  fill_normal(values, mean, std, gen);
  write_in_place(t, values, "normal_", "NormalBackward0");
  return t;
}

Tensor& uniform_(Tensor& t, double low, double high, Generator* gen) {
  check_float_in_place(t, "uniform_");
  RICCI_CHECK(low <= high, ValueError, "[uniform_] expects to return a [from, to) range, but found from=", low,
              " > to=", high);
  const Tensor values = empty_tensor(t.shape(), t.dtype());
  fill_uniform(values, low, high, gen);
  write_in_place(t, values, "uniform_", "UniformBackward0");
  return t;
}

}  // namespace ricci
