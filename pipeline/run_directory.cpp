#include "pipeline/run_directory.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <sstream>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/environment.hpp"

namespace specbias::pipeline {

std::shared_ptr<spdlog::logger> open_run_log(const std::filesystem::path& out, const std::string& name, bool quiet,
                                             bool truncate) {
  std::filesystem::create_directories(out);
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>((out / "run.log").string(), truncate));
  if (!quiet) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  logger->set_pattern("[%H:%M:%S.%e] %v");
  logger->flush_on(spdlog::level::info);
  return logger;
}

void write_run_inputs(const std::filesystem::path& out, const std::string& program, const std::string& source,
                      const toml::table& resolved, bool environment) {
  std::ostringstream text;
  text << "# resolved configuration written by " << program << " (source: " << source << ")\n" << resolved << "\n";
  write_text_atomically(out / "resolved_config.toml", text.str());
  if (environment) write_text_atomically(out / "environment.json", environment_info().dump(2) + "\n");
}

}  // namespace specbias::pipeline
