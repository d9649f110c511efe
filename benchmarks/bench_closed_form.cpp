// Benchmark (a): the one-layer closed-form generated variance (4.9) on a d × n_tau grid (default 3072 × 1000).
//
// Times the library's models::closed_form_trajectory (what the CLI and validation runs call) and, separately and
// clearly labelled, a benchmark-side restructuring of the same arithmetic (τ-only E1 terms hoisted out of the
// mode loop, τ rows spread over threads with solver::parallel_for) that gives bit-identical numbers — it shows
// what the library loop leaves on the table; a second experiment swaps GSL's E1 for Boost.Math's (without
// long-double promotion). Checks: the restructured grid equals the library's, and a sample of
// entries agrees with adaptive quadrature of (4.4) on the closed-form weights (3.4). With --dump DIR the inputs
// (tau, lambda) and the grid are written as .npy so the Python peer (peers/closed_form.py) evaluates the same
// points and reports the max relative difference.
#include <Eigen/Dense>
#include <boost/math/special_functions/expint.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/data_sources.hpp"
#include "models/one_layer.hpp"
#include "models/one_layer_nested.hpp"
#include "models/special_functions.hpp"
#include "solver/nested.hpp"
#include "solver/quadrature.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {

// Same operations, in the same order, as models::one_layer_generated_variance (pf_ode.cpp), with the two E1
// values that depend on τ only computed once per τ row and the log term that depends on λ only computed once per
// mode. Rows (τ) run in parallel.
template <class E1>
Eigen::MatrixXd closed_form_hoisted(const Eigen::VectorXd& lambda, double Q, double eta, const std::vector<double>& taus,
                                    const SamplingRange& r, int threads, E1 expint_e1) {
  const auto d = lambda.size();
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), d);
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  Eigen::VectorXd log_ratio(d);  // λ-only term of (4.9)
  for (Eigen::Index k = 0; k < d; ++k) log_ratio(k) = -std::log((lambda(k) + sT) / (lambda(k) + s0));
  solver::parallel_for(taus.size(), threads, [&](std::size_t j) {
    const double c = 2.0 * eta * taus[j];
    const auto row = static_cast<Eigen::Index>(j);
    if (c == 0.0) {
      out.row(row).setConstant(one_layer_initial_variance(Q, r));
      return;
    }
    const double e1_noise = expint_e1(c * sT) - expint_e1(c * s0);  // τ-only term of (4.9)
    for (Eigen::Index k = 0; k < d; ++k) {
      const double l = lambda(k);
      double two_dH = log_ratio(k) - (expint_e1(c * (sT + l)) - expint_e1(c * (s0 + l)));
      const double damp = std::exp(-c * l);
      if (damp != 0.0 && Q != 1.0) two_dH -= (Q - 1.0) * damp * e1_noise;
      out(row, k) = sT * std::exp(two_dH);
    }
  });
  return out;
}

// Experiment: Boost.Math's E1 (minimax rational approximations) with double kept in double precision — Boost's
// default policy promotes double to long double, which makes it slower than GSL. Same x > 700 cut-off as
// models::expint_e1.
using BoostNoPromote = boost::math::policies::policy<
    boost::math::policies::promote_double<false>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>>;
double boost_e1(double x) { return x > 700.0 ? 0.0 : boost::math::expint(1, x, BoostNoPromote()); }

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"d", "ntau", "reps", "dump", "check-samples"});
  const int d = args.get_int("d", 3072), ntau = args.get_int("ntau", 1000), reps = args.get_int("reps", 5);
  const int check_samples = args.get_int("check-samples", 200);
  const double Q = 0.1, eta = 1.0;

  // Aligned problem; the closed form reads only λ, so the basis is the identity (no O(d³) set-up).
  OneLayerProblem p;
  p.data.eigenvalues = log_spaced_spectrum(d, 1e2, 1e-3);
  p.data.eigenvectors = Eigen::MatrixXd::Identity(d, d);
  p.data.covariance = p.data.eigenvalues.asDiagonal();
  p.data.mean = Eigen::VectorXd::Zero(d);
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  p.eta = eta;
  const std::vector<double> taus = bench::log_spaced(-4, 5, ntau);

  GeneratedTrajectory lib;
  const auto t_lib = bench::time_reps(reps, [&] { lib = closed_form_trajectory(p, taus); });
  Eigen::MatrixXd fast, fast1, boost2, boost1;
  const auto& lam = p.data.eigenvalues;
  const auto t_fast = bench::time_reps(reps, [&] { fast = closed_form_hoisted(lam, Q, eta, taus, p.range, 0, expint_e1); });
  const auto t_fast1 = bench::time_reps(reps, [&] { fast1 = closed_form_hoisted(lam, Q, eta, taus, p.range, 1, expint_e1); });
  const auto t_boost = bench::time_reps(reps, [&] { boost2 = closed_form_hoisted(lam, Q, eta, taus, p.range, 0, boost_e1); });
  const auto t_boost1 = bench::time_reps(reps, [&] { boost1 = closed_form_hoisted(lam, Q, eta, taus, p.range, 1, boost_e1); });

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
  j["library_closed_form_trajectory"] = bench::timing_json(t_lib);
  j["library_closed_form_trajectory"]["threads"] = 1;
  j["library_closed_form_trajectory"]["ns_per_entry"] = 1e9 * bench::best(t_lib) / (static_cast<double>(d) * ntau);
  j["bench_hoisted_threaded"] = bench::timing_json(t_fast);
  j["bench_hoisted_threaded"]["threads"] = bench::omp_threads();
  j["bench_hoisted_threaded"]["max_abs_diff_vs_library"] = (fast - lib.variance).cwiseAbs().maxCoeff();
  j["bench_hoisted_1thread"] = bench::timing_json(t_fast1);
  j["bench_hoisted_1thread"]["threads"] = 1;
  j["bench_hoisted_1thread"]["max_abs_diff_vs_library"] = (fast1 - lib.variance).cwiseAbs().maxCoeff();
  j["experiment_hoisted_boost_e1_threaded"] = bench::timing_json(t_boost);
  j["experiment_hoisted_boost_e1_threaded"]["threads"] = bench::omp_threads();
  j["experiment_hoisted_boost_e1_threaded"]["max_rel_diff_vs_library"] = bench::max_rel_diff(boost2, lib.variance);
  j["experiment_hoisted_boost_e1_1thread"] = bench::timing_json(t_boost1);
  j["experiment_hoisted_boost_e1_1thread"]["max_rel_diff_vs_library"] = bench::max_rel_diff(boost1, lib.variance);
  j["check_vs_adaptive_quadrature"] = {{"samples", check_samples}, {"max_rel_diff", quad_rel}, {"quad_rel_tol", 1e-13}};
  j["variance_range"] = {lib.variance.minCoeff(), lib.variance.maxCoeff()};
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_closed_form: " << e.what() << std::endl;
  return 1;
}
