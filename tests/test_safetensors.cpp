// safetensors: round trips, the reference writer's exact bytes, zero-copy lazy loading, and a
// golden file written by Python's `safetensors` package (tests/data/safetensors/make_golden.py).
// Malformed files are in test_safetensors_errors.cpp.
#include <cmath>
#include <cstdlib>
#include <limits>

#include "safetensors_test_util.h"

using namespace ricci;
using namespace ricci::testing;

namespace {

// One tensor per dtype, with extreme values and, for floats, NaNs carrying payloads and signs:
// bits must survive unchanged.
std::vector<std::pair<std::string, Tensor>> every_dtype() {
  return {
      {"bool", from_vector<bool>({true, false, false, true}, {2, 2})},
      {"u8", from_vector<uint8_t>({0, 1, 128, 255}, {4})},
      {"i8", from_vector<int8_t>({-128, -1, 0, 127}, {4})},
      {"i16", from_vector<int16_t>({-32768, -1, 2, 32767}, {4})},
      {"i32", from_vector<int32_t>({std::numeric_limits<int32_t>::min(), -7, 9, std::numeric_limits<int32_t>::max()}, {2, 2})},
      {"i64", from_vector<int64_t>({std::numeric_limits<int64_t>::min(), -1, 1, std::numeric_limits<int64_t>::max()}, {4})},
      {"f16", from_bits<uint16_t>({0x3C00, 0x8000, 0x7C00, 0xFC00, 0x7E01, 0xFD55, 0x0001, 0x7BFF}, {2, 4}, float16)},
      {"bf16", from_bits<uint16_t>({0x3F80, 0x8000, 0x7F80, 0xFF80, 0x7FC1, 0xFFA5, 0x0001, 0x7F7F}, {8}, bfloat16)},
      {"f32", from_bits<uint32_t>({0x3F800000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00123, 0xFFA00001, 0x00000001, 0x7F7FFFFF},
                                  {2, 2, 2}, float32)},
      {"f64", from_bits<uint64_t>({0x3FF0000000000000, 0x8000000000000000, 0x7FF0000000000000, 0x7FF8000000000ABC,
                                   0xFFF4000000000001, 0x0000000000000001},
                                  {3, 2}, float64)},
  };
}

void expect_same_bits(const Tensor& actual, const Tensor& expected, const std::string& name) {
  ASSERT_EQ(actual.dtype(), expected.dtype()) << name;
  ASSERT_EQ(actual.shape().vec(), expected.shape().vec()) << name;
  EXPECT_EQ(raw_bytes(actual), raw_bytes(expected)) << name;
}

}  // namespace

TEST(Safetensors, RoundTripEveryDTypeBitForBit) {
  const auto tensors = every_dtype();
  const std::string path = st_temp_path("every_dtype");
  save_safetensors(path, tensors);
  const SafetensorsFile f = load_safetensors(path);
  ASSERT_EQ(f.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(f.contains(name)) << name;
    EXPECT_EQ(f.dtype(name), t.dtype());
    EXPECT_EQ(f.shape(name).vec(), t.shape().vec());
    expect_same_bits(f.get(name), t, name);
  }
  const auto all = load_safetensors_all(path);
  ASSERT_EQ(all.size(), tensors.size());
  for (const auto& [name, t] : tensors) expect_same_bits(all.at(name), t, name);
}

TEST(Safetensors, RoundTripEachDTypeAlone) {
  for (const auto& [name, t] : every_dtype()) {
    const std::string path = st_temp_path(name);
    save_safetensors(path, {{name, t}});
    expect_same_bits(load_safetensors(path).get(name), t, name);
  }
}

