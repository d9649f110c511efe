#include "validation/loss_validate.hpp"
#include "validation/rows.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "models/loss_family.hpp"
#include "pipeline/loss_simulate.hpp"
#include "pipeline/problem_builder.hpp"
#include "solver/dense_integrator.hpp"

namespace specbias::validation {

namespace {
namespace lf = models::loss_family;
namespace ol = models::one_layer;
using clock_type = std::chrono::steady_clock;

}  // namespace

Report run_loss_validation(const config::Config& c) {
  Report rep;
  const lf::LossSpec spec = pipeline::loss_spec(c);
  const std::string name = c.training.loss;
  const models::DenoiserProblem p = pipeline::build_problem(c, pipeline::build_data(c));
  const auto d = p.data.dim();
  const ol::Params init = p.initial();

  // 1. Weights at each recorded level: (3.2) with the rates of (2.9) vs explicit dopri5 on the raw gradient (2.8).
  //    dopri5 is explicit, so only τ with 2ητ·max rate ≤ 1e5 are integrated (THEORY §15: the flow is stiff).
  const bool two_layer = lf::two_layer_flow_matching(spec, p);
  for (double level : pipeline::weight_levels(c)) {
    if (two_layer) break;  // the full-matrix flow below is the one-layer gradient (2.8); (9.7) is checked per mode
    double max_rate = 0.0;
    for (int k = 0; k < d; ++k) max_rate = std::max(max_rate, lf::mode_quadratic(spec.kind, p.data.eigenvalues(k), level).r);
    std::vector<double> taus;
    for (double t : c.training.tau)
      if (2 * p.eta * t * max_rate <= 1e5) taus.push_back(t);
    if (taus.empty()) continue;
    const auto t0 = clock_type::now();
    solver::OdeOptions opt{1e-13, 1e-15, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                           "solver.outer_max_steps", fmt::format("validation flow of loss {} at level {}", name, level)};
    Eigen::MatrixXd X0(d, d + 1);
    X0 << init.W, init.b;
    solver::MatrixDenseIntegrator ode(
        [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
          const ol::Params g = lf::gradient(p.data, spec.kind, level, {X.leftCols(d), X.col(d)});
          dX << -p.eta * g.W, -p.eta * g.b;
        },
        X0, 0.0, opt);
    Eigen::MatrixXd numeric(static_cast<Eigen::Index>(taus.size()), d * (d + 1)), closed = numeric;
    for (size_t j = 0; j < taus.size(); ++j) {
      ode.advance_to(taus[j]);
      const Eigen::MatrixXd X = ode.state();
      const ol::Params cf = lf::closed_form_flow(p.data, spec.kind, level, p.eta, taus[j], init);
      Eigen::MatrixXd Xc(d, d + 1);
      Xc << cf.W, cf.b;
      numeric.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXd>(X.data(), X.size());
      closed.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXd>(Xc.data(), Xc.size());
    }
    rep.rows.push_back(compare(fmt::format("{} weights at level {:g} (3.2),(2.9)", name, level),
                               fmt::format("dopri5 on gradient (2.8), {} tau", taus.size()), numeric, closed,
                               c.validation.weights_abs, false, since(t0)));
  }

  // 2. Optimum (2.9): zero gradient, and the loss there equals the per-mode minimum loss (2.10).
  {
    const auto t0 = clock_type::now();
    double grad = 0.0, min_err = 0.0;
    const std::vector<double> levels = lf::uses_sigma(spec.kind)
                                           ? std::vector<double>{c.sampling.sigma_min, 0.1, 1.0, 10.0, c.sampling.sigma_max}
                                           : std::vector<double>{0.0, 0.1, 0.5, 0.9, 1.0};
    for (double level : levels) {
      const ol::Params opt = lf::optimum(p.data, spec.kind, level);
      const ol::Params g = lf::gradient(p.data, spec.kind, level, opt);
      grad = std::max(grad, std::max(g.W.cwiseAbs().maxCoeff(), g.b.cwiseAbs().maxCoeff()) / (1.0 + level * level));
      double per_mode = 0.0;
      for (int k = 0; k < d; ++k) per_mode += lf::mode_minimum_loss(spec.kind, p.data.eigenvalues(k), level);
      min_err = std::max(min_err, std::abs(lf::loss(p.data, spec.kind, level, opt) - per_mode) / std::max(1.0, per_mode));
    }
    rep.rows.push_back(make_row(fmt::format("{} gradient at optimum (2.9)", name), "0 (per 1+level^2)", grad, grad, 1e-10,
                              false, since(t0)));
    rep.rows.push_back(make_row(fmt::format("{} loss at optimum", name), "per-mode minimum loss (2.10)", min_err, min_err,
                              1e-10, true, 0.0));
  }

  // 3. Generated variance: closed form vs sampler quadrature, numeric nested path vs the reference, optimum.
  const auto& tau = c.training.tau;
  std::optional<models::GeneratedTrajectory> closed;
  auto t0 = clock_type::now();
  solver::QuadratureOptions qo;
  qo.rel_tol = c.solver.quadrature_rtol;
  const auto quad = lf::quadrature_trajectory(spec, p, tau, qo);
  const double quad_s = since(t0);
  if (lf::has_closed_form(spec.kind) && !two_layer) {
    closed = lf::closed_form_trajectory(spec, p, tau);
    rep.rows.push_back(compare(fmt::format("{} variance closed form", name), "sampler quadrature", closed->variance,
                               quad.variance, c.validation.quadrature_rel, true, quad_s));
  }
  t0 = clock_type::now();
  const auto numeric = lf::nested_trajectory(spec, p, tau, pipeline::build_nested_options(c, p, false));
  rep.rows.push_back(compare(fmt::format("{} variance numeric nested", name),
                             closed ? "closed form" : "sampler quadrature", numeric.variance,
                             closed ? closed->variance : quad.variance,
                             two_layer ? std::max(c.validation.pf_transition_rel, pipeline::kTwoLayerFlowMatchingRel)
                                       : c.validation.pf_transition_rel,
                             true, since(t0)));
  t0 = clock_type::now();
  Eigen::MatrixXd at_opt(1, d), documented(1, d);
  for (int k = 0; k < d; ++k) {
    const double lambda = p.data.eigenvalues(k);
    at_opt(0, k) = lf::generated_variance_quadrature(spec, [&](double nu) { return lf::mode_optimum(spec.kind, lambda, nu); },
                                                     {}, qo);
    documented(0, k) = lf::optimum_generated_variance(spec, lambda);
  }
  rep.rows.push_back(compare(fmt::format("{} sampler at the optimum", name), "(4.8) / (9.5)", at_opt, documented,
                             c.validation.quadrature_rel, true, since(t0)));
  for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
  return rep;
}

}  // namespace specbias::validation
