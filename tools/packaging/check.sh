#!/usr/bin/env bash
# The Conan recipe and the vcpkg port, checked without Conan or vcpkg (neither can be
# installed on these machines): for each option or feature set, the CMake configure, build
# and install steps the recipe and the port run, with the same -D options (read from the
# recipe's functions and run from the portfile itself); the shared test_package built
# against the staged install, and again after the install is moved (relocatable); every
# -D they pass is a cache variable of sked's build (cmake -LAH); the recipe's components
# name exactly the targets installed; the recipe compiles; find_package refuses a
# component that was not installed, naming it and how to get it.
#   check.sh SOURCE_DIR COMPILER
set -euo pipefail
source_dir=$1 compiler=$2
packaging=$source_dir/tools/packaging
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONPYCACHEPREFIX=$work/pycache  # py_compile and the recipe's import write nothing into the checkout
# shellcheck source=tools/packaging/common.sh
source "$packaging/common.sh"

/usr/bin/python3 -m py_compile "$packaging/conan/conanfile.py" "$packaging/conan/test_package/conanfile.py"
ok "the recipe and its test_package compile (py_compile)"

# installed_components PREFIX CONFIG_DIR: the components installed, from skedTargets_*.cmake.
installed_components() {
  find "$1/$2" -name 'skedTargets_*.cmake' -printf '%f\n' | sed 's/^skedTargets_//; s/[.]cmake$//' | sort
}

