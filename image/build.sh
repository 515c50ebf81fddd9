#!/usr/bin/env bash
# Build the tablet's disk image for the reference board (x86_64, UEFI):
#
#   sudo image/build.sh OUT_DIR [BERTH_BINARY] [ROOT_JSON] [DOCK_ADDR]
#
# OUT_DIR/berth.img gets a GPT with four partitions:
#   1 berth-esp     FAT, 96 MiB: the firmware boots \EFI\BOOT\BOOTX64.EFI, a
#                   unified kernel image (kernel, initrd and command line in
#                   one PE file) for slot A; \EFI\berth\ keeps one per slot.
#   2 berth-root-a  ext4, read-only: slot A's root filesystem.
#   3 berth-root-b  slot B, empty until the first signed update writes it.
#   4 berth-data    ext4: /var/lib/berth and the journal, the only
#                   writable place.
# No bootloader menu and no command line to edit: the firmware starts the
# UKI directly.
#
# Debian packages come from debootstrap (bookworm, minbase); the tree is
# cached in OUT_DIR/cache, so a second run reuses it (idempotent: the
# image is rebuilt from the cache and this repository every time). Runs as
# root, needs no loop devices or mounts: file systems are made with
# `mkfs.ext4 -d` and mtools, and placed with sfdisk and dd.
set -euo pipefail
OUT=${1:?usage: image/build.sh OUT_DIR [BERTH_BINARY] [ROOT_JSON] [DOCK_ADDR]}
BIN=${2:-target/release/berth}
ROOT_JSON=${3:-}
DOCK=${4:-}
SUITE=${BERTH_SUITE:-bookworm}
MIRROR=${BERTH_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
for tool in debootstrap mkfs.ext4 mkfs.vfat mcopy mmd sfdisk objcopy; do
  command -v "$tool" >/dev/null || { echo "build.sh needs $tool (apt-get install debootstrap e2fsprogs dosfstools mtools fdisk binutils)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "no tablet binary at $BIN: cargo build --release --no-default-features --features device --bin berth" >&2; exit 1; }
mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
work="$OUT/work"
rm -rf "$work"
mkdir -p "$work"

packages=systemd,systemd-sysv,udev,kmod,linux-image-amd64,systemd-boot-efi,libxkbcommon0,libfontconfig1,libfreetype6,libinput10,libasound2,libudev1
base="$OUT/cache/$SUITE-base.tar"
if [ ! -s "$base" ]; then
  echo "debootstrap $SUITE (cached in $base)"
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$work/root" "$MIRROR" >"$OUT/cache/debootstrap.log" 2>&1 \
    || { tail -20 "$OUT/cache/debootstrap.log" >&2; exit 1; }
  tar -C "$work/root" -cf "$base.tmp" .
  mv "$base.tmp" "$base"
  rm -rf "$work/root"
fi
mkdir -p "$work/root"
tar -C "$work/root" -xf "$base"
root="$work/root"

# What a tablet does not need.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
kver=$(basename "$(ls -d "$root"/lib/modules/* | head -1)")
mods="$root/lib/modules/$kver/kernel"
rm -rf "$mods"/drivers/net/wireless "$mods"/drivers/gpu/drm/{amd,nouveau,radeon,i915} \
  "$mods"/drivers/media "$mods"/drivers/infiniband "$mods"/drivers/staging \
  "$mods"/drivers/net/ethernet/{mellanox,intel,broadcom,chelsio,qlogic} "$mods"/sound/soc "$mods"/net/wireless
chroot "$root" depmod "$kver"

"$here/build-image.sh" "$root" "$BIN" "$ROOT_JSON" "$DOCK"
# Test images only: BERTH_IMAGE_OVERLAY=DIR is copied over the root (the
# boot test adds a failpoint drop-in there). A production build sets none.
if [ -n "${BERTH_IMAGE_OVERLAY:-}" ]; then
  echo "test overlay from $BERTH_IMAGE_OVERLAY"
  cp -a "$BERTH_IMAGE_OVERLAY"/. "$root"/
fi

# The kernel command line: read-only root from slot A, no rescue or debug
# shell, reboot on a panic (initramfs-tools reboots rather than open its
# shell when panic= is set).
cmdline="root=PARTLABEL=berth-root-a ro rootwait panic=10 quiet loglevel=3 console=ttyS0,115200 systemd.show_status=false rd.udev.log_level=3 vt.global_cursor_default=0"
echo "$cmdline" > "$work/cmdline"
cp "$root/etc/os-release" "$work/os-release" 2>/dev/null || cp "$root/usr/lib/os-release" "$work/os-release"
stub="$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
objcopy \
  --add-section .osrel="$work/os-release" --change-section-vma .osrel=0x20000 \
  --add-section .cmdline="$work/cmdline" --change-section-vma .cmdline=0x30000 \
  --add-section .linux="$root/boot/vmlinuz-$kver" --change-section-vma .linux=0x2000000 \
  --add-section .initrd="$root/boot/initrd.img-$kver" --change-section-vma .initrd=0x3000000 \
  "$stub" "$work/berth-a.efi"

# The root tree holds no kernel (the UKI does) and is read-only.
rm -rf "$root"/boot/*

MiB=$((1024 * 1024))
esp_mb=96; root_mb=640; data_mb=256
truncate -s $((esp_mb * MiB)) "$work/esp.img"
mkfs.vfat -F 32 -n BERTH-ESP "$work/esp.img" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/berth
mcopy -i "$work/esp.img" "$work/berth-a.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$work/esp.img" "$work/berth-a.efi" ::/EFI/berth/berth-a.efi

mkfs.ext4 -q -L berth-root-a -O ^has_journal -d "$root" "$work/root-a.img" "${root_mb}M"
mkdir -p "$work/data/berth" "$work/data/journal"
uid=$(awk -F: '$1=="berth"{print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1=="berth"{print $4}' "$root/etc/passwd")
chown "$uid:$gid" "$work/data/berth"
chmod 0700 "$work/data/berth"
chown root:systemd-journal "$work/data/journal" 2>/dev/null || true
chmod 2755 "$work/data/journal"
mkfs.ext4 -q -L berth-data -d "$work/data" "$work/data.img" "${data_mb}M"

img="$OUT/berth.img"
rm -f "$img.tmp"
total=$((1 + esp_mb + 2 * root_mb + data_mb + 1))
truncate -s $((total * MiB)) "$img.tmp"
sfdisk -q "$img.tmp" <<SFDISK
label: gpt
first-lba: 2048
start=1MiB, size=${esp_mb}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=berth-esp
size=${root_mb}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=berth-root-a, attrs=GUID:60
size=${root_mb}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=berth-root-b, attrs=GUID:60
size=${data_mb}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=berth-data
SFDISK
put() { dd if="$1" of="$img.tmp" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$work/esp.img" 1
put "$work/root-a.img" $((1 + esp_mb))
put "$work/data.img" $((1 + esp_mb + 2 * root_mb))
mv "$img.tmp" "$img"
rm -rf "$work"
echo "wrote $img ($(du -h --apparent-size "$img" | cut -f1), $(du -h "$img" | cut -f1) on disk)"
