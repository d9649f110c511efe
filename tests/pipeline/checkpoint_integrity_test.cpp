// Checkpoints that cannot be resumed from silently corrupted data (train/checkpoint_store.hpp,
// common/file_manifest.hpp): a flipped byte in any checkpoint file is refused with the file's name and a pointer
// to the previous checkpoint; damaged JSON is a DataError with file, line and column; --from-previous resumes
// bit-identically from the checkpoint before the damaged one; a SIGKILL at every stage of the checkpoint write
// leaves a run that resumes to the uninterrupted result; weights and data files the project wrote are verified
// against their manifests.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/file_manifest.hpp"
#include "common/json_file.hpp"
#include "config/train_config.hpp"
#include "pipeline/train_run.hpp"
#include "support/temp_dir.hpp"
#include "train/trainer.hpp"
#include "train/weights_io.hpp"

namespace fs = std::filesystem;
using namespace specbias;
using specbias::test::read_bytes;
using specbias::test::write_bytes;

namespace {

const std::string kTinyConfig = std::string(SPECBIAS_SOURCE_DIR) + "/configs/train/tiny.toml";
// tiny.toml: 40 steps, a checkpoint every 10. A crash after step 23 leaves checkpoint (20) and checkpoint.prev (10).
constexpr std::int64_t kCrashStep = 23;

config::TrainConfig tiny() { return config::load_train_config(kTinyConfig, {}); }

void flip_byte(const fs::path& file, std::size_t at) {
  std::string bytes = read_bytes(file);
  REQUIRE(at < bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
  write_bytes(file, bytes);
}

// A run directory as a crash after step 23 leaves it.
void crashed_run(const fs::path& dir) {
  REQUIRE_THROWS_AS(pipeline::train_to_directory(tiny(), dir, {false, true, kCrashStep}), train::SimulatedCrash);
  REQUIRE(fs::exists(dir / "checkpoint" / kManifestName));
  REQUIRE(fs::exists(dir / "checkpoint.prev" / kManifestName));
}

void require_same_results(const fs::path& a, const fs::path& b) {
  for (const char* f : {"loss.csv", "variance.csv", "variance.npy", "mode_mean_error.npy"}) {
    INFO(f);
    REQUIRE(read_bytes(a / f) == read_bytes(b / f));
  }
  for (const auto& e : fs::directory_iterator(a / "weights")) {
    INFO(e.path().filename());
    REQUIRE(read_bytes(e.path()) == read_bytes(b / "weights" / e.path().filename()));
  }
}

std::string resume_error(const fs::path& dir, bool from_previous = false) {
  try {
    pipeline::resume_training(dir, true, "cpu", "fp32", from_previous);
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("resume did not refuse the damaged checkpoint");
  return {};
}

}  // namespace

TEST_CASE("checkpoint: a flipped byte in any checkpoint file is refused, naming the file and the previous checkpoint",
          "[fast][train]") {
  test::TempDir tmp;
  crashed_run(tmp / "clean");
  for (const char* name : {"parameters.npy", "adam_m.npy", "adam_v.npy", "mode_variance.npy", "mode_mean_error.npy",
                           "state.json", "manifest.json"}) {
    DYNAMIC_SECTION(name) {
      const fs::path run = tmp / (std::string("flip_") + name);
      fs::copy(tmp / "clean", run, fs::copy_options::recursive);
      const fs::path file = run / "checkpoint" / name;
      // Past the 128-byte .npy header: the data itself (for the JSON files, somewhere in the middle).
      const std::size_t at = std::string(name).ends_with(".npy") ? fs::file_size(file) - 3 : fs::file_size(file) / 2;
      flip_byte(file, at);
      const std::string msg = resume_error(run);
      INFO(msg);
      CHECK_THAT(msg, Catch::Contains(name) && Catch::Contains("checkpoint.prev (step 10) verifies") &&
                          Catch::Contains("--from-previous"));
      // Nothing was trained on: loss.csv still ends where the crash left it.
      CHECK(read_bytes(run / "loss.csv") == read_bytes(tmp / "clean" / "loss.csv"));
    }
  }
}

TEST_CASE("checkpoint: the manifest's own checksum and the recorded sizes catch edits and truncation", "[fast][train]") {
  test::TempDir tmp;
  crashed_run(tmp / "r");
  const fs::path manifest = tmp / "r" / "checkpoint" / kManifestName;
  SECTION("a valid-JSON edit of a recorded checksum") {
    std::string text = read_bytes(manifest);
    const auto at = text.find("\"crc32\": \"") + 10;
    text[at] = text[at] == '0' ? '1' : '0';
    write_bytes(manifest, text);
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("manifest.json: damaged: its own CRC-32"));
  }
  SECTION("a truncated manifest is a parse error with line and column") {
    const std::string text = read_bytes(manifest);
    write_bytes(manifest, text.substr(0, text.size() / 2));
    const std::string msg = resume_error(tmp / "r");
    CHECK_THAT(msg, Catch::Contains("manifest.json: line ") && Catch::Contains(", column ") &&
                        Catch::Contains("not valid JSON") && Catch::Contains("expected a file manifest"));
  }
  SECTION("a truncated data file is named with both sizes") {
    const fs::path f = tmp / "r" / "checkpoint" / "adam_v.npy";
    const auto size = fs::file_size(f);
    fs::resize_file(f, size - 8);
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("adam_v.npy: " + std::to_string(size - 8) + " bytes") &&
                                            Catch::Contains("records " + std::to_string(size)));
  }
  SECTION("a missing file") {
    fs::remove(tmp / "r" / "checkpoint" / "mode_variance.npy");
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("mode_variance.npy: missing"));
  }
  SECTION("both checkpoints damaged: refused, saying so") {
    flip_byte(tmp / "r" / "checkpoint" / "adam_m.npy", 200);
    flip_byte(tmp / "r" / "checkpoint.prev" / "adam_m.npy", 200);
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("previous checkpoint is damaged too"));
    CHECK_THAT(resume_error(tmp / "r", true), Catch::Contains("checkpoint.prev") && Catch::Contains("adam_m.npy"));
  }
}

