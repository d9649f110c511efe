#include "pipeline/problem_builder.hpp"

#include <cmath>
#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/data_files.hpp"
#include "models/data_sources.hpp"
#include "models/deep_linear.hpp"
#include "models/discrete_gd.hpp"
#include "models/reparametrisation.hpp"
#include "models/splitmix64.hpp"

namespace specbias::pipeline {

using models::DataMoments;

namespace {
Eigen::MatrixXd make_basis(const std::string& basis, Eigen::Index d, long long seed) {
  if (basis == "dct") return models::dct2_basis(d);
  if (basis == "random") {
    models::SplitMix64 rng(static_cast<std::uint64_t>(seed));
    return models::random_orthogonal(d, rng);
  }
  return Eigen::MatrixXd::Identity(d, d);
}
Eigen::VectorXd to_vector(const std::vector<double>& v) { return Eigen::Map<const Eigen::VectorXd>(v.data(), v.size()); }
}  // namespace

// Re-parametrisation / per-σ η (3.10)–(3.11) and discrete gradient descent (3.6), with their data-dependent checks.
static void add_rate_options(const config::Config& c, models::DenoiserProblem& p) {
  namespace rp = models::reparametrisation;
  const auto& t = c.training;
  p.sigma_scaling = rp::make_sigma_scaling(rp::parse_parametrisation(c.model.parametrisation),
                                           rp::parse_eta_weighting(t.eta_weighting), {t.sigma_data, t.p_mean, t.p_std});
  if (p.sigma_scaling && !p.data.centred())
    throw ConfigError(c.source + ": [model] parametrisation = \"" + c.model.parametrisation +
                      "\", [training] eta_weighting = \"" + t.eta_weighting +
                      "\": a sigma-dependent rate or start is solved per mode by quadrature (4.4), which needs "
                      "zero-mean data; remove [data] mean or use parametrisation = \"plain\", eta_weighting = \"none\"");
  p.discrete_steps = t.discrete_steps;
  if (p.discrete_steps) {
    // |1 − 2ηκ| < 1 for every eigenvalue κ of M̃ (3.6)/(3.8); κ_max grows with σ², so σ_T is the binding node.
    const double sigma = c.sampling.sigma_max;
    const double limit = models::discrete_gd::stability_limit(p.data, sigma);
    if (!(t.eta < limit))
      throw ConfigError(fmt::format(
          "{}: [training] eta: eta = {:g} makes gradient descent (discrete_steps = true) unstable: (3.6) needs "
          "eta < 1/kappa_max(M~) = 1/max(lambda_max + sigma^2, 1) for zero mean, which fails at sigma = sigma_max = {:g} "
          "(limit {:.6g}); allowed range 0 < eta < {:.6g}, or lower [sampling] sigma_max",
          c.source, t.eta, sigma, limit, limit));
  }
}

DataMoments build_data(const config::Config& c) {
  const auto& d = c.data;
  DataMoments m;
  if (!d.eigenvalues.empty()) {
    const auto n = static_cast<Eigen::Index>(d.eigenvalues.size());
    m = DataMoments::from_spectrum(to_vector(d.eigenvalues), make_basis(d.basis, n, d.seed), {},
                                   "explicit spectrum, basis " + d.basis);
  } else if (d.generator == "lognormal_rotation") {
    m = models::lognormal_rotation_moments(d.dim, static_cast<std::uint64_t>(d.seed));
  } else if (d.generator == "log_spaced") {
    m = DataMoments::from_spectrum(models::log_spaced_spectrum(d.dim, d.top, d.bottom),
                                   make_basis(d.basis, d.dim, d.seed), {}, "log-spaced spectrum (13.2)");
  } else if (d.generator == "stationary") {
    m = DataMoments::from_covariance(models::stationary_covariance(d.dim, d.rho), {},
                                     "stationary covariance rho^dist (13.2)");
  } else {
    const auto scaling = d.scaling == "unit" ? models::PixelScaling::unit
                         : d.scaling == "raw" ? models::PixelScaling::raw
                                              : models::PixelScaling::minus_one_one;
    std::optional<Eigen::Index> max;
    if (d.max_samples > 0) max = d.max_samples;
    const Eigen::MatrixXd X = models::load_samples(d.file, scaling, max);
    const DataMoments sample = models::moments_from_samples(X, "empirical moments of " + d.file);
    // center = true analyses the covariance alone (mode-wise paths apply); false keeps the file's mean, which
    // makes the problem non-commuting (§3.3) and sends it to the full-matrix path.
    m = DataMoments::from_covariance(sample.covariance, d.center ? Eigen::VectorXd() : sample.mean,
                                     sample.description + (d.center ? " (centred)" : ""));
  }
  if (!d.mean.empty()) {
    if (static_cast<Eigen::Index>(d.mean.size()) != m.dim())
      throw ConfigError(c.source + ": [data] mean: has " + std::to_string(d.mean.size()) +
                        " entries but the data dimension is " + std::to_string(m.dim()));
    m.mean = to_vector(d.mean);
  }
  return m;
}

models::DenoiserProblem build_problem(const config::Config& c, DataMoments data) {
  models::DenoiserProblem p;
  const auto d = data.dim();
  const auto& m = c.model;
  auto per_mode = [&](const std::vector<double>& v, const char* key) -> Eigen::VectorXd {
    if (v.size() != 1 && static_cast<Eigen::Index>(v.size()) != d)
      throw ConfigError(c.source + ": [model] " + key + ": has " + std::to_string(v.size()) + " entries for " +
                        std::to_string(d) + " modes; give one value, or one per mode");
    return v.size() == 1 ? Eigen::VectorXd::Constant(d, v[0]) : to_vector(v);
  };
  p.model.kind = models::parse_model_kind(m.kind);
  p.model.depth = m.infinite_depth ? 1 : m.depth;  // the infinite-depth mobility does not use L
  p.model.infinite_depth = m.infinite_depth;
  p.model.tied = m.tied;
  p.model.hidden = m.hidden;
  if (p.model.hidden != 0 && p.model.hidden < d)
    throw ConfigError(c.source + ": [model] hidden: hidden width " + std::to_string(p.model.hidden) +
                      " is smaller than the data dimension d = " + std::to_string(d) +
                      "; the aligned start needs hidden >= d (or 0 for hidden = d)");
  switch (p.model.kind) {
    case models::ModelKind::two_layer:
      p.a = per_mode(m.a, "a");
      p.b = per_mode(m.b, "b");
      p.Q = p.a.cwiseProduct(p.b);
      break;
    case models::ModelKind::deep_residual:
      p.v = per_mode(m.v, "v");
      p.Q = p.v.unaryExpr([L = m.depth](double v) { return models::deep::residual_initial_weight(v, L); });
      break;
    default: p.Q = per_mode(m.Q, "Q");
  }
  const bool nonaligned = m.W0_offset == "nonaligned";
  if (p.factorised()) {
    p.model.layer_offset_scale = nonaligned ? m.W0_offset_scale : 0.0;
    p.W0_offset = Eigen::MatrixXd::Zero(d, d);
    p.b0 = Eigen::VectorXd::Zero(d);
  } else {
    p.W0_offset = nonaligned ? models::nonaligned_matrix(d, d, m.W0_offset_scale) : Eigen::MatrixXd::Zero(d, d);
    p.b0 = m.b0 == "nonaligned" ? models::nonaligned_vector(d, m.b0_scale) : Eigen::VectorXd::Zero(d);
  }
  p.eta = c.training.eta;
  p.range = {c.sampling.sigma_min, c.sampling.sigma_max};
  p.data = std::move(data);
  add_rate_options(c, p);
  try {
    p.validate();
  } catch (const std::invalid_argument& e) {
    throw ConfigError(c.source + ": [model]: " + e.what());
  }
  return p;
}

bool use_full_matrix(const config::Config& c, const models::DenoiserProblem& p) {
  if (p.model.infinite_depth) {
    if (c.run.numeric_path == "full_matrix")
      throw ConfigError(c.source + ": [run] numeric_path: an infinitely deep network (depth = \"infinite\") has no "
                        "full-matrix form; use \"modewise\" or \"auto\"");
    if (!p.aligned())
      throw ConfigError(c.source + ": [data] mean: an infinitely deep network is solved per mode only, which needs "
                        "zero-mean data");
    return false;
  }
  if (c.run.numeric_path == "full_matrix") return true;
  if (c.run.numeric_path == "modewise") {
    if (!p.aligned())
      throw ConfigError(c.source + ": [run] numeric_path: \"modewise\" needs an aligned start and zero-mean data "
                        "(this config has " + std::string(p.data.centred() ? "" : "a non-zero mean, ") +
                        "a non-aligned W(0) or non-zero b(0)); use \"full_matrix\" or \"auto\"");
    return false;
  }
  return !p.aligned();
}

std::string resolved_outer(const config::Config& c, const models::DenoiserProblem& p, bool full_matrix) {
  if (c.solver.outer != "auto") return c.solver.outer;
  // Mode-wise: bsimp for the one-layer model (as before); the vectorised Rosenbrock4 for the non-linear laws of
  // the other kinds, where it is ~3× faster than bsimp at the same tolerance (benchmarks/ (d)).
  if (!full_matrix) return p.factorised() ? "rosenbrock" : "bsimp";
  return p.factorised() ? "dopri5" : "exponential";
}

models::NestedOptions build_nested_options(const config::Config& c, const models::DenoiserProblem& p, bool full_matrix) {
  models::NestedOptions o;
  const std::string outer = resolved_outer(c, p, full_matrix);
  o.outer = models::parse_outer_method(outer);
  if (full_matrix && (o.outer == models::OuterMethod::bsimp || o.outer == models::OuterMethod::msbdf ||
                      o.outer == models::OuterMethod::solution || o.outer == models::OuterMethod::rosenbrock))
    throw ConfigError(c.source + ": [solver] outer: \"" + outer + "\" works per mode only; the full-matrix path needs " +
                      (p.factorised() ? "\"dopri5\"" : "\"exponential\" or \"dopri5\""));
  if (full_matrix && p.factorised() && o.outer == models::OuterMethod::exponential)
    throw ConfigError(c.source + ": [solver] outer: \"exponential\" is exact only for the one-layer model; the "
                      "full-matrix flow of kind = \"" + c.model.kind + "\" is nonlinear, use \"dopri5\" or \"auto\"");
  if (!full_matrix && o.outer == models::OuterMethod::exponential && p.data.dim() > 0 && !p.mobility(0).linear())
    throw ConfigError(c.source + ": [solver] outer: \"exponential\" is exact only for linear per-mode flows (one "
                      "layer); kind = \"" + c.model.kind + "\" needs \"bsimp\", \"msbdf\", \"solution\" or \"dopri5\"");
  o.panels = c.solver.panels;
  o.points_per_panel = c.solver.points_per_panel;
  o.outer_ode.rtol = c.solver.outer_rtol;
  o.outer_ode.atol = c.solver.outer_atol;
  o.outer_ode.max_steps = static_cast<std::size_t>(c.solver.outer_max_steps);
  o.outer_ode.max_steps_key = "solver.outer_max_steps";
  o.inner_ode.rtol = c.solver.inner_rtol;
  o.inner_ode.atol = c.solver.inner_atol;
  o.inner_ode.max_steps = static_cast<std::size_t>(c.solver.inner_max_steps);
  o.inner_ode.max_steps_key = "solver.inner_max_steps";
  o.threads = c.run.threads;
  return o;
}

}  // namespace specbias::pipeline
