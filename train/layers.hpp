// Layers of the MLP "UNet" (EMPIRICAL.md §2), each with forward and backward over a whole batch:
//   Linear        Y = W X + b, W out×in (PyTorch orientation), init U(±1/sqrt(in)) for W and b (§1)
//   LayerNorm     per sample over features, biased variance, eps 1e-5, affine γ (=1 at init), β (=0)
//   SiLU          y = x·sigmoid(x)
//   FourierEmbedding  e = [sin(2π f c), cos(2π f c)] (sine half first), f ∈ R^{E/2}, f_j ~ N(0,1), frozen
// Activations are features × batch (column = sample). Layers hold no activations: what a backward needs is
// kept in a caller-owned Context, and parameter gradients are written (overwritten, not accumulated) into a
// gradient buffer laid out like the ParameterStore (`grads`: its base pointer, usually store.grads().data()).
// The per-column kernels are exposed so blocks can fuse LayerNorm, FiLM and SiLU in one pass.
#pragma once

#include <cmath>
#include <string>

#include "train/parameter_store.hpp"
#include "train/rng.hpp"
#include "train/tensor.hpp"

namespace specbias::train {

template <typename T>
class Linear {
 public:
  Linear() = default;
  // Registers "<name>.weight" (out, in) and "<name>.bias" (out,) in `store`.
  Linear(ParameterStore<T>& store, const std::string& name, Index in, Index out);
  [[nodiscard]] static std::size_t parameter_count(Index in, Index out) { return static_cast<std::size_t>(in * out + out); }

  // W and b ~ U(±1/sqrt(in)) (torch.nn.Linear's default); W drawn in (out, in) row-major order, then b.
  void init(Rng& rng);

  [[nodiscard]] Index in() const { return weight_.cols; }
  [[nodiscard]] Index out() const { return weight_.rows; }
  [[nodiscard]] const ParameterSlot<T>& weight() const { return weight_; }
  [[nodiscard]] const ParameterSlot<T>& bias() const { return bias_; }

  // Y = W X + b, or Y += W X + b with accumulate. X: in×B, Y: out×B, not aliasing X.
  void forward(const MatCRef<T>& X, MatRef<T> Y, bool accumulate = false) const;
  // dW = G Xᵀ, db = Σ_columns G (overwritten in `grads`). X: the forward input, G = ∂L/∂Y (out×B).
  void backward_params(const MatCRef<T>& X, const MatCRef<T>& G, T* grads) const;
  // gX = Wᵀ G (in×B), or gX += Wᵀ G with accumulate.
  void backward_input(const MatCRef<T>& G, MatRef<T> gX, bool accumulate = false) const;

 private:
  ParameterSlot<T> weight_;
  ParameterSlot<T> bias_;
};

template <typename T>
class LayerNorm {
 public:
  static constexpr double kEps = 1e-5;  // torch.nn.LayerNorm's default, EMPIRICAL.md §2

  struct Context {
    Mat<T> xhat;  // (x − mean)·rstd, n×B
    Vec<T> rstd;  // 1/sqrt(var + eps), B
    void resize(Index n, Index batch) {
      ensure_shape(xhat, n, batch);
      ensure_shape(rstd, batch, 1);
    }
  };

  LayerNorm() = default;
  // Registers "<name>.weight" (γ) and "<name>.bias" (β), both (n,).
  LayerNorm(ParameterStore<T>& store, const std::string& name, Index n);
  [[nodiscard]] static std::size_t parameter_count(Index n) { return static_cast<std::size_t>(2 * n); }

  void init();  // γ = 1, β = 0

  [[nodiscard]] Index size() const { return gamma_.rows; }
  [[nodiscard]] const ParameterSlot<T>& gamma() const { return gamma_; }
  [[nodiscard]] const ParameterSlot<T>& beta() const { return beta_; }

  // Y = γ ⊙ x̂ + β per column. X, Y: n×B (may alias).
  void forward(const MatCRef<T>& X, Context& ctx, MatRef<T> Y) const;
  // From G = ∂L/∂Y: dγ, dβ (overwritten in `grads`) and gX = ∂L/∂X (n×B).
  void backward(const Context& ctx, const MatCRef<T>& G, MatRef<T> gX, T* grads) const;

  // Column kernels (n features, contiguous). normalize_column writes x̂ (may alias x) and returns rstd.
  static T normalize_column(const T* x, T* xhat, Index n);
  // gx = rstd (ĝ − mean(ĝ) − x̂ mean(ĝ ⊙ x̂)) with ĝ = g ⊙ γ; gx may alias g.
  static void backward_column(const T* g, const T* gamma, const T* xhat, T rstd, T* gx, Index n);

 private:
  ParameterSlot<T> gamma_;
  ParameterSlot<T> beta_;
};

// SiLU y = x σ(x). The forward keeps σ(x) and y, from which the derivative σ + y(1 − σ) follows without x.
template <typename T>
struct SiLU {
  struct Context {
    Mat<T> sig;  // σ(x)
    Mat<T> y;    // x σ(x)
    void resize(Index n, Index batch) {
      ensure_shape(sig, n, batch);
      ensure_shape(y, n, batch);
    }
  };
  static void forward(const MatCRef<T>& X, Context& ctx);  // result in ctx.y
  static void backward(const Context& ctx, const MatCRef<T>& G, MatRef<T> gX);
};

template <typename T>
class FourierEmbedding {
 public:
  FourierEmbedding() = default;
  // dim = E, even and ≥ 2 (checked by the network config).
  explicit FourierEmbedding(Index dim) : freqs_(Vec<T>::Zero(dim / 2)), two_pi_freqs_(Vec<T>::Zero(dim / 2)) {}

  void init(Rng& rng);  // f_j ~ N(0, 1), j = 0…E/2−1
  [[nodiscard]] Index dim() const { return 2 * freqs_.size(); }
  [[nodiscard]] const Vec<T>& freqs() const { return freqs_; }
  void set_freqs(const Vec<T>& f);

  // e (E×B): rows j < E/2 hold sin(2π f_j c_b), rows E/2 + j hold cos(2π f_j c_b); c: c_noise per sample.
  // The phase is c·(2π f) with 2π f rounded to T once, as PyTorch's `c[:, None] * (2 * pi * f)` does.
  void forward(const VecCRef<T>& c_noise, MatRef<T> e) const;

 private:
  Vec<T> freqs_;
  Vec<T> two_pi_freqs_;
};

extern template class Linear<float>;
extern template class Linear<double>;
extern template class LayerNorm<float>;
extern template class LayerNorm<double>;
extern template struct SiLU<float>;
extern template struct SiLU<double>;
extern template class FourierEmbedding<float>;
extern template class FourierEmbedding<double>;

}  // namespace specbias::train
