#pragma once
// Trees of tensors (MLX's and JAX's pytrees): a leaf tensor, a list of trees, or a dict of trees
// (insertion-ordered, like Python's). Model parameters, their gradients and optimizer state all
// travel as trees of the same shape:
//
//     Tree params = model.trainable_parameters();          // {"fc1": {"weight": w, "bias": b}, ...}
//     auto [loss, grads] = nn::value_and_grad(model, loss_fn)({x, y});
//     opt.update(model, grads);                            // grads has params' shape
//     eval(model.parameter_tree(), opt.state_tree());
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

class Tree {
 public:
  using List = std::vector<Tree>;
  using Dict = std::vector<std::pair<std::string, Tree>>;

  Tree() = default;  // an empty node (None)
  Tree(Tensor t) : node_(std::move(t)) {}
  Tree(List l) : node_(std::move(l)) {}
  Tree(Dict d) : node_(std::move(d)) {}

  bool is_none() const { return std::holds_alternative<std::monostate>(node_); }
  bool is_leaf() const { return std::holds_alternative<Tensor>(node_); }
  bool is_list() const { return std::holds_alternative<List>(node_); }
  bool is_dict() const { return std::holds_alternative<Dict>(node_); }

  // The parts; ValueError naming what the node is when it is something else.
  const Tensor& tensor() const;
  const List& list() const;
  const Dict& dict() const;
  List& list();
  Dict& dict();
  // Dict access by key (IndexError when absent) and insertion; list access by position.
  const Tree& operator[](const std::string& key) const;
  Tree& operator[](const std::string& key);  // inserts an empty node when absent
  const Tree& operator[](size_t i) const;
  bool contains(const std::string& key) const;
  size_t size() const;  // children of a list or dict; 1 for a leaf; 0 for none

 private:
  std::variant<std::monostate, Tensor, List, Dict> node_;
};

// The leaves, depth first, in order.
std::vector<Tensor> tree_flatten(const Tree& tree);
// The leaves with dotted paths ("fc1.weight", "layers.0.bias"), as state dicts name them.
std::vector<std::pair<std::string, Tensor>> tree_flatten_named(const Tree& tree);
// `structure` with its leaves replaced, in order, by `leaves` (ValueError on a count mismatch).
Tree tree_unflatten(const Tree& structure, const std::vector<Tensor>& leaves);
// fn applied to every leaf; the two-tree form requires the same structure (ValueError naming the
// first path that differs).
Tree tree_map(const std::function<Tensor(const Tensor&)>& fn, const Tree& tree);
Tree tree_map(const std::function<Tensor(const Tensor&, const Tensor&)>& fn, const Tree& a, const Tree& b);

// Evaluates every pending leaf (ricci/lazy.h).
void eval(const Tree& tree);
void eval(const Tree& a, const Tree& b);

}  // namespace ricci
