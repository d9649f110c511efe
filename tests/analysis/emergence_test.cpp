// Tests for analysis/emergence: thresholds and first-passage times (THEORY.md (11.1)), gray zone (11.3), and the
// sampled estimator of EMPIRICAL.md §5. Continuous crossings are checked against trajectories whose crossing
// time is solved by hand (sigmoid, exponential, exp-of-cubic with three known roots in ln τ); the sampled
// estimator against small arrays worked by hand; the index-space smoothing against
// scipy.ndimage.gaussian_filter1d (scipy 1.10.1, mode='reflect', truncate=4.0) values pasted as literals.
#include "analysis/emergence.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/errors.hpp"
#include "support/tolerances.hpp"

namespace {

using specbias::analysis::Criterion;
using specbias::analysis::emergence_threshold;
using specbias::analysis::first_crossing_continuous;
using specbias::analysis::first_crossing_sampled;
using specbias::analysis::gaussian_smooth_index;
using specbias::analysis::in_gray_zone;

// Root refinement is asked for 1e-12 in ln τ; the hand-solved crossing itself is exact to a few ulps.
constexpr double kCrossingRel = 1e-10;
// Same weights and sums as scipy but in a different summation order: a few ulps of the O(1) values.
constexpr double kScipyAbs = 1e-14;

}  // namespace

TEST_CASE("analysis: emergence thresholds match the three means", "[fast][analysis]") {
  CHECK(emergence_threshold(0.01, 1.0, Criterion::geometric) == Approx(0.1).epsilon(specbias::test::kRoundoff));
  CHECK(emergence_threshold(1.0, 3.0, Criterion::harmonic) == Approx(1.5).epsilon(specbias::test::kRoundoff));
  CHECK(emergence_threshold(1.0, 3.0, Criterion::arithmetic) == Approx(2.0).epsilon(specbias::test::kRoundoff));
  // Symmetric in its arguments: a decaying mode has the same threshold as the mirrored rising one.
  CHECK(emergence_threshold(4.0, 0.25, Criterion::geometric) == Approx(1.0).epsilon(specbias::test::kRoundoff));
  CHECK(emergence_threshold(-1.0, 3.0, Criterion::arithmetic) == Approx(1.0).epsilon(specbias::test::kRoundoff));
  CHECK_THROWS_AS(emergence_threshold(0.0, 1.0, Criterion::geometric), std::invalid_argument);
  CHECK_THROWS_AS(emergence_threshold(1.0, -2.0, Criterion::harmonic), std::invalid_argument);
  CHECK_THROWS_AS(emergence_threshold(std::nan(""), 1.0, Criterion::arithmetic), std::invalid_argument);
}

TEST_CASE("analysis: continuous crossing of a rising sigmoid in ln tau", "[fast][analysis]") {
  // v(τ) = v0 + (vT − v0)/(1 + (τc/τ)^p) runs from v0 (τ → 0) to vT. Setting v = θ gives
  // (τc/τ)^p = (vT − v0)/(θ − v0) − 1, i.e. τ* = τc · ((vT − v0)/(θ − v0) − 1)^{−1/p}.
  const double v0 = 0.01, vT = 1.0, tau_c = 3.7, p = 1.3;
  const auto v = [=](double tau) { return v0 + (vT - v0) / (1.0 + std::pow(tau_c / tau, p)); };
  for (Criterion c : {Criterion::geometric, Criterion::harmonic, Criterion::arithmetic}) {
    const double theta = emergence_threshold(v0, vT, c);
    const double expected = tau_c * std::pow((vT - v0) / (theta - v0) - 1.0, -1.0 / p);
    const auto e = first_crossing_continuous(v, v0, vT, c, 1e-4, 1e4);
    REQUIRE(e.has_value());
    CHECK(e->rising);
    CHECK(e->threshold == Approx(theta).epsilon(specbias::test::kRoundoff));
    CHECK(e->tau == Approx(expected).epsilon(kCrossingRel));
    CHECK(e->v0 == v0);
    CHECK(e->v_target == vT);
  }
  // The answer does not depend on the bracketing grid for a monotone trajectory.
  const double theta = std::sqrt(v0 * vT);
  const double expected = tau_c * std::pow((vT - v0) / (theta - v0) - 1.0, -1.0 / p);
  const auto coarse = first_crossing_continuous(v, v0, vT, Criterion::geometric, 1e-4, 1e4, 2);
  REQUIRE(coarse.has_value());
  CHECK(coarse->tau == Approx(expected).epsilon(kCrossingRel));
}

