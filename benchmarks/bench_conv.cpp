// Benchmark (g): full-width circular convolution (THEORY §7), generated-variance trajectories λ̃_k(τ) (7.7) on
// images, FFT path vs dense paths.
//
//   fft           s_k (7.3) by FFTW (models::fourier_mode_variances, one FFT per column of Σ, O(N² log N)) + the
//                 closed form (7.7) on the τ × N grid (conv::generated_variance_grid, one thread);
//   dense_dft     s_k = diag(F^* Σ F) with the dense unitary DFT matrix (complex GEMMs, O(N³)) + the same grid;
//   dense_avg     the shift-augmented covariance Σ_avg (7.8) formed literally over all N cyclic shifts, its dense
//                 eigendecomposition (Eigen SelfAdjointEigenSolver, O(N³)) and the dense one-layer closed form at
//                 rate Nη on its eigenvalues — the "dense one-layer model on shift-augmented data" route.
// The data covariance is deliberately not stationary (a torus kernel ρ^(dy+dx) with a pixel-dependent envelope),
// so s_k are not simply its eigenvalues. Accuracy: dense paths vs FFT path, spectra and trajectories compared
// after sorting modes by s_k (the dense eigenvalues carry no Fourier index; λ̃ depends on a mode only through s_k
// and the common Q). Sizes: 28×28 (N = 784) all three paths, 64×64 (N = 4096) FFT path only.
// With --dump DIR the covariance (28×28), τ list and FFT-path grids go out as .npy for the NumPy peer
// (peers/conv.py: numpy.fft for the spectrum + the same closed form).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <iostream>
#include <numeric>

#include "bench_common.hpp"
#include "common/npy.hpp"
#include "models/circulant_convolution.hpp"
#include "models/fourier_spectrum.hpp"

using namespace specbias;
using models::ImageShape;
namespace conv = specbias::models::conv;

