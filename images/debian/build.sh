#!/usr/bin/env bash
# Builds a stock Debian 12 (bookworm) cloud image from Debian's packages:
#   OUTDIR/disk.qcow2   whole-disk image, 2 GiB virtual: GPT with a BIOS boot
#                       partition (14) holding GRUB's core and an ext4 root (1)
#   OUTDIR/image.json   what was built (packages, kernel, root file system)
#   OUTDIR/SHA256SUMS
# Usage: images/debian/build.sh OUTDIR   (FORCE=1 rebuilds even when cached)
#
# The image is what a user brings, not a Kumo image: Debian's kernel
# (linux-image-cloud-amd64), cloud-init, openssh-server, cloud-guest-utils,
# netplan on systemd-networkd, GRUB for BIOS boot, and nothing Kumo-specific.
# cloud-init finds EC2 from the SMBIOS uuid/serial and reads the metadata
# service as on AWS; the default user is cloud-init's Debian default.
#
# Needs root (mmdebstrap's root mode, file ownership in the root file
# system), mmdebstrap, qemu-img, sfdisk and mkfs.ext4; no loop device and
# no mount: the root file system is written by `mkfs.ext4 -d` straight into
# the disk file at the partition's offset, and GRUB's boot sector and core
# image are written where grub-bios-setup would put them.
# Packages come from the Debian mirrors this machine's apt uses.
# The result is cached: OUTDIR/.stamp holds the hash of this script, and a
# build with the same hash does nothing.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$1
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
SUITE=bookworm
DISK_MIB=2048
BIOS_START=2048        # sectors: partition 14, GRUB's core image (4 MiB)
BIOS_SECTORS=8192
ROOT_START=10240       # sectors: partition 1, ext4 root, to 1 MiB before the end
ROOT_SECTORS=$(( DISK_MIB * 2048 - ROOT_START - 2048 ))  # the last MiB: the backup GPT
PACKAGES=(
  linux-image-cloud-amd64 grub-pc-bin grub2-common initramfs-tools
  systemd-sysv systemd-resolved udev dbus netplan.io isc-dhcp-client
  cloud-init cloud-guest-utils openssh-server sudo
  e2fsprogs fdisk gdisk iproute2 iputils-ping procps less curl
  ca-certificates locales
)

