// Fourier spectra (THEORY (7.3), (8.2), (7.2), (7.6)) computed with FFTW against the dense unitary DFT matrix
// (the slow, obviously correct twin), in 1-D and 2-D, stationary and non-stationary covariances.
#include <catch2/catch.hpp>

#include <cmath>
#include <algorithm>
#include <complex>

#include "common/errors.hpp"
#include "models/data_sources.hpp"
#include "models/fourier_spectrum.hpp"
#include "models/splitmix64.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using models::ImageShape;

namespace {

// A generic (non-stationary) SPD covariance from the seeded generator: Σ = B Bᵀ/N + 0.1 I.
Eigen::MatrixXd random_covariance(int N, std::uint64_t seed) {
  models::SplitMix64 rng(seed);
  const Eigen::MatrixXd B = rng.normal_matrix(N, N);
  return B * B.transpose() / N + 0.1 * Eigen::MatrixXd::Identity(N, N);
}

// diag(F^* Σ F) with the dense DFT matrix: (7.3) evaluated literally.
Eigen::VectorXd dense_mode_variances(const Eigen::MatrixXd& S, const ImageShape& shape) {
  const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
  const Eigen::MatrixXcd M = F.adjoint() * S.cast<std::complex<double>>() * F;
  Eigen::VectorXd s(M.rows());
  for (Eigen::Index k = 0; k < M.rows(); ++k) {
    REQUIRE(std::abs(M(k, k).imag()) < 1e-12 * S.cwiseAbs().maxCoeff());
    s[k] = M(k, k).real();
  }
  return s;
}

double max_rel(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("fourier spectrum: FFTW mode variances (7.3) equal diag of the dense DFT transform in 1-D and 2-D", "[fast][models][conv]") {
  for (const ImageShape shape : {ImageShape{1, 12}, ImageShape{1, 7}, ImageShape{4, 6}, ImageShape{5, 3}}) {
    INFO(models::describe(shape));
    const Eigen::MatrixXd S = random_covariance(shape.size(), 11 + shape.size());
    const Eigen::VectorXd fft = models::fourier_mode_variances(S, shape);
    const Eigen::VectorXd dense = dense_mode_variances(S, shape);
    CHECK(max_rel(fft, dense) < test::kRoundoff);
    // s_k = s_{-k} for a real symmetric Σ, and Σ_k s_k = tr Σ (unitary basis).
    for (int k = 0; k < shape.size(); ++k) {
      const int ky = k / shape.width, kx = k % shape.width;
      const int mk = ((shape.height - ky) % shape.height) * shape.width + (shape.width - kx) % shape.width;
      CHECK(std::abs(fft[k] - fft[mk]) < test::kRoundoff * fft.maxCoeff());
    }
    CHECK(std::abs(fft.sum() - S.trace()) < test::kRoundoff * S.trace());
  }
}

TEST_CASE("fourier spectrum: a circulant covariance has its DFT eigenvalues as mode variances", "[fast][models][conv]") {
  // Σ_ij = ρ^{ring distance} (§13.2) is circulant: s_k are its eigenvalues, s_k = Σ_l ρ^{dist(l)} cos(2πkl/N).
  const int N = 16;
  const double rho = 0.6;
  const Eigen::MatrixXd S = models::stationary_covariance(N, rho);
  const Eigen::VectorXd s = models::fourier_mode_variances(S, {1, N});
  Eigen::VectorXd eig = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(S).eigenvalues();
  Eigen::VectorXd sorted = s;
  std::sort(sorted.data(), sorted.data() + N);
  CHECK(max_rel(sorted, eig) < test::kRoundoff);
  for (int k = 0; k < N; ++k) {
    double direct = 0;
    for (int l = 0; l < N; ++l) direct += std::pow(rho, std::min(l, N - l)) * std::cos(2 * M_PI * k * l / N);
    CHECK(std::abs(s[k] - direct) < test::kRoundoff);
  }
  CHECK(models::is_stationary(S, {1, N}));
  CHECK(!models::is_stationary(random_covariance(N, 3), {1, N}));
}

TEST_CASE("fourier spectrum: 2-D block-circulant covariance is stationary and the 1-D shape of it is not", "[fast][models][conv]") {
  // Separable torus kernel C(Δy, Δx) = ρy^{dist} ρx^{dist}: block-circulant with circulant blocks (Kronecker product).
  const ImageShape shape{4, 5};
  const Eigen::MatrixXd Sy = models::stationary_covariance(4, 0.5), Sx = models::stationary_covariance(5, 0.3);
  Eigen::MatrixXd S(20, 20);
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 20; ++j) S(i, j) = Sy(i / 5, j / 5) * Sx(i % 5, j % 5);
  CHECK(models::is_stationary(S, shape));
  CHECK(!models::is_stationary(S, ImageShape{1, 20}));  // not circulant as a 20-pixel ring
  CHECK(models::stationarity_defect(S, ImageShape{1, 20}) > 0.1);
  // Mode variances of a Kronecker product are the products of the axis spectra.
  const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
  const Eigen::VectorXd sy = models::fourier_mode_variances(Sy, {1, 4}), sx = models::fourier_mode_variances(Sx, {1, 5});
  for (int ky = 0; ky < 4; ++ky)
    for (int kx = 0; kx < 5; ++kx) CHECK(std::abs(s[ky * 5 + kx] - sy[ky] * sx[kx]) < test::kRoundoff);
  // A circulant rebuilt from its first row is the same matrix.
  CHECK((models::circulant_from_first_row(S.row(0).transpose(), shape) - S).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("fourier spectrum: mode variances from samples equal (7.3) of the biased sample covariance", "[fast][models][conv]") {
  const ImageShape shape{3, 4};
  models::SplitMix64 rng(7);
  Eigen::MatrixXd X = rng.normal_matrix(40, 12) * Eigen::VectorXd::LinSpaced(12, 1.0, 12.0).asDiagonal();
  X.rowwise() -= X.colwise().mean();
  const Eigen::MatrixXd S = X.transpose() * X / 40.0;
  CHECK(max_rel(models::fourier_mode_variances_from_samples(X, shape), dense_mode_variances(S, shape)) < test::kRoundoff);
}

TEST_CASE("fourier spectrum: shift-averaged autocovariance (8.2) is the inverse DFT of the mode variances", "[fast][models][conv]") {
  for (const ImageShape shape : {ImageShape{1, 9}, ImageShape{3, 4}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    const Eigen::MatrixXd S = random_covariance(N, 5);
    const Eigen::VectorXd t = models::shift_averaged_autocovariance(S, shape);
    const Eigen::VectorXd s = dense_mode_variances(S, shape);  // independent of the O(N²) fold
    // t_ℓ = (1/N) Σ_k s_k e^{+2πi k·ℓ/N}: the same inverse transform as the kernel (7.6).
    CHECK(max_rel(models::covariance_kernel(s, shape), t) < test::kRoundoff);
    // Direct definition (8.2), entry by entry.
    for (int l = 0; l < N; ++l) {
      double direct = 0;
      for (int i = 0; i < N; ++i) {
        const int y = (i / shape.width + l / shape.width) % shape.height, x = (i % shape.width + l % shape.width) % shape.width;
        direct += S(i, y * shape.width + x);
      }
      CHECK(std::abs(t[l] - direct / N) < test::kRoundoff);
    }
    // Independent: the circulant built from t (= Σ_avg of (7.8)) has F^* Σ_avg F = diag(s).
    const Eigen::MatrixXd S_avg = models::circulant_from_first_row(t, shape);
    CHECK(max_rel(dense_mode_variances(S_avg, shape), s) < test::kRoundoff);
    CHECK(t[0] == Approx(S.trace() / N).epsilon(1e-14));
  }
}

TEST_CASE("fourier spectrum: filter multipliers (7.2) are the eigenvalues of the circulant filter matrix", "[fast][models][conv]") {
  for (const ImageShape shape : {ImageShape{1, 8}, ImageShape{3, 5}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    Eigen::VectorXd w(N);
    for (int l = 0; l < N; ++l) w[l] = std::sin(1.0 + 0.7 * l);  // generic, not even
    const Eigen::VectorXcd gamma = models::filter_multipliers(w, shape);
    const Eigen::MatrixXd W = models::circulant_from_first_row(w, shape);  // W_ij = w_{(j−i)} (7.1)
    const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
    const Eigen::MatrixXcd D = F.adjoint() * W.cast<std::complex<double>>() * F;
    CHECK((D - Eigen::MatrixXcd(gamma.asDiagonal())).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(std::abs(gamma.squaredNorm() - N * w.squaredNorm()) < 1e-12 * N * w.squaredNorm());  // ||γ||² = N||w||²
    CHECK((models::filter_from_multipliers(gamma, shape) - w).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("fourier spectrum: bad shapes and asymmetric covariances are DataErrors that name the sizes", "[fast][models][conv]") {
  const Eigen::MatrixXd S = Eigen::MatrixXd::Identity(6, 6);
  CHECK_THROWS_WITH(models::fourier_mode_variances(S, {2, 4}), Catch::Contains("N = 8") && Catch::Contains("6 entries"));
  Eigen::MatrixXd A = S;
  A(0, 1) = 0.5;
  CHECK_THROWS_AS(models::fourier_mode_variances(A, {1, 6}), DataError);
  CHECK_THROWS_WITH(models::fourier_mode_variances(S, {0, 6}), Catch::Contains("empty"));
  CHECK_THROWS_AS(models::fourier_mode_variances_from_samples(Eigen::MatrixXd(0, 6), {1, 6}), DataError);
}
