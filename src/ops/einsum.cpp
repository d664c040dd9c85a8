// einsum: parse the equation into integer labels, bring each operand to one dim per distinct
// label (diagonals for repeated letters, size-1 dims dropped since they broadcast, lone letters
// summed), then contract pairs in the cheapest order with permute + reshape + bmm, and finally
// permute (and unsqueeze) into the output's order. Every step is a differentiable op, so einsum
// needs no gradient rule of its own.
#include "ricci/ops/einsum.h"

#include <algorithm>
#include <bitset>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ricci/ops/elementwise.h"
#include "ricci/ops/linalg.h"
#include "ricci/ops/reduce.h"

namespace ricci {
namespace {

constexpr int kLetters = 52;     // a-z -> 0..25, A-Z -> 26..51
constexpr int kMaxLabels = 128;  // letters + ellipsis dims
using LabelSet = std::bitset<kMaxLabels>;
using Labels = std::vector<int>;

int letter_label(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26; }
// ASCII order (A-Z before a-z), which the implicit output sorts by.
int ascii_rank(int label) { return label < 26 ? label + 26 : label - 26; }

std::string label_name(int label) {
  if (label >= kLetters) return "ellipsis dim " + std::to_string(label - kLetters);
  return std::string("subscript '") + static_cast<char>(label < 26 ? 'a' + label : 'A' + label - 26) + "'";
}

struct Term {
  std::string letters_with_ellipsis;  // as written, spaces removed
  int ellipsis_at = -1;               // position of "..." among the letters, -1 if none
  Labels letters;
};

struct Parsed {
  std::vector<Term> inputs;
  bool explicit_output = false;
  Term output;
};

Term parse_term(std::string_view s, std::string_view eq) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      RICCI_CHECK(s.substr(i, 3) == "...", ValueError, "[einsum] malformed equation '", eq,
                  "': found '.' that is not part of an ellipsis ('...')");
      RICCI_CHECK(t.ellipsis_at < 0, ValueError, "[einsum] malformed equation '", eq,
                  "': more than one ellipsis ('...') in one subscript term");
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 2;
      continue;
    }
    RICCI_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), ValueError, "[einsum] invalid subscript '", c,
                "' in equation '", eq, "': subscripts must be letters in [a-zA-Z] (or '...', ',' and '->')");
    t.letters.push_back(letter_label(c));
  }
  return t;
}

Parsed parse(std::string_view equation) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  Parsed p;
  std::string_view lhs = eq, rhs;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos) {
    lhs = std::string_view(eq).substr(0, arrow);
    rhs = std::string_view(eq).substr(arrow + 2);
    p.explicit_output = true;
  }
  RICCI_CHECK(lhs.find_first_of("->") == std::string_view::npos && rhs.find_first_of("->") == std::string_view::npos,
              ValueError, "[einsum] malformed equation '", equation,
              "': '->' must appear at most once and '-' or '>' nowhere else");
  RICCI_CHECK(rhs.find(',') == std::string_view::npos, ValueError, "[einsum] malformed equation '", equation,
              "': the output subscripts (after '->') cannot contain ','");
  size_t start = 0;
  for (;;) {
    const size_t comma = lhs.find(',', start);
    p.inputs.push_back(parse_term(lhs.substr(start, comma == std::string_view::npos ? lhs.npos : comma - start), equation));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (p.explicit_output) p.output = parse_term(rhs, equation);
  return p;
}

// One operand on its way through the contraction: its tensor and one label per dim.
struct Operand {
  Tensor t;
  Labels labels;
};

Tensor sum_dims(const Tensor& t, const std::vector<int64_t>& dims) {
  if (dims.empty()) return t;
  return t.sum(dims, /*keepdim=*/false, t.dtype());
}

// ---- contraction order -----------------------------------------------------------------------------

using Path = std::vector<std::pair<int, int>>;  // pick (i, j), remove both, append their product

