#!/usr/bin/env bash
# System packages the test suite needs beyond Python and Node: Debian's chromium, which the
# end-to-end tests drive through Playwright (Playwright's own browser downloads are not used).
# Idempotent: does nothing when /usr/bin/chromium is there. Needs root (CI machines run as root).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: /usr/bin/chromium is missing; run 'apt-get install chromium' as root" >&2
    exit 1
fi
echo "system-deps: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
