// The faults of `E2E_FAULTS=1 npm run lab:e2e` (.ci/lab/faults.sh): bash runs the real
// script with stand-ins for the lab (the nodes over SSH, kubectl, virsh, pulumi), which log
// each call and answer as a lab that survives the fault would — or, told so, as one that
// does not. The lab run itself breaks the real cluster; this proves the script notices when
// a fault is not survived, and that it asks what the issue names in the order it names.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

function faults(call: string, broken = "", env = ""): { status: number | null; calls: string[]; stderr: string } {
  const dir = tmpdir("faults-");
  fs.mkdirSync(path.join(dir, "bin"));
  // the lab's kubectl called as it is, outside the lab's namespace (ns): there the node
  // addresses are not the lab's (the faults run of 2026-12-07 asked 192.168.253.139:6443 so
  // for 300 s and something outside answered); it records the call, and every test checks none
  fs.writeFileSync(path.join(dir, "bin", "kubectl"), `#!/bin/bash\necho "$*" >> ${dir}-outside-ns.log\nexit 1\n`, { mode: 0o755 });
  const script = `
    set -euo pipefail
    run=${dir}; STACK=e2e; NS=klab-test; CLUSTER=klab-e2e; here=${ROOT}/.ci/lab; BROKEN='${broken}'; ${env}
    log() { printf '%s\\n' "$*" >> "$run/calls.log"; }
    sleep() { SECONDS=$((SECONDS + \${1%.*})); }
    phase() { log "phase $1"; }
    stopped=""
    on_node() {
      local ip=$1; shift; log "node $ip: $*"
      case $* in
        *"systemctl stop kube-apiserver"*) stopped=$ip ;;
        *"systemctl start kube-apiserver"*) stopped="" ;;
        *"kubelet.conf get --raw /readyz"*) [[ $BROKEN == proxy && $ip == 192.168.253.141 ]] && return 1; echo ok ;;
        *"https://127.0.0.1:6443/readyz"*) [[ $BROKEN == restart ]] && return 1; return 0 ;;
        *"systemctl stop etcd && "*) touch "$run/etcd-lost" ;;
        *"endpoint health"*) [[ -e $run/etcd-lost && $* == *192.168.253.141:2379* ]] && return 1; echo healthy ;;
        # k8s-3's member's own store: nothing while its data is lost; the write during the loss only once it rejoined
        *"get --consistency=s --keys-only --prefix /registry/configmaps/default/"*)
          [[ -e $run/etcd-lost && $ip == 192.168.253.141 ]] && return 1
          echo /registry/configmaps/default/fault-etcd-before; echo
          [[ $BROKEN == lost-write ]] || echo /registry/configmaps/default/fault-etcd-during ;;
        *) echo "unexpected on $ip: $*" >&2; return 1 ;;
      esac
    }
    kubectl_ns() {
      log "kubectl $*"
      # the admin kubeconfig's endpoint is the first node; --server picks another apiserver
      # (with E2E_APISERVER_ENDPOINT a name of every control-plane node, which answers while any apiserver runs)
      local server=https://192.168.253.140:6443
      [[ -n \${E2E_APISERVER_ENDPOINT:-} ]] && server=https://api.klab-e2e.lab:6443
      if [[ $1 == --server ]]; then server=$2; shift 2; fi
      case $* in
        "config view"*) echo "$server"; return 0 ;;
      esac
      if [[ $server == "https://$stopped:6443" && $BROKEN != first-answers ]]; then echo "connection refused" >&2; return 1; fi
      if [[ $server == https://api.klab-e2e.lab:6443 && $BROKEN == name-is-first-only && $stopped == 192.168.253.140 ]]; then echo "connection refused" >&2; return 1; fi
      case $* in
        "get --raw /readyz") [[ $BROKEN == admin ]] && return 1; echo ok ;;
        "get nodes --no-headers") for n in 1 2 3; do echo "k8s-$n $([[ $BROKEN == notready && $n == 2 ]] && echo NotReady || echo Ready) <none> 1m v1.36.0"; done ;;
        "get node k8s-1 -o jsonpath"*) echo "localhost/k8s-lab/busybox:1.37.0" ;;
        "get deployment fault-"*" -o jsonpath={.status.readyReplicas}") [[ $BROKEN == deployment ]] && echo 2 || echo 3 ;;
        "create deployment"* | "delete deployment"* | "create configmap"* | "delete configmap"*) ;;
        *) echo "unexpected kubectl: $*" >&2; return 1 ;;
      esac
    }
    rebuild=""
    ns() {
      log "ns $*"
      case $1 in
        virsh) return 0 ;;
        bash) [[ $BROKEN == checks ]] && return 1; return 0 ;;
        pulumi)
          case $2 in
            config) [[ $3 == set ]] && rebuild=1; [[ $3 == rm ]] && rebuild=""; return 0 ;;
            up)
              [[ -z $rebuild && $BROKEN != up-ignores ]] && { echo "error: rebuildNodes: k8s-2 ran after the last up, and now its domain and its disk are gone from libvirt (qemu:///system): this up would leave the node without a machine"; return 255; }
              [[ -n $rebuild && $BROKEN == rebuild ]] && { echo "error: volume-k8s-2 failed"; return 255; }
              [[ $BROKEN == rejoin ]] || rm -f "$run/etcd-lost"
              return 0 ;;
          esac
          [[ $BROKEN == churn ]] && { echo "1 to update" > /dev/stdout; return 255; }; return 0 ;;
        *) echo "unexpected ns: $*" >&2; return 1 ;;
      esac
    }
    source ${ROOT}/.ci/lab/faults.sh
    ${call}
    printf '%s\\n' "\${fault_times[@]}" >&2
  `;
  const r = runWithStandIns(script, dir);
  const outside = `${dir}-outside-ns.log`; // beside the stand-ins' directory, which runWithStandIns removes
  const asked = fs.existsSync(outside) ? fs.readFileSync(outside, "utf8") : "nothing asked outside the lab's namespace";
  fs.rmSync(outside, { force: true });
  expect(asked).toBe("nothing asked outside the lab's namespace");
  return r;
}

