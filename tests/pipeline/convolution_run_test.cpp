// `simulate` for kind = "conv_full" (pipeline/convolution_run): the run directory's conv outputs against
// independent computations — s_k against the dense DFT transform of the data covariance, the generated kernel
// (7.6) against the dense generated covariance F diag(λ̃) F^*, image shapes from .npy files — and the errors for
// conv_patch and non-centred data.
#include <catch2/catch.hpp>

#include <complex>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/npy.hpp"
#include "config/run_config.hpp"
#include "models/circulant_convolution.hpp"
#include "models/data_sources.hpp"
#include "models/fourier_spectrum.hpp"
#include "models/splitmix64.hpp"
#include "pipeline/convolution_run.hpp"
#include "pipeline/simulate.hpp"
#include "support/temp_dir.hpp"
#include "support/tolerances.hpp"
#include "validation/validate.hpp"

using namespace specbias;
namespace fs = std::filesystem;

namespace {

// Rows of a CSV file (header dropped) as numbers.
std::vector<std::vector<double>> read_csv(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

Eigen::VectorXd dense_mode_variances(const Eigen::MatrixXd& S, const models::ImageShape& shape) {
  const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
  return (F.adjoint() * S.cast<std::complex<double>>() * F).diagonal().real();
}

const char* kOneD = R"([data]
generator = "stationary"
dim = 12
rho = 0.6
[model]
kind = "conv_full"
Q = 0.2
[training]
eta = 0.05
tau = [0.0, 0.1, 1.0, 10.0]
[solver]
outer = "exponential"
[output]
figures = false
)";

}  // namespace

TEST_CASE("conv run: 1-D run directory has s_k, Fourier-indexed variances and the generated kernel 7.6", "[fast][pipeline][conv]") {
  test::TempDir tmp;
  const auto c = config::parse_config(kOneD, "conv1d.toml");
  const auto r = pipeline::simulate_to_directory(c, tmp.path(), true);
  REQUIRE(r.summary["validation_pass"].get<bool>());
  const models::ImageShape shape{1, 12};
  const Eigen::VectorXd s_dense = dense_mode_variances(models::stationary_covariance(12, 0.6), shape);
  const auto fourier = read_csv(tmp / "fourier.csv");
  REQUIRE(fourier.size() == 12);
  for (int k = 0; k < 12; ++k) {
    CHECK(fourier[k][0] == k);
    CHECK(std::abs(fourier[k][3] - s_dense[k]) < test::kRoundoff);  // s_k column (7.3)
    CHECK(fourier[k][4] == 0.2);                                   // Re γ_k(0) of the delta start
  }
  // variance.csv: mode = Fourier index, lambda = s_k, closed form (7.7) at rate Nη.
  const auto var = read_csv(tmp / "variance.csv");
  REQUIRE(var.size() == 4 * 12);
  for (const auto& row : var) {
    const int k = static_cast<int>(row[1]);
    CHECK(std::abs(row[2] - s_dense[k]) < test::kRoundoff);
    CHECK(row[3] == Approx(models::one_layer_generated_variance(s_dense[k], 0.2, 12 * 0.05, row[0], {0.002, 80.0}))
                        .epsilon(1e-12));
  }
  // kernel.csv at the last τ: the first row of the dense generated covariance F diag(λ̃) F^*.
  const auto kernel = read_csv(tmp / "kernel.csv");
  REQUIRE(kernel.size() == 4 * 12);
  Eigen::VectorXd last(12);
  for (int k = 0; k < 12; ++k) last[k] = var[3 * 12 + k][3];
  const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
  const Eigen::MatrixXd cov = (F * last.cast<std::complex<double>>().asDiagonal() * F.adjoint()).real();
  for (int l = 0; l < 12; ++l) CHECK(std::abs(kernel[3 * 12 + l][4] - cov(0, l)) < 1e-12);
  const auto summary = r.summary["convolution"];
  CHECK(summary["N"] == 12);
  CHECK(summary["eta_per_fourier_mode"].get<double>() == Approx(0.6));
  CHECK(summary["total_variance"].get<double>() == Approx(12.0).epsilon(1e-13));  // Σ s_k = tr Σ
  // The run directory keeps the conv config, which reloads.
  CHECK(config::load_config((tmp / "resolved_config.toml").string()).model.kind == "conv_full");
}

