// Loss variants of THEORY.md §2.2 (Table 2) and flow matching §9 against independent computations: finite
// differences of the loss (2.8), the explicit Table 2 columns and (2.9)–(2.10), full-matrix dopri5 gradient flows,
// the existing EDM PF-ODE machinery (pf_ode.hpp) through the denoiser equivalence, full-matrix sampler ODEs and the
// numeric nested path (Rosenbrock per-mode flows + dopri5 sampler).
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "analysis/emergence.hpp"
#include "models/data_sources.hpp"
#include "models/loss_family.hpp"
#include "models/one_layer.hpp"
#include "solver/dense_integrator.hpp"
#include "support/finite_difference.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;
namespace lf = specbias::models::loss_family;
namespace ol = specbias::models::one_layer;
using lf::LossKind;

namespace {
const LossKind kAll[] = {LossKind::edm_x, LossKind::edm_eps, LossKind::vp_x,
                         LossKind::vp_eps, LossKind::vp_v, LossKind::flow_matching};

// A noise coordinate typical for the variant: σ for EDM/VP, t for flow matching.
std::vector<double> levels(LossKind k) {
  return lf::uses_sigma(k) ? std::vector<double>{0.002, 0.3, 1.0, 80.0} : std::vector<double>{0.0, 0.1, 0.5, 0.9, 1.0};
}

DataMoments rotated_data(int d, bool with_mean) {
  const Eigen::VectorXd lambda = log_spaced_spectrum(d, 10.0, 1e-2);
  Eigen::VectorXd mean = with_mean ? nonaligned_vector(d) : Eigen::VectorXd::Zero(d);
  return DataMoments::from_spectrum(lambda, dct2_basis(d), mean);
}

DenoiserProblem problem(int d, double Q, double top = 100.0, double bottom = 1e-3) {
  DenoiserProblem p;
  p.data = DataMoments::from_spectrum(log_spaced_spectrum(d, top, bottom), Eigen::MatrixXd::Identity(d, d));
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  return p;
}

lf::LossSpec spec_for(LossKind k, double t_min = 0.0, double t_max = 1.0) {
  lf::LossSpec s;
  s.kind = k;
  s.t_min = t_min;
  s.t_max = t_max;
  return s;
}

// Table 2 of THEORY §2.2, column by column, typed in independently of the (α, β, a, b) algebra of the library.
// VP: α_t = 1/√(1+σ²), σ_t = σ/√(1+σ²).
struct Row {
  double w_opt, rate, min_loss;
};
Row table2(LossKind k, double lambda, double nu) {
  const double s2 = nu * nu;
  const double at = 1 / std::sqrt(1 + s2), st = nu / std::sqrt(1 + s2), vp_rate = at * at * lambda + st * st;
  switch (k) {
    case LossKind::edm_x: return {lambda / (lambda + s2), lambda + s2, s2 * lambda / (lambda + s2)};
    case LossKind::edm_eps: return {nu / (lambda + s2), lambda + s2, lambda / (lambda + s2)};
    case LossKind::vp_x: return {at * lambda / vp_rate, vp_rate, st * st * lambda / vp_rate};
    case LossKind::vp_eps: return {st / vp_rate, vp_rate, at * at * lambda / vp_rate};
    case LossKind::vp_v:
      return {at * st * (1 - lambda) / vp_rate, vp_rate, std::pow(at * at + st * st, 2) * lambda / vp_rate};
    case LossKind::flow_matching: {
      const double g = nu * nu * lambda + (1 - nu) * (1 - nu);
      return {(nu * lambda - (1 - nu)) / g, g, lambda / g};
    }
  }
  return {};
}
}  // namespace

TEST_CASE("loss family: parse and print every variant and reject unknown names", "[fast][losses]") {
  for (const auto& name : lf::loss_kind_names()) REQUIRE(lf::to_string(lf::parse_loss_kind(name)) == name);
  REQUIRE(lf::loss_kind_names().size() == 6);
  REQUIRE_THROWS_WITH(lf::parse_loss_kind("edm"), Catch::Contains("flow_matching") && Catch::Contains("\"edm\""));
}

