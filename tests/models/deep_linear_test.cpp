// Deep linear denoisers per mode (THEORY.md §6.2–6.3): the ₂F₁ function against its defining series, the
// antiderivatives of (6.6)/(6.7) against adaptive quadrature, the implicit solutions against rk8pd integrations of
// (6.5) written out here, the O(1/L) approach to the infinite-depth limit, L = 1, 2 reductions, and the mobility
// law of mode_flow.hpp against the per-kind formulas.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/deep_linear.hpp"
#include "models/mode_flow.hpp"
#include "models/one_layer.hpp"
#include "models/special_functions.hpp"
#include "models/two_layer.hpp"
#include "solver/gsl_integrator.hpp"
#include "solver/quadrature.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {
// dw/dτ = −2ηκ(λ+σ²)|w|^β (w − w*) (6.5) by rk8pd at rtol 1e-13 — written out, not through mode_flow.
double integrate_deep(double beta, double kappa, double lambda, double sigma, double eta, double Q, double tau) {
  solver::OdeOptions o;
  o.rtol = 1e-13;
  o.atol = 1e-16;
  const double L = lambda + sigma * sigma, w_star = lambda / L;
  solver::GslIntegrator ode(
      solver::GslMethod::rk8pd,
      [&](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
        dw(0) = -2.0 * eta * kappa * L * std::pow(std::abs(w(0)), beta) * (w(0) - w_star);
      },
      {}, Eigen::VectorXd::Constant(1, Q), 0.0, o);
  ode.advance_to(tau);
  return ode.state()(0);
}
}  // namespace

TEST_CASE("deep: 2F1(1 b 1+b z) matches its defining series on both sides of z = 1/2", "[fast][models]") {
  double worst = 0;
  for (double b : {-1.0 / 3.0, -0.5, -0.8, -0.98, 4.0 / 3.0, 1.5, 1.98, 0.5})
    for (double z : {0.01, 0.2, 0.45, 0.5, 0.500001, 0.6, 0.8, 0.95}) {
      // b Σ zⁿ/(n + b), summed in long double until the terms are negligible.
      long double sum = 0, zn = 1;
      for (int n = 0; n < 2000; ++n, zn *= z) sum += zn / (n + b);
      const double exact = static_cast<double>(b * sum);
      worst = std::max(worst, std::abs(hyp2f1_1_b_1pb(b, z, 1.0 - z) - exact) / std::abs(exact));
    }
  INFO("max rel error " << worst);
  REQUIRE(worst < test::kSpecialFunctionRel);
  REQUIRE_THROWS_AS(hyp2f1_1_b_1pb(-1.0, 0.3, 0.7), std::domain_error);
  REQUIRE_THROWS_AS(hyp2f1_1_b_1pb(0.5, 1.0, 0.0), std::domain_error);
}

TEST_CASE("deep: antiderivatives (6.6) and (6.7) differ like the quadrature of their integrand", "[fast][models]") {
  const double w_star = 0.37;
  double worst = 0;
  for (double beta : {4.0 / 3.0, 1.5, 1.75, 1.9, 2.0, 0.5})
    for (bool above : {false, true})
      for (auto [r1, r2] : std::vector<std::pair<double, double>>{{0.9, 0.6}, {0.6, 0.1}, {0.3, 1e-4}, {1e-3, 1e-9}}) {
        const double x1 = w_star * (above ? 1 + r1 : 1 - r1), x2 = w_star * (above ? 1 + r2 : 1 - r2);
        // ∫ dx/(x^β(x − w*)) = ∫ (x^{−β} − w*^{−β})/(x − w*) dx + w*^{−β} ln(r2/r1): the smooth part by quadrature,
        // the logarithm exactly (x − w* itself is not representable to better than ~1e-16·w*/|x − w*| near w*).
        const auto smooth = solver::integrate(
            [&](double x) { return (std::pow(x, -beta) - std::pow(w_star, -beta)) / (x - w_star); }, x1, x2, {},
            {0.0, 1e-13, 2000, ""});
        const double exact = smooth.value + std::pow(w_star, -beta) * std::log(r2 / r1);
        const double diff = deep::implicit_antiderivative(beta, w_star, r2, above) -
                            deep::implicit_antiderivative(beta, w_star, r1, above);
        worst = std::max(worst, std::abs(diff - exact) / std::abs(exact));
      }
  INFO("max rel error " << worst);
  REQUIRE(worst < test::kSpecialFunctionRel);
}

