#!/usr/bin/env bash
# Runs every fuzz target of the module (each `func FuzzX` in a _test.go
# file) for FUZZTIME (default 20000x: executions, not a duration, which
# Go 1.26 races at its end, golang/go#75804), one after another: a smoke run that
# finds the crashes a few seconds of mutation find, not a fuzzing
# campaign. A target that fails stops the run with its input in
# testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzztime=${FUZZTIME:-20000x}

mapfile -t targets < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . |
	sed -E 's|^\./(.*)/[^/]+:func (Fuzz.*)$|\1 \2|' | sort)
if ((${#targets[@]} == 0)); then
	echo "fuzz-smoke: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz-smoke: ${#targets[@]} targets, ${fuzztime} each"
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	echo "== ./$dir $name"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"
done
