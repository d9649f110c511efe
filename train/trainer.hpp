// The empirical training loop (EMPIRICAL.md §1, §4, §5): mini-batch EDM training of the MLP-UNet with Adam,
// deterministic Heun sampling at the record steps (step 0 included), statistics of the generated samples
// streamed in the data eigenbasis, and atomic checkpoints from which a run resumes bit-identically.
//
// Files the trainer writes in its run directory (append-only, flushed at every record; a resumed run truncates
// them back to the checkpoint's sizes, so a crash never leaves duplicate or half-written rows behind):
//   loss.csv      step,loss                       one row per training step
//   records.csv   step,loss_mean,mean_error,alignment,samples,wall_s   one row per record
//   variance.csv  step,mode,lambda,variance,mean_error_mode             one row per record and mode
//   samples/step_<step>.npy                        the first `keep_samples` samples of each record (optional)
//   checkpoint/   parameters, Adam state, RNG states, step, file sizes and the records so far (state.json +
//                 .npy) with a checksummed manifest.json; the previous one is kept as checkpoint.prev, and
//                 whole directories are swapped by rename (train/checkpoint_store.hpp)
// Memory: the network, one sampler chunk and O(d²) statistics, plus O(records·d) for the analysis; samples are
// never accumulated.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/adam.hpp"
#include "train/edm.hpp"
#include "train/heun_sampler.hpp"
#include "train/linear_denoiser.hpp"
#include "train/mlp_unet.hpp"

namespace specbias::train {

// Training samples and the analysis basis (the eigenbasis of the empirical training covariance, EMPIRICAL §5).
struct TrainingSet {
  Eigen::MatrixXf samples;      // d × N, one sample per column, already scaled
  Eigen::VectorXd mean;         // empirical mean m
  Eigen::MatrixXd basis;        // U, d × d, columns sorted by descending eigenvalue
  Eigen::VectorXd eigenvalues;  // λ_k, descending
  std::string description;
};

struct TrainerOptions {
  std::string model_kind = "mlp_unet";  // mlp_unet | linear (the linear family, train/linear_denoiser.hpp)
  MlpUNetConfig net;
  LinearDenoiserConfig linear;          // model_kind = linear
  std::string optimizer = "adam";       // adam | sgd (p ← p − lr·g)
  std::uint64_t init_seed = 1;
  EdmConfig edm;
  AdamConfig adam;
  std::int64_t steps = 5000;
  std::int64_t batch = 1024;
  std::uint64_t train_seed = 2;
  std::int64_t checkpoint_every = 500;  // 0: only at the end
  // Batch shards of the EDM loss (train/edm.hpp): results depend on the shard count, not on the thread count.
  int shards = 2;
  HeunSchedule sampler;
  std::int64_t eval_samples = 10000;
  std::int64_t chunk = 2000;
  bool fresh_latents = false;
  std::uint64_t sample_seed = 3;
  std::vector<std::int64_t> record_steps;  // sorted, within [0, steps]; must contain 0
  std::int64_t keep_samples = 0;
  // Test hook: behave as if the process were killed right after training step `crash_after_step` (before that
  // step's record and checkpoint). Throws SimulatedCrash. −1: never.
  std::int64_t crash_after_step = -1;
  // Resume from run/checkpoint.prev instead of the newest checkpoint (after the newest failed verification).
  bool resume_from_previous = false;
};

struct SimulatedCrash : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the analysis needs, one row per record.
struct RecordLog {
  std::vector<std::int64_t> steps;
  std::vector<double> loss_mean;    // mean training loss over the steps since the previous record (NaN at step 0)
  Eigen::MatrixXd mode_variance;    // records × d
  Eigen::MatrixXd mode_mean_error;  // records × d
  std::vector<double> mean_error, alignment;
};

struct TrainerCallbacks {
  std::function<void(const std::string&)> log;                                   // one line per event
  std::function<void(std::int64_t step, std::int64_t steps, double loss)> progress;  // after every step
  // Test hook: called before each stage of a checkpoint write (train/checkpoint_store.hpp: "files", "manifest",
  // "retire-previous", "newest-to-previous", "tmp-to-newest", "cleanup"), e.g. to kill the process there.
  std::function<void(std::int64_t step, const std::string& stage)> checkpoint_stage;
};

// A device that runs the MLP-UNet's training steps and sampler chunks instead of the CPU code
// (train/cuda/training.hpp: CudaEngine). run_training keeps the schedule, the records, the statistics and the
// checkpoints; the engine keeps its own copy of the parameters and Adam state and syncs it with the host's
// through load/store. Its training noise must be a function of (seed, step) so that resume is exact.
class DeviceEngine {
 public:
  virtual ~DeviceEngine() = default;
  [[nodiscard]] virtual std::string description() const = 0;
  // Takes the host network's parameters and the Adam state (after initialisation or a resume).
  virtual void load(const MlpUNet<float>& net, const AdamState<float>& adam) = 0;
  // Training step number `step` (1-based): batch, σ, ε, EDM loss and gradient, optimiser update; returns the loss.
  virtual double train_step(std::int64_t step) = 0;
  // Heun-samples the latents z (d × n) in place with TrainerOptions::sampler.
  virtual void sample(Mat<float>& z) = 0;
  // Writes the device's parameters and Adam state back to the host (before a checkpoint and at the end).
  virtual void store(MlpUNet<float>& net, AdamState<float>& adam) = 0;
};

// Runs (or, with resume = true, continues from run_dir/checkpoint) the training. Throws NumericalError on a
// non-finite loss, naming the step and the last good checkpoint; DataError for a checkpoint that does not match
// the options.
// With `engine` (mlp_unet only) the steps and sampler chunks run there; its description is logged.
RecordLog run_training(const TrainingSet& data, const TrainerOptions& options, const std::filesystem::path& run_dir,
                       bool resume, const TrainerCallbacks& callbacks = {}, DeviceEngine* engine = nullptr);

}  // namespace specbias::train
