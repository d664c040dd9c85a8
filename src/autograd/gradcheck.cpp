// gradcheck / gradgradcheck: the analytical Jacobian (one backward per output element) against
// central finite differences, reported in PyTorch's words so a failing check reads like theirs.
//
// Note [Perturbing in place]: the numerical Jacobian perturbs each element of the caller's own
// tensors, through their strides, and restores the exact bits afterwards. Perturbing a copy
// would miss functions that read inputs through views or capture them, and a transposed or sliced
// input would not be tested as the non-contiguous layout it is. Raw writes tick no version
// counter, which is right: the values are back before anyone can observe the change.
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "autograd/autograd_meta.h"
#include "ricci/factories.h"
#include "ricci/ops/elementwise.h"

namespace ricci::autograd {

namespace {

using Fn = std::function<Tensors(const Tensors&)>;

// Row-major element e of t, addressed through t's strides.
template <class T>
T* element_ptr(const Tensor& t, int64_t e) {
  T* p = t.data_ptr<T>();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    const int64_t size = t.shape()[d];
    p += (e % size) * t.strides()[d];
    e /= size;
  }
  return p;
}

double read_element(const Tensor& t, int64_t e) {
  return t.dtype() == DType::Float64 ? *element_ptr<double>(t, e) : static_cast<double>(*element_ptr<float>(t, e));
}

void write_element(const Tensor& t, int64_t e, double v) {
  if (t.dtype() == DType::Float64) {
    *element_ptr<double>(t, e) = v;
  } else {
    *element_ptr<float>(t, e) = static_cast<float>(v);
  }
}

// Raw bytes of one element, so the restore is exact even where (x + eps) - eps != x.
struct SavedBits {
  unsigned char bytes[8];
};
SavedBits save_bits(const Tensor& t, int64_t e) {
  SavedBits s{};
  if (t.dtype() == DType::Float64) std::memcpy(s.bytes, element_ptr<double>(t, e), 8);
  else std::memcpy(s.bytes, element_ptr<float>(t, e), 4);
  return s;
}
void restore_bits(const Tensor& t, int64_t e, const SavedBits& s) {
  if (t.dtype() == DType::Float64) std::memcpy(element_ptr<double>(t, e), s.bytes, 8);
  else std::memcpy(element_ptr<float>(t, e), s.bytes, 4);
}

bool is_differentiable_output(const Tensor& t) { return t.defined() && t.is_floating_point(); }

// Values of every differentiable output, flattened to doubles (row-major per output).
std::vector<std::vector<double>> output_values(const Fn& fn, const Tensors& inputs) {
  Tensors outs = fn(inputs);
  std::vector<std::vector<double>> vals(outs.size());
  for (size_t k = 0; k < outs.size(); ++k) {
    if (is_differentiable_output(outs[k])) vals[k] = outs[k].detach().to_vector<double>();
  }
  return vals;
}

// Which inputs gradcheck differentiates: floating tensors that require grad. Checks what the
// numerical pass needs of them.
std::vector<size_t> checked_inputs(const Tensors& inputs, const char* who) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad()) continue;
    RICCI_CHECK(t.dtype() == DType::Float64 || t.dtype() == DType::Float32, DTypeError, "[", who, "] input ", i,
                " requires grad and has dtype ", t.dtype(),
                "; finite differences need float64 (or float32): pass inputs made with .to(float64)");
    RICCI_CHECK(t.is_cpu(), DeviceError, "[", who, "] input ", i, " is on ", t.device(),
                "; the numerical Jacobian perturbs elements in host memory: move the inputs to the CPU");
    for (int64_t d = 0; d < t.dim(); ++d) {
      RICCI_CHECK(t.strides()[d] != 0 || t.shape()[d] <= 1, ValueError, "[", who, "] the ", i,
                  "th input has a dimension with stride 0. gradcheck only supports inputs that are non-overlapping to "
                  "be able to compute the numerical gradients correctly. You should call .contiguous on the input "
                  "before passing it to gradcheck.");
    }
    idx.push_back(i);
  }
  RICCI_CHECK(!idx.empty(), ValueError, "[", who,
              "] gradcheck expects at least one input tensor to require gradient, but none of them have "
              "requires_grad=true.");
  return idx;
}

// A Jacobian as PyTorch lays it out: [input numel, output numel], element (j, m) = d out[m] / d in[j].
struct Jacobian {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;
  double& at(int64_t r, int64_t c) { return data[static_cast<size_t>(r * cols + c)]; }
  Tensor tensor() const { return from_vector(data, {rows, cols}, DType::Float64); }
};