TEST_CASE("analysis: continuous crossing of a decaying exponential", "[fast][analysis]") {
  // v(τ) = vT + (v0 − vT) e^{−kτ}, v0 = 4, vT = 1: harmonic θ = 2/(1/4 + 1) = 1.6, so
  // e^{−kτ*} = (θ − vT)/(v0 − vT) = 0.2 and τ* = ln 5 / k.
  const double k = 0.35;
  const auto v = [=](double tau) { return 1.0 + 3.0 * std::exp(-k * tau); };
  const auto e = first_crossing_continuous(v, 4.0, 1.0, Criterion::harmonic, 1e-3, 1e3);
  REQUIRE(e.has_value());
  CHECK_FALSE(e->rising);
  CHECK(e->threshold == Approx(1.6).epsilon(specbias::test::kRoundoff));
  CHECK(e->tau == Approx(std::log(5.0) / k).epsilon(kCrossingRel));
}

TEST_CASE("analysis: continuous crossing returns the first of several crossings", "[fast][analysis]") {
  // v = θ·exp(±a (u − u1)(u − u2)(u − u3)), u = ln τ, equals θ exactly at τ = 0.13, 1.7 and 20.
  // Rising (v0 = 1, vT = 4, θ = 2): up at 0.13, back below at 1.7 (a dip), up again at 20.
  // Decaying (v0 = 1, vT = 0.25, θ = 0.5): down at 0.13, an undershoot-and-recover shape as in THEORY §4.3.
  const double u1 = std::log(0.13), u2 = std::log(1.7), u3 = std::log(20.0), a = 0.05;
  const auto cubic = [=](double tau) {
    const double u = std::log(tau);
    return a * (u - u1) * (u - u2) * (u - u3);
  };
  const auto rising = first_crossing_continuous([&](double tau) { return 2.0 * std::exp(cubic(tau)); }, 1.0, 4.0,
                                                Criterion::geometric, 1e-3, 1e3);
  REQUIRE(rising.has_value());
  CHECK(rising->rising);
  CHECK(rising->tau == Approx(0.13).epsilon(kCrossingRel));

  const auto decaying = first_crossing_continuous([&](double tau) { return 0.5 * std::exp(-cubic(tau)); }, 1.0, 0.25,
                                                  Criterion::geometric, 1e-3, 1e3);
  REQUIRE(decaying.has_value());
  CHECK_FALSE(decaying->rising);
  CHECK(decaying->tau == Approx(0.13).epsilon(kCrossingRel));

  // Starting the window inside the dip (v < θ on (1.7, 20)) finds the later crossing at τ = 20.
  const auto later = first_crossing_continuous([&](double tau) { return 2.0 * std::exp(cubic(tau)); }, 1.0, 4.0,
                                               Criterion::geometric, 3.0, 1e3);
  REQUIRE(later.has_value());
  CHECK(later->tau == Approx(20.0).epsilon(kCrossingRel));
}

TEST_CASE("analysis: continuous crossing edge cases and misuse", "[fast][analysis]") {
  const auto v = [](double tau) { return 1.0 - 0.99 * std::exp(-tau); };  // 0.01 → 1, θ_g = 0.1 at τ = ln(1.1)
  // Window ends before the crossing: no emergence, which is a result.
  CHECK_FALSE(first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 1e-4, 0.05).has_value());
  // Window starts after the crossing: the window start is reported.
  const auto late = first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 0.5, 10.0);
  REQUIRE(late.has_value());
  CHECK(late->tau == 0.5);
  // Reference: ln(1.1) solved by hand from 1 − 0.99 e^{−τ} = 0.1.
  const auto e = first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 1e-4, 10.0);
  REQUIRE(e.has_value());
  CHECK(e->tau == Approx(std::log(1.1)).epsilon(kCrossingRel));

  CHECK_THROWS_AS(first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 0.0, 10.0), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 10.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_continuous(v, 0.01, 1.0, Criterion::geometric, 1e-3, 1.0, 0), std::invalid_argument);
  const auto bad = [](double tau) { return tau > 1.0 ? std::nan("") : 0.0; };
  CHECK_THROWS_AS(first_crossing_continuous(bad, 0.01, 1.0, Criterion::geometric, 1e-3, 10.0),
                  specbias::NumericalError);
}

