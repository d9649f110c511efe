// MLP "UNet" blocks and network (see mlp_unet.hpp; EMPIRICAL.md §2). The elementwise work between GEMMs is
// done in per-sample column passes: LN_in+SiLU (forward and backward) and LN_out+FiLM+SiLU (forward and
// backward) each touch their activations once, instead of one pass per operation as in PyTorch.
#include "train/mlp_unet.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "common/errors.hpp"

namespace specbias::train {

namespace {

template <typename T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;

// Column j of a features × batch matrix as a contiguous array.
template <typename T, typename M>
Eigen::Map<Arr<T>> col(M& m, Index j) {
  return Eigen::Map<Arr<T>>(m.col(j).data(), m.rows());
}
template <typename T, typename M>
Eigen::Map<const Arr<T>> ccol(const M& m, Index j) {
  return Eigen::Map<const Arr<T>>(m.col(j).data(), m.rows());
}

template <typename T>
Eigen::Map<const Arr<T>> arr(const ParameterSlot<T>& s) {
  return Eigen::Map<const Arr<T>>(s.value, s.rows * s.cols);
}

// Per-sample passes run over kChunks fixed column ranges in parallel. The ranges do not depend on the thread
// count, so the per-chunk partial sums of dγ and dβ, and hence all results, are the same for any number of
// threads (Eigen's GEMMs aside, see mlp_unet.hpp).
constexpr Index kChunks = 8;

template <class F>
void for_chunks(Index batch, F&& f) {
#pragma omp parallel for schedule(static) if (batch >= 4 * kChunks)
  for (Index k = 0; k < kChunks; ++k) f(k, batch * k / kChunks, batch * (k + 1) / kChunks);
}

}  // namespace

void MlpUNetConfig::validate() const {
  auto fail = [](const std::string& key, Index value, const std::string& allowed) {
    throw ConfigError("model." + key + " = " + std::to_string(value) + " is invalid: " + allowed);
  };
  if (dim < 1) fail("dim", dim, "the data dimension must be >= 1");
  if (nlayers < 2) fail("nlayers", nlayers, "must be >= 2 (one block plus the output layer)");
  if (hidden < 1) fail("hidden", hidden, "must be >= 1");
  if (embedding < 2 || embedding % 2 != 0) fail("embedding", embedding, "must be even and >= 2 (sine and cosine halves)");
}

std::int64_t mlp_unet_parameter_count(const MlpUNetConfig& config) {
  config.validate();
  const auto block = [&](std::int64_t in, std::int64_t out) {
    const std::int64_t E = config.embedding;
    std::int64_t n = 2 * in                // LN_in
                     + in * out + out      // fc0
                     + E * 2 * out + 2 * out  // affine
                     + 2 * out             // LN_out
                     + out * out + out;    // fc1
    if (in != out) n += in * out + out;    // skip projection
    return n;
  };
  const std::int64_t d = config.dim, H = config.hidden;
  return block(d, H) + (config.nlayers - 2) * block(H, H) + H * d + d;
}

// ---- Block ----------------------------------------------------------------------------------------------

template <typename T>
void MlpUNetBlock<T>::Context::resize(Index in, Index out, Index batch) {
  ensure_shape(xhat_in, in, batch);
  ensure_shape(rstd_in, batch, 1);
  ensure_shape(sig0, in, batch);
  ensure_shape(s0, in, batch);
  ensure_shape(xhat_out, out, batch);
  ensure_shape(rstd_out, batch, 1);
  ensure_shape(film, 2 * out, batch);
  ensure_shape(sig1, out, batch);
  ensure_shape(s1, out, batch);
}

template <typename T>
void MlpUNetBlock<T>::Workspace::reserve(Index in, Index out, Index batch) {
  if (g_film.rows() < 2 * out || g_film.cols() != batch) g_film.resize(2 * out, batch);
  if (g_h0.rows() < out || g_h0.cols() != batch) g_h0.resize(out, batch);
  if (g_s0.rows() < in || g_s0.cols() != batch) g_s0.resize(in, batch);
  if (partial.rows() < 2 * std::max(in, out) || partial.cols() != kChunks) partial.resize(2 * std::max(in, out), kChunks);
}

template <typename T>
MlpUNetBlock<T>::MlpUNetBlock(ParameterStore<T>& store, const std::string& prefix, Index in, Index out, Index embedding)
    : ln_in_(store, prefix + ".ln_in", in),
      fc0_(store, prefix + ".fc0", in, out),
      affine_(store, prefix + ".affine", embedding, 2 * out),
      ln_out_(store, prefix + ".ln_out", out),
      fc1_(store, prefix + ".fc1", out, out) {
  if (in != out) skip_ = Linear<T>(store, prefix + ".skip", in, out);
}

template <typename T>
std::size_t MlpUNetBlock<T>::parameter_count(Index in, Index out, Index embedding) {
  std::size_t n = LayerNorm<T>::parameter_count(in) + Linear<T>::parameter_count(in, out) +
                  Linear<T>::parameter_count(embedding, 2 * out) + LayerNorm<T>::parameter_count(out) +
                  Linear<T>::parameter_count(out, out);
  if (in != out) n += Linear<T>::parameter_count(in, out);
  return n;
}

template <typename T>
void MlpUNetBlock<T>::init(Rng& rng) {
  ln_in_.init();
  fc0_.init(rng);
  affine_.init(rng);
  ln_out_.init();
  fc1_.init(rng);
  if (has_skip()) skip_.init(rng);
}

template <typename T>
void MlpUNetBlock<T>::forward(const MatCRef<T>& x, const MatCRef<T>& e, Context& ctx, MatRef<T> y) const {
  const Index in = this->in(), out = this->out(), batch = x.cols();
  ctx.resize(in, out, batch);

  // s0 = SiLU(γ_in ⊙ x̂ + β_in), one pass per sample; the LayerNorm output is staged in s0.
  const auto g_in = arr(ln_in_.gamma()), b_in = arr(ln_in_.beta());
  for_chunks(batch, [&](Index, Index j0, Index j1) {
    for (Index j = j0; j < j1; ++j) {
      ctx.rstd_in(j) = LayerNorm<T>::normalize_column(x.col(j).data(), ctx.xhat_in.col(j).data(), in);
      auto a = col<T>(ctx.s0, j);
      auto sig = col<T>(ctx.sig0, j);
      a = g_in * ccol<T>(ctx.xhat_in, j) + b_in;
      sig = (T(1) + (-a).exp()).inverse();
      a *= sig;
    }
  });

  fc0_.forward(ctx.s0, ctx.xhat_out);  // fc0 output, normalised in place below
  affine_.forward(e, ctx.film);

  // s1 = SiLU(shift + (γ_out ⊙ x̂ + β_out) ⊙ (1 + scale)), LayerNorm + FiLM + SiLU in one pass per sample.
  const auto g_out = arr(ln_out_.gamma()), b_out = arr(ln_out_.beta());
  for_chunks(batch, [&](Index, Index j0, Index j1) {
    for (Index j = j0; j < j1; ++j) {
      T* h = ctx.xhat_out.col(j).data();
      ctx.rstd_out(j) = LayerNorm<T>::normalize_column(h, h, out);
      const auto scale = ccol<T>(ctx.film, j).head(out);
      const auto shift = ccol<T>(ctx.film, j).tail(out);
      auto u = col<T>(ctx.s1, j);
      auto sig = col<T>(ctx.sig1, j);
      u = shift + (g_out * ccol<T>(ctx.xhat_out, j) + b_out) * (T(1) + scale);
      sig = (T(1) + (-u).exp()).inverse();
      u *= sig;
    }
  });

  if (has_skip()) {
    skip_.forward(x, y);
    fc1_.forward(ctx.s1, y, /*accumulate=*/true);
  } else {
    y = x;
    fc1_.forward(ctx.s1, y, /*accumulate=*/true);
  }
}

template <typename T>
void MlpUNetBlock<T>::backward(const MatCRef<T>& x, const MatCRef<T>& e, const Context& ctx, const MatCRef<T>& gy,
                               Workspace& ws, Mat<T>* gx, T* grads) const {
  const Index in = this->in(), out = this->out(), batch = gy.cols();
  ws.reserve(in, out, batch);
  auto g_film = ws.g_film.topRows(2 * out);
  auto g_h0 = ws.g_h0.topRows(out);
  auto g_s0 = ws.g_s0.topRows(in);

  // fc1: ∂L/∂s1 lands in the shift half of g_film, where it becomes ∂L/∂u = ∂L/∂shift.
  fc1_.backward_params(ctx.s1, gy, grads);
  fc1_.backward_input(gy, g_film.bottomRows(out));

  // SiLU' , FiLM and LN_out backward per sample. With n = γ x̂ + β and u = shift + n (1 + scale):
  // ∂L/∂scale = ∂L/∂u ⊙ n, ∂L/∂n = ∂L/∂u ⊙ (1 + scale); dγ_out, dβ_out accumulate ∂L/∂n over samples.
  const auto g_out = arr(ln_out_.gamma()), b_out = arr(ln_out_.beta());
  for_chunks(batch, [&](Index k, Index j0, Index j1) {
    auto dgamma = ws.partial.col(k).head(out).array();
    auto dbeta = ws.partial.col(k).segment(out, out).array();
    dgamma.setZero();
    dbeta.setZero();
    for (Index j = j0; j < j1; ++j) {
      T* gcol = g_film.col(j).data();
      Eigen::Map<Arr<T>> g_scale(gcol, out), g_u(gcol + out, out);
      const auto sig = ccol<T>(ctx.sig1, j), s = ccol<T>(ctx.s1, j), xh = ccol<T>(ctx.xhat_out, j);
      const auto scale = ccol<T>(ctx.film, j).head(out);
      g_u *= sig + s * (T(1) - sig);
      g_scale = g_u * (g_out * xh + b_out);
      Eigen::Map<Arr<T>> g_n(g_h0.col(j).data(), out);
      g_n = g_u * (T(1) + scale);
      dgamma += g_n * xh;
      dbeta += g_n;
      LayerNorm<T>::backward_column(g_n.data(), ln_out_.gamma().value, xh.data(), ctx.rstd_out(j), g_n.data(), out);
    }
  });
  ln_out_.gamma().grad_vector(grads).noalias() = ws.partial.topRows(out).rowwise().sum();
  ln_out_.beta().grad_vector(grads).noalias() = ws.partial.middleRows(out, out).rowwise().sum();

  affine_.backward_params(e, g_film, grads);  // e is fixed: no gradient flows into the embedding
  fc0_.backward_params(ctx.s0, g_h0, grads);
  fc0_.backward_input(g_h0, g_s0);

  // SiLU' and LN_in backward per sample; ∂L/∂x only when asked (block 0 of a training step needs none).
  if (gx != nullptr) ensure_shape(*gx, in, batch);
  for_chunks(batch, [&](Index k, Index j0, Index j1) {
    auto dgamma = ws.partial.col(k).head(in).array();
    auto dbeta = ws.partial.col(k).segment(in, in).array();
    dgamma.setZero();
    dbeta.setZero();
    for (Index j = j0; j < j1; ++j) {
      Eigen::Map<Arr<T>> g_a(g_s0.col(j).data(), in);
      const auto sig = ccol<T>(ctx.sig0, j), s = ccol<T>(ctx.s0, j), xh = ccol<T>(ctx.xhat_in, j);
      g_a *= sig + s * (T(1) - sig);
      dgamma += g_a * xh;
      dbeta += g_a;
      if (gx != nullptr)
        LayerNorm<T>::backward_column(g_a.data(), ln_in_.gamma().value, xh.data(), ctx.rstd_in(j), gx->col(j).data(), in);
    }
  });
  ln_in_.gamma().grad_vector(grads).noalias() = ws.partial.topRows(in).rowwise().sum();
  ln_in_.beta().grad_vector(grads).noalias() = ws.partial.middleRows(in, in).rowwise().sum();

  if (has_skip()) {
    skip_.backward_params(x, gy, grads);
    if (gx != nullptr) skip_.backward_input(gy, *gx, /*accumulate=*/true);
  } else if (gx != nullptr) {
    *gx += gy;
  }
}

// ---- Network --------------------------------------------------------------------------------------------

template <typename T>
MlpUNet<T>::MlpUNet(const MlpUNetConfig& config, std::uint64_t seed)
    : config_(config),
      params_(static_cast<std::size_t>(mlp_unet_parameter_count(config))),
      embedding_(config.embedding) {
  const Index d = config.dim, H = config.hidden, E = config.embedding;
  blocks_.reserve(static_cast<std::size_t>(config.blocks()));
  blocks_.emplace_back(params_, "blocks.0", d, H, E);
  for (Index i = 1; i < config.blocks(); ++i) blocks_.emplace_back(params_, "blocks." + std::to_string(i), H, H, E);
  out_ = Linear<T>(params_, "out", H, d);
  if (params_.used() != params_.size())
    throw std::logic_error("MlpUNet: layers claimed " + std::to_string(params_.used()) + " parameters but the count " +
                           "formula gives " + std::to_string(params_.size()));

  Rng rng(seed);
  embedding_.init(rng);
  for (Block& b : blocks_) b.init(rng);
  out_.init(rng);
}

template <typename T>
typename MlpUNet<T>::Context MlpUNet<T>::make_context(Index batch) const {
  Context ctx;
  resize_context(ctx, batch);
  return ctx;
}

template <typename T>
void MlpUNet<T>::resize_context(Context& ctx, Index batch) const {
  if (batch < 1) throw ConfigError("batch size must be >= 1 (got " + std::to_string(batch) + ")");
  if (ctx.batch == batch && ctx.blocks.size() == blocks_.size()) return;
  const Index d = config_.dim, H = config_.hidden, E = config_.embedding;
  ctx.batch = batch;
  ctx.c_noise.resize(batch);
  ctx.e.resize(E, batch);
  ctx.input.resize(d, batch);
  ctx.blocks.resize(blocks_.size());
  ctx.h.resize(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    ctx.blocks[i].resize(blocks_[i].in(), H, batch);
    ctx.h[i].resize(H, batch);
  }
  ctx.output.resize(d, batch);
  ctx.ws.reserve(std::max(d, H), H, batch);
  ctx.g_a.resize(H, batch);
  ctx.g_b.resize(H, batch);
}

template <typename T>
const Mat<T>& MlpUNet<T>::forward(const MatCRef<T>& x, const VecCRef<T>& c_noise, Context& ctx) const {
  if (x.rows() != config_.dim || c_noise.size() != x.cols())
    throw DataError("MlpUNet::forward: input is " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                    " with " + std::to_string(c_noise.size()) + " noise levels; expected " +
                    std::to_string(config_.dim) + " x batch and one c_noise per sample");
  resize_context(ctx, x.cols());
  ctx.c_noise = c_noise;
  ctx.input = x;
  embedding_.forward(ctx.c_noise, ctx.e);
  blocks_[0].forward(ctx.input, ctx.e, ctx.blocks[0], ctx.h[0]);
  for (std::size_t i = 1; i < blocks_.size(); ++i) blocks_[i].forward(ctx.h[i - 1], ctx.e, ctx.blocks[i], ctx.h[i]);
  out_.forward(ctx.h.back(), ctx.output);
  return ctx.output;
}

template <typename T>
void MlpUNet<T>::backward(Context& ctx, const MatCRef<T>& grad_output, Mat<T>* grad_input) {
  backward(ctx, grad_output, grad_input, params_.grads());
}

template <typename T>
void MlpUNet<T>::backward(Context& ctx, const MatCRef<T>& grad_output, Mat<T>* grad_input, std::span<T> grads) const {
  if (grad_output.rows() != config_.dim || grad_output.cols() != ctx.batch)
    throw DataError("MlpUNet::backward: grad_output shape does not match the last forward (" +
                    std::to_string(config_.dim) + " x " + std::to_string(ctx.batch) + ")");
  if (grads.size() != params_.size())
    throw DataError("MlpUNet::backward: gradient buffer has " + std::to_string(grads.size()) + " entries, the " +
                    "network " + std::to_string(params_.size()));
  T* g = grads.data();
  out_.backward_params(ctx.h.back(), grad_output, g);
  out_.backward_input(grad_output, ctx.g_a);
  for (std::size_t i = blocks_.size() - 1; i >= 1; --i) {
    blocks_[i].backward(ctx.h[i - 1], ctx.e, ctx.blocks[i], ctx.g_a, ctx.ws, &ctx.g_b, g);
    std::swap(ctx.g_a, ctx.g_b);  // swaps buffers, no copy
  }
  blocks_[0].backward(ctx.input, ctx.e, ctx.blocks[0], ctx.g_a, ctx.ws, grad_input, g);
}

template class MlpUNetBlock<float>;
template class MlpUNetBlock<double>;
template class MlpUNet<float>;
template class MlpUNet<double>;

}  // namespace specbias::train
