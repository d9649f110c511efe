// EDM preconditioning, noise draws and loss with its gradient over batch shards (see edm.hpp; EMPIRICAL.md §1).
#include "train/edm.hpp"

#include <cmath>
#include <algorithm>
#include <exception>
#include <string>

#include "common/errors.hpp"
#include "train/linear_denoiser.hpp"

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

template <typename T, typename Net>
Edm<T, Net>::Edm(const EdmConfig& config, int shards) : config_(config), shards_(shards) {
  config_.validate();
  if (shards < 1) throw ConfigError("training.shards = " + std::to_string(shards) + " is invalid: must be >= 1");
}

template <typename T, typename Net>
double Edm<T, Net>::normaliser(Index dim, Index batch) const {
  return config_.reduction == LossReduction::mean ? 1.0 / static_cast<double>(dim * batch)
                                                  : 1.0 / static_cast<double>(batch);
}

template <typename T, typename Net>
void Edm<T, Net>::shard_pass(Pass pass, const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma,
                        const MatCRef<T>* eps, EdmShard<T, Net>& sh, MatRef<T>* D, T* grads, Mat<T>* grad_x, Index c0,
                        T norm) const {
  const Index d = net.config().dim, n = sigma.size();
  ensure_shape(sh.c_skip, n, 1);
  ensure_shape(sh.c_out, n, 1);
  ensure_shape(sh.c_in, n, 1);
  ensure_shape(sh.c_noise, n, 1);
  ensure_shape(sh.weight, n, 1);
  for (Index j = 0; j < n; ++j) {
    const EdmCoefficients c = edm_coefficients(static_cast<double>(sigma(j)), config_);
    sh.c_skip(j) = static_cast<T>(c.c_skip);
    sh.c_out(j) = static_cast<T>(c.c_out);
    sh.c_in(j) = static_cast<T>(c.c_in);
    sh.c_noise(j) = static_cast<T>(c.c_noise);
    sh.weight(j) = static_cast<T>(c.weight);
  }
  ensure_shape(sh.net_input, d, n);

  if (pass == Pass::denoise) {
    sh.net_input.noalias() = x * sh.c_in.asDiagonal();
    const Mat<T>& F = net.forward(sh.net_input, sh.c_noise, sh.net);
    D->noalias() = x * sh.c_skip.asDiagonal();
    D->noalias() += F * sh.c_out.asDiagonal();
    return;
  }

  ensure_shape(sh.noisy, d, n);
  ensure_shape(sh.denoised, d, n);
  sh.noisy.noalias() = x + *eps * sigma.asDiagonal();
  sh.net_input.noalias() = sh.noisy * sh.c_in.asDiagonal();
  const Mat<T>& F = net.forward(sh.net_input, sh.c_noise, sh.net);
  sh.denoised.noalias() = sh.noisy * sh.c_skip.asDiagonal();
  sh.denoised.noalias() += F * sh.c_out.asDiagonal();
  sh.loss_sum = 0.0;
  for (Index j = 0; j < n; ++j)
    sh.loss_sum += static_cast<double>(sh.weight(j)) * static_cast<double>((sh.denoised.col(j) - x.col(j)).squaredNorm());
  if (pass == Pass::loss) return;

  // ∂L/∂D = 2 c ω (D − x) per column (c: the reduction's normaliser over the whole batch), stored over D;
  // ∂L/∂F = c_out ∂L/∂D.
  Mat<T>& gD = sh.denoised;
  ensure_shape(sh.grad_F, d, n);
  for (Index j = 0; j < n; ++j) {
    gD.col(j) = (T(2) * norm * sh.weight(j)) * (gD.col(j) - x.col(j));
    sh.grad_F.col(j) = sh.c_out(j) * gD.col(j);
  }
  const std::span<T> g(grads, net.parameters().size());
  if (grad_x == nullptr) {
    net.backward(sh.net, sh.grad_F, nullptr, g);
    return;
  }
  // y = x + σε and the target x both depend on x: ∂L/∂x = (c_skip − 1) ∂L/∂D + c_in ∂L/∂(net input).
  net.backward(sh.net, sh.grad_F, &sh.grad_net_input, g);
  for (Index j = 0; j < n; ++j)
    grad_x->col(c0 + j) = (sh.c_skip(j) - T(1)) * gD.col(j) + sh.c_in(j) * sh.grad_net_input.col(j);
}

