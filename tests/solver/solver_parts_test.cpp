// GSL stiff integrators, exact linear flows, GSL quadrature, the Gauss–Legendre node grid and the nested
// driver, each against an independent closed form.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>

#include "common/errors.hpp"
#include "solver/gsl_integrator.hpp"
#include "solver/linear_flow.hpp"
#include "solver/nested.hpp"
#include "solver/node_grid.hpp"
#include "solver/quadrature.hpp"

using namespace specbias::solver;

TEST_CASE("solver: GSL bsimp and msbdf solve a stiff linear system accurately", "[fast][solver]") {
  // Robertson-like stiffness with an exact answer: x' = -1e4 (x - cos t) - sin t has x = cos t for x(0) = 1.
  for (auto method : {GslMethod::bsimp, GslMethod::msbdf, GslMethod::rk8pd}) {
    OdeOptions opt;
    opt.rtol = 1e-10;
    opt.atol = 1e-12;
    GslIntegrator ode(
        method,
        [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double t) { dx(0) = -1e4 * (x(0) - std::cos(t)) - std::sin(t); },
        [](const Eigen::VectorXd&, double t, Eigen::MatrixXd& J, Eigen::VectorXd& dfdt) {
          J(0, 0) = -1e4;
          dfdt(0) = -1e4 * std::sin(t) - std::cos(t);
        },
        Eigen::VectorXd::Ones(1), 0.0, opt);
    ode.advance_to(5.0);
    INFO(to_string(method) << " steps " << ode.stats().steps);
    REQUIRE(std::abs(ode.state()(0) - std::cos(5.0)) < 1e-8);
    if (method != GslMethod::rk8pd) REQUIRE(ode.stats().steps < 5000);  // implicit: not limited by stability
  }
}

TEST_CASE("solver: GSL step limit names the config key", "[fast][solver]") {
  OdeOptions opt;
  opt.max_steps = 3;
  opt.max_steps_key = "solver.outer_max_steps";
  GslIntegrator ode(GslMethod::rk8pd, [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double t) { dx = std::cos(30 * t) * x; },
                    {}, Eigen::VectorXd::Ones(1), 0.0, opt);
  REQUIRE_THROWS_WITH(ode.advance_to(50.0), Catch::Contains("solver.outer_max_steps"));
  REQUIRE_THROWS_WITH(parse_gsl_method("rk45"), Catch::Contains("bsimp, msbdf, rk8pd"));
}

TEST_CASE("solver: symmetric linear flow equals the matrix exponential", "[fast][solver]") {
  // dX/dτ = -(X K - C) against X* + (X0 - X*) R e^{-τk} R^T with K = R diag(k) R^T built from a rotation.
  const double th = 0.4;
  Eigen::MatrixXd R(2, 2);  // dynamic size: GCC 12 warns falsely on AVX-512 loads of Matrix2d
  R << std::cos(th), -std::sin(th), std::sin(th), std::cos(th);
  const Eigen::Vector2d k(0.5, 3.0);
  const Eigen::MatrixXd K = R * k.asDiagonal() * R.transpose();
  Eigen::MatrixXd C(3, 2), X0(3, 2);
  C << 1, 2, 3, 4, 5, 6;
  X0 << 0.1, -0.2, 0.3, 0.0, 1.0, -1.0;
  SymmetricLinearFlow flow(K, C, X0);
  for (double tau : {0.0, 0.3, 2.0, 50.0}) {
    flow.advance_to(tau);
    // Reference: X* = C K^{-1}; X = X* + (X0 - X*) R e^{-τk} R^T.
    const Eigen::MatrixXd Xs = C * K.inverse();
    const Eigen::MatrixXd ref =
        Xs + (X0 - Xs) * R * Eigen::Vector2d(std::exp(-tau * k(0)), std::exp(-tau * k(1))).asDiagonal() * R.transpose();
    REQUIRE((flow.state() - ref).cwiseAbs().maxCoeff() < 1e-13);
  }
}

