// Tests for models/data_sources: the canonical problems of THEORY.md §13.2 against literal values, orthogonality
// and circulant structure, recipe (12.4) against an independent NumPy implementation of §13.3, and the empirical
// moments against numpy.cov.
#include "models/data_sources.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "common/errors.hpp"
#include "models/splitmix64.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace specbias::models;
using specbias::DataError;

// Orthogonality and exact identities use specbias::test::kRoundoff (support/tolerances.hpp).
using specbias::test::kRoundoff;
// One libm call (cos, sin, pow) vs Python's math module: at most a few ulp of O(1) numbers.
constexpr double kLibmTolerance = 1e-14;
// Values produced through exp/log/QR in two languages (see splitmix64_test.cpp).
constexpr double kCrossLanguageTolerance = 1e-12;

}  // namespace

TEST_CASE("data_sources: DCT-II basis entries follow the spec formula", "[fast][models]") {
  const Eigen::MatrixXd U = dct2_basis(4);
  // Hand values: U_00 = sqrt(1/4) = 0.5; U_12 = sqrt(2/4) cos(pi * 1.5 * 2 / 4) = sqrt(1/2) cos(3pi/4) = -0.5.
  REQUIRE(U(0, 0) == Approx(0.5).epsilon(0).margin(kLibmTolerance));
  REQUIRE(U(1, 2) == Approx(-0.5).epsilon(0).margin(kLibmTolerance));
  // Python: math.sqrt(0.5) * math.cos(math.pi * 3.5 / 4)
  REQUIRE(U(3, 1) == Approx(-0.6532814824381883).epsilon(0).margin(kLibmTolerance));
  // Python: math.sqrt(2/7) * math.cos(math.pi * 4.5 * 3 / 7)
  REQUIRE(dct2_basis(7)(4, 3) == Approx(0.5211208891696023).epsilon(0).margin(kLibmTolerance));
  // Column 0 is the constant mode.
  REQUIRE((U.col(0).array() - 0.5).abs().maxCoeff() < kLibmTolerance);
}

TEST_CASE("data_sources: DCT-II basis is orthonormal", "[fast][models]") {
  for (Eigen::Index d : {1, 2, 7, 64}) {
    const Eigen::MatrixXd U = dct2_basis(d);
    const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(d, d);
    REQUIRE((U.transpose() * U - I).cwiseAbs().maxCoeff() < kRoundoff);
    REQUIRE((U * U.transpose() - I).cwiseAbs().maxCoeff() < kRoundoff);
  }
  REQUIRE_THROWS_AS(dct2_basis(0), DataError);
}

TEST_CASE("data_sources: log-spaced spectrum runs from top to bottom geometrically", "[fast][models]") {
  const Eigen::VectorXd lambda = log_spaced_spectrum(5);
  // Defaults top = 10, bottom = 1e-3 over 5 modes: one decade per step.
  const std::vector<double> expected{10, 1, 0.1, 0.01, 0.001};
  REQUIRE(lambda.size() == 5);
  for (Eigen::Index k = 0; k < 5; ++k)
    REQUIRE(lambda(k) == Approx(expected[static_cast<std::size_t>(k)]).epsilon(kLibmTolerance));
  const Eigen::VectorXd custom = log_spaced_spectrum(3, 4.0, 1.0);
  REQUIRE(custom(1) == Approx(2.0).epsilon(kLibmTolerance));
  REQUIRE(log_spaced_spectrum(1)(0) == 10.0);
  REQUIRE_THROWS_AS(log_spaced_spectrum(4, 1.0, 0.0), DataError);
}

