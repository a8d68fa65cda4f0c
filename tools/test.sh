#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. installs the dependencies (Debian packages; the npm references from package-lock.json)
#   2. GCC 12, warnings as errors: build, then every test under CTest
#   3. Clang 14, warnings as errors, unoptimized with assertions on (build type None: it
#      builds in a third of Release's time; pass 2 tests the optimized code): the same,
#      plus the parser fuzzers (built -O1) for a bounded time, less the tests labelled
#      "processes" (replica processes in real time, tens of seconds each, the same code
#      as in pass 2, which runs them)
#   4. GCC 12 with AddressSanitizer + UndefinedBehaviorSanitizer: every test again, less
#      the "processes" ones (mostly asleep; the in-process fault and restart tests run
#      here) and the two that only compile or install (every header alone, the package
#      consumers): passes 2 and 3 run them, and a sanitizer adds nothing to a compile
#   5. packaging: the Conan recipe's and the vcpkg port's CMake steps for several option
#      sets, each install used by test_package (tools/packaging/check.sh), and the .deb
#      built, installed with dpkg, used from /usr and removed (tools/packaging/debian/check.sh)
#   6. GCC 12 with ThreadSanitizer: the concurrent code (memory backend, lease renewal, batches,
#      the runner, the Redis backend's contention and clock tests, the PostgreSQL backend, the
#      examples' virtual time, the asio driver, the HTTP server)
# Build trees go to build/<name>. Set SKED_SKIP_INSTALL=1 to skip step 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

if [[ "${SKED_SKIP_INSTALL:-0}" != 1 ]]; then
  "$root/tools/install-deps.sh"
fi
(cd "$root/tests/differential" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$root/benchmarks/peers" && npm ci --no-audit --no-fund --loglevel=error)

# Tests labelled "processes" (sked_redis_process_tests, two examples) run replica processes
# in real time: tens of seconds each, nearly all of it asleep (about 4 s of CPU in 130 s
# at -j4), so they run apart from the rest, four at a time.
run() {  # run NAME with|without-processes [--exclude-regex RE] -- CMAKE_ARGS...
  local name=$1 processes=$2; shift 2
  local select=()
  while [[ $1 != -- ]]; do select+=("$1"); shift; done; shift
  echo "==== $name"
  cmake -S "$root" -B "$root/build/$name" -DSKED_WERROR=ON "$@" > "$root/build/$name.configure.log" \
    || { cat "$root/build/$name.configure.log"; return 1; }
  cmake --build "$root/build/$name" -j "$jobs"
  ctest --test-dir "$root/build/$name" -j "$jobs" --output-on-failure --label-exclude processes "${select[@]}"
  if [[ $processes == with-processes ]]; then
    ctest --test-dir "$root/build/$name" -j 4 --output-on-failure --label-regex processes
  fi
}

mkdir -p "$root/build"
run gcc with-processes -- -DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Release
run clang without-processes -- -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=None -DSKED_FUZZ=ON \
  -DSKED_FUZZ_SECONDS=30
run sanitize without-processes --exclude-regex '^(headers_compile_alone|package[.]consumers)$' -- \
  -DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Debug -DSKED_BUILD_BENCHMARKS=OFF \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

echo "==== packaging"
bash "$root/tools/packaging/check.sh" "$root" clang++-14
bash "$root/tools/packaging/debian/check.sh" "$root" g++-12

echo "==== tsan"
cmake -S "$root" -B "$root/build/tsan" -DSKED_WERROR=ON -DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Debug \
  -DSKED_BUILD_BENCHMARKS=OFF "-DCMAKE_CXX_FLAGS=-fsanitize=thread -O1" > "$root/build/tsan.configure.log" \
  || { cat "$root/build/tsan.configure.log"; exit 1; }
cmake --build "$root/build/tsan" -j "$jobs" --target sked_tests sked_redis_tests sked_postgres_tests drop sked_asio_tests sked_asio_standalone_tests sked_http_tests
"$root/build/tsan/tests/sked_tests" "--test-case=*contract*,memory:*,lease*,runner:*,examples:*,one-off:*"
"$root/build/tsan/tests/sked_tests" "--test-suite=settle queue,batched claims"  # run ends sent together across threads
"$root/build/tsan/examples/drop" --replicas 3 --simulate 2d --quiet  # jobs sleeping in virtual time
"$root/build/tsan/tests/sked_redis_tests" "--test-suite=redis contention,redis clocks"
"$root/build/tsan/tests/sked_postgres_tests"  # concurrent migrations; the backend's connections
"$root/build/tsan/tests/sked_asio_tests"  # the driver and coroutine jobs on io threads, both flavours
"$root/build/tsan/tests/sked_asio_standalone_tests"
(cd "$root/build/tsan/tests" && ./sked_http_tests)  # the Beast server's sessions on 2 io threads
echo "==== all suites passed"