TEST_CASE("loss family: gradient (2.8) matches central finite differences of the loss (1.1)-(2.7)", "[fast][losses]") {
  const int d = 4;
  for (bool with_mean : {false, true}) {
    const DataMoments data = rotated_data(d, with_mean);
    for (LossKind k : kAll) {
      for (double nu : {lf::uses_sigma(k) ? 0.7 : 0.35, lf::uses_sigma(k) ? 2.0 : 0.8}) {
        ol::Params p{0.3 * Eigen::MatrixXd::Identity(d, d) + nonaligned_matrix(d, d), nonaligned_vector(d)};
        const ol::Params g = lf::gradient(data, k, nu, p);
        auto L = [&] { return lf::loss(data, k, nu, p); };
        const auto gw = test::check_gradient(std::span<double>(p.W.data(), p.W.size()),
                                             std::span<const double>(g.W.data(), g.W.size()), L, 1e-6);
        const auto gb = test::check_gradient(std::span<double>(p.b.data(), p.b.size()),
                                             std::span<const double>(g.b.data(), g.b.size()), L, 1e-6);
        INFO(lf::to_string(k) << " nu = " << nu << " mean " << with_mean);
        REQUIRE(gw.max_abs_error < test::kFiniteDifferenceAbs);
        REQUIRE(gb.max_abs_error < test::kFiniteDifferenceAbs);
        REQUIRE(gw.max_abs_grad > 0.1);  // a vacuous check (zero gradient) would pass trivially
      }
    }
  }
}

TEST_CASE("loss family: optimum (2.9) and minimum loss (2.10) match Table 2 and zero the gradient", "[fast][losses]") {
  for (bool with_mean : {false, true}) {
    const DataMoments data = rotated_data(5, with_mean);
    for (LossKind k : kAll) {
      for (double nu : levels(k)) {
        INFO(lf::to_string(k) << " nu = " << nu << " mean " << with_mean);
        const ol::Params opt = lf::optimum(data, k, nu);
        const ol::Params g = lf::gradient(data, k, nu, opt);
        const double scale = 1.0 + nu * nu;
        REQUIRE(g.W.cwiseAbs().maxCoeff() < 100 * test::kRoundoff * scale);
        REQUIRE(g.b.cwiseAbs().maxCoeff() < 100 * test::kRoundoff * scale);
        // Per-mode optimum in the eigenbasis vs the typed-in Table 2 column.
        const Eigen::MatrixXd Wt = data.eigenvectors.transpose() * opt.W * data.eigenvectors;
        double min_sum = 0.0;
        for (int m = 0; m < data.dim(); ++m) {
          const Row row = table2(k, data.eigenvalues(m), nu);
          REQUIRE(Wt(m, m) == Approx(row.w_opt).margin(1e-12));
          REQUIRE(lf::mode_optimum(k, data.eigenvalues(m), nu) == Approx(row.w_opt).margin(1e-12));
          REQUIRE(lf::mode_quadratic(k, data.eigenvalues(m), nu).r == Approx(row.rate).epsilon(1e-13));
          REQUIRE(lf::mode_minimum_loss(k, data.eigenvalues(m), nu) == Approx(row.min_loss).epsilon(1e-12));
          min_sum += row.min_loss;
        }
        REQUIRE((Wt - Eigen::MatrixXd(Wt.diagonal().asDiagonal())).cwiseAbs().maxCoeff() < 1e-12);
        // Three ways to the minimum: the loss at W*, the trace form of (2.10), and the per-mode sum of Table 2.
        REQUIRE(lf::loss(data, k, nu, opt) == Approx(min_sum).epsilon(1e-10).margin(1e-13));
        REQUIRE(lf::minimum_loss(data, k, nu) == Approx(min_sum).epsilon(1e-10).margin(1e-13));
      }
    }
  }
}

TEST_CASE("loss family: edm_x coincides with the one-layer model of section 2.1", "[fast][losses]") {
  const DataMoments data = rotated_data(4, true);
  ol::Params p{0.3 * Eigen::MatrixXd::Identity(4, 4) + nonaligned_matrix(4, 4), nonaligned_vector(4)};
  for (double sigma : {0.01, 0.7, 5.0}) {
    REQUIRE(lf::loss(data, LossKind::edm_x, sigma, p) == Approx(ol::loss(data, sigma, p)).epsilon(1e-13));
    REQUIRE((lf::gradient(data, LossKind::edm_x, sigma, p).W - ol::gradient(data, sigma, p).W).norm() < 1e-12);
    REQUIRE((lf::optimum(data, LossKind::edm_x, sigma).W - ol::optimum(data, sigma).W).norm() < 1e-12);
    REQUIRE(lf::mode_weight(LossKind::edm_x, 0.3, sigma, 1.0, 0.4, 0.1) ==
            Approx(ol::mode_weight(0.3, sigma, 1.0, 0.4, 0.1)).epsilon(1e-15));
  }
  // The edm_x closed form (4.9) against the family's own sampler quadrature, an independent computation.
  lf::LossSpec spec;
  for (double tau : {0.0, 1e-3, 0.5, 100.0}) {
    std::vector<double> bp{0.5 * std::log(0.3)};
    if (tau > 0) bp.push_back(-0.5 * std::log(2 * tau));
    const double quad = lf::generated_variance_quadrature(
        spec, [&](double nu) { return lf::mode_weight(LossKind::edm_x, 0.3, nu, 1.0, tau, 0.1); }, bp);
    REQUIRE(lf::generated_variance_closed_form(spec, 0.3, 0.1, 1.0, tau) ==
            Approx(quad).epsilon(test::kClosedVsQuadratureRel));
  }
}

