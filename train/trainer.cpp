#include "train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <type_traits>

#include "common/atomic_file.hpp"
#include "common/file_manifest.hpp"
#include "common/json_file.hpp"
#include "common/errors.hpp"
#include "common/npy.hpp"
#include "train/checkpoint_store.hpp"
#include "train/rng.hpp"
#include "train/sample_statistics.hpp"
#include "train/weights_io.hpp"

namespace specbias::train {

namespace fs = std::filesystem;
using MatF = Mat<float>;
using VecF = Vec<float>;

namespace {

std::string num(double x) {
  std::ostringstream s;
  s << std::setprecision(17) << x;
  return s.str();
}

// Resume state: everything needed to continue bit-identically.
struct State {
  std::int64_t step = 0;
  AdamState<float> adam;
  std::string rng_train, rng_sample;
  std::uintmax_t loss_bytes = 0, records_bytes = 0, variance_bytes = 0;
  double loss_sum = 0;  // training loss summed since the last record
  std::int64_t loss_count = 0;
  double wall_s = 0;    // training + sampling time so far (all sessions)
};

// What must agree between a checkpoint and the options that resume it (different values would not continue the
// same run).
nlohmann::json fingerprint(const TrainerOptions& o, const TrainingSet& data) {
  return {{"model_kind", o.model_kind}, {"optimizer", o.optimizer}, {"linear_layers", o.linear.layers},
          {"linear_init_scale", o.linear.init_scale}, {"fixed_sigma", o.edm.fixed_sigma},
          {"dim", o.net.dim},           {"nlayers", o.net.nlayers},     {"hidden", o.net.hidden},
          {"embedding", o.net.embedding}, {"init_seed", o.init_seed},   {"batch", o.batch},
          {"train_seed", o.train_seed},   {"lr", o.adam.lr},            {"eval_samples", o.eval_samples},
          {"sample_seed", o.sample_seed}, {"fresh_latents", o.fresh_latents}, {"sampler_steps", o.sampler.steps}, {"shards", o.shards},
          {"training_samples", data.samples.cols()}, {"record_steps", o.record_steps}};
}

Eigen::VectorXd to_double(std::span<const float> v) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) out(static_cast<Eigen::Index>(i)) = v[i];
  return out;
}
std::vector<float> to_float(const NpyArray& a) { return {a.data.begin(), a.data.end()}; }

Eigen::MatrixXd read_matrix(const fs::path& p) {
  const NpyArray a = read_npy(p);
  if (a.shape.size() != 2) throw DataError(p.string() + ": expected a 2-d array");
  Eigen::MatrixXd m(static_cast<Eigen::Index>(a.shape[0]), static_cast<Eigen::Index>(a.shape[1]));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = a.data[static_cast<std::size_t>(i * m.cols() + j)];
  return m;
}

// Doubles as 17-digit strings: an exact round trip through JSON, NaN included (the first record's loss).
nlohmann::json exact_strings(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(num(x));
  return a;
}

constexpr const char* kStateFile = "state.json";
const std::vector<std::string> kCheckpointFiles = {"parameters.npy", "adam_m.npy", "adam_v.npy", "mode_variance.npy",
                                                   "mode_mean_error.npy", kStateFile};

template <class Net>
void write_checkpoint(const CheckpointStore& store, const State& st, const Net& net, const RecordLog& rec,
                      const nlohmann::json& fp, const std::function<void(const std::string&)>& stage) {
  const fs::path tmp = store.begin_write();
  if (stage) stage("files");
  write_npy(tmp / "parameters.npy", to_double(net.parameters().values()));
  write_npy(tmp / "adam_m.npy", to_double(st.adam.m));
  write_npy(tmp / "adam_v.npy", to_double(st.adam.v));
  write_npy(tmp / "mode_variance.npy", rec.mode_variance);
  write_npy(tmp / "mode_mean_error.npy", rec.mode_mean_error);
  const nlohmann::json state = {
      {"step", st.step},
      {"adam_step", st.adam.step},
      {"rng_train", st.rng_train},
      {"rng_sample", st.rng_sample},
      {"file_bytes", {{"loss.csv", st.loss_bytes}, {"records.csv", st.records_bytes}, {"variance.csv", st.variance_bytes}}},
      {"loss_sum", num(st.loss_sum)},
      {"loss_count", st.loss_count},
      {"wall_s", st.wall_s},
      {"record_steps_done", rec.steps},
      {"record_loss_mean", exact_strings(rec.loss_mean)},
      {"record_mean_error", exact_strings(rec.mean_error)},
      {"record_alignment", exact_strings(rec.alignment)},
      {"fingerprint", fp}};
  write_text_atomically(tmp / kStateFile, state.dump(1));
  store.commit(st.step, kCheckpointFiles, stage);
}

