// Eigendecomposition of a symmetric diagonal-plus-rank-one matrix  M = diag(a) + z zᵀ  in O(n²) operations.
//
// Method (Golub 1973; Gu & Eisenstat 1994, as in LAPACK dlaed2/dlaed4/dlaed3): sort a ascending; deflate
// components with negligible z_j (eigenpair (a_j, e_j)) and pairs of (numerically) equal a's (a Givens rotation
// zeroes one z entry); the remaining eigenvalues are the roots of the secular equation
//   f(λ) = 1 + Σ_j z_j² / (a_j − λ) = 0,
// one in each gap (a_j, a_{j+1}) and one in (a_last, a_last + ||z||²). Each root is found as an offset μ from its
// nearer pole (so λ − a_j keeps full relative accuracy), by safeguarded Newton/bisection. Eigenvectors use the
// Gu–Eisenstat vector ẑ recomputed from the computed roots, which makes them numerically orthogonal.
// Generic linear algebra: knows nothing about diffusion.
#pragma once

#include <Eigen/Dense>

namespace specbias::solver {

struct DiagRankOneEigen {
  Eigen::VectorXd values;   // ascending
  Eigen::MatrixXd vectors;  // orthonormal columns, column i belongs to values(i)
  int deflated = 0;         // eigenpairs found by deflation (no secular root needed)
  long secular_iterations = 0;
};

// Throws std::invalid_argument on size mismatch or non-finite input; NumericalError if a root fails to converge.
DiagRankOneEigen diag_plus_rank_one_eigen(const Eigen::VectorXd& a, const Eigen::VectorXd& z);

}  // namespace specbias::solver
