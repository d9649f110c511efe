#include "validation/validate.hpp"
#include "validation/loss_validate.hpp"

#include "validation/conv_patch_validate.hpp"
#include "validation/conv_validate.hpp"
#include "validation/rows.hpp"

#include <chrono>
#include <cmath>
#include <algorithm>
#include <fmt/format.h>

#include "models/linear_chain.hpp"
#include "models/one_layer.hpp"
#include "models/nested_paths.hpp"
#include "models/noncentred.hpp"
#include "pipeline/problem_builder.hpp"
#include "solver/dense_integrator.hpp"

namespace specbias::validation {

namespace {

using clock_type = std::chrono::steady_clock;
using models::DenoiserProblem;
namespace ol = models::one_layer;

// τ values up to the point where an explicit integrator stays affordable at this σ (stiffness ∝ λ_max + σ²).
std::vector<double> explicit_affordable_taus(const DenoiserProblem& p, double sigma, const std::vector<double>& taus) {
  const double rate = 2.0 * p.eta * (p.data.eigenvalues.maxCoeff() + sigma * sigma + p.data.mean.squaredNorm() + 1.0);
  std::vector<double> out;
  for (double t : taus)
    if (t * rate <= 3000.0) out.push_back(t);
  return out;
}

// Without a closed form for the generated law (non-aligned start or non-zero mean): the full-matrix path held
// against itself on a σ grid with twice the panels.
Row full_matrix_self_convergence(const config::Config& c, const DenoiserProblem& p) {
  models::NestedOptions coarse = pipeline::build_nested_options(c, p, true), fine = coarse;
  fine.panels *= 2;
  const auto t0 = clock_type::now();
  const auto a = models::nested_full_matrix(p, c.training.tau, coarse);
  const auto b = models::nested_full_matrix(p, c.training.tau, fine);
  return compare("generated variance, full-matrix PF (no closed form)", fmt::format("same with {} panels", fine.panels),
                 a.variance, b.variance, c.validation.pf_transition_rel, true, since(t0));
}

// Factorised kinds (§5, §6): per-mode numeric flows and the full-matrix chain flow against the closed/implicit
// per-mode solutions, conserved quantities (6.1), and every generated-variance path against the closed form (5.5)
// or, without one, the adaptive quadrature (4.4) of the per-mode solutions.
void validate_factorised(const config::Config& c, const DenoiserProblem& p, Report& rep) {
  const auto& tau = c.training.tau;
  const auto d = p.data.dim();
  const std::string kind = models::to_string(p.model.kind);
  const models::ModeMobility mob0 = p.mobility(0);
  // Rough stiffness of the full-matrix flow: the largest per-mode rate 2ηκ(λ+σ²)·max(1, |w|)^β.
  const double qmax = std::max(1.0, p.Q.cwiseAbs().maxCoeff());
  auto chain_taus = [&](double sigma, double budget) {
    const double rate = 2.0 * p.eta * mob0.kappa * (p.data.eigenvalues.maxCoeff() + sigma * sigma) * std::pow(qmax, mob0.beta);
    std::vector<double> out;
    for (double t : tau)
      if (t * rate <= budget) out.push_back(t);
    return out;
  };
  if (p.aligned()) {
    for (double sigma : c.analysis.weight_sigma) {
      // Per-mode numeric flow (bsimp on dw/dτ = −η m(w) ∂L/∂w) vs the closed/implicit solution.
      auto t0 = clock_type::now();
      models::NestedOptions o = pipeline::build_nested_options(c, p, false);
      o.outer = models::OuterMethod::bsimp;
      const Eigen::MatrixXd closed = models::weight_trajectory_closed_form(p, sigma, tau);
      const Eigen::MatrixXd numeric = models::weight_trajectory_numeric(p, sigma, tau, o);
      rep.rows.push_back(compare(fmt::format("per-mode weights at sigma={:g}, bsimp", sigma),
                                 "solution (5.3)/(6.4)/(6.6)/(6.7)", numeric, closed, c.validation.weights_abs, false,
                                 since(t0)));
      // Full-matrix chain flow (dopri5 on the layer parameters, rhs from the chain rule) vs the same solutions,
      // alignment (zero off-diagonal in the eigenbasis) and the conserved quantities along the flow.
      if (p.model.infinite_depth || d > 32) continue;
      const auto taus = chain_taus(sigma, 3000.0);
      if (taus.empty()) continue;
      t0 = clock_type::now();
      const solver::OdeOptions opt{1e-12, 1e-14, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                                   "solver.outer_max_steps", fmt::format("validation chain flow at sigma = {}", sigma)};
      const Eigen::MatrixXd theta = models::chain_parameter_trajectory(p, sigma, taus, opt);
      const models::LinearChain chain = p.chain();
      const auto& U = p.data.eigenvectors;
      Eigen::MatrixXd diag(static_cast<Eigen::Index>(taus.size()), d);
      double off = 0.0, drift = 0.0, scale = 1.0;
      const auto c0 = chain.conserved(theta.col(0));
      for (const auto& m : c0) scale = std::max(scale, m.cwiseAbs().maxCoeff());
      for (size_t j = 0; j < taus.size(); ++j) {
        const Eigen::VectorXd th = theta.col(static_cast<Eigen::Index>(j));
        const Eigen::MatrixXd M = U.transpose() * chain.effective(th) * U;
        diag.row(static_cast<Eigen::Index>(j)) = M.diagonal().transpose();
        off = std::max(off, (M - Eigen::MatrixXd(M.diagonal().asDiagonal())).cwiseAbs().maxCoeff());
        const auto cj = chain.conserved(th);
        for (size_t l = 0; l < cj.size(); ++l) drift = std::max(drift, (cj[l] - c0[l]).cwiseAbs().maxCoeff());
      }
      const double seconds = since(t0);
      const Eigen::MatrixXd closed_sub = models::weight_trajectory_closed_form(p, sigma, taus);
      rep.rows.push_back(compare(fmt::format("full-matrix {} weights at sigma={:g}", kind, sigma),
                                 fmt::format("per-mode solution, {} tau", taus.size()), diag, closed_sub, 1e-9, false,
                                 seconds));
      rep.rows.push_back(make_row(fmt::format("full-matrix alignment at sigma={:g}", sigma),
                                   "max |off-diagonal of U^T W U|", off, off, 1e-9, false, 0.0));
      if (!c0.empty())
        rep.rows.push_back(make_row(fmt::format("conserved W_l W_l^T - W_l+1^T W_l+1 (6.1), sigma={:g}", sigma),
                                     "drift along the flow / max(1, |value|)", drift / scale, drift / scale, 1e-9,
                                     true, 0.0));
    }
    // Generated variance: closed form (5.5) where it exists, else the quadrature (4.4) of the per-mode solutions.
    auto t0 = clock_type::now();
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    const auto quad = models::quadrature_trajectory(p, tau, qo);
    const double quad_s = since(t0);
    const bool closed_exists = models::has_closed_form_variance(p);
    const Eigen::MatrixXd reference = closed_exists ? models::closed_form_trajectory(p, tau).variance : quad.variance;
    const std::string ref_name = closed_exists ? "closed form (5.5)" : "quadrature (4.4) of solutions";
    if (closed_exists)
      rep.rows.push_back(compare("generated variance, quadrature (4.4)", ref_name, quad.variance, reference,
                                 c.validation.quadrature_rel, true, quad_s));
    for (const char* outer : {"solution", "rosenbrock", "bsimp", "msbdf"}) {
      models::NestedOptions o = pipeline::build_nested_options(c, p, false);
      o.outer = models::parse_outer_method(outer);
      t0 = clock_type::now();
      const auto nested = models::nested_modewise(p, tau, o);
      rep.rows.push_back(compare(fmt::format("generated variance, nested mode-wise, outer {}", outer), ref_name,
                                 nested.variance, reference, c.validation.nested_rel, true, since(t0)));
    }
    if (!p.model.infinite_depth && d <= 16) {
      const auto taus = chain_taus(c.sampling.sigma_min, 2e4);
      if (!taus.empty()) {
        models::NestedOptions o = pipeline::build_nested_options(c, p, true);
        o.outer = models::OuterMethod::dopri5;
        t0 = clock_type::now();
        const auto full = models::nested_full_matrix(p, taus, o);
        rep.rows.push_back(compare("generated variance, full-matrix PF (4.1)-(4.2)",
                                   fmt::format("{}, {} tau", ref_name, taus.size()), full.variance,
                                   reference.topRows(static_cast<Eigen::Index>(taus.size())),
                                   c.validation.pf_transition_rel, true, since(t0)));
      }
    }
    return;
  }
  // Non-aligned factorised start: no closed form; the full-matrix path against itself on a finer grid, and the
  // conserved quantities along the flow at each weight σ.
  rep.rows.push_back(full_matrix_self_convergence(c, p));
  for (double sigma : c.analysis.weight_sigma) {
    const auto taus = chain_taus(sigma, 3000.0);
    const models::LinearChain chain = p.chain();
    if (taus.empty() || chain.conserved(p.initial_parameters()).empty()) continue;
    const auto t0 = clock_type::now();
    const solver::OdeOptions opt{1e-12, 1e-14, 1e-6, static_cast<std::size_t>(c.solver.outer_max_steps),
                                 "solver.outer_max_steps", fmt::format("validation chain flow at sigma = {}", sigma)};
    const Eigen::MatrixXd theta = models::chain_parameter_trajectory(p, sigma, taus, opt);
    const auto c0 = chain.conserved(theta.col(0));
    double drift = 0.0, scale = 1.0;
    for (const auto& m : c0) scale = std::max(scale, m.cwiseAbs().maxCoeff());
    for (Eigen::Index j = 0; j < theta.cols(); ++j) {
      const auto cj = chain.conserved(theta.col(j));
      for (size_t l = 0; l < cj.size(); ++l) drift = std::max(drift, (cj[l] - c0[l]).cwiseAbs().maxCoeff());
    }
    rep.rows.push_back(make_row(fmt::format("conserved W_l W_l^T - W_l+1^T W_l+1 (6.1), sigma={:g}", sigma),
                                 fmt::format("drift over {} tau / max(1, |value|)", taus.size()), drift / scale,
                                 drift / scale, 1e-9, true, since(t0)));
  }
}

}  // namespace

Report run_validation(const config::Config& c) {
  if (c.model.kind == "conv_patch") return run_conv_patch_validation(c);  // THEORY §8 (validation/conv_patch_validate)
  if (c.model.convolutional()) return run_conv_validation(c);  // THEORY §7 (validation/conv_validate)
  if (c.training.loss != "edm_x") return run_loss_validation(c);  // loss variants (§2.2, §9): loss_validate.cpp
  Report rep;
  const DenoiserProblem p = pipeline::build_problem(c, pipeline::build_data(c));
  if (p.factorised()) {
    validate_factorised(c, p, rep);
    for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
    return rep;
  }
  const auto& tau = c.training.tau;
  const auto d = p.data.dim();
  const ol::Params init = p.initial();

  // Per-σ rates/starts (3.10)–(3.11) or discrete steps (3.6): no closed form (4.9); the adaptive quadrature (4.4)
  // of the per-mode solution against the nested mode-wise path (numeric flow or explicit steps at every node).
  if (p.sigma_scaling || (p.discrete_steps && p.aligned())) {
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    auto t0 = clock_type::now();
    const auto quad = models::quadrature_trajectory(p, tau, qo);
    const double quad_s = since(t0);
    models::NestedOptions o = pipeline::build_nested_options(c, p, false);
    o.outer = models::OuterMethod::bsimp;
    t0 = clock_type::now();
    const auto nested = models::nested_modewise(p, tau, o);
    rep.rows.push_back(compare(p.discrete_steps ? "generated variance, nested explicit GD steps (3.6)"
                                                : "generated variance, nested mode-wise with per-sigma rate, bsimp",
                               fmt::format("quadrature (4.4) ({:.2f} s)", quad_s), nested.variance, quad.variance,
                               c.validation.nested_rel, true, since(t0)));
    for (const auto& r : rep.rows) rep.all_pass = rep.all_pass && r.pass;
    return rep;
  }
  // Non-centred data: the closed-form weights (3.8) through the PF transport vs the numeric full-matrix path.
  if (!p.data.centred() && d <= 64) {
    // Numeric side: the raw flow's dense-eigendecomposition propagator in the original basis (dopri5 is
    // step-limited at σ_T for long τ; the weights alone are checked against dopri5 in row 1 and in the tests).
    models::NestedOptions o = pipeline::build_nested_options(c, p, true);
    o.outer = models::OuterMethod::exponential;
    auto t0 = clock_type::now();
    const auto closed = models::noncentred::closed_form_trajectory(p, tau, o);
    const auto numeric = models::nested_full_matrix(p, tau, o);
    rep.rows.push_back(compare("generated variance, full-matrix PF, exponential outer", "closed-form weights (3.8) + (4.1)",
                               numeric.variance, closed.variance, c.validation.pf_transition_rel, true, since(t0)));
    rep.rows.push_back(compare("generated mean, full-matrix PF, exponential outer", "closed-form weights (3.8) + (4.1)",
                               numeric.mean, closed.mean, c.validation.pf_transition_rel, false, 0.0));
  }

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
    for (const char* outer : {"exponential", "rosenbrock", "bsimp", "msbdf"}) {
      models::NestedOptions o = pipeline::build_nested_options(c, p, false);
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
      models::NestedOptions o = pipeline::build_nested_options(full_cfg, p, true);
      o.outer = models::OuterMethod::exponential;
      t0 = clock_type::now();
      const auto full = models::nested_full_matrix(p, tau, o);
      rep.rows.push_back(compare("generated variance, full-matrix PF (4.1)-(4.2)", "closed form (4.9)", full.variance,
                                 closed.variance, c.validation.pf_transition_rel, true, since(t0)));
    }
  } else {
    // No closed form for the generated law.
    rep.rows.push_back(full_matrix_self_convergence(c, p));
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
