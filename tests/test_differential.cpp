// Differential tests: ricci's CPU ops against PyTorch, through golden files.
//
// tests/differential/make_golden.py runs every case of its table through PyTorch and writes
// tests/data/ops_golden/{manifest.json, ops.safetensors}: per case an op name, input tensors,
// views to apply to them, scalar attributes, the expected outputs and, for some cases, the input
// gradients of sum(out * upstream). Here each op name maps to the ricci call (ops() below) and each
// case is one test, "differential/GoldenOp.Matches/<case>", so ctest lists and reruns it alone.
//
// RICCI_GOLDEN_DIR=<dir> reads another directory (the live ctest `differential_live` regenerates
// one with the installed PyTorch). Cases marked "known_divergence" in the manifest are ricci bugs
// awaiting a fix: they are reported as skipped with the reason (RICCI_GOLDEN_RUN_KNOWN=1 runs them).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "test_util.h"

using namespace ricci;
using json = nlohmann::json;

namespace {

// ---- the manifest and the tensor file --------------------------------------------------------------
std::string golden_dir() {
  const char* env = std::getenv("RICCI_GOLDEN_DIR");
  return env && *env ? env : RICCI_TEST_DATA_DIR "/ops_golden";
}

struct Golden {
  json cases = json::array();
  SafetensorsFile file;
  std::string error;  // why the files could not be read; empty when they were
};

const Golden& golden() {
  static const Golden g = [] {
    Golden g;
    const std::string dir = golden_dir();
    try {
      std::ifstream in(dir + "/manifest.json");
      if (!in) throw std::runtime_error("cannot open " + dir + "/manifest.json");
      g.cases = json::parse(in).at("cases");
      g.file = load_safetensors(dir + "/ops.safetensors");
    } catch (const std::exception& e) {
      g.error = std::string("golden files in ") + dir + " unreadable: " + e.what() +
                " (regenerate with python3 tests/differential/make_golden.py)";
      g.cases = json::array();
    }
    return g;
  }();
  return g;
}

// The parameter of the one TEST_P: a case's index in the manifest, and its name for gtest.
struct CaseRef {
  size_t index;
  std::string name;
};
void PrintTo(const CaseRef& c, std::ostream* os) { *os << c.name; }

std::vector<CaseRef> case_refs() {
  std::vector<CaseRef> refs;
  const Golden& g = golden();
  for (size_t i = 0; i < g.cases.size(); ++i) {
    std::string name = g.cases[i].value("name", "");
    if (name.empty()) name = "unnamed_case_" + std::to_string(i);
    for (char& ch : name)  // gtest accepts [A-Za-z0-9_] only; make_golden.py keeps to that anyway
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    refs.push_back({i, name});
  }
  return refs;
}

// ---- attributes: a case's scalar arguments, with the defaults of the ricci call -----------------------
class Attrs {
 public:
  explicit Attrs(const json& j) : j_(j.is_object() ? j : json::object()) {}
  bool has(const char* k) const { return j_.contains(k) && !j_.at(k).is_null(); }
  int64_t i(const char* k, int64_t def = 0) const { return has(k) ? j_.at(k).get<int64_t>() : def; }
  bool b(const char* k, bool def = false) const { return has(k) ? j_.at(k).get<bool>() : def; }
  std::string s(const char* k, const std::string& def = "") const { return has(k) ? j_.at(k).get<std::string>() : def; }
  // Non-finite floats travel as the strings "nan", "inf", "-inf" (JSON has no literal for them).
  double d(const char* k, double def = 0) const { return has(k) ? number(j_.at(k)) : def; }
  std::optional<double> opt_d(const char* k) const { return has(k) ? std::optional(d(k)) : std::nullopt; }
  std::optional<int64_t> opt_i(const char* k) const { return has(k) ? std::optional(i(k)) : std::nullopt; }
  std::vector<int64_t> dims(const char* k) const {
    if (!has(k)) return {};
    if (j_.at(k).is_number_integer()) return {j_.at(k).get<int64_t>()};
    return j_.at(k).get<std::vector<int64_t>>();
  }
  // A C++ Scalar keeps the JSON's category: true -> bool, 2 -> int, 2.0 -> float.
  Scalar scalar(const char* k) const {
    const json& v = j_.at(k);
    if (v.is_boolean()) return Scalar(v.get<bool>());
    if (v.is_number_integer()) return Scalar(v.get<int64_t>());
    return Scalar(number(v));
  }
  std::optional<Scalar> opt_scalar(const char* k) const { return has(k) ? std::optional(scalar(k)) : std::nullopt; }
  std::optional<DType> dtype(const char* k = "dtype") const {
    return has(k) ? std::optional(dtype_from_name(s(k))) : std::nullopt;
  }
  const json& raw(const char* k) const { return j_.at(k); }

