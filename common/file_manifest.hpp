// Checksummed manifests of directories the project writes (training checkpoints, final weights): manifest.json
// lists every file with its size and CRC-32 (zlib's crc32, the checksum of gzip and PNG), and its own CRC-32 over
// the rest of the manifest, so a flipped byte anywhere — in a data file or in the manifest — is found before the
// files are used. CRC-32 detects every burst error of up to 32 bits and any other damage with probability
// 1 − 2⁻³²; it guards against corruption, not against deliberate tampering.
// The manifest is written last, atomically: a directory with a valid manifest is complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace specbias {

inline constexpr const char* kManifestName = "manifest.json";

// CRC-32 of a file's bytes (streamed). Throws DataError when it cannot be read.
std::uint32_t crc32_of_file(const std::filesystem::path& path);

// Writes dir/manifest.json for `files` (names relative to dir) plus the caller's `info` object (e.g. the step).
void write_file_manifest(const std::filesystem::path& dir, const std::vector<std::string>& files,
                         const nlohmann::json& info = nlohmann::json::object());

// Checks dir/manifest.json (parse, own checksum) and every file it lists (present, size, CRC-32). Returns the
// manifest's `info`. Throws DataError naming the damaged file and what differs (size or checksum, both values).
nlohmann::json verify_file_manifest(const std::filesystem::path& dir);

// For a single file loaded on its own (a weights file a config points to): when a manifest.json beside it lists
// it, verify its size and checksum against that entry (DataError on a mismatch) and return true; false when no
// manifest lists it (a file from elsewhere, e.g. exported by PyTorch).
bool verify_if_listed(const std::filesystem::path& file);

}  // namespace specbias