// The file order is the reference writer's: larger dtypes first, then names (alignment for free).
TEST(Safetensors, WriterOrdersByDTypeAlignmentThenName) {
  const std::string path = st_temp_path("order");
  save_safetensors(path, every_dtype());
  const std::vector<std::string> expected = {"i64", "f64", "f32", "i32", "bf16", "f16", "i16", "i8", "u8", "bool"};
  EXPECT_EQ(load_safetensors(path).keys(), expected);

  std::map<std::string, Tensor> named = {{"b", zeros({1})}, {"a", zeros({1})}, {"c", zeros({1}, int8)}, {"z", zeros({1}, float64)}};
  save_safetensors(path, named);
  EXPECT_EQ(load_safetensors(path).keys(), (std::vector<std::string>{"z", "a", "b", "c"}));
}

// The reference crate's own serialization tests (safetensors/src/tensor.rs), byte for byte.
TEST(Safetensors, WriterMatchesReferenceBytes) {
  const Tensor data = from_vector<float>({0, 1, 2, 3, 4, 5}, {1, 2, 3});
  const std::string path = st_temp_path("reference");
  save_safetensors(path, {{"attn.0", data}});
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  EXPECT_EQ(read_file(path), le64(64) + header + raw_bytes(data));

  // A shorter name leaves the data misaligned: the header is padded with spaces to 8 bytes.
  save_safetensors(path, {{"attn0", data.view({1, 1, 2, 3})}});
  const std::string padded = std::string(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})") + "       ";
  EXPECT_EQ(read_file(path), le64(72) + padded + raw_bytes(data));

  save_safetensors(path, std::vector<std::pair<std::string, Tensor>>{});
  EXPECT_EQ(read_file(path), le64(8) + "{}      ");
  save_safetensors(path, std::vector<std::pair<std::string, Tensor>>{}, {{"framework", "pt"}});
  EXPECT_EQ(read_file(path), le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST(Safetensors, NonContiguousInputsAreWrittenContiguous) {
  const Tensor base = arange(24, float64).view({4, 6});
  const std::map<std::string, Tensor> tensors = {
      {"transposed", base.t()},
      {"stepped", base.slice(1, 0, 6, 2)},
      {"expanded", from_vector<int32_t>({1, 2, 3}, {3}).expand({2, 3})},
      {"permuted", arange(24, int16).view({2, 3, 4}).permute({2, 0, 1})},
      {"offset", base[2]},
  };
  const std::string path = st_temp_path("noncontig");
  save_safetensors(path, tensors);
  const SafetensorsFile f = load_safetensors(path);
  for (const auto& [name, t] : tensors) {
    const Tensor got = f.get(name);
    EXPECT_TRUE(got.is_contiguous()) << name;
    EXPECT_EQ(got.shape().vec(), t.shape().vec()) << name;
    EXPECT_EQ(values(got), values(t)) << name;
  }
  // A view narrower than its storage writes only its own elements.
  EXPECT_EQ(f.get("offset").numel(), 6);
}

TEST(Safetensors, EmptyAndZeroDimTensors) {
  const std::map<std::string, Tensor> tensors = {
      {"empty", zeros({0})},
      {"empty3d", zeros({2, 0, 3}, int64)},
      {"scalar", scalar_tensor(3.5, float64)},
      {"scalar_bool", scalar_tensor(true, bool_)},
      {"empty_bf16", zeros({0, 4}, bfloat16)},
  };
  const std::string path = st_temp_path("empty");
  save_safetensors(path, tensors);
  const SafetensorsFile f = load_safetensors(path);
  for (const auto& [name, t] : tensors) {
    const Tensor got = f.get(name);
    EXPECT_EQ(got.dtype(), t.dtype()) << name;
    EXPECT_EQ(got.shape().vec(), t.shape().vec()) << name;
    EXPECT_EQ(values(got), values(t)) << name;
  }
  EXPECT_EQ(f.get("scalar").dim(), 0);
  EXPECT_EQ(f.get("scalar").item<double>(), 3.5);
  EXPECT_TRUE(f.get("scalar_bool").item<bool>());
}

TEST(Safetensors, NoTensorsAtAll) {
  const std::string path = st_temp_path("none");
  save_safetensors(path, std::map<std::string, Tensor>{});
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_TRUE(f.keys().empty());
  EXPECT_TRUE(f.metadata().empty());
}

TEST(Safetensors, Metadata) {
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"note", "quotes \" backslash \\ newline \n tab \t unicode \xC3\xA9\xE2\x82\xAC"}, {"", "empty key"}};
  const std::string path = st_temp_path("meta");
  save_safetensors(path, {{"w", ones({2})}}, meta);
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata(), meta);
  save_safetensors(path, {{"w", ones({2})}});
  EXPECT_TRUE(load_safetensors(path).metadata().empty());
}

