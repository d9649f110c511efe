#include "analysis/divergence.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace specbias::analysis {

namespace {

// x − ln(1 + x) = r − 1 − ln r with x = r − 1. Near r = 1 the direct form loses all digits to cancellation, yet
// the KL near convergence is exactly what gets plotted on a log axis, so use the alternating series there.
double r_minus_1_minus_log_r(double x) {
  if (std::abs(x) < 0.1) {
    double term = x * x;  // x^k, starting at k = 2
    double sum = 0.0;
    for (int k = 2; k < 60; ++k) {
      const double contribution = ((k % 2 == 0) ? term : -term) / k;
      sum += contribution;
      if (std::abs(contribution) <= 1e-17 * std::abs(sum)) break;
      term *= x;
    }
    return sum;
  }
  return x - std::log1p(x);
}

Eigen::VectorXd mean_or_zero(const Eigen::VectorXd& mean, Eigen::Index d, const char* what) {
  if (mean.size() == 0) return Eigen::VectorXd::Zero(d);
  if (mean.size() != d)
    throw std::invalid_argument(std::string(what) + " has length " + std::to_string(mean.size()) + ", expected " +
                                std::to_string(d) + " (or empty for zero)");
  if (!mean.allFinite()) throw std::invalid_argument(std::string(what) + " has non-finite entries");
  return mean;
}

void check_covariance(const Eigen::MatrixXd& S, Eigen::Index d, const char* what) {
  if (S.rows() != d || S.cols() != d)
    throw std::invalid_argument(std::string("kl_gaussian: ") + what + " is " + std::to_string(S.rows()) + "x" +
                                std::to_string(S.cols()) + ", expected " + std::to_string(d) + "x" + std::to_string(d));
  if (!S.allFinite()) throw std::invalid_argument(std::string("kl_gaussian: ") + what + " has non-finite entries");
  const double scale = S.cwiseAbs().maxCoeff();
  const double asym = (S - S.transpose()).cwiseAbs().maxCoeff();
  if (asym > 1e-10 * scale)
    throw std::invalid_argument(std::string("kl_gaussian: ") + what +
                                " is not symmetric (max |S - S^T| = " + std::to_string(asym) + ")");
}

Eigen::LLT<Eigen::MatrixXd> cholesky(const Eigen::MatrixXd& S, const char* what) {
  Eigen::LLT<Eigen::MatrixXd> llt(S);
  if (llt.info() != Eigen::Success)
    throw std::domain_error(std::string("kl_gaussian: ") + what +
                            " is not positive definite (Cholesky failed); the KL divergence between Gaussians "
                            "needs full-rank covariances — regularise or drop null modes");
  return llt;
}

}  // namespace

double kl_gaussian(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& S1, const Eigen::VectorXd& mu2,
                   const Eigen::MatrixXd& S2) {
  const Eigen::Index d = S1.rows();
  if (d == 0) throw std::invalid_argument("kl_gaussian: empty covariance");
  check_covariance(S1, d, "S1");
  check_covariance(S2, d, "S2");
  const Eigen::VectorXd m1 = mean_or_zero(mu1, d, "kl_gaussian: mu1");
  const Eigen::VectorXd m2 = mean_or_zero(mu2, d, "kl_gaussian: mu2");
  const auto llt1 = cholesky(S1, "S1");
  const auto llt2 = cholesky(S2, "S2");
  const Eigen::MatrixXd L1 = llt1.matrixL();
  const auto L2 = llt2.matrixL();

  // With Z = L2^{-1} L1 (lower triangular): tr(S2^{-1} S1) = Σ Z_ij² and ln det S2 − ln det S1 = −Σ ln Z_ii², so
  // (10.1) = ½[Σ_i (Z_ii² − 1 − ln Z_ii²) + Σ_{i≠j} Z_ij² + |L2^{-1}(μ2 − μ1)|²], a sum of non-negative terms
  // that does not cancel when S1 ≈ S2.
  const Eigen::MatrixXd Z = L2.solve(L1);
  double covariance_part = 0.0;
  for (Eigen::Index j = 0; j < d; ++j) {
    for (Eigen::Index i = j; i < d; ++i) {
      if (i == j) {
        const double z = Z(i, i);
        covariance_part += r_minus_1_minus_log_r((z - 1.0) * (z + 1.0));
      } else {
        covariance_part += Z(i, j) * Z(i, j);
      }
    }
  }
  const double mean_part = L2.solve(m2 - m1).squaredNorm();
  return 0.5 * (covariance_part + mean_part);
}

Eigen::VectorXd kl_per_mode(const Eigen::VectorXd& lambda_gen, const Eigen::VectorXd& lambda_data,
                            const Eigen::VectorXd& mean_gen_eig, const Eigen::VectorXd& mean_data_eig, bool reverse) {
  const Eigen::Index d = lambda_data.size();
  if (lambda_gen.size() != d)
    throw std::invalid_argument("kl_per_mode: " + std::to_string(lambda_gen.size()) + " generated variances but " +
                                std::to_string(d) + " data variances");
  if (!lambda_gen.allFinite() || !lambda_data.allFinite() || (lambda_gen.array() < 0.0).any() ||
      (lambda_data.array() < 0.0).any())
    throw std::invalid_argument("kl_per_mode: variances must be finite and >= 0");
  const Eigen::VectorXd m_gen = mean_or_zero(mean_gen_eig, d, "kl_per_mode: mean_gen_eig");
  const Eigen::VectorXd m_data = mean_or_zero(mean_data_eig, d, "kl_per_mode: mean_data_eig");

  Eigen::VectorXd terms(d);
  for (Eigen::Index k = 0; k < d; ++k) {
    // KL(N(·, a) ‖ N(·, b)) per mode: r = a/b and the mean term is divided by b (the second argument).
    const double a = reverse ? lambda_data(k) : lambda_gen(k);
    const double b = reverse ? lambda_gen(k) : lambda_data(k);
    if (a == 0.0 || b == 0.0) {
      terms(k) = std::numeric_limits<double>::infinity();
      continue;
    }
    const double dm = m_gen(k) - m_data(k);
    terms(k) = 0.5 * (r_minus_1_minus_log_r((a - b) / b) + dm * dm / b);
  }
  return terms;
}

}  // namespace specbias::analysis
