#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian bookworm machine with Node/npm and root:
#   Bun from npm, the project's node_modules, Mesa >= 25 lavapipe (WebGPU without a GPU, from bookworm-backports),
#   Debian's python3-torch / numpy / pebble (independent references and benchmark baselines), and Debian's chromium
#   (the dashboard's browser test drives it headless), and Debian's nats-server (the executor fleet and rollout workers;
#   tests start their own on a free loopback port).
# Safe to re-run: each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
mesa_ok() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -Eq '^(2[5-9]|[3-9][0-9])\.'; }
mesa_ok || need_apt+=(mesa)
for p in python3-torch python3-numpy python3-pebble libvulkan1 chromium nats-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$p")
done

if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Reuse the Debian mirror this machine already uses.
    uri=$(grep -rhs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
    [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
    [ -n "$uri" ] || uri="http://deb.debian.org/debian"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  echo "setup: installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
  $SUDO apt-get install -y -qq python3-torch python3-numpy python3-pebble libvulkan1 chromium nats-server >/dev/null
fi

command -v bun >/dev/null 2>&1 || { echo "setup: installing bun from npm"; npm i -g bun@1.4.5 >/dev/null; }
bun install --frozen-lockfile >/dev/null 2>&1 || bun install
echo "setup: ready (bun $(bun --version), mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), chromium $(dpkg-query -W -f='${Version}' chromium), nats-server $(dpkg-query -W -f='${Version}' nats-server))"
