// Hostile and malformed safetensors files, each written by hand: every one must give a clear
// IOError (DTypeError for unknown dtypes) naming the file and the problem, never a crash or an
// out-of-bounds read (the suite runs under ASan in the sanitizer CI job). Also the writer's errors.
#include <sys/stat.h>

#include "safetensors_test_util.h"

using namespace ricci;
using namespace ricci::testing;

namespace {

// One valid F32 tensor of 2 elements: the base most cases below corrupt one thing of.
const std::string kData8(8, '\0');

// Loads `image` from a temp file and from memory, expecting ErrorType with `what` in the message
// and the file named in it.
template <class ErrorType>
void expect_rejected(const std::string& image, const std::string& what) {
  const std::string path = st_write("bad", image);
  EXPECT_THROW_MSG(load_safetensors(path), ErrorType, what);
  EXPECT_THROW_MSG(load_safetensors(path), ErrorType, "'" + path + "'");
  EXPECT_THROW_MSG(load_safetensors(path), ErrorType, "[load_safetensors]");
  EXPECT_THROW_MSG(load_safetensors_from_memory(image.data(), image.size(), "mem.safetensors"), ErrorType, what);
}

void expect_io_error(const std::string& image, const std::string& what) { expect_rejected<IOError>(image, what); }

std::string entry(const std::string& name, const std::string& body) { return "\"" + name + "\":" + body; }
std::string one(const std::string& body) { return "{" + entry("a", body) + "}"; }

}  // namespace

TEST(SafetensorsErrors, SanityTheBaseCaseLoads) {
  const std::string path = st_write("ok", st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), kData8));
  EXPECT_EQ(load_safetensors(path).get("a").numel(), 2);
}

TEST(SafetensorsErrors, MissingFile) {
  EXPECT_THROW_MSG(load_safetensors("/nonexistent/dir/x.safetensors"), IOError, "cannot open '/nonexistent/dir/x.safetensors'");
  EXPECT_THROW_MSG(load_safetensors_all("/nonexistent/x.safetensors"), IOError, "No such file");
}

TEST(SafetensorsErrors, DirectoryIsNotAFile) {
  EXPECT_THROW_MSG(load_safetensors(::testing::TempDir()), IOError, "not a regular file");
}

TEST(SafetensorsErrors, EmptyFile) { expect_io_error("", "file is 0 bytes, too short"); }

TEST(SafetensorsErrors, ShorterThanEightBytes) { expect_io_error(std::string("\x02\0\0\0\0", 5), "file is 5 bytes, too short"); }

TEST(SafetensorsErrors, HeaderLengthPastEndOfFile) {
  expect_io_error(st_image("{}", "", 100), "header length 100 runs past the end of the 10-byte file");
}

TEST(SafetensorsErrors, HeaderLengthAbsurd) {
  expect_io_error(st_image("{}", "", 100'000'001), "exceeds the 100000000-byte limit");
  expect_io_error(le64(~uint64_t{0}), "exceeds the 100000000-byte limit");
}

TEST(SafetensorsErrors, HeaderNotUtf8) {
  expect_io_error(st_image("{\"\xff\":1}"), "not valid UTF-8");
  expect_io_error(st_image("{\"\xC0\xAF\":1}"), "not valid UTF-8");       // overlong '/'
  expect_io_error(st_image("{\"\xED\xA0\x80\":1}"), "not valid UTF-8");   // a surrogate
  expect_io_error(st_image("{\"\xE2\x82\":1}"), "not valid UTF-8");       // truncated sequence
}

TEST(SafetensorsErrors, HeaderNotJson) {
  expect_io_error(st_image("{\"a\":"), "not valid JSON");
  expect_io_error(st_image("{} x"), "not valid JSON");
  expect_io_error(st_image(std::string("{}\0\0", 4)), "not valid JSON");  // NUL padding is not whitespace
  expect_io_error(st_image(""), "not valid JSON");
  expect_io_error(st_image("{/*c*/}"), "not valid JSON");
}

TEST(SafetensorsErrors, HeaderNotAnObject) {
  expect_io_error(st_image("[]      "), "header JSON must be an object, got an array");
  expect_io_error(st_image("\"s\""), "must be an object, got a string");
}

TEST(SafetensorsErrors, EntryNotAnObject) {
  expect_io_error(st_image(one("[0, 8]")), "tensor 'a': entry must be an object, got an array");
  expect_io_error(st_image(one("null")), "entry must be an object, got null");
}

