// Host launchers of the GPU trainer's hand-written kernels (kernels.cu). Everything else is a cuBLAS GEMM/GEMV.
// C++17 (nvcc compiles kernels.cu with it). Layout as on the CPU (train/tensor.hpp): column-major, features × batch, one column per sample, float32.
// Each launcher names its CPU twin, the reference it is tested against in tests/train/cuda_kernels_test.cpp.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace specbias::train::cuda {
// Throws specbias::DeviceError when the last kernel launch failed (device.cpp; declared here too so that
// kernels.cu, compiled as C++17 by nvcc, needs no C++20 header).
void check_launch(const char* kernel);
}  // namespace specbias::train::cuda

namespace specbias::train::cuda::kernels {

// FourierEmbedding<float>::forward: e(j, b) = sin(2π f_j c_b) (j < half), cos(…) (half ≤ j < 2·half).
void fourier_embedding(const float* two_pi_freqs, int half, const float* c_noise, int batch, float* e, cudaStream_t s);

// Y(:, j) = v (set) or Y(:, j) += v (add): the bias broadcast that precedes a GEMM with β = 1 (Linear::forward).
void set_columns(float* Y, int rows, int batch, const float* v, cudaStream_t s);
void add_columns(float* Y, int rows, int batch, const float* v, cudaStream_t s);
void add(float* y, const float* x, std::int64_t n, cudaStream_t s);  // y += x
void fill(float* y, std::int64_t n, float value, cudaStream_t s);

// MlpUNetBlock forward, first pass: per column x̂ = LayerNorm(x) (two-pass mean/variance, ε = 1e-5), then
// a = γ x̂ + β, sig = σ(a), s = a·σ(a).
void layernorm_silu_forward(const float* x, int n, int batch, const float* gamma, const float* beta, float* xhat,
                            float* rstd, float* sig, float* s, cudaStream_t st);
// MlpUNetBlock forward, second pass: h (fc0's output) is normalised in place into x̂, then with
// film = (scale; shift) (2n × batch): u = shift + (γ x̂ + β)(1 + scale), sig = σ(u), s = u·σ(u).
void layernorm_film_silu_forward(float* h, int n, int batch, const float* gamma, const float* beta, const float* film,
                                 float* rstd, float* sig, float* s, cudaStream_t st);

// MlpUNetBlock backward through SiLU and FiLM: g_film's bottom half holds ∂L/∂s1 on entry and ∂L/∂u = ∂L/∂shift on
// exit, its top half gets ∂L/∂scale = ∂L/∂u ⊙ (γ x̂ + β); g_n = ∂L/∂u ⊙ (1 + scale) (∂L/∂(LN_out output)) and
// prod = g_n ⊙ x̂ (for dγ) are written for the row sums.
void film_silu_backward(float* g_film, float* g_n, float* prod, const float* sig, const float* s, const float* xhat,
                        const float* film, const float* gamma, const float* beta, int n, int batch, cudaStream_t st);
// SiLU backward in place, g ← g ⊙ (σ + s(1 − σ)), and prod = g ⊙ x̂.
void silu_backward(float* g, float* prod, const float* sig, const float* s, const float* xhat, std::int64_t count,
                   cudaStream_t st);
// LayerNorm<float>::backward_column for every column: gx = rstd (gγ − mean(gγ) − x̂ mean(gγx̂)); gx may alias g.
void layernorm_backward(const float* g, const float* gamma, const float* xhat, const float* rstd, int n, int batch,
                        float* gx, cudaStream_t st);

// edm_coefficients per sample, in double and rounded once (σ = 0 → σ_min; σ_d = sigma_data).
void edm_coefficients(const float* sigma, int batch, double sigma_min, double sigma_data, float* c_skip, float* c_out,
                      float* c_in, float* c_noise, float* weight, cudaStream_t st);
// noisy = x + ε σ (per column), net_input = c_in · noisy. eps == nullptr: noisy = x (the sampler's denoise).
void edm_inputs(const float* x, const float* eps, const float* sigma, const float* c_in, int d, int batch, float* noisy,
                float* net_input, cudaStream_t st);
// D = c_skip · noisy + c_out · F (the denoiser output; Edm::denoise).
void edm_output(const float* noisy, const float* F, const float* c_skip, const float* c_out, int d, int batch,
                float* D, cudaStream_t st);
// The loss pass of Edm::shard_pass: D = c_skip·noisy + c_out·F, column_loss_j = ω_j ‖D_j − x_j‖², and
// grad_F = c_out · 2·norm·ω (D − x).
void edm_loss_grad(const float* noisy, const float* F, const float* x, const float* c_skip, const float* c_out,
                   const float* weight, float norm, int d, int batch, float* grad_F, double* column_loss,
                   cudaStream_t st);
// loss = norm · Σ_j column_loss_j, summed in a fixed order by one block (deterministic).
void sum_loss(const double* column_loss, int batch, double norm, double* loss, cudaStream_t st);

// Counter-based noise (Philox4x32-10 from cuRAND's device API, keyed by the seed, countered by *step and a
// stream tag): ε, ln σ = P_mean + P_std z (or σ = fixed_sigma when > 0), and batch indices uniform in [0, N).
// *step is read on the device, so a captured CUDA graph draws fresh numbers on every replay.
void draw_training_noise(std::uint64_t seed, const std::uint64_t* step, int d, int batch, double p_mean, double p_std,
                         double fixed_sigma, float* sigma, float* eps, cudaStream_t st);
// x(:, j) = data(:, idx_j), idx_j uniform in [0, n_data) from the same counter (tag 2).
void draw_batch(std::uint64_t seed, const std::uint64_t* step, const float* data, int d, std::int64_t n_data, int batch,
                float* x, cudaStream_t st);
void increment(std::uint64_t* counter, cudaStream_t st);

// Adam<float>::step: scalars from the device step counter (incremented here), then the elementwise update.
void adam_step(std::int64_t* step, double lr, double beta1, double beta2, double eps, float* params, const float* grads,
               float* m, float* v, std::int64_t n, float* scalars, cudaStream_t st);

// heun_sample's two updates: slope = (x − D)/σ, x_next = x + h·slope; and the correction
// slope += (x_next − D')/σ', out = x + (h/2)·slope.
void heun_euler(const float* x, const float* D, float sigma, float h, float* slope, float* x_next, std::int64_t n,
                cudaStream_t st);
void heun_correct(const float* x, const float* x_next, const float* D, float sigma_next, float h, float* slope,
                  float* out, std::int64_t n, cudaStream_t st);
void scale(float* x, float a, std::int64_t n, cudaStream_t st);  // x ← a x

// SampleStatistics: xc = double(x) − m (d × b); Chan merge of a chunk's mean into the running one:
// delta = mean_b − mean, mean += delta · n_b / (n_a + n_b).
void centre_to_double(const float* x, const double* mean, int d, int batch, double* xc, cudaStream_t st);
void subtract_column(double* Y, const double* v, int d, int batch, cudaStream_t st);
void chan_merge_mean(double* mean, const double* mean_b, double* delta, int d, double n_a, double n_b, cudaStream_t st);

}  // namespace specbias::train::cuda::kernels
