#include "analysis/alignment.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace specbias::analysis {

double alignment_score(const Eigen::MatrixXd& sigma_gen, const Eigen::MatrixXd& U) {
  const Eigen::Index d = sigma_gen.rows();
  if (d == 0 || sigma_gen.cols() != d)
    throw std::invalid_argument("alignment_score: sigma_gen must be a non-empty square matrix (got " +
                                std::to_string(sigma_gen.rows()) + "x" + std::to_string(sigma_gen.cols()) + ")");
  if (U.rows() != d || U.cols() == 0)
    throw std::invalid_argument("alignment_score: U is " + std::to_string(U.rows()) + "x" + std::to_string(U.cols()) +
                                ", expected " + std::to_string(d) + " rows");
  if (!sigma_gen.allFinite() || !U.allFinite())
    throw std::invalid_argument("alignment_score: non-finite entries in sigma_gen or U");
  const Eigen::MatrixXd M = U.transpose() * sigma_gen * U;
  const double total = M.squaredNorm();
  if (total == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return M.diagonal().squaredNorm() / total;
}

}  // namespace specbias::analysis