TEST_CASE("loss family: closed-form gradient flow matches full-matrix dopri5 on the raw gradient (2.8)", "[fast][losses]") {
  const int d = 4;
  const DataMoments data = rotated_data(d, false);
  const double eta = 0.5;
  for (LossKind k : kAll) {
    const double nu = lf::uses_sigma(k) ? 0.8 : 0.3;
    const ol::Params p0{0.3 * Eigen::MatrixXd::Identity(d, d) + nonaligned_matrix(d, d), nonaligned_vector(d)};
    Eigen::VectorXd x0(d * d + d);
    x0 << Eigen::Map<const Eigen::VectorXd>(p0.W.data(), d * d), p0.b;
    auto rhs = [&](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) {
      ol::Params p{Eigen::Map<const Eigen::MatrixXd>(x.data(), d, d), x.tail(d)};
      const ol::Params g = lf::gradient(data, k, nu, p);
      dx << -eta * Eigen::Map<const Eigen::VectorXd>(g.W.data(), d * d), -eta * g.b;
    };
    solver::DenseIntegrator ode(rhs, x0, 0.0, {1e-12, 1e-14, 1e-6, 2'000'000, "test", "flow"});
    for (double tau : {0.05, 0.7, 4.0}) {
      ode.advance_to(tau);
      const ol::Params cf = lf::closed_form_flow(data, k, nu, eta, tau, p0);
      const Eigen::Map<const Eigen::MatrixXd> W(ode.state().data(), d, d);
      INFO(lf::to_string(k) << " tau = " << tau);
      REQUIRE((W - cf.W).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
      REQUIRE((ode.state().tail(d) - cf.b).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
    }
  }
}

TEST_CASE("loss family: each sampler ODE at the optimum carries the exact noised marginal to the exact marginal", "[fast][losses]") {
  // The PF-ODE transports marginals: started from N(0, α_s²λ + β_s²) it must end at α_e²λ + β_e² — independent of
  // how the sampler rate was derived (x̂0/ẑ from Ŷ).
  for (LossKind k : kAll) {
    const lf::LossSpec spec = spec_for(k);
    for (double lambda : {1e-3, 0.1, 1.0, 30.0}) {
      const auto s = lf::interpolant(k, spec.start()), e = lf::interpolant(k, spec.end());
      const double start = s.alpha * s.alpha * lambda + s.beta * s.beta;
      const double end = e.alpha * e.alpha * lambda + e.beta * e.beta;
      const double transported =
          lf::generated_variance_quadrature(spec, [&](double nu) { return lf::mode_optimum(k, lambda, nu); }) /
          spec.start_variance() * start;
      INFO(lf::to_string(k) << " lambda = " << lambda);
      REQUIRE(transported == Approx(end).epsilon(test::kClosedVsQuadratureRel));
      // From the pure-noise start (C3): the documented optimum variance ((4.8), α(σ_0)²·(4.8), λ for FM (9.5)).
      REQUIRE(lf::generated_variance_quadrature(spec, [&](double nu) { return lf::mode_optimum(k, lambda, nu); }) ==
              Approx(lf::optimum_generated_variance(spec, lambda)).epsilon(test::kClosedVsQuadratureRel));
    }
    if (k == LossKind::flow_matching) REQUIRE(lf::optimum_generated_variance(spec, 0.37) == Approx(0.37).epsilon(1e-15));
  }
}

TEST_CASE("loss family: EDM and VP samplers equal the EDM PF-ODE (4.4) of the equivalent denoiser during training", "[fast][losses]") {
  // Own sampler (x̂0/ẑ flow in the variant's variables) vs pf_ode.hpp's (4.4) on the mapped denoiser weight; VP
  // variables are x_vp = α x_ve, so their variance carries α(σ_0)².
  const SamplingRange range;
  for (LossKind k : {LossKind::edm_x, LossKind::edm_eps, LossKind::vp_x, LossKind::vp_eps, LossKind::vp_v}) {
    const lf::LossSpec spec = spec_for(k);
    const double a0 = lf::interpolant(k, range.sigma_min).alpha;
    const double scale = (k == LossKind::edm_x || k == LossKind::edm_eps) ? 1.0 : a0 * a0;
    for (double lambda : {0.01, 2.0}) {
      for (double tau : {0.0, 0.01, 1.0, 100.0}) {
        for (double Q : {0.0, 0.1, 0.6}) {
          auto w = [&](double nu) { return lf::mode_weight(k, lambda, nu, 1.0, tau, Q); };
          const double own = lf::generated_variance_quadrature(spec, w, {0.5 * std::log(lambda)});
          const double edm = generated_variance_quadrature(
              [&](double sigma) { return lf::denoiser_weight(k, sigma, w(sigma)); }, range, {0.5 * std::log(lambda)});
          INFO(lf::to_string(k) << " lambda " << lambda << " tau " << tau << " Q " << Q);
          REQUIRE(own == Approx(scale * edm).epsilon(test::kClosedVsQuadratureRel));
        }
      }
    }
  }
}

TEST_CASE("loss family: closed forms edm_eps and flow matching (9.6) match the sampler quadrature", "[fast][losses]") {
  for (LossKind k : {LossKind::edm_eps, LossKind::flow_matching}) {
    for (auto [t_min, t_max] : {std::pair{0.0, 1.0}, std::pair{0.05, 0.9}}) {
      const lf::LossSpec spec = spec_for(k, t_min, t_max);
      for (double lambda : {1e-3, 0.05, 1.0, 10.0}) {
        for (double Q : {0.0, 0.1, 0.5, 1.0}) {
          for (double tau : {0.0, 1e-4, 0.02, 0.7, 13.0, 1e3, 1e5}) {
            const double c = 2 * tau;
            std::vector<double> bp = lf::uses_sigma(k) ? std::vector<double>{0.5 * std::log(lambda)}
                                                       : std::vector<double>{1 / (1 + lambda)};
            if (c > 0 && lf::uses_sigma(k)) bp.push_back(-0.5 * std::log(c));
            const double quad = lf::generated_variance_quadrature(
                spec, [&](double nu) { return lf::mode_weight(k, lambda, nu, 1.0, tau, Q); }, bp);
            INFO(lf::to_string(k) << " [" << t_min << "," << t_max << "] lambda " << lambda << " Q " << Q << " tau " << tau);
            REQUIRE(lf::generated_variance_closed_form(spec, lambda, Q, 1.0, tau) ==
                    Approx(quad).epsilon(test::kClosedVsQuadratureRel));
          }
        }
      }
    }
  }
  // (9.6) limits on [0, 1]: e^{2Q} at τ = 0, λ as τ → ∞; and λ = 1 leaves ln A = Q J(c).
  const lf::LossSpec fm = spec_for(LossKind::flow_matching);
  REQUIRE(lf::generated_variance_closed_form(fm, 0.3, 0.1, 1.0, 0.0) == Approx(std::exp(0.2)).epsilon(1e-15));
  REQUIRE(lf::generated_variance_closed_form(fm, 0.3, 0.1, 1.0, 1e8) == Approx(0.3).epsilon(1e-12));
  const double c = 0.8;
  const double J = 0.5 * std::sqrt(std::numbers::pi / (2 * c)) * std::exp(-c / 2) * 2 * std::erf(std::sqrt(c / 2));
  REQUIRE(lf::generated_variance_closed_form(fm, 1.0, 0.6, 1.0, c / 2) == Approx(std::exp(2 * 0.6 * J)).epsilon(1e-13));
}

TEST_CASE("loss family: numeric nested path (Rosenbrock flows + dopri5 sampler) matches the quadrature for every variant", "[fast][losses]") {
  DenoiserProblem p = problem(5, 0.3, 30.0, 1e-2);
  p.eta = 0.7;
  const std::vector<double> taus{0.0, 1e-3, 0.1, 2.0, 50.0, 1e4};
  NestedOptions o;
  o.threads = 1;
  o.panels = 12;  // 144 nodes keep the test fast; the interpolation error stays far below the tolerance
  for (LossKind k : kAll) {
    const lf::LossSpec spec = spec_for(k);
    const GeneratedTrajectory num = lf::nested_trajectory(spec, p, taus, o);
    const GeneratedTrajectory quad = lf::quadrature_trajectory(spec, p, taus);
    const double rel = ((num.variance - quad.variance).array() / quad.variance.array()).abs().maxCoeff();
    INFO(lf::to_string(k) << " max rel " << rel);
    REQUIRE(rel < test::kClosedVsPfTransitionRel);  // the sampler is a dopri5 PF transport between interpolated nodes
    if (lf::has_closed_form(k)) {
      const GeneratedTrajectory cf = lf::closed_form_trajectory(spec, p, taus);
      REQUIRE(((cf.variance - quad.variance).array() / quad.variance.array()).abs().maxCoeff() < test::kClosedVsQuadratureRel);
    }
    const Eigen::MatrixXd wc = lf::weight_trajectory_closed_form(spec, p, lf::uses_sigma(k) ? 1.0 : 0.4, taus);
    const Eigen::MatrixXd wn = lf::weight_trajectory_numeric(spec, p, lf::uses_sigma(k) ? 1.0 : 0.4, taus, o);
    REQUIRE((wc - wn).cwiseAbs().maxCoeff() < test::kClosedVsModeFlowAbs);
  }
}

TEST_CASE("flow matching: full-matrix velocity ODE at the optimum (9.2) maps N(0 I) exactly to the data law (9.5)", "[fast][losses]") {
  const int d = 5;
  const DataMoments data = rotated_data(d, true);
  // dx/dt = W*_t x + b*_t: integrate the matrix A (x(1) = A x(0) + c) numerically over t ∈ [0, 1].
  auto rhs = [&](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double t) {
    const ol::Params o = lf::optimum(data, LossKind::flow_matching, t);
    const Eigen::Map<const Eigen::MatrixXd> A(x.data(), d, d + 1);
    Eigen::Map<Eigen::MatrixXd> dA(dx.data(), d, d + 1);
    dA.leftCols(d) = o.W * A.leftCols(d);
    dA.col(d) = o.W * A.col(d) + o.b;
  };
  Eigen::MatrixXd X0 = Eigen::MatrixXd::Zero(d, d + 1);
  X0.leftCols(d).setIdentity();
  solver::DenseIntegrator ode(rhs, Eigen::Map<Eigen::VectorXd>(X0.data(), X0.size()), 0.0, {1e-12, 1e-14, 1e-4, 200000, "test", "fm"});
  ode.advance_to(1.0);
  const Eigen::Map<const Eigen::MatrixXd> A(ode.state().data(), d, d + 1);
  const Eigen::MatrixXd sqrtSigma =
      data.eigenvectors * data.eigenvalues.cwiseSqrt().asDiagonal() * data.eigenvectors.transpose();
  REQUIRE((A.leftCols(d) - sqrtSigma).cwiseAbs().maxCoeff() < 1e-9);
  REQUIRE((A.col(d) - data.mean).cwiseAbs().maxCoeff() < 1e-9);
  // (9.4): the learning rate g_k(t) of a mode is smallest at t = 1/(1+λ), where it equals λ/(1+λ).
  for (double lambda : {0.01, 1.0, 10.0}) {
    double best_t = 0, best = 1e300;
    for (int i = 0; i <= 100000; ++i) {
      const double t = i / 100000.0, g = lf::mode_quadratic(LossKind::flow_matching, lambda, t).r;
      if (g < best) best = g, best_t = t;
    }
    REQUIRE(best_t == Approx(1 / (1 + lambda)).margin(1e-5));
    REQUIRE(best == Approx(lambda / (1 + lambda)).epsilon(1e-9));
  }
}

TEST_CASE("flow matching: symmetric two-layer solution (9.7) matches its ODE and cannot represent negative W*", "[fast][losses]") {
  const double eta = 1.0, Q = 0.1;
  for (double lambda : {0.1, 1.0, 5.0}) {
    for (double t : {0.1, 0.5, 0.9, 0.99}) {
      solver::DenseIntegrator ode(
          [&](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) { dw(0) = lf::fm_two_layer_mode_rhs(lambda, t, eta, w(0)); },
          Eigen::VectorXd::Constant(1, Q), 0.0, {1e-13, 1e-15, 1e-6, 2'000'000, "test", "fm two-layer"});
      for (double tau : {0.1, 1.0, 10.0, 200.0}) {
        ode.advance_to(tau);
        REQUIRE(ode.state()(0) == Approx(lf::fm_two_layer_mode_weight(lambda, t, eta, tau, Q)).margin(test::kClosedVsModeFlowAbs));
      }
      // The caveat: for t < 1/(1+λ) the optimum W*_k(t) < 0 but the PSD weight decays to 0; above, it reaches W*.
      const double w_opt = lf::mode_optimum(LossKind::flow_matching, lambda, t);
      const double w_late = lf::fm_two_layer_mode_weight(lambda, t, eta, 1e4, Q);
      INFO("lambda " << lambda << " t " << t << " W* " << w_opt);
      if (t < 1 / (1 + lambda)) {
        REQUIRE(w_opt < 0);
        REQUIRE(std::abs(w_late) < 1e-12);
      } else if (w_opt > 0) {
        REQUIRE(w_late == Approx(w_opt).epsilon(1e-12));
      } else {  // t = 1/(1+λ) exactly: W* = 0 and dw/dτ = −8ηg w², an algebraic decay Q/(1 + 8ηgQτ)
        const double g = lf::mode_quadratic(LossKind::flow_matching, lambda, t).r;
        REQUIRE(w_late == Approx(Q / (1 + 8 * eta * g * Q * 1e4)).epsilon(1e-12));
      }
    }
    // Consequence for sampling: the converged two-layer velocity field max(W*, 0) does not generate λ (one layer does).
    const lf::LossSpec fm = spec_for(LossKind::flow_matching);
    const double two_layer = lf::generated_variance_quadrature(
        fm, [&](double t) { return std::max(lf::mode_optimum(LossKind::flow_matching, lambda, t), 0.0); },
        {1 / (1 + lambda)});
    // Derived here: ∫_{t0}^{1} g'/(2g) dt = ½ ln(g(1)/g(t0)) = ½ ln(1+λ), t0 = 1/(1+λ), so λ̃ = 1 + λ instead of λ.
    REQUIRE(two_layer == Approx(1 + lambda).epsilon(test::kClosedVsQuadratureRel));
    REQUIRE(std::abs(two_layer / lambda - 1) > 0.1);
  }
}

TEST_CASE("flow matching: emergence exponents of (9.6) approach one half (geometric) and one (harmonic) for extreme modes", "[fast][losses]") {
  // Derived here from (9.6) with Q = 0 (so J drops out): for λ ≪ 1 and 1 ≪ c ≪ 1/λ, ln λ̃ ≈ ln λ − γ − ln(cλ), so the
  // geometric threshold √(λ·1) is met at c ∝ λ^{−1/2} (α = 1/2) and the harmonic one ≈ 2λ at cλ = const (α = 1); for
  // λ ≫ 1 and c ≪ 1, ln λ̃ ≈ ln(cλ) + E1(cλ) + γ, a function of cλ for the harmonic threshold ≈ 2 (α = 1), and
  // λ̃ ≈ λ c e^γ for the geometric threshold √λ (α = 1/2). The closed form and the root finder of §11 must agree.
  const lf::LossSpec fm = spec_for(LossKind::flow_matching);
  auto tau_star = [&](double lambda, analysis::Criterion crit) {
    auto v = [&](double tau) { return lf::generated_variance_closed_form(fm, lambda, 0.0, 1.0, tau); };
    const auto e = analysis::first_crossing_continuous(v, v(0.0), lambda, crit, 1e-14, 1e14, 40);
    REQUIRE(e);
    return e->tau;
  };
  auto slope = [&](double lo, double hi, analysis::Criterion crit) {
    return -std::log(tau_star(hi, crit) / tau_star(lo, crit)) / std::log(hi / lo);
  };
  REQUIRE(slope(1e-9, 1e-7, analysis::Criterion::geometric) == Approx(0.5).margin(1e-3));
  REQUIRE(slope(1e-9, 1e-7, analysis::Criterion::harmonic) == Approx(1.0).margin(1e-3));
  REQUIRE(slope(1e7, 1e9, analysis::Criterion::geometric) == Approx(0.5).margin(1e-3));
  REQUIRE(slope(1e7, 1e9, analysis::Criterion::harmonic) == Approx(1.0).margin(1e-3));
}
