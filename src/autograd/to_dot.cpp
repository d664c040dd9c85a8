// to_dot: the graph behind a tensor as Graphviz DOT, drawn the way the lesson draws its worked
// DAG: one box per tensor (leaves blue, op results grey, the root with a double border), arrows
// from inputs to outputs, i.e. the direction the forward pass ran. Backward walks them reversed.
#include <cstdio>
#include <sstream>
#include <unordered_map>

#include "autograd/autograd_meta.h"
#include "ricci/lazy.h"

namespace ricci::autograd {

namespace {

// Values small enough to read in a box: "2", "[2, 3]"; larger tensors show only their shape.
constexpr int64_t kMaxShownElements = 6;

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string format_values(const Tensor& t) {
  if (!t.defined()) return "None";
  if (t.numel() > kMaxShownElements) return "…";
  const std::vector<double> v = t.detach().cpu().to_vector<double>();
  if (t.dim() == 0) return format_number(v[0]);
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + format_number(v[i]);
  return s + "]";
}

std::string format_meta(IntArrayRef sizes, DType dtype) {
  std::ostringstream os;
  int64_t bytes;  // an expanded (stride-0) tensor can count more bytes than int64 holds
  const bool fits = !mul_overflows(product(sizes), static_cast<int64_t>(element_size(dtype)), &bytes);
  os << sizes << " " << dtype_name(dtype) << " · ";
  if (fits) os << bytes << " B";
  else os << "more than 2^63 B";
  return os.str();
}

// DOT string literal escaping; "\n" in our labels is DOT's own line break and stays.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') out += "\\\"";
    else if (c == '\\' && !(i + 1 < s.size() && s[i + 1] == 'n')) out += "\\\\";
    else out += c;
  }
  return out + "\"";
}

std::string value_line(const Tensor& t) {
  std::string s = "value " + format_values(t);
  const Tensor g = t.grad();
  if (g.defined()) s += " · grad " + format_values(g);
  return s;
}

}  // namespace

std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& named_leaves) {
  check_defined(root, "to_dot", "root");
  if (is_pending(root)) return pending_dot({root});  // not run yet: draw what is recorded
  // Names by TensorImpl (a leaf's accumulator holds another handle to the same impl) and, for
  // named non-leaf tensors, by the node and output slot that produced them.
  std::unordered_map<const TensorImpl*, const std::pair<std::string, Tensor>*> leaf_names;
  std::unordered_map<const Node*, const std::pair<std::string, Tensor>*> node_names;
  for (const auto& entry : named_leaves) {
    if (!entry.second.defined()) continue;
    if (auto fn = entry.second.grad_fn()) node_names.emplace(fn.get(), &entry);
    else leaf_names.emplace(entry.second.unsafe_impl(), &entry);
  }

  std::ostringstream os;
  os << "digraph ricci_autograd {\n"
     << "  rankdir=LR;\n"
     << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n"
     << "  edge [color=\"#555555\"];\n";

  const Edge root_edge = gradient_edge(root);
  if (!root_edge.is_valid()) {
    // Nothing was recorded: the tensor alone.
    std::string label = "tensor (no graph)\\n" + value_line(root) + "\\n" + format_meta(root.shape(), root.dtype());
    os << "  n0 [label=" << quote(label) << ", fillcolor=\"#eeeeee\"];\n}\n";
    return os.str();
  }

  // Breadth-first from the root, numbering nodes in the order they are met (stable output).
  std::unordered_map<const Node*, int> id;
  std::vector<const Node*> order{root_edge.node.get()};
  id[order[0]] = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Edge& e : order[i]->next_functions()) {
      if (e.node && id.emplace(e.node.get(), static_cast<int>(order.size())).second) order.push_back(e.node.get());
    }
  }

  for (const Node* n : order) {
    std::string label, fill;
    if (const Tensor leaf_t = accumulate_grad_variable(*n); leaf_t.defined()) {
      const Tensor* leaf = &leaf_t;
      auto it = leaf_names.find(leaf->unsafe_impl());
      label = (it != leaf_names.end() ? it->second->first : std::string("leaf")) + " (leaf)\\n" + value_line(*leaf) +
              "\\n" + format_meta(leaf->shape(), leaf->dtype());
      fill = "#cfe2ff";
    } else {
      auto it = node_names.find(n);
      label = it != node_names.end() ? it->second->first + " = " + n->name() : n->name();
      if (it != node_names.end()) label += "\\n" + value_line(it->second->second);
      for (size_t k = 0; k < n->num_outputs(); ++k) {
        const OutputMeta& m = n->output_meta(k);
        label += "\\n" + (n->num_outputs() > 1 ? "out " + std::to_string(k) + ": " : std::string()) +
                 format_meta(m.sizes, m.dtype);
      }
      fill = "#e9e9e9";
    }
    os << "  n" << id[n] << " [label=" << quote(label) << ", fillcolor=\"" << fill << "\""
       << (n == order[0] ? ", peripheries=2" : "") << "];\n";
  }
  for (const Node* n : order) {
    for (const Edge& e : n->next_functions()) {
      if (e.node) os << "  n" << id[e.node.get()] << " -> n" << id[n] << ";\n";
    }
  }
  os << "}\n";
  return os.str();
}

}  // namespace ricci::autograd
