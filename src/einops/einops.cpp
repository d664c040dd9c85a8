// einops' rearrange / reduce / repeat (include/ricci/einops.h): parse the pattern, work out every
// elementary axis's length, then reshape -> permute -> reduce -> expand -> reshape with ricci ops.
#include "ricci/einops.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <sstream>

#include "ricci/error.h"
#include "ricci/ops/reduce.h"
#include "ricci/ops/shape.h"

namespace ricci::einops {
namespace {

// Note [einops axes]: a parsed side is a list of groups; a group is a list of elementary axes
// (one input/output dim); a bare axis is a group of one, "1" and "()" are empty groups. An axis
// is a name, an anonymous number (its name is "#<position>:<n>", unique per side, so the same
// number on both sides is two different axes, as in einops) or the ellipsis, which expands into
// the axes "...0", "...1", ... once the input's rank is known.
struct Axis {
  std::string name;
  std::optional<int64_t> length;  // anonymous axes carry their length
  bool ellipsis = false;
};
using Group = std::vector<Axis>;

struct Side {
  std::vector<Group> groups;
  std::vector<bool> parenthesized;  // per group
  bool has_ellipsis = false;
  bool ellipsis_in_group = false;
  bool has_anonymous = false;  // a number other than 1
};

enum class Op { kRearrange, kReduce, kRepeat };

const char* op_name(Op op) {
  switch (op) {
    case Op::kRearrange: return "rearrange";
    case Op::kReduce: return "reduce";
    case Op::kRepeat: return "repeat";
  }
  return "einops";
}

// Everything an error message needs: "[rearrange] pattern 'b h w -> b (h w c)': ...".
struct Ctx {
  Op op;
  std::string_view pattern;
  std::string where() const { return detail::cat("[", op_name(op), "] pattern '", pattern, "': "); }
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Side parse_side(std::string_view s, const Ctx& ctx, const char* side_name, char tag) {
  Side side;
  std::set<std::string> seen;
  std::optional<Group> open;  // inside parentheses
  size_t anon_count = 0;
  auto add = [&](Axis a) {
    if (!a.length || a.ellipsis) {
      RICCI_CHECK(seen.insert(a.name).second, ValueError, ctx.where(), "axis '", a.name, "' appears twice on the ",
                  side_name, " side; each axis appears at most once per side (to take a diagonal use einsum)");
    }
    if (open) open->push_back(std::move(a));
    else {
      side.groups.push_back(Group{std::move(a)});
      side.parenthesized.push_back(false);
    }
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++i;
    } else if (c == '(') {
      RICCI_CHECK(!open, ValueError, ctx.where(), "parentheses inside parentheses; a group is one level deep, "
                  "write '(a b c)' instead of '(a (b c))'");
      open.emplace();
      ++i;
    } else if (c == ')') {
      RICCI_CHECK(open, ValueError, ctx.where(), "')' without a matching '(' on the ", side_name, " side");
      side.groups.push_back(std::move(*open));
      side.parenthesized.push_back(true);
      open.reset();
      ++i;
    } else if (c == '.') {
      RICCI_CHECK(s.substr(i, 3) == "...", ValueError, ctx.where(),
                  "a '.' outside an ellipsis; the only dots allowed are '...' (every other dim)");
      RICCI_CHECK(!side.has_ellipsis, ValueError, ctx.where(), "more than one '...' on the ", side_name,
                  " side; name the other dims instead");
      side.has_ellipsis = true;
      side.ellipsis_in_group = open.has_value();
      add(Axis{"...", std::nullopt, true});
      i += 3;
    } else if (is_name_char(c)) {
      size_t j = i;
      while (j < s.size() && is_name_char(s[j])) ++j;
      const std::string tok(s.substr(i, j - i));
      i = j;
      const bool number = std::all_of(tok.begin(), tok.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); });
      if (number) {
        int64_t n = 0;
        for (char d : tok) {
          RICCI_CHECK(n < (int64_t{1} << 50), ValueError, ctx.where(), "the axis length ", tok, " is too large");
          n = n * 10 + (d - '0');
        }
        RICCI_CHECK(n > 0, ValueError, ctx.where(), "an anonymous axis of length ", tok,
                    "; anonymous axes are positive numbers (1 for an axis of length 1)");
        if (n == 1) {
          if (!open) {  // "1": an empty group; inside a group it adds nothing
            side.groups.emplace_back();
            side.parenthesized.push_back(false);
          }
          continue;
        }
        side.has_anonymous = true;
        add(Axis{detail::cat("#", tag, anon_count++, ":", n), n, false});
      } else {
        RICCI_CHECK(is_name_start(tok[0]), ValueError, ctx.where(), "'", tok,
                    "' is not an axis name; names are letters, digits and '_' and do not start with a digit");
        add(Axis{tok, std::nullopt, false});
      }
    } else {
      RICCI_CHECK(false, ValueError, ctx.where(), "unexpected character '", c,
                  "'; a pattern holds axis names, numbers, '(', ')', '...' and one '->'");
    }
  }
  RICCI_CHECK(!open, ValueError, ctx.where(), "'(' without a matching ')' on the ", side_name, " side");
  return side;
}

