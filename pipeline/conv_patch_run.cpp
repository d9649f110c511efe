#include "pipeline/conv_patch_run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "analysis/emergence.hpp"
#include "common/atomic_file.hpp"
#include "common/environment.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "pipeline/figures.hpp"
#include "pipeline/summary_json.hpp"
#include "pipeline/run_directory.hpp"
#include "solver/linear_flow.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"

namespace specbias::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double max_rel_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& ref) {
  return ((a - ref).array().abs() / ref.array().abs()).maxCoeff();
}

// The filter as a full-length image-indexed filter (flat offset ay·W + ax, cyclic), for FFT multipliers (7.2).
Eigen::VectorXd embed_filter(const Eigen::VectorXd& taps, const models::PatchGeometry& g) {
  Eigen::VectorXd full = Eigen::VectorXd::Zero(g.pixels());
  for (int p = 0; p < g.taps(); ++p) full(g.shifted(0, p)) += taps(p);
  return full;
}

// Nested numeric path: exact per-node filter flow, FFT multipliers, Gauss–Legendre quadrature of (8.8).
Eigen::MatrixXd nested_numeric(const config::Config& c, const models::PatchGeometry& g, const models::ImageShape& shape,
                               const Eigen::MatrixXd& T, const Eigen::VectorXd& w0, const std::vector<double>& taus,
                               const models::SamplingRange& range) {
  const solver::PanelGrid grid(std::log(range.sigma_min), std::log(range.sigma_max), c.solver.panels,
                               c.solver.points_per_panel);
  const double rate = 2.0 * g.pixels() * c.training.eta;  // (8.3): dw/dτ = −2Nη[(T + σ²I)w − T e_0]
  std::vector<solver::SymmetricLinearFlow> flows;
  flows.reserve(grid.size());
  for (double s : grid.nodes()) {
    Eigen::MatrixXd K = rate * T;
    K.diagonal().array() += rate * std::exp(2.0 * s);
    const Eigen::MatrixXd C = rate * T.col(g.centre()).transpose();
    flows.emplace_back(K, C, w0.transpose());
  }
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), g.pixels());
  Eigen::MatrixXd gamma(g.pixels(), static_cast<Eigen::Index>(grid.size()));
  solver::run_nested(flows, taus, c.run.threads, [&](std::size_t j, double) {
    solver::parallel_for(flows.size(), c.run.threads, [&](std::size_t i) {
      const Eigen::VectorXd w = flows[i].state().row(0).transpose();
      gamma.col(static_cast<Eigen::Index>(i)) = models::filter_multipliers(embed_filter(w, g), shape).real();
    });
    out.row(static_cast<Eigen::Index>(j)) = models::generated_variance_on_grid(grid, gamma, range).transpose();
  });
  return out;
}

std::vector<analysis::ModeEmergence> emergence(const config::Config& c, const models::PatchConvolution& pc,
                                               const Eigen::VectorXd& s, const std::vector<double>& taus,
                                               const models::SamplingRange& range) {
  const auto criterion = parse_criterion(c.analysis.criterion);
  double tau_lo = 0;
  for (double t : taus)
    if (t > 0) {
      tau_lo = t;
      break;
    }
  const double tau_hi = taus.back();
  const Eigen::VectorXd v0 = pc.initial_variance(range);
  const Eigen::VectorXd asymptote = pc.converged_variance(range);
  std::vector<analysis::ModeEmergence> out(static_cast<std::size_t>(s.size()));
  solver::parallel_for(out.size(), c.run.threads, [&](std::size_t kk) {
    const int k = static_cast<int>(kk);
    analysis::ModeEmergence& m = out[kk];
    m.mode = k;
    m.lambda = s(k);
    m.v0 = v0(k);
    m.v_target = c.analysis.target == "asymptote" ? asymptote(k) : s(k);
    m.rising = m.v_target > m.v0;
    m.gray = false;
    if (!(m.v_target > 0) || !(tau_lo > 0) || !(tau_hi > tau_lo)) return;
    m.gray = analysis::in_gray_zone(m.v0, m.v_target, c.analysis.gray_lo, c.analysis.gray_hi);
    const auto e = analysis::first_crossing_continuous(
        [&](double tau) { return pc.generated_variance_mode(k, tau, range); }, m.v0, m.v_target, criterion, tau_lo,
        tau_hi, c.analysis.points_per_decade);
    if (e) m.tau_star = e->tau;
  });
  return out;
}

}  // namespace

