// The `specbias` command as a user runs it: --help, --version, every config in configs/ (smoke run with a short
// τ list), validate's exit status, bad-config exit codes and messages, and that a run failing midway keeps the
// files it had already written.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <sstream>
#include <memory>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(SPECBIAS_CLI) + " " + args + " 2>&1";
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(cmd.c_str(), "r"), &pclose);
  std::string out;
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get())) out += buf.data();
  const int raw = pclose(pipe.release());
  return {WEXITSTATUS(raw), out};
}

using specbias::test::read_bytes;
}  // namespace

TEST_CASE("cli: --help and --version", "[fast][apps]") {
  const auto help = run("--help");
  REQUIRE(help.status == 0);
  REQUIRE_THAT(help.output, Catch::Contains("simulate") && Catch::Contains("validate") && Catch::Contains("sweep"));
  const auto version = run("--version");
  REQUIRE(version.status == 0);
  REQUIRE_THAT(version.output, Catch::Contains("specbias 0.1.0"));
}

TEST_CASE("cli: every config in configs/ runs (smoke, short tau list)", "[slow][apps]") {
  specbias::test::TempDir tmp;
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(SPECBIAS_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".toml") continue;
    if (entry.path().parent_path().filename() == "train") continue;  // training configs: see the train smoke test
    const bool needs_mnist = read_bytes(entry.path()).find("shared/data/mnist") != std::string::npos;
    if (needs_mnist && !fs::exists(fs::path(SPECBIAS_SOURCE_DIR) / "../shared/data/mnist")) continue;
    ++n;
    const auto dir = tmp / entry.path().stem().string();
    // A short τ list keeps the smoke test quick; the configs' full runs are exercised by validation/ scripts.
    const auto r = run("simulate '" + entry.path().string() + "' --quiet --out '" + dir.string() +
                       "' --set 'training.tau=[0.0,0.01,1.0,100.0]' --set output.figures=false" + (needs_mnist ? std::string(" --set data.max_samples=2000") : std::string()));
    INFO(entry.path() << "\n" << r.output);
    REQUIRE(r.status == 0);
    REQUIRE(fs::exists(dir / "summary.json"));
    REQUIRE(fs::exists(dir / "resolved_config.toml"));
    const auto dry = run("simulate '" + entry.path().string() + "' --dry-run");
    REQUIRE(dry.status == 0);
    REQUIRE_THAT(dry.output, Catch::Contains("[training]"));
  }
  REQUIRE(n >= 4);
}

TEST_CASE("cli: simulate writes the run directory with the contract's columns and keys", "[fast][apps]") {
  specbias::test::TempDir tmp;
  const auto cfg = fs::path(SPECBIAS_SOURCE_DIR) / "configs/minimal.toml";
  const auto r = run("simulate '" + cfg.string() + "' --quiet --out '" + tmp.path().string() + "'");
  INFO(r.output);
  REQUIRE(r.status == 0);
  for (const char* f : {"resolved_config.toml", "environment.json", "run.log", "variance.csv", "weights.csv", "kl.csv",
                        "summary.json", "tau.npy", "variance_closed_form.npy", "variance_numeric.npy"})
    REQUIRE(fs::exists(tmp / f));
  const std::string csv = read_bytes(tmp / "variance.csv");
  REQUIRE(csv.rfind("tau,mode,lambda,variance_closed_form,variance_numeric", 0) == 0);
  REQUIRE(std::count(csv.begin(), csv.end(), '\n') == 1 + 5 * 3);  // header + one row per τ and mode
  const std::string summary = read_bytes(tmp / "summary.json");
  REQUIRE_THAT(summary, Catch::Contains("\"alpha\"") && Catch::Contains("\"r2\"") && Catch::Contains("\"n\"") &&
                            Catch::Contains("\"tau_star_closed_form\"") && Catch::Contains("\"git_sha\""));
#ifdef SPECBIAS_GNUPLOT_AVAILABLE
  REQUIRE(fs::exists(tmp / "figures/variance.png"));
#endif
}