 private:
  static double number(const json& v) { return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>(); }
  json j_;
};

F::Reduction reduction(const Attrs& a) {
  const std::string r = a.s("reduction", "mean");
  if (r == "none") return F::Reduction::None;
  if (r == "sum") return F::Reduction::Sum;
  if (r == "mean") return F::Reduction::Mean;
  if (r == "batchmean") return F::Reduction::BatchMean;
  throw std::runtime_error("unknown reduction '" + r + "' in the manifest");
}

// attrs["index"] -> TensorIndex list: an int, [start, stop, step] (null: open), null (new axis),
// "...", true/false, or {"tensor": k} (inputs[k]).
std::vector<TensorIndex> index_list(const json& entries, const std::vector<Tensor>& in) {
  std::vector<TensorIndex> out;
  for (const json& e : entries) {
    if (e.is_null()) out.emplace_back(None);
    else if (e.is_string()) out.emplace_back(Ellipsis);
    else if (e.is_boolean()) out.emplace_back(e.get<bool>());
    else if (e.is_number_integer()) out.emplace_back(e.get<int64_t>());
    else if (e.is_array()) {
      auto part = [&](size_t i) { return e.at(i).is_null() ? std::nullopt : std::optional(e.at(i).get<int64_t>()); };
      out.emplace_back(Slice(part(0), part(1), e.at(2).is_null() ? 1 : e.at(2).get<int64_t>()));
    } else out.emplace_back(in.at(e.at("tensor").get<size_t>()));
  }
  return out;
}

// ---- the op table: manifest name -> ricci call (tests/differential/torch_ops.py is the other side) --
using Tensors = std::vector<Tensor>;
using OpFn = std::function<Tensors(const Tensors&, const Attrs&)>;

template <class Fn>
OpFn unary(Fn f) {
  return [f](const Tensors& in, const Attrs&) { return Tensors{f(in.at(0))}; };
}
// A tensor second operand, or attrs["scalar"] (the Scalar overload): `f` is generic in it.
template <class Fn>
OpFn binary(Fn f) {
  return [f](const Tensors& in, const Attrs& a) {
    return a.has("scalar") ? Tensors{f(in.at(0), a.scalar("scalar"))} : Tensors{f(in.at(0), in.at(1))};
  };
}
Tensors pair(const std::pair<Tensor, Tensor>& p) { return {p.first, p.second}; }
Tensors pair(const std::tuple<Tensor, Tensor>& p) { return {std::get<0>(p), std::get<1>(p)}; }

#define RICCI_UNARY(name) {#name, unary([](const Tensor& x) { return ricci::name(x); })}
#define RICCI_BINARY(name) {#name, binary([](const Tensor& x, const auto& y) { return ricci::name(x, y); })}
#define RICCI_TENSOR_BINARY(name) \
  {#name, [](const Tensors& in, const Attrs&) { return Tensors{ricci::name(in.at(0), in.at(1))}; }}

const std::map<std::string, OpFn>& ops() {
  static const std::map<std::string, OpFn> table = {
      // ---- unary
      RICCI_UNARY(neg), RICCI_UNARY(abs), RICCI_UNARY(sign), RICCI_UNARY(exp), RICCI_UNARY(exp2),
      RICCI_UNARY(expm1), RICCI_UNARY(log), RICCI_UNARY(log2), RICCI_UNARY(log10), RICCI_UNARY(log1p),
      RICCI_UNARY(sqrt), RICCI_UNARY(rsqrt), RICCI_UNARY(square), RICCI_UNARY(reciprocal), RICCI_UNARY(sin),
      RICCI_UNARY(cos), RICCI_UNARY(tan), RICCI_UNARY(tanh), RICCI_UNARY(sigmoid), RICCI_UNARY(relu),
      RICCI_UNARY(erf), RICCI_UNARY(floor), RICCI_UNARY(ceil), RICCI_UNARY(round), RICCI_UNARY(trunc),
      RICCI_UNARY(silu), RICCI_UNARY(logical_not), RICCI_UNARY(isnan), RICCI_UNARY(isinf),
      RICCI_UNARY(isfinite), RICCI_UNARY(bitwise_not),
      // An attr a case leaves out is left out of the call (here and in torch_ops.py), so such a case
      // checks ricci's default against PyTorch's (cases_defaults.py).
      {"gelu",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{a.has("approximate") ? gelu(in.at(0), a.s("approximate")) : gelu(in.at(0))};
       }},
      {"softplus",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("threshold")) return Tensors{softplus(in.at(0), a.d("beta", 1.0), a.d("threshold"))};
         return Tensors{a.has("beta") ? softplus(in.at(0), a.d("beta")) : softplus(in.at(0))};
       }},
      {"clamp",
       [](const Tensors& in, const Attrs& a) {
         if (in.size() == 1) return Tensors{clamp(in.at(0), a.opt_scalar("min"), a.opt_scalar("max"))};
         return Tensors{clamp(in.at(0), in.at(1), in.at(2))};
       }},
      // ---- binary
      RICCI_BINARY(mul), RICCI_BINARY(fmod), RICCI_BINARY(remainder), RICCI_BINARY(eq), RICCI_BINARY(ne),
      RICCI_BINARY(lt), RICCI_BINARY(le), RICCI_BINARY(gt), RICCI_BINARY(ge), RICCI_BINARY(bitwise_and),
      RICCI_BINARY(bitwise_or), RICCI_BINARY(bitwise_xor),
      RICCI_TENSOR_BINARY(maximum), RICCI_TENSOR_BINARY(minimum), RICCI_TENSOR_BINARY(atan2),
      RICCI_TENSOR_BINARY(logical_and), RICCI_TENSOR_BINARY(logical_or), RICCI_TENSOR_BINARY(logical_xor),
      {"add",
       [](const Tensors& in, const Attrs& a) {
         const Scalar alpha = a.has("alpha") ? a.scalar("alpha") : Scalar(1);
         return a.has("scalar") ? Tensors{add(in.at(0), a.scalar("scalar"), alpha)} : Tensors{add(in.at(0), in.at(1), alpha)};
       }},
      {"sub",
       [](const Tensors& in, const Attrs& a) {
         const Scalar alpha = a.has("alpha") ? a.scalar("alpha") : Scalar(1);
         return a.has("scalar") ? Tensors{sub(in.at(0), a.scalar("scalar"), alpha)} : Tensors{sub(in.at(0), in.at(1), alpha)};
       }},
      {"div",
       [](const Tensors& in, const Attrs& a) {
         std::optional<std::string> mode;
         if (a.has("rounding_mode")) mode = a.s("rounding_mode");
         std::optional<std::string_view> m = mode ? std::optional<std::string_view>(*mode) : std::nullopt;
         return a.has("scalar") ? Tensors{div(in.at(0), a.scalar("scalar"), m)} : Tensors{div(in.at(0), in.at(1), m)};
       }},
      {"pow",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("scalar_base")) return Tensors{ricci::pow(a.scalar("scalar_base"), in.at(0))};
         return a.has("scalar") ? Tensors{ricci::pow(in.at(0), a.scalar("scalar"))} : Tensors{ricci::pow(in.at(0), in.at(1))};
       }},
      // ---- ternary
      {"where",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("scalar_other")) return Tensors{where(in.at(0), in.at(1), a.scalar("scalar_other"))};
         return Tensors{where(in.at(0), in.at(1), in.at(2))};
       }},
      {"lerp",
       [](const Tensors& in, const Attrs& a) {
         return a.has("weight") ? Tensors{lerp(in.at(0), in.at(1), a.scalar("weight"))}
                                : Tensors{lerp(in.at(0), in.at(1), in.at(2))};
       }},
      {"addcmul",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{addcmul(in.at(0), in.at(1), in.at(2), a.has("value") ? a.scalar("value") : Scalar(1))};
       }},
      {"addcdiv",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{addcdiv(in.at(0), in.at(1), in.at(2), a.has("value") ? a.scalar("value") : Scalar(1))};
       }},
      {"masked_fill",
       [](const Tensors& in, const Attrs& a) { return Tensors{masked_fill(in.at(0), in.at(1), a.scalar("value"))}; }},
      // ---- reductions: "dims" absent reduces everything
      {"sum",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("dims")) return Tensors{sum(in.at(0), a.dtype())};
         return Tensors{sum(in.at(0), a.dims("dims"), a.b("keepdim"), a.dtype())};
       }},
      {"mean",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("dims")) return Tensors{mean(in.at(0))};
         return Tensors{mean(in.at(0), a.dims("dims"), a.b("keepdim"))};
       }},
      {"prod",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("dim")) return Tensors{prod(in.at(0), a.dtype())};
         return Tensors{prod(in.at(0), a.i("dim"), a.b("keepdim"), a.dtype())};
       }},
      {"max",
       [](const Tensors& in, const Attrs& a) {
         return a.has("dim") ? pair(max(in.at(0), a.i("dim"), a.b("keepdim"))) : Tensors{max(in.at(0))};
       }},
      {"min",
       [](const Tensors& in, const Attrs& a) {
         return a.has("dim") ? pair(min(in.at(0), a.i("dim"), a.b("keepdim"))) : Tensors{min(in.at(0))};
       }},
      {"amax", [](const Tensors& in, const Attrs& a) { return Tensors{amax(in.at(0), a.dims("dims"), a.b("keepdim"))}; }},
      {"amin", [](const Tensors& in, const Attrs& a) { return Tensors{amin(in.at(0), a.dims("dims"), a.b("keepdim"))}; }},
      {"argmax", [](const Tensors& in, const Attrs& a) { return Tensors{argmax(in.at(0), a.opt_i("dim"), a.b("keepdim"))}; }},
      {"argmin", [](const Tensors& in, const Attrs& a) { return Tensors{argmin(in.at(0), a.opt_i("dim"), a.b("keepdim"))}; }},
      {"var",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("correction") && !a.has("keepdim")) return Tensors{var(in.at(0), a.dims("dims"))};
         return Tensors{var(in.at(0), a.dims("dims"), a.i("correction", 1), a.b("keepdim"))};
       }},
      {"std",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("correction") && !a.has("keepdim")) return Tensors{ricci::std(in.at(0), a.dims("dims"))};
         return Tensors{ricci::std(in.at(0), a.dims("dims"), a.i("correction", 1), a.b("keepdim"))};
       }},
      {"norm",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("p") && !a.has("dims") && !a.has("keepdim")) return Tensors{norm(in.at(0))};
         return Tensors{norm(in.at(0), a.d("p", 2), a.dims("dims"), a.b("keepdim"))};
       }},
      {"logsumexp",
       [](const Tensors& in, const Attrs& a) { return Tensors{logsumexp(in.at(0), a.dims("dims"), a.b("keepdim"))}; }},
      {"all",
       [](const Tensors& in, const Attrs& a) {
         return a.has("dims") ? Tensors{all(in.at(0), a.dims("dims"), a.b("keepdim"))} : Tensors{all(in.at(0))};
       }},
      {"any",
       [](const Tensors& in, const Attrs& a) {
         return a.has("dims") ? Tensors{any(in.at(0), a.dims("dims"), a.b("keepdim"))} : Tensors{any(in.at(0))};
       }},
      {"cumsum", [](const Tensors& in, const Attrs& a) { return Tensors{cumsum(in.at(0), a.i("dim"), a.dtype())}; }},
      {"cumprod", [](const Tensors& in, const Attrs& a) { return Tensors{cumprod(in.at(0), a.i("dim"), a.dtype())}; }},
      // ---- linear algebra
      RICCI_TENSOR_BINARY(matmul), RICCI_TENSOR_BINARY(mm), RICCI_TENSOR_BINARY(bmm), RICCI_TENSOR_BINARY(mv),
      RICCI_TENSOR_BINARY(dot), RICCI_TENSOR_BINARY(outer),
      {"addmm",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{addmm(in.at(0), in.at(1), in.at(2), a.has("beta") ? a.scalar("beta") : Scalar(1),
                              a.has("alpha") ? a.scalar("alpha") : Scalar(1))};
       }},
      {"einsum", [](const Tensors& in, const Attrs& a) { return Tensors{einsum(a.s("equation"), in)}; }},
      // ---- shape and indexing
      {"cat", [](const Tensors& in, const Attrs& a) { return Tensors{cat(in, a.i("dim"))}; }},
      {"stack", [](const Tensors& in, const Attrs& a) { return Tensors{stack(in, a.i("dim"))}; }},
      {"split",
       [](const Tensors& in, const Attrs& a) {
         if (a.raw("split_size").is_array()) return split(in.at(0), IntArrayRef(a.dims("split_size")), a.i("dim"));
         return split(in.at(0), a.i("split_size"), a.i("dim"));
       }},
      {"chunk", [](const Tensors& in, const Attrs& a) { return chunk(in.at(0), a.i("chunks"), a.i("dim")); }},
      {"index_select",
       [](const Tensors& in, const Attrs& a) { return Tensors{index_select(in.at(0), a.i("dim"), in.at(1))}; }},
      {"gather", [](const Tensors& in, const Attrs& a) { return Tensors{gather(in.at(0), a.i("dim"), in.at(1))}; }},
      {"scatter",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("value")) return Tensors{scatter(in.at(0), a.i("dim"), in.at(1), a.scalar("value"))};
         return Tensors{scatter(in.at(0), a.i("dim"), in.at(1), in.at(2))};
       }},
      {"scatter_add",
       [](const Tensors& in, const Attrs& a) { return Tensors{scatter_add(in.at(0), a.i("dim"), in.at(1), in.at(2))}; }},
      {"index_add",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{index_add(in.at(0), a.i("dim"), in.at(1), in.at(2), a.has("alpha") ? a.scalar("alpha") : Scalar(1))};
       }},
      {"tril", [](const Tensors& in, const Attrs& a) { return Tensors{tril(in.at(0), a.i("diagonal"))}; }},
      {"triu", [](const Tensors& in, const Attrs& a) { return Tensors{triu(in.at(0), a.i("diagonal"))}; }},
      {"repeat", [](const Tensors& in, const Attrs& a) { return Tensors{repeat(in.at(0), a.dims("repeats"))}; }},
      {"tile", [](const Tensors& in, const Attrs& a) { return Tensors{tile(in.at(0), a.dims("reps"))}; }},
      {"flip", [](const Tensors& in, const Attrs& a) { return Tensors{flip(in.at(0), a.dims("dims"))}; }},
      {"roll", [](const Tensors& in, const Attrs& a) { return Tensors{roll(in.at(0), a.dims("shifts"), a.dims("dims"))}; }},
      {"one_hot", [](const Tensors& in, const Attrs& a) { return Tensors{one_hot(in.at(0), a.i("num_classes", -1))}; }},
      {"take_along_dim",
       [](const Tensors& in, const Attrs& a) { return Tensors{take_along_dim(in.at(0), in.at(1), a.opt_i("dim"))}; }},
      {"sort",
       [](const Tensors& in, const Attrs& a) {
         return pair(sort(in.at(0), a.i("dim", -1), a.b("descending"), a.b("stable")));
       }},
      {"argsort",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{argsort(in.at(0), a.i("dim", -1), a.b("descending"), a.b("stable"))};
       }},
      {"topk",
       [](const Tensors& in, const Attrs& a) {
         return pair(topk(in.at(0), a.i("k"), a.i("dim", -1), a.b("largest", true), a.b("sorted", true)));
       }},
      {"index", [](const Tensors& in, const Attrs& a) { return Tensors{index(in.at(0), index_list(a.raw("index"), in))}; }},
      {"index_put",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{index_put(in.at(0), index_list(a.raw("index"), in), in.at(1), a.b("accumulate"))};
       }},
      // ---- structural ops added later (cases_missing_struct.py)
      {"median",
       [](const Tensors& in, const Attrs& a) {
         return a.has("dim") ? pair(median(in.at(0), a.i("dim"), a.b("keepdim"))) : Tensors{median(in.at(0))};
       }},
      {"kthvalue",
       [](const Tensors& in, const Attrs& a) {
         return pair(kthvalue(in.at(0), a.i("k"), a.i("dim", -1), a.b("keepdim")));
       }},
      {"nonzero",
       [](const Tensors& in, const Attrs& a) {
         return a.b("as_tuple") ? nonzero_tuple(in.at(0)) : Tensors{nonzero(in.at(0))};
       }},
      {"count_nonzero", [](const Tensors& in, const Attrs& a) { return Tensors{count_nonzero(in.at(0), a.dims("dims"))}; }},
      {"logcumsumexp", [](const Tensors& in, const Attrs& a) { return Tensors{logcumsumexp(in.at(0), a.i("dim"))}; }},
      {"cummax", [](const Tensors& in, const Attrs& a) { return pair(cummax(in.at(0), a.i("dim"))); }},
      {"cummin", [](const Tensors& in, const Attrs& a) { return pair(cummin(in.at(0), a.i("dim"))); }},
      {"trace", [](const Tensors& in, const Attrs&) { return Tensors{trace(in.at(0))}; }},
      {"tensordot",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("dims")) return Tensors{tensordot(in.at(0), in.at(1), a.i("dims"))};
         return Tensors{tensordot(in.at(0), in.at(1), a.dims("dims_a"), a.dims("dims_b"))};
       }},
      {"baddbmm",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{baddbmm(in.at(0), in.at(1), in.at(2), a.has("beta") ? a.scalar("beta") : Scalar(1),
                                a.has("alpha") ? a.scalar("alpha") : Scalar(1))};
       }},
      RICCI_TENSOR_BINARY(kron),
      {"cross", [](const Tensors& in, const Attrs& a) { return Tensors{cross(in.at(0), in.at(1), a.opt_i("dim"))}; }},
      {"diff",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{diff(in.at(0), a.i("n", 1), a.i("dim", -1), in.at(1), in.at(2))};
       }},
      {"pad",
       [](const Tensors& in, const Attrs& a) {
         const std::string mode = a.s("mode", "constant");
         return Tensors{pad(in.at(0), a.dims("pad"), mode, a.opt_scalar("value"))};
       }},
      {"diag", [](const Tensors& in, const Attrs& a) { return Tensors{diag(in.at(0), a.i("diagonal"))}; }},
      {"diag_embed",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{diag_embed(in.at(0), a.i("offset"), a.i("dim1", -2), a.i("dim2", -1))};
       }},
      {"repeat_interleave",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("repeats")) return Tensors{repeat_interleave(in.at(0), a.i("repeats"), a.opt_i("dim"), a.opt_i("output_size"))};
         if (in.size() == 1) return Tensors{repeat_interleave(in.at(0), a.opt_i("output_size"))};
         return Tensors{repeat_interleave(in.at(0), in.at(1), a.opt_i("dim"), a.opt_i("output_size"))};
       }},
      {"searchsorted",
       [](const Tensors& in, const Attrs& a) {
         std::optional<std::string> side;
         if (a.has("side")) side = a.s("side");
         const std::optional<std::string_view> sv = side ? std::optional<std::string_view>(*side) : std::nullopt;
         const Tensor sorter = in.size() > 2 ? in.at(2) : Tensor();
         if (a.has("scalar")) return Tensors{searchsorted(in.at(0), a.scalar("scalar"), a.b("out_int32"), a.b("right"), sv, sorter)};
         return Tensors{searchsorted(in.at(0), in.at(1), a.b("out_int32"), a.b("right"), sv, sorter)};
       }},
      {"bucketize",
       [](const Tensors& in, const Attrs& a) {
         if (a.has("scalar")) return Tensors{bucketize(a.scalar("scalar"), in.at(0), a.b("out_int32"), a.b("right"))};
         return Tensors{bucketize(in.at(0), in.at(1), a.b("out_int32"), a.b("right"))};
       }},
      // ---- nn functional
      {"softmax", [](const Tensors& in, const Attrs& a) { return Tensors{F::softmax(in.at(0), a.i("dim"), a.dtype())}; }},
      {"log_softmax",
       [](const Tensors& in, const Attrs& a) { return Tensors{F::log_softmax(in.at(0), a.i("dim"), a.dtype())}; }},
      {"layer_norm",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("eps")) return Tensors{F::layer_norm(in.at(0), a.dims("normalized_shape"), in.at(1), in.at(2))};
         return Tensors{F::layer_norm(in.at(0), a.dims("normalized_shape"), in.at(1), in.at(2), a.d("eps"))};
       }},
      {"rms_norm",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::rms_norm(in.at(0), a.dims("normalized_shape"), in.at(1), a.opt_d("eps"))};
       }},
      {"embedding",
       [](const Tensors& in, const Attrs& a) { return Tensors{F::embedding(in.at(0), in.at(1), a.opt_i("padding_idx"))}; }},
      {"linear", [](const Tensors& in, const Attrs&) { return Tensors{F::linear(in.at(0), in.at(1), in.at(2))}; }},
      {"cross_entropy",
       [](const Tensors& in, const Attrs& a) {
         F::CrossEntropyOptions o;  // its defaults, unless the case sets them
         o.weight = in.at(2);
         if (a.has("ignore_index")) o.ignore_index = a.i("ignore_index");
         if (a.has("reduction")) o.reduction = reduction(a);
         if (a.has("label_smoothing")) o.label_smoothing = a.d("label_smoothing");
         return Tensors{F::cross_entropy(in.at(0), in.at(1), o)};
       }},
      {"nll_loss",
       [](const Tensors& in, const Attrs& a) {
         F::NllLossOptions o;
         o.weight = in.at(2);
         if (a.has("ignore_index")) o.ignore_index = a.i("ignore_index");
         if (a.has("reduction")) o.reduction = reduction(a);
         return Tensors{F::nll_loss(in.at(0), in.at(1), o)};
       }},
      {"mse_loss",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{a.has("reduction") ? F::mse_loss(in.at(0), in.at(1), reduction(a)) : F::mse_loss(in.at(0), in.at(1))};
       }},
      {"scaled_dot_product_attention",
       [](const Tensors& in, const Attrs& a) {
         if (!a.has("is_causal") && !a.has("scale"))
           return Tensors{F::scaled_dot_product_attention(in.at(0), in.at(1), in.at(2), in.at(3))};
         return Tensors{F::scaled_dot_product_attention(in.at(0), in.at(1), in.at(2), in.at(3), a.b("is_causal"),
                                                        a.opt_d("scale"))};
       }},
      // ---- the math and nn ops of cases_missing_math.py
      RICCI_UNARY(sinh), RICCI_UNARY(cosh), RICCI_UNARY(asinh), RICCI_UNARY(acosh), RICCI_UNARY(atanh),
      RICCI_UNARY(asin), RICCI_UNARY(acos), RICCI_UNARY(atan), RICCI_UNARY(selu), RICCI_UNARY(logsigmoid),
      RICCI_UNARY(mish), RICCI_TENSOR_BINARY(logaddexp), RICCI_TENSOR_BINARY(hypot),
      {"nan_to_num",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{nan_to_num(in.at(0), a.d("nan", 0.0), a.opt_d("posinf"), a.opt_d("neginf"))};
       }},
      {"elu", [](const Tensors& in, const Attrs& a) { return Tensors{elu(in.at(0), a.d("alpha", 1.0))}; }},
      {"celu", [](const Tensors& in, const Attrs& a) { return Tensors{celu(in.at(0), a.d("alpha", 1.0))}; }},
      {"leaky_relu",
       [](const Tensors& in, const Attrs& a) { return Tensors{leaky_relu(in.at(0), a.d("negative_slope", 0.01))}; }},
      {"softmin", [](const Tensors& in, const Attrs& a) { return Tensors{F::softmin(in.at(0), a.i("dim"), a.dtype())}; }},
      {"group_norm",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::group_norm(in.at(0), a.i("num_groups"), in.at(1), in.at(2), a.d("eps", 1e-5))};
       }},
      {"binary_cross_entropy",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::binary_cross_entropy(in.at(0), in.at(1), in.at(2), reduction(a))};
       }},
      {"binary_cross_entropy_with_logits",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::binary_cross_entropy_with_logits(in.at(0), in.at(1), in.at(2), reduction(a), in.at(3))};
       }},
      {"kl_div",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::kl_div(in.at(0), in.at(1), reduction(a), a.b("log_target"))};
       }},
      {"smooth_l1_loss",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::smooth_l1_loss(in.at(0), in.at(1), reduction(a), a.d("beta", 1.0))};
       }},
      {"huber_loss",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::huber_loss(in.at(0), in.at(1), reduction(a), a.d("delta", 1.0))};
       }},
      {"cosine_similarity",
       [](const Tensors& in, const Attrs& a) {
         return Tensors{F::cosine_similarity(in.at(0), in.at(1), a.i("dim", 1), a.d("eps", 1e-8))};
       }},
  };
  return table;
}

