// Tests for analysis/alignment (THEORY.md (11.2)): χ = 1 for a covariance diagonal in the basis, a 2x2 rotated
// case against a NumPy literal (numpy 1.24.2) and a hand-computed one, and the undefined/misuse cases.
#include "analysis/alignment.hpp"

#include <Eigen/QR>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "support/tolerances.hpp"

namespace {
using specbias::analysis::alignment_score;
}  // namespace

TEST_CASE("analysis: alignment score is one for a covariance diagonal in the basis", "[fast][analysis]") {
  Eigen::MatrixXd A(4, 4);
  A << 0.8, -0.3, 0.5, 0.1, 0.2, 1.1, -0.4, 0.3, -0.6, 0.1, 0.9, -0.2, 0.4, 0.0, 0.2, 1.3;
  const Eigen::MatrixXd U = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ() * Eigen::MatrixXd::Identity(4, 4);
  Eigen::VectorXd lambda(4);
  lambda << 5.0, 1.0, 0.2, 0.01;
  const Eigen::MatrixXd S = U * lambda.asDiagonal() * U.transpose();
  CHECK(alignment_score(S, U) == Approx(1.0).epsilon(specbias::test::kRoundoff));
  // The same covariance scored in the standard basis (numpy: Q of qr(A), S = Q diag(λ) Q^T, χ of S itself;
  // independent of the column signs of Q).
  CHECK(alignment_score(S, Eigen::MatrixXd::Identity(4, 4)) == Approx(0.4627387303459931).epsilon(1e-12));
}

TEST_CASE("analysis: alignment score of 2x2 cases matches literals", "[fast][analysis]") {
  // U = I, Σ̃ = [[2, 1], [1, 3]]: χ = (4 + 9)/(4 + 9 + 1 + 1) = 13/15 by hand.
  Eigen::MatrixXd S(2, 2);
  S << 2.0, 1.0, 1.0, 3.0;
  CHECK(alignment_score(S, Eigen::MatrixXd::Identity(2, 2)) == Approx(13.0 / 15.0).epsilon(specbias::test::kRoundoff));
  // U = rotation by 30°, Σ̃ = [[2, 0.5], [0.5, 1]]; numpy: M = U.T S U, (diag(M)**2).sum()/(M**2).sum().
  const double th = std::numbers::pi / 6.0;
  Eigen::MatrixXd U(2, 2);
  U << std::cos(th), -std::sin(th), std::sin(th), std::cos(th);
  Eigen::MatrixXd S2(2, 2);
  S2 << 2.0, 0.5, 0.5, 1.0;
  CHECK(alignment_score(S2, U) == Approx(0.9878204912531307).epsilon(specbias::test::kRoundoff));
}

TEST_CASE("analysis: alignment score undefined and misuse cases", "[fast][analysis]") {
  CHECK(std::isnan(alignment_score(Eigen::MatrixXd::Zero(3, 3), Eigen::MatrixXd::Identity(3, 3))));
  CHECK_THROWS_AS(alignment_score(Eigen::MatrixXd::Identity(3, 3), Eigen::MatrixXd::Identity(2, 2)),
                  std::invalid_argument);
  CHECK_THROWS_AS(alignment_score(Eigen::MatrixXd::Identity(2, 3), Eigen::MatrixXd::Identity(2, 2)),
                  std::invalid_argument);
}
