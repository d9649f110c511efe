// Bad input for the non-centred / discrete-step / re-parametrisation options (issue 3 part A): every message names
// the file, the key, the bad value and the allowed range or fix.
#include <catch2/catch.hpp>

#include <sstream>

#include "common/errors.hpp"
#include "config/run_config.hpp"
#include "pipeline/problem_builder.hpp"

using specbias::ConfigError;
using specbias::config::parse_config;

namespace {
const std::string kBase = R"([data]
eigenvalues = [1.0, 0.1]
[model]
kind = "one_layer"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 1.0, 10.0]
)";

std::string error_of(const std::string& text) {
  try {
    const auto c = parse_config(text, "bad.toml");
    specbias::pipeline::build_problem(c, specbias::pipeline::build_data(c));
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

void require_all(const std::string& msg, const std::vector<std::string>& fragments) {
  INFO(msg);
  for (const auto& f : fragments) REQUIRE_THAT(msg, Catch::Contains(f));
}
}  // namespace

TEST_CASE("config noncentred: wrong-length mean is rejected", "[fast][config]") {
  std::string t = kBase;
  t.insert(t.find("[model]"), "mean = [0.5, 0.2, 0.1]\n");
  require_all(error_of(t), {"bad.toml:3:", "[data] mean", "has 3 entries", "2 eigenvalues", "one mean per mode"});
}

TEST_CASE("config noncentred: unstable eta with discrete steps names the bound the sigma and the key", "[fast][config]") {
  std::string t = kBase;
  t.insert(t.find("tau ="), "discrete_steps = true\n");
  require_all(error_of(t), {"bad.toml", "[training] eta", "eta = 1", "discrete_steps = true", "sigma = sigma_max = 80",
                            "1/max(lambda_max + sigma^2, 1)", "allowed range 0 < eta < 0.000156226"});
  // Just below the bound it is accepted.
  std::string ok = t;
  ok.replace(ok.find("eta = 1.0"), 9, "eta = 1.5e-4");
  const auto c = parse_config(ok, "ok.toml");
  REQUIRE(specbias::pipeline::build_problem(c, specbias::pipeline::build_data(c)).discrete_steps);
}

TEST_CASE("config noncentred: parametrisation with a non one-layer kind is rejected", "[fast][config]") {
  std::string t = kBase;
  t.replace(t.find("kind = \"one_layer\""), 18, "kind = \"two_layer_symmetric\"\nparametrisation = \"residual\"");
  require_all(error_of(t), {"bad.toml:5:", "[model] parametrisation", "kind = \"two_layer_symmetric\"", "\"residual\"",
                            "plain, residual, score, edm_preconditioned", "one_layer"});
}

TEST_CASE("config noncentred: unknown eta_weighting lists the allowed values", "[fast][config]") {
  std::string t = kBase;
  t.insert(t.find("tau ="), "eta_weighting = \"edm_densty\"\n");
  require_all(error_of(t), {"bad.toml:8:", "[training] eta_weighting", "\"edm_densty\"",
                            "\"none\", \"edm_density\", \"edm_loss_weight\", \"edm_both\"", "did you mean \"edm_density\""});
}

TEST_CASE("config noncentred: EDM loss weight twice and sigma-dependent rates with a mean are rejected", "[fast][config]") {
  std::string t = kBase;
  t.insert(t.find("[training]"), "parametrisation = \"edm_preconditioned\"\n");
  std::string twice = t;
  twice.insert(twice.find("tau ="), "eta_weighting = \"edm_both\"\n");
  require_all(error_of(twice), {"bad.toml", "[training] eta_weighting", "\"edm_both\"", "twice", "\"none\" or \"edm_density\""});
  std::string with_mean = t;
  with_mean.insert(with_mean.find("[model]"), "mean = [0.5, 0.2]\n");
  require_all(error_of(with_mean), {"bad.toml", "parametrisation = \"edm_preconditioned\"", "zero-mean data"});
  // The resolved config keeps the new keys.
  const auto c = parse_config(t, "ok.toml");
  std::ostringstream s;
  s << c.to_toml();
  const auto again = parse_config(s.str(), "again.toml");
  REQUIRE(again.model.parametrisation == "edm_preconditioned");
  REQUIRE(again.training.sigma_data == 0.5);
}

TEST_CASE("config noncentred: loss variants other than edm_x reject discrete steps and per-sigma rates", "[fast][config]") {
  std::string t = kBase;
  t.insert(t.find("tau ="), "loss = \"edm_eps\"\ndiscrete_steps = true\n");
  t.replace(t.find("eta = 1.0"), 9, "eta = 1e-5");
  require_all(error_of(t), {"bad.toml", "[training] loss", "\"edm_eps\"", "discrete_steps", "loss = \"edm_x\""});
}
