#include "train/cuda/training.hpp"

#include <cuda_runtime_api.h>

#include <vector>

#include "train/cuda/kernels.hpp"

namespace specbias::train::cuda {

// ---- EDM ------------------------------------------------------------------------------------------------

GpuEdm::GpuEdm(const EdmConfig& config, const Stream& stream) : config_(config), stream_(&stream) { config_.validate(); }

void GpuEdm::prepare(const GpuMlpUNet& net, const float* sigma, int batch, Context& ctx) const {
  const auto d = static_cast<std::size_t>(net.config().dim), B = static_cast<std::size_t>(batch);
  if (ctx.batch != batch) {
    ctx.batch = batch;
    for (DeviceBuffer<float>* b : {&ctx.c_skip, &ctx.c_out, &ctx.c_in, &ctx.c_noise, &ctx.weight}) b->resize(B);
    for (DeviceBuffer<float>* b : {&ctx.noisy, &ctx.net_input, &ctx.grad_F}) b->resize(d * B);
    ctx.column_loss.resize(B);
    ctx.loss.resize(1);
  }
  kernels::edm_coefficients(sigma, batch, config_.sigma_min, config_.sigma_data, ctx.c_skip.data(), ctx.c_out.data(),
                            ctx.c_in.data(), ctx.c_noise.data(), ctx.weight.data(), stream_->get());
}

void GpuEdm::loss_and_grad(GpuMlpUNet& net, const float* x, const float* sigma, const float* eps, int batch,
                           Context& ctx) const {
  const int d = static_cast<int>(net.config().dim);
  const cudaStream_t s = stream_->get();
  prepare(net, sigma, batch, ctx);
  kernels::edm_inputs(x, eps, sigma, ctx.c_in.data(), d, batch, ctx.noisy.data(), ctx.net_input.data(), s);
  const float* F = net.forward(ctx.net_input.data(), ctx.c_noise.data(), batch, ctx.net);
  // The reduction's normaliser as Edm::normaliser: 1/(d·B) for "mean", 1/B for "sum".
  const double norm = config_.reduction == LossReduction::mean ? 1.0 / (static_cast<double>(d) * batch)
                                                                : 1.0 / static_cast<double>(batch);
  kernels::edm_loss_grad(ctx.noisy.data(), F, x, ctx.c_skip.data(), ctx.c_out.data(), ctx.weight.data(),
                         static_cast<float>(norm), d, batch, ctx.grad_F.data(), ctx.column_loss.data(), s);
  kernels::sum_loss(ctx.column_loss.data(), batch, norm, ctx.loss.data(), s);
  net.backward(ctx.net, ctx.grad_F.data());
}

void GpuEdm::denoise(const GpuMlpUNet& net, const float* x, const float* sigma, int batch, Context& ctx,
                     float* D) const {
  const int d = static_cast<int>(net.config().dim);
  const cudaStream_t s = stream_->get();
  prepare(net, sigma, batch, ctx);
  kernels::edm_inputs(x, nullptr, sigma, ctx.c_in.data(), d, batch, nullptr, ctx.net_input.data(), s);
  const float* F = net.forward(ctx.net_input.data(), ctx.c_noise.data(), batch, ctx.net);
  kernels::edm_output(x, F, ctx.c_skip.data(), ctx.c_out.data(), d, batch, D, s);
}

// ---- Adam -----------------------------------------------------------------------------------------------

GpuAdam::GpuAdam(const AdamConfig& config, std::size_t n, const Stream& stream)
    : config_(config), stream_(&stream), m_(n), v_(n), scalars_(2), step_(1) {
  config_.validate();
  m_.zero(stream.get());
  v_.zero(stream.get());
  step_.zero(stream.get());
}

void GpuAdam::step(float* params, const float* grads) {
  kernels::adam_step(step_.data(), config_.lr, config_.beta1, config_.beta2, config_.eps, params, grads, m_.data(),
                     v_.data(), static_cast<std::int64_t>(m_.size()), scalars_.data(), stream_->get());
}

void GpuAdam::set_state(const AdamState<float>& state) {
  if (state.m.size() != m_.size() || state.v.size() != v_.size() || state.step < 0)
    throw DataError("GpuAdam::set_state: state has " + std::to_string(state.m.size()) + "/" +
                    std::to_string(state.v.size()) + " moments and step " + std::to_string(state.step) +
                    "; the optimiser has " + std::to_string(m_.size()) + " parameters");
  m_.upload(state.m, stream_->get());
  v_.upload(state.v, stream_->get());
  const std::int64_t t = state.step;
  step_.upload(std::span<const std::int64_t>(&t, 1), stream_->get());
  stream_->synchronize();
}

AdamState<float> GpuAdam::state() const {
  AdamState<float> st;
  st.m.resize(m_.size());
  st.v.resize(v_.size());
  m_.download(st.m, stream_->get());
  v_.download(st.v, stream_->get());
  step_.download(std::span<std::int64_t>(&st.step, 1), stream_->get());
  stream_->synchronize();
  return st;
}

// ---- Heun sampler ---------------------------------------------------------------------------------------

GpuHeunSampler::GpuHeunSampler(const HeunSchedule& schedule, const Stream& stream)
    : schedule_(schedule), stream_(&stream) {
  (void)schedule_.sigmas();  // validates the schedule now rather than at the first record
}

void GpuHeunSampler::sample(const GpuEdm& edm, const GpuMlpUNet& net, float* x, int d, int batch,
                            GpuEdm::Context& ctx) {
  const cudaStream_t s = stream_->get();
  const std::int64_t n = static_cast<std::int64_t>(d) * batch;
  for (DeviceBuffer<float>* b : {&denoised_, &slope_, &x_next_}) b->resize(static_cast<std::size_t>(n));
  sigma_.resize(static_cast<std::size_t>(batch));
  const std::vector<double> sig = schedule_.sigmas();
  kernels::scale(x, static_cast<float>(sig[0]), n, s);
  for (int i = 0; i < schedule_.steps; ++i) {
    const double si = sig[static_cast<std::size_t>(i)], s_next = sig[static_cast<std::size_t>(i) + 1];
    const auto h = static_cast<float>(s_next - si);
    kernels::fill(sigma_.data(), batch, static_cast<float>(si), s);
    edm.denoise(net, x, sigma_.data(), batch, ctx, denoised_.data());
    kernels::heun_euler(x, denoised_.data(), static_cast<float>(si), h, slope_.data(), x_next_.data(), n, s);
    if (i < schedule_.steps - 1) {
      kernels::fill(sigma_.data(), batch, static_cast<float>(s_next), s);
      edm.denoise(net, x_next_.data(), sigma_.data(), batch, ctx, denoised_.data());
      kernels::heun_correct(x, x_next_.data(), denoised_.data(), static_cast<float>(s_next), h, slope_.data(),
                            x_next_.data(), n, s);
    }
    check(cudaMemcpyAsync(x, x_next_.data(), sizeof(float) * static_cast<std::size_t>(n), cudaMemcpyDeviceToDevice, s),
          "cudaMemcpyAsync (Heun step)");
  }
}

// ---- Streamed statistics --------------------------------------------------------------------------------

GpuSampleStatistics::GpuSampleStatistics(const Eigen::MatrixXd& U, const Eigen::VectorXd& data_mean,
                                         const Stream& stream, const Blas& blas)
    : d_(static_cast<int>(U.rows())), U_host_(U), mean_host_(data_mean), stream_(&stream), blas_(&blas) {
  if (U.rows() != U.cols() || U.rows() != data_mean.size())
    throw std::invalid_argument("GpuSampleStatistics: U must be d x d and the data mean of length d");
  const auto d = static_cast<std::size_t>(d_);
  U_.resize(d * d);
  U_.upload(std::span<const double>(U_host_.data(), d * d), stream.get());
  data_mean_.resize(d);
  data_mean_.upload(std::span<const double>(mean_host_.data(), d), stream.get());
  for (DeviceBuffer<double>* b : {&mean_y_, &mean_b_, &delta_}) b->resize(d);
  scatter_.resize(d * d);
  reset();
  stream.synchronize();
}

void GpuSampleStatistics::reset() {
  n_ = 0;
  mean_y_.zero(stream_->get());
  scatter_.zero(stream_->get());
}

void GpuSampleStatistics::add(const float* x, int batch) {
  if (batch < 1) return;
  const cudaStream_t s = stream_->get();
  const auto len = static_cast<std::size_t>(d_) * static_cast<std::size_t>(batch);
  xc_.resize(len);
  y_.resize(len);
  if (ones_.size() != static_cast<std::size_t>(batch)) {
    const std::vector<double> ones(static_cast<std::size_t>(batch), 1.0);
    ones_.resize(ones.size());
    ones_.upload(ones, s);
    stream_->synchronize();  // `ones` is a temporary
  }
  kernels::centre_to_double(x, data_mean_.data(), d_, batch, xc_.data(), s);
  blas_->gemm(true, false, d_, batch, d_, 1.0, U_.data(), d_, xc_.data(), d_, 0.0, y_.data(), d_);  // y = Uᵀ(x − m)
  blas_->gemv(false, d_, batch, 1.0 / batch, y_.data(), d_, ones_.data(), 0.0, mean_b_.data());
  kernels::subtract_column(y_.data(), mean_b_.data(), d_, batch, s);
  // Chan, Golub & LeVeque: M2 = M2_a + M2_b + δδᵀ n_a n_b / n, as SampleStatistics::add_projected.
  blas_->syrk_lower(d_, batch, 1.0, y_.data(), d_, 1.0, scatter_.data(), d_);
  const auto na = static_cast<double>(n_), nb = static_cast<double>(batch);
  kernels::chan_merge_mean(mean_y_.data(), mean_b_.data(), delta_.data(), d_, na, nb, s);
  blas_->syr_lower(d_, na * nb / (na + nb), delta_.data(), scatter_.data(), d_);
  n_ += batch;
}

SampleSummary GpuSampleStatistics::summary() const {
  const auto d = static_cast<std::size_t>(d_);
  Eigen::VectorXd mean_y(d_);
  Eigen::MatrixXd scatter(d_, d_);
  mean_y_.download(std::span<double>(mean_y.data(), d), stream_->get());
  scatter_.download(std::span<double>(scatter.data(), d * d), stream_->get());
  stream_->synchronize();
  return summarise_projected(U_host_, mean_host_, n_, mean_y, scatter);
}

// ---- Engine ---------------------------------------------------------------------------------------------

CudaEngine::CudaEngine(const TrainingSet& data, const TrainerOptions& options, GemmPrecision precision)
    : options_(options),
      device_(probe_device().description),
      blas_(stream_, precision),
      edm_(options.edm, stream_),
      sampler_(options.sampler, stream_),
      n_data_(data.samples.cols()),
      dim_(static_cast<int>(data.samples.rows())) {
  const auto len = static_cast<std::size_t>(data.samples.size());
  data_.resize(len);
  data_.upload(std::span<const float>(data.samples.data(), len), stream_.get());
  const auto B = static_cast<std::size_t>(options.batch);
  batch_.resize(static_cast<std::size_t>(dim_) * B);
  eps_.resize(static_cast<std::size_t>(dim_) * B);
  sigma_.resize(B);
  step_counter_.resize(1);
  check(cudaMallocHost(reinterpret_cast<void**>(&pinned_loss_), sizeof(double)), "cudaMallocHost");
  stream_.synchronize();
}

CudaEngine::~CudaEngine() {
  if (graph_exec_ != nullptr) cudaGraphExecDestroy(graph_exec_);
  if (pinned_loss_ != nullptr) cudaFreeHost(pinned_loss_);
}

std::string CudaEngine::description() const {
  return device_ + "; GEMM " + to_string(blas_.precision()) +
         (graph_failed_ ? "; training step eager (graph capture failed: " + graph_error_ + ")"
                        : "; training step as a CUDA graph");
}

void CudaEngine::load(const MlpUNet<float>& net, const AdamState<float>& adam) {
  if (!net_) {
    net_ = std::make_unique<GpuMlpUNet>(net, stream_, blas_);
    adam_ = std::make_unique<GpuAdam>(options_.adam, net_->parameter_count(), stream_);
  } else {
    net_->upload_parameters(net);
  }
  adam_->set_state(adam);
  next_step_ = -1;  // the noise counter is uploaded at the next step
}

void CudaEngine::enqueue_step() {
  const cudaStream_t s = stream_.get();
  const int B = static_cast<int>(options_.batch);
  kernels::draw_batch(options_.train_seed, step_counter_.data(), data_.data(), dim_, n_data_, B, batch_.data(), s);
  kernels::draw_training_noise(options_.train_seed, step_counter_.data(), dim_, B, options_.edm.p_mean,
                               options_.edm.p_std, options_.edm.fixed_sigma, sigma_.data(), eps_.data(), s);
  edm_.loss_and_grad(*net_, batch_.data(), sigma_.data(), eps_.data(), B, train_ctx_);
  adam_->step(net_->values().data(), net_->grads().data());
  kernels::increment(step_counter_.data(), s);
  check(cudaMemcpyAsync(pinned_loss_, train_ctx_.loss.data(), sizeof(double), cudaMemcpyDeviceToHost, s),
        "cudaMemcpyAsync (loss)");
}

bool CudaEngine::capture_step_graph() {
  const cudaStream_t s = stream_.get();
  cudaGraph_t graph = nullptr;
  try {
    check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      enqueue_step();
    } catch (...) {
      cudaStreamEndCapture(s, &graph);  // leaves capture mode; the partial graph is discarded
      if (graph != nullptr) cudaGraphDestroy(graph);
      throw;
    }
    check(cudaStreamEndCapture(s, &graph), "cudaStreamEndCapture");
    check(cudaGraphInstantiate(&graph_exec_, graph, 0), "cudaGraphInstantiate");
    cudaGraphDestroy(graph);
    return true;
  } catch (const DeviceError& e) {
    cudaGetLastError();
    graph_exec_ = nullptr;
    graph_failed_ = true;
    graph_error_ = e.what();
    return false;
  }
}