namespace {

// Σ_ij = e_i e_j ρ^(dist_y + dist_x), e_i = 1 + 0.5 cos(2π y_i/H) sin(2π x_i/W)·… : SPD, not stationary.
Eigen::MatrixXd envelope_covariance(const ImageShape& shape, double rho) {
  Eigen::MatrixXd S = conv::stationary_image_covariance(shape, rho);
  Eigen::VectorXd e(shape.size());
  for (int i = 0; i < shape.size(); ++i) {
    const double y = double(i / shape.width) / shape.height, x = double(i % shape.width) / shape.width;
    e[i] = 1.0 + 0.5 * std::cos(2 * M_PI * y) * std::sin(2 * M_PI * x + 0.3);
  }
  return e.asDiagonal() * S * e.asDiagonal();
}

Eigen::VectorXd sorted(Eigen::VectorXd v) {
  std::sort(v.data(), v.data() + v.size());
  return v;
}

// Columns reordered by ascending s (so two grids computed from permuted spectra line up).
Eigen::MatrixXd columns_by(const Eigen::MatrixXd& grid, const Eigen::VectorXd& s) {
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(s.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return s[a] < s[b]; });
  Eigen::MatrixXd out(grid.rows(), grid.cols());
  for (Eigen::Index k = 0; k < s.size(); ++k) out.col(k) = grid.col(idx[static_cast<std::size_t>(k)]);
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"reps", "reps-dense", "ntau", "dump", "large"});
  const int reps = args.get_int("reps", 3), reps_dense = args.get_int("reps-dense", 1);
  const int ntau = args.get_int("ntau", 200), large = args.get_int("large", 64);
  const double rho = 0.8, Q = 0.1, eta = 1e-3;
  const models::SamplingRange range{0.002, 80.0};
  const std::vector<double> taus = bench::log_spaced(-3, 5, ntau);

  nlohmann::json j = bench::bench_header("conv");
  j["problem"] = {{"rho", rho}, {"Q", Q}, {"eta_filter_entries", eta}, {"n_tau", ntau},
                  {"tau", "log-spaced 1e-3 .. 1e5"}, {"sigma_min", range.sigma_min}, {"sigma_max", range.sigma_max},
                  {"covariance", "envelope e_i e_j rho^(dist_y+dist_x), e_i = 1 + 0.5 cos(2 pi y/H) sin(2 pi x/W + 0.3) "
                                 "(not stationary)"}};
  j["runs"] = nlohmann::json::array();

  // ---- 28 × 28: FFT path vs both dense paths ---------------------------------------------------------------------
  {
    const ImageShape shape{28, 28};
    const int N = shape.size();
    const Eigen::MatrixXd S = envelope_covariance(shape, rho);
    const Eigen::VectorXd Qv = Eigen::VectorXd::Constant(N, Q);
    Eigen::VectorXd s_fft, s_dft, eig;
    Eigen::MatrixXd g_fft, g_dft, g_avg;
    const auto t_spec = bench::time_reps(reps, [&] { s_fft = models::fourier_mode_variances(S, shape); });
    const auto t_fft = bench::time_reps(reps, [&] {
      s_fft = models::fourier_mode_variances(S, shape);
      g_fft = conv::generated_variance_grid(s_fft, Qv, shape, eta, taus, range, 1);
    });
    const auto t_dft = bench::time_reps(reps_dense, [&] {
      const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
      const Eigen::MatrixXcd SF = S.cast<std::complex<double>>() * F;
      s_dft.resize(N);
      for (int k = 0; k < N; ++k) s_dft[k] = (F.col(k).adjoint() * SF.col(k)).value().real();
      g_dft = conv::generated_variance_grid(s_dft, Qv, shape, eta, taus, range, 1);
    });
    double t_avg_build = 0, t_avg_eig = 0;
    const auto t_avg = bench::time_reps(reps_dense, [&] {
      const auto t0 = bench::Clock::now();
      const Eigen::MatrixXd S_avg = conv::shift_augmented_covariance(S, shape);
      t_avg_build = bench::seconds_since(t0);
      const auto t1 = bench::Clock::now();
      eig = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(S_avg, Eigen::EigenvaluesOnly).eigenvalues();
      t_avg_eig = bench::seconds_since(t1);
      g_avg = models::one_layer_generated_variance_grid(eig, Qv, N * eta, taus, range, 1);  // (7.8) at rate Nη
    });
    const Eigen::VectorXd s_sorted = sorted(s_fft);
    const Eigen::MatrixXd g_fft_sorted = columns_by(g_fft, s_fft);
    auto run = [&](const std::string& path, const std::vector<double>& times, const Eigen::VectorXd& spectrum,
                   const Eigen::MatrixXd& grid) {
      nlohmann::json e = bench::timing_json(times);
      e["path"] = path;
      e["shape"] = {28, 28};
      e["N"] = N;
      e["threads"] = 1;
      e["max_rel_diff_spectrum_vs_fft"] = bench::max_rel_diff(sorted(spectrum), s_sorted);
      e["max_rel_diff_trajectories_vs_fft"] = bench::max_rel_diff(columns_by(grid, spectrum), g_fft_sorted);
      return e;
    };
    j["runs"].push_back(run("fft", t_fft, s_fft, g_fft));
    j["runs"].back()["spectrum_only"] = bench::timing_json(t_spec);
    j["runs"].push_back(run("dense_dft", t_dft, s_dft, g_dft));
    j["runs"].push_back(run("dense_avg", t_avg, eig, g_avg));
    j["runs"].back()["phases_last_rep_s"] = {{"shift_average", t_avg_build}, {"eigendecomposition", t_avg_eig}};
    j["stationarity_defect_28"] = models::stationarity_defect(S, shape);
    j["variance_range_28"] = {g_fft.minCoeff(), g_fft.maxCoeff()};

    const std::string dump = args.get("dump", "");
    if (!dump.empty()) {
      namespace fs = std::filesystem;
      fs::create_directories(dump);
      write_npy(fs::path(dump) / "covariance.npy", S);
      write_npy(fs::path(dump) / "tau.npy", Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(taus.data(), ntau)));
      write_npy(fs::path(dump) / "s.npy", s_fft);
      write_npy(fs::path(dump) / "variance.npy", g_fft);  // n_tau × N, Fourier order
    }
  }

  // ---- large × large: FFT path only (the dense paths would need O(N³) = 7e10 flops and 4 N² doubles) ----------
  {
    const ImageShape shape{large, large};
    const int N = shape.size();
    const auto t0 = bench::Clock::now();
    const Eigen::MatrixXd S = envelope_covariance(shape, rho);
    const double t_build = bench::seconds_since(t0);
    const Eigen::VectorXd Qv = Eigen::VectorXd::Constant(N, Q);
    Eigen::VectorXd s;
    Eigen::MatrixXd g;
    double t_spectrum = 0;
    const auto t_fft = bench::time_reps(reps, [&] {
      const auto ts = bench::Clock::now();
      s = models::fourier_mode_variances(S, shape);
      t_spectrum = bench::seconds_since(ts);
      g = conv::generated_variance_grid(s, Qv, shape, eta, taus, range, 1);
    });
    nlohmann::json e = bench::timing_json(t_fft);
    e["path"] = "fft";
    e["shape"] = {large, large};
    e["N"] = N;
    e["threads"] = 1;
    e["phases_last_rep_s"] = {{"spectrum", t_spectrum}, {"closed_form_grid", bench::best(t_fft) - t_spectrum}};
    e["covariance_build_s"] = t_build;
    // Independent check on the large size: Parseval, Σ_k s_k = tr Σ.
    e["parseval_rel_error"] = std::abs(s.sum() - S.trace()) / S.trace();
    e["variance_range"] = {g.minCoeff(), g.maxCoeff()};
    j["runs"].push_back(e);
  }
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_conv: " << e.what() << std::endl;
  return 1;
}
