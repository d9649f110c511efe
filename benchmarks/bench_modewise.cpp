// Benchmark (b): the numeric mode-wise one-layer path at ≤ 1e-8 relative accuracy, d = 256 modes × 100 τ.
//
// Library paths, each checked against the closed form (4.9) (models::closed_form_trajectory):
//   nested_modewise/exponential numeric outer flow (exact linear propagator, vectorised over modes) at the
//                              Gauss–Legendre σ nodes, then (4.4) on the node grid as one GEMV per τ; run on the
//                              library's default grid (24 panels × 12 = 288 nodes) and on coarser grids
//                              (--grids, default 12x12 and 10x10) that still meet the accuracy target by orders of
//                              magnitude — the error of every grid is measured and reported;
//   quadrature_trajectory      adaptive GSL QAGP of (4.4) on the closed-form weights (3.4), break points ½ ln λ and
//                              −½ ln c — the same computation as the SciPy peer (peers/modewise.py: quad per (τ, k));
//                              run at the peer's rel_tol (1e-10) and at the library default (1e-12);
//   nested_modewise/bsimp      the outer flow by GSL's implicit Bader–Deuflhard integrator per (node, mode) (slow:
//                              one run, all threads).
// Each path except bsimp is timed at 1 thread and at all hardware threads.
// With --dump DIR the inputs (tau, lambda) and the closed form are written as .npy for the peer.
#include <Eigen/Dense>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/data_sources.hpp"
#include "models/one_layer.hpp"
#include "models/nested_paths.hpp"
#include "solver/node_grid.hpp"

#include <gsl/gsl_integration.h>

using namespace specbias;
using namespace specbias::models;

