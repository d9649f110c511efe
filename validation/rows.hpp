// Building blocks of a validation report row (validate.hpp's Row), shared by every validator
// (validate.cpp, loss_validate, conv_validate, conv_patch_validate).
#pragma once

#include <Eigen/Dense>
#include <chrono>
#include <string>

#include "validation/validate.hpp"

namespace specbias::validation {

double since(std::chrono::steady_clock::time_point t0);  // seconds elapsed
// A row from measured errors; passes when max_rel (relative) or max_abs (absolute) is within tol.
Row make_row(const std::string& check, const std::string& reference, double max_abs, double max_rel, double tol,
             bool relative, double seconds);
// A row comparing a with the reference b entrywise (relative errors against |b|, floored at 1e-300; empty → 0).
Row compare(const std::string& check, const std::string& reference, const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
            double tol, bool relative, double seconds);

}  // namespace specbias::validation
