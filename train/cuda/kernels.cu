// Hand-written kernels of the GPU trainer (see kernels.hpp for what each computes and its CPU twin).
// Per-sample (per-column) passes use one block per column with a shared-memory tree reduction; elementwise
// passes use a grid-stride loop. Reductions are in a fixed order, so every result is run-to-run deterministic.
#include "train/cuda/kernels.hpp"

#include <curand_kernel.h>

#include <cmath>

namespace specbias::train::cuda::kernels {
namespace {

constexpr int kColumnThreads = 256;  // threads per per-column block (LayerNorm widths 128…3072)
constexpr int kElementThreads = 256;
constexpr float kLayerNormEps = 1e-5f;  // LayerNorm<T>::kEps

int element_blocks(std::int64_t n) {
  const std::int64_t blocks = (n + kElementThreads - 1) / kElementThreads;
  return static_cast<int>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

// Sum of v over the block; every thread gets the result. `shared` holds 32 values; reusable after return.
template <typename T>
__device__ T block_sum(T v, T* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) >> 5;
  if (warp == 0) {
    v = lane < warps ? shared[lane] : T(0);
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __syncwarp();
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  const T total = shared[0];
  __syncthreads();
  return total;
}

__device__ float sigmoid(float a) { return 1.0f / (1.0f + expf(-a)); }

// Two-pass LayerNorm statistics of one column (mean, then centred squares), as LayerNorm::normalize_column.
__device__ float column_rstd(const float* x, int n, float& mean, float* shared) {
  float acc = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) acc += x[i];
  mean = block_sum(acc, shared) / static_cast<float>(n);
  acc = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float c = x[i] - mean;
    acc += c * c;
  }
  const float var = block_sum(acc, shared) / static_cast<float>(n);
  return 1.0f / sqrtf(var + kLayerNormEps);
}

__global__ void fourier_embedding_kernel(const float* two_pi_freqs, int half, const float* c_noise, int batch, float* e) {
  const std::int64_t total = static_cast<std::int64_t>(half) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(k % half), b = static_cast<int>(k / half);
    const float phase = two_pi_freqs[j] * c_noise[b];
    float* col = e + static_cast<std::int64_t>(b) * 2 * half;
    col[j] = sinf(phase);
    col[half + j] = cosf(phase);
  }
}

__global__ void columns_kernel(float* Y, int rows, int batch, const float* v, bool accumulate) {
  const std::int64_t total = static_cast<std::int64_t>(rows) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float b = v[k % rows];
    Y[k] = accumulate ? Y[k] + b : b;
  }
}

__global__ void add_kernel(float* y, const float* x, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[k] += x[k];
}

__global__ void fill_kernel(float* y, std::int64_t n, float value) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[k] = value;
}

__global__ void scale_kernel(float* x, float a, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    x[k] *= a;
}

__global__ void layernorm_silu_kernel(const float* x, int n, const float* gamma, const float* beta, float* xhat,
                                      float* rstd, float* sig, float* s) {
  __shared__ float shared[32];
  const std::int64_t off = static_cast<std::int64_t>(blockIdx.x) * n;
  float mean;
  const float r = column_rstd(x + off, n, mean, shared);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float xh = (x[off + i] - mean) * r;
    const float a = gamma[i] * xh + beta[i];
    const float g = sigmoid(a);
    xhat[off + i] = xh;
    sig[off + i] = g;
    s[off + i] = a * g;
  }
}

__global__ void layernorm_film_silu_kernel(float* h, int n, const float* gamma, const float* beta, const float* film,
                                           float* rstd, float* sig, float* s) {
  __shared__ float shared[32];
  const std::int64_t off = static_cast<std::int64_t>(blockIdx.x) * n;
  const float* scale = film + static_cast<std::int64_t>(blockIdx.x) * 2 * n;
  const float* shift = scale + n;
  float mean;
  const float r = column_rstd(h + off, n, mean, shared);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float xh = (h[off + i] - mean) * r;
    const float u = shift[i] + (gamma[i] * xh + beta[i]) * (1.0f + scale[i]);
    const float g = sigmoid(u);
    h[off + i] = xh;
    sig[off + i] = g;
    s[off + i] = u * g;
  }
}

