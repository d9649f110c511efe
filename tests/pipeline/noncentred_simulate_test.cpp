// `simulate` on non-centred data (THEORY.md §3.3): the closed-form path (3.8) + (4.1)–(4.2) runs next to the
// numeric full-matrix path, both agree, and mean.csv / weight_bias.csv are written; per-σ rates and discrete steps
// run through the quadrature (4.4) with the nested path as the check.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "config/run_config.hpp"
#include "pipeline/simulate.hpp"
#include "support/temp_dir.hpp"

using namespace specbias;

namespace {
const std::string kNoncentred = R"([data]
eigenvalues = [2.0, 0.1]
basis = "random"
mean = [0.8, -0.5]
[model]
kind = "one_layer"
Q = 0.1
[training]
eta = 1.0
tau = [0.0, 0.1, 1.0, 20.0]
[solver]
panels = 8
points_per_panel = 8
[run]
threads = 2
[analysis]
weight_sigma = [1.0]
[output]
figures = false
)";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("simulate noncentred: closed form path and numeric path agree and write mean.csv", "[fast][pipeline]") {
  test::TempDir tmp;
  const auto c = config::parse_config(kNoncentred, "noncentred.toml");
  const auto r = pipeline::simulate_to_directory(c, tmp.path(), true);
  REQUIRE(r.closed_form);
  REQUIRE(r.numeric);
  REQUIRE(r.closed_form->eigenbasis_covariance.size() == 4);
  const auto& v = r.summary["validation"];
  INFO(v.dump(2));
  REQUIRE(v["numeric_vs_closed_form"]["max_rel"].get<double>() < 1e-7);
  REQUIRE(v["numeric_mean_vs_closed_form"]["max_abs"].get<double>() < 1e-7);
  REQUIRE(v["weights_numeric_vs_closed_form"]["max_abs"].get<double>() < 1e-10);  // (3.8) vs full-matrix flow
  REQUIRE(r.summary["validation_pass"].get<bool>());
  const std::string mean = slurp(tmp / "mean.csv");
  REQUIRE(mean.rfind("tau,mode,data_mean,mean_closed_form,mean_numeric\n", 0) == 0);
  const std::string wb = slurp(tmp / "weight_bias.csv");
  REQUIRE(wb.rfind("sigma,tau,mode,lambda,data_mean,weight_closed_form,weight_numeric,bias_closed_form,bias_numeric\n", 0) == 0);
  // Late τ: the generated mean approaches the data mean's image under the optimal PF map (non-zero).
  REQUIRE(std::abs(r.closed_form->mean(3, 0)) > 0.1);
}

TEST_CASE("simulate noncentred: per-sigma rates and discrete steps use quadrature and the nested path", "[fast][pipeline]") {
  for (const std::string& extra : {std::string("[model]\nparametrisation = \"edm_preconditioned\"\n"),
                                  std::string("[training]\ndiscrete_steps = true\n")}) {
    std::string text = R"([data]
eigenvalues = [2.0, 0.1]
[model]
kind = "one_layer"
Q = 0.0
[training]
eta = 0.02
tau = [0.0, 1.0, 10.0, 100.0]
[sampling]
sigma_max = 5.0
[solver]
panels = 8
[run]
threads = 2
[output]
figures = false
)";
    // Merge the extra key into its table.
    const auto table = extra.substr(0, extra.find('\n') + 1);
    text.insert(text.find(table) + table.size(), extra.substr(table.size()));
    const auto c = config::parse_config(text, "rates.toml");
    const auto r = pipeline::simulate(c);
    INFO(text << "\n" << r.summary["validation"].dump(2));
    REQUIRE_FALSE(r.closed_form);
    REQUIRE(r.quadrature);
    REQUIRE(r.summary["validation"]["numeric_vs_quadrature"]["max_rel"].get<double>() < 1e-9);
  }
}
