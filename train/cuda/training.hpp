// The GPU twins of the trainer's compute (issue 7): EDM loss and denoiser (train/edm.hpp), Adam
// (train/adam.hpp), the Heun sampler (train/heun_sampler.hpp) and the streamed eigenbasis statistics
// (train/sample_statistics.hpp), plus CudaEngine, which runs a whole training step and a whole sampler chunk on
// the device for run_training (train/trainer.hpp). Nothing inside a training step or a sampler step goes back to
// the host; the loss scalar is read once per step after the update has been queued.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "train/adam.hpp"
#include "train/cuda/device.hpp"
#include "train/cuda/network.hpp"
#include "train/edm.hpp"
#include "train/heun_sampler.hpp"
#include "train/sample_statistics.hpp"
#include "train/trainer.hpp"

namespace specbias::train::cuda {

// Edm<float> with one shard (the GPU needs no batch split); σ and ε are device arrays.
class GpuEdm {
 public:
  struct Context {
    int batch = 0;
    DeviceBuffer<float> c_skip, c_out, c_in, c_noise, weight, noisy, net_input, grad_F;
    DeviceBuffer<double> column_loss, loss;  // loss: one value, the reduced training loss
    GpuMlpUNet::Context net;
  };

  GpuEdm(const EdmConfig& config, const Stream& stream);
  [[nodiscard]] const EdmConfig& config() const { return config_; }

  // Writes the loss into ctx.loss (device) and every parameter gradient into net.grads().
  void loss_and_grad(GpuMlpUNet& net, const float* x, const float* sigma, const float* eps, int batch,
                     Context& ctx) const;
  // D(x; σ) (d × batch) into D.
  void denoise(const GpuMlpUNet& net, const float* x, const float* sigma, int batch, Context& ctx, float* D) const;

 private:
  void prepare(const GpuMlpUNet& net, const float* sigma, int batch, Context& ctx) const;
  EdmConfig config_;
  const Stream* stream_;
};

// Adam<float> over the flat parameter buffer; the step count lives on the device so a step needs no host value.
class GpuAdam {
 public:
  GpuAdam(const AdamConfig& config, std::size_t n, const Stream& stream);
  void step(float* params, const float* grads);
  void set_state(const AdamState<float>& state);  // synchronises
  [[nodiscard]] AdamState<float> state() const;   // synchronises

 private:
  AdamConfig config_;
  const Stream* stream_;
  DeviceBuffer<float> m_, v_, scalars_;
  DeviceBuffer<std::int64_t> step_;
};

// heun_sample on device arrays: x (d × batch) holds the latents on entry and the samples on exit.
class GpuHeunSampler {
 public:
  GpuHeunSampler(const HeunSchedule& schedule, const Stream& stream);
  void sample(const GpuEdm& edm, const GpuMlpUNet& net, float* x, int d, int batch, GpuEdm::Context& ctx);

 private:
  HeunSchedule schedule_;
  const Stream* stream_;
  DeviceBuffer<float> denoised_, slope_, x_next_, sigma_;
};

// SampleStatistics on the device: projection y = Uᵀ(x − m) (cuBLAS DGEMM), chunk mean and scatter (DSYRK), and
// the Chan merge; summary() downloads O(d²) values and finishes exactly as the CPU class does.
class GpuSampleStatistics {
 public:
  GpuSampleStatistics(const Eigen::MatrixXd& U, const Eigen::VectorXd& data_mean, const Stream& stream,
                      const Blas& blas);
  void reset();
  void add(const float* x, int batch);  // x: d × batch on the device
  [[nodiscard]] SampleSummary summary() const;
  [[nodiscard]] std::int64_t count() const { return n_; }

 private:
  int d_;
  Eigen::MatrixXd U_host_;
  Eigen::VectorXd mean_host_;
  const Stream* stream_;
  const Blas* blas_;
  DeviceBuffer<double> U_, data_mean_, xc_, y_, mean_y_, mean_b_, delta_, scatter_, ones_;
  std::int64_t n_ = 0;
};

// The device engine run_training drives with `--device cuda`: data, network, EDM, Adam and sampler on one stream.
// Training noise is counter-based Philox keyed by the training seed and countered by the step number, so a run
// resumed from a checkpoint at step s draws exactly what the uninterrupted run drew after s.
// From the second step on, the whole step (batch and noise draws, forward, backward, Adam, counter increment,
// loss copy) is replayed as one captured CUDA graph: the small networks' ~150 launches per step then cost one
// launch. If capture fails (an old driver, a library call that cannot be captured) the engine keeps the eager
// path and says why in description(), which the trainer logs at the start and at the end of the run.
class CudaEngine final : public DeviceEngine {
 public:
  CudaEngine(const TrainingSet& data, const TrainerOptions& options, GemmPrecision precision);
  ~CudaEngine() override;
  CudaEngine(const CudaEngine&) = delete;
  CudaEngine& operator=(const CudaEngine&) = delete;
  [[nodiscard]] std::string description() const override;
  void load(const MlpUNet<float>& net, const AdamState<float>& adam) override;
  double train_step(std::int64_t step) override;
  void sample(Mat<float>& z) override;
  void store(MlpUNet<float>& net, AdamState<float>& adam) override;

 private:
  void enqueue_step();       // queues one training step on the stream (no synchronisation)
  bool capture_step_graph(); // captures enqueue_step into graph_exec_; false (and eager from then on) on failure
  TrainerOptions options_;
  std::string device_;
  Stream stream_;
  Blas blas_;
  std::unique_ptr<GpuMlpUNet> net_;
  GpuEdm edm_;
  std::unique_ptr<GpuAdam> adam_;
  GpuHeunSampler sampler_;
  DeviceBuffer<float> data_, batch_, sigma_, eps_, chunk_;
  DeviceBuffer<std::uint64_t> step_counter_;
  GpuEdm::Context train_ctx_, sample_ctx_;
  std::int64_t n_data_ = 0;
  int dim_ = 0;
  std::int64_t next_step_ = -1;  // the step the device counter holds; −1: upload before the next step
  std::int64_t eager_steps_ = 0;  // steps run eagerly so far (the first one sizes every buffer)
  bool graph_failed_ = false;
  std::string graph_error_;
  cudaGraphExec_t graph_exec_ = nullptr;
  double* pinned_loss_ = nullptr;
};

// Builds the engine; throws DeviceError naming the reason when no usable device is present.
std::unique_ptr<DeviceEngine> make_cuda_engine(const TrainingSet& data, const TrainerOptions& options,
                                               const std::string& gemm_precision);

}  // namespace specbias::train::cuda