// A double stored as a 17-digit string (exact_strings); DataError naming the file and key otherwise.
double exact_double(const nlohmann::json& v, const std::string& key, const fs::path& file) {
  try {
    if (v.is_string()) return std::stod(v.get<std::string>());
  } catch (const std::exception&) {
  }
  throw DataError(file.string() + ": key '" + key + "' holds " + v.dump().substr(0, 40) +
                  " (expected a number written as a 17-digit string)");
}

std::vector<double> exact_doubles(const nlohmann::json& j, const std::string& key, const fs::path& file) {
  const auto a = json_field<nlohmann::json>(j, key, file, "an array of numbers written as strings");
  if (!a.is_array()) throw DataError(file.string() + ": key '" + key + "' is not an array (expected an array of numbers written as strings)");
  std::vector<double> v;
  for (const auto& x : a) v.push_back(exact_double(x, key, file));
  return v;
}

// Reads the newest verified checkpoint (or the previous one) into the network and the record log. Every file is
// checked against the manifest's checksums before any of it is used.
template <class Net>
State read_checkpoint(const CheckpointStore& store, bool from_previous, Net& net, RecordLog& rec,
                      const nlohmann::json& fp, const std::function<void(const std::string&)>& log) {
  const CheckpointStore::Found found = store.locate_for_resume(from_previous);
  if (log) log(found.note);
  const fs::path& dir = found.dir;
  const fs::path file = dir / kStateFile;
  const nlohmann::json j = read_json_file(file, "the checkpoint state written by specbias train");
  const auto stored_fp = json_field<nlohmann::json>(j, "fingerprint", file, "the settings the run was started with");
  if (stored_fp != fp)
    throw DataError("cannot resume from " + dir.string() + ": the checkpoint was written by a run with different settings (" +
                    stored_fp.dump() + " vs " + fp.dump() + ")");
  State st;
  st.step = json_field<std::int64_t>(j, "step", file, "an integer training step");
  if (st.step != found.step)
    throw DataError(file.string() + ": step " + std::to_string(st.step) + " differs from the manifest's step " +
                    std::to_string(found.step));
  st.adam.step = json_field<std::int64_t>(j, "adam_step", file, "an integer Adam step count");
  st.adam.m = to_float(read_npy(dir / "adam_m.npy"));
  st.adam.v = to_float(read_npy(dir / "adam_v.npy"));
  st.rng_train = json_field<std::string>(j, "rng_train", file, "the training RNG state as text");
  st.rng_sample = json_field<std::string>(j, "rng_sample", file, "the sampling RNG state as text");
  const auto bytes = json_field<nlohmann::json>(j, "file_bytes", file, "an object of CSV sizes");
  const fs::path bytes_key = file.string() + " (file_bytes)";
  st.loss_bytes = json_field<std::uintmax_t>(bytes, "loss.csv", bytes_key, "a byte count");
  st.records_bytes = json_field<std::uintmax_t>(bytes, "records.csv", bytes_key, "a byte count");
  st.variance_bytes = json_field<std::uintmax_t>(bytes, "variance.csv", bytes_key, "a byte count");
  st.loss_sum = exact_double(json_field<nlohmann::json>(j, "loss_sum", file, "a number written as a string"), "loss_sum", file);
  st.loss_count = json_field<std::int64_t>(j, "loss_count", file, "an integer");
  st.wall_s = json_field<double>(j, "wall_s", file, "seconds as a number");
  const std::vector<float> params = to_float(read_npy(dir / "parameters.npy"));
  auto values = net.parameters().values();
  if (params.size() != values.size())
    throw DataError(dir.string() + ": parameter count " + std::to_string(params.size()) + " does not match the network's " +
                    std::to_string(values.size()));
  if (st.adam.m.size() != values.size() || st.adam.v.size() != values.size())
    throw DataError(dir.string() + ": Adam moments hold " + std::to_string(st.adam.m.size()) + " / " +
                    std::to_string(st.adam.v.size()) + " values, the network has " + std::to_string(values.size()) + " parameters");
  std::copy(params.begin(), params.end(), values.begin());
  rec.steps = json_field<std::vector<std::int64_t>>(j, "record_steps_done", file, "an array of integer steps");
  rec.loss_mean = exact_doubles(j, "record_loss_mean", file);
  rec.mean_error = exact_doubles(j, "record_mean_error", file);
  rec.alignment = exact_doubles(j, "record_alignment", file);
  rec.mode_variance = read_matrix(dir / "mode_variance.npy");
  rec.mode_mean_error = read_matrix(dir / "mode_mean_error.npy");
  return st;
}

