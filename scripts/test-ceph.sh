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
keyring = $dir/\$cluster.\$name.keyring
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
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

[mon]
mon_data = $dir/mon

[mgr]
mgr_data = $dir/mgr
mgr_initial_modules = iostat

[osd]
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

# keys makes the keyrings of every entity, with caps, and the mon's keyring
# that holds them all (ceph-mon --mkfs imports it, so no `ceph auth` later).
keys() {
  local e caps
  ceph-authtool --create-keyring "$dir/ceph.mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  while IFS='|' read -r e caps; do
    eval "ceph-authtool --create-keyring $dir/ceph.$e.keyring --gen-key -n $e $caps" >/dev/null
    ceph-authtool "$dir/ceph.mon.a.keyring" --import-keyring "$dir/ceph.$e.keyring" >/dev/null
  done <<EOF
client.admin|--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
mgr.x|--cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *'
osd.0|--cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
client.kumo|--cap mon 'profile rbd' --cap mgr 'profile rbd pool=$pool' --cap osd 'profile rbd pool=$pool'
EOF
}

start() {
  for b in ceph-mon ceph-mgr ceph-osd ceph rbd rados monmaptool ceph-authtool; do
    command -v "$b" >/dev/null || die "$b is missing: run scripts/deps.sh (Debian: ceph-mon ceph-mgr ceph-osd ceph-common)"
  done
  if alive && ready; then echo "$conf"; return; fi
  stop
  mkdir -p "$dir"/{run,log,crash,mon,mgr,osd}
  write_conf
  keys
  local fsid; fsid=$(sed -n 's/^fsid = //p' "$conf")
  monmaptool --create --addv a "[v2:127.0.0.1:$port]" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon --cluster ceph -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/ceph.mon.a.keyring"
  ceph-mon -i a
  ceph-mgr -i x
  # The OSD's mkfs fetches the monmap from the monitor: the monitor is up.
  local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
  [ "$(timeout 60 ceph osd new "$uuid" 0)" = 0 ] || die "ceph osd new did not give id 0 (see $dir/log)"
  ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >"$dir/log/osd-mkfs.log" 2>&1 || { cat "$dir/log/osd-mkfs.log" >&2; die "ceph-osd --mkfs failed"; }
  ceph-osd -i 0
  ceph osd pool create "$pool" 8 8 >/dev/null 2>&1
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
