// Day two through `pulumi up`: each scenario runs the program twice under the stand-in
// engine (the first `up`, then the changed config on the cluster it left running) and
// asserts the exact set of resources created, updated, replaced and deleted.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { planNodeMembership } from "../components/control-plane/plan";
import { renderDeleteScript } from "../components/host/plan";
import { run, shellcheck, systemdVerify, tmpdir } from "./tools";
import { ETCD_SNAPSHOT_DIR, SCHEDULED_PREFIX, SNAPSHOT_SCRIPT, etcdUnit, snapshotScript, snapshotUnits } from "../components/etcd/plan";
import { renderTree } from "../components/render";
import { loadConfig } from "../components/config";
import { hostSteps as hostStepsOf, planCluster } from "../components/cluster/plan";
import { materialRefs } from "../components/host/plan";
import { planPki } from "../components/pki/plan";
import { forgetProviderState } from "../components/render/engine";
import { Change, changeConfig, summary } from "./two-runs";
import { runProgram, settle, stackConfig } from "./harness";

const dev = stackConfig("dev");

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
    // in a whole destroy the control plane goes too, and the drain is skipped
    const deletedWith = first.options.get("k8slab:host:HostStep::node-k8s-4")?.deletedWith as { __name?: string } | undefined;
    expect(deletedWith?.__name).toBe("control-plane-k8s-1");
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
        "drain k8s-4 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
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