double set_size(const LabelSet& s, const std::vector<int64_t>& sizes) {
  double n = 1;
  for (int l = 0; l < kMaxLabels; ++l)
    if (s[l]) n *= static_cast<double>(sizes[l]);
  return n;
}

// Labels the product of sets i and j keeps: those the output or any other operand still needs.
LabelSet kept_labels(const std::vector<LabelSet>& sets, int i, int j, const LabelSet& output) {
  LabelSet others = output;
  for (int k = 0; k < static_cast<int>(sets.size()); ++k)
    if (k != i && k != j) others |= sets[k];
  return (sets[i] | sets[j]) & others;
}

std::vector<LabelSet> after_pair(const std::vector<LabelSet>& sets, int i, int j, const LabelSet& output) {
  std::vector<LabelSet> next;
  for (int k = 0; k < static_cast<int>(sets.size()); ++k)
    if (k != i && k != j) next.push_back(sets[k]);
  next.push_back(kept_labels(sets, i, j, output));
  return next;
}

// Cost of a pairwise contraction: multiply-adds, the product of all sizes involved.
void search_exhaustive(const std::vector<LabelSet>& sets, const LabelSet& output, const std::vector<int64_t>& sizes,
                       double cost_so_far, Path& current, double& best_cost, Path& best) {
  if (sets.size() <= 1) {
    if (cost_so_far < best_cost) best_cost = cost_so_far, best = current;
    return;
  }
  for (int i = 0; i < static_cast<int>(sets.size()); ++i)
    for (int j = i + 1; j < static_cast<int>(sets.size()); ++j) {
      const double c = cost_so_far + set_size(sets[i] | sets[j], sizes);
      if (c >= best_cost) continue;
      current.emplace_back(i, j);
      search_exhaustive(after_pair(sets, i, j, output), output, sizes, c, current, best_cost, best);
      current.pop_back();
    }
}

Path greedy_path(std::vector<LabelSet> sets, const LabelSet& output, const std::vector<int64_t>& sizes) {
  Path path;
  while (sets.size() > 1) {
    double best = std::numeric_limits<double>::infinity(), best_out = best;
    int bi = 0, bj = 1;
    for (int i = 0; i < static_cast<int>(sets.size()); ++i)
      for (int j = i + 1; j < static_cast<int>(sets.size()); ++j) {
        const double c = set_size(sets[i] | sets[j], sizes);
        const double o = set_size(kept_labels(sets, i, j, output), sizes);
        if (c < best || (c == best && o < best_out)) best = c, best_out = o, bi = i, bj = j;
      }
    path.emplace_back(bi, bj);
    sets = after_pair(sets, bi, bj, output);
  }
  return path;
}

Path find_path(const std::vector<LabelSet>& sets, const LabelSet& output, const std::vector<int64_t>& sizes) {
  if (sets.size() <= 2) return sets.size() == 2 ? Path{{0, 1}} : Path{};
  if (sets.size() > 4) return greedy_path(sets, output, sizes);
  Path current, best;
  double best_cost = std::numeric_limits<double>::infinity();
  search_exhaustive(sets, output, sizes, 0, current, best_cost, best);
  return best;
}

// Paths by (equation, shapes). Searching is cheap next to the products, but a training loop asks
// the same question every step.
Path cached_path(const std::string& key, const std::vector<LabelSet>& sets, const LabelSet& output,
                 const std::vector<int64_t>& sizes) {
  static std::mutex mutex;
  static std::unordered_map<std::string, Path> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  Path path = find_path(sets, output, sizes);
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() > 4096) cache.clear();  // bound the memory of programs with ever-new shapes
  cache.emplace(key, path);
  return path;
}

// ---- one pairwise contraction ----------------------------------------------------------------------

