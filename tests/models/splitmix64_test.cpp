// Tests for models/splitmix64 against THEORY.md §13.3: the published first output, and uniforms, normals, the
// row-major normal matrix and the sign-fixed random orthogonal matrix against an independent Python/NumPy
// implementation of the same definitions (values pasted below as literals).
#include "models/splitmix64.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "support/tolerances.hpp"

namespace {

using specbias::models::random_orthogonal;
using specbias::models::SplitMix64;

// Box–Muller uses log/cos/sin, whose last-ulp results may differ between libm and Python's math module.
constexpr double kLibmTolerance = 1e-14;
// Householder QR (Eigen vs LAPACK) differs by round-off only on these well-conditioned problems.
using specbias::test::kRoundoff;

/* Reference values come from this Python transcription of THEORY.md §13.3 (numpy 1.24):
     M = 2**64 - 1
     def next(s): s += 0x9E3779B97F4A7C15; z = s & M; z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
                  z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M; return z ^ (z >> 31)
     uniform = (next() >> 11) * 2.0**-53
     normals(n): pairs u1, u2 -> r = sqrt(-2 log(1 - u1)), th = 2 pi u2, emit r cos th, r sin th; truncate to n
     random_orthogonal(d): q, r = np.linalg.qr(normal_matrix(d, d)); q * np.sign(np.diag(r))            */

}  // namespace

TEST_CASE("splitmix64: seed 0 reproduces the published first outputs", "[fast][models]") {
  SplitMix64 rng(0);
  REQUIRE(rng.next() == 0xE220A8397B1DCDAFULL);  // THEORY.md §13.3
  REQUIRE(rng.next() == 0x6E789E6AA1B965F4ULL);  // Python transcription above
  REQUIRE(rng.next() == 0x06C45D188009454FULL);
}

TEST_CASE("splitmix64: uniforms match the Python reference and are deterministic", "[fast][models]") {
  SplitMix64 rng(1);
  // Python: SM(1).uniform() x3. Exact: (next >> 11) * 2^-53 involves no rounding.
  REQUIRE(rng.uniform() == 0.5665615751722809);
  REQUIRE(rng.uniform() == 0.7457817572627011);
  REQUIRE(rng.uniform() == 0.9710027535867962);

  SplitMix64 a(123456789), b(123456789);
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    REQUIRE(u == b.uniform());
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("splitmix64: normals use Box-Muller pairs and an odd request discards the spare", "[fast][models]") {
  SplitMix64 rng(7);
  // Python: g = SM(7); g.normals(5); g.normals(1)
  const std::vector<double> expected{0.9884743323187353, 0.10465664748899398, -1.8642558067312274,
                                     -1.0700431037183418, 0.00392020721518934};
  const Eigen::VectorXd z = rng.normals(5);
  REQUIRE(z.size() == 5);
  for (Eigen::Index i = 0; i < 5; ++i)
    REQUIRE(z(i) == Approx(expected[static_cast<std::size_t>(i)]).epsilon(0).margin(kLibmTolerance));
  // The 6th normal of the third pair was discarded: the next call starts from the 7th uniform.
  const Eigen::VectorXd next = rng.normals(1);
  REQUIRE(next(0) == Approx(-0.5292707004741914).epsilon(0).margin(kLibmTolerance));
  REQUIRE(rng.normals(0).size() == 0);
}

TEST_CASE("splitmix64: normal_matrix is filled row-major from one normals request", "[fast][models]") {
  SplitMix64 rng(5);
  const Eigen::MatrixXd m = rng.normal_matrix(2, 3);
  // Python: SM(5).normal_matrix(2, 3).flatten()  (numpy reshape is row-major)
  const std::vector<double> expected{0.014334745996352224, -0.9888470868675538, 0.5906209568869251,
                                     0.4253770277681044,  -0.4720898558893115, 0.43993502430623943};
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 3);
  for (Eigen::Index i = 0; i < 2; ++i)
    for (Eigen::Index j = 0; j < 3; ++j)
      REQUIRE(m(i, j) == Approx(expected[static_cast<std::size_t>(i * 3 + j)]).epsilon(0).margin(kLibmTolerance));
}

TEST_CASE("splitmix64: random_orthogonal matches numpy QR with the R_ii > 0 sign fix", "[fast][models]") {
  SplitMix64 rng(3);
  const Eigen::MatrixXd Q = random_orthogonal(3, rng);
  // Python: q, r = np.linalg.qr(SM(3).normal_matrix(3, 3)); (q * np.sign(np.diag(r))).flatten()
  const std::vector<double> expected{-0.20082851034220384, -0.9782447442088422,  -0.052010862918321486,
                                     0.8111347812387435,   -0.13628216296238926, -0.5687596493450185,
                                     0.5492979847937791,   -0.15641097303600526, 0.8208576803657399};
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < 3; ++j)
      REQUIRE(Q(i, j) == Approx(expected[static_cast<std::size_t>(i * 3 + j)]).epsilon(0).margin(kRoundoff));
}

TEST_CASE("splitmix64: random_orthogonal is orthogonal with positive R diagonal", "[fast][models]") {
  const Eigen::Index d = 40;
  SplitMix64 rng(2024);
  const Eigen::MatrixXd Q = random_orthogonal(d, rng);
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(d, d);
  REQUIRE((Q.transpose() * Q - I).cwiseAbs().maxCoeff() < kRoundoff);
  REQUIRE((Q * Q.transpose() - I).cwiseAbs().maxCoeff() < kRoundoff);

  // Independent check of the factorisation itself: with A the same normal matrix, R = Q^T A must be upper
  // triangular with a positive diagonal.
  SplitMix64 again(2024);
  const Eigen::MatrixXd A = again.normal_matrix(d, d);
  const Eigen::MatrixXd R = Q.transpose() * A;
  for (Eigen::Index i = 0; i < d; ++i) {
    REQUIRE(R(i, i) > 0);
    for (Eigen::Index j = 0; j < i; ++j) REQUIRE(std::abs(R(i, j)) < kRoundoff);
  }
}
