// Canonical deterministic problems (THEORY.md §13.2), the seeded Gaussian recipe (12.4) and empirical moments.
// These numbers are shared with other-language reference implementations, so each formula follows the spec
// literally (0-based indices, row-major fills) rather than any "nicer" equivalent.
#include "models/data_sources.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include "common/errors.hpp"
#include "models/splitmix64.hpp"

namespace specbias::models {

namespace {
void require_positive_dim(const char* what, Eigen::Index d) {
  if (d < 1) throw DataError(std::string(what) + ": dimension " + std::to_string(d) + " must be >= 1");
}
}  // namespace

Eigen::MatrixXd dct2_basis(Eigen::Index d) {
  require_positive_dim("dct2_basis", d);
  Eigen::MatrixXd U(d, d);
  const double dd = static_cast<double>(d);
  for (Eigen::Index k = 0; k < d; ++k) {
    const double norm = std::sqrt((k == 0 ? 1.0 : 2.0) / dd);
    for (Eigen::Index j = 0; j < d; ++j)
      U(j, k) = norm * std::cos(std::numbers::pi * (static_cast<double>(j) + 0.5) * static_cast<double>(k) / dd);
  }
  return U;
}

Eigen::VectorXd log_spaced_spectrum(Eigen::Index d, double top, double bottom) {
  require_positive_dim("log_spaced_spectrum", d);
  if (!(top > 0) || !(bottom > 0))
    throw DataError("log_spaced_spectrum: top (" + std::to_string(top) + ") and bottom (" + std::to_string(bottom) +
                    ") must both be > 0");
  Eigen::VectorXd lambda(d);
  if (d == 1) {
    lambda(0) = top;
    return lambda;
  }
  const double ratio = bottom / top;
  for (Eigen::Index k = 0; k < d; ++k)
    lambda(k) = top * std::pow(ratio, static_cast<double>(k) / static_cast<double>(d - 1));
  return lambda;
}

Eigen::MatrixXd nonaligned_matrix(Eigen::Index rows, Eigen::Index cols, double scale, double phase) {
  if (rows < 0 || cols < 0) throw DataError("nonaligned_matrix: negative shape");
  Eigen::MatrixXd M(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      M(i, j) = scale * std::sin(phase + static_cast<double>(i) + 2.0 * static_cast<double>(j));
  return M;
}

Eigen::VectorXd nonaligned_vector(Eigen::Index n, double scale, double phase) {
  if (n < 0) throw DataError("nonaligned_vector: negative length");
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = scale * std::cos(phase + static_cast<double>(i));
  return v;
}

Eigen::MatrixXd stationary_covariance(Eigen::Index N, double rho) {
  require_positive_dim("stationary_covariance", N);
  Eigen::MatrixXd S(N, N);
  for (Eigen::Index i = 0; i < N; ++i)
    for (Eigen::Index j = 0; j < N; ++j) {
      const Eigen::Index gap = std::abs(i - j);
      // pow(0, 0) = 1 keeps ρ = 0 (white noise) exact on the diagonal.
      S(i, j) = std::pow(rho, static_cast<double>(std::min(gap, N - gap)));
    }
  return S;
}

DataMoments lognormal_rotation_moments(Eigen::Index d, std::uint64_t seed) {
  require_positive_dim("lognormal_rotation_moments", d);
  SplitMix64 rng(seed);
  // Draw order is part of the recipe (§13.3): spectrum first, then the rotation.
  Eigen::VectorXd v = rng.normals(d).array().exp();
  std::sort(v.data(), v.data() + v.size(), std::greater<>());
  v /= v.mean();
  const Eigen::MatrixXd R = random_orthogonal(d, rng);
  return DataMoments::from_spectrum(v, R, {},
                                    "lognormal spectrum with random rotation (THEORY (12.4)), d = " +
                                        std::to_string(d) + ", SplitMix64 seed " + std::to_string(seed));
}

DataMoments moments_from_samples(const Eigen::MatrixXd& X, std::string description) {
  if (X.rows() < 2)
    throw DataError("moments_from_samples: need at least 2 samples for an unbiased covariance, got " +
                    std::to_string(X.rows()) + " (" + description + ")");
  if (X.cols() < 1) throw DataError("moments_from_samples: samples have dimension 0 (" + description + ")");
  if (!X.allFinite()) throw DataError("moments_from_samples: samples contain NaN or Inf (" + description + ")");
  const Eigen::VectorXd mean = X.colwise().mean().transpose();
  const Eigen::MatrixXd centred = X.rowwise() - mean.transpose();
  Eigen::MatrixXd covariance(X.cols(), X.cols());
  // Rank-k update fills one triangle only: half the flops of centred^T centred for large d (MNIST: d = 784).
  covariance.setZero();
  covariance.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose(), 1.0 / static_cast<double>(X.rows() - 1));
  covariance.triangularView<Eigen::StrictlyUpper>() = covariance.transpose();
  return DataMoments::from_covariance(covariance, mean, std::move(description));
}

}  // namespace specbias::models