TEST_CASE("data_sources: non-aligned matrix and vector match the spec formulas", "[fast][models]") {
  const Eigen::MatrixXd M = nonaligned_matrix(2, 3);
  // Python: [0.1 * math.sin(1 + i + 2*j) for i in range(2) for j in range(3)]
  const std::vector<double> m_expected{0.08414709848078966, 0.014112000805986721, -0.09589242746631385,
                                       0.09092974268256818, -0.07568024953079283, -0.027941549819892587};
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 3; ++j)
      REQUIRE(M(i, j) == Approx(m_expected[static_cast<std::size_t>(i * 3 + j)]).epsilon(0).margin(kLibmTolerance));
  const Eigen::VectorXd v = nonaligned_vector(3);
  // Python: [0.5 * math.cos(0.5 + i) for i in range(3)]
  REQUIRE(v(0) == Approx(0.4387912809451864).epsilon(0).margin(kLibmTolerance));
  REQUIRE(v(1) == Approx(0.03536860083385145).epsilon(0).margin(kLibmTolerance));
  REQUIRE(v(2) == Approx(-0.40057180777346685).epsilon(0).margin(kLibmTolerance));
  REQUIRE(nonaligned_matrix(1, 1, 2.0, 0.0)(0, 0) == 0.0);
}

TEST_CASE("data_sources: stationary covariance is symmetric circulant with ring distance", "[fast][models]") {
  const Eigen::Index N = 5;
  const Eigen::MatrixXd S = stationary_covariance(N, 0.5);
  REQUIRE(S(0, 0) == 1.0);
  REQUIRE(S(0, 1) == 0.5);
  REQUIRE(S(0, 2) == 0.25);
  REQUIRE(S(0, 3) == 0.25);  // ring distance min(3, 5 - 3) = 2
  REQUIRE(S(0, 4) == 0.5);   // neighbours across the wrap-around
  for (Eigen::Index i = 0; i < N; ++i)
    for (Eigen::Index j = 0; j < N; ++j) {
      REQUIRE(S(i, j) == S(j, i));
      REQUIRE(S(i, j) == S((i + 1) % N, (j + 1) % N));  // Toeplitz on the ring = circulant
    }
  // Circulant => eigenvalues are the DFT of the first row. Python: np.fft.fft(0.5**np.minimum(m, 5 - m)).real
  // gives [2.5, 0.9045084971874737, 0.3454915028125263, 0.3454915028125263, 0.9045084971874737].
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(S);
  Eigen::VectorXd expected(5);
  expected << 0.3454915028125263, 0.3454915028125263, 0.9045084971874737, 0.9045084971874737, 2.5;
  REQUIRE((eig.eigenvalues() - expected).cwiseAbs().maxCoeff() < kRoundoff);
  REQUIRE(stationary_covariance(3, 0.0) == Eigen::MatrixXd::Identity(3, 3));
}

TEST_CASE("data_sources: lognormal rotation moments reproduce recipe 12.4", "[fast][models]") {
  const DataMoments m = lognormal_rotation_moments(4, 2024);
  // Python (see splitmix64_test.cpp): g = SM(2024); v = np.sort(np.exp(g.normals(4)))[::-1]; v /= v.mean();
  //   q, r = np.linalg.qr(g.normal_matrix(4, 4)); R = q * np.sign(np.diag(r))
  const std::vector<double> v{1.396023852071808, 0.9908802464063071, 0.8331223563979675, 0.7799735451239176};
  const std::vector<double> R{-0.6638285577752625, -0.3328750460021574, 0.11512711821316007, 0.6597511623961037,
                              -0.2029357901173547, 0.04535131415937607, 0.9166765166245334,  -0.3412689368556339,
                              -0.3789636992048079, -0.6058342267662236, -0.2907864152711919, -0.6362347562474953,
                              -0.6119928313766984, 0.7211812197580099,  -0.24878338211137585, -0.20849280898176356};
  REQUIRE(m.dim() == 4);
  for (Eigen::Index k = 0; k < 4; ++k)
    REQUIRE(m.eigenvalues(k) == Approx(v[static_cast<std::size_t>(k)]).epsilon(0).margin(kCrossLanguageTolerance));
  for (Eigen::Index i = 0; i < 4; ++i)
    for (Eigen::Index j = 0; j < 4; ++j)
      REQUIRE(m.eigenvectors(i, j) ==
              Approx(R[static_cast<std::size_t>(i * 4 + j)]).epsilon(0).margin(kCrossLanguageTolerance));
  REQUIRE(m.centred());
  const Eigen::MatrixXd sigma = m.eigenvectors * m.eigenvalues.asDiagonal() * m.eigenvectors.transpose();
  REQUIRE((m.covariance - sigma).cwiseAbs().maxCoeff() < kRoundoff);
}

