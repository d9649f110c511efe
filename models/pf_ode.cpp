#include "models/pf_ode.hpp"

#include <cmath>
#include <stdexcept>

#include "models/special_functions.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/nested.hpp"

namespace specbias::models {

double one_layer_initial_variance(double Q, const SamplingRange& r) {
  return std::pow(r.sigma_max, 2 * Q) * std::pow(r.sigma_min, 2 * (1 - Q));
}

double converged_generated_variance(double lambda, const SamplingRange& r) {
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  return sT * (lambda + s0) / (lambda + sT);
}

namespace {
// (4.9) for one entry, given the parts that depend on λ only (log_ratio = −ln((λ+σ_T²)/(λ+σ_0²))) and on τ only
// (c = 2ητ > 0, e1_noise = E1(cσ_T²) − E1(cσ_0²)): 2[H(σ_T) − H(σ_0)] with the E1 differences taken directly.
double variance_from_parts(double lambda, double Q, double c, double log_ratio, double e1_noise, double s0, double sT) {
  double two_dH = log_ratio - (expint_e1(c * (sT + lambda)) - expint_e1(c * (s0 + lambda)));
  const double damp = std::exp(-c * lambda);
  if (damp != 0.0 && Q != 1.0) two_dH -= (Q - 1.0) * damp * e1_noise;
  return sT * std::exp(two_dH);
}
}  // namespace

double one_layer_generated_variance(double lambda, double Q, double eta, double tau, const SamplingRange& r) {
  const double c = 2.0 * eta * tau;
  if (c == 0.0) return one_layer_initial_variance(Q, r);
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  return variance_from_parts(lambda, Q, c, -std::log((lambda + sT) / (lambda + s0)),
                             expint_e1(c * sT) - expint_e1(c * s0), s0, sT);
}

Eigen::MatrixXd one_layer_generated_variance_grid(const Eigen::VectorXd& lambda, const Eigen::VectorXd& Q, double eta,
                                                  std::span<const double> taus, const SamplingRange& r, int threads) {
  if (Q.size() != lambda.size()) throw std::invalid_argument("one_layer_generated_variance_grid: Q and lambda sizes differ");
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  const Eigen::Index d = lambda.size();
  Eigen::VectorXd log_ratio(d);
  for (Eigen::Index k = 0; k < d; ++k) log_ratio(k) = -std::log((lambda(k) + sT) / (lambda(k) + s0));
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), d);
  solver::parallel_for(taus.size(), threads, [&](std::size_t j) {
    const auto row = static_cast<Eigen::Index>(j);
    const double c = 2.0 * eta * taus[j];
    if (c == 0.0) {
      for (Eigen::Index k = 0; k < d; ++k) out(row, k) = one_layer_initial_variance(Q(k), r);
      return;
    }
    // Same terms as variance_from_parts, a row at a time: the two exponentials go through Eigen's vectorised exp
    // (within an ulp of libm's; the per-entry form's libm exp of −cλ also takes a slow underflow path at large c),
    // leaving the two E1 calls per entry as the scalar work.
    const double e1_noise = expint_e1(c * sT) - expint_e1(c * s0);
    Eigen::ArrayXd two_dH(d);
    for (Eigen::Index k = 0; k < d; ++k)
      two_dH(k) = log_ratio(k) - (expint_e1(c * (sT + lambda(k))) - expint_e1(c * (s0 + lambda(k))));
    const Eigen::ArrayXd damp = (-c * lambda.array()).exp();
    two_dH -= (Q.array() - 1.0) * damp * e1_noise;
    out.row(row) = (sT * two_dH.exp()).matrix().transpose();
  });
  return out;
}

double generated_variance_quadrature(const std::function<double(double)>& w, const SamplingRange& r,
                                     std::vector<double> breakpoints_s, const solver::QuadratureOptions& options) {
  const double s0 = std::log(r.sigma_min), sT = std::log(r.sigma_max);
  const auto res = solver::integrate([&](double s) { return w(std::exp(s)) - 1.0; }, s0, sT, std::move(breakpoints_s),
                                     options);
  return r.sigma_max * r.sigma_max * std::exp(2.0 * res.value);
}

Eigen::VectorXd generated_variance_on_grid(const solver::PanelGrid& grid, const Eigen::MatrixXd& w_at_nodes,
                                           const SamplingRange& r) {
  if (static_cast<std::size_t>(w_at_nodes.cols()) != grid.size())
    throw std::invalid_argument("generated_variance_on_grid: one column per grid node expected");
  const Eigen::Map<const Eigen::VectorXd> wts(grid.weights().data(), static_cast<Eigen::Index>(grid.size()));
  const Eigen::VectorXd integral = (w_at_nodes.array() - 1.0).matrix() * wts;
  return r.sigma_max * r.sigma_max * (2.0 * integral.array()).exp();
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
