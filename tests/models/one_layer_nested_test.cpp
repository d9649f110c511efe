// The generated distribution of the one-layer model computed four ways must agree (THEORY.md §4, §15):
// closed form (4.9) vs adaptive quadrature (4.4), vs the nested mode-wise path with each outer integrator, vs the
// full-matrix PF transport (4.1)–(4.2). Also the limits (4.7)/(4.8) and the quoted value 3.33021282960749e−5.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/data_moments.hpp"
#include "models/nested_paths.hpp"
#include "models/pf_ode.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {

DenoiserProblem log_spaced_problem(int d, double Q, double top = 100.0, double bottom = 1e-3) {
  Eigen::VectorXd lambda(d);
  for (int k = 0; k < d; ++k) lambda(k) = top * std::pow(bottom / top, d == 1 ? 0.0 : double(k) / (d - 1));
  DenoiserProblem p;
  p.data = DataMoments::from_spectrum(lambda, Eigen::MatrixXd::Identity(d, d));
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  p.eta = 1.0;
  return p;
}

double max_rel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return ((a - b).array().abs() / b.array().abs()).maxCoeff();
}

const std::vector<double> kTaus{0.0, 1e-5, 1e-3, 0.03, 0.5, 3.0, 40.0, 1e3, 1e5};

}  // namespace

TEST_CASE("one-layer: initial generated variance equals THEORY's quoted value (4.7)", "[fast][models]") {
  const SamplingRange r;
  REQUIRE(one_layer_initial_variance(0.1, r) == Approx(3.33021282960749e-5).epsilon(1e-13));
  REQUIRE(one_layer_initial_variance(0.5, r) == Approx(0.16).epsilon(1e-13));
  REQUIRE(one_layer_initial_variance(1.0, r) == Approx(6400.0).epsilon(1e-13));
  // The τ → 0 limit of (4.9) is continuous with (4.7).
  REQUIRE(one_layer_generated_variance(0.3, 0.1, 1.0, 1e-14, r) == Approx(3.33021282960749e-5).epsilon(1e-6));
  // Late time approaches (4.8).
  REQUIRE(one_layer_generated_variance(0.3, 0.1, 1.0, 1e6, r) ==
          Approx(converged_generated_variance(0.3, r)).epsilon(1e-12));
}

TEST_CASE("one-layer: closed form (4.9) vs adaptive quadrature of (4.4)", "[fast][models]") {
  for (double Q : {0.0, 0.1, 0.5, 1.0}) {
    const DenoiserProblem p = log_spaced_problem(12, Q);
    const auto closed = closed_form_trajectory(p, kTaus);
    const auto quad = quadrature_trajectory(p, kTaus);
    INFO("Q = " << Q);
    REQUIRE(max_rel(quad.variance, closed.variance) < test::kClosedVsQuadratureRel);
  }
}

TEST_CASE("one-layer: optimum weights give the noised-and-rescaled variance (4.5)", "[fast][models]") {
  const SamplingRange r;
  for (double lambda : {1e-3, 0.07, 1.0, 30.0}) {
    const double v = generated_variance_quadrature([&](double s) { return lambda / (lambda + s * s); }, r,
                                                   {0.5 * std::log(lambda)});
    REQUIRE(v == Approx(converged_generated_variance(lambda, r)).epsilon(1e-11));
  }
}

TEST_CASE("one-layer: nested mode-wise path agrees with the closed form for every outer integrator", "[fast][models]") {
  const DenoiserProblem p = log_spaced_problem(6, 0.1);
  const auto closed = closed_form_trajectory(p, kTaus);
  for (auto method : {OuterMethod::exponential, OuterMethod::bsimp}) {
    NestedOptions o;
    o.outer = method;
    const auto nested = nested_modewise(p, kTaus, o);
    INFO("outer = " << to_string(method));
    REQUIRE(max_rel(nested.variance, closed.variance) < test::kClosedVsNestedRel);
  }
}

TEST_CASE("one-layer: full-matrix PF transport agrees with the closed form on a rotated basis", "[fast][models]") {
  // A non-trivial eigenbasis (rotation) so that the full-matrix path really works with dense matrices.
  const int d = 4;
  DenoiserProblem p = log_spaced_problem(d, 0.5, 10.0, 0.01);
  Eigen::MatrixXd R = Eigen::MatrixXd::Identity(d, d);
  const double c = std::cos(0.3), s = std::sin(0.3);
  R(0, 0) = c; R(0, 1) = -s; R(1, 0) = s; R(1, 1) = c;
  R(2, 2) = c; R(2, 3) = s; R(3, 2) = -s; R(3, 3) = c;
  p.data = DataMoments::from_spectrum(p.data.eigenvalues, R);
  const std::vector<double> taus{0.0, 1e-3, 0.1, 2.0, 50.0};
  const auto closed = closed_form_trajectory(p, taus);
  NestedOptions o;
  o.outer = OuterMethod::exponential;
  const auto full = nested_full_matrix(p, taus, o);
  REQUIRE(max_rel(full.variance, closed.variance) < test::kClosedVsPfTransitionRel);
  REQUIRE(full.mean.cwiseAbs().maxCoeff() < 1e-12);
}
