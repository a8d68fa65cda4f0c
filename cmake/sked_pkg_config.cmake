# pkg-config files for Make and Meson users: sked.pc for the core and sked-<adapter>.pc
# for each adapter built, with the adapter's dependencies as Requires (when they have a
# .pc of their own) or as flags. The prefix is found from the file's own place
# (${pcfiledir}), so an installed tree can be moved.

# sked_pkg_config_file(NAME DESCRIPTION [REQUIRES modules] [CFLAGS flags] [LIBS flags]):
# NAME.pc, requiring sked (unless it is sked) and the modules given.
function(sked_pkg_config_file name description)
  cmake_parse_arguments(PARSE_ARGV 2 pc "" "REQUIRES;CFLAGS;LIBS" "")
  set(requires "${pc_REQUIRES}")
  if(NOT name STREQUAL "sked")
    string(PREPEND requires "sked = ${PROJECT_VERSION}, ")
  endif()
  if(IS_ABSOLUTE "${SKED_INSTALL_PKGCONFIGDIR}")
    set(prefix "${CMAKE_INSTALL_PREFIX}")
  else()
    file(RELATIVE_PATH to_prefix "/prefix/${SKED_INSTALL_PKGCONFIGDIR}" "/prefix")
    set(prefix "\${pcfiledir}/${to_prefix}")
  endif()
  string(STRIP "${requires}" requires)
  string(REGEX REPLACE ",$" "" requires "${requires}")
  string(STRIP "-I\${includedir} ${pc_CFLAGS}" cflags)
  set(file "${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc")
  file(WRITE "${file}" "prefix=${prefix}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: ${name}
Description: sked, ${description} (C++20, header-only)
Version: ${PROJECT_VERSION}
Requires: ${requires}
Cflags: ${cflags}
Libs: ${pc_LIBS}
")
  install(FILES "${file}" DESTINATION "${SKED_INSTALL_PKGCONFIGDIR}" COMPONENT development)
endfunction()
