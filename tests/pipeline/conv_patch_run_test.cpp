// conv_patch pipeline (THEORY §8) and the conv-compare analysis (§7, §8, §11) on small synthetic problems; no
// MNIST files needed. Each check compares against an independent computation: T from s vs T straight from Σ,
// the nested numeric path and adaptive quadrature vs (8.9), τ* vs the threshold it should hit, the dense model vs
// the full-width convolution on stationary data, K = N vs the full-width model (8.10), percentiles vs a sort.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/emergence.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "config/run_config.hpp"
#include "models/conv_patch.hpp"
#include "models/fourier_spectrum.hpp"
#include "models/splitmix64.hpp"
#include "pipeline/conv_compare.hpp"
#include "pipeline/conv_patch_run.hpp"
#include "support/temp_dir.hpp"
#include "support/tolerances.hpp"
#include "validation/validate.hpp"

using namespace specbias;

namespace {

Eigen::MatrixXd random_covariance(int n, std::uint64_t seed) {
  models::SplitMix64 rng(seed);
  Eigen::MatrixXd B = rng.normal_matrix(n, n);
  for (int m = 0; m < n; ++m) B.col(m) /= (1.0 + m);
  Eigen::MatrixXd S = B * B.transpose() / n;
  S.diagonal().array() += 0.05;
  return S;
}

config::Config patch_config(int N, int K, const std::string& extra = "") {
  return config::parse_config("[data]\ngenerator = \"log_spaced\"\ndim = " + std::to_string(N) +
                                  "\n[model]\nkind = \"conv_patch\"\nkernel = " + std::to_string(K) +
                                  "\nQ = 0.2\n[training]\neta = 0.5\ntau_min = 1e-4\ntau_max = 1e4\ntau_points = 25\n"
                                  "[solver]\npanels = 24\npoints_per_panel = 12\n" + extra,
                              "patch.toml");
}

}  // namespace

TEST_CASE("conv_patch run: T from the Fourier variances equals T from the covariance (7.6) (8.2)", "[fast][pipeline][conv_patch]") {
  for (const models::ImageShape shape : {models::ImageShape{1, 12}, models::ImageShape{5, 6}}) {
    const Eigen::MatrixXd S = random_covariance(shape.size(), 3);
    const models::PatchGeometry g = pipeline::patch_geometry(shape, 3);
    const Eigen::MatrixXd from_s = pipeline::patch_covariance_from_spectrum(models::fourier_mode_variances(S, shape), g);
    REQUIRE((from_s - models::patch_covariance(S, g)).cwiseAbs().maxCoeff() < test::kRoundoff);
  }
}

TEST_CASE("conv_patch run: numeric nested path and quadrature agree with the closed form and the emergence time hits its threshold", "[fast][pipeline][conv_patch]") {
  const models::ImageShape shape{1, 16};
  const Eigen::MatrixXd S = random_covariance(16, 9);
  const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
  config::Config c = patch_config(16, 5, "[analysis]\ntarget = \"asymptote\"\n");
  const auto r = pipeline::simulate_conv_patch(c, shape, s, "random covariance");
  REQUIRE(r.variance_closed_form.rows() == static_cast<Eigen::Index>(c.training.tau.size()));
  REQUIRE(r.variance_closed_form.cols() == 16);
  const double numeric = r.summary["validation"]["numeric_vs_closed_form"]["max_rel"].get<double>();
  const double quad = r.summary["validation"]["quadrature_vs_closed_form"]["max_rel"].get<double>();
  INFO("numeric " << numeric << " quadrature " << quad);
  REQUIRE(numeric < test::kClosedVsNestedRel);
  REQUIRE(quad < test::kClosedVsQuadratureRel);
  // Independent recomputation of one row: the quadrature (8.8) of the model built from Σ directly (not from s).
  const models::PatchGeometry g = pipeline::patch_geometry(shape, 5);
  Eigen::VectorXd w0 = Eigen::VectorXd::Zero(5);
  w0(2) = 0.2;
  const models::PatchConvolution pc(models::patch_covariance(S, g), g, w0, 0.5);
  const models::SamplingRange range;
  const auto j = static_cast<Eigen::Index>(c.training.tau.size() / 2);
  Eigen::VectorXd row(16);
  for (int k = 0; k < 16; ++k) row(k) = pc.generated_variance_quadrature(k, c.training.tau[static_cast<std::size_t>(j)], range);
  REQUIRE(((r.variance_closed_form.row(j).transpose() - row).array().abs() / row.array()).maxCoeff() <
          test::kClosedVsQuadratureRel);
  // Kernel = inverse DFT of the variance row (7.6): C(0) is the mean variance.
  REQUIRE(r.kernel_closed_form(j, 0) == Approx(row.mean()).epsilon(1e-9));
  // Every τ* sits on the threshold between v0 and the asymptote (11.1).
  int crossed = 0;
  const Eigen::VectorXd asym = pc.converged_variance(range);
  for (const auto& m : r.emergence) {
    REQUIRE(m.v_target == Approx(asym(m.mode)).epsilon(1e-12));  // T from s vs T from Σ: round-off apart
    if (!m.tau_star) continue;
    ++crossed;
    const double theta = analysis::emergence_threshold(m.v0, m.v_target, analysis::Criterion::geometric);
    REQUIRE(pc.generated_variance_mode(m.mode, *m.tau_star, range) == Approx(theta).epsilon(1e-8));
  }
  REQUIRE(crossed > 8);
}

