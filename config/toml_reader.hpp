// Typed, checked access to a TOML table (toml++), producing ConfigErrors that name the file, key path, line and
// column, the bad value, the allowed range and a fix (STYLE.md §6–7). Every key read is remembered so that
// `reject_unknown_keys` can flag anything the program did not ask for, with a "did you mean" suggestion.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace specbias::config {

// Inclusive/exclusive numeric bounds; `describe()` renders them like "(0, inf)" or "[0.5, 2]".
struct Range {
  double lo = -1e308, hi = 1e308;
  bool lo_inclusive = true, hi_inclusive = true;
  static Range positive() { return {0.0, 1e308, false, true}; }
  static Range non_negative() { return {0.0, 1e308, true, true}; }
  static Range closed(double lo, double hi) { return {lo, hi, true, true}; }
  [[nodiscard]] bool contains(double x) const;
  [[nodiscard]] std::string describe() const;
};

class TomlReader {
 public:
  TomlReader(toml::table root, std::string file);

  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] bool has(const std::string& path) const;  // "training.eta"
  [[nodiscard]] bool string_if(const std::string& path) const;  // the key exists and holds a string

  double number(const std::string& path, std::optional<double> fallback, const Range& range = {});
  long long integer(const std::string& path, std::optional<long long> fallback, const Range& range = {});
  bool boolean(const std::string& path, std::optional<bool> fallback);
  std::string string(const std::string& path, std::optional<std::string> fallback,
                     const std::vector<std::string>& allowed = {});
  std::vector<double> number_list(const std::string& path, const Range& range = {}, bool allow_empty = false);
  // A number or a list of numbers (e.g. Q = 0.1 or Q = [0.1, 0.2]).
  std::vector<double> number_or_list(const std::string& path, std::optional<double> fallback, const Range& range = {});
  // Marks a table as known (its own keys are checked when read) without reading anything.
  void touch(const std::string& path);

  // Throws ConfigError for the first key in the document that was never read (with a suggestion).
  void reject_unknown_keys() const;

  // "file:line:col" for a key (or just the file when the key came from --set or is absent).
  [[nodiscard]] std::string where(const std::string& path) const;
  [[noreturn]] void fail(const std::string& path, const std::string& problem, const std::string& fix = {}) const;

 private:
  [[nodiscard]] const toml::node* find(const std::string& path) const;
  std::string render(const toml::node& n) const;

  toml::table root_;
  std::string file_;
  std::set<std::string> used_;
};

// Parses TOML text; a syntax error becomes a ConfigError "name:line:col: TOML syntax error: …".
toml::table parse_toml_text(const std::string& text, const std::string& name);
// The text of a config file; ConfigError naming the path when it cannot be read.
std::string read_config_text(const std::string& path);

// Applies a --set override "a.b.c=value" (value parsed as a TOML value; bare words become strings) to `root`.
// Throws ConfigError naming the override when it is malformed.
void apply_override(toml::table& root, const std::string& assignment);

// Closest candidate by edit distance (for "did you mean"), empty if nothing is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace specbias::config