TEST(SafetensorsErrors, MissingFields) {
  expect_io_error(st_image(one(R"({"shape":[2],"data_offsets":[0,8]})"), kData8), "tensor 'a': missing field \"dtype\"");
  expect_io_error(st_image(one(R"({"dtype":"F32","data_offsets":[0,8]})"), kData8), "missing field \"shape\"");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2]})"), kData8), "missing field \"data_offsets\"");
}

TEST(SafetensorsErrors, WrongFieldTypes) {
  expect_io_error(st_image(one(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), kData8), "\"dtype\" must be a string, got an integer");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), kData8), "\"shape\" must be an array");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})"), kData8), "must be a non-negative integer, got a string");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":"0,8"})"), kData8), "\"data_offsets\" must be [begin, end]");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,true]})"), kData8), "data_offsets[1] must be a non-negative integer, got a boolean");
}

TEST(SafetensorsErrors, NegativeShape) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), kData8), "got a negative integer (-2)");
}

TEST(SafetensorsErrors, NonIntegerShape) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), kData8), "got a non-integer number (2.0)");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[1e1],"data_offsets":[0,8]})"), kData8), "non-integer number");
  // Past u64: nlohmann reads it as a float, which is still not a valid size.
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]})"), kData8), "non-integer");
}

TEST(SafetensorsErrors, ShapeProductOverflow) {
  expect_io_error(st_image(one(R"({"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]})")), "overflow");
  // Checked in order, as the reference does: a later zero does not rescue an overflow.
  expect_io_error(st_image(one(R"({"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]})")), "overflow");
  expect_io_error(st_image(one(R"({"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]})")), "overflow");
  // Elements fit in int64 but their bytes do not.
  expect_io_error(st_image(one(R"({"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]})")), "overflow");
}

TEST(SafetensorsErrors, DataOffsetsNotAPair) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), kData8), "must be [begin, end], got [0]");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"), kData8), "must be [begin, end]");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[-1,8]})"), kData8), "data_offsets[0] must be a non-negative integer");
}

TEST(SafetensorsErrors, DataOffsetsBeginAfterEnd) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), kData8), "data_offsets [8, 0] end before they begin");
}

TEST(SafetensorsErrors, DataOffsetsPastTheBuffer) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), "1234"),
                  "data_offsets [0, 8] run past the end of the 4-byte data buffer");
  expect_io_error(st_image(one(R"({"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]})")),
                  "run past the end");
}

TEST(SafetensorsErrors, ByteCountDisagreesWithShape) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), kData8),
                  "F32 of shape [3] needs 12 bytes but data_offsets [0, 8] span 8");
  expect_io_error(st_image(one(R"({"dtype":"F64","shape":[2],"data_offsets":[0,8]})"), kData8), "needs 16 bytes");
}

TEST(SafetensorsErrors, OverlappingTensors) {
  const std::string h = "{" + entry("a", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})") + "," +
                        entry("b", R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})") + "}";
  expect_io_error(st_image(h, kData8), "tensors 'a' and 'b' overlap");
  // Two names for the same bytes are an overlap too.
  const std::string alias = "{" + entry("a", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})") + "," +
                            entry("b", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})") + "}";
  expect_io_error(st_image(alias, kData8), "overlap");
}

TEST(SafetensorsErrors, HoleBetweenTensors) {
  const std::string h = "{" + entry("a", R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})") + "," +
                        entry("b", R"({"dtype":"F32","shape":[1],"data_offsets":[8,12]})") + "}";
  expect_io_error(st_image(h, std::string(12, '\0')), "bytes [4, 8) of the data buffer belong to no tensor (a hole before 'b')");
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})"), kData8), "bytes [0, 4)");
}

TEST(SafetensorsErrors, TrailingBytes) {
  expect_io_error(st_image(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), kData8),
                  "the last 4 bytes of the 8-byte data buffer belong to no tensor");
  expect_io_error(st_image("{}", "x"), "the last 1 bytes");
}

TEST(SafetensorsErrors, DuplicateTensorNames) {
  const std::string h = "{" + entry("a", R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})") + "," +
                        entry("a", R"({"dtype":"F32","shape":[1],"data_offsets":[4,8]})") + "}";
  expect_io_error(st_image(h, kData8), "header JSON has the key \"a\" twice");
}

TEST(SafetensorsErrors, DuplicateFieldInAnEntry) {
  expect_io_error(st_image(one(R"({"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]})"), kData8),
                  "the key \"dtype\" twice in one object");
}

