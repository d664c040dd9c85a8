// ricci.nn (Module, subclassable from Python; the layers), ricci.nn.functional, ricci.optim and
// safetensors.
#include "common.h"
#include "ricci/nn/quantized.h"

namespace ricci::python {
namespace {

// What QuantizedLinear and QuantizedEmbedding share: group_size, bits, the codes, scales and
// biases, and the `activations` their products use ("float" or "int8").
template <class Layer>
void bind_quantized_common(nb::class_<Layer, nn::Module>& cls) {
  cls.def_ro("group_size", &Layer::group_size)
      .def_ro("bits", &Layer::bits)
      .def_prop_ro("weight", [](const Layer& l) { return l.weight; })
      .def_prop_ro("scales", [](const Layer& l) { return l.scales; })
      .def_prop_ro("biases", [](const Layer& l) { return l.biases; })
      .def_prop_rw("activations", [](const Layer& l) { return activations_name(l.activations); },
                   [](Layer& l, const std::string& a) { l.activations = parse_activations(a); });
}

using nn::Module;

// nn.Parameter(t): a tensor that a Module registers as a parameter when assigned to an attribute.
struct Parameter : Tensor {
  using Tensor::Tensor;
  explicit Parameter(const Tensor& t) : Tensor(t) {}
};

F::Reduction reduction_from(const std::string& r) {
  if (r == "none") return F::Reduction::None;
  if (r == "mean") return F::Reduction::Mean;
  if (r == "sum") return F::Reduction::Sum;
  if (r == "batchmean") return F::Reduction::BatchMean;
  throw ValueError("[loss] " + r + " is not a valid value for reduction (none, mean, sum, batchmean)");
}

nb::dict named_to_dict(const nn::NamedTensors& named) {
  nb::dict out;
  for (const auto& [n, t] : named) out[nb::str(n.c_str())] = t;
  return out;
}

nn::NamedTensors dict_to_named(nb::handle obj) {
  nn::NamedTensors out;
  nb::dict d = nb::borrow<nb::dict>(obj);
  for (auto [k, v] : d) out.emplace_back(nb::cast<std::string>(k), nb::cast<Tensor>(v));
  return out;
}

nb::object load_result(const nn::LoadStateDictResult& r) {
  nb::object nt = nb::module_::import_("collections").attr("namedtuple")("IncompatibleKeys", "missing_keys unexpected_keys");
  return nt(nb::cast(r.missing_keys), nb::cast(r.unexpected_keys));
}

template <class T>
bool has_named(const std::vector<std::pair<std::string, T>>& v, const std::string& name) {
  for (const auto& [n, _] : v)
    if (n == name) return true;
  return false;
}

std::vector<Tensor> param_list(nb::handle params) {
  std::vector<Tensor> out;
  for (nb::handle h : nb::iter(params)) {
    if (nb::isinstance<nb::dict>(h))
      throw nb::type_error("optimizer: parameter groups as dicts are not supported yet; pass an iterable of tensors");
    out.push_back(nb::cast<Tensor>(h));
  }
  return out;
}

// Optimizer.state_dict() in PyTorch's layout: {"state": {index: {name: tensor}}, "param_groups":
// [{hyperparameters..., "params": [indices]}]} plus "optimizer" (the type that wrote it). Adam's
// beta1/beta2 are PyTorch's "betas" tuple, the flags (amsgrad, nesterov) are bools.
bool is_flag(const std::string& k) { return k == "amsgrad" || k == "nesterov"; }

nb::dict optimizer_state_to_py(const optim::OptimizerStateDict& sd) {
  nb::dict state;
  for (const auto& [index, entries] : sd.state) {
    nb::dict e;
    for (const auto& [name, t] : entries) e[nb::str(name.c_str())] = t;
    state[nb::int_(index)] = e;
  }
  nb::list groups;
  for (const auto& g : sd.param_groups) {
    nb::dict d;
    for (const auto& [k, v] : g.options) {
      if (k == "beta1" || k == "beta2") continue;
      if (is_flag(k)) d[nb::str(k.c_str())] = nb::bool_(v != 0.0);
      else d[nb::str(k.c_str())] = v;
    }
    if (g.options.count("beta1") && g.options.count("beta2"))
      d["betas"] = nb::make_tuple(g.options.at("beta1"), g.options.at("beta2"));
    d["params"] = nb::cast(g.params);
    groups.append(d);
  }
  nb::dict out;
  out["state"] = state;
  out["param_groups"] = groups;
  out["optimizer"] = nb::str(sd.optimizer.c_str());
  return out;
}

optim::OptimizerStateDict optimizer_state_from_py(nb::handle obj) {
  if (!nb::isinstance<nb::dict>(obj)) throw nb::type_error("load_state_dict(): expected a dict from Optimizer.state_dict()");
  nb::dict d = nb::borrow<nb::dict>(obj);
  optim::OptimizerStateDict sd;
  for (auto [k, v] : d) {
    const std::string key = nb::cast<std::string>(k);
    if (key != "state" && key != "param_groups" && key != "optimizer")
      throw ValueError("[Optimizer.load_state_dict] unexpected key '" + key +
                       "'; an optimizer state dict has 'state', 'param_groups' and 'optimizer'");
  }
  if (d.contains("optimizer")) sd.optimizer = nb::cast<std::string>(d["optimizer"]);
  if (!d.contains("state") || !d.contains("param_groups"))
    throw ValueError("[Optimizer.load_state_dict] the dict lacks 'state' or 'param_groups'; pass what "
                     "Optimizer.state_dict() returned");
  for (auto [k, v] : nb::borrow<nb::dict>(d["state"])) {
    int64_t index = PyLong_Check(k.ptr()) ? nb::cast<int64_t>(k) : std::stoll(nb::cast<std::string>(k));
    auto& entry = sd.state[index];
    for (auto [name, t] : nb::borrow<nb::dict>(v)) {
      if (nb::isinstance<Tensor>(t)) entry[nb::cast<std::string>(name)] = nb::cast<Tensor>(t);
      else entry[nb::cast<std::string>(name)] = scalar_tensor(nb::cast<double>(t), float64);  // a Python step
    }
  }
  for (nb::handle gh : nb::iter(d["param_groups"])) {
    optim::OptimizerStateDict::Group g;
    for (auto [k, v] : nb::borrow<nb::dict>(gh)) {
      const std::string key = nb::cast<std::string>(k);
      if (key == "params") {
        g.params = nb::cast<std::vector<int64_t>>(v);
      } else if (key == "betas") {
        auto b = nb::cast<std::pair<double, double>>(v);
        g.options["beta1"] = b.first;
        g.options["beta2"] = b.second;
      } else {
        g.options[key] = nb::cast<double>(v);  // bools are 0 / 1
      }
    }
    sd.param_groups.push_back(std::move(g));
  }
  return sd;
}

// LRScheduler.state_dict(): {"last_epoch", "base_lrs", "scheduler", and the settings by name}.
nb::dict scheduler_state_to_py(const optim::SchedulerStateDict& sd) {
  nb::dict out;
  out["scheduler"] = nb::str(sd.scheduler.c_str());
  out["last_epoch"] = sd.last_epoch;
  out["base_lrs"] = nb::cast(sd.base_lrs);
  for (const auto& [k, v] : sd.options) out[nb::str(k.c_str())] = v;
  return out;
}

optim::SchedulerStateDict scheduler_state_from_py(nb::handle obj) {
  if (!nb::isinstance<nb::dict>(obj)) throw nb::type_error("load_state_dict(): expected a dict from LRScheduler.state_dict()");
  optim::SchedulerStateDict sd;
  for (auto [k, v] : nb::borrow<nb::dict>(obj)) {
    const std::string key = nb::cast<std::string>(k);
    if (key == "scheduler") sd.scheduler = nb::cast<std::string>(v);
    else if (key == "last_epoch") sd.last_epoch = nb::cast<int64_t>(v);
    else if (key == "base_lrs") sd.base_lrs = nb::cast<std::vector<double>>(v);
    else sd.options[key] = nb::cast<double>(v);
  }
  return sd;
}

}  // namespace

void init_nn(nb::module_& m) {
  nb::module_ nnm = m.def_submodule("nn", "Modules and layers");

  nb::class_<Parameter, Tensor>(nnm, "Parameter", "A tensor that a Module registers as a parameter when assigned.")
      .def("__init__", [](Parameter* self, const Tensor& t, bool requires_grad) {
        Tensor p = t.is_leaf() ? t : t.detach();
        if (requires_grad && p.is_floating_point()) p.requires_grad_(true);
        new (self) Parameter(p);
      }, "data"_a, "requires_grad"_a = true);

  // ---- Module --------------------------------------------------------------------------------------
  nb::class_<Module>(nnm, "Module",
                     "Base of every layer. Subclass it in Python: call super().__init__(), assign Parameters "
                     "and Modules as attributes (they are registered), define forward().")
      .def(nb::init<>())
      .def("register_parameter", [](Module& mod, const std::string& name, std::optional<Tensor> t, bool rg) -> nb::object {
        if (!t) return nb::none();
        return nb::cast(mod.register_parameter(name, *t, rg));
      }, "name"_a, "param"_a.none(), "requires_grad"_a = true)
      .def("register_buffer", &Module::register_buffer, "name"_a, "tensor"_a)
      .def("register_module", [](Module& mod, const std::string& name, std::shared_ptr<Module> child) {
        return mod.register_module(name, std::move(child));
      }, "name"_a, "module"_a)
      .def("add_module", [](Module& mod, const std::string& name, std::shared_ptr<Module> child) {
        return mod.register_module(name, std::move(child));
      }, "name"_a, "module"_a)
      .def("parameters", &Module::parameters, "recurse"_a = true)
      .def("named_parameters", &Module::named_parameters, "recurse"_a = true)
      .def("buffers", &Module::buffers, "recurse"_a = true)
      .def("named_buffers", &Module::named_buffers, "recurse"_a = true)
      .def("children", &Module::children)
      .def("named_children", [](const Module& mod) { return mod.named_children(); })
      .def("modules", [](Module& mod) {
        nb::list out;
        for (Module* sub : mod.modules()) out.append(nb::cast(sub, nb::rv_policy::reference));
        return out;
      })
      .def("named_modules", [](Module& mod) {
        nb::list out;
        for (auto& [n, sub] : mod.named_modules()) out.append(nb::make_tuple(n, nb::cast(sub, nb::rv_policy::reference)));
        return out;
      })
      .def("get_parameter", &Module::parameter, "target"_a)
      .def("get_buffer", &Module::buffer, "target"_a)
      .def("get_submodule", &Module::child, "target"_a)
      .def("state_dict", [](const Module& mod) { return named_to_dict(mod.state_dict()); })
      .def("load_state_dict", [](Module& mod, nb::handle state, bool strict) {
        return load_result(mod.load_state_dict(dict_to_named(state), strict));
      }, "state_dict"_a, "strict"_a = true)
      .def("save", &Module::save, "path"_a, "Writes the state_dict to a safetensors file.")
      .def("load", [](Module& mod, const std::string& path, bool strict) { return load_result(mod.load(path, strict)); },
           "path"_a, "strict"_a = true)
      .def("train", [](nb::handle self, bool mode) {
        nb::cast<Module&>(self).train(mode);
        return nb::borrow(self);
      }, "mode"_a = true)
      .def("eval", [](nb::handle self) {
        nb::cast<Module&>(self).eval();
        return nb::borrow(self);
      })
      .def_prop_ro("training", &Module::is_training)
      .def("zero_grad", &Module::zero_grad, "set_to_none"_a = true)
      .def("to", [](nb::handle self, nb::handle what) {
        Module& mod = nb::cast<Module&>(self);
        if (nb::isinstance<DType>(what)) mod.to(nb::cast<DType>(what));
        else mod.to(nb::cast<Device>(what));
        return nb::borrow(self);
      }, "dtype_or_device"_a)
      .def("num_parameters", &Module::num_parameters, "only_trainable"_a = false)
      .def("__call__", [](nb::handle self, nb::args args, nb::kwargs kwargs) {
        return self.attr("forward")(*args, **kwargs);
      })
      .def("__getattr__", [](const Module& mod, const std::string& name) -> nb::object {
        for (const auto& [n, t] : mod.named_parameters(false))
          if (n == name) return nb::cast(t);
        for (const auto& [n, t] : mod.named_buffers(false))
          if (n == name) return nb::cast(t);
        for (const auto& [n, c] : mod.named_children())
          if (n == name) return nb::cast(c);
        throw nb::attribute_error(("'" + mod.type_name() + "' object has no attribute '" + name + "'").c_str());
      })
      .def("__setattr__", [](nb::handle self, const std::string& name, nb::object value) {
        Module& mod = nb::cast<Module&>(self);
        if (nb::isinstance<Module>(value)) {
          mod.register_module(name, nb::cast<std::shared_ptr<Module>>(value));
          return;
        }
        if (nb::isinstance<Parameter>(value)) {
          const Tensor& t = nb::cast<const Tensor&>(value);
          mod.register_parameter(name, t, t.requires_grad());
          return;
        }
        if (nb::isinstance<Tensor>(value) && has_named(mod.named_parameters(false), name)) {
          const Tensor& t = nb::cast<const Tensor&>(value);
          mod.register_parameter(name, t, t.requires_grad());
          return;
        }
        if (nb::isinstance<Tensor>(value) && has_named(mod.named_buffers(false), name)) {
          mod.register_buffer(name, nb::cast<const Tensor&>(value));
          return;
        }
        nb::str key(name.c_str());
        if (PyObject_GenericSetAttr(self.ptr(), key.ptr(), value.ptr()) != 0) throw nb::python_error();
      })
      .def("__repr__", [](nb::handle self) {
        nb::handle cls = self.type();
        return nb::cast<std::string>(cls.attr("__name__")) + "()";
      });

  // ---- layers ----------------------------------------------------------------------------------------
  nb::class_<nn::Linear, Module>(nnm, "Linear")
      .def(nb::init<int64_t, int64_t, bool>(), "in_features"_a, "out_features"_a, "bias"_a = true)
      .def("forward", [](nn::Linear& l, const Tensor& x) {
        nb::gil_scoped_release release;
        return l.forward(x);
      }, "input"_a)
      .def_ro("in_features", &nn::Linear::in_features)
      .def_ro("out_features", &nn::Linear::out_features)
      .def_prop_ro("weight", [](const nn::Linear& l) { return l.weight; })
      .def_prop_ro("bias", [](const nn::Linear& l) -> nb::object { return l.bias.defined() ? nb::cast(l.bias) : nb::none(); })
      .def("__repr__", [](const nn::Linear& l) {
        return "Linear(in_features=" + std::to_string(l.in_features) + ", out_features=" + std::to_string(l.out_features) +
               ", bias=" + (l.bias.defined() ? "True" : "False") + ")";
      });
  nb::class_<nn::Embedding, Module>(nnm, "Embedding")
      .def(nb::init<int64_t, int64_t, std::optional<int64_t>>(), "num_embeddings"_a, "embedding_dim"_a,
           "padding_idx"_a = nb::none())
      .def("forward", &nn::Embedding::forward, "input"_a)
      .def_prop_ro("weight", [](const nn::Embedding& l) { return l.weight; });
  nb::class_<nn::LayerNorm, Module>(nnm, "LayerNorm")
      .def("__init__", [](nn::LayerNorm* self, nb::handle shape, double eps, bool affine, bool bias) {
        new (self) nn::LayerNorm(int_list(shape, "LayerNorm"), eps, affine, bias);
      }, "normalized_shape"_a, "eps"_a = 1e-5, "elementwise_affine"_a = true, "bias"_a = true)
      .def("forward", &nn::LayerNorm::forward, "input"_a)
      .def_prop_ro("weight", [](const nn::LayerNorm& l) -> nb::object { return l.weight.defined() ? nb::cast(l.weight) : nb::none(); })
      .def_prop_ro("bias", [](const nn::LayerNorm& l) -> nb::object { return l.bias.defined() ? nb::cast(l.bias) : nb::none(); });
  nb::class_<nn::RMSNorm, Module>(nnm, "RMSNorm")
      .def("__init__", [](nn::RMSNorm* self, nb::handle shape, std::optional<double> eps, bool affine) {
        new (self) nn::RMSNorm(int_list(shape, "RMSNorm"), eps, affine);
      }, "normalized_shape"_a, "eps"_a = nb::none(), "elementwise_affine"_a = true)
      .def("forward", &nn::RMSNorm::forward, "input"_a);
  nb::class_<nn::Dropout, Module>(nnm, "Dropout")
      .def(nb::init<double>(), "p"_a = 0.5)
      .def("forward", &nn::Dropout::forward, "input"_a)
      .def_ro("p", &nn::Dropout::p);
  nb::class_<nn::ReLU, Module>(nnm, "ReLU").def(nb::init<>()).def("forward", &nn::ReLU::forward, "input"_a);
  nb::class_<nn::GELU, Module>(nnm, "GELU")
      .def(nb::init<std::string>(), "approximate"_a = "none")
      .def("forward", &nn::GELU::forward, "input"_a);
  nb::class_<nn::SiLU, Module>(nnm, "SiLU").def(nb::init<>()).def("forward", &nn::SiLU::forward, "input"_a);
  nb::class_<nn::Tanh, Module>(nnm, "Tanh").def(nb::init<>()).def("forward", &nn::Tanh::forward, "input"_a);
  nb::class_<nn::Sigmoid, Module>(nnm, "Sigmoid").def(nb::init<>()).def("forward", &nn::Sigmoid::forward, "input"_a);
  nb::class_<nn::CausalSelfAttention, Module>(nnm, "CausalSelfAttention")
      .def(nb::init<int64_t, int64_t, double>(), "d_model"_a, "n_heads"_a, "dropout"_a = 0.0)
      .def("forward", &nn::CausalSelfAttention::forward, "input"_a);
  nb::class_<nn::TransformerBlock, Module>(nnm, "TransformerBlock")
      .def(nb::init<int64_t, int64_t, double>(), "d_model"_a, "n_heads"_a, "dropout"_a = 0.0)
      .def("forward", &nn::TransformerBlock::forward, "input"_a);
  nb::class_<nn::Sequential, Module>(nnm, "_CppSequential").def("forward", &nn::Sequential::forward, "input"_a);

  // ---- quantized layers (MLX's nn.QuantizedLinear, nn.QuantizedEmbedding, nn.quantize) -------------
  nb::class_<nn::QuantizedLinear, Module> qlinear(
      nnm, "QuantizedLinear", "y = x @ dequantize(weight).T + bias, the weight held as group-wise codes, scales and biases.");
  qlinear.def(nb::init<int64_t, int64_t, bool, int64_t, int64_t>(), "input_dims"_a, "output_dims"_a, "bias"_a = true,
           "group_size"_a = 64, "bits"_a = 4)
      .def_static("from_linear", [](const nn::Linear& l, int64_t group_size, int64_t bits) {
        return nn::QuantizedLinear::from_linear(l, group_size, bits);
      }, "linear_layer"_a, "group_size"_a = 64, "bits"_a = 4)
      .def("forward", [](nn::QuantizedLinear& l, const Tensor& x) {
        nb::gil_scoped_release release;
        return l.forward(x);
      }, "input"_a)
      .def_ro("in_features", &nn::QuantizedLinear::in_features)
      .def_ro("out_features", &nn::QuantizedLinear::out_features)
      .def_prop_ro("bias", [](const nn::QuantizedLinear& l) -> nb::object {
        return l.bias.defined() ? nb::cast(l.bias) : nb::none();
      })
      .def("__repr__", [](const nn::QuantizedLinear& l) {
        return "QuantizedLinear(input_dims=" + std::to_string(l.in_features) + ", output_dims=" +
               std::to_string(l.out_features) + ", bias=" + (l.bias.defined() ? "True" : "False") +
               ", group_size=" + std::to_string(l.group_size) + ", bits=" + std::to_string(l.bits) + ")";
      });
  bind_quantized_common(qlinear);
  nb::class_<nn::QuantizedEmbedding, Module> qembedding(
      nnm, "QuantizedEmbedding", "Rows of a quantized (num_embeddings, dims) table; as_linear(x) multiplies by the table transposed.");
  qembedding.def(nb::init<int64_t, int64_t, int64_t, int64_t>(), "num_embeddings"_a, "dims"_a, "group_size"_a = 64,
           "bits"_a = 4)
      .def_static("from_embedding", [](const nn::Embedding& e, int64_t group_size, int64_t bits) {
        return nn::QuantizedEmbedding::from_embedding(e, group_size, bits);
      }, "embedding_layer"_a, "group_size"_a = 64, "bits"_a = 4)
      .def("forward", &nn::QuantizedEmbedding::forward, "input"_a)
      .def("as_linear", [](nn::QuantizedEmbedding& e, const Tensor& x) {
        nb::gil_scoped_release release;
        return e.as_linear(x);
      }, "x"_a);
  bind_quantized_common(qembedding);
  nnm.def("quantize", [](Module& model, int64_t group_size, int64_t bits, nb::object class_predicate) {
    std::function<bool(const std::string&, Module&)> pred;
    if (!class_predicate.is_none())
      pred = [class_predicate](const std::string& path, Module& m) {
        return nb::cast<bool>(class_predicate(path, nb::cast(&m, nb::rv_policy::reference)));
      };
    return nn::quantize(model, group_size, bits, pred);
  }, "model"_a, "group_size"_a = 64, "bits"_a = 4, nb::kw_only(), "class_predicate"_a = nb::none(),
     "Replaces every Linear and Embedding under model whose input dim group_size divides (and for which "
     "class_predicate(path, module) is true, when given) by its quantized form, in place; returns how many.");
  nnm.def("set_activation_precision", [](Module& model, const std::string& activations) {
    return nn::set_activation_precision(model, parse_activations(activations));
  }, "model"_a, "activations"_a, "\"int8\" or \"float\" on every quantized layer of model; returns how many.");

  // ---- nn.functional -------------------------------------------------------------------------------
  nb::module_ fm = nnm.def_submodule("functional", "Stateless layers and losses");
  fm.def("softmax", &F::softmax, "input"_a, "dim"_a, "dtype"_a = nb::none());
  fm.def("log_softmax", &F::log_softmax, "input"_a, "dim"_a, "dtype"_a = nb::none());
  fm.def("softmin", &F::softmin, "input"_a, "dim"_a, "dtype"_a = nb::none());
  fm.def("layer_norm", [](const Tensor& x, nb::handle shape, std::optional<Tensor> w, std::optional<Tensor> b, double eps) {
    return F::layer_norm(x, int_list(shape, "layer_norm"), w.value_or(Tensor()), b.value_or(Tensor()), eps);
  }, "input"_a, "normalized_shape"_a, "weight"_a = nb::none(), "bias"_a = nb::none(), "eps"_a = 1e-5);
  fm.def("rms_norm", [](const Tensor& x, nb::handle shape, std::optional<Tensor> w, std::optional<double> eps) {
    return F::rms_norm(x, int_list(shape, "rms_norm"), w.value_or(Tensor()), eps);
  }, "input"_a, "normalized_shape"_a, "weight"_a = nb::none(), "eps"_a = nb::none());
  fm.def("group_norm", [](const Tensor& x, int64_t g, std::optional<Tensor> w, std::optional<Tensor> b, double eps) {
    return F::group_norm(x, g, w.value_or(Tensor()), b.value_or(Tensor()), eps);
  }, "input"_a, "num_groups"_a, "weight"_a = nb::none(), "bias"_a = nb::none(), "eps"_a = 1e-5);
  fm.def("dropout", [](const Tensor& x, double p, bool training) { return F::dropout(x, p, training); }, "input"_a,
         "p"_a = 0.5, "training"_a = true);
  fm.def("embedding", &F::embedding, "input"_a, "weight"_a, "padding_idx"_a = nb::none());
  fm.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) {
    nb::gil_scoped_release release;
    return F::linear(x, w, b.value_or(Tensor()));
  }, "input"_a, "weight"_a, "bias"_a = nb::none());
  fm.def("nll_loss", [](const Tensor& x, const Tensor& t, std::optional<Tensor> w, int64_t ignore, const std::string& red) {
    return F::nll_loss(x, t, {w.value_or(Tensor()), ignore, reduction_from(red)});
  }, "input"_a, "target"_a, "weight"_a = nb::none(), "ignore_index"_a = -100, "reduction"_a = "mean");
  fm.def("cross_entropy", [](const Tensor& x, const Tensor& t, std::optional<Tensor> w, int64_t ignore, const std::string& red,
                             double smoothing) {
    return F::cross_entropy(x, t, {w.value_or(Tensor()), ignore, reduction_from(red), smoothing});
  }, "input"_a, "target"_a, "weight"_a = nb::none(), "ignore_index"_a = -100, "reduction"_a = "mean",
     "label_smoothing"_a = 0.0);
  fm.def("mse_loss", [](const Tensor& x, const Tensor& t, const std::string& red) { return F::mse_loss(x, t, reduction_from(red)); },
         "input"_a, "target"_a, "reduction"_a = "mean");
  fm.def("binary_cross_entropy", [](const Tensor& x, const Tensor& t, std::optional<Tensor> w, const std::string& red) {
    return F::binary_cross_entropy(x, t, w.value_or(Tensor()), reduction_from(red));
  }, "input"_a, "target"_a, "weight"_a = nb::none(), "reduction"_a = "mean");
  fm.def("binary_cross_entropy_with_logits", [](const Tensor& x, const Tensor& t, std::optional<Tensor> w,
                                                const std::string& red, std::optional<Tensor> pw) {
    return F::binary_cross_entropy_with_logits(x, t, w.value_or(Tensor()), reduction_from(red), pw.value_or(Tensor()));
  }, "input"_a, "target"_a, "weight"_a = nb::none(), "reduction"_a = "mean", "pos_weight"_a = nb::none());
  fm.def("kl_div", [](const Tensor& x, const Tensor& t, const std::string& red, bool log_target) {
    return F::kl_div(x, t, reduction_from(red), log_target);
  }, "input"_a, "target"_a, "reduction"_a = "mean", "log_target"_a = false);
  fm.def("smooth_l1_loss", [](const Tensor& x, const Tensor& t, const std::string& red, double beta) {
    return F::smooth_l1_loss(x, t, reduction_from(red), beta);
  }, "input"_a, "target"_a, "reduction"_a = "mean", "beta"_a = 1.0);
  fm.def("huber_loss", [](const Tensor& x, const Tensor& t, const std::string& red, double delta) {
    return F::huber_loss(x, t, reduction_from(red), delta);
  }, "input"_a, "target"_a, "reduction"_a = "mean", "delta"_a = 1.0);
  fm.def("cosine_similarity", &F::cosine_similarity, "x1"_a, "x2"_a, "dim"_a = 1, "eps"_a = 1e-8);
  fm.def("scaled_dot_product_attention", [](const Tensor& q, const Tensor& k, const Tensor& v, std::optional<Tensor> mask,
                                            bool causal, std::optional<double> scale) {
    nb::gil_scoped_release release;
    return F::scaled_dot_product_attention(q, k, v, mask.value_or(Tensor()), causal, scale);
  }, "query"_a, "key"_a, "value"_a, "attn_mask"_a = nb::none(), "is_causal"_a = false, "scale"_a = nb::none());
  fm.def("one_hot", &one_hot, "input"_a, "num_classes"_a = -1);

  // ---- optim ---------------------------------------------------------------------------------------
  nb::module_ om = m.def_submodule("optim", "Optimizers");
  nb::class_<optim::ParamGroup>(om, "ParamGroup")
      .def_rw("lr", &optim::ParamGroup::lr)
      .def_rw("momentum", &optim::ParamGroup::momentum)
      .def_rw("weight_decay", &optim::ParamGroup::weight_decay)
      .def_rw("eps", &optim::ParamGroup::eps)
      .def_ro("params", &optim::ParamGroup::params)
      .def("__getitem__", [](const optim::ParamGroup& g, const std::string& k) -> nb::object {
        if (k == "lr") return nb::cast(g.lr);
        if (k == "momentum") return nb::cast(g.momentum);
        if (k == "weight_decay") return nb::cast(g.weight_decay);
        if (k == "eps") return nb::cast(g.eps);
        if (k == "betas") return nb::make_tuple(g.beta1, g.beta2);
        if (k == "params") return nb::cast(g.params);
        throw nb::key_error(k.c_str());
      })
      .def("__setitem__", [](optim::ParamGroup& g, const std::string& k, nb::handle v) {
        if (k == "lr") g.lr = nb::cast<double>(v);
        else if (k == "momentum") g.momentum = nb::cast<double>(v);
        else if (k == "weight_decay") g.weight_decay = nb::cast<double>(v);
        else if (k == "eps") g.eps = nb::cast<double>(v);
        else throw nb::key_error(k.c_str());
      });
  nb::class_<optim::Optimizer>(om, "Optimizer")
      .def("step", [](optim::Optimizer& o) {
        nb::gil_scoped_release release;
        o.step();
      })
      .def("zero_grad", &optim::Optimizer::zero_grad, "set_to_none"_a = true)
      .def_prop_ro("param_groups", [](optim::Optimizer& o) { return &o.param_groups(); }, nb::rv_policy::reference_internal)
      .def("state_dict", [](const optim::Optimizer& o) { return optimizer_state_to_py(o.state_dict()); },
           "Everything needed to continue training identically, in PyTorch's layout (the tensors share the "
           "optimizer's memory: copy them before stepping again if the values must stay).")
      .def("load_state_dict", [](optim::Optimizer& o, nb::handle sd, bool strict) {
        return load_result(o.load_state_dict(optimizer_state_from_py(sd), strict));
      }, "state_dict"_a, "strict"_a = true,
         "Replaces the state and the hyperparameters; errors list every problem and load nothing.")
      .def("add_param_group", [](optim::Optimizer& o, nb::handle group) {
        nb::dict d = nb::borrow<nb::dict>(group);
        optim::ParamGroup g = o.param_groups().back();
        g.params = param_list(d["params"]);
        g.initial_lr = -1.0;
        for (auto [k, v] : d) {
          const std::string key = nb::cast<std::string>(k);
          if (key == "params") continue;
          if (key == "lr") g.lr = nb::cast<double>(v);
          else if (key == "momentum") g.momentum = nb::cast<double>(v);
          else if (key == "weight_decay") g.weight_decay = nb::cast<double>(v);
          else if (key == "eps") g.eps = nb::cast<double>(v);
          else if (key == "betas") std::tie(g.beta1, g.beta2) = nb::cast<std::pair<double, double>>(v);
          else throw nb::key_error(key.c_str());
        }
        o.add_param_group(std::move(g));
      }, "param_group"_a, "Adds a group (params and any hyperparameters; the rest are the last group's).");

  // ---- LR schedulers -------------------------------------------------------------------------------
  // A scheduler holds a reference to its optimizer: keep_alive keeps the optimizer alive with it.
  nb::module_ sm = om.def_submodule("lr_scheduler", "Learning-rate schedulers");
  nb::class_<optim::LRScheduler>(sm, "LRScheduler")
      .def("step", &optim::LRScheduler::step, "Advances one step (call it after optimizer.step()).")
      .def("get_last_lr", &optim::LRScheduler::get_last_lr)
      .def_prop_ro("last_epoch", &optim::LRScheduler::last_epoch)
      .def("state_dict", [](const optim::LRScheduler& s) { return scheduler_state_to_py(s.state_dict()); })
      .def("load_state_dict", [](optim::LRScheduler& s, nb::handle sd) { s.load_state_dict(scheduler_state_from_py(sd)); },
           "state_dict"_a);
  nb::class_<optim::StepLR, optim::LRScheduler>(sm, "StepLR")
      .def(nb::init<optim::Optimizer&, int64_t, double>(), "optimizer"_a, "step_size"_a, "gamma"_a = 0.1,
           nb::keep_alive<1, 2>(), "lr = base_lr * gamma ** (step // step_size)");
  nb::class_<optim::WarmupCosine, optim::LRScheduler>(sm, "WarmupCosine")
      .def(nb::init<optim::Optimizer&, int64_t, int64_t, double>(), "optimizer"_a, "warmup_steps"_a, "total_steps"_a,
           "min_lr"_a = 0.0, nb::keep_alive<1, 2>(), "Linear warmup, then cosine decay to min_lr at total_steps.");
  om.attr("StepLR") = sm.attr("StepLR");
  om.attr("WarmupCosine") = sm.attr("WarmupCosine");
  om.def("clip_grad_norm_", [](nb::handle params, double max_norm, double norm_type) {
    std::vector<Tensor> ps = param_list(params);
    nb::gil_scoped_release release;
    return optim::clip_grad_norm_(ps, max_norm, norm_type);
  }, "parameters"_a, "max_norm"_a, "norm_type"_a = 2.0);
  nb::class_<optim::SGD, optim::Optimizer>(om, "SGD")
      .def("__init__", [](optim::SGD* self, nb::handle params, double lr, double momentum, double dampening,
                          double weight_decay, bool nesterov) {
        new (self) optim::SGD(param_list(params), optim::SGDOptions{lr, momentum, dampening, weight_decay, nesterov});
      }, "params"_a, "lr"_a = 1e-3, "momentum"_a = 0.0, "dampening"_a = 0.0, "weight_decay"_a = 0.0, "nesterov"_a = false);
  nb::class_<optim::Adam, optim::Optimizer>(om, "Adam")
      .def("__init__", [](optim::Adam* self, nb::handle params, double lr, std::pair<double, double> betas, double eps,
                          double weight_decay, bool amsgrad) {
        new (self) optim::Adam(param_list(params), optim::AdamOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad});
      }, "params"_a, "lr"_a = 1e-3, "betas"_a = std::make_pair(0.9, 0.999), "eps"_a = 1e-8, "weight_decay"_a = 0.0,
         "amsgrad"_a = false);
  nb::class_<optim::AdamW, optim::Adam>(om, "AdamW")
      .def("__init__", [](optim::AdamW* self, nb::handle params, double lr, std::pair<double, double> betas, double eps,
                          double weight_decay, bool amsgrad) {
        new (self) optim::AdamW(param_list(params), optim::AdamWOptions{lr, betas.first, betas.second, eps, weight_decay, amsgrad});
      }, "params"_a, "lr"_a = 1e-3, "betas"_a = std::make_pair(0.9, 0.999), "eps"_a = 1e-8, "weight_decay"_a = 1e-2,
         "amsgrad"_a = false);

  // ---- safetensors ---------------------------------------------------------------------------------
  m.def("save_safetensors", [](const std::string& path, nb::handle tensors, std::optional<std::map<std::string, std::string>> md) {
    save_safetensors(path, dict_to_named(tensors), md.value_or(std::map<std::string, std::string>{}));
  }, "path"_a, "tensors"_a, "metadata"_a = nb::none(), "Writes a dict of tensors to a safetensors file.");
  m.def("load_safetensors", [](const std::string& path) {
    nb::dict out;
    SafetensorsFile f = load_safetensors(path);
    for (const std::string& k : f.keys()) out[nb::str(k.c_str())] = f.get(k);
    return out;
  }, "path"_a, "All tensors of a safetensors file, in file order.");
  nb::class_<SafetensorsFile>(m, "SafetensorsFile")
      .def("keys", &SafetensorsFile::keys)
      .def("get", &SafetensorsFile::get, "name"_a)
      .def("get_tensor", &SafetensorsFile::get, "name"_a)
      .def("metadata", &SafetensorsFile::metadata)
      .def("__contains__", &SafetensorsFile::contains)
      .def("__len__", &SafetensorsFile::size)
      .def("__enter__", [](nb::handle self) { return nb::borrow(self); })
      .def("__exit__", [](nb::handle, nb::args) {});
  m.def("safe_open", &load_safetensors, "path"_a, "Opens a safetensors file (tensors are read on get()).");
}

}  // namespace ricci::python
