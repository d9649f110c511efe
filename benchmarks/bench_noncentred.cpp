// Benchmark (f): the non-centred closed form (3.8) of the one-layer weight/bias flow at one σ, against the numeric
// coupled flow, at d = 256 and 1024 (--dims).
//
// Problem: lognormal-spectrum/random-rotation data (12.4) (seed 1) with mean μ = U m, m_k = (1 + ½ sin k)/√d
// (every mode overlaps the mean, |m| ≈ 1), W(0) = 0.1 I, b(0) = 0, σ = 1, η = 1, 8 log-spaced τ in [1e−3, 1e2].
// Timed (best of --reps):
//   closed      noncentred::CoupledFlow: O(d²) secular-equation eigendecomposition of the diagonal-plus-rank-one
//               M̃ (construction), then one GEMM per τ (advance_to), in the eigenbasis;
//   exact_dense solver::SymmetricLinearFlow on one_layer::flow_matrices: dense (d+1)×(d+1) eigendecomposition of
//               the raw K, then two GEMMs per τ, in the original basis (the library's numeric exact flow);
//   dopri5      odeint dopri5 on the gradient (2.3) (rtol 1e−10), only for d ≤ --dopri-max-d and τ ≤ 1 (explicit,
//               so its cost grows with τ·κ_max; at d = 1024 one run would take tens of minutes here).
//   eigendecomposition  the secular solver alone vs Eigen's SelfAdjointEigenSolver on the dense M̃.
// Accuracy: max |W, b difference| of closed vs exact_dense over all τ and vs dopri5 over its τ.
// --dump DIR writes λ, m, Ω̃(0), τ and the closed-form eigenbasis states at two τ for peers/noncentred.py.
#include <Eigen/Dense>
#include <filesystem>
#include <iostream>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/data_sources.hpp"
#include "models/noncentred.hpp"
#include "models/one_layer.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/diag_rank_one.hpp"
#include "solver/linear_flow.hpp"

using namespace specbias;
using namespace specbias::models;

