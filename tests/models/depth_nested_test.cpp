// The generated distribution of the factorised families through the shared nested engine (THEORY.md §4, §5, §6):
// closed form (5.5) vs adaptive quadrature (4.4) vs nested mode-wise (numeric bsimp flows and direct solutions)
// vs the full-matrix PF transport (4.1)–(4.2) on the chain flows; the deep, residual and general two-layer kinds
// against the quadrature of their per-mode solutions; the Q = 0 fixed point; a non-aligned start converging to
// the aligned answer (4.8).
#include <catch2/catch.hpp>

#include <cmath>

#include "analysis/alignment.hpp"
#include "models/data_sources.hpp"
#include "models/nested_paths.hpp"
#include "models/pf_ode.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {
DenoiserProblem problem(ModelKind kind, int depth, const Eigen::VectorXd& lambda, double Q, bool rotated = false) {
  const auto d = lambda.size();
  DenoiserProblem p;
  p.data = DataMoments::from_spectrum(lambda, rotated ? dct2_basis(d) : Eigen::MatrixXd::Identity(d, d));
  p.model.kind = kind;
  p.model.depth = depth;
  p.Q = Eigen::VectorXd::Constant(d, Q);
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  if (kind == ModelKind::two_layer) {
    p.a = Eigen::VectorXd::Constant(d, 0.7);
    p.b = p.Q / 0.7;
  }
  if (kind == ModelKind::deep_residual) {
    p.v = Eigen::VectorXd::Constant(d, std::pow(Q, 1.0 / depth) - 1.0);
    p.Q = p.v.unaryExpr([depth](double v) { return std::pow(1 + v, depth); });
  }
  p.validate();
  return p;
}

double max_rel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return ((a - b).array().abs() / b.array().abs()).maxCoeff();
}

const Eigen::VectorXd kLambda = (Eigen::VectorXd(4) << 20.0, 1.0, 0.05, 2e-3).finished();
const std::vector<double> kTaus{0.0, 1e-3, 0.05, 1.0, 20.0, 1e3};
}  // namespace

TEST_CASE("depth: symmetric two-layer variance (5.5) vs quadrature and both nested mode-wise outers", "[fast][models]") {
  for (double Q : {0.1, 0.5, 1.0}) {
    const DenoiserProblem p = problem(ModelKind::two_layer_symmetric, 2, kLambda, Q);
    const auto closed = closed_form_trajectory(p, kTaus);
    const auto quad = quadrature_trajectory(p, kTaus);
    INFO("Q = " << Q);
    REQUIRE(max_rel(quad.variance, closed.variance) < test::kClosedVsQuadratureRel);
    for (OuterMethod outer : {OuterMethod::solution, OuterMethod::rosenbrock, OuterMethod::bsimp}) {
      NestedOptions o;
      o.outer = outer;
      o.panels = 8;  // 96 σ nodes: ~1e-14 on this problem at a third of the default cost
      INFO("outer " << to_string(outer));
      REQUIRE(max_rel(nested_modewise(p, kTaus, o).variance, closed.variance) < test::kClosedVsNestedRel);
    }
  }
}

TEST_CASE("depth: Q = 0 never learns in the symmetric model so every mode stays at sigma_0 squared", "[fast][models]") {
  const DenoiserProblem p = problem(ModelKind::two_layer_symmetric, 2, kLambda, 0.0);
  NestedOptions o;
  o.outer = OuterMethod::bsimp;
  o.panels = 6;
  const auto nested = nested_modewise(p, kTaus, o);
  REQUIRE((nested.variance.array() - 4e-6).abs().maxCoeff() < 4e-6 * test::kClosedVsNestedRel);
  REQUIRE(max_rel(closed_form_trajectory(p, kTaus).variance, nested.variance) < test::kClosedVsNestedRel);
}

namespace {
// Deep (untied, tied, infinite), residual and general two-layer problems on three modes, each nested mode-wise
// path against the adaptive quadrature (4.4) of the implicit (6.6)/(6.7) or explicit (6.4) per-mode solutions:
// two independent integrations of two independent weight computations.
void check_against_quadrature(OuterMethod outer) {
  const Eigen::VectorXd lambda = (Eigen::VectorXd(3) << 5.0, 0.2, 0.01).finished();
  const std::vector<double> taus{0.0, 0.02, 1.0, 300.0};
  struct Case {
    ModelKind kind;
    int depth;
    bool tied, infinite;
    double Q;
  };
  for (const Case& c : {Case{ModelKind::deep_linear, 3, false, false, 0.2}, Case{ModelKind::deep_linear, 4, true, false, 0.5},
                        Case{ModelKind::deep_linear, 1, false, true, 0.4}, Case{ModelKind::deep_residual, 3, false, false, 0.8},
                        Case{ModelKind::two_layer, 2, false, false, 0.3}}) {
    DenoiserProblem p = problem(c.kind, c.depth, lambda, c.Q);
    p.model.tied = c.tied;
    p.model.infinite_depth = c.infinite;
    const auto quad = quadrature_trajectory(p, taus, {0.0, 1e-11, 2000, ""});
    NestedOptions o;
    o.outer = outer;
    o.panels = 8;
    INFO(to_string(c.kind) << " L = " << c.depth << (c.tied ? " tied" : "") << (c.infinite ? " infinite" : "")
                           << ", outer " << to_string(outer));
    REQUIRE(max_rel(nested_modewise(p, taus, o).variance, quad.variance) < test::kClosedVsNestedRel);
  }
}
}  // namespace

