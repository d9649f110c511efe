// Alignment score of a generated covariance with the data eigenbasis — THEORY.md (11.2):
// χ = Σ_k M_kk² / Σ_{k,m} M_km² with M = U^T Σ̃ U. χ = 1 iff U diagonalises Σ̃; smaller values mean variance
// has leaked into off-diagonal (cross-mode) entries, e.g. from a non-aligned initialisation or sampling noise.
#pragma once

#include <Eigen/Dense>

namespace specbias::analysis {

// sigma_gen: d×d generated covariance Σ̃; U: d×m with orthonormal columns (m = d for the full data eigenbasis;
// fewer columns score the leading-mode sub-block only). Returns NaN when M = 0 (χ undefined).
// Throws std::invalid_argument for shape mismatches or non-finite entries.
[[nodiscard]] double alignment_score(const Eigen::MatrixXd& sigma_gen, const Eigen::MatrixXd& U);

}  // namespace specbias::analysis
