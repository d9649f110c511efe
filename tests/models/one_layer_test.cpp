// One-layer loss, gradient and gradient flow (THEORY.md (2.2)–(2.6), (3.1)–(3.5)) against independent numerics:
// finite differences, full-matrix dopri5 integration of the raw gradient, and algebraic identities.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/data_sources.hpp"
#include "models/one_layer.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/linear_flow.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;
namespace ol = specbias::models::one_layer;

namespace {
DataMoments rotated_data(int d, bool with_mean) {
  const Eigen::VectorXd lambda = log_spaced_spectrum(d, 10.0, 1e-2);
  Eigen::VectorXd mean = with_mean ? nonaligned_vector(d) : Eigen::VectorXd::Zero(d);
  return DataMoments::from_spectrum(lambda, dct2_basis(d), mean);
}
ol::Params nonaligned_start(int d) { return {0.3 * Eigen::MatrixXd::Identity(d, d) + nonaligned_matrix(d, d), nonaligned_vector(d)}; }
}  // namespace

TEST_CASE("one-layer: gradient (2.3) matches central finite differences of the loss (2.2)", "[fast][models]") {
  for (bool with_mean : {false, true}) {
    const int d = 4;
    const DataMoments data = rotated_data(d, with_mean);
    const ol::Params p = nonaligned_start(d);
    const double sigma = 0.7, h = 1e-6;
    const ol::Params g = ol::gradient(data, sigma, p);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        ol::Params plus = p, minus = p;
        plus.W(i, j) += h;
        minus.W(i, j) -= h;
        const double fd = (ol::loss(data, sigma, plus) - ol::loss(data, sigma, minus)) / (2 * h);
        REQUIRE(g.W(i, j) == Approx(fd).margin(1e-7));
      }
      ol::Params plus = p, minus = p;
      plus.b(i) += h;
      minus.b(i) -= h;
      REQUIRE(g.b(i) == Approx((ol::loss(data, sigma, plus) - ol::loss(data, sigma, minus)) / (2 * h)).margin(1e-7));
    }
  }
}

TEST_CASE("one-layer: optimum (2.4) zeroes the gradient and attains the minimum loss (2.5)", "[fast][models]") {
  for (bool with_mean : {false, true}) {
    const DataMoments data = rotated_data(5, with_mean);
    for (double sigma : {0.002, 0.3, 1.0, 80.0}) {
      const ol::Params opt = ol::optimum(data, sigma);
      const ol::Params g = ol::gradient(data, sigma, opt);
      REQUIRE(g.W.cwiseAbs().maxCoeff() < test::kRoundoff * 100);
      REQUIRE(g.b.cwiseAbs().maxCoeff() < test::kRoundoff * 100);
      REQUIRE(ol::loss(data, sigma, opt) == Approx(ol::minimum_loss(data, sigma)).epsilon(1e-11).margin(1e-14));
    }
  }
}

TEST_CASE("one-layer: ridge identity (2.6) holds for any W, b", "[fast][models]") {
  const DataMoments data = rotated_data(4, true);
  const ol::Params p = nonaligned_start(4);
  const double sigma = 1.3;
  // E||W x0 + b − x0||² from the moments, independently of (2.2): tr((W−I)Σ(W−I)^T) + ||(W−I)μ + b||².
  const Eigen::MatrixXd E = p.W - Eigen::MatrixXd::Identity(4, 4);
  const double clean = (E * data.covariance * E.transpose()).trace() + (E * data.mean + p.b).squaredNorm();
  REQUIRE(ol::loss(data, sigma, p) == Approx(clean + sigma * sigma * p.W.squaredNorm()).epsilon(1e-13));
}

