// Day two through `pulumi up`: each scenario runs the program twice under the stand-in
// engine (the first `up`, then the changed config on the cluster it left running) and
// asserts the exact set of resources created, updated, replaced and deleted.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { DRAINED_FOR_ANNOTATION, planNodeMembership, planUpgradeDrain, planUpgradeUncordon } from "../components/worker/node-lifecycle";
import { renderApplyScript, renderDeleteScript } from "../components/host/plan";
import { execStartWords, run, shellcheck, systemdVerify, tmpdir } from "./tools";
import { UPLOAD_DIR } from "../components/node-prep/artifacts";
import { ETCD_SNAPSHOT_DIR, etcdUnit, planEtcdMembershipOf } from "../components/etcd/plan";
import { SCHEDULED_PREFIX, SNAPSHOT_SCRIPT, snapshotScript, snapshotUnits } from "../components/etcd/snapshots";
import { renderTree } from "../components/render";
import { BRIDGE_CONFLIST, BRIDGE_NAME } from "../components/worker/pod-network";
import { LastUp, lastUpProblems, loadConfig } from "../components/config";
import { hostSteps as hostStepsOf, planCluster } from "../components/cluster/plan";
import { materialRefs } from "../components/host/plan";
import { planPki } from "../components/pki/plan";
import { Recorder, forgetProviderState } from "../tools/engine";
import { Change, changeConfig, summary } from "./two-runs";
import { resolvedOutputs, runProgram, settle, stackConfig } from "./harness";

const dev = stackConfig("dev");

/** The delete script a recorded host step's command would run (it travels base64-encoded). */
const deleteScriptOf = (cmd: string) => Buffer.from(/^echo (\S+) \|/.exec(cmd)![1], "base64").toString();

/** `type::name` of the resource a step's delete is skipped with. */
function deletedWithOf(rec: Recorder, step: string): string | undefined {
  const w = rec.options.get(`k8slab:host:HostStep::${step}`)?.deletedWith as { __pulumiType?: string; __name?: string } | undefined;
  return w && `${w.__pulumiType}::${w.__name}`;
}

describe("add a worker", () => {
  it("creates the new node's VM, certificates and steps, and changes nothing on the running nodes but the gate that lists them", async () => {
    const after = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };
    const { changes } = await changeConfig(dev, after);
    const notNew = changes.filter((c) => !c.name.includes("k8s-4"));
    expect(summary(notNew)).toEqual(["replace nodes-registered"]);
    const created = summary(changes.filter((c) => c.name.includes("k8s-4")));
    expect(created.every((x) => x.startsWith("create "))).toBe(true);
    expect(created).toEqual(expect.arrayContaining(["create domain-k8s-4", "create ready-k8s-4", "create prep-k8s-4", "create kubelet-k8s-4", "create kube-proxy-k8s-4", "create kubelet-k8s-4"]));
  }, 60000);

  it("with the bridge pod network: each running node gets the new route, and no step whose delete runs takes the running pods' bridge", async () => {
    const bridge = { ...dev, cni: "bridge" };
    const after = { ...bridge, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };
    const { changes, first } = await changeConfig(bridge, after);
    const running = changes.filter((c) => !c.name.includes("k8s-4"));
    expect(summary(running).sort()).toEqual(["replace nodes-registered", "replace pod-network-k8s-1", "replace pod-network-k8s-2", "replace pod-network-k8s-3"]);
    expect(summary(changes.filter((c) => c.name === "pod-bridge-k8s-4"))).toContain("create pod-bridge-k8s-4");
    // a replaced step's delete is the one the first up recorded: decode what it would run
    const deletes = running
      .filter((c) => c.type === "command:remote:Command" && c.op !== "create")
      .map((c) => first.resources.find((r) => r.type === c.type && r.name === c.name)!.inputs.delete as string)
      .map(deleteScriptOf);
    expect(deletes).toHaveLength(4);
    for (const d of deletes) {
      expect(d).not.toContain(BRIDGE_NAME);
      expect(d).not.toContain(BRIDGE_CONFLIST);
    }
  }, 60000);
});

