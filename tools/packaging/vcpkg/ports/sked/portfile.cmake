# sked as a vcpkg overlay port, built from this checkout:
#   vcpkg install "sked[redis,boost-asio]" --overlay-ports=<checkout>/tools/packaging/vcpkg/ports
# For a release in a registry, SOURCE_PATH comes from vcpkg_from_github (REPO, REF v${VERSION},
# SHA512) instead. tools/packaging/check.sh runs this file's steps without vcpkg.
set(VCPKG_BUILD_TYPE release)  # headers only: no debug tree to build
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../../.." ABSOLUTE)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        date        SKED_WITH_DATE
        redis       SKED_WITH_REDIS
        postgres    SKED_WITH_POSTGRES
        boost-asio  SKED_WITH_ASIO
        asio        SKED_WITH_ASIO_STANDALONE
        http        SKED_WITH_HTTP
)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DSKED_BUILD_TESTS=OFF
        -DSKED_BUILD_EXAMPLES=OFF
        -DSKED_BUILD_BENCHMARKS=OFF
        -DSKED_BUILD_TOOL=OFF
        -DSKED_INSTALL_CMAKEDIR=share/sked
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME sked CONFIG_PATH share/sked)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/share/doc")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
