#include "pipeline/phase.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analysis/power_law.hpp"
#include "common/atomic_file.hpp"
#include "common/errors.hpp"
#include "models/two_layer.hpp"
#include "pipeline/problem_builder.hpp"
#include "solver/gsl_integrator.hpp"

namespace specbias::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;
namespace tl = models::two_layer;

namespace {

// rk8pd on the (a, b) flow (6.2) written out from the gradient: the independent numeric check of (6.4).
struct NumericLayers {
  solver::GslIntegrator ode;
  NumericLayers(double lambda, double sigma, double eta, double a0, double b0)
      : ode(solver::GslMethod::rk8pd,
            [=](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) {
              const tl::ModeLayers d = tl::mode_layers_rhs(lambda, sigma, eta, {x(0), x(1)});
              dx(0) = d.a;
              dx(1) = d.b;
            },
            {}, Eigen::Vector2d(a0, b0), 0.0, solver::OdeOptions{1e-13, 1e-16, 1e-6, 10'000'000, "phase rk8pd", ""}) {}
};

}  // namespace

std::string run_phase_diagram(const config::Config& c, const fs::path& out_dir) {
  if (c.model.kind != "two_layer")
    throw ConfigError(c.source + ": [model] kind: the phase diagram (Fig. 22) is for kind = \"two_layer\" (got \"" +
                      c.model.kind + "\"); each mode is one start (a_k, b_k)");
  const models::DenoiserProblem p = build_problem(c, build_data(c));
  const double sigma = c.analysis.weight_sigma.front(), eta = p.eta;
  fs::create_directories(out_dir / "figures");
  const int d = p.data.dim();

  // Phase lines dw/dτ (6.3) for every distinct C, over a range covering all starts and fixed points.
  std::set<double> Cs;
  double w_lo = 0.0, w_hi = 0.0;
  for (int k = 0; k < d; ++k) {
    Cs.insert((p.a(k) - p.b(k)) * (p.a(k) + p.b(k)));  // C = a² − b², exactly 0 for b = ±a
    const double w_star = p.data.eigenvalues(k) / (p.data.eigenvalues(k) + sigma * sigma);
    w_lo = std::min({w_lo, p.Q(k), -w_star});
    w_hi = std::max({w_hi, p.Q(k), 2.0 * w_star});
  }
  const double lambda0 = p.data.eigenvalues(0);
  write_file_atomically(out_dir / "phase_field.csv", [&](std::ostream& os) {
    os << "C,w,dw_dtau\n";
    os.precision(12);
    for (double C : Cs)
      for (int i = 0; i <= 400; ++i) {
        const double w = w_lo + (w_hi - w_lo) * i / 400.0;
        os << C << "," << w << "," << tl::reduced_rhs(lambda0, sigma, eta, C, w) << "\n";
      }
  });

  json starts = json::array();
  std::ostringstream table;
  table << fmt::format("phase diagram (6.2)-(6.4) at sigma = {:g}, eta = {:g}: A = 2 eta lambda, B = 2 eta (lambda + sigma^2)\n",
                       sigma, eta);
  table << fmt::format("{:>6} {:>7} {:>7} {:>7} {:>6} {:>6} {:>8} {:>11} {:>11} {:>11} {:>9} {:>9}\n", "start", "a0", "b0",
                       "C", "A", "B", "limit", "rate (6.4)", "fit expl.", "fit rk8pd", "|expl-num|", "C drift");
  std::ostringstream traj;
  traj << "mode,tau,a,b,w,a_numeric,b_numeric,w_numeric\n";
  traj.precision(15);
  for (int k = 0; k < d; ++k) {
    const double lambda = p.data.eigenvalues(k), a0 = p.a(k), b0 = p.b(k);
    const double L = lambda + sigma * sigma, A = 2.0 * eta * lambda, B = 2.0 * eta * L, w_star = A / B;
    const double C = (a0 - b0) * (a0 + b0);
    // The fixed point reached: w* unless the start lies on the stuck line b = −a (C = 0, a + b = 0), where the
    // flow keeps b = −a and w = −a² rises to the second fixed point 0 (a = b = 0 stays there).
    const bool stuck = a0 + b0 == 0.0;
    const double limit = stuck ? 0.0 : w_star;
    const double rate_theory = stuck ? 2.0 * A : B * std::sqrt(C * C + 4.0 * w_star * w_star);
    // Trajectory over ~30 e-folds of the theoretical rate (enough to leave 1e-12 of the initial gap), sampled
    // densely; the fits use the window 1e-12 < |w − limit| < 1e-4 where the approach is exponential.
    const double tau_end = 30.0 / rate_theory;
    NumericLayers num(lambda, sigma, eta, a0, b0);
    std::vector<double> taus, gap_explicit, gap_numeric;
    double worst = 0.0, drift = 0.0;
    for (int i = 0; i <= 600; ++i) {
      const double tau = tau_end * i / 600.0;
      const tl::ModeLayers e = tl::explicit_solution(lambda, sigma, eta, tau, {a0, b0});
      num.ode.advance_to(tau);
      const double an = num.ode.state()(0), bn = num.ode.state()(1);
      worst = std::max({worst, std::abs(e.a - an), std::abs(e.b - bn)});
      drift = std::max(drift, std::abs(an * an - bn * bn - C));
      traj << k << "," << tau << "," << e.a << "," << e.b << "," << e.w() << "," << an << "," << bn << "," << an * bn << "\n";
      const double ge = e.w() - limit, gn = an * bn - limit;
      if (std::abs(ge) < 1e-4 && std::abs(ge) > 1e-12) {
        taus.push_back(tau);
        gap_explicit.push_back(ge);
        gap_numeric.push_back(std::abs(gn) > 1e-12 ? gn : 0.0);
      }
    }
    const auto fe = analysis::fit_exponential_rate(taus, gap_explicit);
    const auto fn = analysis::fit_exponential_rate(taus, gap_numeric);
    auto num_or_null = [](const std::optional<analysis::ExponentialFit>& f) { return f ? json(f->rate) : json(nullptr); };
    starts.push_back({{"mode", k}, {"lambda", lambda}, {"a0", a0}, {"b0", b0}, {"C", C}, {"A", A}, {"B", B},
                      {"w_star", w_star}, {"stuck", stuck}, {"limit", limit}, {"rate_theory", rate_theory},
                      {"rate_fit_explicit", num_or_null(fe)}, {"rate_fit_numeric", num_or_null(fn)},
                      {"r2_fit_explicit", fe ? json(fe->r2) : json(nullptr)},
                      {"max_abs_explicit_vs_numeric", worst}, {"C_drift_numeric", drift}});
    auto cell = [](const std::optional<analysis::ExponentialFit>& f) {
      return f ? fmt::format("{:.6f}", f->rate) : std::string("n/a");
    };
    table << fmt::format("{:>6} {:>7.3f} {:>7.3f} {:>7.3f} {:>6.3f} {:>6.3f} {:>8} {:>11.6f} {:>11} {:>11} {:>9.1e} {:>9.1e}\n", k, a0,
                         b0, C, A, B, stuck ? "0 (stuck)" : fmt::format("{:.4f}", w_star), rate_theory, cell(fe), cell(fn),
                         worst, drift);
  }
  write_text_atomically(out_dir / "phase_trajectories.csv", traj.str());
  const json summary{{"sigma", sigma}, {"eta", eta}, {"starts", starts}, {"config_source", c.source}};
  write_text_atomically(out_dir / "phase_summary.json", summary.dump(2) + "\n");

  // Figure: left, the phase lines dw/dτ vs w per C; right, the (a, b) trajectories with ab = w* and b = ±a.
  std::ostringstream gp;
  gp << "set terminal pngcairo size 1300,560 enhanced font 'DejaVu Sans,11'\nset output 'phase.png'\n"
     << "set datafile separator ','\nset multiplot layout 1,2 title 'Two-layer per-mode dynamics (6.2)-(6.4), Fig. 22'\n"
     << "set grid\nset xlabel 'w = ab'\nset ylabel 'dw/d{/Symbol t}'\nset key top right\nset xzeroaxis lt -1\n"
     << "plot ";
  int i = 0;
  for (double C : Cs)
    gp << (i++ ? ", \\\n     " : "") << fmt::format("'../phase_field.csv' using ($1=={0:.12g} ? $2 : 1/0):3 every ::1 with lines lw 2 title 'C = {0:.3g}'", C);
  gp << "\nset xlabel 'a'\nset ylabel 'b'\nset size ratio -1\nunset key\n"
     << fmt::format("w0 = {:.12g}\n", lambda0 / (lambda0 + sigma * sigma))
     << "set samples 400\nplot [-1.6:1.6][-1.6:1.6] w0/x with lines lc rgb '#999999' dt 2, x with lines lc rgb '#cccccc', "
        "-x with lines lc rgb '#cccccc', \\\n"
     // One curve per start: points of other starts are undefined (1/0), which breaks the line.
     << fmt::format("     for [k=0:{}] '../phase_trajectories.csv' using ($1==k ? $3 : 1/0):4 every ::1 with lines lw 2 lc k+1\n", d - 1)
     << "unset multiplot\n";
  write_text_atomically(out_dir / "figures" / "phase.gp", gp.str());
#ifdef SPECBIAS_GNUPLOT
  const std::string cmd = fmt::format("cd '{}' && '{}' phase.gp 2> phase.gnuplot.log", (out_dir / "figures").string(), SPECBIAS_GNUPLOT);
  if (std::system(cmd.c_str()) == 0 && fs::exists(out_dir / "figures" / "phase.png")) fs::remove(out_dir / "figures" / "phase.gnuplot.log");
  else table << "gnuplot failed for figures/phase.gp (see figures/phase.gnuplot.log)\n";
#endif
  return table.str();
}

}  // namespace specbias::pipeline