// "a b" for a message: the axes' names as the user wrote them.
std::string display(const Axis& a) { return a.length ? std::to_string(*a.length) : a.name; }
std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}
std::string shape_str(IntArrayRef shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

// Replaces the ellipsis axis with `n` axes "...0" ... "...n-1".
void expand_ellipsis(Side& side, int64_t n) {
  std::vector<Group> groups;
  for (size_t gi = 0; gi < side.groups.size(); ++gi) {
    Group& g = side.groups[gi];
    const bool bare = !side.parenthesized[gi] && g.size() == 1 && g[0].ellipsis;
    Group out;
    for (Axis& a : g) {
      if (!a.ellipsis) {
        out.push_back(std::move(a));
        continue;
      }
      for (int64_t k = 0; k < n; ++k) out.push_back(Axis{detail::cat("...", k), std::nullopt, false});
    }
    if (bare) {
      for (Axis& a : out) groups.push_back(Group{std::move(a)});
    } else {
      groups.push_back(std::move(out));
    }
  }
  side.groups = std::move(groups);
}

Tensor apply(const Tensor& x, std::string_view pattern, Op op, std::string_view reduction, const AxesLengths& axes_lengths) {
  check_defined(x, op_name(op));
  const Ctx ctx{op, pattern};
  const size_t arrow = pattern.find("->");
  RICCI_CHECK(arrow != std::string_view::npos, ValueError, ctx.where(),
              "no '->'; write '<input axes> -> <output axes>', e.g. 'b h w -> b (h w)'");
  RICCI_CHECK(pattern.find("->", arrow + 2) == std::string_view::npos, ValueError, ctx.where(),
              "more than one '->'; a pattern has one input side and one output side");
  Side left = parse_side(pattern.substr(0, arrow), ctx, "input", 'L');
  Side right = parse_side(pattern.substr(arrow + 2), ctx, "output", 'R');

  if (op == Op::kReduce) {
    static constexpr std::string_view kReductions[] = {"sum", "mean", "max", "min", "prod", "any", "all"};
    RICCI_CHECK(std::find(std::begin(kReductions), std::end(kReductions), reduction) != std::end(kReductions),
                ValueError, ctx.where(), "unknown reduction '", reduction,
                "'; use one of sum, mean, max, min, prod, any, all");
    RICCI_CHECK(reduction != "mean" || is_floating_point(x.dtype()), DTypeError, ctx.where(), "the mean of a ",
                dtype_name(x.dtype()), " tensor; convert it first (x.to(float32)) or use 'sum'");
  }
  RICCI_CHECK(!left.ellipsis_in_group, ValueError, ctx.where(),
              "'...' inside parentheses on the input side; the input's '...' stands for whole dims, "
              "so write it bare (it may be grouped on the output side: 'b ... -> b (...)')");
  RICCI_CHECK(left.has_ellipsis || !right.has_ellipsis, ValueError, ctx.where(),
              "'...' on the output side but not on the input side; add '...' to the input side");
  if (op == Op::kRearrange) {
    RICCI_CHECK(!left.has_anonymous && !right.has_anonymous, ValueError, ctx.where(),
                "rearrange does not take anonymous axes other than 1; name the axis and give its length "
                "('(h p) -> h p' with p=2), or use repeat to add an axis or reduce to remove one");
  }
  if (op == Op::kRepeat) {
    RICCI_CHECK(!left.has_anonymous, ValueError, ctx.where(),
                "repeat does not take anonymous axes on the input side; name the axis and give its length");
  }

  // The input's rank against the pattern.
  const int64_t ndim = x.dim();
  const int64_t named_dims = static_cast<int64_t>(left.groups.size()) - (left.has_ellipsis ? 1 : 0);
  if (left.has_ellipsis) {
    RICCI_CHECK(ndim >= named_dims, ShapeError, ctx.where(), "the input side names at least ", named_dims,
                " dims but the input has shape ", shape_str(x.shape()), " (", ndim, " dims)");
    const int64_t n_ell = ndim - named_dims;
    expand_ellipsis(left, n_ell);
    expand_ellipsis(right, n_ell);
  } else {
    RICCI_CHECK(ndim == named_dims, ShapeError, ctx.where(), "the input side names ", named_dims,
                " dims but the input has shape ", shape_str(x.shape()), " (", ndim,
                " dims); name every dim, or add '...' for the rest");
  }

  // Which axes are where.
  std::vector<std::string> left_names, right_names;
  for (const Group& g : left.groups)
    for (const Axis& a : g) left_names.push_back(a.name);
  for (const Group& g : right.groups)
    for (const Axis& a : g) right_names.push_back(a.name);
  auto in = [](const std::vector<std::string>& v, const std::string& n) { return std::find(v.begin(), v.end(), n) != v.end(); };
  std::vector<std::string> only_left, only_right;
  for (const Group& g : left.groups)
    for (const Axis& a : g)
      if (!in(right_names, a.name)) only_left.push_back(display(a));
  for (const Group& g : right.groups)
    for (const Axis& a : g)
      if (!in(left_names, a.name)) only_right.push_back(display(a));
  if (op == Op::kRearrange) {
    RICCI_CHECK(only_left.empty() && only_right.empty(), ValueError, ctx.where(), "axes on only one side (",
                join(only_left.empty() ? only_right : only_left), "); rearrange keeps every axis: use reduce to "
                "remove an axis, repeat to add one");
  } else if (op == Op::kReduce) {
    RICCI_CHECK(only_right.empty(), ValueError, ctx.where(), "output axes not in the input (", join(only_right),
                "); reduce only removes axes: use repeat to add one");
  } else {
    RICCI_CHECK(only_left.empty(), ValueError, ctx.where(), "input axes missing from the output (", join(only_left),
                "); repeat only adds axes: use reduce to remove one");
  }

  // Lengths: given ones first (each must name an axis of the pattern).
  std::vector<std::pair<std::string, int64_t>> known;  // name -> length
  auto find_known = [&](const std::string& n) -> std::optional<int64_t> {
    for (const auto& [k, v] : known)
      if (k == n) return v;
    return std::nullopt;
  };
  for (const auto& [name, len] : axes_lengths) {
    RICCI_CHECK(in(left_names, name) || in(right_names, name), ValueError, ctx.where(), "the length of '", name,
                "' is given but the pattern has no axis '", name, "'; drop it or fix the pattern");
    RICCI_CHECK(len >= 0, ValueError, ctx.where(), "axis '", name, "' has the negative length ", len);
    RICCI_CHECK(!find_known(name), ValueError, ctx.where(), "the length of '", name, "' is given twice");
    known.emplace_back(name, len);
  }
  for (const Group& g : right.groups)
    for (const Axis& a : g)
      if (a.length) known.emplace_back(a.name, *a.length);

  // Input groups: each dim's length is the product of its group's; at most one unknown per group.
  std::vector<int64_t> elementary;  // the input's elementary axes, left to right
  for (size_t gi = 0; gi < left.groups.size(); ++gi) {
    const Group& g = left.groups[gi];
    const int64_t dim_len = x.size(static_cast<int64_t>(gi));
    int64_t product = 1;
    std::vector<std::string> unknown;
    for (const Axis& a : g) {
      std::optional<int64_t> len = a.length ? a.length : find_known(a.name);
      if (len) product *= *len;
      else unknown.push_back(a.name);
    }
    std::string group_text;
    for (const Axis& a : g) group_text += (group_text.empty() ? "" : " ") + display(a);
    RICCI_CHECK(unknown.size() <= 1, ValueError, ctx.where(), "cannot infer the lengths of ", join(unknown),
                " from dim ", gi, " (length ", dim_len, ") alone; give all but one of them as axis lengths (e.g. ",
                unknown[0], "=...)");
    if (unknown.empty()) {
      RICCI_CHECK(product == dim_len, ShapeError, ctx.where(), "dim ", gi, " of the input (shape ", shape_str(x.shape()),
                  ") has length ", dim_len, " but '", g.empty() ? std::string("1") : "(" + group_text + ")",
                  "' makes ", product, "; fix the axis lengths or the pattern");
    } else {
      RICCI_CHECK(product != 0 && dim_len % product == 0, ShapeError, ctx.where(), "dim ", gi, " of the input (shape ",
                  shape_str(x.shape()), ") has length ", dim_len, ", which '(", group_text, ")' cannot split: ",
                  dim_len, " is not a multiple of ", product, "; fix the axis lengths");
      known.emplace_back(unknown[0], dim_len / product);
    }
    for (const Axis& a : g) elementary.push_back(a.length ? *a.length : *find_known(a.name));
  }
  // New output axes (repeat) need a length.
  std::vector<std::string> missing;
  for (const Group& g : right.groups)
    for (const Axis& a : g)
      if (!a.length && !find_known(a.name)) missing.push_back(a.name);
  RICCI_CHECK(missing.empty(), ValueError, ctx.where(), "the new axes ", join(missing),
              " need a length; pass it as an axis length (e.g. ", missing.empty() ? "" : missing[0], "=3)");

  // 1. Split the input into its elementary axes (always a view when x has a view's strides).
  Tensor t = x;
  if (elementary != std::vector<int64_t>(x.shape().begin(), x.shape().end())) t = t.reshape(elementary);

  // 2. Reduce the input axes missing from the output.
  std::vector<int64_t> reduced;
  std::vector<std::string> kept;
  for (size_t i = 0; i < left_names.size(); ++i) {
    if (in(right_names, left_names[i])) kept.push_back(left_names[i]);
    else reduced.push_back(static_cast<int64_t>(i));
  }
  if (!reduced.empty()) {
    if (reduction == "sum") {
      t = ricci::sum(t, reduced);
    } else if (reduction == "mean") {
      t = ricci::mean(t, reduced);
    } else if (reduction == "max") {
      t = ricci::amax(t, reduced);
    } else if (reduction == "min") {
      t = ricci::amin(t, reduced);
    } else if (reduction == "any") {
      t = ricci::any(t, reduced);
    } else if (reduction == "all") {
      t = ricci::all(t, reduced);
    } else {  // prod: one dim at a time, the last first so the earlier indices stay valid
      for (auto it = reduced.rbegin(); it != reduced.rend(); ++it) t = ricci::prod(t, *it);
    }
  }

  // 3. Permute the kept axes into the output's order.
  std::vector<int64_t> order;
  for (const std::string& n : right_names) {
    auto it = std::find(kept.begin(), kept.end(), n);
    if (it != kept.end()) order.push_back(it - kept.begin());
  }
  bool identity = true;
  for (size_t i = 0; i < order.size(); ++i) identity = identity && order[i] == static_cast<int64_t>(i);
  if (!identity) t = t.permute(order);

  // 4. New axes: unsqueeze and expand (a broadcast view).
  std::vector<int64_t> full;
  bool added = false;
  {
    std::vector<int64_t> with_new;
    int64_t pos = 0;
    for (const std::string& n : right_names) {
      if (in(kept, n)) {
        full.push_back(t.size(pos));
      } else {
        t = t.unsqueeze(pos);
        full.push_back(find_known(n).value_or(1));
        for (const Group& g : right.groups)
          for (const Axis& a : g)
            if (a.name == n && a.length) full.back() = *a.length;
        added = true;
      }
      ++pos;
    }
    if (added) t = t.expand(full);
  }

  // 5. Merge into the output's groups.
  std::vector<int64_t> out_shape;
  size_t k = 0;
  for (const Group& g : right.groups) {
    int64_t len = 1;
    for (size_t j = 0; j < g.size(); ++j) len *= full[k++];
    out_shape.push_back(len);
  }
  if (out_shape != std::vector<int64_t>(t.shape().begin(), t.shape().end())) t = t.reshape(out_shape);
  return t;
}

Tensor stacked(const std::vector<Tensor>& xs, Op op, std::string_view pattern) {
  RICCI_CHECK(!xs.empty(), ValueError, "[", op_name(op), "] pattern '", pattern,
              "': an empty list of tensors; pass at least one tensor (a list is stacked on a new first axis)");
  return ricci::stack(xs, 0);
}

}  // namespace

