// Deterministic data problems and moment generators shared by tests, validation runs, the CLI and benchmarks
// (STYLE.md §1.3): the canonical problems of THEORY.md §13.2 (DCT-II basis, log-spaced spectrum, non-aligned
// matrix/vector, stationary circulant covariance), the seeded lognormal-spectrum/random-rotation Gaussian of
// (12.4) built with SplitMix64 (§13.3), and empirical moments of a sample matrix (the Gaussian equivalence of §1
// needs only μ and Σ). Sample loading lives in data_files.hpp; nothing here reads files.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <string>

#include "models/data_moments.hpp"

namespace specbias::models {

// d × d orthonormal DCT-II basis, U_jk = sqrt((k==0 ? 1 : 2)/d) · cos(π (j + ½) k / d); column k is u_k (§13.2).
Eigen::MatrixXd dct2_basis(Eigen::Index d);

// λ_k = top · (bottom/top)^{k/(d−1)}, k = 0…d−1, descending from top to bottom (§13.2); d = 1 gives {top}.
// Requires d ≥ 1 and top, bottom > 0.
Eigen::VectorXd log_spaced_spectrum(Eigen::Index d, double top = 10, double bottom = 1e-3);

// M_ij = scale · sin(phase + i + 2j), 0-based indices (§13.2): a fixed matrix with no special alignment to any
// eigenbasis, used as a generic initial weight.
Eigen::MatrixXd nonaligned_matrix(Eigen::Index rows, Eigen::Index cols, double scale = 0.1, double phase = 1);

// v_i = scale · cos(phase + i), 0-based (§13.2): generic mean / bias vector.
Eigen::VectorXd nonaligned_vector(Eigen::Index n, double scale = 0.5, double phase = 0.5);

// N × N circulant covariance Σ_ij = ρ^{dist(i,j)}, dist = min(|i−j|, N−|i−j|) (§13.2): stationary on the ring, so
// diagonalised by the DFT (§7). Positive definite for 0 ≤ ρ < 1 (all DFT eigenvalues are positive); other ρ are
// not rejected here — DataMoments::from_covariance rejects an indefinite Σ. Requires N ≥ 1.
Eigen::MatrixXd stationary_covariance(Eigen::Index N, double rho);

// Recipe (12.4) with SplitMix64(seed) (§13.3): n = normals(d) first, v = exp(n) sorted descending and divided by
// its mean (so mean(v) = 1), then R = random_orthogonal(d) from the same generator; returns
// DataMoments::from_spectrum(v, R) with zero mean. Modes keep the descending order. Requires d ≥ 1.
DataMoments lognormal_rotation_moments(Eigen::Index d, std::uint64_t seed);

// Empirical moments of X (N × d, one sample per row): the column mean and the unbiased covariance
// Σ = (X − 1μ^T)^T (X − 1μ^T) / (N − 1), matching numpy.cov(X, rowvar=False); eigendecomposed by
// DataMoments::from_covariance (modes sorted by descending variance). Throws DataError if N < 2, d = 0, or X is
// not finite.
DataMoments moments_from_samples(const Eigen::MatrixXd& X, std::string description);

}  // namespace specbias::models
