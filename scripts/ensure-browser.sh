#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests if it is missing (root on this machine kind).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-browser: /usr/bin/chromium is missing; install Debian's 'chromium' package" >&2
  exit 0
fi
echo "ensure-browser: installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null