template <typename T, typename Net>
double Edm<T, Net>::run(Pass pass, const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma,
                   const MatCRef<T>* eps, EdmContext<T, Net>& ctx, MatRef<T>* D, std::span<T> store_grads,
                   Mat<T>* grad_x) const {
  const Index d = net.config().dim, batch = x.cols();
  if (x.rows() != d)
    throw DataError("EDM: input has " + std::to_string(x.rows()) + " features, the network expects " + std::to_string(d));
  if (batch < 1 || sigma.size() != batch)
    throw DataError("EDM: " + std::to_string(sigma.size()) + " noise levels for a batch of " + std::to_string(batch));
  if (eps != nullptr && (eps->rows() != d || eps->cols() != batch))
    throw DataError("EDM loss: eps is " + std::to_string(eps->rows()) + "x" + std::to_string(eps->cols()) +
                    ", expected the shape of x (" + std::to_string(d) + "x" + std::to_string(batch) + ")");
  for (Index j = 0; j < batch; ++j) (void)edm_coefficients(static_cast<double>(sigma(j)), config_);  // throws early
  if (grad_x != nullptr) ensure_shape(*grad_x, d, batch);

  const Index shards = std::min<Index>(shards_, batch);
  if (static_cast<Index>(ctx.shards.size()) != shards) ctx.shards.resize(static_cast<std::size_t>(shards));
  const std::size_t np = net.parameters().size();
  if (pass == Pass::loss_and_grad)
    for (Index s = 1; s < shards; ++s)
      if (ctx.shards[static_cast<std::size_t>(s)].grads.size() != np) ctx.shards[static_cast<std::size_t>(s)].grads.resize(np);
  const T norm = static_cast<T>(normaliser(d, batch));

  std::exception_ptr error;
#pragma omp parallel for schedule(static, 1) if (shards > 1)
  for (Index s = 0; s < shards; ++s) {
    try {
      const Index c0 = batch * s / shards, n = batch * (s + 1) / shards - c0;
      EdmShard<T, Net>& sh = ctx.shards[static_cast<std::size_t>(s)];
      const MatCRef<T> xs = x.middleCols(c0, n);
      const VecCRef<T> ss = sigma.segment(c0, n);
      T* grads = s == 0 ? store_grads.data() : sh.grads.data();
      if (eps != nullptr) {
        const MatCRef<T> es = eps->middleCols(c0, n);
        shard_pass(pass, net, xs, ss, &es, sh, nullptr, grads, grad_x, c0, norm);
      } else {
        MatRef<T> Ds = D->middleCols(c0, n);
        shard_pass(pass, net, xs, ss, nullptr, sh, &Ds, grads, nullptr, c0, norm);
      }
    } catch (...) {
#pragma omp critical(specbias_edm_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);

  if (pass == Pass::loss_and_grad && shards > 1) {
    // Sum the shards' gradients into the store in shard order (elementwise: thread-count independent).
    const auto len = static_cast<Index>(np);
    const Index chunk = 1 << 15;
#pragma omp parallel for schedule(static)
    for (Index start = 0; start < len; start += chunk) {
      const Index c = std::min(chunk, len - start);
      VecMap<T> g(store_grads.data() + start, c);
      for (Index s = 1; s < shards; ++s) g += VecMap<T>(ctx.shards[static_cast<std::size_t>(s)].grads.data() + start, c);
    }
  }
  double total = 0.0;
  for (Index s = 0; s < shards; ++s) total += ctx.shards[static_cast<std::size_t>(s)].loss_sum;
  return total * normaliser(d, batch);
}

template <typename T, typename Net>
void Edm<T, Net>::denoise(const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, EdmContext<T, Net>& ctx,
                     MatRef<T> D) const {
  if (D.rows() != x.rows() || D.cols() != x.cols())
    throw DataError("EDM denoise: output must have the shape of the input");
  run(Pass::denoise, net, x, sigma, nullptr, ctx, &D, {}, nullptr);
}

template <typename T, typename Net>
void Edm<T, Net>::draw_noise(Rng& rng, Index dim, Index batch, Vec<T>& sigma, Mat<T>& eps) const {
  ensure_shape(sigma, batch, 1);
  ensure_shape(eps, dim, batch);
  // One batched draw (the same numbers as batch + dim·batch calls of rng.normal(), in that order).
  const auto n = static_cast<std::size_t>(batch + dim * batch);
  if (scratch_.size() != n) scratch_.resize(n);
  rng.fill_normal(scratch_);
  for (Index j = 0; j < batch; ++j)
    sigma(j) = static_cast<T>(config_.fixed_sigma > 0
                                  ? config_.fixed_sigma
                                  : std::exp(config_.p_mean + config_.p_std * scratch_[static_cast<std::size_t>(j)]));
  const Eigen::Map<const Mat<double>> z(scratch_.data() + batch, dim, batch);
  eps = z.cast<T>();
}

template <typename T, typename Net>
double Edm<T, Net>::loss(const Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                    EdmContext<T, Net>& ctx) const {
  return run(Pass::loss, net, x, sigma, &eps, ctx, nullptr, {}, nullptr);
}

template <typename T, typename Net>
double Edm<T, Net>::loss_and_grad(Net& net, const MatCRef<T>& x, const VecCRef<T>& sigma, const MatCRef<T>& eps,
                             EdmContext<T, Net>& ctx, Mat<T>* grad_x) const {
  return run(Pass::loss_and_grad, net, x, sigma, &eps, ctx, nullptr, net.parameters().grads(), grad_x);
}

template class Edm<float>;
template class Edm<double>;
template class Edm<float, LinearDenoiser<float>>;
template class Edm<double, LinearDenoiser<double>>;

}  // namespace specbias::train
