// Reading JSON files the project wrote (checkpoint state, manifests, summaries) with errors a user can act on:
// every failure is a DataError that names the file, the position (line and column of a parse error) or the key,
// and what was expected, instead of the JSON library's bare exception text.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/errors.hpp"

namespace specbias {

// Parses the whole file. `what` says what the file should hold ("a checkpoint state written by specbias train").
// Throws DataError: missing or unreadable file, or a syntax error at "line L, column C" with the parser's
// expectation ("unexpected end of input; expected '}'").
nlohmann::json read_json_file(const std::filesystem::path& path, std::string_view what);

// The value of `key` in object `j` (read from `path`) as T. Throws DataError naming the file and the key when the
// key is missing or the value has another type; `expected` describes the value ("an integer step").
template <class T>
T json_field(const nlohmann::json& j, std::string_view key, const std::filesystem::path& path, std::string_view expected) {
  const auto it = j.find(key);
  if (!j.is_object() || it == j.end())
    throw DataError(path.string() + ": key '" + std::string(key) + "' is missing (expected " + std::string(expected) + ")");
  try {
    return it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    throw DataError(path.string() + ": key '" + std::string(key) + "' holds " + std::string(it->type_name()) + " " +
                    it->dump().substr(0, 60) + " (expected " + std::string(expected) + ")");
  }
}

}  // namespace specbias
