// In-place ops and their history: refusing the writes autograd cannot follow, rebasing a tensor's
// history onto the op that wrote it, and — through a view — rewriting the base's history.
//
// Note [Views and in-place ops]
// `buf.select(0, 0).copy_(a)` writes into `buf`'s memory. For the gradient of anything computed
// from `buf` afterwards to be right, `buf`'s history must now say "the old buf, with this slice
// replaced by the op's result". As in PyTorch, that is a CopySlices node that becomes the base's
// grad_fn: its backward takes the gradient of the whole base, runs the in-place op's own vjp on
// the slice the view covers, and hands the untouched part straight through to the base's old
// history. Every view therefore remembers its root base (TensorImpl::view_base, set by
// make_view). A view's own grad_fn is remade from the base's current history (an as_strided read
// of the base) whenever the storage's version moved since the view's grad_fn was made and the
// base has a history; so views taken before the write see it too, while the version counter
// still refuses saved tensors that a write changed.
#include <algorithm>

#include "autograd/autograd_meta.h"
#include "autograd/node_allocator.h"
#include "core/tensor_internal.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"

namespace ricci::autograd {

namespace {

struct Geometry {
  Dims sizes, strides;
  int64_t offset = 0;
  static Geometry of(const TensorImpl& t) { return {t.sizes, t.strides, t.storage_offset}; }
  // One past the furthest element (strides are never negative in ricci).
  int64_t end() const {
    int64_t e = offset;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] == 0) return offset;
      e += (sizes[i] - 1) * strides[i];
    }
    return e + 1;
  }
};

// `z`'s elements laid out as `g` describes, relative to the start of z's flat buffer.
Tensor flat_view(const Tensor& z, const Geometry& g, int64_t base_offset) {
  Tensor c = z.contiguous();
  return c.as_strided(g.sizes, g.strides, c.storage_offset() + g.offset - base_offset);
}

// The base's new grad_fn after an in-place op `fn` wrote through a view of it.
class CopySlices : public Node {
 public:
  CopySlices(Geometry base, Geometry view, std::shared_ptr<Node> fn)
      : Node("CopySlices", nullptr), base_(std::move(base)), view_(std::move(view)), fn_(std::move(fn)) {
    sequence_nr_ = fn_->sequence_nr();
    extent_ = base_.end() - base_.offset;
    base_is_dense_ = base_.strides == contiguous_strides(base_.sizes);
  }

  Tensors apply(Tensors grads) override {
    const OutputMeta& m = outputs_[0];
    Tensor g = grads[0].defined() ? grads[0] : zeros(m.sizes, TensorOptions(m.dtype, m.device));
    // The base's gradient over its flat extent, so the view's region can be read and replaced.
    const Geometry base = base_, view = view_;
    const int64_t off = base_.offset;
    Tensor flat = base_is_dense_ ? g.reshape({extent_})
                                 : view_backward(g, {extent_}, [base, off](const Tensor& z) { return flat_view(z, base, off); });
    Tensor grad_slice = flat_view(flat, view_, off);
    Tensors r = fn_->apply({grad_slice});
    // The written slice's old values get what the op's vjp says (nothing, for copy_); the rest of
    // the base passes its gradient through unchanged.
    Tensor delta = r.empty() || !r[0].defined() ? -grad_slice : r[0] - grad_slice;
    flat = flat + view_backward(delta, {extent_}, [view, off](const Tensor& z) { return flat_view(z, view, off); });
    Tensors out(std::max<size_t>(r.size(), 1));
    out[0] = base_is_dense_ ? flat.reshape(base_.sizes) : flat_view(flat, base_, off).clone();
    for (size_t i = 1; i < r.size(); ++i) out[i] = std::move(r[i]);
    return out;
  }
  void release_saved() override {
    fn_->release_saved();
    Node::release_saved();
  }

 private:
  Geometry base_, view_;
  std::shared_ptr<Node> fn_;
  int64_t extent_ = 0;
  bool base_is_dense_ = false;
};

