// The e2e's functional checks (.ci/lab/e2e-checks.sh) beyond pods and DNS: a Service's
// ClusterIP, its NodePort on every node, its name from every node, and a NetworkPolicy that
// denies then allows — which only weave-net enforces; with flannel or bridge the check must
// say that nothing enforces it rather than pass silently. bash runs the real script with
// stand-ins for kubectl, ssh and curl that answer as a lab would (or, told so, as a broken
// one); the lab run proves the commands against real nodes.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

/** Runs the checks for `cni` against a lab whose policy enforcement is `enforces`; `broken` names one answer it gets wrong. */
function checks(cni: string, enforces: boolean, broken = ""): { status: number | null; calls: string[]; stderr: string } {
  const dir = tmpdir("e2e-checks-");
  fs.mkdirSync(path.join(dir, "bin"));
  const kubectl = `#!/bin/bash
set -u
dir=${dir}; BROKEN='${broken}'; ENFORCES=${enforces ? 1 : 0}
args=()
while (($#)); do case $1 in --kubeconfig | --request-timeout) shift 2 ;; *) args+=("$1"); shift ;; esac; done
a="\${args[*]}"
echo "kubectl $a" >> $dir/calls.log
# etcd not committing in time: once for the first policy and the Service's delete, or always for that delete
if [[ $BROKEN == etcd-once && ( $a == "apply -f -" || $a == "delete service"* ) && ! -e "$dir/timed-out-\${a%% *}" ]] || [[ $BROKEN == etcd-always && $a == "delete service"* ]]; then
  touch "$dir/timed-out-\${a%% *}"; [[ $a == *" -f -" ]] && cat > /dev/null
  echo "Error from server: etcdserver: request timed out" >&2; exit 1
fi
# the apiserver giving up on a slow etcd (the existing-machines run met it on a get after the policies)
if [[ $BROKEN == apiserver-once && $a == "get service probe-web -o jsonpath="* && ! -e "$dir/gave-up" ]]; then
  touch "$dir/gave-up"
  echo "Error from server (Timeout): Timeout: request did not complete within requested timeout - context deadline exceeded" >&2; exit 1
fi
# an apiserver too loaded to finish the TLS handshake in kubectl's 10 s (run 39a, the first delete after the policies)
if [[ $BROKEN == handshake-once && $a == "delete pod probe-web "* && ! -e "$dir/no-handshake" ]]; then
  touch "$dir/no-handshake"
  echo "Unable to connect to the server: net/http: TLS handshake timeout" >&2; exit 1
fi
case $a in
  "get nodes --no-headers") for n in 1 2 3; do echo "k8s-$n Ready <none> 1m v1.36.0"; done ;;
  "get nodes -o wide") ;;
  "get node k8s-1 -o jsonpath="*) echo "localhost/k8s-lab/busybox:1.37.0 registry.k8s.io/pause:3.10.2" ;;
  "apply -f -") cat > $dir/policy; grep -q "name: probe-web-deny" $dir/policy && touch $dir/deny; grep -q "name: probe-web-allow" $dir/policy && touch $dir/allow; true ;;
  "apply -f "*) ;;
  "wait "* | "-n kube-system wait "*)
    # an apiserver taking 9 s an answer (run 40a, existing machines at load 10): one wait sees
    # its objects one after the other within its single --timeout
    if [[ $BROKEN == slow-api ]]; then
      t=\${a##*--timeout=}; t=\${t%%s*}; n=1; [[ $a == *"-l app=probe"* ]] && n=3
      ((t >= 9 * n)) || { echo "error: timed out waiting for the condition on pods/probe-k8s-3" >&2; exit 1; }
    fi ;;
  "get pods -l app=probe -o jsonpath="*) echo "k8s-1=10.32.0.2 k8s-2=10.40.0.1 k8s-3=10.44.0.1 " ;;
  "get pods -l app=probe -o name") ;;
  "get service probe-web -o jsonpath="*) echo 10.96.0.77 ;;
  "exec probe-k8s-"*" -- ping "* | "exec probe-k8s-3 -- true") ;;
  "exec probe-k8s-2 -- nslookup kubernetes.default.svc.cluster.local") echo "Address: 10.96.0.1" ;;
  "exec probe-k8s-"*" -- nslookup probe-web.default.svc.cluster.local")
    [[ $BROKEN == dns && $a == *k8s-3* ]] && exit 1; printf 'Name: probe-web.default.svc.cluster.local\\nAddress: 10.96.0.77\\n' ;;
  "exec probe-k8s-1 -- "*" http://10.96.0.77/")
    [[ $BROKEN == clusterip ]] && exit 1
    if [[ $ENFORCES == 1 && -e $dir/deny && ! -e $dir/allow ]]; then echo "wget: download timed out" >&2; exit 1; fi
    [[ $BROKEN == allow && -e $dir/allow ]] && exit 1
    # the in-pod command itself, run by Debian's busybox (what the lab's test image holds)
    # against a local web server standing for the Service
    cmd=("\${args[@]:3}"); cmd[\${#cmd[@]}-1]=http://127.0.0.1:$WEB_PORT/
    /bin/busybox "\${cmd[@]}" ;;
  "logs probe-k8s-3") echo "probe on k8s-3" ;;
  "delete "*) [[ $a == "delete networkpolicy"* ]] && rm -f $dir/deny $dir/allow; true ;;
  *) echo "unexpected kubectl: $a" >&2; exit 1 ;;
esac
`;
  fs.writeFileSync(path.join(dir, "bin", "kubectl"), kubectl, { mode: 0o755 });
  const script = `
    set -euo pipefail
    sleep() { SECONDS=$((SECONDS + \${1%.*})); }
    ssh() { printf 'ssh %s\\n' "\${*: -2}" >> ${dir}/calls.log; [[ \${*: -1} == *"endpoint health"* || \${*: -1} == *"get --raw /readyz"* ]]; }
    curl() { local u=\${*: -1}; printf 'curl %s\\n' "$u" >> ${dir}/calls.log; [[ '${broken}' == nodeport && $u == *192.168.253.141* ]] && return 7; echo probe-web; }
    export -f sleep ssh curl
    mkdir -p ${dir}/www && echo probe-web > ${dir}/www/index.html
    export WEB_PORT=$((20000 + RANDOM % 20000))
    /bin/busybox httpd -f -p 127.0.0.1:$WEB_PORT -h ${dir}/www & web=$!; command sleep 0.5
    trap 'kill $web' EXIT
    E2E_DIR=${dir} E2E_CNI=${cni} bash ${ROOT}/.ci/lab/e2e-checks.sh
  `;
  return runWithStandIns(script, dir);
}

