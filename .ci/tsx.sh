#!/usr/bin/env bash
# Runs a TypeScript tool of the project (npm run render, npm run bench) on a fresh clone as
# well: installs the locked node modules first when they are missing, then runs the tool
# with tsx on the project's Node (node_modules/.bin first on PATH, as under npm run).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x node_modules/.bin/tsx ]]; then
  echo "installing the project's node modules first (npm ci)…" >&2
  npm ci --no-audit --no-fund >&2
fi
export PATH="$PWD/node_modules/.bin:$PATH"
exec tsx "$@"
