#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need on a fresh machine,
# type-checks, runs the jest suites and prints one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian tools the tests run against what the program renders.
debian_tools=(openssl:openssl nginx:nginx shellcheck:shellcheck systemd-analyze:systemd virt-xml-validate:libvirt-clients xmllint:libxml2-utils cloud-init:cloud-init genisoimage:genisoimage
  libvirtd:libvirt-daemon-system virsh:libvirt-clients qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils dnsmasq:dnsmasq-base
  iptables:iptables ip:iproute2 ssh:openssh-client)
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

# type-check (nothing is compiled: the tests and tools run the sources, through ts-jest and tsx)
npx tsc -p .

# the upstream judges: Go programs that decode what the plan renders with the pinned
# releases' own types (test/upstream/build.sh; modules from the Go module proxy)
bash test/upstream/build.sh

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx jest --ci --json --outputFile="$report" "$@" || status=$?
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
