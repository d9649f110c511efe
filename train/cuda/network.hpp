// The MLP-UNet (EMPIRICAL.md §2) on the GPU: the same architecture, parameter layout and arithmetic as
// train/mlp_unet.hpp's MlpUNet<float>, the CPU reference it is built from and tested against. Parameters and
// gradients are two flat device buffers laid out exactly like the CPU ParameterStore, so weights, checkpoints
// and Adam state move between the two with one copy. Every GEMM is cuBLAS (column-major, features × batch);
// LayerNorm+SiLU, LayerNorm+FiLM+SiLU and their backwards are fused kernels (kernels.hpp).
#pragma once

#include <cstddef>
#include <vector>

#include "train/cuda/device.hpp"
#include "train/mlp_unet.hpp"

namespace specbias::train::cuda {

class GpuMlpUNet {
 public:
  // Activations one forward keeps for its backward, per block (see MlpUNetBlock<T>::Context).
  struct BlockContext {
    DeviceBuffer<float> xhat_in, rstd_in, sig0, s0, xhat_out, rstd_out, film, sig1, s1;
  };
  struct Context {
    int batch = 0;
    DeviceBuffer<float> e, output;
    const float* input = nullptr;  // the forward's x, read again by the backward (not copied: see forward)
    std::vector<BlockContext> blocks;
    std::vector<DeviceBuffer<float>> h;        // block outputs, H × batch
    DeviceBuffer<float> g_film, g_h0, g_s0, prod, g_a, g_b;  // backward workspace
    DeviceBuffer<float> ones;                  // batch ones: row sums as GEMVs
  };

  // Copies the architecture, parameters and frozen Fourier frequencies of `host`.
  GpuMlpUNet(const MlpUNet<float>& host, const Stream& stream, const Blas& blas);

  [[nodiscard]] const MlpUNetConfig& config() const { return config_; }
  [[nodiscard]] std::size_t parameter_count() const { return values_.size(); }
  [[nodiscard]] DeviceBuffer<float>& values() { return values_; }
  [[nodiscard]] const DeviceBuffer<float>& values() const { return values_; }
  [[nodiscard]] DeviceBuffer<float>& grads() { return grads_; }

  // Parameter values to and from a CPU network of the same architecture (synchronises the stream).
  void upload_parameters(const MlpUNet<float>& host);
  void download_parameters(MlpUNet<float>& host) const;

  void resize_context(Context& ctx, int batch) const;
  // F(x, c_noise) for device arrays x (d × batch) and c_noise (batch); returns ctx.output.data(). x must stay
  // unchanged until the backward on ctx (GpuEdm keeps it in its own net_input buffer), so unlike the CPU class
  // no copy of the input is made on this hot path.
  const float* forward(const float* x, const float* c_noise, int batch, Context& ctx) const;
  // From ∂L/∂output (d × batch) of the last forward on ctx: overwrites every gradient in `grads` (the layout of
  // values(); nullptr: grads()); grad_input != nullptr also gets ∂L/∂x (d × batch).
  void backward(Context& ctx, const float* grad_output, float* grad_input = nullptr, float* grads = nullptr);

 private:
  struct Linear {
    std::size_t weight = 0, bias = 0;  // offsets into the flat buffers
    int in = 0, out = 0;
  };
  struct LayerNorm {
    std::size_t gamma = 0, beta = 0;
    int n = 0;
  };
  struct Block {
    LayerNorm ln_in;
    Linear fc0, affine;
    LayerNorm ln_out;
    Linear fc1;
    bool has_skip = false;
    Linear skip;
  };

  void linear_forward(const Linear& l, const float* X, int batch, float* Y, bool accumulate) const;
  void linear_backward_params(const Linear& l, const float* X, const float* G, int batch, const float* ones,
                              float* grads) const;
  void linear_backward_input(const Linear& l, const float* G, int batch, float* gX, bool accumulate) const;
  void block_forward(const Block& b, const float* x, const float* e, int batch, BlockContext& c, float* y) const;
  void block_backward(const Block& b, const float* x, const float* e, const BlockContext& c, const float* gy, int batch,
                      Context& ctx, float* gx, float* grads) const;
  void row_sums(const float* G, int rows, int batch, const float* ones, float* out) const;

  MlpUNetConfig config_;
  const Stream* stream_;
  const Blas* blas_;
  DeviceBuffer<float> values_, grads_, two_pi_freqs_;
  std::vector<Block> blocks_;
  Linear out_;
};

}  // namespace specbias::train::cuda
