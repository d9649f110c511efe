// EDM preconditioning and training loss (EMPIRICAL.md §1; Karras et al. 2022, Table 1):
//   c_skip = σ_d²/(σ²+σ_d²),  c_out = σσ_d/sqrt(σ²+σ_d²),  c_in = 1/sqrt(σ²+σ_d²),  c_noise = ln(σ)/4,
//   D(x; σ) = c_skip x + c_out F(c_in x, c_noise),   σ = 0 replaced by σ_min (default 0.002, the sampler's σ_min).
//   Loss: ln σ ~ N(P_mean, P_std²), n = σ ε, element loss ω(σ) (D(x + n; σ) − x)², ω = (σ²+σ_d²)/(σσ_d)²;
//   reduction "mean" over all d·B elements (the authors', default) or "sum" over dimensions, mean over batch.
// Coefficients are computed in double per sample and rounded to T once. The loss value is accumulated in double.
#pragma once

#include <cstdint>
#include <vector>

#include "train/mlp_unet.hpp"
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

  void validate() const;  // ConfigError for σ_d ≤ 0, σ_min ≤ 0, p_std < 0 or non-finite values
};

struct EdmCoefficients {
  double sigma;  // after the σ = 0 → σ_min replacement
  double c_skip, c_out, c_in, c_noise;
  double weight;  // ω(σ) = (σ²+σ_d²)/(σσ_d)², so ω c_out² = 1
};

// Throws NumericalError for σ < 0 or non-finite σ.
[[nodiscard]] EdmCoefficients edm_coefficients(double sigma, const EdmConfig& config);

// Per-sample coefficients (B each) and the scaled input, kept between forward and backward.
template <typename T>
struct EdmContext {
  typename MlpUNet<T>::Context net;
  Vec<T> c_skip, c_out, c_in, c_noise, weight;
  Mat<T> noisy;      // y = x + σ ε (loss only)
  Mat<T> net_input;  // c_in y
  Mat<T> denoised;   // D(y; σ); after loss_and_grad it holds ∂L/∂D instead
  Mat<T> grad_F;     // ∂L/∂F
  Mat<T> grad_net_input;
};

template <typename T>
class Edm {
 public:
  explicit Edm(const EdmConfig& config = {});
  [[nodiscard]] const EdmConfig& config() const { return config_; }

  // D(x; σ) for a batch x (d×B) with one σ per sample; returns ctx.denoised (d×B).
  const Mat<T>& denoise(const MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma, EdmContext<T>& ctx) const;

  // Draws σ (ln σ ~ N(P_mean, P_std²), B values) and then ε (d×B standard normals, column by column).
  // Uses an internal scratch buffer: not for concurrent calls on one Edm object.
  void draw_noise(Rng& rng, Index dim, Index batch, Vec<T>& sigma, Mat<T>& eps) const;

  // Loss of the clean batch x (d×B) with noise levels σ (B) and unit noise ε (d×B); forward only.
  double loss(const MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
              EdmContext<T>& ctx) const;
  // Same loss, and overwrites every parameter gradient of `net` with ∂loss/∂θ; with grad_x != nullptr also
  // writes ∂loss/∂x (d×B; x enters both the noisy input and the target).
  double loss_and_grad(MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                       EdmContext<T>& ctx, Mat<T>* grad_x = nullptr) const;

 private:
  void prepare(const MlpUNet<T>& net, const VecCRef<T>& sigma, Index batch, EdmContext<T>& ctx) const;
  // ctx.net_input must hold the noisy input y; computes D into ctx.denoised.
  void denoise_prepared(const MlpUNet<T>& net, const MatCRef<T>& y, EdmContext<T>& ctx) const;
  [[nodiscard]] double normaliser(Index dim, Index batch) const;

  EdmConfig config_;
  mutable std::vector<double> scratch_;  // normals of draw_noise, reused between steps
};

extern template class Edm<float>;
extern template class Edm<double>;

}  // namespace specbias::train
