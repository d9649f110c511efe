#include "validation/validate.hpp"

#include <chrono>
#include <cmath>
#include <algorithm>
#include <fmt/format.h>

#include "models/one_layer.hpp"
#include "models/one_layer_nested.hpp"
#include "pipeline/problem_builder.hpp"
#include "solver/dense_integrator.hpp"

namespace specbias::validation {

namespace {

using clock_type = std::chrono::steady_clock;
using models::OneLayerProblem;
namespace ol = models::one_layer;

Row compare(const std::string& check, const std::string& ref, const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
            double tol, bool relative, double seconds) {
  Row r{check, ref};
  const Eigen::ArrayXXd diff = (a - b).array().abs();
  r.max_abs = diff.size() ? diff.maxCoeff() : 0.0;
  r.max_rel = diff.size() ? (diff / b.array().abs().max(1e-300)).maxCoeff() : 0.0;
  r.tolerance = tol;
  r.relative = relative;
  r.seconds = seconds;
  r.pass = relative ? r.max_rel <= tol : r.max_abs <= tol;
  return r;
}

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// τ values up to the point where an explicit integrator stays affordable at this σ (stiffness ∝ λ_max + σ²).
std::vector<double> explicit_affordable_taus(const OneLayerProblem& p, double sigma, const std::vector<double>& taus) {
  const double rate = 2.0 * p.eta * (p.data.eigenvalues.maxCoeff() + sigma * sigma + p.data.mean.squaredNorm() + 1.0);
  std::vector<double> out;
  for (double t : taus)
    if (t * rate <= 3000.0) out.push_back(t);
  return out;
}

}  // namespace

Report run_validation(const config::Config& c) {
  Report rep;
  const OneLayerProblem p = pipeline::build_one_layer(c, pipeline::build_data(c));
  const auto& tau = c.training.tau;
  const auto d = p.data.dim();
  const ol::Params init = p.initial();

  // 1. Weights: closed form (3.2) vs full-matrix dopri5 on the raw gradient (2.3) at each weight σ.
  if (p.data.centred()) {
    for (double sigma : c.analysis.weight_sigma) {
      const auto taus = explicit_affordable_taus(p, sigma, tau);
      if (taus.empty()) continue;
      const auto t0 = clock_type::now();
      solver::OdeOptions opt{1e-13, 1e-15, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                             "solver.outer_max_steps", fmt::format("validation flow at sigma = {}", sigma)};
      Eigen::MatrixXd X0(d, d + 1);
      X0 << init.W, init.b;
      solver::MatrixDenseIntegrator ode(
          [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
            const ol::Params g = ol::gradient(p.data, sigma, {X.leftCols(d), X.col(d)});
            dX << -p.eta * g.W, -p.eta * g.b;
          },
          X0, 0.0, opt);
      Eigen::MatrixXd numeric(static_cast<Eigen::Index>(taus.size()), d * (d + 1)),
          closed(static_cast<Eigen::Index>(taus.size()), d * (d + 1));
      double worst_increase = 0.0, prev_loss = INFINITY, excess_err = 0.0;
      for (size_t j = 0; j < taus.size(); ++j) {
        ode.advance_to(taus[j]);
        const Eigen::MatrixXd X = ode.state();
        const ol::Params cf = ol::closed_form_flow(p.data, sigma, p.eta, taus[j], init);
        Eigen::MatrixXd Xc(d, d + 1);
        Xc << cf.W, cf.b;
        numeric.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXd>(X.data(), X.size());
        closed.row(static_cast<Eigen::Index>(j)) = Eigen::Map<const Eigen::RowVectorXd>(Xc.data(), Xc.size());
        const double loss = ol::loss(p.data, sigma, {X.leftCols(d), X.col(d)});
        worst_increase = std::max(worst_increase, loss - prev_loss);
        prev_loss = loss;
        const double excess = ol::excess_loss_closed_form(p.data, sigma, p.eta, taus[j], init);
        excess_err = std::max(excess_err, std::abs(loss - ol::minimum_loss(p.data, sigma) - excess) /
                                              std::max(1.0, std::abs(loss)));
      }
      rep.rows.push_back(compare(fmt::format("weights W,b at sigma={:g} (3.2)-(3.3)", sigma),
                                 fmt::format("dopri5 on gradient (2.3), {} tau", taus.size()), numeric, closed,
                                 c.validation.weights_abs, false, since(t0)));
      Row inc{fmt::format("loss monotone along flow, sigma={:g}", sigma), "max increase between records"};
      inc.max_abs = std::max(0.0, worst_increase);
      inc.tolerance = 1e-12 * std::max(1.0, prev_loss);
      inc.relative = false;
      inc.pass = inc.max_abs <= inc.tolerance;
      rep.rows.push_back(inc);
      Row ex{fmt::format("excess loss (3.5) at sigma={:g}", sigma), "loss(numeric W) - min loss (2.5)"};
      ex.max_rel = ex.max_abs = excess_err;
      ex.tolerance = 1e-9;
      ex.pass = excess_err <= ex.tolerance;
      rep.rows.push_back(ex);
    }
  }

  // 2. Gradient vanishes at the optimum (2.4), any data mean.
  {
    double worst = 0.0;
    for (double sigma : {c.sampling.sigma_min, 0.1, 1.0, 10.0, c.sampling.sigma_max}) {
      const ol::Params g = ol::gradient(p.data, sigma, ol::optimum(p.data, sigma));
      worst = std::max({worst, g.W.cwiseAbs().maxCoeff(), g.b.cwiseAbs().maxCoeff()});
    }
    Row r{"gradient (2.3) at the optimum (2.4)", "zero, 5 sigma values"};
    r.max_abs = worst;
    r.tolerance = 1e-10 * std::max(1.0, p.data.eigenvalues.maxCoeff());
    r.relative = false;
    r.pass = worst <= r.tolerance;
    rep.rows.push_back(r);
  }

  // 3. Generated variance: every path against the closed form (aligned start, zero mean).
  if (p.aligned()) {
    const auto closed = models::closed_form_trajectory(p, tau);
    auto t0 = clock_type::now();
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    const auto quad = models::quadrature_trajectory(p, tau, qo);
    rep.rows.push_back(compare("generated variance, quadrature (4.4)", "closed form (4.9)", quad.variance,
                               closed.variance, c.validation.quadrature_rel, true, since(t0)));
    for (const char* outer : {"exponential", "bsimp", "msbdf"}) {
      models::NestedOptions o = pipeline::build_nested_options(c, false);
      o.outer = models::parse_outer_method(outer);
      t0 = clock_type::now();
      const auto nested = models::nested_modewise(p, tau, o);
      rep.rows.push_back(compare(fmt::format("generated variance, nested mode-wise, outer {}", outer),
                                 "closed form (4.9)", nested.variance, closed.variance, c.validation.nested_rel, true,
                                 since(t0)));
    }
    if (d <= 64) {
      config::Config full_cfg = c;
      full_cfg.solver.outer = "exponential";  // the full-matrix path takes exponential or dopri5 only
      models::NestedOptions o = pipeline::build_nested_options(full_cfg, true);
      o.outer = models::OuterMethod::exponential;
      t0 = clock_type::now();
      const auto full = models::nested_full_matrix(p, tau, o);
      rep.rows.push_back(compare("generated variance, full-matrix PF (4.1)-(4.2)", "closed form (4.9)", full.variance,
                                 closed.variance, c.validation.pf_transition_rel, true, since(t0)));
    }
  } else {
    // No closed form for the generated law: hold the full-matrix path against itself on a grid twice as fine.
    models::NestedOptions coarse = pipeline::build_nested_options(c, true), fine = coarse;
    fine.panels *= 2;
    auto t0 = clock_type::now();
    const auto a = models::nested_full_matrix(p, tau, coarse);
    const auto b = models::nested_full_matrix(p, tau, fine);
    rep.rows.push_back(compare("generated variance, full-matrix PF (no closed form)",
                               fmt::format("same with {} panels", fine.panels), a.variance, b.variance,
                               c.validation.pf_transition_rel, true, since(t0)));
  }
  for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
  return rep;
}

std::string format_table(const Report& rep) {
  std::string out = fmt::format("{:<55} {:<38} {:>10} {:>10} {:>10} {:>8} {:>6}\n", "check", "reference", "max abs",
                                "max rel", "tolerance", "time s", "status");
  out += std::string(143, '-') + "\n";
  for (const auto& r : rep.rows)
    out += fmt::format("{:<55} {:<38} {:>10.2e} {:>10.2e} {:>9.1e}{} {:>8.3f} {:>6}\n", r.check, r.reference, r.max_abs,
                       r.max_rel, r.tolerance, r.relative ? "r" : "a", r.seconds, r.pass ? "PASS" : "FAIL");
  out += fmt::format("{} of {} checks passed\n",
                     std::count_if(rep.rows.begin(), rep.rows.end(), [](const Row& r) { return r.pass; }),
                     rep.rows.size());
  return out;
}

}  // namespace specbias::validation
