#include "common/file_manifest.hpp"

#include <zlib.h>

#include <array>
#include <fstream>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "common/errors.hpp"
#include "common/json_file.hpp"

namespace specbias {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "specbias file manifest 1";

std::string hex(std::uint32_t crc) { return fmt::format("{:08x}", crc); }

std::uint32_t crc32_of_text(const std::string& s) {
  return static_cast<std::uint32_t>(
      ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// The manifest's own checksum covers its canonical dump without the checksum field (keys are sorted, so the dump
// does not depend on the order in which the fields were written).
std::string self_checksum(nlohmann::json m) {
  m.erase("manifest_crc32");
  return hex(crc32_of_text(m.dump()));
}

void check_entry(const fs::path& file, const nlohmann::json& entry, const fs::path& manifest) {
  const auto bytes = json_field<std::uintmax_t>(entry, "bytes", manifest, "the file's size in bytes");
  const auto crc = json_field<std::string>(entry, "crc32", manifest, "the file's CRC-32 as 8 hex digits");
  if (!fs::exists(file))
    throw DataError(file.string() + ": missing (listed in " + manifest.string() + " with " + std::to_string(bytes) + " bytes)");
  const std::uintmax_t size = fs::file_size(file);
  if (size != bytes)
    throw DataError(file.string() + ": " + std::to_string(size) + " bytes, but " + manifest.string() + " records " +
                    std::to_string(bytes) + " (truncated or overwritten)");
  const std::string actual = hex(crc32_of_file(file));
  if (actual != crc)
    throw DataError(file.string() + ": damaged: its CRC-32 is " + actual + ", but " + manifest.string() + " records " + crc +
                    " (the file was changed after it was written)");
}

nlohmann::json read_manifest(const fs::path& path) {
  nlohmann::json m = read_json_file(path, "a file manifest written by specbias");
  if (!m.is_object() || m.value("format", std::string()) != kFormat)
    throw DataError(path.string() + ": not a specbias file manifest (expected \"format\": \"" + kFormat + "\")");
  const auto recorded = json_field<std::string>(m, "manifest_crc32", path, "the manifest's own CRC-32");
  if (recorded != self_checksum(m))
    throw DataError(path.string() + ": damaged: its own CRC-32 is " + self_checksum(m) + ", but it records " + recorded);
  if (!m.contains("files") || !m.at("files").is_object())
    throw DataError(path.string() + ": key 'files' is missing (expected an object of file entries)");
  return m;
}

}  // namespace

std::uint32_t crc32_of_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open to compute its checksum");
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    const auto n = in.gcount();
    if (n > 0) crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
  }
  if (in.bad()) throw DataError(path.string() + ": read error while computing its checksum");
  return static_cast<std::uint32_t>(crc);
}

void write_file_manifest(const fs::path& dir, const std::vector<std::string>& files, const nlohmann::json& info) {
  nlohmann::json m = {{"format", kFormat}, {"checksum", "CRC-32 (zlib crc32), 8 hex digits"}, {"info", info}};
  nlohmann::json entries = nlohmann::json::object();
  for (const std::string& f : files)
    entries[f] = {{"bytes", fs::file_size(dir / f)}, {"crc32", hex(crc32_of_file(dir / f))}};
  m["files"] = std::move(entries);
  m["manifest_crc32"] = self_checksum(m);
  write_text_atomically(dir / kManifestName, m.dump(1) + "\n");
}

nlohmann::json verify_file_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifestName;
  if (!fs::exists(path)) throw DataError(path.string() + ": missing (a directory without a manifest is incomplete or was not written by this specbias)");
  const nlohmann::json m = read_manifest(path);
  for (const auto& [name, entry] : m.at("files").items()) check_entry(dir / name, entry, path);
  return m.value("info", nlohmann::json::object());
}

bool verify_if_listed(const fs::path& file) {
  const fs::path path = file.parent_path() / kManifestName;
  if (!fs::exists(path)) return false;
  const nlohmann::json m = read_manifest(path);
  const auto& files = m.at("files");
  const std::string name = file.filename().string();
  if (!files.contains(name)) return false;
  check_entry(file, files.at(name), path);
  return true;
}

}  // namespace specbias
