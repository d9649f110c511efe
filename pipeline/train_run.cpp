#include "pipeline/train_run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "analysis/emergence.hpp"
#include "analysis/power_law.hpp"
#include "common/atomic_file.hpp"
#include "common/file_manifest.hpp"
#include "common/environment.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "models/data_files.hpp"
#include "models/data_sources.hpp"
#include "models/pf_ode.hpp"
#include "models/splitmix64.hpp"
#include "pipeline/figures.hpp"
#include "pipeline/summary_json.hpp"
#include "pipeline/run_directory.hpp"
#include "train/record_schedule.hpp"
#ifdef SPECBIAS_WITH_CUDA_ENGINE
#include "train/cuda/training.hpp"
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace specbias::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::int64_t parameter_count(const train::TrainerOptions& o) {
  return o.model_kind == "linear" ? train::linear_denoiser_parameter_count(o.linear) : train::mlp_unet_parameter_count(o.net);
}


// Image layout for sample grids: a square d (C = 1) or 3 × square (RGB, channel-major); anything else is not
// drawn as an image.
struct ImageShape {
  int channels = 0, height = 0, width = 0;
};
ImageShape guess_image_shape(Eigen::Index d) {
  for (int c : {1, 3}) {
    if (d % c != 0) continue;
    const auto side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(d / c))));
    if (static_cast<Eigen::Index>(side) * side * c == d) return {c, side, side};
  }
  return {};
}

// The authors' estimator per mode (EMPIRICAL.md §5).
std::vector<analysis::ModeEmergence> analyse(const train::RecordLog& rec, const Eigen::VectorXd& lambda,
                                             const config::TrainAnalysisConfig& a) {
  const auto criterion = a.criterion == "harmonic" ? analysis::Criterion::harmonic : analysis::Criterion::geometric;
  std::vector<double> steps(rec.steps.begin(), rec.steps.end());
  const double mean_first = rec.mode_variance.row(0).mean();
  std::vector<analysis::ModeEmergence> out;
  for (Eigen::Index k = 0; k < lambda.size(); ++k) {
    std::vector<double> v(static_cast<size_t>(rec.mode_variance.rows()));
    for (size_t r = 0; r < v.size(); ++r) v[r] = rec.mode_variance(static_cast<Eigen::Index>(r), k);
    analysis::ModeEmergence m;
    m.mode = static_cast<int>(k);
    m.lambda = lambda(k);
    m.v0 = v[0];
    m.v_target = lambda(k);
    m.gray = lambda(k) > 0 && analysis::in_gray_zone(mean_first, lambda(k), a.gray_lo, a.gray_hi);
    m.rising = lambda(k) > v[0];
    if (lambda(k) > 0 && v[0] > 0 && steps.size() >= 2) {
      const auto e = analysis::first_crossing_sampled(steps, v, lambda(k), criterion, a.smoothing);
      if (e) {
        m.tau_star = e->tau;
        m.rising = e->rising;
      } else {
        // Direction as the estimator would have chosen it, from the smoothed start.
        m.rising = analysis::gaussian_smooth_index(v, a.smoothing)[0] <=
                   analysis::emergence_threshold(v[0], lambda(k), criterion);
      }
    }
    out.push_back(m);
  }
  return out;
}