TEST_CASE("conv_patch run: run directory has variance kernel filter and summary files", "[fast][pipeline][conv_patch]") {
  test::TempDir dir;
  const models::ImageShape shape{4, 4};
  const Eigen::VectorXd s = models::fourier_mode_variances(random_covariance(16, 5), shape);
  config::Config c = patch_config(16, 3, "[output]\nfigures = false\n");
  const auto r = pipeline::write_conv_patch_run(c, shape, s, "random", dir.path(), true);
  for (const char* f : {"variance.csv", "kernel.csv", "filter.csv", "summary.json", "resolved_config.toml",
                        "variance_closed_form.npy", "patch_covariance.npy"})
    REQUIRE(std::filesystem::exists(dir.path() / f));
  std::ifstream in(dir.path() / "variance.csv");
  std::string line;
  int rows = -1;
  while (std::getline(in, line)) ++rows;
  REQUIRE(rows == static_cast<int>(c.training.tau.size()) * 16);
  const auto summary = nlohmann::json::parse(std::ifstream(dir.path() / "summary.json"));
  REQUIRE(summary["model"]["taps"].get<int>() == 9);
  REQUIRE(summary["patch_variances"].size() == 9);
}

TEST_CASE("conv_patch run: a kernel wider than the data image or two layers are ConfigErrors naming key value and range", "[fast][pipeline][conv_patch]") {
  // The config cannot know a file's image size; the pipeline checks it against the data.
  config::Config c = patch_config(16, 5);
  c.model.kernel = 7;
  const models::ImageShape shape{4, 4};
  const Eigen::VectorXd s = Eigen::VectorXd::Ones(16);
  REQUIRE_THROWS_MATCHES(pipeline::simulate_conv_patch(c, shape, s, "ones"), ConfigError,
                         Catch::Matchers::Predicate<ConfigError>([](const ConfigError& e) {
                           const std::string m = e.what();
                           return m.find("patch.toml") != std::string::npos && m.find("model.kernel") != std::string::npos &&
                                  m.find("model.kernel = 7") != std::string::npos &&
                                  m.find("1 <= K <= 4") != std::string::npos;
                         }));
  // Only the one-layer local filter exists (§8).
  config::Config two = patch_config(16, 3);
  two.model.layers = 2;
  REQUIRE_THROWS_WITH(pipeline::simulate_conv_patch(two, shape, s, "ones"),
                      Catch::Contains("patch.toml") && Catch::Contains("layers = 2") && Catch::Contains("allowed: layers = 1"));
}

TEST_CASE("conv_patch: the stationary-only patch covariance rejects non-stationary data with the defect and the fix", "[fast][models][conv_patch]") {
  const models::PatchGeometry g{1, 10, 3};
  const Eigen::MatrixXd S = random_covariance(10, 4);
  REQUIRE_THROWS_MATCHES(models::patch_covariance_stationary(S, g), DataError,
                         Catch::Matchers::Predicate<DataError>([](const DataError& e) {
                           const std::string m = e.what();
                           return m.find("not stationary") != std::string::npos &&
                                  m.find("(defect ") != std::string::npos &&
                                  m.find("use patch_covariance (any Sigma)") != std::string::npos;
                         }));
  // On stationary data the single-patch block is the shift average (8.2).
  const Eigen::MatrixXd Ss = models::circulant_from_first_row(
      models::shift_averaged_autocovariance(S, models::ImageShape{1, 10}), models::ImageShape{1, 10});
  REQUIRE((models::patch_covariance_stationary(Ss, g) - models::patch_covariance(S, g)).cwiseAbs().maxCoeff() <
          test::kRoundoff);
}

