#!/usr/bin/env bash
# The Debian package: built with CPack from a tree configured with every adapter (and the
# sked tool, which must stay out of it), inspected, linted, installed with dpkg, used from /usr by
# a CMake consumer (test_package, every component) and a Make consumer (pkg-config),
# then removed. Needs root (dpkg -i); refuses to run where libsked-dev is already installed.
#   check.sh SOURCE_DIR COMPILER
set -euo pipefail
source_dir=$1 compiler=$2
packaging=$source_dir/tools/packaging
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
if dpkg-query -W -f '${Status}' libsked-dev 2> /dev/null | grep -q "install ok installed"; then
  echo "FAIL libsked-dev is installed on this machine; this check installs and removes it: remove it first"
  exit 1
fi
work=$(mktemp -d)
cleanup() {
  if dpkg-query -W -f '${Status}' libsked-dev 2> /dev/null | grep -q "install ok installed"; then
    $sudo dpkg -r libsked-dev > /dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tools/packaging/common.sh
source "$packaging/common.sh"

cmake -S "$source_dir" -B "$work/build" -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=Release \
      -DSKED_BUILD_TESTS=OFF -DSKED_BUILD_EXAMPLES=OFF -DSKED_BUILD_BENCHMARKS=OFF -DSKED_BUILD_TOOL=ON \
      -DSKED_WITH_DATE=ON -DSKED_WITH_REDIS=ON -DSKED_WITH_POSTGRES=ON -DSKED_WITH_ASIO=ON \
      -DSKED_WITH_ASIO_STANDALONE=ON -DSKED_WITH_HTTP=ON > "$work/build.log" 2>&1 \
  || { cat "$work/build.log"; fail "configure"; }
cmake --build "$work/build" -j "$(nproc)" >> "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
(cd "$work/build" && cpack -G DEB) >> "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "cpack -G DEB"; }
version=$(sed -n 's/^#define SKED_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$source_dir/include/sked/version.hpp" | paste -sd.)
deb=$work/build/libsked-dev_${version}_all.deb
[[ -f $deb ]] || { ls "$work/build"; fail "no $(basename "$deb")"; }
ok "cpack -G DEB made $(basename "$deb") ($(stat -c %s "$deb") bytes)"

dpkg-deb -c "$deb" | awk '{print $6}' > "$work/contents"
for path in ./usr/include/sked/cron.hpp ./usr/include/sked/redis/store.hpp ./usr/include/sked/asio.hpp \
            ./usr/share/cmake/sked/skedConfig.cmake ./usr/share/cmake/sked/skedTargets_http.cmake \
            ./usr/share/pkgconfig/sked.pc ./usr/share/pkgconfig/sked-redis.pc ./usr/share/doc/sked/LICENSE \
            ./usr/share/doc/libsked-dev/copyright ./usr/share/doc/libsked-dev/changelog.gz; do
  grep -qx "$path" "$work/contents" || fail "the package has no $path"
done
if grep -q '^./usr/bin/' "$work/contents"; then fail "the package has a program: $(grep '^./usr/bin/' "$work/contents")"; fi
[[ $(dpkg-deb -f "$deb" Architecture) == all ]] || fail "Architecture is $(dpkg-deb -f "$deb" Architecture)"
depends=$(dpkg-deb -f "$deb" Depends)
for package in libhowardhinnant-date-dev libhiredis-dev libpq-dev libboost-dev libasio-dev; do
  grep -qw "$package" <<< "$depends" || fail "Depends ($depends) does not name $package"
done
ok "dpkg-deb -c: $(wc -l < "$work/contents") entries, headers, CMake and pkg-config files, the license, no program; Architecture all; Depends: $depends"

# The Maintainer is a placeholder until someone publishes the package (SKED_DEBIAN_MAINTAINER).
lintian --fail-on error,warning --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog "$deb" \
  > "$work/lintian.log" 2>&1 || { cat "$work/lintian.log"; fail "lintian"; }
ok "lintian: no error or warning (but the placeholder Maintainer)"

$sudo dpkg -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
[[ -f /usr/include/sked/cron.hpp && -f /usr/share/cmake/sked/skedConfig.cmake ]] || fail "dpkg -i installed no headers"
ok "dpkg -i installed it"

for components in "memory;date;redis;postgres;asio;http" "memory;asio_standalone"; do
  name=usr-${components//;/-}
  build_test_package "$name" "" "$components"
  grep -q "/usr/share/cmake/sked" "$work/tp-$name/CMakeCache.txt" || fail "$name did not find sked in /usr"
  ok "a CMake consumer of $components builds against /usr and runs ($(grep -c '^ok' "$work/tp-$name.out") checks)"
done

make -s -C "$packaging/pkg-config-consumer" OUT="$work" CXX="$compiler" > "$work/make.log" 2>&1 \
  || { cat "$work/make.log"; fail "the Makefile consumer did not build"; }
"$work/consumer" > "$work/make.out" || { cat "$work/make.out"; fail "the Makefile consumer failed"; }
grep -q "^ok   redis" "$work/make.out" || fail "the Makefile consumer did not use redis"
ok "a Makefile consumer builds with pkg-config --cflags --libs sked-memory sked-date sked-redis and runs"

$sudo dpkg -r libsked-dev > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -r"; }
[[ ! -e /usr/include/sked && ! -e /usr/share/cmake/sked && ! -e /usr/share/pkgconfig/sked.pc ]] \
  || fail "dpkg -r left files behind"
ok "dpkg -r removed it, leaving nothing"
echo "$passed passed, 0 failed"