// The linear theory beside the experiment: the one-layer denoiser (THEORY §3.1, §4.3) on the same empirical
// spectrum, with Q chosen so that its initial generated variance (4.7) equals the network's mean initial generated
// variance, the sampler's σ range, and the same criterion, target λ_k and gray zone. Emergence is continuous in
// τ (root-found on the closed form (4.9)); only exponents compare (τ and training steps have different units).
json theory_beside(const train::RecordLog& rec, const Eigen::VectorXd& lambda, const config::TrainConfig& c) {
  const models::SamplingRange range{c.sampling.sigma_min, c.sampling.sigma_max};
  const double mean_first = rec.mode_variance.row(0).mean();
  const double s0 = range.sigma_min * range.sigma_min, sT = range.sigma_max * range.sigma_max;
  const double Q = std::log(mean_first / s0) / std::log(sT / s0);
  const auto criterion = c.analysis.criterion == "harmonic" ? analysis::Criterion::harmonic : analysis::Criterion::geometric;
  std::vector<analysis::ModeEmergence> modes;
  for (Eigen::Index k = 0; k < lambda.size(); ++k) {
    analysis::ModeEmergence m;
    m.mode = static_cast<int>(k);
    m.lambda = lambda(k);
    m.v0 = models::one_layer_initial_variance(Q, range);
    m.v_target = lambda(k);
    m.rising = m.v_target > m.v0;
    m.gray = !(lambda(k) > 0) || analysis::in_gray_zone(m.v0, m.v_target, c.analysis.gray_lo, c.analysis.gray_hi);
    if (lambda(k) > 0) {
      const auto e = analysis::first_crossing_continuous(
          [&](double tau) { return models::one_layer_generated_variance(lambda(k), Q, 1.0, tau, range); }, m.v0,
          m.v_target, criterion, 1e-8, 1e8);
      if (e) m.tau_star = e->tau;
    }
    modes.push_back(m);
  }
  const auto fits = analysis::fit_branches(modes);
  return {{"model", "one-layer linear denoiser, closed form (4.9), eta = 1"},
          {"Q_matching_mean_initial_variance", Q},
          {"fits", {{"rising", fit_json(fits.rising)}, {"decaying", fit_json(fits.decaying)}}}};
}

void run_gnuplot(const fs::path& dir, const std::string& name, std::vector<std::string>& messages) {
  std::string message;
  if (!run_gnuplot_script(dir, name, message) && (messages.empty() || messages.back() != message))
    messages.push_back(message);
}

