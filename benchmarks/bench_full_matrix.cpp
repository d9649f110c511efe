// Benchmark (c): the full-matrix, non-commuting one-layer path (nested_full_matrix) at one training time τ.
//
// Problem: lognormal-spectrum/random-rotation data (12.4) (seed 0, zero mean), W(0) = U diag(Q) U^T + M with the
// non-aligned M of §13.2 (scale 0.1), b(0) = 0, η = 1, τ = 1, for d = 64, 128, 256. Parts timed separately:
//   outer  one exact linear flow (solver::SymmetricLinearFlow on one_layer::flow_matrices) per σ node of the default
//          48 × 12 Gauss–Legendre grid: construction (one (d+1)×(d+1) eigendecomposition each, serial as in the
//          library) and advance to τ (parallel over nodes);
//   inner  the PF transport (4.2) by models::pf_affine_transport with W(s), b(s) interpolated from the nodes exactly
//          as nested_full_matrix does; its flops are 2·d²·(d+1) per right-hand-side evaluation (the GEMM
//          −(W − I)·[A c]); an instrumented twin of the same integration splits each RHS into interpolation,
//          GEMM and the rest, so the hot loop's GFLOP/s can be compared with Eigen's GEMM peak
//          (C.noalias() = A·B, d×d by d×(d+1), best of many) measured in this binary;
//   end to end  nested_full_matrix(p, {τ}) itself, checked against outer + inner.
// Everything is measured at 1 thread and at all hardware threads (--threads): on a small shared machine the
// OpenMP-threaded GEMM can be slower than the single-threaded one, so both are reported.
// With --dump DIR (and d = 64 in the list) the data, W(0) and the result are written for peers/full_matrix.py.
#include <Eigen/Dense>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/data_sources.hpp"
#include "models/one_layer.hpp"
#include "models/nested_paths.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/linear_flow.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {

double gemm_flops(Eigen::Index d) { return 2.0 * static_cast<double>(d) * d * (d + 1); }

// Best GFLOP/s of C.noalias() = A·B (d×d by d×(d+1)) over `reps` batches of enough products to last ~20 ms.
double gemm_peak_gflops(Eigen::Index d, int reps) {
  const Eigen::MatrixXd A = Eigen::MatrixXd::Random(d, d), B = Eigen::MatrixXd::Random(d, d + 1);
  Eigen::MatrixXd C(d, d + 1);
  const int batch = std::max(1, static_cast<int>(2e7 / gemm_flops(d) * 50));  // ≈ 1 GFLOP per batch
  double best_s = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = bench::Clock::now();
    for (int i = 0; i < batch; ++i) {
      C.noalias() = A * B;
      asm volatile("" : : "r"(C.data()) : "memory");  // keep every product
    }
    best_s = std::min(best_s, bench::seconds_since(t0) / batch);
  }
  return gemm_flops(d) / best_s * 1e-9;
}

struct Nodes {
  solver::PanelGrid grid;
  std::vector<Eigen::MatrixXd> X;  // [W b] at each node, at τ
  double construct_s = 0, advance_s = 0;
};

// The outer part of nested_full_matrix with the exponential integrator (nested_paths.cpp, FullMatrixFlow).
Nodes outer_flows(const DenoiserProblem& p, double tau, const NestedOptions& o) {
  Nodes n{solver::PanelGrid(std::log(p.range.sigma_min), std::log(p.range.sigma_max), o.panels, o.points_per_panel),
          {}};
  const auto d = p.data.dim();
  const one_layer::Params init = p.initial();
  Eigen::MatrixXd X0(d, d + 1);
  X0.leftCols(d) = init.W;
  X0.col(d) = init.b;
  std::vector<solver::SymmetricLinearFlow> flows;
  flows.reserve(n.grid.size());
  auto t0 = bench::Clock::now();
  for (double s : n.grid.nodes()) {
    const auto m = one_layer::flow_matrices(p.data, std::exp(s));
    flows.emplace_back(2.0 * p.eta * m.K, 2.0 * p.eta * m.C, X0);
  }
  n.construct_s = bench::seconds_since(t0);
  t0 = bench::Clock::now();
  solver::parallel_for(flows.size(), o.threads, [&](std::size_t i) { flows[i].advance_to(tau); });
  n.advance_s = bench::seconds_since(t0);
  for (const auto& f : flows) n.X.push_back(f.state());
  return n;
}

