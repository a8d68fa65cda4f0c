#!/usr/bin/env bash
# sked/sked.hpp includes every public core header (include/sked/*.hpp, not detail/), so
# that "the whole core" stays true when a header is added.
#   umbrella.test.sh INCLUDE_DIR
set -euo pipefail
dir=$1/sked
missing=0
for header in "$dir"/*.hpp; do
  name=$(basename "$header")
  [[ $name == sked.hpp ]] && continue
  if ! grep -q "^#include \"$name\"" "$dir/sked.hpp"; then
    echo "sked/sked.hpp does not include $name"
    missing=1
  fi
done
# And it includes nothing that is not a core header (an adapter would pull in a dependency).
while read -r included; do
  if [[ ! -f $dir/$included ]]; then
    echo "sked/sked.hpp includes $included, which is not a core header"
    missing=1
  fi
done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$dir/sked.hpp")
exit $missing
