// `specbias simulate` for the convolutional kinds: [model] kind = "conv_full" (THEORY §7: full-width circular
// filter, K = N, 1-D signals or 2-D images, one or two layers) and "conv_patch" (§8: local K or K×K filter).
//
// The data enter only through the Fourier-mode variances s_k (7.3), computed with FFTW from the covariance (any
// source; Σ need not be stationary) or straight from the samples of a data file. In the Fourier basis the model is
// the per-mode problem of conv::fourier_mode_problem ((7.7) one layer, (7.9) two layers: λ → s_k, η → Nη), which the
// ordinary pipeline (simulate.cpp) runs unchanged — closed form, quadrature, nested numeric path, emergence
// analysis, figures — with mode index = Fourier index k = ky·W + kx. On top of that this writes fourier.csv (k, ky,
// kx, s_k, γ_k(0)), kernel.csv (the generated covariance kernel C(Δ) (7.6) per τ), a "convolution" block in
// summary.json and figures/kernel.png. conv_patch has no per-Fourier-mode problem (every Fourier mode mixes all
// patch modes, (8.9)): simulate_convolution_to_directory hands it, with the same spectrum, to pipeline/conv_patch_run.
#pragma once

#include <filesystem>

#include "config/run_config.hpp"
#include "models/fourier_spectrum.hpp"
#include "pipeline/simulate.hpp"

namespace specbias::pipeline {

struct ConvolutionSetup {
  models::ImageShape shape;
  Eigen::VectorXd s;             // Fourier-mode variances s_k (7.3), mode index k = ky*W + kx
  Eigen::VectorXcd gamma0;       // first (or only) layer's multipliers γ_k(0) = fft(w(0)) (delta start: constant)
  Eigen::VectorXcd gamma2_0;     // second layer's (layers = 2), else empty
  std::string data_description;
  std::optional<double> stationarity_defect;  // of the data covariance, when one was formed
  Eigen::MatrixXd covariance;    // pixel-space Σ (N×N) when formed: always for covariance sources, for data files
                                 // when N ≤ kPixelCovarianceMaxN (unbiased); empty otherwise
  static constexpr int kPixelCovarianceMaxN = 1024;
};

// Data → image shape and s_k; ConfigError for conv_patch, shape/size mismatches, non-centred data.
ConvolutionSetup build_convolution(const config::Config& c);
// The config of the per-mode problem in the Fourier basis (kind one_layer / two_layer, eigenvalues = s_k with the
// identity basis, η → Nη) that simulate() runs for a conv config.
config::Config fourier_mode_config(const config::Config& c, const ConvolutionSetup& setup);
// simulate_to_directory for conv kinds: the Fourier-mode run plus fourier.csv, kernel.csv, the summary's
// "convolution" block, figures/kernel.png, and the original resolved config.
SimulationResult simulate_convolution_to_directory(const config::Config& c, const std::filesystem::path& out, bool quiet);

}  // namespace specbias::pipeline
