// DataMoments: everything a full-batch linear loss needs to know about the data (THEORY.md §1, Lemma 1.1):
// the mean μ, the covariance Σ and its eigendecomposition Σ = U Λ U^T. No samples live in models/.
//
// Mode order: from_spectrum keeps the order it is given (the config's `eigenvalues` list); from_covariance
// sorts modes by descending eigenvalue. Column k of `eigenvectors` is u_k; eigenvalues(k) is λ_k.
#pragma once

#include <Eigen/Dense>
#include <string>

namespace specbias::models {

struct DataMoments {
  Eigen::VectorXd mean;          // μ, length d
  Eigen::MatrixXd covariance;    // Σ, d×d symmetric positive semi-definite
  Eigen::VectorXd eigenvalues;   // λ_k ≥ 0, length d
  Eigen::MatrixXd eigenvectors;  // U, d×d orthonormal columns
  std::string description;       // where the moments came from (for logs and summary.json)

  [[nodiscard]] int dim() const { return static_cast<int>(eigenvalues.size()); }
  [[nodiscard]] bool centred() const { return mean.isZero(0.0); }
  // Mean expressed in the eigenbasis, m = U^T μ.
  [[nodiscard]] Eigen::VectorXd mean_in_eigenbasis() const { return eigenvectors.transpose() * mean; }

  // Σ = U diag(λ) U^T. `basis` must be square with orthonormal columns (checked to 1e-10); mean defaults to 0.
  static DataMoments from_spectrum(const Eigen::VectorXd& eigenvalues, const Eigen::MatrixXd& basis,
                                   const Eigen::VectorXd& mean = {}, std::string description = {});
  // Eigendecomposition of a symmetric covariance (symmetrised first); eigenvalues sorted descending and tiny
  // negative round-off (> -1e-12·max λ) clipped to 0. Throws DataError on a non-square or non-finite Σ.
  static DataMoments from_covariance(const Eigen::MatrixXd& covariance, const Eigen::VectorXd& mean = {},
                                     std::string description = {});
};

}  // namespace specbias::models