TEST_CASE("depth: deep residual and two-layer Rosenbrock per-mode flows agree with the quadrature of their solutions", "[fast][models]") {
  check_against_quadrature(OuterMethod::rosenbrock);
}

TEST_CASE("depth: deep residual and two-layer bsimp per-mode flows agree with the quadrature of their solutions", "[fast][models]") {
  check_against_quadrature(OuterMethod::bsimp);
}

TEST_CASE("depth: the stuck two-layer start b = -a stays stuck in the numeric per-mode flows", "[fast][models]") {
  // Regression: w = −a² decays to the fixed point 0⁻; a numeric step that overshot 0 by less than atol used to be
  // driven to w* by the unstable side of that fixed point (ModeMobility::side now keeps w on its side), which made
  // the late-τ variance of the stuck mode 16× too large.
  const Eigen::VectorXd lambda = Eigen::VectorXd::Constant(2, 1.0);
  DenoiserProblem p = problem(ModelKind::two_layer, 2, lambda, 0.09);
  p.a = (Eigen::VectorXd(2) << 0.3, 0.3).finished();
  p.b = (Eigen::VectorXd(2) << -0.3, 0.3).finished();  // mode 0 stuck, mode 1 balanced (C = 0, logistic)
  p.Q = p.a.cwiseProduct(p.b);
  p.eta = 0.5;
  const std::vector<double> taus{0.0, 1.0, 100.0};
  const auto quad = quadrature_trajectory(p, taus);
  REQUIRE(quad.variance(2, 0) == Approx(4e-6).epsilon(1e-9));  // w ≡ 0⁻ at every σ: λ̃ = σ_0²
  for (OuterMethod outer : {OuterMethod::rosenbrock, OuterMethod::bsimp}) {
    NestedOptions o;
    o.outer = outer;
    o.panels = 6;
    INFO("outer " << to_string(outer));
    REQUIRE(max_rel(nested_modewise(p, taus, o).variance, quad.variance) < test::kClosedVsNestedRel);
  }
}

TEST_CASE("depth: full-matrix PF transport on two-layer and deep chain flows matches the per-mode answer", "[slow][models]") {
  // Rotated eigenbasis and random hidden bases: the full-matrix flows (dopri5 on the layer parameters at each σ
  // node) and the dense PF transport (4.2) never see the mode structure, yet must reproduce (5.5) / the quadrature.
  const Eigen::VectorXd lambda = (Eigen::VectorXd(3) << 2.0, 0.3, 0.02).finished();
  const std::vector<double> taus{0.0, 0.02, 0.5, 5.0};
  NestedOptions o;
  o.outer = OuterMethod::dopri5;
  o.panels = 16;
  for (auto [kind, depth] : std::vector<std::pair<ModelKind, int>>{{ModelKind::two_layer_symmetric, 2}, {ModelKind::deep_linear, 3}}) {
    DenoiserProblem p = problem(kind, depth, lambda, 0.3, true);
    p.model.hidden = 4;
    const Eigen::MatrixXd ref = kind == ModelKind::two_layer_symmetric ? closed_form_trajectory(p, taus).variance
                                                                       : quadrature_trajectory(p, taus).variance;
    const auto full = nested_full_matrix(p, taus, o);
    INFO(to_string(kind));
    REQUIRE(max_rel(full.variance, ref) < test::kClosedVsPfTransitionRel);
    REQUIRE(full.mean.cwiseAbs().maxCoeff() == 0.0);  // bias-free factorised models
  }
}

TEST_CASE("depth: a non-aligned symmetric start is carried by the full-matrix path and realigns", "[fast][models]") {
  // No closed form: the generated covariance starts non-diagonal in U (χ < 1, (11.2)) and ends at the aligned
  // converged value (4.8) with χ → 1, as the off-diagonal parts decay (5.7c).
  const Eigen::VectorXd lambda = (Eigen::VectorXd(3) << 2.0, 0.5, 0.1).finished();
  DenoiserProblem p = problem(ModelKind::two_layer_symmetric, 2, lambda, 0.3, true);
  p.model.layer_offset_scale = 0.3;
  REQUIRE_FALSE(p.aligned());
  const std::vector<double> taus{0.0, 60.0};
  NestedOptions o;
  o.outer = OuterMethod::dopri5;
  o.panels = 8;
  const auto full = nested_full_matrix(p, taus, o);
  const double chi0 = analysis::alignment_score(full.eigenbasis_covariance[0], Eigen::MatrixXd::Identity(3, 3));
  const double chi1 = analysis::alignment_score(full.eigenbasis_covariance[1], Eigen::MatrixXd::Identity(3, 3));
  INFO("alignment " << chi0 << " -> " << chi1);
  REQUIRE(chi0 < 0.999);
  REQUIRE(chi1 == Approx(1.0).margin(1e-9));
  for (int k = 0; k < 3; ++k)
    REQUIRE(full.variance(1, k) == Approx(converged_generated_variance(lambda(k), p.range)).epsilon(1e-6));
}
