// solver::DecoupledRosenbrock (odeint's Rosenbrock4 on decoupled equations with a diagonal Jacobian) against exact
// solutions: a stiff linear family spanning eight decades of rates, decoupled logistic equations, convergence with
// the tolerance, and the step-limit and non-finite errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/errors.hpp"
#include "solver/decoupled_rosenbrock.hpp"

using specbias::solver::DecoupledRosenbrock;
using specbias::solver::OdeOptions;

namespace {
OdeOptions tolerances(double rtol) {
  OdeOptions o;
  o.rtol = rtol;
  o.atol = rtol * 1e-3;
  o.initial_step = 1e-8;
  return o;
}
}  // namespace

TEST_CASE("solver: decoupled Rosenbrock4 integrates a stiff linear family to its exact solution", "[fast][solver]") {
  // x_i' = −k_i (x_i − c_i), k from 1e-2 to 1e6: x_i = c_i + (x_i(0) − c_i) e^{−k_i t}.
  const Eigen::ArrayXd k = Eigen::ArrayXd::LinSpaced(9, -2.0, 6.0).unaryExpr([](double e) { return std::pow(10.0, e); });
  const Eigen::ArrayXd c = Eigen::ArrayXd::LinSpaced(9, 0.5, 1.5), x0 = Eigen::ArrayXd::Constant(9, 0.1);
  DecoupledRosenbrock ode([&](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx) { dx = -k * (x - c); },
                          [&](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx, Eigen::ArrayXd& J) {
                            dx = -k * (x - c);
                            J = -k;
                          },
                          x0, 0.0, tolerances(1e-10));
  double worst = 0;
  for (double t : {1e-7, 1e-4, 0.01, 1.0, 30.0, 1e3}) {
    ode.advance_to(t);
    const Eigen::ArrayXd exact = c + (x0 - c) * (-k * t).exp();
    worst = std::max(worst, ((ode.state() - exact).abs() / exact.abs()).maxCoeff());
  }
  INFO("max rel error " << worst << ", steps " << ode.stats().steps);
  REQUIRE(worst < 1e-8);
  // L-stable and implicit: the step count is set by accuracy, not by the stiffest rate (explicit: ~1e9 steps).
  REQUIRE(ode.stats().steps < 3000);
  REQUIRE(ode.stats().rhs_evaluations == 6 * ode.stats().jacobian_evaluations);  // six stages per trial step
}

TEST_CASE("solver: decoupled Rosenbrock4 follows decoupled logistic equations and converges with the tolerance", "[fast][solver]") {
  // x_i' = r_i x_i (1 − x_i): x_i = 1/(1 + (1/x_i(0) − 1) e^{−r_i t}).
  const Eigen::ArrayXd r = (Eigen::ArrayXd(4) << 0.5, 3.0, 40.0, 900.0).finished(), x0 = Eigen::ArrayXd::Constant(4, 1e-3);
  auto error_at = [&](double rtol) {
    DecoupledRosenbrock ode([&](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx) { dx = r * x * (1 - x); },
                            [&](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx, Eigen::ArrayXd& J) {
                              dx = r * x * (1 - x);
                              J = r * (1 - 2 * x);
                            },
                            x0, 0.0, tolerances(rtol));
    double worst = 0;
    for (double t : {0.01, 0.3, 2.0, 20.0, 100.0}) {
      ode.advance_to(t);
      const Eigen::ArrayXd exact = 1.0 / (1.0 + (1.0 / x0 - 1.0) * (-r * t).exp());
      worst = std::max(worst, ((ode.state() - exact).abs() / exact).maxCoeff());
    }
    return worst;
  };
  const double e6 = error_at(1e-6), e10 = error_at(1e-10);
  INFO("rtol 1e-6: " << e6 << ", rtol 1e-10: " << e10);
  REQUIRE(e10 < 1e-8);
  REQUIRE(e6 > 100 * e10);  // tightening the tolerance really buys accuracy
}

TEST_CASE("solver: decoupled Rosenbrock4 reports step limits and non-finite states", "[fast][solver]") {
  OdeOptions o = tolerances(1e-12);
  o.max_steps = 5;
  o.max_steps_key = "solver.outer_max_steps";
  o.context = "per-mode gradient flow at sigma = 3";
  DecoupledRosenbrock slow([](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx) { dx = -x; },
                           [](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx, Eigen::ArrayXd& J) {
                             dx = -x;
                             J = -Eigen::ArrayXd::Ones(x.size());
                           },
                           Eigen::ArrayXd::Ones(2), 0.0, o);
  REQUIRE_THROWS_WITH(slow.advance_to(100.0), Catch::Contains("solver.outer_max_steps") && Catch::Contains("sigma = 3"));
  DecoupledRosenbrock blow([](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx) { dx = x * x; },
                           [](const Eigen::ArrayXd& x, Eigen::ArrayXd& dx, Eigen::ArrayXd& J) {
                             dx = x * x;
                             J = 2 * x;
                           },
                           Eigen::ArrayXd::Ones(1), 0.0, tolerances(1e-8));
  REQUIRE_THROWS_AS(blow.advance_to(2.0), specbias::NumericalError);  // x = 1/(1 − t) blows up at t = 1
  REQUIRE_THROWS_AS(blow.advance_to(-1.0), std::invalid_argument);
}