# check_defines_exist BUILD_DIR -DNAME=VALUE...: each NAME is a cache variable of the build.
check_defines_exist() {
  local build=$1; shift
  local cache
  cache=$(cmake -LAH -N "$build")
  for define in "$@"; do
    local name=${define#-D}
    name=${name%%=*}
    grep -q "^$name:" <<< "$cache" || fail "$name, passed by a recipe, is not an option of sked's build"
  done
}

# ---- Conan: option sets, built from what the recipe exports ------------------------------
exported=$work/conan-sources
mkdir -p "$exported"
while read -r pattern; do
  (cd "$source_dir" && cp -r --parents "${pattern%/\*}" "$exported/")  # "dir/*" copies dir
done < <("$packaging/conan_facts.py" "$packaging/conan/conanfile.py" sources)
conan_sets=(
  ""  # the defaults
  "with_date=True with_redis=True with_postgres=True with_asio=boost with_http=True"
  "with_date=False with_asio=standalone with_http=True"
  "with_date=False"  # the core and sked::memory alone
)
for i in "${!conan_sets[@]}"; do
  # shellcheck disable=SC2086 # one word per option
  read -ra options <<< "${conan_sets[$i]}"
  mapfile -t defines < <("$packaging/conan_facts.py" "$packaging/conan/conanfile.py" cmake-args "${options[@]}")
  mapfile -t components < <("$packaging/conan_facts.py" "$packaging/conan/conanfile.py" components "${options[@]}")
  prefix=$work/conan$i/package
  cmake -S "$exported" -B "$work/conan$i/build" -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=Release \
        "${defines[@]}" > "$work/conan$i.log" 2>&1 || { cat "$work/conan$i.log"; fail "conan set $i did not configure"; }
  cmake --build "$work/conan$i/build" >> "$work/conan$i.log" 2>&1
  cmake --install "$work/conan$i/build" --prefix "$prefix" >> "$work/conan$i.log" 2>&1
  check_defines_exist "$work/conan$i/build" "${defines[@]}"

  want_targets=$("$packaging/conan_facts.py" "$packaging/conan/conanfile.py" targets "${options[@]}" | sort)
  got_targets=$(grep -ho 'add_library(sked::[a-z_]* ' "$prefix"/share/cmake/sked/skedTargets*.cmake \
                | sed 's/add_library(//; s/ $//' | sort)
  [[ "$want_targets" == "$got_targets" ]] \
    || fail "conan set $i: the recipe's components name $(words "$want_targets"), the install has $(words "$got_targets")"

  test_components=$(printf '%s\n' "${components[@]}" | grep -vx core | paste -sd';')
  build_test_package "conan$i" "$prefix" "$test_components"
  ok "conan (${conan_sets[$i]:-defaults}): ${#defines[@]} -D options exist; targets = components ($(words "$got_targets")); test_package runs"
done

# Moved elsewhere, the most complete install still works (the recipe's package folder moves).
mv "$work/conan1/package" "$work/moved-conan1"
rm -rf "$work/conan1/build"
build_test_package conan1-moved "$work/moved-conan1" "memory;date;redis;postgres;asio;http"
ok "conan: the install, moved, still builds and runs test_package"

# ---- vcpkg: feature sets, run by the portfile itself ------------------------------------
vcpkg_sets=("core" "core;date;redis;postgres;boost-asio;http" "core;date;asio")
declare -A component_of=([date]=date [redis]=redis [postgres]=postgres [boost-asio]=asio [asio]=asio_standalone [http]=http)
for i in "${!vcpkg_sets[@]}"; do
  stage=$work/vcpkg$i/packages
  cmake "-DFEATURES=${vcpkg_sets[$i]}" -DSTAGE="$stage" -DWORK="$work/vcpkg$i/buildtrees" -DCOMPILER="$compiler" \
        -P "$packaging/vcpkg/run_port.cmake" > "$work/vcpkg$i.log" 2>&1 || { cat "$work/vcpkg$i.log"; fail "vcpkg set $i"; }
  mapfile -t defines < "$work/vcpkg$i/buildtrees/options.txt"
  check_defines_exist "$work/vcpkg$i/buildtrees/rel" "${defines[@]}"
  want=(memory)
  IFS=';' read -ra features <<< "${vcpkg_sets[$i]}"
  for feature in "${features[@]}"; do
    [[ $feature == core ]] || want+=("${component_of[$feature]}")
  done
  want_sorted=$(printf '%s\n' "${want[@]}" | sort)
  got=$(installed_components "$stage" share/sked)
  [[ "$want_sorted" == "$got" ]] || fail "vcpkg ${vcpkg_sets[$i]}: installed $(words "$got"), want $(words "$want_sorted")"
  for file in copyright usage skedConfig.cmake; do
    [[ -f $stage/share/sked/$file ]] || fail "vcpkg ${vcpkg_sets[$i]}: no share/sked/$file"
  done
  [[ ! -e $stage/debug && ! -e $stage/share/doc && ! -e $stage/bin ]] || fail "vcpkg ${vcpkg_sets[$i]}: debug, doc or bin left"
  build_test_package "vcpkg$i" "$stage" "$(printf '%s\n' "${want[@]}" | paste -sd';')"
  ok "vcpkg [${vcpkg_sets[$i]}]: ${#defines[@]} -D options exist; installed $(words "$got") in share/sked; test_package runs"
done
mv "$work/vcpkg2/packages" "$work/moved-vcpkg2"
build_test_package vcpkg2-moved "$work/moved-vcpkg2" "memory;date;asio_standalone"
ok "vcpkg: the install, moved, still builds and runs test_package"

# ---- the options: ON without the dependency, a typo, AUTO ----------------------------------
# hiredis hidden from both lookups: ON is an error naming the packages, AUTO goes without.
hide_hiredis=(-DCMAKE_DISABLE_FIND_PACKAGE_hiredis=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON)
configure_options() {  # configure_options NAME -D...: configures sked alone, output in $work/NAME.log
  local name=$1; shift
  cmake -S "$source_dir" -B "$work/$name" -DCMAKE_CXX_COMPILER="$compiler" -DSKED_BUILD_TESTS=OFF \
        -DSKED_BUILD_EXAMPLES=OFF -DSKED_BUILD_BENCHMARKS=OFF -DSKED_BUILD_TOOL=OFF "$@" > "$work/$name.log" 2>&1
}
expect_in_log() {  # expect_in_log NAME TEXT
  tr -s ' \n' ' ' < "$work/$1.log" | grep -qF -- "$2" || { cat "$work/$1.log"; fail "$1: no '$2'"; }
}
if configure_options redis-on -DSKED_WITH_REDIS=ON "${hide_hiredis[@]}"; then fail "SKED_WITH_REDIS=ON configured without hiredis"; fi
expect_in_log redis-on "SKED_WITH_REDIS=ON, but hiredis (find_package(hiredis CONFIG), or pkg-config hiredis) was not found"
expect_in_log redis-on "apt-get install libhiredis-dev pkg-config\`, Conan \`hiredis/1.2.0\`, vcpkg \`hiredis\`"
configure_options redis-auto -DSKED_WITH_REDIS=AUTO "${hide_hiredis[@]}" || { cat "$work/redis-auto.log"; fail "AUTO"; }
expect_in_log redis-auto "sked::redis is not built"
if configure_options typo -DSKED_WITH_DATE=ONN; then fail "SKED_WITH_DATE=ONN configured"; fi
expect_in_log typo "SKED_WITH_DATE is 'ONN'; it takes AUTO, ON or OFF"
ok "SKED_WITH_REDIS=ON without hiredis fails naming the Debian, Conan and vcpkg packages; AUTO builds without; a typo is an error"

# hiredis from a CMake package (as Conan's CMakeDeps and vcpkg give it, target hiredis::hiredis),
# made here over Debian's library: the installed sked looks it up the same way.
mkdir -p "$work/fake-hiredis/lib/cmake/hiredis"
cat > "$work/fake-hiredis/lib/cmake/hiredis/hiredisConfig.cmake" <<'CMAKE'
find_library(fake_hiredis_library hiredis REQUIRED)
add_library(hiredis::hiredis UNKNOWN IMPORTED)
set_target_properties(hiredis::hiredis PROPERTIES IMPORTED_LOCATION "${fake_hiredis_library}")
set(hiredis_from_fake_config TRUE)
CMAKE
configure_options redis-config -DSKED_WITH_REDIS=ON -DCMAKE_PREFIX_PATH="$work/fake-hiredis" \
  || { cat "$work/redis-config.log"; fail "hiredis from a CMake package"; }
cmake --install "$work/redis-config" --prefix "$work/redis-config-package" > /dev/null
grep -q "find_package(hiredis CONFIG QUIET)" "$work/redis-config-package/share/cmake/sked/skedDependencies_redis.cmake" \
  || fail "the package does not look hiredis up as a CMake package"
grep -q "PkgConfig" "$work/redis-config-package/share/cmake/sked/skedDependencies_redis.cmake" \
  && fail "the package looks hiredis up with pkg-config too"
build_test_package redis-from-config "$work/redis-config-package;$work/fake-hiredis" "memory;redis"
ok "hiredis found as a CMake package (hiredis::hiredis): the installed sked finds it the same way, and links it"

# ---- find_package names what is missing --------------------------------------------------
# conan3 installed the core and memory only.
mkdir -p "$work/missing"
cat > "$work/missing/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(missing LANGUAGES NONE)
find_package(sked 0.2 CONFIG REQUIRED COMPONENTS memory ${ASK})
CMAKE
expect_refusal() {  # expect_refusal COMPONENT TEXT
  if cmake -S "$work/missing" -B "$work/missing/build-$1" -DCMAKE_PREFIX_PATH="$work/conan3/package" "-DASK=$1" \
       > "$work/missing-$1.log" 2>&1; then
    fail "find_package(sked COMPONENTS $1) succeeded against an install without it"
  fi
  tr -s ' \n' ' ' < "$work/missing-$1.log" | grep -qF -- "$2" || { cat "$work/missing-$1.log"; fail "no '$2' in the refusal"; }
}
expect_refusal redis "sked component 'redis' was not installed"
expect_refusal redis "build sked with -DSKED_WITH_REDIS=ON; with Conan, -o 'sked/*:with_redis=True'; with vcpkg, sked[redis]"
expect_refusal asio_standalone "-DSKED_WITH_ASIO_STANDALONE=ON; with Conan, -o 'sked/*:with_asio=standalone'; with vcpkg, sked[asio]"
expect_refusal cron "sked has no component 'cron'; its components are date, memory, redis"
cmake -S "$work/missing" -B "$work/missing/build-none" -DCMAKE_PREFIX_PATH="$work/conan3/package" -DASK= \
  > "$work/missing-none.log" 2>&1 || { cat "$work/missing-none.log"; fail "find_package(sked COMPONENTS memory) failed"; }
ok "find_package refuses a component not installed (naming it, and how to get it) or unknown; accepts one installed"

echo "$passed passed, 0 failed"
