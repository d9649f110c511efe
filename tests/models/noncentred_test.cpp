// Non-centred one-layer model (THEORY.md §3.3): the closed form (3.8) of the coupled weight/bias flow against a
// dense expm (Eigen MatrixFunctions), against dopri5 on the gradient (2.3) and against the existing exact flow
// (SymmetricLinearFlow on flow_matrices); the 2-D case (3.9) against the general one; and the generated mean and
// covariance through (4.1)–(4.2) against the numeric full-matrix nested path.
#include <catch2/catch.hpp>

#include <unsupported/Eigen/MatrixFunctions>

#include <cmath>

#include "models/data_sources.hpp"
#include "models/nested_paths.hpp"
#include "models/noncentred.hpp"
#include "models/splitmix64.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/linear_flow.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {

// d-dimensional problem with a random eigenbasis, spectrum (13.2)-like and a mean overlapping every mode.
DenoiserProblem noncentred_problem(int d, double Q, bool nonaligned) {
  Eigen::VectorXd lambda(d);
  for (int k = 0; k < d; ++k) lambda(k) = 4.0 * std::pow(1e-2 / 4.0, d == 1 ? 0.0 : double(k) / (d - 1));
  SplitMix64 rng(42);
  const Eigen::MatrixXd U = random_orthogonal(d, rng);
  Eigen::VectorXd m(d);
  for (int k = 0; k < d; ++k) m(k) = 0.8 - 0.3 * k;
  DenoiserProblem p;
  p.data = DataMoments::from_spectrum(lambda, U, U * m);
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = nonaligned ? nonaligned_matrix(d, d, 0.1) : Eigen::MatrixXd::Zero(d, d);
  p.b0 = nonaligned ? nonaligned_vector(d, 0.5) : Eigen::VectorXd::Zero(d);
  p.eta = 0.7;
  return p;
}

Eigen::MatrixXd stack(const one_layer::Params& x) {
  Eigen::MatrixXd X(x.W.rows(), x.W.cols() + 1);
  X << x.W, x.b;
  return X;
}

const std::vector<double> kTaus{0.0, 1e-3, 0.05, 0.4, 2.0, 15.0, 200.0};

}  // namespace

TEST_CASE("noncentred: closed form (3.8) equals the dense expm of the coupled matrix", "[fast][models][noncentred]") {
  for (bool nonaligned : {false, true}) {
    const DenoiserProblem p = noncentred_problem(5, 0.1, nonaligned);
    const auto d = p.data.dim();
    const Eigen::MatrixXd& U = p.data.eigenvectors;
    for (double sigma : {0.05, 1.0, 6.0}) {
      const Eigen::MatrixXd Mt = noncentred::coupled_matrix(p.data, sigma);
      const one_layer::Params star = one_layer::optimum(p.data, sigma), init = p.initial();
      // Ω(0) = [E u_1 … E u_d, e] (3.8), independent of the eigenbasis bookkeeping inside CoupledFlow.
      Eigen::MatrixXd omega0(d, d + 1);
      omega0 << (init.W - star.W) * U, init.b - star.b;
      noncentred::CoupledFlow flow(p.data, sigma, p.eta, init);
      for (double tau : kTaus) {
        const Eigen::MatrixXd omega = omega0 * (-2.0 * p.eta * tau * Mt).exp();
        one_layer::Params ref{star.W + omega.leftCols(d) * U.transpose(), star.b + omega.col(d)};
        const double err = (stack(flow.params_at(tau)) - stack(ref)).cwiseAbs().maxCoeff();
        INFO("nonaligned " << nonaligned << ", sigma " << sigma << ", tau " << tau << ": err " << err);
        REQUIRE(err < test::kClosedVsGradientFlowAbs);
      }
    }
  }
}

