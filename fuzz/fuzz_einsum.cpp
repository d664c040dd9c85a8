// libFuzzer target for einsum's equation parser and contraction planner: the bytes choose up to
// four operands (dtype, rank, sizes from small to 2^62, broadcast and transposed layouts) and an
// equation over an alphabet of subscripts, separators and junk. einsum must answer with a result
// or a ricci::Error; a crash, a sanitizer report or a result of the wrong size (abort) is a
// finding. Successful float64 contractions also run backward. Build and run: fuzz/README.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ricci/ricci.h"
#include "fuzz_common.h"

using namespace ricci;

using ricci::fuzz::Bytes;

namespace {

void check(bool ok, const char* what) { ricci::fuzz::check(ok, what, "fuzz_einsum"); }

// Subscripts, separators, pieces of "..." and "->", and characters einsum must refuse.
constexpr char kAlphabet[] = "abcdijkAZ,,,..-->>ij,k...->a #7\x01";
constexpr int64_t kSpecialSizes[] = {int64_t{1} << 31, int64_t{1} << 32, int64_t{1} << 62, INT64_MAX, 1 << 16, 1 << 20, 7, 64};
constexpr DType kDTypes[] = {float32, float64, int64, bfloat16, float16, bool_};
// Operands with more elements than this are not made: einsum may sum every one of them.
constexpr int64_t kMaxOperandElements = int64_t{1} << 16;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ricci::fuzz::set_up_environment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in{data, size};
  const int nops = 1 + in.next() % 4;
  const DType dtype = kDTypes[in.next() % (sizeof(kDTypes) / sizeof(kDTypes[0]))];
  std::vector<Tensor> operands;
  for (int i = 0; i < nops; ++i) {
    const int rank = in.next() % 6;
    const uint8_t layout = in.next();
    Dims sizes, base;
    for (int d = 0; d < rank; ++d) {
      const uint8_t b = in.next();
      const int64_t s = b < 224 ? b % 6 : kSpecialSizes[b % 8];
      sizes.push_back(s);
      // A special size, or a dim the layout byte marks, is a broadcast (stride 0) of size 1.
      base.push_back(b >= 224 || (layout >> (d + 2) & 1) ? 1 : s);
    }
    Tensor t;
    try {
      const int64_t n = checked_numel(sizes, "fuzz");
      if (n > kMaxOperandElements) return 0;
      t = (arange(checked_numel(base, "fuzz"), float64).remainder(7.0) - 3.0).to(dtype).reshape(base).expand(sizes);
      if ((layout & 1) && t.dim() >= 2) t = t.mT().contiguous().mT();  // same values, transposed layout
      if ((layout & 2) && t.dim() >= 1 && t.size(-1) > 1) t = t.slice(-1, 0, std::nullopt, 2);  // stepped
    } catch (const Error&) {
      return 0;  // sizes no tensor can have: not this target's business
    }
    operands.push_back(t);
  }
  std::string equation;
  for (int k = 0; k < 64 && in.n > 0; ++k) equation += kAlphabet[in.next() % (sizeof(kAlphabet) - 1)];

  Tensor out;
  try {
    out = einsum(equation, operands);
  } catch (const Error&) {
    return 0;
  }
  check(out.defined(), "a result is defined");
  check(out.numel() == checked_numel(out.shape(), "fuzz"), "numel matches the shape");
  if (out.numel() <= kMaxOperandElements) (void)out.to_vector<double>();  // read every element

  // The gradient runs the same ops backwards (permute, reshape, bmm, sum, diagonal views).
  if (dtype == float64 && out.numel() <= kMaxOperandElements) {
    std::vector<Tensor> leaves;
    for (const Tensor& t : operands) leaves.push_back(t.detach().clone().requires_grad_(true));
    try {
      const Tensor y = einsum(equation, leaves);
      y.sum().backward();
      for (size_t i = 0; i < leaves.size(); ++i) {
        const Tensor g = leaves[i].grad();
        check(!g.defined() || g.shape() == leaves[i].shape(), "gradients have their input's shape");
      }
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      check(false, "an einsum that ran forward runs backward");
    }
  }
  return 0;
}