__global__ void film_silu_backward_kernel(float* g_film, float* g_n, float* prod, const float* sig, const float* s,
                                          const float* xhat, const float* film, const float* gamma, const float* beta,
                                          int n, int batch) {
  const std::int64_t total = static_cast<std::int64_t>(n) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = k / n;
    const int i = static_cast<int>(k - j * n);
    float* gcol = g_film + j * 2 * n;
    const float* fcol = film + j * 2 * n;
    const float g = sig[k];
    const float g_u = gcol[n + i] * (g + s[k] * (1.0f - g));
    const float xh = xhat[k];
    gcol[n + i] = g_u;
    gcol[i] = g_u * (gamma[i] * xh + beta[i]);
    const float gn = g_u * (1.0f + fcol[i]);
    g_n[k] = gn;
    prod[k] = gn * xh;
  }
}

__global__ void silu_backward_kernel(float* g, float* prod, const float* sig, const float* s, const float* xhat,
                                     std::int64_t count) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < count;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float sg = sig[k];
    const float ga = g[k] * (sg + s[k] * (1.0f - sg));
    g[k] = ga;
    prod[k] = ga * xhat[k];
  }
}

__global__ void layernorm_backward_kernel(const float* g, const float* gamma, const float* xhat, const float* rstd,
                                          int n, float* gx) {
  __shared__ float shared[32];
  const std::int64_t off = static_cast<std::int64_t>(blockIdx.x) * n;
  float a1 = 0.0f, a2 = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float gg = g[off + i] * gamma[i];
    a1 += gg;
    a2 += gg * xhat[off + i];
  }
  const float m1 = block_sum(a1, shared) / static_cast<float>(n);
  const float m2 = block_sum(a2, shared) / static_cast<float>(n);
  const float r = rstd[blockIdx.x];
  for (int i = threadIdx.x; i < n; i += blockDim.x)  // reads g[i] before writing gx[i]: aliasing is safe
    gx[off + i] = r * (g[off + i] * gamma[i] - m1 - xhat[off + i] * m2);
}

__global__ void edm_coefficients_kernel(const float* sigma, int batch, double sigma_min, double sd, float* c_skip,
                                        float* c_out, float* c_in, float* c_noise, float* weight) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= batch) return;
  const double raw = static_cast<double>(sigma[j]);
  const double s = raw == 0.0 ? sigma_min : raw;  // negative or NaN σ propagates to a NaN loss, caught by the trainer
  const double s2 = s * s + sd * sd;
  c_skip[j] = static_cast<float>(sd * sd / s2);
  c_out[j] = static_cast<float>(s * sd / sqrt(s2));
  c_in[j] = static_cast<float>(1.0 / sqrt(s2));
  c_noise[j] = static_cast<float>(log(s) / 4.0);
  weight[j] = static_cast<float>(s2 / ((s * sd) * (s * sd)));
}

__global__ void edm_inputs_kernel(const float* x, const float* eps, const float* sigma, const float* c_in, int d,
                                  int batch, float* noisy, float* net_input) {
  const std::int64_t total = static_cast<std::int64_t>(d) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = k / d;
    const float y = eps != nullptr ? x[k] + eps[k] * sigma[j] : x[k];
    if (noisy != nullptr) noisy[k] = y;
    net_input[k] = y * c_in[j];
  }
}

__global__ void edm_output_kernel(const float* noisy, const float* F, const float* c_skip, const float* c_out, int d,
                                  int batch, float* D) {
  const std::int64_t total = static_cast<std::int64_t>(d) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = k / d;
    D[k] = noisy[k] * c_skip[j] + F[k] * c_out[j];
  }
}

