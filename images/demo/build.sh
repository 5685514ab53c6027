#!/usr/bin/env bash
# Builds the Kumo demo guest from Debian's packages only:
#   OUTDIR/vmlinuz     the kernel of linux-image-cloud-amd64
#   OUTDIR/initrd.img  gzip'd newc cpio: busybox-static, the init in rootfs/,
#                      the virtio/SCSI/ACPI-button modules and their deps
#   OUTDIR/root.img    a small ext4 (label kumo-root) the init mounts if present
#   OUTDIR/image.json  what to register (names, versions, kernel command line)
#   OUTDIR/SHA256SUMS  checksums of the three images
# Usage: images/demo/build.sh OUTDIR      (FORCE=1 rebuilds even when up to date)
# Works as root or not: packages are fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` in a temporary directory; nothing is installed.
# The cpio archive is written by this script (owner 0:0, fixed mtimes, a
# /dev/console node), so no cpio tool and no root are needed.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOTFS_SRC=$HERE/rootfs
FORMAT=1                          # bump when the output layout changes
KERNEL_META=${KUMO_DEMO_KERNEL_PKG:-linux-image-cloud-amd64}
BUSYBOX_PKG=busybox-static
ROOT_IMG_MB=${KUMO_DEMO_ROOT_MB:-32}
# Fixed timestamp for every file in the images: same packages, same bytes.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}   # 2024-01-01T00:00:00Z
# Modules wanted in the ramdisk. Required ones fail the build when missing;
# the others are skipped with a warning (a later kernel may build them in).
MODS_REQUIRED="virtio_pci virtio_net virtio_blk"
MODS_OPTIONAL="virtio_scsi sd_mod virtio_balloon virtio_rng virtio_console button evdev"

log() { echo "demo-image: $*" >&2; }
die() { echo "demo-image: error: $*" >&2; exit 1; }

for t in apt-get apt-cache dpkg-deb gzip sha256sum find sort awk tr; do
  command -v "$t" >/dev/null || die "$t is missing (Debian: apt-get install apt dpkg gzip coreutils findutils gawk)"
done
MKFS=$(PATH=$PATH:/usr/sbin:/sbin command -v mkfs.ext4 || true)
DEBUGFS=$(PATH=$PATH:/usr/sbin:/sbin command -v debugfs || true)
[ -n "$MKFS" ] && [ -n "$DEBUGFS" ] || die "mkfs.ext4 or debugfs is missing (Debian: apt-get install e2fsprogs)"

# ---------------------------------------------------------------- inputs
OUTPUTS=(vmlinuz initrd.img root.img image.json SHA256SUMS)
INPUTS=("$HERE/build.sh")
while IFS= read -r f; do INPUTS+=("$f"); done < <(find "$ROOTFS_SRC" -type f | LC_ALL=C sort)
inputs_stamp=$(
  echo "format $FORMAT epoch $SOURCE_DATE_EPOCH root ${ROOT_IMG_MB}M kernel $KERNEL_META"
  echo "modules $MODS_REQUIRED $MODS_OPTIONAL"
  for f in "${INPUTS[@]}"; do echo "${f#"$HERE"/} $(sha256sum <"$f" | cut -d' ' -f1)"; done
)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------- apt access
# As root, a missing package list is fetched with `apt-get update`; as
# another user, into a private list directory under OUTDIR (nothing system-wide).
APT_OPTS=()
[ "$(id -u)" = 0 ] && APT_OPTS+=(-o APT::Sandbox::User=root)
LISTS=$(apt-config shell L Dir::State::Lists/d | sed -n "s/^L='\(.*\)'$/\1/p")
LISTS=${LISTS:-/var/lib/apt/lists/}
use_private_lists() {
  local priv=$OUT/.apt
  mkdir -p "$priv/lists/partial" "$priv/cache/archives/partial"
  APT_OPTS+=(-o "Dir::State::Lists=$priv/lists" -o "Dir::Cache=$priv/cache" -o Debug::NoLocking=1)
  LISTS=$priv/lists
}
[ "$(id -u)" != 0 ] && [ -d "$OUT/.apt/lists" ] && use_private_lists
candidates() { # PKG... -> "PKG VERSION" for those with a candidate
  apt-cache "${APT_OPTS[@]}" policy "$@" 2>/dev/null |
    awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) } $1 == "Candidate:" && $2 != "(none)" { print p, $2 }'
}

