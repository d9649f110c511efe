#include "pipeline/simulate.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fmt/format.h>

#include "analysis/alignment.hpp"
#include "analysis/divergence.hpp"
#include "analysis/emergence.hpp"
#include "analysis/power_law.hpp"
#include "common/atomic_file.hpp"
#include "common/environment.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "models/noncentred.hpp"
#include "pipeline/convolution_run.hpp"
#include "pipeline/figures.hpp"
#include "pipeline/loss_simulate.hpp"
#include "pipeline/problem_builder.hpp"
#include "pipeline/summary_json.hpp"
#include "pipeline/run_directory.hpp"

namespace specbias::pipeline {

using nlohmann::json;

namespace {

// Emergence per mode (11.1): continuous root-finding when v(τ) can be evaluated anywhere (closed form),
// otherwise the sampled estimator on the τ grid.
std::vector<analysis::ModeEmergence> emergence_per_mode(const config::Config& c, const models::DenoiserProblem& p,
                                                        const models::GeneratedTrajectory& traj, bool continuous) {
  // (4.7) is the τ = 0 variance of every family: at τ = 0 the end-to-end weight is Q at every σ.
  const auto criterion = parse_criterion(c.analysis.criterion);
  std::vector<analysis::ModeEmergence> out;
  const double tau_lo = [&] {
    for (double t : traj.tau)
      if (t > 0) return t;
    return 1e-12;
  }();
  const double tau_hi = traj.tau.back();
  const auto closed = continuous ? models::closed_form_variance(p) : std::function<double(int, double)>();
  for (int k = 0; k < p.data.dim(); ++k) {
    const double lambda = p.data.eigenvalues(k);
    analysis::ModeEmergence m;
    m.mode = k;
    m.lambda = lambda;
    m.v0 = traj.tau.front() == 0.0 ? traj.variance(0, k)
                                   : models::one_layer_initial_variance(p.Q(k), p.range);
    m.v_target = c.analysis.target == "asymptote" ? models::converged_generated_variance(lambda, p.range) : lambda;
    m.rising = m.v_target > m.v0;
    // A mode with λ_k = 0 (e.g. constant border pixels) has no emergence: reported with tau_star = null.
    if (!(lambda > 0) || !(tau_hi > tau_lo)) {
      m.gray = false;
      out.push_back(m);
      continue;
    }
    m.gray = analysis::in_gray_zone(m.v0, m.v_target, c.analysis.gray_lo, c.analysis.gray_hi);
    std::optional<analysis::Emergence> e;
    if (continuous) {
      e = analysis::first_crossing_continuous(
          [&](double tau) { return closed(k, tau); }, m.v0,
          m.v_target, criterion, tau_lo, tau_hi, c.analysis.points_per_decade);
    } else {
      std::vector<double> col(traj.tau.size());
      for (size_t j = 0; j < col.size(); ++j) col[j] = traj.variance(static_cast<Eigen::Index>(j), k);
      e = analysis::first_crossing_sampled(traj.tau, col, m.v_target, criterion, 0.0);
    }
    if (e) m.tau_star = e->tau;
    out.push_back(m);
  }
  return out;
}

std::string model_description(const models::DenoiserProblem& p) {
  const auto& m = p.model;
  switch (m.kind) {
    case models::ModelKind::one_layer: return "one-layer W x + b (3.1)";
    case models::ModelKind::two_layer_symmetric:
      return fmt::format("symmetric two-layer P P^T, hidden width {} (5.1)", p.hidden());
    case models::ModelKind::two_layer: return fmt::format("two-layer W2 W1, hidden width {} (6.1)", p.hidden());
    case models::ModelKind::deep_linear:
      if (m.infinite_depth) return "deep linear, infinite depth (6.7)";
      return fmt::format("deep linear, depth {}, {} (6.5)", m.depth,
                         m.tied ? "tied (kappa = L^2)" : fmt::format("untied (kappa = L), hidden width {}", p.hidden()));
    case models::ModelKind::deep_residual: return fmt::format("deep residual I + V, depth {} (6.8)", m.depth);
  }
  return "?";
}

json model_json(const models::DenoiserProblem& p) {
  const auto& m = p.model;
  json j{{"kind", models::to_string(m.kind)},
         {"depth", m.infinite_depth ? json("infinite") : json(m.depth)},
         {"aligned", p.aligned()},
         {"description", model_description(p)}};
  if (p.factorised()) j["hidden"] = p.hidden();
  if (m.kind == models::ModelKind::deep_linear) j["tied"] = m.tied;
  const models::ModeMobility mob = p.mobility(0);
  j["mobility"] = {{"kappa", mob.kappa}, {"beta", mob.beta}};
  return j;
}

// Weight emergence (Fig. 2A/D; (5.4)): first passage (11.1) of w_k(σ, τ) from w_k(0) = Q_k to w*_k = λ_k/(λ_k+σ²)
// with the configured criterion; continuous on the closed/implicit solution when every mode has one, sampled on the
// τ grid of the numeric weights otherwise. Modes starting at 0 (a fixed point: they never learn), at w*, or with a
// non-positive start under a geometric/harmonic criterion have no emergence time.
json weight_emergence_json(const config::Config& c, const models::DenoiserProblem& p, double sigma,
                           const Eigen::MatrixXd& w_closed, const Eigen::MatrixXd& w_numeric, const std::vector<double>& tau) {
  const auto criterion = parse_criterion(c.analysis.criterion);
  // Per-σ rates/starts and discrete steps have no mode_weight_solution in τ: use the sampled estimator.
  const bool continuous = p.aligned() && w_closed.allFinite() && !p.sigma_scaling && !p.discrete_steps;
  std::vector<analysis::ModeEmergence> modes;
  double tau_lo = 1e-12;
  for (double t : tau)
    if (t > 0) {
      tau_lo = t;
      break;
    }
  for (int k = 0; k < p.data.dim(); ++k) {
    const double lambda = p.data.eigenvalues(k);
    analysis::ModeEmergence m{k, lambda, p.Q_at(k, sigma), lambda / (lambda + sigma * sigma), std::nullopt, false, false};
    m.rising = m.v_target > m.v0;
    const bool positive_needed = c.analysis.criterion != "arithmetic";
    if (lambda > 0 && m.v0 != m.v_target && (!positive_needed || m.v0 > 0) && tau.back() > tau_lo) {
      std::optional<analysis::Emergence> e;
      if (continuous) {
        const models::ModeMobility mob = p.mobility(k);
        e = analysis::first_crossing_continuous(
            [&](double t) { return models::mode_weight_solution(mob, p.Q(k), lambda, sigma, p.eta, t); }, m.v0,
            m.v_target, criterion, tau_lo, tau.back(), c.analysis.points_per_decade);
      } else {
        std::vector<double> col(tau.size());
        for (size_t j = 0; j < tau.size(); ++j) col[j] = w_numeric(static_cast<Eigen::Index>(j), k);
        if (tau.front() == 0.0) e = analysis::first_crossing_sampled(tau, col, m.v_target, criterion, 0.0);
      }
      if (e) m.tau_star = e->tau;
    }
    modes.push_back(m);
  }
  json arr = json::array();
  for (const auto& m : modes)
    arr.push_back({{"mode", m.mode}, {"lambda", m.lambda}, {"w0", m.v0}, {"w_target", m.v_target},
                   {"tau_star", m.tau_star ? json(*m.tau_star) : json(nullptr)},
                   {"branch", m.rising ? "rising" : "decaying"}});
  return {{"sigma", sigma}, {"method", continuous ? "closed_form" : "numeric"}, {"modes", arr}, {"fits", fits_json(modes)}};
}

std::pair<double, double> max_errors(const Eigen::MatrixXd& a, const Eigen::MatrixXd& ref) {
  const Eigen::ArrayXXd diff = (a - ref).array().abs();
  return {diff.maxCoeff(), (diff / ref.array().abs().max(1e-300)).maxCoeff()};
}

// KL(generated || data) per τ: per-mode (10.2) for aligned trajectories, full (10.1) from the eigenbasis
// covariance when the full-matrix path provides it.
std::vector<double> kl_series(const models::DenoiserProblem& p, const models::GeneratedTrajectory& t) {
  std::vector<double> kl(t.tau.size(), std::numeric_limits<double>::quiet_NaN());
  const Eigen::VectorXd m_data = p.data.mean_in_eigenbasis();
  const bool positive = (p.data.eigenvalues.array() > 0).all();
  if (!positive) return kl;
  for (size_t j = 0; j < t.tau.size(); ++j) {
    const auto jj = static_cast<Eigen::Index>(j);
    if (!t.eigenbasis_covariance.empty()) {
      kl[j] = analysis::kl_gaussian(t.mean.row(jj).transpose(), t.eigenbasis_covariance[j], m_data,
                                    Eigen::MatrixXd(p.data.eigenvalues.asDiagonal()));
    } else {
      kl[j] = analysis::kl_per_mode(t.variance.row(jj).transpose(), p.data.eigenvalues).sum();
    }
  }
  return kl;
}

// Non-zero data mean: mean.csv (generated mean per τ in the eigenbasis, both paths) and weight_bias.csv (the
// diagonal of Uᵀ W U and Uᵀ b per σ in analysis.weight_sigma, closed form (3.8) and dopri5 on (2.3); Fig. 21).
void write_noncentred_outputs(const config::Config& c, const SimulationResult& r, const std::filesystem::path& out) {
  const auto& p = r.problem;
  const auto d = p.data.dim();
  const Eigen::VectorXd m = p.data.mean_in_eigenbasis();
  write_file_atomically(out / "mean.csv", [&](std::ostream& os) {
    os << "tau,mode,data_mean,mean_closed_form,mean_numeric\n";
    os.precision(17);
    for (size_t j = 0; j < r.tau.size(); ++j)
      for (int k = 0; k < d; ++k) {
        const auto jj = static_cast<Eigen::Index>(j);
        os << r.tau[j] << "," << k << "," << m(k) << "," << (r.closed_form ? r.closed_form->mean(jj, k) : NAN) << ","
           << (r.numeric ? r.numeric->mean(jj, k) : NAN) << "\n";
      }
  });
  if (p.model.kind != models::ModelKind::one_layer) return;
  const solver::OdeOptions opt{c.solver.outer_rtol, c.solver.outer_atol, 1e-6,
                               static_cast<std::size_t>(c.solver.outer_max_steps), "solver.outer_max_steps", ""};
  write_file_atomically(out / "weight_bias.csv", [&](std::ostream& os) {
    os << "sigma,tau,mode,lambda,data_mean,weight_closed_form,weight_numeric,bias_closed_form,bias_numeric\n";
    os.precision(17);
    for (double sigma : c.analysis.weight_sigma) {
      const auto closed = models::noncentred::weight_bias_closed_form(p, sigma, r.tau);
      const auto numeric = models::noncentred::weight_bias_numeric(p, sigma, r.tau, opt);
      for (size_t j = 0; j < r.tau.size(); ++j)
        for (int k = 0; k < d; ++k) {
          const auto jj = static_cast<Eigen::Index>(j);
          os << sigma << "," << r.tau[j] << "," << k << "," << p.data.eigenvalues(k) << "," << m(k) << ","
             << closed.weight(jj, k) << "," << numeric.weight(jj, k) << "," << closed.bias(jj, k) << ","
             << numeric.bias(jj, k) << "\n";
        }
    }
  });
}

}  // namespace

SimulationResult simulate(const config::Config& c, const std::function<void(const std::string&)>& log_fn) {
  auto log = [&](const std::string& s) {
    if (log_fn) log_fn(s);
  };
  // Convolutional kinds run as their per-Fourier-mode problem (THEORY (7.7), (7.9); pipeline/convolution_run).
  if (c.model.convolutional()) return simulate(fourier_mode_config(c, build_convolution(c)), log_fn);
  using clock = std::chrono::steady_clock;
  if (uses_loss_family(c)) return simulate_loss_family(c, log_fn);  // loss variants (§2.2, §9): pipeline/loss_simulate
  SimulationResult r;
  r.tau = c.training.tau;
  r.problem = build_problem(c, build_data(c));
  const auto& p = r.problem;
  log(fmt::format("data: {} (d = {}, lambda in [{:.3g}, {:.3g}], {})", p.data.description, p.data.dim(),
                  p.data.eigenvalues.minCoeff(), p.data.eigenvalues.maxCoeff(),
                  p.data.centred() ? "zero mean" : "non-zero mean"));
  log("model: " + model_description(p));
  const bool full = use_full_matrix(c, p);
  if (full && c.run.method != "closed_form" && p.data.dim() > 256)
    throw ConfigError(c.source + ": the full-matrix numeric path (non-aligned start or non-zero mean) is limited to "
                      "d <= 256 (memory: one d×(d+1) state per sigma node), but d = " + std::to_string(p.data.dim()) +
                      "; centre the data ([data] center = true), use an aligned start, or reduce the dimension");
  r.numeric_path = full ? "full_matrix" : "modewise";
  const bool want_closed = c.run.method != "numeric", want_numeric = c.run.method != "closed_form";
  const bool closed_exists = models::has_closed_form_variance(p);
  const std::string closed_label = p.model.kind == models::ModelKind::one_layer ? "(4.9)" : "(5.5)";
  json timings, validation = json::object();

  // One layer on non-centred data: closed-form weights (3.8) at every σ node, generated law through (4.1)–(4.2).
  const bool noncentred_closed =
      want_closed && p.model.kind == models::ModelKind::one_layer && !p.data.centred();
  if (noncentred_closed) {
    if (p.data.dim() > 256)
      throw ConfigError(c.source + ": the non-centred closed-form path (one d×(d+1) weight state per sigma node) is "
                        "limited to d <= 256, but d = " + std::to_string(p.data.dim()) +
                        "; centre the data ([data] center = true) or reduce the dimension");
    const auto t0 = clock::now();
    r.closed_form = models::noncentred::closed_form_trajectory(p, r.tau, build_nested_options(c, p, true));
    timings["closed_form_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    log(fmt::format("closed-form weights (3.8) + PF transport (4.1)-(4.2): {} tau x {} modes in {:.3f} s",
                    r.tau.size(), p.data.dim(), timings["closed_form_s"].get<double>()));
  } else if (want_closed && p.aligned()) {
    if (closed_exists) {
      const auto t0 = clock::now();
      r.closed_form = models::closed_form_trajectory(p, r.tau);
      timings["closed_form_s"] = std::chrono::duration<double>(clock::now() - t0).count();
      log(fmt::format("closed form {}: {} tau x {} modes in {:.3f} s", closed_label, r.tau.size(), p.data.dim(),
                      timings["closed_form_s"].get<double>()));
    } else if (!c.run.quadrature && !want_numeric) {
      throw ConfigError(c.source + ": [run] method: \"closed_form\" with kind = \"" + c.model.kind +
                        "\" has no closed form for the generated variance; its semi-analytic path is the quadrature "
                        "(4.4) of the per-mode solutions: set run.quadrature = true, or method = \"numeric\"/\"both\"");
    }
    if (c.run.quadrature) {
      const auto t1 = clock::now();
      solver::QuadratureOptions qo;
      qo.rel_tol = c.solver.quadrature_rtol;
      r.quadrature = models::quadrature_trajectory(p, r.tau, qo);
      timings["quadrature_s"] = std::chrono::duration<double>(clock::now() - t1).count();
      if (r.closed_form) {
        const auto [abs_err, rel_err] = max_errors(r.quadrature->variance, r.closed_form->variance);
        validation["quadrature_vs_closed_form"] = {{"max_abs", abs_err}, {"max_rel", rel_err},
                                                   {"tolerance_rel", c.validation.quadrature_rel},
                                                   {"evaluations", r.quadrature->quadrature_evaluations}};
        log(fmt::format("adaptive quadrature (4.4): max rel error vs closed form {:.2e} in {:.3f} s", rel_err,
                        timings["quadrature_s"].get<double>()));
      } else {
        log(fmt::format("adaptive quadrature (4.4) of the per-mode solutions: {} tau x {} modes in {:.3f} s",
                        r.tau.size(), p.data.dim(), timings["quadrature_s"].get<double>()));
      }
    }
  } else if (want_closed && !want_numeric) {
    throw ConfigError(c.source + ": [run] method: \"closed_form\" needs an aligned start (W0_offset = \"none\", "
                      "b0 = \"zero\") and zero-mean data; this problem has no closed form, use \"numeric\" or \"both\"");
  } else if (want_closed) {
    log("closed forms need an aligned start and zero-mean data: only the numeric path runs");
  }