TEST(Safetensors, UnusualTensorNames) {
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"", ones({1})}, {"with space", ones({2})}, {"quote\"slash\\", ones({3})}, {"\xCE\xB8.weight", ones({4})}};
  const std::string path = st_temp_path("names");
  save_safetensors(path, tensors);
  const SafetensorsFile f = load_safetensors(path);
  for (const auto& [name, t] : tensors) EXPECT_EQ(f.get(name).numel(), t.numel()) << name;
}

TEST(Safetensors, RequiresGradAndGradFnTensorsSaveTheirValues) {
  const Tensor w = arange(6, float32).view({2, 3}).requires_grad_();
  const std::string path = st_temp_path("grad");
  save_safetensors(path, {{"w", w}, {"wt", w.t()}});
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_FALSE(f.get("w").requires_grad());
  EXPECT_EQ(values(f.get("wt")), values(w.t()));
}

TEST(Safetensors, LazyTensorsOutliveTheFileObject) {
  const std::string path = st_temp_path("lifetime");
  save_safetensors(path, {{"a", arange(1000, float32)}, {"b", arange(10, int64)}});
  Tensor a;
  {
    SafetensorsFile f = load_safetensors(path);
    a = f.get("a");
    SafetensorsFile copy = f;  // handles share one mapping
    f = SafetensorsFile();
    EXPECT_EQ(copy.get("b").sum().item<int64_t>(), 45);
  }
  // Every SafetensorsFile is gone; the tensor keeps the mapping alive.
  EXPECT_EQ(a.numel(), 1000);
  EXPECT_EQ(a.to_vector<float>()[999], 999.0f);
  Tensor view = a.slice(0, 10, 20);
  a = Tensor();
  EXPECT_EQ(view.to_vector<float>()[0], 10.0f);
}

TEST(Safetensors, GetIsZeroCopyAndSharesTheMapping) {
  const std::string path = st_temp_path("zerocopy");
  save_safetensors(path, {{"x", arange(64, float32)}, {"y", arange(8, float64)}});
  const SafetensorsFile f = load_safetensors(path);
  const Tensor x1 = f.get("x"), x2 = f.get("x"), y = f.get("y");
  EXPECT_EQ(x1.data_ptr(), x2.data_ptr());  // the same mapped bytes, no copy
  EXPECT_EQ(values(x1), values(arange(64, float32)));
  // y precedes x in the file (F64 first): both point into one mapping, 64 bytes apart.
  EXPECT_EQ(static_cast<const char*>(x1.data_ptr()) - static_cast<const char*>(y.data_ptr()), 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(y.data_ptr()) % 8, 0u);
  // load_safetensors_all copies.
  EXPECT_NE(load_safetensors_all(path).at("x").data_ptr(), x1.data_ptr());
}

TEST(Safetensors, InPlaceWritesNeverReachTheFile) {
  const std::string path = st_temp_path("cow");
  save_safetensors(path, {{"x", zeros({16})}});
  const std::string before = read_file(path);
  {
    const SafetensorsFile f = load_safetensors(path);
    Tensor x = f.get("x");
    x.fill_(7);
    EXPECT_EQ(x.to_vector<float>()[3], 7.0f);
  }
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(load_safetensors(path).get("x").to_vector<float>()[3], 0.0f);
}

