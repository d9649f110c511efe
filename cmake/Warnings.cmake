# Project-wide warning flags, applied through an interface target so third-party headers stay quiet.
add_library(specbias_warnings INTERFACE)
target_compile_options(specbias_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter -Wno-maybe-uninitialized>)

# Runs are built and executed on the same machine (scripts/build.sh), so tune for it by default.
option(SPECBIAS_NATIVE "Compile with -march=native" ON)
if(SPECBIAS_NATIVE AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-march=native>)
endif()
