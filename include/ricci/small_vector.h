#pragma once
// Dims: a vector of int64 that keeps up to 6 entries inline, because nearly every tensor has at
// most 6 dims and a heap allocation per shape would dominate the cost of a tiny op.
// IntArrayRef: a non-owning view of int64s that binds to {2, 3}, std::vector and Dims alike.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <ostream>
#include <span>
#include <vector>

namespace ricci {

class IntArrayRef {
 public:
  constexpr IntArrayRef() = default;
  constexpr IntArrayRef(const int64_t* data, size_t size) : data_(data), size_(size) {}
  // Binding to a braced list is safe for the duration of the full expression (a call argument).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  constexpr IntArrayRef(std::initializer_list<int64_t> list) : data_(list.begin()), size_(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  IntArrayRef(const std::vector<int64_t>& v) : data_(v.data()), size_(v.size()) {}
  constexpr IntArrayRef(std::span<const int64_t> s) : data_(s.data()), size_(s.size()) {}
  template <size_t N>
  constexpr IntArrayRef(const int64_t (&arr)[N]) : data_(arr), size_(N) {}

  constexpr const int64_t* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const int64_t* begin() const { return data_; }
  constexpr const int64_t* end() const { return data_ + size_; }
  constexpr int64_t operator[](size_t i) const { return data_[i]; }
  constexpr int64_t back() const { return data_[size_ - 1]; }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  bool operator==(IntArrayRef o) const { return size_ == o.size_ && std::equal(begin(), end(), o.begin()); }

 private:
  const int64_t* data_ = nullptr;
  size_t size_ = 0;
};

class Dims {
 public:
  static constexpr size_t kInline = 6;
  Dims() = default;
  explicit Dims(size_t n, int64_t value = 0) { resize(n, value); }
  Dims(std::initializer_list<int64_t> list) { assign(list.begin(), list.size()); }
  Dims(IntArrayRef r) { assign(r.data(), r.size()); }
  Dims(const std::vector<int64_t>& v) { assign(v.data(), v.size()); }
  Dims(const Dims& o) { assign(o.data(), o.size()); }
  Dims(Dims&& o) noexcept { move_from(o); }
  Dims& operator=(const Dims& o) {
    if (this != &o) assign(o.data(), o.size());
    return *this;
  }
  Dims& operator=(Dims&& o) noexcept {
    if (this != &o) {
      release();
      move_from(o);
    }
    return *this;
  }
  ~Dims() { release(); }

  operator IntArrayRef() const { return {data(), size_}; }
  IntArrayRef ref() const { return {data(), size_}; }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  int64_t* data() { return heap_ ? heap_ : inline_; }
  const int64_t* data() const { return heap_ ? heap_ : inline_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t& back() { return data()[size_ - 1]; }
  int64_t back() const { return data()[size_ - 1]; }

  void reserve(size_t n) {
    if (n <= capacity()) return;
    int64_t* fresh = new int64_t[n];
    std::memcpy(fresh, data(), size_ * sizeof(int64_t));
    delete[] heap_;
    heap_ = fresh;
    heap_capacity_ = n;
  }
  void resize(size_t n, int64_t value = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data()[i] = value;
    size_ = n;
  }
  void push_back(int64_t v) {
    if (size_ == capacity()) reserve(capacity() * 2);
    data()[size_++] = v;
  }
  void pop_back() { --size_; }
  void insert(size_t pos, int64_t v) {
    push_back(0);
    int64_t* d = data();
    for (size_t i = size_ - 1; i > pos; --i) d[i] = d[i - 1];
    d[pos] = v;
  }
  void erase(size_t pos) {
    int64_t* d = data();
    for (size_t i = pos; i + 1 < size_; ++i) d[i] = d[i + 1];
    --size_;
  }
  void clear() { size_ = 0; }
  bool operator==(const Dims& o) const { return ref() == o.ref(); }
  bool operator==(IntArrayRef o) const { return ref() == o; }

 private:
  size_t capacity() const { return heap_ ? heap_capacity_ : kInline; }
  // Up to kInline entries copied inline: a call to memcpy for a shape of one or two dims cost
  // more than the copy (shapes are copied several times per op).
  static void copy_inline(int64_t* d, const int64_t* s, size_t n) {
    switch (n) {
      case 6: d[5] = s[5]; [[fallthrough]];
      case 5: d[4] = s[4]; [[fallthrough]];
      case 4: d[3] = s[3]; [[fallthrough]];
      case 3: d[2] = s[2]; [[fallthrough]];
      case 2: d[1] = s[1]; [[fallthrough]];
      case 1: d[0] = s[0]; [[fallthrough]];
      default: break;
    }
  }
  void assign(const int64_t* src, size_t n) {
    size_ = 0;
    if (n <= kInline && !heap_) {
      copy_inline(inline_, src, n);
      size_ = n;
      return;
    }
    reserve(n);
    if (n > 0) std::memmove(data(), src, n * sizeof(int64_t));  // src may be null when n == 0
    size_ = n;
  }
  void release() {
    delete[] heap_;
    heap_ = nullptr;
  }
  void move_from(Dims& o) {
    size_ = o.size_;
    if (o.heap_) {
      heap_ = o.heap_;
      heap_capacity_ = o.heap_capacity_;
      o.heap_ = nullptr;
    } else {
      heap_ = nullptr;
      copy_inline(inline_, o.inline_, size_);
    }
    o.size_ = 0;
  }

  int64_t inline_[kInline];
  int64_t* heap_ = nullptr;
  size_t heap_capacity_ = 0;
  size_t size_ = 0;
};

// Shapes print as [2, 3], like torch.Size's list.
std::ostream& operator<<(std::ostream& os, IntArrayRef dims);
inline std::ostream& operator<<(std::ostream& os, const Dims& dims) { return os << dims.ref(); }

}  // namespace ricci
