// etcd membership for real: the apply and delete scripts of the etcd steps the plan makes
// run under bash against the pinned etcd and etcdctl (built by test/upstream/build.sh),
// with the PKI issued as the program issues it. Three members bootstrap, a fourth joins
// (etcdctl member add, initial-cluster-state existing), leaves (member remove through its
// own etcd, data kept aside) and joins again. Then another three-member cluster loses one
// member's data and gets it back with etcdRejoin. The members listen on loopback addresses
// 127.0.1.11–14 and 127.0.1.21–23 on this machine; what the test rewrites, and nothing else: each member's
// paths (/etc, /var/lib, /usr/local/bin) go under a scratch directory, `127.0.0.1` becomes
// the member's own address (they share one loopback), and `systemctl` is a stub that runs
// the unit's ExecStart.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ClusterConfig, EtcdJoin, LastUp, lastUpProblems, loadConfig } from "../../components/config";
import { HostStepPlan, renderApplyScript, renderDeleteScript, resolvedFiles } from "../../components/host/plan";
import { planEtcdHealthGate, planEtcdMember, planEtcdMembership, planEtcdMembershipOf } from "../../components/etcd/plan";
import { issueTestPki } from "../../tools/test-pki";
import { MaterialRef } from "../../components/pki/material";
import { ROOT, stackConfig } from "../harness";
import { tmpdir } from "../tools";

const BIN = path.join(ROOT, "test/upstream/.bin");
const IPS = ["127.0.1.11", "127.0.1.12", "127.0.1.13", "127.0.1.14"];
const nodes = (n: number, prefix: string, ips: string[]) => ips.slice(0, n).map((ip, i) => `name=${prefix}-${i + 1} ip=${ip} roles=etcd,control-plane,worker`);
const configOf = (n: number, o: { prefix?: string; ips?: string[]; values?: Record<string, unknown> } = {}): ClusterConfig => {
  const r = loadConfig({ ...stackConfig("dev"), nodeCidr: "127.0.1.0/24", nodes: nodes(n, o.prefix ?? "m", o.ips ?? IPS), ...o.values });
  if (!r.config) throw new Error(r.errors.map((e) => `${e.key}: ${e.message}`).join("\n"));
  return r.config;
};

/** systemctl for one member: its units are files under $MEMBER_ROOT; `etcd` runs from ExecStart. */
const SYSTEMCTL = `#!/bin/bash
verb=; units=()
for a in "$@"; do case $a in -*) [[ $a == --now ]] && now=1 ;; *) if [[ -z $verb ]]; then verb=$a; else units+=("$a"); fi ;; esac; done
pidf=$MEMBER_ROOT/etcd.pid
running() { [[ -s $pidf ]] && kill -0 "$(cat "$pidf")" 2>/dev/null; }
stop() { if running; then kill "$(cat "$pidf")"; for _ in $(seq 50); do running || break; sleep 0.1; done; fi; rm -f "$pidf"; }
# ExecStart, its continuation lines joined
start() { local cmd; cmd=$(sed -e ':a' -e '/\\\\$/{N;s/\\\\\\n[[:space:]]*/ /;ba' -e '}' "$MEMBER_ROOT/etc/systemd/system/etcd.service" | sed -n 's/^ExecStart=//p'); setsid $cmd >>"$MEMBER_ROOT/etcd.log" 2>&1 </dev/null & echo $! >"$pidf"; }
case $verb in
  daemon-reload|enable) exit 0 ;;
  start) running || start ;;
  restart) stop; start ;;
  stop) stop ;;
  disable) [[ -n \${now:-} ]] && stop; exit 0 ;;
  is-active) running ;;
  *) echo "systemctl stub: $verb is not handled" >&2; exit 1 ;;
esac
`;

interface Member {
  name: string;
  ip: string;
  root: string;
}
let scratch = "";
const members = new Map<string, Member>();

function member(name: string, ip: string): Member {
  const m = members.get(name);
  if (m) return m;
  const root = path.join(scratch, name);
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  for (const b of ["etcd", "etcdctl"]) fs.symlinkSync(path.join(BIN, b), path.join(root, "bin", b));
  fs.writeFileSync(path.join(root, "bin/systemctl"), SYSTEMCTL, { mode: 0o755 });
  const created = { name, ip, root };
  members.set(name, created);
  return created;
}

