#include "pipeline/convolution_run.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <sstream>

#include "common/atomic_file.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "models/circulant_convolution.hpp"
#include "models/data_files.hpp"
#include "models/image_shape_of_file.hpp"
#include "pipeline/conv_patch_run.hpp"
#include "pipeline/figures.hpp"
#include "pipeline/problem_builder.hpp"
#include "pipeline/run_directory.hpp"

namespace specbias::pipeline {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<double> to_std(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

[[noreturn]] void config_fail(const config::Config& c, const std::string& where, const std::string& problem) {
  throw ConfigError(c.source + ": " + where + ": " + problem);
}

// The generated trajectory the kernel and summary use: the closed form when there is one, else quadrature, else
// the numeric path (every conv run has at least one; which one is named in summary.json).
const models::GeneratedTrajectory* best_trajectory(const SimulationResult& r, std::string& name) {
  const std::pair<const char*, const std::optional<models::GeneratedTrajectory>*> order[] = {
      {"closed_form", &r.closed_form}, {"quadrature", &r.quadrature}, {"numeric", &r.numeric}};
  for (const auto& [label, t] : order)
    if (*t) {
      name = label;
      return &**t;
    }
  return nullptr;
}

// Offsets in plotting order −⌊(n−1)/2⌋ … ⌊n/2⌋ along one axis, as cyclic indices.
std::vector<int> centred_offsets(int n) {
  std::vector<int> out;
  for (int o = -(n - 1) / 2; o <= n / 2; ++o) out.push_back(o);
  return out;
}

void write_kernel_figure(const fs::path& out, const models::ImageShape& shape, const std::vector<double>& tau,
                         const Eigen::MatrixXd& kernel, const Eigen::VectorXd& data_kernel,
                         const std::shared_ptr<spdlog::logger>& logger) {
  const fs::path dir = out / "figures";
  fs::create_directories(dir);
  // Up to 6 τ > 0, evenly spaced in the τ list (log-spaced configs give log-spaced picks), plus the last.
  std::vector<std::size_t> picks;
  std::vector<std::size_t> positive;
  for (std::size_t j = 0; j < tau.size(); ++j)
    if (tau[j] > 0) positive.push_back(j);
  const std::size_t n_pick = std::min<std::size_t>(6, positive.size());
  for (std::size_t i = 0; i < n_pick; ++i)
    picks.push_back(positive[n_pick == 1 ? positive.size() - 1 : i * (positive.size() - 1) / (n_pick - 1)]);
  const std::vector<int> dx = centred_offsets(shape.width);
  write_file_atomically(dir / "kernel.dat", [&](std::ostream& os) {
    os.precision(12);
    os << "# dx  C_data(dx)";
    for (std::size_t j : picks) os << "  C(dx; tau=" << tau[j] << ")";
    os << "\n";
    for (int o : dx) {
      const int idx = (o + shape.width) % shape.width;  // Δy = 0 row of the kernel
      os << o << " " << data_kernel[idx];
      for (std::size_t j : picks) os << " " << kernel(static_cast<Eigen::Index>(j), idx);
      os << "\n";
    }
  });
  std::ostringstream gp;
  gp << gnuplot_header("kernel.png")
     << "set title 'generated covariance kernel C({/Symbol D}) (7.6)" << (shape.dims() == 2 ? ", {/Symbol D}y = 0" : "")
     << "'\nset xlabel '{/Symbol D}" << (shape.dims() == 2 ? "x" : "") << "'\nset ylabel 'C'\n"
     << "plot 'kernel.dat' using 1:2 with linespoints lw 3 lc rgb 'black' title 'data t_{/Symbol D} (8.2)'";
  for (std::size_t i = 0; i < picks.size(); ++i)
    gp << ", '' using 1:" << i + 3 << " with lines lw 2 lc palette frac " << (picks.size() > 1 ? double(i) / (picks.size() - 1) : 0.0)
       << " title '{/Symbol t} = " << fmt::format("{:.3g}", tau[picks[i]]) << "'";
  gp << "\n";
  write_text_atomically(dir / "kernel.gp", gp.str());
  std::string message;
  run_gnuplot_script(dir, "kernel", message);
  if (!message.empty()) logger->info("{}", message);
}

}  // namespace

ConvolutionSetup build_convolution(const config::Config& c) {
  const auto& m = c.model;
  const auto& d = c.data;
  if (!d.mean.empty())
    config_fail(c, "[data] mean", "the convolution theory (section 7) is for zero-mean data; remove `mean`");
  if (!d.file.empty() && !d.center)
    config_fail(c, "[data] center", "the convolution theory (section 7) is for zero-mean data; set center = true");
  ConvolutionSetup st;
  std::optional<models::ImageShape> shape;
  if (!d.shape.empty())
    shape = d.shape.size() == 2 ? models::ImageShape{d.shape[0], d.shape[1]} : models::ImageShape{1, d.shape[0]};

  if (!d.file.empty()) {
    std::optional<Eigen::Index> max;
    if (d.max_samples > 0) max = d.max_samples;
    const auto scaling = d.scaling == "unit" ? models::PixelScaling::unit
                         : d.scaling == "raw" ? models::PixelScaling::raw
                                              : models::PixelScaling::minus_one_one;
    Eigen::MatrixXd X = models::load_samples(d.file, scaling, max);
    if (!shape) {
      const auto from_file = models::image_shape_of_file(d.file);
      // dims = 1 on an image file treats each image as one ring of H·W pixels (row-major), as the data are stored.
      if (from_file && m.dims != 1) shape = from_file;
      else if (m.dims != 2) shape = models::ImageShape{1, static_cast<int>(X.cols())};
      else config_fail(c, "[data] shape", "the file " + d.file + " gives no image shape (N x d array or several "
                                          "channels); set shape = [H, W]");
    }
    if (shape->size() != X.cols())
      config_fail(c, "[data] shape", "the shape " + models::describe(*shape) + " has " + std::to_string(shape->size()) +
                                         " pixels but the samples in " + d.file + " have d = " + std::to_string(X.cols()));
    if (X.rows() < 2) throw DataError("data file " + d.file + " has " + std::to_string(X.rows()) + " sample; need >= 2");
    X.rowwise() -= X.colwise().mean();
    // (7.3) from the samples without forming Σ; n/(n−1) matches the unbiased covariance of the dense kinds.
    const double n = double(X.rows());
    st.s = models::fourier_mode_variances_from_samples(X, *shape) * (n / (n - 1.0));
    if (X.cols() <= ConvolutionSetup::kPixelCovarianceMaxN) st.covariance = X.transpose() * X / (n - 1.0);
    st.data_description = "Fourier-mode variances (7.3) of " + d.file + " (" + std::to_string(X.rows()) +
                          " samples, centred)";
  } else {
    const int dim = !d.eigenvalues.empty() ? static_cast<int>(d.eigenvalues.size()) : d.dim;
    if (!shape) shape = models::ImageShape{1, dim};
    Eigen::MatrixXd covariance;
    if (d.generator == "stationary" && shape->dims() == 2) {
      covariance = models::conv::stationary_image_covariance(*shape, d.rho);
      st.data_description = fmt::format("stationary torus covariance rho^(dy+dx), rho = {}", d.rho);
    } else {
      const auto data = build_data(c);
      covariance = data.covariance;
      st.data_description = data.description;
    }
    st.s = models::fourier_mode_variances(covariance, *shape);
    st.covariance = covariance;
    st.stationarity_defect = models::stationarity_defect(covariance, *shape);
    st.data_description += ", Fourier-mode variances (7.3)";
  }
  st.shape = *shape;
  if (m.dims != 0 && st.shape.dims() != m.dims)
    config_fail(c, "[model] dims", "dims = " + std::to_string(m.dims) + " but the data's image shape is " +
                                       models::describe(st.shape) + " (" + std::to_string(st.shape.dims()) + "-D)");
  const int N = st.shape.size();
  // Delta starts: w(0) = Q e₀ (layers = 1) or a e₀, b e₀ (layers = 2) — constant multipliers, even filters.
  if (m.layers == 1) {
    st.gamma0 = Eigen::VectorXcd::Constant(N, m.Q.at(0));
  } else {
    st.gamma0 = Eigen::VectorXcd::Constant(N, m.a.at(0));
    st.gamma2_0 = Eigen::VectorXcd::Constant(N, m.b.at(0));
  }
  return st;
}

config::Config fourier_mode_config(const config::Config& c, const ConvolutionSetup& st) {
  if (c.model.kind == "conv_patch")  // (8.9): every Fourier mode mixes all patch modes, no per-mode problem
    config_fail(c, "[model] kind", "\"conv_patch\" has no per-Fourier-mode problem (THEORY (8.9)); it runs through "
                                   "`specbias simulate` (pipeline/conv_patch_run) and `specbias validate` "
                                   "(validation/conv_patch_validate), not through sweep");
  config::Config f = c;
  f.data = config::DataConfig{};
  f.data.eigenvalues = to_std(st.s);
  f.data.basis = "identity";  // the Fourier basis: in it every circulant is diagonal, Σ_avg = diag(s) (7.8)
  f.model = config::ModelConfig{};
  if (st.gamma2_0.size() == 0) {
    f.model.kind = "one_layer";
    f.model.depth = 1;
    f.model.Q = to_std(st.gamma0.real());  // (7.7): Q_k = Re γ_k(0)
  } else {
    f.model.kind = "two_layer";  // (7.9): §6.1 per Fourier mode
    f.model.depth = 2;
    f.model.Q.clear();
    f.model.a = to_std(st.gamma0.real());
    f.model.b = to_std(st.gamma2_0.real());
  }
  f.training.eta = st.shape.size() * c.training.eta;  // (7.5): filter-entry training, η → Nη
  return f;
}

SimulationResult simulate_convolution_to_directory(const config::Config& c, const fs::path& out, bool quiet) {
  const ConvolutionSetup st = build_convolution(c);
  if (c.model.kind == "conv_patch") {  // local patch convolution, THEORY §8: its own run directory
    SimulationResult r;
    r.tau = c.training.tau;
    r.summary = write_conv_patch_run(c, st.shape, st.s, st.data_description, out, quiet).summary;
    return r;
  }
  const config::Config fc = fourier_mode_config(c, st);
  SimulationResult r = simulate_to_directory(fc, out, quiet);  // variance.csv, weights.csv, summary, figures

  auto logger = open_run_log(out, "specbias-conv", quiet, false);

  // The run directory describes the conv config that was asked for, not its Fourier-mode stand-in.
  write_run_inputs(out, "specbias", c.source, c.to_toml(), /*environment=*/false);  // simulate_to_directory did

  const auto& shape = st.shape;
  const int N = shape.size();
  write_file_atomically(out / "fourier.csv", [&](std::ostream& os) {
    os << "mode,ky,kx,s_k,gamma0_re,gamma0_im" << (st.gamma2_0.size() ? ",gamma2_0_re,gamma2_0_im" : "") << "\n";
    os.precision(17);
    for (int k = 0; k < N; ++k) {
      os << k << "," << k / shape.width << "," << k % shape.width << "," << st.s[k] << "," << st.gamma0[k].real() << ","
         << st.gamma0[k].imag();
      if (st.gamma2_0.size()) os << "," << st.gamma2_0[k].real() << "," << st.gamma2_0[k].imag();
      os << "\n";
    }
  });

  std::string source;
  const models::GeneratedTrajectory* traj = best_trajectory(r, source);
  Eigen::MatrixXd kernel(static_cast<Eigen::Index>(r.tau.size()), N);
  if (traj)
    for (Eigen::Index j = 0; j < kernel.rows(); ++j)
      kernel.row(j) = models::covariance_kernel(traj->variance.row(j).transpose(), shape).transpose();
  if (traj) {
    write_file_atomically(out / "kernel.csv", [&](std::ostream& os) {
      os << "tau,offset,dy,dx,kernel\n";
      os.precision(17);
      for (Eigen::Index j = 0; j < kernel.rows(); ++j)
        for (int l = 0; l < N; ++l)
          os << r.tau[static_cast<std::size_t>(j)] << "," << l << "," << l / shape.width << "," << l % shape.width << ","
             << kernel(j, l) << "\n";
    });
    if (c.output.npy) write_npy(out / "kernel.npy", kernel);
  }
  const Eigen::VectorXd data_kernel = models::covariance_kernel(st.s, shape);  // = t_ℓ (8.2) of the data

  json conv{{"kind", c.model.kind},
            {"shape", shape.dims() == 2 ? json::array({shape.height, shape.width}) : json::array({shape.width})},
            {"dims", shape.dims()},
            {"N", N},
            {"layers", c.model.layers},
            {"eta_filter_entries", c.training.eta},
            {"eta_per_fourier_mode", N * c.training.eta},
            {"equivalent_mode_model", fc.model.kind + " per Fourier mode with lambda -> s_k, eta -> N eta" +
                                          (c.model.layers == 1 ? std::string(" (7.7)") : std::string(" (7.9)"))},
            {"data", st.data_description},
            {"s_min", st.s.minCoeff()},
            {"s_max", st.s.maxCoeff()},
            {"total_variance", st.s.sum()},
            {"kernel_source", traj ? json(source) : json(nullptr)}};
  conv["data_stationarity_defect"] = st.stationarity_defect ? json(*st.stationarity_defect) : json(nullptr);
  if (traj) {
    conv["kernel_final"] = {{"C0", kernel(kernel.rows() - 1, 0)},
                            {"C1", N > 1 ? json(kernel(kernel.rows() - 1, 1)) : json(nullptr)}};
    conv["data_kernel"] = {{"t0", data_kernel[0]}, {"t1", N > 1 ? json(data_kernel[1]) : json(nullptr)}};
  }
  r.summary["convolution"] = conv;
  r.summary["model"]["kind"] = c.model.kind;
  r.summary["model"]["description"] =
      fmt::format("full-width circular convolution, {} layer{}, {} (7.{})", c.model.layers, c.model.layers > 1 ? "s" : "",
                  models::describe(shape), c.model.layers == 1 ? 7 : 9);
  write_text_atomically(out / "summary.json", r.summary.dump(2) + "\n");
  logger->info("convolution: {} ({}), s_k in [{:.3g}, {:.3g}], rates x N = {} (7.5); fourier.csv, kernel.csv written",
               models::describe(shape), st.data_description, st.s.minCoeff(), st.s.maxCoeff(), N);
  if (c.output.figures && traj) write_kernel_figure(out, shape, r.tau, kernel, data_kernel, logger);
  return r;
}

}  // namespace specbias::pipeline
