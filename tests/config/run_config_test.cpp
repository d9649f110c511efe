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

TEST_CASE("config: every model kind loads its keys and the resolved config round-trips", "[fast][config]") {
  const std::vector<std::pair<std::string, std::string>> models{
      {"kind = \"two_layer_symmetric\"\nQ = 0.5\nhidden = 5", "two_layer_symmetric"},
      {"kind = \"two_layer\"\na = [0.3, 0.5, -0.2]\nb = 0.4\nhidden = 3", "two_layer"},
      {"kind = \"deep_linear\"\ndepth = 4\ntied = true\nQ = 0.2", "deep_linear"},
      {"kind = \"deep_linear\"\ndepth = 3\nQ = -0.2\nhidden = 6\nW0_offset = \"nonaligned\"", "deep_linear"},
      {"kind = \"deep_linear\"\ndepth = \"infinite\"\nQ = 0.3", "deep_linear"},
      {"kind = \"deep_residual\"\ndepth = 5\nv = -0.1", "deep_residual"}};
  for (const auto& [block, kind] : models) {
    INFO(block);
    const auto c = parse_config(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", block), "kinds.toml");
    REQUIRE(c.model.kind == kind);
    std::ostringstream os;
    os << c.to_toml();
    const auto again = parse_config(os.str(), "resolved.toml");
    REQUIRE(again.model.kind == kind);
    REQUIRE(again.model.depth == c.model.depth);
    REQUIRE(again.model.infinite_depth == c.model.infinite_depth);
    REQUIRE(again.model.tied == c.model.tied);
    REQUIRE(again.model.hidden == c.model.hidden);
    REQUIRE(again.model.Q == c.model.Q);
    REQUIRE(again.model.a == c.model.a);
    REQUIRE(again.model.b == c.model.b);
    REQUIRE(again.model.v == c.model.v);
    // The problem builder turns every one into a valid DenoiserProblem with w(0) per mode.
    const auto p = specbias::pipeline::build_problem(c, specbias::pipeline::build_data(c));
    REQUIRE(p.Q.size() == 3);
  }
  const auto c = parse_config(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = \"infinite\"\nQ = 0.3"), "inf.toml");
  REQUIRE(c.model.infinite_depth);
}

TEST_CASE("config: depth below 1 and bad depth strings are rejected with the allowed values", "[fast][config]") {
  const auto deep = [](const std::string& depth) {
    return replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = " + depth + "\nQ = 0.1");
  };
  require_error(deep("0"), {"bad.toml:5:", "[model] depth", "value 0", "[1, 100000]"});
  require_error(deep("-3"), {"[model] depth", "value -3"});
  require_error(deep("2.5"), {"[model] depth", "expected an integer"});
  require_error(deep("\"infinit\""), {"[model] depth", "\"infinite\"", "did you mean \"infinite\""});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_residual\"\nv = 0.1"),
                {"[model] depth", "missing required integer"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer_symmetric\"\ndepth = 3"),
                {"[model] depth", "has depth 2", "deep_linear"});
}

TEST_CASE("config: a hidden width below d is rejected for the two-layer and deep models", "[fast][config]") {
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer_symmetric\"\nhidden = 2"),
                {"bad.toml:5:", "[model] hidden", "hidden width 2 is smaller than the data dimension d = 3", "hidden >= d"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = 3\nhidden = 1"),
                {"[model] hidden", "smaller than the data dimension"});
  // Square-layer models have no hidden width to set.
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_residual\"\ndepth = 2\nhidden = 4"),
                {"[model] hidden", "is not used by kind = \"deep_residual\"", "square"});
  // With a data file the dimension is known only when the data is built: the builder reports it then.
  specbias::test::TempDir tmp;
  specbias::write_npy(tmp / "x.npy", Eigen::MatrixXd(Eigen::MatrixXd::Random(20, 4)));
  auto text = replace(kMinimal, "eigenvalues = [1.0, 0.01, 10.0]", "file = \"" + (tmp / "x.npy").string() + "\"");
  text = replace(text, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer\"\na = 0.3\nb = 0.3\nhidden = 3");
  const auto c = parse_config(text, "file.toml");
  REQUIRE_THROWS_WITH(specbias::pipeline::build_problem(c, specbias::pipeline::build_data(c)),
                      Catch::Contains("file.toml") && Catch::Contains("[model] hidden") && Catch::Contains("d = 4"));
}

TEST_CASE("config: keys of another model kind are rejected by name", "[fast][config]") {
  require_error(replace(kMinimal, "Q = 0.1", "Q = 0.1\ndepth = 3"), {"[model] depth", "kind = \"one_layer\" has depth 1"});
  require_error(replace(kMinimal, "Q = 0.1", "Q = 0.1\nhidden = 4"), {"[model] hidden", "is not used by kind = \"one_layer\""});
  require_error(replace(kMinimal, "Q = 0.1", "Q = 0.1\na = 0.2"), {"[model] a", "is not used by kind = \"one_layer\""});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer\"\nQ = 0.1\na = 1\nb = 1"),
                {"[model] Q", "is not used by kind = \"two_layer\"", "give the layer values a and b"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer\"\na = 0.5"),
                {"[model] b", "missing required number"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer_symmetric\"\nb0 = \"zero\""),
                {"[model] b0", "only the one-layer model has a bias"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer_symmetric\"\ntied = true"),
                {"[model] tied", "deep_linear option"});
  require_error(replace(kMinimal, "kind = \"one_layer\"", "kind = \"two_layers\""), {"[model] kind", "did you mean \"two_layer\""});
}

TEST_CASE("config: negative starts are rejected where W is PSD or the depth is even", "[fast][config]") {
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"two_layer_symmetric\"\nQ = [0.1, -0.2, 0.3]"),
                {"[model] Q", "element 1", "positive semi-definite", "[0, 10]"});
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = 4\nQ = -0.1"),
                {"[model] Q", "even depth"});
  // Odd depth keeps the sign of a: allowed.
  REQUIRE(parse_config(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = 3\nQ = -0.1"), "ok.toml").model.Q[0] == -0.1);
  require_error(replace(kMinimal, "kind = \"one_layer\"\nQ = 0.1", "kind = \"deep_linear\"\ndepth = \"infinite\"\nQ = 0.1\nW0_offset = \"nonaligned\""),
                {"[model] W0_offset", "no full-matrix form"});
}