TEST_CASE("deep: implicit solution (6.6) reproduces rk8pd integrations of (6.5) for L = 3 to 8 tied and untied", "[fast][models]") {
  const double eta = 0.6;
  double worst_w = 0, worst_tau = 0;
  for (int L : {3, 4, 5, 8})
    for (bool tied : {false, true})
      for (double lambda : {2.0, 0.1})
        for (double sigma : {0.2, 1.5})
          for (double Q : {0.05, 0.9, 1.6}) {
            const double beta = deep::depth_exponent(L), kappa = tied ? double(L) * L : double(L);
            const double K = 2.0 * eta * kappa * (lambda + sigma * sigma), w_star = lambda / (lambda + sigma * sigma);
            for (double tau : {0.02, 0.4, 3.0}) {
              const double w = integrate_deep(beta, kappa, lambda, sigma, eta, Q, tau);
              worst_w = std::max(worst_w, std::abs(deep::mode_weight_implicit(beta, lambda, sigma, K, Q, tau) - w));
              if (std::abs(w - w_star) > 1e-3 * w_star && std::abs(w - Q) > 1e-6)
                worst_tau = std::max(worst_tau, std::abs(deep::implicit_time(beta, lambda, sigma, K, Q, w) / tau - 1));
            }
          }
  INFO("max abs weight error " << worst_w << ", max rel time error " << worst_tau);
  REQUIRE(worst_w < test::kClosedVsModeFlowAbs);
  REQUIRE(worst_tau < test::kImplicitTimeRel);
}

TEST_CASE("deep: infinite-depth solution (6.7) and the O(1/L) approach to it", "[fast][models]") {
  // At fixed η' = ηκ the depth-L flow tends to dw/dτ = −2η'(λ+σ²) w²(w − w*) with error O(1/L): s_L = L(w_L − w_∞)
  // approaches a constant A with s_L = A + B/L + …, so successive differences of s halve as L doubles.
  const double eta_prime = 0.5, lambda = 0.8, sigma = 0.6, Q = 0.2, tau = 2.0;
  const double K = 2.0 * eta_prime * (lambda + sigma * sigma);
  const double w_inf = deep::mode_weight_implicit(2.0, lambda, sigma, K, Q, tau);
  REQUIRE(w_inf == Approx(integrate_deep(2.0, 1.0, lambda, sigma, eta_prime, Q, tau)).margin(test::kClosedVsModeFlowAbs));
  std::vector<double> scaled;
  for (int L : {16, 32, 64, 128}) {
    const double w_L = deep::mode_weight_implicit(deep::depth_exponent(L), lambda, sigma, K, Q, tau);  // K = 2η'(λ+σ²)
    scaled.push_back(L * (w_L - w_inf));
  }
  INFO("L (w_L - w_inf): " << scaled[0] << " " << scaled[1] << " " << scaled[2] << " " << scaled[3]);
  REQUIRE(std::abs(scaled[0]) > 1e-2);  // a real O(1/L) gap, not a coincidence
  for (size_t i = 2; i < scaled.size(); ++i) {
    const double ratio = (scaled[i - 1] - scaled[i - 2]) / (scaled[i] - scaled[i - 1]);
    REQUIRE(ratio == Approx(2.0).epsilon(0.15));
  }
}

TEST_CASE("deep: lambda = 0 follows the explicit power law of the w-star = 0 limit", "[fast][models]") {
  for (int L : {3, 6}) {
    const double beta = deep::depth_exponent(L), K = 2.0 * L * 0.25;
    REQUIRE(deep::mode_weight_implicit(beta, 0.0, 0.5, K, 0.4, 1.7) ==
            Approx(integrate_deep(beta, L, 0.0, 0.5, 1.0, 0.4, 1.7)).margin(test::kClosedVsModeFlowAbs));
  }
}