double CudaEngine::train_step(std::int64_t step) {
  const cudaStream_t s = stream_.get();
  if (step != next_step_) {
    const auto counter = static_cast<std::uint64_t>(step);
    step_counter_.upload(std::span<const std::uint64_t>(&counter, 1), s);
    stream_.synchronize();
  }
  // Nothing is captured before one eager step has sized every buffer (a graph keeps the pointers it saw).
  if (graph_exec_ == nullptr && eager_steps_ > 0 && !graph_failed_) capture_step_graph();
  if (graph_exec_ != nullptr) {
    check(cudaGraphLaunch(graph_exec_, s), "cudaGraphLaunch (training step)");
  } else {
    enqueue_step();
    ++eager_steps_;
  }
  stream_.synchronize();
  next_step_ = step + 1;
  return *pinned_loss_;
}

void CudaEngine::sample(Mat<float>& z) {
  const auto len = static_cast<std::size_t>(z.size());
  chunk_.resize(len);
  chunk_.upload(std::span<const float>(z.data(), len), stream_.get());
  sampler_.sample(edm_, *net_, chunk_.data(), dim_, static_cast<int>(z.cols()), sample_ctx_);
  chunk_.download(std::span<float>(z.data(), len), stream_.get());
  stream_.synchronize();
}

void CudaEngine::store(MlpUNet<float>& net, AdamState<float>& adam) {
  net_->download_parameters(net);
  adam = adam_->state();
}

std::unique_ptr<DeviceEngine> make_cuda_engine(const TrainingSet& data, const TrainerOptions& options,
                                               const std::string& gemm_precision) {
  const GemmPrecision precision = parse_gemm_precision(gemm_precision);
  const DeviceProbe probe = probe_device();
  if (!probe.available)
    throw DeviceError("--device cuda: " + probe.description + "; this binary has the CUDA trainer, but it needs an "
                      "NVIDIA GPU and driver (use --device cpu)");
  return std::make_unique<CudaEngine>(data, options, precision);
}

}  // namespace specbias::train::cuda
