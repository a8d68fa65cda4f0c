#!/usr/bin/env bash
# Builds tests/install/consumer against sked installed to a prefix (find_package) and
# as a subdirectory, runs both, and checks the answer. Also checks that the installed
# package refuses an incompatible version request.
set -euo pipefail
source_dir=$1 build_dir=$2 compiler=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/share/cmake/sked/skedConfigVersion.cmake"
test -f "$work/prefix/include/sked/cron.hpp"
test -f "$work/prefix/include/sked/date_zone.hpp"
"$work/prefix/bin/sked" next --from 2026-11-23T12:00:00Z "0 0 * * *" | grep -qx "2026-11-24T00:00:00Z"
echo "ok   the installed sked tool runs"

# 2026-11-18T11:06:40Z -> next Manila midnight 2026-11-19T00:00+08:00 = 2026-11-18T16:00:00Z
expected=1795017600
for mode in package subdirectory; do
  cmake -S "$source_dir/tests/install/consumer" -B "$work/$mode" -DCMAKE_CXX_COMPILER="$compiler" \
        -DSKED_CONSUME=$mode -DSKED_SOURCE_DIR="$source_dir" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/$mode.log"
  cmake --build "$work/$mode" >> "$work/$mode.log"
  got=$("$work/$mode/consumer")
  [[ "$got" == "$expected" ]] || { echo "FAIL $mode: got $got, want $expected"; exit 1; }
  echo "ok   consumer built with $mode prints $got"
done
# The subdirectory build must not pull in sked's tests or warnings.
if grep -q "sked_tests" "$work/subdirectory/Makefile" 2>/dev/null; then echo "FAIL: tests leaked into subdirectory build"; exit 1; fi

# docs/getting-started.md: its CMakeLists.txt and main.cpp, exactly as written there.
guide="$source_dir/docs/getting-started.md"
mkdir -p "$work/guide"
awk '/^```cmake$/ {on = 1; next} /^```$/ {on = 0} on' "$guide" > "$work/guide/CMakeLists.txt"
awk '/^```cpp$/ {on = 1; next} /^```$/ {on = 0} on' "$guide" > "$work/guide/main.cpp"
cmp -s "$work/guide/main.cpp" "$source_dir/examples/minimal/main.cpp" \
  || { echo "FAIL: docs/getting-started.md's main.cpp is not examples/minimal/main.cpp"; exit 1; }
cmake -S "$work/guide" -B "$work/guide/build" -DCMAKE_CXX_COMPILER="$compiler" \
      -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/guide.log"
cmake --build "$work/guide/build" >> "$work/guide.log"
status=0
timeout --preserve-status -s INT 5 "$work/guide/build/app" > "$work/guide/out" || status=$?
grep -q "^job completed in .* job=heartbeat slot=.* replica=app-1$" "$work/guide/out" \
  || { echo "FAIL: the getting-started program ran no heartbeat"; cat "$work/guide/out"; exit 1; }
[[ $status == 0 ]] || { echo "FAIL: the getting-started program exited $status on SIGINT"; exit 1; }
echo "ok   docs/getting-started.md (examples/minimal) builds against the package, runs its job and stops on SIGINT"

# The asio driver from the package, each flavour.
for flavour in asio asio_standalone; do
  cmake -S "$source_dir/tests/install/asio_consumer" -B "$work/$flavour" -DCMAKE_CXX_COMPILER="$compiler" \
        -DSKED_FLAVOUR=$flavour -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/$flavour.log"
  cmake --build "$work/$flavour" >> "$work/$flavour.log"
  got=$("$work/$flavour/asio_consumer")
  [[ "$got" =~ ^[23]\ clean$ ]] || { echo "FAIL sked::$flavour consumer: got '$got', want 2 or 3 runs, clean"; exit 1; }
  echo "ok   a consumer of sked::$flavour runs its job ($got)"
done

# Versions the package is not compatible with are refused: before 1.0 a minor version may
# change the API (docs/install.md, "Versions and compatibility"), so 0.2 is not 0.1 either.
version=$(sed -n 's/^#define SKED_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$source_dir/include/sked/version.hpp" | paste -sd.)
mkdir -p "$work/versions"
cat > "$work/versions/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(versions LANGUAGES CXX)
find_package(sked ${ASK} CONFIG REQUIRED)
CMAKE
asks() {  # asks VERSION: true when find_package(sked VERSION) succeeds against the install
  cmake -S "$work/versions" -B "$work/versions/build-$1" -DCMAKE_PREFIX_PATH="$work/prefix" -DASK="$1" \
    > "$work/versions-$1.log" 2>&1
}
asks "${version%.*}" || { echo "FAIL: find_package(sked ${version%.*}) refused $version"; exit 1; }
older_minor="${version%%.*}.$(( $(cut -d. -f2 <<< "$version") - 1 ))"
for refused in 1.0 "$older_minor"; do
  if asks "$refused"; then echo "FAIL: find_package(sked $refused) accepted version $version"; exit 1; fi
done
echo "ok   find_package(sked ${version%.*}) is accepted by $version; $older_minor and 1.0 are refused"
echo "7 passed, 0 failed"