Tensor rearrange(const Tensor& x, std::string_view pattern, const AxesLengths& axes_lengths) {
  return apply(x, pattern, Op::kRearrange, {}, axes_lengths);
}
Tensor rearrange(const std::vector<Tensor>& xs, std::string_view pattern, const AxesLengths& axes_lengths) {
  return apply(stacked(xs, Op::kRearrange, pattern), pattern, Op::kRearrange, {}, axes_lengths);
}
Tensor reduce(const Tensor& x, std::string_view pattern, std::string_view reduction, const AxesLengths& axes_lengths) {
  return apply(x, pattern, Op::kReduce, reduction, axes_lengths);
}
Tensor reduce(const std::vector<Tensor>& xs, std::string_view pattern, std::string_view reduction,
              const AxesLengths& axes_lengths) {
  return apply(stacked(xs, Op::kReduce, pattern), pattern, Op::kReduce, reduction, axes_lengths);
}
Tensor repeat(const Tensor& x, std::string_view pattern, const AxesLengths& axes_lengths) {
  return apply(x, pattern, Op::kRepeat, {}, axes_lengths);
}
Tensor repeat(const std::vector<Tensor>& xs, std::string_view pattern, const AxesLengths& axes_lengths) {
  return apply(stacked(xs, Op::kRepeat, pattern), pattern, Op::kRepeat, {}, axes_lengths);
}

}  // namespace ricci::einops