bool all_close(const Jacobian& a, const Jacobian& n, double rtol, double atol) {
  for (size_t i = 0; i < a.data.size(); ++i) {
    const double x = a.data[i], y = n.data[i];
    if (std::isnan(x) || std::isnan(y)) {
      if (!(std::isnan(x) && std::isnan(y))) return false;
      continue;
    }
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}

bool fail(const GradcheckOptions& o, const std::string& msg) {
  if (o.raise_exception) throw AutogradError(msg);
  return false;
}

// check_partial: also run backward with each input alone requiring grad. gradgradcheck turns it
// off: its function's outputs (the first gradients) change with which inputs require grad.
bool gradcheck_impl(const Fn& fn, const Tensors& inputs, const GradcheckOptions& o, bool check_partial) {
  RICCI_CHECK(!is_inference_mode_enabled(), AutogradError,
              "[gradcheck] cannot check gradients inside InferenceMode: no graph is recorded there");
  const std::vector<size_t> diff = checked_inputs(inputs, "gradcheck");

  // ---- the function and its shapes ----
  Tensors outputs;
  {
    EnableGradGuard grad_on;
    outputs = fn(inputs);
  }
  const size_t n_out = outputs.size();

  // ---- numerical Jacobians: one column block per (output, input) ----
  // numerical[k][a] for output k and the a-th checked input.
  std::vector<std::vector<Jacobian>> numerical(n_out, std::vector<Jacobian>(diff.size()));
  for (size_t k = 0; k < n_out; ++k) {
    for (size_t a = 0; a < diff.size(); ++a) {
      Jacobian& J = numerical[k][a];
      J.rows = inputs[diff[a]].numel();
      J.cols = is_differentiable_output(outputs[k]) ? outputs[k].numel() : 0;
      J.data.assign(static_cast<size_t>(J.rows * J.cols), 0.0);
    }
  }
  for (size_t a = 0; a < diff.size(); ++a) {
    const Tensor& x = inputs[diff[a]];
    for (int64_t j = 0; j < x.numel(); ++j) {
      // Restores the element even when fn throws, so a failed check leaves the inputs intact.
      struct Restore {
        const Tensor& x;
        int64_t j;
        SavedBits bits;
        ~Restore() { restore_bits(x, j, bits); }
      } restore{x, j, save_bits(x, j)};
      const double v = read_element(x, j);
      std::vector<std::vector<double>> plus, minus;
      {
        NoGradGuard no_grad;
        write_element(x, j, v + o.eps);
      }
      plus = output_values(fn, inputs);
      {
        NoGradGuard no_grad;
        write_element(x, j, v - o.eps);
      }
      minus = output_values(fn, inputs);
      for (size_t k = 0; k < n_out; ++k) {
        Jacobian& J = numerical[k][a];
        RICCI_CHECK(plus.size() == n_out && minus.size() == n_out &&
                        static_cast<int64_t>(plus[k].size()) == J.cols && static_cast<int64_t>(minus[k].size()) == J.cols,
                    ValueError, "[gradcheck] the function returned a different number or shape of outputs when input ",
                    diff[a], " was perturbed; it must be a pure function of its inputs");
        for (int64_t m = 0; m < J.cols; ++m) J.at(j, m) = (plus[k][m] - minus[k][m]) / (2 * o.eps);
      }
    }
  }

  // ---- analytical Jacobians: one backward per output element ----
  Tensors diff_inputs;
  for (size_t i : diff) diff_inputs.push_back(inputs[i]);
  for (size_t k = 0; k < n_out; ++k) {
    const Tensor& out = outputs[k];
    if (!is_differentiable_output(out)) continue;
    std::vector<Jacobian> analytical(diff.size());
    for (size_t a = 0; a < diff.size(); ++a) {
      analytical[a].rows = numerical[k][a].rows;
      analytical[a].cols = numerical[k][a].cols;
      analytical[a].data.assign(numerical[k][a].data.size(), 0.0);
    }
    if (out.requires_grad()) {
      for (int64_t m = 0; m < out.numel(); ++m) {
        Tensor onehot = zeros(out.shape(), TensorOptions(out.dtype(), out.device()));
        write_element(onehot, m, 1.0);
        Tensors g = grad({out}, diff_inputs, {onehot}, /*retain_graph=*/true, /*create_graph=*/false,
                         /*allow_unused=*/true);
        for (size_t a = 0; a < diff.size(); ++a) {
          if (!g[a].defined()) continue;
          const Tensor& x = inputs[diff[a]];
          if (g[a].dtype() != x.dtype() || g[a].shape() != x.shape()) {
            std::ostringstream os;
            os << "Gradient has " << (g[a].dtype() != x.dtype() ? "dtype" : "shape") << " mismatch for input "
               << diff[a] << ": got " << dtype_name(g[a].dtype()) << " " << g[a].shape() << ", expected "
               << dtype_name(x.dtype()) << " " << x.shape();
            return fail(o, os.str());
          }
          const std::vector<double> gv = g[a].detach().to_vector<double>();
          for (int64_t j = 0; j < x.numel(); ++j) analytical[a].at(j, m) = gv[static_cast<size_t>(j)];
        }
      }
    }
    for (size_t a = 0; a < diff.size(); ++a) {
      if (all_close(analytical[a], numerical[k][a], o.rtol, o.atol)) continue;
      std::ostringstream os;
      os << "Jacobian mismatch for output " << k << " with respect to input " << diff[a] << ",\nnumerical:"
         << numerical[k][a].tensor() << "\nanalytical:" << analytical[a].tensor() << "\n";
      return fail(o, os.str());
    }
  }

  // ---- backward must also work when only some inputs require grad ----
  // Each checked input alone (the others detached) must get the same gradient as with all of them:
  // this runs the rules' needs_input_grad() shortcuts, which the full pass never takes.
  if (check_partial && diff.size() > 1) {
    Tensors ref_outs, seeds;
    for (const Tensor& out : outputs) {
      if (is_differentiable_output(out) && out.requires_grad()) {
        ref_outs.push_back(out);
        seeds.push_back(ones_like(out));
      }
    }
    if (!ref_outs.empty()) {
      Tensors full = grad(ref_outs, diff_inputs, seeds, true, false, true);
      for (size_t a = 0; a < diff.size(); ++a) {
        Tensors partial_inputs = inputs;
        for (size_t b = 0; b < diff.size(); ++b) {
          if (b != a) partial_inputs[diff[b]] = inputs[diff[b]].detach();
        }
        Tensors outs2;
        {
          EnableGradGuard grad_on;
          outs2 = fn(partial_inputs);
        }
        Tensors roots, seeds2;
        for (const Tensor& out : outs2) {
          if (is_differentiable_output(out) && out.requires_grad()) {
            roots.push_back(out);
            seeds2.push_back(ones_like(out));
          }
        }
        Tensor alone;
        if (!roots.empty()) alone = grad(roots, {inputs[diff[a]]}, seeds2, false, false, true)[0];
        const bool both_undefined = !alone.defined() && !full[a].defined();
        bool same = both_undefined;
        if (!both_undefined) {
          const Tensor want = full[a].defined() ? full[a] : zeros_like(inputs[diff[a]]);
          const Tensor got = alone.defined() ? alone : zeros_like(inputs[diff[a]]);
          Jacobian w{1, want.numel(), want.detach().to_vector<double>()};
          Jacobian g{1, got.numel(), got.detach().to_vector<double>()};
          same = got.shape() == want.shape() && all_close(g, w, o.rtol, o.atol);
        }
        if (!same) {
          std::ostringstream os;
          os << "Backward is not consistent when only input " << diff[a]
             << " requires grad: its gradient differs from the one computed with every input requiring grad "
                "(a rule's needs_input_grad() shortcut is wrong)";
          return fail(o, os.str());
        }
      }
    }
  }
  return true;
}

}  // namespace

