#include "models/data_moments.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <numeric>
#include <vector>

#include "common/errors.hpp"

namespace specbias::models {

namespace {
Eigen::VectorXd mean_or_zero(const Eigen::VectorXd& mean, Eigen::Index d) {
  if (mean.size() == 0) return Eigen::VectorXd::Zero(d);
  if (mean.size() != d)
    throw DataError("mean has length " + std::to_string(mean.size()) + " but the data dimension is " +
                    std::to_string(d));
  return mean;
}
}  // namespace

DataMoments DataMoments::from_spectrum(const Eigen::VectorXd& eigenvalues, const Eigen::MatrixXd& basis,
                                       const Eigen::VectorXd& mean, std::string description) {
  const Eigen::Index d = eigenvalues.size();
  if (basis.rows() != d || basis.cols() != d)
    throw DataError("eigenbasis must be " + std::to_string(d) + "x" + std::to_string(d));
  const double orth_err = (basis.transpose() * basis - Eigen::MatrixXd::Identity(d, d)).cwiseAbs().maxCoeff();
  if (!(orth_err <= 1e-10)) throw DataError("eigenbasis is not orthonormal (max |U^T U - I| = " +
                                            std::to_string(orth_err) + ")");
  DataMoments m;
  m.eigenvalues = eigenvalues;
  m.eigenvectors = basis;
  m.covariance = basis * eigenvalues.asDiagonal() * basis.transpose();
  m.covariance = 0.5 * (m.covariance + m.covariance.transpose()).eval();
  m.mean = mean_or_zero(mean, d);
  m.description = std::move(description);
  return m;
}

DataMoments DataMoments::from_covariance(const Eigen::MatrixXd& covariance, const Eigen::VectorXd& mean,
                                         std::string description) {
  if (covariance.rows() != covariance.cols() || covariance.rows() == 0)
    throw DataError("covariance must be a non-empty square matrix");
  if (!covariance.allFinite()) throw DataError("covariance has non-finite entries");
  const Eigen::MatrixXd sym = 0.5 * (covariance + covariance.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym);
  if (eig.info() != Eigen::Success) throw DataError("eigendecomposition of the covariance did not converge");
  const Eigen::Index d = sym.rows();
  std::vector<Eigen::Index> order(static_cast<size_t>(d));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return eig.eigenvalues()(a) > eig.eigenvalues()(b); });
  DataMoments m;
  m.eigenvalues.resize(d);
  m.eigenvectors.resize(d, d);
  const double top = std::max(eig.eigenvalues().maxCoeff(), 0.0);
  for (Eigen::Index k = 0; k < d; ++k) {
    double lambda = eig.eigenvalues()(order[static_cast<size_t>(k)]);
    if (lambda < 0 && lambda > -1e-12 * top) lambda = 0;
    if (lambda < 0)
      throw DataError("covariance is not positive semi-definite (eigenvalue " + std::to_string(lambda) + ")");
    m.eigenvalues(k) = lambda;
    m.eigenvectors.col(k) = eig.eigenvectors().col(order[static_cast<size_t>(k)]);
  }
  m.covariance = sym;
  m.mean = mean_or_zero(mean, d);
  m.description = std::move(description);
  return m;
}

}  // namespace specbias::models
