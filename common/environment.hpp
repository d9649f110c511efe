// What a run was computed with: specbias version and git sha, compiler, library versions, host, threads.
// Written to every run directory as environment.json (STYLE.md §7: runs describe themselves).
#pragma once

#include <nlohmann/json.hpp>

namespace specbias {

nlohmann::json environment_info();

}  // namespace specbias
