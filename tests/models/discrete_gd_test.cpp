// Discrete-time gradient descent (THEORY.md §3.2, (3.6)): closed forms (per mode, and through the M̃
// eigendecomposition for any mean) against an explicit loop of the gradient step (2.3); the small-η limit
// towards gradient flow; the stability bound; and the generated variance by quadrature vs the nested path.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/data_sources.hpp"
#include "models/discrete_gd.hpp"
#include "models/nested_paths.hpp"
#include "models/noncentred.hpp"
#include "models/splitmix64.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {
DataMoments small_data(bool with_mean) {
  SplitMix64 rng(5);
  const Eigen::MatrixXd U = random_orthogonal(3, rng);
  const Eigen::Vector3d lambda(2.0, 0.5, 0.05), m(0.7, -0.4, 0.2);
  return DataMoments::from_spectrum(lambda, U, with_mean ? Eigen::VectorXd(U * m) : Eigen::VectorXd());
}
}  // namespace

TEST_CASE("discrete gd: closed form (3.6) equals the explicit loop of gradient steps", "[fast][models][discrete]") {
  for (bool with_mean : {false, true}) {
    const DataMoments data = small_data(with_mean);
    const double sigma = 0.8, eta = 0.9 * discrete_gd::stability_limit(data, sigma);
    const one_layer::Params init{0.1 * Eigen::MatrixXd::Identity(3, 3) + nonaligned_matrix(3, 3, 0.1),
                                 nonaligned_vector(3, 0.5)};
    noncentred::CoupledFlow closed(data, sigma, eta, init);
    closed.use_discrete_steps(true);
    double worst = 0;
    for (long long n : {0LL, 1LL, 7LL, 60LL, 400LL}) {
      const one_layer::Params loop = discrete_gd::iterate(data, sigma, eta, n, init);
      const one_layer::Params cf = closed.params_at(static_cast<double>(n));
      worst = std::max({worst, (cf.W - loop.W).cwiseAbs().maxCoeff(), (cf.b - loop.b).cwiseAbs().maxCoeff()});
    }
    INFO("mean " << with_mean << ": eta " << eta << ", max |closed - loop| " << worst);
    REQUIRE(worst < test::kClosedVsGradientFlowAbs);
  }
  // Per mode (zero mean, aligned): (3.6) vs the explicit per-mode iteration.
  const Eigen::Vector3d lambda(2.0, 0.5, 0.05);
  discrete_gd::ModeIteration it(lambda, 0.8, 0.2, Eigen::Vector3d::Constant(0.1));
  for (double tau : {3.0, 50.0, 300.0}) {
    it.advance_to(tau);
    for (int k = 0; k < 3; ++k)
      REQUIRE(std::abs(it.state()(k) - discrete_gd::mode_weight(lambda(k), 0.8, 0.2, std::llround(tau), 0.1)) < test::kRoundoff);
  }
}

TEST_CASE("discrete gd: small learning rate converges to gradient flow at tau = n", "[fast][models][discrete]") {
  // (1 − 2ηa)^n vs e^{−2ηan} at fixed ηn: the error is first order in η (halving η halves it).
  const double lambda = 0.5, sigma = 1.0, Q = 0.1, clock = 0.6;  // ηn fixed
  double previous = 0;
  for (double eta : {1e-2, 5e-3, 2.5e-3, 1.25e-3}) {
    const auto n = std::llround(clock / eta);
    const double gd = discrete_gd::mode_weight(lambda, sigma, eta, n, Q);
    const double gf = one_layer::mode_weight(lambda, sigma, eta, static_cast<double>(n), Q);  // (3.4) at τ = n
    const double err = std::abs(gd - gf);
    INFO("eta " << eta << ": |GD - GF| = " << err);
    if (previous > 0) REQUIRE(previous / err == Approx(2.0).epsilon(0.02));
    previous = err;
  }
  REQUIRE(previous < 2e-4);
}

TEST_CASE("discrete gd: stability limit (3.6) is sharp", "[fast][models][discrete]") {
  const DataMoments centred = small_data(false);
  for (double sigma : {0.1, 3.0}) {
    const double limit = discrete_gd::stability_limit(centred, sigma);
    REQUIRE(limit == Approx(1.0 / std::max(2.0 + sigma * sigma, 1.0)).epsilon(1e-14));  // η < 1/(λ_max+σ²), η < 1
  }
  const DataMoments data = small_data(true);
  const double sigma = 2.0, limit = discrete_gd::stability_limit(data, sigma);
  const one_layer::Params init{Eigen::MatrixXd::Zero(3, 3), Eigen::VectorXd::Zero(3)};
  const one_layer::Params star = one_layer::optimum(data, sigma);
  const auto distance = [&](double eta) {
    const one_layer::Params p = discrete_gd::iterate(data, sigma, eta, 4000, init);
    return (p.W - star.W).norm() + (p.b - star.b).norm();
  };
  INFO("limit " << limit);
  REQUIRE(distance(0.99 * limit) < 1e-6);
  REQUIRE(distance(1.01 * limit) > 1e3);
}

TEST_CASE("discrete gd: generated variance by quadrature of (3.6) equals the nested mode-wise iteration", "[fast][models][discrete]") {
  DenoiserProblem p;
  const Eigen::Vector3d lambda(2.0, 0.5, 0.05);
  p.data = DataMoments::from_spectrum(lambda, Eigen::MatrixXd::Identity(3, 3));
  p.Q = Eigen::VectorXd::Constant(3, 0.1);
  p.W0_offset = Eigen::MatrixXd::Zero(3, 3);
  p.b0 = Eigen::VectorXd::Zero(3);
  p.range = {0.002, 5.0};
  p.eta = 0.9 / (2.0 + 25.0);
  p.discrete_steps = true;
  REQUIRE_FALSE(has_closed_form_variance(p));
  const std::vector<double> taus{0.0, 1.0, 10.0, 100.0, 1000.0};
  const auto quad = quadrature_trajectory(p, taus);
  NestedOptions o;
  o.threads = 2;
  const auto nested = nested_modewise(p, taus, o);
  const double err = ((nested.variance - quad.variance).array() / quad.variance.array()).abs().maxCoeff();
  INFO("max rel error nested vs quadrature: " << err);
  REQUIRE(err < test::kClosedVsNestedRel);
  // And it differs from gradient flow at the same τ (η is not small here).
  DenoiserProblem flow = p;
  flow.discrete_steps = false;
  const auto gf = closed_form_trajectory(flow, taus);
  REQUIRE(std::abs(gf.variance(2, 2) / quad.variance(2, 2) - 1.0) > 1e-3);
}