__global__ void edm_loss_grad_kernel(const float* noisy, const float* F, const float* x, const float* c_skip,
                                     const float* c_out, const float* weight, float norm, int d, float* grad_F,
                                     double* column_loss) {
  __shared__ float shared[32];
  const int j = blockIdx.x;
  const std::int64_t off = static_cast<std::int64_t>(j) * d;
  const float cs = c_skip[j], co = c_out[j], w = weight[j];
  const float g = 2.0f * norm * w;
  float acc = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    const float diff = (noisy[off + i] * cs + F[off + i] * co) - x[off + i];
    acc += diff * diff;
    grad_F[off + i] = co * (g * diff);
  }
  const float sq = block_sum(acc, shared);
  if (threadIdx.x == 0) column_loss[j] = static_cast<double>(w) * static_cast<double>(sq);
}

__global__ void sum_loss_kernel(const double* column_loss, int batch, double norm, double* loss) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int j = threadIdx.x; j < batch; j += blockDim.x) acc += column_loss[j];
  const double total = block_sum(acc, shared);
  if (threadIdx.x == 0) *loss = total * norm;
}

// Philox4x32-10 block `block` under counter (block, step, tag) and key = seed: four independent 32-bit words.
__device__ uint4 philox(std::uint64_t seed, std::uint64_t step, unsigned tag, unsigned block) {
  const uint4 counter = make_uint4(block, static_cast<unsigned>(step), static_cast<unsigned>(step >> 32), tag);
  const uint2 key = make_uint2(static_cast<unsigned>(seed), static_cast<unsigned>(seed >> 32));
  return curand_Philox4x32_10(counter, key);
}

// Box–Muller on two words: u1 ∈ (0, 1] so the logarithm is finite.
__device__ float2 box_muller(unsigned a, unsigned b) {
  const float u1 = (static_cast<float>(a) + 1.0f) * 2.3283064365386963e-10f;  // (a + 1) / 2³²
  const float u2 = static_cast<float>(b) * 2.3283064365386963e-10f;
  const float r = sqrtf(-2.0f * logf(u1));
  float sn, cs;
  sincospif(2.0f * u2, &sn, &cs);
  return make_float2(r * cs, r * sn);
}

__global__ void draw_training_noise_kernel(std::uint64_t seed, const std::uint64_t* step_ptr, int d, int batch,
                                           double p_mean, double p_std, double fixed_sigma, float* sigma, float* eps) {
  const std::uint64_t step = *step_ptr;
  const std::int64_t n_eps = static_cast<std::int64_t>(d) * batch;
  const std::int64_t total = n_eps + batch;  // ε first (tag 0), then the σ normals
  const std::int64_t blocks = (total + 3) / 4;
  for (std::int64_t q = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; q < blocks;
       q += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const uint4 w = philox(seed, step, 0u, static_cast<unsigned>(q));
    const float2 z01 = box_muller(w.x, w.y), z23 = box_muller(w.z, w.w);
    const float z[4] = {z01.x, z01.y, z23.x, z23.y};
    for (int r = 0; r < 4; ++r) {
      const std::int64_t k = 4 * q + r;
      if (k < n_eps) {
        eps[k] = z[r];
      } else if (k < total) {
        const std::int64_t j = k - n_eps;
        sigma[j] = static_cast<float>(fixed_sigma > 0 ? fixed_sigma : exp(p_mean + p_std * static_cast<double>(z[r])));
      }
    }
  }
}

__global__ void draw_batch_kernel(std::uint64_t seed, const std::uint64_t* step_ptr, const float* data, int d,
                                  std::int64_t n_data, int batch, float* x) {
  const std::uint64_t step = *step_ptr;
  const std::int64_t total = static_cast<std::int64_t>(d) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = k / d;
    const int i = static_cast<int>(k - j * d);
    // Every thread of column j derives the same index from block j/4 (tag 2): ⌊u·N/2³²⌋ for a 32-bit word u,
    // uniform up to a relative bias below N/2³² (2e-6 for 10⁴ training samples).
    const uint4 w = philox(seed, step, 2u, static_cast<unsigned>(j / 4));
    const unsigned words[4] = {w.x, w.y, w.z, w.w};
    const std::int64_t idx = static_cast<std::int64_t>((static_cast<std::uint64_t>(words[j % 4]) *
                                                        static_cast<std::uint64_t>(n_data)) >> 32);
    x[k] = data[idx * d + i];
  }
}