std::vector<std::string> write_train_figures(const fs::path& run_dir, const train::RecordLog& rec,
                                             const Eigen::VectorXd& lambda,
                                             const std::vector<analysis::ModeEmergence>& modes,
                                             const analysis::BranchFits& fits, ImageShape shape) {
  std::vector<std::string> messages;
  const fs::path dir = run_dir / "figures";
  fs::create_directories(dir);
  const auto R = rec.mode_variance.rows();
  const auto d = lambda.size();

  // (1) Variance trajectories v_k/λ_k for up to 12 modes spread over the spectrum (step 0 dropped: log axis).
  std::vector<Eigen::Index> shown;
  for (int i = 0; i < std::min<Eigen::Index>(12, d); ++i) shown.push_back(i * (d - 1) / std::max<Eigen::Index>(1, std::min<Eigen::Index>(12, d) - 1));
  write_file_atomically(dir / "variance.dat", [&](std::ostream& os) {
    os.precision(10);
    for (Eigen::Index r = 1; r < R; ++r) {
      os << rec.steps[static_cast<size_t>(r)];
      for (auto k : shown) os << ' ' << rec.mode_variance(r, k) / lambda(k);
      os << '\n';
    }
  });
  {
    std::ostringstream gp;
    gp << gnuplot_header("variance.png") << "set logscale xy\nset key outside right top\nset xlabel 'training step'\n"
       << "set ylabel 'generated variance / {/Symbol l}_k'\nset title 'Generated variance per data eigenmode'\nplot ";
    for (size_t i = 0; i < shown.size(); ++i)
      gp << (i ? ", " : "") << "'variance.dat' using 1:" << i + 2 << " with linespoints pt 7 ps 0.4 title 'k = "
         << shown[i] << " ({/Symbol l} = " << fmt::format("{:.2g}", lambda(shown[i])) << ")'";
    gp << ", 1 with lines dt 2 lc 'black' notitle\n";
    write_text_atomically(dir / "variance.gp", gp.str());
    run_gnuplot(dir, "variance", messages);
  }

  // (2) Heat map log10(v_k/λ_k) over (record index, mode) with emergence dots; gray-zone modes in grey.
  write_file_atomically(dir / "heatmap.dat", [&](std::ostream& os) {
    os.precision(6);
    for (Eigen::Index k = 0; k < d; ++k) {
      for (Eigen::Index r = 0; r < R; ++r) os << (r ? " " : "") << std::log10(std::max(1e-300, rec.mode_variance(r, k) / lambda(k)));
      os << '\n';
    }
  });
  write_file_atomically(dir / "emergence_dots.dat", [&](std::ostream& os) {
    for (const auto& m : modes) {
      if (!m.tau_star) continue;
      const auto it = std::find(rec.steps.begin(), rec.steps.end(), static_cast<std::int64_t>(*m.tau_star));
      os << (it - rec.steps.begin()) << ' ' << m.mode << ' ' << (m.gray ? 1 : 0) << '\n';
    }
  });
  {
    std::ostringstream gp;
    gp << gnuplot_header("heatmap.png", 1000, 700) << "set xlabel 'record index (step 0 = index 0)'\nset ylabel 'mode k (descending {/Symbol l})'\n"
       << "set cblabel 'log_{10}(v_k / {/Symbol l}_k)'\nset title 'Generated variance over training; dots: emergence (grey: gray zone)'\n"
       << "set palette defined (-2 '#2166ac', 0 '#f7f7f7', 2 '#b2182b')\nset colorbox\nset cbrange [-2:2]\nset yrange [] reverse\n"
       << "plot 'heatmap.dat' matrix with image notitle, 'emergence_dots.dat' using 1:2:($3 > 0 ? 0x999999 : 0x000000) "
          "with points pt 7 ps 0.5 lc rgb variable notitle\n";
    write_text_atomically(dir / "heatmap.gp", gp.str());
    run_gnuplot(dir, "heatmap", messages);
  }

  // (3) Power law: τ* vs λ per branch with both fits.
  write_file_atomically(dir / "powerlaw.dat", [&](std::ostream& os) {
    os.precision(10);
    for (const auto& m : modes)
      if (m.tau_star && *m.tau_star > 0)
        os << m.lambda << ' ' << *m.tau_star << ' ' << (m.rising ? 1 : 0) << ' ' << (m.gray ? 1 : 0) << '\n';
  });
  {
    std::ostringstream gp;
    gp << gnuplot_header("powerlaw.png") << "set logscale xy\nset xlabel 'data variance {/Symbol l}_k'\nset ylabel 'emergence step {/Symbol t}*'\n"
       << "set title 'Emergence step vs eigenvalue'\nset key top right\nplot 'powerlaw.dat' using 1:($3 == 1 && $4 == 0 ? $2 : 1/0) "
          "with points pt 7 lc rgb '#b2182b' title 'rising', 'powerlaw.dat' using 1:($3 == 0 && $4 == 0 ? $2 : 1/0) with points pt 5 "
          "lc rgb '#2166ac' title 'decaying', 'powerlaw.dat' using 1:($4 == 1 ? $2 : 1/0) with points pt 6 lc 'grey' title 'gray zone'";
    if (fits.rising)
      gp << fmt::format(", {} * x**(-{}) lw 2 lc rgb '#b2182b' title 'rising fit {{/Symbol a}} = {:.3f}, R^2 = {:.3f}'",
                        fits.rising->prefactor, fits.rising->alpha, fits.rising->alpha, fits.rising->r2);
    if (fits.decaying)
      gp << fmt::format(", {} * x**(-{}) lw 2 lc rgb '#2166ac' title 'decaying fit {{/Symbol a}} = {:.3f}, R^2 = {:.3f}'",
                        fits.decaying->prefactor, fits.decaying->alpha, fits.decaying->alpha, fits.decaying->r2);
    gp << '\n';
    write_text_atomically(dir / "powerlaw.gp", gp.str());
    run_gnuplot(dir, "powerlaw", messages);
  }

  // (4) Loss curve from loss.csv.
  {
    std::ostringstream gp;
    gp << gnuplot_header("loss.png", 800, 500) << "set datafile separator ','\nset logscale xy\nset xlabel 'training step'\n"
       << "set ylabel 'EDM loss'\nplot '../loss.csv' every ::1 using 1:2 with lines lc rgb '#999999' title 'per step', "
          "'../records.csv' every ::2 using 1:2 with linespoints pt 7 title 'mean between records'\n";
    write_text_atomically(dir / "loss.gp", gp.str());
    run_gnuplot(dir, "loss", messages);
  }

  // (5) Sample grid for image data: one row per kept record (up to 10 spread over training), 8 samples each.
  if (shape.channels == 1 && fs::exists(run_dir / "samples")) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(run_dir / "samples")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<fs::path> rows;
    const size_t want = std::min<size_t>(10, files.size());
    for (size_t i = 0; i < want; ++i) rows.push_back(files[i * (files.size() - 1) / std::max<size_t>(1, want - 1)]);
    const int per_row = 8, H = shape.height, W = shape.width;
    Eigen::MatrixXd grid = Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(rows.size()) * (H + 1), per_row * (W + 1), -1.0);
    for (size_t r = 0; r < rows.size(); ++r) {
      const NpyArray a = read_npy(rows[r]);
      const size_t n = std::min<size_t>(per_row, a.shape[0]);
      for (size_t s = 0; s < n; ++s)
        for (int y = 0; y < H; ++y)
          for (int x = 0; x < W; ++x)
            grid(static_cast<Eigen::Index>(r) * (H + 1) + y, static_cast<Eigen::Index>(s) * (W + 1) + x) =
                std::clamp(a.data[s * static_cast<size_t>(H * W) + static_cast<size_t>(y * W + x)], -1.0, 1.0);
    }
    write_file_atomically(dir / "samples.dat", [&](std::ostream& os) {
      for (Eigen::Index y = 0; y < grid.rows(); ++y) {
        for (Eigen::Index x = 0; x < grid.cols(); ++x) os << (x ? " " : "") << grid(y, x);
        os << '\n';
      }
    });
    std::ostringstream gp;
    gp << gnuplot_header("samples.png", 900, std::max(200, static_cast<int>(90 * rows.size())))
       << "unset grid\nunset xtics\nunset ytics\nunset colorbox\nset palette gray\nset cbrange [-1:1]\nset yrange [] reverse\n"
       << "set size ratio -1\nset title 'Samples over training (rows: records from step 0 to the last)'\n"
       << "plot 'samples.dat' matrix with image notitle\n";
    write_text_atomically(dir / "samples.gp", gp.str());
    run_gnuplot(dir, "samples", messages);
  }
  return messages;
}

}  // namespace

