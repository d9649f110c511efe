// EDM preconditioning, noise draws and loss with its gradient (see edm.hpp; EMPIRICAL.md §1).
#include "train/edm.hpp"

#include <cmath>
#include <string>

#include "common/errors.hpp"

namespace specbias::train {

void EdmConfig::validate() const {
  auto bad = [](const std::string& key, double v, const std::string& allowed) {
    throw ConfigError("edm." + key + " = " + std::to_string(v) + " is invalid: " + allowed);
  };
  if (!(sigma_data > 0) || !std::isfinite(sigma_data)) bad("sigma_data", sigma_data, "must be finite and > 0");
  if (!(sigma_min > 0) || !std::isfinite(sigma_min)) bad("sigma_min", sigma_min, "must be finite and > 0");
  if (!std::isfinite(p_mean)) bad("p_mean", p_mean, "must be finite");
  if (!(p_std >= 0) || !std::isfinite(p_std)) bad("p_std", p_std, "must be finite and >= 0");
}

EdmCoefficients edm_coefficients(double sigma, const EdmConfig& config) {
  if (!(sigma >= 0) || !std::isfinite(sigma))
    throw NumericalError("EDM: noise level sigma = " + std::to_string(sigma) + " (must be finite and >= 0)");
  const double s = sigma == 0.0 ? config.sigma_min : sigma;
  const double sd = config.sigma_data;
  const double s2 = s * s + sd * sd;
  EdmCoefficients c{};
  c.sigma = s;
  c.c_skip = sd * sd / s2;
  c.c_out = s * sd / std::sqrt(s2);
  c.c_in = 1.0 / std::sqrt(s2);
  c.c_noise = std::log(s) / 4.0;
  c.weight = s2 / ((s * sd) * (s * sd));
  return c;
}

template <typename T>
Edm<T>::Edm(const EdmConfig& config) : config_(config) {
  config_.validate();
}

template <typename T>
void Edm<T>::prepare(const MlpUNet<T>& net, const VecCRef<T>& sigma, Index batch, EdmContext<T>& ctx) const {
  if (sigma.size() != batch)
    throw DataError("EDM: " + std::to_string(sigma.size()) + " noise levels for a batch of " + std::to_string(batch));
  const Index d = net.config().dim;
  ensure_shape(ctx.c_skip, batch, 1);
  ensure_shape(ctx.c_out, batch, 1);
  ensure_shape(ctx.c_in, batch, 1);
  ensure_shape(ctx.c_noise, batch, 1);
  ensure_shape(ctx.weight, batch, 1);
  ensure_shape(ctx.noisy, d, batch);
  ensure_shape(ctx.net_input, d, batch);
  ensure_shape(ctx.denoised, d, batch);
  for (Index j = 0; j < batch; ++j) {
    const EdmCoefficients c = edm_coefficients(static_cast<double>(sigma(j)), config_);
    ctx.c_skip(j) = static_cast<T>(c.c_skip);
    ctx.c_out(j) = static_cast<T>(c.c_out);
    ctx.c_in(j) = static_cast<T>(c.c_in);
    ctx.c_noise(j) = static_cast<T>(c.c_noise);
    ctx.weight(j) = static_cast<T>(c.weight);
  }
}

template <typename T>
void Edm<T>::denoise_prepared(const MlpUNet<T>& net, const MatCRef<T>& y, EdmContext<T>& ctx) const {
  ctx.net_input.noalias() = y * ctx.c_in.asDiagonal();
  const Mat<T>& F = net.forward(ctx.net_input, ctx.c_noise, ctx.net);
  ctx.denoised.noalias() = y * ctx.c_skip.asDiagonal();
  ctx.denoised.noalias() += F * ctx.c_out.asDiagonal();
}

template <typename T>
const Mat<T>& Edm<T>::denoise(const MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma,
                              EdmContext<T>& ctx) const {
  if (x.rows() != net.config().dim)
    throw DataError("EDM: input has " + std::to_string(x.rows()) + " features, the network expects " +
                    std::to_string(net.config().dim));
  prepare(net, sigma, x.cols(), ctx);
  denoise_prepared(net, x, ctx);
  return ctx.denoised;
}

template <typename T>
void Edm<T>::draw_noise(Rng& rng, Index dim, Index batch, Vec<T>& sigma, Mat<T>& eps) const {
  ensure_shape(sigma, batch, 1);
  ensure_shape(eps, dim, batch);
  // One batched draw (the same numbers as batch + dim·batch calls of rng.normal(), in that order).
  const auto n = static_cast<std::size_t>(batch + dim * batch);
  if (scratch_.size() != n) scratch_.resize(n);
  rng.fill_normal(scratch_);
  for (Index j = 0; j < batch; ++j)
    sigma(j) = static_cast<T>(std::exp(config_.p_mean + config_.p_std * scratch_[static_cast<std::size_t>(j)]));
  const Eigen::Map<const Mat<double>> z(scratch_.data() + batch, dim, batch);
  eps = z.cast<T>();
}

template <typename T>
double Edm<T>::normaliser(Index dim, Index batch) const {
  return config_.reduction == LossReduction::mean ? 1.0 / static_cast<double>(dim * batch)
                                                  : 1.0 / static_cast<double>(batch);
}

template <typename T>
double Edm<T>::loss(const MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                    EdmContext<T>& ctx) const {
  const Index d = net.config().dim, batch = x.cols();
  if (x.rows() != d || eps.rows() != d || eps.cols() != batch)
    throw DataError("EDM loss: x and eps must both be " + std::to_string(d) + " x batch");
  prepare(net, sigma, batch, ctx);
  ctx.noisy.noalias() = x + eps * sigma.asDiagonal();
  denoise_prepared(net, ctx.noisy, ctx);
  double total = 0.0;
  for (Index j = 0; j < batch; ++j)
    total += static_cast<double>(ctx.weight(j)) * static_cast<double>((ctx.denoised.col(j) - x.col(j)).squaredNorm());
  return total * normaliser(d, batch);
}

template <typename T>
double Edm<T>::loss_and_grad(MlpUNet<T>& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                             EdmContext<T>& ctx, Mat<T>* grad_x) const {
  const double value = loss(net, x, sigma, eps, ctx);
  const Index d = net.config().dim, batch = x.cols();
  const T norm = static_cast<T>(normaliser(d, batch));
  // ∂L/∂D = 2 c ω (D − x) per column; ∂L/∂F = c_out ∂L/∂D. ctx.denoised is reused for ∂L/∂D.
  Mat<T>& gD = ctx.denoised;
  ensure_shape(ctx.grad_F, d, batch);
  for (Index j = 0; j < batch; ++j) {
    gD.col(j) = (T(2) * norm * ctx.weight(j)) * (gD.col(j) - x.col(j));
    ctx.grad_F.col(j) = ctx.c_out(j) * gD.col(j);
  }
  if (grad_x == nullptr) {
    net.backward(ctx.net, ctx.grad_F, nullptr);
    return value;
  }
  // y = x + σε and the target x both depend on x: ∂L/∂x = (c_skip − 1) ∂L/∂D + c_in ∂L/∂(net input).
  net.backward(ctx.net, ctx.grad_F, &ctx.grad_net_input);
  ensure_shape(*grad_x, d, batch);
  for (Index j = 0; j < batch; ++j)
    grad_x->col(j) = (ctx.c_skip(j) - T(1)) * gD.col(j) + ctx.c_in(j) * ctx.grad_net_input.col(j);
  return value;
}

template class Edm<float>;
template class Edm<double>;

}  // namespace specbias::train
