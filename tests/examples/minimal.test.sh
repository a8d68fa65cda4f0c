#!/usr/bin/env bash
# examples/minimal (the program of docs/getting-started.md) in real time: its heartbeat
# runs every two seconds, and SIGINT stops it cleanly (exit 0).
#     tests/examples/minimal.test.sh MINIMAL
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
timeout --preserve-status -s INT 5 "$1" > "$out" || status=$?
beats=$(grep -c "^job completed in .* job=heartbeat slot=.* replica=app-1$" "$out" || true)
if ((beats < 2)); then echo "FAIL: $beats heartbeats in 5 s"; cat "$out"; exit 1; fi
if ((status != 0)); then echo "FAIL: exited $status on SIGINT"; exit 1; fi
echo "ok   $beats heartbeats in 5 s, then a clean stop on SIGINT"