TEST_CASE("analysis: index-space Gaussian smoothing matches scipy gaussian_filter1d", "[fast][analysis]") {
  const std::vector<double> a{0.5, 1.25, -0.75, 2.0, 3.5, 0.0, 1.0};
  // gaussian_filter1d(a, 1.0)
  const std::vector<double> a_sigma1{0.6561932237478725, 0.5941152635594205, 0.7056811557650954, 1.537645861910697,
                                     1.9037814198720975, 1.248156686968713,  0.8544263881761043};
  // gaussian_filter1d(a, 0.3): radius int(1.2 + 0.5) = 1
  const std::vector<double> a_sigma03{0.5028771940993766, 1.2394502883022853, -0.7317777707039474, 1.9952046765010385,
                                      3.480818706004155,  0.0172631645962602, 0.996163741200831};
  const auto s1 = gaussian_smooth_index(a, 1.0);
  const auto s03 = gaussian_smooth_index(a, 0.3);
  REQUIRE(s1.size() == a.size());
  REQUIRE(s03.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(s1[i] == Approx(a_sigma1[i]).margin(kScipyAbs));
    CHECK(s03[i] == Approx(a_sigma03[i]).margin(kScipyAbs));
  }
  // gaussian_filter1d([1, 4, -2], 2.0): radius 8 > length, reflection repeats.
  const std::vector<double> b{1.0, 4.0, -2.0};
  const std::vector<double> b_sigma2{1.1671496171758844, 1.0004190133872684, 0.8324313694368473};
  const auto s2 = gaussian_smooth_index(b, 2.0);
  for (size_t i = 0; i < b.size(); ++i) CHECK(s2[i] == Approx(b_sigma2[i]).margin(kScipyAbs));
  // sigma 0.1 has radius int(0.9) = 0 in scipy: the identity, as is sigma 0; a single sample is unchanged.
  CHECK(gaussian_smooth_index(a, 0.1) == a);
  CHECK(gaussian_smooth_index(a, 0.0) == a);
  const std::vector<double> one{2.5};
  CHECK(gaussian_smooth_index(one, 1.5)[0] == Approx(2.5).margin(kScipyAbs));
  CHECK_THROWS_AS(gaussian_smooth_index(a, -1.0), std::invalid_argument);
}

TEST_CASE("analysis: sampled crossing on hand-worked arrays", "[fast][analysis]") {
  const std::vector<double> tau{0, 1, 2, 4, 8, 16};
  const std::vector<double> rising{0.01, 0.02, 0.05, 0.2, 0.7, 1.0};
  // θ_g = sqrt(0.01·1) = 0.1 → first value > 0.1 is 0.2 at index 3 (τ = 4);
  // θ_h = 2/(100 + 1) = 0.0198… → 0.02 at index 1 (τ = 1); θ_a = 0.505 → 0.7 at index 4 (τ = 8).
  auto g = first_crossing_sampled(tau, rising, 1.0, Criterion::geometric);
  REQUIRE(g.has_value());
  CHECK(g->tau == 4.0);
  CHECK(g->rising);
  CHECK(g->v0 == 0.01);
  CHECK(g->threshold == Approx(0.1).epsilon(specbias::test::kRoundoff));
  auto h = first_crossing_sampled(tau, rising, 1.0, Criterion::harmonic);
  REQUIRE(h.has_value());
  CHECK(h->tau == 1.0);
  auto m = first_crossing_sampled(tau, rising, 1.0, Criterion::arithmetic);
  REQUIRE(m.has_value());
  CHECK(m->tau == 8.0);

  // Decaying with undershoot: θ_g = sqrt(1·0.25) = 0.5; first value < 0.5 is 0.3 at index 2 (τ = 2), not the
  // later recovery.
  const std::vector<double> tau7{0, 1, 2, 4, 8, 16, 32};
  const std::vector<double> decaying{1.0, 0.8, 0.3, 0.05, 0.1, 0.2, 0.25};
  auto d = first_crossing_sampled(tau7, decaying, 0.25, Criterion::geometric);
  REQUIRE(d.has_value());
  CHECK_FALSE(d->rising);
  CHECK(d->tau == 2.0);

  // "On the far side" is strict: 2 equals θ = sqrt(1·4), so the crossing is the next record.
  const std::vector<double> tau3{0, 10, 20};
  const std::vector<double> touching{1.0, 2.0, 4.0};
  auto t = first_crossing_sampled(tau3, touching, 4.0, Criterion::geometric);
  REQUIRE(t.has_value());
  CHECK(t->tau == 20.0);

  // Never past the threshold: no emergence.
  const std::vector<double> flat{1.0, 1.1, 1.2};
  CHECK_FALSE(first_crossing_sampled(tau3, flat, 4.0, Criterion::geometric).has_value());
}