// The denoiser callback of nested_full_matrix (nested_paths.cpp), verbatim apart from the node storage.
auto interpolating_denoiser(const Nodes& n, Eigen::Index d, std::vector<double>& coeffs, Eigen::MatrixXd& X) {
  return [&n, d, &coeffs, &X](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
    const std::size_t first = n.grid.stencil(s, coeffs);
    X.setZero();
    for (size_t m = 0; m < coeffs.size(); ++m) X.noalias() += coeffs[m] * n.X[first + m];
    W = X.leftCols(d);
    b = X.col(d);
  };
}

struct Breakdown {
  double total_s = 0, denoiser_s = 0, gemm_s = 0;
  std::size_t rhs = 0;
  Eigen::MatrixXd A;
};

// pf_affine_transport (pf_ode.cpp) re-stated with timers around the two parts of each right-hand side.
Breakdown instrumented_transport(const Nodes& n, Eigen::Index d, const SamplingRange& r, const solver::OdeOptions& opt) {
  std::vector<double> coeffs(static_cast<size_t>(n.grid.points_per_panel()));
  Eigen::MatrixXd X(d, d + 1), W(d, d);
  Eigen::VectorXd b(d);
  auto denoiser = interpolating_denoiser(n, d, coeffs, X);
  const std::function<void(double, Eigen::MatrixXd&, Eigen::VectorXd&)> fn = denoiser;
  Breakdown out;
  Eigen::MatrixXd Y0 = Eigen::MatrixXd::Zero(d, d + 1);
  Y0.leftCols(d).setIdentity();
  const auto t_start = bench::Clock::now();
  solver::MatrixDenseIntegrator ode(
      [&](const Eigen::Map<const Eigen::MatrixXd>& Y, Eigen::Map<Eigen::MatrixXd>& dY, double s) {
        const auto t0 = bench::Clock::now();
        fn(s, W, b);
        const auto t1 = bench::Clock::now();
        W.diagonal().array() -= 1.0;
        dY.noalias() = -W * Y;
        dY.col(d) -= b;
        out.gemm_s += bench::seconds_since(t1);
        out.denoiser_s += std::chrono::duration<double>(t1 - t0).count();
      },
      Y0, std::log(r.sigma_max), opt);
  ode.advance_to(std::log(r.sigma_min));
  out.total_s = bench::seconds_since(t_start);
  out.rhs = ode.stats().rhs_evaluations;
  out.A = ode.state().leftCols(d);
  return out;
}

// All parts at one thread count (OpenMP threads for the node loop and Eigen's GEMM threads alike).
// What the W(s) interpolation could cost: the library's loop (X.setZero(), 12 read-modify-write passes over X, then
// copies into W and b) against one matrix–vector product over panel-contiguous node storage written straight into
// W and b (one read of the 12 node matrices, one write). Per call, best of `reps` sweeps over the same s values.
nlohmann::json interpolation_variants(const Nodes& n, Eigen::Index d, int reps) {
  const auto points = static_cast<Eigen::Index>(n.grid.points_per_panel());
  const auto cols = d * (d + 1);
  Eigen::MatrixXd panels(cols, static_cast<Eigen::Index>(n.X.size()));  // column i = node i, flattened
  for (size_t i = 0; i < n.X.size(); ++i) panels.col(static_cast<Eigen::Index>(i)) = n.X[i].reshaped();
  std::vector<double> s_values;
  for (int i = 0; i < 200; ++i) s_values.push_back(n.grid.lower() + (n.grid.upper() - n.grid.lower()) * (i + 0.37) / 200);
  std::vector<double> coeffs(static_cast<size_t>(points));
  Eigen::MatrixXd X(d, d + 1), W(d, d), W2(d, d);
  Eigen::VectorXd b(d), b2(d);
  auto lib = interpolating_denoiser(n, d, coeffs, X);
  double t_lib = 1e300, t_gemv = 1e300, diff = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = bench::Clock::now();
    for (double s : s_values) {
      lib(s, W, b);
      asm volatile("" : : "r"(W.data()), "r"(b.data()) : "memory");
    }
    t_lib = std::min(t_lib, bench::seconds_since(t0) / static_cast<double>(s_values.size()));
    t0 = bench::Clock::now();
    for (double s : s_values) {
      const auto first = static_cast<Eigen::Index>(n.grid.stencil(s, coeffs));
      const Eigen::Map<const Eigen::VectorXd> c(coeffs.data(), points);
      Eigen::Map<Eigen::VectorXd> w_flat(W2.data(), d * d);
      w_flat.noalias() = panels.middleCols(first, points).topRows(d * d) * c;
      b2.noalias() = panels.middleCols(first, points).bottomRows(d) * c;
      asm volatile("" : : "r"(W2.data()), "r"(b2.data()) : "memory");
    }
    t_gemv = std::min(t_gemv, bench::seconds_since(t0) / static_cast<double>(s_values.size()));
  }
  for (double s : s_values) {  // same numbers (up to summation order)?
    lib(s, W, b);
    const auto first = static_cast<Eigen::Index>(n.grid.stencil(s, coeffs));
    const Eigen::Map<const Eigen::VectorXd> c(coeffs.data(), points);
    Eigen::Map<Eigen::VectorXd>(W2.data(), d * d).noalias() = panels.middleCols(first, points).topRows(d * d) * c;
    diff = std::max(diff, (W - W2).cwiseAbs().maxCoeff());
  }
  return {{"library_loop_us_per_call", 1e6 * t_lib},
          {"panel_gemv_us_per_call", 1e6 * t_gemv},
          {"speedup", t_lib / t_gemv},
          {"max_abs_diff", diff}};
}

