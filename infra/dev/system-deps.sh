#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python and Node, installed only when missing:
#   chromium  the end-to-end browser tests drive it through Playwright (no Playwright downloads)
#   nginx     the nginx config is checked with `nginx -t` and run in front of two workers
#   fonts-noto-color-emoji  the emoji picker's screenshots show emoji, not empty boxes
#   stress-ng `stress-ng --cpu 2` beside a test run makes the machine as busy as a shared CI
#             machine, to check that a test waits on conditions rather than on speed
# Needs root when something is missing (CI machines run as root).
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
[ -x /usr/bin/stress-ng ] || missing+=(stress-ng)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${missing[*]}; run 'apt-get install ${missing[*]}' as root" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: install the packages without starting their services (nginx on port 80).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
