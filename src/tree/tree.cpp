// Trees of tensors: access, flatten / unflatten, map.
#include "ricci/tree.h"

#include "ricci/error.h"
#include "ricci/lazy.h"

namespace ricci {

namespace {

const char* kind_name(const Tree& t) {
  return t.is_none() ? "empty" : t.is_leaf() ? "a tensor" : t.is_list() ? "a list" : "a dict";
}

void flatten_into(const Tree& t, const std::string& path, std::vector<std::pair<std::string, Tensor>>& out) {
  if (t.is_leaf()) {
    out.emplace_back(path, t.tensor());
  } else if (t.is_list()) {
    for (size_t i = 0; i < t.list().size(); ++i)
      flatten_into(t.list()[i], path.empty() ? std::to_string(i) : path + "." + std::to_string(i), out);
  } else if (t.is_dict()) {
    for (const auto& [k, v] : t.dict()) flatten_into(v, path.empty() ? k : path + "." + k, out);
  }
}

Tree rebuild(const Tree& t, const std::vector<Tensor>& leaves, size_t& next) {
  if (t.is_leaf()) {
    RICCI_CHECK(next < leaves.size(), ValueError, "[tree_unflatten] the structure has more leaves than the ",
                leaves.size(), " given");
    return Tree(leaves[next++]);
  }
  if (t.is_list()) {
    Tree::List l;
    for (const Tree& c : t.list()) l.push_back(rebuild(c, leaves, next));
    return Tree(std::move(l));
  }
  if (t.is_dict()) {
    Tree::Dict d;
    for (const auto& [k, v] : t.dict()) d.emplace_back(k, rebuild(v, leaves, next));
    return Tree(std::move(d));
  }
  return Tree();
}

Tree map2(const std::function<Tensor(const Tensor&, const Tensor&)>& fn, const Tree& a, const Tree& b,
          const std::string& path) {
  const std::string where = path.empty() ? "the root" : "\"" + path + "\"";
  RICCI_CHECK(a.is_leaf() == b.is_leaf() && a.is_list() == b.is_list() && a.is_dict() == b.is_dict(), ValueError,
              "[tree_map] the trees differ at ", where, ": ", kind_name(a), " against ", kind_name(b));
  if (a.is_leaf()) return Tree(fn(a.tensor(), b.tensor()));
  if (a.is_list()) {
    RICCI_CHECK(a.list().size() == b.list().size(), ValueError, "[tree_map] the lists at ", where, " have ",
                a.list().size(), " and ", b.list().size(), " entries");
    Tree::List l;
    for (size_t i = 0; i < a.list().size(); ++i)
      l.push_back(map2(fn, a.list()[i], b.list()[i], path.empty() ? std::to_string(i) : path + "." + std::to_string(i)));
    return Tree(std::move(l));
  }
  if (a.is_dict()) {
    Tree::Dict d;
    for (const auto& [k, v] : a.dict()) {
      RICCI_CHECK(b.contains(k), ValueError, "[tree_map] the second tree has no key \"", k, "\" at ", where);
      d.emplace_back(k, map2(fn, v, b[k], path.empty() ? k : path + "." + k));
    }
    RICCI_CHECK(a.dict().size() == b.dict().size(), ValueError, "[tree_map] the dicts at ", where, " have ",
                a.dict().size(), " and ", b.dict().size(), " keys");
    return Tree(std::move(d));
  }
  return Tree();
}

}  // namespace

const Tensor& Tree::tensor() const {
  RICCI_CHECK(is_leaf(), ValueError, "[Tree] expected a tensor leaf but this node is ", kind_name(*this));
  return std::get<Tensor>(node_);
}
const Tree::List& Tree::list() const {
  RICCI_CHECK(is_list(), ValueError, "[Tree] expected a list but this node is ", kind_name(*this));
  return std::get<List>(node_);
}
const Tree::Dict& Tree::dict() const {
  RICCI_CHECK(is_dict(), ValueError, "[Tree] expected a dict but this node is ", kind_name(*this));
  return std::get<Dict>(node_);
}
Tree::List& Tree::list() {
  RICCI_CHECK(is_list(), ValueError, "[Tree] expected a list but this node is ", kind_name(*this));
  return std::get<List>(node_);
}
Tree::Dict& Tree::dict() {
  if (is_none()) node_ = Dict{};
  RICCI_CHECK(is_dict(), ValueError, "[Tree] expected a dict but this node is ", kind_name(*this));
  return std::get<Dict>(node_);
}

bool Tree::contains(const std::string& key) const {
  if (!is_dict()) return false;
  for (const auto& [k, v] : dict())
    if (k == key) return true;
  return false;
}

const Tree& Tree::operator[](const std::string& key) const {
  for (const auto& [k, v] : dict())
    if (k == key) return v;
  throw IndexError(detail::cat("[Tree] no key \"", key, "\" in this dict"));
}

Tree& Tree::operator[](const std::string& key) {
  Dict& d = dict();
  for (auto& [k, v] : d)
    if (k == key) return v;
  d.emplace_back(key, Tree());
  return d.back().second;
}

const Tree& Tree::operator[](size_t i) const {
  const List& l = list();
  RICCI_CHECK(i < l.size(), IndexError, "[Tree] index ", i, " is out of range for a list of ", l.size());
  return l[i];
}

size_t Tree::size() const {
  if (is_leaf()) return 1;
  if (is_list()) return list().size();
  if (is_dict()) return dict().size();
  return 0;
}

std::vector<std::pair<std::string, Tensor>> tree_flatten_named(const Tree& tree) {
  std::vector<std::pair<std::string, Tensor>> out;
  flatten_into(tree, "", out);
  return out;
}

std::vector<Tensor> tree_flatten(const Tree& tree) {
  std::vector<Tensor> out;
  for (auto& [path, t] : tree_flatten_named(tree)) out.push_back(t);
  return out;
}

Tree tree_unflatten(const Tree& structure, const std::vector<Tensor>& leaves) {
  size_t next = 0;
  Tree t = rebuild(structure, leaves, next);
  RICCI_CHECK(next == leaves.size(), ValueError, "[tree_unflatten] ", leaves.size(), " leaves given for a structure of ",
              next);
  return t;
}

Tree tree_map(const std::function<Tensor(const Tensor&)>& fn, const Tree& tree) {
  std::vector<Tensor> leaves = tree_flatten(tree);
  for (Tensor& t : leaves) t = fn(t);
  return tree_unflatten(tree, leaves);
}

Tree tree_map(const std::function<Tensor(const Tensor&, const Tensor&)>& fn, const Tree& a, const Tree& b) {
  return map2(fn, a, b, "");
}

void eval(const Tree& tree) { eval(tree_flatten(tree)); }

void eval(const Tree& a, const Tree& b) {
  std::vector<Tensor> all = tree_flatten(a);
  for (Tensor& t : tree_flatten(b)) all.push_back(std::move(t));
  eval(all);
}

}  // namespace ricci
