#include "models/fourier_spectrum.hpp"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>
#include <algorithm>
#include <numbers>
#include <utility>

#include "common/errors.hpp"

namespace specbias::models {

namespace {

using cplx = std::complex<double>;

void check_shape(const ImageShape& shape, const char* where) {
  if (shape.height < 1 || shape.width < 1)
    throw DataError(std::string(where) + ": image shape " + std::to_string(shape.height) + "x" +
                    std::to_string(shape.width) + " is empty (height and width must be >= 1)");
}

void check_length(Eigen::Index n, const ImageShape& shape, const char* where, const char* what) {
  check_shape(shape, where);
  if (n != shape.size())
    throw DataError(std::string(where) + ": " + what + " has " + std::to_string(n) + " entries per signal but the image shape " +
                    describe(shape) + " has N = " + std::to_string(shape.size()) + " pixels");
}

// fftw_complex buffers (SIMD-aligned, so every execute on them matches the alignment the plan was made with).
struct FftwBuffer {
  explicit FftwBuffer(int n) : data(static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * std::size_t(n)))) {
    if (!data) throw std::bad_alloc();
  }
  ~FftwBuffer() { fftw_free(data); }
  FftwBuffer(const FftwBuffer&) = delete;
  FftwBuffer& operator=(const FftwBuffer&) = delete;
  cplx* c() { return reinterpret_cast<cplx*>(data); }
  fftw_complex* data;
};

// One complex DFT plan per (shape, direction), created once and reused with the new-array execute interface
// (thread-safe; only planning needs the lock).
class PlanCache {
 public:
  ~PlanCache() {
    for (auto& [key, plan] : plans_) fftw_destroy_plan(plan);
  }
  fftw_plan get(const ImageShape& shape, int sign) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto key = std::make_tuple(shape.height, shape.width, sign);
    if (auto it = plans_.find(key); it != plans_.end()) return it->second;
    FftwBuffer in(shape.size()), out(shape.size());
    const int n2[2] = {shape.height, shape.width};
    fftw_plan plan = shape.height > 1 ? fftw_plan_dft(2, n2, in.data, out.data, sign, FFTW_ESTIMATE)
                                      : fftw_plan_dft_1d(shape.width, in.data, out.data, sign, FFTW_ESTIMATE);
    if (!plan) throw NumericalError("FFTW could not create a DFT plan for image shape " + describe(shape));
    plans_.emplace(key, plan);
    return plan;
  }

 private:
  std::mutex mutex_;
  std::map<std::tuple<int, int, int>, fftw_plan> plans_;
};

PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

// Unnormalised DFT of `in` into `out` (sign FFTW_FORWARD: Σ_l x_l e^{-2πi k·l/N}).
void execute(const ImageShape& shape, int sign, FftwBuffer& in, FftwBuffer& out) {
  fftw_execute_dft(plan_cache().get(shape, sign), in.data, out.data);
}

// Flat index of the cyclic offset from pixel i to pixel j, (j − i) mod per axis.
inline int offset_index(int i, int j, const ImageShape& s) {
  const int iy = i / s.width, ix = i % s.width, jy = j / s.width, jx = j % s.width;
  const int ly = (jy - iy + s.height) % s.height, lx = (jx - ix + s.width) % s.width;
  return ly * s.width + lx;
}

}  // namespace

std::string describe(const ImageShape& shape) {
  if (shape.height > 1) return std::to_string(shape.height) + "x" + std::to_string(shape.width);
  return "N = " + std::to_string(shape.width);
}

Eigen::VectorXd fourier_mode_variances(const Eigen::MatrixXd& covariance, const ImageShape& shape) {
  const char* where = "fourier_mode_variances";
  if (covariance.rows() != covariance.cols())
    throw DataError(std::string(where) + ": covariance is " + std::to_string(covariance.rows()) + "x" +
                    std::to_string(covariance.cols()) + ", not square");
  check_length(covariance.rows(), shape, where, "the covariance");
  if (!covariance.allFinite()) throw DataError(std::string(where) + ": the covariance has non-finite entries");
  const double scale = covariance.cwiseAbs().maxCoeff();
  // Blockwise max |S − Sᵀ| (a whole transposed temporary costs more than the spectrum itself at N = 4096).
  double asym = 0.0;
  const Eigen::Index n = covariance.rows(), bs = 64;
  for (Eigen::Index bj = 0; bj < n; bj += bs)
    for (Eigen::Index bi = 0; bi <= bj; bi += bs) {
      const Eigen::Index h = std::min(bs, n - bi), w = std::min(bs, n - bj);
      asym = std::max(asym, (covariance.block(bi, bj, h, w) - covariance.block(bj, bi, w, h).transpose()).cwiseAbs().maxCoeff());
    }
  if (asym > 1e-10 * scale)
    throw DataError(std::string(where) + ": the covariance is not symmetric (max |S - S^T| = " + std::to_string(asym) +
                    " vs max |S| = " + std::to_string(scale) + ")");
  // s_k = (1/N) Σ_{m,n} e^{2πi k·(m−n)/N} Σ_mn = Σ_ℓ t_ℓ e^{−2πi k·ℓ/N}: one O(N²) pass folds Σ onto the N
  // cyclic offsets (8.2), one FFT of length N finishes (7.3). Real because t_ℓ = t_{−ℓ} for symmetric Σ.
  return filter_multipliers(shift_averaged_autocovariance(covariance, shape), shape).real();
}