int main(int argc, char** argv) try {
  bench::Args args(argc, argv, {"reps", "dims", "dump", "dopri-max-d"});
  const int reps = args.get_int("reps", 3);
  const int dopri_max_d = args.get_int("dopri-max-d", 256);
  const std::string dump = args.get("dump", "");
  std::vector<int> dims;
  {
    std::string s = args.get("dims", "256,1024");
    for (size_t pos = 0; pos < s.size();) {
      const size_t comma = s.find(',', pos);
      dims.push_back(std::stoi(s.substr(pos, comma - pos)));
      pos = comma == std::string::npos ? s.size() : comma + 1;
    }
  }
  const double sigma = 1.0, eta = 1.0;
  const std::vector<double> taus = bench::log_spaced(-3, 2, 8);
  nlohmann::json out = bench::bench_header("noncentred");
  out["sigma"] = sigma;
  out["eta"] = eta;
  out["taus"] = taus;
  for (int d : dims) {
    DataMoments data = lognormal_rotation_moments(d, 1);
    Eigen::VectorXd m(d);
    for (int k = 0; k < d; ++k) m(k) = (1.0 + 0.5 * std::sin(k)) / std::sqrt(double(d));
    data.mean = data.eigenvectors * m;
    const one_layer::Params init{0.1 * Eigen::MatrixXd::Identity(d, d), Eigen::VectorXd::Zero(d)};
    const Eigen::MatrixXd& U = data.eigenvectors;
    nlohmann::json r;
    r["d"] = d;

    // The eigendecomposition alone: secular equation (O(d²)) vs Eigen's dense solver on the same M̃.
    {
      Eigen::VectorXd a(d + 1), z(d + 1);
      a.head(d) = (data.eigenvalues.array() + sigma * sigma).matrix();
      a(d) = 0.0;
      z.head(d) = m;
      z(d) = 1.0;
      const Eigen::MatrixXd Mt = noncentred::coupled_matrix(data, sigma);
      solver::DiagRankOneEigen sec;
      auto secular = bench::time_reps(reps, [&] { sec = solver::diag_plus_rank_one_eigen(a, z); });
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> dense_eig;
      auto dense_t = bench::time_reps(reps, [&] { dense_eig.compute(Mt); });
      r["eigendecomposition"] = {
          {"secular", bench::timing_json(secular)}, {"dense_selfadjoint", bench::timing_json(dense_t)},
          {"speedup", bench::best(dense_t) / bench::best(secular)},
          {"secular_iterations", sec.secular_iterations},
          {"max_rel_eigenvalue_diff", ((sec.values - dense_eig.eigenvalues()).array().abs() /
                                       dense_eig.eigenvalues().array().abs()).maxCoeff()},
          {"max_residual", (Mt * sec.vectors - sec.vectors * sec.values.asDiagonal()).cwiseAbs().maxCoeff()}};
    }

    // closed form (3.8)
    std::vector<Eigen::MatrixXd> closed_states;  // original basis [W b]
    auto closed_construct = bench::time_reps(reps, [&] { noncentred::CoupledFlow f(data, sigma, eta, init); });
    noncentred::CoupledFlow flow(data, sigma, eta, init);
    auto closed_advance = bench::time_reps(reps, [&] {
      for (double tau : taus) flow.advance_to(tau);
    });
    for (double tau : taus) {
      flow.advance_to(tau);
      Eigen::MatrixXd X(d, d + 1);
      X << U * flow.state().leftCols(d) * U.transpose(), U * flow.state().col(d);
      closed_states.push_back(X);
    }
    r["closed"] = {{"construct", bench::timing_json(closed_construct)},
                   {"advance_all_tau", bench::timing_json(closed_advance)},
                   {"per_tau_s", bench::best(closed_advance) / taus.size()},
                   {"deflated", flow.deflated()}};

    // exact dense propagator of the raw flow
    const auto fm = one_layer::flow_matrices(data, sigma);
    Eigen::MatrixXd X0(d, d + 1);
    X0 << init.W, init.b;
    auto dense_construct = bench::time_reps(reps, [&] { solver::SymmetricLinearFlow f(2 * eta * fm.K, 2 * eta * fm.C, X0); });
    solver::SymmetricLinearFlow dense(2 * eta * fm.K, 2 * eta * fm.C, X0);
    auto dense_advance = bench::time_reps(reps, [&] {
      for (double tau : taus) dense.advance_to(tau);
    });
    double err_dense = 0;
    for (size_t j = 0; j < taus.size(); ++j) {
      dense.advance_to(taus[j]);
      err_dense = std::max(err_dense, (dense.state() - closed_states[j]).cwiseAbs().maxCoeff());
    }
    r["exact_dense"] = {{"construct", bench::timing_json(dense_construct)},
                        {"advance_all_tau", bench::timing_json(dense_advance)},
                        {"per_tau_s", bench::best(dense_advance) / taus.size()},
                        {"max_abs_diff_vs_closed", err_dense}};
    r["speedup_closed_vs_exact_dense"] = {
        {"construct", bench::best(dense_construct) / bench::best(closed_construct)},
        {"per_tau", bench::best(dense_advance) / bench::best(closed_advance)}};

    // dopri5 on the gradient
    if (d <= dopri_max_d) {
      std::vector<double> short_taus;
      for (double t : taus)
        if (t <= 1.0) short_taus.push_back(t);
      double err_dopri = 0;
      std::size_t steps = 0;
      auto dopri = bench::time_reps(1, [&] {
        solver::MatrixDenseIntegrator ode(
            [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
              const one_layer::Params g = one_layer::gradient(data, sigma, {X.leftCols(d), X.col(d)});
              dX.leftCols(d) = -eta * g.W;
              dX.col(d) = -eta * g.b;
            },
            X0, 0.0, {1e-10, 1e-12, 1e-6, 10'000'000, "bench", "dopri5 coupled flow"});
        for (size_t j = 0; j < short_taus.size(); ++j) {
          ode.advance_to(short_taus[j]);
          err_dopri = std::max(err_dopri, (Eigen::MatrixXd(ode.state()) - closed_states[j]).cwiseAbs().maxCoeff());
        }
        steps = ode.stats().steps;
      });
      r["dopri5"] = {{"taus", short_taus}, {"total", bench::timing_json(dopri)},
                     {"per_tau_s", bench::best(dopri) / short_taus.size()}, {"steps", steps},
                     {"max_abs_diff_vs_closed", err_dopri}};
    }
    if (!dump.empty()) {
      const auto dir = std::filesystem::path(dump) / ("d" + std::to_string(d));
      std::filesystem::create_directories(dir);
      write_npy(dir / "lambda.npy", Eigen::VectorXd(data.eigenvalues));
      write_npy(dir / "m.npy", m);
      Eigen::MatrixXd omega0(d, d + 1);  // eigenbasis initial state [Uᵀ W U, Uᵀ b]
      omega0 << U.transpose() * init.W * U, U.transpose() * init.b;
      write_npy(dir / "state0.npy", omega0);
      write_npy(dir / "tau.npy", taus.data(), {taus.size()});
      for (size_t j : {size_t(3), taus.size() - 1}) {
        flow.advance_to(taus[j]);
        write_npy(dir / ("closed_tau" + std::to_string(j) + ".npy"), Eigen::MatrixXd(flow.state()));
      }
    }
    out["results"].push_back(r);
    std::cerr << "d = " << d << ": closed construct " << bench::best(closed_construct) << " s, per tau "
              << bench::best(closed_advance) / taus.size() << " s; dense construct " << bench::best(dense_construct)
              << " s, per tau " << bench::best(dense_advance) / taus.size() << " s; max diff " << err_dense << "\n";
  }
  std::cout << out.dump(1) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_noncentred: " << e.what() << "\n";
  return 1;
}
