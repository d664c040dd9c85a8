// safetensors files: writing (temp file + rename) and reading through a private memory mapping
// whose lifetime is shared by every tensor made from it. Header parsing and validation live in
// safetensors_format.cpp; here we only turn validated byte ranges into tensors.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "io/safetensors_format.h"
#include "ricci/autograd.h"
#include "ricci/factories.h"
#include "ricci/io.h"

namespace ricci {
namespace {

constexpr bool kLittleEndianHost = std::endian::native == std::endian::little;

// The file image: an mmap'ed file or an owned heap copy. Shared (refcounted) between the
// SafetensorsFile and every zero-copy tensor, so it dies with the last of them.
struct Image {
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool mapped = false;
  ~Image() {
    if (mapped) ::munmap(const_cast<uint8_t*>(data), size);
    else std::free(const_cast<uint8_t*>(data));
  }
};

void release_image(void* ctx) { delete static_cast<std::shared_ptr<const Image>*>(ctx); }

std::string errno_text(int err) { return std::strerror(err); }

// Reverses the bytes of each element in place (big-endian hosts only; the format is little-endian).
void swap_bytes(uint8_t* p, size_t nbytes, size_t element_size) {
  if (element_size == 1) return;
  for (size_t i = 0; i + element_size <= nbytes; i += element_size) std::reverse(p + i, p + i + element_size);
}

}  // namespace

struct SafetensorsFile::Impl {
  std::string path;
  std::shared_ptr<const Image> image;
  io::SafetensorsHeader header;
  std::vector<std::string> keys;
  std::unordered_map<std::string, size_t> index;

  const io::SafetensorsEntry& entry(const std::string& name, const char* op) const {
    const auto it = index.find(name);
    if (it == index.end()) {
      std::string some;
      for (size_t i = 0; i < keys.size() && i < 5; ++i) some += (i ? ", '" : "'") + keys[i] + "'";
      if (keys.size() > 5) some += ", ...";
      throw IndexError(detail::cat("[", op, "] no tensor named '", name, "' in '", path, "' (it holds ", keys.size(),
                                   " tensors", keys.empty() ? "" : ": ", some, "); check keys()"));
    }
    return header.entries[it->second];
  }
  DType dtype_of(const io::SafetensorsEntry& e, const char* op) const {
    if (!e.dtype)
      throw DTypeError(detail::cat("[", op, "] tensor '", e.name, "' in '", path, "' has dtype ", e.dtype_str,
                                   ": unsupported dtype (ricci has BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64); "
                                   "convert the file, e.g. with PyTorch, to one of these"));
    return *e.dtype;
  }
  const uint8_t* bytes_of(const io::SafetensorsEntry& e) const { return image->data + header.data_start + e.begin; }

