#!/usr/bin/env bash
# system-deps.sh: installs, with apt, the Debian packages the test suite runs for real (Redis, Chromium, Go and
# the env parser Nomad uses, linters). Idempotent and quick when everything is present. It needs root (as on CI);
# without root it only lists what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/system-packages.txt")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing Debian packages (install them as root): ${missing[*]}" >&2
    exit 1
  fi
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for extra in "$here"/system-deps.d/*.sh; do
  [ -e "$extra" ] || continue
  bash "$extra"
done
