#!/usr/bin/env bash
# Sourced by e2e.sh (E2E_LAYERS): the checks of a lab stood up to one stage. Needs from the
# caller: $run (the run's directory, with lab-key), $STACK, $NS, on_node IP CMD (ssh as the
# lab's user), and pulumi on PATH. Tested with stand-ins by test/real-tools/stage-checks.test.ts.
: "${run:?}" "${STACK:?}" "${NS:?}"
# guide_check STAGE: the verification commands the stack output upTo gives for STAGE, run as
# a reader of the runbook runs them — `ssh -i lab-key …` and `npm run pulumi -- …` on this
# machine (the latter as `pulumi --stack e2e`), the others as root on the node its `where`
# names (every node for "any node") — each retried until it exits 0 within 300 s; then what
# the stage must print (expect_stage)
declare -A node_ip=([k8s-1]=192.168.253.140 [k8s-2]=192.168.253.139 [k8s-3]=192.168.253.141)
guide_check() {
  local stage=$1 out=$run/guide-$1.out guide targets cmd i n deadline
  guide=$(pulumi stack output --stack $STACK upTo --json)
  [[ $(node -p 'JSON.parse(process.argv[1]).stage' "$guide") == "$stage" ]] || { echo "the stack output upTo is not at $stage: $guide" >&2; return 1; }
  n=$(node -p 'JSON.parse(process.argv[1]).verify.length' "$guide")
  ((n > 0)) || { echo "stage $stage gives no verification command" >&2; return 1; }
  local where; where=$(node -p 'JSON.parse(process.argv[1]).where' "$guide")
  targets=$(grep -o 'k8s-[0-9]*' <<< "$where" | head -n 1 || true)
  [[ $where == "any node"* ]] && targets="k8s-1 k8s-2 k8s-3"
  # all the commands, again until what they print is what the guide says (a lab converges)
  local settle=$((SECONDS + 300))
  while :; do
  : > "$out"
  for ((i = 0; i < n; i++)); do
    cmd=$(node -p 'JSON.parse(process.argv[1]).verify[+process.argv[2]].run' "$guide" "$i")
    local runs=()
    case $cmd in
      # (in a subshell: the caller's working directory stays)
      "ssh -i lab-key "*) runs=("(cd '$run' && ip netns exec $NS ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR ${cmd#ssh })") ;;
      "npm run pulumi -- "*) runs=("pulumi --stack $STACK ${cmd#npm run pulumi -- }") ;;
      *) [[ -n $targets ]] || { echo "stage $stage: no node named in '$where'" >&2; return 1; }
         for t in $targets; do runs+=("on_node ${node_ip[$t]} 'sudo bash -s' <<'GUIDE'"$'\n'"$cmd"$'\n'"GUIDE"); done ;;
    esac
    for r in "${runs[@]}"; do
      deadline=$((SECONDS + 300))
      until { echo "\$ $cmd"; eval "$r"; } > "$out.one" 2>&1; do
        ((SECONDS < deadline)) || { cat "$out.one" >&2; echo "stage $stage: '$cmd' kept failing" >&2; return 1; }
        sleep 5
      done
      cat "$out.one" >> "$out"; echo >> "$out"
    done
  done
  expect_stage "$stage" "$out" && break
  ((SECONDS < settle)) || { cat "$out" >&2; echo "stage $stage: the commands do not print what the guide says" >&2; return 1; }
  sleep 10
  done
  echo "  ok: upTo $stage — its $n verification command(s) pass and print what the guide says ($out)" >&2
}
# expect_stage STAGE FILE: what the guide says the stage's commands print, as the e2e checks it
expect_stage() {
  local f=$2
  case $1 in
    vms) grep -q "^status: done" "$f" && ! grep -q "^/" "$f" ;;  # cloud-init done, swapon lists nothing
    pki) [[ $(grep -oE '"[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$f" | wc -l) -ge 10 ]] ;;  # one JSON line when not on a terminal
    etcd) [[ $(grep -c "is healthy" "$f") -eq 3 && $(grep -c "started" "$f") -ge 3 ]] ;;
    kube-nginx) [[ $(grep -cx "active" "$f") -eq 3 ]] ;;
    control-plane) [[ $(grep -cx "ok" "$f") -eq 2 ]] && grep -q "No resources found" "$f" ;;
    workers) [[ $(grep -cE "^k8s-[123] " "$f") -eq 3 ]] ;;
    addons) [[ $(grep -cE "^k8s-[123] +Ready " "$f") -eq 3 ]] && ! grep -E "^kube-system " "$f" | grep -vq " Running " ;;
  esac
}

