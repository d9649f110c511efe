// SplitMix64 generator, Box–Muller normals and random orthogonal matrices exactly as THEORY.md §13.3 fixes them;
// any change here changes every seeded test problem (12.4), so the tests pin the first outputs.
#include "models/splitmix64.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "common/errors.hpp"

namespace specbias::models {

std::uint64_t SplitMix64::next() {
  // Unsigned arithmetic wraps mod 2^64, which is exactly the reference definition.
  state_ += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Eigen::VectorXd SplitMix64::normals(Eigen::Index n) {
  if (n < 0) throw DataError("SplitMix64::normals: requested " + std::to_string(n) + " normals, need n >= 0");
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; i += 2) {
    const double u1 = uniform();
    const double u2 = uniform();
    // 1 - u1 lies in (0, 1], so the logarithm is finite even when u1 == 0.
    const double r = std::sqrt(-2.0 * std::log(1.0 - u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    out(i) = r * std::cos(theta);
    if (i + 1 < n) out(i + 1) = r * std::sin(theta);
  }
  return out;
}

Eigen::MatrixXd SplitMix64::normal_matrix(Eigen::Index rows, Eigen::Index cols) {
  if (rows < 0 || cols < 0)
    throw DataError("SplitMix64::normal_matrix: shape " + std::to_string(rows) + " x " + std::to_string(cols) +
                    " has a negative dimension");
  const Eigen::VectorXd values = normals(rows * cols);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = values(i * cols + j);
  return m;
}

Eigen::MatrixXd random_orthogonal(Eigen::Index d, SplitMix64& rng) {
  if (d < 1) throw DataError("random_orthogonal: dimension " + std::to_string(d) + " must be >= 1");
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(rng.normal_matrix(d, d));
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(d, d);
  // QR is unique only up to column signs; R_ii > 0 pins it (R_ii = 0 has probability zero).
  for (Eigen::Index i = 0; i < d; ++i)
    if (qr.matrixQR()(i, i) < 0) q.col(i) = -q.col(i);
  return q;
}

}  // namespace specbias::models
