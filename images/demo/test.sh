#!/usr/bin/env bash
# Boots the demo image for real under QEMU TCG and checks its console markers:
# builds the image (cached in ~/.cache/kumo/images/demo, or
# $KUMO_DEMO_IMAGE_DIR), then runs the Go tests of images/demo/demotest,
# which serve a fake metadata service on 127.0.0.1:RANDOMPORT and boot
# q35 guests with user networking (restrict=on) for IMDSv2, the IMDSv1
# fallback, no key/user-data, an unreachable service, the ACPI power
# button, a second boot on the same root disk and a hot-plugged disk.
# Installs qemu-system-x86 and qemu-utils with apt when they are missing.
# Extra arguments go to `go test` (e.g. -run TestBootIMDSv2).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "demo test: installing qemu-system-x86 qemu-utils"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils >/dev/null
fi
exec go test -count=1 -timeout 20m -v "$@" ./images/demo/demotest
