#include "solver/linear_flow.hpp"

#include <array>
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

void phi1(const Eigen::ArrayXd& z, const Eigen::ArrayXd& exp_minus_z, Eigen::ArrayXd& out) {
  // Σ_{n≥0} (−z)^n/(n+1)! by Horner; 15 terms leave a remainder below 0.5^15/16! ≈ 1.5e-18 for |z| < 0.5.
  constexpr int kTerms = 15;
  static const auto coefficients = [] {
    std::array<double, kTerms> c{};
    double factorial = 1.0;
    for (int n = 0; n < kTerms; ++n) {
      factorial *= n + 1;
      c[static_cast<std::size_t>(n)] = 1.0 / factorial;
    }
    return c;
  }();
  out.setConstant(z.size(), coefficients[kTerms - 1]);
  for (int n = kTerms - 2; n >= 0; --n) out = out * (-z) + coefficients[static_cast<std::size_t>(n)];
  out = (z.abs() < 0.5).select(out, (1.0 - exp_minus_z) / z);
}

DiagonalLinearFlow::DiagonalLinearFlow(Eigen::VectorXd kappa, Eigen::VectorXd c, Eigen::VectorXd x0, double tau0)
    : kappa_(std::move(kappa)), c_(std::move(c)), x0_(std::move(x0)), x_(x0_.matrix()), tau0_(tau0), tau_(tau0) {
  if (kappa_.size() != c_.size() || kappa_.size() != x0_.size())
    throw std::invalid_argument("DiagonalLinearFlow: inconsistent sizes");
  x_star_ = c_ / kappa_;
}

void DiagonalLinearFlow::advance_to(double tau) {
  const double dt = tau - tau0_;
  if (dt < 0) throw std::invalid_argument("DiagonalLinearFlow: tau before the initial time");
  z_ = dt * kappa_;
  decay_ = (-z_).exp();
  if ((z_.abs() >= 0.5).all()) {
    // No cancellation here: x = x* + (x0 − x*) e^{−z}, one exp and one FMA per component.
    x_.array() = x_star_ + (x0_ - x_star_) * decay_;
  } else {
    // ∫_0^dt e^{−κ(dt−u)} du = dt·φ₁(z), accurate also for small or zero κ.
    phi1(z_, decay_, phi_);
    x_.array() = x0_ * decay_ + c_ * (dt * phi_);
  }
  tau_ = tau;
}

}  // namespace specbias::solver
