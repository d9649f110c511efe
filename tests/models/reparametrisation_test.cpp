// Re-parametrisations and per-σ learning rates (THEORY.md §3.4, (3.10)–(3.11), §12): the quadrature path (4.4)
// with σ-dependent η and start against the nested mode-wise path; residual = plain shifted (exact identity);
// a constant η(σ) reproduces the closed form (4.9); and (3.11) itself against a direct flow on the trainable V.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/nested_paths.hpp"
#include "models/reparametrisation.hpp"
#include "solver/dense_integrator.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;
namespace rp = specbias::models::reparametrisation;

namespace {
DenoiserProblem problem(double Q) {
  DenoiserProblem p;
  const Eigen::Vector4d lambda(10.0, 1.0, 0.1, 0.01);
  p.data = DataMoments::from_spectrum(lambda, Eigen::MatrixXd::Identity(4, 4));
  p.Q = Eigen::VectorXd::Constant(4, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(4, 4);
  p.b0 = Eigen::VectorXd::Zero(4);
  p.eta = 1.0;
  return p;
}
double max_rel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return ((a - b).array() / b.array()).abs().maxCoeff();
}
const std::vector<double> kTaus{0.0, 1e-3, 0.1, 3.0, 100.0, 1e4};
}  // namespace

TEST_CASE("reparametrisation: residual with V0 = Q - 1 equals plain with W0 = Q", "[fast][models][reparam]") {
  DenoiserProblem plain = problem(0.3), residual = problem(0.3 - 1.0);
  residual.sigma_scaling = rp::make_sigma_scaling(rp::Parametrisation::residual, rp::EtaWeighting::none, {});
  const auto a = closed_form_trajectory(plain, kTaus);
  const auto b = quadrature_trajectory(residual, kTaus);
  REQUIRE(max_rel(b.variance, a.variance) < test::kClosedVsQuadratureRel);
  const auto qa = quadrature_trajectory(plain, kTaus);
  REQUIRE(max_rel(b.variance, qa.variance) < test::kRoundoff);  // the same integrand up to 1 ulp in Q
}

TEST_CASE("reparametrisation: a constant per-sigma rate reproduces the closed form (4.9)", "[fast][models][reparam]") {
  DenoiserProblem p = problem(0.1);
  p.sigma_scaling = [](double) { return SigmaScaling{2.5, 0.0, 1.0}; };
  REQUIRE_FALSE(has_closed_form_variance(p));
  const auto quad = quadrature_trajectory(p, kTaus);
  DenoiserProblem q = problem(0.1);
  q.eta = 2.5;
  const auto closed = closed_form_trajectory(q, kTaus);
  REQUIRE(max_rel(quad.variance, closed.variance) < test::kClosedVsQuadratureRel);
}

TEST_CASE("reparametrisation: EDM preconditioning and weighting by quadrature equal the nested path", "[fast][models][reparam]") {
  for (auto [param, weighting] : {std::pair{rp::Parametrisation::edm_preconditioned, rp::EtaWeighting::edm_density},
                                  std::pair{rp::Parametrisation::score, rp::EtaWeighting::none},
                                  std::pair{rp::Parametrisation::plain, rp::EtaWeighting::edm_both}}) {
    DenoiserProblem p = problem(0.0);  // V(0) = 0
    p.sigma_scaling = rp::make_sigma_scaling(param, weighting, {});
    const auto quad = quadrature_trajectory(p, kTaus);
    NestedOptions o;
    o.outer = OuterMethod::bsimp;  // numeric per-mode flow at every node with the node's own η(σ), Q(σ)
    o.panels = 32;
    o.threads = 2;
    const auto nested = nested_modewise(p, kTaus, o);
    const double err = max_rel(nested.variance, quad.variance);
    INFO("parametrisation " << int(param) << ", weighting " << int(weighting) << ": max rel " << err);
    REQUIRE(err < test::kClosedVsNestedRel);
  }
}

TEST_CASE("reparametrisation: EDM constants and the effective rate (3.11) from a flow on V", "[fast][models][reparam]") {
  const double sd = 0.5;
  for (double sigma : {0.01, 0.5, 7.0}) {
    const SigmaScaling s = rp::scaling_at(rp::Parametrisation::edm_preconditioned, rp::EtaWeighting::none, {}, sigma);
    REQUIRE(s.eta_factor == Approx(1.0 / (sigma * sigma + sd * sd)).epsilon(1e-14));  // η c_in² (3.11)
    REQUIRE(s.alpha == Approx(rp::c_skip(sigma, sd)).epsilon(1e-15));
    REQUIRE(rp::edm_loss_weight(sigma, sd) * std::pow(rp::c_out(sigma, sd), 2) == Approx(1.0).epsilon(1e-14));  // ω = 1/c_out²
    // Independent: integrate the trainable V of one mode under the EDM-weighted loss ω L(c_skip + c_out c_in V),
    // dV/dτ = −η ω ∂L/∂V (chain rule done numerically by the ODE), and compare W = c_skip + c_out c_in V with (3.4)
    // at the effective rate and start of (3.11).
    const double lambda = 0.3, eta = 1.0, beta = rp::c_out(sigma, sd) * rp::c_in(sigma, sd);
    const double omega = rp::edm_loss_weight(sigma, sd);
    auto loss = [&](double w) { return (lambda + sigma * sigma) * w * w - 2 * lambda * w + lambda; };
    solver::DenseIntegrator ode(
        [&](const Eigen::VectorXd& v, Eigen::VectorXd& dv, double) {
          const double w = s.alpha + beta * v(0), h = 1e-5;
          dv(0) = -eta * omega * beta * (loss(w + h) - loss(w - h)) / (2 * h);  // exact for a quadratic
        },
        Eigen::VectorXd::Zero(1), 0.0, {1e-13, 1e-15, 1e-8, 1'000'000, "test", "V flow"});
    for (double tau : {0.01, 0.3, 2.0}) {
      ode.advance_to(tau);
      const double w = s.alpha + beta * ode.state()(0);
      const double ref = one_layer::mode_weight(lambda, sigma, eta * s.eta_factor, tau, s.alpha);
      INFO("sigma " << sigma << ", tau " << tau << ": " << w << " vs " << ref);
      REQUIRE(std::abs(w - ref) < 1e-9);
    }
  }
  // Score parametrisation: η_W = η σ⁴, start 1 + σ² V(0).
  const SigmaScaling sc = rp::scaling_at(rp::Parametrisation::score, rp::EtaWeighting::none, {}, 2.0);
  REQUIRE(sc.eta_factor == Approx(16.0));
  REQUIRE(sc.beta == Approx(4.0));
  // EDM density factor peaks at σ = e^{P_mean} with value 1.
  REQUIRE(rp::edm_density_factor(std::exp(-1.2), -1.2, 1.2) == Approx(1.0));
  REQUIRE(rp::edm_density_factor(std::exp(-1.2 + 1.2), -1.2, 1.2) == Approx(std::exp(-0.5)).epsilon(1e-14));
}
