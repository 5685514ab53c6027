#!/usr/bin/env bash
# make bench: API benchmarks through real HTTP and SigV4, on SQLite and
# PostgreSQL, plus the SigV4 verifier and the policy engine alone, plus S3 PUT/GET of 4 KiB and
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
  go test -run '^$' -bench . -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/sigv4/ ./internal/s3/s3e2e/ ./internal/policy/
  go test -run '^$' -bench 'Describe|Create|Authorize' -benchmem -benchtime "${KUMO_BENCHTIME:-2s}" ./internal/bench/
  # Root-disk creation on a cached 1 GiB and 8 GiB image: constant time.
  go test -run '^$' -bench '^BenchmarkRootDisk$' -benchtime 20x ./internal/imagecache/
  # What a first launch waits for before QEMU starts, 2 GiB image (512 MiB of
  # data): the whole base first (eager, as before) or the overlay only (lazy:
  # QEMU reads the image over the node's NBD export while the base fills).
  go test -run '^$' -bench '^BenchmarkFirstRootDisk$' -benchtime 3x ./internal/imagecache/
  # Guest network (root): TCP between two guest namespaces on one bridge and
  # across the VXLAN overlay (KUMO_TCP_MIB MiB per run), then the same bare
  # and through security groups (10 groups x 10 rules per interface, the
  # matching rule last, conntrack) side by side; security-group rules
  # applied (100 interfaces x 10 rules) and the time from Apply to a port
  # being reachable.
  if [ "$(id -u)" = 0 ]; then
    go test -run '^$' -bench GuestTCP -benchtime "${KUMO_TCP_MIB:-1000}x" ./internal/guestnet/
    # Runs one after the other, so that each bare run has its filtered twin
    # next to it in time on a busy machine; the summary takes medians.
    for _ in $(seq "${KUMO_TCP_RUNS:-5}"); do
      go test -run '^$' -bench GuestTCPFiltered -benchtime "${KUMO_TCP_MIB:-1000}x" ./internal/sgfilter/
    done
    go test -run '^$' -bench . -skip GuestTCPFiltered -benchtime 5x ./internal/sgfilter/
  else
    echo "skipping guest network benchmarks: they need root (network namespaces, nftables)"
  fi
  # Volume snapshots (docs/volume-snapshots.md): an incremental snapshot of
  # an attached 1 GiB volume with 1 % changed, by dirty bitmap and by
  # content, and restore of a full 1 GiB snapshot to the first read.
  go test -run '^$' -bench . -benchtime "${KUMO_SNAPSHOTS:-3}x" -timeout 30m ./internal/volsnap/
  # Boot times: each iteration boots a VM, so a fixed count.
  go test -run '^$' -bench '^Benchmark(Boot|RunInstances)' -benchtime "${KUMO_BOOTS:-3}x" -timeout 30m ./internal/bench/
  # A first launch of the stock Debian 12 cloud image (images/debian, built
  # and cached on first use): RunInstances to SSH with the key, the node's
  # image cache emptied before each launch, beside bare QEMU on the same image.
  go test -run '^$' -bench '^BenchmarkDebian' -benchtime "${KUMO_DEBIAN_BOOTS:-1}x" -timeout 60m ./internal/bench/
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
bare = m.get(("BenchmarkDebianBareQEMU", "s-to-ssh"))
kumo = m.get(("BenchmarkDebianRunInstances", "s-to-ssh"))
if bare and kumo:
    print(f"Debian 12 first launch to SSH: bare QEMU {bare:.2f} s, Kumo RunInstances {kumo:.2f} s, difference {kumo-bare:+.2f} s")
# Guest TCP bare and through security groups: medians of the runs, and the
# median of each run's filtered/bare ratio (the pair ran back to back).
tcp = {}
for line in open(sys.argv[1]):
    f = re.match(r"BenchmarkGuestTCPFiltered/(\w+)/(\w+)\b", line)
    if f:
        for v, unit in re.findall(r"([0-9.]+) (Gbit/s|cpu-ms/GiB)", line):
            tcp.setdefault((f[1], f[2], unit), []).append(float(v))
med = lambda xs: sorted(xs)[len(xs) // 2]
def change(path, unit, fmt):
    b, s = tcp.get((path, "bare", unit), []), tcp.get((path, "sg", unit), [])
    if not b or len(b) != len(s):
        return None
    return f"{med(b):{fmt}} -> {med(s):{fmt}} {unit} ({(med([y / x for x, y in zip(b, s)]) - 1) * 100:+.0f}%)"
for path in ("bridge", "vxlan"):
    rate, cpu = change(path, "Gbit/s", ".2f"), change(path, "cpu-ms/GiB", ".0f")
    if rate:
        runs = len(tcp[(path, "bare", "Gbit/s")])
        print(f"guest TCP over {path}, bare -> through security groups: {rate}" + (f", CPU {cpu}" if cpu else "") + f"; medians of {runs} runs")
PY
echo "saved $out"
