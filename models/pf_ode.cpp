#include "models/pf_ode.hpp"

#include <cmath>
#include <stdexcept>

#include "models/special_functions.hpp"
#include "solver/dense_integrator.hpp"

namespace specbias::models {

double one_layer_initial_variance(double Q, const SamplingRange& r) {
  return std::pow(r.sigma_max, 2 * Q) * std::pow(r.sigma_min, 2 * (1 - Q));
}

double converged_generated_variance(double lambda, const SamplingRange& r) {
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  return sT * (lambda + s0) / (lambda + sT);
}

double one_layer_generated_variance(double lambda, double Q, double eta, double tau, const SamplingRange& r) {
  const double c = 2.0 * eta * tau;
  if (c == 0.0) return one_layer_initial_variance(Q, r);
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  // (4.9): 2[H(σ_T) − H(σ_0)] with the E1 differences taken directly.
  double two_dH = -std::log((lambda + sT) / (lambda + s0)) - (expint_e1(c * (sT + lambda)) - expint_e1(c * (s0 + lambda)));
  const double damp = std::exp(-c * lambda);
  if (damp != 0.0 && Q != 1.0) two_dH -= (Q - 1.0) * damp * (expint_e1(c * sT) - expint_e1(c * s0));
  return sT * std::exp(two_dH);
}

double generated_variance_quadrature(const std::function<double(double)>& w, const SamplingRange& r,
                                     std::vector<double> breakpoints_s, const solver::QuadratureOptions& options) {
  const double s0 = std::log(r.sigma_min), sT = std::log(r.sigma_max);
  const auto res = solver::integrate([&](double s) { return w(std::exp(s)) - 1.0; }, s0, sT, std::move(breakpoints_s),
                                     options);
  return r.sigma_max * r.sigma_max * std::exp(2.0 * res.value);
}

double generated_variance_on_grid(const solver::PanelGrid& grid, std::span<const double> w_at_nodes,
                                  const SamplingRange& r) {
  double integral = 0.0;
  const auto& wts = grid.weights();
  for (std::size_t i = 0; i < w_at_nodes.size(); ++i) integral += wts[i] * (w_at_nodes[i] - 1.0);
  return r.sigma_max * r.sigma_max * std::exp(2.0 * integral);
}

AffineTransport pf_affine_transport(const std::function<void(double, Eigen::MatrixXd&, Eigen::VectorXd&)>& denoiser,
                                    int dim, const SamplingRange& r, const solver::OdeOptions& options) {
  const double s0 = std::log(r.sigma_min), sT = std::log(r.sigma_max);
  Eigen::MatrixXd W(dim, dim);
  Eigen::VectorXd b(dim);
  // Augmented state Y = [A c] (d×(d+1)): dY/ds = −(W − I) Y − [0 b]   (4.2)
  Eigen::MatrixXd Y0 = Eigen::MatrixXd::Zero(dim, dim + 1);
  Y0.leftCols(dim).setIdentity();
  solver::MatrixDenseIntegrator ode(
      [&](const Eigen::Map<const Eigen::MatrixXd>& Y, Eigen::Map<Eigen::MatrixXd>& dY, double s) {
        denoiser(s, W, b);
        W.diagonal().array() -= 1.0;
        dY.noalias() = -W * Y;
        dY.col(dim) -= b;
      },
      Y0, sT, options);
  ode.advance_to(s0);
  AffineTransport out;
  out.A = ode.state().leftCols(dim);
  out.c = ode.state().col(dim);
  out.stats = ode.stats();
  return out;
}

}  // namespace specbias::models