// Standard-normal latents for the next n samples of a record, d × n, column by column (one batched draw).
void draw_latents(Rng& rng, Index d, Index n, std::vector<double>& scratch, MatF& z) {
  scratch.resize(static_cast<std::size_t>(d * n));
  rng.fill_normal(scratch);
  z = Eigen::Map<const Eigen::MatrixXd>(scratch.data(), d, n).cast<float>();
}

}  // namespace

// Parameters as one .npy per tensor (store names and shapes), for networks without a dedicated exporter.
template <class Net>
void save_parameters_npy(const Net& net, const fs::path& dir) {
  fs::create_directories(dir);
  const auto values = net.parameters().values();
  std::vector<std::string> files;
  for (const auto& t : net.parameters().tensors()) {
    std::vector<double> v(t.size());
    // Store matrices are column-major rows × cols; the file is C order of `shape` (rows, cols).
    for (Index i = 0; i < t.rows; ++i)
      for (Index j = 0; j < t.cols; ++j)
        v[static_cast<std::size_t>(i * t.cols + j)] = values[t.offset + static_cast<std::size_t>(j * t.rows + i)];
    write_npy(dir / (t.name + ".npy"), v.data(), t.shape);
    files.push_back(t.name + ".npy");
  }
  write_file_manifest(dir, files, {{"content", "model parameters"}});
}

void save_final_weights(const MlpUNet<float>& net, const fs::path& dir) { save_weights_npy(net, dir); }
void save_final_weights(const LinearDenoiser<float>& net, const fs::path& dir) { save_parameters_npy(net, dir); }

