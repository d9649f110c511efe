// `specbias conv-compare` and `simulate` with kind = "conv_patch" as a user runs them: exit codes, the run
// directory, and the ConfigError for a bad --kernels value (exit 2, naming the option, value and range).
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
struct Result {
  int status;
  std::string output;
};

Result run_cli(const std::string& args) {
  const std::string cmd = std::string(SPECBIAS_CLI) + " " + args + " 2>&1";
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(cmd.c_str(), "r"), &pclose);
  std::string out;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  const int raw = pclose(pipe.release());
  return {WEXITSTATUS(raw), out};
}

constexpr const char* kConfig = R"([data]
generator = "stationary"
dim = 32
rho = 0.7

[model]
kind = "conv_patch"
kernel = 5
Q = 0.1

[training]
eta = 1.0
tau_min = 1e-6
tau_max = 1e4
tau_points = 21

[output]
figures = false
)";
}  // namespace

TEST_CASE("cli: conv-compare writes the comparison and rejects an even kernel with exit code 2", "[fast][apps][conv_compare]") {
  specbias::test::TempDir tmp;
  const fs::path cfg = tmp / "patch.toml";
  std::ofstream(cfg) << kConfig;
  const auto ok = run_cli("conv-compare '" + cfg.string() + "' --kernels 3,5 -q --out '" + (tmp / "cmp").string() + "'");
  INFO(ok.output);
  REQUIRE(ok.status == 0);
  const auto summary = nlohmann::json::parse(std::ifstream(tmp / "cmp" / "summary.json"));
  REQUIRE(summary["models"].size() == 4);
  REQUIRE(summary["models"][2]["name"] == "conv_patch_K3");
  REQUIRE(fs::exists(tmp / "cmp" / "emergence.csv"));
  const auto bad = run_cli("conv-compare '" + cfg.string() + "' --kernels 4 -q --out '" + (tmp / "bad").string() + "'");
  INFO(bad.output);
  REQUIRE(bad.status == 2);
  REQUIRE_THAT(bad.output, Catch::Contains("configuration error") && Catch::Contains("--kernels") &&
                               Catch::Contains("K = 4") && Catch::Contains("1 <= K <= 32"));
}

TEST_CASE("cli: simulate runs a conv_patch config and passes its own validation", "[fast][apps][conv_patch]") {
  specbias::test::TempDir tmp;
  const fs::path cfg = tmp / "patch.toml";
  std::ofstream(cfg) << kConfig;
  const auto r = run_cli("simulate '" + cfg.string() + "' -q --out '" + (tmp / "run").string() + "'");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto summary = nlohmann::json::parse(std::ifstream(tmp / "run" / "summary.json"));
  REQUIRE(summary["kind"] == "conv_patch");
  REQUIRE(summary["validation_pass"].get<bool>());
  REQUIRE(summary["validation"]["numeric_vs_closed_form"]["max_rel"].get<double>() < 1e-9);
  REQUIRE(fs::exists(tmp / "run" / "variance.csv"));
  REQUIRE(fs::exists(tmp / "run" / "kernel.csv"));
}
