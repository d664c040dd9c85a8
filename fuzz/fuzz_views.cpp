// libFuzzer target for the view ops' argument handling: the bytes choose a base tensor (dtype, up to
// five small dims, possibly transposed, stepped or broadcast) and then a chain of view, reshape,
// permute, narrow, slice, select, as_strided, expand, unfold, unflatten, flatten, diagonal,
// squeeze/unsqueeze and transpose calls whose arguments range from small values to INT64_MIN and
// INT64_MAX. Each call must return a view or throw a ricci::Error. After every view the harness
// checks, with its own 128-bit arithmetic, that every element the view can address lies inside its
// storage, then reads it all (ASan checks each access). Build and run: fuzz/README.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "ricci/ricci.h"
#include "fuzz_common.h"

using namespace ricci;

using ricci::fuzz::Bytes;

namespace {

void check(bool ok, const char* what) { ricci::fuzz::check(ok, what, "fuzz_views"); }

constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kSpecial[] = {kMin, kMax, kMax - 1, int64_t{1} << 31, (int64_t{1} << 31) - 1, int64_t{1} << 32,
                                int64_t{1} << 62, -(int64_t{1} << 62), (int64_t{1} << 62) + 1, int64_t{1} << 40};
constexpr DType kDTypes[] = {float32, float64, int8, int64, bfloat16, bool_};

// A size, dim, index or step: mostly small (-4..11), sometimes extreme.
int64_t arg(Bytes& in) {
  const uint8_t b = in.next();
  if (b < 224) return static_cast<int64_t>(b % 16) - 4;
  return kSpecial[b % (sizeof(kSpecial) / sizeof(kSpecial[0]))];
}

Dims arg_list(Bytes& in, int max_len = 6) {
  Dims d;
  const int n = in.next() % (max_len + 1);
  for (int i = 0; i < n; ++i) d.push_back(arg(in));
  return d;
}

// Every element t can address lies inside its storage (checked without ricci's own helpers).
void check_in_bounds(const Tensor& t) {
  if (t.numel() == 0) return;
  __int128 lo = t.storage_offset(), hi = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    check(t.size(d) > 0, "non-empty tensors have positive sizes");
    const __int128 reach = static_cast<__int128>(t.size(d) - 1) * t.stride(d);
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  const __int128 capacity = static_cast<__int128>(t.storage().nbytes() / t.element_size());
  check(lo >= 0, "no element before the storage");
  check(hi < capacity, "no element past the end of the storage");
  __int128 numel = 1;
  for (int64_t s : t.sizes()) numel *= s;
  check(numel == t.numel(), "numel is the product of the sizes");
}

Tensor one_view(const Tensor& t, Bytes& in) {
  switch (in.next() % 18) {
    case 0: return t.view(arg_list(in));
    case 1: return t.reshape(arg_list(in));
    case 2: return t.permute(arg_list(in));
    case 3: { const int64_t d = arg(in), s = arg(in); return t.narrow(d, s, arg(in)); }
    case 4: {
      const int64_t d = arg(in);
      const uint8_t which = in.next();
      const std::optional<int64_t> start = which & 1 ? std::optional<int64_t>(arg(in)) : std::nullopt;
      const std::optional<int64_t> end = which & 2 ? std::optional<int64_t>(arg(in)) : std::nullopt;
      return t.slice(d, start, end, which & 4 ? arg(in) : 1);
    }
    case 5: { const int64_t d = arg(in); return t.select(d, arg(in)); }
    case 6: {
      const Dims sizes = arg_list(in);
      Dims strides;
      for (size_t i = 0; i < sizes.size(); ++i) strides.push_back(arg(in));
      const uint8_t off = in.next();
      return off & 1 ? t.as_strided(sizes, strides, arg(in)) : t.as_strided(sizes, strides);
    }
    case 7: return t.expand(arg_list(in));
    case 8: { const int64_t d = arg(in), s = arg(in); return t.unfold(d, s, arg(in)); }
    case 9: { const int64_t d = arg(in); return t.unflatten(d, arg_list(in, 4)); }
    case 10: { const int64_t a = arg(in); return t.flatten(a, arg(in)); }
    case 11: { const int64_t o = arg(in), a = arg(in); return t.diagonal(o, a, arg(in)); }
    case 12: return t.squeeze(arg(in));
    case 13: return t.unsqueeze(arg(in));
    case 14: { const int64_t a = arg(in); return t.transpose(a, arg(in)); }
    case 15: return t.squeeze();
    case 16: return t.dim() >= 2 ? t.mT() : t.t();
    default: return t.T();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ricci::fuzz::set_up_environment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in{data, size};
  const DType dtype = kDTypes[in.next() % (sizeof(kDTypes) / sizeof(kDTypes[0]))];
  const int rank = in.next() % 6;
  Dims sizes;
  for (int d = 0; d < rank; ++d) sizes.push_back(in.next() % 6);
  const uint8_t layout = in.next();
  Tensor t = arange(checked_numel(sizes, "fuzz"), float64).to(dtype).reshape(sizes);
  if ((layout & 1) && t.dim() >= 2) t = t.transpose(0, t.dim() - 1);
  if ((layout & 2) && t.dim() >= 1) t = t.slice(0, std::nullopt, std::nullopt, 2);
  if (layout & 4) {  // a broadcast leading dim (stride 0) of size 0..3
    Dims target{static_cast<int64_t>((layout >> 4) % 4)};
    for (int64_t s : t.sizes()) target.push_back(s);
    t = t.expand(target);
  }
  check_in_bounds(t);
  for (int step = 0; step < 8 && in.n > 0; ++step) {
    Tensor v;
    try {
      v = one_view(t, in);
    } catch (const Error&) {
      continue;
    }
    check(v.defined(), "a view is defined");
    check_in_bounds(v);
    if (v.numel() <= (1 << 16)) {
      const std::vector<double> vals = v.to_vector<double>();  // reads every element
      check(static_cast<int64_t>(vals.size()) == v.numel(), "to_vector has numel values");
    }
    t = v;
  }
  return 0;
}
