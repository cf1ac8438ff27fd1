#!/usr/bin/env bash
# npm run lab:conformance [-- --full | --focus REGEX] [--skip REGEX] [--procs N] [--timeout DURATION]
# Kubernetes' own conformance suite against the lab that lab:e2e keeps running (E2E_KEEP=1,
# or the E2E_CONFORMANCE=1 phase of lab:e2e): e2e.test and ginkgo from the conformance kit
# (build-conformance.sh), the admin kubeconfig of the run, only the images imported on every
# node (their upstream names; nothing is pulled: the nodes reach no registry). Runs inside
# the run's network namespace. Default: the smoke set (conformance-smoke.txt, one test name
# a line, each group with why it is there); --full: every [Conformance] test but [Serial]
# and [Disruptive] ones in parallel. Skips: conformance-skips.txt (exact names, each with
# its reason). --timeout (ginkgo's, e.g. 2h; default 24h): the suite stops there, the test
# then running is reported interrupted and the rest not run. Prints passed / failed /
# interrupted / not run of the chosen specs and the time (tools/junit-summary.ts); keeps the
# JUnit file and the log in <run>/conformance/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${K8S_LAB_CACHE:-$HOME/.cache/k8s-lab}
run=${E2E_DIR:-$cache/e2e}
NS=${E2E_NS:-klab-e2e}
eval "$(cd "$here/../.." && npx tsx tools/default-versions.ts)"
kit=$cache/conformance-${K8S_VERSION:-$DEFAULT_K8S_VERSION}
# one test at a time by default: on the TCG lab two in parallel starved the apiservers (a
# Deployment test's list of ReplicaSets timed out after 60 s); on KVM hosts, --procs 4 or more
mode=smoke focus='' skip='' procs=1 timeout=24h
while (($#)); do
  case $1 in
    --full) mode=full ;;
    --focus) focus=$2; shift ;;
    --skip) skip=$2; shift ;;
    --procs) procs=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    *) echo "usage: conformance.sh [--full | --focus REGEX] [--skip REGEX] [--procs N] [--timeout DURATION]" >&2; exit 2 ;;
  esac
  shift
done
for f in "$kit/e2e.test" "$kit/ginkgo" "$run/admin.conf"; do
  [[ -e $f ]] || { echo "lab:conformance: $f is missing (the kit: bash .ci/lab/build-conformance.sh; the lab: E2E_KEEP=1 npm run lab:e2e)" >&2; exit 1; }
done
ip netns exec "$NS" true 2>/dev/null || { echo "lab:conformance: no network namespace $NS: is the lab of lab:e2e running (E2E_KEEP=1)?" >&2; exit 1; }

# an exact test name as a ginkgo regular expression (the name, its brackets and dots escaped)
exact() { node -e 'console.log(process.argv[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))' "$1"; }
names() { grep -v '^\s*\(#\|$\)' "$1"; }
join() { local IFS='|'; echo "$*"; }
skips=()
while read -r n; do skips+=("$(exact "$n")"); done < <(names "$here/conformance-skips.txt")
case $mode in
  smoke)
    if [[ -z $focus ]]; then
      focused=()
      while read -r n; do focused+=("$(exact "$n")"); done < <(names "$here/conformance-smoke.txt")
      focus=$(join "${focused[@]}")
    fi
    ;;
  full)
    [[ -n $focus ]] || focus='\[Conformance\]' # quoted: unquoted, ${focus:-\[…\]} drops the backslashes and the regex becomes a character class matching nearly every test
    skips+=('\[Serial\]' '\[Disruptive\]')
    ;;
esac
[[ -n $skip ]] && skips+=("$skip")

out=$run/conformance
rm -rf "$out" && mkdir -p "$out"
start=$SECONDS
set +e
ip netns exec "$NS" "$kit/ginkgo" --procs="$procs" --timeout="$timeout" --junit-report=junit.xml --output-dir="$out" "$kit/e2e.test" -- \
  --kubeconfig="$run/admin.conf" --provider=skeleton --report-dir="$out" \
  --ginkgo.focus="$focus" ${skips[@]:+--ginkgo.skip="$(join "${skips[@]}")"} \
  > "$out/e2e.log" 2>&1
rc=$?
set -e
(cd "$here/../.." && npx tsx tools/junit-summary.ts "$out/junit.xml" "$out/e2e.log" "$((SECONDS - start))") || { tail -n 40 "$out/e2e.log" >&2; exit 1; }
exit $rc
