// `[training] loss` and the flow-matching keys of `[sampling]`/`[analysis]` (THEORY §2.2, §9): defaults, the
// resolved round trip, and bad input (unknown loss, t outside [0, 1], loss incompatible with the model) with
// messages that name the key, the line, the bad value and the allowed values.
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "common/npy.hpp"
#include "config/run_config.hpp"
#include "pipeline/loss_simulate.hpp"
#include "support/temp_dir.hpp"

using specbias::ConfigError;
using specbias::config::parse_config;

namespace {
const std::string kBase = R"([data]
eigenvalues = [1.0, 0.01, 10.0]
[model]
kind = "one_layer"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 0.1, 10.0]
)";

void require_error(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse_config(text, "loss.toml");
    FAIL("no ConfigError for:\n" << text);
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const auto& f : fragments) REQUIRE_THAT(msg, Catch::Contains(f));
  }
}
}  // namespace

TEST_CASE("loss config: default edm_x resolves exactly as before and variants round-trip", "[fast][losses]") {
  const auto c = parse_config(kBase, "loss.toml");
  REQUIRE(c.training.loss == "edm_x");
  std::ostringstream os;
  os << c.to_toml();
  REQUIRE(os.str().find("loss") == std::string::npos);  // no new key in the resolved edm_x config
  for (const char* loss : {"edm_eps", "vp_x", "vp_eps", "vp_v", "flow_matching"}) {
    const auto v = parse_config(kBase + "loss = \"" + loss + "\"\n", "loss.toml");
    REQUIRE(v.training.loss == loss);
    std::ostringstream resolved;
    resolved << v.to_toml();
    const auto again = parse_config(resolved.str(), "resolved.toml");
    REQUIRE(again.training.loss == loss);
    REQUIRE(specbias::pipeline::loss_spec(again).kind == specbias::models::loss_family::parse_loss_kind(loss));
  }
  const auto fm = parse_config(kBase + "loss = \"flow_matching\"\n[sampling]\nt_min = 0.1\nt_max = 0.9\n"
                                       "[analysis]\nweight_t = [0.1, 0.99]\n", "loss.toml");
  REQUIRE(fm.sampling.t_min == 0.1);
  REQUIRE(fm.sampling.t_max == 0.9);
  REQUIRE(fm.analysis.weight_t == std::vector<double>{0.1, 0.99});
  std::ostringstream resolved;
  resolved << fm.to_toml();
  const auto again = parse_config(resolved.str(), "resolved.toml");
  REQUIRE(again.sampling.t_max == 0.9);
  REQUIRE(again.analysis.weight_t == fm.analysis.weight_t);
}

TEST_CASE("loss config: unknown loss names the key line value and the allowed names", "[fast][losses]") {
  require_error(kBase + "loss = \"ddpm\"\n", {"loss.toml:9", "[training] loss", "ddpm", "flow_matching", "vp_v"});
}

TEST_CASE("loss config: flow-matching t outside the unit interval or reversed is rejected", "[fast][losses]") {
  const std::string fm = kBase + "loss = \"flow_matching\"\n[sampling]\n";
  require_error(fm + "t_max = 1.5\n", {"[sampling] t_max", "1.5", "[0, 1]"});
  require_error(fm + "t_min = -0.1\n", {"[sampling] t_min", "-0.1", "[0, 1]"});
  require_error(fm + "t_min = 0.8\nt_max = 0.3\n", {"[sampling] t_min", "smaller than t_max"});
  require_error(fm + "[analysis]\nweight_t = [0.5, 2.0]\n", {"[analysis] weight_t", "[0, 1]"});
  // t keys belong to flow matching only.
  require_error(kBase + "loss = \"vp_eps\"\n[sampling]\nt_min = 0.1\n", {"[sampling] t_min", "flow_matching", "vp_eps"});
  require_error(kBase + "[sampling]\nt_max = 0.5\n", {"[sampling] t_max", "flow_matching"});
}

TEST_CASE("loss config: a loss variant with another model kind or a biased start is rejected", "[fast][losses]") {
  const std::string two = R"([data]
eigenvalues = [1.0, 0.01, 10.0]
[model]
kind = "two_layer_symmetric"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 0.1, 10.0]
loss = "vp_x"
)";
  require_error(two, {"[training] loss", "two_layer_symmetric", "one_layer"});
  // Flow matching has the symmetric two-layer form (9.7); the general two-layer and deep kinds have none.
  std::string fm_two = two;
  fm_two.replace(fm_two.find("vp_x"), 4, "flow_matching");
  REQUIRE(parse_config(fm_two, "loss.toml").model.kind == "two_layer_symmetric");
  std::string fm_deep = fm_two;
  fm_deep.replace(fm_deep.find("two_layer_symmetric"), 19, "deep_linear");
  fm_deep.replace(fm_deep.find("Q = 0.1"), 7, "Q = 0.1\ndepth = 3");
  require_error(fm_deep, {"[training] loss", "deep_linear", "two_layer_symmetric"});
  const std::string biased = R"([data]
eigenvalues = [1.0, 0.01, 10.0]
[model]
kind = "one_layer"
Q = 0.1
b0 = "nonaligned"
[training]
eta = 1.0
tau = [0.0, 0.1, 10.0]
loss = "vp_x"
)";
  require_error(biased, {"[model] b0", "vp_x", "zero"});
  const std::string mean = R"([data]
eigenvalues = [1.0, 0.01, 10.0]
mean = [0.1, 0.0, 0.0]
[model]
kind = "one_layer"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 0.1, 10.0]
loss = "edm_eps"
)";
  require_error(mean, {"[data] mean", "edm_eps", "zero-mean"});
}

TEST_CASE("loss config: file data must be centred for a loss variant", "[fast][losses]") {
  specbias::test::TempDir tmp;
  specbias::write_npy(tmp / "x.npy", Eigen::MatrixXd(Eigen::MatrixXd::Random(20, 3).array() + 1.0));
  const std::string text = "[data]\nfile = \"" + (tmp / "x.npy").string() + "\"\ncenter = false\n" + R"([model]
kind = "one_layer"
[training]
tau = [0.0, 1.0]
loss = "flow_matching"
)";
  require_error(text, {"[data] center", "flow_matching", "center = true"});
  // Centred, the same file runs with the variant.
  std::string centred = text;
  centred.replace(centred.find("center = false"), 14, "center = true");
  REQUIRE(parse_config(centred, "loss.toml").training.loss == "flow_matching");
}
