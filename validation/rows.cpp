#include "validation/rows.hpp"

namespace specbias::validation {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Row make_row(const std::string& check, const std::string& reference, double max_abs, double max_rel, double tol,
             bool relative, double seconds) {
  Row r{check, reference, max_abs, max_rel, tol, relative, seconds, false};
  r.pass = relative ? max_rel <= tol : max_abs <= tol;
  return r;
}

Row compare(const std::string& check, const std::string& reference, const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
            double tol, bool relative, double seconds) {
  const Eigen::ArrayXXd diff = (a - b).array().abs();
  const double max_abs = diff.size() ? diff.maxCoeff() : 0.0;
  const double max_rel = diff.size() ? (diff / b.array().abs().max(1e-300)).maxCoeff() : 0.0;
  return make_row(check, reference, max_abs, max_rel, tol, relative, seconds);
}

}  // namespace specbias::validation
