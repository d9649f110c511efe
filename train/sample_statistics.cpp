#include "train/sample_statistics.hpp"

#include <limits>
#include <stdexcept>

namespace specbias::train {

SampleStatistics::SampleStatistics(Eigen::MatrixXd U, Eigen::VectorXd data_mean)
    : U_(std::move(U)), data_mean_(std::move(data_mean)) {
  if (U_.rows() != U_.cols() || U_.rows() != data_mean_.size())
    throw std::invalid_argument("SampleStatistics: U must be d x d and the data mean of length d");
  reset();
}

void SampleStatistics::reset() {
  n_ = 0;
  mean_y_ = Eigen::VectorXd::Zero(U_.rows());
  scatter_y_ = Eigen::MatrixXd::Zero(U_.rows(), U_.rows());
}

void SampleStatistics::add_projected(const Eigen::MatrixXd& y) {
  const std::int64_t nb = y.cols();
  if (nb == 0) return;
  const Eigen::VectorXd mean_b = y.rowwise().mean();
  const Eigen::MatrixXd centred = y.colwise() - mean_b;
  // Chan, Golub & LeVeque (1979): M2 = M2_a + M2_b + δδᵀ n_a n_b / n.
  const Eigen::VectorXd delta = mean_b - mean_y_;
  const double n = static_cast<double>(n_ + nb);
  scatter_y_.selfadjointView<Eigen::Lower>().rankUpdate(centred);
  scatter_y_.selfadjointView<Eigen::Lower>().rankUpdate(delta, static_cast<double>(n_) * static_cast<double>(nb) / n);
  mean_y_ += delta * (static_cast<double>(nb) / n);
  n_ += nb;
}

SampleSummary summarise_projected(const Eigen::MatrixXd& U, const Eigen::VectorXd& data_mean, std::int64_t n,
                                  const Eigen::VectorXd& mean_y, const Eigen::MatrixXd& scatter_lower) {
  if (n < 2) throw std::logic_error("SampleStatistics: need at least two samples for a covariance");
  SampleSummary s;
  s.samples = n;
  const Eigen::MatrixXd M = Eigen::MatrixXd(scatter_lower.selfadjointView<Eigen::Lower>()) / static_cast<double>(n - 1);
  s.mean = data_mean + U * mean_y;
  s.mode_variance = M.diagonal();
  s.mode_mean_error = mean_y.array().square();
  s.mean_error = mean_y.squaredNorm();  // U orthonormal: ‖Uᵀ(m̂ − m)‖ = ‖m̂ − m‖
  const double total = M.squaredNorm();
  s.alignment = total > 0 ? M.diagonal().squaredNorm() / total : std::numeric_limits<double>::quiet_NaN();
  return s;
}

SampleSummary SampleStatistics::summary() const { return summarise_projected(U_, data_mean_, n_, mean_y_, scatter_y_); }

}  // namespace specbias::train
