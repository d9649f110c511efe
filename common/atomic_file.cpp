#include "common/atomic_file.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

#include "common/errors.hpp"

namespace specbias {

void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot open '" + tmp.string() + "' for writing");
    write(out);
    out.flush();
    if (!out) throw Error("writing '" + tmp.string() + "' failed (disk full?)");
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);  // a failed write leaves neither a partial file nor the temporary
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw Error("cannot move '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

void write_text_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

}  // namespace specbias
