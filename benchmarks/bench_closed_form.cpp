// Benchmark (a): the one-layer closed-form generated variance (4.9) on a d × n_tau grid (default 3072 × 1000).
//
// Times the library: models::closed_form_trajectory (what the CLI and validation runs call; all threads) and
// models::one_layer_generated_variance_grid at 1 thread and at all threads. For context it also times the
// per-entry scalar loop over models::one_layer_generated_variance (no hoisting of the τ-only E1 pair and λ-only
// logarithm, 1 thread), which is how the library computed the grid before. Checks: grid and scalar loop agree
// bit for bit, and a sample of entries agrees with adaptive quadrature of (4.4) on the closed-form weights (3.4).
// With --dump DIR the inputs (tau, lambda) and the grid are written as .npy so the Python peer
// (peers/closed_form.py) evaluates the same points and reports the max relative difference.
#include <Eigen/Dense>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/data_sources.hpp"
#include "models/one_layer.hpp"
#include "models/nested_paths.hpp"
#include "solver/quadrature.hpp"

using namespace specbias;
using namespace specbias::models;

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"d", "ntau", "reps", "dump", "check-samples"});
  const int d = args.get_int("d", 3072), ntau = args.get_int("ntau", 1000), reps = args.get_int("reps", 5);
  const int check_samples = args.get_int("check-samples", 200);
  const double Q = 0.1, eta = 1.0;

  // Aligned problem; the closed form reads only λ, so the basis is the identity (no O(d³) set-up).
  DenoiserProblem p;
  p.data.eigenvalues = log_spaced_spectrum(d, 1e2, 1e-3);
  p.data.eigenvectors = Eigen::MatrixXd::Identity(d, d);
  p.data.covariance = p.data.eigenvalues.asDiagonal();
  p.data.mean = Eigen::VectorXd::Zero(d);
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  p.eta = eta;
  const std::vector<double> taus = bench::log_spaced(-4, 5, ntau);

  const auto& lam = p.data.eigenvalues;
  GeneratedTrajectory lib;
  Eigen::MatrixXd grid1, grid_all, scalar(static_cast<Eigen::Index>(ntau), d);
  const int hw = bench::omp_threads();
  const auto t_lib = bench::time_reps(reps, [&] { lib = closed_form_trajectory(p, taus); });
  const auto t_grid1 = bench::time_reps(reps, [&] { grid1 = one_layer_generated_variance_grid(lam, p.Q, eta, taus, p.range, 1); });
  const auto t_grid = bench::time_reps(reps, [&] { grid_all = one_layer_generated_variance_grid(lam, p.Q, eta, taus, p.range, hw); });
  const auto t_scalar = bench::time_reps(std::min(reps, 2), [&] {
    for (int j = 0; j < ntau; ++j)
      for (int k = 0; k < d; ++k) scalar(j, k) = one_layer_generated_variance(lam(k), Q, eta, taus[static_cast<size_t>(j)], p.range);
  });

  // Independent check: adaptive quadrature of (4.4) with the closed-form weights at a deterministic sample.
  double quad_rel = 0.0;
  for (int i = 0; i < check_samples; ++i) {
    const auto j = static_cast<size_t>((i * 7919L) % ntau);
    const int k = static_cast<int>((i * 104729L) % d);
    const double lambda = p.data.eigenvalues(k), tau = taus[j];
    const double v = generated_variance_quadrature(
        [&](double sigma) { return one_layer::mode_weight(lambda, sigma, eta, tau, Q); }, p.range,
        {0.5 * std::log(lambda), -0.5 * std::log(2 * eta * tau)}, {0.0, 1e-13, 2000, "closed-form check"});
    const double ref = lib.variance(static_cast<Eigen::Index>(j), k);
    quad_rel = std::max(quad_rel, std::abs(v - ref) / std::abs(ref));
  }

  const std::string dump = args.get("dump", "");
  if (!dump.empty()) {
    std::filesystem::create_directories(dump);
    write_npy(std::filesystem::path(dump) / "tau.npy", Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(taus.data(), ntau)));
    write_npy(std::filesystem::path(dump) / "lambda.npy", p.data.eigenvalues);
    write_npy(std::filesystem::path(dump) / "variance.npy", lib.variance);  // n_tau × d
  }

  nlohmann::json j = bench::bench_header("closed_form");
  j["problem"] = {{"d", d}, {"n_tau", ntau}, {"Q", Q}, {"eta", eta}, {"lambda", "log-spaced 1e2 .. 1e-3"},
                  {"tau", "log-spaced 1e-4 .. 1e5"}, {"sigma_min", p.range.sigma_min}, {"sigma_max", p.range.sigma_max},
                  {"entries", static_cast<double>(d) * ntau}};
  const double entries = static_cast<double>(d) * ntau;
  auto entry = [&](const std::vector<double>& times, int threads, const Eigen::MatrixXd& values) {
    nlohmann::json e = bench::timing_json(times);
    e["threads"] = threads;
    e["ns_per_entry"] = 1e9 * bench::best(times) / entries;
    e["max_abs_diff_vs_closed_form_trajectory"] = (values - lib.variance).cwiseAbs().maxCoeff();
    return e;
  };
  j["runs"] = nlohmann::json::array();
  j["runs"].push_back(entry(t_lib, hw, lib.variance));
  j["runs"].back()["path"] = "closed_form_trajectory";
  j["runs"].push_back(entry(t_grid1, 1, grid1));
  j["runs"].back()["path"] = "one_layer_generated_variance_grid";
  j["runs"].push_back(entry(t_grid, hw, grid_all));
  j["runs"].back()["path"] = "one_layer_generated_variance_grid";
  j["runs"].push_back(entry(t_scalar, 1, scalar));
  j["runs"].back()["path"] = "per-entry loop over one_layer_generated_variance (context)";
  j["check_vs_adaptive_quadrature"] = {{"samples", check_samples}, {"max_rel_diff", quad_rel}, {"quad_rel_tol", 1e-13}};
  j["variance_range"] = {lib.variance.minCoeff(), lib.variance.maxCoeff()};
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_closed_form: " << e.what() << std::endl;
  return 1;
}
