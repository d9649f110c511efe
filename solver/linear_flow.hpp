// Exact propagation of a linear constant-coefficient matrix ODE, the stiff-proof option for flows that are
// affine in their state:   dX/dτ = −(X K − C),   X ∈ R^{r×n}, K ∈ R^{n×n} symmetric, C ∈ R^{r×n}.
//
// With K = V diag(κ) V^T (computed once):  X(τ) = X0 V e^{−τκ} V^T + C V diag(τ φ(τκ)) V^T,  φ(z) = (1 − e^{−z})/z,
// which is exact for every τ (no step size, no stiffness) and stays valid when K is singular (φ(0) = 1).
// Used for gradient flows of linear denoisers, whose Hessian is constant; knows nothing about diffusion.
#pragma once

#include <Eigen/Dense>

namespace specbias::solver {

class SymmetricLinearFlow {
 public:
  SymmetricLinearFlow(const Eigen::MatrixXd& K, Eigen::MatrixXd C, Eigen::MatrixXd X0, double tau0 = 0.0);

  void advance_to(double tau);  // any τ ≥ tau0 (evaluation is direct, so order does not matter)
  [[nodiscard]] double time() const { return tau_; }
  [[nodiscard]] const Eigen::MatrixXd& state() const { return X_; }
  [[nodiscard]] const Eigen::VectorXd& rates() const { return kappa_; }  // eigenvalues κ of K

 private:
  Eigen::MatrixXd V_;        // eigenvectors of K
  Eigen::VectorXd kappa_;    // eigenvalues of K
  Eigen::MatrixXd X0V_, CV_; // X0 V and C V, precomputed
  Eigen::MatrixXd X_;
  double tau0_, tau_;
};

}  // namespace specbias::solver

namespace specbias::solver {

// φ₁(z) = (1 − e^{−z})/z elementwise, φ₁(0) = 1, given e = e^{−z} (already needed by the caller), into `out`
// (resized; no other allocation). Vectorised (Eigen packet math): a Taylor series where |z| < 0.5, where 1 − e
// would cancel, and (1 − e)/z elsewhere. Agrees with −expm1(−z)/z to a few ulp (tests/solver/).
void phi1(const Eigen::ArrayXd& z, const Eigen::ArrayXd& exp_minus_z, Eigen::ArrayXd& out);

// The diagonal special case, one independent linear ODE per component: dx_i/dτ = −(κ_i x_i − c_i), exact:
// x_i(τ) = x_i(0) e^{−τκ_i} + c_i τ φ₁(τκ_i). O(n) per evaluation (decoupled modes need no eigendecomposition),
// vectorised: the nested mode-wise path evaluates it for every (σ node, τ), d modes at a time.
class DiagonalLinearFlow {
 public:
  DiagonalLinearFlow(Eigen::VectorXd kappa, Eigen::VectorXd c, Eigen::VectorXd x0, double tau0 = 0.0);
  void advance_to(double tau);
  [[nodiscard]] double time() const { return tau_; }
  [[nodiscard]] const Eigen::VectorXd& state() const { return x_; }

 private:
  Eigen::ArrayXd kappa_, c_, x0_;
  Eigen::ArrayXd x_star_;  // c/κ, the equilibrium (±inf where κ = 0; only used where |τκ| ≥ 0.5)
  Eigen::VectorXd x_;
  Eigen::ArrayXd z_, decay_, phi_;  // workspaces, reused by every advance_to
  double tau0_, tau_;
};

}  // namespace specbias::solver