TEST_CASE("noncentred: closed form (3.8) equals dopri5 on the gradient (2.3) and the exact linear flow", "[fast][models][noncentred]") {
  const DenoiserProblem p = noncentred_problem(4, 0.3, true);
  const auto d = p.data.dim();
  for (double sigma : {0.1, 1.5, 4.0}) {
    const one_layer::Params init = p.initial();
    Eigen::MatrixXd X0(d, d + 1);
    X0 << init.W, init.b;
    solver::MatrixDenseIntegrator ode(
        [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
          const one_layer::Params g = one_layer::gradient(p.data, sigma, {X.leftCols(d), X.col(d)});
          dX.leftCols(d) = -p.eta * g.W;  // (3.1)
          dX.col(d) = -p.eta * g.b;
        },
        X0, 0.0, {1e-13, 1e-15, 1e-6, 5'000'000, "test", "noncentred dopri5"});
    const auto m = one_layer::flow_matrices(p.data, sigma);
    solver::SymmetricLinearFlow exact(2.0 * p.eta * m.K, 2.0 * p.eta * m.C, X0);
    noncentred::CoupledFlow flow(p.data, sigma, p.eta, init);
    double worst_ode = 0, worst_exact = 0;
    for (double tau : kTaus) {
      ode.advance_to(tau);
      exact.advance_to(tau);
      const Eigen::MatrixXd X = stack(flow.params_at(tau));
      worst_ode = std::max(worst_ode, (X - Eigen::MatrixXd(ode.state())).cwiseAbs().maxCoeff());
      worst_exact = std::max(worst_exact, (X - exact.state()).cwiseAbs().maxCoeff());
    }
    INFO("sigma " << sigma << ": vs dopri5 " << worst_ode << ", vs SymmetricLinearFlow " << worst_exact);
    REQUIRE(worst_ode < test::kClosedVsGradientFlowAbs);
    REQUIRE(worst_exact < test::kClosedVsGradientFlowAbs);
  }
  // Separate rates for W and b ((3.10), η_W ≠ η_b): the H^{½} M̃ H^{½} form against dopri5 with those rates.
  const double eta_W = 0.9, eta_b = 0.2, sigma = 0.7;
  const one_layer::Params init = p.initial();
  Eigen::MatrixXd X0(d, d + 1);
  X0 << init.W, init.b;
  solver::MatrixDenseIntegrator ode(
      [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
        const one_layer::Params g = one_layer::gradient(p.data, sigma, {X.leftCols(d), X.col(d)});
        dX.leftCols(d) = -eta_W * g.W;
        dX.col(d) = -eta_b * g.b;
      },
      X0, 0.0, {1e-13, 1e-15, 1e-6, 5'000'000, "test", "noncentred dopri5, two rates"});
  noncentred::CoupledFlow flow(p.data, sigma, eta_W, eta_b, init);
  double worst = 0;
  for (double tau : kTaus) {
    ode.advance_to(tau);
    worst = std::max(worst, (stack(flow.params_at(tau)) - Eigen::MatrixXd(ode.state())).cwiseAbs().maxCoeff());
  }
  INFO("two rates: max |closed - dopri5| " << worst);
  REQUIRE(worst < test::kClosedVsGradientFlowAbs);
}

TEST_CASE("noncentred: the O(d2) aligned construction equals the general one", "[fast][models][noncentred]") {
  DenoiserProblem p = noncentred_problem(6, 0.1, false);
  Eigen::VectorXd Q(6), b0 = nonaligned_vector(6, 0.5);
  Q << 0.1, -0.3, 0.7, 1.2, 0.0, 0.4;
  const Eigen::MatrixXd& U = p.data.eigenvectors;
  const one_layer::Params init{U * Q.asDiagonal() * U.transpose(), b0};
  for (double sigma : {0.01, 2.0}) {
    noncentred::CoupledFlow general(p.data, sigma, 0.7, 0.3, init);
    noncentred::CoupledFlow aligned(p.data, sigma, 0.7, 0.3, Q, U.transpose() * b0);
    for (double tau : kTaus) {
      general.advance_to(tau);
      aligned.advance_to(tau);
      REQUIRE((general.state() - aligned.state()).cwiseAbs().maxCoeff() < test::kRoundoff);
    }
  }
}

TEST_CASE("noncentred: the bias error mixes into the weights so an aligned start leaves alignment", "[fast][models][noncentred]") {
  const DenoiserProblem p = noncentred_problem(4, 0.1, false);
  noncentred::CoupledFlow flow(p.data, 1.0, p.eta, p.initial());
  flow.advance_to(0.0);
  const auto d = p.data.dim();
  Eigen::MatrixXd W0 = flow.state().leftCols(d);
  REQUIRE((W0 - Eigen::MatrixXd(W0.diagonal().asDiagonal())).cwiseAbs().maxCoeff() < test::kRoundoff);
  flow.advance_to(0.3);
  Eigen::MatrixXd W = flow.state().leftCols(d);
  const double off = (W - Eigen::MatrixXd(W.diagonal().asDiagonal())).cwiseAbs().maxCoeff();
  INFO("largest off-diagonal of U^T W U at tau = 0.3: " << off);
  REQUIRE(off > 1e-2);
  // Late time: the optimum (2.4), which is aligned again.
  flow.advance_to(1e4);
  const one_layer::Params star = one_layer::optimum(p.data, 1.0);
  REQUIRE((flow.params_at(1e4).W - star.W).cwiseAbs().maxCoeff() < test::kRoundoff);
  REQUIRE((flow.params_at(1e4).b - star.b).cwiseAbs().maxCoeff() < test::kRoundoff);
}