TEST_CASE("checkpoint: state.json errors name the file, the position or key, and what was expected", "[fast][train]") {
  // A state.json that passes its checksum but is not what the reader needs (written so by a faulty writer):
  // rewrite it and its manifest entry, so the JSON reader itself is exercised.
  test::TempDir tmp;
  crashed_run(tmp / "r");
  const fs::path ckpt = tmp / "r" / "checkpoint";
  const std::vector<std::string> files = {"parameters.npy", "adam_m.npy", "adam_v.npy", "mode_variance.npy",
                                          "mode_mean_error.npy", "state.json"};
  const nlohmann::json step_info = {{"step", 20}};
  SECTION("syntax") {
    std::string text = read_bytes(ckpt / "state.json");
    const auto key = text.find("\"adam_step\"");  // line 2 of the dump: keys are sorted, one per line
    REQUIRE(key != std::string::npos);
    text.insert(key, "@");
    write_bytes(ckpt / "state.json", text);
    write_file_manifest(ckpt, files, step_info);
    const std::string msg = resume_error(tmp / "r");
    CHECK_THAT(msg, Catch::Contains("state.json: line 2, column 2: not valid JSON") &&
                        Catch::Contains("expected the checkpoint state"));
  }
  SECTION("a missing key") {
    nlohmann::json j = read_json_file(ckpt / "state.json", "test");
    j.erase("adam_step");
    write_bytes(ckpt / "state.json", j.dump(1));
    write_file_manifest(ckpt, files, step_info);
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("state.json: key 'adam_step' is missing (expected an integer"));
  }
  SECTION("a value of the wrong type") {
    nlohmann::json j = read_json_file(ckpt / "state.json", "test");
    j["loss_count"] = "many";
    write_bytes(ckpt / "state.json", j.dump(1));
    write_file_manifest(ckpt, files, step_info);
    CHECK_THAT(resume_error(tmp / "r"), Catch::Contains("key 'loss_count' holds string \"many\" (expected an integer)"));
  }
}

TEST_CASE("checkpoint: --from-previous resumes bit-identically from the checkpoint before a damaged one", "[fast][train]") {
  test::TempDir tmp;
  pipeline::train_to_directory(tiny(), tmp / "full", {false, true, -1});
  crashed_run(tmp / "r");
  flip_byte(tmp / "r" / "checkpoint" / "parameters.npy", 300);
  REQUIRE_THAT(resume_error(tmp / "r"), Catch::Contains("parameters.npy: damaged"));
  pipeline::resume_training(tmp / "r", true, "cpu", "fp32", /*from_previous=*/true);
  require_same_results(tmp / "full", tmp / "r");
  // The damaged checkpoint is kept aside, and the run ends with two verified checkpoints.
  CHECK(fs::exists(tmp / "r" / "checkpoint.damaged" / "parameters.npy"));
  CHECK(verify_file_manifest(tmp / "r" / "checkpoint").at("step") == 40);
  CHECK(verify_file_manifest(tmp / "r" / "checkpoint.prev").at("step") == 30);
  CHECK_THAT(read_bytes(tmp / "r" / "run.log"), Catch::Contains("resuming from the previous checkpoint (step 10)"));
}

