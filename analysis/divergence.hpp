// KL divergence between Gaussians — THEORY.md (10.1) full matrices, (10.2) per mode in a shared eigenbasis.
// Default direction of the project: generated ‖ data, KL(N(μ̃, Σ̃) ‖ N(μ, Σ)).
// The full-matrix form works through Cholesky factors (no explicit inverses or determinants), so it needs both
// covariances positive definite; the per-mode form is the accurate one near convergence (it evaluates
// r − 1 − ln r without cancellation), and is what the closed forms feed.
#pragma once

#include <Eigen/Dense>

namespace specbias::analysis {

// KL(N(mu1, S1) ‖ N(mu2, S2)) (10.1). S1, S2: d×d symmetric positive definite (symmetric to 1e-10 relative);
// mu1, mu2: length d, or empty for a zero mean. Throws std::invalid_argument for shape mismatches, non-finite
// or asymmetric input, std::domain_error naming the matrix if S1 or S2 is not positive definite.
[[nodiscard]] double kl_gaussian(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& S1, const Eigen::VectorXd& mu2,
                                 const Eigen::MatrixXd& S2);

// Per-mode terms of (10.2), in the data eigenbasis U (shared with the generated covariance):
//   default (generated ‖ data): ½[ r − 1 − ln r + (m̃_k − m_k)²/λ_k ],  r = λ̃_k/λ_k;
//   reverse (data ‖ generated): ½[ r − 1 − ln r + (m̃_k − m_k)²/λ̃_k ],  r = λ_k/λ̃_k.
// lambda_gen = λ̃, lambda_data = λ (equal lengths, finite, ≥ 0); mean_gen_eig = m̃ = U^T μ̃ and
// mean_data_eig = m = U^T μ, each of the same length or empty for zero. A zero variance on either side makes the
// Gaussian degenerate and its term +inf (for the default direction this is λ_k = 0 in the denominator, or
// λ̃_k = 0 through −ln r); callers that want a finite total must exclude such modes. The sum of the terms is
// kl_gaussian for U-diagonal covariances. Throws std::invalid_argument for bad lengths or values.
[[nodiscard]] Eigen::VectorXd kl_per_mode(const Eigen::VectorXd& lambda_gen, const Eigen::VectorXd& lambda_data,
                                          const Eigen::VectorXd& mean_gen_eig = {},
                                          const Eigen::VectorXd& mean_data_eig = {}, bool reverse = false);

}  // namespace specbias::analysis