TEST_CASE("noncentred: 2-D case (3.9) rates and trajectories equal the general closed form", "[fast][models][noncentred]") {
  for (double sigma : {0.1, 1.5, 4.0}) {
    const double lambda = 1.0, m = 1.0, eta = 1.0;
    // 1-D data with mean m and variance λ (Fig. 21).
    DenoiserProblem p;
    p.data = DataMoments::from_spectrum(Eigen::VectorXd::Constant(1, lambda), Eigen::MatrixXd::Identity(1, 1),
                                        Eigen::VectorXd::Constant(1, m));
    const one_layer::Params init{Eigen::MatrixXd::Constant(1, 1, 0.1), Eigen::VectorXd::Constant(1, -0.2)};
    noncentred::CoupledFlow flow(p.data, sigma, eta, init);
    const auto r = noncentred::two_mode_rates(lambda, m, sigma);
    INFO("sigma " << sigma << ": kappa+ " << r.kappa_plus << ", kappa- " << r.kappa_minus);
    REQUIRE(r.kappa_plus == Approx(flow.rates()(1)).epsilon(1e-14));
    REQUIRE(r.kappa_minus == Approx(flow.rates()(0)).epsilon(1e-14));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> dense(noncentred::coupled_matrix(p.data, sigma));
    REQUIRE(r.kappa_minus == Approx(dense.eigenvalues()(0)).epsilon(1e-14));
    for (double tau : kTaus) {
      const auto [w, b] = noncentred::two_mode_flow(lambda, m, sigma, eta, tau, 0.1, -0.2);
      flow.advance_to(tau);
      REQUIRE(std::abs(w - flow.state()(0, 0)) < test::kRoundoff);
      REQUIRE(std::abs(b - flow.state()(0, 1)) < test::kRoundoff);
    }
  }
  // Large σ: κ_+ ≈ σ² (weight, fast) and κ_− → 1 (bias, slow), as §3.3 states.
  const auto big = noncentred::two_mode_rates(1.0, 1.0, 100.0);
  REQUIRE(big.kappa_plus / 1e4 == Approx(1.0).epsilon(1e-3));
  REQUIRE(big.kappa_minus == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("noncentred: generated mean and covariance through (4.1)-(4.2) equal the numeric full-matrix path", "[fast][models][noncentred]") {
  DenoiserProblem p = noncentred_problem(3, 0.1, false);
  p.eta = 1.0;
  NestedOptions o;
  // Numeric side: the raw flow's dense-eigendecomposition propagator in the original basis (the weights alone are
  // checked against dopri5 above); both paths share the σ grid, so a coarse one keeps the test fast.
  o.outer = OuterMethod::exponential;
  o.panels = 6;
  o.points_per_panel = 8;
  o.threads = 2;
  const std::vector<double> taus{0.0, 1.0, 30.0};
  const GeneratedTrajectory closed = noncentred::closed_form_trajectory(p, taus, o);
  const GeneratedTrajectory numeric = nested_full_matrix(p, taus, o);
  double worst_cov = 0, worst_mean = 0, off_diag_mid = 0;
  for (size_t j = 0; j < taus.size(); ++j) {
    const Eigen::MatrixXd& C = closed.eigenbasis_covariance[j];
    const Eigen::MatrixXd& N = numeric.eigenbasis_covariance[j];
    const Eigen::VectorXd scale = C.diagonal().cwiseSqrt();
    // Relative to sqrt(C_ii C_jj): the natural scale of each entry (dynamic range, THEORY §15).
    worst_cov = std::max(worst_cov, ((C - N).array() / (scale * scale.transpose()).array()).abs().maxCoeff());
    worst_mean = std::max(worst_mean, ((closed.mean.row(j) - numeric.mean.row(j)).transpose().array() / scale.array()).abs().maxCoeff());
    if (j == 1) off_diag_mid = ((C - Eigen::MatrixXd(C.diagonal().asDiagonal())).array() / (scale * scale.transpose()).array()).abs().maxCoeff();
  }
  INFO("max rel cov err " << worst_cov << ", mean err " << worst_mean << ", off-diagonal correlation at tau=1 " << off_diag_mid);
  REQUIRE(worst_cov < test::kClosedVsPfTransitionRel);
  REQUIRE(worst_mean < test::kClosedVsPfTransitionRel);
  // Aligned start, μ ≠ 0: the generated covariance is not diagonal in the data eigenbasis during training.
  REQUIRE(off_diag_mid > 1e-3);
  // τ = 0: W = Q I, b = 0 at every σ gives mean 0 and variance (4.7).
  REQUIRE(closed.mean.row(0).cwiseAbs().maxCoeff() < test::kRoundoff);
  REQUIRE(closed.variance(0, 0) == Approx(one_layer_initial_variance(0.1, p.range)).epsilon(1e-8));
}
