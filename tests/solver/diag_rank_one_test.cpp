// The O(n²) secular-equation eigensolver for diag(a) + z zᵀ against Eigen's dense SelfAdjointEigenSolver,
// including the deflation cases (zero z entries: modes with m_k = 0 in (3.8); repeated diagonal entries).
#include <catch2/catch.hpp>

#include <cmath>

#include "models/splitmix64.hpp"
#include "solver/diag_rank_one.hpp"

using specbias::solver::diag_plus_rank_one_eigen;

namespace {

struct Check {
  double value_rel, residual, orthogonality;
};

Check check(const Eigen::VectorXd& a, const Eigen::VectorXd& z) {
  const Eigen::MatrixXd M = Eigen::MatrixXd(a.asDiagonal()) + z * z.transpose();
  const auto eig = diag_plus_rank_one_eigen(a, z);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ref(M);
  const double scale = M.norm();
  const auto n = a.size();
  return {(eig.values - ref.eigenvalues()).cwiseAbs().maxCoeff() / scale,
          (M * eig.vectors - eig.vectors * eig.values.asDiagonal()).norm() / scale,
          (eig.vectors.transpose() * eig.vectors - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff()};
}

Eigen::VectorXd uniform(Eigen::Index n, specbias::models::SplitMix64& rng, double lo, double hi) {
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = lo + (hi - lo) * rng.uniform();
  return v;
}

}  // namespace

TEST_CASE("diag plus rank one eigen: random matrices match the dense eigensolver", "[fast][solver]") {
  specbias::models::SplitMix64 rng(7);
  for (int n : {1, 2, 5, 40, 200}) {
    const Eigen::VectorXd a = uniform(n, rng, 0.0, 10.0), z = uniform(n, rng, -1.0, 1.0);
    const Check c = check(a, z);
    INFO("n = " << n << ": value err " << c.value_rel << ", residual " << c.residual << ", orth " << c.orthogonality);
    REQUIRE(c.value_rel < 1e-14 * n + 1e-15);
    REQUIRE(c.residual < 1e-13 * std::sqrt(n));
    REQUIRE(c.orthogonality < 1e-13 * std::sqrt(n));
  }
}

TEST_CASE("diag plus rank one eigen: deflation of zero components and repeated diagonal entries", "[fast][solver]") {
  specbias::models::SplitMix64 rng(11);
  const int n = 30;
  Eigen::VectorXd a = uniform(n, rng, 0.0, 5.0), z = uniform(n, rng, -1.0, 1.0);
  for (int i = 0; i < n; i += 3) z(i) = 0.0;         // decoupled modes (m_k = 0)
  for (int i = 1; i < 10; ++i) a(i) = a(0);          // a nine-fold repeated pole
  a(20) = a(22) = 0.0;                                // and a repeated zero (the bias pole of (3.8))
  const auto eig = diag_plus_rank_one_eigen(a, z);
  // 10 zero z entries, 5 rotations in the nine-fold pole (its 6 entries with z ≠ 0), 1 in the zero pair.
  REQUIRE(eig.deflated == 10 + 5 + 1);
  const Check c = check(a, z);
  INFO("value err " << c.value_rel << ", residual " << c.residual << ", orth " << c.orthogonality);
  REQUIRE(c.value_rel < 1e-14);
  REQUIRE(c.residual < 1e-13);
  REQUIRE(c.orthogonality < 1e-13);
  // All-zero z: the matrix is diagonal.
  const auto diag = diag_plus_rank_one_eigen(a, Eigen::VectorXd::Zero(n));
  Eigen::VectorXd sorted = a;
  std::sort(sorted.data(), sorted.data() + n);
  REQUIRE((diag.values - sorted).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("diag plus rank one eigen: graded poles over twelve decades keep small eigenvalues accurate", "[fast][solver]") {
  // (3.8) at σ = σ_0 has poles λ_k + σ² spread over many decades and one pole at 0: the slow rates need relative
  // accuracy in the small eigenvalues, which a dense solver (absolute error ≈ ε‖M‖) cannot check. Independent
  // invariants instead: Π κ_i = det M = z_last² Π_{i<last} a_i (matrix determinant lemma with the zero pole),
  // so Σ ln κ_i has to match to the sum of the relative errors; and Σ κ_i = Σ a_i + ‖z‖².
  const int n = 25;
  Eigen::VectorXd a(n), z(n);
  for (int i = 0; i < n; ++i) {
    a(i) = std::pow(10.0, 2.0 - 0.5 * i);
    z(i) = 0.3 / (1 + i);
  }
  a(n - 1) = 0.0;
  z(n - 1) = 1.0;
  const auto eig = diag_plus_rank_one_eigen(a, z);
  REQUIRE(eig.values.minCoeff() > 0.0);
  const double log_det = eig.values.array().log().sum();
  const double log_det_exact = 2.0 * std::log(z(n - 1)) + a.head(n - 1).array().log().sum();
  INFO("sum ln kappa = " << log_det << ", ln det = " << log_det_exact << ", smallest kappa " << eig.values(0));
  REQUIRE(std::abs(log_det - log_det_exact) < 1e-12 * n);
  REQUIRE(eig.values.sum() == Approx(a.sum() + z.squaredNorm()).epsilon(1e-14));
}

TEST_CASE("diag plus rank one eigen: bad input is rejected", "[fast][solver]") {
  REQUIRE_THROWS_AS(diag_plus_rank_one_eigen(Eigen::VectorXd::Ones(3), Eigen::VectorXd::Ones(2)), std::invalid_argument);
  Eigen::VectorXd a = Eigen::VectorXd::Ones(2);
  a(1) = std::nan("");
  REQUIRE_THROWS_AS(diag_plus_rank_one_eigen(a, Eigen::VectorXd::Ones(2)), std::invalid_argument);
}
