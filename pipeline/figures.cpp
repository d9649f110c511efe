#include "pipeline/figures.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <sstream>

#include "common/atomic_file.hpp"

namespace specbias::pipeline {

namespace {

namespace fs = std::filesystem;

// Columns: τ then one column per mode (τ = 0 is dropped: the figures use a log τ axis).
void write_wide(const fs::path& path, const std::vector<double>& tau, const Eigen::MatrixXd& values) {
  write_file_atomically(path, [&](std::ostream& os) {
    os.precision(12);
    for (size_t j = 0; j < tau.size(); ++j) {
      if (!(tau[j] > 0)) continue;
      os << tau[j];
      for (Eigen::Index k = 0; k < values.cols(); ++k) os << " " << values(static_cast<Eigen::Index>(j), k);
      os << "\n";
    }
  });
}

}  // namespace

std::string gnuplot_header(const std::string& png, int width, int height) {
  return fmt::format(
      "set terminal pngcairo size {},{} enhanced font 'DejaVu Sans,11'\nset output '{}'\n"
      "set key outside right top\nset grid\nset palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 "
      "'#5ec962', 4 '#fde725')\nunset colorbox\n",
      width, height, png);
}

bool run_gnuplot_script(const fs::path& dir, const std::string& name, std::string& message) {
#ifdef SPECBIAS_GNUPLOT
  const std::string cmd =
      fmt::format("cd '{}' && '{}' '{}.gp' 2> '{}.gnuplot.log'", dir.string(), SPECBIAS_GNUPLOT, name, name);
  if (std::system(cmd.c_str()) == 0 && fs::exists(dir / (name + ".png"))) {
    fs::remove(dir / (name + ".gnuplot.log"));
    return true;
  }
  message = fmt::format("gnuplot failed for figures/{}.gp (see figures/{}.gnuplot.log)", name, name);
#else
  message = "built without gnuplot: figure scripts written to " + dir.string() +
            " (install gnuplot-nox and run `gnuplot " + name + ".gp` there)";
#endif
  return false;
}

FigureReport write_figures(const fs::path& run_dir, const SimulationResult& r,
                           const std::vector<Eigen::MatrixXd>& weights_closed,
                           const std::vector<Eigen::MatrixXd>& weights_numeric, const std::vector<double>& weight_sigma,
                           const std::vector<double>& kl_closed, const std::vector<double>& kl_numeric) {
  FigureReport report;
  const fs::path dir = run_dir / "figures";
  fs::create_directories(dir);
  const auto& p = r.problem;
  const int d = p.data.dim();
  const std::string modes_range = fmt::format("[k=2:{}]", d + 1);
  const std::string kind_title = r.summary.contains("model") ? r.summary["model"]["description"].get<std::string>() : "";
  std::vector<std::string> scripts;

  // (A) weights per mode at each requested σ.
  // Flow matching (training.loss) records its weights at times t, not noise levels σ.
  const bool at_t = r.summary.contains("loss") && r.summary["loss"]["kind"] == "flow_matching";
  for (size_t i = 0; i < weight_sigma.size(); ++i) {
    const std::string stem = fmt::format("{}{:g}", at_t ? "weights_t" : "weights_sigma", weight_sigma[i]);
    write_wide(dir / (stem + "_closed.dat"), r.tau, weights_closed[i]);
    write_wide(dir / (stem + "_numeric.dat"), r.tau, weights_numeric[i]);
    std::ostringstream gp;
    gp << gnuplot_header(stem + ".png") << fmt::format("set title '{} weights u_k^T W u_k at {} = {:g}'\n", kind_title, at_t ? "t" : "{/Symbol s}", weight_sigma[i])
       << "set logscale x\nset format x '10^{%T}'\nset xlabel 'training time {/Symbol t}'\nset ylabel 'weight w_k'\n"
       << "plot for " << modes_range << " '" << stem << "_closed.dat' using 1:k with lines lw 2 palette frac (k-2.0)/"
       << std::max(1, d - 1) << " notitle, \\\n     for " << modes_range << " '" << stem
       << "_numeric.dat' using 1:k every 4 with points pt 6 ps 0.6 lc rgb '#555555' title (k==2 ? 'numeric flow' : '')\n";
    write_text_atomically(dir / (stem + ".gp"), gp.str());
    scripts.push_back(stem);
  }

  // (B) generated variance per mode.
  if (r.closed_form || r.quadrature || r.numeric) {
    const auto& main = r.closed_form ? *r.closed_form : r.quadrature ? *r.quadrature : *r.numeric;
    const std::string main_title = r.closed_form ? "closed form" : r.quadrature ? "quadrature (4.4)" : "numeric";
    const bool overlay = r.numeric && (r.closed_form || r.quadrature);
    write_wide(dir / "variance_main.dat", r.tau, main.variance);
    if (overlay) write_wide(dir / "variance_numeric.dat", r.tau, r.numeric->variance);
    std::ostringstream targets;
    for (int k = 0; k < d; ++k) targets << p.data.eigenvalues(k) << "\n";
    write_text_atomically(dir / "targets.dat", targets.str());
    std::ostringstream gp;
    gp << gnuplot_header("variance.png") << "set title '" << kind_title << ": generated variance {/Symbol l}~_k({/Symbol t})'\n"
       << "set logscale xy\nset format x '10^{%T}'\nset format y '10^{%T}'\nset xlabel 'training time {/Symbol t}'\n"
       << "set ylabel 'variance'\n"
       << "plot for " << modes_range << " 'variance_main.dat' using 1:k with lines lw 2 palette frac (k-2.0)/"
       << std::max(1, d - 1) << " title (k==2 ? '" << main_title << "' : '')";
    if (overlay)
      gp << ", \\\n     for " << modes_range
         << " 'variance_numeric.dat' using 1:k every 5 with points pt 6 ps 0.6 lc rgb '#555555' title (k==2 ? 'numeric nested' : '')";
    gp << ", \\\n     for [i=0:" << d - 1 << "] 'targets.dat' every ::i::i using (" << r.tau.back()
       << "):1 with points pt 7 ps 0.8 lc rgb 'red' title (i==0 ? 'target {/Symbol l}_k' : '')\n";
    write_text_atomically(dir / "variance.gp", gp.str());
    scripts.push_back("variance");
  }

  // (C) emergence time vs λ with fits.
  const auto& fit_all = r.summary.contains("fits") ? r.summary["fits"] : nlohmann::json();
  const std::string method = r.summary["emergence"].contains("closed_form") ? "closed_form"
                             : r.summary["emergence"].contains("quadrature") ? "quadrature"
                                                                              : "numeric";
  if (r.summary["emergence"].contains(method)) {
    std::ostringstream rising, decaying, gray;
    for (const auto& m : r.summary["emergence"][method]) {
      if (m["tau_star"].is_null()) continue;
      std::ostringstream& os = m["gray_zone"].get<bool>() ? gray : (m["branch"] == "rising" ? rising : decaying);
      os << m["lambda"].get<double>() << " " << m["tau_star"].get<double>() << "\n";
    }
    write_text_atomically(dir / "emergence_rising.dat", rising.str() + "\n");
    write_text_atomically(dir / "emergence_decaying.dat", decaying.str() + "\n");
    write_text_atomically(dir / "emergence_gray.dat", gray.str() + "\n");
    std::ostringstream gp;
    gp << gnuplot_header("emergence.png") << "set title 'Emergence time {/Symbol t}* vs mode variance (11.1), fit (11.4)'\n"
       << "set logscale xy\nset format x '10^{%T}'\nset format y '10^{%T}'\nset xlabel 'mode variance {/Symbol l}_k'\n"
       << "set ylabel 'emergence time {/Symbol t}*'\n";
    std::vector<std::string> plots;
    for (const char* branch : {"rising", "decaying"}) {
      const auto& f = fit_all[method][branch];
      const std::string file = std::string("emergence_") + branch + ".dat";
      const std::string colour = std::string(branch) == "rising" ? "#1f77b4" : "#d62728";
      plots.push_back(fmt::format("'{}' using 1:2 with points pt 7 ps 1.2 lc rgb '{}' title '{} modes'", file, colour, branch));
      if (!f.is_null())
        plots.push_back(fmt::format("{:.10g}*x**(-{:.10g}) with lines lw 2 dt 2 lc rgb '{}' title 'fit {{/Symbol a}} = {:.3f}'",
                                    f["prefactor"].get<double>(), f["alpha"].get<double>(), colour, f["alpha"].get<double>()));
    }
    plots.push_back("'emergence_gray.dat' using 1:2 with points pt 6 ps 1.2 lc rgb '#999999' title 'gray zone (11.3)'");
    gp << "plot ";
    for (size_t i = 0; i < plots.size(); ++i) gp << (i ? ", \\\n     " : "") << plots[i];
    gp << "\n";
    write_text_atomically(dir / "emergence.gp", gp.str());
    scripts.push_back("emergence");
  }

  // KL divergence per τ.
  if (!kl_closed.empty() || !kl_numeric.empty()) {
    Eigen::MatrixXd kl(static_cast<Eigen::Index>(r.tau.size()), 2);
    for (size_t j = 0; j < r.tau.size(); ++j) {
      kl(static_cast<Eigen::Index>(j), 0) = kl_closed.empty() ? NAN : kl_closed[j];
      kl(static_cast<Eigen::Index>(j), 1) = kl_numeric.empty() ? NAN : kl_numeric[j];
    }
    write_wide(dir / "kl.dat", r.tau, kl);
    std::ostringstream gp;
    gp << gnuplot_header("kl.png", 800, 500) << "set title 'KL(generated || data) (10.1)'\nset logscale xy\n"
       << "set format x '10^{%T}'\nset format y '10^{%T}'\nset xlabel 'training time {/Symbol t}'\nset ylabel 'KL'\n"
       << "plot 'kl.dat' using 1:2 with lines lw 2 title 'closed form', 'kl.dat' using 1:3 every 4 with points pt 6 "
          "title 'numeric'\n";
    write_text_atomically(dir / "kl.gp", gp.str());
    scripts.push_back("kl");
  }

  std::string failure;
  for (const auto& s : scripts) {
    std::string message;
    if (run_gnuplot_script(dir, s, message))
      report.images.push_back(dir / (s + ".png"));
    else if (message != failure)  // "built without gnuplot" once, each real failure on its own
      report.messages.push_back(failure = message);
  }
  report.messages.push_back(fmt::format("figures: {} PNG files in {}", report.images.size(), dir.string()));
  return report;
}

}  // namespace specbias::pipeline