log() { echo "debian-image: $*" >&2; }
die() { echo "debian-image: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, root-owned files in the image)"
export PATH=$PATH:/usr/sbin:/sbin
for t in mmdebstrap qemu-img sfdisk mkfs.ext4 sha256sum python3; do
  command -v "$t" >/dev/null ||
    die "$t is missing (Debian: apt-get install mmdebstrap qemu-utils fdisk e2fsprogs python3)"
done

KEY=$(sha256sum <"$SELF" | cut -c1-16)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$KEY" ] &&
  [ -f "$OUT/disk.qcow2" ] && [ -f "$OUT/image.json" ]; then
  log "up to date in $OUT (key $KEY), nothing to do"
  exit 0
fi
start=$(date +%s)

W=$(mktemp -d "${TMPDIR:-/var/tmp}/kumo-debian-build.XXXXXX")
# Kept on failure, for a look at the tree: REUSE_ROOT=<it>/root skips mmdebstrap.
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$W"; else log "failed; work directory kept: $W"; fi' EXIT

# ---------------------------------------------------------------- mirrors
# The host's own Debian sources (deb822 stanzas or one-line entries) for
# the suite, so the build uses whatever mirror this machine reaches.
python3 - "$SUITE" "$W/sources.sources" "$W/sources.list" <<'PY'
import glob, re, sys
suite, out822, outlist = sys.argv[1:]
stanzas, lines = [], []
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
    + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
for f in files:
    try:
        text = open(f).read()
    except OSError:
        continue
    if f.endswith(".sources"):
        for st in re.split(r"\n\s*\n", text):
            fields = {}
            for l in st.splitlines():
                m = re.match(r"^([A-Za-z-]+):\s*(.*)$", l)
                if m:
                    fields[m[1].lower()] = m[2]
            if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
                continue
            if any(s.split("-")[0] == suite for s in fields.get("suites", "").split()):
                stanzas.append("\n".join(l for l in st.splitlines() if not l.startswith("Types:")))
    else:
        for l in text.splitlines():
            w = l.split()
            if len(w) >= 3 and w[0] == "deb":
                i = 2 if w[1].startswith("[") is False else next(k for k, x in enumerate(w) if x.endswith("]")) + 2
                if i < len(w) and w[i].split("-")[0] == suite:
                    lines.append(l)
if stanzas:
    open(out822, "w").write("\n\n".join("Types: deb\n" + s.strip() for s in stanzas) + "\n")
if lines:
    open(outlist, "w").write("\n".join(lines) + "\n")
if not stanzas and not lines:
    sys.exit(f"no apt source for {suite} in /etc/apt: this builds from the host's Debian mirror")
PY
MIRRORS=()
[ -s "$W/sources.sources" ] && MIRRORS+=("$W/sources.sources")
[ -s "$W/sources.list" ] && MIRRORS+=("$W/sources.list")
log "mirrors: $(grep -hE '^(URIs:|deb )' "${MIRRORS[@]}" | tr '\n' ' ')"

# ---------------------------------------------------------------- root tree
ROOTFS_UUID=$(cat /proc/sys/kernel/random/uuid)
CMDLINE="console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0"
cat >"$W/configure.sh" <<EOF
#!/bin/sh
# Runs as a customize hook: \$1 is the image's root.
set -eu
R=\$1
cat >"\$R/etc/fstab" <<FSTAB
UUID=$ROOTFS_UUID / ext4 rw,discard,errors=remount-ro,x-systemd.growfs 0 1
FSTAB
echo localhost >"\$R/etc/hostname"
# The system locale, as Debian's cloud images set it: C.UTF-8 is always
# there, so cloud-init's locale module has nothing to generate.
echo LANG=C.UTF-8 >"\$R/etc/default/locale"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"\$R/etc/hosts"
mkdir -p "\$R/etc/netplan"
cat >"\$R/etc/netplan/90-default.yaml" <<NP
network:
  version: 2
  ethernets:
    all-en:
      match: {name: "en*"}
      dhcp4: true
      dhcp6: true
    all-eth:
      match: {name: "eth*"}
      dhcp4: true
      dhcp6: true
NP
chmod 600 "\$R/etc/netplan/90-default.yaml"
cat >"\$R/etc/kernel-img.conf" <<KI
do_symlinks = yes
link_in_boot = no
KI
cat >"\$R/etc/default/grub" <<G
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="$CMDLINE"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --speed=115200"
G
mkdir -p "\$R/boot/grub/i386-pc"
cp "\$R"/usr/lib/grub/i386-pc/*.mod "\$R"/usr/lib/grub/i386-pc/*.lst "\$R/boot/grub/i386-pc/"
cat >"\$R/boot/grub/grub.cfg" <<G
set default=0
set timeout=0
serial --speed=115200
terminal_input console serial
terminal_output console serial
insmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root $ROOTFS_UUID
menuentry 'Debian GNU/Linux' {
  linux /vmlinuz root=UUID=$ROOTFS_UUID ro $CMDLINE
  initrd /initrd.img
}
G
chroot "\$R" grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -p '(,gpt1)/boot/grub' \
  -o /boot/grub/i386-pc/core.img biosdisk part_gpt ext2
chroot "\$R" systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
ln -sf ../run/systemd/resolve/stub-resolv.conf "\$R/etc/resolv.conf"
# Per-instance state: made on first boot (systemd, cloud-init's ssh module).
rm -f "\$R"/etc/ssh/ssh_host_*
: >"\$R/etc/machine-id"
rm -f "\$R/var/lib/dbus/machine-id"
rm -rf "\$R"/var/lib/apt/lists/* "\$R"/var/cache/apt/*.bin "\$R"/var/log/*.log
EOF
chmod +x "$W/configure.sh"

if [ -n "${REUSE_ROOT:-}" ]; then
  log "reusing the tree in $REUSE_ROOT (debugging)"
  rmdir "$W/root" 2>/dev/null || true
  mv "$REUSE_ROOT" "$W/root"
  ROOTFS_UUID=$(sed -n 's/^UUID=\([^ ]*\) \/ .*/\1/p' "$W/root/etc/fstab")
else
  log "mmdebstrap $SUITE: ${PACKAGES[*]}"
  mkdir -p "$W/root"
  HOOKS=()
  # dpkg without fsync: much faster, and the image is written whole at the end.
  [ -d /usr/share/mmdebstrap/hooks/eatmydata ] && HOOKS+=(--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata)
  mmdebstrap --mode=root --variant=apt --format=directory --quiet "${HOOKS[@]}" \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --aptopt='Apt::Install-Recommends "false"' \
    --customize-hook="$W/configure.sh \"\$1\"" \
    "$SUITE" "$W/root" "${MIRRORS[@]}" >&2
fi
cp "$W/root/boot/grub/i386-pc/core.img" "$W/core.img"
KREL=$(ls "$W/root/lib/modules" | head -n1)
# cloud-init's default user as Debian's package configures it.
DEFAULT_USER=$(awk '/^ *default_user:/ { u = 1; next } u && $1 == "name:" { print $2; exit }' "$W/root/etc/cloud/cloud.cfg")
[ -n "$DEFAULT_USER" ] || die "no default_user in the image's /etc/cloud/cloud.cfg"
VERSIONS=$(chroot "$W/root" dpkg-query -W -f='${Package} ${Version}\n' linux-image-cloud-amd64 "linux-image-$KREL" \
  cloud-init openssh-server cloud-guest-utils grub-pc-bin netplan.io systemd)

# ---------------------------------------------------------------- disk
RAW=$W/disk.raw
truncate -s "${DISK_MIB}M" "$RAW"
# Partition numbers as in Debian's cloud images: 1 the root, 14 BIOS boot.
sfdisk --quiet "$RAW" <<EOF
label: gpt
${RAW}1 : start=$ROOT_START, size=$ROOT_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
${RAW}14 : start=$BIOS_START, size=$BIOS_SECTORS, type=21686148-6449-6E6F-744E-656564454649
EOF
log "mkfs.ext4 of $((ROOT_SECTORS / 2048)) MiB from the tree ($(du -sm "$W/root" | cut -f1) MiB)"
mkfs.ext4 -q -F -b 4096 -L debian-root -U "$ROOTFS_UUID" -d "$W/root" "$W/root.ext4" "$((ROOT_SECTORS / 8))" ||
  die "mkfs.ext4 failed"
dd if="$W/root.ext4" of="$RAW" bs=1M seek=$((ROOT_START / 2048)) conv=notrunc,sparse status=none
rm -f "$W/root.ext4"
# GRUB as grub-bios-setup installs it: boot.img's code in the protective
# MBR (the partition table after byte 440 kept) pointing at the core
# image's first sector, and the core's own block list at the rest of it.
python3 - "$RAW" "$W/root/usr/lib/grub/i386-pc/boot.img" "$W/core.img" "$BIOS_START" "$BIOS_SECTORS" <<'PY'
import os, struct, sys
raw, boot, core, start, room = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
b = open(boot, "rb").read()
c = open(core, "rb").read()
sectors = (len(c) + 511) // 512
if len(b) != 512 or sectors > room:
    sys.exit(f"boot.img of {len(b)} bytes or core.img of {sectors} sectors does not fit")
with open(raw, "r+b") as f:
    f.seek(start * 512)
    f.write(c)
    # diskboot.img's block list (last 12 bytes of core's first sector):
    # start sector (u64), sector count (u16), load segment (u16).
    f.seek(start * 512 + 512 - 12)
    f.write(struct.pack("<QHH", start + 1, sectors - 1, 0x820))
    f.seek(0)
    f.write(b[:440])
    f.seek(0x5C)  # GRUB_BOOT_MACHINE_KERNEL_SECTOR
    f.write(struct.pack("<Q", start))
    f.seek(0x66)  # GRUB_BOOT_MACHINE_DRIVE_CHECK: boot from any BIOS drive
    f.write(b"\x90\x90")
PY

# ---------------------------------------------------------------- publish
qemu-img convert -f raw -O qcow2 "$RAW" "$W/disk.qcow2"
cat >"$W/image.json" <<EOF
{
  "name": "debian-12-cloud",
  "description": "Debian 12 (bookworm) cloud image built from Debian's packages by images/debian/build.sh",
  "architecture": "x86_64",
  "disk": "disk.qcow2",
  "format": "qcow2",
  "virtualSizeMiB": $DISK_MIB,
  "kernelRelease": "$KREL",
  "rootFsUUID": "$ROOTFS_UUID",
  "defaultUser": "$DEFAULT_USER",
  "packages": {
$(echo "$VERSIONS" | awk 'NF == 2 { printf "%s    \"%s\": \"%s\"", sep, $1, $2; sep = ",\n" } END { print "" }')
  }
}
EOF
(cd "$W" && sha256sum disk.qcow2 >SHA256SUMS)
rm -f "$OUT/.stamp"
for f in disk.qcow2 image.json SHA256SUMS; do
  mv -f "$W/$f" "$OUT/.$f.tmp" && mv -f "$OUT/.$f.tmp" "$OUT/$f"
done
echo "$KEY" >"$OUT/.stamp"
log "built in $(( $(date +%s) - start )) s: $OUT/disk.qcow2 ($(du -m "$OUT/disk.qcow2" | cut -f1) MiB on disk, key $KEY)"