// save_safetensors renames a new file into place, so a mapping of the old one stays valid.
TEST(Safetensors, OverwritingAMappedFileKeepsOldTensorsValid) {
  const std::string path = st_temp_path("overwrite");
  save_safetensors(path, {{"x", full({4096}, 1.0)}});
  const Tensor old = load_safetensors(path).get("x");
  save_safetensors(path, {{"y", full({2}, 2.0)}});
  EXPECT_EQ(old.sum().item<double>(), 4096.0);
  EXPECT_EQ(load_safetensors(path).keys(), std::vector<std::string>{"y"});
}

TEST(Safetensors, MisalignedDataIsCopiedIntoAlignedTensors) {
  // A writer that does not pad: the buffer starts at an odd file offset.
  const std::string h = R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  ASSERT_NE((8 + h.size()) % 8, 0u);
  const std::string data = raw_bytes(from_vector<double>({1.25, -3.5}, {2}));
  const std::string path = st_write("misaligned", st_image(h, data));
  const SafetensorsFile f = load_safetensors(path);
  const Tensor a = f.get("a");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data_ptr()) % 8, 0u);
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.25, -3.5}));
}

TEST(Safetensors, BoolBytesOtherThanZeroOrOneReadAsTrue) {
  const std::string h = R"({"m":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}})";
  const std::string path = st_write("bools", st_image(h, std::string("\x00\x01\x02\xff", 4)));
  const Tensor m = load_safetensors(path).get("m");
  EXPECT_EQ(raw_bytes(m), std::string("\x00\x01\x01\x01", 4));
  EXPECT_EQ(m.sum().item<int64_t>(), 3);
}

TEST(Safetensors, UnsupportedDTypeLoadsButCannotBeRead) {
  const std::string h =
      R"({"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"big":{"dtype":"U32","shape":[2],"data_offsets":[4,12]}})";
  const std::string path = st_write("u32", st_image(h, std::string(12, '\0')));
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"ok", "big"}));
  EXPECT_EQ(f.dtype_str("big"), "U32");
  EXPECT_EQ(f.shape("big").vec(), std::vector<int64_t>{2});
  EXPECT_EQ(f.get("ok").numel(), 1);
  EXPECT_THROW_MSG(f.get("big"), DTypeError, "unsupported dtype");
  EXPECT_THROW_MSG(f.dtype("big"), DTypeError, "has dtype U32");
  EXPECT_THROW_MSG(load_safetensors_all(path), DTypeError, "unsupported dtype");
}

TEST(Safetensors, LoadFromMemoryMatchesFile) {
  const auto tensors = every_dtype();
  const std::string path = st_temp_path("memory");
  save_safetensors(path, tensors);
  const std::string image = read_file(path);
  SafetensorsFile f = load_safetensors_from_memory(image.data(), image.size(), "weights");
  EXPECT_EQ(f.path(), "weights");
  for (const auto& [name, t] : tensors) expect_same_bits(f.get(name), t, name);
  const Tensor kept = f.get("f64");
  f = SafetensorsFile();
  EXPECT_EQ(raw_bytes(kept), raw_bytes(tensors[9].second));
}

TEST(Safetensors, DefaultConstructedFileIsEmpty) {
  const SafetensorsFile f;
  EXPECT_TRUE(f.keys().empty());
  EXPECT_FALSE(f.contains("x"));
  EXPECT_THROW_MSG(f.get("x"), IndexError, "no tensor named 'x'");
}

TEST(Safetensors, LargerRoundTrip) {
  const Tensor big = randn({256, 1024}, float32);  // 1 MiB
  const std::string path = st_temp_path("large");
  save_safetensors(path, {{"big", big}, {"half", big.to(float16)}});
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(raw_bytes(f.get("big")), raw_bytes(big));
  EXPECT_EQ(raw_bytes(f.get("half")), raw_bytes(big.to(float16)));
}

// ---- golden file from Python's safetensors (tests/data/safetensors/make_golden.py) ---------------

