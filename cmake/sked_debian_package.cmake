# The Debian package, built with CPack from a build tree: `cpack -G DEB` makes
# libsked-dev_<version>_all.deb of the headers, the CMake package, the pkg-config files
# and the license (the install component "development"), with Debian's copyright and
# changelog files (component "debian", installed by nothing else). The sked tool is not
# in it: it is a program, and would make the package architecture-dependent. It depends
# on what the adapters built in this tree link to. tools/packaging/debian/check.sh
# builds, lints, installs, uses and removes it.
set(SKED_DEBIAN_MAINTAINER "sked maintainers <sked@localhost>" CACHE STRING
    "The .deb's Maintainer: whoever publishes a package sets it (lintian: bogus-mail-host until then)")
set(CPACK_PACKAGE_NAME libsked-dev)
set(CPACK_PACKAGE_VENDOR "sked")
set(CPACK_PACKAGE_CONTACT "${SKED_DEBIAN_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "header-only C++20 scheduling: cron, zones, stagger, leases")
set(CPACK_PACKAGE_DESCRIPTION "sked runs cron and one-off jobs in a service: cron expressions
with time zones and DST, stagger offsets, run keys that execute a
scheduled run once across replicas, and leases in memory, Redis or
PostgreSQL. Headers, a CMake package (find_package(sked CONFIG)) and
pkg-config files (sked, sked-<adapter>).")

# Debian policy: /usr/share/doc/<package>/copyright, and, for a native package, a
# changelog.gz in Debian's format: one entry for this version, dated as CHANGELOG.md's
# heading for it dates the release (today, while it has none), pointing to sked's own.
set(sked_debian_doc "${CMAKE_INSTALL_DATADIR}/doc/libsked-dev")
set(sked_release "")
if(EXISTS "${PROJECT_SOURCE_DIR}/CHANGELOG.md")  # not in what the Conan recipe exports
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/CHANGELOG.md")
  file(STRINGS "${PROJECT_SOURCE_DIR}/CHANGELOG.md" sked_release REGEX "^## ${PROJECT_VERSION} [(][0-9-]+[)]$")
endif()
if(sked_release MATCHES "[(]([0-9-]+)[)]")
  set(sked_release_day "${CMAKE_MATCH_1}")
else()
  string(TIMESTAMP sked_release_day "%Y-%m-%d" UTC)
endif()
# GNU date and gzip: on a machine without them (not Debian), no changelog; cpack -G DEB is
# for Debian anyway.
execute_process(COMMAND date -u -R -d "${sked_release_day}" RESULT_VARIABLE sked_date_status
                OUTPUT_VARIABLE sked_release_date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
find_program(SKED_GZIP gzip)
if(sked_date_status EQUAL 0 AND SKED_GZIP)
  file(WRITE "${PROJECT_BINARY_DIR}/debian/changelog" "libsked-dev (${PROJECT_VERSION}) unstable; urgency=medium

  * sked ${PROJECT_VERSION}; what changed is in sked's CHANGELOG.md.

 -- ${SKED_DEBIAN_MAINTAINER}  ${sked_release_date}
")
  execute_process(COMMAND "${SKED_GZIP}" -9nf "${PROJECT_BINARY_DIR}/debian/changelog" COMMAND_ERROR_IS_FATAL ANY)
  install(FILES "${PROJECT_BINARY_DIR}/debian/changelog.gz" DESTINATION "${sked_debian_doc}" COMPONENT debian
          EXCLUDE_FROM_ALL)
else()
  message(STATUS "sked: no GNU date or gzip; a .deb made here would have no changelog.gz")
endif()
install(FILES LICENSE DESTINATION "${sked_debian_doc}" RENAME copyright COMPONENT debian EXCLUDE_FROM_ALL)
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL development debian)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME libsked-dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "pkg-config, cmake")

# What each adapter's headers need installed to compile and link.
set(sked_debian_needs_date libhowardhinnant-date-dev)
set(sked_debian_needs_redis libhiredis-dev)
set(sked_debian_needs_postgres libpq-dev)
set(sked_debian_needs_asio libboost-dev)
set(sked_debian_needs_asio_standalone libasio-dev)
set(sked_debian_needs_http libboost-dev)
get_property(sked_adapters_built GLOBAL PROPERTY sked_adapters_built)
set(sked_debian_depends "")
foreach(adapter IN LISTS sked_adapters_built)
  list(APPEND sked_debian_depends ${sked_debian_needs_${adapter}})
endforeach()
list(REMOVE_DUPLICATES sked_debian_depends)
list(JOIN sked_debian_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
include(CPack)