# ---------------------------------------------------------------- up to date?
# Fast path, without asking apt: the same inputs, outputs newer than the
# inputs, and no package list newer than the last build.
outputs_fresh() {
  local o i
  for o in "${OUTPUTS[@]}"; do
    [ -f "$OUT/$o" ] || return 1
    for i in "${INPUTS[@]}"; do [ "$OUT/$o" -nt "$i" ] || return 1; done
  done
}
report() {
  log "images in $OUT ($(sed -n 's/^packages //p' "$OUT/.stamp")):"
  local f
  for f in vmlinuz initrd.img root.img; do
    printf '  %-11s %9d bytes  %6s KiB\n' "$f" "$(wc -c <"$OUT/$f")" "$(( ($(wc -c <"$OUT/$f") + 1023) / 1024 ))" >&2
  done
  printf '  root.img holds %s KiB of data (sparse file)\n' "$(du -k "$OUT/root.img" | cut -f1)" >&2
  sed 's/^/  /' "$OUT/SHA256SUMS" >&2
}
if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/.stamp" ] && outputs_fresh &&
  [ "$(grep -v '^packages ' "$OUT/.stamp")" = "$inputs_stamp" ] &&
  [ -z "$(find "$LISTS" -maxdepth 1 -type f -name '*Packages*' -newer "$OUT/.stamp" 2>/dev/null | head -n 1)" ]; then
  log "up to date, nothing to do"
  report
  exit 0
fi

# Package versions: the metapackage depends on the versioned kernel package.
if [ -z "$(candidates "$KERNEL_META")" ]; then
  if [ "$(id -u)" = 0 ]; then
    log "package lists lack $KERNEL_META: apt-get update"
    apt-get update -qq >&2
  else
    use_private_lists
    log "package lists lack $KERNEL_META: fetching private lists into $LISTS"
    apt-get "${APT_OPTS[@]}" update -qq >&2
  fi