// ---- views --------------------------------------------------------------------------------------------
Tensor apply_view(const Tensor& t, const json& v) {
  const std::string kind = v.at(0).get<std::string>();
  if (kind == "transpose") return t.transpose(v.at(1).get<int64_t>(), v.at(2).get<int64_t>());
  if (kind == "permute") return t.permute(v.at(1).get<std::vector<int64_t>>());
  if (kind == "slice") {
    auto opt = [&](size_t i) { return v.at(i).is_null() ? std::nullopt : std::optional(v.at(i).get<int64_t>()); };
    return t.slice(v.at(1).get<int64_t>(), opt(2), opt(3), v.at(4).get<int64_t>());
  }
  if (kind == "expand") return t.expand(v.at(1).get<std::vector<int64_t>>());
  if (kind == "unsqueeze") return t.unsqueeze(v.at(1).get<int64_t>());
  throw std::runtime_error("unknown view '" + kind + "' in the manifest");
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << dtype_name(t.dtype()) << t.shape();
  if (!t.is_contiguous()) os << " strides " << t.strides();
  return os.str();
}

// ---- comparison ---------------------------------------------------------------------------------------
struct Tolerance {
  double rtol, atol;
};
// Defaults per dtype; a case may override rtol/atol for its floating outputs.
Tolerance tolerance_for(DType dtype, const json& c) {
  Tolerance t{0, 0};  // integer and bool: exact
  if (dtype == float64) t = {1e-12, 1e-12};
  if (dtype == float32) t = {1e-6, 1e-6};
  // Half types: two ulps, since PyTorch rounds some intermediates to the half type where ricci
  // rounds once at the end (e.g. rms_norm's normalised value before the weight).
  if (dtype == float16) t = {2e-3, 1e-3};
  if (dtype == bfloat16) t = {1.6e-2, 1e-2};
  if (is_floating_point(dtype)) {
    t.rtol = c.value("rtol", t.rtol);
    t.atol = c.value("atol", t.atol);
  }
  return t;
}

