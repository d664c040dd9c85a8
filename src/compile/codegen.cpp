// Note [Generated kernels]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// A fused kernel first runs as an interpreter (Note [Fused kernels]): each op's vector loop over a
// chunk of a thousand values in the L1 cache. That pays one load and one store per op and value,
// and leaves a pass that reads memory with no compute beside it. Generated code removes both: the
// kernel's ops become one C++ loop in which every value stays in a vector register, compiled by
// the system's C++ compiler (the one that built the library, or RICCI_JIT_CXX) into a shared
// library in the cache directory ($RICCI_CACHE_DIR, else $XDG_CACHE_HOME/ricci, else
// ~/.cache/ricci; kernels/k<hash>.so, with its .cpp beside it) and loaded with dlopen. The source
// names everything it depends on — the library's vector functions (vector_math-inl.h, embedded
// in the library at build time), the Highway version, the compiler and its flags — and its hash
// names the file, so a cached kernel is never stale. A source is built at most once per process
// and once per cache directory; building one takes about half a second, at the first call.
//
// The generated loop computes exactly what the interpreter computes, value for value: the same
// vector functions (TanhF32, hn::Exp, ...) behind the same range checks, and where the
// interpreter's vector loop hands a vector with a special value (NaN, inf, a huge argument) or a
// short tail to the op's scalar code, the generated code calls that same loop back through the
// JitHost (the library's hwy_unary_f32 on those lanes). An empty asm statement pins each op's
// result in a register, so the compiler cannot contract one op's multiply with the next op's add
// into an FMA the interpreter does not do. tests/test_compile_codegen.cpp holds generated and
// interpreted results equal bit for bit for every op the generator takes.
//
// What it takes: float32 and float64 runs whose inputs are contiguous in the compute dtype or one
// value along the run, and the ops with a Highway loop (add, sub, mul, div, the unary functions of
// elementwise_hwy.cpp). A kernel with anything else (comparisons, where, maximum, pow, sin, a
// reduction epilogue, float16 inputs, a strided input) runs as the interpreter, and so does every
// kernel when no compiler works (the reason is kept for compile_stats). docs/compile.md has the
// measurements behind the choice.
#include "compile/codegen.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backend/cpu/cpu_isa.h"
#include "backend/cpu/elementwise_kernels.h"
#include "compile/fused_kernel.h"

extern char** environ;

