// Crash-safe file output: content goes to "<path>.tmp.<pid>" and is renamed over <path> only once it is
// complete and flushed, so an interrupted run never leaves a half-written result behind (the old file, if
// any, survives intact).
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace specbias {

// Calls write(stream) on a temporary file next to `path`, then atomically renames it to `path`.
// Throws specbias::Error naming the path if the file cannot be written.
void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write);

// Convenience for small text files.
void write_text_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace specbias