TEST_CASE("solver: diagonal linear flow handles a zero rate (pure drift)", "[fast][solver]") {
  DiagonalLinearFlow flow(Eigen::Vector2d(0.0, 2.0), Eigen::Vector2d(3.0, 4.0), Eigen::Vector2d(1.0, 1.0));
  flow.advance_to(0.5);
  REQUIRE(flow.state()(0) == Approx(1.0 + 3.0 * 0.5).epsilon(1e-15));                 // x' = 3
  REQUIRE(flow.state()(1) == Approx(2.0 + (1.0 - 2.0) * std::exp(-1.0)).epsilon(1e-14));  // x* = 2
}

TEST_CASE("solver: vectorised phi1 agrees with expm1 across both branches", "[fast][solver]") {
  // Independent reference: libm's scalar expm1, −expm1(−z)/z, on a log grid spanning the series/direct switch
  // at |z| = 0.5, both signs, plus z = 0 exactly.
  std::vector<double> zs{0.0};
  for (int i = 0; i <= 400; ++i) {
    const double z = std::pow(10.0, -12.0 + 14.0 * i / 400.0);
    if (z < 700) zs.insert(zs.end(), {z, -std::min(z, 50.0)});
  }
  Eigen::ArrayXd z = Eigen::Map<Eigen::ArrayXd>(zs.data(), static_cast<Eigen::Index>(zs.size()));
  const Eigen::ArrayXd e = (-z).exp();
  Eigen::ArrayXd p;
  phi1(z, e, p);
  double worst = 0;
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    const double ref = z(i) == 0.0 ? 1.0 : -std::expm1(-z(i)) / z(i);
    worst = std::max(worst, std::abs(p(i) - ref) / ref);
  }
  INFO("max relative error " << worst);
  REQUIRE(worst < 1e-14);
}

TEST_CASE("solver: diagonal linear flow matches the scalar exponential solution", "[fast][solver]") {
  // Reference: x0 e^{−z} + c·(−expm1(−z))/κ per component with libm. Two flows: one including a zero rate, so every
  // τ takes the φ₁ branch (series and direct parts, then underflow); one whose rates (≥ 1e-2) put every component
  // on the equilibrium branch x* + (x0 − x*) e^{−z} at τ ≥ 50.
  const int n = 64;
  for (const double min_exponent : {-4.0, -2.0}) {
    Eigen::VectorXd kappa(n), c(n), x0(n);
    for (int i = 0; i < n; ++i) {
      kappa(i) = std::pow(10.0, min_exponent + (4.0 - min_exponent) * i / (n - 1));
      c(i) = std::sin(1.0 + i);
      x0(i) = std::cos(2.0 + i);
    }
    if (min_exponent < -3) kappa(0) = 0.0;
    DiagonalLinearFlow flow(kappa, c, x0);
    for (const double tau : {1e-9, 1e-5, 1e-2, 0.3, 10.0, 50.0, 1e3}) {
      flow.advance_to(tau);
      for (int i = 0; i < n; ++i) {
        const double z = tau * kappa(i);
        const double ref = x0(i) * std::exp(-z) + c(i) * (z == 0.0 ? tau : -std::expm1(-z) / kappa(i));
        INFO("tau " << tau << " kappa " << kappa(i));
        REQUIRE(flow.state()(i) == Approx(ref).epsilon(1e-14).margin(kappa(i) > 0 ? 1e-15 * std::abs(c(i) / kappa(i)) : 0.0));
      }
    }
  }
}

TEST_CASE("solver: GSL quadrature with break points and error reporting", "[fast][solver]") {
  const auto r = integrate([](double x) { return std::exp(-x) / std::sqrt(x); }, 0.0, 4.0, {1.0});
  REQUIRE(r.value == Approx(std::sqrt(M_PI) * std::erf(2.0)).epsilon(1e-11));
  REQUIRE(integrate([](double x) { return x; }, 2.0, 0.0).value == Approx(-2.0));
  QuadratureOptions hard;
  hard.rel_tol = 1e-15;
  hard.max_intervals = 3;
  hard.context = "test integral";
  REQUIRE_THROWS_WITH(integrate([](double x) { return std::sin(1.0 / x); }, 1e-4, 1.0, {}, hard),
                      Catch::Contains("test integral"));
}

