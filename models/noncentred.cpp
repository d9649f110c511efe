#include "models/noncentred.hpp"

#include <cmath>
#include <stdexcept>

#include "models/discrete_gd.hpp"
#include "models/pf_ode.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/diag_rank_one.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"

namespace specbias::models::noncentred {

Eigen::MatrixXd coupled_matrix(const DataMoments& data, double sigma) {
  const auto d = data.dim();
  Eigen::VectorXd mt(d + 1);
  mt.head(d) = data.mean_in_eigenbasis();
  mt(d) = 1.0;
  Eigen::MatrixXd M = mt * mt.transpose();
  M.diagonal().head(d).array() += data.eigenvalues.array() + sigma * sigma;
  return M;
}

Eigen::MatrixXd CoupledFlow::setup(const DataMoments& data, double sigma, double eta_W, double eta_b,
                                   Eigen::VectorXd& h_sqrt) {
  if (!(sigma > 0) || !(eta_W > 0) || !(eta_b > 0))
    throw std::invalid_argument("CoupledFlow: needs sigma > 0 and positive learning rates");
  const auto d = data.dim();
  const Eigen::ArrayXd lambda = data.eigenvalues.array();
  const Eigen::VectorXd m = data.mean_in_eigenbasis();
  const double s2 = sigma * sigma;
  // H^{½} M̃ H^{½} = diag(η_W(λ+σ²), 0) + z zᵀ with z = (√η_W m, √η_b).
  Eigen::VectorXd a(d + 1), z(d + 1);
  a.head(d) = eta_W * (lambda + s2).matrix();
  a(d) = 0.0;
  z.head(d) = std::sqrt(eta_W) * m;
  z(d) = std::sqrt(eta_b);
  h_sqrt.resize(d + 1);
  h_sqrt.head(d).setConstant(std::sqrt(eta_W));
  h_sqrt(d) = std::sqrt(eta_b);
  solver::DiagRankOneEigen eig = solver::diag_plus_rank_one_eigen(a, z);
  kappa_ = eig.values;
  deflated_ = eig.deflated;
  // Optimum (2.4) in the eigenbasis: W̃* = diag(λ/(λ+σ²)), b̃* = diag(σ²/(λ+σ²)) m.
  optimum_.setZero(d, d + 1);
  optimum_.diagonal() = (lambda / (lambda + s2)).matrix();
  optimum_.col(d) = (s2 / (lambda + s2)).matrix().cwiseProduct(m);
  VtH_ = eig.vectors.transpose() * h_sqrt.asDiagonal();
  return std::move(eig.vectors);
}

CoupledFlow::CoupledFlow(const DataMoments& data, double sigma, double eta_W, double eta_b,
                         const one_layer::Params& initial)
    : U_(data.eigenvectors) {
  Eigen::VectorXd h_sqrt;
  const Eigen::MatrixXd V = setup(data, sigma, eta_W, eta_b, h_sqrt);
  const auto d = data.dim();
  Eigen::MatrixXd omega0(d, d + 1);
  omega0.leftCols(d) = U_.transpose() * initial.W * U_;
  omega0.col(d) = U_.transpose() * initial.b;
  state_ = omega0;
  omega0 -= optimum_;
  P_ = omega0 * h_sqrt.cwiseInverse().asDiagonal() * V;
}

CoupledFlow::CoupledFlow(const DataMoments& data, double sigma, double eta_W, double eta_b, const Eigen::VectorXd& Q,
                         const Eigen::VectorXd& bias_eigenbasis)
    : U_(data.eigenvectors) {
  Eigen::VectorXd h_sqrt;
  const Eigen::MatrixXd V = setup(data, sigma, eta_W, eta_b, h_sqrt);
  const auto d = data.dim();
  // Ω̃(0) H^{−½} V = diag((Q − w*)/√η_W) V_{1:d} + ((b̃(0) − b̃*)/√η_b) V_{d+1}: O(d²).
  const Eigen::VectorXd weight_error = (Q - optimum_.diagonal()) / h_sqrt(0);
  const Eigen::VectorXd bias_error = (bias_eigenbasis - optimum_.col(d)) / h_sqrt(d);
  P_.noalias() = weight_error.asDiagonal() * V.topRows(d);
  P_.noalias() += bias_error * V.row(d);
  state_.setZero(d, d + 1);
  state_.diagonal() = Q;
  state_.col(d) = bias_eigenbasis;
}

void CoupledFlow::advance_to(double tau) {
  if (tau < 0) throw std::invalid_argument("CoupledFlow: tau < 0");
  Eigen::VectorXd decay;
  if (discrete_) {
    const auto n = static_cast<double>(discrete_gd::steps_for(tau));
    decay = kappa_.unaryExpr([n](double k) { return std::pow(1.0 - 2.0 * k, n); });
  } else {
    decay = (-2.0 * tau * kappa_.array()).exp().matrix();
  }
  state_ = optimum_;
  state_.noalias() += (P_ * decay.asDiagonal()) * VtH_;
}

one_layer::Params CoupledFlow::params_at(double tau) {
  advance_to(tau);
  const auto d = U_.rows();
  return {U_ * state_.leftCols(d) * U_.transpose(), U_ * state_.col(d)};
}

TwoModeRates two_mode_rates(double lambda, double m, double sigma) {
  const double a = lambda + sigma * sigma;
  const double T = 1.0 + a + m * m;
  const double kappa_plus = 0.5 * (T + std::sqrt(T * T - 4.0 * a));  // (3.9); det = λ + σ²
  return {kappa_plus, a / kappa_plus};
}

std::pair<double, double> two_mode_flow(double lambda, double m, double sigma, double eta, double tau, double w0,
                                        double b0) {
  const double a = lambda + sigma * sigma;
  const TwoModeRates r = two_mode_rates(lambda, m, sigma);
  // Eigenvector of κ_+ for [[a + m², m], [m, 1]]: angle θ with tan 2θ = 2m / (a + m² − 1).
  const double theta = 0.5 * std::atan2(2.0 * m, a + m * m - 1.0);
  const double c = std::cos(theta), s = std::sin(theta);
  const double w_star = lambda / a, b_star = sigma * sigma * m / a;
  const double ew = w0 - w_star, eb = b0 - b_star;
  const double plus = (ew * c + eb * s) * std::exp(-2.0 * eta * tau * r.kappa_plus);
  const double minus = (-ew * s + eb * c) * std::exp(-2.0 * eta * tau * r.kappa_minus);
  return {w_star + plus * c - minus * s, b_star + plus * s + minus * c};
}

namespace {
// The O(d²) aligned construction when W(0) = U diag(Q) Uᵀ, the general one otherwise.
CoupledFlow make_flow(const DenoiserProblem& p, double sigma) {
  if (p.W0_offset.size() == 0 || p.W0_offset.isZero(0.0))
    return {p.data, sigma, p.eta, p.eta, p.Q,
            p.b0.size() ? Eigen::VectorXd(p.data.eigenvectors.transpose() * p.b0) : Eigen::VectorXd::Zero(p.data.dim())};
  return {p.data, sigma, p.eta, p.initial()};
}
}  // namespace

GeneratedTrajectory closed_form_trajectory(const DenoiserProblem& p, const std::vector<double>& taus,
                                           const NestedOptions& o) {
  if (p.model.kind != ModelKind::one_layer)
    throw std::invalid_argument("the non-centred closed form (3.8) is for the one-layer model only");
  const auto d = p.data.dim();
  GeneratedTrajectory t;
  t.tau = taus;
  t.variance.setZero(static_cast<Eigen::Index>(taus.size()), d);
  t.mean.setZero(static_cast<Eigen::Index>(taus.size()), d);
  const solver::PanelGrid grid(std::log(p.range.sigma_min), std::log(p.range.sigma_max), o.panels, o.points_per_panel);
  std::vector<CoupledFlow> flows;
  flows.reserve(grid.size());
  for (double s : grid.nodes()) {
    flows.push_back(make_flow(p, std::exp(s)));
    flows.back().use_discrete_steps(p.discrete_steps);
  }
  std::vector<double> coeffs(static_cast<size_t>(o.points_per_panel));
  Eigen::MatrixXd X(d, d + 1);
  solver::run_nested(flows, taus, o.threads, [&](std::size_t j, double tau) {
    solver::OdeOptions inner = o.inner_ode;
    inner.context = "PF-ODE transport (eigenbasis, closed-form weights) at tau = " + std::to_string(tau);
    const AffineTransport tr = pf_affine_transport(
        [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
          const std::size_t first = grid.stencil(s, coeffs);
          X.setZero();
          for (size_t k = 0; k < coeffs.size(); ++k) X.noalias() += coeffs[k] * flows[first + k].state();
          W = X.leftCols(d);
          b = X.col(d);
        },
        d, p.range, inner);
    const Eigen::MatrixXd M = tr.covariance(p.range.sigma_max);  // already Uᵀ Σ̃ U
    t.variance.row(static_cast<Eigen::Index>(j)) = M.diagonal().transpose();
    t.mean.row(static_cast<Eigen::Index>(j)) = tr.c.transpose();
    t.eigenbasis_covariance.push_back(M);
    t.inner_stats += tr.stats;
    if (o.progress) o.progress(j + 1, taus.size());
  });
  t.sigma_nodes = grid.size();
  return t;
}

WeightBiasTrajectory weight_bias_closed_form(const DenoiserProblem& p, double sigma, const std::vector<double>& taus) {
  if (p.model.kind != ModelKind::one_layer)
    throw std::invalid_argument("the non-centred closed form (3.8) is for the one-layer model only");
  const auto d = p.data.dim();
  CoupledFlow flow = make_flow(p, sigma);
  flow.use_discrete_steps(p.discrete_steps);
  WeightBiasTrajectory out{Eigen::MatrixXd(static_cast<Eigen::Index>(taus.size()), d),
                           Eigen::MatrixXd(static_cast<Eigen::Index>(taus.size()), d)};
  for (size_t j = 0; j < taus.size(); ++j) {
    flow.advance_to(taus[j]);
    out.weight.row(static_cast<Eigen::Index>(j)) = flow.state().leftCols(d).diagonal().transpose();
    out.bias.row(static_cast<Eigen::Index>(j)) = flow.state().col(d).transpose();
  }
  return out;
}

WeightBiasTrajectory weight_bias_numeric(const DenoiserProblem& p, double sigma, const std::vector<double>& taus,
                                         const solver::OdeOptions& options) {
  if (p.model.kind != ModelKind::one_layer)
    throw std::invalid_argument("weight_bias_numeric: one-layer model only");
  const auto d = p.data.dim();
  const one_layer::Params init = p.initial();
  Eigen::MatrixXd X0(d, d + 1);
  X0 << init.W, init.b;
  const DataMoments* data = &p.data;
  const double eta = p.eta;
  solver::OdeOptions opt = options;
  if (opt.context.empty()) opt.context = "weight/bias gradient flow at sigma = " + std::to_string(sigma);
  solver::MatrixDenseIntegrator ode(
      [=](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
        const one_layer::Params g = one_layer::gradient(*data, sigma, {X.leftCols(d), X.col(d)});
        dX.leftCols(d) = -eta * g.W;  // (3.1) with (2.3)
        dX.col(d) = -eta * g.b;
      },
      X0, 0.0, opt);
  const Eigen::MatrixXd& U = p.data.eigenvectors;
  WeightBiasTrajectory out{Eigen::MatrixXd(static_cast<Eigen::Index>(taus.size()), d),
                           Eigen::MatrixXd(static_cast<Eigen::Index>(taus.size()), d)};
  discrete_gd::MatrixIteration steps(p.data, sigma, eta, init);  // discrete_steps: explicit (3.6) iteration
  for (size_t j = 0; j < taus.size(); ++j) {
    Eigen::MatrixXd X;
    if (p.discrete_steps) {
      steps.advance_to(taus[j]);
      X = steps.state();
    } else {
      ode.advance_to(taus[j]);
      X = ode.state();
    }
    out.weight.row(static_cast<Eigen::Index>(j)) = (U.transpose() * X.leftCols(d) * U).diagonal().transpose();
    out.bias.row(static_cast<Eigen::Index>(j)) = (U.transpose() * X.col(d)).transpose();
  }
  return out;
}

}  // namespace specbias::models::noncentred
