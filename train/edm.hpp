// EDM preconditioning and training loss (EMPIRICAL.md §1; Karras et al. 2022, Table 1):
//   c_skip = σ_d²/(σ²+σ_d²),  c_out = σσ_d/sqrt(σ²+σ_d²),  c_in = 1/sqrt(σ²+σ_d²),  c_noise = ln(σ)/4,
//   D(x; σ) = c_skip x + c_out F(c_in x, c_noise),   σ = 0 replaced by σ_min (default 0.002, the sampler's σ_min).
//   Loss: ln σ ~ N(P_mean, P_std²), n = σ ε, element loss ω(σ) (D(x + n; σ) − x)², ω = (σ²+σ_d²)/(σσ_d)²;
//   reduction "mean" over all d·B elements (the authors', default) or "sum" over dimensions, mean over batch.
// Coefficients are computed in double per sample and rounded to T once; the loss is accumulated in double.
// Batch shards: with shards = k > 1 the batch is cut into k contiguous column ranges that run concurrently (one
// OpenMP thread each, single-threaded GEMMs, one join per call) and their parameter gradients are summed in
// shard order; results then depend on k but not on the thread count. shards = 1 runs the whole batch at once
// with the GEMMs threaded (train/gemm.hpp for float, also thread-count independent; Eigen for double).
#pragma once

#include <cstdint>
#include <vector>

#include "train/mlp_unet.hpp"
#include "train/parameter_store.hpp"
#include "train/rng.hpp"
#include "train/tensor.hpp"

namespace specbias::train {

enum class LossReduction { mean, sum };

struct EdmConfig {
  double sigma_data = 0.5;   // σ_d
  double sigma_min = 0.002;  // replaces σ = 0 inside the wrapper (c_noise = ln σ / 4 needs σ > 0)
  double p_mean = -1.2;      // ln σ ~ N(p_mean, p_std²)
  double p_std = 1.2;
  LossReduction reduction = LossReduction::mean;
  // > 0: every sample at this σ instead of ln σ ~ N(p_mean, p_std²) — per-σ training of the linear family, whose
  // gradient flow THEORY (3.2)/(3.6) with the rates (3.11) describes.
  double fixed_sigma = 0.0;

  void validate() const;  // ConfigError for σ_d ≤ 0, σ_min ≤ 0, p_std < 0 or non-finite values
};

struct EdmCoefficients {
  double sigma;  // after the σ = 0 → σ_min replacement
  double c_skip, c_out, c_in, c_noise;
  double weight;  // ω(σ) = (σ²+σ_d²)/(σσ_d)², so ω c_out² = 1
};

// Throws NumericalError for σ < 0 or non-finite σ.
[[nodiscard]] EdmCoefficients edm_coefficients(double sigma, const EdmConfig& config);

// What one batch shard keeps between forward and backward (n = the shard's samples). Net is the inner network F:
// MlpUNet<T> (EMPIRICAL §2) or LinearDenoiser<T> (the linear family, THEORY (3.11)); any type with Context,
// config().dim, parameters(), forward(x, c_noise, ctx) and a const backward(ctx, gF, g_in*, grads).
template <typename T, typename Net = MlpUNet<T>>
struct EdmShard {
  typename Net::Context net;
  Vec<T> c_skip, c_out, c_in, c_noise, weight;  // n each
  Mat<T> noisy;           // y = x + σ ε (loss only), d×n
  Mat<T> net_input;       // c_in y
  Mat<T> denoised;        // D(y; σ) (loss only); after the backward it holds ∂L/∂D
  Mat<T> grad_F;          // ∂L/∂F
  Mat<T> grad_net_input;  // ∂L/∂(c_in y), only when ∂L/∂x is asked for
  AlignedBuffer<T> grads; // shards ≥ 1: private parameter gradients, summed into the store
  double loss_sum = 0.0;  // Σ ω ||D − x||² over the shard
};

// Reusable state of Edm calls; buffers keep their size while the batch size is unchanged.
template <typename T, typename Net = MlpUNet<T>>
struct EdmContext {
  std::vector<EdmShard<T, Net>> shards;
};

template <typename T, typename Net = MlpUNet<T>>
class Edm {
 public:
  explicit Edm(const EdmConfig& config = {}, int shards = 1);
  [[nodiscard]] const EdmConfig& config() const { return config_; }
  [[nodiscard]] int shards() const { return shards_; }

  // D(x; σ) for a batch x (d×B) with one σ per sample, written to D (d×B, must not alias x).
  void denoise(const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, EdmContext<T, Net>& ctx,
               MatRef<T> D) const;

  // Draws σ (ln σ ~ N(P_mean, P_std²), B values) and then ε (d×B standard normals, column by column).
  // Uses an internal scratch buffer: not for concurrent calls on one Edm object.
  void draw_noise(Rng& rng, Index dim, Index batch, Vec<T>& sigma, Mat<T>& eps) const;

  // Loss of the clean batch x (d×B) with noise levels σ (B) and unit noise ε (d×B); forward only.
  double loss(const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
              EdmContext<T, Net>& ctx) const;
  // Same loss, and overwrites every parameter gradient of `net` with ∂loss/∂θ; with grad_x != nullptr also
  // writes ∂loss/∂x (d×B; x enters both the noisy input and the target).
  double loss_and_grad(Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                       EdmContext<T, Net>& ctx, Mat<T>* grad_x = nullptr) const;

 private:
  enum class Pass { denoise, loss, loss_and_grad };
  // Runs `pass` over the shards; returns Σ_shards loss_sum.
  double run(Pass pass, const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>* eps,
             EdmContext<T, Net>& ctx, MatRef<T>* D, std::span<T> store_grads, Mat<T>* grad_x) const;
  void shard_pass(Pass pass, const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma,
                  const MatCRef<T>* eps, EdmShard<T, Net>& sh, MatRef<T>* D, T* grads, Mat<T>* grad_x, Index c0,
                  T norm) const;
  [[nodiscard]] double normaliser(Index dim, Index batch) const;

  EdmConfig config_;
  int shards_;
  mutable std::vector<double> scratch_;  // normals of draw_noise, reused between steps
};

template <typename T>
class LinearDenoiser;
extern template class Edm<float>;
extern template class Edm<double>;
extern template class Edm<float, LinearDenoiser<float>>;
extern template class Edm<double, LinearDenoiser<double>>;

}  // namespace specbias::train
