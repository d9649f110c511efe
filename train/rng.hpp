// Seeded random numbers for the trainer: parameter initialisation (EMPIRICAL.md §1), noise levels and noise
// of the EDM loss, mini-batch indices. std::mt19937_64 is specified bit-exactly by the C++ standard; uniforms
// and normals are derived here by fixed formulas (not std::*_distribution, whose algorithms are
// implementation-defined), so a seed gives the same numbers with any standard library and compiler.
// The full state (engine plus the cached second Box–Muller deviate) can be saved and restored for resumable runs.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>

namespace specbias::train {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Next raw 64-bit output of mt19937_64.
  std::uint64_t next() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits: (next() >> 11) · 2^-53.
  double uniform();
  // Uniform in [lo, hi): lo + (hi − lo)·uniform().
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box–Muller: a pair from (u1, u2) is r cos θ then r sin θ with r = sqrt(−2 ln(1 − u1)),
  // θ = 2π u2; the sine is cached and returned by the next call.
  double normal();
  // Fills `out` with exactly the values out.size() calls of normal() would return (the same sequence and
  // final state), faster: the uniforms are drawn in order, the Box–Muller transforms run in parallel.
  void fill_normal(std::span<double> out);
  // Uniform integer in [0, n) by rejection (no modulo bias); n ≥ 1.
  std::uint64_t below(std::uint64_t n);

  // Serialised state (engine text form, cached deviate) for checkpoints; set_state(state()) resumes exactly.
  [[nodiscard]] std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace specbias::train
