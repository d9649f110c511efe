#include "pipeline/loss_simulate.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "analysis/emergence.hpp"
#include "analysis/power_law.hpp"
#include "common/errors.hpp"
#include "pipeline/problem_builder.hpp"
#include "pipeline/summary_json.hpp"

namespace specbias::pipeline {

using nlohmann::json;
namespace lf = models::loss_family;

namespace {

// (11.1) per mode: continuous root finding on the closed form when it exists, else the sampled first crossing.
// v0 is the τ = 0 variance of the variant (closed form or the trajectory's first row); the target is λ_k or the
// variant's optimum variance (analysis.target = "asymptote").
std::vector<analysis::ModeEmergence> emergence_per_mode(const config::Config& c, const lf::LossSpec& spec,
                                                        const models::DenoiserProblem& p,
                                                        const models::GeneratedTrajectory& traj, bool continuous) {
  std::vector<analysis::ModeEmergence> out;
  double tau_lo = 1e-12;
  for (double t : traj.tau)
    if (t > 0) {
      tau_lo = t;
      break;
    }
  const double tau_hi = traj.tau.back();
  for (int k = 0; k < p.data.dim(); ++k) {
    const double lambda = p.data.eigenvalues(k);
    analysis::ModeEmergence m{k, lambda, 0.0, 0.0, std::nullopt, false, false};
    m.v0 = traj.tau.front() == 0.0 ? traj.variance(0, k)
                                   : lf::generated_variance_closed_form(spec, lambda, p.Q(k), p.eta, 0.0);
    m.v_target = c.analysis.target == "asymptote" ? lf::optimum_generated_variance(spec, lambda) : lambda;
    m.rising = m.v_target > m.v0;
    if (lambda > 0 && tau_hi > tau_lo) {
      m.gray = analysis::in_gray_zone(m.v0, m.v_target, c.analysis.gray_lo, c.analysis.gray_hi);
      std::optional<analysis::Emergence> e;
      if (continuous) {
        e = analysis::first_crossing_continuous(
            [&](double tau) { return lf::generated_variance_closed_form(spec, lambda, p.Q(k), p.eta, tau); }, m.v0,
            m.v_target, parse_criterion(c.analysis.criterion), tau_lo, tau_hi, c.analysis.points_per_decade);
      } else {
        std::vector<double> col(traj.tau.size());
        for (size_t j = 0; j < col.size(); ++j) col[j] = traj.variance(static_cast<Eigen::Index>(j), k);
        e = analysis::first_crossing_sampled(traj.tau, col, m.v_target, parse_criterion(c.analysis.criterion), 0.0);
      }
      if (e) m.tau_star = e->tau;
    }
    out.push_back(m);
  }
  return out;
}

std::pair<double, double> max_errors(const Eigen::MatrixXd& a, const Eigen::MatrixXd& ref) {
  const Eigen::ArrayXXd diff = (a - ref).array().abs();
  return {diff.maxCoeff(), (diff / ref.array().abs().max(1e-300)).maxCoeff()};
}

std::string loss_description(const lf::LossSpec& s) {
  switch (s.kind) {
    case lf::LossKind::edm_x: return "EDM x-prediction (2.1)";
    case lf::LossKind::edm_eps: return "EDM epsilon-prediction (2.2)";
    case lf::LossKind::vp_x: return "VP x-prediction, alpha = 1/sqrt(1+sigma^2) (2.2)";
    case lf::LossKind::vp_eps: return "VP epsilon-prediction, alpha = 1/sqrt(1+sigma^2) (2.2)";
    case lf::LossKind::vp_v: return "VP v-prediction, alpha = 1/sqrt(1+sigma^2) (2.2)";
    case lf::LossKind::flow_matching:
      return fmt::format("flow matching, t in [{:g}, {:g}] (9.1)", s.t_min, s.t_max);
  }
  return "?";
}

}  // namespace

const double kTwoLayerFlowMatchingRel = 1e-3;

bool uses_loss_family(const config::Config& c) { return c.training.loss != "edm_x"; }

lf::LossSpec loss_spec(const config::Config& c) {
  lf::LossSpec s;
  s.kind = lf::parse_loss_kind(c.training.loss);
  s.sigma = {c.sampling.sigma_min, c.sampling.sigma_max};
  s.t_min = c.sampling.t_min;
  s.t_max = c.sampling.t_max;
  return s;
}

std::vector<double> weight_levels(const config::Config& c) {
  return c.training.loss == "flow_matching" ? c.analysis.weight_t : c.analysis.weight_sigma;
}

Eigen::MatrixXd loss_family_weights_closed(const config::Config& c, const models::DenoiserProblem& p, double level,
                                           const std::vector<double>& taus) {
  return lf::weight_trajectory_closed_form(loss_spec(c), p, level, taus);
}

Eigen::MatrixXd loss_family_weights_numeric(const config::Config& c, const models::DenoiserProblem& p, double level,
                                            const std::vector<double>& taus) {
  return lf::weight_trajectory_numeric(loss_spec(c), p, level, taus, build_nested_options(c, p, false));
}

json loss_family_weight_emergence(const config::Config& c, const models::DenoiserProblem& p, double level,
                                  const std::vector<double>& taus) {
  const lf::LossSpec spec = loss_spec(c);
  double tau_lo = 1e-12;
  for (double t : taus)
    if (t > 0) {
      tau_lo = t;
      break;
    }
  std::vector<analysis::ModeEmergence> modes;
  for (int k = 0; k < p.data.dim(); ++k) {
    const double lambda = p.data.eigenvalues(k);
    analysis::ModeEmergence m{k, lambda, p.Q(k), lf::mode_optimum(spec.kind, lambda, level), std::nullopt, false, false};
    m.rising = m.v_target > m.v0;
    // Geometric/harmonic thresholds need both ends positive (flow-matching optima are negative for t < 1/(1+λ)).
    const bool positive_ok = c.analysis.criterion == "arithmetic" || (m.v0 > 0 && m.v_target > 0);
    if (lambda > 0 && m.v0 != m.v_target && positive_ok && taus.back() > tau_lo) {
      const auto e = analysis::first_crossing_continuous(
          [&](double tau) { return lf::problem_mode_weight(spec, p, k, level, tau); }, m.v0, m.v_target,
          parse_criterion(c.analysis.criterion), tau_lo, taus.back(), c.analysis.points_per_decade);
      if (e) m.tau_star = e->tau;
    }
    modes.push_back(m);
  }
  json arr = json::array();
  for (const auto& m : modes)
    arr.push_back({{"mode", m.mode}, {"lambda", m.lambda}, {"w0", m.v0}, {"w_target", m.v_target},
                   {"tau_star", m.tau_star ? json(*m.tau_star) : json(nullptr)},
                   {"branch", m.rising ? "rising" : "decaying"}});
  return {{spec.kind == lf::LossKind::flow_matching ? "t" : "sigma", level},
          {"method", "closed_form"},
          {"modes", arr},
          {"fits", fits_json(modes)}};
}

SimulationResult simulate_loss_family(const config::Config& c, const std::function<void(const std::string&)>& log_fn) {
  auto log = [&](const std::string& s) {
    if (log_fn) log_fn(s);
  };
  using clock = std::chrono::steady_clock;
  const lf::LossSpec spec = loss_spec(c);
  SimulationResult r;
  r.tau = c.training.tau;
  r.problem = build_problem(c, build_data(c));
  const auto& p = r.problem;
  // The config check covers everything it can see; a data file's empirical mean is only known now.
  const bool two_layer = p.model.kind == models::ModelKind::two_layer_symmetric;
  if ((p.model.kind != models::ModelKind::one_layer && !(two_layer && spec.kind == lf::LossKind::flow_matching)) ||
      !p.aligned())
    throw ConfigError(c.source + ": [training] loss = \"" + c.training.loss +
                      "\" needs the one-layer model with an aligned start, b(0) = 0 and zero-mean data; this problem "
                      "has " + (p.data.centred() ? std::string("a non-aligned or biased start") : "a non-zero mean") +
                      " (set [data] center = true, W0_offset = \"none\", b0 = \"zero\")");
  log(fmt::format("data: {} (d = {}, lambda in [{:.3g}, {:.3g}], zero mean)", p.data.description, p.data.dim(),
                  p.data.eigenvalues.minCoeff(), p.data.eigenvalues.maxCoeff()));
  log(std::string(two_layer ? "model: symmetric two-layer P P^T (9.7)" : "model: one-layer W x + b") +
      ", loss: " + loss_description(spec));
  r.numeric_path = "modewise";
  const bool want_closed = c.run.method != "numeric", want_numeric = c.run.method != "closed_form";
  const bool closed_exists = lf::has_closed_form(spec.kind) && !two_layer;
  json timings, validation = json::object();
  if (want_closed && closed_exists) {
    const auto t0 = clock::now();
    r.closed_form = lf::closed_form_trajectory(spec, p, r.tau);
    timings["closed_form_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    log(fmt::format("closed form: {} tau x {} modes in {:.3f} s", r.tau.size(), p.data.dim(),
                    timings["closed_form_s"].get<double>()));
  }
  if (want_closed && (c.run.quadrature || !closed_exists)) {
    const auto t1 = clock::now();
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    r.quadrature = lf::quadrature_trajectory(spec, p, r.tau, qo);
    timings["quadrature_s"] = std::chrono::duration<double>(clock::now() - t1).count();
    if (r.closed_form) {
      const auto [abs_err, rel_err] = max_errors(r.quadrature->variance, r.closed_form->variance);
      validation["quadrature_vs_closed_form"] = {{"max_abs", abs_err}, {"max_rel", rel_err},
                                                 {"tolerance_rel", c.validation.quadrature_rel}};
      log(fmt::format("sampler quadrature: max rel error vs closed form {:.2e} in {:.3f} s", rel_err,
                      timings["quadrature_s"].get<double>()));
    } else {
      log(fmt::format("sampler quadrature (no closed form for this loss): {:.3f} s", timings["quadrature_s"].get<double>()));
    }
  }
  if (want_numeric) {
    models::NestedOptions o = build_nested_options(c, p, false);
    const auto t0 = clock::now();
    log(fmt::format("numeric nested path: Rosenbrock per-mode flows at {} nodes, dopri5 sampler ODE",
                    o.panels * o.points_per_panel));
    r.numeric = lf::nested_trajectory(spec, p, r.tau, o);
    timings["numeric_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    const models::GeneratedTrajectory* ref = r.closed_form ? &*r.closed_form : r.quadrature ? &*r.quadrature : nullptr;
    if (ref) {
      const auto [abs_err, rel_err] = max_errors(r.numeric->variance, ref->variance);
      // The sampler ODE is integrated by dopri5 between interpolated nodes: held to the PF-transport tolerance.
      // Two-layer flow matching converges to max(W*_k(t), 0), which has a corner at t = 1/(1+λ_k) that the fixed
      // panel grid does not resolve (the quadrature has it as a break point): measured 4e-4 at 24 panels, 6e-6 at 48.
      const double tol = two_layer ? std::max(c.validation.pf_transition_rel, kTwoLayerFlowMatchingRel)
                                   : c.validation.pf_transition_rel;
      validation[r.closed_form ? "numeric_vs_closed_form" : "numeric_vs_quadrature"] = {
          {"max_abs", abs_err}, {"max_rel", rel_err}, {"tolerance_rel", tol}};
      log(fmt::format("numeric vs {}: max rel error {:.2e} ({:.2f} s)", r.closed_form ? "closed form" : "quadrature",
                      rel_err, timings["numeric_s"].get<double>()));
    }
  }

  json summary, emergence, fits;
  summary["config_source"] = c.source;
  summary["dimension"] = p.data.dim();
  summary["data"] = p.data.description;
  summary["numeric_path"] = want_numeric ? json(r.numeric_path) : json(nullptr);
  summary["criterion"] = c.analysis.criterion;
  summary["target"] = c.analysis.target;
  summary["loss"] = {{"kind", c.training.loss}, {"description", loss_description(spec)},
                     {"closed_form", closed_exists}};
  if (spec.kind == lf::LossKind::flow_matching) summary["loss"]["t_range"] = {spec.t_min, spec.t_max};
  if (r.closed_form) {
    const auto modes = emergence_per_mode(c, spec, p, *r.closed_form, true);
    emergence["closed_form"] = emergence_json(modes);
    fits["closed_form"] = fits_json(modes);
  }
  if (r.quadrature && !r.closed_form) {
    const auto modes = emergence_per_mode(c, spec, p, *r.quadrature, false);
    emergence["quadrature"] = emergence_json(modes);
    fits["quadrature"] = fits_json(modes);
  }
  if (r.numeric) {
    const auto modes = emergence_per_mode(c, spec, p, *r.numeric, false);
    emergence["numeric"] = emergence_json(modes);
    fits["numeric"] = fits_json(modes);
  }
  add_emergence_summary(summary, p.data.eigenvalues, emergence, fits);
  summary["model"] = {{"kind", two_layer ? "two_layer_symmetric" : "one_layer"}, {"depth", two_layer ? 2 : 1},
                      {"aligned", true},
                      {"description", std::string(two_layer ? "symmetric two-layer P P^T (9.7), " : "one-layer W x + b (3.1), ") +
                                          loss_description(spec)}};
  summary["validation"] = validation;
  summary["timings"] = timings;
  if (r.numeric)
    summary["solver_stats"] = {{"sigma_nodes", r.numeric->sigma_nodes},
                               {"outer_steps", r.numeric->outer_stats.steps},
                               {"outer_rhs_evaluations", r.numeric->outer_stats.rhs_evaluations},
                               {"inner_steps", r.numeric->inner_stats.steps},
                               {"inner_rhs_evaluations", r.numeric->inner_stats.rhs_evaluations}};
  for (const auto& [name, fit] : fits.items())
    for (const char* branch : {"rising", "decaying"})
      if (!fit[branch].is_null())
        log(fmt::format("power law ({}, {}): alpha = {:.4f}, n = {}", name, branch, fit[branch]["alpha"].get<double>(),
                        fit[branch]["n"].get<int>()));
  r.summary = summary;
  return r;
}

}  // namespace specbias::pipeline
