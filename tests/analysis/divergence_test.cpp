// Tests for analysis/divergence (THEORY.md (10.1), (10.2)): the full-matrix KL against a NumPy evaluation of
// (10.1) with explicit inverses and log-determinants (numpy 1.24.2, literals below), against the diagonal
// formula (10.2) written out in the test for covariances sharing a rotated eigenbasis, both directions; the
// per-mode terms near convergence against the series of r − 1 − ln r; misuse and degenerate modes.
#include "analysis/divergence.hpp"

#include <Eigen/QR>
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "support/tolerances.hpp"

namespace {

using specbias::analysis::kl_gaussian;
using specbias::analysis::kl_per_mode;

// Cholesky-based vs explicit-inverse evaluation of well-conditioned 3x3 problems (condition number < 10).
constexpr double kKlRel = 1e-12;

// A fixed orthogonal basis: Q of the QR factorisation of a literal matrix.
Eigen::MatrixXd rotated_basis() {
  Eigen::MatrixXd A(3, 3);
  A << 0.8, -0.3, 0.5, 0.2, 1.1, -0.4, -0.6, 0.1, 0.9;
  return Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ() * Eigen::MatrixXd::Identity(3, 3);
}

// (10.2) written out directly: Σ_k ½[a/b − 1 − ln(a/b) + (m̃ − m)²/b].
double diagonal_kl(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& dm) {
  double sum = 0.0;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double r = a(k) / b(k);
    sum += 0.5 * (r - 1.0 - std::log(r) + dm(k) * dm(k) / b(k));
  }
  return sum;
}

}  // namespace

TEST_CASE("analysis: full-matrix KL matches numpy on a non-aligned 3x3 case", "[fast][analysis]") {
  Eigen::MatrixXd S1(3, 3), S2(3, 3);
  S1 << 2.0, 0.3, -0.1, 0.3, 1.0, 0.2, -0.1, 0.2, 0.5;
  S2 << 1.5, -0.2, 0.0, -0.2, 0.8, 0.1, 0.0, 0.1, 1.2;
  Eigen::VectorXd m1(3), m2(3);
  m1 << 0.1, -0.2, 0.3;
  m2 << 0.0, 0.5, -0.1;
  // numpy: 0.5*(trace(inv(S2) S1) + dm inv(S2) dm − 3 + slogdet(S2) − slogdet(S1))
  CHECK(kl_gaussian(m1, S1, m2, S2) == Approx(0.7343316499104269).epsilon(kKlRel));
  CHECK(kl_gaussian(m2, S2, m1, S1) == Approx(1.0909705642408318).epsilon(kKlRel));  // reverse direction
  // Identical distributions: exactly zero; empty means are zero means.
  CHECK(kl_gaussian(m1, S1, m1, S1) == Approx(0.0).margin(specbias::test::kRoundoff));
  CHECK(kl_gaussian(Eigen::VectorXd(), S1, Eigen::VectorXd::Zero(3), S2) ==
        Approx(kl_gaussian(Eigen::VectorXd::Zero(3), S1, Eigen::VectorXd::Zero(3), S2)).epsilon(kKlRel));
}

TEST_CASE("analysis: full-matrix KL equals the per-mode formula for aligned covariances", "[fast][analysis]") {
  const Eigen::MatrixXd U = rotated_basis();
  REQUIRE((U.transpose() * U - Eigen::MatrixXd::Identity(3, 3)).cwiseAbs().maxCoeff() < 1e-14);
  Eigen::VectorXd lambda(3), lambda_gen(3), m(3), m_gen(3);
  lambda << 2.0, 0.5, 0.1;
  lambda_gen << 1.5, 0.7, 0.02;
  m << 0.3, -0.1, 0.0;
  m_gen << 0.1, 0.2, 0.05;
  const Eigen::MatrixXd S = U * lambda.asDiagonal() * U.transpose();
  const Eigen::MatrixXd S_gen = U * lambda_gen.asDiagonal() * U.transpose();
  const Eigen::VectorXd mu = U * m;
  const Eigen::VectorXd mu_gen = U * m_gen;

  // Default direction generated ‖ data. numpy sum of (10.2) terms: 0.5678238741323343.
  const double forward = kl_gaussian(mu_gen, S_gen, mu, S);
  CHECK(forward == Approx(0.5678238741323343).epsilon(kKlRel));
  CHECK(forward == Approx(diagonal_kl(lambda_gen, lambda, m_gen - m)).epsilon(kKlRel));
  const Eigen::VectorXd terms = kl_per_mode(lambda_gen, lambda, m_gen, m);
  CHECK(terms(0) == Approx(0.02884103622589045).epsilon(kKlRel));
  CHECK(terms(1) == Approx(0.12176388168939356).epsilon(kKlRel));
  CHECK(terms(2) == Approx(0.41721895621705024).epsilon(kKlRel));
  CHECK(terms.sum() == Approx(forward).epsilon(kKlRel));

  // Reverse direction data ‖ generated: r → λ/λ̃, mean term over λ̃. numpy sum: 1.3836046972962373.
  const double reverse = kl_gaussian(mu, S, mu_gen, S_gen);
  CHECK(reverse == Approx(1.3836046972962373).epsilon(kKlRel));
  CHECK(reverse == Approx(diagonal_kl(lambda, lambda_gen, m - m_gen)).epsilon(kKlRel));
  const Eigen::VectorXd reverse_terms = kl_per_mode(lambda_gen, lambda, m_gen, m, true);
  CHECK(reverse_terms(2) == Approx(1.2577810437829497).epsilon(kKlRel));
  CHECK(reverse_terms.sum() == Approx(reverse).epsilon(kKlRel));
}

