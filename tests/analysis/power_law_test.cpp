// Tests for analysis/power_law (THEORY.md (11.4), gray-zone exclusion (11.3)): an exact power law recovers its
// exponent and prefactor; a noisy one matches scipy.stats.linregress / numpy.polyfit (scipy 1.10.1,
// numpy 1.24.2) values pasted as literals; fit_branches separates rising and decaying modes and drops gray
// and never-crossed ones.
#include "analysis/power_law.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "support/tolerances.hpp"

namespace {

using specbias::analysis::BranchFits;
using specbias::analysis::fit_branches;
using specbias::analysis::fit_power_law;
using specbias::analysis::ModeEmergence;

// OLS in double precision on 8 well-spread points against scipy's own double-precision OLS.
constexpr double kOlsRel = 1e-12;

std::vector<double> logspace(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(std::pow(10.0, lo + (hi - lo) * i / (n - 1)));
  return out;
}

}  // namespace

TEST_CASE("analysis: power law fit recovers an exact power law", "[fast][analysis]") {
  // τ* = 3 λ^{−1.2}: α = 1.2, β0 = ln 3, R² = 1, zero residuals, reverse slope −1/1.2.
  const auto lambda = logspace(-3, 2, 20);
  std::vector<double> tau;
  for (double l : lambda) tau.push_back(3.0 * std::pow(l, -1.2));
  const auto fit = fit_power_law(lambda, tau);
  REQUIRE(fit.has_value());
  CHECK(fit->n == 20);
  CHECK(fit->alpha == Approx(1.2).epsilon(specbias::test::kRoundoff));
  CHECK(fit->intercept == Approx(std::log(3.0)).epsilon(specbias::test::kRoundoff));
  CHECK(fit->prefactor == Approx(3.0).epsilon(specbias::test::kRoundoff));
  CHECK(fit->r2 == Approx(1.0).epsilon(specbias::test::kRoundoff));
  CHECK(fit->alpha_stderr == Approx(0.0).margin(specbias::test::kRoundoff));
  CHECK(fit->reverse_slope == Approx(-1.0 / 1.2).epsilon(specbias::test::kRoundoff));
}

TEST_CASE("analysis: power law fit on noisy data matches scipy linregress", "[fast][analysis]") {
  // numpy: lam = logspace(-2, 1, 8); tau = 3 lam**-1.2 exp([.05, -.12, .08, 0, -.07, .11, -.03, .06])
  const std::vector<double> lambda{0.01,
                                   0.026826957952797256,
                                   0.07196856730011521,
                                   0.19306977288832494,
                                   0.517947467923121,
                                   1.3894954943731375,
                                   3.727593720314938,
                                   10.0};
  const std::vector<double> tau{792.2020808475402, 204.5126624424093,  76.4351962006923,   21.59057019003457,
                                6.159958465059172, 2.2566545198013936, 0.6003135339482829, 0.20099207030408378};
  const auto fit = fit_power_law(lambda, tau);
  REQUIRE(fit.has_value());
  CHECK(fit->n == 8);
  // linregress(log lam, log tau): slope, intercept, rvalue**2, stderr; polyfit gives the same slope.
  CHECK(fit->alpha == Approx(1.193485582771451).epsilon(kOlsRel));
  CHECK(fit->intercept == Approx(1.1161122886681103).epsilon(kOlsRel));
  CHECK(fit->prefactor == Approx(3.0529620664522876).epsilon(kOlsRel));
  CHECK(fit->r2 == Approx(0.9992750682282363).epsilon(kOlsRel));
  CHECK(fit->alpha_stderr == Approx(0.013123437068718087).epsilon(1e-10));
  // linregress(log tau, log lam).slope
  CHECK(fit->reverse_slope == Approx(-0.837274519820986).epsilon(kOlsRel));
}