// Contracts x and y over their shared labels that `keep` lacks; labels in both and in keep are
// batch dims. Result labels: batch, then x's own, then y's own.
Operand contract(const Operand& x_in, const Operand& y_in, const LabelSet& keep, const std::vector<int64_t>& sizes) {
  LabelSet in_y, in_x;
  for (int l : y_in.labels) in_y.set(l);
  for (int l : x_in.labels) in_x.set(l);
  // A label only one side has and nobody needs later is summed there first.
  auto drop_unneeded = [&](const Operand& o, const LabelSet& other) {
    std::vector<int64_t> dims;
    Operand r;
    for (size_t d = 0; d < o.labels.size(); ++d) {
      const int l = o.labels[d];
      if (!other[l] && !keep[l]) dims.push_back(static_cast<int64_t>(d));
      else r.labels.push_back(l);
    }
    r.t = sum_dims(o.t, dims);
    return r;
  };
  const Operand x = drop_unneeded(x_in, in_y), y = drop_unneeded(y_in, in_x);
  Labels batch, xonly, yonly, summed;
  for (int l : x.labels) {
    if (in_y[l]) (keep[l] ? batch : summed).push_back(l);
    else xonly.push_back(l);
  }
  for (int l : y.labels)
    if (!in_x[l]) yonly.push_back(l);
  auto dim_of = [](const Operand& o, int l) {
    return static_cast<int64_t>(std::find(o.labels.begin(), o.labels.end(), l) - o.labels.begin());
  };
  auto prod = [&](const Labels& ls) {
    int64_t n = 1;
    for (int l : ls) n = checked_mul(n, sizes[l], "einsum", x_in.t.shape(), "the size of a contraction");
    return n;
  };
  std::vector<int64_t> px, py;
  for (const Labels* g : {&batch, &xonly, &summed})
    for (int l : *g) px.push_back(dim_of(x, l));
  for (const Labels* g : {&batch, &summed, &yonly})
    for (int l : *g) py.push_back(dim_of(y, l));
  const int64_t B = prod(batch), M = prod(xonly), K = prod(summed), N = prod(yonly);
  Operand r;
  std::vector<int64_t> shape;
  if (summed.empty()) {
    // Nothing to sum: a broadcast elementwise product (no GEMM of 1 x 1 matrices).
    for (const Labels* g : {&batch, &xonly, &yonly})
      for (int l : *g) r.labels.push_back(l), shape.push_back(sizes[l]);
    checked_numel(shape, "einsum");  // an outer product of broadcast operands may not fit
    std::vector<int64_t> sx, sy;
    for (int l : batch) sx.push_back(sizes[l]), sy.push_back(sizes[l]);
    for (int l : xonly) sx.push_back(sizes[l]), sy.push_back(1);
    for (int l : yonly) sx.push_back(1), sy.push_back(sizes[l]);
    r.t = x.t.permute(px).reshape(sx) * y.t.permute(py).reshape(sy);
    return r;
  }
  const Tensor a = x.t.permute(px).reshape({B, M, K});
  const Tensor b = y.t.permute(py).reshape({B, K, N});
  r.labels = batch;
  r.labels.insert(r.labels.end(), xonly.begin(), xonly.end());
  r.labels.insert(r.labels.end(), yonly.begin(), yonly.end());
  for (int l : r.labels) shape.push_back(sizes[l]);
  checked_numel(shape, "einsum");
  r.t = bmm(a, b).reshape(shape);
  return r;
}

}  // namespace

Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands) {
  RICCI_CHECK(!operands.empty(), ValueError, "[einsum] must provide at least one operand");
  for (size_t i = 0; i < operands.size(); ++i) check_defined(operands[i], "einsum", "operand");
  Parsed p = parse(equation);
  RICCI_CHECK(p.inputs.size() == operands.size(), ValueError, "[einsum] ", operands.size(),
              " operands were given but the equation '", equation, "' has subscripts for ", p.inputs.size(),
              " operands; give one comma-separated subscript term per operand");
  for (size_t i = 1; i < operands.size(); ++i) {
    check_same_device("einsum", {&operands[0], &operands[i]});
    RICCI_CHECK(operands[i].dtype() == operands[0].dtype(), DTypeError, "[einsum] dtype mismatch: expected all operands to have the same dtype, got ",
                operands[0].dtype(), " for operand 0 and ", operands[i].dtype(), " for operand ", i,
                "; convert with .to(", promote_types(operands[0].dtype(), operands[i].dtype()), ")");
  }
  RICCI_CHECK(operands[0].dtype() != DType::Bool, DTypeError,
              "[einsum] not implemented for dtype bool; convert the operands with .to(int64) or .to(float32) first");

  // Ellipsis dims get labels kLetters.., right-aligned across operands (they broadcast).
  int64_t n_ell = 0;
  for (size_t i = 0; i < operands.size(); ++i) {
    const Term& t = p.inputs[i];
    const int64_t nd = operands[i].dim(), nl = static_cast<int64_t>(t.letters.size());
    if (t.ellipsis_at < 0) {
      RICCI_CHECK(nl == nd, ShapeError, "[einsum] the number of subscripts in the equation (", nl,
                  ") does not match the number of dimensions (", nd, ") for operand ", i,
                  " and no ellipsis was given; write one subscript per dim, or '...' for the rest");
    } else {
      RICCI_CHECK(nl <= nd, ShapeError, "[einsum] the number of subscripts in the equation (", nl,
                  ") is more than the number of dimensions (", nd, ") for operand ", i);
      n_ell = std::max(n_ell, nd - nl);
    }
  }
  RICCI_CHECK(kLetters + n_ell <= kMaxLabels, ShapeError, "[einsum] too many ellipsis dims (", n_ell, ")");

  std::vector<int64_t> sizes(kMaxLabels, 1);
  std::vector<int> size_from(kMaxLabels, -1);  // the operand a label's size (> 1) came from
  LabelSet seen;
  std::vector<int> count(kMaxLabels, 0);
  std::vector<Operand> ops(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    const Term& t = p.inputs[i];
    const Tensor& x = operands[i];
    Labels labels;
    const int64_t ell = x.dim() - static_cast<int64_t>(t.letters.size());
    for (int l : t.letters) ++count[l];  // the implicit output keeps letters written exactly once
    for (size_t k = 0; k <= t.letters.size(); ++k) {
      if (static_cast<int>(k) == t.ellipsis_at)
        for (int64_t e = 0; e < ell; ++e) labels.push_back(static_cast<int>(kLetters + n_ell - ell + e));
      if (k < t.letters.size()) labels.push_back(t.letters[k]);
    }
    // Repeated labels: take the diagonal (a view), which moves the label to the end.
    Tensor v = x;
    for (size_t d = 0; d < labels.size(); ++d) {
      for (size_t e = d + 1; e < labels.size();) {
        if (labels[e] != labels[d]) {
          ++e;
          continue;
        }
        RICCI_CHECK(v.size(d) == v.size(e), ShapeError, "[einsum] ", label_name(labels[d]), " is repeated for operand ", i,
                    " but the sizes don't match, ", v.size(d), " != ", v.size(e));
        v = v.diagonal(0, static_cast<int64_t>(d), static_cast<int64_t>(e));
        const int l = labels[d];
        labels.erase(labels.begin() + static_cast<std::ptrdiff_t>(e));
        labels.erase(labels.begin() + static_cast<std::ptrdiff_t>(d));
        labels.push_back(l);
        e = d + 1;
      }
    }
    // Sizes must agree up to broadcasting; size-1 dims are dropped (they broadcast).
    std::vector<int64_t> keep_shape;
    Labels kept;
    for (size_t d = 0; d < labels.size(); ++d) {
      const int l = labels[d];
      const int64_t s = v.size(static_cast<int64_t>(d));
      seen.set(l);
      if (s != 1) {
        RICCI_CHECK(size_from[l] < 0 || sizes[l] == s, ShapeError, "[einsum] operands do not broadcast: ", label_name(l),
                    " has size ", sizes[l], " for operand ", size_from[l], " but size ", s, " for operand ", i);
        sizes[l] = s;
        size_from[l] = static_cast<int>(i);
        kept.push_back(l);
        keep_shape.push_back(s);
      }
    }
    ops[i].t = keep_shape.size() == static_cast<size_t>(v.dim()) ? v : v.reshape(keep_shape);
    ops[i].labels = kept;
  }

  // The output labels.
  Labels out_labels;
  if (p.explicit_output) {
    LabelSet out_seen;
    for (size_t k = 0; k <= p.output.letters.size(); ++k) {
      if (static_cast<int>(k) == p.output.ellipsis_at)
        for (int64_t e = 0; e < n_ell; ++e) out_labels.push_back(static_cast<int>(kLetters + e));
      if (k == p.output.letters.size()) break;
      const int l = p.output.letters[k];
      RICCI_CHECK(seen[l], ValueError, "[einsum] output ", label_name(l),
                  " does not appear in the equation for any input operand ('", equation, "')");
      RICCI_CHECK(!out_seen[l], ValueError, "[einsum] output ", label_name(l),
                  " appears more than once in the output ('", equation, "')");
      out_seen.set(l);
      out_labels.push_back(l);
    }
  } else {
    for (int64_t e = 0; e < n_ell; ++e) out_labels.push_back(static_cast<int>(kLetters + e));
    Labels once;
    for (int l = 0; l < kLetters; ++l)
      if (count[l] == 1) once.push_back(l);
    std::sort(once.begin(), once.end(), [](int a, int b) { return ascii_rank(a) < ascii_rank(b); });
    out_labels.insert(out_labels.end(), once.begin(), once.end());
  }
  LabelSet out_set;
  for (int l : out_labels) out_set.set(l);

  // Sum the labels only one operand has and the output lacks, before any product.
  std::vector<int> holders(kMaxLabels, 0);
  for (const Operand& o : ops)
    for (int l : o.labels) ++holders[l];
  for (Operand& o : ops) {
    std::vector<int64_t> dims;
    Labels rest;
    for (size_t d = 0; d < o.labels.size(); ++d) {
      if (holders[o.labels[d]] == 1 && !out_set[o.labels[d]]) dims.push_back(static_cast<int64_t>(d));
      else rest.push_back(o.labels[d]);
    }
    o.t = sum_dims(o.t, dims);
    o.labels = rest;
  }

  // Contract pairs in the cached cheapest order.
  std::vector<LabelSet> sets;
  std::string key(equation);
  for (size_t i = 0; i < ops.size(); ++i) {
    LabelSet s;
    for (int l : ops[i].labels) s.set(l);
    sets.push_back(s);
    key += '|';
    for (int64_t d : operands[i].shape()) key += std::to_string(d) + ',';
  }
  const Path path = cached_path(key, sets, out_set, sizes);
  for (const auto& [i, j] : path) {
    const LabelSet keep = kept_labels(sets, i, j, out_set);
    Operand r = contract(ops[i], ops[j], keep, sizes);
    sets = after_pair(sets, i, j, out_set);
    ops.erase(ops.begin() + j);  // j > i
    ops.erase(ops.begin() + i);
    ops.push_back(std::move(r));
  }

  // Into the output's order; labels dropped as size 1 come back as size-1 dims.
  Operand& last = ops.back();
  std::vector<int64_t> leftover;  // labels of a lone operand the output lacks
  Labels rest;
  for (size_t d = 0; d < last.labels.size(); ++d) {
    if (!out_set[last.labels[d]]) leftover.push_back(static_cast<int64_t>(d));
    else rest.push_back(last.labels[d]);
  }
  Tensor t = sum_dims(last.t, leftover);
  std::vector<int64_t> perm;
  for (int l : out_labels) {
    auto it = std::find(rest.begin(), rest.end(), l);
    if (it != rest.end()) perm.push_back(it - rest.begin());
  }
  t = t.permute(perm);
  for (size_t k = 0; k < out_labels.size(); ++k)
    if (std::find(rest.begin(), rest.end(), out_labels[k]) == rest.end()) t = t.unsqueeze(static_cast<int64_t>(k));
  return t;
}

}  // namespace ricci
