#!/usr/bin/env bash
# make bench: API benchmarks through real HTTP and SigV4, on SQLite and
# PostgreSQL, plus the SigV4 verifier alone, plus S3 PUT/GET of 4 KiB and
# 64 MiB objects beside the same operations on the local file system. Results go to stdout and to
# bench/results-<date>.txt for later comparison (benchstat).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export KUMO_TEST_POSTGRES=$(scripts/test-postgres.sh start)
trap 'scripts/test-postgres.sh stop' EXIT
mkdir -p bench
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
go test -run '^$' -bench . -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/bench/ ./internal/sigv4/ ./internal/s3/s3e2e/ | tee "$out"
echo "saved $out"