fi
KERNEL_PKG=$(apt-cache "${APT_OPTS[@]}" depends "$KERNEL_META" 2>/dev/null |
  awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$KERNEL_PKG" ] || die "no $KERNEL_META, or no linux-image-* in its Depends: is this Debian (amd64) with main in sources.list?"
vers=$(candidates "$KERNEL_META" "$KERNEL_PKG" "$BUSYBOX_PKG")
ver() { echo "$vers" | awk -v p="$1" '$1 == p { print $2 }'; }
META_VER=$(ver "$KERNEL_META") KERNEL_VER=$(ver "$KERNEL_PKG") BUSYBOX_VER=$(ver "$BUSYBOX_PKG")
[ -n "$KERNEL_VER" ] && [ -n "$BUSYBOX_VER" ] || die "no candidate for $KERNEL_PKG or $BUSYBOX_PKG"
stamp="$inputs_stamp
packages $KERNEL_META $META_VER $KERNEL_PKG $KERNEL_VER $BUSYBOX_PKG $BUSYBOX_VER"
if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp" ] && outputs_fresh; then
  touch "$OUT/.stamp" # the package lists changed, not the packages: next time the fast path
  log "up to date, nothing to do"
  report
  exit 0
fi

# ---------------------------------------------------------------- fetch
W=$(mktemp -d "${TMPDIR:-/tmp}/kumo-demo-build.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/debs" "$W/pkg"
log "downloading $KERNEL_PKG=$KERNEL_VER $BUSYBOX_PKG=$BUSYBOX_VER"
(cd "$W/debs" && apt-get "${APT_OPTS[@]}" download -q "$KERNEL_PKG=$KERNEL_VER" "$BUSYBOX_PKG=$BUSYBOX_VER" >&2)
for d in "$W"/debs/*.deb; do dpkg-deb -x "$d" "$W/pkg"; done

KREL=$(ls "$W/pkg/lib/modules" 2>/dev/null | head -n1)
[ -n "$KREL" ] || die "$KERNEL_PKG holds no /lib/modules"
VMLINUZ=$W/pkg/boot/vmlinuz-$KREL
[ -f "$VMLINUZ" ] || die "$KERNEL_PKG holds no /boot/vmlinuz-$KREL"
BUSYBOX=$W/pkg/bin/busybox
[ -f "$BUSYBOX" ] || die "$BUSYBOX_PKG holds no /bin/busybox"
MODDIR=$W/pkg/lib/modules/$KREL

# ---------------------------------------------------------------- modules
# The package ships no modules.dep (depmod makes it at install time), so the
# dependencies are read from each module's .modinfo "depends=" entry.
declare -A KO SEEN
while IFS= read -r p; do
  b=${p##*/}; b=${b%%.ko*}; KO[${b//-/_}]=$p
done < <(cd "$MODDIR" && find kernel -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' | LC_ALL=C sort)
ko_cat() { # relpath -> uncompressed module on stdout
  case $1 in
    *.ko) cat "$MODDIR/$1" ;;
    *.ko.xz) xz -dc "$MODDIR/$1" ;;
    *.ko.zst) zstd -qdc "$MODDIR/$1" ;;
    *.ko.gz) gzip -dc "$MODDIR/$1" ;;
  esac
}
ORDER=()
declare -A DEPS
resolve() { # post-order walk: dependencies come before their users
  local m=$1 d deps
  [ -n "${SEEN[$m]:-}" ] && return 0
  SEEN[$m]=1
  deps=$(ko_cat "${KO[$m]}" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)
  DEPS[$m]=${deps//,/ }
  for d in ${DEPS[$m]}; do
    [ -n "${KO[$d]:-}" ] || die "module $m needs $d, which $KERNEL_PKG does not ship"
    resolve "$d"
  done
  ORDER+=("$m")
}
for m in $MODS_REQUIRED; do
  [ -n "${KO[$m]:-}" ] || die "$KERNEL_PKG has no module $m"
  resolve "$m"
done
for m in $MODS_OPTIONAL; do
  if [ -n "${KO[$m]:-}" ]; then resolve "$m"; else log "note: no module $m in $KERNEL_PKG (built in or absent), skipped"; fi
done
closure() { # module -> its dependencies, transitively, in load order
  local -A seen=()
  local out=()
  walk() {
    local x=$1 d
    for d in ${DEPS[$x]}; do
      [ -n "${seen[$d]:-}" ] && continue
      seen[$d]=1; walk "$d"; out+=("$d")
    done
  }
  walk "$1"
  echo "${out[@]}"
}

# ---------------------------------------------------------------- ramdisk tree
T=$W/initramfs
mkdir -p "$T"
for d in bin sbin usr/bin usr/sbin etc lib proc sys dev run tmp root mnt/root var; do mkdir -p "$T/$d"; done
ln -s ../run "$T/var/run"
cp "$BUSYBOX" "$T/bin/busybox"
(cd "$ROOTFS_SRC" && find . -type f) | while IFS= read -r f; do
  f=${f#./}; mkdir -p "$T/$(dirname "$f")"; cp "$ROOTFS_SRC/$f" "$T/$f"
done
MT=$T/lib/modules/$KREL
mkdir -p "$MT"
: >"$T/etc/kumo-demo/modules.load"
for m in "${ORDER[@]}"; do
  p=${KO[$m]}; rel=${p%%.ko*}.ko
  mkdir -p "$MT/$(dirname "$rel")"
  ko_cat "$p" >"$MT/$rel"
  echo "$rel" >>"$T/etc/kumo-demo/modules.load"
done
# modules.dep as busybox modprobe reads it: every dependency, loaded from the right.
for m in "${ORDER[@]}"; do
  rel=${KO[$m]%%.ko*}.ko; line="$rel:"
  read -ra deps <<<"$(closure "$m")"
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do line+=" ${KO[${deps[$i]}]%%.ko*}.ko"; done
  echo "$line"
done >"$MT/modules.dep"
cp "$MODDIR/modules.builtin" "$MT/" 2>/dev/null || true
printf '%s\n' "$KREL" >"$T/etc/kumo-demo/kernel-release"
cat >"$T/etc/kumo-demo/build-info" <<EOF
$KERNEL_PKG $KERNEL_VER
$BUSYBOX_PKG $BUSYBOX_VER
EOF

# ---------------------------------------------------------------- cpio writer
# newc format: "070701", 13 eight-digit hex fields, the name with its NUL
# padded to 4 bytes, then the data padded to 4 bytes. Everything is root:root.
INO=1
pad4() { local n=$(( (4 - $1 % 4) % 4 )); [ $n -gt 0 ] && head -c "$n" /dev/zero; return 0; }
cpio_entry() { # mode size rdevmajor rdevminor name
  local namesize=$(( ${#5} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$INO" "$1" 0 0 1 "$SOURCE_DATE_EPOCH" "$2" 0 0 "$3" "$4" "$namesize" 0
  printf '%s\0' "$5"
  pad4 $(( 110 + namesize ))
  INO=$((INO + 1))
}
write_cpio() { # tree -> archive on stdout
  local tree=$1 p rel mode size target
  while IFS= read -r p; do
    rel=${p#./}
    [ "$rel" = . ] && continue
    if [ -L "$tree/$rel" ]; then
      target=$(readlink "$tree/$rel")
      cpio_entry $((0120777)) "${#target}" 0 0 "$rel"
      printf '%s' "$target"; pad4 "${#target}"
    elif [ -d "$tree/$rel" ]; then
      mode=0755; case $rel in tmp) mode=1777 ;; root) mode=0700 ;; esac
      cpio_entry $((040000 | mode)) 0 0 0 "$rel"
    else
      mode=0644
      case $rel in bin/busybox) mode=0755 ;; esac
      [ "$(head -c 2 "$tree/$rel")" = '#!' ] && mode=0755
      size=$(wc -c <"$tree/$rel")
      cpio_entry $((0100000 | mode)) "$size" 0 0 "$rel"
      cat "$tree/$rel"; pad4 "$size"
    fi
  done < <(cd "$tree" && find . | LC_ALL=C sort)
  # The kernel opens /dev/console before /init runs; devtmpfs comes later.
  cpio_entry $((020600)) 0 5 1 dev/console
  cpio_entry 0 0 0 0 'TRAILER!!!'
  pad4 0
}
write_cpio "$T" | gzip -9 -n >"$W/initrd.img"

# ---------------------------------------------------------------- root disk
R=$W/rootdisk
mkdir -p "$R/kumo-demo"
cat >"$R/kumo-demo/README" <<EOF
Root disk of the Kumo demo image. The ramdisk's init mounts this file system
(label kumo-root) on /mnt/root and counts boots in kumo-demo/boot-count, so a
test can tell a kept root disk (stop/start) from a fresh one (new instance).
Built from $KERNEL_PKG $KERNEL_VER and $BUSYBOX_PKG $BUSYBOX_VER.
EOF
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$W/root.img"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH "$MKFS" -q -F -t ext4 -L kumo-root \
  -U 6b756d6f-6465-6d6f-726f-6f7400000001 \
  -E "hash_seed=6b756d6f-6465-6d6f-6861-736800000001,root_owner=0:0" \
  -d "$R" "$W/root.img" "${ROOT_IMG_MB}M" >"$W/mkfs.log" 2>&1 || { cat "$W/mkfs.log" >&2; die "mkfs.ext4 failed"; }
# mkfs.ext4 -d stamps each copied inode with the clock (ctime) and the
# builder's uid/gid: make them the same for every build.
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort) | while IFS= read -r p; do
  for fld in atime ctime mtime crtime; do echo "set_inode_field ${p#.} $fld @$SOURCE_DATE_EPOCH"; done
  echo "set_inode_field ${p#.} uid 0"; echo "set_inode_field ${p#.} gid 0"
done >"$W/debugfs.cmds"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH "$DEBUGFS" -w -f "$W/debugfs.cmds" "$W/root.img" >/dev/null 2>&1 ||
  die "debugfs could not set the root disk's timestamps"

# ---------------------------------------------------------------- publish
cp "$VMLINUZ" "$W/vmlinuz"
cat >"$W/image.json" <<EOF
{
  "name": "kumo-demo",
  "description": "Kumo demo guest: busybox init, DHCP, EC2 metadata, user-data scripts ($KERNEL_PKG $KERNEL_VER)",
  "architecture": "x86_64",
  "kernel": "vmlinuz",
  "ramdisk": "initrd.img",
  "rootDisk": "root.img",
  "rootDiskLabel": "kumo-root",
  "kernelCommandLine": "console=ttyS0",
  "kernelRelease": "$KREL",
  "packages": {"$KERNEL_PKG": "$KERNEL_VER", "$BUSYBOX_PKG": "$BUSYBOX_VER"}
}
EOF
(cd "$W" && sha256sum vmlinuz initrd.img root.img >SHA256SUMS)
for f in vmlinuz initrd.img root.img image.json SHA256SUMS; do
  cp "$W/$f" "$OUT/.$f.tmp" && mv -f "$OUT/.$f.tmp" "$OUT/$f"
done
printf '%s\n' "$stamp" >"$OUT/.stamp"
log "built with ${#ORDER[@]} modules: ${ORDER[*]}"
report
