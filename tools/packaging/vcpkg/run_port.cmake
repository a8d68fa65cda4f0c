# Runs ports/sked/portfile.cmake without vcpkg (which is not installed on these machines):
# the vcpkg functions it calls are defined here to do what vcpkg's do with the same
# arguments, so the port's configure, build and install steps run as written.
#   cmake -DFEATURES="core;redis" -DSTAGE=<packages dir> -DWORK=<build trees dir>
#         [-DCOMPILER=g++-12] -P run_port.cmake
# Writes WORK/options.txt: the -D options the port passed to CMake, one per line.
cmake_minimum_required(VERSION 3.25)
set(PORT sked)
set(CURRENT_PACKAGES_DIR "${STAGE}")
set(CURRENT_BUILDTREES_DIR "${WORK}")
file(REMOVE_RECURSE "${STAGE}" "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(sked_port_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "the port failed running ${ARGN}:\n${out}")
  endif()
endfunction()

# -D<option>=ON for each feature asked for, OFF for the others.
function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES")
  set(options "")
  while(arg_FEATURES)
    list(POP_FRONT arg_FEATURES feature option)
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${option}=ON")
    else()
      list(APPEND options "-D${option}=OFF")
    endif()
  endwhile()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE")
  set(options ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
  list(JOIN options "\n" lines)
  file(WRITE "${WORK}/options.txt" "${lines}\n")
  set(compiler "")
  if(COMPILER)
    set(compiler "-DCMAKE_CXX_COMPILER=${COMPILER}")
  endif()
  sked_port_run(${CMAKE_COMMAND} -S "${arg_SOURCE_PATH}" -B "${WORK}/rel" -DCMAKE_BUILD_TYPE=Release
                "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" ${compiler} ${options})
endfunction()

function(vcpkg_cmake_install)
  sked_port_run(${CMAKE_COMMAND} --build "${WORK}/rel")
  sked_port_run(${CMAKE_COMMAND} --install "${WORK}/rel")
endfunction()

# vcpkg moves CONFIG_PATH to share/PACKAGE_NAME and rewrites absolute paths; it fails when
# there is no config file.
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
  set(to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  if(NOT "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}" STREQUAL "${to}")
    file(RENAME "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}" "${to}")
  endif()
  if(NOT EXISTS "${to}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: no ${arg_PACKAGE_NAME}Config.cmake in ${to}")
  endif()
  file(GLOB files "${to}/*.cmake")
  foreach(file IN LISTS files)
    file(READ "${file}" text)
    if(text MATCHES "${CURRENT_PACKAGES_DIR}")
      message(FATAL_ERROR "vcpkg_cmake_config_fixup: ${file} names the staging directory")
    endif()
  endforeach()
endfunction()

# vcpkg rewrites each .pc's prefix to ${pcfiledir}; here it must already be.
function(vcpkg_fixup_pkgconfig)
  file(GLOB files "${CURRENT_PACKAGES_DIR}/share/pkgconfig/*.pc" "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc")
  if(NOT files)
    message(FATAL_ERROR "vcpkg_fixup_pkgconfig: no .pc files")
  endif()
  foreach(file IN LISTS files)
    file(STRINGS "${file}" prefix REGEX "^prefix=")
    if(NOT prefix MATCHES "^prefix=[$][{]pcfiledir[}]")
      message(FATAL_ERROR "vcpkg_fixup_pkgconfig: ${file} has ${prefix}")
    endif()
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  file(INSTALL ${arg_FILE_LIST} DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
  get_filename_component(name ${arg_FILE_LIST} NAME)
  file(RENAME "${CURRENT_PACKAGES_DIR}/share/${PORT}/${name}" "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright")
endfunction()

include("${CMAKE_CURRENT_LIST_DIR}/ports/sked/portfile.cmake")
