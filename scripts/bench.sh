#!/usr/bin/env bash
# make bench: API benchmarks through real HTTP and SigV4, on SQLite and
# PostgreSQL, plus the SigV4 verifier alone. Results go to stdout and to
# bench/results-<date>.txt for later comparison (benchstat).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export KUMO_TEST_POSTGRES=$(scripts/test-postgres.sh start)
trap 'scripts/test-postgres.sh stop' EXIT
mkdir -p bench
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
go test -run '^$' -bench . -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/bench/ ./internal/sigv4/ | tee "$out"
echo "saved $out"
