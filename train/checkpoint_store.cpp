#include "train/checkpoint_store.hpp"

#include <optional>

#include "common/errors.hpp"
#include "common/file_manifest.hpp"
#include "common/json_file.hpp"

namespace specbias::train {

namespace fs = std::filesystem;

namespace {

// The step a verified checkpoint records; DataError (naming the damaged file) when it does not verify.
std::int64_t verified_step(const fs::path& dir) {
  const nlohmann::json info = verify_file_manifest(dir);
  return json_field<std::int64_t>(info, "step", dir / kManifestName, "the checkpoint's training step");
}

std::optional<std::int64_t> try_verified_step(const fs::path& dir, std::string* why = nullptr) {
  if (!fs::exists(dir)) return std::nullopt;
  try {
    return verified_step(dir);
  } catch (const DataError& e) {
    if (why != nullptr) *why = e.what();
    return std::nullopt;
  }
}

void remove_if_exists(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path run_dir) : run_dir_(std::move(run_dir)) {}

fs::path CheckpointStore::begin_write() const {
  const fs::path tmp = run_dir_ / "checkpoint.tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  return tmp;
}

void CheckpointStore::commit(std::int64_t step, const std::vector<std::string>& files,
                             const std::function<void(const std::string&)>& stage) const {
  auto at = [&](const char* name) {
    if (stage) stage(name);
  };
  const fs::path tmp = run_dir_ / "checkpoint.tmp", trash = run_dir_ / "checkpoint.trash";
  at("manifest");
  write_file_manifest(tmp, files, {{"step", step}});
  // A kill inside remove_all would leave a half-deleted directory under a name resume reads; renaming it out of
  // the way first makes its removal invisible.
  if (fs::exists(newest())) {
    at("retire-previous");
    if (fs::exists(previous())) {
      remove_if_exists(trash);
      fs::rename(previous(), trash);
    }
    at("newest-to-previous");
    fs::rename(newest(), previous());
  }
  at("tmp-to-newest");
  fs::rename(tmp, newest());
  at("cleanup");
  remove_if_exists(trash);
}

CheckpointStore::Found CheckpointStore::locate_for_resume(bool from_previous) const {
  if (from_previous) {
    if (!fs::exists(previous()))
      throw DataError("cannot resume from the previous checkpoint: " + previous().string() + " does not exist");
    const std::int64_t step = verified_step(previous());  // throws naming the damaged file
    if (fs::exists(newest())) {
      remove_if_exists(run_dir_ / "checkpoint.damaged");
      fs::rename(newest(), run_dir_ / "checkpoint.damaged");
    }
    fs::rename(previous(), newest());
    return {newest(), step,
            "resuming from the previous checkpoint (step " + std::to_string(step) + "); the newer one was moved to " +
                (run_dir_ / "checkpoint.damaged").string()};
  }
  if (!fs::exists(newest())) {
    // A kill between the swap's renames leaves the newest complete checkpoint as checkpoint.prev.
    if (fs::exists(previous())) {
      const std::int64_t step = verified_step(previous());
      fs::rename(previous(), newest());
      return {newest(), step, "checkpoint missing (interrupted swap); resuming from checkpoint.prev (step " + std::to_string(step) + ")"};
    }
    throw DataError("cannot resume: no checkpoint in " + run_dir_.string() + " (expected " + newest().string() + ")");
  }
  try {
    const std::int64_t step = verified_step(newest());
    return {newest(), step, "checkpoint verified (step " + std::to_string(step) + ")"};
  } catch (const DataError& e) {
    std::string why_prev;
    const auto prev = try_verified_step(previous(), &why_prev);
    std::string hint;
    if (prev)
      hint = "; the previous checkpoint " + previous().string() + " (step " + std::to_string(*prev) +
             ") verifies: resume from it with `specbias train --resume " + run_dir_.string() + " --from-previous`";
    else if (fs::exists(previous()))
      hint = "; the previous checkpoint is damaged too (" + why_prev + ")";
    else
      hint = "; no previous checkpoint is kept";
    throw DataError("cannot resume: checkpoint " + newest().string() + " failed verification: " + e.what() + hint);
  }
}

}  // namespace specbias::train