train::TrainingSet build_training_set(const config::TrainConfig& c) {
  Eigen::MatrixXd X;  // N × d
  std::string description;
  if (c.data.source == "gaussian") {
    // THEORY (12.4): spectrum and rotation from SplitMix64(seed); the samples x = R diag(sqrt v) n from
    // SplitMix64(seed + 1), so the population moments do not depend on the sample count.
    const models::DataMoments pop = models::lognormal_rotation_moments(c.data.dim, static_cast<std::uint64_t>(c.data.seed));
    models::SplitMix64 rng(static_cast<std::uint64_t>(c.data.seed) + 1);
    const Eigen::MatrixXd n = rng.normal_matrix(c.data.samples, c.data.dim);
    X = n * pop.eigenvalues.cwiseSqrt().asDiagonal() * pop.eigenvectors.transpose();
    description = pop.description + fmt::format(", {} samples (SplitMix64 seed {})", c.data.samples, c.data.seed + 1);
  } else {
    const auto scaling = c.data.scaling == "unit" ? models::PixelScaling::unit
                         : c.data.scaling == "raw" ? models::PixelScaling::raw
                                                   : models::PixelScaling::minus_one_one;
    std::optional<Eigen::Index> max;
    if (c.data.max_samples > 0) max = c.data.max_samples;
    X = models::load_samples(c.data.file, scaling, max);
    description = fmt::format("{} ({} samples, d = {}, scaling {})", c.data.file, X.rows(), X.cols(), c.data.scaling);
  }
  const models::DataMoments m = models::moments_from_samples(X, description);  // empirical basis (EMPIRICAL §5)
  train::TrainingSet t;
  t.samples = X.transpose().cast<float>();
  t.mean = m.mean;
  t.basis = m.eigenvectors;
  t.eigenvalues = m.eigenvalues;
  t.description = description;
  return t;
}

