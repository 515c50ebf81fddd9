#!/usr/bin/env bash
# The whole CLI flow against a temp dir: facility, vendor, pack, approve,
# install, a flipped byte refused, a root rotation followed.
# Usage: tests/cli-flow.sh [WORKDIR]   (berth, berth-vendor and berth-facility on PATH)
set -euo pipefail
W=${1:-$(mktemp -d)}
F=$W/facility; V=$W/vendor; D=$W/tablet
mkdir -p "$V" "$W/src/lessons"
printf '# Lección 1\n\n¿Qué es una palabra?\n' > "$W/src/lessons/01.md"
printf '{"id":"curso","title":{"es":"Curso"},"units":[{"title":{"es":"Uno"},"lessons":["lessons/01.md"]}]}\n' > "$W/src/course.json"
head -c 5000 /dev/zero | tr '\0' 'a' > "$W/src/big.txt"

berth-facility init --dir "$F" --facility riverside
berth-vendor keygen --out "$V/key"
berth-facility delegate --dir "$F" --vendor acme --pubkey "$V/key.pub" \
  --types education,music --max-bytes 1000000 --expires 2099-01-01 --out "$V/delegation.json"
berth-vendor pack --key "$V/key" --delegation "$V/delegation.json" --type education \
  --id acme.cli --version 1 --expires 2099-01-01 --chunk-size 1024 "$W/src" -o "$W/course.berth"
berth-vendor inspect --root "$F/root.json" "$W/course.berth"
berth-facility verify --dir "$F" "$W/course.berth"
berth-facility approve --dir "$F" --groups facility,unit:b-east "$W/course.berth" -o "$W/course.approved.berth"
berth-facility verify --dir "$F" "$W/course.approved.berth"
berth install --data "$D" --trust "$F/root.json" "$W/course.approved.berth"
before=$(berth status --data "$D")

# Version 2, with one payload byte flipped in transit: refused, store unchanged.
printf 'v2\n' >> "$W/src/big.txt"
berth-vendor pack --key "$V/key" --delegation "$V/delegation.json" --type education \
  --id acme.cli --version 2 --expires 2099-01-01 --chunk-size 1024 "$W/src" -o "$W/v2.berth"
berth-facility approve --dir "$F" --groups facility "$W/v2.berth" -o "$W/flipped.berth"
size=$(stat -c %s "$W/flipped.berth")
printf '\x00' | dd of="$W/flipped.berth" bs=1 seek=$((size - 100)) conv=notrunc status=none
if berth install --data "$D" "$W/flipped.berth"; then
  echo "FLIP ACCEPTED"; exit 1
fi
echo "FLIP REFUSED"
[ "$(berth status --data "$D")" = "$before" ] && echo "STORE UNCHANGED"

# Rotate the root; the tablet follows it at the next install.
berth-facility rotate-root --dir "$F"
berth install --data "$D" --trust "$F/root.json" "$W/course.approved.berth"
berth status --data "$D"
