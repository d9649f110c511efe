#include "pipeline/conv_compare.hpp"

#include <fmt/format.h>
#include <gsl/gsl_statistics_double.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "analysis/emergence.hpp"
#include "common/atomic_file.hpp"
#include "common/environment.hpp"
#include "common/errors.hpp"
#include "models/conv_patch.hpp"
#include "models/image_shape_of_file.hpp"
#include "models/pf_ode.hpp"
#include "pipeline/conv_patch_run.hpp"
#include "pipeline/figures.hpp"
#include "pipeline/problem_builder.hpp"
#include "pipeline/summary_json.hpp"
#include "pipeline/run_directory.hpp"
#include "solver/nested.hpp"

namespace specbias::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One model as the comparison sees it: mode variance (abscissa), v(k, τ), v(k, 0) and v(k, ∞).
struct ModelCurves {
  Eigen::VectorXd variance;
  std::function<double(int, double)> v;
  Eigen::VectorXd v0, asymptote;
};

void fill_emergence(const config::Config& c, const ModelCurves& m, ComparedModel& out) {
  const auto criterion = parse_criterion(c.analysis.criterion);
  double tau_lo = 0;
  for (double t : c.training.tau)
    if (t > 0) {
      tau_lo = t;
      break;
    }
  const double tau_hi = c.training.tau.back();
  if (!(tau_lo > 0) || !(tau_hi > tau_lo))
    throw ConfigError(c.source + ": [training] conv-compare needs a positive tau window (tau_min < tau_max); got [" +
                      std::to_string(tau_lo) + ", " + std::to_string(tau_hi) + "]");
  // Modes with (numerically) zero variance — e.g. MNIST's always-black border pixels — have no emergence.
  const double floor = 1e-12 * m.variance.maxCoeff();
  const auto d = static_cast<std::size_t>(m.variance.size());
  out.modes.assign(d, analysis::ModeEmergence{});
  solver::parallel_for(d, c.run.threads, [&](std::size_t kk) {
    const int k = static_cast<int>(kk);
    analysis::ModeEmergence& e = out.modes[kk];
    e.mode = k;
    e.lambda = m.variance(k);
    e.v0 = m.v0(k);
    e.v_target = c.analysis.target == "asymptote" ? m.asymptote(k) : m.variance(k);
    e.rising = e.v_target > e.v0;
    e.gray = false;
    if (!(m.variance(k) > floor)) return;
    e.gray = analysis::in_gray_zone(e.v0, e.v_target, c.analysis.gray_lo, c.analysis.gray_hi);
    const auto x = analysis::first_crossing_continuous([&](double tau) { return m.v(k, tau); }, e.v0, e.v_target,
                                                       criterion, tau_lo, tau_hi, c.analysis.points_per_decade);
    if (x) e.tau_star = x->tau;
  });
  std::vector<double> clocks;
  for (const auto& e : out.modes)
    if (e.tau_star && !e.gray && e.lambda > floor) clocks.push_back(out.clock_per_tau * *e.tau_star);
  out.spread = emergence_spread(clocks);
  out.fits = analysis::fit_branches(out.modes);
}

}  // namespace

EmergenceSpread emergence_spread(std::vector<double> values) {
  std::erase_if(values, [](double x) { return !std::isfinite(x); });
  EmergenceSpread s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto q = [&](double p) { return gsl_stats_quantile_from_sorted_data(values.data(), 1, values.size(), p); };
  s.p10 = q(0.1);
  s.p25 = q(0.25);
  s.p50 = q(0.5);
  s.p75 = q(0.75);
  s.p90 = q(0.9);
  s.ratio = s.p90 / s.p10;
  s.iqr_ratio = s.p75 / s.p25;
  // Two pointers over the sorted clocks: the most values in any [c_i, 2 c_i].
  std::size_t best = 0;
  for (std::size_t i = 0, j = 0; i < values.size(); ++i) {
    while (j < values.size() && values[j] <= 2.0 * values[i]) ++j;
    best = std::max(best, j - i);
  }
  s.densest_factor2 = double(best) / double(values.size());
  return s;
}