// "" when `actual` matches `expected` (shape, dtype, values within tol; NaN matches NaN, an infinity
// only itself), else what differs.
std::string compare(const std::string& what, const Tensor& actual, const Tensor& expected, Tolerance tol) {
  std::ostringstream os;
  if (!actual.defined()) return what + ": ricci gave an undefined tensor, expected " + describe(expected);
  if (!(actual.shape() == expected.shape()) || actual.dtype() != expected.dtype()) {
    os << what << ": got " << describe(actual) << ", expected " << describe(expected);
    return os.str();
  }
  if (!is_floating_point(expected.dtype())) {  // exact, in int64 (doubles would round past 2^53)
    const auto a = actual.to_vector<int64_t>(), e = expected.to_vector<int64_t>();
    const auto bad = std::mismatch(a.begin(), a.end(), e.begin());
    if (bad.first == a.end()) return "";
    os << what << " (" << describe(expected) << "): " << std::inner_product(a.begin(), a.end(), e.begin(), 0,
                                                                            std::plus<>(), std::not_equal_to<>())
       << " of " << a.size() << " elements differ; first at flat index " << (bad.first - a.begin()) << ": ricci "
       << *bad.first << ", torch " << *bad.second;
    if (a.size() <= 24)
      os << "\n    ricci: " << ::testing::PrintToString(a) << "\n    torch: " << ::testing::PrintToString(e);
    return os.str();
  }
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  double max_err = 0;
  int64_t bad = 0, first_bad = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    double err;  // NaN against non-NaN, or a wrong infinity, count as infinitely far
    if (std::isnan(a[i]) || std::isnan(e[i])) err = std::isnan(a[i]) && std::isnan(e[i]) ? 0 : INFINITY;
    else if (std::isinf(a[i]) || std::isinf(e[i])) err = a[i] == e[i] ? 0 : INFINITY;
    else err = std::abs(a[i] - e[i]);
    max_err = std::max(max_err, err);
    if (err > tol.atol + tol.rtol * (std::isfinite(e[i]) ? std::abs(e[i]) : 0)) {
      if (bad++ == 0) first_bad = static_cast<int64_t>(i);
    }
  }
  if (bad == 0) return "";
  os.precision(17);
  os << what << " (" << describe(expected) << "): " << bad << " of " << a.size() << " elements differ, max abs error "
     << max_err << " (rtol " << tol.rtol << ", atol " << tol.atol << "); first at flat index " << first_bad << ": ricci "
     << a[static_cast<size_t>(first_bad)] << ", torch " << e[static_cast<size_t>(first_bad)];
  if (a.size() <= 24) {
    os << "\n    ricci: [";
    for (size_t i = 0; i < a.size(); ++i) os << (i ? ", " : "") << a[i];
    os << "]\n    torch: [";
    for (size_t i = 0; i < e.size(); ++i) os << (i ? ", " : "") << e[i];
    os << "]";
  }
  return os.str();
}