nlohmann::json run_dim(int d, int threads, double tau, int reps, int reps_e2e, const std::string& dump) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  Eigen::setNbThreads(threads);
  DenoiserProblem p;
  p.data = lognormal_rotation_moments(d, 0);
  p.Q = Eigen::VectorXd::Constant(d, 0.1);
  p.W0_offset = nonaligned_matrix(d, d, 0.1);
  p.b0 = Eigen::VectorXd::Zero(d);
  p.eta = 1.0;
  const NestedOptions o;
  nlohmann::json j;
  j["d"] = d;
  j["threads"] = threads;
  j["eigen_threads"] = Eigen::nbThreads();
  j["gemm_flops_per_rhs"] = gemm_flops(d);

  // Outer, best of reps (each rep rebuilds every node flow).
  Nodes nodes = outer_flows(p, tau, o);
  double best_construct = nodes.construct_s, best_advance = nodes.advance_s;
  for (int r = 1; r < reps_e2e; ++r) {
    Nodes again = outer_flows(p, tau, o);
    best_construct = std::min(best_construct, again.construct_s);
    best_advance = std::min(best_advance, again.advance_s);
  }
  j["outer"] = {{"sigma_nodes", nodes.grid.size()}, {"construct_best_s", best_construct},
                {"advance_best_s", best_advance}, {"total_best_s", best_construct + best_advance},
                {"note", "construction = one (d+1)x(d+1) eigendecomposition per node, serial (as in the library)"}};

  // Inner: the library's pf_affine_transport with the library's interpolating denoiser.
  solver::OdeOptions inner = o.inner_ode;
  inner.context = "bench PF transport";
  std::vector<double> coeffs(static_cast<size_t>(o.points_per_panel));
  Eigen::MatrixXd Xbuf(d, d + 1);
  AffineTransport tr;
  const auto t_inner = bench::time_reps(reps, [&] {
    tr = pf_affine_transport(interpolating_denoiser(nodes, d, coeffs, Xbuf), d, p.range, inner);
  });
  const double inner_flops = gemm_flops(d) * static_cast<double>(tr.stats.rhs_evaluations);
  j["inner"] = bench::timing_json(t_inner);
  j["inner"]["steps"] = tr.stats.steps;
  j["inner"]["rhs_evaluations"] = tr.stats.rhs_evaluations;
  j["inner"]["gflops_whole_integration"] = inner_flops / bench::best(t_inner) * 1e-9;

  // Instrumented twin: where the inner time goes.
  Breakdown bd = instrumented_transport(nodes, d, p.range, inner);
  for (int r = 1; r < reps; ++r) {
    Breakdown again = instrumented_transport(nodes, d, p.range, inner);
    if (again.total_s < bd.total_s) bd = std::move(again);
  }
  const double rhs_s = bd.denoiser_s + bd.gemm_s;
  const double peak = gemm_peak_gflops(d, 15);
  const double hot = gemm_flops(d) * static_cast<double>(bd.rhs) / rhs_s * 1e-9;
  j["instrumented"] = {{"total_s", bd.total_s},
                       {"rhs_evaluations", bd.rhs},
                       {"denoiser_interpolation_s", bd.denoiser_s},
                       {"gemm_and_bias_s", bd.gemm_s},
                       {"integrator_overhead_s", bd.total_s - rhs_s},
                       {"gflops_hot_loop_rhs", hot},
                       {"gflops_gemm_only", gemm_flops(d) * static_cast<double>(bd.rhs) / bd.gemm_s * 1e-9},
                       {"same_A_as_library", (bd.A - tr.A).cwiseAbs().maxCoeff() == 0.0}};
  j["eigen_gemm_peak_gflops"] = peak;
  j["hot_loop_fraction_of_peak"] = hot / peak;
  j["interpolation_experiment"] = interpolation_variants(nodes, d, 5);
  j["whole_inner_fraction_of_peak"] = j["inner"]["gflops_whole_integration"].get<double>() / peak;

  // End to end, checked against outer + inner.
  GeneratedTrajectory e2e;
  const auto t_e2e = bench::time_reps(reps_e2e, [&] { e2e = nested_full_matrix(p, {tau}, o); });
  const Eigen::MatrixXd& U = p.data.eigenvectors;
  const Eigen::VectorXd var_parts = (U.transpose() * tr.covariance(p.range.sigma_max) * U).diagonal();
  j["nested_full_matrix"] = bench::timing_json(t_e2e);
  j["nested_full_matrix"]["max_rel_diff_vs_outer_plus_inner"] =
      bench::max_rel_diff(e2e.variance.row(0).transpose().eval(), var_parts);
  j["nested_full_matrix"]["inner_rhs_evaluations"] = e2e.inner_stats.rhs_evaluations;
  j["variance_range"] = {var_parts.minCoeff(), var_parts.maxCoeff()};

  if (!dump.empty() && threads == 1) {
    const std::filesystem::path dir = std::filesystem::path(dump) / ("d" + std::to_string(d));
    std::filesystem::create_directories(dir);
    write_npy(dir / "lambda.npy", p.data.eigenvalues);
    write_npy(dir / "U.npy", p.data.eigenvectors);
    write_npy(dir / "W0.npy", p.initial().W);
    write_npy(dir / "A.npy", tr.A);
    write_npy(dir / "variance.npy", var_parts);
    const std::vector<double> grid{static_cast<double>(o.panels), static_cast<double>(o.points_per_panel), tau};
    write_npy(dir / "grid.npy", grid.data(), {grid.size()});
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"dims", "threads", "tau", "reps", "reps-e2e", "dump"});
  const double tau = args.get_double("tau", 1.0);
  const int reps = args.get_int("reps", 3), reps_e2e = args.get_int("reps-e2e", 2);
  auto int_list = [](const std::string& text) {
    std::vector<int> v;
    std::stringstream ss(text);
    for (std::string tok; std::getline(ss, tok, ',');) v.push_back(std::stoi(tok));
    return v;
  };
  const std::vector<int> dims = int_list(args.get("dims", "64,128,256"));
  const std::vector<int> thread_counts = int_list(args.get("threads", "1," + std::to_string(bench::omp_threads())));

  nlohmann::json j = bench::bench_header("full_matrix");
  const NestedOptions o;
  j["problem"] = {{"data", "lognormal_rotation_moments(d, seed 0), zero mean"},
                  {"W0", "U diag(0.1) U^T + nonaligned_matrix(d, d, 0.1)"},
                  {"b0", "0"},
                  {"eta", 1.0},
                  {"tau", tau},
                  {"panels", o.panels},
                  {"points_per_panel", o.points_per_panel},
                  {"outer", to_string(o.outer)},
                  {"inner_rtol", o.inner_ode.rtol},
                  {"inner_atol", o.inner_ode.atol}};
  for (int d : dims)
    for (int threads : thread_counts)
      j["runs"].push_back(run_dim(d, threads, tau, reps, reps_e2e, args.get("dump", "")));
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_full_matrix: " << e.what() << std::endl;
  return 1;
}
