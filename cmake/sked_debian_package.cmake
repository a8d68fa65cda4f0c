# The Debian package, built with CPack from a build tree: `cpack -G DEB` makes
# libsked-dev_<version>_all.deb of the headers, the CMake package, the pkg-config files
# and the license (the install component "development"; the sked tool is not in it: it
# is a program, and would make the package architecture-dependent). It depends on what
# the adapters built in this tree link to. tools/packaging/debian/check.sh builds,
# installs, uses and removes it.
set(CPACK_PACKAGE_NAME libsked-dev)
set(CPACK_PACKAGE_VENDOR "sked")
set(CPACK_PACKAGE_CONTACT "sked maintainers <sked@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "header-only C++20 scheduling: cron, zones, stagger, leases")
set(CPACK_PACKAGE_DESCRIPTION "sked runs cron and one-off jobs in a service: cron expressions with time
zones and DST, stagger offsets, run keys that execute a scheduled run once across
replicas, and leases in memory, Redis or PostgreSQL. Headers, a CMake package
(find_package(sked CONFIG)) and pkg-config files (sked, sked-<adapter>).")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL development)
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
