// The autograd methods of Tensor: requires_grad, grad, grad_fn, hooks, backward.
#include "autograd/autograd_meta.h"
#include "ricci/ops/elementwise.h"

namespace ricci {

using autograd::AutogradMeta;
using autograd::get_or_create_meta;
using autograd::meta_of;

bool Tensor::requires_grad() const {
  if (defined()) autograd::refresh_view_history(*this);
  const AutogradMeta* m = meta_of(*this);
  return m && m->requires_grad;
}

Tensor& Tensor::requires_grad_(bool enabled) {
  check_defined(*this, "requires_grad_");
  AutogradMeta* m = meta_of(*this);
  if (m && m->grad_fn) {
    RICCI_CHECK(enabled, AutogradError,
                "[requires_grad_] you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
    return *this;
  }
  RICCI_CHECK(!enabled || is_floating_point(), AutogradError,
              "[requires_grad_] only Tensors of floating point dtype can require gradients (got ", dtype(),
              "); convert first with .to(float32)");
  RICCI_CHECK(!enabled || !is_inference() || autograd::is_inference_mode_enabled(), AutogradError,
              "[requires_grad_] Setting requires_grad=True on inference tensor outside InferenceMode is not allowed; "
              "clone() it first.");
  if (!m && !enabled) return *this;
  get_or_create_meta(*this).requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const {
  if (defined()) autograd::refresh_view_history(*this);
  const AutogradMeta* m = meta_of(*this);
  return !m || !m->grad_fn;
}

Tensor Tensor::grad() const {
  const AutogradMeta* m = meta_of(*this);
  if (!m) return Tensor();
  if (m->grad_fn && m->retained_grad) return *m->retained_grad;
  return m->grad;
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) {
    RICCI_CHECK(g.shape() == shape(), ShapeError, "[set_grad] assigned grad has data of a different size: ", g.shape(),
                " vs the tensor's ", shape());
  }
  get_or_create_meta(*this).grad = g;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  if (defined()) autograd::refresh_view_history(*this);
  const AutogradMeta* m = meta_of(*this);
  return m ? m->grad_fn : nullptr;
}

int64_t Tensor::output_nr() const {
  const AutogradMeta* m = meta_of(*this);
  return m ? m->output_nr : 0;
}

void Tensor::retain_grad() {
  RICCI_CHECK(requires_grad(), AutogradError, "[retain_grad] can't retain_grad on Tensor that has requires_grad=False");
  AutogradMeta& m = get_or_create_meta(*this);
  if (!m.grad_fn || m.retains_grad) return;  // leaves keep .grad anyway
  m.retains_grad = true;
  auto slot = std::make_shared<Tensor>();
  m.retained_grad = slot;
  m.grad_fn->add_pre_hook(m.output_nr, [slot](const Tensor& g) {
    *slot = slot->defined() ? *slot + g.detach() : g.detach().clone();
    return Tensor();  // observe only
  });
}

bool Tensor::retains_grad() const {
  const AutogradMeta* m = meta_of(*this);
  return m && m->retains_grad;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, gradient.defined() ? autograd::Tensors{gradient} : autograd::Tensors{}, retain_graph,
                     create_graph);
}

Tensor::HookHandle Tensor::register_hook(Hook hook) {
  RICCI_CHECK(requires_grad(), AutogradError,
              "[register_hook] cannot register a hook on a tensor that doesn't require gradient");
  AutogradMeta& m = get_or_create_meta(*this);
  HookHandle handle;
  if (m.grad_fn) {
    handle.id = m.grad_fn->add_pre_hook(m.output_nr, std::move(hook));
    handle.owner = m.grad_fn;
  } else {
    if (!m.leaf_hooks) m.leaf_hooks = std::make_shared<autograd::HookList>();
    handle.id = m.leaf_hooks->next_id++;
    m.leaf_hooks->hooks.push_back({handle.id, std::move(hook)});
    handle.owner = m.leaf_hooks;
    handle.on_leaf = true;
  }
  return handle;
}

void Tensor::HookHandle::remove() {
  auto p = owner.lock();
  if (!p) return;
  if (on_leaf) {
    auto* list = static_cast<autograd::HookList*>(p.get());
    std::erase_if(list->hooks, [this](const autograd::HookList::Entry& e) { return e.id == id; });
  } else {
    static_cast<autograd::Node*>(p.get())->remove_pre_hook(id);
  }
}

}  // namespace ricci
