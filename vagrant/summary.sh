#!/usr/bin/env bash
# summary.sh: the last step of `vagrant up`. Prints the dashboard URL, the state of Drover's platform jobs and where
# the bootstrap secrets were written. Runs on the last lab node as root (Vagrant's shell provisioner).
# Usage: summary.sh <dashboard-url> <first-node-name>
set -euo pipefail

url="${1:?dashboard URL}"
first="${2:?first node name}"
secrets_dir=/etc/drover/secrets

job_states() {
  local token_file="/root/drover-bootstrap/nomad-bootstrap.json"
  [[ -r "$token_file" ]] || { echo "  (Nomad's bootstrap token is on $first; run: vagrant ssh $first -c 'sudo nomad job status -namespace=drover-system')"; return; }
  NOMAD_ADDR=https://127.0.0.1:4646 NOMAD_CACERT=/etc/drover/tls/ca.pem \
    NOMAD_TOKEN="$(jq -r .SecretID "$token_file")" \
    nomad job status -namespace=drover-system 2>/dev/null | sed 's/^/  /' || echo "  (nomad job status failed; see docs/infra/lab.md)"
}

cat <<MSG

==============================================================================
 Drover lab is up.

 Dashboard:          $url
                     (the lab uses Traefik's default self-signed certificate:
                      your browser will warn once)
 Platform jobs:
$(job_states)

 Bootstrap secrets:  on $first, root-only, in /root/drover-bootstrap/
                       consul-bootstrap.json  Consul's initial management token
                       nomad-bootstrap.json   Nomad's initial management token
                       vault-init.json        Vault's unseal keys and root token
                                              (LAB ONLY: see UNSEAL-KEYS-WARNING.txt)
                     per node, root-only, in $secrets_dir/
                       (gossip keys, agent tokens, Drover's scoped tokens)
 Read them with:     vagrant ssh $first -c 'sudo ls -l /root/drover-bootstrap'

 What runs where:    vagrant/README.md
==============================================================================
MSG
