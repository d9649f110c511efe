// Linear, LayerNorm, SiLU and the Fourier time embedding (see layers.hpp; EMPIRICAL.md §1–§2).
//
// GCC 12 reports a false "used uninitialized" inside its own AVX-512 intrinsics when Eigen's vectorised
// sin/cos (psincos_float) is inlined (GCC bug 105593); nothing in this file reads uninitialised memory.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "train/layers.hpp"

#include <numbers>
#include <type_traits>

#include "train/gemm.hpp"

namespace specbias::train {

// ---- Linear ---------------------------------------------------------------------------------------------

template <typename T>
Linear<T>::Linear(ParameterStore<T>& store, const std::string& name, Index in, Index out)
    : weight_(store.add(name + ".weight", out, in, {static_cast<std::size_t>(out), static_cast<std::size_t>(in)})),
      bias_(store.add(name + ".bias", out, 1, {static_cast<std::size_t>(out)})) {}

template <typename T>
void Linear<T>::init(Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in()));
  MatMap<T> W = weight_.value_matrix();
  for (Index i = 0; i < W.rows(); ++i)
    for (Index j = 0; j < W.cols(); ++j) W(i, j) = static_cast<T>(rng.uniform(-bound, bound));
  VecMap<T> b = bias_.value_vector();
  for (Index i = 0; i < b.size(); ++i) b(i) = static_cast<T>(rng.uniform(-bound, bound));
}

// float32 products go through train/gemm (its own AVX-512 kernel: ≈ 1.3× Eigen 3.4's single-precision GEMM on
// the trainer's shapes, and it writes dW = G Xᵀ directly instead of zero-filling it and accumulating); float64
// (the gradient checks) keeps Eigen's products. Operands are described by strides, so transposes cost nothing.
template <typename T>
void Linear<T>::forward(const MatCRef<T>& X, MatRef<T> Y, bool accumulate) const {
  const MatMap<T> W = weight_.value_matrix();
  // Broadcasting the bias first replaces the zero fill Eigen does before `Y = W X`, saving a pass over Y.
  if (accumulate)
    Y.colwise() += bias_.value_vector();
  else
    Y.colwise() = bias_.value_vector();
  if constexpr (std::is_same_v<T, float>)
    gemm(out(), X.cols(), in(), {W.data(), 1, out()}, {X.data(), 1, X.outerStride()}, Y.data(), Y.outerStride(), true);
  else
    Y.noalias() += W * X;
}

template <typename T>
void Linear<T>::backward_params(const MatCRef<T>& X, const MatCRef<T>& G, T* grads) const {
  if constexpr (std::is_same_v<T, float>)  // dW = G Xᵀ: B(p, j) = X(j, p)
    gemm(out(), in(), G.cols(), {G.data(), 1, G.outerStride()}, {X.data(), X.outerStride(), 1},
         weight_.grad_matrix(grads).data(), out(), false);
  else
    weight_.grad_matrix(grads).noalias() = G * X.transpose();
  bias_.grad_vector(grads).noalias() = G.rowwise().sum();
}

template <typename T>
void Linear<T>::backward_input(const MatCRef<T>& G, MatRef<T> gX, bool accumulate) const {
  const MatMap<T> W = weight_.value_matrix();
  if constexpr (std::is_same_v<T, float>)  // gX = Wᵀ G: A(i, p) = W(p, i)
    gemm(in(), G.cols(), out(), {W.data(), out(), 1}, {G.data(), 1, G.outerStride()}, gX.data(), gX.outerStride(),
         accumulate);
  else if (accumulate)
    gX.noalias() += W.transpose() * G;
  else
    gX.noalias() = W.transpose() * G;
}

// ---- LayerNorm ------------------------------------------------------------------------------------------

template <typename T>
LayerNorm<T>::LayerNorm(ParameterStore<T>& store, const std::string& name, Index n)
    : gamma_(store.add(name + ".weight", n, 1, {static_cast<std::size_t>(n)})),
      beta_(store.add(name + ".bias", n, 1, {static_cast<std::size_t>(n)})) {}

template <typename T>
void LayerNorm<T>::init() {
  gamma_.value_vector().setOnes();
  beta_.value_vector().setZero();
}

