#include "solver/linear_flow.hpp"

#include <cmath>
#include <stdexcept>

#include "common/errors.hpp"

namespace specbias::solver {

SymmetricLinearFlow::SymmetricLinearFlow(const Eigen::MatrixXd& K, Eigen::MatrixXd C, Eigen::MatrixXd X0,
                                         double tau0)
    : X_(std::move(X0)), tau0_(tau0), tau_(tau0) {
  if (K.rows() != K.cols() || C.cols() != K.rows() || X_.cols() != K.rows() || C.rows() != X_.rows())
    throw std::invalid_argument("SymmetricLinearFlow: inconsistent shapes");
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (K + K.transpose()));
  if (eig.info() != Eigen::Success) throw NumericalError("SymmetricLinearFlow: eigendecomposition failed");
  V_ = eig.eigenvectors();
  kappa_ = eig.eigenvalues();
  X0V_ = X_ * V_;
  CV_ = C * V_;
}

void SymmetricLinearFlow::advance_to(double tau) {
  const double dt = tau - tau0_;
  if (dt < 0) throw std::invalid_argument("SymmetricLinearFlow: tau before the initial time");
  Eigen::VectorXd decay(kappa_.size()), integral(kappa_.size());
  for (Eigen::Index i = 0; i < kappa_.size(); ++i) {
    const double z = dt * kappa_(i);
    decay(i) = std::exp(-z);
    // ∫_0^dt e^{−κ(dt−u)} du = dt·φ(z), with expm1 for accuracy at small z.
    integral(i) = z == 0.0 ? dt : -std::expm1(-z) / kappa_(i);
  }
  X_.noalias() = (X0V_ * decay.asDiagonal() + CV_ * integral.asDiagonal()) * V_.transpose();
  tau_ = tau;
}

}  // namespace specbias::solver

namespace specbias::solver {

DiagonalLinearFlow::DiagonalLinearFlow(Eigen::VectorXd kappa, Eigen::VectorXd c, Eigen::VectorXd x0, double tau0)
    : kappa_(std::move(kappa)), c_(std::move(c)), x0_(std::move(x0)), x_(x0_), tau0_(tau0), tau_(tau0) {
  if (kappa_.size() != c_.size() || kappa_.size() != x0_.size())
    throw std::invalid_argument("DiagonalLinearFlow: inconsistent sizes");
}

void DiagonalLinearFlow::advance_to(double tau) {
  const double dt = tau - tau0_;
  if (dt < 0) throw std::invalid_argument("DiagonalLinearFlow: tau before the initial time");
  for (Eigen::Index i = 0; i < x_.size(); ++i) {
    const double z = dt * kappa_(i);
    const double integral = z == 0.0 ? dt : -std::expm1(-z) / kappa_(i);
    x_(i) = x0_(i) * std::exp(-z) + c_(i) * integral;
  }
  tau_ = tau;
}

}  // namespace specbias::solver
