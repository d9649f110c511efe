// The MLP "UNet" of EMPIRICAL.md §2: Fourier embedding e(c_noise), block(d→H), L−2 blocks (H→H), Linear(H→d).
// Block(in→out): h = fc0(SiLU(LN_in(x))); (scale, shift) = split(affine(e)), affine: E → 2·out, FIRST `out` rows
// scale, last `out` shift (PyTorch `chunk(2, dim=1)` order); h = SiLU(shift + LN_out(h) ⊙ (1 + scale)); h = fc1(h);
// y = h + skip(x), skip = Linear(in, out) if in ≠ out else identity. LN_out+FiLM+SiLU run fused per sample.
// Forward keeps what backward needs in a caller-owned Context (reused, no allocation at a fixed batch; Eigen's
// GEMMs still malloc their packing buffers); backward overwrites every gradient in the ParameterStore.
// Threads: OpenMP in the GEMMs and over fixed column chunks; bit-identical runs at a fixed thread count. float32
// products (train/gemm.hpp) give the same bits for any thread count; float64 ones are Eigen's, whose blocking may
// depend on the count, so there different counts can differ in the last bits.
// Tensor names are PyTorch's (benchmarks/peers/mlp_unet_torch.py): blocks.<i>.{ln_in, fc0, affine, ln_out, fc1,
// skip}.{weight, bias}, out.{weight, bias}; the frozen Fourier vector is "embedding.freqs".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "train/layers.hpp"
#include "train/parameter_store.hpp"
#include "train/rng.hpp"
#include "train/tensor.hpp"

namespace specbias::train {

struct MlpUNetConfig {
  Index dim = 128;        // d, data dimension (input and output features)
  Index nlayers = 5;      // L ≥ 2: one input block, L − 2 hidden blocks, one output Linear
  Index hidden = 256;     // H
  Index embedding = 256;  // E, even

  // Throws ConfigError naming the offending field and the allowed range.
  void validate() const;
  [[nodiscard]] Index blocks() const { return nlayers - 1; }
};

// Trainable parameters (frozen Fourier vector excluded) from the architecture alone, without allocating:
// per block 2·in + (in·out + out) + (E·2out + 2out) + 2·out + (out·out + out) [+ in·out + out if in ≠ out],
// plus H·d + d for the output layer. Reproduces EMPIRICAL.md §2's table.
[[nodiscard]] std::int64_t mlp_unet_parameter_count(const MlpUNetConfig& config);

template <typename T>
class MlpUNetBlock {
 public:
  // Activations one forward keeps for its backward (in: input features, out: output features, B: batch).
  struct Context {
    Mat<T> xhat_in;   // in×B   LN_in's x̂
    Vec<T> rstd_in;   // B
    Mat<T> sig0;      // in×B   σ(LN_in(x))
    Mat<T> s0;        // in×B   SiLU(LN_in(x)), fc0's input
    Mat<T> xhat_out;  // out×B  LN_out's x̂ (fc0's output is normalised in place)
    Vec<T> rstd_out;  // B
    Mat<T> film;      // 2out×B affine(e): rows [0, out) scale, [out, 2out) shift
    Mat<T> sig1;      // out×B  σ(u), u = shift + LN_out(h) ⊙ (1 + scale)
    Mat<T> s1;        // out×B  SiLU(u), fc1's input
    void resize(Index in, Index out, Index batch);
  };
  // Backward scratch, shared by all blocks of a network: resize only grows, blocks use the top rows.
  struct Workspace {
    Mat<T> g_film;  // 2out×B  ∂L/∂(scale; shift); the shift half doubles as ∂L/∂u
    Mat<T> g_h0;    // out×B   ∂L/∂(fc0 output)
    Mat<T> g_s0;    // in×B    ∂L/∂(fc0 input), then ∂L/∂(LN_in output) in place
    Mat<T> partial; // 2·max(in, out) × 8  per-chunk partial sums of dγ (top) and dβ for the LayerNorms
    void reserve(Index in, Index out, Index batch);
  };

  MlpUNetBlock() = default;
  // Registers this block's tensors as "<prefix>.ln_in.weight" etc. in `store`.
  MlpUNetBlock(ParameterStore<T>& store, const std::string& prefix, Index in, Index out, Index embedding);
  [[nodiscard]] static std::size_t parameter_count(Index in, Index out, Index embedding);

