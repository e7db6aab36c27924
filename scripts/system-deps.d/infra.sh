#!/usr/bin/env bash
# infra.sh: installs the tools the infrastructure checks (test/infra/) run: Ansible and ansible-lint from PyPI into a
# virtualenv outside the repository (DROVER_TOOLS_DIR, default /opt/drover-tools). yamllint, shellcheck, nftables and
# vagrant come from Debian through scripts/system-packages.txt. Idempotent: a stamp holding the pinned versions makes a
# second run return at once. Runs as root on CI with no stdin; without write access to the tools folder it only says
# what is missing.
set -euo pipefail

tools_dir="${DROVER_TOOLS_DIR:-/opt/drover-tools}"
venv="$tools_dir/venv"
# Pinned so that lint results do not change under us; bump together and rerun the infra tests.
pins=("ansible-core==2.19.14" "ansible-lint==26.10.1")
stamp="$venv/.drover-pins"
want="${pins[*]}"

if [ -x "$venv/bin/ansible-playbook" ] && [ -x "$venv/bin/ansible-lint" ] && [ -f "$stamp" ] \
  && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if ! mkdir -p "$tools_dir" 2>/dev/null || [ ! -w "$tools_dir" ]; then
  echo "infra.sh: cannot write $tools_dir; run as root or set DROVER_TOOLS_DIR" >&2
  exit 1
fi

python="${DROVER_PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "infra.sh: creating $venv"
  "$python" -m venv "$venv"
fi
echo "infra.sh: installing ${want}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${pins[@]}"
printf '%s' "$want" >"$stamp"
