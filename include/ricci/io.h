#pragma once
// Reading and writing tensors in the safetensors format (https://github.com/huggingface/safetensors),
// the format PyTorch, JAX, MLX and the Hugging Face hub share for weights:
//
//   [8 bytes: N, little-endian u64] [N bytes: UTF-8 JSON header, space-padded] [data buffer]
//   header: {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3],
//            "data_offsets": [begin, end]}, ...}   (offsets relative to the data buffer)
//
// dtypes: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64 map to ricci's ten dtypes. A file may also
// hold tensors of dtypes ricci has no type for (U16, U32, U64, F8_E4M3, F8_E5M2, F8_E8M0, C64): it
// still opens, keys() lists them, and get()/dtype() on them throws DTypeError ("unsupported dtype").
//
// Files are untrusted input: load_safetensors validates the whole header before returning (sizes,
// UTF-8, JSON, field types, offsets that tile the buffer exactly, as the reference implementation
// requires) and throws IOError naming the file and the problem; it never reads outside the file.
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ricci/tensor.h"

namespace ricci {

// Writes `tensors` to `path`. Any layout and device: each is written contiguous, little-endian.
// The layout follows the reference writer byte for byte: "__metadata__" first (omitted when empty),
// tensors sorted by dtype alignment (largest first) then name, header space-padded so the data
// starts 8-byte aligned. Names must be unique, valid UTF-8 and not "__metadata__", and tensors
// defined (ValueError). The file is written to a temporary beside `path` and renamed over
// it, so a SafetensorsFile still mapping the old `path` keeps reading the old bytes.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// So that `save_safetensors(path, {{"w", w}, {"b", b}})` picks one overload.
void save_safetensors(const std::string& path, std::initializer_list<std::pair<std::string, Tensor>> tensors,
                      const std::map<std::string, std::string>& metadata = {});

// A validated, memory-mapped safetensors file whose tensors are made on demand. Copies are cheap
// handles to the same mapping.
//
// get(name) is zero-copy: the tensor's Storage points into the mapping, which stays alive as long
// as any tensor made from it does, even after every SafetensorsFile handle is gone. The mapping
// is private (copy-on-write): in-place ops on a tensor from get() never reach the file, but they
// are seen by later get()s of the same name from this file, like views of one buffer. (Where the
// kernel refuses to commit memory for a writable mapping, e.g. a file larger than RAM + swap, the
// mapping is read-only instead: clone() a tensor from such a file before writing to it.) Tensors
// whose bytes are not aligned to their element size (files from writers that do not pad), and
// BOOL tensors holding bytes other than 0/1, are returned as owned copies instead.
class SafetensorsFile {
 public:
  SafetensorsFile() = default;  // holds no file: keys() is empty

  const std::string& path() const;
  const std::vector<std::string>& keys() const;  // in file order (by data offset)
  size_t size() const { return keys().size(); }
  bool contains(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const;  // "__metadata__"; empty when absent

  // The tensor named `name` (IndexError when absent; DTypeError for a dtype ricci lacks).
  Tensor get(const std::string& name) const;
  DType dtype(const std::string& name) const;  // DTypeError for a dtype ricci lacks
  Dims shape(const std::string& name) const;
  // The dtype as spelled in the file ("F32", "U32", ...): works for every tensor.
  const std::string& dtype_str(const std::string& name) const;
  // The tensor's bytes as `as`, a dtype of the same element size, owned: how a tensor of a dtype
  // ricci lacks is read, e.g. MLX's U32 packed quantized weights as int32 (the same bits).
  // DTypeError when the sizes differ.
  Tensor get_bits(const std::string& name, DType as) const;

  struct Impl;  // defined in src/io/safetensors.cpp

 private:
  explicit SafetensorsFile(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const Impl& impl() const;
  std::shared_ptr<const Impl> impl_;
  friend SafetensorsFile load_safetensors(const std::string& path);
  friend SafetensorsFile load_safetensors_from_memory(const void* data, size_t size, const std::string& name);
  friend std::map<std::string, Tensor> load_safetensors_all(const std::string& path);
};

// Maps `path` (read-only file, private mapping) and validates its header. IOError when the file
// cannot be opened or is malformed; DTypeError when a tensor's dtype is unknown to the format.
SafetensorsFile load_safetensors(const std::string& path);
// The same from bytes in memory (copied: the caller's buffer may go away). `name` is what errors call it.
SafetensorsFile load_safetensors_from_memory(const void* data, size_t size, const std::string& name = "<memory>");
// Every tensor of the file, copied into tensors that own their memory.
std::map<std::string, Tensor> load_safetensors_all(const std::string& path);

}  // namespace ricci
