// The training-run configuration for `specbias train` (EMPIRICAL.md; docs/config.md, section "Training runs"):
// one plain struct per block, defaults = the paper's Gaussian d = 128 settings, checked on load with the same
// TomlReader as the simulation config (file:line:col, allowed range, did-you-mean for unknown keys).
#pragma once

#include <string>
#include <toml++/toml.h>
#include <vector>

namespace specbias::config {

struct TrainDataConfig {
  std::string source = "gaussian";  // gaussian (THEORY (12.4), sampled) | file
  int dim = 128;                    // gaussian
  long long samples = 10000;        // gaussian: training samples drawn
  long long seed = 0;               // gaussian: SplitMix64 seed for spectrum, rotation and samples
  std::string file;                 // .npy (N×d, N×H×W, N×C×H×W) or MNIST IDX (.gz)
  std::string scaling = "minus_one_one";
  long long max_samples = 0;        // file: 0 = all
};

struct TrainModelConfig {
  std::string kind = "mlp_unet";  // mlp_unet | linear (THEORY (3.11): EDM-preconditioned linear denoiser)
  int nlayers = 5;
  int hidden = 256;               // mlp_unet: H; linear with 2 layers: h (0 = d)
  int embedding = 256;
  int layers = 1;                 // linear: 1 (V) or 2 (V₂V₁)
  double init_scale = 0.0;        // linear: V(0) = init_scale·I (two layers: V₁ = V₂ = sqrt(init_scale)·I)
  long long seed = 1;  // initialisation (and the frozen Fourier vector)
};

struct TrainEdmConfig {
  double sigma_data = 0.5;
  double p_mean = -1.2;
  double p_std = 1.2;
  std::string reduction = "mean";  // mean (the authors') | sum (EDM proper)
  double fixed_sigma = 0.0;        // > 0: train every sample at this σ (per-σ training of the linear family)
};

struct TrainTrainingConfig {
  long long steps = 5000;
  long long batch = 1024;
  double lr = 1e-4;
  std::string optimizer = "adam";   // adam | sgd
  long long seed = 2;               // mini-batch indices and EDM noise
  long long checkpoint_every = 500; // steps between checkpoints (0: only at the end)
  int shards = 2;                   // batch shards run concurrently; results depend on this, not on threads
};

struct TrainSamplingConfig {
  long long samples = 10000;        // generated samples per record
  int steps = 20;                   // Heun steps n (NFE = 2n − 1)
  double sigma_min = 0.002, sigma_max = 80.0, rho = 7.0;
  std::string latents = "fixed";    // fixed (same latents at every record) | fresh
  long long seed = 3;
  long long chunk = 2000;           // samples per sampler batch (memory: a few × d × chunk floats)
  std::string schedule = "pseudo_log";  // pseudo_log (EMPIRICAL §4) | log (`records` log-spaced) | uniform
  std::string schedule_kind = "auto";   // auto (gaussian for gaussian data, images for files) | gaussian | images
  long long every = 100;            // uniform schedule stride
  long long records = 60;           // log schedule: number of log-spaced steps (plus step 0)
  bool keep_samples = false;        // write the first `keep` samples of every record as .npy
  long long keep = 64;
};

struct TrainAnalysisConfig {
  std::string criterion = "geometric";  // geometric | harmonic (threshold against the first record)
  double smoothing = 1.0;               // Gaussian width in checkpoint-index space (0: none)
  double gray_lo = 0.5, gray_hi = 2.0;  // λ_k / mean_j v_j(first) in this range: excluded from fits
};

struct TrainRunConfig {
  int threads = 0;  // 0: all hardware threads
  bool figures = true;
};

struct TrainConfig {
  std::string source;  // file the config came from ("<string>" for tests)
  TrainDataConfig data;
  TrainModelConfig model;
  TrainEdmConfig edm;
  TrainTrainingConfig training;
  TrainSamplingConfig sampling;
  TrainAnalysisConfig analysis;
  TrainRunConfig run;

  [[nodiscard]] toml::table to_toml() const;
};

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides = {});
TrainConfig parse_train_config(const std::string& text, const std::string& name,
                               const std::vector<std::string>& overrides = {});

}  // namespace specbias::config