// The upstream gradient make_golden.py uses: ((7k) mod 11 - 5) / 4 at flat index k, exact in any dtype.
Tensor upstream(const Tensor& out) {
  std::vector<double> v(static_cast<size_t>(out.numel()));
  for (size_t k = 0; k < v.size(); ++k) v[k] = (static_cast<double>((k * 7) % 11) - 5) / 4;
  return from_vector<double>(v, out.shape()).to(out.dtype());
}

// ---- running one case -----------------------------------------------------------------------------------
// Runs case `c` through ricci; returns "" when every output (and gradient) matches, else a report.
std::string run_case(const json& c) {
  const Golden& g = golden();
  const std::string name = c.at("name").get<std::string>(), op = c.at("op").get<std::string>();
  const json& in_names = c.at("inputs");
  const json views = c.value("views", json::array());
  const Attrs attrs(c.value("attrs", json::object()));
  const std::vector<size_t> grad_pos = c.value("grads", std::vector<size_t>{});

  Tensors leaves, inputs;
  for (size_t i = 0; i < in_names.size(); ++i) {
    Tensor t;
    if (!in_names[i].is_null()) {
      t = g.file.get(in_names[i].get<std::string>());
      if (std::find(grad_pos.begin(), grad_pos.end(), i) != grad_pos.end()) t = t.clone().requires_grad_();
    }
    leaves.push_back(t);
    if (t.defined() && i < views.size())
      for (const json& v : views[i]) t = apply_view(t, v);
    inputs.push_back(t);
  }
  std::ostringstream head;
  head << "case " << name << ": op " << op << "(";
  for (size_t i = 0; i < inputs.size(); ++i) head << (i ? ", " : "") << describe(inputs[i]);
  head << ")";
  if (c.contains("attrs")) head << " attrs " << c.at("attrs").dump();
  head << "\n  ";

  Tensors outs;
  try {
    outs = ops().at(op)(inputs, attrs);
  } catch (const std::exception& e) {
    return head.str() + "ricci threw: " + e.what();
  }
  std::vector<std::string> problems;
  const size_t n_out = c.at("outputs").get<size_t>();
  if (outs.size() != n_out)
    problems.push_back("ricci gave " + std::to_string(outs.size()) + " outputs, torch " + std::to_string(n_out));
  for (size_t j = 0; j < std::min(outs.size(), n_out); ++j) {
    const Tensor expected = g.file.get(name + ".out" + std::to_string(j));
    std::string p = compare("output " + std::to_string(j), outs[j], expected, tolerance_for(expected.dtype(), c));
    if (!p.empty()) problems.push_back(p);
  }
  if (!grad_pos.empty() && problems.empty()) {
    try {
      Tensor loss;
      for (const Tensor& o : outs)
        if (o.is_floating_point() && o.requires_grad()) {
          Tensor term = (o * upstream(o)).sum();
          loss = loss.defined() ? loss + term : term;
        }
      if (!loss.defined()) throw std::runtime_error("no output requires grad");
      loss.backward();
      for (size_t i : grad_pos) {
        const Tensor expected = g.file.get(name + ".grad" + std::to_string(i));
        Tensor got = leaves.at(i).grad();
        if (!got.defined()) got = zeros_like(expected);
        std::string p = compare("gradient of input " + std::to_string(i), got, expected,
                                tolerance_for(expected.dtype(), c));
        if (!p.empty()) problems.push_back(p);
      }
    } catch (const std::exception& e) {
      problems.push_back(std::string("backward threw: ") + e.what());
    }
  }
  if (problems.empty()) return "";
  std::string report = head.str();
  for (size_t i = 0; i < problems.size(); ++i) report += (i ? "\n  " : "") + problems[i];
  return report;
}