namespace ricci::compile_detail {

// The text of backend/cpu/vector_math-inl.h (generated at build time: codegen_embedded.cpp).
extern const char* const kVectorMathSource;
extern const char* const kJitCompiler;
extern const char* const kHighwayVersion;
extern const char* const kJitFlags;  // the library's CMAKE_CXX_FLAGS and its build type's

namespace {

using ew::BinaryOp;
using ew::UnaryOp;

// ---- building and loading ----------------------------------------------------------------------

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::filesystem::path cache_dir() {
  if (const char* d = std::getenv("RICCI_CACHE_DIR"); d && *d) return std::filesystem::path(d) / "kernels";
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::filesystem::path(d) / "ricci" / "kernels";
  if (const char* d = std::getenv("HOME"); d && *d) return std::filesystem::path(d) / ".cache" / "ricci" / "kernels";
  return std::filesystem::temp_directory_path() / "ricci-kernels";
}

std::string compiler() {
  if (const char* c = std::getenv("RICCI_JIT_CXX"); c && *c) return c;
  return kJitCompiler;
}

// Runs argv[0] with stdout and stderr to `log`; its exit status, or -1 when it could not start.
int run_compiler(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string first_lines(const std::string& path, int n) {
  std::ifstream in(path);
  std::string line, out;
  for (int i = 0; i < n && std::getline(in, line); ++i) out += (i ? " | " : "") + line;
  return out;
}

struct Registry {
  std::mutex mutex;
  std::unordered_map<uint64_t, GeneratedKernel> loaded;
  CodegenCounters counters;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: kernels may run during static destruction
  return *r;
}

GeneratedKernel open_kernel(const std::filesystem::path& so) {
  void* h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return nullptr;
  return reinterpret_cast<GeneratedKernel>(dlsym(h, "ricci_fused_kernel"));
}

}  // namespace

bool codegen_by_default() {
  static const bool on = [] {
    const char* e = std::getenv("RICCI_COMPILE_CODEGEN");
    return !(e && (std::string(e) == "0" || std::string(e) == "off" || std::string(e) == "false"));
  }();
  return on && cpu::cpu_isa_allows(cpu::CpuIsa::Avx2);
}

std::string codegen_isa_flags() {
  switch (cpu::cpu_isa()) {
    case cpu::CpuIsa::Portable: return "";
    case cpu::CpuIsa::Avx2: return "-march=haswell";
    default: return "-march=skylake-avx512";
  }
}

GeneratedKernel load_generated_kernel(const std::string& source, std::string* why) {
  const std::string cxx = compiler();
  const std::string isa = codegen_isa_flags();
  // The library's flags, its optimisation level included (compilers form FMAs differently at
  // different levels, and the kernel must round as the library does: a Debug library gets
  // unoptimised kernels), then ours. -maes: Highway's x86 targets above SSSE3 require AES and
  // CLMUL, and -march=haswell lacks AES.
  std::vector<std::string> flags;
  std::istringstream lib(kJitFlags);
  for (std::string f; lib >> f;) flags.push_back(f);
  flags.insert(flags.end(), {"-std=c++20", "-fPIC", "-shared", isa, "-maes", "-w"});
  std::string key = source + "\n// " + cxx;
  for (const std::string& f : flags) key += " " + f;
  const uint64_t h = fnv1a(key);
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mutex);  // one build at a time: two cores, and no duplicate work
  if (auto it = reg.loaded.find(h); it != reg.loaded.end()) return it->second;
  char name[32];
  std::snprintf(name, sizeof name, "k%016llx", static_cast<unsigned long long>(h));
  std::error_code ec;
  const std::filesystem::path dir = cache_dir();
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path so = dir / (std::string(name) + ".so");
  if (std::filesystem::exists(so, ec)) {
    if (GeneratedKernel k = open_kernel(so)) {
      ++reg.counters.loaded_from_disk;
      return reg.loaded[h] = k;
    }
  }
  // Build into names of this process and thread, then rename: another process building the same
  // kernel at the same time never loads a half-written file.
  std::ostringstream tag;
  tag << "." << getpid() << "." << std::hash<std::thread::id>()(std::this_thread::get_id());
  const std::filesystem::path cpp = dir / (std::string(name) + ".cpp");
  const std::filesystem::path tmp_cpp = dir / (std::string(name) + tag.str() + ".cpp");
  const std::filesystem::path tmp_so = dir / (std::string(name) + tag.str() + ".so");
  const std::filesystem::path log = dir / (std::string(name) + tag.str() + ".log");
  {
    std::ofstream out(tmp_cpp);
    out << source;
    if (!out) {
      if (why) *why = "cannot write the kernel's source to " + tmp_cpp.string() + " (set RICCI_CACHE_DIR)";
      return reg.loaded[h] = nullptr;
    }
  }
  std::vector<std::string> args = {cxx};
  for (const std::string& f : flags)
    if (!f.empty()) args.push_back(f);
  args.insert(args.end(), {"-o", tmp_so.string(), tmp_cpp.string()});
  const int rc = run_compiler(args, log.string());
  GeneratedKernel k = nullptr;
  if (rc == 0) {
    std::filesystem::rename(tmp_so, so, ec);
    std::filesystem::rename(tmp_cpp, cpp, ec);
    k = open_kernel(so);
    if (k) ++reg.counters.compiled;
    else if (why) *why = std::string("dlopen failed: ") + dlerror();
  } else if (why) {
    *why = rc < 0 ? "the C++ compiler '" + cxx + "' could not be run (set RICCI_JIT_CXX)"
                  : "the C++ compiler failed: " + first_lines(log.string(), 3);
  }
  std::filesystem::remove(tmp_so, ec);
  std::filesystem::remove(tmp_cpp, ec);
  std::filesystem::remove(log, ec);
  return reg.loaded[h] = k;
}

CodegenCounters codegen_counters() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  return registry().counters;
}