TEST_CASE("conv compare: percentiles match a direct interpolation of the sorted values", "[fast][pipeline][conv_compare]") {
  std::vector<double> v;
  for (int i = 0; i < 41; ++i) v.push_back(std::exp(0.37 * ((i * 17) % 41)));
  v.push_back(NAN);
  const auto s = pipeline::emergence_spread(v);
  std::vector<double> sorted(v.begin(), v.end() - 1);
  std::sort(sorted.begin(), sorted.end());
  // (n − 1)p = 4 and 36 exactly: the 10th and 90th percentiles are order statistics 4 and 36.
  REQUIRE(s.n == 41);
  REQUIRE(s.p10 == Approx(sorted[4]).epsilon(1e-15));
  REQUIRE(s.p90 == Approx(sorted[36]).epsilon(1e-15));
  REQUIRE(s.ratio == Approx(sorted[36] / sorted[4]).epsilon(1e-14));
  REQUIRE(s.p25 == Approx(sorted[10]).epsilon(1e-15));
  REQUIRE(s.p75 == Approx(sorted[30]).epsilon(1e-15));
  // Sorted values are e^{0.37 i}: a factor-2 window (ln 2 / 0.37 = 1.87 steps) holds two consecutive values.
  REQUIRE(s.densest_factor2 == Approx(2.0 / 41.0).epsilon(1e-15));
  // Ten equal values and one far away: the densest window holds the ten.
  const auto t = pipeline::emergence_spread({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100});
  REQUIRE(t.densest_factor2 == Approx(10.0 / 11.0).epsilon(1e-15));
}

