#!/usr/bin/env bash
# The web UIs for real, inside the run's network namespace, reached as the stack output
# tells a user (its portForward, url and token commands, run beside admin.conf): every pod
# of the UI Ready, the UI served through `kubectl port-forward` on this machine, the login
# token accepted by the UI's own backend (an authenticated request through it, a wrong token
# refused), and a screenshot of the logged-in UI (Debian's chromium, headless) in
# $E2E_DIR/ui/<ui>.png. The token never reaches a command line or the log.
# Usage: ui-checks.sh dashboard|headlamp...
# Needs: E2E_DIR (admin.conf, bin/kubectl, outputs.json: the stack's outputs).
set -euo pipefail
dir=${E2E_DIR:?}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=.ci/lab/checks-lib.sh
. "$here/checks-lib.sh"
mkdir -p "$dir/ui"

# access UI FIELD: a field of the stack output UI (dashboard, headlamp)
access() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]; if (!o || !o[process.argv[3]]) process.exit(1); console.log(o[process.argv[3]]);' "$dir/outputs.json" "$1" "$2"; }
# one of the output's commands, as a user runs it: beside admin.conf, kubectl on PATH
as_user() { (cd "$dir" && PATH="$dir/bin:$PATH" bash -c "$1"); }

# namespace, the backend's path that lists namespaces, for each UI
declare -A NAMESPACE=([dashboard]=kubernetes-dashboard [headlamp]=headlamp)
declare -A LIST_PATH=([dashboard]=api/v1/namespace [headlamp]=clusters/main/api/v1/namespaces)
# the page of kube-system's pods in each UI (relative to its url): the screenshot shows it, with
# CoreDNS's pods listed — the cluster as the UI shows it, not the empty default namespace
declare -A PODS_PAGE=([dashboard]='#/pod?namespace=kube-system' [headlamp]='c/main/pods?namespace=kube-system')

check_ui() {
  local name=$1 url token code
  [[ -n ${NAMESPACE[$name]:-} ]] || { echo "ui-checks: no UI $name (dashboard, headlamp)" >&2; return 2; }
  access "$name" url >/dev/null || { echo "  FAILED: $name: the stack has no output $name (is the addon on?)" >&2; return 1; }
  wait_for 600 "$name: every pod Ready" k -n "${NAMESPACE[$name]}" wait --for=condition=Ready pod --all --timeout=60s
  url=$(access "$name" url); url=${url/localhost/127.0.0.1}
  # in a process group of its own, so that stopping it stops kubectl too (a plain background
  # job is the subshell around the command: killing it left kubectl forwarding after the checks)
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'cd "$1" && PATH="$1/bin:$PATH" exec bash -c "$2"' _ "$dir" "$(access "$name" portForward)" > "$dir/ui/$name-port-forward.log" 2>&1 &
  pf=$!
  wait_for 60 "$name: served through kubectl port-forward at $url" curl -sk --max-time 5 -o /dev/null "$url"
  token=$(as_user "$(access "$name" token)")
  [[ -n $token ]] || { echo "  FAILED: $name: the output's token command printed nothing" >&2; return 1; }
  code=$(curl -sk --max-time 60 -o "$dir/ui/$name-namespaces.json" -w '%{http_code}' -H @- "$url${LIST_PATH[$name]}" <<<"Authorization: Bearer $token")
  if [[ $code != 200 ]] || ! grep -q kube-system "$dir/ui/$name-namespaces.json"; then echo "  FAILED: $name: its backend answered $code to /${LIST_PATH[$name]} with the login token" >&2; return 1; fi
  ok "$name: its backend lists the namespaces with the login token (/${LIST_PATH[$name]}: 200)"
  code=$(curl -sk --max-time 60 -o "$dir/ui/$name-wrong-token.json" -w '%{http_code}' -H "Authorization: Bearer not-a-token" "$url${LIST_PATH[$name]}")
  if [[ $code == 401 ]]; then
    ok "$name: a wrong token is refused (401)"
  elif [[ $code == 200 ]] && ! grep -q kube-system "$dir/ui/$name-wrong-token.json" && grep -q '"code": *401' "$dir/ui/$name-wrong-token.json"; then
    # the dashboard's lists answer 200 and carry the apiserver's errors inside (seen on the lab)
    ok "$name: a wrong token is refused (no namespace listed, the apiserver's 401 in its answer)"
  else
    echo "  FAILED: $name: a wrong token got $code from its backend (401 expected)" >&2; return 1
  fi
  (cd "$root" && UI_TOKEN=$token UI_LIST_PATH=${PODS_PAGE[$name]} UI_LIST_EXPECT=coredns npx tsx tools/ui-screenshot.ts "$url" "$dir/ui/$name.png" >&2)
  ok "$name: logged in through its page with the token, kube-system's pods listed there (CoreDNS's among them); screenshot $dir/ui/$name.png"
  stop_port_forward
}

pf=''
# stopped and gone before the script goes on or ends (kubectl takes a moment to close its
# connections; a check that ends right after the kill found it still forwarding)
stop_port_forward() {
  [[ -n $pf ]] || return 0
  kill -- "-$pf" 2>/dev/null || kill "$pf" 2>/dev/null || true
  wait "$pf" 2>/dev/null || true
  pf=''
}
# a failed check ends the script: its port-forward must not outlive it
trap stop_port_forward EXIT
for ui in "$@"; do check_ui "$ui"; done
