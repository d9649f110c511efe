#include "train/linear_denoiser.hpp"

#include <cmath>
#include <string>

#include "common/errors.hpp"

namespace specbias::train {

void LinearDenoiserConfig::validate() const {
  if (dim < 1) throw ConfigError("linear denoiser: dimension " + std::to_string(dim) + " must be >= 1");
  if (layers != 1 && layers != 2)
    throw ConfigError("model.layers = " + std::to_string(layers) + " is invalid for a linear denoiser: allowed 1 or 2");
  if (layers == 2 && hidden != 0 && hidden < dim)
    throw ConfigError("model.hidden = " + std::to_string(hidden) + " is invalid: a two-layer linear denoiser needs hidden >= d = " +
                      std::to_string(dim) + " (or 0 for h = d)");
  if (!std::isfinite(init_scale) || (layers == 2 && init_scale < 0))
    throw ConfigError("model.init_scale = " + std::to_string(init_scale) + " is invalid (two layers need >= 0)");
}

std::int64_t linear_denoiser_parameter_count(const LinearDenoiserConfig& c) {
  const std::int64_t d = c.dim, h = c.hidden == 0 ? c.dim : c.hidden;
  return (c.layers == 1 ? d * d : 2 * h * d) + d;
}

template <typename T>
LinearDenoiser<T>::LinearDenoiser(const LinearDenoiserConfig& config)
    : config_(config), params_(static_cast<std::size_t>((config.validate(), linear_denoiser_parameter_count(config)))) {
  const Index d = config_.dim, h = config_.hidden == 0 ? d : config_.hidden;
  if (config_.layers == 1) {
    v1_ = params_.add("V", d, d, {static_cast<std::size_t>(d), static_cast<std::size_t>(d)});
    v1_.value_matrix().setIdentity();
    v1_.value_matrix() *= static_cast<T>(config_.init_scale);
  } else {
    v1_ = params_.add("V1", h, d, {static_cast<std::size_t>(h), static_cast<std::size_t>(d)});
    v2_ = params_.add("V2", d, h, {static_cast<std::size_t>(d), static_cast<std::size_t>(h)});
    const T root = static_cast<T>(std::sqrt(config_.init_scale));
    v1_.value_matrix().setZero();
    v2_.value_matrix().setZero();
    v1_.value_matrix().topRows(d).diagonal().setConstant(root);
    v2_.value_matrix().leftCols(d).diagonal().setConstant(root);
  }
  b_ = params_.add("b", d, 1, {static_cast<std::size_t>(d)});
  b_.value_vector().setZero();
}

template <typename T>
const Mat<T>& LinearDenoiser<T>::forward(const MatCRef<T>& u, const VecCRef<T>&, Context& ctx) const {
  ctx.input = u;
  if (config_.layers == 1) {
    ctx.output.noalias() = v1_.value_matrix() * u;
  } else {
    ctx.hidden.noalias() = v1_.value_matrix() * u;
    ctx.output.noalias() = v2_.value_matrix() * ctx.hidden;
  }
  ctx.output.colwise() += b_.value_vector();
  return ctx.output;
}

template <typename T>
void LinearDenoiser<T>::backward(Context& ctx, const MatCRef<T>& g, Mat<T>* grad_input, std::span<T> grads) const {
  const auto& t = params_.tensors();
  auto grad_of = [&](std::size_t i) { return MatMap<T>(grads.data() + t[i].offset, t[i].rows, t[i].cols); };
  if (config_.layers == 1) {
    grad_of(0).noalias() = g * ctx.input.transpose();
    grad_of(1) = g.rowwise().sum();
    if (grad_input) grad_input->noalias() = v1_.value_matrix().transpose() * g;
  } else {
    const Mat<T> g_hidden = v2_.value_matrix().transpose() * g;
    grad_of(1).noalias() = g * ctx.hidden.transpose();
    grad_of(0).noalias() = g_hidden * ctx.input.transpose();
    grad_of(2) = g.rowwise().sum();
    if (grad_input) grad_input->noalias() = v1_.value_matrix().transpose() * g_hidden;
  }
}

template <typename T>
Mat<T> LinearDenoiser<T>::weight() const {
  if (config_.layers == 1) return v1_.value_matrix();
  return v2_.value_matrix() * v1_.value_matrix();
}

template <typename T>
Vec<T> LinearDenoiser<T>::bias() const {
  return b_.value_vector();
}

template class LinearDenoiser<float>;
template class LinearDenoiser<double>;

}  // namespace specbias::train
