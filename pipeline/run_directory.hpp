// What every run directory starts with, whatever the subcommand: a logger writing run.log (and the terminal unless
// quiet), and the inputs written before any computation — resolved_config.toml and environment.json — so that a
// run that fails midway still says what was asked for and on what.
#pragma once

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <toml++/toml.h>

namespace specbias::pipeline {

// `truncate`: start run.log afresh (a new run) or append (a resumed run, or a second writer of the same run).
std::shared_ptr<spdlog::logger> open_run_log(const std::filesystem::path& out, const std::string& name, bool quiet,
                                             bool truncate);
// resolved_config.toml ("# resolved configuration written by <program> (source: <source>)" + the table), and,
// with `environment`, environment.json (common/environment). Both atomically.
void write_run_inputs(const std::filesystem::path& out, const std::string& program, const std::string& source,
                      const toml::table& resolved, bool environment = true);

}  // namespace specbias::pipeline