__global__ void increment_kernel(std::uint64_t* counter) { *counter += 1; }

// Bias-correction scalars as Adam<float>::step forms them (double, rounded to float): step_size = lr/(1 − β1^t),
// sqrt(1 − β2^t). Increments the device step first.
__global__ void adam_scalars_kernel(std::int64_t* step, double lr, double beta1, double beta2, float* scalars) {
  const std::int64_t t = ++(*step);
  const double bc1 = 1.0 - pow(beta1, static_cast<double>(t));
  const double bc2 = 1.0 - pow(beta2, static_cast<double>(t));
  scalars[0] = static_cast<float>(lr / bc1);
  scalars[1] = static_cast<float>(sqrt(bc2));
}

__global__ void adam_update_kernel(const float* scalars, float w1, float b2, float w2, float eps, float* p,
                                   const float* g, float* m, float* v, std::int64_t n) {
  const float step_size = scalars[0], bc2_sqrt = scalars[1];
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float gk = g[k];
    const float mk = m[k] + w1 * (gk - m[k]);
    const float vk = v[k] * b2 + w2 * (gk * gk);
    m[k] = mk;
    v[k] = vk;
    p[k] -= step_size * (mk / (sqrtf(vk) / bc2_sqrt + eps));
  }
}

__global__ void heun_euler_kernel(const float* x, const float* D, float sigma, float h, float* slope, float* x_next,
                                  std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float d = (x[k] - D[k]) / sigma;
    slope[k] = d;
    x_next[k] = x[k] + h * d;
  }
}

__global__ void heun_correct_kernel(const float* x, const float* x_next, const float* D, float sigma_next, float h,
                                    float* slope, float* out, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float d = slope[k] + (x_next[k] - D[k]) / sigma_next;
    slope[k] = d;
    out[k] = x[k] + (h / 2.0f) * d;
  }
}

__global__ void centre_to_double_kernel(const float* x, const double* mean, int d, int batch, double* xc) {
  const std::int64_t total = static_cast<std::int64_t>(d) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    xc[k] = static_cast<double>(x[k]) - mean[k % d];
}

__global__ void subtract_column_kernel(double* Y, const double* v, int d, int batch) {
  const std::int64_t total = static_cast<std::int64_t>(d) * batch;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    Y[k] -= v[k % d];
}

__global__ void chan_merge_mean_kernel(double* mean, const double* mean_b, double* delta, int d, double n_a,
                                       double n_b) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= d) return;
  const double dl = mean_b[i] - mean[i];
  delta[i] = dl;
  mean[i] += dl * (n_b / (n_a + n_b));
}

}  // namespace

void fourier_embedding(const float* two_pi_freqs, int half, const float* c_noise, int batch, float* e, cudaStream_t s) {
  fourier_embedding_kernel<<<element_blocks(static_cast<std::int64_t>(half) * batch), kElementThreads, 0, s>>>(
      two_pi_freqs, half, c_noise, batch, e);
  check_launch("fourier_embedding");
}

void set_columns(float* Y, int rows, int batch, const float* v, cudaStream_t s) {
  columns_kernel<<<element_blocks(static_cast<std::int64_t>(rows) * batch), kElementThreads, 0, s>>>(Y, rows, batch, v,
                                                                                                     false);
  check_launch("set_columns");
}

void add_columns(float* Y, int rows, int batch, const float* v, cudaStream_t s) {
  columns_kernel<<<element_blocks(static_cast<std::int64_t>(rows) * batch), kElementThreads, 0, s>>>(Y, rows, batch, v,
                                                                                                     true);
  check_launch("add_columns");
}