describe("the faults of the lab run (stand-in lab)", () => {
  it("stops each control-plane node's apiserver in turn, checks what the issue names, starts it, previews no change", () => {
    const r = faults("fault_apiserver_stopped");
    expect(r.stderr).not.toMatch(/FAILED|unexpected/);
    expect(r.status).toBe(0);
    const stops = r.calls.filter((c) => /systemctl (stop|start) kube-apiserver/.test(c));
    expect(stops).toEqual(["140", "139", "141"].flatMap((ip) => [`node 192.168.253.${ip}: sudo systemctl stop kube-apiserver`, `node 192.168.253.${ip}: sudo systemctl start kube-apiserver`]));
    // while stopped: the admin kubeconfig, every node's local proxy, a new Deployment, the nodes
    const during = r.calls.slice(r.calls.indexOf(stops[0]), r.calls.indexOf(stops[1]));
    expect(during.filter((c) => c.includes("kubelet.conf get --raw /readyz"))).toHaveLength(3);
    // the admin kubeconfig (the first node) is asked and fails; then the credentials go to k8s-2's apiserver
    expect(during).toEqual(expect.arrayContaining(["kubectl get --raw /readyz", "kubectl --server https://192.168.253.139:6443 get --raw /readyz", "kubectl --server https://192.168.253.139:6443 get nodes --no-headers"]));
    expect(during.some((c) => c.startsWith("kubectl --server https://192.168.253.139:6443 create deployment fault-k8s-1 "))).toBe(true);
    // with another node's apiserver stopped, the admin kubeconfig's own endpoint serves
    const second = r.calls.slice(r.calls.indexOf(stops[2]), r.calls.indexOf(stops[3]));
    expect(second.some((c) => c.startsWith("kubectl create deployment fault-k8s-2 "))).toBe(true);
    expect(r.calls.filter((c) => c.startsWith("ns pulumi preview --stack e2e --expect-no-changes"))).toHaveLength(3);
    expect(r.stderr.match(/measured: k8s-\d.s apiserver started again: ready/g)).toHaveLength(3);
  });

  it("with apiserverEndpoint a name of every control-plane node, the admin kubeconfig itself answers while the first node's apiserver is stopped", () => {
    const r = faults("fault_apiserver_stopped", "", "E2E_APISERVER_ENDPOINT=1");
    expect(r.stderr).not.toMatch(/FAILED|unexpected/);
    expect(r.status).toBe(0);
    const stops = r.calls.filter((c) => /systemctl (stop|start) kube-apiserver/.test(c));
    expect(stops).toHaveLength(6);
    const during = r.calls.slice(r.calls.indexOf(stops[0]), r.calls.indexOf(stops[1]));
    expect(during).toEqual(expect.arrayContaining(["kubectl config view -o jsonpath={.clusters[0].cluster.server}", "kubectl get --raw /readyz", "kubectl get nodes --no-headers"]));
    expect(during.some((c) => c.startsWith("kubectl create deployment fault-k8s-1 "))).toBe(true);
    expect(r.calls.filter((c) => c.includes("--server"))).toEqual([]);
    expect(r.stderr).toMatch(/ok: the admin credentials through the admin kubeconfig with k8s-1's apiserver stopped/);
    // a name that leads only to the first node fails as the default endpoint would
    const broken = faults("fault_apiserver_stopped", "name-is-first-only", "E2E_APISERVER_ENDPOINT=1");
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/FAILED within 60 s: the admin credentials through the admin kubeconfig with k8s-1's apiserver stopped/);
  });

  it.each([
    ["first-answers", /the admin kubeconfig \(https:\/\/192\.168\.253\.140:6443\) answered with the first node's apiserver stopped/],
    ["admin", /FAILED within 60 s: the admin credentials through https:\/\/192\.168\.253\.139:6443/],
    ["proxy", /FAILED within 60 s: k8s-3: the API through its local proxy/],
    ["deployment", /FAILED within 300 s: a new Deployment \(fault-k8s-1\) has 3 pods running/],
    ["notready", /not every node is Ready with k8s-1's apiserver stopped/],
    ["restart", /FAILED within 900 s: k8s-1's apiserver ready again/],
    ["churn", /after the fault 'apiserver stopped on k8s-1' was repaired, the preview is not empty/],
  ])("fails when the lab does not survive it (%s)", (broken, message) => {
    const r = faults("fault_apiserver_stopped", broken);
    expect(r.calls.length).toBeGreaterThanOrEqual(3); // it got as far as breaking the lab
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it("counts the local-proxy probe's requests and failures between two moments, and apart those a not-ready apiserver answered", () => {
    const k1 = ["100 k8s-1 ok", "101 k8s-1 FAIL 000 ", "102 k8s-1 FAIL 500 [-]etcd [-]etcd-readiness ", "105 k8s-1 ok", "106 k8s-1 FAIL 500 [-]poststarthook/start-service-ip-repair-controllers "];
    const k3 = ["101 k8s-3 FAIL 403 ", "106 k8s-3 FAIL 500 [-]etcd [-]informer-sync ", "107 k8s-3 FAIL 500 [-]etcd-readiness "];
    const r = faults(`printf '%s\\n' ${k1.map((l) => `'${l}'`).join(" ")} > "$run/proxy-probe-k8s-1.log"; printf '%s\\n' ${k3.map((l) => `'${l}'`).join(" ")} > "$run/proxy-probe-k8s-3.log"; echo "[$(probe_count 100 105)] [$(probe_count 105 200)] [$(probe_not_ready 100)] [$(probe_not_ready 106)] [$(probe_not_ready 107)]" >&2`);
    expect(r.status).toBe(0);
    // not ready: 403, a post-start hook, informer sync; slow: no answer, etcd's checks
    expect(r.stderr).toContain("[4 requests, 3 failed (1 answered by a not-ready apiserver)] [4 requests, 3 failed (2 answered by a not-ready apiserver)] [3] [2] [0]");
  });

  it.each([
    ["ok\\n200", /^ok$/],
    ["forbidden\\n403", /^FAIL 403 $/], // anonymous, before the apiserver's RBAC roles exist: not ready
    ["\\n000", /^FAIL 000 $/], // no answer within the probe's time
    ["[+]ping ok\\n[-]etcd failed: reason withheld\\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\\nreadyz check failed\\n500", /^FAIL 500 \[-\]etcd \[-\]poststarthook\/rbac\/bootstrap-roles $/],
  ])("the local-proxy probe asks /readyz through every other node's proxy about once a second and records '%s' as %s", (answer, want) => {
    // the probe's own loop runs in bash here, with a curl that answers as told
    const r = faults(`
      printf '#!/bin/bash\\nprintf "$(cat %s/answer)"\\n' "$run" > "$run/bin/curl"; chmod +x "$run/bin/curl"; printf '%s' '${answer}' > "$run/answer"
      on_node() { log "probe $1"; PATH="$run/bin:$PATH" bash -c "$2"; }
      probe_start k8s-2; command sleep 4.5; probe_stop
      cat "$run"/proxy-probe-k8s-1.log "$run"/proxy-probe-k8s-3.log >&2`);
    expect(r.status).toBe(0);
    expect(r.calls.sort()).toEqual(["probe 192.168.253.140", "probe 192.168.253.141"]);
    const lines = r.stderr.split("\n").filter((l) => /^\d+ k8s-/.test(l));
    for (const node of ["k8s-1", "k8s-3"]) {
      const mine = lines.filter((l) => l.split(" ")[1] === node);
      // (a second apart: 4 or 5 in 4.5 s; 2 to 6 on a busy machine)
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.length).toBeLessThanOrEqual(6);
      for (const l of mine) expect(l.replace(/^\d+ k8s-\d /, "")).toMatch(want);
    }
  });

  it("a fault that fails stops the local-proxy probes it started (left running, they outlived the run)", () => {
    const r = faults(`
      printf 'while :; do sleep 0.2; done\\n' > "$run/probe-stand-in.sh"
      on_node() { bash "$run/probe-stand-in.sh"; }
      fault_node_powered_off() { probe_start k8s-2; command sleep 0.5; log "running: $(pgrep -fc "$run/probe-stand-in.sh")"; return 1; }
      E2E_FAULTS=node-powered-off run_faults || log "failed"
      command sleep 0.5; log "left: $(pgrep -fc "$run/probe-stand-in.sh") [\${probes[*]}]"`);
    expect(r.calls).toEqual(["running: 2", "failed", "left: 0 []"]);
  });

  it("fails at the end of the faults when the restarted node's apiserver got requests before it was ready", () => {
    const stub = "fault_apiserver_stopped() { :; }; fault_node_powered_off() { probe_failed=4; }; fault_all_rebooted() { log rebooted; }; fault_etcd_data_lost() { log rejoined; }; fault_vm_rebuilt() { log rebuilt; }; E2E_FAULTS=1 run_faults";
    const r = faults(stub);
    expect(r.calls).toEqual(["rebooted", "rejoined", "rebuilt"]); // every fault ran first, in this order
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("after k8s-2 started, 4 requests through the other nodes' local proxies were answered by a not-ready apiserver");
    expect(faults(stub.replace("probe_failed=4", "probe_failed=0")).status).toBe(0);
  });

  it("runs the faults E2E_FAULTS names, in the run's order (1: every one); a name it does not know stops it before any fault", () => {
    const stubs = "for f in apiserver_stopped node_powered_off all_rebooted etcd_data_lost vm_rebuilt; do eval \"fault_$f() { log $f; }\"; done;";
    const all = faults(`${stubs} E2E_FAULTS=1 run_faults`);
    expect(all.status).toBe(0);
    expect(all.calls).toEqual(["apiserver_stopped", "node_powered_off", "all_rebooted", "etcd_data_lost", "vm_rebuilt"]);
    // named in another order, with a comma and a space: run in the run's order
    const some = faults(`${stubs} E2E_FAULTS='vm-rebuilt,node-powered-off etcd-data-lost' run_faults`);
    expect(some.status).toBe(0);
    expect(some.calls).toEqual(["node_powered_off", "etcd_data_lost", "vm_rebuilt"]);
    expect(some.stderr).toContain("faults: node-powered-off etcd-data-lost vm-rebuilt");
    const none = faults(`${stubs} E2E_FAULTS=' , ' run_faults`);
    expect({ status: none.status, calls: none.calls }).toEqual({ status: 1, calls: [] });
    expect(none.stderr).toContain("E2E_FAULTS names no fault");
    const unknown = faults(`${stubs} E2E_FAULTS='node-powered-off,node-off' run_faults`);
    expect(unknown.status).not.toBe(0);
    expect(unknown.calls).toEqual([]);
    expect(unknown.stderr).toContain("E2E_FAULTS: no fault 'node-off': 1 for all, or some of: apiserver-stopped node-powered-off all-rebooted etcd-data-lost vm-rebuilt");
  });

  it("npm run lab:e2e stops at once, before anything starts, when E2E_FAULTS names a fault it does not know", () => {
    const cache = tmpdir("faults-cache-");
    // only what the script needs before it starts anything: were the check gone, the next
    // command it ran (a build, libvirt) would not be found
    const bin = path.join(cache, "bin");
    fs.mkdirSync(bin);
    for (const tool of ["id", "dirname"]) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    const r = spawnSync("/bin/bash", [path.join(ROOT, ".ci/lab/e2e.sh")], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: bin, HOME: cache, K8S_LAB_CACHE: cache, E2E_FAULTS: "node-powered-off,node-off", E2E_CNI: "bridge", E2E_UI: "none" },
    });
    fs.rmSync(bin, { recursive: true });
    const made = fs.readdirSync(cache);
    fs.rmSync(cache, { recursive: true, force: true });
    if (process.getuid?.() !== 0) {
      expect(r.stderr).toContain("needs root"); // the first thing it checks
      return;
    }
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("lab:e2e: E2E_FAULTS: no fault 'node-off': 1 for all, or some of: apiserver-stopped node-powered-off all-rebooted etcd-data-lost vm-rebuilt");
    expect(made).toEqual([]);
  });

  it("loses k8s-3's etcd data; the up with etcdRejoin gives it back: every member healthy, the writes before and during the loss on it, no change once the name is out", () => {
    const r = faults("fault_etcd_data_lost");
    expect(r.stderr).not.toMatch(/FAILED|unexpected/);
    expect(r.status).toBe(0);
    const main = r.calls.filter((c) => /^ns pulumi|systemctl stop etcd/.test(c)).map((c) => c.replace(/ --stack e2e| --non-interactive| --yes| --skip-preview/g, ""));
    expect(main).toEqual([
      "node 192.168.253.141: sudo systemctl stop etcd && sudo find /var/lib/etcd -mindepth 1 -delete && sudo systemctl start --no-block etcd",
      "ns pulumi config set --path etcdRejoin[0] k8s-3",
      "ns pulumi up",
      "ns pulumi config rm etcdRejoin",
      "ns pulumi preview --expect-no-changes",
    ]);
    // the write before the loss was on the member before it is broken, and both are read from its own store after the up
    const reads = r.calls.flatMap((c, i) => (c.startsWith("node 192.168.253.141: ") && c.includes("--consistency=s") ? [i] : []));
    expect(reads[0]).toBeLessThan(r.calls.indexOf(main[0]));
    expect(reads[reads.length - 1]).toBeGreaterThan(r.calls.indexOf("ns pulumi up --stack e2e --yes --skip-preview --non-interactive"));
    expect(r.stderr).toContain("k8s-3's member: not healthy with its data gone");
    expect(r.stderr).toMatch(/measured: k8s-3's etcd data lost: every member healthy, the cluster's data on it: +\d+ s/);
  });

  it.each([
    ["rejoin", /FAILED within 300 s: etcd: every member healthy, k8s-3's new one too/],
    ["lost-write", /FAILED within 120 s: k8s-3's new member holds the writes made before and during the loss/],
    ["churn", /after the fault 'k8s-3's etcd data lost' was repaired, the preview is not empty/],
  ])("fails when the member is not given back as it should be (%s)", (broken, message) => {
    const r = faults("fault_etcd_data_lost", broken);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it("deletes k8s-2's VM by hand; the up must refuse naming rebuildNodes; with it the up makes the machine again, then etcd, nodes, checks, and no change once the name is out", () => {
    const r = faults("fault_vm_rebuilt");
    expect(r.stderr).not.toMatch(/FAILED|unexpected/);
    expect(r.status).toBe(0);
    const main = r.calls.filter((c) => /^ns (virsh|pulumi|bash)/.test(c)).map((c) => c.replace(/ --stack e2e| --non-interactive| --yes| --skip-preview/g, ""));
    expect(main).toEqual([
      "ns virsh -q -c qemu:///system destroy klab-e2e-k8s-2",
      "ns virsh -q -c qemu:///system undefine klab-e2e-k8s-2",
      "ns virsh -q -c qemu:///system vol-delete --pool klab-e2e klab-e2e-k8s-2.qcow2",
      "ns pulumi up",
      "ns pulumi config set --path rebuildNodes[0] k8s-2",
      "ns pulumi up",
      `ns bash ${ROOT}/.ci/lab/e2e-checks.sh`,
      "ns pulumi config rm rebuildNodes",
      "ns pulumi preview --expect-no-changes",
    ]);
    expect(r.calls.filter((c) => c.includes("endpoint health"))).toHaveLength(1);
    expect(r.stderr).toMatch(/measured: k8s-2's VM deleted by hand: pulumi up \(rebuildNodes\) made it again: +\d+ s/);
  });

  it.each([
    ["up-ignores", /pulumi up ran as if nothing happened with k8s-2's machine gone/],
    ["rebuild", /pulumi up with rebuildNodes: \[k8s-2\] failed/],
    ["checks", /measured: k8s-2's VM deleted by hand: etcd healthy and every node Ready/], // then the checks fail
    ["churn", /after the fault 'k8s-2's VM made again' was repaired, the preview is not empty/],
  ])("fails when the VM is not made again as it should be (%s)", (broken, message) => {
    const r = faults("fault_vm_rebuilt", broken);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
