#!/usr/bin/env bash
# Starts a throwaway single-host Ceph cluster for the test suite and prints
# the path of its ceph.conf. One monitor on 127.0.0.1:${KUMO_CEPH_PORT:-56789},
# one manager, one OSD (BlueStore on a sparse file), cephx with keys made
# here, and an RBD pool "kumo" that the user client.kumo may use (its
# keyring is named in the conf, so `rbd --conf <conf> --id kumo` and QEMU's
# rbd driver with conf=<conf>,user=kumo find it). No systemd: the daemons
# are plain processes whose files all live under $KUMO_CEPH_DIR.
# Starting twice reuses the running cluster. Installs nothing (scripts/deps.sh).
# Usage: scripts/test-ceph.sh start|stop|conf
set -euo pipefail
port=${KUMO_CEPH_PORT:-56789}
dir=${KUMO_CEPH_DIR:-/var/tmp/kumo-ceph}
pool=kumo
conf="$dir/ceph.conf"
export CEPH_CONF="$conf"
case "$dir" in /*/*) ;; *) echo "test-ceph: KUMO_CEPH_DIR=$dir: want a directory of its own, such as /var/tmp/kumo-ceph" >&2; exit 2 ;; esac

say() { echo "test-ceph: $*" >&2; }
die() { say "$*"; exit 1; }

# alive is true when every daemon's pid file names a running process.
alive() {
  local p
  for p in mon.a mgr.x osd.0; do
    [ -s "$dir/run/$p.pid" ] && kill -0 "$(cat "$dir/run/$p.pid")" 2>/dev/null || return 1
  done
}

# ready is true when the pool takes I/O (so the cluster is usable).
ready() {
  timeout 10 rados --conf "$conf" --id kumo -p "$pool" stat kumo-ready >/dev/null 2>&1
}

stop() {
  local p pid i
  for p in osd.0 mgr.x mon.a; do
    pid=$(cat "$dir/run/$p.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  for p in osd.0 mgr.x mon.a; do
    pid=$(cat "$dir/run/$p.pid" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

write_conf() {
  cat > "$conf" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon_initial_members = a
mon_host = [v2:127.0.0.1:$port]
public_network = 127.0.0.0/8
ms_bind_msgr1 = false
ms_bind_port_min = $((port + 11))
ms_bind_port_max = $((port + 110))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $dir/ceph.keyring
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
crash_dir = $dir/crash
log_to_stderr = false
err_to_stderr = false

# one OSD: pools of one copy, and no warnings about it
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[client.kumo]
keyring = $dir/ceph.client.kumo.keyring

[mon]
admin_socket = $dir/run/\$name.asok
mon_data = $dir/mon

[mgr]
admin_socket = $dir/run/\$name.asok
mgr_data = $dir/mgr
mgr_initial_modules = iostat

[osd]
admin_socket = $dir/run/\$name.asok
osd_data = $dir/osd
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $((20 << 30))
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
osd_memory_target = $((512 << 20))
osd_memory_cache_min = $((64 << 20))
bluestore_cache_autotune = false
bluestore_cache_size = $((64 << 20))
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
osd_crush_update_on_start = true
EOF
}

# key is a new cephx secret as ceph-authtool --gen-key writes it (base64
# of: u16 type 1 = AES, u32+u32 creation time, u16 length 16, the key);
# made here because ceph-authtool takes half a second a call on a busy machine.
key() {
  { printf '\x01\x00'; printf '\x00%.0s' 1 2 3 4 5 6 7 8; printf '\x10\x00'; head -c 16 /dev/urandom; } | base64
}

# keys writes the keyring of the daemons and the admin (ceph.keyring, which
# ceph-mon --mkfs imports, so no `ceph auth` later) and client.kumo's own.
keys() {
  local kumo; kumo=$(key)
  cat > "$dir/ceph.keyring" <<EOF
[mon.]
	key = $(key)
	caps mon = "allow *"
[client.admin]
	key = $(key)
	caps mon = "allow *"
	caps osd = "allow *"
	caps mgr = "allow *"
	caps mds = "allow *"
[mgr.x]
	key = $(key)
	caps mon = "allow profile mgr"
	caps osd = "allow *"
	caps mds = "allow *"
[osd.0]
	key = $(key)
	caps mon = "allow profile osd"
	caps mgr = "allow profile osd"
	caps osd = "allow *"
[client.kumo]
	key = $kumo
	caps mon = "profile rbd"
	caps mgr = "profile rbd pool=$pool"
	caps osd = "profile rbd pool=$pool"
EOF
  printf '[client.kumo]\n\tkey = %s\n' "$kumo" > "$dir/ceph.client.kumo.keyring"
  chmod 600 "$dir"/*.keyring
}

start() {
  for b in ceph-mon ceph-mgr ceph-osd ceph rbd rados monmaptool; do
    command -v "$b" >/dev/null || die "$b is missing: run scripts/deps.sh (Debian: ceph-mon ceph-mgr ceph-osd ceph-common)"
  done
  if alive && ready; then echo "$conf"; return; fi
  stop
  mkdir -p "$dir"/{run,log,crash,mon,mgr,osd}
  write_conf
  keys
  local fsid; fsid=$(sed -n 's/^fsid = //p' "$conf")
  monmaptool --create --addv a "[v2:127.0.0.1:$port]" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon --cluster ceph -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/ceph.keyring"
  ceph-mon -i a 9>&-
  ceph-mgr -i x 9>&-
  # The pool is made while the OSD is: its placement groups wait for it.
  timeout 60 ceph osd pool create "$pool" 8 8 >/dev/null 2>&1 9>&- &
  local pool_pid=$!
  # The OSD's mkfs fetches the monmap from the monitor: the monitor is up.
  local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
  [ "$(timeout 60 ceph osd new "$uuid" 0)" = 0 ] || die "ceph osd new did not give id 0 (see $dir/log)"
  ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >"$dir/log/osd-mkfs.log" 2>&1 || { cat "$dir/log/osd-mkfs.log" >&2; die "ceph-osd --mkfs failed"; }
  ceph-osd -i 0 9>&-
  wait "$pool_pid" || die "ceph osd pool create $pool failed (see $dir/log)"
  timeout 120 rbd pool init "$pool" || die "rbd pool init $pool failed (see $dir/log)"
  local i
  for i in $(seq 240); do
    if timeout 10 rados --id kumo -p "$pool" create kumo-ready 2>/dev/null || ready; then break; fi
    [ "$i" -lt 240 ] || die "pool $pool takes no I/O after 120 s (see $dir/log)"
    sleep 0.5
  done
  echo "$conf"
}

# One start or stop at a time: test packages running in parallel may each
# ask for the cluster.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  conf) echo "$conf" ;;
  *) echo "usage: $0 start|stop|conf" >&2; exit 2 ;;
esac
