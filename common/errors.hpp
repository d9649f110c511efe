// One exception hierarchy for specbias (STYLE.md §6).
//   ConfigError     — bad user input: names file, key path, line, value, allowed range and a fix.
//   DataError       — a data file that is missing, truncated or of the wrong shape.
//   NumericalError  — non-finite state, step limit hit, non-convergence: names where (tau, sigma, step).
//   NotCompiledError— a feature the binary was built without ("reconfigure with ...").
//   DeviceError     — a GPU that is absent or unusable, or a CUDA call that failed (names the call and the reason).
// Library code throws; only main() maps exceptions to exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace specbias {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public Error {
 public:
  using Error::Error;
};

class DataError : public Error {
 public:
  using Error::Error;
};

class NumericalError : public Error {
 public:
  using Error::Error;
};

class NotCompiledError : public Error {
 public:
  using Error::Error;
};

class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace specbias