TEST_CASE("one-layer: closed-form flow (3.2)-(3.3) equals full-matrix dopri5 on the raw gradient", "[fast][models]") {
  const int d = 5;
  const DataMoments data = rotated_data(d, false);
  const ol::Params init = nonaligned_start(d);  // non-aligned, non-symmetric W(0) and non-zero b(0)
  const double eta = 0.8;
  for (double sigma : {0.05, 1.0, 3.0}) {
    solver::OdeOptions opt;
    opt.rtol = 1e-13;
    opt.atol = 1e-15;
    Eigen::MatrixXd X0(d, d + 1);
    X0 << init.W, init.b;
    solver::MatrixDenseIntegrator ode(
        [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
          const ol::Params g = ol::gradient(data, sigma, {X.leftCols(d), X.col(d)});
          dX << -eta * g.W, -eta * g.b;
        },
        X0, 0.0, opt);
    double prev_loss = ol::loss(data, sigma, init);
    for (double tau : {0.01, 0.1, 1.0, 5.0, 20.0}) {
      ode.advance_to(tau);
      const ol::Params cf = ol::closed_form_flow(data, sigma, eta, tau, init);
      const Eigen::MatrixXd X = ode.state();
      INFO("sigma " << sigma << " tau " << tau);
      REQUIRE((X.leftCols(d) - cf.W).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
      REQUIRE((X.col(d) - cf.b).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
      // Invariant: the loss never increases along gradient flow; (3.5) gives its excess exactly.
      const double loss = ol::loss(data, sigma, cf);
      REQUIRE(loss <= prev_loss + 1e-13);
      prev_loss = loss;
      REQUIRE(loss - ol::minimum_loss(data, sigma) ==
              Approx(ol::excess_loss_closed_form(data, sigma, eta, tau, init)).epsilon(1e-9).margin(1e-13));
    }
  }
}

TEST_CASE("one-layer: exact linear-flow propagator reproduces the non-centred flow of the raw gradient", "[fast][models]") {
  // With μ ≠ 0 there is no (3.2); hold the exponential path (flow_matrices + SymmetricLinearFlow) against dopri5.
  const int d = 4;
  const DataMoments data = rotated_data(d, true);
  const ol::Params init = nonaligned_start(d);
  const double eta = 1.0, sigma = 0.5;
  const auto m = ol::flow_matrices(data, sigma);
  Eigen::MatrixXd X0(d, d + 1);
  X0 << init.W, init.b;
  solver::SymmetricLinearFlow exact(2 * eta * m.K, 2 * eta * m.C, X0);
  solver::OdeOptions opt;
  opt.rtol = 1e-13;
  opt.atol = 1e-15;
  solver::MatrixDenseIntegrator ode(
      [&](const Eigen::Map<const Eigen::MatrixXd>& X, Eigen::Map<Eigen::MatrixXd>& dX, double) {
        const ol::Params g = ol::gradient(data, sigma, {X.leftCols(d), X.col(d)});
        dX << -eta * g.W, -eta * g.b;
      },
      X0, 0.0, opt);
  for (double tau : {0.1, 1.0, 10.0}) {
    exact.advance_to(tau);
    ode.advance_to(tau);
    REQUIRE((exact.state() - ode.state()).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
  }
  // Late time: the optimum (2.4) including b* = (I − W*)μ.
  exact.advance_to(1e4);
  const ol::Params opt_p = ol::optimum(data, sigma);
  REQUIRE((exact.state().leftCols(d) - opt_p.W).cwiseAbs().maxCoeff() < 1e-10);
  REQUIRE((exact.state().col(d) - opt_p.b).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("one-layer: per-mode weight (3.4) equals the eigenbasis diagonal of the matrix closed form", "[fast][models]") {
  const int d = 6;
  const DataMoments data = rotated_data(d, false);
  const Eigen::VectorXd Q = Eigen::VectorXd::LinSpaced(d, 0.0, 1.0);
  const ol::Params init{data.eigenvectors * Q.asDiagonal() * data.eigenvectors.transpose(), Eigen::VectorXd::Zero(d)};
  const ol::Params w = ol::closed_form_flow(data, 0.4, 1.0, 0.7, init);
  const Eigen::MatrixXd M = data.eigenvectors.transpose() * w.W * data.eigenvectors;
  for (int k = 0; k < d; ++k) REQUIRE(M(k, k) == Approx(ol::mode_weight(data.eigenvalues(k), 0.4, 1.0, 0.7, Q(k))).epsilon(1e-13));
  // Aligned start stays aligned (off-diagonal entries vanish).
  REQUIRE((M - Eigen::MatrixXd(M.diagonal().asDiagonal())).cwiseAbs().maxCoeff() < 1e-14);
}