Eigen::VectorXd fourier_mode_variances_from_samples(const Eigen::MatrixXd& centred_samples, const ImageShape& shape) {
  const char* where = "fourier_mode_variances_from_samples";
  check_length(centred_samples.cols(), shape, where, "the sample matrix");
  if (centred_samples.rows() == 0) throw DataError(std::string(where) + ": no samples");
  if (!centred_samples.allFinite()) throw DataError(std::string(where) + ": the samples have non-finite entries");
  const int N = shape.size();
  FftwBuffer in(N), out(N);
  Eigen::VectorXd power = Eigen::VectorXd::Zero(N);
  for (Eigen::Index n = 0; n < centred_samples.rows(); ++n) {
    for (int i = 0; i < N; ++i) in.c()[i] = centred_samples(n, i);
    execute(shape, FFTW_FORWARD, in, out);
    for (int k = 0; k < N; ++k) power[k] += std::norm(out.c()[k]);
  }
  return power / (double(centred_samples.rows()) * N);
}

Eigen::VectorXd shift_averaged_autocovariance(const Eigen::MatrixXd& covariance, const ImageShape& shape) {
  const char* where = "shift_averaged_autocovariance";
  if (covariance.rows() != covariance.cols()) throw DataError(std::string(where) + ": covariance is not square");
  check_length(covariance.rows(), shape, where, "the covariance");
  const int N = shape.size(), H = shape.height, Wd = shape.width;
  Eigen::VectorXd t = Eigen::VectorXd::Zero(N);
  // Column j = (jy, jx) is contiguous; row i = (iy, ix) sits at offset ((jy − iy) mod H, (jx − ix) mod W).
  for (int j = 0; j < N; ++j) {
    const int jy = j / Wd, jx = j % Wd;
    const double* col = covariance.data() + std::size_t(j) * N;
    for (int iy = 0; iy < H; ++iy) {
      double* trow = t.data() + std::size_t((jy - iy + H) % H) * Wd;
      const double* crow = col + std::size_t(iy) * Wd;
      for (int ix = 0; ix <= jx; ++ix) trow[jx - ix] += crow[ix];
      for (int ix = jx + 1; ix < Wd; ++ix) trow[jx - ix + Wd] += crow[ix];
    }
  }
  return t / N;
}

double stationarity_defect(const Eigen::MatrixXd& covariance, const ImageShape& shape) {
  const char* where = "is_stationary";
  if (covariance.rows() != covariance.cols()) throw DataError(std::string(where) + ": covariance is not square");
  check_length(covariance.rows(), shape, where, "the covariance");
  const int N = shape.size();
  const double scale = covariance.cwiseAbs().maxCoeff();
  if (scale == 0.0) return 0.0;
  double worst = 0.0;
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < N; ++i)
      worst = std::max(worst, std::abs(covariance(i, j) - covariance(0, offset_index(i, j, shape))));
  return worst / scale;
}

bool is_stationary(const Eigen::MatrixXd& covariance, const ImageShape& shape, double rel_tol) {
  return stationarity_defect(covariance, shape) <= rel_tol;
}

Eigen::VectorXcd filter_multipliers(const Eigen::VectorXd& filter, const ImageShape& shape) {
  check_length(filter.size(), shape, "filter_multipliers", "the filter");
  const int N = shape.size();
  FftwBuffer in(N), out(N);
  for (int i = 0; i < N; ++i) in.c()[i] = filter[i];
  execute(shape, FFTW_FORWARD, in, out);
  return Eigen::Map<Eigen::VectorXcd>(out.c(), N);
}

namespace {
Eigen::VectorXd inverse_real(const Eigen::VectorXcd& spectrum, const ImageShape& shape) {
  const int N = shape.size();
  FftwBuffer in(N), out(N);
  for (int i = 0; i < N; ++i) in.c()[i] = spectrum[i];
  execute(shape, FFTW_BACKWARD, in, out);
  Eigen::VectorXd r(N);
  for (int i = 0; i < N; ++i) r[i] = out.c()[i].real() / N;
  return r;
}
}  // namespace

Eigen::VectorXd filter_from_multipliers(const Eigen::VectorXcd& multipliers, const ImageShape& shape) {
  check_length(multipliers.size(), shape, "filter_from_multipliers", "the multiplier vector");
  return inverse_real(multipliers, shape);
}

Eigen::VectorXd covariance_kernel(const Eigen::VectorXd& fourier_variances, const ImageShape& shape) {
  check_length(fourier_variances.size(), shape, "covariance_kernel", "the variance vector");
  return inverse_real(fourier_variances.cast<cplx>(), shape);
}

Eigen::MatrixXd circulant_from_first_row(const Eigen::VectorXd& first_row, const ImageShape& shape) {
  check_length(first_row.size(), shape, "circulant_from_first_row", "the first row");
  const int N = shape.size();
  Eigen::MatrixXd M(N, N);
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < N; ++i) M(i, j) = first_row[offset_index(i, j, shape)];
  return M;
}

Eigen::MatrixXcd dense_fourier_basis(const ImageShape& shape) {
  check_shape(shape, "dense_fourier_basis");
  const int N = shape.size(), H = shape.height, Wd = shape.width;
  Eigen::MatrixXcd F(N, N);
  for (int k = 0; k < N; ++k)
    for (int i = 0; i < N; ++i) {
      const double phase = 2.0 * std::numbers::pi *
                           (double((i / Wd) * (k / Wd) % H) / H + double((i % Wd) * (k % Wd) % Wd) / Wd);
      F(i, k) = std::polar(1.0 / std::sqrt(double(N)), -phase);
    }
  return F;
}

}  // namespace specbias::models
