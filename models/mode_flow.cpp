#include "models/mode_flow.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/deep_linear.hpp"
#include "models/one_layer.hpp"
#include "models/two_layer.hpp"

namespace specbias::models {

double ModeMobility::value(double w) const {
  if (beta == 0.0) return kappa;
  if (side * w < 0.0) return 0.0;
  if (beta == 1.0) return kappa * std::hypot(w, c);
  return kappa * std::pow(w * w + c * c, 0.5 * beta);
}

double ModeMobility::derivative(double w) const {
  if (beta == 0.0 || (w == 0.0 && c == 0.0) || side * w < 0.0) return 0.0;
  return kappa * beta * w * std::pow(w * w + c * c, 0.5 * beta - 1.0);
}

double mode_rhs(const ModeMobility& m, double lambda, double sigma, double eta, double w) {
  return -eta * m.value(w) * one_layer::mode_gradient(lambda, sigma, w);
}

double mode_rhs_derivative(const ModeMobility& m, double lambda, double sigma, double eta, double w) {
  return -eta * (m.derivative(w) * one_layer::mode_gradient(lambda, sigma, w) +
                 m.value(w) * one_layer::mode_hessian(lambda, sigma));
}

bool has_mode_solution(const ModeMobility& m, double Q) {
  if (m.beta == 0.0 || m.beta == 1.0) return true;
  return m.beta > 0.0 && m.c == 0.0 && Q >= 0.0;
}

double mode_weight_solution(const ModeMobility& m, double Q, double lambda, double sigma, double eta, double tau) {
  if (m.beta == 0.0) return one_layer::mode_weight(lambda, sigma, eta * m.kappa, tau, Q);  // (3.4), rate ×κ
  if (m.beta == 1.0) {
    if (m.c != 0.0) {
      // (6.4): m = κ sqrt(w² + c²) is the two-layer mobility 2 sqrt(w² + C²/4) with η → ηκ/2, C = 2c.
      const auto [p, q] = two_layer::pq_from_weight(Q, 2.0 * m.c);
      return two_layer::explicit_weight(lambda, sigma, 0.5 * eta * m.kappa, tau, p, q);
    }
    // m = κ|w|: the logistic (5.3) with 8η → 2ηκ for Q ≥ 0. For Q < 0 (two layers with b = −a) 1/w is still affine
    // in e^{−x}, x = 2ηκ s λ τ with s = sign(Q) = −1, and w decays to the fixed point 0 (the stuck case of §6.1).
    if (Q >= 0.0) return two_layer::symmetric_mode_weight(lambda, sigma, 0.25 * eta * m.kappa, tau, Q);
    const double k = -2.0 * eta * m.kappa * (lambda + sigma * sigma), x = k * lambda / (lambda + sigma * sigma) * tau;
    const double phi = x == 0.0 ? 1.0 : -std::expm1(-x) / x;
    return 1.0 / (std::exp(-x) / Q + k * tau * phi);
  }
  if (!has_mode_solution(m, Q))
    throw std::invalid_argument("mode_weight_solution: no closed or implicit solution for beta = " +
                                std::to_string(m.beta) + ", c = " + std::to_string(m.c) + ", Q = " + std::to_string(Q));
  // (6.6) for β = 2 − 2/L, (6.7) for β = 2: K = 2ηκ(λ+σ²).
  return deep::mode_weight_implicit(m.beta, lambda, sigma, 2.0 * eta * m.kappa * (lambda + sigma * sigma), Q, tau);
}

ModeFlowBatch::ModeFlowBatch(const std::vector<ModeMobility>& mobility, const Eigen::VectorXd& lambda, double sigma,
                             double eta)
    : eta_(eta) {
  const auto n = static_cast<Eigen::Index>(mobility.size());
  if (lambda.size() != n) throw std::invalid_argument("ModeFlowBatch: one mobility per mode needed");
  kappa_.resize(n);
  beta_.resize(n);
  c2_.resize(n);
  side_.resize(n);
  for (Eigen::Index k = 0; k < n; ++k) {
    const auto& m = mobility[static_cast<size_t>(k)];
    kappa_(k) = m.kappa;
    beta_(k) = m.beta;
    c2_(k) = m.c * m.c;
    side_(k) = m.side;
  }
  half_beta_m1_ = 0.5 * beta_ - 1.0;
  lambda_ = lambda.array();
  L_ = lambda_ + sigma * sigma;
  linear_ = (beta_ == 0.0).all();
  logistic_ = (beta_ == 1.0).all() && (c2_ == 0.0).all();
  power_ = !linear_ && !logistic_ && (beta_ > 1.0).all() && (c2_ == 0.0).all();
}

void ModeFlowBatch::mobility(const Eigen::ArrayXd& w, Eigen::ArrayXd& m, Eigen::ArrayXd* dm) const {
  if (linear_) {
    m = kappa_;
    if (dm) dm->setZero(w.size());
    return;
  }
  if (logistic_) {
    m = (side_ * w < 0.0).select(0.0, kappa_ * w.abs());
    if (dm) *dm = (side_ * w < 0.0).select(0.0, kappa_ * w.sign());
    return;
  }
  if (power_) {
    // m = κ|w|^β as exp(β ln|w|) (ln 0 = −inf gives 0 at the fixed point w = 0), m' = β m / w (0 at w = 0).
    // The exponential is evaluated into its own array: inside a select() Eigen falls back to scalar libm exp.
    thread_local Eigen::ArrayXd e;
    e = (beta_ * w.abs().log()).exp();
    m = kappa_ * e;
    if (dm) *dm = (w == 0.0).select(0.0, beta_ * m / w);
  } else {
    thread_local Eigen::ArrayXd r2, q;
    r2 = w.square() + c2_;
    q = (half_beta_m1_ * r2.log()).exp();  // (w² + c²)^{β/2 − 1}; +inf at w = c = 0, masked below
    m = (r2 > 0.0).select(kappa_ * q * r2, (beta_ == 0.0).select(kappa_, 0.0));
    if (dm) *dm = (r2 > 0.0).select(kappa_ * beta_ * w * q, 0.0);
  }
  // The sign restriction of ModeMobility::side: no motion on the far side of the fixed point w = 0.
  if ((side_ != 0.0).any()) {
    m = (side_ * w < 0.0).select(0.0, m);
    if (dm) *dm = (side_ * w < 0.0).select(0.0, *dm);
  }
}

void ModeFlowBatch::rhs(const Eigen::ArrayXd& w, Eigen::ArrayXd& dwdt) const {
  thread_local Eigen::ArrayXd m;
  mobility(w, m, nullptr);
  dwdt = (-2.0 * eta_) * m * (L_ * w - lambda_);
}

void ModeFlowBatch::rhs_and_derivative(const Eigen::ArrayXd& w, Eigen::ArrayXd& dwdt, Eigen::ArrayXd& dfdw) const {
  thread_local Eigen::ArrayXd m, dm, g;
  mobility(w, m, &dm);
  g = L_ * w - lambda_;
  dwdt = (-2.0 * eta_) * m * g;
  dfdw = (-2.0 * eta_) * (dm * g + m * L_);
}

}  // namespace specbias::models