template <typename T>
T LayerNorm<T>::normalize_column(const T* x, T* xhat, Index n) {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Eigen::Map<const A> xa(x, n);
  Eigen::Map<A> xh(xhat, n);
  // Two passes (mean, then centred squares): no cancellation, unlike E[x²] − E[x]².
  const T mean = xa.mean();
  xh = xa - mean;
  const T var = xh.square().mean();
  const T rstd = T(1) / std::sqrt(var + static_cast<T>(kEps));
  xh *= rstd;
  return rstd;
}

template <typename T>
void LayerNorm<T>::backward_column(const T* g, const T* gamma, const T* xhat, T rstd, T* gx, Index n) {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Eigen::Map<const A> ga(g, n), gam(gamma, n), xh(xhat, n);
  const T m1 = (ga * gam).mean();
  const T m2 = (ga * gam * xh).mean();
  Eigen::Map<A>(gx, n) = rstd * (ga * gam - m1 - xh * m2);
}

template <typename T>
void LayerNorm<T>::forward(const MatCRef<T>& X, Context& ctx, MatRef<T> Y) const {
  const Index n = X.rows(), batch = X.cols();
  ctx.resize(n, batch);
  const VecMap<T> g = gamma_.value_vector(), b = beta_.value_vector();
  for (Index j = 0; j < batch; ++j) {
    ctx.rstd(j) = normalize_column(X.col(j).data(), ctx.xhat.col(j).data(), n);
    Y.col(j) = ctx.xhat.col(j).cwiseProduct(g) + b;
  }
}

template <typename T>
void LayerNorm<T>::backward(const Context& ctx, const MatCRef<T>& G, MatRef<T> gX, T* grads) const {
  const Index n = G.rows(), batch = G.cols();
  gamma_.grad_vector(grads).noalias() = G.cwiseProduct(ctx.xhat).rowwise().sum();
  beta_.grad_vector(grads).noalias() = G.rowwise().sum();
  for (Index j = 0; j < batch; ++j)
    backward_column(G.col(j).data(), gamma_.value, ctx.xhat.col(j).data(), ctx.rstd(j), gX.col(j).data(), n);
}

// ---- SiLU -----------------------------------------------------------------------------------------------

template <typename T>
void SiLU<T>::forward(const MatCRef<T>& X, Context& ctx) {
  ctx.resize(X.rows(), X.cols());
  // 1/(1 + e^{−x}) with Eigen's vectorised exp; e^{−x} = inf for very negative x gives σ = 0 exactly.
  ctx.sig.array() = (T(1) + (-X.array()).exp()).inverse();
  ctx.y.array() = X.array() * ctx.sig.array();
}

template <typename T>
void SiLU<T>::backward(const Context& ctx, const MatCRef<T>& G, MatRef<T> gX) {
  // d/dx [x σ(x)] = σ + x σ (1 − σ) = σ + y (1 − σ).
  gX.array() = G.array() * (ctx.sig.array() + ctx.y.array() * (T(1) - ctx.sig.array()));
}

// ---- FourierEmbedding -----------------------------------------------------------------------------------

template <typename T>
void FourierEmbedding<T>::init(Rng& rng) {
  Vec<T> f(freqs_.size());
  for (Index j = 0; j < f.size(); ++j) f(j) = static_cast<T>(rng.normal());
  set_freqs(f);
}

template <typename T>
void FourierEmbedding<T>::set_freqs(const Vec<T>& f) {
  freqs_ = f;
  two_pi_freqs_ = static_cast<T>(2.0 * std::numbers::pi) * f;
}

template <typename T>
void FourierEmbedding<T>::forward(const VecCRef<T>& c_noise, MatRef<T> e) const {
  const Index half = freqs_.size();
  for (Index b = 0; b < c_noise.size(); ++b) {
    const auto phase = (two_pi_freqs_ * c_noise(b)).array();
    e.col(b).head(half).array() = phase.sin();
    e.col(b).tail(half).array() = phase.cos();
  }
}

template class Linear<float>;
template class Linear<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;
template struct SiLU<float>;
template struct SiLU<double>;
template class FourierEmbedding<float>;
template class FourierEmbedding<double>;

}  // namespace specbias::train