// Gives `view` a grad_fn that reads it out of its base's current history.
void remake_view_history(const Tensor& view) {
  TensorImpl* vi = view.unsafe_impl();
  Tensor base(vi->view_base);
  const TensorImpl& bi = base.impl();
  const Dims bs(bi.sizes), bst(bi.strides), vs(vi->sizes), vst(vi->strides);
  const int64_t boff = bi.storage_offset, voff = vi->storage_offset;
  Tensor out = view;
  record("AsStridedBackward0", {&base}, {&out}, {}, {}, [=](const VjpArgs& a) {
    return Tensors{strided_view_backward(a.grads[0], bs, bst, boff, vs, vst, voff)};
  });
  vi->view_version.store(vi->storage->version(), std::memory_order_relaxed);
}

void rebase_view_history(const Tensor& self, const std::shared_ptr<Node>& fn) {
  TensorImpl* vi = self.unsafe_impl();
  Tensor base(vi->view_base);
  const Geometry bg = Geometry::of(base.impl()), vg = Geometry::of(*vi);
  RICCI_CHECK(vg.offset >= bg.offset && vg.end() <= bg.end(), AutogradError, "[", fn->name(),
              "] in-place write through a view (shape ", self.shape(), ", strides ", self.strides(), ", offset ",
              vg.offset, ") that reaches outside its base (shape ", base.shape(), ", strides ", base.strides(),
              ", offset ", bg.offset, "): autograd cannot rewrite the base's history. Write into a view made with "
              "narrow/select/slice of the base, or clone() first.");
  auto cs = make_node<CopySlices>(bg, vg, fn);
  cs->add_next_edge(gradient_edge(base));  // the base's history before the write
  const auto& fn_edges = fn->next_functions();
  for (size_t j = 1; j < fn_edges.size(); ++j) cs->add_next_edge(fn_edges[j]);
  cs->add_output(base);
  AutogradMeta& bm = get_or_create_meta(base);
  bm.grad_fn = std::move(cs);
  bm.output_nr = 0;
  bm.requires_grad = true;
  remake_view_history(self);
}

}  // namespace

void refresh_view_history_slow(const Tensor& t) {
  TensorImpl* vi = t.unsafe_impl();
  const AutogradMeta* bm = vi->view_base->autograd.get();
  // Only a base with a history can have had it rewritten by a recorded in-place op; a leaf's
  // version moves only under no_grad (optimizer steps), which leaves gradients as they were.
  if (bm && bm->grad_fn && is_floating_point(vi->dtype)) {
    remake_view_history(t);
  } else {
    vi->view_version.store(vi->storage->version(), std::memory_order_relaxed);
  }
}

void check_inplace(const Tensor& self, const char* op) {
  if (!is_grad_enabled()) return;
  refresh_view_history(self);
  const TensorImpl* i = self.unsafe_impl();
  const AutogradMeta* m = meta_of(self);
  RICCI_CHECK(!(m && m->requires_grad && !m->grad_fn), AutogradError, "[", op,
              "] a leaf Variable that requires grad is being used in an in-place operation. Wrap the update in "
              "NoGradGuard (as optimizers do) or work on a clone.");
  if (!i->view_base) return;
  const AutogradMeta* bm = i->view_base->autograd.get();
  if (!bm || !bm->requires_grad) return;
  RICCI_CHECK(bm->grad_fn, AutogradError, "[", op,
              "] a view of a leaf Variable that requires grad is being used in an in-place operation. Wrap the update "
              "in NoGradGuard (as optimizers do), or write into a view of a clone of the leaf.");
  RICCI_CHECK(i->view_differentiable, AutogradError, "[", op,
              "] A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
              "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
              "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
              "tracked) or both outside (if you want the inplace to be tracked).");
}

void rebase_history(const Tensor& self, const std::shared_ptr<Node>& node) {
  if (node->num_outputs() == 0) node->add_output(self);
  if (!is_floating_point(self.dtype())) return;  // integer results carry no gradient
  if (self.unsafe_impl()->view_base) {
    rebase_view_history(self, node);
    return;
  }
  AutogradMeta& m = get_or_create_meta(self);
  m.grad_fn = node;
  m.output_nr = 0;
  m.requires_grad = true;
}

}  // namespace ricci::autograd