describe("the e2e's checks of Services and NetworkPolicies", () => {
  it("weave: the ClusterIP from another node, the NodePort on every node, the name from every node; the deny blocks and the allow lets in", () => {
    const r = checks("weave", true);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr).toContain("ok: pod on k8s-1 reaches the Service's ClusterIP (10.96.0.77)");
    for (const [n, ip] of [["k8s-1", "140"], ["k8s-2", "139"], ["k8s-3", "141"]]) {
      expect(r.stderr).toContain(`ok: NodePort 30081 on ${n} (192.168.253.${ip}) serves it`);
      expect(r.stderr).toContain(`ok: pod on ${n} resolves probe-web.default.svc.cluster.local to 10.96.0.77`);
    }
    expect(r.stderr).toContain("ok: NetworkPolicy: weave-npc denies the probe on k8s-1 the web server");
    expect(r.stderr).toContain("ok: NetworkPolicy: weave-npc lets the probes in once a policy allows them");
    // the deny, then the allow, then both deleted; the web server gone too
    const order = ["apply -f -", "apply -f -", "delete networkpolicy probe-web-deny probe-web-allow --ignore-not-found", "delete pod probe-web --wait=false --ignore-not-found", "delete service probe-web --ignore-not-found"];
    const seen = r.calls.filter((c) => order.some((o) => c === `kubectl ${o}`)).map((c) => c.replace(/^kubectl /, ""));
    expect(seen).toEqual(order);
  });

  it("a request etcd did not commit in time (a leader election on loaded guests) is sent again, with its input: the checks pass", () => {
    const r = checks("weave", true, "etcd-once");
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr.match(/the API did not answer in time, sending again/g)).toHaveLength(2);
    // the deny policy went twice (the second time with its whole input: weave-npc then denied), the allow once
    expect(r.calls.filter((c) => c === "kubectl apply -f -")).toHaveLength(3);
    expect(r.stderr).toContain("ok: NetworkPolicy: weave-npc denies the probe on k8s-1 the web server");
    expect(r.calls.filter((c) => c === "kubectl delete service probe-web --ignore-not-found")).toHaveLength(2);
  });

  it("on an apiserver that takes 9 s an answer (the loaded lab of run 40a), each wait gives kubectl time to see every object: the checks pass", () => {
    const r = checks("weave", true, "slow-api");
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    for (const what of ["a pod running on every node", "CoreDNS ready", "web server pod ready"]) expect(r.stderr).toContain(`ok: ${what}`);
  });

  it("a request the apiserver gave up on (its own timeout, etcd slow) is sent again: the checks pass", () => {
    const r = checks("weave", true, "apiserver-once");
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr.match(/sending again: Error from server \(Timeout\)/g)).toHaveLength(1);
    expect(r.calls.filter((c) => c.startsWith("kubectl get service probe-web -o jsonpath="))).toHaveLength(2);
  });

  it("a request whose TLS handshake timed out (a loaded apiserver) is sent again: the checks pass", () => {
    const r = checks("bridge", false, "handshake-once");
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr.match(/sending again: Unable to connect to the server: net\/http: TLS handshake timeout/g)).toHaveLength(1);
    expect(r.calls.filter((c) => c === "kubectl delete pod probe-web --wait=false --ignore-not-found")).toHaveLength(2);
  });

  it("fails when etcd keeps timing out: three attempts, then the error", () => {
    const r = checks("weave", true, "etcd-always");
    expect(r.status).not.toBe(0);
    expect(r.calls.filter((c) => c === "kubectl delete service probe-web --ignore-not-found")).toHaveLength(3);
    expect(r.stderr).toMatch(/Error from server: etcdserver: request timed out\s*$/);
  });

  it.each(["flannel", "bridge"])("%s: says that nothing enforces the policy (and that the request went through), without failing", (cni) => {
    const r = checks(cni, false);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr).toContain(`NOT ENFORCED: cni ${cni} runs no NetworkPolicy controller`);
    expect(r.stderr).not.toContain("weave-npc");
    // only the deny was applied
    expect(r.calls.filter((c) => c === "kubectl apply -f -")).toHaveLength(1);
  });

  it.each([
    ["weave, yet nothing enforces the deny", "weave", false, "", "FAILED: NetworkPolicy: weave-npc denies the probe on k8s-1 the web server"],
    ["weave, the allow does not let the probes in", "weave", true, "allow", "FAILED: NetworkPolicy: weave-npc lets the probes in once a policy allows them"],
    ["bridge, yet the deny blocks", "bridge", true, "", "FAILED: cni bridge has no policy controller, yet the deny blocked the request"],
    ["the ClusterIP does not answer", "weave", true, "clusterip", "FAILED: pod on k8s-1 reaches the Service's ClusterIP (10.96.0.77)"],
    ["one node's NodePort does not answer", "weave", true, "nodeport", "FAILED: NodePort 30081 on k8s-3 (192.168.253.141) serves it"],
    ["the name does not resolve on one node", "weave", true, "dns", "FAILED: pod on k8s-3 resolves probe-web.default.svc.cluster.local to 10.96.0.77"],
  ])("fails when %s", (_, cni, enforces, broken, message) => {
    const r = checks(cni as string, enforces as boolean, broken as string);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
