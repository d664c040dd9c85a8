// Module-level functions: factories, random numbers, and the free ops that are not simply a
// method (cat, stack, where, einsum, matmul, ...). The Python package adds the rest as wrappers.
#include "common.h"

namespace ricci::python {
namespace {

std::vector<Tensor> tensor_list(nb::handle obj) {
  std::vector<Tensor> out;
  for (nb::handle h : nb::iter(obj)) out.push_back(nb::cast<Tensor>(h));
  return out;
}

#define RICCI_FACTORY_KW \
  nb::kw_only(), "dtype"_a = nb::none(), "device"_a = nb::none(), "requires_grad"_a = false
#define RICCI_LIKE_KW nb::kw_only(), "dtype"_a = nb::none(), "device"_a = nb::none(), "requires_grad"_a = false

// *_like: shape and dtype of `t` unless given, its device unless given.
TensorOptions like_options(const Tensor& t, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
  return TensorOptions(dtype.value_or(t.dtype()), device.value_or(t.device()), rg);
}

}  // namespace

void init_functions(nb::module_& m) {
  // ---- creation ----------------------------------------------------------------------------------
  m.def("tensor", &tensor_from_data, "data"_a, RICCI_FACTORY_KW,
        "A new tensor holding a copy of data (nested lists, a Python number, a numpy array, a tensor).");
  m.def("from_numpy", &from_numpy, "array"_a,
        "A tensor sharing the numpy array's memory (no copy); the array is kept alive by the tensor.");
  m.def("from_dlpack", [](nb::handle obj) { return from_numpy(obj); }, "ext_tensor"_a,
        "A tensor sharing the memory of any object with __dlpack__ (numpy, PyTorch, JAX; CPU).");
  m.def("scalar_tensor", [](const Scalar& v, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return scalar_tensor(v, make_options(dtype, device, rg));
  }, "value"_a, RICCI_FACTORY_KW);
  m.def("zeros", [](nb::args size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return zeros(shape_from_args(size, "zeros"), make_options(dtype, device, rg));
  }, "size"_a, RICCI_FACTORY_KW);
  m.def("ones", [](nb::args size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return ones(shape_from_args(size, "ones"), make_options(dtype, device, rg));
  }, "size"_a, RICCI_FACTORY_KW);
  m.def("empty", [](nb::args size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return empty(shape_from_args(size, "empty"), make_options(dtype, device, rg));
  }, "size"_a, RICCI_FACTORY_KW);
  m.def("full", [](nb::handle size, const Scalar& v, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return full(int_list(size, "full"), v, make_options(dtype, device, rg));
  }, "size"_a, "fill_value"_a, RICCI_FACTORY_KW);
  m.def("rand", [](nb::args size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return rand(shape_from_args(size, "rand"), make_options(dtype, device, rg));
  }, "size"_a, RICCI_FACTORY_KW);
  m.def("randn", [](nb::args size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return randn(shape_from_args(size, "randn"), make_options(dtype, device, rg));
  }, "size"_a, RICCI_FACTORY_KW);
  m.def("randint", [](int64_t low, std::optional<int64_t> high, nb::handle size, std::optional<DType> dtype,
                      std::optional<Device> device, bool rg) {
    // randint(high, size) or randint(low, high, size), as in PyTorch
    if (!high) throw nb::type_error("randint(): expected randint(high, size) or randint(low, high, size)");
    return randint(low, *high, int_list(size, "randint"), make_options(dtype, device, rg));
  }, "low"_a, "high"_a, "size"_a, RICCI_FACTORY_KW);
  m.def("randint", [](int64_t high, nb::handle size, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return randint(high, int_list(size, "randint"), make_options(dtype, device, rg));
  }, "high"_a, "size"_a, RICCI_FACTORY_KW);
  m.def("randperm", [](int64_t n, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return randperm(n, make_options(dtype, device, rg));
  }, "n"_a, RICCI_FACTORY_KW);
  m.def("arange", [](const Scalar& a, std::optional<Scalar> b, const Scalar& step, std::optional<DType> dtype,
                     std::optional<Device> device, bool rg) {
    TensorOptions o = make_options(dtype, device, rg);
    return b ? arange(a, *b, step, o) : arange(a, o);
  }, "start"_a, "end"_a = nb::none(), "step"_a = 1, RICCI_FACTORY_KW);
  m.def("linspace", [](double a, double b, int64_t steps, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return linspace(a, b, steps, make_options(dtype, device, rg));
  }, "start"_a, "end"_a, "steps"_a, RICCI_FACTORY_KW);
  m.def("eye", [](int64_t n, std::optional<int64_t> mm, std::optional<DType> dtype, std::optional<Device> device, bool rg) {
    return eye(n, mm, make_options(dtype, device, rg));
  }, "n"_a, "m"_a = nb::none(), RICCI_FACTORY_KW);
  m.def("empty_strided", [](nb::handle size, nb::handle stride, std::optional<DType> dtype, std::optional<Device> device,
                            bool rg) {
    return empty_strided(int_list(size, "empty_strided"), int_list(stride, "empty_strided"), make_options(dtype, device, rg));
  }, "size"_a, "stride"_a, RICCI_FACTORY_KW);
  m.def("zeros_like", [](const Tensor& t, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return zeros_like(t, like_options(t, d, dev, rg));
  }, "input"_a, RICCI_LIKE_KW);
  m.def("ones_like", [](const Tensor& t, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return ones_like(t, like_options(t, d, dev, rg));
  }, "input"_a, RICCI_LIKE_KW);
  m.def("empty_like", [](const Tensor& t, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return empty_like(t, like_options(t, d, dev, rg));
  }, "input"_a, RICCI_LIKE_KW);
  m.def("rand_like", [](const Tensor& t, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return rand_like(t, like_options(t, d, dev, rg));
  }, "input"_a, RICCI_LIKE_KW);
  m.def("randn_like", [](const Tensor& t, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return randn_like(t, like_options(t, d, dev, rg));
  }, "input"_a, RICCI_LIKE_KW);
  m.def("full_like", [](const Tensor& t, const Scalar& v, std::optional<DType> d, std::optional<Device> dev, bool rg) {
    return full_like(t, v, like_options(t, d, dev, rg));
  }, "input"_a, "fill_value"_a, RICCI_LIKE_KW);
  m.def("manual_seed", &manual_seed, "seed"_a);
  m.def("bernoulli", [](const Tensor& p) { return bernoulli(p); }, "input"_a);
  m.def("multinomial", [](const Tensor& p, int64_t n, bool replacement) { return multinomial(p, n, replacement); },
        "input"_a, "num_samples"_a, "replacement"_a = false);

  // ---- ops that are not methods ------------------------------------------------------------------
  m.def("cat", [](nb::handle tensors, int64_t dim) { return cat(tensor_list(tensors), dim); }, "tensors"_a, "dim"_a = 0);
  m.def("concat", [](nb::handle tensors, int64_t dim) { return cat(tensor_list(tensors), dim); }, "tensors"_a, "dim"_a = 0);
  m.def("stack", [](nb::handle tensors, int64_t dim) { return stack(tensor_list(tensors), dim); }, "tensors"_a, "dim"_a = 0);
  m.def("where", [](const Tensor& c, const Tensor& a, const Tensor& b) { return where(c, a, b); }, "condition"_a, "input"_a, "other"_a);
  m.def("where", [](const Tensor& c, const Tensor& a, const Scalar& b) { return where(c, a, b); }, "condition"_a, "input"_a, "other"_a);
  m.def("where", [](const Tensor& c, const Scalar& a, const Tensor& b) { return where(c, a, b); }, "condition"_a, "input"_a, "other"_a);
  m.def("where", [](const Tensor& c, const Scalar& a, const Scalar& b) { return where(c, a, b); }, "condition"_a, "input"_a, "other"_a);
  m.def("einsum", [](const std::string& eq, nb::args operands) {
    std::vector<Tensor> ops;
    if (operands.size() == 1 && !nb::isinstance<Tensor>(operands[0])) ops = tensor_list(operands[0]);
    else ops = tensor_list(operands);
    nb::gil_scoped_release release;
    return einsum(eq, ops);
  }, "equation"_a, "operands"_a);
  m.def("matmul", [](const Tensor& a, const Tensor& b) {
    nb::gil_scoped_release release;
    return matmul(a, b);
  }, "input"_a, "other"_a);
  // Quantized weights, with MLX's names and signatures (include/ricci/quantize.h).
  m.def("quantize", [](const Tensor& w, int64_t group_size, int64_t bits) {
    QuantizedTensor q;
    {
      nb::gil_scoped_release release;
      q = quantize(w, group_size, bits);
    }
    return nb::make_tuple(q.weight, q.scales, q.biases);
  }, "w"_a, "group_size"_a = 64, "bits"_a = 4, "Packed codes (int32 words holding MLX's uint32 bits), scales and biases.");
  m.def("dequantize", [](const Tensor& w, const Tensor& scales, const Tensor& biases, int64_t group_size, int64_t bits) {
    nb::gil_scoped_release release;
    return dequantize(w, scales, biases, group_size, bits);
  }, "w"_a, "scales"_a, "biases"_a, "group_size"_a = 64, "bits"_a = 4);
  m.def("quantized_matmul", [](const Tensor& x, const Tensor& w, const Tensor& scales, const Tensor& biases, bool transpose,
                               int64_t group_size, int64_t bits, const std::string& activations) {
    const ActivationPrecision a = parse_activations(activations);
    nb::gil_scoped_release release;
    return quantized_matmul(x, w, scales, biases, transpose, group_size, bits, a);
  }, "x"_a, "w"_a, "scales"_a, "biases"_a, "transpose"_a = true, "group_size"_a = 64, "bits"_a = 4,
     nb::kw_only(), "activations"_a = "float",
     "x @ dequantize(w).T (transpose) or x @ dequantize(w). activations=\"int8\" first rounds x to int8 per block "
     "of 32 (d = max|x| / 127): faster decoding on AVX2, no gradient.");
  m.def("addmm", [](const Tensor& in, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha) {
    nb::gil_scoped_release release;
    return addmm(in, a, b, beta, alpha);
  }, "input"_a, "mat1"_a, "mat2"_a, nb::kw_only(), "beta"_a = 1, "alpha"_a = 1);
  m.def("tensordot", [](const Tensor& a, const Tensor& b, nb::handle dims) {
    if (PyLong_Check(dims.ptr())) return tensordot(a, b, nb::cast<int64_t>(dims));
    nb::sequence pair = nb::borrow<nb::sequence>(dims);
    return tensordot(a, b, int_list(pair[0], "tensordot"), int_list(pair[1], "tensordot"));
  }, "a"_a, "b"_a, "dims"_a = 2);
  m.def("broadcast_shapes", [](nb::args shapes) {
    std::vector<int64_t> out;
    for (nb::handle s : shapes) {
      std::vector<int64_t> next = int_list(s, "broadcast_shapes");
      Dims b = broadcast_shapes(out, next, "broadcast_shapes");
      out.assign(b.begin(), b.end());
    }
    return nb::tuple(nb::cast(out));
  }, "shapes"_a);
  m.def("result_type", [](const Tensor& a, const Tensor& b) { return result_type(a, b); }, "tensor1"_a, "tensor2"_a);
  m.def("result_type", [](const Tensor& a, const Scalar& b) { return result_type(a, b); }, "tensor1"_a, "tensor2"_a);
  m.def("one_hot", &one_hot, "input"_a, "num_classes"_a = -1);
  m.def("searchsorted", [](const Tensor& seq, const Tensor& v, bool out_int32, bool right, std::optional<std::string> side) {
    return searchsorted(seq, v, out_int32, right, side ? std::optional<std::string_view>(*side) : std::nullopt);
  }, "sorted_sequence"_a, "values"_a, nb::kw_only(), "out_int32"_a = false, "right"_a = false, "side"_a = nb::none());
  m.def("bucketize", [](const Tensor& x, const Tensor& b, bool out_int32, bool right) { return bucketize(x, b, out_int32, right); },
        "input"_a, "boundaries"_a, nb::kw_only(), "out_int32"_a = false, "right"_a = false);
  m.def("pad", [](const Tensor& x, nb::handle pad, const std::string& mode, std::optional<Scalar> value) {
    return ricci::pad(x, int_list(pad, "pad"), mode, value);
  }, "input"_a, "pad"_a, "mode"_a = "constant", "value"_a = nb::none());
  m.def("repeat_interleave", [](const Tensor& repeats) { return repeat_interleave(repeats); }, "repeats"_a);
  m.def("index_put", [](const Tensor& x, nb::handle indices, const Tensor& values, bool accumulate) {
    std::vector<TensorIndex> idx;
    for (nb::handle h : nb::iter(indices)) idx.emplace_back(nb::cast<Tensor>(h));
    return index_put(x, idx, values, accumulate);
  }, "input"_a, "indices"_a, "values"_a, "accumulate"_a = false);
  m.def("clamp", [](const Tensor& x, std::optional<Tensor> lo, std::optional<Tensor> hi) {
    return clamp(x, lo.value_or(Tensor()), hi.value_or(Tensor()));
  }, "input"_a, "min"_a = nb::none(), "max"_a = nb::none());
  m.def("clamp", [](const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi) { return clamp(x, lo, hi); },
        "input"_a, "min"_a = nb::none(), "max"_a = nb::none());
  m.def("pow", [](const Scalar& a, const Tensor& b) { return ricci::pow(a, b); }, "input"_a, "exponent"_a);
  m.def("elu", &elu, "input"_a, "alpha"_a = 1.0);
  m.def("selu", &selu, "input"_a);
  m.def("celu", &celu, "input"_a, "alpha"_a = 1.0);
  m.def("leaky_relu", &leaky_relu, "input"_a, "negative_slope"_a = 0.01);
  m.def("logsigmoid", &logsigmoid, "input"_a);
  m.def("mish", &mish, "input"_a);
  m.def("linalg_cross", &linalg_cross, "input"_a, "other"_a, "dim"_a = -1);
  m.def("bitwise_left_shift", [](const Tensor& a, const Tensor& b) { return bitwise_left_shift(a, b); });
  m.def("bitwise_right_shift", [](const Tensor& a, const Tensor& b) { return bitwise_right_shift(a, b); });

  m.def("nonzero", [](const Tensor& x, bool as_tuple) -> nb::object {
    if (as_tuple) return nb::tuple(nb::cast(nonzero_tuple(x)));
    return nb::cast(nonzero(x));
  }, "input"_a, nb::kw_only(), "as_tuple"_a = false);

  // ---- einops (include/ricci/einops.h) -------------------------------------------------------------
  // ricci.rearrange(x, "b c h w -> b (c h w)"), reduce(x, pattern, "mean"), repeat(x, pattern, c=3):
  // x is a tensor or a list of tensors (stacked on a new first axis); axis lengths are keywords.
  auto einops_input = [](nb::handle x, std::vector<Tensor>& list) -> std::optional<Tensor> {
    if (nb::isinstance<Tensor>(x)) return nb::cast<Tensor>(x);
    list = tensor_list(x);
    return std::nullopt;
  };
  auto lengths = [](const nb::kwargs& kw) {
    einops::AxesLengths out;
    for (auto [k, v] : kw) out.emplace_back(nb::cast<std::string>(k), nb::cast<int64_t>(v));
    return out;
  };
  m.def("rearrange", [=](nb::handle x, const std::string& pattern, nb::kwargs kw) {
    std::vector<Tensor> list;
    std::optional<Tensor> t = einops_input(x, list);
    einops::AxesLengths ax = lengths(kw);
    return t ? einops::rearrange(*t, pattern, ax) : einops::rearrange(list, pattern, ax);
  }, "tensor"_a, "pattern"_a, "axes_lengths"_a,
     "einops.rearrange: reorders, splits and merges axes ('b c h w -> b (c h w)'); a view where the strides allow.");
  m.def("reduce", [=](nb::handle x, const std::string& pattern, const std::string& reduction, nb::kwargs kw) {
    std::vector<Tensor> list;
    std::optional<Tensor> t = einops_input(x, list);
    einops::AxesLengths ax = lengths(kw);
    if (t && t->numel() >= (1 << 15)) {
      nb::gil_scoped_release release;
      return einops::reduce(*t, pattern, reduction, ax);
    }
    return t ? einops::reduce(*t, pattern, reduction, ax) : einops::reduce(list, pattern, reduction, ax);
  }, "tensor"_a, "pattern"_a, "reduction"_a, "axes_lengths"_a,
     "einops.reduce: reduces the axes missing from the output with sum, mean, max, min, prod, any or all.");
  m.def("repeat", [=](nb::handle x, const std::string& pattern, nb::kwargs kw) {
    std::vector<Tensor> list;
    std::optional<Tensor> t = einops_input(x, list);
    einops::AxesLengths ax = lengths(kw);
    return t ? einops::repeat(*t, pattern, ax) : einops::repeat(list, pattern, ax);
  }, "tensor"_a, "pattern"_a, "axes_lengths"_a,
     "einops.repeat: adds (and tiles into) new axes ('h w -> h w c', c=3).");

  // ---- memory ------------------------------------------------------------------------------------
  m.def("memory_stats", [](const Device& d) {
    AllocatorStats s = memory_stats(d);
    nb::dict out;
    out["allocated_bytes"] = s.allocated_bytes;
    out["cached_bytes"] = s.cached_bytes;
    out["peak_allocated_bytes"] = s.peak_allocated_bytes;
    out["num_allocs"] = s.num_allocs;
    out["num_cache_hits"] = s.num_cache_hits;
    return out;
  }, "device"_a = Device(kCPU));
  m.def("empty_cache", [](const Device& d) { empty_cache(d); }, "device"_a = Device(kCPU));
}

}  // namespace ricci::python
