#!/usr/bin/env bash
# npm run kubeconfig | npm run ssh-key [-- FILE]: a secret stack output into a file only you
# can read (mode 600), through the project's stack (.ci/pulumi.sh: its state and passphrase).
#   kubeconfig  the admin kubeconfig (adminKubeconfig)  → admin.conf
#   ssh-key     the nodes' SSH private key (sshPrivateKey) → lab-key
# STACK picks another stack (default: the lab's, see .ci/pulumi.sh). Prints the file's path.
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in
  kubeconfig) output=adminKubeconfig file=${2:-admin.conf} ;;
  ssh-key) output=sshPrivateKey file=${2:-lab-key} ;;
  *) echo "usage: stack-file.sh kubeconfig|ssh-key [FILE]" >&2; exit 2 ;;
esac
tmp=$(umask 077 && mktemp "$file.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if ! bash .ci/pulumi.sh stack output --show-secrets "$output" > "$tmp" || [[ ! -s $tmp ]]; then
  echo "the lab's stack has no $output yet: stand the lab up first (npm run up; with upTo, the PKI exists from stage pki on)" >&2
  exit 1
fi
chmod 600 "$tmp"
mv "$tmp" "$file"
trap - EXIT
echo "$output written to $file (mode 600)" >&2
echo "$file"
