# shellcheck shell=bash
# Helpers of the lab's checks (e2e-checks.sh, ui-checks.sh), sourced: kubectl as admin,
# a command on a node, a bounded wait that says what it waited for. Needs $dir (E2E_DIR).
: "${dir:?the sourcing script sets dir to E2E_DIR}"
# 60 s: on the 2-core machine the TCG apiservers answered some requests after 20 s (run 9)
# A request etcd did not commit in time (a leader election on loaded emulated guests:
# "etcdserver: request timed out" or "leader changed", as the two-host lab met), or that the
# apiserver gave up on itself ("Timeout: request did not complete within requested timeout",
# the existing-machines run 38b, etcd transactions of several seconds), or whose connection
# did not get through ("Unable to connect to the server: net/http: TLS handshake timeout",
# run 39a: the apiserver at guest load 10 took over 10 s to shake hands) is sent again, at
# most twice; its input (-f -) is kept for that. Every mutating call here is idempotent
# (apply, delete --ignore-not-found), so a first attempt that did land changes nothing.
k() {
  local in="" err rc try
  if [[ " $* " == *" -f - "* ]]; then in=$(mktemp); cat > "$in"; fi
  err=$(mktemp)
  for try in 1 2 3; do
    rc=0
    if [[ -n $in ]]; then "$dir/bin/kubectl" --kubeconfig "$dir/admin.conf" --request-timeout 60s "$@" < "$in" 2> "$err" || rc=$?
    else "$dir/bin/kubectl" --kubeconfig "$dir/admin.conf" --request-timeout 60s "$@" 2> "$err" || rc=$?; fi
    if ((rc != 0 && try < 3)) && grep -q 'etcdserver: \(request timed out\|leader changed\)\|Timeout: request did not complete within requested timeout\|^Unable to connect to the server: ' "$err"; then
      echo "  (the API did not answer in time, sending again: $(head -c 200 "$err"))" >&2; sleep 5; continue
    fi
    break
  done
  cat "$err" >&2; rm -f "$err" ${in:+"$in"}
  return $rc
}
on() { local ip=$1; shift; ssh -i "$dir/lab-key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "k8s@$ip" "$@"; }
ok() { echo "  ok: $*" >&2; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "  FAILED: $what" >&2; "$@" >&2 || true; return 1; fi
    sleep 3
  done
  ok "$what"
}