train::TrainerOptions build_trainer_options(const config::TrainConfig& c, Eigen::Index dim) {
  train::TrainerOptions o;
  o.model_kind = c.model.kind;
  o.net.dim = dim;
  o.net.nlayers = c.model.nlayers;
  o.net.hidden = c.model.hidden;
  o.net.embedding = c.model.embedding;
  if (c.model.kind == "mlp_unet") o.net.validate();
  o.linear = {dim, c.model.layers, c.model.hidden, c.model.init_scale};
  if (c.model.kind == "linear") o.linear.validate();
  o.optimizer = c.training.optimizer;
  o.edm.fixed_sigma = c.edm.fixed_sigma;
  o.init_seed = static_cast<std::uint64_t>(c.model.seed);
  o.edm.sigma_data = c.edm.sigma_data;
  o.edm.p_mean = c.edm.p_mean;
  o.edm.p_std = c.edm.p_std;
  o.edm.sigma_min = c.sampling.sigma_min;
  o.edm.reduction = c.edm.reduction == "sum" ? train::LossReduction::sum : train::LossReduction::mean;
  o.adam.lr = c.training.lr;
  o.steps = c.training.steps;
  o.batch = c.training.batch;
  o.train_seed = static_cast<std::uint64_t>(c.training.seed);
  o.checkpoint_every = c.training.checkpoint_every;
  o.shards = c.training.shards;
  o.sampler = {c.sampling.steps, c.sampling.sigma_min, c.sampling.sigma_max, c.sampling.rho};
  o.eval_samples = c.sampling.samples;
  o.chunk = c.sampling.chunk;
  o.fresh_latents = c.sampling.latents == "fresh";
  o.sample_seed = static_cast<std::uint64_t>(c.sampling.seed);
  if (c.sampling.schedule == "uniform") {
    o.record_steps = train::uniform_schedule(c.training.steps, c.sampling.every);
  } else if (c.sampling.schedule == "log") {
    o.record_steps = train::log_schedule(c.training.steps, c.sampling.records);
  } else {
    const bool images = c.sampling.schedule_kind == "images" || (c.sampling.schedule_kind == "auto" && c.data.source == "file");
    o.record_steps = train::record_schedule(c.training.steps, images ? train::ScheduleKind::images : train::ScheduleKind::gaussian);
  }
  o.keep_samples = c.sampling.keep_samples ? c.sampling.keep : 0;
  return o;
}

std::string describe_training(const config::TrainConfig& c) {
  std::ostringstream s;
  s << "# resolved configuration (source: " << c.source << ")\n" << c.to_toml() << "\n\n";
  Eigen::Index d = c.data.dim;
  std::string from;
  if (c.data.source == "file") {  // the dimension comes from the file: read only its first sample
    d = models::load_samples(c.data.file, models::PixelScaling::raw, Eigen::Index{1}).cols();
    from = " (from " + c.data.file + ")";
  }
  const auto o = build_trainer_options(c, d);
  if (o.model_kind == "linear")
    s << fmt::format("# network: linear denoiser in the EDM wrapper, d = {}{}, {} layer(s): {} trainable parameters\n", d,
                     from, o.linear.layers, parameter_count(o));
  else
    s << fmt::format("# network: MLP-UNet d = {}{}, L/H/E = {}/{}/{}: {} trainable parameters\n", d, from, c.model.nlayers,
                     c.model.hidden, c.model.embedding, parameter_count(o));
  s << fmt::format("# records: {} (steps 0 … {}), {} samples × {} Heun steps ({} NFE) each\n", o.record_steps.size(),
                   c.training.steps, c.sampling.samples, c.sampling.steps, 2 * c.sampling.steps - 1);
  s << "# precision: fp32 (Eigen CPU)\n";
  return s.str();
}

