// Heun sampler against the per-mode product formula (12.3), the record schedule against EMPIRICAL.md §4, and the
// streamed sample statistics against a direct batch computation.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "train/heun_sampler.hpp"
#include "train/record_schedule.hpp"
#include "train/sample_statistics.hpp"

using namespace specbias::train;

TEST_CASE("train: Heun sigma schedule follows (12.2)", "[fast][train]") {
  const HeunSchedule h;  // 20 steps, 0.002 .. 80, rho 7
  const auto s = h.sigmas();
  REQUIRE(s.size() == 21);
  REQUIRE(s.front() == Approx(80.0).epsilon(1e-15));
  REQUIRE(s[19] == Approx(0.002).epsilon(1e-13));
  REQUIRE(s[20] == 0.0);
  // An interior value computed by hand: i = 10 of 19.
  const double a = std::pow(80.0, 1 / 7.0), b = std::pow(0.002, 1 / 7.0);
  REQUIRE(s[10] == Approx(std::pow(a + 10.0 / 19.0 * (b - a), 7.0)).epsilon(1e-14));
  REQUIRE(h.function_evaluations() == 39);
  REQUIRE_THROWS_AS(HeunSchedule{0}.sigmas(), std::invalid_argument);
}

TEST_CASE("train: Heun sampler on a linear denoiser multiplies each mode by the product (12.3)", "[fast][train]") {
  // D(x; σ) = w_k(σ) x_k per coordinate with the optimal one-layer weight w = λ/(λ + σ²) (2.4), for three λ.
  const Eigen::Vector3d lambda(4.0, 1.0, 0.01);
  auto w = [&](int k, double sigma) { return lambda(k) / (lambda(k) + sigma * sigma); };
  const HeunSchedule h{20};
  int calls = 0;
  auto denoiser = [&](const Eigen::MatrixXd& x, double sigma, Eigen::MatrixXd& out) {
    ++calls;
    out.resizeLike(x);
    for (int k = 0; k < 3; ++k) out.row(k) = w(k, sigma) * x.row(k);
  };
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 2);
  x.col(1) *= -0.5;
  const Eigen::MatrixXd z = x;
  heun_sample<double>(denoiser, x, h);
  REQUIRE(calls == h.function_evaluations());
  const auto s = h.sigmas();
  for (int k = 0; k < 3; ++k) {
    double factor = s[0];  // x starts at σ_max z
    for (int i = 0; i < h.steps; ++i) {
      const double si = s[static_cast<size_t>(i)], sn = s[static_cast<size_t>(i) + 1];
      if (i == h.steps - 1) {
        factor *= w(k, si);  // Euler to σ = 0
      } else {
        const double g_hat = 1 + (sn - si) * (1 - w(k, si)) / si;
        factor *= 1 + (sn - si) * ((1 - w(k, si)) / si + (1 - w(k, sn)) * g_hat / sn) / 2;
      }
    }
    for (int b = 0; b < 2; ++b) REQUIRE(x(k, b) == Approx(factor * z(k, b)).epsilon(1e-12));
  }
  // THEORY (12.3) warning: for λ = 1 the 20-step Heun variance at the optimum is ≈ 1.072, not the exact 0.99984.
  REQUIRE(std::pow(x(1, 0) / z(1, 0), 2) == Approx(1.072).epsilon(2e-3));
}

TEST_CASE("train: record schedule is the pseudo-log schedule with step 0 and the last step", "[fast][train]") {
  const auto g = record_schedule(5000, ScheduleKind::gaussian);
  REQUIRE(g.front() == 0);
  REQUIRE(g.back() == 5000);
  // 0, 1..9 (9), 10..48 step 2 (20), 50..98 step 4 (13), 100..492 step 8 (50), 500..2484 step 16 (125),
  // 2500..4996 step 32 (79), then 5000.
  REQUIRE(g.size() == 1 + 9 + 20 + 13 + 50 + 125 + 79 + 1);
  REQUIRE(std::is_sorted(g.begin(), g.end()));
  REQUIRE(std::adjacent_find(g.begin(), g.end()) == g.end());
  const auto m = record_schedule(10000, ScheduleKind::images);
  const auto g10 = record_schedule(10000, ScheduleKind::gaussian);
  REQUIRE(g10.size() - m.size() == 5000 / 64 - 5000 / 128);
  REQUIRE(record_schedule(7, ScheduleKind::gaussian) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  REQUIRE(uniform_schedule(10, 4) == std::vector<std::int64_t>{0, 4, 8, 10});
  REQUIRE_THROWS_AS(record_schedule(0, ScheduleKind::gaussian), std::invalid_argument);
}

TEST_CASE("train: streamed sample statistics equal the batch computation", "[fast][train]") {
  const int d = 6, n = 503;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd X(d, n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < d; ++i) X(i, j) = 100.0 + (i + 1) * normal(rng) + 0.3 * i * X(0, j) * (i > 0);  // far mean
  // An orthonormal basis and a data mean that are not the samples' own.
  Eigen::MatrixXd A = Eigen::MatrixXd::Random(d, d);
  const Eigen::MatrixXd U = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ();
  const Eigen::VectorXd m = Eigen::VectorXd::LinSpaced(d, 99.0, 101.0);

  SampleStatistics stats(U, m);
  for (int start = 0; start < n;) {  // uneven chunks, one of a single sample, and the float path
    const int len = std::min(n - start, start == 0 ? 1 : 97);
    if (start % 2) {
      X.middleCols(start, len) = X.middleCols(start, len).cast<float>().cast<double>();  // what the float chunk holds
      stats.add(X.middleCols(start, len).cast<float>());
    } else {
      stats.add(X.middleCols(start, len));
    }
    start += len;
  }
  const SampleSummary s = stats.summary();

  const Eigen::VectorXd mean = X.rowwise().mean();
  const Eigen::MatrixXd C = (X.colwise() - mean) * (X.colwise() - mean).transpose() / (n - 1);
  const Eigen::MatrixXd M = U.transpose() * C * U;
  REQUIRE(s.samples == n);
  REQUIRE((s.mean - mean).cwiseAbs().maxCoeff() < 1e-10);
  REQUIRE((s.mode_variance - M.diagonal()).cwiseAbs().maxCoeff() < 1e-9 * M.diagonal().cwiseAbs().maxCoeff());
  REQUIRE(s.mean_error == Approx((mean - m).squaredNorm()).epsilon(1e-10));
  REQUIRE((s.mode_mean_error - (U.transpose() * (mean - m)).array().square().matrix()).cwiseAbs().maxCoeff() < 1e-10);
  REQUIRE(s.alignment == Approx(M.diagonal().squaredNorm() / M.squaredNorm()).epsilon(1e-10));
  stats.reset();
  REQUIRE_THROWS_AS(stats.summary(), std::logic_error);
}
