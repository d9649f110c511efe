// Full-matrix factorised denoisers (models/linear_chain.hpp, DenoiserProblem::chain): the chain-rule gradient
// against finite differences of the loss (2.2), the symmetric gradient (5.1), full-matrix flows from aligned starts
// (rotated eigenbasis, random hidden bases) against the per-mode closed/implicit solutions of every kind, the
// conserved quantities (6.1) along non-aligned flows, and shape/constraint errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/data_sources.hpp"
#include "models/denoiser_problem.hpp"
#include "models/linear_chain.hpp"
#include "models/nested_paths.hpp"
#include "models/one_layer.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {
DenoiserProblem make_problem(ModelKind kind, int depth, bool tied, int hidden, double offset) {
  const int d = 3;
  DenoiserProblem p;
  p.data = DataMoments::from_spectrum((Eigen::VectorXd(3) << 2.0, 0.5, 0.05).finished(), dct2_basis(d));
  p.model = {kind, depth, tied, false, hidden, offset};
  p.eta = 0.8;
  p.W0_offset = Eigen::MatrixXd::Zero(d, d);
  p.b0 = Eigen::VectorXd::Zero(d);
  switch (kind) {
    case ModelKind::two_layer:
      p.a = (Eigen::VectorXd(3) << 0.6, -0.3, 0.2).finished();
      p.b = (Eigen::VectorXd(3) << 0.2, -0.5, 0.4).finished();
      p.Q = p.a.cwiseProduct(p.b);
      break;
    case ModelKind::deep_residual:
      p.v = (Eigen::VectorXd(3) << -0.4, -0.7, -0.2).finished();
      p.Q = p.v.unaryExpr([depth](double v) { return std::pow(1 + v, depth); });
      break;
    default: p.Q = (Eigen::VectorXd(3) << 0.3, 0.05, 0.6).finished();
  }
  p.validate();
  return p;
}

std::vector<DenoiserProblem> every_kind(double offset) {
  return {make_problem(ModelKind::one_layer, 1, false, 0, 0.0),
          make_problem(ModelKind::two_layer_symmetric, 2, false, 5, offset),
          make_problem(ModelKind::two_layer, 2, false, 4, offset),
          make_problem(ModelKind::deep_linear, 3, false, 4, offset),
          make_problem(ModelKind::deep_linear, 4, true, 0, offset),
          make_problem(ModelKind::deep_residual, 3, false, 0, offset)};
}

std::string label(const DenoiserProblem& p) {
  return to_string(p.model.kind) + " L=" + std::to_string(p.model.depth) + (p.model.tied ? " tied" : "");
}
}  // namespace

TEST_CASE("chain: gradient matches central finite differences of the loss (2.2) for every kind", "[fast][models]") {
  for (const DenoiserProblem& p : every_kind(0.3)) {
    const DataMoments data = DataMoments::from_spectrum(p.data.eigenvalues, p.data.eigenvectors, nonaligned_vector(3));
    const LinearChain chain = p.chain();
    const Eigen::VectorXd theta = p.initial_parameters();
    const double sigma = 0.6, h = 1e-6;
    auto loss = [&](const Eigen::VectorXd& th) {
      return one_layer::loss(data, sigma, {chain.effective(th), Eigen::VectorXd::Zero(3)});
    };
    const Eigen::MatrixXd G = one_layer::gradient(data, sigma, {chain.effective(theta), Eigen::VectorXd::Zero(3)}).W;
    Eigen::VectorXd grad;
    chain.gradient(theta, G, grad);
    INFO(label(p));
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
      Eigen::VectorXd plus = theta, minus = theta;
      plus(i) += h;
      minus(i) -= h;
      REQUIRE(grad(i) == Approx((loss(plus) - loss(minus)) / (2 * h)).margin(test::kFiniteDifferenceAbs));
    }
    // flow_rhs is −η times this gradient, with G from the flow matrices (the b = 0 form of (2.3)).
    const auto fm = one_layer::flow_matrices(data, sigma);
    Eigen::VectorXd rhs;
    chain.flow_rhs(theta, fm.K.topLeftCorner(3, 3), fm.C.leftCols(3), 0.7, rhs);
    REQUIRE((rhs + 0.7 * grad).cwiseAbs().maxCoeff() < test::kRoundoff);
  }
}

TEST_CASE("chain: the symmetric two-layer gradient is G plus its transpose times P as in (5.1)", "[fast][models]") {
  const DenoiserProblem p = make_problem(ModelKind::two_layer_symmetric, 2, false, 5, 0.3);
  const LinearChain chain = p.chain();
  const Eigen::VectorXd theta = p.initial_parameters();
  const Eigen::Map<const Eigen::MatrixXd> P(theta.data(), 3, 5);
  const Eigen::MatrixXd G = one_layer::gradient(p.data, 0.4, {P * P.transpose(), Eigen::VectorXd::Zero(3)}).W;
  Eigen::VectorXd grad;
  chain.gradient(theta, G, grad);
  const Eigen::MatrixXd expected = (G + G.transpose()) * P;
  REQUIRE((Eigen::Map<const Eigen::MatrixXd>(grad.data(), 3, 5) - expected).cwiseAbs().maxCoeff() < test::kRoundoff);
}