describe("certificates", () => {
  const LEAF_TYPES = ["tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert"];
  const hostSteps = (c: Change[]) => c.filter((x) => x.type === "command:remote:Command");

  it("a certificate re-issued inside its renewal window restarts exactly the services that read it", async () => {
    const { changes, second } = await changeConfig(dev, dev, () => {
      expect(forgetProviderState("tls:index/locallySignedCert:LocallySignedCert", "apiserver")).toBe(1);
    });
    expect(summary(changes).sort()).toEqual([
      "replace apiserver",
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
    ]);
    // one node at a time: each control-plane step waits for the previous one
    expect(second.dependsOnNames("k8slab:host:HostStep", "control-plane-k8s-2")).toContain("control-plane-k8s-1");
    expect(second.dependsOnNames("k8slab:host:HostStep", "control-plane-k8s-3")).toContain("control-plane-k8s-2");
  }, 60000);

  it("pkiRotation re-issues every leaf key and certificate (never a CA) and restarts every service holding one, rolling", async () => {
    const { changes, second } = await changeConfig(dev, { ...dev, pkiRotation: "2026-11-27" });
    const leaves = planPki(loadConfig(dev).config!).certs.map((c) => c.id);
    const tls = changes.filter((c) => c.type.startsWith("tls:"));
    expect(tls.every((c) => c.op === "replace")).toBe(true);
    expect(tls.map((c) => `${c.type} ${c.name}`).sort()).toEqual(leaves.flatMap((id) => LEAF_TYPES.map((t) => `${t} ${id}`)).sort());
    // every host step that carries a leaf, and no other
    const plan = planCluster(loadConfig(dev).config!);
    const carriers = hostStepsOf(plan)
      .filter((s) => materialRefs(s.plan).some((r) => r.kind === "cert" || r.kind === "key" || r.kind === "kubeconfig"))
      .map((s) => `replace ${s.id}`)
      .sort();
    expect(carriers.length).toBeGreaterThanOrEqual(3 * 4);
    expect(summary(hostSteps(changes)).sort()).toEqual(carriers);
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-2")).toContain("etcd-k8s-1");
    // nothing else but the provider taking the new admin kubeconfig (same server: an
    // update, no object replaced): no VM, no addon object, no CA
    expect(summary(changes.filter((c) => !c.type.startsWith("tls:") && c.type !== "command:remote:Command"))).toEqual(["update k8s-lab-api"]);
  }, 60000);

  it("puts every CA's and certificate's expiry into the stack outputs", async () => {
    const { outputs, error } = await runProgram(dev);
    expect(error).toBeUndefined();
    const expiry = (await settle(outputs!.certificateExpiry as pulumi.Output<Record<string, string>>)).value;
    const pki = planPki(loadConfig(dev).config!);
    expect(Object.keys(expiry).sort()).toEqual([...pki.cas.map((c) => c.id), ...pki.certs.map((c) => c.id)].sort());
    const years = (id: string) => (Date.parse(expiry[id]) - Date.now()) / (365 * 24 * 3600e3);
    expect(years("apiserver")).toBeGreaterThan(0.99);
    expect(years("apiserver")).toBeLessThan(1.01);
    expect(years("cluster-ca")).toBeGreaterThan(9.9);
  }, 60000);
});