/** The step as it lands on `m` in this test: paths under its root, its own address for 127.0.0.1. */
function localize(step: HostStepPlan, m: Member, material: (ref: MaterialRef) => string): HostStepPlan {
  const rewrite = (s: string) =>
    s
      .replaceAll("https://127.0.0.1:2379", `https://${m.ip}:2379`)
      .replaceAll("127.0.0.1:2381", `${m.ip}:2381`)
      .replaceAll("/usr/local/bin/", `${m.root}/bin/`)
      .replaceAll("/etc/", `${m.root}/etc/`)
      .replaceAll("/var/lib/", `${m.root}/var/lib/`)
      // the member's own address already listens for clients
      .replaceAll(`https://${m.ip}:2379,https://${m.ip}:2379`, `https://${m.ip}:2379`);
  return {
    ...step,
    files: resolvedFiles(step, material).map((f) => ({ path: rewrite(f.path), mode: f.mode, owner: f.owner, content: rewrite(f.text) })),
    activate: step.activate.map(rewrite),
    deactivate: step.deactivate.map(rewrite),
    afterRemove: step.afterRemove?.map(rewrite),
    createdPaths: step.createdPaths?.map(rewrite),
  };
}

function bash(script: string, m: Member): { status: number; out: string } {
  const r = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${m.root}/bin:${process.env.PATH}`, MEMBER_ROOT: m.root },
    timeout: 200000,
  });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

const etcdctl = (m: Member, args: string) =>
  bash(
    `${m.root}/bin/etcdctl --endpoints=https://${m.ip}:2379 --cacert=${m.root}/etc/kubernetes/pki/etcd/ca.crt --cert=${m.root}/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=${m.root}/etc/kubernetes/pki/etcd/healthcheck-client.key ${args}`,
    m,
  );
/** `name started|unstarted` for every member, sorted. */
const memberList = (m: Member) =>
  etcdctl(m, "member list")
    .out.trim()
    .split("\n")
    .map((l) => l.split(", "))
    .map((f) => `${f[2] || "(unnamed)"} ${f[1]}`)
    .sort();