ConvCompareResult compare_convolutions(const config::Config& c, const Eigen::MatrixXd& covariance,
                                       const models::ImageShape& shape, const std::vector<int>& kernels,
                                       const std::string& data_description,
                                       const std::function<void(const std::string&)>& log_fn) {
  auto log = [&](const std::string& line) {
    if (log_fn) log_fn(line);
  };
  const int N = shape.size();
  if (covariance.rows() != N || covariance.cols() != N)
    throw DataError("conv-compare: the covariance is " + std::to_string(covariance.rows()) + " x " +
                    std::to_string(covariance.cols()) + " but the image shape " + models::describe(shape) + " has " +
                    std::to_string(N) + " pixels");
  if (c.model.Q.size() != 1)
    throw ConfigError(c.source + ": [model] Q: conv-compare needs one scalar Q (the delta start shared by all models), got " +
                      std::to_string(c.model.Q.size()) + " values");
  const int side = shape.dims() == 2 ? std::min(shape.height, shape.width) : shape.width;
  for (int K : kernels)
    if (K < 1 || K % 2 == 0 || K > side)
      throw ConfigError(fmt::format("conv-compare --kernels: K = {} is not allowed for the {} data of {} (allowed: odd "
                                    "1 <= K <= {}, the image side)",
                                    K, models::describe(shape), c.source, side));
  const double Q = c.model.Q.front(), eta = c.training.eta;
  const models::SamplingRange range{c.sampling.sigma_min, c.sampling.sigma_max};
  ConvCompareResult r;
  r.shape = shape;
  r.data_description = data_description;
  log(fmt::format("data: {} ({}, N = {})", data_description, models::describe(shape), N));

  // Dense one-layer model on the PCs (4.9), W(0) = Q I.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (covariance + covariance.transpose()),
                                                           Eigen::EigenvaluesOnly);
  const Eigen::VectorXd lambda = eig.eigenvalues().reverse().cwiseMax(0.0);
  const Eigen::VectorXd s = models::fourier_mode_variances(covariance, shape);
  const double v_init = models::one_layer_initial_variance(Q, range);
  auto one_layer_curves = [&](const Eigen::VectorXd& var, double eta_eff) {
    ModelCurves m;
    m.variance = var;
    m.v = [var, eta_eff, Q, range](int k, double tau) {
      return models::one_layer_generated_variance(var(k), Q, eta_eff, tau, range);
    };
    m.v0 = Eigen::VectorXd::Constant(var.size(), v_init);
    m.asymptote = var.unaryExpr([&](double x) { return models::converged_generated_variance(x, range); });
    return m;
  };
  auto add = [&](ComparedModel m, const ModelCurves& curves) {
    const auto t0 = std::chrono::steady_clock::now();
    fill_emergence(c, curves, m);
    const auto& f = m.fits.rising;
    log(fmt::format("{}: {} usable modes, clock p10 = {:.4g}, p90 = {:.4g}, p90/p10 = {:.4g}, p75/p25 = {:.4g}, "
                    "densest factor-2 window {:.3f}; rising fit alpha = {} ({:.2f} s)",
                    m.name, m.spread.n, m.spread.p10, m.spread.p90, m.spread.ratio, m.spread.iqr_ratio,
                    m.spread.densest_factor2,
                    f ? fmt::format("{:.4f} (R^2 {:.3f}, n = {})", f->alpha, f->r2, f->n) : std::string("n/a"),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    r.models.push_back(std::move(m));
  };
  add(ComparedModel{"dense", 0, 2.0 * eta, {}, {}, {}}, one_layer_curves(lambda, eta));
  // Full-width circulant filter (7.7): λ → s_k, η → Nη.
  add(ComparedModel{"conv_full", shape.dims() == 2 ? std::min(shape.height, shape.width) : N, 2.0 * N * eta, {}, {}, {}},
      one_layer_curves(s, N * eta));
  for (int K : kernels) {
    const models::PatchGeometry g = patch_geometry(shape, K);
    Eigen::VectorXd w0 = Eigen::VectorXd::Zero(g.taps());
    w0(g.centre()) = Q;
    auto pc = std::make_shared<models::PatchConvolution>(patch_covariance_from_spectrum(s, g), g, w0, eta);
    ModelCurves m;
    m.variance = s;
    m.v = [pc, range](int k, double tau) { return pc->generated_variance_mode(k, tau, range); };
    m.v0 = pc->initial_variance(range);
    m.asymptote = pc->converged_variance(range);
    add(ComparedModel{"conv_patch_K" + std::to_string(K), K, 2.0 * N * eta, {}, {}, {}}, m);
  }

  json models_json = json::array();
  for (const auto& m : r.models) {
    models_json.push_back({{"name", m.name},
                           {"kernel", m.kernel},
                           {"clock_per_tau", m.clock_per_tau},
                           {"modes", m.modes.size()},
                           {"spread", {{"n", m.spread.n},
                                       {"clock_p10", finite_or_null(m.spread.p10)},
                                       {"clock_p25", finite_or_null(m.spread.p25)},
                                       {"clock_p50", finite_or_null(m.spread.p50)},
                                       {"clock_p75", finite_or_null(m.spread.p75)},
                                       {"clock_p90", finite_or_null(m.spread.p90)},
                                       {"ratio_p90_p10", finite_or_null(m.spread.ratio)},
                                       {"ratio_p75_p25", finite_or_null(m.spread.iqr_ratio)},
                                       {"densest_factor2_fraction", finite_or_null(m.spread.densest_factor2)}}},
                           {"fits", {{"rising", fit_json(m.fits.rising)}, {"decaying", fit_json(m.fits.decaying)}}}});
  }
  r.summary = {{"kind", "conv_compare"},
               {"data", {{"description", data_description}, {"shape", {shape.height, shape.width}}, {"pixels", N}}},
               {"Q", Q},
               {"eta", eta},
               {"criterion", c.analysis.criterion},
               {"target", c.analysis.target},
               {"clock", "c* = 2 eta tau* (dense), 2 N eta tau* (convolutions, (7.5))"},
               {"models", models_json}};
  return r;
}

ConvCompareResult conv_compare_to_directory(const config::Config& c, const std::vector<int>& kernels,
                                            const fs::path& out, bool quiet) {
  auto logger = open_run_log(out, "specbias-conv-compare", quiet, true);
  write_run_inputs(out, "specbias", c.source, c.to_toml());
  logger->info("specbias conv-compare {} (kernels {}) -> {}", c.source, fmt::join(kernels, ", "), out.string());

  const models::DataMoments data = build_data(c);
  std::optional<models::ImageShape> shape;
  if (!c.data.shape.empty())
    shape = c.data.shape.size() == 2 ? models::ImageShape{c.data.shape[0], c.data.shape[1]}
                                     : models::ImageShape{1, c.data.shape[0]};
  else if (!c.data.file.empty() && !(shape = models::image_shape_of_file(c.data.file)))
    throw ConfigError(c.source + ": [data] shape: the file " + c.data.file + " gives no image shape (N x d array or "
                      "several channels); set shape = [H, W], e.g. [28, 28] for MNIST");
  if (!shape) shape = models::ImageShape{1, data.dim()};
  if (shape->size() != data.dim())
    throw ConfigError(c.source + ": [data] shape: " + models::describe(*shape) + " has " + std::to_string(shape->size()) +
                      " pixels but the data have d = " + std::to_string(data.dim()));
  if (!data.centred())
    throw ConfigError(c.source + ": [data] mean: the convolution comparison is for zero-mean data (THEORY §7–8); "
                                 "remove `mean` / set center = true");
  ConvCompareResult r = compare_convolutions(c, data.covariance, *shape, kernels, data.description,
                                             [&](const std::string& l) { logger->info("{}", l); });

  write_file_atomically(out / "emergence.csv", [&](std::ostream& os) {
    os << "model,kernel,mode,variance,v0,v_target,tau_star,clock_star,branch,gray_zone\n";
    os.precision(17);
    for (const auto& m : r.models)
      for (const auto& e : m.modes)
        os << m.name << "," << m.kernel << "," << e.mode << "," << e.lambda << "," << e.v0 << "," << e.v_target << ","
           << (e.tau_star ? *e.tau_star : NAN) << "," << (e.tau_star ? m.clock_per_tau * *e.tau_star : NAN) << ","
           << (e.rising ? "rising" : "decaying") << "," << (e.gray ? 1 : 0) << "\n";
  });
  r.summary["environment"] = environment_info();
  write_text_atomically(out / "summary.json", r.summary.dump(2) + "\n");

  if (c.output.figures) {
    const fs::path dir = out / "figures";
    fs::create_directories(dir);
    static const char* colours[] = {"#000000", "#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"};
    std::ostringstream left, right;
    for (size_t i = 0; i < r.models.size(); ++i) {
      const auto& m = r.models[i];
      const std::string colour = colours[i % 7];
      std::vector<double> clocks;
      std::ostringstream pts, decaying;
      pts.precision(10);
      decaying.precision(10);
      for (const auto& e : m.modes)
        if (e.tau_star && !e.gray && e.lambda > 0) {
          (e.rising ? pts : decaying) << e.lambda << " " << m.clock_per_tau * *e.tau_star << "\n";
          clocks.push_back(m.clock_per_tau * *e.tau_star);
        }
      write_text_atomically(dir / (m.name + ".dat"), pts.str() + "\n");
      write_text_atomically(dir / (m.name + "_decaying.dat"), decaying.str() + "\n");
      std::sort(clocks.begin(), clocks.end());
      std::ostringstream cdf;
      cdf.precision(10);
      for (size_t j = 0; j < clocks.size(); ++j) cdf << clocks[j] << " " << (j + 0.5) / double(clocks.size()) << "\n";
      write_text_atomically(dir / (m.name + "_cdf.dat"), cdf.str() + "\n");
      std::string pretty = m.name;
      for (size_t p = 0; (p = pretty.find('_', p)) != std::string::npos; p += 2) pretty.replace(p, 1, "\\_");
      left << (i ? ", \\\n     " : "") << fmt::format("'{}.dat' using 1:2 with points pt 7 ps 0.5 lc rgb '{}' title '{}'",
                                                     m.name, colour, pretty);
      if (!decaying.str().empty())  // modes below the initial level: the decaying branch, fitted separately (11.4)
        left << fmt::format(", \\\n     '{}_decaying.dat' using 1:2 with points pt 6 ps 0.7 lc rgb '{}' title '{} decaying'",
                            m.name, colour, pretty);
      if (m.fits.rising) {
        // The fit line over the rising modes' own variance range only (a function would span the whole axis).
        double lo = INFINITY, hi = 0;
        for (const auto& e : m.modes)
          if (e.tau_star && !e.gray && e.rising && e.lambda > 0) {
            lo = std::min(lo, e.lambda);
            hi = std::max(hi, e.lambda);
          }
        const auto line = [&](double x) { return m.clock_per_tau * m.fits.rising->prefactor * std::pow(x, -m.fits.rising->alpha); };
        write_text_atomically(dir / (m.name + "_fit.dat"), fmt::format("{:.10g} {:.10g}\n{:.10g} {:.10g}\n", lo, line(lo), hi, line(hi)));
        left << fmt::format(", \\\n     '{}_fit.dat' using 1:2 with lines lw 2 dt 2 lc rgb '{}' title '{{/Symbol a}} = {:.2f} (rising)'",
                            m.name, colour, m.fits.rising->alpha);
      }
      right << (i ? ", \\\n     " : "")
            << fmt::format("'{}_cdf.dat' using 1:2 with lines lw 2 lc rgb '{}' title '{}: p90/p10 = {:.3g}'", m.name,
                           colour, pretty, m.spread.ratio);
    }
    std::ostringstream gp;
    gp << gnuplot_header("conv_compare.png", 1500, 620) << "set multiplot layout 1,2 title 'Emergence clock c* per mode "
       << "(" << models::describe(r.shape) << ", " << c.analysis.criterion << " criterion, target " << c.analysis.target
       << ")'\nset logscale xy\nset format x '10^{%T}'\nset format y '10^{%T}'\nset key inside top right\n"
       << "set xlabel 'mode variance ({/Symbol l}_k dense, s_k convolutions)'\nset ylabel 'emergence clock c*'\n"
       << "plot " << left.str() << "\nunset logscale y\nset format y '%.1f'\nset key inside bottom right\n"
       << "set xlabel 'emergence clock c* (2{/Symbol h}{/Symbol t}* dense, 2N{/Symbol h}{/Symbol t}* conv)'\n"
       << "set ylabel 'fraction of usable modes emerged'\nplot " << right.str() << "\nunset multiplot\n";
    write_text_atomically(dir / "conv_compare.gp", gp.str());
    std::string message;
    if (run_gnuplot_script(dir, "conv_compare", message)) logger->info("figure: {}", (dir / "conv_compare.png").string());
    else logger->warn("{}", message);
  }
  logger->info("done: results in {}", out.string());
  return r;
}

}  // namespace specbias::pipeline