models::PatchGeometry patch_geometry(const models::ImageShape& shape, int kernel) {
  const models::PatchGeometry g{shape.height, shape.width, kernel};
  models::check_patch_geometry(g);
  return g;
}

Eigen::MatrixXd patch_covariance_from_spectrum(const Eigen::VectorXd& s, const models::PatchGeometry& g) {
  // (7.6) with λ̃ → s is exactly t_ℓ of (8.2): the shift-averaged covariance is circulant with eigenvalues s_k (7.8).
  return models::patch_covariance_from_autocovariance(
      models::covariance_kernel(s, models::ImageShape{g.height, g.width}), g);
}

ConvPatchResult simulate_conv_patch(const config::Config& c, const models::ImageShape& shape, const Eigen::VectorXd& s,
                                    const std::string& data_description,
                                    const std::function<void(const std::string&)>& log_fn) {
  using clock = std::chrono::steady_clock;
  auto log = [&](const std::string& line) {
    if (log_fn) log_fn(line);
  };
  ConvPatchResult r;
  r.shape = shape;
  r.kernel = c.model.kernel;
  r.s = s;
  r.tau = c.training.tau;
  if (c.model.layers != 1)
    throw ConfigError(c.source + ": [model] layers = " + std::to_string(c.model.layers) +
                      ": conv_patch is the one-layer local filter of THEORY §8 (allowed: layers = 1); two-layer "
                      "convolution is kind = \"conv_full\" (7.9)");
  // The config checks K against data.shape; a file's image size is only known here.
  const int side = shape.dims() == 2 ? std::min(shape.height, shape.width) : shape.width;
  if (c.model.kernel > side || c.model.kernel < 1 || c.model.kernel % 2 == 0)
    throw ConfigError(fmt::format("{}: [model] model.kernel = {} does not fit the data's {} image (allowed: odd "
                                  "1 <= K <= {}, the image side); lower `kernel`",
                                  c.source, c.model.kernel, models::describe(shape), side));
  const models::PatchGeometry g = patch_geometry(shape, c.model.kernel);
  const models::SamplingRange range{c.sampling.sigma_min, c.sampling.sigma_max};
  r.T = patch_covariance_from_spectrum(s, g);
  r.w0 = Eigen::VectorXd::Zero(g.taps());
  r.w0(g.centre()) = c.model.Q.at(0);  // delta start: γ_k(0) = Q for every mode
  const models::PatchConvolution pc(r.T, g, r.w0, c.training.eta);
  log(fmt::format("data: {} ({}, N = {})", data_description, models::describe(shape), shape.size()));
  log(fmt::format("model: local patch convolution (8.1), K = {} ({} taps), eta = {}, delta start Q = {}; patch "
                  "variances rho in [{:.4g}, {:.4g}]",
                  g.kernel, g.taps(), c.training.eta, c.model.Q.at(0), pc.patch_variances().minCoeff(),
                  pc.patch_variances().maxCoeff()));

  json timings, validation = json::object();
  auto t0 = clock::now();
  r.variance_closed_form = pc.generated_variance_grid(r.tau, range, c.run.threads);
  timings["closed_form_s"] = std::chrono::duration<double>(clock::now() - t0).count();
  log(fmt::format("closed form (8.9): {} tau x {} Fourier modes in {:.3f} s", r.tau.size(), g.pixels(),
                  timings["closed_form_s"].get<double>()));

  const bool want_numeric = c.run.method != "closed_form";
  if (want_numeric) {
    t0 = clock::now();
    r.variance_numeric = nested_numeric(c, g, shape, r.T, r.w0, r.tau, range);
    timings["numeric_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    const double err = max_rel_error(r.variance_numeric, r.variance_closed_form);
    validation["numeric_vs_closed_form"] = {{"max_rel", err}, {"tolerance_rel", c.validation.nested_rel}};
    log(fmt::format("numeric nested path ({} sigma nodes, exact filter flow, FFT multipliers): max rel error vs "
                    "closed form {:.2e} ({:.2f} s)",
                    c.solver.panels * c.solver.points_per_panel, err, timings["numeric_s"].get<double>()));
  }
  if (c.run.quadrature) {
    t0 = clock::now();
    solver::QuadratureOptions qo;
    qo.rel_tol = c.solver.quadrature_rtol;
    qo.context = "conv_patch quadrature (8.8)";
    r.variance_quadrature.resize(static_cast<Eigen::Index>(r.tau.size()), g.pixels());
    solver::parallel_for(r.tau.size() * static_cast<std::size_t>(g.pixels()), c.run.threads, [&](std::size_t idx) {
      const auto j = static_cast<Eigen::Index>(idx / static_cast<std::size_t>(g.pixels()));
      const int k = static_cast<int>(idx % static_cast<std::size_t>(g.pixels()));
      r.variance_quadrature(j, k) = pc.generated_variance_quadrature(k, r.tau[static_cast<std::size_t>(j)], range, qo);
    });
    timings["quadrature_s"] = std::chrono::duration<double>(clock::now() - t0).count();
    const double err = max_rel_error(r.variance_quadrature, r.variance_closed_form);
    validation["quadrature_vs_closed_form"] = {{"max_rel", err}, {"tolerance_rel", c.validation.quadrature_rel}};
    log(fmt::format("adaptive quadrature (8.8): max rel error vs closed form {:.2e} ({:.2f} s)", err,
                    timings["quadrature_s"].get<double>()));
  }

  r.kernel_closed_form.resize(static_cast<Eigen::Index>(r.tau.size()), g.pixels());
  for (Eigen::Index j = 0; j < r.kernel_closed_form.rows(); ++j)
    r.kernel_closed_form.row(j) = models::covariance_kernel(r.variance_closed_form.row(j).transpose(), shape).transpose();
  const double sigma_w = c.analysis.weight_sigma.empty() ? 1.0 : c.analysis.weight_sigma.front();
  r.filter_sigma1.resize(static_cast<Eigen::Index>(r.tau.size()), g.taps());
  for (Eigen::Index j = 0; j < r.filter_sigma1.rows(); ++j)
    r.filter_sigma1.row(j) = pc.filter(sigma_w, r.tau[static_cast<std::size_t>(j)]).transpose();

  t0 = clock::now();
  r.emergence = emergence(c, pc, s, r.tau, range);
  const auto fits = analysis::fit_branches(r.emergence);
  timings["emergence_s"] = std::chrono::duration<double>(clock::now() - t0).count();

  json modes = json::array();
  for (const auto& m : r.emergence)
    modes.push_back({{"mode", m.mode}, {"s", m.lambda}, {"v0", m.v0}, {"v_target", m.v_target},
                     {"tau_star", m.tau_star ? json(*m.tau_star) : json(nullptr)},
                     {"branch", m.rising ? "rising" : "decaying"}, {"gray_zone", m.gray}});
  json& sm = r.summary;
  sm["kind"] = "conv_patch";
  sm["data"] = {{"description", data_description}, {"shape", {shape.height, shape.width}}, {"pixels", shape.size()}};
  sm["model"] = {{"kernel", g.kernel}, {"taps", g.taps()}, {"Q", c.model.Q.at(0)}, {"eta", c.training.eta},
                 {"clock", "c = 2 N eta tau"}};
  std::vector<double> rho(pc.patch_variances().data(), pc.patch_variances().data() + pc.patch_variances().size());
  sm["patch_variances"] = rho;
  sm["emergence"] = {{"criterion", c.analysis.criterion}, {"target", c.analysis.target}, {"abscissa", "s_k"},
                     {"modes", modes}};
  sm["fits"] = {{"rising", fit_json(fits.rising)}, {"decaying", fit_json(fits.decaying)}};
  sm["validation"] = validation;
  bool pass = true;
  for (const auto& [key, v] : validation.items()) pass = pass && v["max_rel"].get<double>() <= v["tolerance_rel"].get<double>();
  sm["validation_pass"] = pass;
  sm["timings"] = timings;
  for (const char* branch : {"rising", "decaying"}) {
    const json& f = sm["fits"][branch];
    if (!f.is_null())
      log(fmt::format("power law (closed_form, {}): alpha = {:.4f}, n = {}", branch, f["alpha"].get<double>(),
                      f["n"].get<int>()));
  }
  return r;
}

ConvPatchResult write_conv_patch_run(const config::Config& c, const models::ImageShape& shape, const Eigen::VectorXd& s,
                                     const std::string& data_description, const fs::path& out, bool quiet) {
  auto logger = open_run_log(out, "specbias-conv-patch", quiet, true);

  write_run_inputs(out, "specbias", c.source, c.to_toml());
  logger->info("specbias simulate {} -> {}", c.source, out.string());

  ConvPatchResult r = simulate_conv_patch(c, shape, s, data_description, [&](const std::string& l) { logger->info("{}", l); });
  const int N = shape.size();
  const models::PatchGeometry g = patch_geometry(shape, r.kernel);

  write_file_atomically(out / "variance.csv", [&](std::ostream& os) {
    os << "tau,mode,ky,kx,s,variance_closed_form";
    if (r.variance_numeric.size()) os << ",variance_numeric";
    if (r.variance_quadrature.size()) os << ",variance_quadrature";
    os << "\n";
    os.precision(17);
    for (size_t j = 0; j < r.tau.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      for (int k = 0; k < N; ++k) {
        os << r.tau[j] << "," << k << "," << k / shape.width << "," << k % shape.width << "," << r.s(k) << ","
           << r.variance_closed_form(jj, k);
        if (r.variance_numeric.size()) os << "," << r.variance_numeric(jj, k);
        if (r.variance_quadrature.size()) os << "," << r.variance_quadrature(jj, k);
        os << "\n";
      }
    }
  });
  if (c.output.npy) {
    write_npy(out / "tau.npy", r.tau.data(), {r.tau.size()});
    write_npy(out / "s.npy", r.s);
    write_npy(out / "variance_closed_form.npy", r.variance_closed_form);
    if (r.variance_numeric.size()) write_npy(out / "variance_numeric.npy", r.variance_numeric);
    if (r.variance_quadrature.size()) write_npy(out / "variance_quadrature.npy", r.variance_quadrature);
    write_npy(out / "patch_covariance.npy", r.T);
  }
  write_file_atomically(out / "filter.csv", [&](std::ostream& os) {
    os << "sigma,tau,tap,ay,ax,weight_closed_form\n";
    os.precision(17);
    const double sigma_w = c.analysis.weight_sigma.empty() ? 1.0 : c.analysis.weight_sigma.front();
    for (size_t j = 0; j < r.tau.size(); ++j)
      for (int p = 0; p < g.taps(); ++p) {
        const auto [ay, ax] = g.offset(p);
        os << sigma_w << "," << r.tau[j] << "," << p << "," << ay << "," << ax << ","
           << r.filter_sigma1(static_cast<Eigen::Index>(j), p) << "\n";
      }
  });
  write_file_atomically(out / "kernel.csv", [&](std::ostream& os) {
    os << "tau,offset,dy,dx,kernel_closed_form\n";
    os.precision(17);
    for (size_t j = 0; j < r.tau.size(); ++j)
      for (int l = 0; l < N; ++l) {
        os << r.tau[j] << "," << l << "," << l / shape.width << "," << l % shape.width << ",";
        os << r.kernel_closed_form(static_cast<Eigen::Index>(j), l) << "\n";
      }
  });
  r.summary["environment"] = environment_info();
  write_text_atomically(out / "summary.json", r.summary.dump(2) + "\n");

  // Figures: generated variance per Fourier mode vs τ (a spread of modes by s_k), and emergence vs s_k.
  if (c.output.figures) {
    const fs::path dir = out / "figures";
    fs::create_directories(dir);
    std::vector<int> order(static_cast<std::size_t>(N));
    for (int k = 0; k < N; ++k) order[static_cast<std::size_t>(k)] = k;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return r.s(a) > r.s(b); });
    const int shown = std::min(N, 12);
    std::vector<int> picked;
    for (int i = 0; i < shown; ++i)
      picked.push_back(order[static_cast<std::size_t>(shown > 1 ? (i * (N - 1)) / (shown - 1) : 0)]);
    write_file_atomically(dir / "variance_modes.dat", [&](std::ostream& os) {
      os.precision(10);
      for (size_t j = 0; j < r.tau.size(); ++j) {
        if (r.tau[j] <= 0) continue;
        os << r.tau[j];
        for (int k : picked) os << " " << r.variance_closed_form(static_cast<Eigen::Index>(j), k);
        os << "\n";
      }
    });
    std::ostringstream gp;
    gp << gnuplot_header("variance.png") << "set title 'Local patch convolution K = " << g.kernel
       << ": generated variance per Fourier mode (8.9)'\nset logscale xy\nset format x '10^{%T}'\n"
       << "set format y '10^{%T}'\nset xlabel 'training time {/Symbol t}'\nset ylabel '{/Symbol l}~_k({/Symbol t})'\n"
       << "plot for [i=2:" << shown + 1 << "] 'variance_modes.dat' using 1:i with lines lw 2 lc palette frac (i-2.0)/"
       << std::max(1, shown - 1) << ".0 title 'mode '.word('";
    for (int k : picked) gp << k << " ";
    gp << "', i-1)\n";
    write_text_atomically(dir / "variance.gp", gp.str());
    std::ostringstream rising, decaying, gray;
    for (const auto& m : r.emergence) {
      if (!m.tau_star) continue;
      std::ostringstream& os = m.gray ? gray : (m.rising ? rising : decaying);
      os << m.lambda << " " << *m.tau_star << "\n";
    }
    write_text_atomically(dir / "emergence_rising.dat", rising.str() + "\n");
    write_text_atomically(dir / "emergence_decaying.dat", decaying.str() + "\n");
    write_text_atomically(dir / "emergence_gray.dat", gray.str() + "\n");
    std::ostringstream ge;
    ge << gnuplot_header("emergence.png") << "set title 'conv\\_patch K = " << g.kernel
       << ": emergence time vs Fourier variance s_k (11.1)'\nset logscale xy\nset format x '10^{%T}'\n"
       << "set format y '10^{%T}'\nset xlabel 'Fourier-mode variance s_k'\nset ylabel 'emergence time {/Symbol t}*'\n"
       << "plot 'emergence_rising.dat' using 1:2 with points pt 7 lc rgb '#1f77b4' title 'rising', "
       << "'emergence_decaying.dat' using 1:2 with points pt 7 lc rgb '#d62728' title 'decaying', "
       << "'emergence_gray.dat' using 1:2 with points pt 6 lc rgb '#999999' title 'gray zone (11.3)'\n";
    write_text_atomically(dir / "emergence.gp", ge.str());
    int images = 0;
    for (const char* name : {"variance", "emergence"}) {
      std::string message;
      if (run_gnuplot_script(dir, name, message)) ++images;
      else logger->warn("{}", message);
    }
    logger->info("figures: {} PNG files in {}", images, dir.string());
  }
  logger->info("done: results in {}", out.string());
  return r;
}

}  // namespace specbias::pipeline