  void init(Rng& rng);  // Linear layers in the order fc0, affine, fc1, skip; LayerNorms γ = 1, β = 0

  [[nodiscard]] Index in() const { return ln_in_.size(); }
  [[nodiscard]] Index out() const { return fc1_.out(); }
  [[nodiscard]] bool has_skip() const { return in() != out(); }

  // x: in×B, e: E×B (embedding), y: out×B (must not alias x).
  void forward(const MatCRef<T>& x, const MatCRef<T>& e, Context& ctx, MatRef<T> y) const;
  // gy = ∂L/∂y (out×B); x, e: the forward's inputs; overwrites this block's parameter gradients in the buffer
  // `grads` (laid out like the store). With gx != nullptr also writes ∂L/∂x (in×B; may not alias gy).
  void backward(const MatCRef<T>& x, const MatCRef<T>& e, const Context& ctx, const MatCRef<T>& gy, Workspace& ws,
                Mat<T>* gx, T* grads) const;

 private:
  LayerNorm<T> ln_in_;
  Linear<T> fc0_;
  Linear<T> affine_;
  LayerNorm<T> ln_out_;
  Linear<T> fc1_;
  Linear<T> skip_;  // unused (no tensors) when in == out
};

template <typename T>
class MlpUNet {
 public:
  using Block = MlpUNetBlock<T>;

  // Everything one forward/backward needs; create with make_context(batch) and reuse across steps.
  struct Context {
    Index batch = 0;
    Vec<T> c_noise;                            // B
    Mat<T> e;                                  // E×B
    Mat<T> input;                              // d×B copy of the network input
    std::vector<typename Block::Context> blocks;
    std::vector<Mat<T>> h;                     // block outputs, H×B each
    Mat<T> output;                             // d×B
    typename Block::Workspace ws;
    Mat<T> g_a, g_b;                           // H×B ping-pong of ∂L/∂h between blocks
  };

  // Builds the architecture and initialises it from `seed`: first the frozen Fourier vector (E/2 normals),
  // then every Linear in registration order (blocks in order: fc0, affine, fc1, skip; then out).
  MlpUNet(const MlpUNetConfig& config, std::uint64_t seed);

  MlpUNet(const MlpUNet&) = delete;
  MlpUNet& operator=(const MlpUNet&) = delete;
  MlpUNet(MlpUNet&&) noexcept = default;
  MlpUNet& operator=(MlpUNet&&) noexcept = default;

  [[nodiscard]] const MlpUNetConfig& config() const { return config_; }
  [[nodiscard]] ParameterStore<T>& parameters() { return params_; }
  [[nodiscard]] const ParameterStore<T>& parameters() const { return params_; }
  [[nodiscard]] FourierEmbedding<T>& embedding() { return embedding_; }
  [[nodiscard]] const FourierEmbedding<T>& embedding() const { return embedding_; }
  [[nodiscard]] const std::vector<Block>& blocks() const { return blocks_; }

  // Allocates a context for `batch` samples (resize later with resize_context; same batch = no allocation).
  [[nodiscard]] Context make_context(Index batch) const;
  void resize_context(Context& ctx, Index batch) const;

  // F(x, c_noise): x d×B (already c_in-scaled by the EDM wrapper), c_noise B. Returns ctx.output (d×B).
  const Mat<T>& forward(const MatCRef<T>& x, const VecCRef<T>& c_noise, Context& ctx) const;
  // From ∂L/∂output (d×B) of the last forward on ctx: overwrites all parameter gradients in the store; with
  // grad_input != nullptr also writes ∂L/∂x (d×B). c_noise gets no gradient (σ is not trained through).
  void backward(Context& ctx, const MatCRef<T>& grad_output, Mat<T>* grad_input = nullptr);
  // The same into `grads` (parameters().size() entries, laid out like the store) instead of the store's
  // gradients; const, so several batch shards can run it concurrently with their own contexts and buffers.
  void backward(Context& ctx, const MatCRef<T>& grad_output, Mat<T>* grad_input, std::span<T> grads) const;

 private:
  MlpUNetConfig config_;
  ParameterStore<T> params_;
  FourierEmbedding<T> embedding_;
  std::vector<Block> blocks_;
  Linear<T> out_;
};

extern template class MlpUNetBlock<float>;
extern template class MlpUNetBlock<double>;
extern template class MlpUNet<float>;
extern template class MlpUNet<double>;

}  // namespace specbias::train