// ---- the tests ------------------------------------------------------------------------------------------
class GoldenOp : public ::testing::TestWithParam<CaseRef> {};

TEST_P(GoldenOp, Matches) {
  const json& c = golden().cases.at(GetParam().index);
  const std::string op = c.at("op").get<std::string>();
  // An op the harness does not know is a drift between make_golden.py and this file: always fail.
  ASSERT_TRUE(ops().count(op)) << "case " << c.at("name") << ": op '" << op
                               << "' is unknown to tests/test_differential.cpp; add it to ops()";
  // A known divergence is not run by default: some are undefined behaviour that a sanitizer build
  // stops at. RICCI_GOLDEN_RUN_KNOWN=1 runs them and shows the mismatch (or that it is gone).
  if (c.contains("known_divergence")) {
    const std::string reason = c.at("known_divergence").get<std::string>();
    const char* run = std::getenv("RICCI_GOLDEN_RUN_KNOWN");
    if (!run || std::string(run) != "1")
      GTEST_SKIP() << "known divergence: " << reason << " (RICCI_GOLDEN_RUN_KNOWN=1 runs it)";
    const std::string report = run_case(c);
    if (report.empty())
      GTEST_SKIP() << "known divergence (" << reason << "): the values now match PyTorch in this build; once "
                   << "the reason is gone, remove known= from tests/differential/make_golden.py and regenerate";
    GTEST_SKIP() << "known divergence: " << reason << "\n" << report;
  }
  const std::string report = run_case(c);
  EXPECT_TRUE(report.empty()) << report;
}

