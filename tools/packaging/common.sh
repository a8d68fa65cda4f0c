# shellcheck shell=bash disable=SC2154 # work, compiler and packaging are set by the script that sources this
# What check.sh and debian/check.sh share. Sourced; they set work, compiler and packaging.
passed=0
ok() {
  echo "ok   $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $*"
  exit 1
}

# words TEXT: TEXT's lines on one line.
words() {
  paste -sd' ' <<< "$1"
}

# build_test_package NAME PREFIX COMPONENTS: builds test_package (conan/test_package) in
# $work/tp-NAME against the sked found under PREFIX (empty: the system's), with the
# components COMPONENTS (a CMake list), and runs it; its output is in $work/tp-NAME.out.
build_test_package() {
  local name=$1 prefix=$2 components=$3
  local build=$work/tp-$name
  cmake -S "$packaging/conan/test_package" -B "$build" -DCMAKE_CXX_COMPILER="$compiler" \
        -DCMAKE_PREFIX_PATH="$prefix" "-DSKED_TEST_COMPONENTS=$components" > "$build.log" 2>&1 \
    || { cat "$build.log"; fail "test_package ($name) did not configure"; }
  cmake --build "$build" >> "$build.log" 2>&1 || { cat "$build.log"; fail "test_package ($name) did not build"; }
  "$build/test_package" > "$build.out" || { cat "$build.out"; fail "test_package ($name) failed"; }
}
