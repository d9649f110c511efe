// Tests for train/adam: two hand-computed steps of torch.optim.Adam's update (EMPIRICAL.md §1), the
// sign-like first step, state export/import giving the same trajectory as an uninterrupted run, misuse.
#include "train/adam.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "common/errors.hpp"
#include "support/tolerances.hpp"

namespace {
using specbias::test::kRoundoff;
using specbias::train::Adam;
using specbias::train::AdamConfig;
}  // namespace

TEST_CASE("train adam: two steps match a hand computation of torch.optim.Adam", "[fast][train]") {
  AdamConfig cfg;
  cfg.lr = 0.1;
  Adam<double> adam(cfg, 3);
  std::vector<double> p{1.0, -2.0, 0.25};
  // Step 1: m̂ = g, v̂ = g², so each parameter moves by lr·g/(|g| + ε): 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002.
  // A zero gradient leaves its parameter unchanged (0/ε).
  adam.step(p, std::vector<double>{0.5, -1.0, 0.0});
  REQUIRE(p[0] == Approx(0.900000002).epsilon(kRoundoff));
  REQUIRE(p[1] == Approx(-1.900000001).epsilon(kRoundoff));
  REQUIRE(p[2] == 0.25);
  // Step 2 (Python, textbook form): m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g², p −= lr m̂/(sqrt(v̂) + ε) with
  // m̂ = m/(1 − 0.9²), v̂ = v/(1 − 0.999²).
  adam.step(p, std::vector<double>{0.1, 0.3, -2.0});
  REQUIRE(p[0] == Approx(0.8196959063846518).epsilon(kRoundoff));
  REQUIRE(p[1] == Approx(-1.8572151424292265).epsilon(kRoundoff));
  REQUIRE(p[2] == Approx(0.32441368183064556).epsilon(kRoundoff));
  REQUIRE(adam.state().step == 2);
  REQUIRE(adam.state().m[2] == Approx(-0.2).epsilon(kRoundoff));
  REQUIRE(adam.state().v[1] == Approx(0.001089).epsilon(kRoundoff));
}

TEST_CASE("train adam: exported and re-imported state continues bit-identically", "[fast][train]") {
  AdamConfig cfg;
  cfg.lr = 1e-2;
  const std::vector<std::vector<float>> grads{{0.3f, -0.1f}, {0.2f, 0.5f}, {-0.4f, 0.05f}, {0.1f, 0.1f}};
  Adam<float> full(cfg, 2);
  std::vector<float> pf{0.5f, -0.5f};
  for (const auto& g : grads) full.step(pf, g);

  Adam<float> first(cfg, 2);
  std::vector<float> pr{0.5f, -0.5f};
  first.step(pr, grads[0]);
  first.step(pr, grads[1]);
  Adam<float> resumed(cfg, 2);
  resumed.set_state(first.state());
  resumed.step(pr, grads[2]);
  resumed.step(pr, grads[3]);
  REQUIRE(pr == pf);
  REQUIRE(resumed.state().step == 4);
}

TEST_CASE("train adam: wrong sizes and invalid settings are rejected", "[fast][train]") {
  Adam<double> adam(AdamConfig{}, 2);
  std::vector<double> p{1.0, 2.0};
  REQUIRE_THROWS_AS(adam.step(p, std::vector<double>{1.0}), specbias::DataError);
  REQUIRE_THROWS_AS(adam.set_state({1, {0.0}, {0.0}}), specbias::DataError);
  AdamConfig bad;
  bad.beta2 = 1.0;
  REQUIRE_THROWS_WITH(Adam<double>(bad, 1), Catch::Contains("training.beta2"));
}
