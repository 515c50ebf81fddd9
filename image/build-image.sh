#!/usr/bin/env bash
# Assemble the tablet's root filesystem pieces from this repository into
# ROOT (a debootstrap tree or an image mount). First part: the service,
# hardening and lock-down; the bootable image comes later (image/README.md).
set -euo pipefail
ROOT=${1:?usage: image/build-image.sh ROOT [BERTH_BINARY]}
BIN=${2:-target/release/berth}
here=$(cd "$(dirname "$0")" && pwd)

install -D -m 0755 "$BIN" "$ROOT/usr/bin/berth"
install -D -m 0644 "$here/systemd/berth.service" "$ROOT/etc/systemd/system/berth.service"
install -D -m 0644 "$here/udev/70-berth.rules" "$ROOT/etc/udev/rules.d/70-berth.rules"
install -D -m 0644 "$here/sysctl.d/60-berth.conf" "$ROOT/etc/sysctl.d/60-berth.conf"
install -D -m 0644 "$here/systemd/system.conf.d/60-berth.conf" "$ROOT/etc/systemd/system.conf.d/60-berth.conf"

# The berth user owns /var/lib/berth (systemd's StateDirectory makes it).
if ! grep -q '^berth:' "$ROOT/etc/passwd" 2>/dev/null; then
  chroot "$ROOT" useradd --system --no-create-home --home-dir /var/lib/berth --shell /usr/sbin/nologin berth
fi

# The shell starts at boot; no login prompt on any console.
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/berth.service "$ROOT/etc/systemd/system/multi-user.target.wants/berth.service"
for unit in getty@.service serial-getty@.service autovt@.service console-getty.service; do
  ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
ln -sf /dev/null "$ROOT/etc/systemd/system/ctrl-alt-del.target"
ln -sf /dev/null "$ROOT/etc/systemd/system/debug-shell.service"
# No virtual terminals to switch to.
mkdir -p "$ROOT/etc/systemd/logind.conf.d"
printf '[Login]\nNAutoVTs=0\nReserveVT=0\n' > "$ROOT/etc/systemd/logind.conf.d/berth.conf"
echo "installed Berth into $ROOT"
