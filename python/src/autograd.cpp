// Autograd from Python (requires_grad, backward, grad_fn, hooks, grad modes), lazy evaluation
// (LazyGuard, eval) and the function transforms over Python callables. The Python package
// flattens nested lists / tuples / dicts of tensors into the flat lists these functions take.
#include "ricci/compile.h"
#include "common.h"

namespace ricci::python {
namespace {

nb::object optional_tensor(const Tensor& t) {
  if (!t.defined()) return nb::none();
  return nb::cast(t);
}

Tensors tensors_or_one(nb::handle obj) {
  Tensors out;
  if (obj.is_none()) return out;
  if (nb::isinstance<Tensor>(obj)) {
    out.push_back(nb::cast<Tensor>(obj));
    return out;
  }
  for (nb::handle h : nb::iter(obj)) out.push_back(h.is_none() ? Tensor() : nb::cast<Tensor>(h));
  return out;
}

nb::tuple tuple_of_optional(const Tensors& ts) {
  nb::list out;
  for (const Tensor& t : ts) out.append(optional_tensor(t));
  return nb::tuple(out);
}

// A Python callable taking and returning a list of tensors, as a TensorFn (takes the GIL).
TensorFn wrap_fn(nb::object fn) {
  auto pf = std::make_shared<PyFunction>(std::move(fn));
  return [pf](const Tensors& in) -> Tensors { return call_tensor_fn(pf->fn, in); };
}

struct LazyContext {
  bool enabled = true;
  std::optional<LazyGuard> guard;
};
struct InferenceContext {
  bool enabled = true;
  std::optional<InferenceMode> guard;
};

struct HookHandle {
  Tensor::HookHandle handle;
  void remove() { handle.remove(); }
};

}  // namespace

void init_autograd(nb::module_& m) {
  auto cls = nb::borrow<nb::class_<Tensor>>(m.attr("Tensor"));

  // ---- graph nodes -------------------------------------------------------------------------------
  nb::class_<autograd::Node>(m, "Node", "A node of the backward graph (x.grad_fn).")
      .def("name", &autograd::Node::name)
      .def_prop_ro("next_functions", [](const autograd::Node& n) {
        nb::list out;
        for (const autograd::Edge& e : n.next_functions()) {
          out.append(nb::make_tuple(e.node ? nb::cast(e.node) : nb::none(), e.input_nr));
        }
        return nb::tuple(out);
      })
      .def("__repr__", [](const autograd::Node& n) { return "<" + n.name() + " object>"; });

  nb::class_<HookHandle>(m, "RemovableHandle").def("remove", &HookHandle::remove);

  // ---- autograd on Tensor ------------------------------------------------------------------------
  cls.def_prop_rw("requires_grad", [](const Tensor& t) { return t.requires_grad(); },
                  [](Tensor& t, bool v) { t.requires_grad_(v); })
      .def("requires_grad_", [](nb::handle self, bool v) {
        nb::cast<Tensor&>(self).requires_grad_(v);
        return nb::borrow(self);
      }, "requires_grad"_a = true)
      .def_prop_rw("grad", [](const Tensor& t) { return optional_tensor(t.grad()); },
                   [](Tensor& t, std::optional<Tensor> g) { t.set_grad(g.value_or(Tensor())); }, nb::arg("grad").none())
      .def_prop_ro("grad_fn", [](const Tensor& t) { return t.grad_fn(); })
      .def_prop_ro("is_leaf", &Tensor::is_leaf)
      .def_prop_ro("output_nr", &Tensor::output_nr)
      .def_prop_ro("retains_grad", &Tensor::retains_grad)
      .def("retain_grad", &Tensor::retain_grad)
      .def("detach", &Tensor::detach)
      .def("detach_", [](nb::handle self) {
        nb::cast<Tensor&>(self).detach_();
        return nb::borrow(self);
      })
      .def("backward", [](const Tensor& t, std::optional<Tensor> gradient, std::optional<bool> retain_graph,
                          bool create_graph, nb::handle inputs) {
        const Tensors ins = tensors_or_one(inputs);
        const bool retain = retain_graph.value_or(create_graph);
        // Note [Releasing the GIL in backward]: the pass runs recorded C++ closures; the Python ones
        // (hooks, gradcheck and transform callables) take the GIL back themselves (PyFunction).
        nb::gil_scoped_release release;
        if (ins.empty()) t.backward(gradient.value_or(Tensor()), retain, create_graph);
        else autograd::backward({t}, {gradient.value_or(Tensor())}, retain, create_graph, ins);
      }, "gradient"_a = nb::none(), "retain_graph"_a = nb::none(), "create_graph"_a = false, "inputs"_a = nb::none())
      .def("register_hook", [](Tensor& t, nb::object fn) {
        auto pf = std::make_shared<PyFunction>(std::move(fn));
        return HookHandle{t.register_hook([pf](const Tensor& g) -> Tensor {
          nb::gil_scoped_acquire gil;
          nb::object r = pf->fn(g);
          return r.is_none() ? g : nb::cast<Tensor>(r);
        })};
      }, "hook"_a, "Calls hook(grad) when the gradient of this tensor is computed; a returned tensor replaces it.");

  nb::module_ ag = m.def_submodule("autograd", "The tape: backward, grad, gradcheck, grad modes");
  m.def("is_grad_enabled", &autograd::is_grad_enabled);
  m.def("set_grad_enabled", &autograd::set_grad_enabled, "mode"_a);
  m.def("is_inference_mode_enabled", &autograd::is_inference_mode_enabled);
  nb::class_<InferenceContext>(m, "_InferenceMode")
      .def(nb::init<>())
      .def("__init__", [](InferenceContext* self, bool enabled) { new (self) InferenceContext{enabled, std::nullopt}; },
           "mode"_a = true)
      .def("__enter__", [](InferenceContext& c) { c.guard.emplace(c.enabled); })
      .def("__exit__", [](InferenceContext& c, nb::args) { c.guard.reset(); });
  ag.def("backward", [](nb::handle tensors, nb::handle grad_tensors, std::optional<bool> retain_graph, bool create_graph,
                        nb::handle inputs) {
    Tensors outs = tensors_or_one(tensors), grads = tensors_or_one(grad_tensors), ins = tensors_or_one(inputs);
    nb::gil_scoped_release release;  // Note [Releasing the GIL in backward]
    autograd::backward(outs, grads, retain_graph.value_or(create_graph), create_graph, ins);
  }, "tensors"_a, "grad_tensors"_a = nb::none(), "retain_graph"_a = nb::none(), "create_graph"_a = false,
     "inputs"_a = nb::none());
  ag.def("grad", [](nb::handle outputs, nb::handle inputs, nb::handle grad_outputs, std::optional<bool> retain_graph,
                    bool create_graph, bool allow_unused) {
    Tensors outs = tensors_or_one(outputs), ins = tensors_or_one(inputs), gos = tensors_or_one(grad_outputs);
    Tensors result;
    {
      nb::gil_scoped_release release;  // Note [Releasing the GIL in backward]
      result = autograd::grad(outs, ins, gos, retain_graph, create_graph, allow_unused);
    }
    return tuple_of_optional(result);
  }, "outputs"_a, "inputs"_a, "grad_outputs"_a = nb::none(), "retain_graph"_a = nb::none(), "create_graph"_a = false,
     "allow_unused"_a = false);
  ag.def("gradcheck", [](nb::object fn, nb::handle inputs, double eps, double atol, double rtol, bool raise_exception) {
    auto pf = std::make_shared<PyFunction>(std::move(fn));
    auto f = [pf](const Tensors& in) -> Tensors {
      nb::gil_scoped_acquire gil;
      nb::object r = pf->fn(*nb::tuple(nb::cast(in)));
      return tensors_or_one(r);
    };
    return autograd::gradcheck(f, tensors_or_one(inputs), {eps, atol, rtol, raise_exception});
  }, "func"_a, "inputs"_a, "eps"_a = 1e-6, "atol"_a = 1e-5, "rtol"_a = 1e-3, "raise_exception"_a = true);
  ag.def("to_dot", [](const Tensor& root) { return autograd::to_dot(root); }, "root"_a,
         "The backward graph in Graphviz DOT.");

  // ---- lazy evaluation ---------------------------------------------------------------------------
  nb::class_<LazyContext>(m, "_LazyGuard")
      .def("__init__", [](LazyContext* self, bool enabled) { new (self) LazyContext{enabled, std::nullopt}; },
           "enabled"_a = true)
      .def("__enter__", [](LazyContext& c) { c.guard.emplace(c.enabled); })
      .def("__exit__", [](LazyContext& c, nb::args) { c.guard.reset(); });
  m.def("set_lazy", &set_lazy, "enabled"_a);
  m.def("is_lazy", &is_lazy);
  m.def("is_pending", &is_pending, "tensor"_a);
  m.def("_eval", [](const Tensors& ts) {
    nb::gil_scoped_release release;  // evaluation runs recorded primitives only, never Python
    ricci::eval(ts);
  }, "tensors"_a);
  nb::class_<PendingStats>(m, "PendingStats")
      .def_ro("nodes", &PendingStats::nodes)
      .def_ro("bytes", &PendingStats::bytes)
      .def("__repr__", [](const PendingStats& s) {
        return "PendingStats(nodes=" + std::to_string(s.nodes) + ", bytes=" + std::to_string(s.bytes) + ")";
      });
  m.def("_pending_stats", &pending_stats, "tensors"_a);
  m.def("_pending_dot", &pending_dot, "tensors"_a);

  // ---- transforms over flat lists (ricci/transforms.py builds the trees) --------------------------
  m.def("_vjp", [](nb::object f, const Tensors& primals, const Tensors& cotangents) {
    return vjp(wrap_fn(std::move(f)), primals, cotangents);
  }, "f"_a, "primals"_a, "cotangents"_a);
  m.def("_jvp", [](nb::object f, const Tensors& primals, const Tensors& tangents) {
    return jvp(wrap_fn(std::move(f)), primals, tangents);
  }, "f"_a, "primals"_a, "tangents"_a);
  m.def("_value_and_grad", [](nb::object f, std::vector<int> argnums, const Tensors& inputs) {
    return value_and_grad(wrap_fn(std::move(f)), std::move(argnums))(inputs);
  }, "f"_a, "argnums"_a, "inputs"_a);
  m.def("_vmap", [](nb::object f, const Axes& in_axes, const Axes& out_axes, const Tensors& inputs) {
    return vmap(wrap_fn(std::move(f)), in_axes, out_axes)(inputs);
  }, "f"_a, "in_axes"_a, "out_axes"_a, "inputs"_a);
  m.def("_jacrev", [](nb::object f, int argnum, const Tensors& inputs) { return jacrev(wrap_fn(std::move(f)), argnum)(inputs); },
        "f"_a, "argnum"_a, "inputs"_a);
  m.def("_jacfwd", [](nb::object f, int argnum, const Tensors& inputs) { return jacfwd(wrap_fn(std::move(f)), argnum)(inputs); },
        "f"_a, "argnum"_a, "inputs"_a);
  m.def("_hessian", [](nb::object f, int argnum, const Tensors& inputs) { return hessian(wrap_fn(std::move(f)), argnum)(inputs); },
        "f"_a, "argnum"_a, "inputs"_a);
  // generate_code: -1 unset (the default), 0 off, 1 on (an int: GCC 12 warns falsely on an
  // optional<bool> argument's caster).
  m.def("_compile", [](nb::object f, bool fuse, bool shapeless, int generate_code, bool stable_rewrites) {
    CompileOptions options{.fuse = fuse, .shapeless = shapeless};
    options.stable_rewrites = stable_rewrites;
    if (generate_code >= 0) options.generate_code = generate_code != 0;
    TensorFn compiled = compile(wrap_fn(std::move(f)), options);
    // The function, and what compiling it did (compile_stats) as a dict.
    nb::object call = nb::cpp_function([compiled](const Tensors& inputs) { return compiled(inputs); });
    nb::object stats = nb::cpp_function([compiled]() {
      const CompileStats st = compile_stats(compiled);
      nb::dict d;
      d["traces"] = st.traces;
      d["traced_ops"] = st.traced_ops;
      d["ops"] = st.ops;
      d["fused_groups"] = st.fused_groups;
      d["fused_ops"] = st.fused_ops;
      d["traceable"] = st.traceable;
      d["untraceable_reason"] = st.untraceable_reason;
      d["generated_kernels"] = st.generated_kernels;
      d["codegen_failure"] = st.codegen_failure;
      return d;
    });
    return nb::make_tuple(call, stats);
  }, "f"_a, "fuse"_a, "shapeless"_a, "generate_code"_a, "stable_rewrites"_a);
  m.def("stop_gradient", &stop_gradient, "x"_a, "The value of x, through which no transform or backward passes a gradient.");
}

}  // namespace ricci::python
