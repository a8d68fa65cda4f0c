// sked/version.hpp — which sked this is. The one place the version is written:
// CMakeLists.txt, the Conan recipe and the packaging checks read it from here.
// What a version number promises: docs/install.md, "Versions and compatibility".
#pragma once

#define SKED_VERSION_MAJOR 0
#define SKED_VERSION_MINOR 2
#define SKED_VERSION_PATCH 0

namespace sked {

/// The version of the headers compiled in, for a program to log or check.
struct version_number {
    int major;
    int minor;
    int patch;
};
inline constexpr version_number version{SKED_VERSION_MAJOR, SKED_VERSION_MINOR, SKED_VERSION_PATCH};

}  // namespace sked