TEST_CASE("analysis: power law fit skips invalid pairs and handles small n", "[fast][analysis]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Only (1, 3) and (10, 3·10^{-1.2}) are valid: n = 2, exact line, R² and stderr undefined.
  const std::vector<double> lambda{1.0, 0.0, 10.0, -1.0, 2.0, nan};
  const std::vector<double> tau{3.0, 5.0, 3.0 * std::pow(10.0, -1.2), 4.0, nan, 7.0};
  const auto fit = fit_power_law(lambda, tau);
  REQUIRE(fit.has_value());
  CHECK(fit->n == 2);
  CHECK(fit->alpha == Approx(1.2).epsilon(specbias::test::kRoundoff));
  CHECK(fit->prefactor == Approx(3.0).epsilon(specbias::test::kRoundoff));
  CHECK(std::isnan(fit->r2));
  CHECK(std::isnan(fit->alpha_stderr));

  const std::vector<double> one_l{1.0, 2.0};
  const std::vector<double> one_t{3.0, nan};
  CHECK_FALSE(fit_power_law(one_l, one_t).has_value());
  // All λ equal: the slope is undefined.
  const std::vector<double> same_l{2.0, 2.0, 2.0};
  const std::vector<double> some_t{1.0, 2.0, 3.0};
  CHECK_FALSE(fit_power_law(same_l, some_t).has_value());
  // Constant τ*: α = 0 exactly, R² and the reverse slope undefined.
  const std::vector<double> three_l{1.0, 2.0, 4.0};
  const std::vector<double> const_t{5.0, 5.0, 5.0};
  const auto flat = fit_power_law(three_l, const_t);
  REQUIRE(flat.has_value());
  CHECK(flat->alpha == Approx(0.0).margin(specbias::test::kRoundoff));
  CHECK(std::isnan(flat->r2));
  CHECK(std::isnan(flat->reverse_slope));
  const std::vector<double> two{1.0, 2.0};
  CHECK_THROWS_AS(fit_power_law(two, three_l), std::invalid_argument);
}

TEST_CASE("analysis: branch fits separate rising and decaying non-gray modes", "[fast][analysis]") {
  std::vector<ModeEmergence> modes;
  int k = 0;
  // Rising branch: τ* = 3 λ^{−1.2}; decaying branch: τ* = 5 λ^{−0.5}.
  for (double l : {0.01, 0.03, 0.1, 0.3}) modes.push_back({k++, l, 1e-4, l, 3.0 * std::pow(l, -1.2), true, false});
  for (double l : {2.0, 5.0, 20.0}) modes.push_back({k++, l, 0.5, l, 5.0 * std::pow(l, -0.5), false, false});
  // Gray modes and never-crossed modes with values that would wreck either fit if they were used.
  modes.push_back({k++, 1.0, 0.9, 1.0, 1e6, true, true});
  modes.push_back({k++, 1.5, 0.9, 1.5, 1e-6, false, true});
  modes.push_back({k++, 0.05, 1e-4, 0.05, std::nullopt, true, false});
  modes.push_back({k++, 50.0, 0.5, 50.0, std::nullopt, false, false});

  const BranchFits fits = fit_branches(modes);
  REQUIRE(fits.rising.has_value());
  REQUIRE(fits.decaying.has_value());
  CHECK(fits.rising->n == 4);
  CHECK(fits.rising->alpha == Approx(1.2).epsilon(specbias::test::kRoundoff));
  CHECK(fits.rising->prefactor == Approx(3.0).epsilon(specbias::test::kRoundoff));
  CHECK(fits.decaying->n == 3);
  CHECK(fits.decaying->alpha == Approx(0.5).epsilon(specbias::test::kRoundoff));
  CHECK(fits.decaying->prefactor == Approx(5.0).epsilon(specbias::test::kRoundoff));

  // A branch with a single usable mode has no fit.
  const std::vector<ModeEmergence> lonely{{0, 0.1, 1e-4, 0.1, 10.0, true, false}};
  const BranchFits none = fit_branches(lonely);
  CHECK_FALSE(none.rising.has_value());
  CHECK_FALSE(none.decaying.has_value());
}
