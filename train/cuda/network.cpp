#include "train/cuda/network.hpp"

#include <algorithm>
#include <numbers>
#include <string>
#include <utility>

#include "common/errors.hpp"
#include "train/cuda/kernels.hpp"

namespace specbias::train::cuda {
namespace {

std::size_t offset_of(const ParameterStore<float>& store, const std::string& name) {
  return store.tensors()[store.find(name)].offset;
}

}  // namespace

GpuMlpUNet::GpuMlpUNet(const MlpUNet<float>& host, const Stream& stream, const Blas& blas)
    : config_(host.config()), stream_(&stream), blas_(&blas) {
  const ParameterStore<float>& store = host.parameters();
  auto linear = [&](const std::string& name, Index in, Index out) {
    return Linear{offset_of(store, name + ".weight"), offset_of(store, name + ".bias"), static_cast<int>(in),
                  static_cast<int>(out)};
  };
  auto layer_norm = [&](const std::string& name, Index n) {
    return LayerNorm{offset_of(store, name + ".weight"), offset_of(store, name + ".bias"), static_cast<int>(n)};
  };
  const Index d = config_.dim, H = config_.hidden, E = config_.embedding;
  for (Index i = 0; i < config_.blocks(); ++i) {
    const std::string p = "blocks." + std::to_string(i);
    const Index in = i == 0 ? d : H;
    Block b;
    b.ln_in = layer_norm(p + ".ln_in", in);
    b.fc0 = linear(p + ".fc0", in, H);
    b.affine = linear(p + ".affine", E, 2 * H);
    b.ln_out = layer_norm(p + ".ln_out", H);
    b.fc1 = linear(p + ".fc1", H, H);
    b.has_skip = in != H;
    if (b.has_skip) b.skip = linear(p + ".skip", in, H);
    blocks_.push_back(b);
  }
  out_ = linear("out", H, d);

  values_.resize(store.size());
  grads_.resize(store.size());
  grads_.zero(stream.get());
  // The frozen frequencies as the CPU multiplies them: 2π f rounded to float once (FourierEmbedding::set_freqs).
  const Vec<float> f = host.embedding().freqs();
  std::vector<float> two_pi(static_cast<std::size_t>(f.size()));
  for (Index j = 0; j < f.size(); ++j) two_pi[static_cast<std::size_t>(j)] = static_cast<float>(2.0 * std::numbers::pi) * f(j);
  two_pi_freqs_.resize(two_pi.size());
  two_pi_freqs_.upload(two_pi, stream.get());
  upload_parameters(host);
}

void GpuMlpUNet::upload_parameters(const MlpUNet<float>& host) {
  if (host.parameters().size() != values_.size())
    throw DataError("GpuMlpUNet: the CPU network has " + std::to_string(host.parameters().size()) +
                    " parameters, the GPU network " + std::to_string(values_.size()));
  values_.upload(host.parameters().values(), stream_->get());
  stream_->synchronize();  // the host span may be written right after return
}

void GpuMlpUNet::download_parameters(MlpUNet<float>& host) const {
  if (host.parameters().size() != values_.size())
    throw DataError("GpuMlpUNet: the CPU network has " + std::to_string(host.parameters().size()) +
                    " parameters, the GPU network " + std::to_string(values_.size()));
  values_.download(host.parameters().values(), stream_->get());
  stream_->synchronize();
}

void GpuMlpUNet::resize_context(Context& ctx, int batch) const {
  if (batch < 1) throw ConfigError("batch size must be >= 1 (got " + std::to_string(batch) + ")");
  if (ctx.batch == batch && ctx.blocks.size() == blocks_.size()) return;
  const auto B = static_cast<std::size_t>(batch);
  const auto d = static_cast<std::size_t>(config_.dim), H = static_cast<std::size_t>(config_.hidden),
             E = static_cast<std::size_t>(config_.embedding);
  ctx.batch = batch;
  ctx.e.resize(E * B);
  ctx.output.resize(d * B);
  ctx.blocks.resize(blocks_.size());
  ctx.h.resize(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const auto in = static_cast<std::size_t>(blocks_[i].ln_in.n);
    BlockContext& c = ctx.blocks[i];
    c.xhat_in.resize(in * B);
    c.rstd_in.resize(B);
    c.sig0.resize(in * B);
    c.s0.resize(in * B);
    c.xhat_out.resize(H * B);
    c.rstd_out.resize(B);
    c.film.resize(2 * H * B);
    c.sig1.resize(H * B);
    c.s1.resize(H * B);
    ctx.h[i].resize(H * B);
  }
  const std::size_t wide = std::max(d, H);
  ctx.g_film.resize(2 * H * B);
  ctx.g_h0.resize(H * B);
  ctx.g_s0.resize(wide * B);
  ctx.prod.resize(wide * B);
  ctx.g_a.resize(H * B);
  ctx.g_b.resize(H * B);
  ctx.ones.resize(B);
  kernels::fill(ctx.ones.data(), batch, 1.0f, stream_->get());
}

void GpuMlpUNet::row_sums(const float* G, int rows, int batch, const float* ones, float* out) const {
  blas_->gemv(false, rows, batch, 1.0f, G, rows, ones, 0.0f, out);
}

// Y = W X + b (Linear<float>::forward: the bias is broadcast first, then the product is added with β = 1).
void GpuMlpUNet::linear_forward(const Linear& l, const float* X, int batch, float* Y, bool accumulate) const {
  const float* W = values_.data() + l.weight;
  const float* b = values_.data() + l.bias;
  if (accumulate)
    kernels::add_columns(Y, l.out, batch, b, stream_->get());
  else
    kernels::set_columns(Y, l.out, batch, b, stream_->get());
  blas_->gemm(false, false, l.out, batch, l.in, 1.0f, W, l.out, X, l.in, 1.0f, Y, l.out);
}

// dW = G Xᵀ, db = G·1.
void GpuMlpUNet::linear_backward_params(const Linear& l, const float* X, const float* G, int batch, const float* ones,
                                        float* grads) const {
  blas_->gemm(false, true, l.out, l.in, batch, 1.0f, G, l.out, X, l.in, 0.0f, grads + l.weight, l.out);
  row_sums(G, l.out, batch, ones, grads + l.bias);
}

// gX = Wᵀ G (or += with accumulate).
void GpuMlpUNet::linear_backward_input(const Linear& l, const float* G, int batch, float* gX, bool accumulate) const {
  blas_->gemm(true, false, l.in, batch, l.out, 1.0f, values_.data() + l.weight, l.out, G, l.out,
              accumulate ? 1.0f : 0.0f, gX, l.in);
}

void GpuMlpUNet::block_forward(const Block& b, const float* x, const float* e, int batch, BlockContext& c,
                               float* y) const {
  const cudaStream_t s = stream_->get();
  const float* v = values_.data();
  const int in = b.ln_in.n, out = b.fc1.out;
  kernels::layernorm_silu_forward(x, in, batch, v + b.ln_in.gamma, v + b.ln_in.beta, c.xhat_in.data(),
                                  c.rstd_in.data(), c.sig0.data(), c.s0.data(), s);
  linear_forward(b.fc0, c.s0.data(), batch, c.xhat_out.data(), false);  // normalised in place next
  linear_forward(b.affine, e, batch, c.film.data(), false);
  kernels::layernorm_film_silu_forward(c.xhat_out.data(), out, batch, v + b.ln_out.gamma, v + b.ln_out.beta,
                                       c.film.data(), c.rstd_out.data(), c.sig1.data(), c.s1.data(), s);
  if (b.has_skip) {
    linear_forward(b.skip, x, batch, y, false);
  } else {
    check(cudaMemcpyAsync(y, x, sizeof(float) * static_cast<std::size_t>(out) * static_cast<std::size_t>(batch),
                          cudaMemcpyDeviceToDevice, s),
          "cudaMemcpyAsync (identity skip)");
  }
  linear_forward(b.fc1, c.s1.data(), batch, y, true);
}

const float* GpuMlpUNet::forward(const float* x, const float* c_noise, int batch, Context& ctx) const {
  resize_context(ctx, batch);
  const cudaStream_t s = stream_->get();
  ctx.input = x;
  kernels::fourier_embedding(two_pi_freqs_.data(), static_cast<int>(config_.embedding / 2), c_noise, batch,
                             ctx.e.data(), s);
  block_forward(blocks_[0], ctx.input, ctx.e.data(), batch, ctx.blocks[0], ctx.h[0].data());
  for (std::size_t i = 1; i < blocks_.size(); ++i)
    block_forward(blocks_[i], ctx.h[i - 1].data(), ctx.e.data(), batch, ctx.blocks[i], ctx.h[i].data());
  linear_forward(out_, ctx.h.back().data(), batch, ctx.output.data(), false);
  return ctx.output.data();
}

// Mirrors MlpUNetBlock<T>::backward step by step.
void GpuMlpUNet::block_backward(const Block& b, const float* x, const float* e, const BlockContext& c, const float* gy,
                                int batch, Context& ctx, float* gx, float* grads) const {
  const cudaStream_t s = stream_->get();
  const float* v = values_.data();
  const float* ones = ctx.ones.data();
  const int in = b.ln_in.n, out = b.fc1.out;
  float* g_film = ctx.g_film.data();
  float* g_h0 = ctx.g_h0.data();
  float* g_s0 = ctx.g_s0.data();
  float* prod = ctx.prod.data();

  // fc1; ∂L/∂s1 lands in g_film's shift half (rows [out, 2out) of a 2out-row matrix).
  linear_backward_params(b.fc1, c.s1.data(), gy, batch, ones, grads);
  blas_->gemm(true, false, out, batch, out, 1.0f, v + b.fc1.weight, out, gy, out, 0.0f, g_film + out, 2 * out);

  // SiLU, FiLM, then LN_out: dγ = Σ g_n x̂, dβ = Σ g_n, then ∂L/∂h in place.
  kernels::film_silu_backward(g_film, g_h0, prod, c.sig1.data(), c.s1.data(), c.xhat_out.data(), c.film.data(),
                              v + b.ln_out.gamma, v + b.ln_out.beta, out, batch, s);
  row_sums(prod, out, batch, ones, grads + b.ln_out.gamma);
  row_sums(g_h0, out, batch, ones, grads + b.ln_out.beta);
  kernels::layernorm_backward(g_h0, v + b.ln_out.gamma, c.xhat_out.data(), c.rstd_out.data(), out, batch, g_h0, s);

  linear_backward_params(b.affine, e, g_film, batch, ones, grads);  // e is fixed: no ∂L/∂e
  linear_backward_params(b.fc0, c.s0.data(), g_h0, batch, ones, grads);
  linear_backward_input(b.fc0, g_h0, batch, g_s0, false);

  kernels::silu_backward(g_s0, prod, c.sig0.data(), c.s0.data(), c.xhat_in.data(),
                         static_cast<std::int64_t>(in) * batch, s);
  row_sums(prod, in, batch, ones, grads + b.ln_in.gamma);
  row_sums(g_s0, in, batch, ones, grads + b.ln_in.beta);
  if (gx != nullptr)
    kernels::layernorm_backward(g_s0, v + b.ln_in.gamma, c.xhat_in.data(), c.rstd_in.data(), in, batch, gx, s);

  if (b.has_skip) {
    linear_backward_params(b.skip, x, gy, batch, ones, grads);
    if (gx != nullptr) linear_backward_input(b.skip, gy, batch, gx, true);
  } else if (gx != nullptr) {
    kernels::add(gx, gy, static_cast<std::int64_t>(out) * batch, s);
  }
}

void GpuMlpUNet::backward(Context& ctx, const float* grad_output, float* grad_input, float* grads) {
  if (ctx.batch < 1 || ctx.blocks.size() != blocks_.size())
    throw DataError("GpuMlpUNet::backward: no forward was run on this context");
  float* g = grads != nullptr ? grads : grads_.data();
  const int batch = ctx.batch;
  linear_backward_params(out_, ctx.h.back().data(), grad_output, batch, ctx.ones.data(), g);
  linear_backward_input(out_, grad_output, batch, ctx.g_a.data(), false);
  for (std::size_t i = blocks_.size() - 1; i >= 1; --i) {
    block_backward(blocks_[i], ctx.h[i - 1].data(), ctx.e.data(), ctx.blocks[i], ctx.g_a.data(), batch, ctx,
                   ctx.g_b.data(), g);
    std::swap(ctx.g_a, ctx.g_b);
  }
  block_backward(blocks_[0], ctx.input, ctx.e.data(), ctx.blocks[0], ctx.g_a.data(), batch, ctx, grad_input, g);
}

}  // namespace specbias::train::cuda
