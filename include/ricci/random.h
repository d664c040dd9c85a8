#pragma once
// Random numbers from a counter-based generator (Philox 4x32-10): the n-th number of a stream
// depends only on (seed, n), so results are reproducible and independent of the thread count,
// and any device can produce the same stream.
#include <cstdint>
#include <mutex>
#include <optional>

#include "ricci/tensor.h"

namespace ricci {

// Everything a Generator holds: the numbers it hands out next depend on these two values only,
// so saving them and setting them back later (get_state / set_state) continues the stream exactly.
struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // Philox blocks consumed so far
  bool operator==(const GeneratorState&) const = default;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ull) : seed_(seed) {}
  void manual_seed(uint64_t seed);
// The default generator's state (torch.get_rng_state / set_rng_state): dropout and the samplers
// draw from it when no generator is passed.
GeneratorState get_rng_state();
void set_rng_state(const GeneratorState& state);
  uint64_t initial_seed() const { return seed_; }
  // torch.Generator.get_state / set_state: resumable training saves the state with a checkpoint.
  GeneratorState get_state() const;
  void set_state(const GeneratorState& state);
  // Reserves `n` 128-bit Philox blocks and returns the counter offset of the first one; each
  // random op reserves what it consumes, so consecutive ops draw disjoint numbers.
  uint64_t reserve(uint64_t n);
  std::mutex& mutex() { return mutex_; }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
  mutable std::mutex mutex_;
};

Generator& default_generator();
// Seeds the default generator (torch.manual_seed).
void manual_seed(uint64_t seed);
// The default generator's state (torch.get_rng_state / set_rng_state): dropout and the samplers
// draw from it when no generator is passed.
GeneratorState get_rng_state();
void set_rng_state(const GeneratorState& state);

// Factories. Float dtypes only for rand/randn/normal/uniform; randint defaults to int64.
Tensor rand(IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);   // U[0, 1)
Tensor randn(IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);  // N(0, 1)
Tensor randint(int64_t low, int64_t high, IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randint(int64_t high, IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randperm(int64_t n, TensorOptions options = {}, Generator* gen = nullptr);
// 1 with probability p (elementwise for a tensor of probabilities), in p's dtype.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(IntArrayRef shape, double p, TensorOptions options = {}, Generator* gen = nullptr);
// Samples `num_samples` indices per row of a (rows, n) or (n) probability tensor.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false, Generator* gen = nullptr);

// In place, any layout (tensor.normal_() / uniform_() in PyTorch). Bump the version counter.
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor& uniform_(Tensor& t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);

}  // namespace ricci