TEST_CASE("cli: validate passes on the default config and fails on an impossible tolerance", "[slow][apps]") {
  const auto cfg = (fs::path(SPECBIAS_SOURCE_DIR) / "configs/minimal.toml").string();
  const auto ok = run("validate '" + cfg + "'");
  INFO(ok.output);
  REQUIRE(ok.status == 0);
  REQUIRE_THAT(ok.output, Catch::Contains("checks passed") && Catch::Contains("closed form (4.9)"));
  const auto bad = run("validate '" + cfg + "' --set validation.quadrature_rel=1e-30");
  REQUIRE(bad.status == 1);
  REQUIRE_THAT(bad.output, Catch::Contains("FAIL"));
}

TEST_CASE("cli: bad config exits 2 naming file, key and line", "[fast][apps]") {
  specbias::test::TempDir tmp;
  const auto cfg = tmp / "bad.toml";
  std::ofstream(cfg) << "[data]\neigenvalues = [1.0, -3.0]\n[training]\ntau = [0.0, 1.0]\n";
  const auto r = run("simulate '" + cfg.string() + "' --out '" + (tmp / "out").string() + "'");
  REQUIRE(r.status == 2);
  REQUIRE_THAT(r.output, Catch::Contains("bad.toml:2:") && Catch::Contains("eigenvalues") && Catch::Contains("-3"));
  const auto unknown = run("simulate '" + cfg.string() + "' --set training.etaa=1");
  REQUIRE(unknown.status == 2);
}

TEST_CASE("cli: a run that fails midway keeps what it had written", "[fast][apps]") {
  // The explicit outer integrator with a tiny step limit fails inside the numeric path (a NumericalError that
  // names the key to raise); the inputs already written to the run directory must survive.
  specbias::test::TempDir tmp;
  const auto cfg = (fs::path(SPECBIAS_SOURCE_DIR) / "configs/minimal.toml").string();
  const auto r = run("simulate '" + cfg + "' --quiet --out '" + tmp.path().string() +
                     "' --set solver.outer=dopri5 --set solver.outer_max_steps=10");
  INFO(r.output);
  REQUIRE(r.status == 1);
  REQUIRE_THAT(r.output, Catch::Contains("solver.outer_max_steps") && Catch::Contains("sigma"));
  REQUIRE(fs::exists(tmp / "resolved_config.toml"));
  REQUIRE(fs::exists(tmp / "environment.json"));
  REQUIRE_THAT(read_bytes(tmp / "run.log"), Catch::Contains("closed form (4.9)"));
}

TEST_CASE("cli: every training config in configs/train runs (smoke, a few steps)", "[slow][apps]") {
  specbias::test::TempDir tmp;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(SPECBIAS_SOURCE_DIR) / "configs/train")) {
    if (entry.path().extension() != ".toml") continue;
    const bool needs_mnist = read_bytes(entry.path()).find("shared/data/mnist") != std::string::npos;
    if (needs_mnist && !fs::exists(fs::path(SPECBIAS_SOURCE_DIR) / "../shared/data/mnist")) continue;
    ++n;
    const auto dir = tmp / entry.path().stem().string();
    const auto dry = run("train '" + entry.path().string() + "' --dry-run");
    INFO(entry.path() << "\n" << dry.output);
    REQUIRE(dry.status == 0);
    REQUIRE_THAT(dry.output, Catch::Contains("trainable parameters"));
    // The configs' own sizes are benchmark-scale; three steps with tiny sampling exercise every key.
    const auto r = run("train '" + entry.path().string() + "' --quiet --out '" + dir.string() +
                       "' --set training.steps=3 --set training.batch=16 --set sampling.samples=32 "
                       "--set sampling.steps=2 --set sampling.chunk=32 --set run.figures=false" +
                       (needs_mnist ? std::string(" --set data.max_samples=200") : std::string(" --set data.samples=200")));
    INFO(r.output);
    REQUIRE(r.status == 0);
    REQUIRE(fs::exists(dir / "summary.json"));
    REQUIRE(fs::exists(dir / "checkpoint" / "state.json"));
  }
  REQUIRE(n >= 3);
}