const skip = process.env.K8SLAB_SKIP_ETCD === "1";
(skip ? describe.skip : describe)("etcd membership against real etcd members (loopback)", () => {
  beforeAll(() => {
    for (const b of ["etcd", "etcdctl"]) if (!fs.existsSync(path.join(BIN, b))) throw new Error(`${BIN}/${b} is missing: build it with 'bash test/upstream/build.sh' (npm test does)`);
    if (process.getuid?.() !== 0) throw new Error("the real-etcd test writes files owned by root:root as the steps do; run it as root (CI does), or set K8SLAB_SKIP_ETCD=1 to skip it knowingly");
    scratch = tmpdir("etcd-members-");
  });
  afterAll(() => {
    for (const m of members.values()) bash("systemctl stop etcd", m);
    if (scratch && !process.env.K8SLAB_KEEP_SCRATCH) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("bootstraps three members, lets a fourth join and leave and join again, and refuses to leave when its etcd is down", async () => {
    const three = configOf(3);
    const four = configOf(4);
    const pki = await issueTestPki(four);
    const first = planEtcdMembership(three, undefined, new Set());
    const apply = (step: HostStepPlan, m: Member) => bash(renderApplyScript(localize(step, m, pki.material), pki.material), m);
    const undo = (step: HostStepPlan, m: Member) => bash(renderDeleteScript(localize(step, m, pki.material)), m);
    const node = (c: ClusterConfig, name: string) => c.nodes.find((n) => n.name === name)!;
    const m1 = member("m-1", IPS[0]);

    // the first up: three members bootstrap (none waits for the others), the gate waits for all
    for (const n of three.nodes) {
      const r = apply(planEtcdMember(three, n, first.joins[n.name]), member(n.name, n.ip));
      expect({ node: n.name, ...r }).toMatchObject({ node: n.name, status: 0 });
    }
    const gate = apply(planEtcdHealthGate(three), m1);
    expect({ ...gate, log: gate.status === 0 ? "" : fs.readFileSync(path.join(m1.root, "etcd.log"), "utf8").slice(-3000) }).toMatchObject({ status: 0 });
    for (const n of three.nodes) expect(apply(planEtcdMembershipOf(n), member(n.name, n.ip))).toMatchObject({ status: 0 });
    expect(memberList(m1)).toEqual(["m-1 started", "m-2 started", "m-3 started"]);

    // the next up adds m-4: announced, then started with the membership at that moment
    const grown = planEtcdMembership(four, first.joins, new Set(["m-1", "m-2", "m-3"]));
    expect(grown.joining).toEqual(["m-4"]);
    const join: EtcdJoin = grown.joins["m-4"];
    const m4 = member("m-4", IPS[3]);
    const joined = apply(planEtcdMember(four, node(four, "m-4"), join), m4);
    expect(joined.status === 0 ? "" : joined.out).toBe("");
    expect(memberList(m1)).toEqual(["m-1 started", "m-2 started", "m-3 started", "m-4 started"]);
    expect(apply(planEtcdMembershipOf(node(four, "m-4")), m4)).toMatchObject({ status: 0 });
    // re-running the join (same plan, e.g. after a failed up) changes nothing
    expect(apply(planEtcdMember(four, node(four, "m-4"), join), m4)).toMatchObject({ status: 0 });
    expect(memberList(m1)).toHaveLength(4);
    // a running member's write is seen by the new one
    expect(etcdctl(m1, "put /lab/probe written-on-m-1")).toMatchObject({ status: 0 });
    expect(etcdctl(m4, "get /lab/probe --print-value-only").out.trim()).toBe("written-on-m-1");

    // m-4 leaves: out of the member list through its own etcd, then its etcd step goes
    const leave = undo(planEtcdMembershipOf(node(four, "m-4")), m4);
    // (its output when it fails: it failed once in a loaded CI run on 2026-12-05, cause not seen)
    expect(leave.status === 0 ? "" : leave.out).toBe("");
    expect(leave).toMatchObject({ status: 0 });
    expect(leave.out).toContain("etcd member m-4");
    expect(undo(planEtcdMember(four, node(four, "m-4"), join), m4)).toMatchObject({ status: 0 });
    expect(memberList(m1)).toEqual(["m-1 started", "m-2 started", "m-3 started"]);
    expect(fs.readdirSync(path.join(m4.root, "var/lib")).filter((d) => d.startsWith("etcd.removed-"))).toHaveLength(1);
    expect(etcdctl(m1, "endpoint health --cluster")).toMatchObject({ status: 0 });

    // and joins again (a fresh data directory; the old one stays aside)
    expect(apply(planEtcdMember(four, node(four, "m-4"), join), m4)).toMatchObject({ status: 0 });
    expect(memberList(m1)).toEqual(["m-1 started", "m-2 started", "m-3 started", "m-4 started"]);

    // a member whose etcd is down cannot take itself out: the step fails and says what to do
    expect(bash("systemctl stop etcd", m4)).toMatchObject({ status: 0 });
    const stuck = undo(planEtcdMembershipOf(node(four, "m-4")), m4);
    expect(stuck.status).toBe(1);
    expect(stuck.out).toContain("etcd on m-4 does not answer, so it cannot take itself out of the cluster");
    expect(stuck.out).toContain("etcdctl member remove <ID of https://127.0.1.14:2380>");
  }, 300000);

  it("gives a member that lost its data back to the cluster with etcdRejoin: taken out through the others, added back empty, filled from them; once", async () => {
    const ips = ["127.0.1.21", "127.0.1.22", "127.0.1.23"];
    const c = configOf(3, { prefix: "r", ips });
    const pki = await issueTestPki(c);
    const apply = (step: HostStepPlan, m: Member) => bash(renderApplyScript(localize(step, m, pki.material), pki.material), m);
    const undo = (step: HostStepPlan, m: Member) => bash(renderDeleteScript(localize(step, m, pki.material)), m);
    const node = (name: string) => c.nodes.find((n) => n.name === name)!;
    const first = planEtcdMembership(c, undefined, new Set());
    for (const n of c.nodes) expect(apply(planEtcdMember(c, n, first.joins[n.name]), member(n.name, n.ip))).toMatchObject({ status: 0 });
    const r1 = member("r-1", ips[0]);
    const r2 = member("r-2", ips[1]);
    expect(apply(planEtcdHealthGate(c), r1)).toMatchObject({ status: 0 });
    expect(etcdctl(r1, "put /lab/before-loss written-before")).toMatchObject({ status: 0 });
    const lastUp: LastUp = { etcd: first.joins, controlPlane: ["r-1", "r-2", "r-3"], kubernetesVersion: c.versions.kubernetes };

    // r-2 loses its data; started again as it was, it bootstraps a cluster of its own, which the others refuse
    expect(bash("systemctl stop etcd", r2)).toMatchObject({ status: 0 });
    fs.rmSync(path.join(r2.root, "var/lib/etcd"), { recursive: true });
    fs.mkdirSync(path.join(r2.root, "var/lib/etcd"), { mode: 0o700 });
    expect(bash("systemctl start etcd; sleep 3", r2)).toMatchObject({ status: 0 });
    expect(etcdctl(r2, "get /lab/before-loss --print-value-only --command-timeout=3s").out).not.toContain("written-before");

    // the next up with etcdRejoin: [r-2]: preflight accepts it; r-2 rejoins as generation 2
    const asked = configOf(3, { prefix: "r", ips, values: { etcdRejoin: ["r-2"] } });
    expect(lastUpProblems(asked, lastUp)).toEqual([]);
    const next = planEtcdMembership(asked, lastUp.etcd, new Set(["r-1", "r-2", "r-3"]), lastUp.etcdRejoin);
    expect(next.rejoining).toEqual(["r-2"]);
    expect(next.joins["r-2"]).toEqual({ cluster: "r-1=https://127.0.1.21:2380,r-2=https://127.0.1.22:2380,r-3=https://127.0.1.23:2380", state: "existing", generation: 2 });
    expect(next.joins["r-1"]).toBe(first.joins["r-1"]);
    // its etcd step is replaced: the old step's delete, then the new one
    expect(undo(planEtcdMember(c, node("r-2"), first.joins["r-2"]), r2)).toMatchObject({ status: 0 });
    const rejoined = apply(planEtcdMember(asked, node("r-2"), next.joins["r-2"]), r2);
    expect(rejoined.status === 0 ? "" : rejoined.out + fs.readFileSync(path.join(r2.root, "etcd.log"), "utf8").slice(-2000)).toBe("");
    expect(rejoined.out).toContain("etcd member r-2");
    expect(rejoined.out).toContain("taken out of the cluster to rejoin");
    expect(memberList(r1)).toEqual(["r-1 started", "r-2 started", "r-3 started"]);
    expect(etcdctl(r1, "endpoint health --cluster")).toMatchObject({ status: 0 });
    // the data written before the loss, read from r-2 itself
    expect(etcdctl(r2, "get /lab/before-loss --print-value-only --consistency=s").out.trim()).toBe("written-before");
    const aside = () => fs.readdirSync(path.join(r2.root, "var/lib")).filter((d) => d.startsWith("etcd.removed-"));
    expect(aside()).toHaveLength(1);

    // a re-run (an up that failed later and is run again) takes nothing out again
    const again = apply(planEtcdMember(asked, node("r-2"), next.joins["r-2"]), r2);
    expect(again).toMatchObject({ status: 0 });
    expect(again.out).not.toContain("taken out");
    expect(aside()).toHaveLength(1);
    expect(memberList(r1)).toEqual(["r-1 started", "r-2 started", "r-3 started"]);

    // the following up: naming r-2 again is refused (one time); without it nothing changes
    const recorded: LastUp = { ...lastUp, etcd: next.joins, etcdRejoin: ["r-2"] };
    expect(lastUpProblems(asked, recorded).map((p) => `${p.key}: ${p.message}`)).toEqual(["etcdRejoin: r-2 rejoined etcd in the last up; etcdRejoin is a one-time request"]);
    const after = planEtcdMembership(c, recorded.etcd, new Set(["r-1", "r-2", "r-3"]), recorded.etcdRejoin);
    expect(after.rejoining).toEqual([]);
    expect(renderApplyScript(planEtcdMember(c, node("r-2"), after.joins["r-2"]), pki.material)).toBe(renderApplyScript(planEtcdMember(asked, node("r-2"), next.joins["r-2"]), pki.material));
  }, 300000);
});