void forget_loaded_kernels_for_testing() {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().loaded.clear();
}

// ---- generating --------------------------------------------------------------------------------

namespace {

// How the interpreter runs a unary op (elementwise_hwy.cpp's UnaryF32/UnaryF64), as source: the
// vector expression of x, the lanes where it is valid (empty: everywhere), or only through the
// library (the float64 loops of gelu and softplus).
struct UnaryForm {
  const char* expr = nullptr;  // in terms of x, d
  const char* ok = nullptr;    // in terms of x, d; nullptr: always valid
  bool callback_only = false;
};

std::optional<UnaryForm> unary_form(UnaryOp op, bool f64) {
  constexpr const char* kFinite30 = "hn::Lt(hn::Abs(x), hn::Set(d, 1e30f))";
  constexpr const char* kIn87 = "hn::Lt(hn::Abs(x), hn::Set(d, 87.0f))";
  constexpr const char* kPos0 = "hn::And(hn::Gt(x, hn::Set(d, 0.0f)), hn::Lt(x, hn::Set(d, __builtin_inff())))";
  constexpr const char* kPosM1 = "hn::And(hn::Gt(x, hn::Set(d, -1.0f)), hn::Lt(x, hn::Set(d, __builtin_inff())))";
  switch (op) {
    case UnaryOp::Neg: return UnaryForm{"hn::Neg(x)"};
    case UnaryOp::Abs: return UnaryForm{"hn::Abs(x)"};
    case UnaryOp::Sqrt: return UnaryForm{"hn::Sqrt(x)"};
    case UnaryOp::Square: return UnaryForm{"hn::Mul(x, x)"};
    case UnaryOp::Reciprocal: return UnaryForm{"hn::Div(hn::Set(d, T(1)), x)"};
    case UnaryOp::Relu: return UnaryForm{"Relu(d, x)"};
    case UnaryOp::Floor: return UnaryForm{"hn::Floor(x)"};
    case UnaryOp::Ceil: return UnaryForm{"hn::Ceil(x)"};
    case UnaryOp::Round: return UnaryForm{"hn::Round(x)"};
    case UnaryOp::Trunc: return UnaryForm{"hn::Trunc(x)"};
    default: break;
  }
  if (f64) return std::nullopt;  // the float64 loops stop there: the rest is the C library
  switch (op) {
    case UnaryOp::Rsqrt: return UnaryForm{"hn::Div(hn::Set(d, 1.0f), hn::Sqrt(x))"};
    case UnaryOp::Exp: return UnaryForm{"hn::Exp(d, x)", kIn87};
    case UnaryOp::Expm1: return UnaryForm{"Expm1F32(d, x)", kIn87};
    case UnaryOp::Log: return UnaryForm{"hn::Log(d, x)", kPos0};
    case UnaryOp::Log2: return UnaryForm{"hn::Log2(d, x)", kPos0};
    case UnaryOp::Log10: return UnaryForm{"hn::Log10(d, x)", kPos0};
    case UnaryOp::Log1p: return UnaryForm{"hn::Log1p(d, x)", kPosM1};
    case UnaryOp::Tanh: return UnaryForm{"TanhF32(d, x)", kFinite30};
    case UnaryOp::Sigmoid: return UnaryForm{"Sigmoid(d, x)", kIn87};
    case UnaryOp::Silu: return UnaryForm{"hn::Div(x, hn::Add(hn::Set(d, 1.0f), hn::Exp(d, hn::Neg(x))))", kIn87};
    case UnaryOp::Erf: return UnaryForm{"ErfF32(d, x)", kFinite30};
    case UnaryOp::GeluErf:
    case UnaryOp::GeluTanh:
    case UnaryOp::Softplus: return UnaryForm{nullptr, nullptr, true};
    default: return std::nullopt;
  }
}

// An exact literal of v in type T (hex floats; the non-finite values by builtin).
std::string literal(double v, bool f64) {
  if (std::isnan(v)) return f64 ? "__builtin_nan(\"\")" : "__builtin_nanf(\"\")";
  if (std::isinf(v)) return std::string(v < 0 ? "-" : "") + (f64 ? "__builtin_inf()" : "__builtin_inff()");
  char buf[64];
  if (f64) std::snprintf(buf, sizeof buf, "%a", v);
  else std::snprintf(buf, sizeof buf, "%af", static_cast<double>(static_cast<float>(v)));
  return buf;
}

}  // namespace

