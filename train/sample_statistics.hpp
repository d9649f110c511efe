// Streamed statistics of generated samples in the data eigenbasis (EMPIRICAL.md §5, THEORY.md (11.2)).
//
// Samples arrive in chunks (features × batch, any scalar type); each chunk is projected onto the data eigenbasis,
// y = Uᵀ(x − m), and merged into a running mean and scatter matrix with Chan et al.'s pairwise update (stable
// when the generated mean is far from the data mean). Memory is O(d²) whatever the number of samples, and one
// accumulator serves one checkpoint; nothing per checkpoint is kept beyond the summary it returns.
// Per checkpoint: generated mean m̂, per-mode variance v_k = u_kᵀ Ŝ u_k (unbiased; valid for fewer samples than
// dimensions), mean error ‖m̂ − m‖² and per mode ((m̂ − m)ᵀu_k)², and the alignment score χ of Ŝ (11.2).
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace specbias::train {

struct SampleSummary {
  std::int64_t samples = 0;
  Eigen::VectorXd mean;             // m̂ in data coordinates (d)
  Eigen::VectorXd mode_variance;    // v_k = u_kᵀ Ŝ u_k, k in the order of U's columns
  Eigen::VectorXd mode_mean_error;  // ((m̂ − m)ᵀ u_k)²
  double mean_error = 0;            // ‖m̂ − m‖²
  double alignment = 0;             // χ (11.2) of Ŝ in the basis U; NaN if Ŝ = 0
};

// The summary from merged moments in the basis U: n samples, running mean ȳ of y = Uᵀ(x − m) and the scatter
// Σ (y − ȳ)(y − ȳ)ᵀ, of which only the lower triangle is read. Shared by SampleStatistics and its GPU twin.
// Throws std::logic_error for n < 2.
[[nodiscard]] SampleSummary summarise_projected(const Eigen::MatrixXd& U, const Eigen::VectorXd& data_mean,
                                                std::int64_t n, const Eigen::VectorXd& mean_y,
                                                const Eigen::MatrixXd& scatter_lower);

class SampleStatistics {
 public:
  // U: d × d orthonormal data eigenbasis (columns sorted as the analysis wants them, descending λ);
  // data_mean: the training-set mean m.
  SampleStatistics(Eigen::MatrixXd U, Eigen::VectorXd data_mean);

  template <typename Derived>
  void add(const Eigen::MatrixBase<Derived>& chunk) {
    add_projected(U_.transpose() * (chunk.template cast<double>().colwise() - data_mean_));
  }
  void reset();
  // Needs at least two samples (unbiased covariance). Throws std::logic_error otherwise.
  [[nodiscard]] SampleSummary summary() const;
  [[nodiscard]] std::int64_t count() const { return n_; }

 private:
  void add_projected(const Eigen::MatrixXd& y);  // y = Uᵀ(x − m), d × b

  Eigen::MatrixXd U_;
  Eigen::VectorXd data_mean_;
  std::int64_t n_ = 0;
  Eigen::VectorXd mean_y_;     // running mean of y
  Eigen::MatrixXd scatter_y_;  // Σ (y − ȳ)(y − ȳ)ᵀ
};

}  // namespace specbias::train
