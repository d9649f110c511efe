// The linear family inside the EDM wrapper: the inner network F is linear and ignores c_noise,
//   one layer:  F(u) = V u + b̂                 (V: d×d),
//   two layers: F(u) = V₂ V₁ u + b̂              (V₁: h×d, V₂: d×h),
// so D(x; σ) = c_skip x + c_out (V c_in x + b̂) is THEORY (3.11)'s EDM-preconditioned linear denoiser. Trained at a
// fixed σ (EdmConfig::fixed_sigma) its effective weight W = c_skip I + c_out c_in V follows the one-layer flow
// (3.2) (discrete: (3.6)) with η_W = η c_in², η_b = η; with the log-normal σ of EDM one V serves all σ.
// Initialisation: V = scale·I (two layers: V₁ = V₂ = sqrt(scale)·I on the leading d×d block, zero elsewhere, an
// aligned start, since V = 0 is a fixed point of the two-layer flow), b̂ = 0. Same interface as MlpUNet<T>.
#pragma once

#include <cstdint>
#include <span>

#include "train/parameter_store.hpp"
#include "train/tensor.hpp"

namespace specbias::train {

struct LinearDenoiserConfig {
  Index dim = 8;
  int layers = 1;      // 1 or 2
  Index hidden = 0;    // two layers: h (0 = d); must be >= d
  double init_scale = 0.0;

  void validate() const;  // ConfigError naming the key
};

[[nodiscard]] std::int64_t linear_denoiser_parameter_count(const LinearDenoiserConfig& config);

template <typename T>
class LinearDenoiser {
 public:
  struct Context {
    Mat<T> input;   // u (d×B)
    Mat<T> hidden;  // V₁ u (h×B), two layers only
    Mat<T> output;  // F (d×B)
  };

  explicit LinearDenoiser(const LinearDenoiserConfig& config);
  LinearDenoiser(const LinearDenoiser&) = delete;
  LinearDenoiser& operator=(const LinearDenoiser&) = delete;

  struct Shape {
    Index dim;
  };
  [[nodiscard]] Shape config() const { return {config_.dim}; }
  [[nodiscard]] const LinearDenoiserConfig& linear_config() const { return config_; }
  [[nodiscard]] ParameterStore<T>& parameters() { return params_; }
  [[nodiscard]] const ParameterStore<T>& parameters() const { return params_; }

  // F(u) for u (d×B); c_noise is ignored (a linear denoiser has no time input).
  const Mat<T>& forward(const MatCRef<T>& u, const VecCRef<T>& c_noise, Context& ctx) const;
  // Writes ∂L/∂θ for ∂L/∂F = grad_output into `grads` (the store's layout); with grad_input also ∂L/∂u.
  void backward(Context& ctx, const MatCRef<T>& grad_output, Mat<T>* grad_input, std::span<T> grads) const;

  // The product V (= V₂V₁ for two layers), d×d, and b̂.
  [[nodiscard]] Mat<T> weight() const;
  [[nodiscard]] Vec<T> bias() const;

 private:
  LinearDenoiserConfig config_;
  ParameterStore<T> params_;
  ParameterSlot<T> v1_, v2_, b_;  // one layer: v1_ = V, v2_ unused
};

extern template class LinearDenoiser<float>;
extern template class LinearDenoiser<double>;

}  // namespace specbias::train