TEST_CASE("deep: the mobility law reduces to (3.4) for L = 1 and to (5.3)/(6.4) for L = 2", "[fast][models]") {
  const double eta = 0.9;
  for (double lambda : {1.0, 0.05})
    for (double sigma : {0.3, 2.0})
      for (double tau : {0.1, 1.0, 10.0}) {
        // L = 1: κ = 1, β = 0 (both tied and untied) is the one-layer flow.
        REQUIRE(mode_weight_solution({1.0, deep::depth_exponent(1), 0.0}, 0.3, lambda, sigma, eta, tau) ==
                Approx(one_layer::mode_weight(lambda, sigma, eta, tau, 0.3)).epsilon(test::kRoundoff));
        // L = 2 tied: κ = 4 is the symmetric two-layer model (5.3).
        REQUIRE(mode_weight_solution({4.0, deep::depth_exponent(2), 0.0}, 0.3, lambda, sigma, eta, tau) ==
                Approx(two_layer::symmetric_mode_weight(lambda, sigma, eta, tau, 0.3)).epsilon(test::kRoundoff));
        // L = 2 untied with a = b: κ = 2 is (6.4) with C = 0.
        const double a = std::sqrt(0.3);
        REQUIRE(mode_weight_solution({2.0, deep::depth_exponent(2), 0.0}, 0.3, lambda, sigma, eta, tau) ==
                Approx(two_layer::explicit_solution(lambda, sigma, eta, tau, {a, a}).w()).epsilon(1e-12));
        // Two layers with C ≠ 0: c = C/2.
        REQUIRE(mode_weight_solution({2.0, 1.0, 0.5 * (0.64 - 0.09)}, 0.8 * 0.3, lambda, sigma, eta, tau) ==
                Approx(two_layer::explicit_solution(lambda, sigma, eta, tau, {0.8, 0.3}).w()).epsilon(1e-12));
      }
  // Residual (6.8): w(0) = (1 + v)^L.
  REQUIRE(deep::residual_initial_weight(-0.2, 3) == Approx(0.512).epsilon(1e-15));
  REQUIRE(deep::residual_initial_weight(0.0, 7) == 1.0);
}

TEST_CASE("deep: mode_rhs and its derivative match the written-out laws and finite differences", "[fast][models]") {
  const double lambda = 0.7, sigma = 0.4, eta = 1.1, L2 = lambda + sigma * sigma, w_star = lambda / L2;
  for (const ModeMobility& m : {ModeMobility{1, 0, 0}, ModeMobility{4, 1, 0}, ModeMobility{2, 1, 0.3},
                                ModeMobility{3, 4.0 / 3.0, 0}, ModeMobility{25, 1.6, 0}, ModeMobility{1, 2, 0}})
    for (double w : {0.05, 0.4, 1.3, -0.2}) {
      const double expected = -2.0 * eta * m.kappa * std::pow(w * w + m.c * m.c, 0.5 * m.beta) * L2 * (w - w_star);
      REQUIRE(mode_rhs(m, lambda, sigma, eta, w) == Approx(expected).epsilon(1e-14));
      const double h = 1e-6;
      const double fd = (mode_rhs(m, lambda, sigma, eta, w + h) - mode_rhs(m, lambda, sigma, eta, w - h)) / (2 * h);
      REQUIRE(mode_rhs_derivative(m, lambda, sigma, eta, w) == Approx(fd).margin(test::kFiniteDifferenceAbs));
    }
  // Q = 0 is a fixed point of every multiplicative mobility (β > 0, c = 0).
  REQUIRE(mode_rhs({4, 1, 0}, lambda, sigma, eta, 0.0) == 0.0);
  REQUIRE(mode_weight_solution({4, 1, 0}, 0.0, lambda, sigma, eta, 100.0) == 0.0);
  REQUIRE(mode_weight_solution({3, 4.0 / 3.0, 0}, 0.0, lambda, sigma, eta, 100.0) == 0.0);
}
