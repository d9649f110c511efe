// SplitMix64: the small, fully specified generator behind every reproducible "random" test problem, so the
// same seed gives bit-identical problems in C++, Python and any other language (THEORY.md §13.3).
// Also the normal deviates (Box–Muller in pairs) and the unique random orthogonal matrix (QR with R_ii > 0)
// that recipe (12.4) needs. Not for statistics-grade sampling of training data: train/ has its own RNG.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace specbias::models {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  // Next 64-bit output (§13.3); seed 0 gives 0xE220A8397B1DCDAF first.
  std::uint64_t next();
  // Uniform in [0, 1) with 53 random bits: (next() >> 11) · 2^-53.
  double uniform();
  // n standard normals by Box–Muller in pairs (r cos θ first, then r sin θ); for odd n the last pair's sine
  // is discarded, so every call starts a fresh pair. n ≥ 0.
  Eigen::VectorXd normals(Eigen::Index n);
  // rows × cols standard normals from one normals(rows·cols) request, filled row-major.
  Eigen::MatrixXd normal_matrix(Eigen::Index rows, Eigen::Index cols);

 private:
  std::uint64_t state_;
};

// d × d orthogonal Q from the QR decomposition (Householder) of normal_matrix(d, d), with column signs fixed so
// that R_ii > 0; that makes Q unique, hence the same as numpy's `q * sign(diag(r))`. d ≥ 1.
Eigen::MatrixXd random_orthogonal(Eigen::Index d, SplitMix64& rng);

}  // namespace specbias::models
