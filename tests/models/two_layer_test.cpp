// Two-layer denoisers per mode (THEORY.md §5, §6.1) against independent numerics: GSL rk8pd integrations of the
// per-mode laws written out here ((5.2), (6.2)), adaptive quadrature of (4.4), the full-matrix flow (5.1) through
// the chain rule for the off-diagonal rates (5.6)–(5.7), and the fixed points Q = 0 and C = 0.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include "models/data_sources.hpp"
#include "models/denoiser_problem.hpp"
#include "models/linear_chain.hpp"
#include "models/mode_flow.hpp"
#include "models/nested_paths.hpp"
#include "models/pf_ode.hpp"
#include "models/two_layer.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/gsl_integrator.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;
namespace tl = specbias::models::two_layer;

namespace {
solver::OdeOptions tight() {
  solver::OdeOptions o;
  o.rtol = 1e-13;
  o.atol = 1e-15;
  return o;
}

// rk8pd on dx/dτ = f(x) (explicit, high order: a reference independent of the library's solutions and engine).
Eigen::VectorXd integrate(const std::function<void(const Eigen::VectorXd&, Eigen::VectorXd&)>& f, Eigen::VectorXd x0,
                          double tau) {
  solver::GslIntegrator ode(
      solver::GslMethod::rk8pd, [&](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { f(x, dx); }, {},
      std::move(x0), 0.0, tight());
  ode.advance_to(tau);
  return ode.state();
}
}  // namespace

TEST_CASE("two-layer: symmetric logistic weight (5.3) matches an rk8pd integration of (5.2)", "[fast][models]") {
  const double eta = 0.7;
  double worst = 0;
  for (double lambda : {3.0, 0.4, 0.02})
    for (double sigma : {0.05, 0.5, 2.0})
      for (double Q : {1e-3, 0.1, 0.5, 1.4})
        for (double tau : {0.01, 0.3, 2.0, 9.0}) {
          const double L = lambda + sigma * sigma, w_star = lambda / L;
          const auto w = integrate([&](const Eigen::VectorXd& x, Eigen::VectorXd& dx) {
            dx(0) = 8.0 * eta * L * x(0) * (w_star - x(0));  // (5.2)
          }, Eigen::VectorXd::Constant(1, Q), tau);
          worst = std::max(worst, std::abs(tl::symmetric_mode_weight(lambda, sigma, eta, tau, Q) - w(0)));
        }
  INFO("max abs error " << worst);
  REQUIRE(worst < test::kClosedVsModeFlowAbs);
  // λ → 0 keeps its limit Q/(1 + 8ησ²Qτ) (the literal (5.3) would be 0/0).
  REQUIRE(tl::symmetric_mode_weight(0.0, 0.5, eta, 2.0, 0.3) == Approx(0.3 / (1 + 8 * eta * 0.25 * 0.3 * 2.0)).epsilon(1e-15));
}

TEST_CASE("two-layer: weight emergence (5.4) is the harmonic-mean crossing for every Q and sigma", "[fast][models]") {
  for (double lambda : {10.0, 0.3, 0.001})
    for (double sigma : {0.01, 1.0, 30.0})
      for (double Q : {0.05, 0.5, 3.0}) {
        const double eta = 1.3, w_star = lambda / (lambda + sigma * sigma);
        const double tau_star = tl::symmetric_weight_emergence_time(lambda, eta);
        REQUIRE(tau_star == Approx(std::log(2.0) / (8 * eta * lambda)).epsilon(1e-15));
        const double harmonic = 2.0 * Q * w_star / (Q + w_star);
        REQUIRE(tl::symmetric_mode_weight(lambda, sigma, eta, tau_star, Q) == Approx(harmonic).epsilon(test::kRoundoff));
      }
}

TEST_CASE("two-layer: generated variance (5.5) vs adaptive quadrature of (5.3) and its limits", "[fast][models]") {
  const SamplingRange r;
  double worst = 0;
  for (double lambda : {50.0, 1.0, 0.03, 1e-3})
    for (double Q : {0.1, 0.5, 1.0, 2.0})
      for (double tau : {1e-4, 0.05, 1.0, 30.0, 1e4}) {
        std::vector<double> breaks{0.5 * std::log(lambda)};
        const double quad = generated_variance_quadrature(
            [&](double sigma) { return tl::symmetric_mode_weight(lambda, sigma, 1.0, tau, Q); }, r, breaks,
            {0.0, 1e-13, 2000, ""});
        worst = std::max(worst, std::abs(tl::symmetric_generated_variance(lambda, Q, 1.0, tau, r) / quad - 1));
      }
  INFO("max rel error " << worst);
  REQUIRE(worst < test::kClosedVsQuadratureRel);
  // τ = 0 gives (4.7); τ → ∞ gives (4.8); Q = 0 never learns (λ̃ = σ_0² at every τ).
  REQUIRE(tl::symmetric_generated_variance(0.7, 0.5, 1.0, 0.0, r) == Approx(one_layer_initial_variance(0.5, r)).epsilon(1e-13));
  REQUIRE(tl::symmetric_generated_variance(0.7, 0.1, 1.0, 1e4, r) == Approx(converged_generated_variance(0.7, r)).epsilon(1e-13));
  for (double tau : {0.0, 1.0, 1e6}) REQUIRE(tl::symmetric_generated_variance(0.7, 0.0, 1.0, tau, r) == Approx(4e-6).epsilon(1e-14));
}

TEST_CASE("two-layer: explicit solution (6.4) matches rk8pd on the (a b) flow (6.2) which conserves C", "[fast][models]") {
  const double lambda = 0.7, sigma = 0.9, eta = 1.3;
  double worst = 0, worst_C = 0;
  for (auto [a0, b0] : std::vector<std::pair<double, double>>{{0.3, 0.5}, {0.8, -0.2}, {0.5, -0.5}, {-0.4, 0.1}, {1.5, 0.2}, {0.6, 0.6}})
    for (double tau : {0.05, 0.5, 2.0, 20.0}) {
      const auto x = integrate([&](const Eigen::VectorXd& s, Eigen::VectorXd& ds) {
        const double L = lambda + sigma * sigma, g = 2 * L * (s(0) * s(1) - lambda / L);  // (6.2)
        ds(0) = -eta * s(1) * g;
        ds(1) = -eta * s(0) * g;
      }, (Eigen::VectorXd(2) << a0, b0).finished(), tau);
      const tl::ModeLayers e = tl::explicit_solution(lambda, sigma, eta, tau, {a0, b0});
      const auto [p, q] = tl::pq_from_weight(a0 * b0, a0 * a0 - b0 * b0);
      worst = std::max({worst, std::abs(e.a - x(0)), std::abs(e.b - x(1)),
                        std::abs(tl::explicit_weight(lambda, sigma, eta, tau, p, q) - x(0) * x(1))});
      worst_C = std::max(worst_C, std::abs(x(0) * x(0) - x(1) * x(1) - (a0 * a0 - b0 * b0)));
    }
  INFO("max abs error " << worst << ", C drift " << worst_C);
  REQUIRE(worst < test::kClosedVsModeFlowAbs);
  REQUIRE(worst_C < test::kConservedDrift);
}

TEST_CASE("two-layer: reduced ODE (6.3) is the derivative of w = ab under (6.2)", "[fast][models]") {
  for (auto [a, b] : std::vector<std::pair<double, double>>{{0.3, 0.5}, {0.8, -0.2}, {-1.1, 0.4}})
    for (double sigma : {0.1, 1.0, 5.0}) {
      const double lambda = 0.6, eta = 0.9;
      const tl::ModeLayers d = tl::mode_layers_rhs(lambda, sigma, eta, {a, b});
      REQUIRE(tl::reduced_rhs(lambda, sigma, eta, a * a - b * b, a * b) ==
              Approx(d.a * b + a * d.b).epsilon(test::kRoundoff));
    }
}

TEST_CASE("two-layer: the C = 0 start b = -a is stuck and decays to the fixed point w = 0", "[fast][models]") {
  const double lambda = 1.0, sigma = 0.5, eta = 1.0;
  // (6.3) with C = 0: w = 0 is a fixed point, and so is w*.
  REQUIRE(tl::reduced_rhs(lambda, sigma, eta, 0.0, 0.0) == 0.0);
  REQUIRE(tl::reduced_rhs(lambda, sigma, eta, 0.0, lambda / (lambda + sigma * sigma)) == 0.0);
  // b = −a: w = −a² < 0 moves up to 0⁻ and never reaches w* > 0; the (a, b) flow keeps b = −a.
  double prev = -0.25;
  for (double tau : {0.1, 1.0, 5.0, 50.0, 1e3}) {
    const tl::ModeLayers e = tl::explicit_solution(lambda, sigma, eta, tau, {0.5, -0.5});
    REQUIRE(e.b == Approx(-e.a).epsilon(1e-14));
    REQUIRE(e.w() <= 0.0);
    REQUIRE(e.w() > prev);
    prev = e.w();
  }
  REQUIRE(std::abs(prev) < 1e-300 + 1e-200);
  // The per-mode engine's dispatch (mobility κ = 2, β = 1, c = 0, Q < 0) gives the same stuck trajectory.
  for (double tau : {0.3, 3.0}) {
    const double w = mode_weight_solution({2.0, 1.0, 0.0}, -0.25, lambda, sigma, eta, tau);
    REQUIRE(w == Approx(tl::explicit_solution(lambda, sigma, eta, tau, {0.5, -0.5}).w()).epsilon(1e-13));
  }
}

TEST_CASE("two-layer: off-diagonal rate (5.6) is the linearisation of the full-matrix flow (5.1) with phases (5.7)", "[fast][models]") {
  // W = P Pᵀ with P = U diag(√w) Rᵀ + small off-diagonal: the rate of W̃_km from the chain-rule gradient on P
  // (dW = dP Pᵀ + P dPᵀ), divided by W̃_km, must approach (5.6) as the off-diagonal part → 0.
  const int d = 3, h = 4;
  const double eta = 0.8;
  const Eigen::VectorXd lambda = (Eigen::VectorXd(3) << 4.0, 0.05, 0.6).finished();
  const DataMoments data = DataMoments::from_spectrum(lambda, dct2_basis(d));
  const Eigen::MatrixXd& U = data.eigenvectors;
  const Eigen::MatrixXd R = hidden_basis(h, d, 1);
  const LinearChain chain({{0, true, false}, {0, false, false}}, {{d, h}});
  const int k = 0, m = 1;
  for (double sigma : {0.1, 1.0})
    for (auto [wk, wm] : std::vector<std::pair<double, double>>{{0.01, 0.02}, {0.9, 0.001}, {0.8, 0.3}}) {
      const double eps = 1e-7;
      Eigen::MatrixXd Wt = (Eigen::VectorXd(3) << wk, wm, 0.2).finished().asDiagonal();
      Wt(k, m) = Wt(m, k) = eps;
      // P with P Pᵀ = U Wt Uᵀ (symmetric square root), then the flow on P.
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Wt);
      const Eigen::MatrixXd sqrtW = es.eigenvectors() * es.eigenvalues().cwiseSqrt().asDiagonal() * es.eigenvectors().transpose();
      const Eigen::MatrixXd P = U * sqrtW * R.transpose();
      const auto fm = one_layer::flow_matrices(data, sigma);
      Eigen::VectorXd dtheta;
      chain.flow_rhs(chain.pack({P}), fm.K.topLeftCorner(d, d), fm.C.leftCols(d), eta, dtheta);
      const Eigen::MatrixXd dP = Eigen::Map<const Eigen::MatrixXd>(dtheta.data(), d, h);
      const Eigen::MatrixXd dW = U.transpose() * (dP * P.transpose() + P * dP.transpose()) * U;
      const double rate = dW(k, m) / eps;
      const double theory = tl::symmetric_offdiagonal_rate(lambda(k), lambda(m), sigma, eta, wk, wm);
      INFO("sigma " << sigma << " w_k " << wk << " w_m " << wm);
      REQUIRE(rate == Approx(theory).epsilon(1e-5));
    }
  // (5.7a–c) are (5.6) at the phase values.
  for (double sigma : {0.1, 1.0, 3.0}) {
    const double lk = 4.0, lm = 0.05, wk = lk / (lk + sigma * sigma), wm = lm / (lm + sigma * sigma);
    REQUIRE(tl::symmetric_offdiagonal_rate_unlearned(lk, lm, eta) ==
            Approx(tl::symmetric_offdiagonal_rate(lk, lm, sigma, eta, 0, 0)).epsilon(test::kRoundoff));
    REQUIRE(tl::symmetric_offdiagonal_rate_one_learned(lk, lm, sigma, eta) ==
            Approx(tl::symmetric_offdiagonal_rate(lk, lm, sigma, eta, wk, 0)).epsilon(test::kRoundoff));
    REQUIRE(tl::symmetric_offdiagonal_rate_both_learned(lk, lm, sigma, eta) ==
            Approx(tl::symmetric_offdiagonal_rate(lk, lm, sigma, eta, wk, wm)).epsilon(test::kRoundoff));
  }
}

