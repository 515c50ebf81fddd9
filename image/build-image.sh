#!/usr/bin/env bash
# Install Berth into a root tree ROOT (a debootstrap tree): the binary, the
# service and its hardening, the lock-down, the board profile, the facility
# root, and the layout of a read-only root with one writable data
# partition. `image/build.sh` runs it; it needs no chroot when the berth
# user exists already (tests/it/image.rs).
#
#   image/build-image.sh ROOT [BERTH_BINARY] [ROOT_JSON] [DOCK_ADDR]
set -euo pipefail
ROOT=${1:?usage: image/build-image.sh ROOT [BERTH_BINARY] [ROOT_JSON] [DOCK_ADDR]}
BIN=${2:-target/release/berth}
ROOT_JSON=${3:-}
DOCK=${4:-}
here=$(cd "$(dirname "$0")" && pwd)

install -D -m 0755 "$BIN" "$ROOT/usr/bin/berth"
install -D -m 0644 "$here/systemd/berth.service" "$ROOT/etc/systemd/system/berth.service"
install -D -m 0644 "$here/udev/70-berth.rules" "$ROOT/etc/udev/rules.d/70-berth.rules"
install -D -m 0644 "$here/sysctl.d/60-berth.conf" "$ROOT/etc/sysctl.d/60-berth.conf"
install -D -m 0644 "$here/systemd/system.conf.d/60-berth.conf" "$ROOT/etc/systemd/system.conf.d/60-berth.conf"
install -D -m 0644 "$here/systemd/journald.conf.d/60-berth.conf" "$ROOT/etc/systemd/journald.conf.d/60-berth.conf"
install -D -m 0644 "$here/board/qemu-x86_64.toml" "$ROOT/usr/share/berth/board.toml"
if [ -n "$ROOT_JSON" ]; then
  install -D -m 0644 "$ROOT_JSON" "$ROOT/usr/share/berth/root.json"
fi

# The berth user owns /var/lib/berth.
if ! grep -q '^berth:' "$ROOT/etc/passwd" 2>/dev/null; then
  chroot "$ROOT" useradd --system --no-create-home --home-dir /var/lib/berth --shell /usr/sbin/nologin berth
fi

# The shell starts at boot; no login prompt on any console, no shell for
# anyone: root's password is locked and its shell is nologin.
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/berth.service "$ROOT/etc/systemd/system/multi-user.target.wants/berth.service"
for unit in getty@.service serial-getty@.service autovt@.service console-getty.service \
  container-getty@.service ctrl-alt-del.target debug-shell.service emergency.service \
  emergency.target rescue.service rescue.target kexec.target \
  systemd-random-seed.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
  systemd-logind.service; do
  ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
if [ -e "$ROOT/etc/shadow" ]; then
  sed -i 's|^root:[^:]*:|root:!*:|' "$ROOT/etc/shadow"
fi
if [ -e "$ROOT/etc/passwd" ]; then
  sed -i 's|^\(root:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:\).*$|\1/usr/sbin/nologin|' "$ROOT/etc/passwd"
fi
# No virtual terminals to switch to.
mkdir -p "$ROOT/etc/systemd/logind.conf.d"
printf '[Login]\nNAutoVTs=0\nReserveVT=0\n' > "$ROOT/etc/systemd/logind.conf.d/berth.conf"

# Read-only root: the data partition holds the tablet's data and the
# journal; /tmp and /var/tmp are in memory.
mkdir -p "$ROOT/data" "$ROOT/var/lib/berth" "$ROOT/var/log/journal"
cat > "$ROOT/etc/fstab" <<'FSTAB'
# Berth: the root is read-only (the kernel mounts it "ro"); only the data
# partition is written.
PARTLABEL=berth-data  /data             ext4   defaults,noatime,nosuid,nodev,noexec  0 2
/data/berth           /var/lib/berth    none   bind,x-systemd.requires-mounts-for=/data  0 0
/data/journal         /var/log/journal  none   bind,x-systemd.requires-mounts-for=/data  0 0
tmpfs                 /tmp              tmpfs  nosuid,nodev,noexec,mode=1777,size=64M  0 0
tmpfs                 /var/tmp          tmpfs  nosuid,nodev,noexec,mode=1777,size=16M  0 0
FSTAB
# An empty machine-id on a read-only root: systemd uses a transient one.
: > "$ROOT/etc/machine-id"

# The dock link: DHCP on the wired interface; the shell may reach only the
# dock (IPAddressAllow in the drop-in).
mkdir -p "$ROOT/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
  > "$ROOT/etc/systemd/network/20-dock.network"
if [ -e "$ROOT/lib/systemd/system/systemd-networkd.service" ]; then
  ln -sf /lib/systemd/system/systemd-networkd.service "$ROOT/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
  mkdir -p "$ROOT/etc/systemd/system/sockets.target.wants"
  ln -sf /lib/systemd/system/systemd-networkd.socket "$ROOT/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
fi
if [ -n "$DOCK" ]; then
  host=${DOCK%:*}
  mkdir -p "$ROOT/etc/systemd/system/berth.service.d"
  cat > "$ROOT/etc/systemd/system/berth.service.d/dock.conf" <<DOCKCONF
# This site's dock.
[Service]
ExecStart=
ExecStart=/usr/bin/berth shell --data /var/lib/berth --trust /usr/share/berth/root.json --board /usr/share/berth/board.toml --dock $DOCK
IPAddressAllow=$host
DOCKCONF
fi
echo "installed Berth into $ROOT"
