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
{
  go test -run '^$' -bench . -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/sigv4/ ./internal/s3/s3e2e/
  go test -run '^$' -bench 'Describe|Create' -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/bench/
  # Root-disk creation on a cached 1 GiB and 8 GiB image: constant time.
  go test -run '^$' -bench RootDisk -benchtime 20x ./internal/imagecache/
  # Guest network (root): TCP between two guest namespaces on one bridge and
  # across the VXLAN overlay; security-group rules applied (100 interfaces x
  # 10 rules) and the time from Apply to a port being reachable.
  if [ "$(id -u)" = 0 ]; then
    go test -run '^$' -bench GuestTCP -benchtime 3x ./internal/guestnet/
    go test -run '^$' -bench . -benchtime 5x ./internal/sgfilter/
  fi
  # Boot times: each iteration boots a VM, so a fixed count.
  go test -run '^$' -bench 'Boot|RunInstances' -benchtime "${KUMO_BOOTS:-3}x" -timeout 30m ./internal/bench/
} | tee "$out"
python3 - "$out" <<'PY'
import re, sys
m = {}
for line in open(sys.argv[1]):
    for v, unit in re.findall(r"([0-9.]+) (s-to-[a-z-]+)", line):
        name = line.split()[0].split("/")[0].rsplit("-", 1)[0]
        m[(name, unit)] = float(v)
bare = m.get(("BenchmarkBootBareQEMU", "s-to-booted"))
kumo = m.get(("BenchmarkRunInstances", "s-to-booted"))
if bare and kumo:
    print(f"boot to the guest's 'booted' marker: bare QEMU {bare:.2f} s, Kumo RunInstances {kumo:.2f} s, difference {kumo-bare:+.2f} s")
PY
echo "saved $out"
