// Config loading: defaults, overrides, the resolved round trip, and every bad-input case with a message that
// names file, key, line, value and allowed range (issue: bad input gets a clear error).
#include <catch2/catch.hpp>

#include <fstream>

#include "common/errors.hpp"
#include "common/npy.hpp"
#include "config/run_config.hpp"
#include "pipeline/problem_builder.hpp"
#include "support/temp_dir.hpp"

using specbias::ConfigError;
using specbias::config::parse_config;

namespace {
const std::string kMinimal = R"([data]
eigenvalues = [1.0, 0.01, 10.0]
[model]
kind = "one_layer"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 0.001, 0.1, 1.0, 10.0]
[sampling]
sigma_min = 0.002
sigma_max = 80.0
[run]
method = "both"
[analysis]
criterion = "geometric"
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

void require_error(const std::string& text, const std::vector<std::string>& fragments) {
  try {
    parse_config(text, "bad.toml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    INFO(msg);
    for (const auto& f : fragments) REQUIRE_THAT(msg, Catch::Contains(f));
  }
}
}  // namespace

TEST_CASE("config: the issue's minimum contract parses with defaults", "[fast][config]") {
  const auto c = parse_config(kMinimal, "min.toml");
  REQUIRE(c.data.eigenvalues == std::vector<double>{1.0, 0.01, 10.0});
  REQUIRE(c.model.Q == std::vector<double>{0.1});
  REQUIRE(c.training.tau.size() == 5);
  REQUIRE(c.sampling.sigma_max == 80.0);
  REQUIRE(c.solver.panels == 24);
  REQUIRE(c.analysis.criterion == "geometric");
}

TEST_CASE("config: --set overrides and the resolved config round-trips", "[fast][config]") {
  const auto c = parse_config(kMinimal, "min.toml", {"training.eta=0.5", "run.method=numeric", "model.Q=[0.1,0.2,0.3]"});
  REQUIRE(c.training.eta == 0.5);
  REQUIRE(c.run.method == "numeric");
  REQUIRE(c.model.Q.size() == 3);
  std::ostringstream os;
  os << c.to_toml();
  const auto again = parse_config(os.str(), "resolved.toml");
  REQUIRE(again.training.tau == c.training.tau);
  REQUIRE(again.model.Q == c.model.Q);
  REQUIRE(again.training.eta == 0.5);
}

TEST_CASE("config: log-spaced tau range includes zero and the end points", "[fast][config]") {
  auto text = replace(kMinimal, "tau = [0.0, 0.001, 0.1, 1.0, 10.0]", "tau_min = 1e-3\ntau_max = 1e3\ntau_points = 7");
  const auto c = parse_config(text, "range.toml");
  REQUIRE(c.training.tau.size() == 8);
  REQUIRE(c.training.tau[0] == 0.0);
  REQUIRE(c.training.tau[1] == Approx(1e-3));
  REQUIRE(c.training.tau[4] == Approx(1.0));
  REQUIRE(c.training.tau[7] == Approx(1e3));
}

TEST_CASE("config: unknown key gets a did-you-mean with file and line", "[fast][config]") {
  require_error(replace(kMinimal, "eta = 1.0", "etta = 1.0"), {"bad.toml:7:", "unknown key 'training.etta'", "did you mean 'training.eta'"});
  require_error(kMinimal + "[sampler]\nsigma_max = 3\n", {"unknown key 'sampler'", "did you mean 'sampling'"});
}

TEST_CASE("config: wrong type names the key, line and value", "[fast][config]") {
  require_error(replace(kMinimal, "eta = 1.0", "eta = \"fast\""), {"bad.toml:7:", "[training] eta", "expected a number", "\"fast\""});
}

TEST_CASE("config: NaN or negative eigenvalues are rejected with the allowed range", "[fast][config]") {
  require_error(replace(kMinimal, "[1.0, 0.01, 10.0]", "[1.0, nan, 10.0]"), {"bad.toml:2:", "eigenvalues", "element 1", "[0, inf)"});
  require_error(replace(kMinimal, "[1.0, 0.01, 10.0]", "[1.0, -0.5, 10.0]"), {"element 1 = -0.5", "[0, inf)"});
}

TEST_CASE("config: sigma_min >= sigma_max is rejected", "[fast][config]") {
  require_error(replace(kMinimal, "sigma_min = 0.002", "sigma_min = 100.0"), {"bad.toml:10:", "sigma_min", "must be smaller than sigma_max"});
}