json train_to_directory(const config::TrainConfig& c, const fs::path& out, const TrainRunOptions& ro) {
  auto logger = open_run_log(out, "specbias-train", ro.quiet, false);

  if (!ro.resume) write_run_inputs(out, "specbias train", c.source, c.to_toml());
#ifdef _OPENMP
  if (c.run.threads > 0) omp_set_num_threads(c.run.threads);
#endif
  if (c.run.threads > 0) Eigen::setNbThreads(c.run.threads);
  logger->info("specbias train {} -> {}{}", c.source, out.string(), ro.resume ? " (resume)" : "");
  std::unique_ptr<train::DeviceEngine> engine;
  if (ro.device == "cuda") {
#ifndef SPECBIAS_WITH_CUDA_ENGINE
    throw NotCompiledError("--device cuda: this binary was built without CUDA (configure with -DSPECBIAS_CUDA=ON on a "
                           "machine with the CUDA toolkit); use --device cpu");
#endif
  } else if (ro.device != "cpu") {
    throw ConfigError("--device " + ro.device + " is not one of: cpu, cuda");
  } else {
    logger->info("precision: fp32 (CPU, Eigen {} threads)", Eigen::nbThreads());
  }

  const train::TrainingSet data = build_training_set(c);
  logger->info("data: {}", data.description);
  train::TrainerOptions o = build_trainer_options(c, data.samples.rows());
  o.crash_after_step = ro.crash_after_step;
  o.resume_from_previous = ro.from_previous;
#ifdef SPECBIAS_WITH_CUDA_ENGINE
  if (ro.device == "cuda") {
    engine = train::cuda::make_cuda_engine(data, o, ro.gemm_precision);
    logger->info("precision: fp32 activations, {} GEMMs (CUDA: {})", ro.gemm_precision, engine->description());
  }
#endif
  logger->info("network: {} trainable parameters; {} records; {} training steps", parameter_count(o), o.record_steps.size(), o.steps);

  // Progress with rate and ETA on a terminal; nothing in CI logs.
  const bool tty = !ro.quiet && isatty(fileno(stderr));
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t first_step = -1;
  train::TrainerCallbacks cb;
  cb.log = [&](const std::string& s) { logger->info("{}", s); };
  cb.progress = [&](std::int64_t step, std::int64_t steps, double loss) {
    if (first_step < 0) first_step = step;
    if (!tty || (step % 10 != 0 && step != steps)) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = static_cast<double>(step - first_step + 1) / std::max(el, 1e-9);
    std::fprintf(stderr, "\r  step %lld/%lld  loss %.4f  %.1f steps/s  ETA %.0f s   ", static_cast<long long>(step),
                 static_cast<long long>(steps), loss, rate, static_cast<double>(steps - step) / rate);
    if (step == steps) std::fprintf(stderr, "\n");
  };
  const auto train_start = std::chrono::steady_clock::now();
  const train::RecordLog rec = train::run_training(data, o, out, ro.resume, cb, engine.get());
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();

  // Analysis (EMPIRICAL §5).
  const auto modes = analyse(rec, data.eigenvalues, c.analysis);
  const analysis::BranchFits fits = analysis::fit_branches(modes);
  std::vector<double> steps_d(rec.steps.begin(), rec.steps.end());
  write_npy(out / "steps.npy", steps_d.data(), {steps_d.size()});
  write_npy(out / "lambda.npy", data.eigenvalues);
  write_npy(out / "variance.npy", rec.mode_variance);
  write_npy(out / "mode_mean_error.npy", rec.mode_mean_error);
  write_npy(out / "mean_error.npy", rec.mean_error.data(), {rec.mean_error.size()});
  write_npy(out / "alignment.npy", rec.alignment.data(), {rec.alignment.size()});
  write_npy(out / "data_basis.npy", data.basis);
  // Checksums of the result arrays and the kept samples, so a later run that reads one of them (data.file) finds
  // damage before using it (common/file_manifest.hpp).
  write_file_manifest(out, {"steps.npy", "lambda.npy", "variance.npy", "mode_mean_error.npy", "mean_error.npy",
                            "alignment.npy", "data_basis.npy"},
                      {{"content", "specbias train result arrays"}});
  if (fs::exists(out / "samples")) {
    std::vector<std::string> kept;
    for (const auto& e : fs::directory_iterator(out / "samples"))
      if (e.path().extension() == ".npy") kept.push_back(e.path().filename().string());
    std::sort(kept.begin(), kept.end());
    write_file_manifest(out / "samples", kept, {{"content", "generated samples per record"}});
  }

  json jm = json::array();
  for (const auto& m : modes)
    jm.push_back({{"mode", m.mode}, {"lambda", m.lambda}, {"v0", m.v0},
                  {"emergence_step", m.tau_star ? json(*m.tau_star) : json(nullptr)}, {"rising", m.rising}, {"gray", m.gray}});
  json summary;
  summary["config_source"] = c.source;
  summary["data"] = data.description;
  summary["dimension"] = data.samples.rows();
  summary["training_samples"] = data.samples.cols();
  summary["model"] = c.model.kind;
  summary["parameters"] = parameter_count(o);
  summary["precision"] = "fp32";
  summary["seeds"] = {{"data", c.data.seed}, {"model", c.model.seed}, {"training", c.training.seed}, {"sampling", c.sampling.seed}};
  summary["steps"] = c.training.steps;
  summary["records"] = rec.steps.size();
  summary["criterion"] = c.analysis.criterion;
  summary["smoothing"] = c.analysis.smoothing;
  summary["gray_zone"] = {c.analysis.gray_lo, c.analysis.gray_hi};
  summary["modes"] = jm;
  summary["fits"] = {{"rising", fit_json(fits.rising)}, {"decaying", fit_json(fits.decaying)}};
  summary["final"] = {{"loss_mean", finite_or_null(rec.loss_mean.back())}, {"mean_error", rec.mean_error.back()},
                      {"alignment", finite_or_null(rec.alignment.back())}};
  if (rec.mode_variance(0, 0) > 0 && rec.mode_variance.row(0).mean() > c.sampling.sigma_min * c.sampling.sigma_min)
    summary["theory"] = theory_beside(rec, data.eigenvalues, c);
  summary["timings"] = {{"this_session_s", train_s}};
  summary["environment"] = environment_info();
  write_text_atomically(out / "summary.json", summary.dump(2) + "\n");
  for (const char* b : {"rising", "decaying"}) {
    const auto& f = std::string(b) == "rising" ? fits.rising : fits.decaying;
    if (f) logger->info("fit ({}): alpha = {:.4f}, R^2 = {:.4f}, n = {}", b, f->alpha, f->r2, f->n);
    else logger->info("fit ({}): fewer than two usable modes", b);
    if (summary.contains("theory") && !summary["theory"]["fits"][b].is_null())
      logger->info("  one-layer theory on the same spectrum ({}): alpha = {:.4f}", b,
                   summary["theory"]["fits"][b]["alpha"].get<double>());
  }
  if (c.run.figures)
    for (const auto& msg : write_train_figures(out, rec, data.eigenvalues, modes, fits, guess_image_shape(data.samples.rows())))
      logger->warn("{}", msg);
  logger->info("done: {}", (out / "summary.json").string());
  return summary;
}

json resume_training(const fs::path& run_dir, bool quiet, const std::string& device, const std::string& gemm_precision,
                     bool from_previous) {
  const fs::path cfg = run_dir / "resolved_config.toml";
  if (!fs::exists(cfg))
    throw ConfigError("cannot resume: " + cfg.string() + " not found (is " + run_dir.string() + " a specbias train run directory?)");
  config::TrainConfig c = config::load_train_config(cfg.string());
  return train_to_directory(c, run_dir, {true, quiet, -1, device, gemm_precision, from_previous});
}

}  // namespace specbias::pipeline