void add(float* y, const float* x, std::int64_t n, cudaStream_t s) {
  add_kernel<<<element_blocks(n), kElementThreads, 0, s>>>(y, x, n);
  check_launch("add");
}

void fill(float* y, std::int64_t n, float value, cudaStream_t s) {
  fill_kernel<<<element_blocks(n), kElementThreads, 0, s>>>(y, n, value);
  check_launch("fill");
}

void scale(float* x, float a, std::int64_t n, cudaStream_t s) {
  scale_kernel<<<element_blocks(n), kElementThreads, 0, s>>>(x, a, n);
  check_launch("scale");
}

void layernorm_silu_forward(const float* x, int n, int batch, const float* gamma, const float* beta, float* xhat,
                            float* rstd, float* sig, float* s, cudaStream_t st) {
  layernorm_silu_kernel<<<batch, kColumnThreads, 0, st>>>(x, n, gamma, beta, xhat, rstd, sig, s);
  check_launch("layernorm_silu_forward");
}

void layernorm_film_silu_forward(float* h, int n, int batch, const float* gamma, const float* beta, const float* film,
                                 float* rstd, float* sig, float* s, cudaStream_t st) {
  layernorm_film_silu_kernel<<<batch, kColumnThreads, 0, st>>>(h, n, gamma, beta, film, rstd, sig, s);
  check_launch("layernorm_film_silu_forward");
}

void film_silu_backward(float* g_film, float* g_n, float* prod, const float* sig, const float* s, const float* xhat,
                        const float* film, const float* gamma, const float* beta, int n, int batch, cudaStream_t st) {
  film_silu_backward_kernel<<<element_blocks(static_cast<std::int64_t>(n) * batch), kElementThreads, 0, st>>>(
      g_film, g_n, prod, sig, s, xhat, film, gamma, beta, n, batch);
  check_launch("film_silu_backward");
}

void silu_backward(float* g, float* prod, const float* sig, const float* s, const float* xhat, std::int64_t count,
                   cudaStream_t st) {
  silu_backward_kernel<<<element_blocks(count), kElementThreads, 0, st>>>(g, prod, sig, s, xhat, count);
  check_launch("silu_backward");
}

void layernorm_backward(const float* g, const float* gamma, const float* xhat, const float* rstd, int n, int batch,
                        float* gx, cudaStream_t st) {
  layernorm_backward_kernel<<<batch, kColumnThreads, 0, st>>>(g, gamma, xhat, rstd, n, gx);
  check_launch("layernorm_backward");
}

void edm_coefficients(const float* sigma, int batch, double sigma_min, double sigma_data, float* c_skip, float* c_out,
                      float* c_in, float* c_noise, float* weight, cudaStream_t st) {
  edm_coefficients_kernel<<<(batch + 127) / 128, 128, 0, st>>>(sigma, batch, sigma_min, sigma_data, c_skip, c_out,
                                                              c_in, c_noise, weight);
  check_launch("edm_coefficients");
}

void edm_inputs(const float* x, const float* eps, const float* sigma, const float* c_in, int d, int batch, float* noisy,
                float* net_input, cudaStream_t st) {
  edm_inputs_kernel<<<element_blocks(static_cast<std::int64_t>(d) * batch), kElementThreads, 0, st>>>(
      x, eps, sigma, c_in, d, batch, noisy, net_input);
  check_launch("edm_inputs");
}

void edm_output(const float* noisy, const float* F, const float* c_skip, const float* c_out, int d, int batch, float* D,
                cudaStream_t st) {
  edm_output_kernel<<<element_blocks(static_cast<std::int64_t>(d) * batch), kElementThreads, 0, st>>>(
      noisy, F, c_skip, c_out, d, batch, D);
  check_launch("edm_output");
}

