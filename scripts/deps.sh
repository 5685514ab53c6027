#!/usr/bin/env bash
# Installs what building and testing Kumo needs on Debian/Ubuntu, skipping
# what is already there. Go itself must be on PATH (1.26 or newer).
set -euo pipefail
need=()
command -v go >/dev/null || { echo "deps: Go is not installed; get Go 1.26+ (https://go.dev/dl) and put it on PATH" >&2; exit 1; }
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need+=(postgresql)
command -v aws >/dev/null || need+=(awscli)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v openssl >/dev/null || need+=(openssl)
command -v puttygen >/dev/null || need+=(putty-tools)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
{ [ -x /sbin/mkfs.ext4 ] && [ -x /sbin/debugfs ]; } || need+=(e2fsprogs)
command -v curl >/dev/null || need+=(curl)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)   # images/debian
[ -x /sbin/sfdisk ] || need+=(fdisk)
command -v busybox >/dev/null || need+=(busybox)
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v nft >/dev/null || need+=(nftables)
command -v python3 >/dev/null || need+=(python3)
# Ceph RBD volumes: a single-host test cluster (scripts/test-ceph.sh), the
# rbd CLI the rbd backend runs, and QEMU's rbd block driver.
command -v ceph-mon >/dev/null || need+=(ceph-mon)
command -v ceph-mgr >/dev/null || need+=(ceph-mgr)
command -v ceph-osd >/dev/null || need+=(ceph-osd)
command -v rbd >/dev/null || need+=(ceph-common)
ls /usr/lib/*/qemu/block-rbd.so >/dev/null 2>&1 || need+=(qemu-block-extra)
# LDAP login tests start a real OpenLDAP (internal/ldaptest).
[ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapadd >/dev/null || need+=(ldap-utils)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  # slapd must not configure (or start) a system directory of its own.
  echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections 2>/dev/null || true
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