TEST_CASE("conv run: a 2-D npy file gives the image shape and s_k from the samples", "[fast][pipeline][conv]") {
  test::TempDir tmp;
  models::SplitMix64 rng(5);
  const int n = 30, H = 3, W = 4;
  Eigen::MatrixXd X = rng.normal_matrix(n, H * W);
  X.col(2) *= 3.0;  // not stationary
  // write_npy takes C-order data: samples as rows.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xr = X;
  write_npy(tmp / "images.npy", Xr.data(), {std::size_t(n), std::size_t(H), std::size_t(W)});
  const std::string text = "[data]\nfile = \"" + (tmp / "images.npy").string() +
                           "\"\n[model]\nkind = \"conv_full\"\nQ = 0.1\n[training]\neta = 0.01\ntau = [0.0, 1.0]\n"
                           "[run]\nmethod = \"closed_form\"\n[output]\nfigures = false\n";
  const auto c = config::parse_config(text, "npy.toml");
  CHECK(c.model.dims == 0);  // decided by the file
  const auto setup = pipeline::build_convolution(c);
  CHECK(setup.shape.height == H);
  CHECK(setup.shape.width == W);
  Eigen::MatrixXd Xc = X.rowwise() - X.colwise().mean();
  const Eigen::MatrixXd S = Xc.transpose() * Xc / (n - 1.0);  // unbiased, as the dense kinds use
  CHECK((setup.s - dense_mode_variances(S, setup.shape)).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(!setup.stationarity_defect);
  // dims = 1 on the same file: one ring of 12 pixels.
  const auto ring = pipeline::build_convolution(config::parse_config(text + "", "npy.toml", {"model.dims=1"}));
  CHECK(ring.shape.height == 1);
  CHECK(ring.shape.width == 12);
  const auto r = pipeline::simulate_to_directory(c, tmp / "run", true);
  CHECK(r.summary["convolution"]["shape"] == nlohmann::json::array({3, 4}));
}

TEST_CASE("conv run: conv_patch and non-centred data are clear ConfigErrors", "[fast][pipeline][conv]") {
  const std::string patch = std::string(kOneD).replace(std::string(kOneD).find("Q = 0.2"), 7, "kernel = 3");
  const auto cp = config::parse_config(std::string(patch).replace(patch.find("conv_full"), 9, "conv_patch"), "p.toml");
  CHECK_THROWS_WITH(pipeline::build_convolution(cp), Catch::Contains("not implemented on this branch"));
  const auto cm = config::parse_config(std::string(kOneD) + "", "m.toml", {"data.mean=[1,0,0,0,0,0,0,0,0,0,0,0]"});
  CHECK_THROWS_WITH(pipeline::build_convolution(cm), Catch::Contains("[data] mean") && Catch::Contains("zero-mean"));
}

TEST_CASE("conv run: validate gives Fourier-mode rows and the pixel-space rows 7.4 and 7.7, all passing", "[fast][pipeline][conv]") {
  auto text = std::string(kOneD);
  text.replace(text.find("dim = 12"), 8, "dim = 6");
  for (const char* layers : {"Q = 0.2", "layers = 2\na = 0.4\nb = 0.5"}) {
    std::string t = text;
    t.replace(t.find("Q = 0.2"), 7, layers);
    t.replace(t.find("\"exponential\""), 13, "\"auto\"");  // two layers: a nonlinear per-mode flow
    const auto c = config::parse_config(t, "conv_validate.toml", {"training.tau=[0.0,0.5]", "solver.panels=6"});
    const auto rep = validation::run_validation(c);
    INFO(validation::format_table(rep));
    CHECK(rep.all_pass);
    int pixel = 0, fourier = 0;
    for (const auto& r : rep.rows) {
      pixel += r.check.rfind("pixel-space", 0) == 0 || r.check.rfind("generated variance, PF transport of circ", 0) == 0;
      fourier += r.check.rfind("Fourier modes:", 0) == 0;
    }
    CHECK(pixel == 2);
    CHECK(fourier >= 3);
  }
}
