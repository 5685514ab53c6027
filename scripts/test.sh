#!/usr/bin/env bash
# make test: installs what is missing, starts PostgreSQL and a single-host
# Ceph cluster (for the RBD volume backend), runs vet, the Go
# tests on SQLite and PostgreSQL, a short fuzz pass, and the AWS CLI
# walk-through of the README. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1

log=$(mktemp -d /tmp/kumo-test.XXXXXX)
passed=0; failed=0; skipped=0
step() { echo "== $*"; }

dsn=$(scripts/test-postgres.sh start) || { echo "could not start PostgreSQL" >&2; exit 1; }
export KUMO_TEST_POSTGRES="$dsn"
trap 'scripts/test-postgres.sh stop; scripts/test-ceph.sh stop' EXIT

# Ceph (about 10 s to a usable pool) starts while go vet runs.
scripts/test-ceph.sh start > "$log/ceph-conf.txt" 2> "$log/ceph-start.txt" &
ceph_pid=$!

# The stock Debian cloud image (images/debian) builds in the background
# while the Go tests run; its end-to-end test runs after them.
export KUMO_DEBIAN_IMAGE_DIR=${KUMO_DEBIAN_IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kumo/images/debian}
debian_pid=""
if [ "$(id -u)" = 0 ] && command -v mmdebstrap >/dev/null; then
  images/debian/build.sh "$KUMO_DEBIAN_IMAGE_DIR" > "$log/debian-build.txt" 2>&1 &
  debian_pid=$!
fi

step "go vet"
if ! go vet ./...; then failed=$((failed+1)); fi

if wait "$ceph_pid"; then
  export KUMO_TEST_CEPH_CONF=$(cat "$log/ceph-conf.txt")
else
  echo "FAIL scripts/test-ceph.sh start"; cat "$log/ceph-start.txt"; failed=$((failed+1))
fi

step "go test (SQLite and PostgreSQL at $KUMO_TEST_POSTGRES, Ceph at ${KUMO_TEST_CEPH_CONF:-none})"
go test -count=1 -timeout 30m -json $(go list ./... | grep -v '/internal/debiane2e$') > "$log/go-test.json" 2>"$log/go-test.err"
gorc=$?
python3 scripts/gotest-summary.py "$log/go-test.json" > "$log/summary.txt"
cat "$log/summary.txt"
read -r p f s < <(tail -n1 "$log/summary.txt" | awk '{print $1, $3, $5}')
passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
if [ $gorc -ne 0 ] && [ "$f" = 0 ]; then cat "$log/go-test.err"; failed=$((failed+1)); fi
scripts/test-ceph.sh stop   # its memory is the Debian image test's

step "fuzz (short pass over each fuzz target, plus its corpus)"
# Budgets are execution counts (about 15 s each on a 2-core machine), not
# durations: Go 1.26's fuzz coordinator can fail a duration run with a bare
# "context deadline exceeded" at the deadline under load (golang/go#75804,
# fixed in Go 1.27). KUMO_FUZZTIME overrides every budget (e.g. 60s, 1000x).
for target in "FuzzDecode ./internal/awsapi 25000x" "FuzzVerify ./internal/sigv4 300000x" \
    "FuzzImport ./internal/keypair 300000x" "FuzzRequest ./internal/s3/s3e2e 15000x" \
    "FuzzParse ./internal/policy 300000x"; do
  set -- $target
  if go test -run '^$' -fuzz "^$1\$" -fuzztime "${KUMO_FUZZTIME:-$3}" "$2" > "$log/fuzz-$1.txt" 2>&1; then
    echo "ok   $1"; passed=$((passed+1))
  else
    echo "FAIL $1"; tail -n 30 "$log/fuzz-$1.txt"; failed=$((failed+1))
  fi
done

step "AWS CLI walk-through of the README"
if scripts/cli-walkthrough.sh > "$log/cli.txt" 2>&1; then
  tail -n 1 "$log/cli.txt"; passed=$((passed+1))
else
  cat "$log/cli.txt"; failed=$((failed+1))
fi

step "AWS CLI walk-through of S3 (200 MiB multipart, cross-account denial)"
if scripts/s3-walkthrough.sh > "$log/s3.txt" 2>&1; then
  tail -n 1 "$log/s3.txt"; passed=$((passed+1))
else
  cat "$log/s3.txt"; failed=$((failed+1))
fi

step "stock Debian 12 cloud image through kumo dev: S3, ImportImage, cloud-init, SSH, reboot"
if [ -z "$debian_pid" ]; then
  echo "skip: needs root and mmdebstrap (Debian: apt-get install mmdebstrap)"; skipped=$((skipped+1))
elif ! wait "$debian_pid"; then
  echo "FAIL images/debian/build.sh"; tail -n 40 "$log/debian-build.txt"; failed=$((failed+1))
elif go test -count=1 -timeout 45m -v -run '^TestDebianCloudImage$' ./internal/debiane2e/ > "$log/debian.txt" 2>&1; then
  tail -n 1 "$log/debian-build.txt"; grep -E '^(--- |ok|\s+debian_test.go)' "$log/debian.txt" | tail -n 15
  if grep -q -- '--- SKIP' "$log/debian.txt"; then skipped=$((skipped+1)); else passed=$((passed+1)); fi
else
  tail -n 200 "$log/debian.txt"; failed=$((failed+1))
fi

echo "logs in $log"
echo "make test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