  // An owned copy of the entry: aligned, native byte order, bools normalised to 0/1.
  Tensor copy_of(const io::SafetensorsEntry& e, DType dtype) const {
    Tensor t = empty_tensor(Dims(e.shape), dtype, kCPU, "SafetensorsFile::get");
    const size_t nbytes = e.end - e.begin;
    if (nbytes == 0) return t;
    auto* dst = static_cast<uint8_t*>(t.data_ptr());
    std::memcpy(dst, bytes_of(e), nbytes);
    if (dtype == DType::Bool)
      for (size_t i = 0; i < nbytes; ++i) dst[i] = dst[i] != 0;
    if constexpr (!kLittleEndianHost) swap_bytes(dst, nbytes, e.element_size);
    return t;
  }
};

namespace {

// A C++ bool holding a byte other than 0 or 1 is undefined behaviour in every kernel that reads it.
bool bools_are_canonical(const uint8_t* p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= p[i];
  return acc <= 1;
}

SafetensorsFile::Impl* build_impl(std::string path, std::shared_ptr<const Image> image) {
  auto impl = std::make_unique<SafetensorsFile::Impl>();
  impl->path = std::move(path);
  impl->header = io::parse_safetensors_header(image->data, image->size, impl->path);
  impl->image = std::move(image);
  impl->keys.reserve(impl->header.entries.size());
  for (size_t i = 0; i < impl->header.entries.size(); ++i) {
    impl->keys.push_back(impl->header.entries[i].name);
    impl->index.emplace(impl->header.entries[i].name, i);
  }
  return impl.release();
}

std::shared_ptr<const Image> map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IOError(detail::cat("[load_safetensors] cannot open '", path, "': ", errno_text(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IOError(detail::cat("[load_safetensors] cannot stat '", path, "': ", errno_text(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IOError(detail::cat("[load_safetensors] '", path, "' is not a regular file"));
  }
  auto image = std::make_shared<Image>();
  image->size = static_cast<size_t>(st.st_size);
  if (image->size == 0) {  // mmap refuses length 0; the parser reports the short file
    ::close(fd);
    image->data = static_cast<const uint8_t*>(std::malloc(1));
    return image;
  }
  // Private and writable: in-place ops on loaded tensors copy the page they touch and never reach
  // the file (opened read-only). A writable private mapping is charged against the commit limit,
  // so where the kernel refuses it (a file larger than memory) fall back to a read-only one.
  void* addr = ::mmap(nullptr, image->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED && errno == ENOMEM) addr = ::mmap(nullptr, image->size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  if (addr == MAP_FAILED) throw IOError(detail::cat("[load_safetensors] cannot map '", path, "': ", errno_text(err)));
  image->data = static_cast<const uint8_t*>(addr);
  image->mapped = true;
  return image;
}

}  // namespace

// ---- SafetensorsFile ---------------------------------------------------------------------------

const SafetensorsFile::Impl& SafetensorsFile::impl() const {
  static const Impl empty{};
  return impl_ ? *impl_ : empty;
}

const std::string& SafetensorsFile::path() const { return impl().path; }
const std::vector<std::string>& SafetensorsFile::keys() const { return impl().keys; }
bool SafetensorsFile::contains(const std::string& name) const { return impl().index.count(name) != 0; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl().header.metadata; }

DType SafetensorsFile::dtype(const std::string& name) const {
  const Impl& im = impl();
  return im.dtype_of(im.entry(name, "SafetensorsFile::dtype"), "SafetensorsFile::dtype");
}
Dims SafetensorsFile::shape(const std::string& name) const {
  const auto& e = impl().entry(name, "SafetensorsFile::shape");
  return Dims(e.shape);
}
const std::string& SafetensorsFile::dtype_str(const std::string& name) const {
  return impl().entry(name, "SafetensorsFile::dtype_str").dtype_str;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  const Impl& im = impl();
  const auto& e = im.entry(name, "SafetensorsFile::get");
  const DType dtype = im.dtype_of(e, "SafetensorsFile::get");
  const uint8_t* p = im.bytes_of(e);
  const size_t nbytes = e.end - e.begin;
  const bool aligned = reinterpret_cast<uintptr_t>(p) % e.element_size == 0;
  if (nbytes == 0 || !aligned || !kLittleEndianHost || (dtype == DType::Bool && !bools_are_canonical(p, nbytes)))
    return im.copy_of(e, dtype);
  const Dims sizes(e.shape);
  // One Storage per get(): tensors from one file do not share version counters (an in-place op on
  // one weight must not invalidate another saved for backward), only the mapping underneath.
  auto* keep_alive = new std::shared_ptr<const Image>(im.image);
  return from_blob(const_cast<uint8_t*>(p), sizes, contiguous_strides(sizes), dtype, kCPU, &release_image, keep_alive);
}

SafetensorsFile load_safetensors(const std::string& path) {
  auto image = map_file(path);
  return SafetensorsFile(std::shared_ptr<const SafetensorsFile::Impl>(build_impl(path, std::move(image))));
}

SafetensorsFile load_safetensors_from_memory(const void* data, size_t size, const std::string& name) {
  RICCI_CHECK(data != nullptr || size == 0, ValueError, "[load_safetensors_from_memory] data is null but size is ", size);
  auto image = std::make_shared<Image>();
  // 64-byte aligned like ricci's own buffers, so aligned offsets give aligned tensors.
  RICCI_CHECK(size <= (size_t{1} << 62), ValueError, "[load_safetensors_from_memory] size ", size, " is not a buffer size");
  auto* copy = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64));
  RICCI_CHECK(copy != nullptr, IOError, "[load_safetensors_from_memory] out of memory copying ", size, " bytes of '", name,
              "'; load the file from disk instead (load_safetensors maps it without a copy)");
  if (size) std::memcpy(copy, data, size);
  image->data = copy;
  image->size = size;
  return SafetensorsFile(std::shared_ptr<const SafetensorsFile::Impl>(build_impl(name, std::move(image))));
}

Tensor SafetensorsFile::get_bits(const std::string& name, DType as) const {
  const auto& im = impl();
  const io::SafetensorsEntry& e = im.entry(name, "SafetensorsFile::get_bits");
  RICCI_CHECK(e.element_size == element_size(as), DTypeError, "[SafetensorsFile::get_bits] tensor '", name, "' has dtype ",
              e.dtype_str, " (", e.element_size, " bytes per element), which cannot be read as ", as, " (",
              element_size(as), " bytes)");
  return im.copy_of(e, as);
}

std::map<std::string, Tensor> load_safetensors_all(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const auto& im = file.impl();
  std::map<std::string, Tensor> out;
  for (const auto& e : im.header.entries) out.emplace(e.name, im.copy_of(e, im.dtype_of(e, "load_safetensors_all")));
  return out;
}

// ---- writing -----------------------------------------------------------------------------------

namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    static std::atomic<unsigned> counter{0};
    path_ = detail::cat(target, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0)
      throw IOError(detail::cat("[save_safetensors] cannot create '", path_, "' (to be renamed to '", target,
                                "'): ", errno_text(errno)));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  void write(const void* data, size_t n, const std::string& target) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      const ssize_t k = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) throw IOError(detail::cat("[save_safetensors] writing '", target, "' failed: ", errno_text(errno)));
      p += k;
      n -= static_cast<size_t>(k);
    }
  }
  void commit(const std::string& target) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      throw IOError(detail::cat("[save_safetensors] writing '", target, "' failed: ", errno_text(errno)));
    if (::rename(path_.c_str(), target.c_str()) != 0)
      throw IOError(detail::cat("[save_safetensors] cannot rename '", path_, "' to '", target, "': ", errno_text(errno)));
    committed_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::unordered_map<std::string, size_t> seen;
  std::vector<io::SafetensorsEntry> entries;
  std::vector<Tensor> data;  // contiguous CPU copies where needed, indexed like `tensors`
  entries.reserve(tensors.size());
  data.reserve(tensors.size());
  autograd::NoGradGuard no_grad;  // contiguous()/cpu() of a tensor that requires grad record nothing
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    RICCI_CHECK(name != "__metadata__", ValueError,
                "[save_safetensors] a tensor cannot be named \"__metadata__\": the format reserves that key for metadata");
    RICCI_CHECK(t.defined(), ValueError, "[save_safetensors] tensor '", name, "' is undefined");
    const auto [it, inserted] = seen.emplace(name, i);
    RICCI_CHECK(inserted, ValueError, "[save_safetensors] tensor name '", name, "' appears twice (entries ", it->second,
                " and ", i, "); names in a safetensors file must be unique");
    io::SafetensorsEntry e;
    e.name = name;
    e.dtype = t.dtype();
    e.dtype_str = io::safetensors_dtype_name(t.dtype());
    e.element_size = t.element_size();
    e.shape.assign(t.shape().begin(), t.shape().end());
    e.numel = t.numel();
    entries.push_back(std::move(e));
    data.push_back(t.numel() == 0 ? t : t.cpu().contiguous());
  }
  io::order_for_writing(entries);
  const std::string header = io::serialize_safetensors_header(entries, metadata);
  RICCI_CHECK(header.size() <= io::kMaxHeaderSize, ValueError, "[save_safetensors] the header would be ", header.size(),
              " bytes, over the format's ", io::kMaxHeaderSize, "-byte limit: fewer tensors or shorter names/metadata");

  TempFile out(path);
  uint8_t prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  out.write(prefix, 8, path);
  out.write(header.data(), header.size(), path);
  for (size_t k = 0; k < entries.size(); ++k) {
    const Tensor& t = data[seen.at(entries[k].name)];
    const size_t nbytes = entries[k].end - entries[k].begin;
    if (nbytes == 0) continue;
    if constexpr (kLittleEndianHost) {
      out.write(t.data_ptr(), nbytes, path);
    } else {
      std::vector<uint8_t> le(static_cast<const uint8_t*>(t.data_ptr()), static_cast<const uint8_t*>(t.data_ptr()) + nbytes);
      swap_bytes(le.data(), nbytes, entries[k].element_size);
      out.write(le.data(), nbytes, path);
    }
  }
  out.commit(path);
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, std::vector<std::pair<std::string, Tensor>>(tensors.begin(), tensors.end()), metadata);
}

void save_safetensors(const std::string& path, std::initializer_list<std::pair<std::string, Tensor>> tensors,
                      const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, std::vector<std::pair<std::string, Tensor>>(tensors), metadata);
}

}  // namespace ricci