// Vectors in flight per loop iteration: one op's code for all of them comes before the next op's,
// so that the core overlaps their dependency chains (a chain of twenty transcendental ops on one
// vector is longer than the reorder window, and ran twice as slow as the interpreter).
constexpr int kInterleave = 4;

std::optional<std::string> FusedKernel::generated_source(const std::vector<char>& uniform_input) const {
  if (reduction_ || (compute_ != DType::Float32 && compute_ != DType::Float64)) return std::nullopt;
  const bool f64 = compute_ == DType::Float64;
  for (DType t : output_dtypes_)
    if (t != compute_) return std::nullopt;
  const size_t n_out = outputs_.size(), n_in = inputs_.size();
  // Per slot: the variable stem holding its value, and whether the value is one value along the
  // run (the interpreter then computes it once, before the loop, as here).
  std::vector<std::string> var(static_cast<size_t>(slots_));
  std::vector<char> uniform(static_cast<size_t>(slots_), 0);
  std::ostringstream pre;
  for (size_t j = 0; j < n_in; ++j) {
    var[j] = "in" + std::to_string(j);
    uniform[j] = uniform_input[j];
    if (uniform_input[j]) pre << "  const V in" << j << " = hn::Set(d, *reinterpret_cast<const T*>(p[" << n_out + j << "]));\n";
  }
  for (const auto& [slot, v] : constants_) {
    var[static_cast<size_t>(slot)] = "c" + std::to_string(slot);
    uniform[static_cast<size_t>(slot)] = 1;
    pre << "  const V c" << slot << " = hn::Set(d, static_cast<T>(" << literal(v, true) << "));\n";
  }
  // The expression of a step, or "" when the generator does not take it; the unary form aside.
  struct Planned {
    std::string binary;                  // binary: the expression of a and b (placeholders $a, $b)
    std::optional<UnaryForm> unary;
    bool one = false;                    // every operand uniform: computed once
  };
  std::vector<Planned> plan;
  for (const Step& s : steps_) {
    if (s.op.arity == 3 || s.op.is_predicate()) return std::nullopt;
    Planned pl;
    pl.one = uniform[static_cast<size_t>(s.a)] && (s.op.arity == 1 || uniform[static_cast<size_t>(s.b)]);
    if (s.op.arity == 2) {
      const double alpha = s.op.alpha.to_double();
      const bool unit = f64 ? alpha == 1.0 : static_cast<float>(alpha) == 1.0f;
      switch (s.op.bop) {
        case BinaryOp::Add: pl.binary = unit ? "hn::Add($a, $b)" : "hn::MulAdd(hn::Set(d, " + literal(alpha, f64) + "), $b, $a)"; break;
        case BinaryOp::Sub: pl.binary = unit ? "hn::Sub($a, $b)" : "hn::NegMulAdd(hn::Set(d, " + literal(alpha, f64) + "), $b, $a)"; break;
        case BinaryOp::Mul: pl.binary = "hn::Mul($a, $b)"; break;
        case BinaryOp::Div: pl.binary = "hn::Div($a, $b)"; break;
        default: return std::nullopt;
      }
    } else {
      pl.unary = unary_form(s.op.uop, f64);
      if (!pl.unary) return std::nullopt;
    }
    plan.push_back(pl);
    uniform[static_cast<size_t>(s.out)] = pl.one;
  }

  // One body: `vectors` vectors from element i (lanes: "N"), or the padded tail (lanes: "rest").
  // Names: a value's stem, then _u for vector u; uniform values have no suffix.
  std::fill(uniform.begin(), uniform.end(), 0);
  for (size_t j = 0; j < n_in; ++j) uniform[j] = uniform_input[j];
  for (const auto& [slot, v] : constants_) uniform[static_cast<size_t>(slot)] = 1;
  std::vector<std::string> stem = var;
  auto name = [&](int slot, int u) {
    return uniform[static_cast<size_t>(slot)] ? stem[static_cast<size_t>(slot)] : stem[static_cast<size_t>(slot)] + "_" + std::to_string(u);
  };
  auto replace = [](std::string e, const std::string& a, const std::string& b) {
    for (size_t at; (at = e.find("$a")) != std::string::npos;) e.replace(at, 2, a);
    for (size_t at; (at = e.find("$b")) != std::string::npos;) e.replace(at, 2, b);
    return e;
  };
  auto unary_code = [&](std::ostringstream& os, const char* ind, size_t k, const UnaryForm& form, const std::string& out,
                        const std::string& x, const std::string& lanes, bool once) {
    const std::string call = std::string("host->unary_") + (f64 ? "f64" : "f32") + "(" +
                             std::to_string(static_cast<int>(steps_[k].op.uop)) + ", b, b, " + lanes +
                             ", host->params[" + std::to_string(k) + "])";
    const std::string through_library = std::string("{\n") + ind + "    HWY_ALIGN T b[hn::MaxLanes(d)];\n" + ind +
                                        "    hn::Store(x, d, b);\n" + ind + "    " + call + ";\n" + ind + "    " + out +
                                        " = " + (once ? "hn::Set(d, b[0])" : "hn::Load(d, b)") + ";\n" + ind + "  }";
    os << ind << "V " << out << ";\n" << ind << "{\n" << ind << "  const V x = " << x << ";\n";
    if (form.callback_only || (form.ok && (once || lanes != "N"))) {
      // The library's loop decides: on one value or a tail that is the op's scalar code.
      os << ind << "  " << through_library << "\n";
    } else if (form.ok) {
      os << ind << "  if (HWY_LIKELY(hn::AllTrue(d, " << form.ok << "))) {\n" << ind << "    " << out << " = "
         << form.expr << ";\n" << ind << "  } else " << through_library << "\n";
    } else {
      os << ind << "  " << out << " = " << form.expr << ";\n";
    }
    os << ind << "}\n" << ind << "RICCI_PIN(" << out << ");\n";
  };
  // The uniform steps, once, before the loop.
  for (size_t k = 0; k < steps_.size(); ++k) {
    const Step& s = steps_[k];
    if (!plan[k].one) continue;
    const std::string out = "t" + std::to_string(k);
    if (plan[k].unary) {
      unary_code(pre, "  ", k, *plan[k].unary, out, name(s.a, 0), "1", true);
    } else {
      pre << "  V " << out << " = " << replace(plan[k].binary, name(s.a, 0), name(s.b, 0)) << ";\n  RICCI_PIN(" << out << ");\n";
    }
    stem[static_cast<size_t>(s.out)] = out;
    uniform[static_cast<size_t>(s.out)] = 1;
  }
  const std::vector<std::string> stem_after_pre = stem;
  const std::vector<char> uniform_after_pre = uniform;
  auto body = [&](int vectors, bool tail) {
    stem = stem_after_pre;
    uniform = uniform_after_pre;
    const char* ind = "    ";
    const std::string lanes = tail ? "rest" : "N";
    std::ostringstream os;
    for (size_t j = 0; j < n_in; ++j) {
      if (uniform_input[j]) continue;
      for (int u = 0; u < vectors; ++u) {
        os << ind << "const V in" << j << "_" << u << " = ";
        if (tail) os << "hn::Load(d, tb" << j << ");\n";
        else os << "hn::LoadU(d, i" << j << " + i + " << u << " * N);\n";
      }
    }
    for (size_t k = 0; k < steps_.size(); ++k) {
      const Step& s = steps_[k];
      if (plan[k].one) continue;
      const std::string t = "t" + std::to_string(k);
      for (int u = 0; u < vectors; ++u) {
        const std::string out = t + "_" + std::to_string(u);
        if (plan[k].unary) {
          unary_code(os, ind, k, *plan[k].unary, out, name(s.a, u), lanes, false);
        } else {
          os << ind << "V " << out << " = " << replace(plan[k].binary, name(s.a, u), name(s.b, u)) << ";\n"
             << ind << "RICCI_PIN(" << out << ");\n";
        }
      }
      stem[static_cast<size_t>(s.out)] = t;
      uniform[static_cast<size_t>(s.out)] = 0;
    }
    for (size_t j = 0; j < n_out; ++j)
      for (int u = 0; u < vectors; ++u) {
        if (tail) os << ind << "hn::Store(" << name(output_slots_[j], u) << ", d, ob" << j << ");\n";
        else os << ind << "hn::StoreU(" << name(output_slots_[j], u) << ", d, o" << j << " + i + " << u << " * N);\n";
      }
    return os.str();
  };

  std::ostringstream src;
  src << "// A fused kernel generated by ricci (Note [Generated kernels], src/compile/codegen.cpp).\n"
      << "// Highway " << kHighwayVersion << "\n"
      << "#define HWY_COMPILE_ONLY_STATIC 1\n#include <cstdint>\n#include <cstring>\n#include <hwy/highway.h>\n"
      << "// ---- backend/cpu/vector_math-inl.h ----\n" << kVectorMathSource << "\n// ---- the kernel ----\n"
      << "#if HWY_TARGET != HWY_AVX2 && HWY_TARGET != HWY_AVX3\n#error \"generated kernels need AVX2 or AVX-512\"\n#endif\n"
      << "namespace hn = hwy::HWY_NAMESPACE;\nusing namespace ricci::cpu::HWY_NAMESPACE;\n"
      << "struct JitHost {\n  void (*unary_f32)(int, const float*, float*, int64_t, const void*);\n"
      << "  void (*unary_f64)(int, const double*, double*, int64_t, const void*);\n  const void* const* params;\n};\n"
      << "#define RICCI_PIN(v) __asm__(\"\" : \"+v\"(v.raw))\n"
      << "extern \"C\" __attribute__((visibility(\"default\"))) void ricci_fused_kernel(char* const* p, int64_t n, const JitHost* host) {\n"
      << "  using T = " << (f64 ? "double" : "float") << ";\n"
      << "  const hn::ScalableTag<T> d;\n  using V = hn::Vec<decltype(d)>;\n"
      << "  const int64_t N = static_cast<int64_t>(hn::Lanes(d));\n  (void)host;\n";
  for (size_t j = 0; j < n_out; ++j) src << "  T* const o" << j << " = reinterpret_cast<T*>(p[" << j << "]);\n";
  for (size_t j = 0; j < n_in; ++j)
    if (!uniform_input[j]) src << "  const T* const i" << j << " = reinterpret_cast<const T*>(p[" << n_out + j << "]);\n";
  src << pre.str() << "  int64_t i = 0;\n"
      << "  for (; i + " << kInterleave << " * N <= n; i += " << kInterleave << " * N) {\n" << body(kInterleave, false) << "  }\n"
      << "  for (; i + N <= n; i += N) {\n" << body(1, false) << "  }\n"
      << "  if (i < n) {\n    const int64_t rest = n - i;\n";
  for (size_t j = 0; j < n_in; ++j)
    if (!uniform_input[j])
      src << "    HWY_ALIGN T tb" << j << "[hn::MaxLanes(d)] = {};\n    std::memcpy(tb" << j << ", i" << j
          << " + i, static_cast<size_t>(rest) * sizeof(T));\n";
  for (size_t j = 0; j < n_out; ++j) src << "    HWY_ALIGN T ob" << j << "[hn::MaxLanes(d)];\n";
  src << body(1, true);
  for (size_t j = 0; j < n_out; ++j) src << "    std::memcpy(o" << j << " + i, ob" << j << ", static_cast<size_t>(rest) * sizeof(T));\n";
  src << "  }\n}\n";
  return src.str();
}

}  // namespace ricci::compile_detail
