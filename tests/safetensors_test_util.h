#pragma once
// Helpers shared by test_safetensors.cpp and test_safetensors_errors.cpp.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ricci/io.h"
#include "test_util.h"

namespace ricci::testing {

// Removes the files the tests made when the test program exits.
struct StTempFiles {
  std::vector<std::string> paths;
  ~StTempFiles() {
    for (const auto& p : paths) ::unlink(p.c_str());
  }
};
inline StTempFiles st_temp_files;

// A fresh path under the test temp dir, unique per process and call; deleted at exit.
inline std::string st_temp_path(const std::string& stem) {
  static int counter = 0;
  std::string path = ::testing::TempDir() + "ricci_st_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                     "_" + stem + ".safetensors";
  st_temp_files.paths.push_back(path);
  return path;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file image: the length prefix (the header's real length unless `claimed_length` is given),
// the header as is (no padding added), then `data`.
inline std::string st_image(const std::string& header, const std::string& data = "", int64_t claimed_length = -1) {
  return le64(claimed_length < 0 ? header.size() : static_cast<uint64_t>(claimed_length)) + header + data;
}

// Writes an image to a fresh temp file and returns its path.
inline std::string st_write(const std::string& stem, const std::string& image) {
  const std::string path = st_temp_path(stem);
  write_file(path, image);
  return path;
}

// The tensor's elements as raw bytes in row-major order.
inline std::string raw_bytes(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

template <class T>
Tensor from_bits(const std::vector<T>& bits, IntArrayRef shape, DType dtype) {
  return from_blob_copy(bits.data(), shape, dtype);
}

}  // namespace ricci::testing