// Child side of the kill test below: trains tiny.toml into $SPECBIAS_KILL_DIR and kills itself with SIGKILL at
// stage $SPECBIAS_KILL_STAGE of the step-20 checkpoint write. Hidden ([.]): only the parent test runs it.
TEST_CASE("checkpoint: kill child", "[.][kill-child]") {
  const char* dir = std::getenv("SPECBIAS_KILL_DIR");
  const char* stage = std::getenv("SPECBIAS_KILL_STAGE");
  REQUIRE(dir != nullptr);
  REQUIRE(stage != nullptr);
  const config::TrainConfig c = tiny();
  const train::TrainingSet data = pipeline::build_training_set(c);
  const train::TrainerOptions o = pipeline::build_trainer_options(c, data.samples.rows());
  train::TrainerCallbacks cb;
  cb.checkpoint_stage = [&](std::int64_t step, const std::string& s) {
    if (step == 20 && s == stage) std::raise(SIGKILL);
  };
  train::run_training(data, o, dir, false, cb);
}

TEST_CASE("checkpoint: SIGKILL at every stage of the checkpoint write leaves a run that resumes to the same result",
          "[fast][train]") {
  test::TempDir tmp;
  const config::TrainConfig c = tiny();
  const train::TrainingSet data = pipeline::build_training_set(c);
  const train::TrainerOptions o = pipeline::build_trainer_options(c, data.samples.rows());
  train::run_training(data, o, tmp / "full", false);
  for (const char* stage : {"files", "manifest", "retire-previous", "newest-to-previous", "tmp-to-newest", "cleanup"}) {
    DYNAMIC_SECTION(stage) {
      const fs::path dir = tmp / stage;
      const std::string cmd = "SPECBIAS_KILL_DIR='" + dir.string() + "' SPECBIAS_KILL_STAGE=" + stage + " '" +
                              fs::read_symlink("/proc/self/exe").string() + "' '[kill-child]' > /dev/null 2>&1";
      const int status = std::system(cmd.c_str());
      // The shell reports a child killed by signal 9 as exit status 128 + 9.
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 128 + SIGKILL);
      REQUIRE_FALSE(fs::exists(dir / "weights"));  // it really died mid-run
      train::run_training(data, o, dir, true);
      require_same_results(tmp / "full", dir);
      CHECK(verify_file_manifest(dir / "checkpoint").at("step") == 40);
    }
  }
}

TEST_CASE("checkpoint: weights and data files the project wrote are verified against their manifests", "[fast][train]") {
  test::TempDir tmp;
  pipeline::train_to_directory(tiny(), tmp / "run", {false, true, -1});
  const fs::path weights = tmp / "run" / "weights";
  train::MlpUNetConfig net_config;
  net_config.dim = 8;
  net_config.nlayers = 3;
  net_config.hidden = 32;
  net_config.embedding = 16;
  train::MlpUNet<float> net(net_config, 1);
  train::load_weights_npy(net, weights);  // a clean directory loads
  // The loaded values are the trained ones (not the initialisation): write them back and compare bytes.
  train::save_weights_npy(net, tmp / "copy");
  CHECK(read_bytes(tmp / "copy" / "out.weight.npy") == read_bytes(weights / "out.weight.npy"));

  flip_byte(weights / "out.weight.npy", fs::file_size(weights / "out.weight.npy") - 5);
  REQUIRE_THROWS_AS(train::load_weights_npy(net, weights), DataError);
  REQUIRE_THROWS_WITH(train::load_weights_npy(net, weights), Catch::Contains("out.weight.npy: damaged"));

  // A config whose data file is one of the run's result arrays: damage is found before the data are used.
  CHECK(verify_if_listed(tmp / "run" / "variance.npy"));
  CHECK_FALSE(verify_if_listed(tmp / "run" / "loss.csv"));
  flip_byte(tmp / "run" / "data_basis.npy", fs::file_size(tmp / "run" / "data_basis.npy") - 9);
  config::TrainConfig from_file = tiny();
  from_file.data.source = "file";
  from_file.data.file = (tmp / "run" / "data_basis.npy").string();
  REQUIRE_THROWS_WITH(pipeline::build_training_set(from_file), Catch::Contains("data_basis.npy: damaged"));
}
