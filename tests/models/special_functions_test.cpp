// E1 (Boost.Math, used by the library) against the independent Chebyshev implementation of GSL, and the hoisted
// closed-form grid against the per-entry closed form.
#include <catch2/catch.hpp>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_expint.h>

#include <cmath>

#include "models/pf_ode.hpp"
#include "models/special_functions.hpp"
#include "support/tolerances.hpp"

using namespace specbias::models;

TEST_CASE("models: E1 agrees with GSL's implementation from 1e-12 to 700", "[fast][models]") {
  gsl_set_error_handler_off();
  double worst = 0;
  for (int i = 0; i <= 2000; ++i) {  // up to 699: the library returns 0 above 700
    const double x = std::pow(10.0, -12.0 + (12.0 + std::log10(699.0)) * i / 2000.0);
    gsl_sf_result r;
    REQUIRE(gsl_sf_expint_E1_e(x, &r) == GSL_SUCCESS);
    worst = std::max(worst, std::abs(expint_e1(x) - r.val) / r.val);
  }
  INFO("max relative difference " << worst);
  REQUIRE(worst < 1e-14);
  REQUIRE(expint_e1(701.0) == 0.0);
  REQUIRE_THROWS_AS(expint_e1(0.0), std::domain_error);
  REQUIRE_THROWS_AS(expint_e1(-1.0), std::domain_error);
}

TEST_CASE("models: closed-form variance grid equals the per-entry closed form to roundoff", "[fast][models]") {
  const SamplingRange r;
  const Eigen::VectorXd lambda = (Eigen::VectorXd(5) << 100.0, 3.0, 0.5, 1e-2, 1e-4).finished();
  const Eigen::VectorXd Q = (Eigen::VectorXd(5) << 0.1, 1.0, 0.0, 0.7, 2.0).finished();
  const std::vector<double> taus{0.0, 1e-6, 1e-2, 1.0, 1e3, 1e7};
  const Eigen::MatrixXd grid = one_layer_generated_variance_grid(lambda, Q, 0.7, taus, r, 2);
  for (size_t j = 0; j < taus.size(); ++j)
    for (Eigen::Index k = 0; k < lambda.size(); ++k)
      REQUIRE(grid(static_cast<Eigen::Index>(j), k) ==
              Approx(one_layer_generated_variance(lambda(k), Q(k), 0.7, taus[j], r)).epsilon(specbias::test::kRoundoff));
}
