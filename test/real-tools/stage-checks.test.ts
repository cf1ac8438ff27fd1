// The stage checks of `E2E_LAYERS=1 npm run lab:e2e` (.ci/lab/stage-checks.sh): they take
// each stage's verification commands from the program's own stage guide (the stack output
// upTo) and run them where the guide says — on this machine over SSH, through the project's
// pulumi, or as root on the named node (every node for "any node"). Here bash runs the real
// script with stand-ins for pulumi, the namespace's ssh and the nodes, which log where each
// command went and answer as a working (or broken) lab would; the lab run itself proves
// the commands against real nodes.
import * as fs from "fs";
import * as path from "path";
import { loadConfig, STAGES } from "../../components/config";
import { stageGuides } from "../../components/cluster/stage-guide";
import { ROOT, stackConfig } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

const config = loadConfig(stackConfig("dev")).config!;
const guides = stageGuides(config);

/** Runs guide_check STAGE against stand-ins; `broken` names an answer the lab gets wrong. */
function check(stage: string, broken = ""): { status: number | null; calls: string[]; stderr: string } {
  const dir = tmpdir("stage-checks-");
  const guide = guides.find((g) => g.stage === stage)!;
  fs.writeFileSync(path.join(dir, "guide.json"), JSON.stringify({ ...guide, next: "…" }));
  const script = `
    set -euo pipefail
    run=${dir}; STACK=e2e; NS=klab-test; STAGE=${stage}; BROKEN='${broken}'
    log() { printf '%s\\n' "$*" >> "$run/calls.log"; }
    sleep() { SECONDS=$((SECONDS + $1)); }
    # the lab's answers, by what the command asks
    answer() {
      local c=$1 i n ip
      case $c in
        *"cloud-init status"*) echo "status: done" ;;
        *"swapon --show"*) [[ $BROKEN == swap ]] && echo "/swap.img file 2G 0B -2" || true ;;
        # (as pulumi prints it when not on a terminal: one line of JSON)
        *"certificateExpiry"*) printf '{'; for i in $(seq 12); do printf '"cert-%s":"2027-12-05T16:00:00.1Z",' "$i"; done; printf '"etcd-ca":"2036-12-02T17:27:50.9Z"}\\n' ;;
        *"endpoint health"*) for ip in 140 139 141; do [[ $BROKEN == member && $ip == 141 ]] && continue; echo "https://192.168.253.$ip:2379 is healthy: committed proposal"; done ;;
        *"member list"*) for n in 1 2 3; do echo "| id$n | started | k8s-$n |"; done ;;
        *"is-active kube-nginx"*) echo active ;;
        *"/readyz"*) [[ $BROKEN == readyz ]] && return 1; printf ok ;;
        *"get nodes -o wide"*) for n in 1 2 3; do echo "k8s-$n   NotReady   <none>   1m   v1.36.0"; done ;;
        *"get nodes"*) if [[ $STAGE == control-plane ]]; then echo "No resources found" >&2; else for n in 1 2 3; do echo "k8s-$n   Ready   <none>   1m   v1.36.0"; done; fi ;;
        *"get pods -A"*) echo "kube-system   coredns-1   1/1   $([[ $BROKEN == pod ]] && echo Pending || echo Running)   0   1m" ;;
        *) echo "unexpected command: $c" >&2; return 1 ;;
      esac
    }
    pulumi() {
      if [[ "$*" == "stack output --stack e2e upTo --json" ]]; then cat "$run/guide.json"; return; fi
      log "pulumi $*"; answer "$*"
    }
    ip() { [[ "$1 $2 $3 $4" == "netns exec $NS ssh" ]] || return 9; log "this machine: $*"; answer "$*"; }
    on_node() { local c; c=$(cat); log "node $1: $2: $c"; answer "$c"; }
    source ${ROOT}/.ci/lab/stage-checks.sh
    start=$PWD
    guide_check "$STAGE"
    [[ $PWD == "$start" ]] || { echo "guide_check moved the working directory to $PWD" >&2; exit 7; }
  `;
  return runWithStandIns(script, dir);
}

describe("the stage checks of the layered lab run", () => {
  it("cover every stage the program knows, each with commands", () => {
    expect(guides.map((g) => g.stage)).toEqual([...STAGES]);
    expect(guides.every((g) => g.verify.length > 0)).toBe(true);
  });

  const where: Record<string, RegExp[]> = {
    vms: [/^this machine: .*ssh .*-i lab-key k8s@192\.168\.253\.140 cloud-init status$/, /^this machine: .*k8s@192\.168\.253\.140 sudo swapon --show$/],
    pki: [/^pulumi --stack e2e stack output certificateExpiry$/],
    etcd: [/^node 192\.168\.253\.140: sudo bash -s: .*etcdctl .*endpoint health --cluster$/, /^node 192\.168\.253\.140: .*member list -w table$/],
    "kube-nginx": ["140", "139", "141"].map((ip) => new RegExp(`^node 192\\.168\\.253\\.${ip}: sudo bash -s: systemctl is-active kube-nginx$`)),
    "control-plane": [/^node 192\.168\.253\.140: .*get --raw \/readyz$/, /^node 192\.168\.253\.140: .*--server https:\/\/127\.0\.0\.1:8443 get --raw \/readyz$/, /^node 192\.168\.253\.140: .*get nodes$/],
    workers: [/^node 192\.168\.253\.140: .*get nodes -o wide$/],
    addons: [/^node 192\.168\.253\.140: .*get nodes$/, /^node 192\.168\.253\.140: .*get pods -A$/],
  };
  it.each([...STAGES])("%s: every command runs where the guide says, once, and the stage passes", (stage) => {
    const r = check(stage);
    expect(r.stderr).toContain(`ok: upTo ${stage}`);
    expect(r.status).toBe(0);
    expect(r.calls).toHaveLength(where[stage].length);
    where[stage].forEach((re, i) => expect(r.calls[i]).toMatch(re));
  });

  it.each([
    ["vms", "swap"],
    ["etcd", "member"],
    ["control-plane", "readyz"],
    ["addons", "pod"],
  ])("%s fails when the lab answers wrong (%s)", (stage, broken) => {
    const r = check(stage, broken);
    expect(r.calls.length).toBeGreaterThan(0); // the check ran, and failed on what it was told
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toContain("ok: upTo");
  });
});
