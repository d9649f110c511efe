// DenseIntegrator (odeint dopri5 + dense output) on Eigen states: the Eigen adaptor regression, accuracy and
// convergence order, backward integration, step limits, non-finite guard, first-crossing search.
#include <catch2/catch.hpp>

#include <cmath>

#include "solver/dense_integrator.hpp"
#include "support/tolerances.hpp"

using specbias::solver::DenseIntegrator;
using specbias::solver::OdeOptions;

TEST_CASE("solver: odeint Eigen adaptor actually integrates (regression)", "[fast][solver]") {
  // Without odeint/external/eigen/eigen.hpp, dopri5 on Eigen vectors compiles but leaves the state unchanged.
  DenseIntegrator ode([](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = -x; },
                                       Eigen::VectorXd::Ones(3), 0.0, OdeOptions{});
  ode.advance_to(1.0);
  REQUIRE(ode.stats().steps > 0);
  REQUIRE(ode.state()(0) == Approx(std::exp(-1.0)).epsilon(1e-9));
}

TEST_CASE("solver: dopri5 on a matrix state matches the exact exponential", "[fast][solver]") {
  // dX/dt = -X K with K = diag(1, 3) has X(t) = X0 exp(-tK): an independent closed form.
  Eigen::MatrixXd K = Eigen::Vector2d(1.0, 3.0).asDiagonal();
  Eigen::MatrixXd X0(2, 2);
  X0 << 1.0, 2.0, -0.5, 0.25;
  OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-14;
  specbias::solver::MatrixDenseIntegrator ode(
      [&](const Eigen::Map<const Eigen::MatrixXd>& x, Eigen::Map<Eigen::MatrixXd>& dx, double) { dx = -x * K; }, X0,
      0.0, opt);
  for (double t : {0.1, 0.7, 2.0}) {
    ode.advance_to(t);
    Eigen::MatrixXd exact = X0 * Eigen::Vector2d(std::exp(-t), std::exp(-3 * t)).asDiagonal();
    REQUIRE((ode.state() - exact).cwiseAbs().maxCoeff() < 1e-11);
  }
}

TEST_CASE("solver: dopri5 error falls at fifth order with the tolerance", "[fast][solver]") {
  // x' = cos(t) x, x(0) = 1 -> x = exp(sin t). Tightening rtol 100x must shrink the error (dopri5 is order 5).
  auto run = [](double rtol) {
    OdeOptions opt;
    opt.rtol = rtol;
    opt.atol = rtol * 1e-3;
    DenseIntegrator ode(
        [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double t) { dx = std::cos(t) * x; },
        Eigen::VectorXd::Ones(1), 0.0, opt);
    ode.advance_to(10.0);
    return std::make_pair(std::abs(ode.state()(0) - std::exp(std::sin(10.0))), ode.stats().steps);
  };
  const auto [err6, steps6] = run(1e-6);
  const auto [err10, steps10] = run(1e-10);
  REQUIRE(err10 < 1e-8);
  REQUIRE(err10 < err6 / 100);
  // Order 5: 1e4 tighter tolerance costs about 1e4^(1/5) ≈ 6.3x the steps (allow 3x..12x).
  const double ratio = static_cast<double>(steps10) / static_cast<double>(steps6);
  REQUIRE(ratio > 3.0);
  REQUIRE(ratio < 12.0);
}

TEST_CASE("solver: backward integration in time", "[fast][solver]") {
  // x' = x integrated from t = 0 down to t = -2 gives exp(-2).
  DenseIntegrator ode([](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = x; },
                                       Eigen::VectorXd::Ones(1), 0.0, OdeOptions{});
  ode.advance_to(-2.0);
  REQUIRE(ode.state()(0) == Approx(std::exp(-2.0)).epsilon(1e-9));
}

TEST_CASE("solver: step limit names the config key", "[fast][solver]") {
  OdeOptions opt;
  opt.max_steps = 5;
  opt.max_steps_key = "solver.inner_max_steps";
  DenseIntegrator ode(
      [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double t) { dx = std::cos(50 * t) * x; },
      Eigen::VectorXd::Ones(1), 0.0, opt);
  REQUIRE_THROWS_WITH(ode.advance_to(100.0), Catch::Contains("solver.inner_max_steps"));
}

TEST_CASE("solver: non-finite state is reported with its time and context", "[fast][solver]") {
  // x' = x^2 blows up at t = 1.
  OdeOptions opt;
  opt.context = "test blow-up";
  DenseIntegrator ode(
      [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = x.cwiseAbs2(); },
      Eigen::VectorXd::Ones(1), 0.0, opt);
  REQUIRE_THROWS_AS(ode.advance_to(2.0), specbias::NumericalError);
  try {
    DenseIntegrator again(
        [](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = x.cwiseAbs2(); },
        Eigen::VectorXd::Ones(1), 0.0, opt);
    again.advance_to(2.0);
  } catch (const specbias::Error& e) {
    const std::string msg = e.what();
    REQUIRE_THAT(msg, Catch::Contains("test blow-up"));
  }
}

TEST_CASE("solver: first crossing by dense output and root finding", "[fast][solver]") {
  // x = exp(-t): crosses 0.3 at t = ln(1/0.3). The dense-output root must be far finer than the step size.
  DenseIntegrator ode([](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = -x; },
                                       Eigen::VectorXd::Ones(1), 0.0, OdeOptions{});
  const auto root = ode.advance_to_first_crossing(
      [](const Eigen::VectorXd& x, double) { return x(0) - 0.3; }, 10.0);
  REQUIRE(root.has_value());
  REQUIRE(*root == Approx(std::log(1 / 0.3)).epsilon(1e-9));
  // A level never reached: no crossing, and the integrator ends at t_end.
  DenseIntegrator ode2([](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) { dx = -x; },
                                        Eigen::VectorXd::Ones(1), 0.0, OdeOptions{});
  REQUIRE_FALSE(ode2.advance_to_first_crossing([](const Eigen::VectorXd& x, double) { return x(0) + 1; }, 3.0));
  REQUIRE(ode2.time() == 3.0);
}
