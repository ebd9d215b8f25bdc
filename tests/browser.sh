#!/usr/bin/env bash
# Headless Chromium (and its WebDriver) from Debian's packages for the browser tests (marked `browser`).
#
#   bash tests/browser.sh          install chromium, chromium-driver and CJK fonts if missing (apt, as root); idempotent
#   bash tests/browser.sh path     print the chromium binary
#
# Tests find the binaries on PATH (chromium, chromedriver) and skip with a clear reason when absent.
set -euo pipefail

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if [ "${1:-}" = "path" ]; then command -v chromium; exit $?; fi
have && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser.sh: chromium is missing and cannot be installed here (needs root and apt-get); browser tests will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk fonts-dejavu-core >/dev/null
have || { echo "browser.sh: chromium install failed" >&2; exit 1; }
