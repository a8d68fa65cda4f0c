"""Conan 2 recipe for sked, after conan-center-index's header-only template.

    conan create tools/packaging/conan --build=missing -o "sked/*:with_redis=True"

run from the repository's root (the sources are exported from it). The package is
sked's own CMake install (the same -D options tools/packaging/check.sh configures
with); its CMake and pkg-config files are then removed, and package_info() says the same
through Conan's generators: CMakeDeps makes find_package(sked) with the targets below,
PkgConfigDeps the .pc files.
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"

# Each component: its CMake target (as in sked's own skedTargets*.cmake), its pkg-config
# name, and what it requires (components of this package, or of CCI packages).
COMPONENTS = {
    "core": {"target": "sked::sked", "pkg_config": "sked", "requires": []},
    "memory": {"target": "sked::memory", "pkg_config": "sked-memory", "requires": ["core"]},
    "date": {"target": "sked::date", "pkg_config": "sked-date", "requires": ["core", "date::date-tz"]},
    "redis": {"target": "sked::redis", "pkg_config": "sked-redis", "requires": ["core", "hiredis::hiredislib"]},
    "postgres": {"target": "sked::postgres", "pkg_config": "sked-postgres", "requires": ["core", "libpq::pq"]},
    "asio": {"target": "sked::asio", "pkg_config": "sked-asio", "requires": ["core", "boost::headers"]},
    "asio_standalone": {
        "target": "sked::asio_standalone",
        "pkg_config": "sked-asio-standalone",
        "requires": ["core", "asio::asio"],
        "defines": ["SKED_ASIO_STANDALONE"],
    },
    "http": {"target": "sked::http", "pkg_config": "sked-http", "requires": ["core", "boost::headers"]},
}

# What sked's CMake install reads, relative to the repository's root.
EXPORTED_SOURCES = ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "adapters/*")

# The package every component's dependency comes from, by the recipe option that adds it.
REQUIREMENTS = {
    "with_date": "date/3.0.1",
    "with_redis": "hiredis/1.2.0",
    "with_postgres": "libpq/15.4",
    "boost": "boost/1.83.0",
    "standalone": "asio/1.29.0",
}


def built_components(with_date, with_redis, with_postgres, with_asio, with_http):
    """The components a package with these option values has, in COMPONENTS' order."""
    wanted = {
        "core": True,
        "memory": True,
        "date": with_date,
        "redis": with_redis,
        "postgres": with_postgres,
        "asio": with_asio == "boost",
        "asio_standalone": with_asio == "standalone",
        "http": with_http,
    }
    return [name for name in COMPONENTS if wanted[name]]


def cmake_variables(with_date, with_redis, with_postgres, with_asio, with_http):
    """The -D options sked's CMake build is configured with for these option values."""
    on = lambda flag: "ON" if flag else "OFF"
    return {
        "SKED_BUILD_TESTS": "OFF",
        "SKED_BUILD_EXAMPLES": "OFF",
        "SKED_BUILD_BENCHMARKS": "OFF",
        "SKED_BUILD_TOOL": "OFF",
        "SKED_WITH_DATE": on(with_date),
        "SKED_WITH_REDIS": on(with_redis),
        "SKED_WITH_POSTGRES": on(with_postgres),
        "SKED_WITH_ASIO": on(with_asio == "boost"),
        "SKED_WITH_ASIO_STANDALONE": on(with_asio == "standalone"),
        "SKED_WITH_HTTP": on(with_http),
    }


class SkedConan(ConanFile):
    name = "sked"
    description = "Header-only C++20 scheduling: cron with time zones, stagger, leases, run keys"
    license = "MIT"
    topics = ("cron", "scheduler", "header-only", "redis", "distributed-lock")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_date": [True, False],
        "with_redis": [True, False],
        "with_postgres": [True, False],
        "with_asio": [False, "boost", "standalone"],
        "with_http": [True, False],
    }
    default_options = {
        "with_date": True,
        "with_redis": False,
        "with_postgres": False,
        "with_asio": False,
        "with_http": False,
    }
    no_copy_source = True

    def _repository_root(self):
        return os.path.join(self.recipe_folder, "..", "..", "..")  # the recipe is in tools/packaging/conan

    def set_version(self):
        header = load(self, os.path.join(self._repository_root(), "include", "sked", "version.hpp"))
        parts = [re.search(rf"#define SKED_VERSION_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def export_sources(self):
        # From the repository's root: exports_sources would look beside the recipe.
        for pattern in EXPORTED_SOURCES:
            copy(self, pattern, self._repository_root(), self.export_sources_folder)

    def _values(self):
        return {
            "with_date": bool(self.options.with_date),
            "with_redis": bool(self.options.with_redis),
            "with_postgres": bool(self.options.with_postgres),
            "with_asio": str(self.options.with_asio),
            "with_http": bool(self.options.with_http),
        }

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        values = self._values()
        for option in ("with_date", "with_redis", "with_postgres"):
            if values[option]:
                self.requires(REQUIREMENTS[option])
        if values["with_asio"] == "boost" or values["with_http"]:
            self.requires(REQUIREMENTS["boost"])
        if values["with_asio"] == "standalone":
            self.requires(REQUIREMENTS["standalone"])

    def package_id(self):
        # Headers only: one package for every compiler and build type; the options stay,
        # since they decide which adapters' headers are in it.
        self.info.settings.clear()

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 20)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables.update(cmake_variables(**self._values()))
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        rmdir(self, os.path.join(self.package_folder, "share"))  # CMake and .pc files: made by generators

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "sked")
        # The whole package under a name nobody links, so that sked::sked is the core's.
        self.cpp_info.set_property("cmake_target_name", "sked::sked_all_unofficial")
        self.cpp_info.set_property("pkg_config_name", "sked_all_unofficial")
        for name in built_components(**self._values()):
            component = self.cpp_info.components[name]
            component.set_property("cmake_target_name", COMPONENTS[name]["target"])
            component.set_property("pkg_config_name", COMPONENTS[name]["pkg_config"])
            component.requires = list(COMPONENTS[name]["requires"])
            component.defines = list(COMPONENTS[name].get("defines", []))
            component.bindirs = []
            component.libdirs = []
            if self.settings.os in ("Linux", "FreeBSD") and name in ("memory", "asio", "asio_standalone", "http"):
                component.system_libs = ["pthread"]