TEST_CASE("chain: full-matrix flows from aligned starts match the per-mode solutions for every kind", "[fast][models]") {
  // The rotated eigenbasis (DCT) and random hidden bases R_ℓ make every entry of every layer non-zero; the per-mode
  // solutions (3.4), (5.3), (6.4), (6.6) are evaluated independently of the chain code.
  const std::vector<double> taus{0.0, 0.05, 0.5, 3.0, 12.0};
  solver::OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-14;
  for (const DenoiserProblem& p : every_kind(0.0)) {
    if (!p.factorised()) continue;
    const LinearChain chain = p.chain();
    REQUIRE((chain.effective(p.initial_parameters()) -
             p.data.eigenvectors * p.Q.asDiagonal() * p.data.eigenvectors.transpose()).cwiseAbs().maxCoeff() < test::kRoundoff);
    for (double sigma : {0.3, 1.2}) {
      const Eigen::MatrixXd theta = chain_parameter_trajectory(p, sigma, taus, opt);
      const Eigen::MatrixXd closed = weight_trajectory_closed_form(p, sigma, taus);
      double worst = 0, off = 0;
      for (size_t j = 0; j < taus.size(); ++j) {
        const Eigen::MatrixXd M = p.data.eigenvectors.transpose() * chain.effective(theta.col(static_cast<Eigen::Index>(j))) * p.data.eigenvectors;
        worst = std::max(worst, (M.diagonal().transpose() - closed.row(static_cast<Eigen::Index>(j))).cwiseAbs().maxCoeff());
        off = std::max(off, (M - Eigen::MatrixXd(M.diagonal().asDiagonal())).cwiseAbs().maxCoeff());
      }
      INFO(label(p) << " sigma " << sigma << ": max weight error " << worst << ", max off-diagonal " << off);
      REQUIRE(worst < test::kChainVsModeAbs);
      REQUIRE(off < test::kChainVsModeAbs);
    }
  }
}

TEST_CASE("chain: conserved quantities (6.1) stay constant along non-aligned flows of untied chains", "[fast][models]") {
  const std::vector<double> taus{0.0, 0.1, 1.0, 5.0};
  solver::OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-14;
  for (const DenoiserProblem& p : every_kind(0.3)) {
    const LinearChain chain = p.chain();
    const auto c0 = chain.conserved(p.initial_parameters());
    const bool untied = p.model.kind == ModelKind::two_layer || p.model.kind == ModelKind::deep_residual ||
                        (p.model.kind == ModelKind::deep_linear && !p.model.tied);
    INFO(label(p));
    REQUIRE(c0.empty() == !untied);
    if (!untied) continue;
    REQUIRE(c0.size() == static_cast<size_t>(p.model.depth - 1));
    const Eigen::MatrixXd theta = chain_parameter_trajectory(p, 0.7, taus, opt);
    double drift = 0, moved = 0;
    for (Eigen::Index j = 1; j < theta.cols(); ++j) {
      const auto cj = chain.conserved(theta.col(j));
      for (size_t l = 0; l < cj.size(); ++l) drift = std::max(drift, (cj[l] - c0[l]).cwiseAbs().maxCoeff());
      moved = std::max(moved, (theta.col(j) - theta.col(0)).cwiseAbs().maxCoeff());
    }
    INFO("drift " << drift << ", parameters moved by " << moved);
    REQUIRE(moved > 0.05);  // the flow really moved the layers
    REQUIRE(drift < test::kConservedDrift);
  }
}

TEST_CASE("chain: misuse and model constraints are reported", "[fast][models]") {
  REQUIRE_THROWS_AS(LinearChain({{0, false, false}}, {{2, 3}}), std::invalid_argument);           // not square
  REQUIRE_THROWS_AS(LinearChain({{0, false, true}, {0, false, false}}, {{2, 3}}), std::invalid_argument);  // residual
  REQUIRE_THROWS_AS(LinearChain({{1, false, false}}, {{2, 2}}), std::invalid_argument);           // no parameter 1
  DenoiserProblem p = make_problem(ModelKind::two_layer_symmetric, 2, false, 5, 0.0);
  p.model.hidden = 2;  // h < d
  REQUIRE_THROWS_WITH(p.validate(), Catch::Contains("smaller than the data dimension"));
  p = make_problem(ModelKind::two_layer_symmetric, 2, false, 0, 0.0);
  p.Q(1) = -0.1;  // W = P Pᵀ cannot start negative
  REQUIRE_THROWS_WITH(p.validate(), Catch::Contains("Q must be >= 0"));
  p = make_problem(ModelKind::deep_linear, 4, false, 0, 0.0);
  p.Q(0) = -0.2;  // even depth
  REQUIRE_THROWS_WITH(p.validate(), Catch::Contains("even depth"));
  p.model.depth = 0;
  REQUIRE_THROWS_WITH(p.validate(), Catch::Contains("depth must be >= 1"));
  p = make_problem(ModelKind::deep_linear, 3, false, 0, 0.0);
  p.model.infinite_depth = true;
  REQUIRE_THROWS_WITH(p.chain(), Catch::Contains("no full-matrix parameterisation"));
}