TEST(SafetensorsErrors, MetadataNotStringToString) {
  expect_io_error(st_image(R"({"__metadata__":{"k":1}})"), "\"__metadata__\" values must be strings, but \"k\" is an integer");
  expect_io_error(st_image(R"({"__metadata__":["k"]})"), "\"__metadata__\" must be an object of strings, got an array");
  expect_io_error(st_image(R"({"__metadata__":"k"})"), "must be an object of strings, got a string");
  expect_io_error(st_image(R"({"__metadata__":{"k":{"x":"y"}}})"), "nests objects deeper");
  expect_io_error(st_image(R"({"__metadata__":{"k":"v","k":"w"}})"), "the key \"k\" twice");
}

TEST(SafetensorsErrors, NullMetadataIsNoMetadata) {  // as in the reference implementation
  const std::string path = st_write("nullmeta", st_image(R"({"__metadata__":null})"));
  EXPECT_TRUE(load_safetensors(path).metadata().empty());
}

TEST(SafetensorsErrors, DeepNestingIsRejectedEarly) {
  expect_io_error(st_image("{\"a\":{\"shape\":[[[[[[1]]]]]]}}"), "nests arrays deeper");
  // 10 MB of '[' would otherwise become ten million nested arrays.
  const std::string deep = "{\"a\":{\"x\":" + std::string(10'000'000, '[');
  expect_io_error(st_image(deep), "nests arrays deeper");
}

TEST(SafetensorsErrors, UnknownDTypeName) {
  expect_rejected<DTypeError>(st_image(one(R"({"dtype":"Q8","shape":[2],"data_offsets":[0,8]})"), kData8),
                              "has dtype \"Q8\": unsupported dtype");
  // Sub-byte dtypes of the format cannot be size-checked by ricci.
  expect_rejected<DTypeError>(st_image(one(R"({"dtype":"F4","shape":[2],"data_offsets":[0,1]})"), "x"), "unsupported dtype");
}

TEST(SafetensorsErrors, UnknownFieldsAreIgnored) {  // as in the reference implementation
  const std::string path =
      st_write("extra", st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"quant":[1,2]})"), kData8));
  EXPECT_EQ(load_safetensors(path).get("a").numel(), 2);
}

TEST(SafetensorsErrors, GetUnknownName) {
  const std::string path = st_write("ok", st_image(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), kData8));
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_THROW_MSG(f.get("b"), IndexError, "no tensor named 'b' in '" + path + "' (it holds 1 tensors: 'a')");
  EXPECT_THROW_MSG(f.shape("b"), IndexError, "[SafetensorsFile::shape]");
  EXPECT_THROW_MSG(f.dtype("b"), IndexError, "check keys()");
}

// ---- writer errors -----------------------------------------------------------------------------

TEST(SafetensorsErrors, SaveDuplicateNames) {
  EXPECT_THROW_MSG(save_safetensors(st_temp_path("dup"), {{"w", ones({1})}, {"w", zeros({1})}}), ValueError,
                   "tensor name 'w' appears twice");
}

TEST(SafetensorsErrors, SaveReservedName) {
  EXPECT_THROW_MSG(save_safetensors(st_temp_path("reserved"), {{"__metadata__", ones({1})}}), ValueError,
                   "cannot be named \"__metadata__\"");
}

TEST(SafetensorsErrors, SaveUndefinedTensor) {
  EXPECT_THROW_MSG(save_safetensors(st_temp_path("undef"), {{"w", Tensor()}}), ValueError, "tensor 'w' is undefined");
}

TEST(SafetensorsErrors, SaveNamesAndMetadataMustBeUtf8) {
  EXPECT_THROW_MSG(save_safetensors(st_temp_path("utf8"), {{"w\xff", ones({1})}}), ValueError, "a tensor name is not valid UTF-8");
  EXPECT_THROW_MSG(save_safetensors(st_temp_path("utf8"), {{"w", ones({1})}}, {{"k", "\xc3"}}), ValueError,
                   "a metadata value is not valid UTF-8");
}

TEST(SafetensorsErrors, SaveIntoMissingDirectory) {
  EXPECT_THROW_MSG(save_safetensors("/nonexistent/dir/w.safetensors", {{"w", ones({1})}}), IOError, "cannot create");
}

TEST(SafetensorsErrors, FailedSaveLeavesNoTempFileAndKeepsTheOldFile) {
  const std::string path = st_temp_path("keep");
  save_safetensors(path, {{"w", ones({3})}});
  const std::string before = read_file(path);
  EXPECT_THROW(save_safetensors(path, {{"w", ones({1})}, {"w", ones({1})}}), ValueError);
  EXPECT_EQ(read_file(path), before);
}