TEST_CASE("solver: Gauss-Legendre panels integrate and interpolate to high order", "[fast][solver]") {
  PanelGrid grid(-6.0, 4.0, 8, 12);
  REQUIRE(grid.size() == 96);
  std::vector<double> v(grid.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::tanh(grid.nodes()[i]);
  // ∫ tanh = ln cosh
  REQUIRE(grid.integrate(v) == Approx(std::log(std::cosh(4.0)) - std::log(std::cosh(-6.0))).epsilon(1e-13));
  // Polynomial of degree 2·12−1 per panel is integrated exactly.
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::pow(grid.nodes()[i], 23);
  REQUIRE(grid.integrate(v) == Approx((std::pow(4.0, 24) - std::pow(-6.0, 24)) / 24).epsilon(1e-12));
  // Barycentric interpolation between nodes.
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(grid.nodes()[i]);
  for (double x : {-6.0, -2.345, 0.0, 1.111, 4.0}) {
    const auto st = grid.stencil(x);
    double y = 0;
    for (size_t j = 0; j < st.coefficients.size(); ++j) y += st.coefficients[j] * v[st.first + j];
    REQUIRE(y == Approx(std::sin(x)).margin(1e-11));
  }
}

TEST_CASE("solver: nested driver advances every node to each tau and rethrows node errors", "[fast][solver]") {
  struct Node {
    double rate, tau = 0, value = 1;
    void advance_to(double t) {
      if (rate < 0) throw specbias::NumericalError("node failed at rate " + std::to_string(rate));
      value = std::exp(-rate * t);
      tau = t;
    }
  };
  std::vector<Node> nodes{{1.0}, {2.0}, {3.0}};
  const std::vector<double> taus{0.0, 0.5, 1.0};
  std::vector<double> sums;
  run_nested(nodes, taus, 2, [&](std::size_t j, double tau) {
    double s = 0;
    for (const auto& n : nodes) {
      REQUIRE(n.tau == tau);
      s += n.value;
    }
    sums.push_back(s);
    REQUIRE(j < taus.size());
  });
  REQUIRE(sums[2] == Approx(std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0)));
  std::vector<Node> bad{{1.0}, {-1.0}};
  REQUIRE_THROWS_WITH(run_nested(bad, taus, 2, [](std::size_t, double) {}), Catch::Contains("node failed"));
}

TEST_CASE("solver: direct nested driver covers every tau once with per-block node flows", "[fast][solver]") {
  struct Node {
    double rate, value = 1;
    void advance_to(double t) {
      if (rate < 0) throw specbias::NumericalError("node failed at rate " + std::to_string(rate));
      value = std::exp(-rate * t);
    }
  };
  std::vector<double> taus(37);
  for (size_t j = 0; j < taus.size(); ++j) taus[j] = 0.1 * static_cast<double>(j);
  for (const int threads : {1, 2, 5}) {
    std::vector<double> sums(taus.size(), -1.0);
    std::vector<int> visits(taus.size(), 0);
    std::vector<double> taus_seen(taus.size(), -1.0);
    run_nested_direct<Node>([] { return std::vector<Node>{{1.0}, {2.0}}; }, taus, threads,
                            [&](std::size_t j, double tau, const std::vector<Node>& nodes) {
                              ++visits[j];  // distinct j per call: no race
                              taus_seen[j] = tau;
                              sums[j] = nodes[0].value + nodes[1].value;
                            });
    for (size_t j = 0; j < taus.size(); ++j) {
      REQUIRE(visits[j] == 1);
      REQUIRE(taus_seen[j] == taus[j]);
      REQUIRE(sums[j] == Approx(std::exp(-taus[j]) + std::exp(-2 * taus[j])));
    }
  }
  REQUIRE_THROWS_WITH(run_nested_direct<Node>([] { return std::vector<Node>{{-1.0}}; }, taus, 2,
                                              [](std::size_t, double, const std::vector<Node>&) {}),
                      Catch::Contains("node failed"));
}