namespace {

nlohmann::json path_json(const std::vector<double>& times, const GeneratedTrajectory& t, const Eigen::MatrixXd& ref) {
  nlohmann::json j = bench::timing_json(times);
  j["max_rel_err_vs_closed_form"] = bench::max_rel_diff(t.variance, ref);
  j["quadrature_evaluations"] = t.quadrature_evaluations;
  j["sigma_nodes"] = t.sigma_nodes;
  j["outer_steps"] = t.outer_stats.steps;
  j["outer_rhs_evaluations"] = t.outer_stats.rhs_evaluations;
  j["outer_jacobian_evaluations"] = t.outer_stats.jacobian_evaluations;
  return j;
}

// Where quadrature_trajectory's time goes, one thread: (i) the integrand alone — `evaluations` calls of the
// closed-form weight (3.4) at σ = e^s, as the quadrature makes them; (ii) allocating and freeing one GSL
// workspace of 2000 intervals per (τ, mode), as solver::integrate does. The rest is QAGP bookkeeping and the
// std::function layers.
nlohmann::json quadrature_breakdown(const Eigen::VectorXd& lambda, const std::vector<double>& taus, double eta, double Q,
                                    std::size_t evaluations, int reps) {
  const auto pairs = taus.size() * static_cast<size_t>(lambda.size());
  const std::size_t per_pair = std::max<std::size_t>(1, evaluations / pairs);
  const double s0 = std::log(0.002), sT = std::log(80.0);
  double t_integrand = 1e300, t_ws = 1e300, sink = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = bench::Clock::now();
    for (size_t j = 0; j < taus.size(); ++j)
      for (Eigen::Index k = 0; k < lambda.size(); ++k)
        for (size_t e = 0; e < per_pair; ++e) {
          const double sv = s0 + (sT - s0) * (static_cast<double>(e) + 0.5) / static_cast<double>(per_pair);
          sink += one_layer::mode_weight(lambda(k), std::exp(sv), eta, taus[j], Q) - 1.0;
        }
    t_integrand = std::min(t_integrand, bench::seconds_since(t0));
    t0 = bench::Clock::now();
    for (size_t i = 0; i < pairs; ++i) {
      gsl_integration_workspace* ws = gsl_integration_workspace_alloc(2000);
      asm volatile("" : : "r"(ws) : "memory");
      gsl_integration_workspace_free(ws);
    }
    t_ws = std::min(t_ws, bench::seconds_since(t0));
  }
  asm volatile("" : : "r"(&sink) : "memory");
  return {{"integrand_evaluations", per_pair * pairs},
          {"integrand_only_s", t_integrand},
          {"ns_per_integrand_evaluation", 1e9 * t_integrand / static_cast<double>(per_pair * pairs)},
          {"workspace_alloc_free_s", t_ws},
          {"threads", 1}};
}

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"d", "ntau", "reps", "reps-bsimp", "bsimp-rtol", "bsimp-atol", "threads", "grids", "dump"});
  const int d = args.get_int("d", 256), ntau = args.get_int("ntau", 100), reps = args.get_int("reps", 3);
  const int reps_bsimp = args.get_int("reps-bsimp", 1);
  const double Q = 0.1, eta = 1.0;

  DenoiserProblem p;
  p.data = DataMoments::from_spectrum(log_spaced_spectrum(d, 1e2, 1e-3), dct2_basis(d));
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  p.eta = eta;
  const std::vector<double> taus = bench::log_spaced(-4, 5, ntau);

  const GeneratedTrajectory ref = closed_form_trajectory(p, taus);

  nlohmann::json j = bench::bench_header("modewise");
  j["problem"] = {{"d", d}, {"n_tau", ntau}, {"Q", Q}, {"eta", eta}, {"lambda", "log-spaced 1e2 .. 1e-3"},
                  {"tau", "log-spaced 1e-4 .. 1e5"}, {"sigma_min", p.range.sigma_min}, {"sigma_max", p.range.sigma_max},
                  {"accuracy_target_rel", 1e-8}};

  // Every path at 1 thread and at all hardware threads (--threads), except bsimp (slow: hardware threads only).
  // Results go to j["runs"], one entry per (path, threads).
  auto set_threads = [](int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    Eigen::setNbThreads(n);
  };
  const int hw = bench::omp_threads();
  std::vector<int> thread_counts;
  {
    std::stringstream ss(args.get("threads", "1," + std::to_string(hw)));
    for (std::string tok; std::getline(ss, tok, ',');) thread_counts.push_back(std::stoi(tok));
  }
  // σ grids for the nested path: the library default first (0x0), then --grids "PxN,PxN".
  std::vector<std::pair<int, int>> grids{{0, 0}};
  {
    std::stringstream ss(args.get("grids", "12x12,10x10"));
    for (std::string tok; std::getline(ss, tok, ',');) {
      const auto x = tok.find('x');
      if (x == std::string::npos) throw std::invalid_argument("--grids: expected PANELSxPOINTS, got '" + tok + "'");
      grids.emplace_back(std::stoi(tok.substr(0, x)), std::stoi(tok.substr(x + 1)));
    }
  }
  for (const int threads : thread_counts) {
    set_threads(threads);
    for (const double rel_tol : {1e-10, 1e-12}) {
      GeneratedTrajectory t;
      const solver::QuadratureOptions qo{0.0, rel_tol, 2000, "bench"};
      const auto times = bench::time_reps(reps, [&] { t = quadrature_trajectory(p, taus, qo); });
      nlohmann::json pj = path_json(times, t, ref.variance);
      pj["path"] = "quadrature_trajectory";
      pj["rel_tol"] = rel_tol;
      pj["threads"] = threads;
      j["runs"].push_back(pj);
    }
    for (const auto& [panels, points] : grids) {
      NestedOptions o;  // library defaults (exponential outer) apart from the grid
      if (panels > 0) {
        o.panels = panels;
        o.points_per_panel = points;
      }
      o.threads = threads;
      GeneratedTrajectory t;
      const auto times = bench::time_reps(reps, [&] { t = nested_modewise(p, taus, o); });
      nlohmann::json pj = path_json(times, t, ref.variance);
      pj["path"] = "nested_modewise/exponential";
      pj["panels"] = o.panels;
      pj["points_per_panel"] = o.points_per_panel;
      pj["default_grid"] = panels == 0;
      pj["threads"] = threads;
      j["runs"].push_back(pj);
    }
  }
  // One-thread breakdown of the quadrature path.
  set_threads(1);
  {
    const GeneratedTrajectory t = quadrature_trajectory(p, taus, {0.0, 1e-10, 2000, "bench"});
    j["quadrature_breakdown_rtol1e-10"] =
        quadrature_breakdown(p.data.eigenvalues, taus, eta, Q, t.quadrature_evaluations, reps);
  }
  // bsimp at the library's default outer tolerances (rtol 1e-12, atol 1e-14); --bsimp-rtol/--bsimp-atol change
  // them. Looser tolerances barely help here: with 100 output times each (node, mode) integrator takes about one
  // maximal-order extrapolation step per output interval, so the step count is set by the outputs.
  if (reps_bsimp > 0) {
    set_threads(hw);
    NestedOptions o;
    o.outer = OuterMethod::bsimp;
    o.outer_ode.rtol = args.get_double("bsimp-rtol", o.outer_ode.rtol);
    o.outer_ode.atol = args.get_double("bsimp-atol", o.outer_ode.atol);
    GeneratedTrajectory t;
    const auto times = bench::time_reps(reps_bsimp, [&] { t = nested_modewise(p, taus, o); });
    nlohmann::json pj = path_json(times, t, ref.variance);
    pj["path"] = "nested_modewise/bsimp";
    pj["panels"] = o.panels;
    pj["points_per_panel"] = o.points_per_panel;
    pj["outer_rtol"] = o.outer_ode.rtol;
    pj["outer_atol"] = o.outer_ode.atol;
    pj["threads"] = hw;
    j["runs"].push_back(pj);
  }

  const std::string dump = args.get("dump", "");
  if (!dump.empty()) {
    std::filesystem::create_directories(dump);
    write_npy(std::filesystem::path(dump) / "tau.npy", Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(taus.data(), ntau)));
    write_npy(std::filesystem::path(dump) / "lambda.npy", p.data.eigenvalues);
    write_npy(std::filesystem::path(dump) / "closed_form.npy", ref.variance);  // n_tau × d
  }
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_modewise: " << e.what() << std::endl;
  return 1;
}
