// The run configuration: one plain struct per config block, filled with defaults and checked on load
// (docs/config.md describes every key). Loading rejects unknown keys and reports bad values with file, key,
// line, value and allowed range. `to_toml` writes the fully resolved configuration back out.
#pragma once

#include <optional>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace specbias::config {

struct DataConfig {
  // Exactly one source: `eigenvalues`, `generator` or `file`.
  std::vector<double> eigenvalues;  // explicit spectrum λ_k (mode order kept)
  std::string basis = "identity";   // eigenbasis for an explicit spectrum: identity | dct | random
  std::string generator;            // lognormal_rotation (12.4) | log_spaced (13.2) | stationary (13.2)
  int dim = 0;                      // for generators
  double top = 10.0, bottom = 1e-3; // log_spaced
  double rho = 0.5;                 // stationary: Σ_ij = ρ^dist(i,j)
  long long seed = 0;               // SplitMix64 seed for lognormal_rotation / random basis
  std::string file;                 // .npy (N×d, N×H×W, N×C×H×W) or MNIST IDX (.gz)
  std::string scaling = "minus_one_one";  // uint8 pixels: minus_one_one | unit | raw
  long long max_samples = 0;        // 0: all
  bool center = true;               // file data: drop the empirical mean (analyse the covariance only)
  std::vector<double> mean;         // optional non-zero mean (length d)
  std::vector<int> shape;           // image shape [H, W] or [N] (conv kinds; files N×H×W/MNIST give it implicitly)
};

struct ModelConfig {
  // one_layer | two_layer_symmetric | two_layer | deep_linear | deep_residual (THEORY §3, §5, §6)
  std::string kind = "one_layer";
  std::vector<double> Q{0.1};       // end-to-end w(0): scalar (all modes) or one per mode (not two_layer/residual)
  std::vector<double> a, b;         // two_layer: per-layer values (W₁ = R diag(a) Uᵀ, W₂ = U diag(b) Rᵀ)
  std::vector<double> v{0.0};       // deep_residual: V_ℓ(0) = U diag(v) Uᵀ
  int depth = 1;                    // L (deep kinds; 2 for the two-layer kinds, 1 for one_layer)
  bool infinite_depth = false;      // deep_linear with depth = "infinite" (6.7)
  bool tied = false;                // deep_linear: one shared matrix (κ = L²)
  int hidden = 0;                   // hidden width h >= d (two-layer kinds, untied deep); 0: h = d
  std::string W0_offset = "none";   // none | nonaligned (THEORY 13.2 matrix added to W(0), or to every layer)
  double W0_offset_scale = 0.1;
  std::string b0 = "zero";          // one_layer: zero | nonaligned (13.2 vector)
  double b0_scale = 0.5;
  // one_layer: plain | residual | score | edm_preconditioned (THEORY (3.10)–(3.11)); not plain: Q is V(0)
  std::string parametrisation = "plain";
  // Convolutional kinds conv_full (THEORY §7, K = N) and conv_patch (§8, local K×K patch), circular boundaries.
  int dims = 1;                     // 1: signals, 2: images; 0: from the data file (no dims, no data.shape)
  int layers = 1;                   // 1: w ⋆ x (Q = centre tap of a delta start); 2: w₂ ⋆ w₁ ⋆ x (a, b) (7.9)
  int kernel = 0;                   // conv_patch: odd K, 1 ≤ K ≤ N per axis
  [[nodiscard]] bool convolutional() const { return kind == "conv_full" || kind == "conv_patch"; }
};

struct TrainingConfig {
  double eta = 1.0;
  std::vector<double> tau;          // explicit list, or built from the range below
  double tau_min = 1e-4, tau_max = 1e5;
  int tau_points = 0;               // > 0: log-spaced range (plus τ = 0 when include_zero)
  bool include_zero = true;
  bool discrete_steps = false;      // gradient descent (3.6): n = round(τ) steps instead of gradient flow
  // Per-σ learning-rate factor: none | edm_density | edm_loss_weight | edm_both (THEORY §12)
  std::string eta_weighting = "none";
  double p_mean = -1.2, p_std = 1.2;  // EDM log-normal σ density (12.1)
  double sigma_data = 0.5;          // σ_d of the EDM loss weight and preconditioning (12.1)
  // Loss variant (THEORY §2.2, §9): edm_x | edm_eps | vp_x | vp_eps | vp_v | flow_matching. Variants other than
  // edm_x need kind = one_layer, an aligned start, b(0) = 0 and zero-mean data.
  std::string loss = "edm_x";
};

struct SamplingConfig {
  double sigma_min = 0.002;
  double sigma_max = 80.0;
  double t_min = 0.0, t_max = 1.0;  // loss = flow_matching: the sampler runs over t ∈ [t_min, t_max] ⊆ [0, 1] (9.5)
};

struct RunConfig {
  std::string method = "both";       // closed_form | numeric | both
  std::string numeric_path = "auto"; // auto | modewise | full_matrix
  bool quadrature = true;            // also run adaptive quadrature (4.4) when the start is aligned
  int threads = 0;                   // 0: all hardware threads
};

struct SolverConfig {
  std::string outer = "auto";        // auto | exponential | solution | bsimp | msbdf | dopri5
  int panels = 24;
  int points_per_panel = 12;
  double outer_rtol = 1e-12, outer_atol = 1e-14;
  long long outer_max_steps = 2'000'000;
  double inner_rtol = 1e-11, inner_atol = 1e-14;
  long long inner_max_steps = 200'000;
  double quadrature_rtol = 1e-12;
};

struct AnalysisConfig {
  std::string criterion = "geometric";  // geometric | harmonic | arithmetic (11.1)
  std::string target = "data";          // data (λ_k) | asymptote ((4.8))
  double gray_lo = 0.5, gray_hi = 2.0;  // (11.3)
  std::vector<double> weight_sigma{1.0};// σ values for weight trajectories (Fig. 2A)
  std::vector<double> weight_t{0.5};    // loss = flow_matching: t values for weight trajectories (Fig. 7)
  int points_per_decade = 40;           // bracketing grid for continuous crossings
};

struct ValidationConfig {
  double quadrature_rel = 1e-9;      // closed form vs adaptive quadrature (THEORY §15)
  double nested_rel = 1e-9;          // closed form vs nested mode-wise path
  double pf_transition_rel = 1e-7;   // closed form vs full-matrix PF transport
  double weights_abs = 1e-10;        // closed-form weights vs numeric flow
};

struct OutputConfig {
  bool figures = true;
  bool npy = true;                   // also write variance.npy etc.
};

struct Config {
  std::string source;                // file the config came from
  DataConfig data;
  ModelConfig model;
  TrainingConfig training;
  SamplingConfig sampling;
  RunConfig run;
  SolverConfig solver;
  AnalysisConfig analysis;
  ValidationConfig validation;
  OutputConfig output;

  [[nodiscard]] toml::table to_toml() const;
  [[nodiscard]] toml::table model_table() const;  // the [model] block of to_toml (keys of this kind only)
  [[nodiscard]] toml::table training_table() const;  // the [training] block of to_toml
};

// Parses a config file; `overrides` are --set assignments applied before validation.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Parses config text (tests, built-in defaults); `name` stands in for the file name in messages.
Config parse_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides = {});

}  // namespace specbias::config