TEST_CASE("conv compare: on stationary data the dense and full-width clocks agree and K = N equals full width (8.10)", "[fast][pipeline][conv_compare]") {
  const models::ImageShape shape{1, 9};
  // Stationary Σ: the shift average of a random covariance, so the PCs are Fourier modes with λ = s_k (7.8).
  const Eigen::MatrixXd S = models::circulant_from_first_row(
      models::shift_averaged_autocovariance(random_covariance(9, 8), shape), shape);
  config::Config c = patch_config(9, 3, "[analysis]\ntarget = \"asymptote\"\n");
  const auto r = pipeline::compare_convolutions(c, S, shape, {3, 9}, "stationary");
  REQUIRE(r.models.size() == 4);
  const auto& dense = r.models[0];
  const auto& full = r.models[1];
  const auto& k9 = r.models[3];
  REQUIRE(full.name == "conv_full");
  REQUIRE(k9.name == "conv_patch_K9");
  // Clocks sorted by variance: dense (PCs) and full width (Fourier modes) are the same set (7.5).
  auto clocks = [](const pipeline::ComparedModel& m) {
    std::vector<std::pair<double, double>> out;
    for (const auto& e : m.modes)
      if (e.tau_star) out.emplace_back(e.lambda, m.clock_per_tau * *e.tau_star);
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto cd = clocks(dense), cf = clocks(full), c9 = clocks(k9);
  REQUIRE(cd.size() == 9);
  REQUIRE(cf.size() == 9);
  REQUIRE(c9.size() == 9);
  for (size_t i = 0; i < 9; ++i) {
    REQUIRE(cd[i].first == Approx(cf[i].first).epsilon(1e-10));
    REQUIRE(cd[i].second == Approx(cf[i].second).epsilon(1e-9));
    REQUIRE(c9[i].second == Approx(cf[i].second).epsilon(1e-9));
  }
  REQUIRE(k9.spread.ratio == Approx(full.spread.ratio).epsilon(1e-9));
  REQUIRE(r.summary["models"].size() == 4);
}

TEST_CASE("conv compare: a synthetic image stack runs end to end from an npy file", "[fast][pipeline][conv_compare]") {
  test::TempDir dir;
  // 200 smooth random 8×8 images (a 3×3 box blur of white noise plus a little noise).
  models::SplitMix64 rng(21);
  Eigen::MatrixXd X(200, 64);
  for (int n = 0; n < 200; ++n) {
    const Eigen::VectorXd z = rng.normals(64);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        double acc = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) acc += z(((y + dy + 8) % 8) * 8 + (x + dx + 8) % 8);
        X(n, y * 8 + x) = acc / 9.0 + 0.05 * z(y * 8 + x);
      }
  }
  write_npy(dir.path() / "stack.npy", X);
  const std::string text = "[data]\nfile = \"" + (dir.path() / "stack.npy").string() +
                           "\"\nshape = [8, 8]\n[model]\nkind = \"conv_patch\"\nkernel = 3\nQ = 0.1\n[training]\n"
                           "eta = 1.0\ntau_min = 1e-4\ntau_max = 1e6\ntau_points = 11\n[output]\nfigures = false\n";
  const auto c = config::parse_config(text, "stack.toml");
  const auto r = pipeline::conv_compare_to_directory(c, {3, 5}, dir.path() / "run", true);
  REQUIRE(r.models.size() == 4);
  for (const auto& m : r.models) {
    INFO(m.name);
    REQUIRE(m.spread.n > 30);
    REQUIRE(m.spread.p10 > 0);
    REQUIRE(m.spread.ratio == Approx(m.spread.p90 / m.spread.p10));
    REQUIRE(m.spread.ratio > 1.0);
    REQUIRE(m.fits.rising);
  }
  // The percentiles themselves on values whose quantiles are known: 1..10, linear interpolation between order
  // statistics (index p·(n − 1)): p10 = 1.9, p90 = 9.1, p25 = 3.25, p75 = 7.75; densest [c, 2c]: [5, 10] (6 of 10).
  const auto known = pipeline::emergence_spread({7, 3, 10, 1, 5, 2, 9, 4, 8, 6});
  REQUIRE(known.n == 10);
  REQUIRE(known.p10 == Approx(1.9).epsilon(1e-14));
  REQUIRE(known.p90 == Approx(9.1).epsilon(1e-14));
  REQUIRE(known.ratio == Approx(9.1 / 1.9).epsilon(1e-14));
  REQUIRE(known.iqr_ratio == Approx(7.75 / 3.25).epsilon(1e-14));
  REQUIRE(known.densest_factor2 == Approx(0.6).epsilon(1e-14));
  REQUIRE(std::filesystem::exists(dir.path() / "run" / "emergence.csv"));
  REQUIRE(std::filesystem::exists(dir.path() / "run" / "summary.json"));
}

TEST_CASE("conv compare: an even or oversized kernel is a ConfigError naming the option value and range", "[fast][pipeline][conv_compare]") {
  const models::ImageShape shape{1, 9};
  const Eigen::MatrixXd S = random_covariance(9, 2);
  const config::Config c = patch_config(9, 3);
  for (int K : {4, 11}) {
    INFO("K = " << K);
    REQUIRE_THROWS_MATCHES(pipeline::compare_convolutions(c, S, shape, {3, K}, "random"), ConfigError,
                           Catch::Matchers::Predicate<ConfigError>([K](const ConfigError& e) {
                             const std::string m = e.what();
                             return m.find("--kernels") != std::string::npos &&
                                    m.find("K = " + std::to_string(K)) != std::string::npos &&
                                    m.find("1 <= K <= 9") != std::string::npos && m.find("patch.toml") != std::string::npos;
                           }));
  }
}

TEST_CASE("conv_patch validate: every row passes on a small non-stationary problem", "[fast][pipeline][conv_patch]") {
  // lognormal_rotation: a random non-stationary covariance, so T (8.2) is a true shift average.
  const auto c = config::parse_config(
      "[data]\ngenerator = \"lognormal_rotation\"\ndim = 12\nseed = 3\n[model]\nkind = \"conv_patch\"\nkernel = 5\n"
      "Q = 0.3\n[training]\neta = 0.2\ntau = [0.0, 0.001, 0.01, 0.1, 1.0]\n",
      "validate.toml");
  const auto rep = validation::run_validation(c);
  std::string table = validation::format_table(rep);
  INFO(table);
  REQUIRE(rep.rows.size() >= 6);
  REQUIRE(rep.all_pass);
}
