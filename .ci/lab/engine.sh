#!/usr/bin/env bash
# The Pulumi engine for the lab, offline: the CLI at the lock file's @pulumi/pulumi version
# (built from the Go module proxy by build-pulumi-cli.sh), the Node.js language host beside
# it, and the provider plugins at the lock file's versions installed into a PULUMI_HOME of
# the cache, so `pulumi` neither downloads nor warns.
#
# The language host and the provider plugins are not served by the registries these
# machines reach; on a connected machine Pulumi downloads them itself. Here they are taken
# from $K8S_LAB_PLUGIN_DIR (default: $CACHE/engine/plugins), one executable per name:
#   pulumi-language-nodejs pulumi-resource-command pulumi-resource-tls
#   pulumi-resource-random pulumi-resource-kubernetes
# Prints the environment to use (eval "$(.ci/lab/engine.sh)").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
plugins=${K8S_LAB_PLUGIN_DIR:-$cache/engine/plugins}
lock=$here/../../package-lock.json
ver() { node -p 'require(process.argv[1]).packages["node_modules/" + process.argv[2]].version' "$lock" "$1"; }

bin=$("$here/build-pulumi-cli.sh")
missing=()
for p in pulumi-language-nodejs pulumi-resource-command pulumi-resource-tls pulumi-resource-random pulumi-resource-kubernetes; do
  [[ -x $plugins/$p ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "engine: missing in $plugins: ${missing[*]}" >&2
  echo "engine: these are not served by the registries reached here; put built binaries there (or set K8S_LAB_PLUGIN_DIR)" >&2
  exit 1
fi
# bundled language hosts are looked up beside the resolved pulumi executable
cmp -s "$plugins/pulumi-language-nodejs" "$bin/pulumi-language-nodejs" || install -m 0755 "$plugins/pulumi-language-nodejs" "$bin/pulumi-language-nodejs"

home=$cache/engine/pulumi-home
mkdir -p "$home"
for name in command tls random kubernetes; do
  v=$(ver "@pulumi/$name")
  if [[ ! -x $home/plugins/resource-$name-v$v/pulumi-resource-$name ]] || ! cmp -s "$plugins/pulumi-resource-$name" "$home/plugins/resource-$name-v$v/pulumi-resource-$name"; then
    PULUMI_HOME=$home PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" plugin install resource "$name" "$v" --file "$plugins/pulumi-resource-$name" --reinstall >&2
  fi
done
cat <<ENV
export PATH=$bin:\$PATH
export PULUMI_HOME=$home
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
ENV
