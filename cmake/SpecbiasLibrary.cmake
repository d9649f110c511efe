# specbias_library(<name> PUBLIC <deps...> PRIVATE <deps...>): one static library per source folder, built from
# the folder's *.cpp files, with the project root on the include path ("solver/ode.hpp" style includes).
function(specbias_library name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(${name} STATIC ${sources})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC} PRIVATE specbias_warnings ${ARG_PRIVATE})
endfunction()