bool gradcheck(const Fn& fn, const Tensors& inputs, const GradcheckOptions& o) {
  return gradcheck_impl(fn, inputs, o, /*check_partial=*/true);
}

bool gradgradcheck(const Fn& fn, const Tensors& inputs, const GradcheckOptions& o) {
  const std::vector<size_t> diff = checked_inputs(inputs, "gradgradcheck");
  Tensors outputs;
  {
    EnableGradGuard grad_on;
    outputs = fn(inputs);
  }
  // Random (seeded, so failures reproduce) grad_outputs that themselves require grad: the second
  // derivative is checked with respect to them as well.
  std::mt19937_64 rng(0x5eed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<size_t> out_idx;
  Tensors grad_outputs;
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& out = outputs[k];
    if (!is_differentiable_output(out) || !out.requires_grad()) continue;
    std::vector<double> v(static_cast<size_t>(out.numel()));
    for (double& x : v) x = uni(rng);
    Tensor g = from_vector(v, out.shape(), DType::Float64).to(out.dtype());
    g.requires_grad_(true);
    out_idx.push_back(k);
    grad_outputs.push_back(g);
  }
  RICCI_CHECK(!grad_outputs.empty(), ValueError,
              "[gradgradcheck] the function has no differentiable output that requires grad");

  const size_t n_in = inputs.size();
  Fn first_grads = [&fn, &diff, &out_idx, n_in](const Tensors& args) {
    EnableGradGuard grad_on;
    Tensors ins(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(n_in));
    Tensors outs = fn(ins);
    Tensors roots, seeds, wrt;
    for (size_t s = 0; s < out_idx.size(); ++s) {
      roots.push_back(outs[out_idx[s]]);
      seeds.push_back(args[n_in + s]);
    }
    for (size_t i : diff) wrt.push_back(ins[i]);
    Tensors g = grad(roots, wrt, seeds, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
    Tensors result;
    for (Tensor& t : g) {
      if (t.defined()) result.push_back(t);
    }
    return result;
  };
  Tensors all = inputs;
  all.insert(all.end(), grad_outputs.begin(), grad_outputs.end());
  return gradcheck_impl(first_grads, all, o, /*check_partial=*/false);
}

}  // namespace ricci::autograd