template <class Net>
RecordLog run_training_with(Net& net, const TrainingSet& data, const TrainerOptions& o, const fs::path& run_dir,
                            bool resume, const TrainerCallbacks& cb, DeviceEngine* engine) {
  const auto log = [&](const std::string& s) {
    if (cb.log) cb.log(s);
  };
  const Index d = data.samples.rows(), N = data.samples.cols();
  if (net.config().dim != d)
    throw DataError("model dimension " + std::to_string(net.config().dim) + " does not match the data dimension " +
                    std::to_string(d));
  if (o.record_steps.empty() || o.record_steps.front() != 0 || o.record_steps.back() > o.steps)
    throw std::invalid_argument("run_training: record steps must start at 0 and end at or before the last step");
  if (o.eval_samples < 2) throw std::invalid_argument("run_training: need at least 2 evaluation samples");

  const Edm<float, Net> edm(o.edm, o.shards);
  Adam<float> adam(o.adam, net.parameters().size());
  Rng rng_train(o.train_seed), rng_sample(o.sample_seed ^ 0x9E3779B97F4A7C15ULL);
  RecordLog rec;
  rec.mode_variance.resize(0, d);
  rec.mode_mean_error.resize(0, d);
  const nlohmann::json fp = fingerprint(o, data);
  fs::create_directories(run_dir);
  const CheckpointStore store(run_dir);

  State st;
  if (resume) {
    st = read_checkpoint(store, o.resume_from_previous, net, rec, fp, log);
    adam.set_state(st.adam);
    rng_train.set_state(st.rng_train);
    rng_sample.set_state(st.rng_sample);
    // Drop whatever was appended after the checkpoint (a crash leaves at most a partial last row).
    fs::resize_file(run_dir / "loss.csv", st.loss_bytes);
    fs::resize_file(run_dir / "records.csv", st.records_bytes);
    fs::resize_file(run_dir / "variance.csv", st.variance_bytes);
    log("resumed from " + store.newest().string() + " at step " + std::to_string(st.step));
  } else {
    std::ofstream(run_dir / "loss.csv") << "step,loss\n";
    std::ofstream(run_dir / "records.csv") << "step,loss_mean,mean_error,alignment,samples,wall_s\n";
    std::ofstream(run_dir / "variance.csv") << "step,mode,lambda,variance,mean_error_mode\n";
  }
  std::ofstream loss_csv(run_dir / "loss.csv", std::ios::app), records_csv(run_dir / "records.csv", std::ios::app),
      variance_csv(run_dir / "variance.csv", std::ios::app);
  if (o.keep_samples > 0) fs::create_directories(run_dir / "samples");
  if (engine != nullptr) {
    if constexpr (std::is_same_v<Net, MlpUNet<float>>) {
      engine->load(net, adam.state());
      log("device: " + engine->description());
    } else {
      throw std::invalid_argument("run_training: a device engine runs the mlp_unet model only");
    }
  }

  using Clock = std::chrono::steady_clock;
  const auto session_start = Clock::now();
  const double wall_before = st.wall_s;
  auto wall = [&] { return wall_before + std::chrono::duration<double>(Clock::now() - session_start).count(); };

  // ---- sampling + statistics at one record ----
  SampleStatistics stats(data.basis, data.mean);
  EdmContext<float, Net> sample_ctx;
  MatF z;
  VecF sigma_vec;
  std::vector<double> latent_scratch;
  auto record = [&](std::int64_t step) {
    stats.reset();
    Rng fixed(o.sample_seed);  // fixed latents: the same stream at every record
    Rng& latent_rng = o.fresh_latents ? rng_sample : fixed;
    MatF kept;
    for (std::int64_t first = 0; first < o.eval_samples; first += o.chunk) {
      const Index n = static_cast<Index>(std::min(o.chunk, o.eval_samples - first));
      draw_latents(latent_rng, d, n, latent_scratch, z);
      if (engine != nullptr) {
        engine->sample(z);
      } else {
        heun_sample<float>(
            [&](const MatF& x, double sigma, MatF& out) {
              sigma_vec.setConstant(x.cols(), static_cast<float>(sigma));
              out.resize(x.rows(), x.cols());
              edm.denoise(net, x, sigma_vec, sample_ctx, out);
            },
            z, o.sampler);
      }
      if (!z.allFinite())
        throw NumericalError("generated samples are not finite at training step " + std::to_string(step));
      stats.add(z);
      if (first == 0 && o.keep_samples > 0) kept = z.leftCols(std::min<Index>(n, o.keep_samples));
    }
    const SampleSummary s = stats.summary();
    const double loss_mean = st.loss_count > 0 ? st.loss_sum / static_cast<double>(st.loss_count)
                                               : std::numeric_limits<double>::quiet_NaN();
    rec.steps.push_back(step);
    rec.loss_mean.push_back(loss_mean);
    rec.mean_error.push_back(s.mean_error);
    rec.alignment.push_back(s.alignment);
    rec.mode_variance.conservativeResize(rec.mode_variance.rows() + 1, Eigen::NoChange);
    rec.mode_variance.bottomRows(1) = s.mode_variance.transpose();
    rec.mode_mean_error.conservativeResize(rec.mode_mean_error.rows() + 1, Eigen::NoChange);
    rec.mode_mean_error.bottomRows(1) = s.mode_mean_error.transpose();
    st.loss_sum = 0;
    st.loss_count = 0;
    records_csv << step << ',' << num(loss_mean) << ',' << num(s.mean_error) << ',' << num(s.alignment) << ','
                << s.samples << ',' << num(wall()) << '\n';
    for (Index k = 0; k < d; ++k)
      variance_csv << step << ',' << k << ',' << num(data.eigenvalues(k)) << ',' << num(s.mode_variance(k)) << ','
                   << num(s.mode_mean_error(k)) << '\n';
    if (kept.size() > 0) {
      std::ostringstream name;
      name << "step_" << std::setw(8) << std::setfill('0') << step << ".npy";
      write_npy(run_dir / "samples" / name.str(), Eigen::MatrixXd(kept.cast<double>().transpose()));
    }
    loss_csv.flush();
    records_csv.flush();
    variance_csv.flush();
  };
  // The engine's parameters and Adam state back to the host, where checkpoints and the final weights are written.
  auto sync_from_engine = [&] {
    if constexpr (std::is_same_v<Net, MlpUNet<float>>) {
      if (engine != nullptr) {
        AdamState<float> a = adam.state();
        engine->store(net, a);
        adam.set_state(std::move(a));
      }
    }
  };
  auto checkpoint = [&] {
    sync_from_engine();
    loss_csv.flush();
    records_csv.flush();
    variance_csv.flush();
    st.adam = adam.state();
    st.rng_train = rng_train.state();
    st.rng_sample = rng_sample.state();
    st.loss_bytes = fs::file_size(run_dir / "loss.csv");
    st.records_bytes = fs::file_size(run_dir / "records.csv");
    st.variance_bytes = fs::file_size(run_dir / "variance.csv");
    st.wall_s = wall();
    std::function<void(const std::string&)> stage;
    if (cb.checkpoint_stage) stage = [&](const std::string& name) { cb.checkpoint_stage(st.step, name); };
    write_checkpoint(store, st, net, rec, fp, stage);
  };

  std::size_t next_record = 0;
  while (next_record < o.record_steps.size() && o.record_steps[next_record] <= st.step) ++next_record;
  if (!resume) {
    record(0);
    next_record = 1;
    checkpoint();
    log("step 0 recorded (initialisation)");
  }

  // ---- training ----
  EdmContext<float, Net> train_ctx;
  MatF batch(d, o.batch), eps;
  VecF sigma;
  std::int64_t last_good_checkpoint = st.step;
  for (std::int64_t step = st.step + 1; step <= o.steps; ++step) {
    double loss = 0;
    if (engine != nullptr) {
      loss = engine->train_step(step);
    } else {
      for (Index j = 0; j < batch.cols(); ++j)  // with replacement (EMPIRICAL §1)
        batch.col(j) = data.samples.col(static_cast<Index>(rng_train.below(static_cast<std::uint64_t>(N))));
      edm.draw_noise(rng_train, d, batch.cols(), sigma, eps);
      loss = edm.loss_and_grad(net, batch, sigma, eps, train_ctx);
    }
    if (!std::isfinite(loss))
      throw NumericalError("training loss is " + num(loss) + " at step " + std::to_string(step) +
                           "; last good checkpoint: " + (run_dir / "checkpoint").string() + " (step " +
                           std::to_string(last_good_checkpoint) + "); lower training.lr and resume or restart");
    if (engine != nullptr) {
      // the engine's step already updated its parameters
    } else if (o.optimizer == "sgd") {
      auto p = net.parameters().values();
      const auto g = net.parameters().grads();
      const auto lr = static_cast<float>(o.adam.lr);
      for (std::size_t i = 0; i < p.size(); ++i) p[i] -= lr * g[i];
    } else {
      adam.step(net.parameters().values(), net.parameters().grads());
    }
    st.step = step;
    st.loss_sum += loss;
    ++st.loss_count;
    loss_csv << step << ',' << num(loss) << '\n';
    if (cb.progress) cb.progress(step, o.steps, loss);
    if (step == o.crash_after_step) throw SimulatedCrash("simulated crash after step " + std::to_string(step));
    if (next_record < o.record_steps.size() && o.record_steps[next_record] == step) {
      record(step);
      ++next_record;
    }
    if ((o.checkpoint_every > 0 && step % o.checkpoint_every == 0) || step == o.steps) {
      checkpoint();
      last_good_checkpoint = step;
    }
  }
  sync_from_engine();
  if (engine != nullptr) log("device: " + engine->description());
  save_final_weights(net, run_dir / "weights");
  log("training finished at step " + std::to_string(st.step) + " after " + num(wall()) + " s");
  return rec;
}

RecordLog run_training(const TrainingSet& data, const TrainerOptions& o, const fs::path& run_dir, bool resume,
                       const TrainerCallbacks& cb, DeviceEngine* engine) {
  if (o.optimizer != "adam" && o.optimizer != "sgd")
    throw std::invalid_argument("run_training: optimizer must be adam or sgd, got " + o.optimizer);
  if (o.model_kind == "linear") {
    if (engine != nullptr) throw std::invalid_argument("run_training: the device engine trains the mlp_unet model only");
    LinearDenoiser<float> net(o.linear);
    return run_training_with(net, data, o, run_dir, resume, cb, nullptr);
  }
  if (o.model_kind != "mlp_unet") throw std::invalid_argument("run_training: unknown model kind " + o.model_kind);
  if (engine != nullptr && o.optimizer != "adam")
    throw std::invalid_argument("run_training: the device engine implements Adam only (training.optimizer = adam)");
  MlpUNet<float> net(o.net, o.init_seed);
  return run_training_with(net, data, o, run_dir, resume, cb, engine);
}

}  // namespace specbias::train