INSTANTIATE_TEST_SUITE_P(differential, GoldenOp, ::testing::ValuesIn(case_refs()),
                         [](const ::testing::TestParamInfo<CaseRef>& info) { return info.param.name; });

// The manifest must be readable, non-empty and name only ops the table knows (listed at once here,
// besides each case failing on its own).
TEST(differentialManifest, LoadsAndNamesOnlyKnownOps) {
  const Golden& g = golden();
  ASSERT_TRUE(g.error.empty()) << g.error;
  ASSERT_GT(g.cases.size(), 0u) << "no cases in " << golden_dir() << "/manifest.json";
  std::set<std::string> unknown;
  for (const json& c : g.cases)
    if (!ops().count(c.at("op").get<std::string>())) unknown.insert(c.at("op").get<std::string>());
  EXPECT_TRUE(unknown.empty()) << "ops in the manifest unknown to tests/test_differential.cpp: "
                               << ::testing::PrintToString(unknown);
}

// The comparison itself must be able to fail: a changed value, dtype or shape is reported.
TEST(differentialHarness, ComparisonCatchesMismatches) {
  const Tensor e = tensor({1.0, 2.0, NAN, INFINITY}, float32);
  const Tolerance tol{1e-6, 1e-6};
  EXPECT_EQ(compare("x", e.clone(), e, tol), "");
  EXPECT_NE(compare("x", tensor({1.0, 2.001, NAN, INFINITY}, float32), e, tol).find("max abs error"),
            std::string::npos);
  EXPECT_NE(compare("x", tensor({1.0, 2.0, 0.0, INFINITY}, float32), e, tol), "");   // NaN expected
  EXPECT_NE(compare("x", tensor({1.0, 2.0, NAN, -INFINITY}, float32), e, tol), "");  // sign of inf
  EXPECT_NE(compare("x", e.to(float64), e, tol).find("float64"), std::string::npos);
  EXPECT_NE(compare("x", e.reshape({2, 2}), e, tol), "");
  EXPECT_NE(compare("x", tensor({1, 2}, int64), tensor({1, 3}, int64), tol), "");
  const int64_t big = int64_t{1} << 53;  // integers compare exactly, beyond double precision too
  EXPECT_NE(compare("x", from_vector<int64_t>({big + 1}, {1}), from_vector<int64_t>({big}, {1}), tol), "");
}

}  // namespace
