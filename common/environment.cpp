#include "common/environment.hpp"

#include <gsl/gsl_version.h>
#include <unistd.h>

#include <Eigen/Core>
#include <boost/version.hpp>
#include <chrono>
#include <ctime>
#include <thread>

#include "common/version.hpp"

namespace specbias {

nlohmann::json environment_info() {
  char host[256] = "unknown";
  ::gethostname(host, sizeof host - 1);
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {
      {"specbias_version", build_info::version},
      {"git_sha", build_info::git_sha},
      {"compiler", build_info::compiler},
      {"build_type", build_info::build_type},
      {"cuda_compiled", build_info::with_cuda},
      {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION)},
      {"boost", std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                    std::to_string(BOOST_VERSION % 100)},
      {"gsl", GSL_VERSION},
      {"hostname", host},
      {"hardware_threads", std::thread::hardware_concurrency()},
      {"started_utc", stamp},
  };
}

}  // namespace specbias
