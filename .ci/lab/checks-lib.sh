# shellcheck shell=bash
# Helpers of the lab's checks (e2e-checks.sh, ui-checks.sh), sourced: kubectl as admin,
# a command on a node, a bounded wait that says what it waited for. Needs $dir (E2E_DIR).
: "${dir:?the sourcing script sets dir to E2E_DIR}"
# 60 s: on the 2-core machine the TCG apiservers answered some requests after 20 s (run 9)
k() { "$dir/bin/kubectl" --kubeconfig "$dir/admin.conf" --request-timeout 60s "$@"; }
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