namespace {
std::vector<std::pair<std::string, Tensor>> golden_tensors() {
  return {
      {"bool", from_vector<bool>({true, false, true}, {3})},
      {"u8", from_vector<uint8_t>({0, 1, 255}, {3})},
      {"i8", from_vector<int8_t>({-128, 0, 127}, {3})},
      {"i16", from_vector<int16_t>({-32768, 1, 32767}, {3})},
      {"i32", from_vector<int32_t>({std::numeric_limits<int32_t>::min(), 2, 3, std::numeric_limits<int32_t>::max()}, {2, 2})},
      {"i64", from_vector<int64_t>({std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}, {2})},
      {"f16", from_bits<uint16_t>({0x3C00, 0xC100, 0x7C00, 0x7E01}, {4}, float16)},
      {"f32", from_bits<uint32_t>({0x00000000, 0x3FC00000, 0xC0000000, 0x00000001, 0xFF800000, 0x7FC00123}, {2, 3}, float32)},
      {"f64", from_bits<uint64_t>({0x400921FB54442D18, 0x8000000000000000, 0x7FF8000000000ABC}, {3}, float64)},
      {"scalar", scalar_tensor(42.0, float32)},
      {"empty", zeros({0, 3})},
      {"bf16", from_bits<uint16_t>({0x3F80, 0xC020, 0x7F80, 0x7FC1}, {4}, bfloat16)},
  };
}
}  // namespace

TEST(SafetensorsGolden, ReadsPythonWrittenFile) {
  const SafetensorsFile f = load_safetensors(data_path("safetensors/golden.safetensors"));
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "np"}}));
  const std::vector<std::string> order = {"i64", "f64", "empty", "f32", "scalar", "i32",
                                          "bf16", "f16", "i16", "i8", "u8", "bool"};
  EXPECT_EQ(f.keys(), order);
  for (const auto& [name, t] : golden_tensors()) expect_same_bits(f.get(name), t, name);
  // Spot-check decoded values, not only bits.
  EXPECT_EQ(f.get("f16").to_vector<float>()[1], -2.5f);
  EXPECT_EQ(f.get("bf16").to_vector<float>()[1], -2.5f);
  EXPECT_TRUE(std::isnan(f.get("f32").to_vector<float>()[5]));
  EXPECT_EQ(f.get("f64").to_vector<double>()[0], 3.141592653589793);
  EXPECT_TRUE(std::signbit(f.get("f64").to_vector<double>()[1]));
  EXPECT_EQ(f.get("i64").to_vector<int64_t>()[0], std::numeric_limits<int64_t>::min());
}

TEST(SafetensorsGolden, RicciWritesThePythonFileByteForByte) {
  const std::string path = st_temp_path("golden");
  save_safetensors(path, golden_tensors(), {{"format", "np"}});
  EXPECT_EQ(read_file(path), read_file(data_path("safetensors/golden.safetensors")));
}

// Driven by tests/python/test_safetensors_interop.py: reads a file Python just wrote and writes one
// for Python to check. Skipped unless RICCI_SAFETENSORS_INTEROP_DIR is set.
TEST(SafetensorsInterop, PythonRoundTrip) {
  const char* dir = std::getenv("RICCI_SAFETENSORS_INTEROP_DIR");
  if (!dir) GTEST_SKIP() << "run by tests/python/test_safetensors_interop.py";
  const std::string in = std::string(dir) + "/from_python.safetensors";
  const SafetensorsFile f = load_safetensors(in);
  // Python wrote arange(n) in every dtype, with n = 5 and shape [5] (bool: n % 2).
  for (const auto& name : f.keys()) {
    const Tensor t = f.get(name);
    const auto v = values(t);
    ASSERT_EQ(v.size(), 5u) << name;
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], t.dtype() == bool_ ? double(i % 2) : double(i)) << name;
  }
  EXPECT_EQ(f.metadata().at("writer"), "python");
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& name : f.keys()) out.emplace_back(name, f.get(name));
  save_safetensors(std::string(dir) + "/from_ricci.safetensors", out, {{"writer", "ricci"}});
}
