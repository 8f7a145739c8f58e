#!/usr/bin/env bash
# Install what badapple needs on a fresh Debian machine: media tools, fonts, servers, Python packages.
# Idempotent: skips apt when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng libespeak-ng1 redis-server postgresql
  fonts-dejavu-core fonts-noto-core fonts-lato fonts-bebas-neue fonts-open-sans fonts-urw-base35
  fonts-roboto-unhinted fonts-wqy-zenhei)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: apt installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The postgresql package starts a cluster on Debian; badapple runs its own servers, so stop it.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
fi

PY=${PYTHON:-python3}
if ! $PY -c "import dagster, fastapi, badapple_dagster" >/dev/null 2>&1 || [ "${BOOTSTRAP_FORCE_PIP:-0}" = 1 ]; then
  echo "bootstrap: pip installing badapple and its pinned dependencies"
  $PY -m pip install -q -e ".[dev]"
fi
echo "bootstrap: ok"