void edm_loss_grad(const float* noisy, const float* F, const float* x, const float* c_skip, const float* c_out,
                   const float* weight, float norm, int d, int batch, float* grad_F, double* column_loss,
                   cudaStream_t st) {
  edm_loss_grad_kernel<<<batch, kColumnThreads, 0, st>>>(noisy, F, x, c_skip, c_out, weight, norm, d, grad_F,
                                                         column_loss);
  check_launch("edm_loss_grad");
}

void sum_loss(const double* column_loss, int batch, double norm, double* loss, cudaStream_t st) {
  sum_loss_kernel<<<1, 1024, 0, st>>>(column_loss, batch, norm, loss);
  check_launch("sum_loss");
}

void draw_training_noise(std::uint64_t seed, const std::uint64_t* step, int d, int batch, double p_mean, double p_std,
                         double fixed_sigma, float* sigma, float* eps, cudaStream_t st) {
  const std::int64_t blocks = (static_cast<std::int64_t>(d) * batch + batch + 3) / 4;
  draw_training_noise_kernel<<<element_blocks(blocks), kElementThreads, 0, st>>>(seed, step, d, batch, p_mean, p_std,
                                                                                 fixed_sigma, sigma, eps);
  check_launch("draw_training_noise");
}

void draw_batch(std::uint64_t seed, const std::uint64_t* step, const float* data, int d, std::int64_t n_data, int batch,
                float* x, cudaStream_t st) {
  draw_batch_kernel<<<element_blocks(static_cast<std::int64_t>(d) * batch), kElementThreads, 0, st>>>(
      seed, step, data, d, n_data, batch, x);
  check_launch("draw_batch");
}

void increment(std::uint64_t* counter, cudaStream_t st) {
  increment_kernel<<<1, 1, 0, st>>>(counter);
  check_launch("increment");
}

void adam_step(std::int64_t* step, double lr, double beta1, double beta2, double eps, float* params, const float* grads,
               float* m, float* v, std::int64_t n, float* scalars, cudaStream_t st) {
  adam_scalars_kernel<<<1, 1, 0, st>>>(step, lr, beta1, beta2, scalars);
  check_launch("adam_scalars");
  adam_update_kernel<<<element_blocks(n), kElementThreads, 0, st>>>(
      scalars, static_cast<float>(1.0 - beta1), static_cast<float>(beta2), static_cast<float>(1.0 - beta2),
      static_cast<float>(eps), params, grads, m, v, n);
  check_launch("adam_update");
}

void heun_euler(const float* x, const float* D, float sigma, float h, float* slope, float* x_next, std::int64_t n,
                cudaStream_t st) {
  heun_euler_kernel<<<element_blocks(n), kElementThreads, 0, st>>>(x, D, sigma, h, slope, x_next, n);
  check_launch("heun_euler");
}

void heun_correct(const float* x, const float* x_next, const float* D, float sigma_next, float h, float* slope,
                  float* out, std::int64_t n, cudaStream_t st) {
  heun_correct_kernel<<<element_blocks(n), kElementThreads, 0, st>>>(x, x_next, D, sigma_next, h, slope, out, n);
  check_launch("heun_correct");
}

void centre_to_double(const float* x, const double* mean, int d, int batch, double* xc, cudaStream_t st) {
  centre_to_double_kernel<<<element_blocks(static_cast<std::int64_t>(d) * batch), kElementThreads, 0, st>>>(x, mean, d,
                                                                                                            batch, xc);
  check_launch("centre_to_double");
}

void subtract_column(double* Y, const double* v, int d, int batch, cudaStream_t st) {
  subtract_column_kernel<<<element_blocks(static_cast<std::int64_t>(d) * batch), kElementThreads, 0, st>>>(Y, v, d,
                                                                                                          batch);
  check_launch("subtract_column");
}

void chan_merge_mean(double* mean, const double* mean_b, double* delta, int d, double n_a, double n_b, cudaStream_t st) {
  chan_merge_mean_kernel<<<(d + 127) / 128, 128, 0, st>>>(mean, mean_b, delta, d, n_a, n_b);
  check_launch("chan_merge_mean");
}

}  // namespace specbias::train::cuda::kernels