TEST_CASE("data_sources: lognormal spectrum has mean 1 and descending order", "[fast][models]") {
  for (std::uint64_t seed : {0ULL, 1ULL, 99ULL}) {
    const DataMoments m = lognormal_rotation_moments(64, seed);
    REQUIRE(m.eigenvalues.mean() == Approx(1.0).epsilon(0).margin(kLibmTolerance));
    for (Eigen::Index k = 1; k < 64; ++k) REQUIRE(m.eigenvalues(k - 1) >= m.eigenvalues(k));
    REQUIRE(m.eigenvalues.minCoeff() > 0);
    const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(64, 64);
    REQUIRE((m.eigenvectors.transpose() * m.eigenvectors - I).cwiseAbs().maxCoeff() < kRoundoff);
  }
  // Different seeds give different problems; the same seed gives the same one.
  REQUIRE(lognormal_rotation_moments(8, 1).eigenvalues != lognormal_rotation_moments(8, 2).eigenvalues);
  REQUIRE(lognormal_rotation_moments(8, 1).covariance == lognormal_rotation_moments(8, 1).covariance);
}

TEST_CASE("data_sources: moments_from_samples equals numpy.cov", "[fast][models]") {
  Eigen::MatrixXd X(5, 3);
  X << 1.0, 2.0, 0.5, -0.5, 1.5, 2.0, 3.0, -1.0, 1.0, 0.25, 0.75, -2.0, 2.0, 2.5, 0.0;
  const DataMoments m = moments_from_samples(X, "literal test matrix");
  // Python: X.mean(0) and np.cov(X, rowvar=False) (unbiased, divides by N - 1 = 4).
  Eigen::Vector3d mean_expected(1.15, 1.15, 0.3);
  Eigen::Matrix3d cov_expected;
  cov_expected << 1.925, -0.79375, 0.06875, -0.79375, 1.8625, -0.05625, 0.06875, -0.05625, 2.2;
  REQUIRE((m.mean - mean_expected).cwiseAbs().maxCoeff() < kLibmTolerance);
  REQUIRE((m.covariance - cov_expected).cwiseAbs().maxCoeff() < kLibmTolerance);
  REQUIRE(m.description == "literal test matrix");
  // The eigendecomposition is consistent with the covariance and sorted descending (from_covariance contract).
  const Eigen::MatrixXd rebuilt = m.eigenvectors * m.eigenvalues.asDiagonal() * m.eigenvectors.transpose();
  REQUIRE((rebuilt - cov_expected).cwiseAbs().maxCoeff() < kRoundoff);
  REQUIRE(m.eigenvalues(0) >= m.eigenvalues(1));
  REQUIRE(m.eigenvalues(1) >= m.eigenvalues(2));
}

TEST_CASE("data_sources: moments_from_samples rejects fewer than two samples", "[fast][models]") {
  const Eigen::MatrixXd one = Eigen::MatrixXd::Ones(1, 3);
  REQUIRE_THROWS_AS(moments_from_samples(one, "one row"), DataError);
  REQUIRE_THROWS_WITH(moments_from_samples(one, "one row"), Catch::Contains("at least 2 samples") &&
                                                                 Catch::Contains("got 1") &&
                                                                 Catch::Contains("one row"));
}
