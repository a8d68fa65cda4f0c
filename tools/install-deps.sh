#!/usr/bin/env bash
# Installs what building and testing sked needs on Debian 12, as root (or with sudo).
#   tools/install-deps.sh          everything the test suite needs
#   tools/install-deps.sh --demo   only what the demo needs (compiler, CMake, date library, Boost)
set -euo pipefail
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

demo=(cmake make g++ libhowardhinnant-date-dev tzdata libboost-dev nlohmann-json3-dev)  # Boost: --http; JSON: sked status
all=("${demo[@]}" clang-14 clang-format-14 libclang-rt-14-dev doctest-dev libbenchmark-dev python3 python3-croniter git
     pkg-config libhiredis-dev redis-server redis-sentinel redis-tools faketime
     libpq-dev postgresql lintian
     libboost-dev libasio-dev prometheus chromium python3-pil fonts-dejavu-core curl
     python3-apscheduler python3-redis)  # the last two: benchmarks/peers

packages=("${all[@]}")
if [[ "${1:-}" == "--demo" ]]; then packages=("${demo[@]}"); fi

installed() {  # installed PACKAGE...: true when every one is installed
  [[ $(dpkg-query -W -f '${Status}\n' "$@" 2> /dev/null | grep -c "install ok installed") == "$#" ]]
}
if [[ "${1:-}" == "--demo" ]] && installed "${demo[@]}"; then exit 0; fi  # nothing to do: no root needed
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
if [[ "${1:-}" != "--demo" ]]; then
  # The npm references need Node.js and npm. Debian's npm package conflicts with the
  # NodeSource nodejs some machines carry (which bundles npm), so add only what is missing.
  command -v node > /dev/null || $sudo apt-get install -y -qq --no-install-recommends nodejs > /dev/null
  command -v npm > /dev/null || $sudo apt-get install -y -qq --no-install-recommends npm > /dev/null
fi
