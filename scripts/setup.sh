#!/usr/bin/env bash
# Installs what ovn-k8s needs on a Debian 12 machine, as root, idempotently:
#   - Debian packages: Open vSwitch 3.1, OVN 23.03, and the tools the tests use;
#   - Deno 2.9.6, pinned in package.json (npm ci);
#   - the npm modules in deno.json, checked against the frozen deno.lock (deno install).
# A second run only checks, and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(openvswitch-switch ovn-central ovn-host ethtool iputils-ping iproute2
      containernetworking-plugins netcat-openbsd util-linux curl openssl)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root (apt-get install)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

want=$(node -p 'require("./package.json").devDependencies.deno')
have=$(node_modules/.bin/deno --version 2>/dev/null | head -1 | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "setup: installing deno $want (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
node_modules/.bin/deno install --frozen --quiet >/dev/null 2>&1 || node_modules/.bin/deno install --frozen