TEST_CASE("config: eta <= 0 is rejected with the allowed range", "[fast][config]") {
  require_error(replace(kMinimal, "eta = 1.0", "eta = 0.0"), {"bad.toml:7:", "[training] eta", "value 0", "(0, inf)"});
  require_error(replace(kMinimal, "eta = 1.0", "eta = -2"), {"value -2", "(0, inf)"});
}

TEST_CASE("config: empty or unordered tau list is rejected", "[fast][config]") {
  require_error(replace(kMinimal, "tau = [0.0, 0.001, 0.1, 1.0, 10.0]", "tau = []"), {"bad.toml:8:", "tau", "the list is empty"});
  require_error(replace(kMinimal, "tau = [0.0, 0.001, 0.1, 1.0, 10.0]", "tau = [0.0, 1.0, 0.5]"), {"strictly increasing"});
}

TEST_CASE("config: bad enum values list the allowed ones", "[fast][config]") {
  require_error(replace(kMinimal, "criterion = \"geometric\"", "criterion = \"geometrik\""),
                {"bad.toml:15:", "\"geometric\", \"harmonic\", \"arithmetic\"", "did you mean \"geometric\""});
  require_error(replace(kMinimal, "method = \"both\"", "method = \"all\""), {"closed_form", "numeric", "both"});
}

TEST_CASE("config: data source must be exactly one and Q/mean lengths must match", "[fast][config]") {
  require_error(replace(kMinimal, "eigenvalues = [1.0, 0.01, 10.0]", "eigenvalues = [1.0]\ngenerator = \"log_spaced\"\ndim = 3"),
                {"more than one data source"});
  require_error(replace(kMinimal, "Q = 0.1", "Q = [0.1, 0.2]"), {"[model] Q", "2 entries for 3 modes"});
  require_error(replace(kMinimal, "[model]", "mean = [1.0]\n[model]"), {"[data] mean", "1 entries but there are 3"});
}

TEST_CASE("config: TOML syntax errors carry line and column", "[fast][config]") {
  require_error(replace(kMinimal, "eta = 1.0", "eta = = 1.0"), {"bad.toml:7:", "TOML syntax error"});
}

TEST_CASE("config: a missing config file is a clear error", "[fast][config]") {
  REQUIRE_THROWS_WITH(specbias::config::load_config("/nonexistent/x.toml"), Catch::Contains("/nonexistent/x.toml"));
}

TEST_CASE("config: missing, truncated or misshaped data files are DataErrors naming the file", "[fast][config]") {
  specbias::test::TempDir tmp;
  const auto text = [&](const std::string& file) {
    return replace(kMinimal, "eigenvalues = [1.0, 0.01, 10.0]", "file = \"" + file + "\"");
  };
  // Missing.
  auto c = parse_config(text((tmp / "missing.npy").string()), "cfg.toml");
  REQUIRE_THROWS_WITH(specbias::pipeline::build_data(c), Catch::Contains("missing.npy"));
  // Truncated: a valid header promising more data than present.
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(10, 3);
  specbias::write_npy(tmp / "good.npy", X);
  const std::string bytes = specbias::test::read_bytes(tmp / "good.npy");
  specbias::test::write_bytes(tmp / "trunc.npy", bytes.substr(0, bytes.size() - 40));
  c = parse_config(text((tmp / "trunc.npy").string()), "cfg.toml");
  REQUIRE_THROWS_AS(specbias::pipeline::build_data(c), specbias::DataError);
  REQUIRE_THROWS_WITH(specbias::pipeline::build_data(c), Catch::Contains("trunc.npy") && Catch::Contains("truncated"));
  // Wrong shape: a 1-D array is not a sample matrix.
  specbias::write_npy(tmp / "flat.npy", Eigen::VectorXd(Eigen::VectorXd::Ones(5)));
  c = parse_config(text((tmp / "flat.npy").string()), "cfg.toml");
  REQUIRE_THROWS_WITH(specbias::pipeline::build_data(c), Catch::Contains("flat.npy"));
  // A good file gives its empirical moments (3 modes, sorted descending).
  c = parse_config(text((tmp / "good.npy").string()), "cfg.toml");
  const auto m = specbias::pipeline::build_data(c);
  REQUIRE(m.dim() == 3);
  REQUIRE(m.eigenvalues(0) >= m.eigenvalues(1));
}