  if (want_numeric) {
    models::NestedOptions o = build_nested_options(c, p, full);
    std::size_t last_pct = 0;
    o.progress = [&](std::size_t done, std::size_t total) {
      const std::size_t pct = 100 * done / total;
      if (pct >= last_pct + 10 || done == total) {
        last_pct = pct;
        log(fmt::format("  numeric {} path: {}/{} tau ({}%)", r.numeric_path, done, total, pct));
      }
    };
    const auto t0 = clock::now();
    log(fmt::format("numeric nested path: {} with outer integrator '{}', {} sigma nodes", r.numeric_path,
                    models::to_string(o.outer), o.panels * o.points_per_panel));
    r.numeric = full ? models::nested_full_matrix(p, r.tau, o) : models::nested_modewise(p, r.tau, o);
    timings["numeric_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    const models::GeneratedTrajectory* ref = r.closed_form ? &*r.closed_form : r.quadrature ? &*r.quadrature : nullptr;
    if (ref) {
      const std::string name = r.closed_form ? "closed form" : "quadrature (4.4)";
      const auto [abs_err, rel_err] = max_errors(r.numeric->variance, ref->variance);
      validation[r.closed_form ? "numeric_vs_closed_form" : "numeric_vs_quadrature"] = {
          {"max_abs", abs_err},
          {"max_rel", rel_err},
          {"tolerance_rel", full ? c.validation.pf_transition_rel : c.validation.nested_rel}};
      log(fmt::format("numeric vs {}: max rel error {:.2e} ({:.2f} s)", name, rel_err,
                      timings["numeric_s"].get<double>()));
      if (noncentred_closed) {
        // Generated mean (4.1): absolute error against the scale of the data mean.
        const double scale = std::max(1.0, p.data.mean_in_eigenbasis().cwiseAbs().maxCoeff());
        const double mean_err = (r.numeric->mean - ref->mean).cwiseAbs().maxCoeff();
        validation["numeric_mean_vs_closed_form"] = {{"max_abs", mean_err},
                                                     {"tolerance_abs", c.validation.pf_transition_rel * scale}};
        log(fmt::format("numeric vs closed form: generated mean max abs error {:.2e}", mean_err));
      }
    } else {
      log(fmt::format("numeric path done in {:.2f} s", timings["numeric_s"].get<double>()));
    }
  }

  // Analysis: emergence times, fits (11.1)–(11.4), KL (10.1)–(10.2), alignment (11.2).
  json summary;
  summary["config_source"] = c.source;
  summary["dimension"] = p.data.dim();
  summary["data"] = p.data.description;
  summary["numeric_path"] = want_numeric ? json(r.numeric_path) : json(nullptr);
  summary["criterion"] = c.analysis.criterion;
  summary["target"] = c.analysis.target;
  json emergence, fits;
  std::vector<analysis::ModeEmergence> primary;
  if (r.closed_form) {
    primary = emergence_per_mode(c, p, *r.closed_form, closed_exists);
    emergence["closed_form"] = emergence_json(primary);
    fits["closed_form"] = fits_json(primary);
  }
  if (r.quadrature && !r.closed_form) {
    // No closed form: the semi-analytic quadrature is the reference, with the sampled estimator on the τ grid.
    const auto modes = emergence_per_mode(c, p, *r.quadrature, false);
    emergence["quadrature"] = emergence_json(modes);
    fits["quadrature"] = fits_json(modes);
    if (primary.empty()) primary = modes;
  }
  if (r.numeric) {
    const auto modes = emergence_per_mode(c, p, *r.numeric, false);
    emergence["numeric"] = emergence_json(modes);
    fits["numeric"] = fits_json(modes);
    if (primary.empty()) primary = modes;
  }
  add_emergence_summary(summary, p.data.eigenvalues, emergence, fits);
  summary["model"] = model_json(p);
  summary["validation"] = validation;
  summary["timings"] = timings;
  if (r.numeric) {
    summary["solver_stats"] = {{"sigma_nodes", r.numeric->sigma_nodes},
                               {"outer_steps", r.numeric->outer_stats.steps},
                               {"outer_rhs_evaluations", r.numeric->outer_stats.rhs_evaluations},
                               {"inner_steps", r.numeric->inner_stats.steps},
                               {"inner_rhs_evaluations", r.numeric->inner_stats.rhs_evaluations}};
  }
  for (const auto& [name, fit] : fits.items()) {
    for (const char* branch : {"rising", "decaying"}) {
      if (!fit[branch].is_null())
        log(fmt::format("power law ({}, {}): alpha = {:.4f}, R^2 = {}, n = {}", name, branch,
                        fit[branch]["alpha"].get<double>(),
                        fit[branch]["r2"].is_null() ? std::string("n/a") : fmt::format("{:.4f}", fit[branch]["r2"].get<double>()),
                        fit[branch]["n"].get<int>()));
    }
  }
  r.summary = summary;
  return r;
}

SimulationResult simulate_to_directory(const config::Config& c, const std::filesystem::path& out, bool quiet) {
  if (c.model.convolutional()) return simulate_convolution_to_directory(c, out, quiet);
  auto logger = open_run_log(out, "specbias", quiet, true);

  // Inputs first: whatever happens later, the run directory says what was asked for and on what.
  write_run_inputs(out, "specbias", c.source, c.to_toml());
  logger->info("specbias simulate {} -> {}", c.source, out.string());

  SimulationResult r = simulate(c, [&](const std::string& s) { logger->info("{}", s); });
  const auto& p = r.problem;
  const auto d = p.data.dim();

  // variance.csv (long format) and the matching NumPy arrays.
  write_file_atomically(out / "variance.csv", [&](std::ostream& os) {
    os << "tau,mode,lambda";
    if (r.closed_form) os << ",variance_closed_form";
    if (r.numeric) os << ",variance_numeric";
    if (r.quadrature) os << ",variance_quadrature";
    if (r.numeric && !r.numeric->eigenbasis_covariance.empty()) os << ",mean_numeric";
    os << "\n";
    os.precision(17);
    for (size_t j = 0; j < r.tau.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      for (int k = 0; k < d; ++k) {
        os << r.tau[j] << "," << k << "," << p.data.eigenvalues(k);
        if (r.closed_form) os << "," << r.closed_form->variance(jj, k);
        if (r.numeric) os << "," << r.numeric->variance(jj, k);
        if (r.quadrature) os << "," << r.quadrature->variance(jj, k);
        if (r.numeric && !r.numeric->eigenbasis_covariance.empty()) os << "," << r.numeric->mean(jj, k);
        os << "\n";
      }
    }
  });
  if (c.output.npy) {
    write_npy(out / "tau.npy", r.tau.data(), {r.tau.size()});
    write_npy(out / "lambda.npy", Eigen::VectorXd(p.data.eigenvalues));
    if (r.closed_form) write_npy(out / "variance_closed_form.npy", r.closed_form->variance);
    if (r.numeric) write_npy(out / "variance_numeric.npy", r.numeric->variance);
    if (r.quadrature) write_npy(out / "variance_quadrature.npy", r.quadrature->variance);
  }

  if (!p.data.centred()) write_noncentred_outputs(c, r, out);

  // Weights per mode at the requested σ (Fig. 2A): closed form and numeric outer flow.
  const models::NestedOptions wopt = build_nested_options(c, p, use_full_matrix(c, p));
  std::vector<Eigen::MatrixXd> w_closed, w_numeric;
  write_file_atomically(out / "weights.csv", [&](std::ostream& os) {
    os << (c.training.loss == "flow_matching" ? "t" : "sigma") << ",tau,mode,lambda,weight_closed_form,weight_numeric\n";
    os.precision(17);
    for (double sigma : weight_levels(c)) {
      if (uses_loss_family(c)) {  // the variant's own weights (t for flow matching)
        w_closed.push_back(loss_family_weights_closed(c, p, sigma, r.tau));
        w_numeric.push_back(loss_family_weights_numeric(c, p, sigma, r.tau));
      } else {
      // NaN where no formula covers the start (μ ≠ 0, or a non-aligned factorised start).
      w_closed.push_back(models::weight_trajectory_closed_form(p, sigma, r.tau));
      w_numeric.push_back(models::weight_trajectory_numeric(p, sigma, r.tau, wopt));
      }
      for (size_t j = 0; j < r.tau.size(); ++j)
        for (int k = 0; k < d; ++k)
          os << sigma << "," << r.tau[j] << "," << k << "," << p.data.eigenvalues(k) << ","
             << w_closed.back()(static_cast<Eigen::Index>(j), k) << "," << w_numeric.back()(static_cast<Eigen::Index>(j), k)
             << "\n";
    }
  });
  json weight_emergence = json::array();
  for (size_t i = 0; i < w_closed.size(); ++i) {
    if (uses_loss_family(c)) {
      weight_emergence.push_back(loss_family_weight_emergence(c, p, weight_levels(c)[i], r.tau));
      continue;
    }
    weight_emergence.push_back(weight_emergence_json(c, p, c.analysis.weight_sigma[i], w_closed[i], w_numeric[i], r.tau));
    for (const char* branch : {"rising", "decaying"}) {
      const json& f = weight_emergence.back()["fits"][branch];
      if (!f.is_null())
        logger->info("weight emergence at sigma = {} ({}, {}, {}): alpha = {:.4f}, prefactor = {:.6g}, n = {}",
                     c.analysis.weight_sigma[i], weight_emergence.back()["method"].get<std::string>(), c.analysis.criterion,
                     branch, f["alpha"].get<double>(), f["prefactor"].get<double>(), f["n"].get<int>());
    }
  }
  r.summary["weight_emergence"] = weight_emergence;
  bool any_closed_weight = false;
  for (const auto& w : w_closed) any_closed_weight = any_closed_weight || w.allFinite();
  if (any_closed_weight) {
    double weight_err = 0.0;
    for (size_t i = 0; i < w_closed.size(); ++i)
      if (w_closed[i].allFinite()) weight_err = std::max(weight_err, (w_closed[i] - w_numeric[i]).cwiseAbs().maxCoeff());
    r.summary["validation"]["weights_numeric_vs_closed_form"] = {{"max_abs", weight_err},
                                                                 {"tolerance_abs", c.validation.weights_abs}};
    logger->info("weights at {} in [{}]: numeric vs closed form max abs error {:.2e}",
                 c.training.loss == "flow_matching" ? "t" : "sigma", fmt::join(weight_levels(c), ", "), weight_err);
  }

  // KL divergence and alignment per τ.
  std::vector<double> kl_closed, kl_numeric, align;
  if (r.closed_form) kl_closed = kl_series(p, *r.closed_form);
  if (r.numeric) kl_numeric = kl_series(p, *r.numeric);
  if (r.numeric && !r.numeric->eigenbasis_covariance.empty())
    for (const auto& M : r.numeric->eigenbasis_covariance)
      align.push_back(analysis::alignment_score(M, Eigen::MatrixXd::Identity(d, d)));
  write_file_atomically(out / "kl.csv", [&](std::ostream& os) {
    os << "tau,kl_closed_form,kl_numeric,alignment_numeric\n";
    os.precision(17);
    for (size_t j = 0; j < r.tau.size(); ++j) {
      os << r.tau[j] << "," << (kl_closed.empty() ? NAN : kl_closed[j]) << ","
         << (kl_numeric.empty() ? NAN : kl_numeric[j]) << "," << (align.empty() ? NAN : align[j]) << "\n";
    }
  });
  if (!kl_closed.empty()) r.summary["kl_final_closed_form"] = kl_closed.back();
  if (!kl_numeric.empty()) r.summary["kl_final_numeric"] = kl_numeric.back();
  if (!align.empty()) r.summary["alignment_final_numeric"] = align.back();

  // Validation verdicts.
  bool ok = true;
  for (auto& [name, v] : r.summary["validation"].items()) {
    const bool pass = v.contains("tolerance_rel") ? v["max_rel"].get<double>() <= v["tolerance_rel"].get<double>()
                                                  : v["max_abs"].get<double>() <= v["tolerance_abs"].get<double>();
    v["pass"] = pass;
    ok = ok && pass;
  }
  r.summary["validation_pass"] = ok;
  r.summary["environment"] = environment_info();
  write_text_atomically(out / "summary.json", r.summary.dump(2) + "\n");

  if (c.output.figures) {
    const FigureReport figs = write_figures(out, r, w_closed, w_numeric, weight_levels(c), kl_closed, kl_numeric);
    for (const auto& msg : figs.messages) logger->info("{}", msg);
  }
  logger->info("done: results in {}", out.string());
  spdlog::drop("specbias");
  return r;
}

}  // namespace specbias::pipeline