TEST_CASE("cli: train survives SIGKILL and resumes to the same result", "[slow][apps]") {
  specbias::test::TempDir tmp;
  const auto cfg = (fs::path(SPECBIAS_SOURCE_DIR) / "configs/train/tiny.toml").string();
  const std::string sets = " --quiet --set training.steps=400 --set training.checkpoint_every=20 --set sampling.every=50";
  REQUIRE(run("train '" + cfg + "' --out '" + (tmp / "full").string() + "'" + sets).status == 0);
  // Start the same run in the background and kill -9 it once a checkpoint past step 0 exists.
  const auto killed = tmp / "killed";
  {
    std::ofstream sh(tmp / "kill.sh");
    sh << "'" << SPECBIAS_CLI << "' train '" << cfg << "' --out '" << killed.string() << "'" << sets << " &\n"
       << "pid=$!\n"
       << "for i in $(seq 1 4000); do grep -q '\"step\": [1-9]' '" << (killed / "checkpoint/state.json").string()
       << "' 2>/dev/null && break; sleep 0.005; done\n"
       << "kill -9 $pid\nwait $pid\nexit 0\n";
  }
  REQUIRE(std::system(("sh '" + (tmp / "kill.sh").string() + "' > /dev/null 2>&1").c_str()) == 0);
  // A kill between the checkpoint swap's renames leaves the last complete checkpoint as checkpoint.prev, which
  // --resume reads (train/checkpoint_store.hpp); either way one must exist.
  REQUIRE((fs::exists(killed / "checkpoint" / "state.json") || fs::exists(killed / "checkpoint.prev" / "state.json")));
  REQUIRE_FALSE(fs::exists(killed / "summary.json"));  // it really died mid-run
  const auto resumed = run("train --resume '" + killed.string() + "' --quiet");
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  for (const char* f : {"loss.csv", "variance.csv", "variance.npy"}) {
    INFO(f);
    REQUIRE(read_bytes(tmp / "full" / f) == read_bytes(killed / f));
  }
}

TEST_CASE("cli: a nearly aligned non-aligned deep start on the full-matrix path matches the aligned per-mode answer", "[slow][apps]") {
  // Independent paths: the full-matrix chain flow (LinearChain) + general PF transport (4.1)-(4.2) for a start
  // perturbed by 1e-6 per layer, against the aligned per-mode quadrature (4.4) on the per-mode weights. The
  // perturbation moves λ̃ by O(1e-6); a wrong chain gradient or transport would be off by orders more.
  specbias::test::TempDir tmp;
  const auto cfg = (fs::path(SPECBIAS_SOURCE_DIR) / "configs/deep_linear.toml").string();
  const std::string common = " --quiet --set data.dim=4 --set 'training.tau=[0.01,1.0]' --set output.figures=false";
  REQUIRE(run("simulate '" + cfg + "' --out '" + (tmp / "aligned").string() + "'" + common + " --set run.method=closed_form").status == 0);
  REQUIRE(run("simulate '" + cfg + "' --out '" + (tmp / "offset").string() + "'" + common +
              " --set model.W0_offset=nonaligned --set model.W0_offset_scale=1e-6").status == 0);
  auto column = [](const fs::path& csv, const std::string& name) {
    std::istringstream in(read_bytes(csv));
    std::string line;
    std::getline(in, line);
    std::vector<std::string> header;
    {
      std::istringstream h(line);
      for (std::string f; std::getline(h, f, ',');) header.push_back(f);
    }
    const auto col = static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    REQUIRE(col < header.size());
    std::vector<double> out;
    while (std::getline(in, line)) {
      std::istringstream r(line);
      std::string f;
      for (size_t i = 0; i <= col; ++i) std::getline(r, f, ',');
      out.push_back(std::stod(f));
    }
    return out;
  };
  const auto a = column(tmp / "aligned" / "variance.csv", "variance_quadrature");
  const auto b = column(tmp / "offset" / "variance.csv", "variance_numeric");
  REQUIRE(a.size() == 8);
  REQUIRE(b.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(b[i] == Approx(a[i]).epsilon(5e-5));
}
