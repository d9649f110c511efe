// The checkpoint directories of a training run and their rotation: run/checkpoint is the newest verified
// checkpoint, run/checkpoint.prev the one before it (the last two are kept), run/checkpoint.tmp the one being
// written. Each holds a checksummed manifest (common/file_manifest.hpp) written last, so a checkpoint is complete
// exactly when its manifest verifies. The swap replaces whole directories by rename, never file by file, so a
// kill at any instant (also inside the write) leaves at least one complete checkpoint:
//   write tmp/* → tmp/manifest.json → [prev → trash] → checkpoint → prev → tmp → checkpoint → delete trash.
// On resume the newest complete checkpoint is verified before anything is read; a damaged one is refused with
// the damaged file named, pointing to checkpoint.prev when that one verifies (`--from-previous`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace specbias::train {

class CheckpointStore {
 public:
  explicit CheckpointStore(std::filesystem::path run_dir);

  // An empty run/checkpoint.tmp to write the files of a new checkpoint into.
  [[nodiscard]] std::filesystem::path begin_write() const;
  // Writes tmp's manifest (files, step) and swaps tmp in as run/checkpoint, the old one becoming checkpoint.prev.
  // `stage(name)` is called before each step of the swap (a test hook for kills at every instant).
  void commit(std::int64_t step, const std::vector<std::string>& files,
              const std::function<void(const std::string&)>& stage = {}) const;

  struct Found {
    std::filesystem::path dir;  // the verified checkpoint directory
    std::int64_t step = 0;      // the step its manifest records
    std::string note;           // what was chosen and why, for the run log
  };
  // The checkpoint to resume from, verified (every file's size and CRC-32). With from_previous, checkpoint.prev,
  // which then becomes run/checkpoint (the damaged newest one is kept as checkpoint.damaged for inspection).
  // Throws DataError naming the damaged file; the message points to checkpoint.prev when that one verifies.
  [[nodiscard]] Found locate_for_resume(bool from_previous) const;

  [[nodiscard]] std::filesystem::path newest() const { return run_dir_ / "checkpoint"; }
  [[nodiscard]] std::filesystem::path previous() const { return run_dir_ / "checkpoint.prev"; }

 private:
  std::filesystem::path run_dir_;
};

}  // namespace specbias::train