TEST_CASE("analysis: per-mode KL is accurate near convergence", "[fast][analysis]") {
  // r = 1 + x with x = 1e-6 and 1e-3: r − 1 − ln r = x²/2 − x³/3 + x⁴/4 − …, summed by hand below; the naive
  // form would lose ~6 (resp. 3) of its digits here.
  Eigen::VectorXd lambda(2), lambda_gen(2);
  lambda << 0.2, 3.0;
  lambda_gen << 0.2 * (1.0 + 1e-6), 3.0 * (1.0 + 1e-3);
  const Eigen::VectorXd terms = kl_per_mode(lambda_gen, lambda);
  const double x1 = 1e-6, x2 = 1e-3;
  CHECK(terms(0) == Approx(0.5 * (x1 * x1 / 2 - x1 * x1 * x1 / 3)).epsilon(1e-9));
  CHECK(terms(1) == Approx(0.5 * (x2 * x2 / 2 - x2 * x2 * x2 / 3 + x2 * x2 * x2 * x2 / 4)).epsilon(1e-9));
  // The full-matrix form is built from the same non-negative pieces and agrees.
  const Eigen::MatrixXd S = lambda.asDiagonal();
  const Eigen::MatrixXd S_gen = lambda_gen.asDiagonal();
  CHECK(kl_gaussian(Eigen::VectorXd(), S_gen, Eigen::VectorXd(), S) == Approx(terms.sum()).epsilon(1e-9));
}

TEST_CASE("analysis: KL degenerate modes and misuse", "[fast][analysis]") {
  Eigen::VectorXd lambda(3), lambda_gen(3);
  lambda << 1.0, 0.0, 0.5;
  lambda_gen << 1.0, 0.3, 0.0;
  const Eigen::VectorXd terms = kl_per_mode(lambda_gen, lambda);
  CHECK(terms(0) == 0.0);
  CHECK(std::isinf(terms(1)));  // λ_data = 0
  CHECK(std::isinf(terms(2)));  // λ̃ = 0: −ln r = +inf
  const Eigen::VectorXd reverse_terms = kl_per_mode(lambda_gen, lambda, {}, {}, true);
  CHECK(std::isinf(reverse_terms(1)));
  CHECK(std::isinf(reverse_terms(2)));
  CHECK_THROWS_AS(kl_per_mode(Eigen::VectorXd::Ones(2), lambda), std::invalid_argument);
  CHECK_THROWS_AS(kl_per_mode(-lambda_gen, lambda), std::invalid_argument);

  Eigen::MatrixXd not_pd(2, 2);
  not_pd << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3 and −1
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(2, 2);
  CHECK_THROWS_AS(kl_gaussian(Eigen::VectorXd(), not_pd, Eigen::VectorXd(), I), std::domain_error);
  CHECK_THROWS_AS(kl_gaussian(Eigen::VectorXd(), I, Eigen::VectorXd(), not_pd), std::domain_error);
  Eigen::MatrixXd asym(2, 2);
  asym << 1.0, 0.1, 0.0, 1.0;
  CHECK_THROWS_AS(kl_gaussian(Eigen::VectorXd(), asym, Eigen::VectorXd(), I), std::invalid_argument);
  CHECK_THROWS_AS(kl_gaussian(Eigen::VectorXd(), I, Eigen::VectorXd(), Eigen::MatrixXd::Identity(3, 3)),
                  std::invalid_argument);
  CHECK_THROWS_AS(kl_gaussian(Eigen::VectorXd::Zero(3), I, Eigen::VectorXd(), I), std::invalid_argument);
}