TEST_CASE("two-layer: a non-aligned symmetric flow rises and falls at the phase rates (5.7a-c)", "[fast][models]") {
  // The full-matrix flow (5.1) runs on P (dopri5) from a non-aligned start; in each phase the instantaneous rate
  // d ln|W̃_km|/dτ of the off-diagonal entry (chain-rule right-hand side at the current state) is compared with
  // (5.6) at the current diagonal and with the phase value: (5.7a) while both diagonal entries are < 1e-4 of
  // their targets, (5.7b) once mode k is within 1e-4 of w*_k and mode m still < 1e-4 of w*_m, (5.7c) when both
  // are within 1e-4 (the neglected diagonal terms of (5.6) then shift the rate by < 1e-3 relative). Off-diagonal parts decay by tens of decades between phases 1 and 3, below the ~1e-16
  // rounding of W̃_km, so phase 3 starts a second flow at the learned diagonal (the same law, a fresh perturbation).
  const int d = 2;
  const double eta = 1.0, sigma = 0.3;
  const Eigen::VectorXd lambda = (Eigen::VectorXd(2) << 2.0, 0.5).finished();
  const Eigen::VectorXd w_star = lambda.array() / (lambda.array() + sigma * sigma);
  auto run = [&](const Eigen::VectorXd& Q, double offset, double tau_lo, double tau_hi, int phase_filter) {
    DenoiserProblem p;
    p.data = DataMoments::from_spectrum(lambda, dct2_basis(d));
    p.model.kind = ModelKind::two_layer_symmetric;
    p.model.depth = 2;
    p.model.layer_offset_scale = offset;  // the non-aligned part of P(0)
    p.Q = Q;
    p.eta = eta;
    const LinearChain chain = p.chain();
    const auto fm = one_layer::flow_matrices(p.data, sigma);
    const Eigen::MatrixXd S = fm.K.topLeftCorner(d, d), C = fm.C.leftCols(d);
    solver::OdeOptions opt;
    opt.rtol = 1e-12;
    opt.atol = 1e-30;  // entries span many decades
    solver::DenseIntegrator ode([&](const Eigen::VectorXd& th, Eigen::VectorXd& dth, double) { chain.flow_rhs(th, S, C, eta, dth); },
                                p.initial_parameters(), 0.0, opt);
    const Eigen::MatrixXd& U = p.data.eigenvectors;
    std::array<int, 3> seen{0, 0, 0};
    for (int i = 0; i <= 300; ++i) {
      const double tau = tau_lo * std::pow(tau_hi / tau_lo, i / 300.0);
      ode.advance_to(tau);
      const Eigen::VectorXd& th = ode.state();
      Eigen::VectorXd dth;
      chain.flow_rhs(th, S, C, eta, dth);
      const Eigen::Map<const Eigen::MatrixXd> P(th.data(), d, d), dP(dth.data(), d, d);
      const Eigen::MatrixXd W = U.transpose() * P * P.transpose() * U;
      const Eigen::MatrixXd dW = U.transpose() * (dP * P.transpose() + P * dP.transpose()) * U;
      // W̃_km carries a rounding error of ~1e-16 (entries of P are O(1)): measure rates only well above it.
      if (std::abs(W(0, 1)) < 1e-12) continue;
      const double rate = dW(0, 1) / W(0, 1);
      if (std::abs(W(0, 1)) > 1e-8)
        REQUIRE(rate == Approx(two_layer::symmetric_offdiagonal_rate(lambda(0), lambda(1), sigma, eta, W(0, 0), W(1, 1))).epsilon(1e-6));
      const double fk = W(0, 0) / w_star(0), fmm = W(1, 1) / w_star(1);
      int phase = -1;
      if (fk < 1e-4 && fmm < 1e-4) phase = 0;
      else if (std::abs(fk - 1) < 1e-4 && fmm < 1e-4) phase = 1;
      else if (std::abs(fk - 1) < 1e-4 && std::abs(fmm - 1) < 1e-4) phase = 2;
      if (phase < 0 || (phase_filter >= 0 && phase != phase_filter)) continue;
      const double expected = phase == 0   ? tl::symmetric_offdiagonal_rate_unlearned(lambda(0), lambda(1), eta)
                              : phase == 1 ? tl::symmetric_offdiagonal_rate_one_learned(lambda(0), lambda(1), sigma, eta)
                                           : tl::symmetric_offdiagonal_rate_both_learned(lambda(0), lambda(1), sigma, eta);
      INFO("tau " << tau << " phase " << phase);
      REQUIRE(rate == Approx(expected).epsilon(2e-3));
      ++seen[static_cast<size_t>(phase)];
    }
    return seen;
  };
  // Phases 1 and 2: a tiny start (modes learn at 8ηλ: k around τ ≈ 1.4, m around τ ≈ 5.7) with a far smaller
  // non-aligned part (off-diagonal/diagonal ≈ 1e-4, so second-order terms are ≈ 1e-8).
  const auto early = run(Eigen::VectorXd::Constant(d, 1e-10), 1e-9, 1e-3, 5.0, -1);
  INFO("samples in phases 1, 2: " << early[0] << ", " << early[1]);
  REQUIRE(early[0] > 10);
  REQUIRE(early[1] > 10);
  // Phase 3: start at the learned diagonal w* with a small non-aligned part.
  const auto late = run(w_star, 1e-6, 1e-3, 2.0, 2);
  REQUIRE(late[2] > 100);
}