describe("remove a worker", () => {
  const withK8s4 = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=worker"] };

  it("deletes the node's VM, certificates and steps only, the drain first, and changes nothing else but the gate", async () => {
    const { changes, first } = await changeConfig(withK8s4, dev);
    expect(summary(changes.filter((c) => !c.name.includes("k8s-4")))).toEqual(["replace nodes-registered"]);
    const gone = changes.filter((c) => c.name.includes("k8s-4"));
    expect(gone.every((c) => c.op === "delete")).toBe(true);
    expect(summary(gone)).toEqual(expect.arrayContaining(["delete node-k8s-4", "delete kubelet-k8s-4", "delete domain-k8s-4", "delete address-k8s-4"]));
    // Pulumi deletes a resource before what it depends on: the drain (node-k8s-4) before the
    // kubelet and kube-proxy, those before containerd and the VM
    const waitsFor = (name: string) => first.dependsOnNames("k8slab:host:HostStep", name);
    expect(waitsFor("node-k8s-4")).toEqual(expect.arrayContaining(["kubelet-k8s-4", "kube-proxy-k8s-4"]));
    expect(waitsFor("kubelet-k8s-4")).toContain("containerd-k8s-4");
    // in a whole destroy the control plane goes too, and the drain is skipped: the step is
    // deleted with the cluster CA's key, which only a whole destroy deletes
    expect(deletedWithOf(first, "node-k8s-4")).toBe("tls:index/privateKey:PrivateKey::cluster-ca");
  }, 60000);

  it("drains through the eviction API with a deadline, says what blocked it, and deletes the Node object", () => {
    const c = loadConfig(withK8s4).config!;
    const step = planNodeMembership(c, c.nodes[3]);
    const bin = tmpdir("stub-kubectl-");
    try {
      // a kubectl that logs its arguments; `drain` fails when DRAIN_FAILS is set
      fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/bash\necho "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log\nif [[ $* == *" drain "* && -n \${DRAIN_FAILS:-} ]]; then echo "error: cannot evict pod as it would violate the pod's disruption budget" >&2; exit 1; fi\n`, { mode: 0o755 });
      const script = renderDeleteScript(step, false).replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`);
      expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      expect(fs.readFileSync(path.join(bin, "log"), "utf8").trim().split("\n")).toEqual([
        "get node k8s-4",
        "cordon k8s-4",
        "drain k8s-4 --ignore-daemonsets --delete-emptydir-data --force --timeout=300s",
        "delete node k8s-4 --ignore-not-found",
      ]);
      fs.rmSync(path.join(bin, "log"));
      const blocked = run("env", ["DRAIN_FAILS=1", "bash", "-c", script]);
      expect(blocked.status).toBe(1);
      expect(blocked.stderr).toContain("disruption budget");
      expect(blocked.stderr).toContain("the drain of k8s-4 did not finish in 300 s");
      expect(fs.readFileSync(path.join(bin, "log"), "utf8")).not.toContain("delete node");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("joining waits for the Node and never uncordons it (an update that re-runs it leaves a node cordoned by hand cordoned)", () => {
    const c = loadConfig(withK8s4).config!;
    const bin = tmpdir("stub-kubectl-");
    try {
      fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/bash\necho "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log\n`, { mode: 0o755 });
      const script = renderApplyScript(planNodeMembership(c, c.nodes[3]), () => "").replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`);
      expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      expect(fs.readFileSync(path.join(bin, "log"), "utf8").trim().split("\n")).toEqual(["get node k8s-4"]);
      expect(shellcheck(script).stdout).toBe("");
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("etcd snapshots", () => {
  it("saves a snapshot atomically on schedule and keeps only the newest scheduled ones", () => {
    const dir = tmpdir("snapshots-");
    try {
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      // an etcdctl that writes the file it is asked for
      fs.writeFileSync(path.join(bin, "etcdctl"), '#!/bin/bash\nfor a; do last=$a; done\necho snapshot > "$last"\n', { mode: 0o755 });
      const snapDir = path.join(dir, "snaps");
      const script = snapshotScript(2).replaceAll("/usr/local/bin/etcdctl", `${bin}/etcdctl`).replaceAll(ETCD_SNAPSHOT_DIR, snapDir);
      expect(shellcheck(script).stdout).toBe("");
      fs.mkdirSync(snapDir);
      fs.writeFileSync(path.join(snapDir, "20250101T000000.db"), "before a restart"); // not the schedule's to prune
      for (let i = 0; i < 4; i++) {
        expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
        run("sleep", ["1.1"]);
      }
      const files = fs.readdirSync(snapDir).sort();
      expect(files.filter((f) => f.startsWith(SCHEDULED_PREFIX))).toHaveLength(2);
      expect(files).toContain("20250101T000000.db");
      expect(files.some((f) => f.endsWith(".part"))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  it("runs from a timer systemd accepts, on every member, and is switched off with 'off'", () => {
    const c = loadConfig(dev).config!;
    const units = snapshotUnits(c.etcdSnapshots!.schedule);
    expect(run("systemd-analyze", ["calendar", c.etcdSnapshots!.schedule]).status).toBe(0);
    const r = systemdVerify({ "etcd-snapshot.service": units.service, "etcd-snapshot.timer": units.timer, "etcd.service": etcdUnit() }, [SNAPSHOT_SCRIPT, "/usr/local/bin/etcd"]);
    expect(r.stderr).toBe("");
    const steps = hostStepsOf(planCluster(c)).filter((s) => s.layer === "etcd-snapshots");
    expect(steps.map((s) => s.plan.node)).toEqual(["k8s-1", "k8s-2", "k8s-3"]);
    expect(hostStepsOf(planCluster(loadConfig({ ...dev, etcdSnapshotSchedule: "off" }).config!)).filter((s) => s.layer === "etcd-snapshots")).toEqual([]);
  });

  it("a new schedule changes only the snapshot steps, never etcd itself", async () => {
    const { changes } = await changeConfig(dev, { ...dev, etcdSnapshotSchedule: "hourly" });
    expect(summary(changes).sort()).toEqual(["replace etcd-snapshots-k8s-1", "replace etcd-snapshots-k8s-2", "replace etcd-snapshots-k8s-3"]);
  }, 60000);

  it("the runbook says how to restore, with this cluster's names and paths", () => {
    const runbook = renderTree(loadConfig(dev).config!).get("RUNBOOK.md")!;
    const restore = runbook.slice(runbook.indexOf("## Restore etcd from a snapshot"));
    expect(restore).toContain("etcdutl snapshot restore /root/restore.db --name k8s-2 --initial-cluster k8s-1=https://192.168.253.140:2380,k8s-2=https://192.168.253.139:2380,k8s-3=https://192.168.253.141:2380");
  });
});

describe("etcd members and control-plane nodes", () => {
  const k8s4 = "name=k8s-4 ip=192.168.253.142 roles=etcd,control-plane,worker";
  const k8s5 = "name=k8s-5 ip=192.168.253.143 roles=etcd,control-plane,worker";
  const five = { ...dev, nodes: [...(dev.nodes as string[]), k8s4, k8s5] };
  const isNew = (c: Change) => /k8s-[45]/.test(c.name);

  it("adding two members announces and starts them one at a time and never restarts the running members", async () => {
    const { changes, second } = await changeConfig(dev, five);
    // the running members keep their files: how each started is recorded (lastUp), not re-derived
    expect(summary(changes.filter((c) => !isNew(c) && c.type === "command:remote:Command")).sort()).toEqual([
      "replace control-plane-k8s-1", // the apiserver certificate's SANs, --etcd-servers
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace etcd-health", // asks every member
      "replace kube-nginx-k8s-1", // its upstreams: every apiserver
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(summary(changes.filter((c) => !isNew(c) && c.type !== "command:remote:Command")).sort()).toEqual(["replace apiserver", "replace apiserver"]); // its request and certificate
    expect(summary(changes.filter(isNew)).every((x) => x.startsWith("create "))).toBe(true);
    // k8s-4 joins after the running members, k8s-5 after k8s-4; the apiservers restart (one
    // at a time) only once every member runs
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-4")).toEqual(expect.arrayContaining(["etcd-k8s-1", "etcd-k8s-2", "etcd-k8s-3"]));
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-5")).toContain("etcd-k8s-4");
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-health")).toEqual(expect.arrayContaining(["etcd-k8s-4", "etcd-k8s-5"]));
    expect(second.dependsOnNames("k8slab:host:HostStep", "control-plane-k8s-2")).toEqual(expect.arrayContaining(["control-plane-k8s-1", "etcd-health"]));
    expect(second.dependsOnNames("k8slab:host:HostStep", "kube-nginx-k8s-2")).toContain("kube-nginx-k8s-1");
    // each joiner's initial-cluster is the membership at the moment it joins
    const out = await resolvedOutputs((await runProgram(five, { previousOutputs: await resolvedOutputs((await runProgram(dev, { established: [] })).outputs!) })).outputs!);
    const joins = (out.lastUp as LastUp).etcd;
    const peers = ["k8s-1=https://192.168.253.140:2380", "k8s-2=https://192.168.253.139:2380", "k8s-3=https://192.168.253.141:2380"];
    expect(joins["k8s-1"]).toEqual({ cluster: peers.join(","), state: "new" });
    expect(joins["k8s-4"]).toEqual({ cluster: [...peers, "k8s-4=https://192.168.253.142:2380"].join(","), state: "existing" });
    expect(joins["k8s-5"]).toEqual({ cluster: [...peers, "k8s-4=https://192.168.253.142:2380", "k8s-5=https://192.168.253.143:2380"].join(","), state: "existing" });
  }, 90000);

  it("removing two of five members takes each out of etcd through its own member before its etcd stops, and restarts no member", async () => {
    const { changes, first } = await changeConfig(five, dev);
    expect(summary(changes.filter((c) => !isNew(c) && c.type === "command:remote:Command")).sort()).toEqual([
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace etcd-health",
      "replace kube-nginx-k8s-1",
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(changes.filter(isNew).every((c) => c.op === "delete")).toBe(true);
    expect(summary(changes.filter(isNew))).toEqual(expect.arrayContaining(["delete etcd-membership-k8s-4", "delete etcd-k8s-4", "delete etcd-membership-k8s-5", "delete control-plane-k8s-5", "delete node-k8s-5", "delete domain-k8s-5"]));
    // deleted before the member's etcd step (which stops it); skipped in a whole destroy
    expect(first.dependsOnNames("k8slab:host:HostStep", "etcd-membership-k8s-4")).toContain("etcd-k8s-4");
    expect(deletedWithOf(first, "etcd-membership-k8s-4")).toBe("tls:index/privateKey:PrivateKey::cluster-ca");
  }, 90000);

  it("a control-plane node without etcd: its apiserver joins the others' certificate and every node's proxy, rolling; etcd is untouched", async () => {
    const withCp = { ...dev, nodes: [...(dev.nodes as string[]), "name=k8s-4 ip=192.168.253.142 roles=control-plane,worker"] };
    const { changes, second } = await changeConfig(dev, withCp);
    expect(summary(changes.filter((c) => !c.name.includes("k8s-4"))).sort()).toEqual([
      "replace apiserver",
      "replace apiserver",
      "replace control-plane-k8s-1",
      "replace control-plane-k8s-2",
      "replace control-plane-k8s-3",
      "replace kube-nginx-k8s-1",
      "replace kube-nginx-k8s-2",
      "replace kube-nginx-k8s-3",
      "replace nodes-registered",
    ]);
    expect(changes.filter((c) => c.name.includes("k8s-4")).every((c) => c.op === "create")).toBe(true);
    expect(changes.some((c) => c.name === "etcd-k8s-4")).toBe(false);
    expect(second.dependsOnNames("k8slab:host:HostStep", "kube-nginx-k8s-3")).toContain("kube-nginx-k8s-2");
    // and back: removing it (not the first control-plane node) undoes exactly that
    const back = await changeConfig(withCp, dev);
    expect(summary(back.changes.filter((c) => !c.name.includes("k8s-4"))).sort()).toEqual(summary(changes.filter((c) => !c.name.includes("k8s-4"))).sort());
    expect(back.changes.filter((c) => c.name.includes("k8s-4")).every((c) => c.op === "delete")).toBe(true);
  }, 90000);

  it("refuses, before changing anything, a removal that would lose etcd's quorum, naming the key and the fix", async () => {
    const first = await runProgram(dev, { established: [] });
    const oneMember = { ...dev, nodes: (dev.nodes as string[]).map((n, i) => (i === 0 ? n : n.replace("roles=etcd,", "roles="))) };
    const second = await runProgram(oneMember, { previousOutputs: await resolvedOutputs(first.outputs!) });
    expect(String(second.error)).toContain("error: nodes: removing k8s-2, k8s-3 from etcd in one up (3 → 1 members) leaves 1 of the 3 members that hold the data; a quorum of 3 is 2");
    expect(String(second.error)).toContain("remove etcd members one at a time");
    expect(second.rec.resources).toEqual([]);
    // one at a time is accepted (with the even-count warning of preflight)
    const twoMembers = { ...dev, nodes: (dev.nodes as string[]).map((n, i) => (i === 2 ? n.replace("roles=etcd,", "roles=") : n)) };
    expect((await runProgram(twoMembers, { previousOutputs: await resolvedOutputs(first.outputs!) })).error).toBeUndefined();
  }, 90000);

  it("refuses moving the first control-plane node, and a Kubernetes downgrade or skipped minor", () => {
    const c = loadConfig(dev).config!;
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: "1.36.0" };
    const moved = loadConfig({ ...dev, nodes: [(dev.nodes as string[])[1], (dev.nodes as string[])[0], (dev.nodes as string[])[2]] }).config!;
    expect(lastUpProblems(moved, last).map((p) => `${p.key}: ${p.message}`)).toEqual([
      expect.stringContaining("nodes: the first control-plane node was k8s-1 and would become k8s-2"),
    ]);
    expect(lastUpProblems(c, last)).toEqual([]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.36.2" }).map((p) => p.key + ": " + p.message)).toEqual([expect.stringContaining("kubernetesVersion: 1.36.0 is older than the 1.36.2")]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.34.3" }).map((p) => p.fix)).toEqual(["upgrade to 1.35.x first (pulumi up), then to 1.36.0"]);
    expect(lastUpProblems(c, { ...last, kubernetesVersion: "1.35.4" })).toEqual([]);
  });
});

describe("Kubernetes upgrade", () => {
  it("1.35.4 → 1.36.0 installs the binaries everywhere, then restarts the control plane one node at a time, then the kubelets and kube-proxies, and nothing else", async () => {
    const { changes, second } = await changeConfig({ ...dev, kubernetesVersion: "1.35.4" }, dev);
    const steps = summary(changes.filter((c) => c.type === "command:remote:Command")).sort();
    expect(steps).toEqual(
      ["artifacts", "control-plane", "upgrade-drain", "kubelet", "kube-proxy", "upgrade-uncordon"].flatMap((l) => ["k8s-1", "k8s-2", "k8s-3"].map((n) => `replace ${l}-${n}`)).sort(),
    );
    // no VM, certificate, etcd member, runtime or addon object changes
    expect(summary(changes.filter((c) => c.type !== "command:remote:Command"))).toEqual([]);
    const waits = (s: string) => second.dependsOnNames("k8slab:host:HostStep", s);
    expect(waits("control-plane-k8s-1")).toContain("artifacts-k8s-1");
    expect(waits("control-plane-k8s-2")).toContain("control-plane-k8s-1");
    expect(waits("control-plane-k8s-3")).toContain("control-plane-k8s-2");
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waits(`kubelet-${n}`)).toEqual(expect.arrayContaining(["control-plane-k8s-1", "control-plane-k8s-2", "control-plane-k8s-3"]));
      expect(waits(`kube-proxy-${n}`)).toContain(`kubelet-${n}`);
    }
    expect(waits("kubelet-k8s-2")).toContain("kubelet-k8s-1");
    // each node drained before its kubelet restarts, uncordoned after, one node at a time
    for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
      expect(waits(`kubelet-${n}`)).toContain(`upgrade-drain-${n}`);
      expect(waits(`upgrade-uncordon-${n}`)).toEqual(expect.arrayContaining([`kubelet-${n}`, `kube-proxy-${n}`]));
    }
    expect(waits("upgrade-drain-k8s-2")).toContain("upgrade-uncordon-k8s-1");
    expect(waits("upgrade-drain-k8s-3")).toContain("upgrade-uncordon-k8s-2");
  }, 90000);

  it("an etcd patch release (its checksum given in artifactChecksums) restarts only the members, one at a time", async () => {
    const next = { ...dev, etcdVersion: "3.6.6", artifactChecksums: [`etcd-v3.6.6-linux-amd64.tar.gz=sha256:${"ab".repeat(32)}`] };
    const { changes, second } = await changeConfig(dev, next);
    expect(summary(changes).sort()).toEqual(["artifacts", "etcd"].flatMap((l) => ["k8s-1", "k8s-2", "k8s-3"].map((n) => `replace ${l}-${n}`)).sort());
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-2")).toContain("etcd-k8s-1");
    expect(second.dependsOnNames("k8slab:host:HostStep", "etcd-k8s-3")).toContain("etcd-k8s-2");
    // each member saves a snapshot before it stops (the delete half of its replacement)
    const member = hostStepsOf(planCluster(loadConfig(next).config!)).find((s) => s.id === "etcd-k8s-1")!;
    expect(renderDeleteScript(member.plan, false)).toMatch(/snapshot save "\/var\/lib\/etcd-snapshots\/\$\(date/);
  }, 90000);

  // Found on the real VMs (lab:e2e day two): the replaced artifacts step's delete removed the
  // cached release files and the upload directory — after the new copies had landed there
  // (the step depends on its uploads, so they come first) — and the unchanged files were
  // not copied again: the new step found nothing to install.
  it("air-gapped: a replaced artifacts step gets every file copied again, and its old delete leaves the copies alone", async () => {
    const dir = tmpdir("artifacts-");
    try {
      const base = { ...dev, artifactDir: dir };
      const next = { ...base, etcdVersion: "3.6.6", artifactChecksums: [`etcd-v3.6.6-linux-amd64.tar.gz=sha256:${"ab".repeat(32)}`] };
      for (const c of [base, next]) for (const a of Object.values(loadConfig({ ...c, artifactDir: undefined }).config!.artifacts)) fs.writeFileSync(path.join(dir, a!.fileName), "x");
      const { changes, first, second } = await changeConfig(base, next);
      const copies = (rec: Recorder, n: string) => rec.ofType("command:remote:CopyToRemote").filter((r) => r.name.startsWith(`artifacts-${n}-upload-`));
      for (const n of ["k8s-1", "k8s-2", "k8s-3"]) {
        expect(summary(changes, (c) => c.name === `artifacts-${n}`)).toEqual([`replace artifacts-${n}`]);
        const now = copies(second, n);
        expect(now.length).toBeGreaterThan(3);
        // every copy the new step takes is made in this up: new (etcd 3.6.6) or made again
        for (const cp of now) expect(summary(changes, (c) => c.name === cp.name)).toEqual([expect.stringMatching(/^(create|replace) /)]);
        const taken = [...(second.named(`artifacts-${n}`, "command:remote:Command").inputs.stdin as string).matchAll(/^take (\S+) /gm)].map((m) => `${UPLOAD_DIR}/${m[1]}`);
        expect(taken.sort()).toEqual(now.map((cp) => cp.inputs.remotePath as string).sort());
        // the delete that runs is the one the first up recorded: it removes no copy
        const oldDelete = deleteScriptOf(first.named(`artifacts-${n}`, "command:remote:Command").inputs.delete as string);
        const removed = oldDelete.split("\n").filter((l) => l.startsWith("rm -rf -- ")).flatMap((l) => l.slice("rm -rf -- ".length).split(" ").map((p) => p.replace(/^'|'$/g, "")));
        expect(removed.length).toBeGreaterThan(5);
        for (const p of removed) for (const t of taken) expect(t === p || t.startsWith(p.replace(/\/?$/, "/"))).toBe(false);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90000);
});

describe("steps whose delete ends a membership", () => {
  // A replaced step runs its old delete: for these, `etcdctl member remove` or a drain and
  // the Node's deletion. A new version of their scripts must re-run them in place instead.
  it("are updated in place, not replaced, when a new version of the program changes their scripts", async () => {
    const etcdPlan = jest.requireActual("../components/etcd/plan");
    const cpPlan = jest.requireActual("../components/worker/node-lifecycle");
    // (captured before the spies: the imported names resolve to the spies afterwards)
    const originals = { etcd: etcdPlan.planEtcdMembershipOf, node: cpPlan.planNodeMembership };
    const older = (f: (...a: any[]) => any) => (...a: any[]) => {
      const p = f(...a);
      return { ...p, activate: [...p.activate, "# an older version"], deactivate: [...p.deactivate, "# an older version"] };
    };
    const spies = [
      jest.spyOn(etcdPlan, "planEtcdMembershipOf").mockImplementation(older(originals.etcd) as any),
      jest.spyOn(cpPlan, "planNodeMembership").mockImplementation(older(originals.node) as any),
    ];
    let changes: Change[];
    try {
      ({ changes } = await changeConfig(dev, dev, () => spies.forEach((s) => s.mockRestore())));
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const steps = changes.filter((c) => c.type === "command:remote:Command");
    expect(summary(steps).sort()).toEqual(
      ["k8s-1", "k8s-2", "k8s-3"].flatMap((n) => [`update etcd-membership-${n}`, `update node-${n}`]).sort(),
    );
  }, 90000);
});

describe("drain around a kubelet's upgrade", () => {
  const c = loadConfig(dev).config!;

  it("stops each apiserver in seconds: open watches are closed once the in-flight requests drained, with a flag the pinned release has", () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, `upstream/flags/kube-apiserver-v${c.versions.kubernetes}.json`), "utf8")) as { flags: Record<string, { deprecated: boolean }> };
    expect(fixture.flags["shutdown-send-retry-after"]).toEqual({ deprecated: false });
    const units = [...renderTree(c)].filter(([p]) => p.endsWith("/etc/systemd/system/kube-apiserver.service"));
    expect(units).toHaveLength(c.nodes.filter((n) => n.roles.has("control-plane")).length);
    for (const [p, text] of units) {
      const words = execStartWords(text)!;
      expect({ unit: p, flags: words.filter((w) => w.startsWith("--shutdown")) }).toEqual({ unit: p, flags: ["--shutdown-send-retry-after=true"] });
    }
  });
  /** Runs a step's apply script with a kubectl that logs its arguments and answers from the environment. */
  function withStubKubectl(script: string, env: Record<string, string>): { status: number | null; stderr: string; calls: string[] } {
    const bin = tmpdir("stub-kubectl-");
    try {
      fs.writeFileSync(
        path.join(bin, "kubectl"),
        [
          "#!/bin/bash",
          `echo "$*" | sed 's/--kubeconfig [^ ]* --request-timeout 30s //' >> ${bin}/log`,
          'if [[ $* == *" get node "* ]]; then',
          '  [[ -n ${NODE_MISSING:-} ]] && { echo "Error from server (NotFound)" >&2; exit 1; }',
          '  if [[ $* == *kubeletVersion* ]]; then echo -n "$KUBELET_VERSION"; else echo -n "${ANNOTATION:-}"; fi',
          "fi",
          "exit 0",
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      const r = run("env", [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", "-c", script.replaceAll("/usr/local/bin/kubectl", `${bin}/kubectl`)]);
      const log = path.join(bin, "log");
      return { status: r.status, stderr: r.stderr, calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [] };
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }
  const apply = (plan: ReturnType<typeof planUpgradeDrain>) => renderApplyScript(plan, () => "");

  it("drains a node whose kubelet runs another release, marks it, and leaves other nodes alone", () => {
    const drain = apply(planUpgradeDrain(c, c.nodes[1]));
    expect(withStubKubectl(drain, { KUBELET_VERSION: "v1.35.4" }).calls).toEqual([
      "get node k8s-2 -o jsonpath={.status.nodeInfo.kubeletVersion}",
      `annotate node k8s-2 --overwrite ${DRAINED_FOR_ANNOTATION}=v1.36.0`,
      "cordon k8s-2",
      "drain k8s-2 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
    ]);
    // already there, or no Node yet (a first up): nothing but the question
    expect(withStubKubectl(drain, { KUBELET_VERSION: "v1.36.0" }).calls).toEqual(["get node k8s-2 -o jsonpath={.status.nodeInfo.kubeletVersion}"]);
    expect(withStubKubectl(drain, { NODE_MISSING: "1", KUBELET_VERSION: "" })).toMatchObject({ status: 0, calls: ["get node k8s-2 -o jsonpath={.status.nodeInfo.kubeletVersion}"] });
    expect(shellcheck(drain).stdout).toBe("");
  });

  it("uncordons only a node the upgrade drained, once it reports the release", () => {
    const uncordon = apply(planUpgradeUncordon(c, c.nodes[1]));
    const drained = withStubKubectl(uncordon, { KUBELET_VERSION: "v1.36.0", ANNOTATION: "v1.36.0" });
    expect(drained.status).toBe(0);
    expect(drained.calls.slice(-2)).toEqual(["uncordon k8s-2", `annotate node k8s-2 ${DRAINED_FOR_ANNOTATION}-`]);
    const byHand = withStubKubectl(uncordon, { KUBELET_VERSION: "v1.36.0" });
    expect(byHand.calls.some((x) => x.startsWith("uncordon"))).toBe(false);
    expect(shellcheck(uncordon).stdout).toBe("");
  });

  it("on an upgrade, drains one running node at a time; otherwise adds no order between nodes", () => {
    const last: LastUp = { etcd: {}, controlPlane: ["k8s-1", "k8s-2", "k8s-3"], kubernetesVersion: "1.35.4" };
    const established = new Set(["k8s-1", "k8s-2", "k8s-3"]);
    const chain = (l: LastUp) => planCluster(c, { established, lastUp: l }).edges.filter((e) => e.after.startsWith("upgrade-drain-") && e.before.startsWith("upgrade-uncordon-")).map((e) => `${e.after} after ${e.before}`);
    expect(chain(last)).toEqual(["upgrade-drain-k8s-2 after upgrade-uncordon-k8s-1", "upgrade-drain-k8s-3 after upgrade-uncordon-k8s-2"]);
    expect(chain({ ...last, kubernetesVersion: "1.36.0" })).toEqual([]);
  });
});

describe("an etcd member's membership check", () => {
  it("does not fail when etcdctl's output is long (grep -q would stop reading; under pipefail etcdctl's SIGPIPE failed the step on a VM)", () => {
    const c = loadConfig(dev).config!;
    const bin = tmpdir("stub-etcdctl-");
    try {
      // the member's own line first, then far more than a pipe holds
      fs.writeFileSync(path.join(bin, "etcdctl"), `#!/bin/bash\necho "8e9e05c52164694d, started, k8s-2, https://192.168.253.139:2380, https://192.168.253.139:2379, false"\nseq 1 200000 | sed 's/^/ffff, started, other, https:\\/\\/10.0.0.1:2380, x, false /'\n`, { mode: 0o755 });
      const script = renderApplyScript(planEtcdMembershipOf(c.nodes[1]), () => "").replaceAll("/usr/local/bin/etcdctl", `${bin}/etcdctl`);
      for (let i = 0; i < 5; i++) expect(run("bash", ["-c", script])).toMatchObject({ status: 0 });
      // and it still fails when the member is missing
      expect(run("bash", ["-c", script.replaceAll("192.168.253.139:2380", "192.168.253.99:2380")]).status).toBe(1);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});
