// Fourier-basis quantities of signals on a ring (1-D) or a torus (2-D) with periodic boundaries, computed with
// FFTW: the Fourier-mode variances s_k = f_k^* Σ f_k (THEORY (7.3)) of any covariance, the same from samples, the
// shift-averaged autocovariance t_ℓ (8.2), a stationarity (circulant) check, filter multipliers γ = fft(w) (7.2)
// and the covariance kernel C(Δ) of a stationary process (7.6).
//
// 2-D convention (extends §7.1 axis by axis): pixel (y, x) has flat index i = y·width + x (C order, as images are
// stored); the unitary 2-D DFT has columns f_k(i) = N^{-1/2} e^{-2πi (y·ky/H + x·kx/W)}, N = H·W, mode index
// k = ky·width + kx, and a circulant-in-2-D ("block-circulant with circulant blocks") matrix is diagonal in it.
// Offsets ℓ = (ly, lx) are cyclic with flat index ly·width + lx. 1-D signals have height = 1.
// FFTW plans are created once per shape (under a lock; FFTW's planner is not thread-safe) and reused; all
// functions may be called concurrently.
#pragma once

#include <Eigen/Dense>
#include <string>

namespace specbias::models {

struct ImageShape {
  int height = 1;
  int width = 0;
  [[nodiscard]] int dims() const { return height > 1 ? 2 : 1; }
  [[nodiscard]] int size() const { return height * width; }
};

// "N = 64" or "28x28" (for messages and summaries).
std::string describe(const ImageShape& shape);

// (7.3) s_k = f_k^* Σ f_k for any symmetric covariance Σ (N×N, N = shape.size(); need not be stationary); 2-D:
// unitary 2-D DFT. Mode index k = ky*width + kx. Real, and s_k = s_{-k}. Cost O(N²) + one FFT: Σ is folded onto its
// shift-averaged autocovariance t (8.2), whose DFT is s. Throws DataError if Σ is not N×N, not finite or not symmetric (relative 1e-10).
Eigen::VectorXd fourier_mode_variances(const Eigen::MatrixXd& covariance, const ImageShape& shape);

// The same from centred samples (rows = samples, N columns) without forming Σ: s_k = mean_n |DFT(x_n)_k|² / N,
// i.e. (7.3) of the biased covariance XᵀX/n (multiply by n/(n−1) to match the unbiased Σ of
// moments_from_samples). Throws DataError on zero rows, a column count ≠ N or non-finite samples.
Eigen::VectorXd fourier_mode_variances_from_samples(const Eigen::MatrixXd& centred_samples, const ImageShape& shape);

// (8.2) shift-averaged autocovariance t_ℓ = (1/N) Σ_i Σ_{i,(i+ℓ) mod N} (2-D: ℓ = (ly, lx) cyclic, index
// ly*width + lx). Its DFT is s: s_k = Σ_ℓ t_ℓ e^{-2πi k·ℓ/N}. Direct O(N²) sum over Σ's columns.
Eigen::VectorXd shift_averaged_autocovariance(const Eigen::MatrixXd& covariance, const ImageShape& shape);

// Whether Σ is circulant (1-D) / block-circulant with circulant blocks (2-D) within rel. tolerance:
// |Σ_ij − Σ_{0,(j−i) mod}| ≤ rel_tol · max|Σ| for all i, j.
bool is_stationary(const Eigen::MatrixXd& covariance, const ImageShape& shape, double rel_tol = 1e-10);

// The largest |Σ_ij − Σ_{0,(j−i) mod}| / max|Σ| (0 for stationary Σ); for error messages.
double stationarity_defect(const Eigen::MatrixXd& covariance, const ImageShape& shape);

// (7.2) γ_k = Σ_l w_l e^{-2πi k·l/N} for a filter w indexed like pixels (correlation orientation (7.1)):
// the eigenvalues of the circulant W_ij = w_{(j−i) mod N} on the Fourier vectors f_k. Length N, mode order k.
Eigen::VectorXcd filter_multipliers(const Eigen::VectorXd& filter, const ImageShape& shape);

// Inverse of filter_multipliers: w = ifft(γ) (real part; γ must be Hermitian, γ_{-k} = conj γ_k, for a real w).
Eigen::VectorXd filter_from_multipliers(const Eigen::VectorXcd& multipliers, const ImageShape& shape);

// (7.6) covariance kernel of the stationary process with Fourier variances λ̃ (even in k):
// C(Δ) = (1/N) Σ_k λ̃_k e^{2πi k·Δ/N}, Δ = (Δy, Δx) cyclic with flat index Δy*width + Δx; C(0) = mean λ̃.
Eigen::VectorXd covariance_kernel(const Eigen::VectorXd& fourier_variances, const ImageShape& shape);

// The circulant (2-D: block-circulant with circulant blocks) N×N matrix M_ij = row_{(j−i) mod} built from its
// first row (flat offset index as above). Reference (dense) representation of filters and stationary covariances.
Eigen::MatrixXd circulant_from_first_row(const Eigen::VectorXd& first_row, const ImageShape& shape);

// The dense unitary DFT matrix F (N×N, F_ik = f_k(i)); the slow, obviously correct twin of the FFT paths.
Eigen::MatrixXcd dense_fourier_basis(const ImageShape& shape);

}  // namespace specbias::models