TEST_CASE("analysis: sampled crossing with smoothing follows the authors' estimator", "[fast][analysis]") {
  // A one-record spike: raw series first exceeds θ = sqrt(0.01·1) = 0.1 at index 2 (the spike); after
  // gaussian_filter1d(·, 1) (scipy: 0.0217, 0.0569, 0.0869, 0.0591, 0.0320, 0.0496, 0.1196, …) the first
  // smoothed value above 0.1 is at index 6.
  const std::vector<double> tau{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16};
  const std::vector<double> spiky{0.01, 0.012, 0.2, 0.011, 0.015, 0.03, 0.08, 0.2, 0.5, 0.9, 1.0, 1.0};
  const auto raw = first_crossing_sampled(tau, spiky, 1.0, Criterion::geometric, 0.0);
  REQUIRE(raw.has_value());
  CHECK(raw->tau == 2.0);
  const auto smooth = first_crossing_sampled(tau, spiky, 1.0, Criterion::geometric, 1.0);
  REQUIRE(smooth.has_value());
  CHECK(smooth->tau == 6.0);
  CHECK(smooth->rising);
  CHECK(smooth->v0 == 0.01);  // the threshold keeps the raw first record
  CHECK(smooth->threshold == Approx(0.1).epsilon(specbias::test::kRoundoff));

  // Direction comes from the smoothed start: raw start 1 < θ = 2 < target 4, but the smoothed start is
  // 2.795291594311893 (scipy) > θ, so the estimator searches downward and, the series never falling below 2,
  // reports no emergence although the raw series is past θ from index 1.
  const std::vector<double> tau8{0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<double> jump{1.0, 6, 6, 6, 5, 4, 4, 4};
  CHECK(gaussian_smooth_index(jump, 1.0)[0] == Approx(2.795291594311893).margin(kScipyAbs));
  CHECK_FALSE(first_crossing_sampled(tau8, jump, 4.0, Criterion::geometric, 1.0).has_value());
  const auto unsmoothed = first_crossing_sampled(tau8, jump, 4.0, Criterion::geometric, 0.0);
  REQUIRE(unsmoothed.has_value());
  CHECK(unsmoothed->tau == 1.0);
}

TEST_CASE("analysis: sampled crossing rejects malformed records", "[fast][analysis]") {
  const std::vector<double> tau{0, 1, 2};
  const std::vector<double> ok{1.0, 2.0, 3.0};
  const std::vector<double> short_values{1.0, 2.0};
  const std::vector<double> not_increasing{0, 2, 2};
  const std::vector<double> with_nan{1.0, std::nan(""), 3.0};
  const std::vector<double> empty;
  CHECK_THROWS_AS(first_crossing_sampled(tau, short_values, 4.0, Criterion::geometric), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_sampled(not_increasing, ok, 4.0, Criterion::geometric), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_sampled(tau, with_nan, 4.0, Criterion::geometric), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_sampled(empty, empty, 4.0, Criterion::geometric), std::invalid_argument);
  CHECK_THROWS_AS(first_crossing_sampled(tau, ok, 0.0, Criterion::geometric), std::invalid_argument);
}

TEST_CASE("analysis: gray zone is the inclusive factor-two band", "[fast][analysis]") {
  CHECK(in_gray_zone(1.0, 1.0));
  CHECK(in_gray_zone(0.5, 1.0));  // boundaries are inside (11.3)
  CHECK(in_gray_zone(2.0, 1.0));
  CHECK(in_gray_zone(0.16, 0.1));
  CHECK_FALSE(in_gray_zone(0.49, 1.0));
  CHECK_FALSE(in_gray_zone(2.01, 1.0));
  CHECK_FALSE(in_gray_zone(3.33021282960749e-5, 1e-3));  // (4.7) Q = 0.1 level vs a small mode: ratio 0.033
  CHECK(in_gray_zone(0.3, 1.0, 0.25, 4.0));
  CHECK_THROWS_AS(in_gray_zone(1.0, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(in_gray_zone(1.0, 1.0, 2.0, 0.5), std::invalid_argument);
}
