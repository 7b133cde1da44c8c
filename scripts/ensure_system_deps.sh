#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the browser tests, psql for role set-up.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${need[*]}. Install them (Debian: apt-get install ${need[*]})." >&2
  exit 1
fi
echo "Installing ${need[*]} with apt-get..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
